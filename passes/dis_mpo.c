/* dis_mpo.c - disentangler environments on MPOs: gates applied to MPOs, the
 * sandwich contraction that gives every gate environment E_g, and the core
 * environments of ⟨M, X⟩ (API and conventions in dis.h).
 *
 * Gate on an MPO. For g on sites s..s+k-1 of the output legs: move the
 * orthogonality centre to s, write g as a k-site MPO (its exact TT-SVD,
 * numerically zero singular values dropped), multiply it into the k cores
 * (the bonds inside grow by the gate's operator-Schmidt ranks), sweep the
 * block right to left with LQ so core s is the centre again, then truncate
 * the k-1 bonds inside left to right by SVD at the centre with the policy t
 * (mpo_truncate_bond). Each such truncation is a Schmidt truncation of the
 * whole operator, so its relative squared error is exactly the ε it
 * returns; the sum over a sweep is reported.
 *
 * Sandwich. f = ⟨C R0, T⟩ with C = S_{P-1} ⋯ S_0 (slices). For slice i,
 * f = ⟨S_i R_i, L_i⟩ with R_i = S_{i-1} ⋯ S_0 R0 (gates below, absorbed
 * into the small operator; a stack made once per sweep) and L_i =
 * (S_{P-1} ⋯ S_{i+1})ᵀ T (gates above, absorbed into the target as the
 * sweep goes down: L_{i-1} = S_iᵀ L_i with the updated S_i). The slice's
 * gates sit between the output legs of L_i and R_i; contracting the two
 * MPOs site by site with the gates inserted, and leaving gate g out, gives
 *   E_g[a, b] = Σ L_i[.., a, .., j] R'[.., b, .., j]  (R' = the other gates
 *   of the slice applied to R_i; the sum over every leg except g's),
 * so f = ⟨g, E_g⟩. Right environments (transfer matrices χ_L × χ_R) are
 * cached per slice; the left one is extended past each gate after its
 * update, so a slice costs one pass each way. With no gate changing, the
 * E_g are the gradient ∂f/∂g (dis_grad.c).
 *
 * Update. g ← polar(E_g + λ g) with λ = DIS_PROX ‖E_g‖: the maximiser of
 * Tr(Qᵀ E_g) + λ Tr(Qᵀ g), which still never lowers f (Tr(Q'ᵀ E) ≥
 * Tr(gᵀ E) + λ (2^k − Tr(Q'ᵀ g)) ≥ Tr(gᵀ E)) and, when E_g is rank
 * deficient (a dim-1 leg when n ≠ m, a small M'), picks the maximiser
 * nearest the current gate instead of a completion set by rounding. For a
 * gate kept in SO (special, k ≥ 3) Q' is the maximiser over SO (Kabsch):
 * the same chain of inequalities holds because the current g is itself in
 * SO, so it competes in the maximisation, and Tr(Q'ᵀ g) ≤ 2^k still.
 */
#include "dis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"
#include "la.h"
#include "tn.h"

static int64_t core_size(const mpo *a, int k)
{
	return (int64_t)a->bond[k] * a->dout[k] * a->din[k] * a->bond[k + 1];
}

static tn_tensor core_view(const mpo *a, int k)
{
	int64_t d[4] = {a->bond[k], a->dout[k], a->din[k], a->bond[k + 1]};
	return tn_view(4, d, a->core[k]);
}

/* The buffer of t, which t gives up (tn buffers and MPO cores are both
 * tn_alloc'd and released with free). */
static double *steal(tn_tensor *t)
{
	double *d = t->data;
	t->data = NULL;
	tn_free(t);
	return d;
}

static tn_tensor *one(void)
{
	int64_t d[2] = {1, 1};
	tn_tensor *t = tn_new(2, d);
	if (t)
		t->data[0] = 1;
	return t;
}

mpo *dis_mpo_zero(int n_out, int n_in, const int *bond)
{
	if (n_out < 0 || n_in < 0 || n_out + n_in > 60) {
		la_set_error("dis: a 2^%d × 2^%d operator is out of range", n_out, n_in);
		return NULL;
	}
	return mpo_new((int64_t)1 << n_out, (int64_t)1 << n_in, 1, bond);
}

int dis_check_mpo(const mpo *a)
{
	if (a->group != 1) {
		la_set_error("dis: the MPO groups %d qubits per site; disentangling needs one",
			     a->group);
		return -1;
	}
	return 0;
}

