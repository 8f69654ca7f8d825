// Depth taps of a 3D convolution computed as a 2D one (src/ops/depth_taps.ts), for the tfjs wasm
// backend, whose Slice/Concat/Pad kernels run these rearrangements at tens of MB/s:
//   depth_taps:      out[b Do + j, y, x, t C + c] = x[b, j sd + t - pd, y - ph, x - pw, c] (0 outside)
//   depth_taps_grad: its adjoint, dx[b, z, y, x, c] = sum over taps t that read plane z of
//                    dy[b Do + j, y + ph, x + pw, t C + c] with j sd + t - pd = z.
// `p` holds 10 ints: b, d, h, w, c, kd, sd, pd, ph, pw. Indices are unsigned: heaps reach 4 GiB.
typedef unsigned int u32;

static void copy(float *dst, const float *src, u32 n) {
  if (n >= 16) { __builtin_memcpy(dst, src, n * 4); return; }
  for (u32 k = 0; k < n; k++) dst[k] = src[k];
}

static void zero(float *dst, u32 n) {
  if (n >= 16) { __builtin_memset(dst, 0, n * 4); return; }
  for (u32 k = 0; k < n; k++) dst[k] = 0.0f;
}

void depth_taps(const float *x, float *out, const int *p) {
  int b = p[0], d = p[1], h = p[2], w = p[3], c = p[4], kd = p[5], sd = p[6], pd = p[7], ph = p[8], pw = p[9];
  int dout = (d + 2 * pd - kd) / sd + 1, hp = h + 2 * ph, wp = w + 2 * pw;
  u32 row = (u32)kd * (u32)c;
  float *o = out;
  for (int bi = 0; bi < b; bi++) {
    for (int j = 0; j < dout; j++) {
      for (int yy = 0; yy < hp; yy++) {
        int sy = yy - ph;
        for (int xx = 0; xx < wp; xx++, o += row) {
          int sx = xx - pw;
          int inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          for (int t = 0; t < kd; t++) {
            int z = j * sd + t - pd;
            float *dst = o + (u32)t * (u32)c;
            if (!inside || z < 0 || z >= d) zero(dst, (u32)c);
            else copy(dst, x + ((((u32)bi * (u32)d + (u32)z) * (u32)h + (u32)sy) * (u32)w + (u32)sx) * (u32)c, (u32)c);
          }
        }
      }
    }
  }
}

void depth_taps_grad(const float *dy, float *dx, const int *p) {
  int b = p[0], d = p[1], h = p[2], w = p[3], c = p[4], kd = p[5], sd = p[6], pd = p[7], ph = p[8], pw = p[9];
  int dout = (d + 2 * pd - kd) / sd + 1, hp = h + 2 * ph, wp = w + 2 * pw;
  u32 row = (u32)kd * (u32)c;
  float *o = dx;
  for (int bi = 0; bi < b; bi++) {
    for (int z = 0; z < d; z++) {
      for (int sy = 0; sy < h; sy++) {
        for (int sx = 0; sx < w; sx++, o += c) {
          int first = 1;
          for (int t = 0; t < kd; t++) {
            int num = z + pd - t;
            if (num < 0 || num % sd != 0 || num / sd >= dout) continue;
            int j = num / sd;
            const float *src = dy + ((((u32)bi * (u32)dout + (u32)j) * (u32)hp + (u32)(sy + ph)) * (u32)wp + (u32)(sx + pw)) * row + (u32)t * (u32)c;
            if (first) copy(o, src, (u32)c);
            else for (int k = 0; k < c; k++) o[k] += src[k];
            first = 0;
          }
          if (first) zero(o, (u32)c);
        }
      }
    }
  }
}
