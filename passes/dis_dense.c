/* dis_dense.c - the dense side of the disentanglers: circuits applied to
 * matrices and to batches of vectors, the dense sandwich, the dense
 * explicit method (the oracle for dis_mpo.c and dis.c), and core
 * environments of ⟨M, X⟩ for a dense X (conventions in dis.h).
 *
 * A gate on sites s..s+k-1 of a 2^q-row matrix splits the row index into
 * (hi, a, lo) with 2^s, 2^k and 2^(q-s-k) values; for each hi the rows
 * (a, lo) with all columns form one contiguous 2^k × (2^(q-s-k) · cols)
 * block, so the gate is one dgemm per hi. Partial traces over the other
 * qubits use the same blocks: E[a, b] = Σ_hi (L_hi B_hiᵀ)[a, b].
 *
 * Dense sandwich for f = ⟨C R0, T⟩, slices from the last to the first and
 * gates left to right as on MPOs: B = C R0 is formed once and each gate is
 * undone from it just before its turn (B ← gᵀ B, exact for orthogonal g),
 * so B holds the gates below and the old gates to its right; L = T gains
 * each updated gate as gᵀ L. Then E_g = ptrace(L Bᵀ), two gate
 * applications and one partial trace per gate, and no stack of matrices.
 */
#include "dis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"
#include "la.h"
#include "tn.h"

static int qubits_for(int64_t n)
{
	int q = 0;
	while (q < 62 && ((int64_t)1 << q) < n)
		q++;
	return q;
}

/* Each of nblocks contiguous 2^k × inner blocks of X ← g X (gᵀ X). */
static void gate_blocks(const dis_gate *g, int transpose, double *X, int64_t nblocks,
			int64_t inner, double *work)
{
	int64_t d = (int64_t)1 << g->k;
	for (int64_t b = 0; b < nblocks; b++) {
		double *blk = X + b * d * inner;
		la_gemm(transpose, 0, d, inner, d, 1.0, g->m, blk, 0.0, work);
		memcpy(blk, work, (size_t)(d * inner) * sizeof *work);
	}
}

static void gate_rows(const dis_gate *g, int q, int transpose, double *X, int64_t cols,
		      double *work)
{
	gate_blocks(g, transpose, X, (int64_t)1 << g->site,
		    ((int64_t)1 << (q - g->site - g->k)) * cols, work);
}

static int check_gates(const dis_circuit *c)
{
	for (int j = 0; j < c->ngates; j++)
		if (c->gate[j].site < 0 || c->gate[j].site + c->gate[j].k > c->nqubits) {
			la_set_error("dis: gate %d on sites %d..%d of a %d-qubit circuit", j,
				     c->gate[j].site, c->gate[j].site + c->gate[j].k - 1, c->nqubits);
			return -1;
		}
	return 0;
}

/* Gates in application order, or reversed for Cᵀ. */
static int apply_all(const dis_circuit *c, int transpose, double *X, int64_t nouter,
		     int64_t cols)
{
	if (check_gates(c))
		return -1;
	int64_t rows = (int64_t)1 << c->nqubits;
	double *work = tn_alloc(rows * cols);
	if (!work)
		return -1;
	for (int i = 0; i < c->ngates; i++) {
		const dis_gate *g = &c->gate[transpose ? c->ngates - 1 - i : i];
		gate_blocks(g, transpose, X, nouter << g->site,
			    ((int64_t)1 << (c->nqubits - g->site - g->k)) * cols, work);
	}
	free(work);
	return 0;
}

int dis_circuit_apply(const dis_circuit *c, int transpose, double *X, int64_t ncols)
{
	return apply_all(c, transpose, X, 1, ncols);
}

int dis_circuit_apply_batch(const dis_circuit *c, int transpose, double *X, int64_t batch)
{
	return apply_all(c, transpose, X, batch, 1);
}

