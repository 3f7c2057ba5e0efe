/*
 * The N-API addon (src/kernels/nativeAddon.ts loads it): each function takes the wasm heap (or
 * shared buffers) and a Float64Array of parameters, checks every range against its buffer,
 * and calls the kernel in convolution.c, groupNorm.c, reduce.c, concat.c, split.c, gather.c, resize.c, dense.c, attention.c, layerNorm.c or optimizer.c. The wasm backend keeps
 * every tensor in one ArrayBuffer, so kernels read and write tensors in place: no copies.
 * Context-aware: every worker thread loads its own instance, with its own scratch buffer.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"

/* Raised whenever a function's parameters change: nativeAddon.ts refuses an addon built from older source. */
#define ADDON_VERSION 10

static void freeScratch(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Scratch *s = (Scratch *)data;
  free(s->data);
  free(s);
}

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "native kernels: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

/* The heap and the parameter block every kernel takes: (heap: ArrayBuffer, p: Float64Array). */
typedef struct {
  uint8_t *heap;
  size_t heapBytes;
  const double *p;
  size_t count;
} Call;

static int readCall(napi_env env, napi_callback_info info, size_t wantParams, Call *call) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    napi_throw_type_error(env, NULL, "native kernels: expected (heap: ArrayBuffer, params: Float64Array)");
    return 0;
  }
  void *heap = NULL;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &call->heapBytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "native kernels: the first argument must be the wasm heap's ArrayBuffer");
    return 0;
  }
  call->heap = (uint8_t *)heap;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &call->count, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || call->count < wantParams) {
    napi_throw_type_error(env, NULL, "native kernels: the second argument must be a Float64Array of parameters");
    return 0;
  }
  call->p = (const double *)data;
  return 1;
}

/* A float pointer into the heap, or NULL (and a thrown error) when [offset, +floats) is outside it. */
static float *heapFloats(napi_env env, const Call *call, double offset, double floats, const char *what) {
  if (offset < 0 || floats < 0 || offset + 4.0 * floats > (double)call->heapBytes || ((int64_t)offset & 3) != 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "native kernels: %s (byte offset %.0f, %.0f floats) is outside the wasm heap of %zu bytes",
             what, offset, floats, call->heapBytes);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  return (float *)(call->heap + (int64_t)offset);
}

/* p[0..14] = n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, padTop, padLeft. */
static ConvGeometry readGeometry(const double *p) {
  ConvGeometry g = {(long)p[0], (long)p[1], (long)p[2],  (long)p[3],  (long)p[4],
                    (long)p[5], (long)p[6], (long)p[7],  (long)p[8],  (long)p[9],
                    (long)p[10], (long)p[11], (long)p[12], (long)p[13], (long)p[14]};
  return g;
}

static Scratch *scratchOf(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return (Scratch *)data;
}

/* conv2d(heap, [geometry(15), xOff, filterOff, biasOff (-1 = none), outOff]) */
static napi_value Conv2d(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 19, &c)) return NULL;
  const ConvGeometry g = readGeometry(c.p);
  const float *x = heapFloats(env, &c, c.p[15], (double)g.n * g.h * g.w * g.ci, "x");
  const float *f = x ? heapFloats(env, &c, c.p[16], (double)g.kh * g.kw * g.ci * g.co, "filter") : NULL;
  const float *bias = NULL;
  if (f && c.p[17] >= 0) {
    bias = heapFloats(env, &c, c.p[17], (double)g.co, "bias");
    if (!bias) return NULL;
  }
  float *out = f ? heapFloats(env, &c, c.p[18], (double)g.n * g.oh * g.ow * g.co, "output") : NULL;
  if (!out) return NULL;
  conv2d(scratchOf(env), x, f, bias, out, &g);
  return NULL;
}

/* conv2dBackpropInput(heap, [geometry(15), dyOff, filterOff, dxOff]) */
static napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 18, &c)) return NULL;
  const ConvGeometry g = readGeometry(c.p);
  const float *dy = heapFloats(env, &c, c.p[15], (double)g.n * g.oh * g.ow * g.co, "dy");
  const float *f = dy ? heapFloats(env, &c, c.p[16], (double)g.kh * g.kw * g.ci * g.co, "filter") : NULL;
  float *dx = f ? heapFloats(env, &c, c.p[17], (double)g.n * g.h * g.w * g.ci, "dx") : NULL;
  if (!dx) return NULL;
  conv2dBackpropInput(scratchOf(env), dy, f, dx, &g);
  return NULL;
}

