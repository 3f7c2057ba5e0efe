/*
 * Concatenation along an axis, viewed as rows: every input is [outer, inner_i] and the output
 * [outer, sum of inner_i]. The UNet's skip connections join channels (the last axis) of
 * [N,H,W,C] maps, so a row is one pixel's channels: tens of floats, N*H*W rows. The wasm
 * backend copies each row with a JavaScript call; here it is one loop.
 */
#include <string.h>

#include "kernels.h"

void concatRows(long outer, long count, const float *const *inputs, const long *inner, float *out) {
  long width = 0;
  for (long i = 0; i < count; i++) width += inner[i];
  for (long o = 0; o < outer; o++) {
    float *row = out + o * width;
    for (long i = 0; i < count; i++) {
      memcpy(row, inputs[i] + o * inner[i], (size_t)inner[i] * sizeof(float));
      row += inner[i];
    }
  }
}