mpo *dis_mpo_padded(const mpo *a)
{
	if (dis_check_mpo(a))
		return NULL;
	mpo *c = mpo_clone(a);
	if (c) {
		c->rows = (int64_t)1 << a->n_out;
		c->cols = (int64_t)1 << a->n_in;
	}
	return c;
}

mpo *dis_mpo_transpose(const mpo *a)
{
	if (dis_check_mpo(a))
		return NULL;
	mpo *t = dis_mpo_zero(a->n_in, a->n_out, a->bond);
	if (!t)
		return NULL;
	for (int k = 0; k < a->nsites; k++) {
		int64_t r = a->bond[k], o = a->dout[k], i = a->din[k], r2 = a->bond[k + 1];
		for (int64_t x = 0; x < r; x++)
			for (int64_t p = 0; p < o; p++)
				for (int64_t q = 0; q < i; q++)
					memcpy(t->core[k] + ((x * i + q) * o + p) * r2,
					       a->core[k] + ((x * o + p) * i + q) * r2,
					       (size_t)r2 * sizeof(double));
	}
	t->center = a->center; /* (χ d) × χ' orthogonality ignores the order inside d */
	return t;
}

static int same_layout(const mpo *a, const mpo *b, const char *what)
{
	int ok = a->nsites == b->nsites;
	for (int k = 0; ok && k < a->nsites; k++)
		ok = a->dout[k] == b->dout[k] && a->din[k] == b->din[k];
	if (!ok)
		la_set_error("%s: MPO layouts differ (2^%d × 2^%d against 2^%d × 2^%d)", what,
			     a->n_out, a->n_in, b->n_out, b->n_in);
	return ok;
}

/* E'[a', b'] = Σ E[a, b] A_k[a, o, i, a'] B_k[b, o, i, b']. */
static tn_tensor *transfer_left(const tn_tensor *E, const mpo *A, const mpo *B, int k)
{
	tn_tensor cA = core_view(A, k), cB = core_view(B, k);
	int a0[1] = {0}, a3[3] = {0, 1, 2};
	tn_tensor *T = tn_contract(E, 1, a0, &cA, a0); /* (b, o, i, a') */
	tn_tensor *E2 = T ? tn_contract(T, 3, a3, &cB, a3) : NULL;
	tn_free(T);
	return E2;
}

/* E[a, b] = Σ A_k[a, o, i, a'] B_k[b, o, i, b'] E'[a', b']. */
static tn_tensor *transfer_right(const tn_tensor *E, const mpo *A, const mpo *B, int k)
{
	tn_tensor cA = core_view(A, k), cB = core_view(B, k);
	int a3[1] = {3}, a0[1] = {0}, b3[3] = {1, 2, 3};
	tn_tensor *T = tn_contract(&cA, 1, a3, E, a0); /* (a, o, i, b') */
	tn_tensor *E2 = T ? tn_contract(T, 3, b3, &cB, b3) : NULL;
	tn_free(T);
	return E2;
}

static void free_envs(tn_tensor **E, int n)
{
	for (int j = 0; E && j < n; j++)
		tn_free(E[j]);
	free(E);
}

/* A transfer matrix E (x, y) as the rank-4 (x, 1, 1, y) that the block
 * contractions start from. */
static tn_tensor *open4(const tn_tensor *E)
{
	int64_t d[4] = {E->dims[0], 1, 1, E->dims[1]};
	return tn_from(4, d, E->data);
}

/* From the left environment E (a, b) through sites s..s+k-1 of L and R,
 * leaving the output legs open: T[a', O, P, b'] with O the gate's row
 * index (L's legs) and P its column index (R's legs). */
static tn_tensor *block_left(const tn_tensor *E, const mpo *L, const mpo *R, int s, int k)
{
	tn_tensor *T = open4(E);
	for (int j = s; T && j < s + k; j++) {
		tn_tensor cL = core_view(L, j), cR = core_view(R, j);
		int a0[1] = {0}, x1[2] = {2, 4}, x2[2] = {0, 2}, perm[6] = {3, 0, 2, 1, 4, 5};
		tn_tensor *X1 = tn_contract(T, 1, a0, &cL, a0);            /* (O, P, b, o, i, a') */
		tn_tensor *X2 = X1 ? tn_contract(X1, 2, x1, &cR, x2) : NULL; /* (O, P, o, a', p, b') */
		tn_tensor *X3 = X2 ? tn_permute(X2, perm) : NULL;          /* (a', O, o, P, p, b') */
		int64_t O = T->dims[1], P = T->dims[2];
		tn_free(X1);
		tn_free(X2);
		tn_free(T);
		T = X3;
		if (T) {
			int64_t d[4] = {T->dims[0], O * L->dout[j], P * R->dout[j], T->dims[5]};
			if (tn_reshape(T, 4, d)) {
				tn_free(T);
				T = NULL;
			}
		}
	}
	return T;
}

