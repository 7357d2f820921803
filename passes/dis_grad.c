/* dis_grad.c - the implicit (gradient) disentangler: the gates of U and V
 * and the cores of M' (fixed bond χ') optimised jointly (DESIGN.md §4).
 *
 * Loss. Plain: L = ‖W − U M' Vᵀ‖² / ‖W‖² = (‖W‖² − 2f + ‖M'‖²) / ‖W‖²
 * with f = ⟨U M' Vᵀ, W⟩ (U, V orthogonal). Its gradients are the explicit
 * method's environments: ∂L/∂g = −2 E_g / ‖W‖² (dis_envs with no update)
 * and ∂L/∂core_j = 2 (∂⟨M', M'⟩/2 − ∂⟨M', X⟩)/∂core_j / ‖W‖² with
 * X = Uᵀ W V (dis_core_envs); all on MPOs. Calibrated: with inputs x_b
 * (rows of X) and Z Zᵀ = Σ_b x_b x_bᵀ (Z = Xᵀ, or C^{1/2} by eigen-
 * decomposition when the batch exceeds K), L = ‖(W − Ŵ) Z‖² / ‖W Z‖²,
 * Ŵ = U M' Vᵀ. Any loss of Ŵ has G = ∂L/∂Ŵ (here −2 (W − Ŵ) Z Zᵀ / ‖W Z‖²)
 * and then ∂L/∂g = E_g for f_G = ⟨U M' Vᵀ, G⟩ and ∂L/∂M' = Uᵀ G V, so the
 * dense sandwich gives every gradient (dis_dense.c); this path is dense.
 *
 * Riemannian Adam on O(2^k) (after Li, Fuxin, Todorovic, ICLR 2020). At a
 * gate g with Euclidean gradient G, the Riemannian gradient for the metric
 * ⟨gA, gB⟩ = Tr AᵀB is g Ω with Ω = skew(gᵀ G); tangent vectors are kept
 * as skew Ω (g Ω in the ambient space). The first moment m is such a
 * vector, the second moment v a scalar per gate (the squared norm, which
 * does not depend on the frame); the step is Δ = −η m̂ / (√v̂ + ε) and
 * g ← g R(Δ) with R the Cayley transform (I − Δ/2)^{-1}(I + Δ/2) or
 * exp(Δ) (la.c), which stay on the group; both are in SO(2^k) (det exp(Δ)
 * = e^{tr Δ} = 1, and the Cayley factor's eigenvalues (1 + iθ/2)/(1 − iθ/2)
 * pair up as conjugates), so every gate keeps the det it started with and
 * `special` needs no projection: identity starts and starting circuits
 * checked by dis_check_opts stay in SO. m moves to the new point by
 * projection onto its tangent space: skew(g'ᵀ g m) = skew(R(Δ)ᵀ m). The
 * cores take plain Adam (Kingma and Ba, ICLR 2015). Step sizes follow a
 * linear warm-up then a cosine decay to lr_min·η. The best point seen is
 * returned; the run stops after max_sweeps steps or when the best loss
 * improved by less than tol (relative) over `patience` steps.
 */
#include "dis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"
#include "la.h"
#include "progress.h"
#include "tn.h"

