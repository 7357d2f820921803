/* la.c - every LAPACK/BLAS call of the compiler (see la.h for the API, the
 * gauges and the references).
 *
 * Layout trick: a row-major m×n matrix A is, to column-major LAPACK, the
 * n×m matrix Aᵀ with leading dimension n. So we factor Aᵀ and read the
 * factors of A off the transposed factors, with no copies in between:
 *   SVD  Aᵀ = U' S V'ᵀ      ->  A = V' S U'ᵀ: LAPACK's VT buffer is our U
 *                               and its U buffer is our Vt;
 *   LQ   Aᵀ = L' Q'         ->  A = Q'ᵀ L'ᵀ is the QR of A;
 *   QR   Aᵀ = Q' R'         ->  A = R'ᵀ Q'ᵀ is the LQ of A.
 * (LAPACKE's own row-major path would allocate and transpose on each call.)
 * Linear systems: LU of the column-major view Aᵀ solved with trans = 'T'.
 * All drivers are the LAPACKE_*_work variants, fed from grow-only static
 * workspaces after a size query, and every info is checked.
 */
#include "la.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"

static char la_err[512];
static int la_fail_svd;
static int64_t la_retries;

const char *la_last_error(void) { return la_err; }

void la_set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(la_err, sizeof la_err, fmt, ap);
	va_end(ap);
}

void la_debug_fail_svd(int count) { la_fail_svd = count > 0 ? count : 0; }
int64_t la_svd_retries(void) { return la_retries; }

/* ------------------------------------------------------------ workspaces */

/* WS_A: the copy of the input that LAPACK overwrites (or the TSQR stack);
 * WS_WORK, WS_IWORK, WS_TAU: LAPACK scratch; WS_PU, WS_PS, WS_PVT: the
 * factors that la_polar and la_svd_left get from la_svd; WS_BLK: one TSQR
 * block, or la_schur's Schur vectors. They grow to the largest problem seen and stay until la_release. */
enum { WS_A, WS_WORK, WS_IWORK, WS_TAU, WS_PU, WS_PS, WS_PVT, WS_BLK, WS_COUNT };

static struct {
	void *p;
	size_t cap;
} la_ws[WS_COUNT];

/* Workspace `which` with room for at least `bytes`; grow-only, contents
 * not preserved on growth. NULL (with the error set) if out of memory. */
static void *ws(int which, size_t bytes)
{
	if (bytes == 0)
		bytes = 64;
	if (la_ws[which].cap < bytes) {
		free(la_ws[which].p);
		size_t cap = (bytes + 63) / 64 * 64;
		la_ws[which].p = aligned_alloc(64, cap);
		la_ws[which].cap = la_ws[which].p ? cap : 0;
		if (!la_ws[which].p) {
			la_set_error("out of memory (%zu bytes of LAPACK workspace)", cap);
			return NULL;
		}
	}
	return la_ws[which].p;
}

void la_release(void)
{
	for (int i = 0; i < WS_COUNT; i++) {
		free(la_ws[i].p);
		la_ws[i].p = NULL;
		la_ws[i].cap = 0;
	}
}

/* LAPACK takes 32-bit ints and some of its index arithmetic forms m*n:
 * reject what does not fit. */
static int dims_ok(const char *what, int64_t m, int64_t n)
{
	if (m < 0 || n < 0 || m > INT_MAX || n > INT_MAX || (n > 0 && m > INT_MAX / n)) {
		la_set_error("%s: matrix %lld×%lld is out of range", what, (long long)m, (long long)n);
		return 0;
	}
	return 1;
}

static int all_finite(const char *what, const double *A, int64_t count)
{
	for (int64_t i = 0; i < count; i++)
		if (!isfinite(A[i])) {
			la_set_error("%s: non-finite entry %g at index %lld", what, A[i], (long long)i);
			return 0;
		}
	return 1;
}

