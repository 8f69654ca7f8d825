// Single-precision GEMM and the implicit-im2col 2D convolutions of native/sgemm.c and
// native/conv2d.c, for x86-64 with AVX2 and FMA: 8-lane fused multiply-add against WebAssembly's
// 4 lanes. Blocked as in BLIS: a KC x NC block of op(B) packed into 16-column panels, an MC x KC
// block of op(A) into 6-row panels, and a 6x16 register-blocked micro-kernel (12 accumulators).
// Where the operands come from is a pair of packing callbacks, so one driver serves the GEMM and
// both convolutions. Threads split the output's rows (or columns, or the batch), each packing
// what it reads, so they never wait on one another inside a job.
// Compiled with -mavx2 -mfma; addon.c calls in only after checking the CPU has both.
#include "kernels.h"
#include "thread_pool.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MR 6
#define NR 16
#define KC 256
#define MC 96
#define NC 1024
// Below this many multiply-adds a job runs on the calling thread alone: waking the pool costs more.
#define PARALLEL_MIN_MACS (1u << 20)

typedef struct gemm_src gemm_src;
// Packs rows [i0, i0 + rows) of A (rows <= MR) for reduction indices [k0, k0 + kc) into dst[k * MR + r].
typedef void (*pack_a_fn)(const gemm_src *s, int i0, int rows, int k0, int kc, float *dst, const uint32_t *koff);
// Packs columns [j0, j0 + cols) of B (cols <= NR) for [k0, k0 + kc) into dst[k * NR + c].
typedef void (*pack_b_fn)(const gemm_src *s, int j0, int cols, int k0, int kc, float *dst);
// Fills koff[0..kc) for the reduction block starting at k0 (the convolutions' gather offsets).
typedef void (*prepare_k_fn)(const gemm_src *s, int k0, int kc, uint32_t *koff);

struct gemm_src {
  const float *a, *b;
  int lda, ldb, transA, transB;
  // Convolution geometry; rows_are_taps: the filter gradient (A's rows are the filter's taps).
  int ho, wo, hi, wi, ci, co, kw, sh, sw, rows_are_taps;
  pack_a_fn pack_a;
  pack_b_fn pack_b;
  prepare_k_fn prepare_k;
};

// Per-thread packing buffers, allocated on a thread's first product and freed when it exits
// (JavaScript worker threads come and go with pools).
typedef struct {
  float *pa, *pb;
  uint32_t *koff;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch(void *p) {
  scratch *w = p;
  free(w->pa);
  free(w->pb);
  free(w->koff);
  free(w);
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch); }

static scratch *thread_scratch(void) {
  pthread_once(&scratch_once, make_scratch_key);
  scratch *w = pthread_getspecific(scratch_key);
  if (w) return w;
  w = calloc(1, sizeof *w);
  if (!w) abort();
  w->pa = aligned_alloc(64, sizeof(float) * MC * KC);
  w->pb = aligned_alloc(64, sizeof(float) * KC * NC);
  w->koff = aligned_alloc(64, sizeof(uint32_t) * KC);
  if (!w->pa || !w->pb || !w->koff) abort();
  pthread_setspecific(scratch_key, w);
  return w;
}

// c (rows x cols, stride ldc) (+)= pa (kc x MR) @ pb (kc x NR).
static void micro_kernel(const float *pa, const float *pb, int kc, float *c, int ldc, int rows, int cols, int accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(pb + k * NR);
    __m256 b1 = _mm256_load_ps(pb + k * NR + 8);
    const float *a = pa + k * MR;
    __m256 a0 = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
    __m256 a1 = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
    __m256 a2 = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21);
    __m256 a3 = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31);
    __m256 a4 = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(a4, b0, c40); c41 = _mm256_fmadd_ps(a4, b1, c41);
    __m256 a5 = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(a5, b0, c50); c51 = _mm256_fmadd_ps(a5, b1, c51);
  }
  __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (cols == NR) {
    for (int r = 0; r < rows; r++) {
      float *row = c + (size_t)r * ldc;
      __m256 lo = acc[r][0], hi = acc[r][1];
      if (accumulate) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, lo);
      _mm256_storeu_ps(row + 8, hi);
    }
    return;
  }
  float tmp[MR * NR] __attribute__((aligned(32)));
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(tmp + r * NR, acc[r][0]);
    _mm256_store_ps(tmp + r * NR + 8, acc[r][1]);
  }
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) {
      float *dst = c + (size_t)r * ldc + j;
      *dst = accumulate ? *dst + tmp[r * NR + j] : tmp[r * NR + j];
    }
}

