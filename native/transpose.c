// Transpose of 4-byte elements for the tfjs wasm backend (its own kernel runs 5-D permutations at
// ~20 MB/s). The caller has dropped size-1 axes and merged axes that stay adjacent, so `rank` is
// small; `shape` is the input's and `perm` maps output axes to input axes.
//   last axis kept       -> one contiguous copy per output row
//   last two axes swapped -> 16x16 tiles over the inner 2-D block, 4x4 SIMD shuffles inside
//   otherwise             -> strided gather along the last output axis
#include <wasm_simd128.h>

typedef unsigned int u32;

#define MAXR 8
#define TILE 16

// out rows i0..i0+3, columns j0..j0+3 of the tile: out[i, j] = in[j * colStride + i] (src = in + i0).
static inline void transpose4x4(const u32 *src, int colStride, u32 *o, int cols) {
  v128_t v0 = wasm_v128_load(src), v1 = wasm_v128_load(src + colStride);
  v128_t v2 = wasm_v128_load(src + 2 * colStride), v3 = wasm_v128_load(src + 3 * colStride);
  v128_t t0 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7);
  v128_t t2 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
  wasm_v128_store(o, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
  wasm_v128_store(o + cols, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
  wasm_v128_store(o + 2 * cols, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
  wasm_v128_store(o + 3 * cols, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
}

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
          // Whole 4x4 blocks by shuffles, the ragged right and bottom edges element by element.
          int i4 = i0 + ((i1 - i0) & ~3), j4 = j0 + ((j1 - j0) & ~3);
          for (int i = i0; i < i4; i += 4)
            for (int j = j0; j < j4; j += 4) transpose4x4(in + off + j * colStride + i, colStride, o + i * cols + j, cols);
          for (int j = j0; j < j1; j++) {
            const u32 *src = in + off + j * colStride;
            for (int i = (j < j4 ? i4 : i0); i < i1; i++) o[i * cols + j] = src[i];
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