/* conv2dBackpropFilter(heap, [geometry(15), xOff, dyOff, dfilterOff]) */
static napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 18, &c)) return NULL;
  const ConvGeometry g = readGeometry(c.p);
  const float *x = heapFloats(env, &c, c.p[15], (double)g.n * g.h * g.w * g.ci, "x");
  const float *dy = x ? heapFloats(env, &c, c.p[16], (double)g.n * g.oh * g.ow * g.co, "dy") : NULL;
  float *df = dy ? heapFloats(env, &c, c.p[17], (double)g.kh * g.kw * g.ci * g.co, "dfilter") : NULL;
  if (!df) return NULL;
  conv2dBackpropFilter(scratchOf(env), x, dy, df, &g);
  return NULL;
}

/*
 * batchMatMul(heap, [batch, M, N, K, transposeA, transposeB, aOff, aStride, bOff, bStride, outOff]):
 * out[i] = op(a[i]) * op(b[i]) for i < batch, a stride of 0 broadcasting that operand.
 */
static napi_value BatchMatMul(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 11, &c)) return NULL;
  const long batch = (long)c.p[0], M = (long)c.p[1], N = (long)c.p[2], K = (long)c.p[3];
  const int ta = c.p[4] != 0, tb = c.p[5] != 0;
  const long aStride = (long)c.p[7], bStride = (long)c.p[9];
  const float *a = heapFloats(env, &c, c.p[6], (double)(batch - 1) * aStride + (double)M * K, "a");
  const float *b = a ? heapFloats(env, &c, c.p[8], (double)(batch - 1) * bStride + (double)K * N, "b") : NULL;
  float *out = b ? heapFloats(env, &c, c.p[10], (double)batch * M * N, "output") : NULL;
  if (!out) return NULL;
  batchMatMul(batch, M, N, K, ta, tb, a, aStride, b, bStride, out);
  return NULL;
}

/* sumMiddleAxes(heap, [outer, reduce, inner, xOff, outOff]) */
static napi_value SumMiddleAxes(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 5, &c)) return NULL;
  const long outer = (long)c.p[0], reduce = (long)c.p[1], inner = (long)c.p[2];
  const float *x = heapFloats(env, &c, c.p[3], (double)outer * reduce * inner, "x");
  float *out = x ? heapFloats(env, &c, c.p[4], (double)outer * inner, "output") : NULL;
  if (!out) return NULL;
  sumMiddleAxes(scratchOf(env), x, out, outer, reduce, inner);
  return NULL;
}

/* At most this many inputs per concat call (the caller falls back to the wasm kernel beyond). */
#define MAX_CONCAT_INPUTS 16

/* concatRows(heap, [outer, count, (offset_i, inner_i) for each input, outOff]) */
static napi_value ConcatRows(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 3, &c)) return NULL;
  const long outer = (long)c.p[0], count = (long)c.p[1];
  if (count < 1 || count > MAX_CONCAT_INPUTS || c.count < (size_t)(3 + 2 * count)) {
    napi_throw_range_error(env, NULL, "native kernels: concatRows takes 1-16 inputs, each an offset and a row width");
    return NULL;
  }
  const float *inputs[MAX_CONCAT_INPUTS];
  long inner[MAX_CONCAT_INPUTS];
  double width = 0;
  for (long i = 0; i < count; i++) {
    inner[i] = (long)c.p[3 + 2 * i];
    width += (double)inner[i];
    inputs[i] = heapFloats(env, &c, c.p[2 + 2 * i], (double)outer * inner[i], "an input");
    if (!inputs[i]) return NULL;
  }
  float *out = heapFloats(env, &c, c.p[2 + 2 * count], (double)outer * width, "output");
  if (!out) return NULL;
  concatRows(outer, count, inputs, inner, out);
  return NULL;
}

/* At most this many outputs per split call (the caller falls back to the wasm kernel beyond). */
#define MAX_SPLIT_OUTPUTS 16

