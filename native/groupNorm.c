/*
 * Group normalisation over NHWC [B, HW, C] in G groups of C/G contiguous channels, with a
 * per-channel scale and shift, optionally followed by SiLU (x * sigmoid(x)): the UNet's
 * norm-then-activation in one pass forward and one backward, in place of about 110 tfjs
 * kernels. stats[b, g] = (mean, 1/sqrt(var + eps)) is written for the backward pass. An
 * optional shift [B, C] is added to x first (the res block's timestep embedding, which the UNet
 * adds to every pixel just before its second norm): one broadcast add fewer each way.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/*
 * Both passes walk the pixels with the channels innermost and keep per-channel sums, so
 * every inner loop is elementwise over contiguous channels (the compiler vectorises it);
 * per-group statistics are then combined from the channels' sums in double.
 */
VECTOR_CLONES void groupNormForward(const float *x, const float *shift, const float *gamma, const float *beta, float *out,
                                    float *stats, const GroupNormShape *s) {
  const long C = s->c, cg = C / s->groups, hw = s->hw;
  const double n = (double)hw * cg;
  float *buf = (float *)malloc(5 * C * sizeof(float));
  /* per channel: sums of x and of squared deviations, then the scale a and shift b that apply the norm;
   * and zeros, the shift of every image when there is none (x + 0 is x, bit for bit) */
  float *sum = buf, *sumSq = buf + C, *a = buf + 2 * C, *b = buf + 3 * C, *none = buf + 4 * C;
  memset(none, 0, C * sizeof(float));
  for (long img = 0; img < s->batch; img++) {
    const float *xb = x + img * hw * C;
    const float *sh = shift != NULL ? shift + img * C : none;
    float *ob = out + img * hw * C;
    /* Two passes (the mean, then squared deviations from it): E[x^2] - mean^2 would cancel badly. */
    memset(sum, 0, 2 * C * sizeof(float));
    for (long p = 0; p < hw; p++) {
      const float *v = xb + p * C;
      for (long c = 0; c < C; c++) sum[c] += v[c] + sh[c];
    }
    for (long g = 0; g < s->groups; g++) {
      double gs = 0;
      for (long c = g * cg; c < (g + 1) * cg; c++) gs += sum[c];
      for (long c = g * cg; c < (g + 1) * cg; c++) a[c] = (float)(gs / n); /* the group's mean, per channel */
    }
    for (long p = 0; p < hw; p++) {
      const float *v = xb + p * C;
      for (long c = 0; c < C; c++) sumSq[c] += (v[c] + sh[c] - a[c]) * (v[c] + sh[c] - a[c]);
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
      for (long c = 0; c < C; c++) o[c] = (v[c] + sh[c]) * a[c] + b[c];
      if (s->silu) {
        /* o times the sigmoid, not o / (1 + e): GCC split that division at expApprox's clamps
         * into two divisions per vector, which were most of this pass's time. */
        for (long c = 0; c < C; c++) o[c] = o[c] * (1.0f / (1.0f + expApprox(-o[c])));
      }
    }
  }
  free(buf);
}

/*
 * One pixel's share of the backward sums, and its dxhat. Its own function so that its pointers
 * can be restrict: with eleven arrays in one loop, GCC's run-time alias checks gave up and this
 * loop, most of the backward pass's time, ran one float at a time.
 */
static inline void accumulateRow(long C, const float *restrict xv, const float *restrict sh, const float *restrict mean,
                                 const float *restrict inv, const float *restrict dzv, const float *restrict gamma,
                                 float *restrict dgamma, float *restrict dbeta, float *restrict sumD,
                                 float *restrict sumDX, float *restrict d) {
  for (long c = 0; c < C; c++) {
    const float xhat = (xv[c] + sh[c] - mean[c]) * inv[c];
    const float dz = dzv[c];
    dgamma[c] += dz * xhat;
    dbeta[c] += dz;
    const float dxhat = dz * gamma[c];
    sumD[c] += dxhat;
    sumDX[c] += dxhat * xhat;
    d[c] = dxhat;
  }
}

/*
 * dx, dgamma and dbeta of groupNormForward from dy, x, its shift, gamma, beta and its stats; and
 * dshift[b, c] = the sum of dx[b, :, c] (in double, in pixel order) when dshift is not NULL.
 */
VECTOR_CLONES void groupNormBackward(const float *dy, const float *x, const float *shift, const float *gamma,
                                     const float *beta, const float *stats, float *dx, float *dgamma, float *dbeta,
                                     float *dshift, const GroupNormShape *s) {
  const long C = s->c, cg = C / s->groups, hw = s->hw;
  const double n = (double)hw * cg;
  float *buf = (float *)malloc(10 * C * sizeof(float));
  /* per channel: mean and 1/std of its group, sums of dxhat and dxhat*xhat, then the group's means of those;
   * one pixel's gradient before the norm's scale (dy through the SiLU); zeros, the shift when there is none;
   * and the sums of dx over the pixels, in double */
  float *mean = buf, *inv = buf + C, *sumD = buf + 2 * C, *sumDX = buf + 3 * C, *meanD = buf + 4 * C,
        *meanDX = buf + 5 * C, *dzRow = buf + 6 * C, *none = buf + 7 * C;
  double *dsum = (double *)(buf + 8 * C);
  memset(none, 0, C * sizeof(float));
  memset(dgamma, 0, C * sizeof(float));
  memset(dbeta, 0, C * sizeof(float));
  for (long img = 0; img < s->batch; img++) {
    const long base = img * hw * C;
    const float *sh = shift != NULL ? shift + img * C : none;
    for (long c = 0; c < C; c++) {
      mean[c] = stats[(img * s->groups + c / cg) * 2];
      inv[c] = stats[(img * s->groups + c / cg) * 2 + 1];
    }
    memset(sumD, 0, 2 * C * sizeof(float));
    for (long p = 0; p < hw; p++) {
      const float *xv = x + base + p * C, *dyv = dy + base + p * C;
      float *d = dx + base + p * C; /* dxhat for now, finished below once the group's sums are known */
      /* Separate loops, each without branches, so that both vectorise. */
      const float *dzv = dyv;
      if (s->silu) {
        for (long c = 0; c < C; c++) {
          const float z = (xv[c] + sh[c] - mean[c]) * inv[c] * gamma[c] + beta[c];
          const float sig = 1.0f / (1.0f + expApprox(-z));
          dzRow[c] = dyv[c] * sig * (1.0f + z * (1.0f - sig));
        }
        dzv = dzRow;
      }
      accumulateRow(C, xv, sh, mean, inv, dzv, gamma, dgamma, dbeta, sumD, sumDX, d);
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
        const float xhat = (xv[c] + sh[c] - mean[c]) * inv[c];
        d[c] = inv[c] * (d[c] - meanD[c] - xhat * meanDX[c]);
      }
    }
    if (dshift != NULL) {
      for (long c = 0; c < C; c++) dsum[c] = 0;
      for (long p = 0; p < hw; p++) {
        const float *d = dx + base + p * C;
        for (long c = 0; c < C; c++) dsum[c] += d[c];
      }
      for (long c = 0; c < C; c++) dshift[img * C + c] = (float)dsum[c];
    }
  }
  free(buf);
}
