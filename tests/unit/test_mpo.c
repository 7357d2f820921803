/* test_mpo.c - passes/mpo.c as property tests: full bond reconstructs W
 * (padding, N ≠ K, grouping); the discarded weight is the truncation error;
 * Kronecker products have bond 1; bit order and padding pinned by known
 * permutation and selection matrices; canonical forms; entropy of product
 * and maximally entangled operators; application to a batch and a matrix
 * equals the dense product; determinism; argument checks. */
#include "test.h"

#include <stdint.h>

#include "../../frontend/dataset.h"
#include "../../passes/la.h"
#include "../../passes/mpo.h"

static ds_rng rng = {0};

static double urand(void) { return 2 * ds_rng_uniform(&rng) - 1; } /* [-1, 1) */

static double *rand_mat(int64_t n)
{
	double *a = malloc((size_t)n * sizeof *a);
	for (int64_t i = 0; i < n; i++)
		a[i] = urand();
	return a;
}

static double frob2(const double *a, int64_t n)
{
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += a[i] * a[i];
	return s;
}

/* ‖A − B‖²_F / ‖B‖²_F. */
static double rel_err2(const double *A, const double *B, int64_t n)
{
	double d = 0;
	for (int64_t i = 0; i < n; i++)
		d += (A[i] - B[i]) * (A[i] - B[i]);
	return d / frob2(B, n);
}

static double *dense(const mpo *a)
{
	double *W = malloc((size_t)(a->rows * a->cols) * sizeof *W);
	if (mpo_to_dense(a, W)) {
		free(W);
		return NULL;
	}
	return W;
}

static int64_t core_len(const mpo *a, int k)
{
	return (int64_t)a->bond[k] * a->dout[k] * a->din[k] * a->bond[k + 1];
}

/* |⟨x, y⟩| / (‖x‖ ‖y‖): 1 when x ∝ y. */
static double cos_abs(const double *x, const double *y, int64_t n)
{
	double xy = 0;
	for (int64_t i = 0; i < n; i++)
		xy += x[i] * y[i];
	return fabs(xy) / sqrt(frob2(x, n) * frob2(y, n));
}

static void reconstruct_case(int64_t N, int64_t K, int g)
{
	double *W = rand_mat(N * K);
	mpo *a = mpo_from_dense(W, N, K, g, NULL, NULL);
	ASSERT(a && a->nsites == mpo_nsites(N, K, g) && a->center == a->nsites - 1);
	ASSERT(a->bond[0] == 1 && a->bond[a->nsites] == 1);
	int64_t po = 1, pi = 1;
	for (int k = 0; k < a->nsites; k++) {
		po *= a->dout[k];
		pi *= a->din[k];
	}
	ASSERT(po == (int64_t)1 << a->n_out && pi == (int64_t)1 << a->n_in);
	ASSERT(po >= N && po < 2 * N + (N == 1) && pi >= K && pi < 2 * K + (K == 1));
	double *R = dense(a);
	ASSERT(R && rel_err2(R, W, N * K) < 1e-24);
	ASSERT_NEAR(mpo_norm(a), sqrt(frob2(W, N * K)), 1e-12 * sqrt(frob2(W, N * K)));
	mpo_free(a);
	free(W), free(R);
}

static void test_reconstruct(void)
{
	ds_rng_seed(&rng, 11);
	const int64_t shapes[][2] = {{37, 50}, {64, 64}, {16, 256}, {256, 16}, {1, 1},
				     {1, 7}, {5, 1}, {3, 5}, {2, 2}};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		for (int g = 1; g <= 4; g++) {
			reconstruct_case(shapes[i][0], shapes[i][1], g);
			if (test_failures) {
				fprintf(stderr, "  at %lld×%lld, g = %d\n", (long long)shapes[i][0],
					(long long)shapes[i][1], g);
				return;
			}
		}
}

