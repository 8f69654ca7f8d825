// Single-precision GEMM for the tfjs wasm backend, WebAssembly SIMD128, one thread.
//   C[b] = op(A[b]) @ op(B[b])   (row-major; op = identity or transpose, per operand)
// A and B are packed into zero-padded panels (4 rows of op(A), 8 columns of op(B)), so
// transposes cost nothing extra, then a 4x8 register-blocked micro-kernel runs over k.
// Built with: clang --target=wasm32 -O3 -msimd128 -nostdlib -Wl,--no-entry -Wl,--import-memory
#include <wasm_simd128.h>

#define MR 4
#define NR 8
#define KC 256

typedef unsigned int u32;

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

// Packs columns [j0, j0+NR) of op(B) for k in [k0, k0+kc) into dst[k*NR + c] (zero-padded).
static void pack_b(const float *b, int transB, int ldb, int n, int j0, int k0, int kc, float *dst) {
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
static void micro_kernel(const float *pa, const float *pb, int kc, float *c, int ldc, int rows, int cols, int accumulate, float *tmp) {
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
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
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

// Batched GEMM. Batch strides of 0 broadcast an operand. `work` must hold SGEMM_WORK_FLOATS
// floats, 16-byte aligned: the packed A panel, the packed B block and the edge scratch.
#define SGEMM_WORK_FLOATS (KC * MR + KC * NC + MR * NR)
int sgemm_work_floats(void) { return SGEMM_WORK_FLOATS; }

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
          for (int p = 0; p < npanels; p++) {
            int j = j0 + p * NR;
            int cols = n - j < NR ? n - j : NR;
            micro_kernel(pa, pb + p * KC * NR, kc, cb + i0 * n + j, n, rows, cols, k0 > 0, tmp);
          }
        }
      }
    }
  }
}