/* splitRows(heap, [outer, count, xOff, (offset_i (-1: skip it), inner_i) for each output]) */
static napi_value SplitRows(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 3, &c)) return NULL;
  const long outer = (long)c.p[0], count = (long)c.p[1];
  if (count < 1 || count > MAX_SPLIT_OUTPUTS || c.count < (size_t)(3 + 2 * count)) {
    napi_throw_range_error(env, NULL, "native kernels: splitRows takes 1-16 outputs, each an offset and a row width");
    return NULL;
  }
  float *outputs[MAX_SPLIT_OUTPUTS];
  long inner[MAX_SPLIT_OUTPUTS];
  double width = 0;
  for (long i = 0; i < count; i++) {
    inner[i] = (long)c.p[4 + 2 * i];
    if (inner[i] < 0) {
      napi_throw_range_error(env, NULL, "native kernels: splitRows: a negative row width");
      return NULL;
    }
    width += (double)inner[i];
    outputs[i] = NULL;
    if (c.p[3 + 2 * i] >= 0) {
      outputs[i] = heapFloats(env, &c, c.p[3 + 2 * i], (double)outer * inner[i], "an output");
      if (!outputs[i]) return NULL;
    }
  }
  const float *x = heapFloats(env, &c, c.p[2], (double)outer * width, "x");
  if (!x) return NULL;
  splitRows(outer, count, x, inner, outputs);
  return NULL;
}

/* gatherSlices(heap, [batch, outer, dim, slice, n, xOff, indicesOff, outOff]); an index outside [0, dim) throws. */
static napi_value GatherSlices(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 8, &c)) return NULL;
  const long batch = (long)c.p[0], outer = (long)c.p[1], dim = (long)c.p[2], slice = (long)c.p[3], n = (long)c.p[4];
  const float *x = heapFloats(env, &c, c.p[5], (double)batch * outer * dim * slice, "x");
  const float *indices = x ? heapFloats(env, &c, c.p[6], (double)batch * n, "indices") : NULL;
  float *out = indices ? heapFloats(env, &c, c.p[7], (double)batch * outer * n * slice, "output") : NULL;
  if (!out) return NULL;
  const long bad = gatherSlices(batch, outer, dim, slice, n, x, (const int32_t *)indices, out);
  if (bad >= 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "native kernels: gather index %d (position %ld) is not in [0, %ld]",
             ((const int32_t *)indices)[bad], bad, dim - 1);
    napi_throw_range_error(env, NULL, msg);
  }
  return NULL;
}

/* p[0..7] = batch, inH, inW, c, outH, outW, alignCorners, halfPixelCenters. */
static ResizeShape readResizeShape(const double *p) {
  ResizeShape s = {(long)p[0], (long)p[1], (long)p[2], (long)p[3], (long)p[4], (long)p[5], p[6] != 0, p[7] != 0};
  return s;
}

/* resizeNearest(heap, [shape(8), xOff, outOff]) */
static napi_value ResizeNearest(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 10, &c)) return NULL;
  const ResizeShape s = readResizeShape(c.p);
  const float *x = heapFloats(env, &c, c.p[8], (double)s.batch * s.inH * s.inW * s.c, "x");
  float *out = x ? heapFloats(env, &c, c.p[9], (double)s.batch * s.outH * s.outW * s.c, "output") : NULL;
  if (!out) return NULL;
  resizeNearest(x, out, &s);
  return NULL;
}

/* resizeNearestGrad(heap, [shape(8), dyOff, dxOff]) */
static napi_value ResizeNearestGrad(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 10, &c)) return NULL;
  const ResizeShape s = readResizeShape(c.p);
  const float *dy = heapFloats(env, &c, c.p[8], (double)s.batch * s.outH * s.outW * s.c, "dy");
  float *dx = dy ? heapFloats(env, &c, c.p[9], (double)s.batch * s.inH * s.inW * s.c, "dx") : NULL;
  if (!dx) return NULL;
  resizeNearestGrad(dy, dx, &s);
  return NULL;
}

/* dense(heap, [rows, cin, cout, xOff, wOff, bOff (-1 = none), outOff]) */
static napi_value Dense(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 7, &c)) return NULL;
  const long rows = (long)c.p[0], cin = (long)c.p[1], cout = (long)c.p[2];
  const float *x = heapFloats(env, &c, c.p[3], (double)rows * cin, "x");
  const float *w = x ? heapFloats(env, &c, c.p[4], (double)cin * cout, "w") : NULL;
  const float *b = NULL;
  if (w && c.p[5] >= 0) {
    b = heapFloats(env, &c, c.p[5], (double)cout, "b");
    if (!b) return NULL;
  }
  float *out = w ? heapFloats(env, &c, c.p[6], (double)rows * cout, "output") : NULL;
  if (!out) return NULL;
  denseForward(x, w, b, out, rows, cin, cout);
  return NULL;
}

