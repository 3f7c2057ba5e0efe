/*
 * The native kernels behind src/kernels/nativeAddon.ts: what each C file computes, on plain
 * float pointers. addon.c turns JavaScript calls into these calls.
 */
#ifndef SELFDPO_KERNELS_H
#define SELFDPO_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Elementwise kernels are also compiled for AVX2 + FMA (x86-64-v3), chosen when the library
 * loads on a CPU that has them: the baseline build is SSE2, 4 floats per instruction, and
 * a SiLU loop over 1M floats ran 3.4x faster this way in a micro-benchmark (3.2 -> 0.94 ms). (Where ifunc is missing, one baseline copy.)
 * Not for optimizer.c: fused multiply-adds would break its bit-for-bit match with the JS loops.
 */
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/*
 * exp(x) in a form the compiler vectorises (libm's expf is a call per element, which was most
 * of the group norm kernels' time, and of the attention softmax's): x = n·ln2 + r with |r| <= ln2/2, exp(r) by its
 * degree-6 Taylor polynomial (relative error below 2e-7 on that interval), times 2^n built
 * in the exponent bits. Rounding to the nearest integer adds and subtracts 1.5·2^23 (exact in
 * float), and ln2 is split in two so r keeps its low bits. Inputs are clamped to [-87, 88],
 * where expf is finite and normal: enough for a sigmoid or a softmax (whose arguments are <= 0).
 */
static inline float expApprox(float x) {
  const float round = 12582912.0f; /* 1.5 * 2^23 */
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float n = (x * 1.44269504f + round) - round;
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  union {
    int32_t i;
    float f;
  } scale;
  scale.i = ((int32_t)n + 127) << 23;
  return p * scale.f;
}

/* A growable scratch buffer, one per addon instance (one per thread). */
typedef struct {
  float *data;
  size_t capacity;
} Scratch;

/* Scratch of at least n floats (aborts when out of memory). */
float *scratchFloats(Scratch *s, size_t n);

/* ---- convolution.c: NHWC convolutions with HWIO filters, and batched matmuls, via sgemm ---- */

typedef struct {
  long n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, padTop, padLeft;
} ConvGeometry;

/* out[N,OH,OW,Co] = conv(x, filter) (+ bias per channel when bias is not NULL). */
void conv2d(Scratch *s, const float *x, const float *filter, const float *bias, float *out, const ConvGeometry *g);
/* dx[N,H,W,Ci] from dy[N,OH,OW,Co]. */
void conv2dBackpropInput(Scratch *s, const float *dy, const float *filter, float *dx, const ConvGeometry *g);
/* dfilter[KH,KW,Ci,Co] from x and dy. */
void conv2dBackpropFilter(Scratch *s, const float *x, const float *dy, float *dfilter, const ConvGeometry *g);
/* out[i] = op(a[i]) * op(b[i]) for i < batch; a stride of 0 broadcasts that operand. */
void batchMatMul(long batch, long M, long N, long K, int transposeA, int transposeB, const float *a, long aStride,
                 const float *b, long bStride, float *out);

/* ---- groupNorm.c: group norm over NHWC (+ SiLU) and its gradient ---- */

typedef struct {
  long batch, hw, c, groups;
  float eps;
  int silu;
} GroupNormShape;

/* out = silu?(norm(x + shift[b]) * gamma + beta) (shift [B, C] or NULL); stats[b, g] = (mean, 1/sqrt(var + eps)). */
void groupNormForward(const float *x, const float *shift, const float *gamma, const float *beta, float *out,
                      float *stats, const GroupNormShape *s);
/* dx, dgamma, dbeta (and dshift [B, C] when not NULL) from dy and the forward's inputs and stats. */
void groupNormBackward(const float *dy, const float *x, const float *shift, const float *gamma, const float *beta,
                       const float *stats, float *dx, float *dgamma, float *dbeta, float *dshift,
                       const GroupNormShape *s);

/* ---- reduce.c: sums over a block of axes ---- */

/* x viewed as [outer, reduce, inner]: out[o, i] = sum over r of x[o, r, i]. */
void sumMiddleAxes(Scratch *s, const float *x, float *out, long outer, long reduce, long inner);

