/* mpo.c - matrix product operators: TT-SVD, canonical forms, truncation at
 * the orthogonality centre, entropy, norm, dense conversion and batched
 * application (conventions, policy and references in mpo.h).
 *
 * Maths. Pairing the legs per site turns W into a tensor T[o_1 p_1, o_2
 * p_2, ..., o_S p_S]; TT-SVD (Oseledets 2011, Alg. 1) peels one site at a
 * time: SVD of T reshaped as (χ_{k-1} d_k) × rest, the kept left singular
 * vectors U become core k and the projection Uᵀ T = diag(σ) Vᵀ carries on
 * (la_svd_left: TSQR plus a small SVD, so Vᵀ is never formed and each step
 * sweeps the remainder about twice). Every core so made is
 * left-orthogonal, so the SVD at step k is the Schmidt decomposition of the
 * whole (already truncated) operator across bond k and dropping σ's there
 * costs exactly their squared sum, orthogonally to the other bonds' errors
 * (Schollwöck 2011, §4.5). mpo_truncate does the same sweep on an existing
 * MPO after making it right-canonical with LQ sweeps (§4.4).
 *
 * Application contracts one core per step with the state kept as a matrix
 * (χ_{k-1} din_k) × rest, rest = (din_{k+1}..din_S, batch, dout_1..dout_{k-1}):
 * one dgemm with the core (permuted once to (χ, din, dout, χ')) gives
 * (dout_k χ_k) × rest, and moving dout_k to the end (a 2-D transpose)
 * restores the invariant for site k+1. After the last site the state is
 * (batch, dout_1..dout_S) = batch × 2^n.
 */
#include "mpo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"
#include "la.h"
#include "tn.h"

#define MPO_MAX_SITES 64
/* Doubles per scratch buffer in mpo_apply: batches go in chunks whose two
 * state buffers (512 KB each) stay in L2 across the per-site steps, which
 * measured 2-4x faster than one big chunk at 4096² (bench_mpo). */
#ifndef MPO_APPLY_BUDGET
#define MPO_APPLY_BUDGET ((int64_t)1 << 16)
#endif

static int qubits_for(int64_t n)
{
	int q = 0;
	while (q < 62 && ((int64_t)1 << q) < n)
		q++;
	return q;
}

int mpo_nsites(int64_t N, int64_t K, int group)
{
	if (N < 1 || K < 1 || group < 1 || group > 16)
		return -1;
	int n = qubits_for(N), m = qubits_for(K), q = n > m ? n : m;
	if (q < 1)
		q = 1;
	return (q + group - 1) / group;
}

/* Qubit positions ≤ nq among those site k holds. */
static int leg_bits(int k, int group, int nq)
{
	int lo = k * group, hi = lo + group < nq ? lo + group : nq;
	return hi > lo ? hi - lo : 0;
}

static int64_t core_size(const mpo *a, int k)
{
	return (int64_t)a->bond[k] * a->dout[k] * a->din[k] * a->bond[k + 1];
}

static int trunc_ok(const mpo_trunc *t)
{
	if (t && (t->max_bond < 0 || !(t->cutoff >= 0) || !isfinite(t->cutoff))) {
		la_set_error("truncation policy {max_bond %d, cutoff %g} is invalid", t->max_bond,
			     t->cutoff);
		return 0;
	}
	return 1;
}

/* The layout of an N×K MPO with every bond 1 and no cores yet. */
static mpo *mpo_alloc(int64_t N, int64_t K, int group)
{
	int S = mpo_nsites(N, K, group);
	if (S < 0) {
		la_set_error("mpo: bad layout %lld×%lld with %d qubits per site", (long long)N,
			     (long long)K, group);
		return NULL;
	}
	int n = qubits_for(N), m = qubits_for(K);
	if (n + m > 60) {
		la_set_error("mpo: a %lld×%lld layer is too large", (long long)N, (long long)K);
		return NULL;
	}
	mpo *a = calloc(1, sizeof *a);
	if (!a || !(a->dout = calloc((size_t)S, sizeof(int))) ||
	    !(a->din = calloc((size_t)S, sizeof(int))) ||
	    !(a->bond = calloc((size_t)S + 1, sizeof(int))) ||
	    !(a->core = calloc((size_t)S, sizeof(double *)))) {
		la_set_error("out of memory (mpo header)");
		mpo_free(a);
		return NULL;
	}
	a->nsites = S;
	a->n_out = n;
	a->n_in = m;
	a->rows = N;
	a->cols = K;
	a->group = group;
	a->center = -1;
	for (int k = 0; k < S; k++) {
		a->dout[k] = 1 << leg_bits(k, group, n);
		a->din[k] = 1 << leg_bits(k, group, m);
	}
	for (int k = 0; k <= S; k++)
		a->bond[k] = 1;
	return a;
}