/* denseGrad(heap, [rows, cin, cout, dyOff, xOff, wOff, dxOff, dwOff, dbOff]): each output offset -1 = not wanted */
static napi_value DenseGrad(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 9, &c)) return NULL;
  const long rows = (long)c.p[0], cin = (long)c.p[1], cout = (long)c.p[2];
  const float *dy = heapFloats(env, &c, c.p[3], (double)rows * cout, "dy");
  const float *x = dy ? heapFloats(env, &c, c.p[4], (double)rows * cin, "x") : NULL;
  const float *w = x ? heapFloats(env, &c, c.p[5], (double)cin * cout, "w") : NULL;
  if (!w) return NULL;
  float *outs[3] = {NULL, NULL, NULL};
  const double sizes[3] = {(double)rows * cin, (double)cin * cout, (double)cout};
  const char *names[3] = {"dx", "dw", "db"};
  for (int i = 0; i < 3; i++) {
    if (c.p[6 + i] < 0) continue;
    outs[i] = heapFloats(env, &c, c.p[6 + i], sizes[i], names[i]);
    if (!outs[i]) return NULL;
  }
  denseBackward(scratchOf(env), dy, x, w, outs[0], outs[1], outs[2], rows, cin, cout);
  return NULL;
}

/* p[0..5] = batch, nq, nk, c, heads, scale; refuses heads that do not divide c. */
static int readAttentionShape(napi_env env, const double *p, AttentionShape *s) {
  AttentionShape r = {(long)p[0], (long)p[1], (long)p[2], (long)p[3], (long)p[4], (float)p[5]};
  if (r.heads < 1 || r.c % r.heads != 0 || r.nq < 1 || r.nk < 1) {
    napi_throw_range_error(env, NULL, "native kernels: attention needs Nq, Nk >= 1 and heads dividing the channels");
    return 0;
  }
  *s = r;
  return 1;
}

/* attention(heap, [shape(6), qOff, kOff, vOff, biasOff (-1 = none), outOff]) */
static napi_value Attention(napi_env env, napi_callback_info info) {
  Call c;
  AttentionShape s;
  if (!readCall(env, info, 11, &c) || !readAttentionShape(env, c.p, &s)) return NULL;
  const double nq = (double)s.batch * s.nq * s.c, nk = (double)s.batch * s.nk * s.c;
  const float *q = heapFloats(env, &c, c.p[6], nq, "q");
  const float *k = q ? heapFloats(env, &c, c.p[7], nk, "k") : NULL;
  const float *v = k ? heapFloats(env, &c, c.p[8], nk, "v") : NULL;
  const float *bias = NULL;
  if (v && c.p[9] >= 0) {
    bias = heapFloats(env, &c, c.p[9], (double)s.batch * s.nk, "bias");
    if (!bias) return NULL;
  }
  float *out = v ? heapFloats(env, &c, c.p[10], nq, "output") : NULL;
  if (!out) return NULL;
  attentionForward(scratchOf(env), q, k, v, bias, out, &s);
  return NULL;
}

/* attentionGrad(heap, [shape(6), dyOff, qOff, kOff, vOff, biasOff (-1 = none), dqOff, dkOff, dvOff, dbiasOff (-1 = none)]) */
static napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  Call c;
  AttentionShape s;
  if (!readCall(env, info, 15, &c) || !readAttentionShape(env, c.p, &s)) return NULL;
  const double nq = (double)s.batch * s.nq * s.c, nk = (double)s.batch * s.nk * s.c;
  const float *dy = heapFloats(env, &c, c.p[6], nq, "dy");
  const float *q = dy ? heapFloats(env, &c, c.p[7], nq, "q") : NULL;
  const float *k = q ? heapFloats(env, &c, c.p[8], nk, "k") : NULL;
  const float *v = k ? heapFloats(env, &c, c.p[9], nk, "v") : NULL;
  float *dq = v ? heapFloats(env, &c, c.p[11], nq, "dq") : NULL;
  float *dk = dq ? heapFloats(env, &c, c.p[12], nk, "dk") : NULL;
  float *dv = dk ? heapFloats(env, &c, c.p[13], nk, "dv") : NULL;
  if (!dv) return NULL;
  const float *bias = NULL;
  float *dbias = NULL;
  if (c.p[10] >= 0) {
    bias = heapFloats(env, &c, c.p[10], (double)s.batch * s.nk, "bias");
    if (!bias) return NULL;
  }
  if (c.p[14] >= 0) {
    dbias = heapFloats(env, &c, c.p[14], (double)s.batch * s.nk, "dbias");
    if (!dbias) return NULL;
  }
  attentionBackward(scratchOf(env), dy, q, k, v, bias, dq, dk, dv, dbias, &s);
  return NULL;
}