/* ---- concat.c: concatenation along an axis ---- */

/* Input i viewed as [outer, inner[i]]; out is [outer, sum of inner]. */
void concatRows(long outer, long count, const float *const *inputs, const long *inner, float *out);

/* ---- optimizer.c: src/train/flatAdamW.ts's loops, bit for bit ---- */

/* c1 = 1 - beta1^step, c2 = 1 - beta2^step, keep = 1 - lr * weightDecay: computed by the caller. */
typedef struct {
  double lr, beta1, beta2, epsilon, gradScale, c1, c2, keep;
} AdamWHyper;

void adamWRange(float *w, float *m, float *v, const uint8_t *decay, const float *g, long a, long b,
                const AdamWHyper *h);
/* ema = d * ema + (1 - d) * w over [a, b). */
void emaRange(float *ema, const float *w, long a, long b, double d);
/* parts[0][i] += parts[1..][i] over [a, b); returns the sum of squares of the result. */
double sumRange(float *const *parts, long count, long a, long b);

/* ---- split.c: splitting along an axis ---- */

/* x viewed as [outer, sum of inner]; output i is [outer, inner[i]] (a NULL output is skipped). */
void splitRows(long outer, long count, const float *x, const long *inner, float *const *outputs);

/* ---- gather.c: tf.gather ---- */

/* x [batch, outer, dim, slice], indices [batch, n] -> out [batch, outer, n, slice], 4-byte elements.
 * Returns -1, or the position of the first index outside [0, dim) (then nothing is written). */
long gatherSlices(long batch, long outer, long dim, long slice, long n, const float *x, const int32_t *indices,
                  float *out);

/* ---- resize.c: nearest-neighbour resizing of NHWC images ---- */

typedef struct {
  long batch, inH, inW, c, outH, outW;
  int alignCorners, halfPixelCenters;
} ResizeShape;

/* out [batch, outH, outW, c] from x [batch, inH, inW, c]. */
void resizeNearest(const float *x, float *out, const ResizeShape *s);
/* dx [batch, inH, inW, c] from dy [batch, outH, outW, c] (halfPixelCenters ignored, as tfjs's backends do). */
void resizeNearestGrad(const float *dy, float *dx, const ResizeShape *s);

/* ---- dense.c: a dense layer over the last axis and its gradient ---- */

/* out[rows, cout] = x[rows, cin] · w[cin, cout] (+ b[cout] when b is not NULL). */
void denseForward(const float *x, const float *w, const float *b, float *out, long rows, long cin, long cout);
/* dx = dy · wᵀ, dw = xᵀ · dy, db = the column sums of dy: each one whose pointer is not NULL. */
void denseBackward(Scratch *s, const float *dy, const float *x, const float *w, float *dx, float *dw, float *db,
                   long rows, long cin, long cout);

/* ---- attention.c: multi-head scaled dot-product attention and its gradient ---- */

typedef struct {
  long batch, nq, nk, c, heads;
  float scale;
} AttentionShape;

/* out [B, Nq, C] from q [B, Nq, C], k and v [B, Nk, C] and an optional logit bias [B, Nk] per key. */
void attentionForward(Scratch *scratch, const float *q, const float *k, const float *v, const float *bias, float *out,
                      const AttentionShape *s);
/* dq, dk, dv (and dbias [B, Nk] when not NULL) from dy [B, Nq, C] and the forward's inputs. */
void attentionBackward(Scratch *scratch, const float *dy, const float *q, const float *k, const float *v,
                       const float *bias, float *dq, float *dk, float *dv, float *dbias, const AttentionShape *s);

/* ---- layerNorm.c: layer normalisation over the last axis and its gradient ---- */

/* out [rows, C] = (x - mean) / sqrt(var + eps) · gamma + beta, per row. */
void layerNormForward(const float *x, const float *gamma, const float *beta, float *out, long rows, long C, float eps);
/* dx [rows, C], dgamma and dbeta [C] from dy and the forward's x and gamma. */
void layerNormBackward(Scratch *s, const float *dy, const float *x, const float *gamma, float *dx, float *dgamma,
                       float *dbeta, long rows, long C, float eps);

#endif