mpo *mpo_new(int64_t N, int64_t K, int group, const int *bond)
{
	mpo *a = mpo_alloc(N, K, group);
	if (!a)
		return NULL;
	int S = a->nsites;
	if (bond && (bond[0] != 1 || bond[S] != 1)) {
		la_set_error("mpo_new: end bonds must be 1 (got %d and %d)", bond[0], bond[S]);
		mpo_free(a);
		return NULL;
	}
	for (int k = 0; bond && k <= S; k++) {
		if (bond[k] < 1) {
			la_set_error("mpo_new: bond %d is %d", k, bond[k]);
			mpo_free(a);
			return NULL;
		}
		a->bond[k] = bond[k];
	}
	for (int k = 0; k < S; k++) {
		/* The product of four ints can overflow int64: bound it first. */
		double sz = (double)a->bond[k] * a->dout[k] * a->din[k] * a->bond[k + 1];
		if (sz > 0x1p60) {
			la_set_error("mpo_new: core %d (%d×%d×%d×%d) is too large", k, a->bond[k],
				     a->dout[k], a->din[k], a->bond[k + 1]);
			mpo_free(a);
			return NULL;
		}
		if (!(a->core[k] = tn_alloc(core_size(a, k)))) {
			mpo_free(a);
			return NULL;
		}
	}
	return a;
}

void mpo_free(mpo *a)
{
	if (!a)
		return;
	for (int k = 0; a->core && k < a->nsites; k++)
		free(a->core[k]);
	free(a->core);
	free(a->dout);
	free(a->din);
	free(a->bond);
	free(a);
}

mpo *mpo_clone(const mpo *a)
{
	mpo *c = mpo_alloc(a->rows, a->cols, a->group);
	if (!c)
		return NULL;
	memcpy(c->bond, a->bond, ((size_t)a->nsites + 1) * sizeof *c->bond);
	for (int k = 0; k < a->nsites; k++) {
		int64_t sz = core_size(a, k);
		if (!(c->core[k] = tn_alloc(sz))) {
			mpo_free(c);
			return NULL;
		}
		memcpy(c->core[k], a->core[k], (size_t)sz * sizeof(double));
	}
	c->center = a->center;
	return c;
}

int64_t mpo_nparams(const mpo *a)
{
	int64_t s = 0;
	for (int k = 0; k < a->nsites; k++)
		s += core_size(a, k);
	return s;
}

/* The one place that maps W's (row i, column j) to the site-paired tensor
 * (o_1, p_1, ..., o_S, p_S): the offset is rowoff[i] + coloff[j]. Both
 * indices are read in mixed radix dout (din), site 1 most significant. */
static void site_offsets(const mpo *a, int64_t *rowoff, int64_t *coloff)
{
	int64_t st[MPO_MAX_SITES];
	int S = a->nsites;
	st[S - 1] = 1;
	for (int k = S - 2; k >= 0; k--)
		st[k] = st[k + 1] * a->dout[k + 1] * a->din[k + 1];
	for (int64_t i = 0; i < a->rows; i++) {
		int64_t r = i, off = 0;
		for (int k = S - 1; k >= 0; k--) {
			off += (r % a->dout[k]) * a->din[k] * st[k];
			r /= a->dout[k];
		}
		rowoff[i] = off;
	}
	for (int64_t j = 0; j < a->cols; j++) {
		int64_t r = j, off = 0;
		for (int k = S - 1; k >= 0; k--) {
			off += (r % a->din[k]) * st[k];
			r /= a->din[k];
		}
		coloff[j] = off;
	}
}

/* How many of the k singular values s (descending) policy t keeps (≥ 1);
 * *dropped and *total get the dropped and the whole squared sums. */
