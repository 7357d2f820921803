/* tn.c - dense double tensors: allocation, reshape, permute (a strided
 * copy whose two innermost axes go through a blocked 2-D kernel, after
 * dropping unit axes and merging axes that stay adjacent), and tensordot
 * as one dgemm on the matricised operands (see tn.h).
 */
#include "tn.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"
#include "la.h"
#include "ops.h"

double *tn_alloc(int64_t count)
{
	if (count < 0 || count > (INT64_MAX - 64) / (int64_t)sizeof(double)) {
		la_set_error("tn_alloc: %lld elements is out of range", (long long)count);
		return NULL;
	}
	size_t bytes = ((size_t)count * sizeof(double) + 63) / 64 * 64;
	if (!bytes)
		bytes = 64;
	double *p = aligned_alloc(64, bytes);
	if (!p) {
		la_set_error("out of memory (%zu bytes for a tensor)", bytes);
		return NULL;
	}
	memset(p, 0, bytes);
	return p;
}

/* Fill rank, dims, contiguous strides and size; -1 on bad dims. */
static int set_shape(tn_tensor *t, int rank, const int64_t *dims)
{
	if (rank < 0 || rank > TN_MAX_RANK) {
		la_set_error("tensor rank %d is out of range (0..%d)", rank, TN_MAX_RANK);
		return -1;
	}
	int64_t size = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 0 || (dims[i] > 0 && size > INT64_MAX / 8 / dims[i])) {
			la_set_error("tensor dim %d (%lld) is out of range", i, (long long)dims[i]);
			return -1;
		}
		size *= dims[i];
	}
	t->rank = rank;
	t->size = size;
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; i--) {
		t->dims[i] = dims[i];
		t->strides[i] = s;
		s *= dims[i];
	}
	return 0;
}

tn_tensor *tn_new(int rank, const int64_t *dims)
{
	tn_tensor *t = calloc(1, sizeof *t);
	if (!t) {
		la_set_error("out of memory (tensor header)");
		return NULL;
	}
	if (set_shape(t, rank, dims) || !(t->data = tn_alloc(t->size))) {
		free(t);
		return NULL;
	}
	t->owns = 1;
	return t;
}

tn_tensor *tn_from(int rank, const int64_t *dims, const double *data)
{
	tn_tensor *t = tn_new(rank, dims);
	if (t && t->size)
		memcpy(t->data, data, (size_t)t->size * sizeof *data);
	return t;
}

tn_tensor tn_view(int rank, const int64_t *dims, double *data)
{
	tn_tensor t;
	memset(&t, 0, sizeof t);
	IR_ASSERT(set_shape(&t, rank, dims) == 0);
	t.data = data;
	return t;
}

void tn_free(tn_tensor *t)
{
	if (!t)
		return;
	IR_ASSERT(t->owns);
	free(t->data);
	free(t);
}

static int contiguous(const tn_tensor *t)
{
	int64_t s = 1;
	for (int i = t->rank - 1; i >= 0; i--) {
		if (t->dims[i] != 1 && t->strides[i] != s)
			return 0;
		s *= t->dims[i];
	}
	return 1;
}

int tn_reshape(tn_tensor *t, int rank, const int64_t *dims)
{
	if (!contiguous(t)) {
		la_set_error("tn_reshape: tensor is not contiguous");
		return -1;
	}
	tn_tensor tmp;
	if (set_shape(&tmp, rank, dims))
		return -1;
	if (tmp.size != t->size) {
		la_set_error("tn_reshape: %lld elements cannot take a shape of %lld", (long long)t->size,
			     (long long)tmp.size);
		return -1;
	}
	memcpy(t->dims, tmp.dims, sizeof t->dims);
	memcpy(t->strides, tmp.strides, sizeof t->strides);
	t->rank = rank;
	return 0;
}

void tn_copy2d(double *dst, int64_t di, int64_t dj, const double *src, int64_t si, int64_t sj,
	       int64_t ni, int64_t nj)
{
	enum { TILE = 32 };
	if (dj == 1 && sj == 1) {
		for (int64_t i = 0; i < ni; i++)
			memcpy(dst + i * di, src + i * si, (size_t)nj * sizeof *dst);
		return;
	}
	for (int64_t i0 = 0; i0 < ni; i0 += TILE) {
		int64_t i1 = i0 + TILE < ni ? i0 + TILE : ni;
		for (int64_t j0 = 0; j0 < nj; j0 += TILE) {
			int64_t j1 = j0 + TILE < nj ? j0 + TILE : nj;
			for (int64_t i = i0; i < i1; i++)
				for (int64_t j = j0; j < j1; j++)
					dst[i * di + j * dj] = src[i * si + j * sj];
		}
	}
}

/* dst (contiguous, dims) [idx] = src[Σ idx_i sstr_i]. */
static void strided_copy(double *dst, const double *src, int rank, const int64_t *dims,
			 const int64_t *sstr)
{
	int64_t d[TN_MAX_RANK], s[TN_MAX_RANK], idx[TN_MAX_RANK] = {0};
	int r = op_merge_dims(rank, dims, 1, sstr, 0, d, s);
	if (r < 0)
		return;
	if (r == 0) {
		dst[0] = src[0];
		return;
	}
	if (r == 1) {
		tn_copy2d(dst, 0, 1, src, 0, s[0], 1, d[0]);
		return;
	}
	int64_t inner = d[r - 2] * d[r - 1], soff = 0;
	for (int64_t doff = 0;; doff += inner) {
		tn_copy2d(dst + doff, d[r - 1], 1, src + soff, s[r - 2], s[r - 1], d[r - 2], d[r - 1]);
		int k = r - 3;
		for (; k >= 0; k--) { /* odometer over the outer axes */
			soff += s[k];
			if (++idx[k] < d[k])
				break;
			soff -= s[k] * d[k];
			idx[k] = 0;
		}
		if (k < 0)
			return;
	}
}

