/*
 * A dense layer over the last axis, out[r, :] = x[r, :] · w + b for every row r of x viewed as
 * [rows, cin], and its gradient: dx = dy · wᵀ, dw = xᵀ · dy, db = the column sums of dy, each
 * only when asked for (an input that needs no gradient, such as the caption's tokens, gets none). Composed of tfjs ops, a dense layer runs reshape, matmul, add and reshape forward and
 * about as many kernels backward, each with the engine's bookkeeping, and the UNet has about
 * fifty of them: the kernels' time is small, the bookkeeping is not. The arithmetic is what the
 * composed layer's kernels do (sgemm, then the bias added to the rounded product; bias sums in
 * double), so the results are theirs.
 */
#include <cblas.h>
#include <string.h>

#include "kernels.h"

void denseForward(const float *x, const float *w, const float *b, float *out, long rows, long cin, long cout) {
  if (rows == 0 || cout == 0) return;
  if (cin == 0) {
    memset(out, 0, (size_t)rows * cout * sizeof(float));
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, cout, cin, 1.0f, x, cin, w, cout, 0.0f, out, cout);
  }
  if (b != NULL) {
    for (long r = 0; r < rows; r++) {
      float *row = out + r * cout;
      for (long j = 0; j < cout; j++) row[j] += b[j];
    }
  }
}

void denseBackward(Scratch *s, const float *dy, const float *x, const float *w, float *dx, float *dw, float *db,
                   long rows, long cin, long cout) {
  const int empty = rows == 0 || cin == 0 || cout == 0;
  /* An empty product: what reaches a non-empty output is zero (sgemm is not asked to say so). */
  if (dx != NULL && rows * cin > 0) {
    if (empty) memset(dx, 0, (size_t)rows * cin * sizeof(float));
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cin, cout, 1.0f, dy, cout, w, cout, 0.0f, dx, cin);
  }
  if (dw != NULL && cin * cout > 0) {
    if (empty) memset(dw, 0, (size_t)cin * cout * sizeof(float));
    else cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cin, cout, rows, 1.0f, x, cin, dy, cout, 0.0f, dw, cout);
  }
  if (db != NULL && cout > 0) {
    if (rows == 0) memset(db, 0, (size_t)cout * sizeof(float));
    else sumMiddleAxes(s, dy, db, 1, rows, cout);
  }
}
