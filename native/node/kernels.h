// Native (x86-64 AVX2 + FMA) versions of the heaviest WebAssembly kernels (native/sgemm.c,
// native/conv2d.c, native/norm_gelu.c's GELU and LayerNorm), for Node: the same arguments, float offsets into tfjs-wasm's heap given as a
// base pointer. Work is split over the threads of thread_pool.h.
#ifndef MST_NATIVE_KERNELS_H
#define MST_NATIVE_KERNELS_H
#include <stdint.h>

void native_sgemm(float *heap, uint32_t a, uint32_t b, uint32_t c, int batch, int m, int n, int k,
                  int transA, int transB, uint32_t strideA, uint32_t strideB, uint32_t strideC, int threads);
void native_conv2d_forward(float *heap, uint32_t x, uint32_t w, uint32_t y, int n, int hi, int wi, int ci, int co,
                           int kh, int kw, int sh, int sw, int threads);
void native_conv2d_filter_grad(float *heap, uint32_t x, uint32_t dy, uint32_t dw, int n, int hi, int wi, int ci, int co,
                               int kh, int kw, int sh, int sw, int threads);
void native_gelu(const float *x, float *y, uint32_t n, int threads);
void native_gelu_grad(const float *x, const float *dy, float *dx, uint32_t n, int threads);
void native_layer_norm(const float *x, const float *w, const float *b, float *y, uint32_t rows, uint32_t c, float eps, int threads);
#endif