static void test_layout(void)
{
	ds_rng_seed(&rng, 12);
	double *W = rand_mat(16 * 256);
	/* 16×256: n = 4, m = 8; with g = 1 sites 5..8 have no output leg. */
	mpo *a = mpo_from_dense(W, 16, 256, 1, NULL, NULL);
	ASSERT(a && a->nsites == 8 && a->n_out == 4 && a->n_in == 8);
	for (int k = 0; k < 8; k++)
		ASSERT(a->dout[k] == (k < 4 ? 2 : 1) && a->din[k] == 2);
	/* Exact bonds are the full ranks min(left dims, right dims). */
	const int bonds[9] = {1, 4, 16, 64, 16, 8, 4, 2, 1};
	for (int k = 0; k <= 8; k++)
		ASSERT(a->bond[k] == bonds[k]);
	int64_t np = 0;
	for (int k = 0; k < 8; k++)
		np += core_len(a, k);
	ASSERT(mpo_nparams(a) == np);
	mpo_free(a);
	/* g = 3: positions {1,2,3}, {4,5,6}, {7,8}. */
	a = mpo_from_dense(W, 16, 256, 3, NULL, NULL);
	ASSERT(a && a->nsites == 3 && a->group == 3);
	ASSERT(a->dout[0] == 8 && a->dout[1] == 2 && a->dout[2] == 1);
	ASSERT(a->din[0] == 8 && a->din[1] == 8 && a->din[2] == 4);
	mpo_free(a);
	/* 37×50 pads to 64×64; N = K = 1 is one site with unit legs. */
	ASSERT(mpo_nsites(37, 50, 1) == 6 && mpo_nsites(37, 50, 4) == 2 && mpo_nsites(1, 1, 3) == 1);
	double one = 2.5;
	a = mpo_from_dense(&one, 1, 1, 1, NULL, NULL);
	ASSERT(a && a->nsites == 1 && a->dout[0] == 1 && a->din[0] == 1 && a->core[0][0] == 2.5);
	mpo_free(a);
	/* 16×16 exact: bonds 4, 16, 4 -> 16 + 256 + 256 + 16 parameters. */
	a = mpo_from_dense(W, 16, 16, 1, NULL, NULL);
	ASSERT(a && mpo_nparams(a) == 544);
	mpo_free(a);
	free(W);
}

/* Each single-bond truncation of a canonical MPO loses exactly its ε. */
static void test_truncate_bond(void)
{
	ds_rng_seed(&rng, 13);
	double *W = rand_mat(64 * 64);
	mpo *a = mpo_from_dense(W, 64, 64, 1, NULL, NULL);
	ASSERT(a);
	double *prev = dense(a);
	const int order[] = {3, 1, 5, 2, 4, 3};
	const mpo_trunc t = {3, 0};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		double eps = mpo_truncate_bond(a, order[i], &t);
		ASSERT(eps >= 0 && a->bond[order[i]] <= 3 && a->center == order[i]);
		double *cur = dense(a);
		ASSERT_NEAR(rel_err2(cur, prev, 64 * 64), eps, 1e-10);
		free(prev);
		prev = cur;
	}
	ASSERT(mpo_truncate_bond(a, 0, &t) == -1 && mpo_truncate_bond(a, 6, &t) == -1);
	mpo_free(a);
	free(W), free(prev);
}

/* A sweep: error² = 1 − Π(1 − ε_b) ≤ Σ ε_b, and TT-SVD with the policy
 * gives the same operator as exact TT-SVD followed by mpo_truncate. With
 * padding (37×50) weight may leak into the padded block, so the N×K error
 * is only bounded by the total. */
static void sweep_case(const double *W, int64_t N, int64_t K, int g, const mpo_trunc *t)
{
	int padded = (N & (N - 1)) || (K & (K - 1));
	mpo *a = mpo_from_dense(W, N, K, g, NULL, NULL), *b;
	double eps[16], eps2[16], sum = 0, prod = 1;
	ASSERT(a);
	int nb = a->nsites - 1;
	double total = mpo_truncate(a, t, eps);
	for (int k = 0; k < nb; k++) {
		sum += eps[k];
		prod *= 1 - eps[k];
		if (t->cutoff > 0 && t->max_bond == 0)
			ASSERT(eps[k] <= t->cutoff);
		if (t->max_bond)
			ASSERT(a->bond[k + 1] <= t->max_bond);
	}
	double *R = dense(a);
	double e2 = rel_err2(R, W, N * K);
	ASSERT(total > 0);
	ASSERT_NEAR(total, 1 - prod, 1e-10);
	ASSERT(total <= sum + 1e-12);
	if (padded)
		ASSERT(e2 <= total + 1e-10);
	else
		ASSERT_NEAR(e2, total, 1e-10);
	/* TT-SVD with the policy: same bonds, same operator. */
	b = mpo_from_dense(W, N, K, g, t, eps2);
	ASSERT(b);
	double *R2 = dense(b);
	for (int k = 0; k <= a->nsites; k++)
		ASSERT(a->bond[k] == b->bond[k]);
	for (int k = 0; k < nb; k++)
		ASSERT_NEAR(eps[k], eps2[k], 1e-10);
	ASSERT(rel_err2(R2, R, N * K) < 1e-20);
	mpo_free(a), mpo_free(b);
	free(R), free(R2);
}