/* Optimal lwork from a workspace query result (a double), bounded. */
static int query_size(const char *what, double q, lapack_int *lwork)
{
	if (!(q >= 1) || q > INT_MAX - 64) {
		la_set_error("%s: workspace query returned %g", what, q);
		return 0;
	}
	*lwork = (lapack_int)q + 1;
	return 1;
}

static double *copy_in(const double *A, int64_t count)
{
	double *a = ws(WS_A, (size_t)count * sizeof *a);
	if (a && count)
		memcpy(a, A, (size_t)count * sizeof *a);
	return a;
}

/* Index of the first entry of x (n entries, stride s) within a relative
 * 1e-10 of the largest magnitude: the entry the gauge makes positive. */
static int64_t gauge_pivot(const double *x, int64_t n, int64_t s)
{
	double big = 0;
	for (int64_t i = 0; i < n; i++)
		if (fabs(x[i * s]) > big)
			big = fabs(x[i * s]);
	for (int64_t i = 0; i < n; i++)
		if (fabs(x[i * s]) >= big * (1 - 1e-10))
			return i;
	return 0;
}

/* ------------------------------------------------------------------ SVD */

/* One driver run on the column-major n×m view (see the top comment):
 * 0 on success, 1 if it did not converge, -1 on any other failure. */
static int svd_driver(int gesdd, double *a, lapack_int m, lapack_int n, double *U, double *S,
		      double *Vt)
{
	const char *name = gesdd ? "dgesdd" : "dgesvd";
	lapack_int k = m < n ? m : n, lwork, info;
	lapack_int *iwork = NULL;
	double q = 0, *work;
	if (la_fail_svd > 0) {
		la_fail_svd--;
		return 1;
	}
	if (gesdd) {
		if (!(iwork = ws(WS_IWORK, (size_t)8 * k * sizeof *iwork)))
			return -1;
		info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', n, m, a, n, S, Vt, n, U, k, &q, -1,
					   iwork);
	} else {
		info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'S', n, m, a, n, S, Vt, n, U, k, &q,
					   -1);
	}
	if (info) {
		la_set_error("la_svd: %s workspace query failed (info %d)", name, (int)info);
		return -1;
	}
	if (!query_size(name, q, &lwork) || !(work = ws(WS_WORK, (size_t)lwork * sizeof *work)))
		return -1;
	if (gesdd)
		info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', n, m, a, n, S, Vt, n, U, k, work,
					   lwork, iwork);
	else
		info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'S', 'S', n, m, a, n, S, Vt, n, U, k,
					   work, lwork);
	if (info < 0) {
		la_set_error("la_svd: %s rejected argument %d", name, (int)-info);
		return -1;
	}
	return info > 0;
}

int la_svd(const double *A, int64_t m, int64_t n, double *U, double *S, double *Vt)
{
	if (!dims_ok("la_svd", m, n) || !all_finite("la_svd", A, m * n))
		return -1;
	int64_t k = m < n ? m : n;
	if (k == 0)
		return 0;
	double *a = copy_in(A, m * n);
	if (!a)
		return -1;
	int rc = svd_driver(1, a, (lapack_int)m, (lapack_int)n, U, S, Vt);
	if (rc == 1) {
		/* dbdsdc did not converge; QR iteration is slower but more robust. */
		la_retries++;
		memcpy(a, A, (size_t)(m * n) * sizeof *a);
		rc = svd_driver(0, a, (lapack_int)m, (lapack_int)n, U, S, Vt);
		if (rc == 1)
			la_set_error("la_svd: dgesdd and dgesvd did not converge on a %lld×%lld matrix",
				     (long long)m, (long long)n);
	}
	if (rc)
		return -1;
	for (int64_t j = 0; j < k; j++) {
		int64_t p = gauge_pivot(U + j, m, k);
		if (U[p * k + j] < 0) {
			for (int64_t i = 0; i < m; i++)
				U[i * k + j] = -U[i * k + j];
			for (int64_t i = 0; i < n; i++)
				Vt[j * n + i] = -Vt[j * n + i];
		}
	}
	return 0;
}

