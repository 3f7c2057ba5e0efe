/*
 * The heavy kernels of the tfjs wasm backend (convolutions, their two gradients and the
 * batched matmul) computed natively with OpenBLAS's sgemm, directly on the wasm heap: the
 * wasm backend keeps every tensor in one ArrayBuffer, so a kernel here receives that buffer
 * and the byte offsets of its inputs and output, and nothing is copied in or out.
 *
 * A convolution is im2col + one sgemm per chunk of output pixels (NHWC rows, filter HWIO =
 * a [KH*KW*Ci, Co] matrix); its input gradient is sgemm + col2im, its filter gradient
 * im2col + a transposed sgemm. The chunks bound the scratch memory and keep each chunk's
 * columns in cache between the copy and the product.
 *
 * Every call runs on the calling thread only (OpenBLAS is set to one thread): the kit
 * parallelises over worker threads itself, one per core, and each loads this addon.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Raised whenever a function's parameters change: blasAddon.ts refuses an addon built from older source. */
#define ADDON_VERSION 2

/* Scratch floats per chunk of im2col columns (1 MiB): measured best among 256 KiB-8 MiB. */
#define CHUNK_FLOATS (1L << 18)

/* Per addon instance (one per worker thread): a scratch buffer reused across calls. */
typedef struct {
  float *scratch;
  size_t capacity;
} Instance;

static void freeInstance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Instance *inst = (Instance *)data;
  free(inst->scratch);
  free(inst);
}

static float *scratchFloats(Instance *inst, size_t n) {
  if (n > inst->capacity) {
    free(inst->scratch);
    inst->scratch = (float *)malloc(n * sizeof(float));
    inst->capacity = inst->scratch == NULL ? 0 : n;
  }
  return inst->scratch;
}

/* The geometry of an NHWC convolution with an HWIO filter. */
typedef struct {
  long n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, padTop, padLeft;
} ConvGeometry;

/* A 1x1 convolution of stride 1 without padding is a plain product of x's rows. */
static int isPointwise(const ConvGeometry *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->padTop == 0 && g->padLeft == 0 &&
         g->oh == g->h && g->ow == g->w;
}

/* Rows [r0, r1) of the im2col matrix: one row per output pixel, KH*KW*Ci columns. */
static void im2col(const float *x, const ConvGeometry *g, long r0, long r1, float *col) {
  const long ci = g->ci;
  for (long r = r0; r < r1; r++) {
    const long ox = r % g->ow;
    const long oy = (r / g->ow) % g->oh;
    const long b = r / (g->ow * g->oh);
    float *dst = col + (r - r0) * g->kh * g->kw * ci;
    for (long ky = 0; ky < g->kh; ky++) {
      const long iy = oy * g->sh + ky * g->dh - g->padTop;
      for (long kx = 0; kx < g->kw; kx++, dst += ci) {
        const long ix = ox * g->sw + kx * g->dw - g->padLeft;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) {
          memset(dst, 0, ci * sizeof(float));
        } else {
          memcpy(dst, x + ((b * g->h + iy) * g->w + ix) * ci, ci * sizeof(float));
        }
      }
    }
  }
}

/* Adds rows [r0, r1) of an im2col-shaped gradient back onto the input pixels they came from. */
static void col2imAdd(const float *col, const ConvGeometry *g, long r0, long r1, float *dx) {
  const long ci = g->ci;
  for (long r = r0; r < r1; r++) {
    const long ox = r % g->ow;
    const long oy = (r / g->ow) % g->oh;
    const long b = r / (g->ow * g->oh);
    const float *src = col + (r - r0) * g->kh * g->kw * ci;
    for (long ky = 0; ky < g->kh; ky++) {
      const long iy = oy * g->sh + ky * g->dh - g->padTop;
      for (long kx = 0; kx < g->kw; kx++, src += ci) {
        const long ix = ox * g->sw + kx * g->dw - g->padLeft;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
        float *d = dx + ((b * g->h + iy) * g->w + ix) * ci;
        for (long c = 0; c < ci; c++) d[c] += src[c];
      }
    }
  }
}

static long chunkRows(long k) {
  const long rows = CHUNK_FLOATS / (k > 0 ? k : 1);
  return rows < 16 ? 16 : rows;
}