// C[i0..i1) x [j0..j1) = A B over the whole reduction length k (C row stride ldc).
static void gemm_block(const gemm_src *s, float *c, int ldc, int i0, int i1, int j0, int j1, int k) {
  scratch *w = thread_scratch();
  // Blocks of even size (a reduction of 257 as 129 + 128, not 256 + 1: each block re-reads C).
  int kstep = (k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC);
  int nblocks = (j1 - j0 + NC - 1) / NC;
  int nstep = ((j1 - j0 + nblocks - 1) / nblocks + NR - 1) / NR * NR;
  for (int jc = j0; jc < j1; jc += nstep) {
    int nc = j1 - jc < nstep ? j1 - jc : nstep;
    int npanels = (nc + NR - 1) / NR;
    for (int pc = 0; pc < k; pc += kstep) {
      int kc = k - pc < kstep ? k - pc : kstep;
      if (s->prepare_k) s->prepare_k(s, pc, kc, w->koff);
      for (int p = 0; p < npanels; p++) {
        int cols = nc - p * NR < NR ? nc - p * NR : NR;
        s->pack_b(s, jc + p * NR, cols, pc, kc, w->pb + (size_t)p * KC * NR);
      }
      for (int ic = i0; ic < i1; ic += MC) {
        int mc = i1 - ic < MC ? i1 - ic : MC;
        int mpanels = (mc + MR - 1) / MR;
        for (int q = 0; q < mpanels; q++) {
          int rows = mc - q * MR < MR ? mc - q * MR : MR;
          s->pack_a(s, ic + q * MR, rows, pc, kc, w->pa + (size_t)q * KC * MR, w->koff);
        }
        for (int p = 0; p < npanels; p++) {
          int cols = nc - p * NR < NR ? nc - p * NR : NR;
          const float *pb = w->pb + (size_t)p * KC * NR;
          for (int q = 0; q < mpanels; q++) {
            int rows = mc - q * MR < MR ? mc - q * MR : MR;
            micro_kernel(w->pa + (size_t)q * KC * MR, pb, kc, c + (size_t)(ic + q * MR) * ldc + jc + p * NR, ldc, rows, cols, pc > 0);
          }
        }
      }
    }
  }
}

// Range t of nt over [0, len), in whole units of `unit`.
static void split(int len, int unit, int t, int nt, int *lo, int *hi) {
  int units = (len + unit - 1) / unit;
  int a = (int)((long)units * t / nt), b = (int)((long)units * (t + 1) / nt);
  *lo = a * unit < len ? a * unit : len;
  *hi = b * unit < len ? b * unit : len;
}

// One (possibly batched) product split over threads: the batch when it has an item per thread,
// else the longer of rows and columns.
typedef struct {
  gemm_src src; // a and b of batch item 0
  float *c;
  int batch, m, n, k, ldc;
  size_t strideA, strideB, strideC;
} gemm_job;

static void run_gemm(void *arg, int t, int nt) {
  const gemm_job *g = arg;
  int b0 = 0, b1 = g->batch, i0 = 0, i1 = g->m, j0 = 0, j1 = g->n;
  if (nt > 1) {
    if (g->batch >= nt) split(g->batch, 1, t, nt, &b0, &b1);
    else if (g->m >= g->n) split(g->m, MR, t, nt, &i0, &i1);
    else split(g->n, NR, t, nt, &j0, &j1);
  }
  for (int bi = b0; bi < b1; bi++) {
    gemm_src s = g->src;
    s.a += bi * g->strideA;
    s.b += bi * g->strideB;
    if (i0 < i1 && j0 < j1) gemm_block(&s, g->c + bi * g->strideC, g->ldc, i0, i1, j0, j1, g->k);
  }
}