static void test_truncate_sweep(void)
{
	ds_rng_seed(&rng, 14);
	const int64_t shapes[][2] = {{64, 32}, {37, 50}};
	const mpo_trunc pols[] = {{4, 0}, {0, 0.05}, {6, 0.01}, {1, 0}};
	for (size_t s = 0; s < 2; s++) {
		double *W = rand_mat(shapes[s][0] * shapes[s][1]);
		for (size_t p = 0; p < sizeof pols / sizeof pols[0]; p++)
			for (int g = 1; g <= 2; g++) {
				sweep_case(W, shapes[s][0], shapes[s][1], g, &pols[p]);
				if (test_failures) {
					fprintf(stderr, "  at %lld×%lld, policy %zu, g = %d\n",
						(long long)shapes[s][0], (long long)shapes[s][1], p, g);
					free(W);
					return;
				}
			}
		free(W);
	}
}

/* W = A_1 ⊗ ... ⊗ A_8 with A_1 on the most significant bit. */
static void test_kronecker(void)
{
	ds_rng_seed(&rng, 15);
	double A[8][4], *W = malloc(sizeof(double) * 256 * 256);
	for (int k = 0; k < 8; k++)
		for (int e = 0; e < 4; e++)
			A[k][e] = urand();
	for (int i = 0; i < 256; i++)
		for (int j = 0; j < 256; j++) {
			double v = 1;
			for (int k = 0; k < 8; k++)
				v *= A[k][((i >> (7 - k)) & 1) * 2 + ((j >> (7 - k)) & 1)];
			W[i * 256 + j] = v;
		}
	const mpo_trunc t = {0, 1e-20};
	for (int g = 1; g <= 2; g++) {
		mpo *a = mpo_from_dense(W, 256, 256, g, &t, NULL);
		ASSERT(a && a->nsites == 8 / g);
		for (int k = 0; k <= a->nsites; k++)
			ASSERT(a->bond[k] == 1);
		double *R = dense(a);
		ASSERT(rel_err2(R, W, 256 * 256) < 1e-24);
		if (g == 1) /* core k is proportional to A_k: pins the bit order */
			for (int k = 0; k < 8; k++)
				ASSERT_NEAR(cos_abs(a->core[k], A[k], 4), 1, 1e-12);
		double S[8];
		ASSERT(mpo_entropy(a, S) == 0);
		for (int k = 0; k < a->nsites - 1; k++)
			ASSERT_NEAR(S[k], 0, 1e-12);
		mpo_free(a);
		free(R);
	}
	free(W);
}

/* Core k of a bond-1 MPO against a 2×2 pattern (up to scale). */
static void expect_site(const mpo *a, int k, const double *pat, int n)
{
	ASSERT(a->bond[k] == 1 && a->bond[k + 1] == 1 && a->dout[k] * a->din[k] == n);
	ASSERT_NEAR(cos_abs(a->core[k], pat, n), 1, 1e-12);
}