/* L (m×m lower, row-major) with A = L Q for the wide m×n matrix A, Q not
 * formed, by TSQR (Demmel et al., "Communication-optimal parallel and
 * sequential QR and LU factorizations", SIAM J. Sci. Comput. 34 (2012)):
 * the column-major view Aᵀ is cut into row blocks that fit in cache, each
 * block's R is stacked, and the stack is factored once more. One sweep
 * over A, where dgeqrf on a narrow panel would sweep it once per column. */
static int tsqr_l(const double *A, int64_t m, int64_t n, double *L)
{
	int64_t b = 65536 / m > 4 * m ? 65536 / m : 4 * m;
	b = b < n ? b : n;
	int64_t nb = (n + b - 1) / b, rows = b > m ? b : m, ld = nb * m;
	if (ld > INT_MAX || (int64_t)rows * m > INT_MAX / 2) {
		la_set_error("la_svd_left: %lld×%lld is out of range", (long long)m, (long long)n);
		return -1;
	}
	double *stack = ws(WS_A, (size_t)(ld * m) * sizeof *stack);
	double *blk = ws(WS_BLK, (size_t)(rows * m) * sizeof *blk);
	double *tau = ws(WS_TAU, (size_t)m * sizeof *tau), q1 = 0, q2 = 0, *work;
	lapack_int M = (lapack_int)m, lwork, info;
	if (!stack || !blk || !tau)
		return -1;
	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)rows, M, blk, (lapack_int)rows, tau,
				   &q1, -1);
	if (!info)
		info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)ld, M, stack, (lapack_int)ld, tau,
					   &q2, -1);
	if (info || !query_size("dgeqrf", q1 > q2 ? q1 : q2, &lwork)) {
		if (info)
			la_set_error("la_svd_left: dgeqrf workspace query failed (info %d)", (int)info);
		return -1;
	}
	if (!(work = ws(WS_WORK, (size_t)lwork * sizeof *work)))
		return -1;
	for (int64_t i = 0; i < nb; i++) {
		/* Block i of Aᵀ (column-major, zero rows below a short last block:
		 * they do not change R). */
		int64_t j0 = i * b, len = n - j0 < b ? n - j0 : b;
		for (int64_t c = 0; c < m; c++) {
			memcpy(blk + c * rows, A + c * n + j0, (size_t)len * sizeof *blk);
			memset(blk + c * rows + len, 0, (size_t)(rows - len) * sizeof *blk);
		}
		info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)rows, M, blk, (lapack_int)rows,
					   tau, work, lwork);
		if (info) {
			la_set_error("la_svd_left: dgeqrf failed (info %d)", (int)info);
			return -1;
		}
		for (int64_t c = 0; c < m; c++)
			for (int64_t r = 0; r < m; r++)
				stack[c * ld + i * m + r] = r <= c ? blk[c * rows + r] : 0;
	}
	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, (lapack_int)ld, M, stack, (lapack_int)ld, tau, work,
				   lwork);
	if (info) {
		la_set_error("la_svd_left: dgeqrf failed (info %d)", (int)info);
		return -1;
	}
	for (int64_t i = 0; i < m; i++) /* L = Rᵀ */
		for (int64_t j = 0; j < m; j++)
			L[i * m + j] = j <= i ? stack[i * ld + j] : 0;
	return 0;
}

int la_svd_left(const double *A, int64_t m, int64_t n, double *U, double *S)
{
	if (!dims_ok("la_svd_left", m, n))
		return -1;
	int64_t k = m < n ? m : n;
	if (k == 0)
		return 0;
	if (n <= m) { /* nothing to gain: the plain SVD, Vt into a workspace */
		double *Vt = ws(WS_PVT, (size_t)(k * n) * sizeof *Vt);
		return Vt ? la_svd(A, m, n, U, S, Vt) : -1;
	}
	if (!all_finite("la_svd_left", A, m * n))
		return -1;
	double *L = ws(WS_PU, (size_t)(m * m) * sizeof *L), *Vt = ws(WS_PVT, (size_t)(m * m) * sizeof *Vt);
	if (!L || !Vt || tsqr_l(A, m, n, L))
		return -1;
	return la_svd(L, m, m, U, S, Vt);
}