static double dot(const double *a, const double *b, int64_t n)
{
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static int64_t core_size(const mpo *a, int k)
{
	return (int64_t)a->bond[k] * a->dout[k] * a->din[k] * a->bond[k + 1];
}

/* What the loss needs: the MPO W (plain), or dense W and Z (dense). */
typedef struct gstate {
	int n, m, dense;
	int64_t rows, cols, size;
	const mpo_trunc *t;
	mpo *W;               /* padded */
	double w2;            /* ‖W‖², the plain normaliser */
	double *Wd, *Z;       /* dense: W padded (rows × cols); Z (cols × nz) or NULL */
	int64_t nz;
	double wz2;           /* ‖W Z‖² */
} gstate;

static void gstate_free(gstate *g)
{
	mpo_free(g->W);
	free(g->Wd);
	free(g->Z);
	memset(g, 0, sizeof *g);
}

/* Z with Z Zᵀ = Xpᵀ Xp for the padded inputs Xp (batch × cols). */
static double *calib_factor(const double *X, int64_t batch, int64_t K, int64_t cols, int64_t *nz)
{
	if (batch <= cols) { /* Z = Xpᵀ */
		double *Z = tn_alloc(cols * batch);
		if (Z)
			for (int64_t b = 0; b < batch; b++)
				for (int64_t j = 0; j < K; j++)
					Z[j * batch + b] = X[b * K + j];
		*nz = batch;
		return Z;
	}
	/* C = Xᵀ X (K × K, embedded in cols × cols) = Q Λ Qᵀ, Z = Q Λ^{1/2}. */
	double *Ck = tn_alloc(K * K), *C = tn_alloc(cols * cols), *w = tn_alloc(cols);
	double *Q = tn_alloc(cols * cols), *Z = NULL;
	if (Ck && C && w && Q) {
		la_gemm(1, 0, K, K, batch, 1.0, X, X, 0.0, Ck);
		for (int64_t i = 0; i < K; i++)
			memcpy(C + i * cols, Ck + i * K, (size_t)K * sizeof *C);
		if (!la_syev(C, cols, w, Q) && (Z = tn_alloc(cols * cols)))
			for (int64_t i = 0; i < cols; i++)
				for (int64_t j = 0; j < cols; j++)
					Z[i * cols + j] = Q[i * cols + j] * sqrt(w[j] > 0 ? w[j] : 0);
	}
	free(Ck);
	free(C);
	free(w);
	free(Q);
	*nz = cols;
	return Z;
}

/* Set up for W (one qubit per site), scaled by `scale`; X (batch × K) for
 * the calibrated loss, or dense = 1 for the plain loss on dense matrices. */
static int gstate_init(gstate *g, const mpo *W, double scale, const double *X, int64_t batch,
		       int dense, const mpo_trunc *t)
{
	memset(g, 0, sizeof *g);
	g->n = W->n_out;
	g->m = W->n_in;
	g->rows = (int64_t)1 << g->n;
	g->cols = (int64_t)1 << g->m;
	g->size = g->rows * g->cols;
	g->t = t;
	g->dense = dense || X;
	if (!(g->W = dis_mpo_padded(W)))
		return -1;
	dis_mpo_scale(g->W, scale);
	double wn = mpo_norm(g->W);
	if (wn < 0)
		return -1;
	g->w2 = wn * wn;
	if (!g->dense)
		return 0;
	if (g->n + g->m > 26) {
		la_set_error("dis: a 2^%d × 2^%d layer is too large for the dense (calibrated) path",
			     g->n, g->m);
		return -1;
	}
	if (!(g->Wd = tn_alloc(g->size)) || mpo_to_dense(g->W, g->Wd))
		return -1;
	if (X) {
		if (batch < 1) {
			la_set_error("dis: the calibration set is empty");
			return -1;
		}
		for (int64_t i = 0; i < batch * W->cols; i++)
			if (!isfinite(X[i])) {
				la_set_error("dis: calibration input %lld is not finite", (long long)i);
				return -1;
			}
		if (!(g->Z = calib_factor(X, batch, W->cols, g->cols, &g->nz)))
			return -1;
		double *WZ = tn_alloc(g->rows * g->nz);
		if (!WZ)
			return -1;
		la_gemm(0, 0, g->rows, g->nz, g->cols, 1.0, g->Wd, g->Z, 0.0, WZ);
		g->wz2 = dot(WZ, WZ, g->rows * g->nz);
		free(WZ);
		if (!(g->wz2 > 0)) {
			la_set_error("dis: W X is zero on the calibration set");
			return -1;
		}
	}
	return 0;
}

/* Loss, the plain overlap and error, and Euclidean gradients (any of gU,
 * gV, gM may be NULL) at (U, V, M). */
static int eval_mpo(const gstate *g, dis_circuit *U, dis_circuit *V, const mpo *M, double *loss,
		    double *overlap, double *error, double *gU, double *gV, double **gM, double *disc)
{
	mpo *T = NULL, *Mt = NULL, *L = NULL, *X = NULL;
	double **A = NULL;
	int S = M->nsites, rc = -1;
	if (U) { /* f = ⟨U M', W V⟩ */
		if (V) {
			mpo *Wt = dis_mpo_transpose(g->W);
			if (!Wt || dis_apply_circuit(Wt, V, 1, g->t, disc)) {
				mpo_free(Wt);
				goto out;
			}
			T = dis_mpo_transpose(Wt);
			mpo_free(Wt);
		} else {
			T = mpo_clone(g->W);
		}
		if (!T || dis_envs(T, M, U, 0, g->t, gU, V ? NULL : &X, NULL, disc))
			goto out;
		mpo_free(T);
		T = NULL;
	}
	if (V) { /* f = ⟨V M'ᵀ, Wᵀ U⟩, ending with Xᵀ */
		if (!(T = mpo_clone(g->W)) || (U && dis_apply_circuit(T, U, 1, g->t, disc)))
			goto out;
		mpo *Tt = dis_mpo_transpose(T);
		mpo_free(T);
		T = Tt;
		if (!T || !(Mt = dis_mpo_transpose(M)) ||
		    dis_envs(T, Mt, V, 0, g->t, gV, &L, NULL, disc) || !(X = dis_mpo_transpose(L)))
			goto out;
	}
	if (!X && !(X = mpo_clone(g->W)))
		goto out;
	double f = dis_mpo_dot(M, X), m2 = dis_mpo_dot(M, M);
	if (isnan(f) || isnan(m2))
		goto out;
	*loss = (g->w2 - 2 * f + m2) / g->w2;
	dis_measure(f, sqrt(m2), sqrt(g->w2), overlap, error);
	if (gU)
		for (int64_t i = 0; i < U->nparams; i++)
			gU[i] *= -2 / g->w2;
	if (gV)
		for (int64_t i = 0; i < V->nparams; i++)
			gV[i] *= -2 / g->w2;
	if (gM) {
		if (!(A = calloc((size_t)S, sizeof *A))) {
			la_set_error("out of memory (dis gradient)");
			goto out;
		}
		for (int j = 0; j < S; j++)
			if (!(A[j] = tn_alloc(core_size(M, j))))
				goto out;
		if (dis_core_envs(M, X, A) || dis_core_envs(M, M, gM))
			goto out;
		for (int j = 0; j < S; j++)
			for (int64_t i = 0; i < core_size(M, j); i++)
				gM[j][i] = 2 * (gM[j][i] - A[j][i]) / g->w2;
	}
	rc = 0;
out:
	for (int j = 0; A && j < S; j++)
		free(A[j]);
	free(A);
	mpo_free(T);
	mpo_free(Mt);
	mpo_free(L);
	mpo_free(X);
	return rc;
}

static void transpose_into(double *dst, const double *src, int64_t rows, int64_t cols)
{
	tn_copy2d(dst, 1, rows, src, cols, 1, rows, cols);
}

static int eval_dense(const gstate *g, dis_circuit *U, dis_circuit *V, const mpo *M, double *loss,
		      double *overlap, double *error, double *gU, double *gV, double **gM)
{
	int64_t rows = g->rows, cols = g->cols, size = g->size;
	double *Md = tn_alloc(size), *D = tn_alloc(size), *G = tn_alloc(size), *T = tn_alloc(size);
	double *T2 = tn_alloc(size), *DZ = NULL;
	int rc = -1;
	if (!Md || !D || !G || !T || !T2 || mpo_to_dense(M, Md))
		goto out;
	/* D = W − U M' Vᵀ */
	memcpy(D, Md, (size_t)size * sizeof *D);
	if ((U && dis_circuit_apply(U, 0, D, cols)) || (V && dis_circuit_apply_batch(V, 0, D, rows)))
		goto out;
	double f = dot(D, g->Wd, size), m2 = dot(Md, Md, size);
	for (int64_t i = 0; i < size; i++)
		D[i] = g->Wd[i] - D[i];
	dis_measure(f, sqrt(m2), sqrt(g->w2), overlap, error);
	if (g->Z) {
		if (!(DZ = tn_alloc(rows * g->nz)))
			goto out;
		la_gemm(0, 0, rows, g->nz, cols, 1.0, D, g->Z, 0.0, DZ);
		*loss = dot(DZ, DZ, rows * g->nz) / g->wz2;
		la_gemm(0, 1, rows, cols, g->nz, -2 / g->wz2, DZ, g->Z, 0.0, G);
	} else {
		*loss = dot(D, D, size) / g->w2;
		for (int64_t i = 0; i < size; i++)
			G[i] = -2 * D[i] / g->w2;
	}
	if (U && gU) { /* f_G = ⟨U M', G V⟩ */
		memcpy(T, G, (size_t)size * sizeof *T);
		if ((V && dis_circuit_apply_batch(V, 1, T, rows)) ||
		    dis_dense_envs(T, Md, cols, U, 0, gU, NULL, NULL))
			goto out;
	}
	if (V && gV) { /* f_G = ⟨V M'ᵀ, Gᵀ U⟩ */
		memcpy(D, G, (size_t)size * sizeof *D);
		if (U && dis_circuit_apply(U, 1, D, cols))
			goto out;
		transpose_into(T, D, rows, cols);
		transpose_into(T2, Md, rows, cols);
		if (dis_dense_envs(T, T2, rows, V, 0, gV, NULL, NULL))
			goto out;
	}
	if (gM) { /* ∂L/∂M' = Uᵀ G V, then to the cores */
		if ((U && dis_circuit_apply(U, 1, G, cols)) ||
		    (V && dis_circuit_apply_batch(V, 1, G, rows)) || dis_dense_core_envs(M, G, gM))
			goto out;
	}
	rc = 0;
out:
	free(Md);
	free(D);
	free(G);
	free(T);
	free(T2);
	free(DZ);
	return rc;
}

static int evaluate(const gstate *g, dis_circuit *U, dis_circuit *V, const mpo *M, double *loss,
		    double *overlap, double *error, double *gU, double *gV, double **gM, double *disc)
{
	if (g->dense)
		return eval_dense(g, U, V, M, loss, overlap, error, gU, gV, gM);
	return eval_mpo(g, U, V, M, loss, overlap, error, gU, gV, gM, disc);
}

int dis_grad_eval(const mpo *W, const double *X, int64_t batch, int dense, const dis_opts *o,
		  dis_circuit *U, dis_circuit *V, const mpo *M, double *loss, double *gU,
		  double *gV, double **gM)
{
	gstate g;
	double ov, err;
	int rc = gstate_init(&g, W, 1.0, X, batch, dense, &o->gate_trunc);
	if (!rc)
		rc = evaluate(&g, U, V, M, loss, &ov, &err, gU, gV, gM, NULL);
	gstate_free(&g);
	return rc;
}

/* ------------------------------------------------------ Riemannian Adam */

static double schedule(const dis_opts *o, int t)
{
	if (t < o->warmup)
		return (t + 1.0) / o->warmup;
	int span = o->max_sweeps - o->warmup;
	double x = span > 0 ? (double)(t - o->warmup) / span : 1;
	x = x > 1 ? 1 : x;
	return o->lr_min + (1 - o->lr_min) * 0.5 * (1 + cos(M_PI * x));
}

/* One Riemannian Adam step on every gate of c; mom (nparams) and sec (one
 * per gate) are the moments, t ≥ 1 the step number. */
static int adam_gates(dis_circuit *c, const double *G, double *mom, double *sec, int t, double lr,
		      const dis_opts *o)
{
	double A[1 << (2 * DIS_MAX_K)], D[1 << (2 * DIS_MAX_K)], Q[1 << (2 * DIS_MAX_K)];
	double b1 = 1 - pow(o->beta1, t), b2 = 1 - pow(o->beta2, t);
	for (int j = 0; j < c->ngates; j++) {
		dis_gate *g = &c->gate[j];
		int64_t d = (int64_t)1 << g->k, off = g->m - c->data;
		double *m = mom + off, n2 = 0;
		la_gemm(1, 0, d, d, d, 1.0, g->m, G + off, 0.0, A); /* gᵀ G */
		for (int64_t a = 0; a < d; a++)
			for (int64_t b = 0; b < d; b++) {
				double om = 0.5 * (A[a * d + b] - A[b * d + a]);
				m[a * d + b] = o->beta1 * m[a * d + b] + (1 - o->beta1) * om;
				n2 += om * om;
			}
		sec[j] = o->beta2 * sec[j] + (1 - o->beta2) * n2;
		double scale = -lr / b1 / (sqrt(sec[j] / b2) + o->eps);
		for (int64_t i = 0; i < d * d; i++)
			D[i] = scale * m[i];
		if ((o->retraction == DIS_EXP ? la_expm(D, d, Q) : la_cayley(D, d, Q)))
			return -1;
		la_gemm(0, 0, d, d, d, 1.0, g->m, Q, 0.0, A);
		memcpy(g->m, A, (size_t)(d * d) * sizeof *A);
		la_gemm(1, 0, d, d, d, 1.0, Q, m, 0.0, A); /* transport: skew(Qᵀ m) */
		for (int64_t a = 0; a < d; a++)
			for (int64_t b = 0; b < d; b++)
				m[a * d + b] = 0.5 * (A[a * d + b] - A[b * d + a]);
	}
	return 0;
}

static void adam_cores(mpo *M, double **G, double **mom, double **sec, int t, double lr,
		       const dis_opts *o)
{
	double b1 = 1 - pow(o->beta1, t), b2 = 1 - pow(o->beta2, t);
	for (int j = 0; j < M->nsites; j++)
		for (int64_t i = 0; i < core_size(M, j); i++) {
			mom[j][i] = o->beta1 * mom[j][i] + (1 - o->beta1) * G[j][i];
			sec[j][i] = o->beta2 * sec[j][i] + (1 - o->beta2) * G[j][i] * G[j][i];
			M->core[j][i] -= lr * (mom[j][i] / b1) / (sqrt(sec[j][i] / b2) + o->eps);
		}
	M->center = -1;
}

/* Per-core arrays the shape of M's cores (zeroed), or NULL. */
static double **core_arrays(const mpo *M)
{
	double **a = calloc((size_t)M->nsites, sizeof *a);
	for (int j = 0; a && j < M->nsites; j++)
		if (!(a[j] = tn_alloc(core_size(M, j)))) {
			for (int i = 0; i < j; i++)
				free(a[i]);
			free(a);
			return NULL;
		}
	if (!a)
		la_set_error("out of memory (dis gradient)");
	return a;
}

static void free_core_arrays(double **a, int n)
{
	for (int j = 0; a && j < n; j++)
		free(a[j]);
	free(a);
}

/* X = Uᵀ W V of the state (MPO). */
static mpo *x_of(const gstate *g, const dis_circuit *U, const dis_circuit *V)
{
	mpo *T = mpo_clone(g->W);
	if (!T || (U && dis_apply_circuit(T, U, 1, g->t, NULL))) {
		mpo_free(T);
		return NULL;
	}
	if (V) {
		mpo *Tt = dis_mpo_transpose(T);
		mpo_free(T);
		T = NULL;
		if (Tt && !dis_apply_circuit(Tt, V, 1, g->t, NULL))
			T = dis_mpo_transpose(Tt);
		mpo_free(Tt);
	}
	return T;
}

int dis_gradient(const mpo *W, const double *X, int64_t batch, const dis_opts *o, dis_result *r)
{
	memset(r, 0, sizeof *r);
	if (dis_check_mpo(W))
		return -1;
	int n = W->n_out, m = W->n_in, S = W->nsites, rc = -1;
	if (dis_check_opts(o, n, m) || dis_result_init(r, S - 1, o->max_sweeps))
		return -1;
	if (!(o->lr > 0) || !(o->lr_core >= 0) || !(o->lr_min >= 0) || o->warmup < 0 ||
	    !(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1) || !(o->eps > 0) ||
	    o->patience < 1) {
		la_set_error("dis: bad gradient settings (lr %g, lr_core %g, betas %g %g, patience %d)",
			     o->lr, o->lr_core, o->beta1, o->beta2, o->patience);
		return -1;
	}
	if (o->m0 && (o->m0->group != 1 || o->m0->n_out != n || o->m0->n_in != m)) {
		la_set_error("dis: the starting M' is not a 2^%d × 2^%d MPO with one qubit per site", n,
			     m);
		return -1;
	}
	double t_start = progress_now(), wn = mpo_norm(W);
	gstate g;
	memset(&g, 0, sizeof g);
	mpo *M = NULL, *bestM = NULL, *Xm = NULL;
	dis_circuit *bestU = NULL, *bestV = NULL;
	double *gU = NULL, *gV = NULL, *mU = NULL, *mV = NULL, *sU = NULL, *sV = NULL, *best = NULL;
	double **gM = NULL, **mM = NULL, **sM = NULL;
	int nM = 0;
	if (wn < 0)
		goto out;
	r->u = dis_side_circuit(o->sides & DIS_LEFT, n, o->u0, &o->ansatz);
	r->v = dis_side_circuit(o->sides & DIS_RIGHT, m, o->v0, &o->ansatz);
	if (((o->sides & DIS_LEFT) && !r->u) || ((o->sides & DIS_RIGHT) && !r->v))
		goto out;
	r->params_w = mpo_nparams(W);
	r->params_u = r->u ? r->u->nparams : 0;
	r->params_v = r->v ? r->v->nparams : 0;
	if (dis_entropy_of(W, r->entropy_before))
		goto out;
	if (wn == 0) {
		la_set_error("dis: the layer is zero; there is nothing to fit");
		goto out;
	}
	if (gstate_init(&g, W, 1 / wn, X, batch, o->dense, &o->gate_trunc))
		goto out;
	/* Baseline T_χ'(W), and the start M' = T_χ'(Uᵀ W V) unless given. */
	const mpo_trunc tr = {o->residual_bond, 0};
	if (!(M = mpo_clone(g.W)) || mpo_truncate(M, &tr, NULL) < 0)
		goto out;
	double tn = mpo_norm(M);
	dis_measure(tn * tn, tn, 1, &r->overlap_trunc, &r->error_trunc);
	mpo_free(M);
	M = NULL;
	if (o->m0) {
		if (!(M = dis_mpo_padded(o->m0)))
			goto out;
		dis_mpo_scale(M, 1 / wn);
	} else if (!(M = x_of(&g, r->u, r->v)) || mpo_truncate(M, &tr, NULL) < 0) {
		goto out;
	}
	nM = M->nsites;
	if ((r->u && (!(gU = tn_alloc(r->u->nparams)) || !(mU = tn_alloc(r->u->nparams)) ||
		      !(sU = tn_alloc(r->u->ngates)))) ||
	    (r->v && (!(gV = tn_alloc(r->v->nparams)) || !(mV = tn_alloc(r->v->nparams)) ||
		      !(sV = tn_alloc(r->v->ngates)))) ||
	    !(gM = core_arrays(M)) || !(mM = core_arrays(M)) || !(sM = core_arrays(M)))
		goto out;
	double best_loss = INFINITY, t_steps = 0, *best_hist = best = tn_alloc(o->max_sweeps + 1);
	if (!best)
		goto out;
	for (int t = 0;; t++) {
		double t0 = progress_now(), disc = 0;
		dis_step st = {0};
		if (evaluate(&g, r->u, r->v, M, &st.loss, &st.overlap, &st.error, gU, gV, gM, &disc))
			goto out;
		st.discarded = disc;
		if (st.loss < best_loss) {
			best_loss = st.loss;
			r->overlap = st.overlap;
			r->error = st.error;
			r->loss = st.loss;
			mpo_free(bestM);
			dis_circuit_free(bestU);
			dis_circuit_free(bestV);
			bestU = bestV = NULL;
			if (!(bestM = mpo_clone(M)) || (r->u && !(bestU = dis_circuit_clone(r->u))) ||
			    (r->v && !(bestV = dis_circuit_clone(r->v))))
				goto out;
		}
		best_hist[t] = best_loss;
		int stop = t >= o->max_sweeps;
		if (t >= o->patience &&
		    best_hist[t - o->patience] - best_loss <= o->tol * best_hist[t - o->patience]) {
			stop = 1;
			r->converged = 1;
		}
		if (!stop) {
			double s = schedule(o, t);
			if ((r->u && adam_gates(r->u, gU, mU, sU, t + 1, o->lr * s, o)) ||
			    (r->v && adam_gates(r->v, gV, mV, sV, t + 1, o->lr * s, o)))
				goto out;
			adam_cores(M, gM, mM, sM, t + 1, o->lr_core * s, o);
		}
		st.seconds = progress_now() - t0;
		t_steps += st.seconds;
		dis_result_push(r, &st, o);
		if (stop)
			break;
		r->nsweeps = t + 1;
	}
	/* The best point, M' back to W's scale. */
	dis_circuit_free(r->u);
	dis_circuit_free(r->v);
	r->u = bestU;
	r->v = bestV;
	bestU = bestV = NULL;
	if (!(Xm = x_of(&g, r->u, r->v)) || dis_entropy_of(Xm, r->entropy_after))
		goto out;
	dis_mpo_scale(bestM, wn);
	r->residual = bestM;
	bestM = NULL;
	r->params_residual = mpo_nparams(r->residual);
	r->seconds = progress_now() - t_start;
	r->seconds_per_sweep = t_steps / r->nhist;
	rc = 0;
out:
	gstate_free(&g);
	mpo_free(M);
	mpo_free(bestM);
	mpo_free(Xm);
	dis_circuit_free(bestU);
	dis_circuit_free(bestV);
	free(gU);
	free(gV);
	free(mU);
	free(mV);
	free(sU);
	free(sV);
	free(best);
	free_core_arrays(gM, nM);
	free_core_arrays(mM, nM);
	free_core_arrays(sM, nM);
	return rc;
}
