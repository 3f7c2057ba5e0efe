/*
 * Sums over a contiguous block of axes, the reductions a training step's gradients are full
 * of: a bias's gradient sums over every axis but the channels ([N,H,W,C] -> [C]), a broadcast
 * add's over the ones it was broadcast along ([B,H,W,C] -> [B,C]). The wasm backend's own Sum
 * first transposes the reduced axes innermost, a full copy of the tensor; here the sum reads
 * the tensor once, in order. Accumulates in double, then rounds once to float.
 */
#include "kernels.h"

VECTOR_CLONES void sumMiddleAxes(Scratch *s, const float *x, float *out, long outer, long reduce, long inner) {
  double *acc = (double *)scratchFloats(s, 2 * (size_t)inner);
  for (long o = 0; o < outer; o++) {
    const float *block = x + o * reduce * inner;
    if (inner == 1) {
      double sum = 0;
      for (long r = 0; r < reduce; r++) sum += block[r];
      out[o] = (float)sum;
      continue;
    }
    for (long i = 0; i < inner; i++) acc[i] = 0;
    for (long r = 0; r < reduce; r++) {
      const float *row = block + r * inner;
      for (long i = 0; i < inner; i++) acc[i] += row[i];
    }
    for (long i = 0; i < inner; i++) out[o * inner + i] = (float)acc[i];
  }
}
