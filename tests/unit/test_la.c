/* test_la.c - passes/la.c (SVD with gauge and dgesvd retry, QR/LQ, polar,
 * symmetric eigen, gemm/gemv) and passes/tn.c (permute, reshape,
 * contraction, strided copy), each against naive loops or the defining
 * identities. Random inputs come from a fixed-seed generator. */
#include "test.h"

#include <stdint.h>

#include "../../frontend/dataset.h"
#include "../../passes/la.h"
#include "../../passes/tn.h"

static ds_rng rng = {0};

static double urand(void) { return 2 * ds_rng_uniform(&rng) - 1; } /* [-1, 1) */

static double *rand_mat(int64_t n)
{
	double *a = malloc((size_t)(n ? n : 1) * sizeof *a);
	for (int64_t i = 0; i < n; i++)
		a[i] = urand();
	return a;
}

/* C (m×n) = op(A) op(B), naive. */
static void naive_mm(int ta, int tb, int64_t m, int64_t n, int64_t k, const double *A,
		     const double *B, double *C)
{
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			double s = 0;
			for (int64_t p = 0; p < k; p++)
				s += (ta ? A[p * m + i] : A[i * k + p]) * (tb ? B[j * k + p] : B[p * n + j]);
			C[i * n + j] = s;
		}
}

/* max |QᵀQ - I| for Q m×k (orthonormal columns), or of Q Qᵀ if rows. */
static double orth_err(const double *Q, int64_t m, int64_t k, int rows)
{
	double e = 0;
	int64_t r = rows ? m : k, len = rows ? k : m;
	for (int64_t a = 0; a < r; a++)
		for (int64_t b = 0; b < r; b++) {
			double s = 0;
			for (int64_t i = 0; i < len; i++)
				s += rows ? Q[a * k + i] * Q[b * k + i] : Q[i * k + a] * Q[i * k + b];
			s -= a == b;
			if (fabs(s) > e)
				e = fabs(s);
		}
	return e;
}

/* The gauge: the first entry within 1e-10 of the largest magnitude is > 0. */
static int gauge_ok(const double *x, int64_t n, int64_t stride)
{
	double big = 0;
	for (int64_t i = 0; i < n; i++)
		big = fmax(big, fabs(x[i * stride]));
	for (int64_t i = 0; i < n; i++)
		if (fabs(x[i * stride]) >= big * (1 - 1e-10))
			return x[i * stride] > 0;
	return 0;
}

static void svd_case(int64_t m, int64_t n)
{
	int64_t k = m < n ? m : n;
	double *A = rand_mat(m * n), *U = malloc(sizeof(double) * (size_t)(m * k)),
	       *S = malloc(sizeof(double) * (size_t)k), *Vt = malloc(sizeof(double) * (size_t)(k * n)),
	       *R = calloc((size_t)(m * n), sizeof(double));
	ASSERT(la_svd(A, m, n, U, S, Vt) == 0);
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++)
			for (int64_t p = 0; p < k; p++)
				R[i * n + j] += U[i * k + p] * S[p] * Vt[p * n + j];
	ASSERT(max_abs_diff(A, R, m * n) < 1e-13);
	ASSERT(orth_err(U, m, k, 0) < 1e-13);
	ASSERT(orth_err(Vt, k, n, 1) < 1e-13);
	for (int64_t p = 0; p < k; p++) {
		ASSERT(S[p] >= 0 && (p == 0 || S[p] <= S[p - 1]));
		ASSERT(gauge_ok(U + p, m, k));
	}
	free(A), free(U), free(S), free(Vt), free(R);
}

static void test_svd(void)
{
	ds_rng_seed(&rng, 1);
	const int64_t shapes[][2] = {{7, 5}, {5, 7}, {1, 6}, {6, 1}, {1, 1}, {40, 40}, {3, 64}, {64, 3}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		svd_case(shapes[i][0], shapes[i][1]);
		if (test_failures)
			return;
	}
	/* Empty matrices are a no-op. */
	double dummy = 0;
	ASSERT(la_svd(&dummy, 0, 4, &dummy, &dummy, &dummy) == 0);
}

