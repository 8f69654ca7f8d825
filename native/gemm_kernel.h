// The GEMM building blocks shared by native/sgemm.c and native/conv2d.c: blocking sizes, packing
// of op(B) into 8-column panels, and the 4x8 register-blocked WebAssembly SIMD micro-kernel.
#ifndef MST_GEMM_KERNEL_H
#define MST_GEMM_KERNEL_H
#include <wasm_simd128.h>

// acc + a * b. Built twice (native/build.mjs): with MST_RELAXED_SIMD as relaxed SIMD's fused
// multiply-add (one rounding; engines without FMA hardware may round twice), else multiply then add.
#ifdef MST_RELAXED_SIMD
#define MADD(acc, a, b) wasm_f32x4_relaxed_madd(a, b, acc)
#else
#define MADD(acc, a, b) wasm_f32x4_add(acc, wasm_f32x4_mul(a, b))
#endif

#define MR 4
#define NR 8
#define KC 256

typedef unsigned int u32;

// Packs columns [j0, j0+NR) of op(B) for k in [k0, k0+kc) into dst[k*NR + c] (zero-padded).
static inline void pack_b(const float *b, int transB, int ldb, int n, int j0, int k0, int kc, float *dst) {
  if (!transB && j0 + NR <= n) {
    for (int k = 0; k < kc; k++) {
      const float *src = b + (k0 + k) * ldb + j0;
      wasm_v128_store(dst + k * NR, wasm_v128_load(src));
      wasm_v128_store(dst + k * NR + 4, wasm_v128_load(src + 4));
    }
    return;
  }
  for (int k = 0; k < kc; k++) {
    for (int c = 0; c < NR; c++) {
      int j = j0 + c;
      float v = 0.0f;
      if (j < n) v = transB ? b[j * ldb + k0 + k] : b[(k0 + k) * ldb + j];
      dst[k * NR + c] = v;
    }
  }
}

// acc (4x8) += packedA (kc x 4) @ packedB (kc x 8); then C block (+)= acc.
// `tmp` is 32 floats of scratch inside the caller's work buffer: the module must never touch a
// C stack, because it shares the tfjs backend's memory and has no stack region of its own.
static inline void micro_kernel(const float *pa, const float *pb, int kc, float *c, int ldc, int rows, int cols, int accumulate, float *tmp) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = wasm_f32x4_splat(0);
  v128_t c10 = wasm_f32x4_splat(0), c11 = wasm_f32x4_splat(0);
  v128_t c20 = wasm_f32x4_splat(0), c21 = wasm_f32x4_splat(0);
  v128_t c30 = wasm_f32x4_splat(0), c31 = wasm_f32x4_splat(0);
  for (int k = 0; k < kc; k++) {
    v128_t b0 = wasm_v128_load(pb + k * NR);
    v128_t b1 = wasm_v128_load(pb + k * NR + 4);
    v128_t a0 = wasm_v128_load32_splat(pa + k * MR);
    v128_t a1 = wasm_v128_load32_splat(pa + k * MR + 1);
    v128_t a2 = wasm_v128_load32_splat(pa + k * MR + 2);
    v128_t a3 = wasm_v128_load32_splat(pa + k * MR + 3);
    c00 = MADD(c00, a0, b0);
    c01 = MADD(c01, a0, b1);
    c10 = MADD(c10, a1, b0);
    c11 = MADD(c11, a1, b1);
    c20 = MADD(c20, a2, b0);
    c21 = MADD(c21, a2, b1);
    c30 = MADD(c30, a3, b0);
    c31 = MADD(c31, a3, b1);
  }
  wasm_v128_store(tmp + 0, c00); wasm_v128_store(tmp + 4, c01);
  wasm_v128_store(tmp + 8, c10); wasm_v128_store(tmp + 12, c11);
  wasm_v128_store(tmp + 16, c20); wasm_v128_store(tmp + 20, c21);
  wasm_v128_store(tmp + 24, c30); wasm_v128_store(tmp + 28, c31);
  if (rows == MR && cols == NR) {
    for (int r = 0; r < MR; r++) {
      float *row = c + r * ldc;
      v128_t lo = wasm_v128_load(tmp + r * NR), hi = wasm_v128_load(tmp + r * NR + 4);
      if (accumulate) {
        lo = wasm_f32x4_add(lo, wasm_v128_load(row));
        hi = wasm_f32x4_add(hi, wasm_v128_load(row + 4));
      }
      wasm_v128_store(row, lo);
      wasm_v128_store(row + 4, hi);
    }
    return;
  }
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tmp[r * NR + j] : tmp[r * NR + j];
}

#define NC 512

// C rows [i0, i0 + rows) (+)= packed A panel @ every packed B panel of the column block starting at
// column j0 (npanels panels of NR; n columns in all, C row stride ldc).
static inline void multiply_panels(const float *pa, const float *pb, int npanels, int kc, float *c, int ldc,
                                   int i0, int rows, int j0, int n, int accumulate, float *tmp) {
  for (int p = 0; p < npanels; p++) {
    int j = j0 + p * NR;
    int cols = n - j < NR ? n - j : NR;
    micro_kernel(pa, pb + p * KC * NR, kc, c + i0 * ldc + j, ldc, rows, cols, accumulate, tmp);
  }
}

// Floats of the work buffer every GEMM here needs, 16-byte aligned: the packed A panel, the packed
// B block, the micro-kernel's edge scratch and KC ints of per-row offsets (the convolutions).
#define GEMM_WORK_FLOATS (KC * MR + KC * NC + MR * NR + KC)

#endif