/* Mirror of block_left from the right environment E (a', b'): T[a, O, P, b]
 * with a, b the bonds left of site s. */
static tn_tensor *block_right(const tn_tensor *E, const mpo *L, const mpo *R, int s, int k)
{
	tn_tensor *T = open4(E);
	for (int j = s + k - 1; T && j >= s; j--) {
		tn_tensor cL = core_view(L, j), cR = core_view(R, j);
		int a3[1] = {3}, a0[1] = {0}, x1[2] = {2, 5}, x2[2] = {2, 3}, perm[6] = {0, 1, 2, 5, 3, 4};
		tn_tensor *X1 = tn_contract(&cL, 1, a3, T, a0);            /* (a, o, i, O, P, b') */
		tn_tensor *X2 = X1 ? tn_contract(X1, 2, x1, &cR, x2) : NULL; /* (a, o, O, P, b, p) */
		tn_tensor *X3 = X2 ? tn_permute(X2, perm) : NULL;          /* (a, o, O, p, P, b) */
		int64_t O = T->dims[1], P = T->dims[2];
		tn_free(X1);
		tn_free(X2);
		tn_free(T);
		T = X3;
		if (T) {
			int64_t d[4] = {T->dims[0], L->dout[j] * O, R->dout[j] * P, T->dims[5]};
			if (tn_reshape(T, 4, d)) {
				tn_free(T);
				T = NULL;
			}
		}
	}
	return T;
}

/* Σ_{O,P} T[x, O, P, y] g[O, P]: the block closed with the gate. */
static tn_tensor *close_gate(const tn_tensor *T, const double *g)
{
	int64_t d[2] = {T->dims[1], T->dims[2]};
	tn_tensor G = tn_view(2, d, (double *)g);
	int a12[2] = {1, 2}, a01[2] = {0, 1};
	return tn_contract(T, 2, a12, &G, a01);
}

double dis_mpo_dot(const mpo *a, const mpo *b)
{
	if (!same_layout(a, b, "dis_mpo_dot"))
		return NAN;
	tn_tensor *E = one();
	for (int k = 0; E && k < a->nsites; k++) {
		tn_tensor *E2 = transfer_left(E, a, b, k);
		tn_free(E);
		E = E2;
	}
	if (!E)
		return NAN;
	double v = E->data[0];
	tn_free(E);
	return v;
}

/* ------------------------------------------------------ gates on MPOs */

int dis_apply_gate(mpo *a, const dis_gate *g, int transpose, const mpo_trunc *t,
		   double *discarded)
{
	int s = g->site, k = g->k;
	if (a->group != 1 || k < 1 || k > DIS_MAX_K || s < 0 || s + k > a->n_out) {
		la_set_error("dis_apply_gate: a %d-qubit gate at site %d does not fit an MPO with %d "
			     "output qubits (%d per site)", k, s, a->n_out, a->group);
		return -1;
	}
	int64_t d = (int64_t)1 << k;
	double gt[1 << (2 * DIS_MAX_K)];
	const double *gm = g->m;
	if (transpose) {
		tn_copy2d(gt, d, 1, g->m, 1, d, d, d);
		gm = gt;
	}
	/* The gate's own TT-SVD, dropping only rounding-level weight, so an
	 * identity or product gate costs nothing. */
	const mpo_trunc gtr = {0, 1e-30};
	mpo *G = mpo_from_dense(gm, d, d, 1, &gtr, NULL);
	if (!G || mpo_canonicalize(a, s)) {
		mpo_free(G);
		return -1;
	}
	double *nc[DIS_MAX_K] = {0};
	int rc = -1;
	for (int j = 0; j < k; j++) {
		/* (x, o, p, y) · (a, p, i, b) -> (x, o, y, a, i, b) -> (a, x, o, i, b, y) */
		tn_tensor cG = core_view(G, j), cA = core_view(a, s + j);
		int a2[1] = {2}, a1[1] = {1}, perm[6] = {3, 0, 1, 4, 5, 2};
		tn_tensor *X = tn_contract(&cG, 1, a2, &cA, a1);
		tn_tensor *Y = X ? tn_permute(X, perm) : NULL;
		tn_free(X);
		if (!Y)
			goto out;
		nc[j] = steal(Y);
	}
	for (int j = 0; j < k; j++) {
		free(a->core[s + j]);
		a->core[s + j] = nc[j];
		nc[j] = NULL;
		if (j > 0)
			a->bond[s + j] *= G->bond[j];
	}
	/* Cores left of s are left-orthogonal and right of s+k-1 right-orthogonal:
	 * an LQ sweep from s+k-1 down makes core s the centre again. */
	a->center = s + k - 1;
	if (mpo_canonicalize(a, s))
		goto out;
	double sum = 0;
	for (int b = s + 1; b < s + k; b++) {
		double e = mpo_truncate_bond(a, b, t);
		if (e < 0)
			goto out;
		sum += e;
	}
	if (discarded)
		*discarded += sum;
	rc = 0;
out:
	for (int j = 0; j < k; j++)
		free(nc[j]);
	mpo_free(G);
	return rc;
}