/* out[M, Co] = im2col(x) * filter (+ bias on every row). */
static void conv2d(Instance *inst, const float *x, const float *filter, const float *bias, float *out,
                   const ConvGeometry *g) {
  const long M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->ci, N = g->co;
  float beta = 0.0f;
  if (bias != NULL) {
    for (long r = 0; r < M; r++) memcpy(out + r * N, bias, N * sizeof(float));
    beta = 1.0f;
  }
  if (isPointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, x, K, filter, N, beta, out, N);
    return;
  }
  const long step = chunkRows(K);
  float *col = scratchFloats(inst, (size_t)step * K);
  for (long r0 = 0; r0 < M; r0 += step) {
    const long r1 = r0 + step < M ? r0 + step : M;
    im2col(x, g, r0, r1, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, N, K, 1.0f, col, K, filter, N, beta,
                out + r0 * N, N);
  }
}

/* dx = col2im(dy * filterᵀ). */
static void conv2dBackpropInput(Instance *inst, const float *dy, const float *filter, float *dx,
                                const ConvGeometry *g) {
  const long M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->ci, N = g->co;
  if (isPointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, dy, N, filter, N, 0.0f, dx, K);
    return;
  }
  memset(dx, 0, (size_t)g->n * g->h * g->w * g->ci * sizeof(float));
  const long step = chunkRows(K);
  float *col = scratchFloats(inst, (size_t)step * K);
  for (long r0 = 0; r0 < M; r0 += step) {
    const long r1 = r0 + step < M ? r0 + step : M;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, K, N, 1.0f, dy + r0 * N, N, filter, N, 0.0f,
                col, K);
    col2imAdd(col, g, r0, r1, dx);
  }
}

/* dfilter[K, Co] = im2col(x)ᵀ * dy. */
static void conv2dBackpropFilter(Instance *inst, const float *x, const float *dy, float *dfilter,
                                 const ConvGeometry *g) {
  const long M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->ci, N = g->co;
  if (isPointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f, x, K, dy, N, 0.0f, dfilter, N);
    return;
  }
  if (M == 0) {
    memset(dfilter, 0, (size_t)K * N * sizeof(float));
    return;
  }
  const long step = chunkRows(K);
  float *col = scratchFloats(inst, (size_t)step * K);
  for (long r0 = 0; r0 < M; r0 += step) {
    const long r1 = r0 + step < M ? r0 + step : M;
    im2col(x, g, r0, r1, col);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, r1 - r0, 1.0f, col, K, dy + r0 * N, N,
                r0 == 0 ? 0.0f : 1.0f, dfilter, N);
  }
}

/*
 * Group normalisation over NHWC [B, HW, C] in G groups of C/G contiguous channels, with a
 * per-channel scale and shift, optionally followed by SiLU (x * sigmoid(x)): the UNet's
 * norm-then-activation in one pass. stats[b, g] = (mean, 1/sqrt(var + eps)) is written for
 * the backward pass.
 */
typedef struct {
  long batch, hw, c, groups;
  float eps;
  int silu;
} GroupNormShape;

/*
 * Both passes walk the pixels with the channels innermost and keep per-channel sums, so
 * every inner loop is elementwise over contiguous channels (the compiler vectorises it);
 * per-group statistics are then combined from the channels' sums in double.
 */
