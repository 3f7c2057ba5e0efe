/*
 * Layer normalisation over the last axis ([rows, C]) with a per-channel scale and shift, and
 * its gradient: the cross-attention's norm in every attention block of the UNet and the text
 * encoder's norms. Composed of tfjs ops (moments, subtract, add, sqrt, divide, scale, shift)
 * a layer norm runs about 10 kernels forward and 25 backward. Statistics are taken in double
 * (two passes: the mean, then squared deviations from it); the backward pass recomputes them.
 *
 *   y = (x - mean) / sqrt(var + eps) · gamma + beta
 */
#include <math.h>

#include "kernels.h"

/* mean and 1/sqrt(var + eps) of one row. */
static void rowStats(const float *x, long C, float eps, float *mean, float *inv) {
  double sum = 0;
  for (long c = 0; c < C; c++) sum += x[c];
  const double m = sum / (double)C;
  double sq = 0;
  for (long c = 0; c < C; c++) sq += ((double)x[c] - m) * ((double)x[c] - m);
  *mean = (float)m;
  *inv = (float)(1.0 / sqrt(sq / (double)C + eps));
}

VECTOR_CLONES void layerNormForward(const float *x, const float *gamma, const float *beta, float *out, long rows, long C,
                                    float eps) {
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float *o = out + r * C;
    float mean, inv;
    rowStats(xr, C, eps, &mean, &inv);
    for (long c = 0; c < C; c++) o[c] = (xr[c] - mean) * inv * gamma[c] + beta[c];
  }
}

/*
 * dx = inv · (g - mean(g) - xhat · mean(g · xhat)) with g = dy · gamma and xhat the normalised x;
 * dgamma = the sum over rows of dy · xhat, dbeta = the sum of dy (accumulated in double).
 */
VECTOR_CLONES void layerNormBackward(Scratch *s, const float *dy, const float *x, const float *gamma, float *dx,
                                     float *dgamma, float *dbeta, long rows, long C, float eps) {
  double *acc = (double *)scratchFloats(s, 4 * (size_t)C);
  double *accG = acc, *accB = acc + C;
  for (long c = 0; c < C; c++) accG[c] = accB[c] = 0;
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * C, *dyr = dy + r * C;
    float *d = dx + r * C;
    float mean, inv;
    rowStats(xr, C, eps, &mean, &inv);
    double sumG = 0, sumGX = 0;
    for (long c = 0; c < C; c++) {
      const float xhat = (xr[c] - mean) * inv;
      const float g = dyr[c] * gamma[c];
      sumG += g;
      sumGX += (double)g * xhat;
      accG[c] += (double)dyr[c] * xhat;
      accB[c] += dyr[c];
    }
    const float mg = (float)(sumG / (double)C), mgx = (float)(sumGX / (double)C);
    for (long c = 0; c < C; c++) {
      const float xhat = (xr[c] - mean) * inv;
      d[c] = inv * (dyr[c] * gamma[c] - mg - xhat * mgx);
    }
  }
  for (long c = 0; c < C; c++) {
    dgamma[c] = (float)accG[c];
    dbeta[c] = (float)accB[c];
  }
}