static int apply_slice(mpo *a, const dis_circuit *c, int i, int transpose, const mpo_trunc *t,
		       double *discarded)
{
	for (int j = c->slice[i]; j < c->slice[i + 1]; j++)
		if (dis_apply_gate(a, &c->gate[j], transpose, t, discarded))
			return -1;
	return 0;
}

int dis_apply_circuit(mpo *a, const dis_circuit *c, int transpose, const mpo_trunc *t,
		      double *discarded)
{
	for (int i = 0; i < c->nslices; i++)
		if (apply_slice(a, c, transpose ? c->nslices - 1 - i : i, transpose, t, discarded))
			return -1;
	return 0;
}

/* ------------------------------------------------------------ sandwich */

int dis_gate_det(const double *g, int k)
{
	return k >= 0 && k <= DIS_MAX_K ? la_det_sign(g, (int64_t)1 << k) : 0;
}

int dis_procrustes(const double *A, int64_t d, int special, double *Q)
{
	if (d < 1 || d > ((int64_t)1 << DIS_MAX_K)) {
		la_set_error("dis_procrustes: a %lld×%lld matrix is out of range", (long long)d,
			     (long long)d);
		return -1;
	}
	double U[1 << (2 * DIS_MAX_K)], S[1 << DIS_MAX_K], Vt[1 << (2 * DIS_MAX_K)];
	if (la_svd(A, d, d, U, S, Vt))
		return -1;
	la_gemm(0, 0, d, d, d, 1.0, U, Vt, 0.0, Q);
	/* U Vt with the last (smallest) singular pair's sign flipped: Q − 2 u vᵀ.
	 * Tr(Qᵀ A) loses only 2 S[d-1], the least any matrix of SO can. */
	if (special && la_det_sign(Q, d) < 0)
		for (int64_t i = 0; i < d; i++)
			for (int64_t j = 0; j < d; j++)
				Q[i * d + j] -= 2 * U[i * d + d - 1] * Vt[(d - 1) * d + j];
	return 0;
}

int dis_gate_update(const double *E, int k, int special, double *g)
{
	int64_t d = (int64_t)1 << k;
	double A[1 << (2 * DIS_MAX_K)], e2 = 0;
	for (int64_t i = 0; i < d * d; i++)
		e2 += E[i] * E[i];
	double lam = DIS_PROX * sqrt(e2);
	for (int64_t i = 0; i < d * d; i++)
		A[i] = E[i] + lam * g[i];
	return dis_procrustes(A, d, special && k >= DIS_SO_MIN_K, g);
}

int dis_polar_update(const double *E, int k, double *g)
{
	return dis_gate_update(E, k, 0, g);
}

/* One slice i of f = ⟨S_i R, L⟩: environments of its gates left to right,
 * each updated (dis_gate_update) at once when `update`. *f gets f after it. */
