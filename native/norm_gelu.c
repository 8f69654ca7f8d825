// LayerNorm over the last axis and exact GELU, forward and backward, for the tfjs wasm backend
// (src/ops/layer_norm.ts, src/ops/gelu.ts): one pass over memory each instead of tfjs's 5-15
// element-wise kernels, and the backward passes recompute from the input (the tape keeps only it).
//   layer_norm:      y = (x - mean) rstd w + b per row of c, rstd = 1 / sqrt(var + eps) (biased)
//   layer_norm_grad: dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy w, xhat = (x - mean) rstd;
//                    dw = sum over rows of dy xhat, db = sum of dy
//   gelu:            y = x / 2 (1 + erf(x / sqrt 2))
//   gelu_grad:       dx = dy (0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi))
// No libm: exp and erf are written here (exp: Cody-Waite reduction and Cephes' expf polynomial,
// ~1 ulp; erf: Abramowitz-Stegun 7.1.26, |error| < 1.5e-7, the formula tfjs's own Erf uses).
typedef unsigned int u32;

static inline float exp_approx(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) x = 88.0f;
  float k = __builtin_floorf(x * 1.44269504f + 0.5f);
  float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { u32 i; float f; } s = { (u32)((int)k + 127) << 23 };
  return p * s.f;
}

static inline float erf_approx(float x) {
  float a = x < 0.0f ? -x : x;
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  float y = 1.0f - poly * exp_approx(-a * a);
  return x < 0.0f ? -y : y;
}

// Branch-free bodies: clang vectorises these loops (four lanes) by itself.
void gelu(const float *x, float *y, u32 n) {
  for (u32 i = 0; i < n; i++) {
    float v = x[i];
    y[i] = 0.5f * v * (1.0f + erf_approx(v * 0.707106781f));
  }
}

void gelu_grad(const float *x, const float *dy, float *dx, u32 n) {
  for (u32 i = 0; i < n; i++) {
    float v = x[i];
    float cdf = 0.5f * (1.0f + erf_approx(v * 0.707106781f));
    float pdf = exp_approx(-0.5f * v * v) * 0.398942280f;
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

// A row's mean (into *mean) and 1 / sqrt(biased variance + eps), two passes as the forward and the
// backward both need them.
static inline float row_stats(const float *xr, u32 c, float eps, float *mean) {
  float sum = 0.0f;
  for (u32 j = 0; j < c; j++) sum += xr[j];
  float m = sum / (float)c;
  float sq = 0.0f;
  for (u32 j = 0; j < c; j++) {
    float d = xr[j] - m;
    sq += d * d;
  }
  *mean = m;
  return 1.0f / __builtin_sqrtf(sq / (float)c + eps);
}

void layer_norm(const float *x, const float *w, const float *b, float *y, u32 rows, u32 c, float eps) {
  for (u32 r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
    float mean, rstd = row_stats(xr, c, eps, &mean);
    for (u32 j = 0; j < c; j++) yr[j] = (xr[j] - mean) * rstd * w[j] + b[j];
  }
}

// `scratch` holds c floats (one row's g = dy w); dw and db are written, not accumulated into.
void layer_norm_grad(const float *x, const float *w, const float *dy, float *dx, float *dw, float *db, u32 rows, u32 c, float eps, float *scratch) {
  for (u32 j = 0; j < c; j++) {
    dw[j] = 0.0f;
    db[j] = 0.0f;
  }
  for (u32 r = 0; r < rows; r++) {
    const float *xr = x + r * c, *dyr = dy + r * c;
    float *dxr = dx + r * c;
    float mean, rstd = row_stats(xr, c, eps, &mean);
    float gsum = 0.0f, gxsum = 0.0f;
    for (u32 j = 0; j < c; j++) {
      float xhat = (xr[j] - mean) * rstd;
      float g = dyr[j] * w[j];
      scratch[j] = g;
      gsum += g;
      gxsum += g * xhat;
      dw[j] += dyr[j] * xhat;
      db[j] += dyr[j];
    }
    float gmean = gsum / (float)c, gxmean = gxsum / (float)c;
    for (u32 j = 0; j < c; j++) dxr[j] = rstd * (scratch[j] - gmean - (xr[j] - mean) * rstd * gxmean);
  }
}