static void test_svd_gauge_reproducible(void)
{
	ds_rng_seed(&rng, 2);
	int64_t m = 9, n = 6, k = 6;
	double *A = rand_mat(m * n), U1[54], S1[6], V1[36], U2[54], S2[6], V2[36];
	ASSERT(la_svd(A, m, n, U1, S1, V1) == 0);
	ASSERT(la_svd(A, m, n, U2, S2, V2) == 0);
	ASSERT(memcmp(U1, U2, sizeof U1) == 0 && memcmp(S1, S2, sizeof S1) == 0 &&
	       memcmp(V1, V2, sizeof V1) == 0);
	/* -A: same U (the gauge decides its sign), negated Vt. */
	for (int64_t i = 0; i < m * n; i++)
		A[i] = -A[i];
	ASSERT(la_svd(A, m, n, U2, S2, V2) == 0);
	ASSERT(max_abs_diff(U1, U2, m * k) < 1e-13);
	ASSERT(max_abs_diff(S1, S2, k) < 1e-13);
	for (int64_t i = 0; i < k * n; i++)
		ASSERT_NEAR(V1[i], -V2[i], 1e-13);
	/* Ties that rounding may split (±1/√2 entries) resolve to the first
	 * entry: A = U diag(3, 1) with U = [[c, c], [c, -c]]. */
	double c = sqrt(0.5), Am[4] = {3 * c, c, 3 * c, -c}, Ur[4], Sr[2], Vr[4];
	ASSERT(la_svd(Am, 2, 2, Ur, Sr, Vr) == 0);
	ASSERT(Ur[0] > 0 && Ur[1] > 0 && Ur[2] > 0 && Ur[3] < 0);
	ASSERT_NEAR(Sr[0], 3, 1e-15);
	ASSERT_NEAR(Vr[0], 1, 1e-15);
	free(A);
}

static void test_svd_retry(void)
{
	ds_rng_seed(&rng, 3);
	int64_t m = 8, n = 5;
	double *A = rand_mat(m * n), U1[40], S1[5], V1[25], U2[40], S2[5], V2[25];
	ASSERT(la_svd(A, m, n, U1, S1, V1) == 0);
	int64_t before = la_svd_retries();
	la_debug_fail_svd(1); /* dgesdd "fails": dgesvd must take over */
	ASSERT(la_svd(A, m, n, U2, S2, V2) == 0);
	ASSERT(la_svd_retries() == before + 1);
	ASSERT(max_abs_diff(U1, U2, 40) < 1e-12);
	ASSERT(max_abs_diff(S1, S2, 5) < 1e-12);
	ASSERT(max_abs_diff(V1, V2, 25) < 1e-12);
	la_debug_fail_svd(2); /* both drivers fail */
	ASSERT(la_svd(A, m, n, U2, S2, V2) == -1);
	ASSERT_STR_CONTAINS(la_last_error(), "did not converge");
	ASSERT(la_svd(A, m, n, U2, S2, V2) == 0); /* hook used up */
	ASSERT(memcmp(U1, U2, sizeof U1) == 0);
	A[7] = NAN;
	ASSERT(la_svd(A, m, n, U2, S2, V2) == -1);
	ASSERT_STR_CONTAINS(la_last_error(), "non-finite");
	free(A);
}

/* Pinning the BLAS threads: same count, same bits. */
static void test_threads(void)
{
	ds_rng_seed(&rng, 11);
	int64_t m = 64, n = 64, k = 900;
	double *A = rand_mat(m * k), *C1 = malloc(sizeof(double) * 64 * 64), *C2 = malloc(sizeof(double) * 64 * 64);
	int before = la_set_threads(0);
	ASSERT(before >= 1);
	ASSERT(la_set_threads(1) == 1);
	la_gemm(0, 1, m, n, k, 1.0, A, A, 0.0, C1);
	la_set_threads(before);
	la_set_threads(1);
	la_gemm(0, 1, m, n, k, 1.0, A, A, 0.0, C2);
	ASSERT(memcmp(C1, C2, sizeof(double) * 64 * 64) == 0);
	ASSERT(la_set_threads(before) == before);
	free(A), free(C1), free(C2);
}

/* la_svd_left agrees with la_svd, through TSQR with one block, several
 * blocks, and a last block shorter than m. */