/* ------------------------------------------------------------- QR / LQ */

int la_qr(const double *A, int64_t m, int64_t n, double *Q, double *R)
{
	if (!dims_ok("la_qr", m, n))
		return -1;
	int64_t k = m < n ? m : n;
	if (k == 0)
		return 0;
	double *a = copy_in(A, m * n), *tau = ws(WS_TAU, (size_t)k * sizeof *tau), q = 0;
	if (!a || !tau)
		return -1;
	lapack_int M = (lapack_int)n, N = (lapack_int)m, K = (lapack_int)k, lwork, info;
	/* LQ of the column-major n×m view Aᵀ; one query covers both calls. */
	info = LAPACKE_dgelqf_work(LAPACK_COL_MAJOR, M, N, a, M, tau, &q, -1);
	double q2 = 0;
	if (!info)
		info = LAPACKE_dorglq_work(LAPACK_COL_MAJOR, K, N, K, a, M, tau, &q2, -1);
	if (info || !query_size("dgelqf", q > q2 ? q : q2, &lwork)) {
		if (info)
			la_set_error("la_qr: LAPACK workspace query failed (info %d)", (int)info);
		return -1;
	}
	double *work = ws(WS_WORK, (size_t)lwork * sizeof *work);
	if (!work)
		return -1;
	info = LAPACKE_dgelqf_work(LAPACK_COL_MAJOR, M, N, a, M, tau, work, lwork);
	if (info) {
		la_set_error("la_qr: dgelqf failed (info %d)", (int)info);
		return -1;
	}
	/* R = L'ᵀ sits in the first k rows of a, read row-major. */
	for (int64_t r = 0; r < k; r++)
		for (int64_t c = 0; c < n; c++)
			R[r * n + c] = c >= r ? a[r * n + c] : 0;
	info = LAPACKE_dorglq_work(LAPACK_COL_MAJOR, K, N, K, a, M, tau, work, lwork);
	if (info) {
		la_set_error("la_qr: dorglq failed (info %d)", (int)info);
		return -1;
	}
	for (int64_t i = 0; i < m; i++)
		memcpy(Q + i * k, a + i * n, (size_t)k * sizeof *Q);
	for (int64_t j = 0; j < k; j++)
		if (R[j * n + j] < 0) {
			for (int64_t c = j; c < n; c++)
				R[j * n + c] = -R[j * n + c];
			for (int64_t i = 0; i < m; i++)
				Q[i * k + j] = -Q[i * k + j];
		}
	return 0;
}

int la_lq(const double *A, int64_t m, int64_t n, double *L, double *Q)
{
	if (!dims_ok("la_lq", m, n))
		return -1;
	int64_t k = m < n ? m : n;
	if (k == 0)
		return 0;
	double *a = copy_in(A, m * n), *tau = ws(WS_TAU, (size_t)k * sizeof *tau), q = 0, q2 = 0;
	if (!a || !tau)
		return -1;
	lapack_int M = (lapack_int)n, N = (lapack_int)m, K = (lapack_int)k, lwork, info;
	/* QR of the column-major n×m view Aᵀ. */
	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, M, N, a, M, tau, &q, -1);
	if (!info)
		info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, M, K, K, a, M, tau, &q2, -1);
	if (info || !query_size("dgeqrf", q > q2 ? q : q2, &lwork)) {
		if (info)
			la_set_error("la_lq: LAPACK workspace query failed (info %d)", (int)info);
		return -1;
	}
	double *work = ws(WS_WORK, (size_t)lwork * sizeof *work);
	if (!work)
		return -1;
	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, M, N, a, M, tau, work, lwork);
	if (info) {
		la_set_error("la_lq: dgeqrf failed (info %d)", (int)info);
		return -1;
	}
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < k; j++)
			L[i * k + j] = j <= i ? a[i * n + j] : 0;
	info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, M, K, K, a, M, tau, work, lwork);
	if (info) {
		la_set_error("la_lq: dorgqr failed (info %d)", (int)info);
		return -1;
	}
	memcpy(Q, a, (size_t)(k * n) * sizeof *Q);
	for (int64_t j = 0; j < k; j++)
		if (L[j * k + j] < 0) {
			for (int64_t i = j; i < m; i++)
				L[i * k + j] = -L[i * k + j];
			for (int64_t c = 0; c < n; c++)
				Q[j * n + c] = -Q[j * n + c];
		}
	return 0;
}