static int64_t keep_count(const double *s, int64_t k, const mpo_trunc *t, double *dropped,
			  double *total)
{
	double tot = 0, tail = 0;
	for (int64_t i = k - 1; i >= 0; i--) /* smallest first, for accuracy */
		tot += s[i] * s[i];
	int64_t r = k;
	if (t && t->cutoff > 0)
		while (r > 1 && tail + s[r - 1] * s[r - 1] <= t->cutoff * tot) {
			tail += s[r - 1] * s[r - 1];
			r--;
		}
	if (t && t->max_bond > 0)
		for (; r > t->max_bond; r--)
			tail += s[r - 1] * s[r - 1];
	*dropped = tail;
	*total = tot;
	return r;
}

/* Replace core k (and its bond sizes are set by the caller). */
static void set_core(mpo *a, int k, double *data)
{
	free(a->core[k]);
	a->core[k] = data;
}

/* ---------------------------------------------------------------- TT-SVD */

mpo *mpo_from_dense(const double *W, int64_t N, int64_t K, int group, const mpo_trunc *t,
		    double *discarded)
{
	if (!W || !trunc_ok(t))
		return NULL;
	mpo *a = mpo_alloc(N, K, group);
	if (!a)
		return NULL;
	int S = a->nsites;
	int64_t rest = (int64_t)1 << (a->n_out + a->n_in), r = 1;
	double *C = tn_alloc(rest);
	int64_t *ro = malloc((size_t)N * sizeof *ro), *co = malloc((size_t)K * sizeof *co);
	if (!C || !ro || !co) {
		if (C && (!ro || !co))
			la_set_error("out of memory (TT-SVD index maps)");
		goto fail;
	}
	site_offsets(a, ro, co);
	for (int64_t i = 0; i < N; i++)
		for (int64_t j = 0; j < K; j++) {
			if (!isfinite(W[i * K + j])) {
				la_set_error("mpo_from_dense: non-finite entry W[%lld, %lld]", (long long)i,
					     (long long)j);
				goto fail;
			}
			C[ro[i] + co[j]] = W[i * K + j];
		}
	free(ro);
	free(co);
	ro = co = NULL;
	/* Invariant: C is the r × rest remainder of the operator. */
	for (int k = 0; k < S - 1; k++) {
		int64_t d = (int64_t)a->dout[k] * a->din[k], rows = r * d, cols = rest / d;
		int64_t kk = rows < cols ? rows : cols;
		double *U = tn_alloc(rows * kk), *s = tn_alloc(kk), *core = NULL, *next = NULL;
		double dropped, total;
		if (!U || !s || la_svd_left(C, rows, cols, U, s)) {
			free(U);
			free(s);
			goto fail;
		}
		int64_t chi = keep_count(s, kk, t, &dropped, &total);
		if (discarded)
			discarded[k] = total > 0 ? dropped / total : 0;
		/* Kept U is core k; the remainder diag(σ) Vt is the projection Uᵀ C. */
		if ((core = tn_alloc(rows * chi)) && (next = tn_alloc(chi * cols))) {
			tn_copy2d(core, chi, 1, U, kk, 1, rows, chi);
			la_gemm(1, 0, chi, cols, rows, 1.0, core, C, 0.0, next);
		}
		free(U);
		free(s);
		free(C);
		C = next;
		if (!next) {
			free(core);
			goto fail;
		}
		a->core[k] = core;
		a->bond[k + 1] = (int)chi;
		r = chi;
		rest = cols;
	}
	a->core[S - 1] = C;
	a->center = S - 1;
	return a;
fail:
	free(C);
	free(ro);
	free(co);
	mpo_free(a);
	return NULL;
}

/* ----------------------------------------------------- canonical forms */

