// 3D max pooling of channels-last volumes for the tfjs wasm backend (src/layers/max_pool.ts);
// tfjs-wasm's MaxPool3D starts from FLT_MIN instead of -inf, and composing it from strided slices
// runs at tens of MB/s there. Padding cells never win (PyTorch's -inf padding).
//   max_pool3d:      y[b, z, y, x, c] = max over the window of x
//   max_pool3d_grad: dx = dy routed to the first maximum of each window in (d, h, w) scan order,
//                    PyTorch's choice among ties
// `p` holds 14 ints: b, d, h, w, c, kd, kh, kw, sd, sh, sw, pd, ph, pw. Indices are unsigned.
typedef unsigned int u32;

#define DIMS                                                                                     \
  int b = p[0], d = p[1], h = p[2], w = p[3], c = p[4], kd = p[5], kh = p[6], kw = p[7];         \
  int sd = p[8], sh = p[9], sw = p[10], pd = p[11], ph = p[12], pw = p[13];                      \
  int dout = (d + 2 * pd - kd) / sd + 1, hout = (h + 2 * ph - kh) / sh + 1, wout = (w + 2 * pw - kw) / sw + 1;

static u32 cell(int bi, int z, int yy, int xx, int d, int h, int w) {
  return (((u32)bi * (u32)d + (u32)z) * (u32)h + (u32)yy) * (u32)w + (u32)xx;
}

void max_pool3d(const float *x, float *y, const int *p) {
  DIMS
  float *o = y;
  for (int bi = 0; bi < b; bi++)
    for (int oz = 0; oz < dout; oz++)
      for (int oy = 0; oy < hout; oy++)
        for (int ox = 0; ox < wout; ox++, o += c) {
          for (int ch = 0; ch < c; ch++) o[ch] = -__builtin_inff();
          for (int tz = 0; tz < kd; tz++) {
            int z = oz * sd + tz - pd;
            if (z < 0 || z >= d) continue;
            for (int ty = 0; ty < kh; ty++) {
              int yy = oy * sh + ty - ph;
              if (yy < 0 || yy >= h) continue;
              for (int tx = 0; tx < kw; tx++) {
                int xx = ox * sw + tx - pw;
                if (xx < 0 || xx >= w) continue;
                const float *src = x + cell(bi, z, yy, xx, d, h, w) * (u32)c;
                for (int ch = 0; ch < c; ch++) o[ch] = src[ch] > o[ch] ? src[ch] : o[ch];
              }
            }
          }
        }
}

// Channels go in blocks of POOL_BLOCK, scanned tap by tap, so the comparisons vectorise; each
// block's window keeps its first strict maximum, as the scalar scan in (d, h, w) order did, and
// the gradients are added in the same output order (the same sums).
#define POOL_BLOCK 64

void max_pool3d_grad(const float *x, const float *dy, float *dx, const int *p) {
  DIMS
  __builtin_memset(dx, 0, (unsigned long)b * (u32)d * (u32)h * (u32)w * (u32)c * 4);
  float best[POOL_BLOCK];
  u32 at[POOL_BLOCK];
  const float *g = dy;
  for (int bi = 0; bi < b; bi++)
    for (int oz = 0; oz < dout; oz++)
      for (int oy = 0; oy < hout; oy++)
        for (int ox = 0; ox < wout; ox++, g += c)
          for (int c0 = 0; c0 < c; c0 += POOL_BLOCK) {
            int n = c - c0 < POOL_BLOCK ? c - c0 : POOL_BLOCK;
            int found = 0;
            for (int tz = 0; tz < kd; tz++) {
              int z = oz * sd + tz - pd;
              if (z < 0 || z >= d) continue;
              for (int ty = 0; ty < kh; ty++) {
                int yy = oy * sh + ty - ph;
                if (yy < 0 || yy >= h) continue;
                for (int tx = 0; tx < kw; tx++) {
                  int xx = ox * sw + tx - pw;
                  if (xx < 0 || xx >= w) continue;
                  u32 base = cell(bi, z, yy, xx, d, h, w) * (u32)c + (u32)c0;
                  const float *src = x + base;
                  if (!found) {
                    for (int k = 0; k < n; k++) {
                      best[k] = src[k];
                      at[k] = base + (u32)k;
                    }
                    found = 1;
                  } else {
                    for (int k = 0; k < n; k++) {
                      int more = src[k] > best[k];
                      best[k] = more ? src[k] : best[k];
                      at[k] = more ? base + (u32)k : at[k];
                    }
                  }
                }
              }
            }
            if (found)
              for (int k = 0; k < n; k++) dx[at[k]] += g[c0 + k];
          }
}