/* ---------------------------------------------------------------- polar */

int la_polar(const double *A, int64_t m, int64_t n, double *Q)
{
	if (!dims_ok("la_polar", m, n))
		return -1;
	int64_t k = m < n ? m : n;
	if (k == 0)
		return 0;
	double *U = ws(WS_PU, (size_t)(m * k) * sizeof *U);
	double *S = ws(WS_PS, (size_t)k * sizeof *S);
	double *Vt = ws(WS_PVT, (size_t)(k * n) * sizeof *Vt);
	if (!U || !S || !Vt || la_svd(A, m, n, U, S, Vt))
		return -1;
	la_gemm(0, 0, m, n, k, 1.0, U, Vt, 0.0, Q);
	return 0;
}

/* ------------------------------------------------------------- symmetric */

int la_syev(const double *A, int64_t n, double *w, double *Z)
{
	if (!dims_ok("la_syev", n, n) || !all_finite("la_syev", A, n * n))
		return -1;
	if (n == 0)
		return 0;
	double *a = copy_in(A, n * n), q = 0;
	lapack_int N = (lapack_int)n, qi = 0, lwork, liwork, info;
	if (!a)
		return -1;
	/* Column-major 'L' is the row-major upper triangle. */
	info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', N, a, N, w, &q, -1, &qi, -1);
	if (info || !query_size("dsyevd", q, &lwork) || qi < 1) {
		if (info || qi < 1)
			la_set_error("la_syev: dsyevd workspace query failed (info %d)", (int)info);
		return -1;
	}
	liwork = qi;
	double *work = ws(WS_WORK, (size_t)lwork * sizeof *work);
	lapack_int *iwork = ws(WS_IWORK, (size_t)liwork * sizeof *iwork);
	if (!work || !iwork)
		return -1;
	info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', N, a, N, w, work, lwork, iwork, liwork);
	if (info) {
		la_set_error("la_syev: dsyevd %s (info %d)", info > 0 ? "did not converge" : "failed",
			     (int)info);
		return -1;
	}
	/* Eigenvector j is row j of a (column j of the column-major result). */
	for (int64_t j = 0; j < n; j++) {
		double sign = a[j * n + gauge_pivot(a + j * n, n, 1)] < 0 ? -1.0 : 1.0;
		for (int64_t i = 0; i < n; i++)
			Z[i * n + j] = sign * a[j * n + i];
	}
	return 0;
}

/* ----------------------------------------------------- CSD and Schur */