static void test_bit_order(void)
{
	static const double I2[4] = {1, 0, 0, 1}, X2[4] = {0, 1, 1, 0}, e0[2] = {1, 0};
	const mpo_trunc t = {0, 1e-20};
	double W[64];
	/* i -> i XOR 1 toggles the least significant bit: the LAST site is X. */
	for (int flip = 1; flip <= 4; flip *= 4) {
		memset(W, 0, sizeof W);
		for (int i = 0; i < 8; i++)
			W[(i ^ flip) * 8 + i] = 1;
		mpo *a = mpo_from_dense(W, 8, 8, 1, &t, NULL);
		ASSERT(a && a->nsites == 3);
		for (int k = 0; k < 3; k++)
			expect_site(a, k, (flip == 1 ? k == 2 : k == 0) ? X2 : I2, 4);
		mpo_free(a);
	}
	/* Bit reversal swaps sites 1 and 3 through site 2: bonds 4 and 4. */
	memset(W, 0, sizeof W);
	for (int i = 0; i < 8; i++)
		W[(((i & 1) << 2) | (i & 2) | (i >> 2)) * 8 + i] = 1;
	mpo *a = mpo_from_dense(W, 8, 8, 1, &t, NULL);
	ASSERT(a && a->bond[1] == 4 && a->bond[2] == 4);
	double *R = dense(a);
	ASSERT(rel_err2(R, W, 64) < 1e-24);
	free(R);
	mpo_free(a);
	/* 2×8, W[o, j] = [j = 4o]: the output qubit pairs with the input MSB
	 * on site 1; sites 2 and 3 have only input legs, each projecting on 0. */
	memset(W, 0, sizeof W);
	W[0 * 8 + 0] = W[1 * 8 + 4] = 1;
	a = mpo_from_dense(W, 2, 8, 1, &t, NULL);
	ASSERT(a && a->nsites == 3 && a->dout[1] == 1 && a->dout[2] == 1);
	expect_site(a, 0, I2, 4);
	expect_site(a, 1, e0, 2);
	expect_site(a, 2, e0, 2);
	mpo_free(a);
	/* Padding: 3×5 is 4×8 with zeros; the last site has no output leg. */
	ds_rng_seed(&rng, 16);
	double *V = rand_mat(15);
	a = mpo_from_dense(V, 3, 5, 1, NULL, NULL);
	ASSERT(a && a->nsites == 3 && a->dout[2] == 1 && a->din[2] == 2);
	R = dense(a);
	ASSERT(rel_err2(R, V, 15) < 1e-24);
	mpo_free(a);
	free(R), free(V);
}

static void test_entropy(void)
{
	/* I⊗I + Z⊗Z = diag(2, 0, 0, 2): two equal Schmidt values -> log 2. */
	double D[16] = {0}, SW[16] = {0}, S[1];
	D[0] = D[15] = 2;
	mpo *a = mpo_from_dense(D, 4, 4, 1, NULL, NULL);
	ASSERT(a && mpo_entropy(a, S) == 0);
	ASSERT_NEAR(S[0], log(2), 1e-12);
	double *R = dense(a);
	ASSERT(rel_err2(R, D, 16) < 1e-24);
	free(R);
	mpo_free(a);
	/* SWAP = (II + XX + YY + ZZ)/2: four equal values -> log 4. */
	for (int i = 0; i < 4; i++)
		SW[(((i & 1) << 1) | (i >> 1)) * 4 + i] = 1;
	a = mpo_from_dense(SW, 4, 4, 1, NULL, NULL);
	ASSERT(a && mpo_entropy(a, S) == 0);
	ASSERT_NEAR(S[0], log(4), 1e-12);
	mpo_free(a);
	/* The zero operator has entropy 0. */
	memset(D, 0, sizeof D);
	a = mpo_from_dense(D, 4, 4, 1, NULL, NULL);
	ASSERT(a && mpo_entropy(a, S) == 0 && S[0] == 0 && mpo_norm(a) == 0);
	mpo_free(a);
}

/* max |MᵀM − I| or |M Mᵀ − I| for the rows×cols matrix M. */
static double orth_err(const double *M, int64_t rows, int64_t cols, int right)
{
	int64_t r = right ? rows : cols, len = right ? cols : rows;
	double e = 0;
	for (int64_t a = 0; a < r; a++)
		for (int64_t b = 0; b < r; b++) {
			double s = 0;
			for (int64_t i = 0; i < len; i++)
				s += right ? M[a * cols + i] * M[b * cols + i] : M[i * cols + a] * M[i * cols + b];
			e = fmax(e, fabs(s - (a == b)));
		}
	return e;
}