/* layerNorm(heap, [rows, C, eps, xOff, gammaOff, betaOff, outOff]) */
static napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 7, &c)) return NULL;
  const long rows = (long)c.p[0], C = (long)c.p[1];
  const double n = (double)rows * C;
  const float *x = heapFloats(env, &c, c.p[3], n, "x");
  const float *gamma = x ? heapFloats(env, &c, c.p[4], (double)C, "gamma") : NULL;
  const float *beta = gamma ? heapFloats(env, &c, c.p[5], (double)C, "beta") : NULL;
  float *out = beta ? heapFloats(env, &c, c.p[6], n, "output") : NULL;
  if (!out) return NULL;
  layerNormForward(x, gamma, beta, out, rows, C, (float)c.p[2]);
  return NULL;
}

/* layerNormGrad(heap, [rows, C, eps, dyOff, xOff, gammaOff, dxOff, dgammaOff, dbetaOff]) */
static napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 9, &c)) return NULL;
  const long rows = (long)c.p[0], C = (long)c.p[1];
  const double n = (double)rows * C;
  const float *dy = heapFloats(env, &c, c.p[3], n, "dy");
  const float *x = dy ? heapFloats(env, &c, c.p[4], n, "x") : NULL;
  const float *gamma = x ? heapFloats(env, &c, c.p[5], (double)C, "gamma") : NULL;
  float *dx = gamma ? heapFloats(env, &c, c.p[6], n, "dx") : NULL;
  float *dgamma = dx ? heapFloats(env, &c, c.p[7], (double)C, "dgamma") : NULL;
  float *dbeta = dgamma ? heapFloats(env, &c, c.p[8], (double)C, "dbeta") : NULL;
  if (!dbeta) return NULL;
  layerNormBackward(scratchOf(env), dy, x, gamma, dx, dgamma, dbeta, rows, C, (float)c.p[2]);
  return NULL;
}

/* p[0..5] = batch, hw, c, groups, eps, silu. */
static GroupNormShape readGroupNormShape(const double *p) {
  GroupNormShape s = {(long)p[0], (long)p[1], (long)p[2], (long)p[3], (float)p[4], p[5] != 0};
  return s;
}

/* groupNorm(heap, [shape(6), xOff, gammaOff, betaOff, outOff, statsOff, shiftOff (-1 = none)]) */
static napi_value GroupNorm(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 12, &c)) return NULL;
  const GroupNormShape s = readGroupNormShape(c.p);
  const double n = (double)s.batch * s.hw * s.c;
  const float *x = heapFloats(env, &c, c.p[6], n, "x");
  const float *gamma = x ? heapFloats(env, &c, c.p[7], (double)s.c, "gamma") : NULL;
  const float *beta = gamma ? heapFloats(env, &c, c.p[8], (double)s.c, "beta") : NULL;
  float *out = beta ? heapFloats(env, &c, c.p[9], n, "output") : NULL;
  float *stats = out ? heapFloats(env, &c, c.p[10], 2.0 * s.batch * s.groups, "stats") : NULL;
  if (!stats) return NULL;
  const float *shift = NULL;
  if (c.p[11] >= 0) {
    shift = heapFloats(env, &c, c.p[11], (double)s.batch * s.c, "shift");
    if (!shift) return NULL;
  }
  groupNormForward(x, shift, gamma, beta, out, stats, &s);
  return NULL;
}