/* Core k = Q R as (χ d) × χ': core k ← Q, core k+1 ← R · core k+1. */
static int move_right_qr(mpo *a, int k)
{
	int64_t rows = (int64_t)a->bond[k] * a->dout[k] * a->din[k], cols = a->bond[k + 1];
	int64_t kk = rows < cols ? rows : cols;
	int64_t ncols = (int64_t)a->dout[k + 1] * a->din[k + 1] * a->bond[k + 2];
	double *Q = tn_alloc(rows * kk), *R = tn_alloc(kk * cols), *nxt = tn_alloc(kk * ncols);
	if (!Q || !R || !nxt || la_qr(a->core[k], rows, cols, Q, R)) {
		free(Q);
		free(R);
		free(nxt);
		return -1;
	}
	la_gemm(0, 0, kk, ncols, cols, 1.0, R, a->core[k + 1], 0.0, nxt);
	free(R);
	set_core(a, k, Q);
	set_core(a, k + 1, nxt);
	a->bond[k + 1] = (int)kk;
	return 0;
}

/* Core k = L Q as χ × (d χ'): core k ← Q, core k-1 ← core k-1 · L. */
static int move_left_lq(mpo *a, int k)
{
	int64_t rows = a->bond[k], cols = (int64_t)a->dout[k] * a->din[k] * a->bond[k + 1];
	int64_t kk = rows < cols ? rows : cols;
	int64_t prows = (int64_t)a->bond[k - 1] * a->dout[k - 1] * a->din[k - 1];
	double *L = tn_alloc(rows * kk), *Q = tn_alloc(kk * cols), *prv = tn_alloc(prows * kk);
	if (!L || !Q || !prv || la_lq(a->core[k], rows, cols, L, Q)) {
		free(L);
		free(Q);
		free(prv);
		return -1;
	}
	la_gemm(0, 0, prows, kk, rows, 1.0, a->core[k - 1], L, 0.0, prv);
	free(L);
	set_core(a, k, Q);
	set_core(a, k - 1, prv);
	a->bond[k] = (int)kk;
	return 0;
}

int mpo_canonicalize(mpo *a, int center)
{
	int S = a->nsites;
	if (center < 0 || center >= S) {
		la_set_error("mpo_canonicalize: centre %d is not a site (0..%d)", center, S - 1);
		return -1;
	}
	int from_left = a->center < 0 ? 0 : a->center, from_right = a->center < 0 ? S - 1 : a->center;
	a->center = -1; /* unknown until the sweeps are done */
	for (int k = from_left; k < center; k++)
		if (move_right_qr(a, k))
			return -1;
	for (int k = from_right; k > center; k--)
		if (move_left_lq(a, k))
			return -1;
	a->center = center;
	return 0;
}

/* ------------------------------------------------------------ truncation */

/* With the centre at site k < nsites-1: SVD of core k as (χ d) × χ', keep
 * per t; U becomes core k and diag(σ) Vt is absorbed into core k+1, the new
 * centre. Outputs (may be NULL): the dropped and total squared weights and
 * the bond's entropy before truncation. */
static int move_right_svd(mpo *a, int k, const mpo_trunc *t, double *dropped, double *total,
			  double *entropy)
{
	IR_ASSERT(a->center == k && k + 1 < a->nsites);
	int64_t rows = (int64_t)a->bond[k] * a->dout[k] * a->din[k], cols = a->bond[k + 1];
	int64_t kk = rows < cols ? rows : cols;
	int64_t ncols = (int64_t)a->dout[k + 1] * a->din[k + 1] * a->bond[k + 2];
	double *U = tn_alloc(rows * kk), *s = tn_alloc(kk), *Vt = tn_alloc(kk * cols);
	double *core = NULL, *nxt = NULL, drop, tot;
	int rc = -1;
	if (!U || !s || !Vt || la_svd(a->core[k], rows, cols, U, s, Vt))
		goto out;
	int64_t chi = keep_count(s, kk, t, &drop, &tot);
	if (entropy) {
		double h = 0;
		for (int64_t i = 0; i < kk && tot > 0; i++) {
			double p = s[i] * s[i] / tot;
			if (p > 0)
				h -= p * log(p);
		}
		*entropy = h;
	}
	if (!(core = tn_alloc(rows * chi)) || !(nxt = tn_alloc(chi * ncols)))
		goto out;
	tn_copy2d(core, chi, 1, U, kk, 1, rows, chi);
	for (int64_t i = 0; i < chi; i++)
		for (int64_t j = 0; j < cols; j++)
			Vt[i * cols + j] *= s[i];
	la_gemm(0, 0, chi, ncols, cols, 1.0, Vt, a->core[k + 1], 0.0, nxt);
	set_core(a, k, core);
	set_core(a, k + 1, nxt);
	core = nxt = NULL;
	a->bond[k + 1] = (int)chi;
	a->center = k + 1;
	if (dropped)
		*dropped = drop;
	if (total)
		*total = tot;
	rc = 0;
out:
	free(U);
	free(s);
	free(Vt);
	free(core);
	free(nxt);
	return rc;
}