int la_csd(const double *X, int64_t n, double *U1, double *U2, double *V1t, double *V2t,
	   double *theta)
{
	if (!dims_ok("la_csd", n, n) || !all_finite("la_csd", X, n * n))
		return -1;
	if (n % 2) {
		la_set_error("la_csd: the matrix is %lld×%lld, not of even order", (long long)n,
			     (long long)n);
		return -1;
	}
	if (n == 0)
		return 0;
	lapack_int N = (lapack_int)n, h = N / 2, lwork, info;
	double *x = copy_in(X, n * n), q = 0, *work;
	lapack_int *iwork = ws(WS_IWORK, (size_t)h * sizeof *iwork);
	if (!x || !iwork)
		return -1;
	/* x read column-major is Xᵀ = diag(A1,A2) CS diag(B1t,B2t), so
	 * X = diag(B1tᵀ, -B2tᵀ) CS diag(A1ᵀ, -A2ᵀ) (J CSᵀ J = CS with
	 * J = diag(I,-I)); a column-major result read row-major is its
	 * transpose, so LAPACK's v1t is our U1, its u1 our V1t, and so on. */
	info = LAPACKE_dorcsd_work(LAPACK_COL_MAJOR, 'Y', 'Y', 'Y', 'Y', 'N', 'D', N, h, h, x, N,
				   x + (size_t)h * N, N, x + h, N, x + (size_t)h * N + h, N, theta,
				   V1t, h, V2t, h, U1, h, U2, h, &q, -1, iwork);
	if (info) {
		la_set_error("la_csd: dorcsd workspace query failed (info %d)", (int)info);
		return -1;
	}
	if (!query_size("la_csd: dorcsd", q, &lwork) ||
	    !(work = ws(WS_WORK, (size_t)lwork * sizeof *work)))
		return -1;
	info = LAPACKE_dorcsd_work(LAPACK_COL_MAJOR, 'Y', 'Y', 'Y', 'Y', 'N', 'D', N, h, h, x, N,
				   x + (size_t)h * N, N, x + h, N, x + (size_t)h * N + h, N, theta,
				   V1t, h, V2t, h, U1, h, U2, h, work, lwork, iwork);
	if (info) {
		la_set_error("la_csd: dorcsd %s (info %d)", info > 0 ? "did not converge" : "failed",
			     (int)info);
		return -1;
	}
	for (int64_t i = 0; i < (int64_t)h * h; i++) {
		U2[i] = -U2[i];
		V2t[i] = -V2t[i];
	}
	return 0;
}

int la_schur(const double *A, int64_t n, double *T, double *Q)
{
	if (!dims_ok("la_schur", n, n) || !all_finite("la_schur", A, n * n))
		return -1;
	if (n == 0)
		return 0;
	lapack_int N = (lapack_int)n, sdim = 0, lwork, info;
	double *a = ws(WS_A, (size_t)(n * n) * sizeof *a), q = 0, *work;
	double *vs = ws(WS_BLK, (size_t)(n * n) * sizeof *vs), *wr = ws(WS_TAU, (size_t)(2 * n) * sizeof *wr);
	if (!a || !vs || !wr)
		return -1;
	double *wi = wr + n;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++)
			a[j * n + i] = A[i * n + j];
	info = LAPACKE_dgees_work(LAPACK_COL_MAJOR, 'V', 'N', NULL, N, a, N, &sdim, wr, wi, vs, N,
				  &q, -1, NULL);
	if (info) {
		la_set_error("la_schur: dgees workspace query failed (info %d)", (int)info);
		return -1;
	}
	if (!query_size("la_schur: dgees", q, &lwork) ||
	    !(work = ws(WS_WORK, (size_t)lwork * sizeof *work)))
		return -1;
	info = LAPACKE_dgees_work(LAPACK_COL_MAJOR, 'V', 'N', NULL, N, a, N, &sdim, wr, wi, vs, N,
				  work, lwork, NULL);
	if (info) {
		la_set_error("la_schur: dgees %s (info %d)", info > 0 ? "did not converge" : "failed",
			     (int)info);
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++) {
			T[i * n + j] = a[j * n + i];
			Q[i * n + j] = vs[j * n + i];
		}
	return 0;
}

/* --------------------------------------------------- linear systems */

int la_solve(const double *A, int64_t n, const double *B, int64_t nrhs, double *X)
{
	if (!dims_ok("la_solve", n, n) || !dims_ok("la_solve", n, nrhs) ||
	    !all_finite("la_solve", A, n * n) || !all_finite("la_solve", B, n * nrhs))
		return -1;
	if (n == 0 || nrhs == 0)
		return 0;
	/* Column-major, a is Aᵀ: factor it and solve with trans = 'T'. The
	 * right-hand sides go in column-major (the transpose of B). */
	double *a = copy_in(A, n * n), *b = ws(WS_WORK, (size_t)(n * nrhs) * sizeof *b);
	lapack_int *ipiv = ws(WS_IWORK, (size_t)n * sizeof *ipiv), N = (lapack_int)n, info;
	if (!a || !b || !ipiv)
		return -1;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < nrhs; j++)
			b[j * n + i] = B[i * nrhs + j];
	info = LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, N, N, a, N, ipiv);
	if (info > 0) {
		la_set_error("la_solve: the %lld×%lld matrix is singular (U[%d,%d] = 0)", (long long)n,
			     (long long)n, (int)info, (int)info);
		return -1;
	}
	if (!info)
		info = LAPACKE_dgetrs_work(LAPACK_COL_MAJOR, 'T', N, (lapack_int)nrhs, a, N, ipiv, b, N);
	if (info) {
		la_set_error("la_solve: dgetrf/dgetrs rejected argument %d", (int)-info);
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < nrhs; j++)
			X[i * nrhs + j] = b[j * n + i];
	return 0;
}