static void check_canonical(const mpo *a, int c)
{
	ASSERT(a->center == c);
	for (int k = 0; k < a->nsites; k++) {
		int64_t d = (int64_t)a->dout[k] * a->din[k];
		if (k < c)
			ASSERT(orth_err(a->core[k], a->bond[k] * d, a->bond[k + 1], 0) < 1e-12);
		if (k > c)
			ASSERT(orth_err(a->core[k], a->bond[k], d * a->bond[k + 1], 1) < 1e-12);
	}
}

static void test_canonical(void)
{
	ds_rng_seed(&rng, 17);
	double *W = rand_mat(37 * 50);
	mpo *a = mpo_from_dense(W, 37, 50, 1, NULL, NULL);
	ASSERT(a);
	check_canonical(a, a->nsites - 1); /* TT-SVD leaves it left-canonical */
	double nw = sqrt(frob2(W, 37 * 50));
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			a->center = -1; /* forget: full sweeps from both ends */
		for (int c = 0; c < a->nsites; c += 2) {
			ASSERT(mpo_canonicalize(a, c) == 0);
			check_canonical(a, c);
			ASSERT_NEAR(sqrt(frob2(a->core[c], core_len(a, c))), nw, 1e-12 * nw);
			ASSERT_NEAR(mpo_norm(a), nw, 1e-12 * nw);
			if (test_failures)
				return;
		}
	}
	double *R = dense(a);
	ASSERT(rel_err2(R, W, 37 * 50) < 1e-24);
	ASSERT(mpo_canonicalize(a, a->nsites) == -1 && mpo_canonicalize(a, -1) == -1);
	ASSERT_STR_CONTAINS(la_last_error(), "not a site");
	mpo_free(a);
	free(W), free(R);
}

static void apply_case(const double *W, int64_t N, int64_t K, int g, const mpo_trunc *t,
		       int64_t batch)
{
	mpo *a = mpo_from_dense(W, N, K, g, t, NULL);
	ASSERT(a);
	double *Wa = dense(a); /* the operator the MPO really is */
	double *X = rand_mat(batch * K), *Y = malloc(sizeof(double) * (size_t)(batch * N)),
	       *Yr = calloc((size_t)(batch * N), sizeof(double));
	double *C = malloc(sizeof(double) * (size_t)(N * batch)), *XT = malloc(sizeof(double) * (size_t)(K * batch));
	for (int64_t b = 0; b < batch; b++)
		for (int64_t i = 0; i < N; i++)
			for (int64_t j = 0; j < K; j++)
				Yr[b * N + i] += Wa[i * K + j] * X[b * K + j];
	ASSERT(mpo_apply(a, X, batch, Y) == 0);
	ASSERT(rel_err2(Y, Yr, batch * N) < 1e-24);
	/* The matrix form: C = W Xᵀ. */
	for (int64_t b = 0; b < batch; b++)
		for (int64_t j = 0; j < K; j++)
			XT[j * batch + b] = X[b * K + j];
	ASSERT(mpo_apply_matrix(a, XT, batch, C) == 0);
	for (int64_t b = 0; b < batch; b++)
		for (int64_t i = 0; i < N; i++)
			ASSERT_NEAR(C[i * batch + b], Y[b * N + i], 1e-12);
	mpo_free(a);
	free(Wa), free(X), free(Y), free(Yr), free(C), free(XT);
}

static void test_apply(void)
{
	ds_rng_seed(&rng, 18);
	const mpo_trunc t3 = {3, 0};
	const int64_t shapes[][2] = {{37, 50}, {16, 256}, {256, 16}, {1, 9}, {9, 1}, {1, 1}};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int64_t N = shapes[s][0], K = shapes[s][1];
		double *W = rand_mat(N * K);
		for (int g = 1; g <= 3; g++) {
			apply_case(W, N, K, g, NULL, 7);
			apply_case(W, N, K, g, &t3, 5);
			if (test_failures) {
				fprintf(stderr, "  at %lld×%lld, g = %d\n", (long long)N, (long long)K, g);
				free(W);
				return;
			}
		}
		free(W);
	}
	/* 64×64 exact: the state peaks at 4096 doubles per sample, so the
	 * scratch holds 16 samples and 40 take three chunks, the last partial. */
	double *W = rand_mat(64 * 64);
	apply_case(W, 64, 64, 1, NULL, 40);
	/* batch 0 is a no-op. */
	mpo *a = mpo_from_dense(W, 64, 64, 1, NULL, NULL);
	ASSERT(a && mpo_apply(a, W, 0, NULL) == 0);
	mpo_free(a);
	free(W);
}