static int slice_envs(const mpo *L, const mpo *R, dis_circuit *c, int i, int update, double *E,
		      double *f)
{
	int S = L->nsites, g1 = c->slice[i + 1], rc = -1, nu = 0;
	int *ugate = malloc((size_t)S * sizeof *ugate), *usite = malloc((size_t)S * sizeof *usite);
	tn_tensor **RE = calloc((size_t)S + 1, sizeof *RE), *LE = NULL;
	if (!ugate || !usite || !RE) {
		la_set_error("out of memory (dis environments)");
		goto out;
	}
	/* Units: a gate's block of sites, or one site without a gate. */
	for (int site = 0, gi = c->slice[i]; site < S; nu++) {
		usite[nu] = site;
		if (gi < g1 && c->gate[gi].site == site) {
			ugate[nu] = gi;
			site += c->gate[gi++].k;
		} else {
			ugate[nu] = -1;
			site++;
		}
	}
	if (!(RE[nu] = one()))
		goto out;
	for (int u = nu - 1; u >= 0; u--) {
		if (ugate[u] < 0) {
			RE[u] = transfer_right(RE[u + 1], L, R, usite[u]);
		} else {
			const dis_gate *g = &c->gate[ugate[u]];
			tn_tensor *T = block_right(RE[u + 1], L, R, g->site, g->k);
			RE[u] = T ? close_gate(T, g->m) : NULL;
			tn_free(T);
		}
		if (!RE[u])
			goto out;
	}
	if (!(LE = one()))
		goto out;
	for (int u = 0; u < nu; u++) {
		tn_tensor *LE2;
		if (ugate[u] < 0) {
			LE2 = transfer_left(LE, L, R, usite[u]);
		} else {
			dis_gate *g = &c->gate[ugate[u]];
			int64_t d = (int64_t)1 << g->k;
			int a03[2] = {0, 3}, a01[2] = {0, 1};
			tn_tensor *T = block_left(LE, L, R, g->site, g->k);
			tn_tensor *Eg = T ? tn_contract(T, 2, a03, RE[u + 1], a01) : NULL; /* (O, P) */
			int bad = !Eg || (update && dis_gate_update(Eg->data, g->k,
								     update == DIS_UPDATE_SO, g->m));
			if (!bad && E)
				memcpy(E + (g->m - c->data), Eg->data, (size_t)(d * d) * sizeof *E);
			LE2 = bad ? NULL : close_gate(T, g->m);
			tn_free(T);
			tn_free(Eg);
		}
		tn_free(LE);
		if (!(LE = LE2))
			goto out;
	}
	*f = LE->data[0];
	rc = 0;
out:
	free_envs(RE, nu + 1);
	tn_free(LE);
	free(ugate);
	free(usite);
	return rc;
}

int dis_envs(const mpo *T, const mpo *R0, dis_circuit *c, int update, const mpo_trunc *t,
	     double *E, mpo **Lout, double *f, double *discarded)
{
	if (Lout)
		*Lout = NULL;
	if (!same_layout(T, R0, "dis_envs"))
		return -1;
	if (T->group != 1 || T->n_out != c->nqubits) {
		la_set_error("dis_envs: a circuit on %d qubits against an operator with %d output "
			     "qubits (%d per site)", c->nqubits, T->n_out, T->group);
		return -1;
	}
	int P = c->nslices, rc = -1;
	double fv = 0, disc = 0;
	mpo **Rs = calloc((size_t)P + 1, sizeof *Rs), *L = NULL;
	if (!Rs) {
		la_set_error("out of memory (dis environments)");
		return -1;
	}
	/* The stack R_i = S_{i-1} ⋯ S_0 R0 with the gates as they are now. */
	for (int i = 0; i < P; i++) {
		Rs[i] = mpo_clone(i ? Rs[i - 1] : R0);
		if (!Rs[i] || (i && apply_slice(Rs[i], c, i - 1, 0, t, &disc)))
			goto out;
	}
	if (!(L = mpo_clone(T)))
		goto out;
	if (P == 0 && isnan(fv = dis_mpo_dot(T, R0)))
		goto out;
	for (int i = P - 1; i >= 0; i--) {
		if (slice_envs(L, Rs[i], c, i, update, E, &fv))
			goto out;
		mpo_free(Rs[i]);
		Rs[i] = NULL;
		if ((i > 0 || Lout) && apply_slice(L, c, i, 1, t, &disc))
			goto out;
	}
	if (Lout) {
		*Lout = L;
		L = NULL;
	}
	if (f)
		*f = fv;
	if (discarded)
		*discarded += disc;
	rc = 0;
out:
	for (int i = 0; i < P; i++)
		mpo_free(Rs[i]);
	free(Rs);
	mpo_free(L);
	return rc;
}

