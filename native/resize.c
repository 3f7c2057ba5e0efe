/*
 * Nearest-neighbour resizing of NHWC images and its gradient, with tfjs's rules for which
 * source pixel an output pixel copies (the cpu backend's, in double): the source row of
 * output row r is floor(r * scale) (round with alignCorners, of (r + 0.5) * scale with
 * halfPixelCenters), capped at the last row; the same for columns. The UNet enlarges its maps
 * 2x this way on the way up. The wasm backend copies element by element (forward) and, for
 * the gradient, searches a window of dy around every element of dx; here whole pixels (C
 * contiguous channels) are copied, and the gradient adds each dy pixel into its source pixel.
 */
#include <math.h>
#include <string.h>

#include "kernels.h"

/* The source index of output index i: tfjs's formula. */
static long sourceIndex(long i, double scale, long inSize, int alignCorners, int halfPixelCenters) {
  const double frac = halfPixelCenters ? scale * ((double)i + 0.5) : scale * (double)i;
  /* JavaScript's Math.round (half up) on a non-negative number. */
  long s = (long)(alignCorners ? floor(frac + 0.5) : floor(frac));
  if (s > inSize - 1) s = inSize - 1;
  if (halfPixelCenters && s < 0) s = 0;
  return s;
}

static double resizeScale(long inSize, long outSize, int alignCorners) {
  const int aligned = alignCorners && outSize > 1;
  return (double)(aligned ? inSize - 1 : inSize) / (double)(aligned ? outSize - 1 : outSize);
}

void resizeNearest(const float *x, float *out, const ResizeShape *s) {
  const double hs = resizeScale(s->inH, s->outH, s->alignCorners);
  const double ws = resizeScale(s->inW, s->outW, s->alignCorners);
  const long C = s->c;
  for (long b = 0; b < s->batch; b++) {
    const float *image = x + b * s->inH * s->inW * C;
    for (long r = 0; r < s->outH; r++) {
      const float *srcRow = image + sourceIndex(r, hs, s->inH, s->alignCorners, s->halfPixelCenters) * s->inW * C;
      float *dst = out + (b * s->outH + r) * s->outW * C;
      for (long c = 0; c < s->outW; c++) {
        memcpy(dst + c * C, srcRow + sourceIndex(c, ws, s->inW, s->alignCorners, s->halfPixelCenters) * C,
               (size_t)C * sizeof(float));
      }
    }
  }
}

/*
 * dx from dy: every dy pixel added into the pixel the forward copied it from. As in both tfjs
 * backends' gradients, the source is found without halfPixelCenters (they ignore that
 * attribute here), so the result is theirs. Rows and columns are visited in increasing order,
 * the order in which the cpu backend adds a dx element's terms.
 */
VECTOR_CLONES void resizeNearestGrad(const float *dy, float *dx, const ResizeShape *s) {
  const double hs = resizeScale(s->inH, s->outH, s->alignCorners);
  const double ws = resizeScale(s->inW, s->outW, s->alignCorners);
  const long C = s->c;
  memset(dx, 0, (size_t)s->batch * s->inH * s->inW * C * sizeof(float));
  for (long b = 0; b < s->batch; b++) {
    float *image = dx + b * s->inH * s->inW * C;
    for (long r = 0; r < s->outH; r++) {
      float *dstRow = image + sourceIndex(r, hs, s->inH, s->alignCorners, 0) * s->inW * C;
      const float *src = dy + (b * s->outH + r) * s->outW * C;
      for (long c = 0; c < s->outW; c++) {
        float *d = dstRow + sourceIndex(c, ws, s->inW, s->alignCorners, 0) * C;
        const float *v = src + c * C;
        for (long k = 0; k < C; k++) d[k] += v[k];
      }
    }
  }
}