static void test_svd_left(void)
{
	ds_rng_seed(&rng, 10);
	const int64_t shapes[][2] = {{4, 16386}, {3, 40000}, {300, 2000}, {5, 5}, {9, 4}, {1, 70000}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		int64_t m = shapes[i][0], n = shapes[i][1], k = m < n ? m : n;
		double *A = rand_mat(m * n), *U = malloc(sizeof(double) * (size_t)(m * k));
		double *U2 = malloc(sizeof(double) * (size_t)(m * k)), *S = malloc(sizeof(double) * (size_t)k);
		double *S2 = malloc(sizeof(double) * (size_t)k), *Vt = malloc(sizeof(double) * (size_t)(k * n));
		ASSERT(la_svd(A, m, n, U, S, Vt) == 0);
		ASSERT(la_svd_left(A, m, n, U2, S2) == 0);
		ASSERT(max_abs_diff(S, S2, k) < 1e-12 * S[0]);
		ASSERT(max_abs_diff(U, U2, m * k) < 1e-10);
		ASSERT(orth_err(U2, m, k, 0) < 1e-13);
		free(A), free(U), free(U2), free(S), free(S2), free(Vt);
		if (test_failures) {
			fprintf(stderr, "  at %lld×%lld\n", (long long)m, (long long)n);
			return;
		}
	}
}

static void qr_case(int64_t m, int64_t n, int lq)
{
	int64_t k = m < n ? m : n;
	double *A = rand_mat(m * n), *F1 = malloc(sizeof(double) * (size_t)(m * k)),
	       *F2 = malloc(sizeof(double) * (size_t)(k * n)), *R = malloc(sizeof(double) * (size_t)(m * n));
	if (m > 2) /* a zero column makes the factorisation rank deficient */
		for (int64_t i = 0; i < m; i++)
			A[i * n] = 0;
	if (!lq) { /* A = Q (m×k) R (k×n) */
		ASSERT(la_qr(A, m, n, F1, F2) == 0);
		ASSERT(orth_err(F1, m, k, 0) < 1e-13);
		for (int64_t r = 0; r < k; r++) {
			ASSERT(F2[r * n + r] >= 0);
			for (int64_t c = 0; c < r; c++)
				ASSERT(F2[r * n + c] == 0);
		}
	} else { /* A = L (m×k) Q (k×n) */
		ASSERT(la_lq(A, m, n, F1, F2) == 0);
		ASSERT(orth_err(F2, k, n, 1) < 1e-13);
		for (int64_t r = 0; r < k; r++) {
			ASSERT(F1[r * k + r] >= 0);
			for (int64_t c = r + 1; c < k; c++)
				ASSERT(F1[r * k + c] == 0);
		}
	}
	naive_mm(0, 0, m, n, k, F1, F2, R);
	ASSERT(max_abs_diff(A, R, m * n) < 1e-13);
	free(A), free(F1), free(F2), free(R);
}

static void test_qr_lq(void)
{
	ds_rng_seed(&rng, 4);
	const int64_t shapes[][2] = {{6, 4}, {4, 6}, {5, 5}, {1, 3}, {3, 1}, {1, 1}, {50, 20}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		for (int lq = 0; lq < 2; lq++) {
			qr_case(shapes[i][0], shapes[i][1], lq);
			if (test_failures)
				return;
		}
}

static double trace_tn(const double *Q, const double *A, int64_t n) /* Tr(Qᵀ A) */
{
	double t = 0;
	for (int64_t i = 0; i < n * n; i++)
		t += Q[i] * A[i];
	return t;
}

static void test_polar(void)
{
	ds_rng_seed(&rng, 5);
	enum { N = 5 };
	double *A = rand_mat(N * N), Q[N * N], G[N * N], O[N * N], Rr[N * N], QO[N * N], P[N * N];
	ASSERT(la_polar(A, N, N, Q) == 0);
	ASSERT(orth_err(Q, N, N, 0) < 1e-13);
	/* P = Qᵀ A is symmetric positive semidefinite. */
	naive_mm(1, 0, N, N, N, Q, A, P);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			ASSERT_NEAR(P[i * N + j], P[j * N + i], 1e-13);
	double best = trace_tn(Q, A, N);
	/* No orthogonal matrix near Q (Q·O, O orthogonal from the QR of
	 * I + εG) or far from it does better. */
	for (int trial = 0; trial < 40; trial++) {
		double eps = trial < 30 ? 0.01 * (trial + 1) : 10.0;
		for (int i = 0; i < N * N; i++)
			G[i] = (i % (N + 1) == 0) + eps * urand();
		ASSERT(la_qr(G, N, N, O, Rr) == 0);
		naive_mm(0, 0, N, N, N, Q, O, QO);
		ASSERT(trace_tn(QO, A, N) <= best + 1e-12);
	}
	/* An orthogonal matrix is its own polar factor. */
	ASSERT(la_polar(Q, N, N, P) == 0);
	ASSERT(max_abs_diff(P, Q, N * N) < 1e-13);
	/* Rectangular: orthonormal columns, Qᵀ A symmetric. */
	double *B = rand_mat(6 * 3), Qb[18], Pb[9];
	ASSERT(la_polar(B, 6, 3, Qb) == 0);
	ASSERT(orth_err(Qb, 6, 3, 0) < 1e-13);
	naive_mm(1, 0, 3, 3, 6, Qb, B, Pb);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			ASSERT_NEAR(Pb[i * 3 + j], Pb[j * 3 + i], 1e-13);
	free(A), free(B);
}

static void test_syev(void)
{
	ds_rng_seed(&rng, 6);
	enum { N = 7 };
	double *G = rand_mat(N * N), A[N * N], w[N], Z[N * N], AZ[N * N];
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			A[i * N + j] = G[i * N + j] + G[j * N + i];
	ASSERT(la_syev(A, N, w, Z) == 0);
	ASSERT(orth_err(Z, N, N, 0) < 1e-13);
	naive_mm(0, 0, N, N, N, A, Z, AZ);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			ASSERT_NEAR(AZ[i * N + j], Z[i * N + j] * w[j], 1e-12);
	for (int j = 0; j < N; j++) {
		ASSERT(j == 0 || w[j] >= w[j - 1]);
		ASSERT(gauge_ok(Z + j, N, N));
	}
	/* Only the upper triangle is read. */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < i; j++)
			A[i * N + j] = 1e30;
	double w2[N], Z2[N * N];
	ASSERT(la_syev(A, N, w2, Z2) == 0);
	ASSERT(max_abs_diff(w, w2, N) < 1e-12);
	free(G);
}

