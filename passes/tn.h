/* tn.h - a small dense tensor of doubles (rank, dims, strides, data) with
 * reshape, materialising permute and one general contraction on dgemm.
 *
 * Tensors made by tn_new / tn_from / tn_permute / tn_contract own a
 * 64-byte aligned buffer and are released with tn_free. tn_view makes a
 * non-owning tensor by value over someone else's buffer (e.g. an MPO core);
 * views are never passed to tn_free. Every tensor here is contiguous
 * row-major (strides[rank-1] = 1, each stride the product of the dims to
 * its right); strides are kept so views with other layouts can come later.
 * Failures (bad arguments, out of memory) return NULL / -1 with a message
 * in la_last_error().
 */
#ifndef QNNC_TN_H
#define QNNC_TN_H

#include <stdint.h>

#define TN_MAX_RANK 48

typedef struct tn_tensor {
	int rank;                      /* 0 is a scalar */
	int owns;                      /* data is ours to free */
	int64_t size;                  /* product of dims */
	int64_t dims[TN_MAX_RANK];
	int64_t strides[TN_MAX_RANK];  /* in elements */
	double *data;
} tn_tensor;

/* count doubles, zeroed, 64-byte aligned (at least 64 bytes); free() it.
 * NULL on overflow or out of memory. */
double *tn_alloc(int64_t count);

/* A zeroed tensor of the given dims (rank 0..TN_MAX_RANK, dims ≥ 0). */
tn_tensor *tn_new(int rank, const int64_t *dims);
/* A tensor holding a copy of data (size = product of dims). */
tn_tensor *tn_from(int rank, const int64_t *dims, const double *data);
/* A non-owning contiguous view of data; rank and dims are not checked
 * beyond what IR_ASSERT catches, so pass sane values. */
tn_tensor tn_view(int rank, const int64_t *dims, double *data);
void tn_free(tn_tensor *t);

/* Change dims in place keeping the data order (contiguous tensors only;
 * the sizes must agree). Returns 0 or -1. */
int tn_reshape(tn_tensor *t, int rank, const int64_t *dims);

/* New contiguous tensor with out.dims[i] = t.dims[perm[i]] (numpy
 * transpose convention). */
tn_tensor *tn_permute(const tn_tensor *t, const int *perm);

/* numpy.tensordot: sum over A's axes axesA[i] paired with B's axesB[i]
 * (naxes pairs, dims must agree); the result's axes are A's free axes in
 * order, then B's. Operands already laid out as matrices (contracted axes
 * trailing or leading, in order) go to dgemm without a copy; otherwise they
 * are permuted first. */
tn_tensor *tn_contract(const tn_tensor *A, int naxes, const int *axesA, const tn_tensor *B,
		       const int *axesB);

/* Strided 2-D copy dst[i*di + j*dj] = src[i*si + j*sj] for i < ni, j < nj,
 * blocked for the cache (this is the transpose kernel). No overlap. */
void tn_copy2d(double *dst, int64_t di, int64_t dj, const double *src, int64_t si, int64_t sj,
	       int64_t ni, int64_t nj);

#endif
