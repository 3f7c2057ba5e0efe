/*
 * Splitting along an axis, viewed as rows: concat.c's inverse. The input is [outer, width] and
 * output i is [outer, inner_i], the inner widths summing to width. The gradient of the UNet's
 * skip connections splits channels (the last axis) of [N,H,W,C] maps, one row per pixel; the
 * wasm backend runs a Slice per output, each copying the whole input out of the heap first
 * and then every row with a JavaScript call. Here it is one pass over the input.
 */
#include <string.h>

#include "kernels.h"

void splitRows(long outer, long count, const float *x, const long *inner, float *const *outputs) {
  long width = 0;
  for (long i = 0; i < count; i++) width += inner[i];
  for (long o = 0; o < outer; o++) {
    const float *row = x + o * width;
    for (long i = 0; i < count; i++) {
      if (outputs[i] != NULL) memcpy(outputs[i] + o * inner[i], row, (size_t)inner[i] * sizeof(float));
      row += inner[i];
    }
  }
}
