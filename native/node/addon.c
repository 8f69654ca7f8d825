// Node-API entry points of mst-ts's native kernels: each takes tfjs-wasm's heap (the ArrayBuffer
// of its WebAssembly.Memory), byte offsets into it as the WebAssembly kernels do, the shapes and a
// thread count, checks every operand lies inside the heap, and runs the AVX2 kernel in place.
// Loading succeeds on any x86-64; `isa` is null where the CPU lacks AVX2 or FMA, and the kernels
// must then not be called (they would fault), which src/kernels/native_kernels.ts respects.
#include <node_api.h>
#ifdef __APPLE__
#include <dlfcn.h>
#endif
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include "kernels.h"

#define MAX_ARGS 16

static int cpu_ok(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

typedef struct {
  napi_env env;
  char *base;
  double floats; // heap length in floats
  int64_t v[MAX_ARGS];
  double d[MAX_ARGS]; // the same arguments as numbers (LayerNorm's epsilon)
  int ok;
} call_args;

static void fail(call_args *c, const char *message) {
  if (c->ok) napi_throw_error(c->env, "MST_NATIVE_ARGUMENTS", message);
  c->ok = 0;
}

// argv[0] the heap, then `count` numbers, integers in [0, 2^32) except where `real` has bit i set.
static call_args read_args(napi_env env, napi_callback_info info, size_t count, const char *name, unsigned real) {
  call_args c = { .env = env, .ok = 1 };
  size_t argc = MAX_ARGS;
  napi_value argv[MAX_ARGS];
  char message[160];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count + 1) {
    snprintf(message, sizeof message, "%s: expected %d arguments, got %d", name, (int)count + 1, (int)argc);
    fail(&c, message);
    return c;
  }
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  if (napi_is_arraybuffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_arraybuffer_info(env, argv[0], &data, &length) != napi_ok) {
    snprintf(message, sizeof message, "%s: the first argument must be the wasm heap's ArrayBuffer", name);
    fail(&c, message);
    return c;
  }
  c.base = data;
  c.floats = (double)(length / 4);
  for (size_t i = 0; i < count; i++) {
    if (napi_get_value_double(env, argv[i + 1], &c.d[i]) != napi_ok) {
      snprintf(message, sizeof message, "%s: argument %d must be a number", name, (int)i + 2);
      fail(&c, message);
      return c;
    }
    if (real & (1u << i)) continue;
    c.v[i] = (int64_t)c.d[i];
    if (!(c.d[i] >= 0 && c.d[i] <= 4294967295.0) || (double)c.v[i] != c.d[i]) {
      snprintf(message, sizeof message, "%s: argument %d must be an integer in [0, 2^32)", name, (int)i + 2);
      fail(&c, message);
      return c;
    }
  }
  return c;
}

// A float operand at byte offset `offset` spanning `floats` floats must lie inside the heap.
static float *operand(call_args *c, int64_t offset, double floats, const char *what) {
  if (!c->ok) return NULL;
  if (offset % 4 != 0 || (double)(offset / 4) + floats > c->floats) {
    char message[160];
    snprintf(message, sizeof message, "native kernel: %s (%.0f floats at byte %lld) lies outside the wasm heap", what, floats, (long long)offset);
    fail(c, message);
    return NULL;
  }
  return (float *)(c->base + offset);
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  // heap, a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, threads
  call_args c = read_args(env, info, 13, "sgemm", 0);
  if (!c.ok) return NULL;
  int64_t *v = c.v;
  double batch = (double)v[3], m = (double)v[4], n = (double)v[5], k = (double)v[6];
  if (batch == 0 || m == 0 || n == 0) return NULL;
  float *a = operand(&c, v[0], (batch - 1) * v[9] + m * k, "A");
  float *b = operand(&c, v[1], (batch - 1) * v[10] + k * n, "B");
  float *out = operand(&c, v[2], (batch - 1) * v[11] + m * n, "C");
  if (!c.ok) return NULL;
  native_sgemm((float *)c.base, (uint32_t)(a - (float *)c.base), (uint32_t)(b - (float *)c.base), (uint32_t)(out - (float *)c.base),
               (int)v[3], (int)v[4], (int)v[5], (int)v[6], v[7] != 0, v[8] != 0, (uint32_t)v[9], (uint32_t)v[10], (uint32_t)v[11], (int)v[12]);
  return NULL;
}

typedef void (*conv_fn)(float *, uint32_t, uint32_t, uint32_t, int, int, int, int, int, int, int, int, int, int);

