/** Gathering a strided view (PyTorch strides, NumPy Fortran order) into a C-ordered array. */

/** Any indexable numeric array (typed arrays included). */
export interface IndexedArray<T> {
  readonly length: number;
  [index: number]: T;
}

/** Row-major (C-order) strides of a shape, in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Whether a strided view with these strides reads elements in C order without gaps. */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  const c = contiguousStrides(shape);
  // Axes of size 1 may carry any stride.
  return shape.every((d, i) => d === 1 || strides[i] === c[i]);
}

/**
 * The smallest and largest element index a strided view touches (`[offset, offset]` for empty
 * views is not returned: empty views give `null`). Negative strides are allowed.
 */
export function stridedExtent(shape: readonly number[], strides: readonly number[], offset: number): [number, number] | null {
  let lo = offset;
  let hi = offset;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 0) return null;
    const span = (shape[i] - 1) * strides[i];
    if (span < 0) lo += span;
    else hi += span;
  }
  return [lo, hi];
}

/**
 * Copies a strided view of `src` into `out` in C order: `out[j] = src[offset + sum_i idx_i(j) *
 * strides[i]]`. The caller checks the extent against `src.length` first ({@link stridedExtent}).
 */
export function gatherStrided<T>(src: IndexedArray<T>, out: IndexedArray<T>, shape: readonly number[], strides: readonly number[], offset: number): void {
  const rank = shape.length;
  const n = out.length;
  if (n === 0) return;
  if (rank === 0) {
    out[0] = src[offset];
    return;
  }
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const innerSize = shape[last];
  const innerStride = strides[last];
  let base = offset;
  for (let j = 0; j < n; j += innerSize) {
    let p = base;
    for (let k = 0; k < innerSize; k++, p += innerStride) out[j + k] = src[p];
    // Odometer over the outer axes.
    for (let ax = last - 1; ax >= 0; ax--) {
      idx[ax]++;
      base += strides[ax];
      if (idx[ax] < shape[ax]) break;
      base -= idx[ax] * strides[ax];
      idx[ax] = 0;
    }
  }
}