int dis_circuit_to_dense(const dis_circuit *c, double *C)
{
	int64_t n = (int64_t)1 << c->nqubits;
	memset(C, 0, (size_t)(n * n) * sizeof *C);
	for (int64_t i = 0; i < n; i++)
		C[i * n + i] = 1;
	return dis_circuit_apply(c, 0, C, n);
}

/* E[a, b] = Σ_{hi, lo, j} A[(hi, a, lo), j] B[(hi, b, lo), j] for g's qubits. */
static void ptrace(const dis_gate *g, int q, const double *A, const double *B, int64_t cols,
		   double *E)
{
	int64_t d = (int64_t)1 << g->k, inner = ((int64_t)1 << (q - g->site - g->k)) * cols;
	memset(E, 0, (size_t)(d * d) * sizeof *E);
	for (int64_t hi = 0; hi < ((int64_t)1 << g->site); hi++)
		la_gemm(0, 1, d, d, inner, 1.0, A + hi * d * inner, B + hi * d * inner, 1.0, E);
}

static double dot(const double *a, const double *b, int64_t n)
{
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

int dis_dense_envs(const double *T, const double *R0, int64_t cols, dis_circuit *c, int update,
		   double *E, double *Lout, double *f)
{
	if (check_gates(c))
		return -1;
	int q = c->nqubits, rc = -1;
	int64_t size = ((int64_t)1 << q) * cols;
	double *B = tn_alloc(size), *L = tn_alloc(size), *work = tn_alloc(size);
	double Eg[1 << (2 * DIS_MAX_K)];
	if (!B || !L || !work)
		goto out;
	memcpy(B, R0, (size_t)size * sizeof *B);
	memcpy(L, T, (size_t)size * sizeof *L);
	if (dis_circuit_apply(c, 0, B, cols))
		goto out;
	for (int i = c->nslices - 1; i >= 0; i--)
		for (int j = c->slice[i]; j < c->slice[i + 1]; j++) {
			dis_gate *g = &c->gate[j];
			int64_t d = (int64_t)1 << g->k;
			gate_rows(g, q, 1, B, cols, work); /* B: old gates right of g and below */
			ptrace(g, q, L, B, cols, Eg);
			if (E)
				memcpy(E + (g->m - c->data), Eg, (size_t)(d * d) * sizeof *Eg);
			if (update && dis_gate_update(Eg, g->k, update == DIS_UPDATE_SO, g->m))
				goto out;
			gate_rows(g, q, 1, L, cols, work);
		}
	if (f)
		*f = dot(R0, L, size);
	if (Lout)
		memcpy(Lout, L, (size_t)size * sizeof *L);
	rc = 0;
out:
	free(B);
	free(L);
	free(work);
	return rc;
}

int dis_dense_core_envs(const mpo *M, const double *X, double **G)
{
	int S = M->nsites, rc = -1;
	if (2 * S > TN_MAX_RANK) {
		la_set_error("dis_dense_core_envs: %d sites is too many", S);
		return -1;
	}
	/* X as (o_1, p_1, o_2, p_2, ...): rows are the o's, columns the p's. */
	int64_t dims[TN_MAX_RANK];
	int perm[TN_MAX_RANK];
	for (int k = 0; k < S; k++) {
		dims[k] = M->dout[k];
		dims[S + k] = M->din[k];
		perm[2 * k] = k;
		perm[2 * k + 1] = S + k;
	}
	tn_tensor xv = tn_view(2 * S, dims, (double *)X);
	tn_tensor *P = tn_permute(&xv, perm);
	double **Rt = calloc((size_t)S, sizeof *Rt), *A = NULL;
	int64_t *rest = malloc((size_t)S * sizeof *rest);
	if (!P || !Rt || !rest) {
		if (P)
			la_set_error("out of memory (dis core environments)");
		goto out;
	}
	/* rest[j] = Π_{l>j} d_l; Rt[j] = cores j+1.. as χ_{j+1} × rest[j]. */
	rest[S - 1] = 1;
	for (int j = S - 2; j >= 0; j--)
		rest[j] = rest[j + 1] * M->dout[j + 1] * M->din[j + 1];
	if (!(Rt[S - 1] = tn_alloc(1)))
		goto out;
	Rt[S - 1][0] = 1;
	for (int j = S - 1; j > 0; j--) {
		int64_t cd = (int64_t)M->bond[j] * M->dout[j] * M->din[j];
		if (!(Rt[j - 1] = tn_alloc(cd * rest[j])))
			goto out;
		la_gemm(0, 0, cd, rest[j], M->bond[j + 1], 1.0, M->core[j], Rt[j], 0.0, Rt[j - 1]);
	}
	/* A = (cores before j)ᵀ X, as (χ_j d_j) × rest[j]. */
	const double *cur = P->data;
	for (int j = 0; j < S; j++) {
		int64_t cd = (int64_t)M->bond[j] * M->dout[j] * M->din[j], r2 = M->bond[j + 1];
		la_gemm(0, 1, cd, r2, rest[j], 1.0, cur, Rt[j], 0.0, G[j]);
		if (j + 1 < S) {
			double *nx = tn_alloc(r2 * rest[j]);
			if (!nx)
				goto out;
			la_gemm(1, 0, r2, rest[j], cd, 1.0, M->core[j], cur, 0.0, nx);
			free(A);
			cur = A = nx;
		}
	}
	rc = 0;
out:
	for (int j = 0; Rt && j < S; j++)
		free(Rt[j]);
	free(Rt);
	free(rest);
	free(A);
	tn_free(P);
	return rc;
}

/* ------------------------------------------------- explicit, dense */

typedef struct dense_be {
	int n, m;
	int update;                  /* DIS_UPDATE_O or DIS_UPDATE_SO */
	int64_t rows, cols, size;
	double *W, *X, *Md, *T, *T2; /* W padded; Md = M' densely */
	mpo *M;
} dense_be;

static void transpose_into(double *dst, const double *src, int64_t rows, int64_t cols)
{
	tn_copy2d(dst, 1, rows, src, cols, 1, rows, cols);
}

static int db_x_of(void *ctx, const dis_circuit *U, const dis_circuit *V, double *disc)
{
	dense_be *b = ctx;
	memcpy(b->X, b->W, (size_t)b->size * sizeof *b->X);
	if ((U && dis_circuit_apply(U, 1, b->X, b->cols)) ||
	    (V && dis_circuit_apply_batch(V, 1, b->X, b->rows)))
		return -1;
	return 0;
}

static int db_sweep(void *ctx, dis_circuit *U, dis_circuit *V, double *disc)
{
	dense_be *b = ctx;
	if (U) { /* f = ⟨U M', W V⟩ */
		memcpy(b->T, b->W, (size_t)b->size * sizeof *b->T);
		if ((V && dis_circuit_apply_batch(V, 1, b->T, b->rows)) ||
		    dis_dense_envs(b->T, b->Md, b->cols, U, b->update, NULL, b->X, NULL))
			return -1;
	}
	if (V) { /* f = ⟨V M'ᵀ, Wᵀ U⟩, ending with Vᵀ Wᵀ U = Xᵀ */
		memcpy(b->X, b->W, (size_t)b->size * sizeof *b->X);
		if (U && dis_circuit_apply(U, 1, b->X, b->cols))
			return -1;
		transpose_into(b->T, b->X, b->rows, b->cols);
		transpose_into(b->T2, b->Md, b->rows, b->cols);
		if (dis_dense_envs(b->T, b->T2, b->rows, V, b->update, NULL, b->X, NULL))
			return -1;
		transpose_into(b->T, b->X, b->cols, b->rows);
		memcpy(b->X, b->T, (size_t)b->size * sizeof *b->X);
	}
	return 0;
}

/* The M' step as mb_trunc in dis.c, on dense matrices (TT-SVD of X by
 * mpo_from_dense; the fit against the exact MPO of X). */
static int db_trunc(void *ctx, int chi, int fit, double *f, double *mn, double *tt)
{
	dense_be *b = ctx;
	const mpo_trunc t = {chi, 0};
	mpo *Mn = mpo_from_dense(b->X, b->rows, b->cols, 1, &t, NULL), *Xm = NULL;
	double *D = tn_alloc(b->size);
	int rc = -1;
	if (!Mn || !D || mpo_to_dense(Mn, D))
		goto out;
	double fn = dot(D, b->X, b->size), nn = sqrt(dot(D, D, b->size));
	if (tt)
		*tt = nn > 0 ? fn / nn : 0;
	double fo = b->M ? dot(b->Md, b->X, b->size) : 0;
	double no = b->M ? sqrt(dot(b->Md, b->Md, b->size)) : 0;
	b->M = dis_keep_better(b->M, fo, no, Mn, fn, nn, fit);
	Mn = NULL;
	if (fit > 0 && (!(Xm = mpo_from_dense(b->X, b->rows, b->cols, 1, NULL, NULL)) ||
			dis_fit(b->M, Xm, fit)))
		goto out;
	if (mpo_to_dense(b->M, b->Md))
		goto out;
	*f = dot(b->Md, b->X, b->size);
	*mn = sqrt(dot(b->Md, b->Md, b->size));
	rc = 0;
out:
	mpo_free(Mn);
	mpo_free(Xm);
	free(D);
	return rc;
}

static void db_reset_m(void *ctx)
{
	dense_be *b = ctx;
	mpo_free(b->M);
	b->M = NULL;
}

static int db_entropy(void *ctx, int of_x, double *S)
{
	dense_be *b = ctx;
	mpo *a = mpo_from_dense(of_x ? b->X : b->W, b->rows, b->cols, 1, NULL, NULL);
	int rc = a ? mpo_entropy(a, S) : -1;
	mpo_free(a);
	return rc;
}

static int db_max_bond(void *ctx) { return 0; }

static mpo *db_take_m(void *ctx)
{
	dense_be *b = ctx;
	mpo *M = b->M;
	b->M = NULL;
	return M;
}

int dis_dense_explicit(const double *W0, int64_t N, int64_t K, const dis_opts *o, dis_result *r)
{
	memset(r, 0, sizeof *r);
	if (!W0 || N < 1 || K < 1) {
		la_set_error("dis_dense_explicit: bad layer %lld×%lld", (long long)N, (long long)K);
		return -1;
	}
	dense_be b = {qubits_for(N), qubits_for(K), o->special ? DIS_UPDATE_SO : DIS_UPDATE_O,
		      0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL};
	if (b.n + b.m > 26) {
		la_set_error("dis_dense_explicit: a 2^%d × 2^%d layer is too large for the dense path",
			     b.n, b.m);
		return -1;
	}
	b.rows = (int64_t)1 << b.n;
	b.cols = (int64_t)1 << b.m;
	b.size = b.rows * b.cols;
	int rc = -1;
	if ((b.W = tn_alloc(b.size)) && (b.X = tn_alloc(b.size)) && (b.Md = tn_alloc(b.size)) &&
	    (b.T = tn_alloc(b.size)) && (b.T2 = tn_alloc(b.size))) {
		for (int64_t i = 0; i < N; i++)
			memcpy(b.W + i * b.cols, W0 + i * K, (size_t)K * sizeof *b.W);
		dis_backend be = {&b, sqrt(dot(b.W, b.W, b.size)), db_x_of, db_sweep, db_trunc,
				  db_reset_m, db_entropy, db_max_bond, db_take_m};
		if (isfinite(be.wnorm))
			rc = dis_explicit_run(&be, b.n, b.m, N * K, o, r);
		else
			la_set_error("dis_dense_explicit: W has a non-finite entry");
	}
	free(b.W);
	free(b.X);
	free(b.Md);
	free(b.T);
	free(b.T2);
	mpo_free(b.M);
	return rc;
}