// heap, x, second operand, output, n, hi, wi, ci, co, kh, kw, sh, sw, threads
static napi_value conv(napi_env env, napi_callback_info info, int filter_grad) {
  const char *name = filter_grad ? "conv2dFilterGrad" : "conv2dForward";
  call_args c = read_args(env, info, 13, name, 0);
  if (!c.ok) return NULL;
  int64_t *v = c.v;
  int64_t n = v[3], hi = v[4], wi = v[5], ci = v[6], co = v[7], kh = v[8], kw = v[9], sh = v[10], sw = v[11];
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || kh > hi || kw > wi) {
    fail(&c, "native conv2d: the filter must fit the image and strides be positive");
    return NULL;
  }
  double ho = (double)((hi - kh) / sh + 1), wo = (double)((wi - kw) / sw + 1);
  double image = (double)n * hi * wi * ci, filter = (double)kh * kw * ci * co, out = n * ho * wo * co;
  if (image == 0 || filter == 0 || out == 0) {
    // An empty image still has a filter gradient: zeros.
    float *dw = filter_grad && filter > 0 ? operand(&c, v[2], filter, "dw") : NULL;
    if (dw) memset(dw, 0, sizeof(float) * (size_t)filter);
    return NULL;
  }
  float *x = operand(&c, v[0], image, "x");
  float *second = operand(&c, v[1], filter_grad ? out : filter, filter_grad ? "dy" : "filter");
  float *result = operand(&c, v[2], filter_grad ? filter : out, filter_grad ? "dw" : "y");
  if (!c.ok) return NULL;
  float *heap = (float *)c.base;
  conv_fn fn = filter_grad ? native_conv2d_filter_grad : native_conv2d_forward;
  fn(heap, (uint32_t)(x - heap), (uint32_t)(second - heap), (uint32_t)(result - heap), (int)n, (int)hi, (int)wi, (int)ci, (int)co,
     (int)kh, (int)kw, (int)sh, (int)sw, (int)v[12]);
  return NULL;
}

// heap, x, y, n, threads
static napi_value js_gelu(napi_env env, napi_callback_info info) {
  call_args c = read_args(env, info, 4, "gelu", 0);
  if (!c.ok || c.v[2] == 0) return NULL;
  float *x = operand(&c, c.v[0], (double)c.v[2], "x");
  float *y = operand(&c, c.v[1], (double)c.v[2], "y");
  if (c.ok) native_gelu(x, y, (uint32_t)c.v[2], (int)c.v[3]);
  return NULL;
}

// heap, x, dy, dx, n, threads
static napi_value js_gelu_grad(napi_env env, napi_callback_info info) {
  call_args c = read_args(env, info, 5, "geluGrad", 0);
  if (!c.ok || c.v[3] == 0) return NULL;
  double n = (double)c.v[3];
  float *x = operand(&c, c.v[0], n, "x");
  float *dy = operand(&c, c.v[1], n, "dy");
  float *dx = operand(&c, c.v[2], n, "dx");
  if (c.ok) native_gelu_grad(x, dy, dx, (uint32_t)c.v[3], (int)c.v[4]);
  return NULL;
}

// heap, x, w, b, y, rows, c, eps, threads
static napi_value js_layer_norm(napi_env env, napi_callback_info info) {
  call_args c = read_args(env, info, 8, "layerNorm", 1u << 6);
  if (!c.ok || c.v[4] == 0 || c.v[5] == 0) return NULL;
  double rows = (double)c.v[4], cols = (double)c.v[5];
  float *x = operand(&c, c.v[0], rows * cols, "x");
  float *w = operand(&c, c.v[1], cols, "weight");
  float *b = operand(&c, c.v[2], cols, "bias");
  float *y = operand(&c, c.v[3], rows * cols, "y");
  if (c.ok) native_layer_norm(x, w, b, y, (uint32_t)c.v[4], (uint32_t)c.v[5], (float)c.d[6], (int)c.v[7]);
  return NULL;
}

static napi_value conv2d_forward(napi_env env, napi_callback_info info) { return conv(env, info, 0); }
static napi_value conv2d_filter_grad(napi_env env, napi_callback_info info) { return conv(env, info, 1); }

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
#ifdef __APPLE__
  // Pinned in memory (Linux links with -z nodelete): see native/build_node.mjs.
  Dl_info self;
  if (dladdr((void *)cpu_ok, &self) && self.dli_fname) dlopen(self.dli_fname, RTLD_NOW | RTLD_NODELETE);
#endif
  napi_value isa;
  if (cpu_ok()) {
    napi_create_string_utf8(env, "avx2-fma", NAPI_AUTO_LENGTH, &isa);
    napi_property_descriptor kernels[] = {
      { "sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL },
      { "conv2dForward", NULL, conv2d_forward, NULL, NULL, NULL, napi_enumerable, NULL },
      { "conv2dFilterGrad", NULL, conv2d_filter_grad, NULL, NULL, NULL, napi_enumerable, NULL },
      { "gelu", NULL, js_gelu, NULL, NULL, NULL, napi_enumerable, NULL },
      { "geluGrad", NULL, js_gelu_grad, NULL, NULL, NULL, napi_enumerable, NULL },
      { "layerNorm", NULL, js_layer_norm, NULL, NULL, NULL, napi_enumerable, NULL },
    };
    napi_define_properties(env, exports, sizeof kernels / sizeof kernels[0], kernels);
  } else {
    napi_get_null(env, &isa);
  }
  napi_set_named_property(env, exports, "isa", isa);
  return exports;
}