int la_det_sign(const double *A, int64_t n)
{
	double buf[64 * 64], *a = n <= 64 ? buf : malloc((size_t)(n * n) * sizeof *a);
	int sign = 1;
	if (!a) {
		la_set_error("out of memory (%lldx%lld determinant)", (long long)n, (long long)n);
		return 0;
	}
	memcpy(a, A, (size_t)(n * n) * sizeof *a);
	for (int64_t j = 0; j < n; j++) {
		int64_t p = j;
		for (int64_t i = j + 1; i < n; i++)
			if (fabs(a[i * n + j]) > fabs(a[p * n + j]))
				p = i;
		if (a[p * n + j] == 0) {
			sign = 0;
			break;
		}
		if (p != j) {
			for (int64_t l = j; l < n; l++) {
				double t = a[j * n + l];
				a[j * n + l] = a[p * n + l];
				a[p * n + l] = t;
			}
			sign = -sign;
		}
		if (a[j * n + j] < 0)
			sign = -sign;
		for (int64_t i = j + 1; i < n; i++) {
			double f = a[i * n + j] / a[j * n + j];
			for (int64_t l = j + 1; l < n; l++)
				a[i * n + l] -= f * a[j * n + l];
		}
	}
	if (a != buf)
		free(a);
	return sign;
}

int la_cayley(const double *A, int64_t n, double *Q)
{
	if (!dims_ok("la_cayley", n, n))
		return -1;
	double *M = malloc((size_t)(2 * n * n + 1) * sizeof *M);
	if (!M) {
		la_set_error("out of memory (la_cayley)");
		return -1;
	}
	double *P = M + n * n;
	for (int64_t i = 0; i < n * n; i++) {
		M[i] = -0.5 * A[i];
		P[i] = 0.5 * A[i];
	}
	for (int64_t i = 0; i < n; i++) {
		M[i * n + i] += 1;
		P[i * n + i] += 1;
	}
	int rc = la_solve(M, n, P, n, Q);
	free(M);
	return rc;
}

