/*
 * Multi-head scaled dot-product attention on [B, N, C] tensors whose C channels are `heads`
 * heads of d = C / heads contiguous channels, and its gradient. Each (image, head) is three
 * small sgemm calls that read and write the head's channels in place (row stride C), so the
 * heads are never transposed out and back as the composed tfjs version does (a reshape, a
 * transpose and a reshape for each of q, k, v and the output, forward and backward, with a
 * softmax and its gradient in several more kernels). The backward pass recomputes the softmax
 * weights from q and k rather than keeping them: that costs one small sgemm per head, where
 * keeping them would cost a tensor of [B, heads, Nq, Nk] per call alive until the backward.
 *
 *   S = scale · Qh Khᵀ + bias[b]      P = softmax over keys of S      Oh = P Vh
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

/* Sums and maxima over 8 lanes, so the compiler vectorises them (a single accumulator is a chain of dependent adds). */
static inline float laneSum(const float *x, long n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int l = 0; l < 8; l++) acc[l] += x[j + l];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < n; j++) sum += x[j];
  return sum;
}

static inline float laneDot(const float *x, const float *y, long n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int l = 0; l < 8; l++) acc[l] += x[j + l] * y[j + l];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < n; j++) sum += x[j] * y[j];
  return sum;
}

static inline float laneMax(const float *x, long n) {
  float acc[8];
  long j = 0;
  for (int l = 0; l < 8; l++) acc[l] = x[0];
  for (; j + 8 <= n; j += 8) {
    for (int l = 0; l < 8; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
  }
  float m = acc[0];
  for (int l = 1; l < 8; l++) m = acc[l] > m ? acc[l] : m;
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

/* P [Nq, Nk] = softmax over rows of scale · Qh Khᵀ + bias, for head h of image b (exp: expApprox, kernels.h). */
VECTOR_CLONES static void attentionWeights(const float *q, const float *k, const float *bias, float *P, long b, long h,
                                           const AttentionShape *s) {
  const long C = s->c, d = C / s->heads, Nq = s->nq, Nk = s->nk;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Nq, Nk, d, s->scale, q + b * Nq * C + h * d, C,
              k + b * Nk * C + h * d, C, 0.0f, P, Nk);
  for (long i = 0; i < Nq; i++) {
    float *row = P + i * Nk;
    if (bias != NULL) {
      const float *bb = bias + b * Nk;
      for (long j = 0; j < Nk; j++) row[j] += bb[j];
    }
    const float m = laneMax(row, Nk);
    for (long j = 0; j < Nk; j++) row[j] = expApprox(row[j] - m);
    const float inv = 1.0f / laneSum(row, Nk);
    for (long j = 0; j < Nk; j++) row[j] *= inv;
  }
}

void attentionForward(Scratch *scratch, const float *q, const float *k, const float *v, const float *bias, float *out,
                      const AttentionShape *s) {
  const long C = s->c, d = C / s->heads, Nq = s->nq, Nk = s->nk;
  float *P = scratchFloats(scratch, (size_t)Nq * Nk);
  for (long b = 0; b < s->batch; b++) {
    for (long h = 0; h < s->heads; h++) {
      attentionWeights(q, k, bias, P, b, h, s);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Nq, d, Nk, 1.0f, P, Nk, v + b * Nk * C + h * d, C, 0.0f,
                  out + b * Nq * C + h * d, C);
    }
  }
}

/* dS = P ⊙ (dS - rowsum(P ⊙ dS)) in place, each row; the rows added into dbias when it is not NULL. */
VECTOR_CLONES static void softmaxGrad(const float *P, float *dS, float *dbias, long Nq, long Nk) {
  for (long i = 0; i < Nq; i++) {
    const float *p = P + i * Nk;
    float *g = dS + i * Nk;
    const float dot = laneDot(p, g, Nk);
    for (long j = 0; j < Nk; j++) g[j] = p[j] * (g[j] - dot);
    if (dbias != NULL) {
      for (long j = 0; j < Nk; j++) dbias[j] += g[j];
    }
  }
}

/*
 * dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP - rowsum(P ⊙ dP)) (the softmax's gradient), dQ = scale · dS K,
 * dK = scale · dSᵀ Q, and dbias[b] = the sum of dS over heads and queries (when dbias is not NULL).
 */
void attentionBackward(Scratch *scratch, const float *dy, const float *q, const float *k, const float *v,
                       const float *bias, float *dq, float *dk, float *dv, float *dbias, const AttentionShape *s) {
  const long C = s->c, d = C / s->heads, Nq = s->nq, Nk = s->nk;
  float *P = scratchFloats(scratch, 2 * (size_t)Nq * Nk);
  float *dS = P + Nq * Nk;
  if (dbias != NULL) memset(dbias, 0, (size_t)s->batch * Nk * sizeof(float));
  for (long b = 0; b < s->batch; b++) {
    for (long h = 0; h < s->heads; h++) {
      const long qo = b * Nq * C + h * d, ko = b * Nk * C + h * d;
      attentionWeights(q, k, bias, P, b, h, s);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Nk, d, Nq, 1.0f, P, Nk, dy + qo, C, 0.0f, dv + ko, C);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Nq, Nk, d, 1.0f, dy + qo, C, v + ko, C, 0.0f, dS, Nk);
      softmaxGrad(P, dS, dbias == NULL ? NULL : dbias + b * Nk, Nq, Nk);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Nq, d, Nk, s->scale, dS, Nk, k + ko, C, 0.0f, dq + qo, C);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Nk, d, Nq, s->scale, dS, Nk, q + qo, C, 0.0f, dk + ko, C);
    }
  }
}