/* ------------------------------------------------------ core gradients */

int dis_core_envs(const mpo *M, const mpo *X, double **G)
{
	if (!same_layout(M, X, "dis_core_envs"))
		return -1;
	int S = M->nsites, rc = -1;
	tn_tensor **LE = calloc((size_t)S + 1, sizeof *LE), **RE = calloc((size_t)S + 1, sizeof *RE);
	if (!LE || !RE) {
		la_set_error("out of memory (dis core environments)");
		goto out;
	}
	if (!(LE[0] = one()) || !(RE[S] = one()))
		goto out;
	for (int j = 0; j < S - 1; j++)
		if (!(LE[j + 1] = transfer_left(LE[j], M, X, j)))
			goto out;
	for (int j = S - 1; j > 0; j--)
		if (!(RE[j] = transfer_right(RE[j + 1], M, X, j)))
			goto out;
	for (int j = 0; j < S; j++) {
		/* G[a, o, i, a'] = Σ LE[a, b] X_j[b, o, i, b'] RE[a', b'] */
		tn_tensor cX = core_view(X, j);
		int a1[1] = {1}, a0[1] = {0}, a3[1] = {3};
		tn_tensor *T = tn_contract(LE[j], 1, a1, &cX, a0);
		tn_tensor *Gj = T ? tn_contract(T, 1, a3, RE[j + 1], a1) : NULL;
		tn_free(T);
		if (!Gj)
			goto out;
		memcpy(G[j], Gj->data, (size_t)core_size(M, j) * sizeof(double));
		tn_free(Gj);
	}
	rc = 0;
out:
	free_envs(LE, S + 1);
	free_envs(RE, S + 1);
	return rc;
}

/* ------------------------------------------------------------- fitting */

/* The optimal core j of M for ‖X − M‖ with M canonical at j: LE_j X_j RE_{j+1}. */
static int fit_core(mpo *M, const mpo *X, int j, const tn_tensor *LE, const tn_tensor *RE)
{
	tn_tensor cX = core_view(X, j);
	int a1[1] = {1}, a0[1] = {0}, a3[1] = {3};
	tn_tensor *T = tn_contract(LE, 1, a1, &cX, a0);
	tn_tensor *G = T ? tn_contract(T, 1, a3, RE, a1) : NULL;
	tn_free(T);
	if (!G)
		return -1;
	free(M->core[j]);
	M->core[j] = steal(G);
	return 0;
}

int dis_fit(mpo *M, const mpo *X, int sweeps)
{
	if (!same_layout(M, X, "dis_fit"))
		return -1;
	int S = M->nsites, rc = -1;
	if (sweeps <= 0)
		return 0;
	tn_tensor **LE = calloc((size_t)S + 1, sizeof *LE), **RE = calloc((size_t)S + 1, sizeof *RE);
	if (!LE || !RE) {
		la_set_error("out of memory (dis_fit)");
		goto out;
	}
	if (mpo_canonicalize(M, 0) || !(LE[0] = one()) || !(RE[S] = one()))
		goto out;
	for (int j = S - 1; j > 0; j--)
		if (!(RE[j] = transfer_right(RE[j + 1], M, X, j)))
			goto out;
	for (int s = 0; s < sweeps; s++) {
		for (int j = 0; j < S - 1; j++) {
			tn_free(LE[j + 1]);
			if (fit_core(M, X, j, LE[j], RE[j + 1]) || mpo_canonicalize(M, j + 1) ||
			    !(LE[j + 1] = transfer_left(LE[j], M, X, j)))
				goto out;
		}
		for (int j = S - 1; j > 0; j--) {
			tn_free(RE[j]);
			if (fit_core(M, X, j, LE[j], RE[j + 1]) || mpo_canonicalize(M, j - 1) ||
			    !(RE[j] = transfer_right(RE[j + 1], M, X, j)))
				goto out;
		}
		if (fit_core(M, X, 0, LE[0], RE[1]))
			goto out;
	}
	rc = 0;
out:
	free_envs(LE, S + 1);
	free_envs(RE, S + 1);
	return rc;
}

void dis_mpo_scale(mpo *a, double s)
{
	int k = a->center >= 0 ? a->center : 0;
	int64_t sz = core_size(a, k);
	for (int64_t i = 0; i < sz; i++)
		a->core[k][i] *= s;
}