int la_expm(const double *A, int64_t n, double *E)
{
	static const double b[14] = {64764752532480000., 32382376266240000., 7771770303897600.,
				     1187353796428800., 129060195264000., 10559470521600.,
				     670442572800., 33522128640., 1323241920., 40840800., 960960.,
				     16380., 182., 1.};
	const double theta13 = 5.371920351148152;
	if (!dims_ok("la_expm", n, n) || !all_finite("la_expm", A, n * n))
		return -1;
	if (n == 0)
		return 0;
	int64_t nn = n * n;
	double *buf = malloc((size_t)(8 * nn) * sizeof *buf);
	if (!buf) {
		la_set_error("out of memory (la_expm)");
		return -1;
	}
	double *A1 = buf, *A2 = A1 + nn, *A4 = A2 + nn, *A6 = A4 + nn, *U = A6 + nn, *V = U + nn;
	double *T = V + nn, *S = T + nn;
	/* Scale so that ‖A/2^s‖₁ ≤ θ13, where [13/13] Padé is exact to rounding. */
	double norm1 = 0;
	for (int64_t j = 0; j < n; j++) {
		double c = 0;
		for (int64_t i = 0; i < n; i++)
			c += fabs(A[i * n + j]);
		norm1 = c > norm1 ? c : norm1;
	}
	int s = norm1 > theta13 ? (int)ceil(log2(norm1 / theta13)) : 0;
	double scale = ldexp(1.0, -s);
	for (int64_t i = 0; i < nn; i++)
		A1[i] = A[i] * scale;
	la_gemm(0, 0, n, n, n, 1.0, A1, A1, 0.0, A2);
	la_gemm(0, 0, n, n, n, 1.0, A2, A2, 0.0, A4);
	la_gemm(0, 0, n, n, n, 1.0, A4, A2, 0.0, A6);
	/* U = A1 [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I],
	 * V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I. */
	for (int64_t i = 0; i < nn; i++) {
		T[i] = b[13] * A6[i] + b[11] * A4[i] + b[9] * A2[i];
		S[i] = b[12] * A6[i] + b[10] * A4[i] + b[8] * A2[i];
	}
	la_gemm(0, 0, n, n, n, 1.0, A6, T, 0.0, U);
	la_gemm(0, 0, n, n, n, 1.0, A6, S, 0.0, V);
	for (int64_t i = 0; i < nn; i++) {
		U[i] += b[7] * A6[i] + b[5] * A4[i] + b[3] * A2[i];
		V[i] += b[6] * A6[i] + b[4] * A4[i] + b[2] * A2[i];
	}
	for (int64_t i = 0; i < n; i++) {
		U[i * n + i] += b[1];
		V[i * n + i] += b[0];
	}
	la_gemm(0, 0, n, n, n, 1.0, A1, U, 0.0, T); /* T = U */
	for (int64_t i = 0; i < nn; i++) {
		S[i] = V[i] - T[i]; /* (V − U) R = V + U */
		U[i] = V[i] + T[i];
	}
	int rc = la_solve(S, n, U, n, E);
	for (int i = 0; i < s && !rc; i++) {
		la_gemm(0, 0, n, n, n, 1.0, E, E, 0.0, T);
		memcpy(E, T, (size_t)nn * sizeof *E);
	}
	free(buf);
	return rc;
}

/* ----------------------------------------------------------------- BLAS */

int la_set_threads(int n)
{
	if (n > 0)
		openblas_set_num_threads(n);
	return openblas_get_num_threads();
}

static blasint blas_dim(int64_t v)
{
	IR_ASSERT(v >= 0 && v <= INT_MAX);
	return (blasint)v;
}

void la_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha, const double *A,
	     const double *B, double beta, double *C)
{
	if (m == 0 || n == 0)
		return;
	blasint lda = blas_dim(ta ? m : k), ldb = blas_dim(tb ? k : n);
	cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    blas_dim(m), blas_dim(n), blas_dim(k), alpha, A, lda ? lda : 1, B, ldb ? ldb : 1,
		    beta, C, blas_dim(n));
}

void la_gemv(int ta, int64_t m, int64_t n, double alpha, const double *A, const double *x,
	     double beta, double *y)
{
	int64_t ny = ta ? n : m;
	if ((ta ? m : n) == 0) { /* BLAS would return early without scaling y */
		for (int64_t i = 0; i < ny; i++)
			y[i] = beta == 0 ? 0 : beta * y[i];
		return;
	}
	if (ny == 0)
		return;
	blasint lda = blas_dim(n);
	cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, blas_dim(m), blas_dim(n), alpha, A,
		    lda ? lda : 1, x, 1, beta, y, 1);
}

void la_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *A,
	      const float *B, float beta, float *C)
{
	if (m == 0 || n == 0)
		return;
	if (k == 0) { /* BLAS may skip the beta scaling when k is 0 */
		for (int64_t i = 0; i < m * n; i++)
			C[i] = beta == 0 ? 0 : beta * C[i];
		return;
	}
	blasint lda = blas_dim(ta ? m : k), ldb = blas_dim(tb ? k : n);
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    blas_dim(m), blas_dim(n), blas_dim(k), alpha, A, lda, B, ldb, beta, C,
		    blas_dim(n));
}
