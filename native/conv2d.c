// Unpadded ("valid") 2D convolution, channels-last, for the tfjs wasm backend, as GEMMs whose A
// operand is gathered from the image while it is packed (implicit im2col: nothing image-sized is
// copied). On a 3D ResNet's shapes the forward runs at 41-46 GFLOP/s against XNNPACK's 24-39
// (tfjs-wasm's convolution); the filter gradient has no tfjs-wasm kernel at all.
//   conv2d_forward:     y[p, o]  = sum_{a, b, i} x[n, h sh + a, w sw + b, i] w[a, b, i, o]
//                       (p = output pixel (n, h, w); the filter [kh, kw, I, O] is a [K, O] matrix)
//   conv2d_filter_grad: dw[a, b, i, o] = sum_p x[n, h sh + a, w sw + b, i] dy[p, o]
// Shapes: x [n, hi, wi, ci], filter [kh, kw, ci, co], y and dy [n, ho, wo, co]. `work` holds
// GEMM_WORK_FLOATS floats; its last KC ints hold per-row offsets.
#include "gemm_kernel.h"

// Offset in x of output pixel p's window origin.
static inline u32 pixel_offset(int p, int ho, int wo, int hi, int wi, int ci, int sh, int sw) {
  int w = p % wo;
  int t = p / wo;
  int h = t % ho;
  int n = t / ho;
  return ((u32)(n * hi + h * sh) * (u32)wi + (u32)(w * sw)) * (u32)ci;
}

// Offset of filter row k = (a kw + b) ci + i inside a window.
static inline u32 tap_offset(int k, int kw, int wi, int ci) {
  int i = k % ci;
  int t = k / ci;
  return (u32)((t / kw) * wi + t % kw) * (u32)ci + (u32)i;
}

void conv2d_forward(const float *x, const float *w, float *y, int n, int hi, int wi, int ci, int co,
                    int kh, int kw, int sh, int sw, float *work) {
  int ho = (hi - kh) / sh + 1, wo = (wi - kw) / sw + 1;
  int m = n * ho * wo, k = kh * kw * ci;
  float *pa = work, *pb = work + KC * MR, *tmp = pb + KC * NC;
  u32 *koff = (u32 *)(tmp + MR * NR);
  for (int j0 = 0; j0 < co; j0 += NC) {
    int nc = co - j0 < NC ? co - j0 : NC;
    int npanels = (nc + NR - 1) / NR;
    for (int k0 = 0; k0 < k; k0 += KC) {
      int kc = k - k0 < KC ? k - k0 : KC;
      for (int p = 0; p < npanels; p++) pack_b(w, 0, co, co, j0 + p * NR, k0, kc, pb + p * KC * NR);
      for (int kk = 0; kk < kc; kk++) koff[kk] = tap_offset(k0 + kk, kw, wi, ci);
      for (int i0 = 0; i0 < m; i0 += MR) {
        int rows = m - i0 < MR ? m - i0 : MR;
        // A panel: rows = 4 output pixels, columns = filter rows k0..k0+kc of their windows.
        for (int r = 0; r < MR; r++) {
          if (r < rows) {
            const float *base = x + pixel_offset(i0 + r, ho, wo, hi, wi, ci, sh, sw);
            for (int kk = 0; kk < kc; kk++) pa[kk * MR + r] = base[koff[kk]];
          } else {
            for (int kk = 0; kk < kc; kk++) pa[kk * MR + r] = 0.0f;
          }
        }
        multiply_panels(pa, pb, npanels, kc, y, co, i0, rows, j0, co, k0 > 0, tmp);
      }
    }
  }
}

void conv2d_filter_grad(const float *x, const float *dy, float *dw, int n, int hi, int wi, int ci, int co,
                        int kh, int kw, int sh, int sw, float *work) {
  int ho = (hi - kh) / sh + 1, wo = (wi - kw) / sw + 1;
  int m = n * ho * wo, k = kh * kw * ci;
  float *pa = work, *pb = work + KC * MR, *tmp = pb + KC * NC;
  u32 *poff = (u32 *)(tmp + MR * NR);
  for (int j0 = 0; j0 < co; j0 += NC) {
    int nc = co - j0 < NC ? co - j0 : NC;
    int npanels = (nc + NR - 1) / NR;
    // The reduction runs over output pixels, KC at a time.
    for (int m0 = 0; m0 < m; m0 += KC) {
      int kc = m - m0 < KC ? m - m0 : KC;
      for (int p = 0; p < npanels; p++) pack_b(dy, 0, co, co, j0 + p * NR, m0, kc, pb + p * KC * NR);
      for (int mm = 0; mm < kc; mm++) poff[mm] = pixel_offset(m0 + mm, ho, wo, hi, wi, ci, sh, sw);
      for (int i0 = 0; i0 < k; i0 += MR) {
        int rows = k - i0 < MR ? k - i0 : MR;
        // A panel: rows = 4 filter rows, columns = the pixels. Four rows in one tap are adjacent
        // channels: one vector load per pixel.
        if (rows == MR && (i0 % ci) + MR <= ci) {
          u32 off = tap_offset(i0, kw, wi, ci);
          for (int mm = 0; mm < kc; mm++) wasm_v128_store(pa + mm * MR, wasm_v128_load(x + poff[mm] + off));
        } else {
          for (int r = 0; r < MR; r++) {
            if (r < rows) {
              u32 off = tap_offset(i0 + r, kw, wi, ci);
              for (int mm = 0; mm < kc; mm++) pa[mm * MR + r] = x[poff[mm] + off];
            } else {
              for (int mm = 0; mm < kc; mm++) pa[mm * MR + r] = 0.0f;
            }
          }
        }
        multiply_panels(pa, pb, npanels, kc, dw, co, i0, rows, j0, co, m0 > 0, tmp);
      }
    }
  }
}
