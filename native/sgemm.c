// Single-precision GEMM for the tfjs wasm backend, WebAssembly SIMD128, one thread.
//   C[b] = op(A[b]) @ op(B[b])   (row-major; op = identity or transpose, per operand)
// A and B are packed into zero-padded panels (4 rows of op(A), 8 columns of op(B)), so
// transposes cost nothing extra, then a 4x8 register-blocked micro-kernel runs over k.
// Built with: clang --target=wasm32 -O3 -msimd128 -nostdlib -Wl,--no-entry -Wl,--import-memory
#include "gemm_kernel.h"

// Packs rows [i0, i0+MR) of op(A) for k in [k0, k0+kc) into dst[k*MR + r] (zero-padded).
static void pack_a(const float *a, int transA, int lda, int m, int i0, int k0, int kc, float *dst) {
  for (int k = 0; k < kc; k++) {
    for (int r = 0; r < MR; r++) {
      int i = i0 + r;
      float v = 0.0f;
      if (i < m) v = transA ? a[(k0 + k) * lda + i] : a[i * lda + k0 + k];
      dst[k * MR + r] = v;
    }
  }
}

// Batched GEMM. Batch strides of 0 broadcast an operand. `work` must hold GEMM_WORK_FLOATS floats.
int sgemm_work_floats(void) { return GEMM_WORK_FLOATS; }

void sgemm(const float *a, const float *b, float *c, int batch, int m, int n, int k,
           int transA, int transB, int strideA, int strideB, int strideC, float *work) {
  int lda = transA ? m : k;
  int ldb = transB ? k : n;
  float *pa = work;
  float *pb = work + KC * MR;
  float *tmp = pb + KC * NC;
  for (int bi = 0; bi < batch; bi++) {
    const float *ab = a + bi * strideA;
    const float *bb = b + bi * strideB;
    float *cb = c + bi * strideC;
    for (int j0 = 0; j0 < n; j0 += NC) {
      int nc = n - j0 < NC ? n - j0 : NC;
      int npanels = (nc + NR - 1) / NR;
      for (int k0 = 0; k0 < k; k0 += KC) {
        int kc = k - k0 < KC ? k - k0 : KC;
        for (int p = 0; p < npanels; p++) pack_b(bb, transB, ldb, n, j0 + p * NR, k0, kc, pb + p * KC * NR);
        for (int i0 = 0; i0 < m; i0 += MR) {
          int rows = m - i0 < MR ? m - i0 : MR;
          pack_a(ab, transA, lda, m, i0, k0, kc, pa);
          multiply_panels(pa, pb, npanels, kc, cb, n, i0, rows, j0, n, k0 > 0, tmp);
        }
      }
    }
  }
}