static int is_perm(const int *perm, int rank)
{
	int seen[TN_MAX_RANK] = {0};
	for (int i = 0; i < rank; i++) {
		if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
			return 0;
		seen[perm[i]] = 1;
	}
	return 1;
}

tn_tensor *tn_permute(const tn_tensor *t, const int *perm)
{
	if (!is_perm(perm, t->rank)) {
		la_set_error("tn_permute: not a permutation of %d axes", t->rank);
		return NULL;
	}
	int64_t dims[TN_MAX_RANK], sstr[TN_MAX_RANK];
	for (int i = 0; i < t->rank; i++) {
		dims[i] = t->dims[perm[i]];
		sstr[i] = t->strides[perm[i]];
	}
	tn_tensor *o = tn_new(t->rank, dims);
	if (o)
		strided_copy(o->data, t->data, t->rank, dims, sstr);
	return o;
}

/* Is perm (n entries) the identity? */
static int identity(const int *perm, int n)
{
	for (int i = 0; i < n; i++)
		if (perm[i] != i)
			return 0;
	return 1;
}

/* Matricise t as rows × cols with the axis order `order` (row axes first,
 * nrow of them): without a copy if the order is the stored one (*trans = 0)
 * or the stored one with the two groups swapped (*trans = 1); otherwise
 * permuted into *tmp. Returns the data pointer or NULL. */
static const double *matricise(const tn_tensor *t, const int *order, int nrow, int *trans,
			       tn_tensor **tmp)
{
	int swapped[TN_MAX_RANK], ncol = t->rank - nrow;
	for (int i = 0; i < ncol; i++)
		swapped[i] = order[nrow + i];
	for (int i = 0; i < nrow; i++)
		swapped[ncol + i] = order[i];
	*trans = 0;
	*tmp = NULL;
	if (contiguous(t)) {
		if (identity(order, t->rank))
			return t->data;
		if (identity(swapped, t->rank)) {
			*trans = 1;
			return t->data;
		}
	}
	*tmp = tn_permute(t, order);
	return *tmp ? (*tmp)->data : NULL;
}

tn_tensor *tn_contract(const tn_tensor *A, int naxes, const int *axesA, const tn_tensor *B,
		       const int *axesB)
{
	if (naxes < 0 || naxes > A->rank || naxes > B->rank) {
		la_set_error("tn_contract: %d contracted axes for ranks %d and %d", naxes, A->rank,
			     B->rank);
		return NULL;
	}
	int usedA[TN_MAX_RANK] = {0}, usedB[TN_MAX_RANK] = {0};
	int64_t K = 1;
	for (int i = 0; i < naxes; i++) {
		int a = axesA[i], b = axesB[i];
		if (a < 0 || a >= A->rank || b < 0 || b >= B->rank || usedA[a] || usedB[b]) {
			la_set_error("tn_contract: bad or repeated axis pair (%d, %d)", a, b);
			return NULL;
		}
		if (A->dims[a] != B->dims[b]) {
			la_set_error("tn_contract: axis %d of A has dim %lld but axis %d of B has %lld",
				     a, (long long)A->dims[a], b, (long long)B->dims[b]);
			return NULL;
		}
		usedA[a] = usedB[b] = 1;
		K *= A->dims[a];
	}
	int rank = A->rank + B->rank - 2 * naxes;
	if (rank > TN_MAX_RANK) {
		la_set_error("tn_contract: result rank %d exceeds %d", rank, TN_MAX_RANK);
		return NULL;
	}
	/* A as M×K (free, contracted); B as K×N (contracted, free). */
	int ordA[TN_MAX_RANK], ordB[TN_MAX_RANK], nfa = 0, nfb = 0;
	int64_t dims[TN_MAX_RANK], M = 1, N = 1;
	for (int i = 0; i < A->rank; i++)
		if (!usedA[i]) {
			ordA[nfa++] = i;
			dims[nfa - 1] = A->dims[i];
			M *= A->dims[i];
		}
	for (int i = 0; i < naxes; i++) {
		ordA[nfa + i] = axesA[i];
		ordB[i] = axesB[i];
	}
	for (int i = 0; i < B->rank; i++)
		if (!usedB[i]) {
			ordB[naxes + nfb++] = i;
			dims[nfa + nfb - 1] = B->dims[i];
			N *= B->dims[i];
		}
	if (M > INT_MAX || N > INT_MAX || K > INT_MAX) {
		la_set_error("tn_contract: matricised sizes %lld×%lld×%lld exceed BLAS's range",
			     (long long)M, (long long)K, (long long)N);
		return NULL;
	}
	tn_tensor *C = tn_new(rank, dims), *tA = NULL, *tB = NULL;
	int ta = 0, tb = 0;
	const double *a = C ? matricise(A, ordA, nfa, &ta, &tA) : NULL;
	const double *b = a ? matricise(B, ordB, naxes, &tb, &tB) : NULL;
	if (b)
		la_gemm(ta, tb, M, N, K, 1.0, a, b, 0.0, C->data);
	if (tA)
		tn_free(tA);
	if (tB)
		tn_free(tB);
	if (!b) {
		tn_free(C);
		return NULL;
	}
	return C;
}
