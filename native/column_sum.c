// Column sums for the tfjs wasm backend: out[j] = sum over i of x[i cols + j], rows in order (the
// summation order of tfjs-wasm's Sum). tfjs-wasm reduces leading axes by transposing the whole
// tensor first; a bias gradient (a [tokens, features] sum over tokens) is this kernel's case.
#include <wasm_simd128.h>

void column_sum(const float *x, float *out, int rows, int cols) {
  int j = 0;
  for (; j + 16 <= cols; j += 16) {
    v128_t a0 = wasm_f32x4_splat(0), a1 = wasm_f32x4_splat(0), a2 = wasm_f32x4_splat(0), a3 = wasm_f32x4_splat(0);
    const float *p = x + j;
    for (int i = 0; i < rows; i++, p += cols) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
    }
    wasm_v128_store(out + j, a0);
    wasm_v128_store(out + j + 4, a1);
    wasm_v128_store(out + j + 8, a2);
    wasm_v128_store(out + j + 12, a3);
  }
  for (; j + 4 <= cols; j += 4) {
    v128_t a = wasm_f32x4_splat(0);
    const float *p = x + j;
    for (int i = 0; i < rows; i++, p += cols) a = wasm_f32x4_add(a, wasm_v128_load(p));
    wasm_v128_store(out + j, a);
  }
  for (; j < cols; j++) {
    float a = 0.0f;
    const float *p = x + j;
    for (int i = 0; i < rows; i++, p += cols) a += *p;
    out[j] = a;
  }
}