static void groupNormForward(const float *x, const float *gamma, const float *beta, float *out, float *stats,
                             const GroupNormShape *s) {
  const long C = s->c, cg = C / s->groups, hw = s->hw;
  const double n = (double)hw * cg;
  float *buf = (float *)malloc(4 * C * sizeof(float));
  /* per channel: sums of x and of squared deviations, then the scale a and shift b that apply the norm */
  float *sum = buf, *sumSq = buf + C, *a = buf + 2 * C, *b = buf + 3 * C;
  for (long img = 0; img < s->batch; img++) {
    const float *xb = x + img * hw * C;
    float *ob = out + img * hw * C;
    /* Two passes (the mean, then squared deviations from it): E[x^2] - mean^2 would cancel badly. */
    memset(sum, 0, 2 * C * sizeof(float));
    for (long p = 0; p < hw; p++) {
      const float *v = xb + p * C;
      for (long c = 0; c < C; c++) sum[c] += v[c];
    }
    for (long g = 0; g < s->groups; g++) {
      double gs = 0;
      for (long c = g * cg; c < (g + 1) * cg; c++) gs += sum[c];
      for (long c = g * cg; c < (g + 1) * cg; c++) a[c] = (float)(gs / n); /* the group's mean, per channel */
    }
    for (long p = 0; p < hw; p++) {
      const float *v = xb + p * C;
      for (long c = 0; c < C; c++) sumSq[c] += (v[c] - a[c]) * (v[c] - a[c]);
    }
    for (long g = 0; g < s->groups; g++) {
      double gss = 0;
      for (long c = g * cg; c < (g + 1) * cg; c++) gss += sumSq[c];
      const float mean = a[g * cg];
      const float inv = (float)(1.0 / sqrt(gss / n + s->eps));
      stats[(img * s->groups + g) * 2] = mean;
      stats[(img * s->groups + g) * 2 + 1] = inv;
      for (long c = g * cg; c < (g + 1) * cg; c++) {
        a[c] = inv * gamma[c];
        b[c] = beta[c] - mean * a[c];
      }
    }
    for (long p = 0; p < hw; p++) {
      const float *v = xb + p * C;
      float *o = ob + p * C;
      for (long c = 0; c < C; c++) o[c] = v[c] * a[c] + b[c];
      if (s->silu) {
        for (long c = 0; c < C; c++) o[c] = o[c] / (1.0f + expf(-o[c]));
      }
    }
  }
  free(buf);
}

/* dx, dgamma and dbeta of groupNormForward from dy, x, gamma, beta and its stats. */
static void groupNormBackward(const float *dy, const float *x, const float *gamma, const float *beta,
                              const float *stats, float *dx, float *dgamma, float *dbeta, const GroupNormShape *s) {
  const long C = s->c, cg = C / s->groups, hw = s->hw;
  const double n = (double)hw * cg;
  float *buf = (float *)malloc(6 * C * sizeof(float));
  /* per channel: mean and 1/std of its group, sums of dxhat and dxhat*xhat, then the group's means of those */
  float *mean = buf, *inv = buf + C, *sumD = buf + 2 * C, *sumDX = buf + 3 * C, *meanD = buf + 4 * C,
        *meanDX = buf + 5 * C;
  memset(dgamma, 0, C * sizeof(float));
  memset(dbeta, 0, C * sizeof(float));
  for (long img = 0; img < s->batch; img++) {
    const long base = img * hw * C;
    for (long c = 0; c < C; c++) {
      mean[c] = stats[(img * s->groups + c / cg) * 2];
      inv[c] = stats[(img * s->groups + c / cg) * 2 + 1];
    }
    memset(sumD, 0, 2 * C * sizeof(float));
    for (long p = 0; p < hw; p++) {
      const float *xv = x + base + p * C, *dyv = dy + base + p * C;
      float *d = dx + base + p * C; /* dxhat for now, finished below once the group's sums are known */
      for (long c = 0; c < C; c++) {
        const float xhat = (xv[c] - mean[c]) * inv[c];
        float dz = dyv[c];
        if (s->silu) {
          const float z = xhat * gamma[c] + beta[c];
          const float sig = 1.0f / (1.0f + expf(-z));
          dz *= sig * (1.0f + z * (1.0f - sig));
        }
        dgamma[c] += dz * xhat;
        dbeta[c] += dz;
        const float dxhat = dz * gamma[c];
        sumD[c] += dxhat;
        sumDX[c] += dxhat * xhat;
        d[c] = dxhat;
      }
    }
    for (long g = 0; g < s->groups; g++) {
      double gd = 0, gdx = 0;
      for (long c = g * cg; c < (g + 1) * cg; c++) {
        gd += sumD[c];
        gdx += sumDX[c];
      }
      for (long c = g * cg; c < (g + 1) * cg; c++) {
        meanD[c] = (float)(gd / n);
        meanDX[c] = (float)(gdx / n);
      }
    }
    for (long p = 0; p < hw; p++) {
      const float *xv = x + base + p * C;
      float *d = dx + base + p * C;
      for (long c = 0; c < C; c++) {
        const float xhat = (xv[c] - mean[c]) * inv[c];
        d[c] = inv[c] * (d[c] - meanD[c] - xhat * meanDX[c]);
      }
    }
  }
  free(buf);
}

