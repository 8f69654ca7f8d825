// GELU, its gradient and LayerNorm of native/norm_gelu.c (compiled into this addon as well, with
// contraction off so every element equals the WebAssembly kernel's bit for bit), split over
// threads: elements (GELU) or rows (LayerNorm) are independent, so any split gives the same values.
#include "kernels.h"
#include "thread_pool.h"

typedef unsigned int u32;
void gelu(const float *x, float *y, u32 n);
void gelu_grad(const float *x, const float *dy, float *dx, u32 n);
void layer_norm(const float *x, const float *w, const float *b, float *y, u32 rows, u32 c, float eps);

// Below this many elements a call runs on the calling thread alone.
#define PARALLEL_MIN_ELEMENTS (1u << 16)

typedef struct {
  const float *x, *dy, *w, *b;
  float *out;
  u32 n, c;
  float eps;
} elementwise_job;

static void range(u32 n, int t, int nt, u32 *lo, u32 *hi) {
  *lo = (u32)((unsigned long long)n * t / nt);
  *hi = (u32)((unsigned long long)n * (t + 1) / nt);
}

static void run_gelu(void *arg, int t, int nt) {
  const elementwise_job *j = arg;
  u32 lo, hi;
  range(j->n, t, nt, &lo, &hi);
  gelu(j->x + lo, j->out + lo, hi - lo);
}

static void run_gelu_grad(void *arg, int t, int nt) {
  const elementwise_job *j = arg;
  u32 lo, hi;
  range(j->n, t, nt, &lo, &hi);
  gelu_grad(j->x + lo, j->dy + lo, j->out + lo, hi - lo);
}

static void run_layer_norm(void *arg, int t, int nt) {
  const elementwise_job *j = arg;
  u32 lo, hi;
  range(j->n, t, nt, &lo, &hi);
  layer_norm(j->x + (unsigned long long)lo * j->c, j->w, j->b, j->out + (unsigned long long)lo * j->c, hi - lo, j->c, j->eps);
}

void native_gelu(const float *x, float *y, uint32_t n, int threads) {
  elementwise_job j = { .x = x, .out = y, .n = n };
  pool_run(run_gelu, &j, n < PARALLEL_MIN_ELEMENTS ? 1 : threads);
}

void native_gelu_grad(const float *x, const float *dy, float *dx, uint32_t n, int threads) {
  elementwise_job j = { .x = x, .dy = dy, .out = dx, .n = n };
  pool_run(run_gelu_grad, &j, n < PARALLEL_MIN_ELEMENTS ? 1 : threads);
}

void native_layer_norm(const float *x, const float *w, const float *b, float *y, uint32_t rows, uint32_t c, float eps, int threads) {
  elementwise_job j = { .x = x, .w = w, .b = b, .out = y, .n = rows, .c = c, .eps = eps };
  pool_run(run_layer_norm, &j, (unsigned long long)rows * c < PARALLEL_MIN_ELEMENTS ? 1 : threads);
}
