/*
 * Gathering slices along an axis (tf.gather), viewed as tfjs does: x is [batch, outer, dim,
 * slice] and indices [batch, n]; out[b, o, i, :] = x[b, o, indices[b, i], :]. The text
 * encoder's embedding lookup gathers rows of its table. The wasm backend's Gather works out
 * every element's position with index arithmetic (and a heap allocation) of its own; here a
 * slice is one copy. Elements are 4 bytes (float32 or int32).
 */
#include <string.h>

#include "kernels.h"

long gatherSlices(long batch, long outer, long dim, long slice, long n, const float *x, const int32_t *indices,
                  float *out) {
  for (long i = 0; i < batch * n; i++) {
    if (indices[i] < 0 || indices[i] >= dim) return i;
  }
  for (long b = 0; b < batch; b++) {
    for (long o = 0; o < outer; o++) {
      const float *from = x + (b * outer + o) * dim * slice;
      float *to = out + (b * outer + o) * n * slice;
      for (long i = 0; i < n; i++) memcpy(to + i * slice, from + (long)indices[b * n + i] * slice, (size_t)slice * sizeof(float));
    }
  }
  return -1;
}