/* ---- N-API glue -------------------------------------------------------------------------- */

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "blasKernels: N-API call failed: " #call); \
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
    napi_throw_type_error(env, NULL, "blasKernels: expected (heap: ArrayBuffer, params: Float64Array)");
    return 0;
  }
  void *heap = NULL;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &call->heapBytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "blasKernels: the first argument must be the wasm heap's ArrayBuffer");
    return 0;
  }
  call->heap = (uint8_t *)heap;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &call->count, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || call->count < wantParams) {
    napi_throw_type_error(env, NULL, "blasKernels: the second argument must be a Float64Array of parameters");
    return 0;
  }
  call->p = (const double *)data;
  return 1;
}

/* A float pointer into the heap, or NULL (and a thrown error) when [offset, +floats) is outside it. */
static float *heapFloats(napi_env env, const Call *call, double offset, double floats, const char *what) {
  if (offset < 0 || floats < 0 || offset + 4.0 * floats > (double)call->heapBytes || ((int64_t)offset & 3) != 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "blasKernels: %s (byte offset %.0f, %.0f floats) is outside the wasm heap of %zu bytes",
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

static Instance *instanceOf(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return (Instance *)data;
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
  conv2d(instanceOf(env), x, f, bias, out, &g);
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
  conv2dBackpropInput(instanceOf(env), dy, f, dx, &g);
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
  conv2dBackpropFilter(instanceOf(env), x, dy, df, &g);
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
  for (long i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f,
                a + i * aStride, ta ? M : K, b + i * bStride, tb ? K : N, 0.0f, out + i * M * N, N);
  }
  return NULL;
}

/* p[0..5] = batch, hw, c, groups, eps, silu. */
static GroupNormShape readGroupNormShape(const double *p) {
  GroupNormShape s = {(long)p[0], (long)p[1], (long)p[2], (long)p[3], (float)p[4], p[5] != 0};
  return s;
}

/* groupNorm(heap, [shape(6), xOff, gammaOff, betaOff, outOff, statsOff]) */
static napi_value GroupNorm(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 11, &c)) return NULL;
  const GroupNormShape s = readGroupNormShape(c.p);
  const double n = (double)s.batch * s.hw * s.c;
  const float *x = heapFloats(env, &c, c.p[6], n, "x");
  const float *gamma = x ? heapFloats(env, &c, c.p[7], (double)s.c, "gamma") : NULL;
  const float *beta = gamma ? heapFloats(env, &c, c.p[8], (double)s.c, "beta") : NULL;
  float *out = beta ? heapFloats(env, &c, c.p[9], n, "output") : NULL;
  float *stats = out ? heapFloats(env, &c, c.p[10], 2.0 * s.batch * s.groups, "stats") : NULL;
  if (!stats) return NULL;
  groupNormForward(x, gamma, beta, out, stats, &s);
  return NULL;
}

/* groupNormGrad(heap, [shape(6), dyOff, xOff, gammaOff, betaOff, statsOff, dxOff, dgammaOff, dbetaOff]) */
static napi_value GroupNormGrad(napi_env env, napi_callback_info info) {
  Call c;
  if (!readCall(env, info, 14, &c)) return NULL;
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
  groupNormBackward(dy, x, gamma, beta, stats, dx, dgamma, dbeta, &s);
  return NULL;
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
  Instance *inst = (Instance *)calloc(1, sizeof(Instance));
  if (inst == NULL || napi_set_instance_data(env, inst, freeInstance, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "blasKernels: cannot allocate the addon's instance data");
    return NULL;
  }
  const napi_property_descriptor fns[] = {
      {"conv2d", NULL, Conv2d, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dBackpropInput", NULL, Conv2dBackpropInput, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dBackpropFilter", NULL, Conv2dBackpropFilter, NULL, NULL, NULL, napi_default, NULL},
      {"batchMatMul", NULL, BatchMatMul, NULL, NULL, NULL, napi_default, NULL},
      {"groupNorm", NULL, GroupNorm, NULL, NULL, NULL, napi_default, NULL},
      {"groupNormGrad", NULL, GroupNormGrad, NULL, NULL, NULL, napi_default, NULL},
      {"describe", NULL, Describe, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));
  napi_value version;
  CHECK(napi_create_int32(env, ADDON_VERSION, &version));
  CHECK(napi_set_named_property(env, exports, "version", version));
  return exports;
}