/* groupNormGrad(heap, [shape(6), dyOff, xOff, gammaOff, betaOff, statsOff, dxOff, dgammaOff, dbetaOff, shiftOff, dshiftOff]) (-1 = no shift) */
static napi_value GroupNormGrad(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 16, &c)) return NULL;
  const GroupNormShape s = readGroupNormShape(c.p);
  const double n = (double)s.batch * s.hw * s.c;
  const float *dy = heapFloats(env, &c, c.p[6], n, "dy");
  const float *x = dy ? heapFloats(env, &c, c.p[7], n, "x") : NULL;
  const float *gamma = x ? heapFloats(env, &c, c.p[8], (double)s.c, "gamma") : NULL;
  const float *beta = gamma ? heapFloats(env, &c, c.p[9], (double)s.c, "beta") : NULL;
  const float *stats = beta ? heapFloats(env, &c, c.p[10], 2.0 * s.batch * s.groups, "stats") : NULL;
  float *dx = stats ? heapFloats(env, &c, c.p[11], n, "dx") : NULL;
  float *dgamma = dx ? heapFloats(env, &c, c.p[12], (double)s.c, "dgamma") : NULL;
  float *dbeta = dgamma ? heapFloats(env, &c, c.p[13], (double)s.c, "dbeta") : NULL;
  if (!dbeta) return NULL;
  const float *shift = NULL;
  float *dshift = NULL;
  if (c.p[14] >= 0) {
    shift = heapFloats(env, &c, c.p[14], (double)s.batch * s.c, "shift");
    dshift = shift ? heapFloats(env, &c, c.p[15], (double)s.batch * s.c, "dshift") : NULL;
    if (!dshift) return NULL;
  }
  groupNormBackward(dy, x, shift, gamma, beta, stats, dx, dgamma, dbeta, dshift, &s);
  return NULL;
}

/* ---- the optimizer: typed arrays (shared or not) and a parameter block ---- */

/* The data of a typed array of the given type with at least `need` elements, or NULL (and a thrown error). */
static void *typedData(napi_env env, napi_value value, napi_typedarray_type want, double need, const char *what) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok || type != want) {
    char msg[120];
    snprintf(msg, sizeof msg, "native kernels: %s must be a %s", what, want == napi_uint8_array ? "Uint8Array" : "Float32Array");
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  if (need > (double)length) {
    char msg[160];
    snprintf(msg, sizeof msg, "native kernels: %s has %zu elements, the range needs %.0f", what, length, need);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  return data;
}

/* The Float64Array parameter block at argv[i] with at least `want` entries, or NULL. */
static const double *paramBlock(napi_env env, napi_value value, size_t want) {
  napi_typedarray_type type;
  size_t count = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, &count, &data, NULL, NULL) != napi_ok || type != napi_float64_array ||
      count < want) {
    napi_throw_type_error(env, NULL, "native kernels: the parameters must be a Float64Array");
    return NULL;
  }
  return (const double *)data;
}

/* adamW(w, m, v, decay, g, [a, b, lr, beta1, beta2, epsilon, gradScale, c1, c2, keep]) */
static napi_value AdamW(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) {
    napi_throw_type_error(env, NULL, "native kernels: adamW(w, m, v, decay, g, params)");
    return NULL;
  }
  const double *p = paramBlock(env, argv[5], 10);
  if (!p) return NULL;
  const long a = (long)p[0], b = (long)p[1];
  if (a < 0 || b < a) {
    napi_throw_range_error(env, NULL, "native kernels: adamW range [a, b) is empty or negative");
    return NULL;
  }
  float *w = typedData(env, argv[0], napi_float32_array, b, "w");
  float *m = w ? typedData(env, argv[1], napi_float32_array, b, "m") : NULL;
  float *v = m ? typedData(env, argv[2], napi_float32_array, b, "v") : NULL;
  const uint8_t *decay = v ? typedData(env, argv[3], napi_uint8_array, b, "decay") : NULL;
  const float *g = decay ? typedData(env, argv[4], napi_float32_array, b, "g") : NULL;
  if (!g) return NULL;
  const AdamWHyper h = {p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]};
  adamWRange(w, m, v, decay, g, a, b, &h);
  return NULL;
}

/* ema(ema, w, [a, b, d]) */
static napi_value Ema(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) {
    napi_throw_type_error(env, NULL, "native kernels: ema(ema, w, params)");
    return NULL;
  }
  const double *p = paramBlock(env, argv[2], 3);
  if (!p) return NULL;
  const long a = (long)p[0], b = (long)p[1];
  if (a < 0 || b < a) {
    napi_throw_range_error(env, NULL, "native kernels: ema range [a, b) is empty or negative");
    return NULL;
  }
  float *ema = typedData(env, argv[0], napi_float32_array, b, "ema");
  const float *w = ema ? typedData(env, argv[1], napi_float32_array, b, "w") : NULL;
  if (!w) return NULL;
  emaRange(ema, w, a, b, p[2]);
  return NULL;
}