static void test_gemm(void)
{
	ds_rng_seed(&rng, 7);
	int64_t m = 5, n = 4, k = 3;
	double *A = rand_mat(m * k), *B = rand_mat(k * n), *C0 = rand_mat(m * n), C[20], R[20];
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			/* The same buffers read as op(A) m×k and op(B) k×n. */
			naive_mm(ta, tb, m, n, k, A, B, R);
			for (int i = 0; i < 20; i++)
				R[i] = 2 * R[i] + 0.5 * C0[i];
			memcpy(C, C0, sizeof C);
			la_gemm(ta, tb, m, n, k, 2.0, A, B, 0.5, C);
			ASSERT(max_abs_diff(C, R, 20) < 1e-14);
		}
	/* k = 0 scales C by beta. */
	memcpy(C, C0, sizeof C);
	la_gemm(0, 0, m, n, 0, 1.0, A, B, 3.0, C);
	for (int i = 0; i < 20; i++)
		ASSERT_NEAR(C[i], 3 * C0[i], 1e-15);
	/* gemv both ways against gemm with one column. */
	double x[5], y[5], yr[5];
	for (int i = 0; i < 5; i++)
		x[i] = urand();
	la_gemv(0, m, k, 1.0, A, x, 0.0, y);
	naive_mm(0, 0, m, 1, k, A, x, yr);
	ASSERT(max_abs_diff(y, yr, m) < 1e-14);
	la_gemv(1, m, k, 1.0, A, x, 0.0, y);
	naive_mm(1, 0, k, 1, m, A, x, yr);
	ASSERT(max_abs_diff(y, yr, k) < 1e-14);
	free(A), free(B), free(C0);
}

/* ------------------------------------------------------------------ tn */

static int64_t offset_of(const int64_t *dims, int rank, const int64_t *idx)
{
	int64_t o = 0;
	for (int i = 0; i < rank; i++)
		o = o * dims[i] + idx[i];
	return o;
}

static void decode(int64_t lin, const int64_t *dims, int rank, int64_t *idx)
{
	for (int i = rank - 1; i >= 0; i--) {
		idx[i] = lin % dims[i];
		lin /= dims[i];
	}
}

