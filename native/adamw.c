// One AdamW update for the tfjs wasm backend (src/train/adamw.ts), one pass over memory instead
// of tfjs's twelve element-wise kernels, each operation rounded to float32 in the order of the
// composed tfjs ops it replaces, so the results are the same bit for bit:
//   m' = m b1 + g (1 - b1);  v' = v b2 + g^2 (1 - b2)
//   p' = p decay - (m' / (sqrt(v') / bc2 + eps)) step
// `c` holds the float32 constants b1, 1 - b1, b2, 1 - b2, bc2, eps, decay, step.
typedef unsigned int u32;

void adamw(const float *p, const float *g, const float *m, const float *v, float *p_out, float *m_out, float *v_out, u32 n, const float *c) {
  float b1 = c[0], b1c = c[1], b2 = c[2], b2c = c[3], bc2 = c[4], eps = c[5], decay = c[6], step = c[7];
  for (u32 i = 0; i < n; i++) {
    float gi = g[i];
    float mi = m[i] * b1 + gi * b1c;
    float vi = v[i] * b2 + (gi * gi) * b2c;
    float denom = __builtin_sqrtf(vi) / bc2 + eps;
    p_out[i] = p[i] * decay - (mi / denom) * step;
    m_out[i] = mi;
    v_out[i] = vi;
  }
}
