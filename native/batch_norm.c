// Training-mode batch norm over the rows of a channels-last x [rows, cols] (every axis but the
// channels), for src/layers/batch_norm.ts's batchNormTrain on the wasm backend: the per-channel
// moments, the normalisation with its optional residual and ReLU, and the backward's two passes.
// Each pass reads the input-sized tensors once, where the composed tfjs ops made about seven
// passes forward and ten backward. The element-wise arithmetic is the composed ops', in float and
// in their order; the channel sums add rows in order in double.
#include <stddef.h>

// mean[c] and the biased variance[c] of x's columns: the mean, then the squares centred on the
// float mean. acc: cols doubles of scratch.
void bn_moments(const float *restrict x, float *restrict mean, float *restrict var, double *restrict acc, int rows, int cols) {
  for (int c = 0; c < cols; c++) acc[c] = 0.0;
  for (int r = 0; r < rows; r++) {
    const float *p = x + (size_t)r * cols;
    for (int c = 0; c < cols; c++) acc[c] += p[c];
  }
  for (int c = 0; c < cols; c++) {
    mean[c] = (float)(acc[c] / rows);
    acc[c] = 0.0;
  }
  for (int r = 0; r < rows; r++) {
    const float *p = x + (size_t)r * cols;
    for (int c = 0; c < cols; c++) {
      double d = (double)(p[c] - mean[c]);
      acc[c] += d * d;
    }
  }
  for (int c = 0; c < cols; c++) var[c] = (float)(acc[c] / rows);
}

// The pre-activation of one row: ((x - mean) * inv_std) * w + b, plus the residual's row.
static inline float pre_activation(float x, float mean, float inv_std, float w, float b) {
  return (x - mean) * inv_std * w + b;
}

// y = relu?(pre + residual?); res may be null.
static inline void apply_rows(const float *restrict x, const float *restrict res, const float *restrict mean, const float *restrict inv_std,
                              const float *restrict w, const float *restrict b, float *restrict y, int rows, int cols, int has_res, int relu) {
  for (int r = 0; r < rows; r++) {
    const float *p = x + (size_t)r * cols;
    const float *q = has_res ? res + (size_t)r * cols : p;
    float *o = y + (size_t)r * cols;
    for (int c = 0; c < cols; c++) {
      float t = pre_activation(p[c], mean[c], inv_std[c], w[c], b[c]);
      if (has_res) t = t + q[c];
      if (relu) t = t > 0.0f ? t : 0.0f;
      o[c] = t;
    }
  }
}

void bn_apply(const float *x, const float *res, const float *mean, const float *inv_std, const float *w, const float *b, float *y, int rows, int cols, int relu) {
  // One specialised loop per case, so the compiler vectorises each without branches.
  if (res && relu) apply_rows(x, res, mean, inv_std, w, b, y, rows, cols, 1, 1);
  else if (res) apply_rows(x, res, mean, inv_std, w, b, y, rows, cols, 1, 0);
  else if (relu) apply_rows(x, 0, mean, inv_std, w, b, y, rows, cols, 0, 1);
  else apply_rows(x, 0, mean, inv_std, w, b, y, rows, cols, 0, 0);
}

// The output gradient masked by the ReLU: dy where the pre-activation (with the residual) is > 0.
static inline float masked(float dy, float pre, int relu) {
  return relu ? (pre > 0.0f ? dy : 0.0f) : dy;
}

static inline void grad_sums_rows(const float *restrict dy, const float *restrict x, const float *restrict res, const float *restrict mean,
                                  const float *restrict inv_std, const float *restrict w, const float *restrict b, double *restrict acc_g,
                                  double *restrict acc_gx, int rows, int cols, int has_res, int relu) {
  for (int r = 0; r < rows; r++) {
    const float *p = x + (size_t)r * cols;
    const float *q = has_res ? res + (size_t)r * cols : p;
    const float *d = dy + (size_t)r * cols;
    for (int c = 0; c < cols; c++) {
      float xhat = (p[c] - mean[c]) * inv_std[c];
      float pre = xhat * w[c] + b[c];
      if (has_res) pre = pre + q[c];
      float g = masked(d[c], pre, relu);
      acc_g[c] += g;
      acc_gx[c] += g * xhat;
    }
  }
}

// sum_g[c] = sum of g, sum_gx[c] = sum of g * xhat, g the masked output gradient, xhat = (x - mean)
// * inv_std. acc: 2 * cols doubles of scratch.
void bn_grad_sums(const float *dy, const float *x, const float *res, const float *mean, const float *inv_std, const float *w, const float *b,
                  float *sum_g, float *sum_gx, double *acc, int rows, int cols, int relu) {
  double *acc_g = acc, *acc_gx = acc + cols;
  for (int c = 0; c < 2 * cols; c++) acc[c] = 0.0;
  if (res && relu) grad_sums_rows(dy, x, res, mean, inv_std, w, b, acc_g, acc_gx, rows, cols, 1, 1);
  else if (relu) grad_sums_rows(dy, x, 0, mean, inv_std, w, b, acc_g, acc_gx, rows, cols, 0, 1);
  else grad_sums_rows(dy, x, 0, mean, inv_std, w, b, acc_g, acc_gx, rows, cols, 0, 0);
  for (int c = 0; c < cols; c++) {
    sum_g[c] = (float)acc_g[c];
    sum_gx[c] = (float)acc_gx[c];
  }
}

static inline void grad_input_rows(const float *restrict dy, const float *restrict x, const float *restrict res, const float *restrict mean,
                                   const float *restrict inv_std, const float *restrict w, const float *restrict b, const float *restrict k,
                                   const float *restrict a, const float *restrict bc, float *restrict dx, float *restrict g_out, int rows,
                                   int cols, int has_res, int relu) {
  for (int r = 0; r < rows; r++) {
    const float *p = x + (size_t)r * cols;
    const float *q = has_res ? res + (size_t)r * cols : p;
    const float *d = dy + (size_t)r * cols;
    float *o = dx + (size_t)r * cols;
    float *go = has_res ? g_out + (size_t)r * cols : o;
    for (int c = 0; c < cols; c++) {
      float xhat = (p[c] - mean[c]) * inv_std[c];
      float pre = xhat * w[c] + b[c];
      if (has_res) pre = pre + q[c];
      float g = masked(d[c], pre, relu);
      o[c] = (g * k[c] - a[c]) - xhat * bc[c];
      if (has_res) go[c] = g;
    }
  }
}

// dx = (g * k - a) - xhat * bc, with the caller's per-channel k = w * inv_std, a = k * mean(g) and
// bc = k * mean(g * xhat); g_out (with a residual) receives g, the residual's gradient.
void bn_grad_input(const float *dy, const float *x, const float *res, const float *mean, const float *inv_std, const float *w, const float *b,
                   const float *k, const float *a, const float *bc, float *dx, float *g_out, int rows, int cols, int relu) {
  if (res && relu) grad_input_rows(dy, x, res, mean, inv_std, w, b, k, a, bc, dx, g_out, rows, cols, 1, 1);
  else if (relu) grad_input_rows(dy, x, 0, mean, inv_std, w, b, k, a, bc, dx, 0, rows, cols, 0, 1);
  else grad_input_rows(dy, x, 0, mean, inv_std, w, b, k, a, bc, dx, 0, rows, cols, 0, 0);
}