/* sumRange(parts: Float32Array[], [a, b]) -> the sum of squares of parts[0] over [a, b) after adding the rest in. */
static napi_value SumRange(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t count = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_array_length(env, argv[0], &count) != napi_ok || count == 0 || count > 64) {
    napi_throw_type_error(env, NULL, "native kernels: sumRange(parts: 1-64 Float32Arrays, params)");
    return NULL;
  }
  const double *p = paramBlock(env, argv[1], 2);
  if (!p) return NULL;
  const long a = (long)p[0], b = (long)p[1];
  if (a < 0 || b < a) {
    napi_throw_range_error(env, NULL, "native kernels: sumRange range [a, b) is empty or negative");
    return NULL;
  }
  float *parts[64];
  for (uint32_t k = 0; k < count; k++) {
    napi_value part;
    if (napi_get_element(env, argv[0], k, &part) != napi_ok) return NULL;
    parts[k] = typedData(env, part, napi_float32_array, b, "a part");
    if (!parts[k]) return NULL;
  }
  napi_value out;
  CHECK(napi_create_double(env, sumRange(parts, count, a, b), &out));
  return out;
}

/* describe() -> "<OpenBLAS's build config>; core <the kernel set it picked for this CPU>", for reports. */
static napi_value Describe(napi_env env, napi_callback_info info) {
  (void)info;
  char text[256];
  snprintf(text, sizeof text, "%s; core %s", openblas_get_config(), openblas_get_corename());
  napi_value out;
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out));
  return out;
}

NAPI_MODULE_INIT() {
  openblas_set_num_threads(1);
  Scratch *scratch = (Scratch *)calloc(1, sizeof(Scratch));
  if (scratch == NULL || napi_set_instance_data(env, scratch, freeScratch, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "native kernels: cannot allocate the addon's instance data");
    return NULL;
  }
  const napi_property_descriptor fns[] = {
      {"conv2d", NULL, Conv2d, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dBackpropInput", NULL, Conv2dBackpropInput, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dBackpropFilter", NULL, Conv2dBackpropFilter, NULL, NULL, NULL, napi_default, NULL},
      {"batchMatMul", NULL, BatchMatMul, NULL, NULL, NULL, napi_default, NULL},
      {"concatRows", NULL, ConcatRows, NULL, NULL, NULL, napi_default, NULL},
      {"splitRows", NULL, SplitRows, NULL, NULL, NULL, napi_default, NULL},
      {"gatherSlices", NULL, GatherSlices, NULL, NULL, NULL, napi_default, NULL},
      {"resizeNearest", NULL, ResizeNearest, NULL, NULL, NULL, napi_default, NULL},
      {"resizeNearestGrad", NULL, ResizeNearestGrad, NULL, NULL, NULL, napi_default, NULL},
      {"sumMiddleAxes", NULL, SumMiddleAxes, NULL, NULL, NULL, napi_default, NULL},
      {"dense", NULL, Dense, NULL, NULL, NULL, napi_default, NULL},
      {"denseGrad", NULL, DenseGrad, NULL, NULL, NULL, napi_default, NULL},
      {"attention", NULL, Attention, NULL, NULL, NULL, napi_default, NULL},
      {"attentionGrad", NULL, AttentionGrad, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, LayerNorm, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormGrad", NULL, LayerNormGrad, NULL, NULL, NULL, napi_default, NULL},
      {"groupNorm", NULL, GroupNorm, NULL, NULL, NULL, napi_default, NULL},
      {"groupNormGrad", NULL, GroupNormGrad, NULL, NULL, NULL, napi_default, NULL},
      {"adamW", NULL, AdamW, NULL, NULL, NULL, napi_default, NULL},
      {"ema", NULL, Ema, NULL, NULL, NULL, napi_default, NULL},
      {"sumRange", NULL, SumRange, NULL, NULL, NULL, napi_default, NULL},
      {"describe", NULL, Describe, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));
  napi_value version;
  CHECK(napi_create_int32(env, ADDON_VERSION, &version));
  CHECK(napi_set_named_property(env, exports, "version", version));
  return exports;
}