static void run(gemm_job *g, int threads) {
  double macs = (double)g->batch * g->m * g->n * g->k;
  if (g->k == 0) {
    for (int bi = 0; bi < g->batch; bi++)
      for (int i = 0; i < g->m; i++) memset(g->c + bi * g->strideC + (size_t)i * g->ldc, 0, sizeof(float) * g->n);
    return;
  }
  pool_run(run_gemm, g, macs < PARALLEL_MIN_MACS ? 1 : threads);
}

// `lines` runs of kc floats `ld` apart (rows of A, or columns of a transposed B) interleaved into a
// panel of `width` (dst[k * width + line]), zero-padded to `width` lines.
static void pack_lines(const float *first, int ld, int lines, int width, int kc, float *dst) {
  int r = 0;
  for (; r < lines; r++) {
    const float *src = first + (size_t)r * ld;
    for (int k = 0; k < kc; k++) dst[k * width + r] = src[k];
  }
  for (; r < width; r++)
    for (int k = 0; k < kc; k++) dst[k * width + r] = 0.0f;
}

// ---- Plain GEMM operands: op(A) is m x k, op(B) is k x n, row-major.

static void pack_a_matrix(const gemm_src *s, int i0, int rows, int k0, int kc, float *dst, const uint32_t *koff) {
  (void)koff;
  if (s->transA) {
    for (int k = 0; k < kc; k++) {
      const float *src = s->a + (size_t)(k0 + k) * s->lda + i0;
      float *d = dst + k * MR;
      int r = 0;
      for (; r < rows; r++) d[r] = src[r];
      for (; r < MR; r++) d[r] = 0.0f;
    }
    return;
  }
  if (rows == MR) {
    // Six read streams, one sequential write stream.
    const float *r0 = s->a + (size_t)i0 * s->lda + k0, *r1 = r0 + s->lda, *r2 = r1 + s->lda;
    const float *r3 = r2 + s->lda, *r4 = r3 + s->lda, *r5 = r4 + s->lda;
    for (int k = 0; k < kc; k++) {
      float *d = dst + k * MR;
      d[0] = r0[k]; d[1] = r1[k]; d[2] = r2[k]; d[3] = r3[k]; d[4] = r4[k]; d[5] = r5[k];
    }
    return;
  }
  pack_lines(s->a + (size_t)i0 * s->lda + k0, s->lda, rows, MR, kc, dst);
}

static void pack_b_matrix(const gemm_src *s, int j0, int cols, int k0, int kc, float *dst) {
  if (!s->transB) {
    if (cols == NR) {
      for (int k = 0; k < kc; k++) {
        const float *src = s->b + (size_t)(k0 + k) * s->ldb + j0;
        _mm256_store_ps(dst + k * NR, _mm256_loadu_ps(src));
        _mm256_store_ps(dst + k * NR + 8, _mm256_loadu_ps(src + 8));
      }
      return;
    }
    for (int k = 0; k < kc; k++) {
      const float *src = s->b + (size_t)(k0 + k) * s->ldb + j0;
      int c = 0;
      for (; c < cols; c++) dst[k * NR + c] = src[c];
      for (; c < NR; c++) dst[k * NR + c] = 0.0f;
    }
    return;
  }
  pack_lines(s->b + (size_t)j0 * s->ldb + k0, s->ldb, cols, NR, kc, dst);
}

void native_sgemm(float *heap, uint32_t a, uint32_t b, uint32_t c, int batch, int m, int n, int k,
                  int transA, int transB, uint32_t strideA, uint32_t strideB, uint32_t strideC, int threads) {
  gemm_job g = {
    .src = { .a = heap + a, .b = heap + b, .lda = transA ? m : k, .ldb = transB ? k : n, .transA = transA, .transB = transB,
             .pack_a = pack_a_matrix, .pack_b = pack_b_matrix },
    .c = heap + c, .batch = batch, .m = m, .n = n, .k = k, .ldc = n,
    .strideA = strideA, .strideB = strideB, .strideC = strideC,
  };
  run(&g, threads);
}

