/*
 * The data-parallel optimizer's loops of src/train/flatAdamW.ts (AdamW, the EMA) and
 * src/parallel (the gradient sum), on the shared buffers every thread updates its own range
 * of. The arithmetic is JavaScript's, step for step, in double with float32 stores, so the
 * results are bit for bit those of the JS loops (no FMA: the build targets baseline x86-64).
 * Powers (the bias corrections) are computed in JavaScript and passed in, since Math.pow and
 * C's pow may round differently.
 */
#include <math.h>

#include "kernels.h"

/* On x86-64, AdamW is compiled twice, for AVX2 (4 doubles per instruction, 2x the baseline's
 * speed; AVX2 brings no FMA, so nothing is contracted) and for baseline x86-64. */
#if defined(__x86_64__) && defined(__GNUC__)
#define ADAMW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ADAMW_CLONES
#endif

ADAMW_CLONES void adamWRange(float *restrict w, float *restrict m, float *restrict v, const uint8_t *restrict decay,
                             const float *restrict g, long a, long b, const AdamWHyper *h) {
  const double c1 = h->c1, c2 = h->c2;
  /* keep - 1 is exact (Sterbenz), so 1 + (keep - 1) * decay is exactly keep or 1. */
  const double keepMinusOne = h->keep - 1.0;
  for (long i = a; i < b; i++) {
    const double gi = (double)g[i] * h->gradScale;
    const double mi = h->beta1 * (double)m[i] + (1 - h->beta1) * gi;
    const double vi = h->beta2 * (double)v[i] + (1 - h->beta2) * gi * gi;
    m[i] = (float)mi;
    v[i] = (float)vi;
    /* JS: decay ? w * keep : w. A factor instead of a branch lets the loop vectorise; w * 1 is w. */
    const double wi = (double)w[i] * (1.0 + keepMinusOne * (double)decay[i]);
    w[i] = (float)(wi - (h->lr * (mi / c1)) / (sqrt(vi / c2) + h->epsilon));
  }
}

void emaRange(float *ema, const float *w, long a, long b, double d) {
  for (long i = a; i < b; i++) ema[i] = (float)(d * (double)ema[i] + (1 - d) * (double)w[i]);
}

double sumRange(float *const *parts, long count, long a, long b) {
  float *into = parts[0];
  double squares = 0;
  if (count == 2) {
    const float *other = parts[1];
    for (long i = a; i < b; i++) {
      /* JavaScript adds in double and rounds once to float32 (Math.fround): so do we. */
      const float s = (float)((double)into[i] + (double)other[i]);
      into[i] = s;
      squares += (double)s * s;
    }
    return squares;
  }
  for (long i = a; i < b; i++) {
    double s = into[i];
    for (long k = 1; k < count; k++) s += parts[k][i];
    into[i] = (float)s;
    squares += (double)(float)s * (double)(float)s;
  }
  return squares;
}
