/*
 * Convolutions, their two gradients and batched matmuls with OpenBLAS's sgemm, for the tfjs
 * wasm backend's tensors (NHWC, filters HWIO).
 *
 * A convolution is im2col + one sgemm per chunk of output pixels (the filter is a
 * [KH*KW*Ci, Co] matrix); its input gradient is sgemm + col2im, its filter gradient im2col +
 * a transposed sgemm. The chunks bound the scratch memory and keep each chunk's columns in
 * cache between the copy and the product. OpenBLAS runs on the calling thread only
 * (addon.c sets one thread): the kit parallelises over worker threads itself.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Scratch floats per chunk of im2col columns (1 MiB): measured best among 256 KiB-8 MiB. */
#define CHUNK_FLOATS (1L << 18)
/*
 * But never fewer rows than this per chunk (or all of them when there are fewer): every sgemm
 * call packs the whole filter again, and at base-L's deepest level (4x4 pixels, K = 3168 or
 * 6336, a 4.5-9 MB filter) 1 MiB chunks held 41-82 rows, so each product of M = 256 rows packed
 * its filter 4-7 times and ran at 70-84 GFLOP/s against sgemm's 95 at the same shape; one chunk
 * of 256 rows runs at sgemm's speed (issue 22). Costs at most 256·K floats of scratch.
 */
#define MIN_CHUNK_ROWS 256L

float *scratchFloats(Scratch *s, size_t n) {
  if (n > s->capacity) {
    free(s->data);
    s->data = (float *)malloc(n * sizeof(float));
    if (s->data == NULL) {
      /* At most a few MiB: failing here means the process is out of memory anyway. */
      fprintf(stderr, "native kernels: out of memory for %zu scratch floats\n", n);
      abort();
    }
    s->capacity = n;
  }
  return s->data;
}

/* A 1x1 convolution of stride 1 without padding is a plain product of x's rows. */
static int isPointwise(const ConvGeometry *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->padTop == 0 && g->padLeft == 0 &&
         g->oh == g->h && g->ow == g->w;
}

/* Rows [r0, r1) of the im2col matrix: one row per output pixel, KH*KW*Ci columns. */
static void im2col(const float *x, const ConvGeometry *g, long r0, long r1, float *col) {
  const long ci = g->ci;
  for (long r = r0; r < r1; r++) {
    const long ox = r % g->ow;
    const long oy = (r / g->ow) % g->oh;
    const long b = r / (g->ow * g->oh);
    float *dst = col + (r - r0) * g->kh * g->kw * ci;
    for (long ky = 0; ky < g->kh; ky++) {
      const long iy = oy * g->sh + ky * g->dh - g->padTop;
      for (long kx = 0; kx < g->kw; kx++, dst += ci) {
        const long ix = ox * g->sw + kx * g->dw - g->padLeft;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) {
          memset(dst, 0, ci * sizeof(float));
        } else {
          memcpy(dst, x + ((b * g->h + iy) * g->w + ix) * ci, ci * sizeof(float));
        }
      }
    }
  }
}

/* Adds rows [r0, r1) of an im2col-shaped gradient back onto the input pixels they came from. */
static void col2imAdd(const float *col, const ConvGeometry *g, long r0, long r1, float *dx) {
  const long ci = g->ci;
  for (long r = r0; r < r1; r++) {
    const long ox = r % g->ow;
    const long oy = (r / g->ow) % g->oh;
    const long b = r / (g->ow * g->oh);
    const float *src = col + (r - r0) * g->kh * g->kw * ci;
    for (long ky = 0; ky < g->kh; ky++) {
      const long iy = oy * g->sh + ky * g->dh - g->padTop;
      for (long kx = 0; kx < g->kw; kx++, src += ci) {
        const long ix = ox * g->sw + kx * g->dw - g->padLeft;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
        float *d = dx + ((b * g->h + iy) * g->w + ix) * ci;
        for (long c = 0; c < ci; c++) d[c] += src[c];
      }
    }
  }
}

/* Rows of im2col per chunk, for m rows of k columns. */
static long chunkRows(long m, long k) {
  long rows = CHUNK_FLOATS / (k > 0 ? k : 1);
  if (rows < MIN_CHUNK_ROWS) rows = MIN_CHUNK_ROWS;
  return rows < m ? rows : (m > 0 ? m : 1);
}

/* out[M, Co] = im2col(x) * filter (+ bias on every row). */
void conv2d(Scratch *scratch, const float *x, const float *filter, const float *bias, float *out,
            const ConvGeometry *g) {
  const long M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->ci, N = g->co;
  float beta = 0.0f;
  if (bias != NULL) {
    for (long r = 0; r < M; r++) memcpy(out + r * N, bias, N * sizeof(float));
    beta = 1.0f;
  }
  if (isPointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, x, K, filter, N, beta, out, N);
    return;
  }
  const long step = chunkRows(M, K);
  float *col = scratchFloats(scratch, (size_t)step * K);
  for (long r0 = 0; r0 < M; r0 += step) {
    const long r1 = r0 + step < M ? r0 + step : M;
    im2col(x, g, r0, r1, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, N, K, 1.0f, col, K, filter, N, beta,
                out + r0 * N, N);
  }
}

/* dx = col2im(dy * filterᵀ). */
void conv2dBackpropInput(Scratch *scratch, const float *dy, const float *filter, float *dx, const ConvGeometry *g) {
  const long M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->ci, N = g->co;
  if (isPointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, dy, N, filter, N, 0.0f, dx, K);
    return;
  }
  memset(dx, 0, (size_t)g->n * g->h * g->w * g->ci * sizeof(float));
  const long step = chunkRows(M, K);
  float *col = scratchFloats(scratch, (size_t)step * K);
  for (long r0 = 0; r0 < M; r0 += step) {
    const long r1 = r0 + step < M ? r0 + step : M;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, K, N, 1.0f, dy + r0 * N, N, filter, N, 0.0f,
                col, K);
    col2imAdd(col, g, r0, r1, dx);
  }
}

/* dfilter[K, Co] = im2col(x)ᵀ * dy. */
void conv2dBackpropFilter(Scratch *scratch, const float *x, const float *dy, float *dfilter, const ConvGeometry *g) {
  const long M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->ci, N = g->co;
  if (isPointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f, x, K, dy, N, 0.0f, dfilter, N);
    return;
  }
  if (M == 0) {
    memset(dfilter, 0, (size_t)K * N * sizeof(float));
    return;
  }
  const long step = chunkRows(M, K);
  float *col = scratchFloats(scratch, (size_t)step * K);
  for (long r0 = 0; r0 < M; r0 += step) {
    const long r1 = r0 + step < M ? r0 + step : M;
    im2col(x, g, r0, r1, col);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, r1 - r0, 1.0f, col, K, dy + r0 * N, N,
                r0 == 0 ? 0.0f : 1.0f, dfilter, N);
  }
}

void batchMatMul(long batch, long M, long N, long K, int transposeA, int transposeB, const float *a, long aStride,
                 const float *b, long bStride, float *out) {
  for (long i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, M, N, K,
                1.0f, a + i * aStride, transposeA ? M : K, b + i * bStride, transposeB ? K : N, 0.0f, out + i * M * N, N);
  }
}