static void test_tn_permute(void)
{
	ds_rng_seed(&rng, 8);
	const int64_t dims[5] = {2, 3, 1, 4, 5};
	double *src = rand_mat(120);
	tn_tensor *t = tn_from(5, dims, src);
	ASSERT(t && t->size == 120 && t->strides[0] == 60 && t->strides[4] == 1);
	const int perms[][5] = {{3, 0, 4, 2, 1}, {0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {0, 1, 3, 2, 4}, {1, 0, 2, 3, 4}};
	for (size_t p = 0; p < sizeof perms / sizeof perms[0]; p++) {
		tn_tensor *o = tn_permute(t, perms[p]);
		ASSERT(o && o->rank == 5);
		for (int64_t lin = 0; lin < 120; lin++) {
			int64_t oi[5], si[5];
			decode(lin, o->dims, 5, oi);
			for (int i = 0; i < 5; i++) {
				ASSERT(o->dims[i] == dims[perms[p][i]]);
				si[perms[p][i]] = oi[i];
			}
			ASSERT(o->data[lin] == src[offset_of(dims, 5, si)]);
		}
		tn_free(o);
	}
	int bad[5] = {0, 0, 1, 2, 3};
	ASSERT(tn_permute(t, bad) == NULL);
	ASSERT_STR_CONTAINS(la_last_error(), "not a permutation");
	/* Reshape keeps the data; a size mismatch is refused. */
	int64_t nd[2] = {6, 20}, wrong[2] = {7, 20};
	ASSERT(tn_reshape(t, 2, nd) == 0 && t->strides[0] == 20 && t->data[37] == src[37]);
	ASSERT(tn_reshape(t, 2, wrong) == -1);
	ASSERT_STR_CONTAINS(la_last_error(), "cannot take");
	/* A large transpose through the blocked kernel. */
	double *T = malloc(sizeof(double) * 70 * 45);
	double *M = rand_mat(70 * 45);
	tn_copy2d(T, 70, 1, M, 1, 45, 45, 70); /* T (45×70) = Mᵀ */
	for (int i = 0; i < 70; i++)
		for (int j = 0; j < 45; j++)
			ASSERT(T[j * 70 + i] == M[i * 45 + j]);
	tn_free(t);
	free(src), free(T), free(M);
}

/* The axes of a rank-r tensor not among ax[0..nax), in order. */
static int free_axes(int r, int nax, const int *ax, int *out)
{
	int n = 0;
	for (int i = 0; i < r; i++) {
		int c = 0;
		for (int j = 0; j < nax; j++)
			c |= ax[j] == i;
		if (!c)
			out[n++] = i;
	}
	return n;
}

/* tensordot by definition, for the check. */
static void naive_contract(const tn_tensor *A, int nax, const int *axA, const tn_tensor *B,
			   const int *axB, const tn_tensor *C)
{
	int freeA[TN_MAX_RANK], freeB[TN_MAX_RANK];
	int nfa = free_axes(A->rank, nax, axA, freeA), nfb = free_axes(B->rank, nax, axB, freeB);
	int64_t kd[TN_MAX_RANK], K = 1;
	for (int j = 0; j < nax; j++)
		K *= (kd[j] = A->dims[axA[j]]);
	for (int64_t lin = 0; lin < C->size; lin++) {
		int64_t ci[TN_MAX_RANK], ai[TN_MAX_RANK], bi[TN_MAX_RANK], ki[TN_MAX_RANK];
		decode(lin, C->dims, C->rank, ci);
		for (int i = 0; i < nfa; i++)
			ai[freeA[i]] = ci[i];
		for (int i = 0; i < nfb; i++)
			bi[freeB[i]] = ci[nfa + i];
		double s = 0;
		for (int64_t kl = 0; kl < K; kl++) {
			decode(kl, kd, nax, ki);
			for (int j = 0; j < nax; j++)
				ai[axA[j]] = bi[axB[j]] = ki[j];
			s += A->data[offset_of(A->dims, A->rank, ai)] * B->data[offset_of(B->dims, B->rank, bi)];
		}
		C->data[lin] = s;
	}
}

static void contract_case(int ra, const int64_t *da, int rb, const int64_t *db, int nax,
			  const int *axA, const int *axB)
{
	tn_tensor *A = tn_new(ra, da), *B = tn_new(rb, db);
	for (int64_t i = 0; i < A->size; i++)
		A->data[i] = urand();
	for (int64_t i = 0; i < B->size; i++)
		B->data[i] = urand();
	tn_tensor *C = tn_contract(A, nax, axA, B, axB);
	ASSERT(C && C->rank == ra + rb - 2 * nax);
	tn_tensor *R = tn_new(C->rank, C->dims);
	naive_contract(A, nax, axA, B, axB, R);
	ASSERT(max_abs_diff(C->data, R->data, C->size) < 1e-13);
	tn_free(A), tn_free(B), tn_free(C), tn_free(R);
}

static void test_tn_contract(void)
{
	ds_rng_seed(&rng, 9);
	{ /* trailing × leading: straight to dgemm */
		int64_t da[3] = {2, 3, 4}, db[2] = {4, 5};
		int a[1] = {2}, b[1] = {0};
		contract_case(3, da, 2, db, 1, a, b);
	}
	{ /* A's contracted axes leading (transposed A), B's trailing (transposed B) */
		int64_t da[3] = {4, 3, 2}, db[3] = {5, 4, 3};
		int a[2] = {0, 1}, b[2] = {1, 2};
		contract_case(3, da, 3, db, 2, a, b);
	}
	{ /* scattered axes in a different order on each side: permutes */
		int64_t da[4] = {3, 2, 4, 5}, db[3] = {5, 6, 3};
		int a[2] = {3, 0}, b[2] = {0, 2};
		contract_case(4, da, 3, db, 2, a, b);
	}
	{ /* full contraction to a scalar, and an outer product */
		int64_t da[2] = {3, 4};
		int a[2] = {1, 0}, b[2] = {1, 0};
		contract_case(2, da, 2, da, 2, a, b);
		contract_case(2, da, 2, da, 0, NULL, NULL);
	}
	{ /* mismatched dims are refused */
		int64_t da[2] = {3, 4}, db[2] = {5, 4};
		tn_tensor *A = tn_new(2, da), *B = tn_new(2, db);
		int a[1] = {0}, b[1] = {0};
		ASSERT(tn_contract(A, 1, a, B, b) == NULL);
		ASSERT_STR_CONTAINS(la_last_error(), "has dim");
		tn_free(A), tn_free(B);
	}
	/* A view over a caller's buffer contracts like an owned tensor. */
	double buf[6] = {1, 2, 3, 4, 5, 6};
	int64_t dv[2] = {2, 3};
	tn_tensor v = tn_view(2, dv, buf);
	int a[1] = {1}, b[1] = {1};
	tn_tensor *G = tn_contract(&v, 1, a, &v, b); /* v vᵀ */
	ASSERT(G && G->data[0] == 14 && G->data[1] == 32 && G->data[3] == 77);
	tn_free(G);
	la_release();
}

/* det by cofactor expansion along the first row (n ≤ 6): the reference. */
static double det_laplace(const double *A, int n)
{
	if (n == 1)
		return A[0];
	double d = 0, M[36];
	for (int c = 0; c < n; c++) {
		for (int i = 1; i < n; i++)
			for (int j = 0, k = 0; j < n; j++)
				if (j != c)
					M[(i - 1) * (n - 1) + k++] = A[i * n + j];
		d += (c % 2 ? -1 : 1) * A[c] * det_laplace(M, n - 1);
	}
	return d;
}

/* la_det_sign: against cofactor expansion for n ≤ 6; on both sides of its
 * 64×64 stack buffer, negating a row flips the sign, swapping two rows
 * flips it back, two equal rows give 0. */
static void test_det_sign(void)
{
	for (int n = 1; n <= 6; n++)
		for (int t = 0; t < 20; t++) {
			double *A = rand_mat(n * n), d = det_laplace(A, n);
			if (fabs(d) > 1e-9)
				ASSERT(la_det_sign(A, n) == (d > 0 ? 1 : -1));
			free(A);
		}
	static const int64_t ns[] = {2, 64, 65, 100};
	for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
		int64_t n = ns[c];
		double *A = rand_mat(n * n);
		int s = la_det_sign(A, n);
		ASSERT(s == 1 || s == -1);
		for (int64_t l = 0; l < n; l++)
			A[l] = -A[l];
		ASSERT(la_det_sign(A, n) == -s);
		for (int64_t l = 0; l < n; l++) {
			double t = A[l];
			A[l] = A[n + l];
			A[n + l] = t;
		}
		ASSERT(la_det_sign(A, n) == s);
		memcpy(A + n, A, sizeof(double) * (size_t)n);
		ASSERT(la_det_sign(A, n) == 0);
		free(A);
	}
}

TEST_MAIN({"svd", test_svd}, {"svd_gauge_reproducible", test_svd_gauge_reproducible},
	  {"svd_retry", test_svd_retry}, {"svd_left", test_svd_left}, {"threads", test_threads}, {"qr_lq", test_qr_lq}, {"polar", test_polar},
	  {"syev", test_syev}, {"gemm", test_gemm}, {"tn_permute", test_tn_permute},
	  {"tn_contract", test_tn_contract}, {"det_sign", test_det_sign})
