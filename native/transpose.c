// Transpose of 4-byte elements for the tfjs wasm backend (its own kernel runs 5-D permutations at
// ~20 MB/s). The caller has dropped size-1 axes and merged axes that stay adjacent, so `rank` is
// small; `shape` is the input's and `perm` maps output axes to input axes.
//   last axis kept       -> one contiguous copy per output row
//   last two axes swapped -> 8x8 tiles over the inner 2-D block
//   otherwise             -> strided gather along the last output axis
typedef unsigned int u32;

#define MAXR 8
#define TILE 8

// `params` (inside the caller's work buffer, 6 * MAXR ints) holds rank ints of shape, then rank
// ints of perm, then scratch: the module has no C stack of its own (it shares the tfjs heap), so
// no local arrays.
void transpose(const u32 *in, u32 *out, int rank, int *params) {
  const int *shape = params;
  const int *perm = params + MAXR;
  int *istride = params + 2 * MAXR, *oshape = params + 3 * MAXR, *s = params + 4 * MAXR, *idx = params + 5 * MAXR;
  int st = 1;
  for (int d = rank - 1; d >= 0; d--) { istride[d] = st; st *= shape[d]; }
  for (int i = 0; i < rank; i++) { oshape[i] = shape[perm[i]]; s[i] = istride[perm[i]]; idx[i] = 0; }
  // Output axes handled by the odometer: all but the inner one (two when tiling).
  int tile = rank >= 2 && perm[rank - 2] == rank - 1;
  int outer = tile ? rank - 2 : rank - 1;
  int rows = tile ? oshape[rank - 2] : 1;
  int cols = oshape[rank - 1];
  int colStride = s[rank - 1];
  int block = rows * cols;
  u32 *o = out;
  int off = 0;
  for (;;) {
    if (perm[rank - 1] == rank - 1) {
      __builtin_memcpy(o, in + off, (unsigned long)cols * 4);
    } else if (tile) {
      // out[i, j] = in[off + i + j * colStride]: input rows are the output's columns.
      for (int i0 = 0; i0 < rows; i0 += TILE) {
        int i1 = i0 + TILE < rows ? i0 + TILE : rows;
        for (int j0 = 0; j0 < cols; j0 += TILE) {
          int j1 = j0 + TILE < cols ? j0 + TILE : cols;
          for (int j = j0; j < j1; j++) {
            const u32 *src = in + off + j * colStride;
            for (int i = i0; i < i1; i++) o[i * cols + j] = src[i];
          }
        }
      }
    } else {
      const u32 *src = in + off;
      for (int j = 0; j < cols; j++) o[j] = src[j * colStride];
    }
    o += tile ? block : cols;
    int d = outer - 1;
    while (d >= 0) {
      idx[d]++;
      off += s[d];
      if (idx[d] < oshape[d]) break;
      off -= s[d] * oshape[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}