double mpo_truncate_bond(mpo *a, int b, const mpo_trunc *t)
{
	if (!trunc_ok(t))
		return -1;
	if (b < 1 || b >= a->nsites) {
		la_set_error("mpo_truncate_bond: bond %d is not inside (1..%d)", b, a->nsites - 1);
		return -1;
	}
	double drop, tot;
	if (mpo_canonicalize(a, b - 1) || move_right_svd(a, b - 1, t, &drop, &tot, NULL))
		return -1;
	return tot > 0 ? drop / tot : 0;
}

double mpo_truncate(mpo *a, const mpo_trunc *t, double *discarded)
{
	if (!trunc_ok(t) || mpo_canonicalize(a, 0))
		return -1;
	double lost = 0, w0 = 0;
	for (int b = 1; b < a->nsites; b++) {
		double drop, tot;
		if (move_right_svd(a, b - 1, t, &drop, &tot, NULL))
			return -1;
		if (b == 1)
			w0 = tot; /* ‖W‖²: the first centre holds the whole norm */
		lost += drop;
		if (discarded)
			discarded[b - 1] = tot > 0 ? drop / tot : 0;
	}
	return w0 > 0 ? lost / w0 : 0;
}

int mpo_entropy(mpo *a, double *S)
{
	if (mpo_canonicalize(a, 0))
		return -1;
	for (int b = 1; b < a->nsites; b++)
		if (move_right_svd(a, b - 1, NULL, NULL, NULL, &S[b - 1]))
			return -1;
	return 0;
}

/* ------------------------------------------------- contraction helpers */

double mpo_norm(const mpo *a)
{
	/* E_k[c, d] = Σ core_k[a, s, c] E_{k-1}[a, b] core_k[b, s, d]. */
	int64_t one[2] = {1, 1};
	tn_tensor *E = tn_new(2, one);
	if (!E)
		return -1;
	E->data[0] = 1;
	for (int k = 0; k < a->nsites; k++) {
		int64_t cd[4] = {a->bond[k], a->dout[k], a->din[k], a->bond[k + 1]};
		tn_tensor c = tn_view(4, cd, a->core[k]);
		int ax1[1] = {1}, ax0[1] = {0}, ax3[3] = {0, 1, 2};
		tn_tensor *T = tn_contract(E, 1, ax1, &c, ax0);
		tn_tensor *E2 = T ? tn_contract(&c, 3, ax3, T, ax3) : NULL;
		tn_free(T);
		tn_free(E);
		if (!(E = E2))
			return -1;
	}
	double n2 = E->data[0];
	tn_free(E);
	return sqrt(n2 > 0 ? n2 : 0);
}

int mpo_to_dense(const mpo *a, double *W)
{
	/* T (X, χ) · core (χ, d χ') -> (X d, χ'), ending with X = 2^(n+m). */
	int64_t one[2] = {1, 1};
	tn_tensor *T = tn_new(2, one);
	if (!T)
		return -1;
	T->data[0] = 1;
	for (int k = 0; k < a->nsites; k++) {
		int64_t d = (int64_t)a->dout[k] * a->din[k];
		int64_t cd[2] = {a->bond[k], d * a->bond[k + 1]};
		tn_tensor c = tn_view(2, cd, a->core[k]);
		int ax1[1] = {1}, ax0[1] = {0};
		tn_tensor *T2 = tn_contract(T, 1, ax1, &c, ax0);
		int64_t nd[2] = {T->dims[0] * d, a->bond[k + 1]};
		tn_free(T);
		if (!(T = T2) || tn_reshape(T, 2, nd)) {
			tn_free(T);
			return -1;
		}
	}
	int64_t *ro = malloc((size_t)a->rows * sizeof *ro), *co = malloc((size_t)a->cols * sizeof *co);
	if (!ro || !co) {
		la_set_error("out of memory (index maps)");
		free(ro);
		free(co);
		tn_free(T);
		return -1;
	}
	site_offsets(a, ro, co);
	for (int64_t i = 0; i < a->rows; i++)
		for (int64_t j = 0; j < a->cols; j++)
			W[i * a->cols + j] = T->data[ro[i] + co[j]];
	free(ro);
	free(co);
	tn_free(T);
	return 0;
}