// ---- Unpadded 2D convolution, channels-last (as native/conv2d.c).
// Offset in x of output pixel p's window origin.
static inline uint32_t pixel_offset(const gemm_src *s, int p) {
  int w = p % s->wo, t = p / s->wo;
  int h = t % s->ho, n = t / s->ho;
  return ((uint32_t)(n * s->hi + h * s->sh) * (uint32_t)s->wi + (uint32_t)(w * s->sw)) * (uint32_t)s->ci;
}

// Offset of filter row k = (a kw + b) ci + i inside a window.
static inline uint32_t tap_offset(const gemm_src *s, int k) {
  int i = k % s->ci, t = k / s->ci;
  return (uint32_t)((t / s->kw) * s->wi + t % s->kw) * (uint32_t)s->ci + (uint32_t)i;
}

// An A panel gathered from the image: dst[kk * MR + r] = a[row[r] + col[kk]] (zero rows past `rows`).
static void pack_gathered(const float *a, const uint32_t *row, int rows, const uint32_t *col, int kc, float *dst) {
  int r = 0;
  for (; r < rows; r++) {
    const float *base = a + row[r];
    for (int kk = 0; kk < kc; kk++) dst[kk * MR + r] = base[col[kk]];
  }
  for (; r < MR; r++)
    for (int kk = 0; kk < kc; kk++) dst[kk * MR + r] = 0.0f;
}

// Both convolutions are GEMMs whose A is the image gathered while packing. The forward's rows
// are output pixels and its reduction the filter taps (B the filter [K, co]); the filter
// gradient's rows are the taps and its reduction the output pixels (B = dy [pixels, co]).
static inline uint32_t row_offset(const gemm_src *s, int i) { return s->rows_are_taps ? tap_offset(s, i) : pixel_offset(s, i); }

static void prepare_gather(const gemm_src *s, int k0, int kc, uint32_t *koff) {
  for (int kk = 0; kk < kc; kk++) koff[kk] = s->rows_are_taps ? pixel_offset(s, k0 + kk) : tap_offset(s, k0 + kk);
}

static void pack_a_gather(const gemm_src *s, int i0, int rows, int k0, int kc, float *dst, const uint32_t *koff) {
  (void)k0;
  uint32_t row[MR];
  for (int r = 0; r < rows; r++) row[r] = row_offset(s, i0 + r);
  pack_gathered(s->a, row, rows, koff, kc, dst);
}

// x [n, hi, wi, ci]; b the filter (forward) or dy (filter gradient), rows of co; c the output.
static void conv2d(const float *x, const float *b, float *c, int n, int hi, int wi, int ci, int co, int kh, int kw, int sh, int sw,
                   int rows_are_taps, int threads) {
  gemm_job g = {
    .src = { .a = x, .b = b, .ldb = co, .ho = (hi - kh) / sh + 1, .wo = (wi - kw) / sw + 1, .hi = hi, .wi = wi, .ci = ci, .co = co,
             .kw = kw, .sh = sh, .sw = sw, .rows_are_taps = rows_are_taps, .pack_a = pack_a_gather, .pack_b = pack_b_matrix,
             .prepare_k = prepare_gather },
    .c = c, .batch = 1, .n = co, .ldc = co,
  };
  int pixels = n * g.src.ho * g.src.wo, taps = kh * kw * ci;
  g.m = rows_are_taps ? taps : pixels;
  g.k = rows_are_taps ? pixels : taps;
  run(&g, threads);
}

void native_conv2d_forward(float *heap, uint32_t x, uint32_t w, uint32_t y, int n, int hi, int wi, int ci, int co,
                           int kh, int kw, int sh, int sw, int threads) {
  conv2d(heap + x, heap + w, heap + y, n, hi, wi, ci, co, kh, kw, sh, sw, 0, threads);
}

void native_conv2d_filter_grad(float *heap, uint32_t x, uint32_t dy, uint32_t dw, int n, int hi, int wi, int ci, int co,
                               int kh, int kw, int sh, int sw, int threads) {
  conv2d(heap + x, heap + dy, heap + dw, n, hi, wi, ci, co, kh, kw, sh, sw, 1, threads);
}