static void test_deterministic_clone(void)
{
	ds_rng_seed(&rng, 19);
	double *W = rand_mat(50 * 40);
	const mpo_trunc t = {5, 1e-3};
	double eps[2];
	mpo *a = mpo_from_dense(W, 50, 40, 2, &t, eps), *b = mpo_from_dense(W, 50, 40, 2, &t, NULL);
	ASSERT(a && b && a->nsites == 3 && b->nsites == 3);
	for (int k = 0; k < a->nsites; k++) {
		ASSERT(a->bond[k + 1] == b->bond[k + 1]);
		ASSERT(memcmp(a->core[k], b->core[k], (size_t)core_len(a, k) * sizeof(double)) == 0);
	}
	/* A clone is equal and independent. */
	mpo *c = mpo_clone(a);
	ASSERT(c && c->center == a->center && mpo_nparams(c) == mpo_nparams(a));
	for (int k = 0; k < a->nsites; k++)
		ASSERT(memcmp(a->core[k], c->core[k], (size_t)core_len(a, k) * sizeof(double)) == 0);
	const mpo_trunc t2 = {2, 0};
	ASSERT(mpo_truncate(c, &t2, NULL) >= 0);
	ASSERT(mpo_truncate(b, &t2, NULL) >= 0);
	for (int k = 0; k < a->nsites; k++) {
		ASSERT(c->bond[k + 1] <= 2);
		ASSERT(memcmp(b->core[k], c->core[k], (size_t)core_len(b, k) * sizeof(double)) == 0);
	}
	double *Ra = dense(a);
	ASSERT(Ra && rel_err2(Ra, W, 50 * 40) <= 1 - (1 - eps[0]) * (1 - eps[1]) + 1e-12);
	mpo_free(a), mpo_free(b), mpo_free(c);
	free(W), free(Ra);
}

static void test_bad_args(void)
{
	double W[4] = {1, 2, 3, 4}, nanW[4] = {1, NAN, 3, 4};
	const mpo_trunc neg = {0, -1}, negb = {-2, 0}, nan = {0, NAN};
	ASSERT(mpo_from_dense(W, 0, 4, 1, NULL, NULL) == NULL);
	ASSERT_STR_CONTAINS(la_last_error(), "bad layout");
	ASSERT(mpo_from_dense(W, 2, 2, 0, NULL, NULL) == NULL);
	ASSERT(mpo_from_dense(W, 2, 2, 17, NULL, NULL) == NULL);
	ASSERT(mpo_nsites(2, 2, 0) == -1 && mpo_nsites(0, 1, 1) == -1);
	ASSERT(mpo_from_dense(W, 2, 2, 1, &neg, NULL) == NULL);
	ASSERT_STR_CONTAINS(la_last_error(), "invalid");
	ASSERT(mpo_from_dense(W, 2, 2, 1, &negb, NULL) == NULL);
	ASSERT(mpo_from_dense(W, 2, 2, 1, &nan, NULL) == NULL);
	ASSERT(mpo_from_dense(nanW, 2, 2, 1, NULL, NULL) == NULL);
	ASSERT_STR_CONTAINS(la_last_error(), "non-finite");
	mpo *a = mpo_from_dense(W, 2, 2, 1, NULL, NULL);
	ASSERT(a && a->nsites == 1);
	ASSERT(mpo_truncate(a, &neg, NULL) == -1);
	ASSERT(mpo_truncate(a, NULL, NULL) == 0); /* one site: no bond */
	ASSERT(mpo_truncate_bond(a, 1, NULL) == -1);
	mpo_free(a);
	mpo_free(NULL);
	la_release();
}

TEST_MAIN({"reconstruct", test_reconstruct}, {"layout", test_layout},
	  {"truncate_bond", test_truncate_bond}, {"truncate_sweep", test_truncate_sweep},
	  {"kronecker", test_kronecker}, {"bit_order", test_bit_order}, {"entropy", test_entropy},
	  {"canonical", test_canonical}, {"apply", test_apply},
	  {"deterministic_clone", test_deterministic_clone}, {"bad_args", test_bad_args})