/* ----------------------------------------------------------- application */

/* Y = W X for a batch with X(b, j) at X[b*xb + j*xj] and Y(b, i) at
 * Y[b*yb + i*yi] (the state invariant is in the top comment). */
static int apply_strided(const mpo *a, const double *X, int64_t xb, int64_t xj, int64_t batch,
			 double *Y, int64_t yb, int64_t yi)
{
	int S = a->nsites, rc = -1;
	int64_t Kp = (int64_t)1 << a->n_in, Np = (int64_t)1 << a->n_out;
	if (batch <= 0)
		return batch < 0 ? (la_set_error("mpo_apply: negative batch"), -1) : 0;
	/* Scratch per sample: the largest state over the steps. */
	int64_t per = Kp, ip = Kp, op = 1;
	for (int k = 0; k < S; k++) {
		ip /= a->din[k];
		int64_t after = (int64_t)a->bond[k + 1] * a->dout[k] * ip * op;
		op *= a->dout[k];
		if (after > per)
			per = after;
	}
	int64_t chunk = MPO_APPLY_BUDGET / per;
	chunk = chunk < 1 ? 1 : chunk > batch ? batch : chunk;
	tn_tensor **cp = calloc((size_t)S, sizeof *cp);
	double *buf0 = tn_alloc(per * chunk), *buf1 = tn_alloc(per * chunk);
	if (!cp || !buf0 || !buf1) {
		if (!cp)
			la_set_error("out of memory (mpo_apply)");
		goto out;
	}
	for (int k = 0; k < S; k++) { /* (χ, dout, din, χ') -> (χ, din, dout, χ') */
		int64_t cd[4] = {a->bond[k], a->dout[k], a->din[k], a->bond[k + 1]};
		int perm[4] = {0, 2, 1, 3};
		tn_tensor c = tn_view(4, cd, a->core[k]);
		if (!(cp[k] = tn_permute(&c, perm)))
			goto out;
	}
	for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
		int64_t nb = batch - b0 < chunk ? batch - b0 : chunk, size = Kp * nb;
		double *cur = buf0, *nxt = buf1;
		/* State (din_1..din_S, batch): X transposed, zero-padded rows. */
		tn_copy2d(cur, nb, 1, X + b0 * xb, xj, xb, a->cols, nb);
		memset(cur + a->cols * nb, 0, (size_t)((Kp - a->cols) * nb) * sizeof *cur);
		for (int k = 0; k < S; k++) {
			int64_t r = a->bond[k], p = a->din[k], o = a->dout[k], r2 = a->bond[k + 1];
			int64_t Z = size / (r * p);
			la_gemm(1, 0, o * r2, Z, r * p, 1.0, cp[k]->data, cur, 0.0, nxt);
			size = o * r2 * Z;
			if (o > 1) { /* (o, rest) -> (rest, o) */
				tn_copy2d(cur, o, 1, nxt, 1, size / o, size / o, o);
			} else {
				double *tmp = cur;
				cur = nxt;
				nxt = tmp;
			}
		}
		/* State (batch, dout_1..dout_S) = nb × Np; drop the padded outputs. */
		tn_copy2d(Y + b0 * yb, yb, yi, cur, Np, 1, nb, a->rows);
	}
	rc = 0;
out:
	for (int k = 0; cp && k < S; k++)
		if (cp[k])
			tn_free(cp[k]);
	free(cp);
	free(buf0);
	free(buf1);
	return rc;
}

int mpo_apply(const mpo *a, const double *X, int64_t batch, double *Y)
{
	return apply_strided(a, X, a->cols, 1, batch, Y, a->rows, 1);
}

int mpo_apply_matrix(const mpo *a, const double *B, int64_t ncols, double *C)
{
	return apply_strided(a, B, 1, ncols, ncols, C, 1, ncols);
}
