/* dis.c - disentangler circuits (the brickwork / staircase ansatz), the
 * result bookkeeping, and the explicit variational method on MPOs
 * (DESIGN.md §4; conventions and references in dis.h).
 *
 * One sweep of the explicit method, with X = Uᵀ W V:
 *   U side: f = ⟨U M', W V⟩, sandwich with T = W V and R0 = M' (the small
 *           side carries only U's lower gates); it ends with Uᵀ W V.
 *   V side: f = ⟨V M'ᵀ, Wᵀ U⟩ (the same problem transposed), T = (Uᵀ W)ᵀ
 *           with the new U, R0 = M'ᵀ; it ends with Vᵀ Wᵀ U = Xᵀ.
 *   M' ← T_χ'(X) by mpo_truncate, unless the old M' has the larger overlap
 *   with the new X (TT-SVD is quasi-optimal only, and on layers with flat
 *   spectra the gates tuned to the old M' often favour it), then
 *   fit_sweeps one-site fitting sweeps of M' to X at fixed bond (dis_fit,
 *   each step optimal for one core). Each gate update raises ⟨M', X⟩ with
 *   M' fixed and neither the choice nor the fit lowers the overlap, so the
 *   overlap is monotone.
 * Every big operator is rebuilt from W each sweep (W V, Uᵀ W), never by
 * undoing gates, so rounding does not accumulate across sweeps.
 */
#include "dis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"
#include "la.h"
#include "progress.h"
#include "tn.h"

void dis_defaults(dis_opts *o)
{
	memset(o, 0, sizeof *o);
	o->sides = DIS_BOTH;
	o->ansatz.k = 2;
	o->ansatz.depth = 4;
	o->ansatz.layout = DIS_BRICK;
	o->residual_bond = 2;
	o->max_sweeps = 50;
	o->tol = 1e-6;
	o->fit_sweeps = 1;
	o->anneal = 1;
	o->hop = 1.0;
	o->special = 1;
	o->gate_trunc.max_bond = 0;
	o->gate_trunc.cutoff = 1e-20;
	o->lr = 0.05;
	o->lr_core = 0.01;
	o->lr_min = 0.01;
	o->warmup = 10;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->eps = 1e-12;
	o->retraction = DIS_CAYLEY;
	o->patience = 50;
}

/* ------------------------------------------------------------- circuits */

/* Lay out the ansatz into c (counting only when c->gate is NULL). */
static void layout(int q, const dis_ansatz *a, dis_circuit *c)
{
	int ng = 0, ns = 0, nl = 0, k = a->k;
#define GATE(s_, k_)                                     \
	do {                                             \
		if (c->gate) {                           \
			c->gate[ng].site = (s_);         \
			c->gate[ng].k = (k_);            \
		}                                        \
		ng++;                                    \
	} while (0)
#define SLICE()                                          \
	do {                                             \
		if (c->slice)                            \
			c->slice[ns] = ng;               \
		ns++;                                    \
	} while (0)
	for (int l = 0; l < a->depth && q > 0; l++) {
		if (l > 0 && a->one_body && k > 1) {
			SLICE();
			for (int s = 0; s < q; s++)
				GATE(s, 1);
			nl++;
		}
		if (a->layout == DIS_BRICK) {
			int o = l % 2 ? k / 2 : 0;
			SLICE();
			if (o > 0)
				GATE(0, o < q ? o : q);
			for (int s = o; s < q; s += k)
				GATE(s, q - s < k ? q - s : k);
		} else if (q <= k) {
			SLICE();
			GATE(0, q);
		} else {
			for (int s = 0; s + k <= q; s++) {
				SLICE();
				GATE(s, k);
			}
		}
		nl++;
	}
#undef GATE
#undef SLICE
	if (c->slice)
		c->slice[ns] = ng;
	c->ngates = ng;
	c->nslices = ns;
	c->nlayers = nl;
}

static dis_circuit *circuit_alloc(int q, int ngates, int nslices, const dis_gate *gates)
{
	dis_circuit *c = calloc(1, sizeof *c);
	if (!c || !(c->gate = calloc((size_t)ngates + 1, sizeof *c->gate)) ||
	    !(c->slice = calloc((size_t)nslices + 1, sizeof *c->slice))) {
		la_set_error("out of memory (dis circuit)");
		dis_circuit_free(c);
		return NULL;
	}
	c->nqubits = q;
	int64_t np = 0;
	for (int j = 0; j < ngates; j++)
		np += (int64_t)1 << (2 * gates[j].k);
	c->nparams = np;
	if (!(c->data = tn_alloc(np))) {
		dis_circuit_free(c);
		return NULL;
	}
	np = 0;
	for (int j = 0; j < ngates; j++) {
		c->gate[j].site = gates[j].site;
		c->gate[j].k = gates[j].k;
		c->gate[j].m = c->data + np;
		np += (int64_t)1 << (2 * gates[j].k);
	}
	c->ngates = ngates;
	c->nslices = nslices;
	return c;
}

dis_circuit *dis_circuit_new(int q, const dis_ansatz *a)
{
	if (q < 0 || q > 40 || a->k < 1 || a->k > DIS_MAX_K || a->depth < 0 || a->depth > 100000 ||
	    (a->layout != DIS_BRICK && a->layout != DIS_STAIR)) {
		la_set_error("dis: bad ansatz (q = %d qubits, k = %d, depth %d, layout %d); k must be "
			     "1..%d", q, a->k, a->depth, (int)a->layout, DIS_MAX_K);
		return NULL;
	}
	dis_circuit tmp;
	memset(&tmp, 0, sizeof tmp);
	layout(q, a, &tmp);
	dis_circuit shape;
	memset(&shape, 0, sizeof shape);
	if (!(shape.gate = calloc((size_t)tmp.ngates + 1, sizeof *shape.gate)) ||
	    !(shape.slice = calloc((size_t)tmp.nslices + 1, sizeof *shape.slice))) {
		la_set_error("out of memory (dis circuit)");
		free(shape.gate);
		free(shape.slice);
		return NULL;
	}
	layout(q, a, &shape);
	dis_circuit *c = circuit_alloc(q, shape.ngates, shape.nslices, shape.gate);
	if (c) {
		memcpy(c->slice, shape.slice, ((size_t)shape.nslices + 1) * sizeof *c->slice);
		c->nlayers = shape.nlayers;
		for (int j = 0; j < c->ngates; j++) {
			int64_t d = (int64_t)1 << c->gate[j].k;
			for (int64_t i = 0; i < d; i++)
				c->gate[j].m[i * d + i] = 1;
		}
	}
	free(shape.gate);
	free(shape.slice);
	return c;
}

dis_circuit *dis_circuit_clone(const dis_circuit *c)
{
	dis_circuit *d = circuit_alloc(c->nqubits, c->ngates, c->nslices, c->gate);
	if (d) {
		memcpy(d->slice, c->slice, ((size_t)c->nslices + 1) * sizeof *d->slice);
		memcpy(d->data, c->data, (size_t)c->nparams * sizeof *d->data);
		d->nlayers = c->nlayers;
	}
	return d;
}

void dis_circuit_free(dis_circuit *c)
{
	if (!c)
		return;
	free(c->gate);
	free(c->slice);
	free(c->data);
	free(c);
}

int dis_circuit_randomize(dis_circuit *c, double (*urand)(void *ctx), void *ctx)
{
	double A[1 << (2 * DIS_MAX_K)];
	for (int j = 0; j < c->ngates; j++) {
		int k = c->gate[j].k;
		int64_t d = (int64_t)1 << k;
		for (int64_t i = 0; i < d * d; i++)
			A[i] = urand(ctx);
		if (dis_procrustes(A, d, k >= DIS_SO_MIN_K, c->gate[j].m))
			return -1;
	}
	return 0;
}

int dis_circuit_first_improper(const dis_circuit *c)
{
	for (int j = 0; c && j < c->ngates; j++)
		if (c->gate[j].k >= DIS_SO_MIN_K && dis_gate_det(c->gate[j].m, c->gate[j].k) < 0)
			return j;
	return -1;
}

double dis_circuit_orth_error(const dis_circuit *c)
{
	double err = 0, P[1 << (2 * DIS_MAX_K)];
	for (int j = 0; j < c->ngates; j++) {
		int64_t d = (int64_t)1 << c->gate[j].k;
		la_gemm(1, 0, d, d, d, 1.0, c->gate[j].m, c->gate[j].m, 0.0, P);
		for (int64_t a = 0; a < d; a++)
			for (int64_t b = 0; b < d; b++)
				err = fmax(err, fabs(P[a * d + b] - (a == b)));
	}
	return err;
}

/* ------------------------------------------------------- bookkeeping */

int dis_check_opts(const dis_opts *o, int n, int m)
{
	if (o->sides < DIS_LEFT || o->sides > DIS_BOTH) {
		la_set_error("dis: sides must be left, right or both");
		return -1;
	}
	if (o->restarts < 0 || (o->restarts > 0 && !o->urand) || !(o->hop >= 0) ||
	    !(o->target >= 0)) {
		la_set_error("dis: restarts need a random source, a hop amplitude ≥ 0 and a target "
			     "overlap ≥ 0");
		return -1;
	}
	if (o->residual_bond < 1 || o->max_sweeps < 0 || !(o->tol >= 0)) {
		la_set_error("dis: residual bond %d, sweeps %d and tol %g must be ≥ 1, ≥ 0, ≥ 0",
			     o->residual_bond, o->max_sweeps, o->tol);
		return -1;
	}
	if (o->gate_trunc.max_bond < 0 || !(o->gate_trunc.cutoff >= 0)) {
		la_set_error("dis: bad gate truncation policy");
		return -1;
	}
	if ((o->u0 && o->u0->nqubits != n) || (o->v0 && o->v0->nqubits != m)) {
		la_set_error("dis: starting circuits have %d and %d qubits, the layer %d and %d",
			     o->u0 ? o->u0->nqubits : n, o->v0 ? o->v0->nqubits : m, n, m);
		return -1;
	}
	for (int s = 0; o->special && s < 2; s++) {
		const dis_circuit *c = s ? o->v0 : o->u0;
		int j = dis_circuit_first_improper(c);
		if (j >= 0) {
			la_set_error("dis: gate %d of the starting %s circuit (%d qubits) has det -1; "
				     "special orthogonal gates (the default) need det +1 for k ≥ %d",
				     j, s ? "V" : "U", c->gate[j].k, DIS_SO_MIN_K);
			return -1;
		}
	}
	dis_circuit *c = dis_circuit_new(0, &o->ansatz); /* validates the ansatz */
	if (!c)
		return -1;
	dis_circuit_free(c);
	return 0;
}

/* The circuit of one side: a copy of the start if given, else identities. */
dis_circuit *dis_side_circuit(int enabled, int q, const dis_circuit *start, const dis_ansatz *a)
{
	if (!enabled)
		return NULL;
	return start ? dis_circuit_clone(start) : dis_circuit_new(q, a);
}

int dis_result_init(dis_result *r, int nbonds, int maxhist)
{
	memset(r, 0, sizeof *r);
	r->nbonds = nbonds;
	r->hist = calloc((size_t)maxhist + 1, sizeof *r->hist);
	r->entropy_before = calloc((size_t)nbonds + 1, sizeof(double));
	r->entropy_after = calloc((size_t)nbonds + 1, sizeof(double));
	if (!r->hist || !r->entropy_before || !r->entropy_after) {
		la_set_error("out of memory (dis result)");
		return -1;
	}
	return 0;
}

void dis_result_push(dis_result *r, const dis_step *s, const dis_opts *o)
{
	r->hist[r->nhist++] = *s;
	if (o->progress)
		o->progress(o->progress_ctx, r->nhist - 1, s);
}

void dis_result_free(dis_result *r)
{
	dis_circuit_free(r->u);
	dis_circuit_free(r->v);
	mpo_free(r->residual);
	free(r->hist);
	free(r->entropy_before);
	free(r->entropy_after);
	free(r->restart_overlap);
	memset(r, 0, sizeof *r);
}

/* Entropy profile of a (on a copy: mpo_entropy rewrites the cores). */
int dis_entropy_of(const mpo *a, double *S)
{
	mpo *c = mpo_clone(a);
	int rc = c ? mpo_entropy(c, S) : -1;
	mpo_free(c);
	return rc;
}

mpo *dis_keep_better(mpo *old, double fo, double no, mpo *Mn, double fn, double nn, int fit)
{
	if (old && no > 0 && (nn == 0 || fo / no > fn / nn)) {
		mpo_free(Mn);
		if (!fit && fo > 0)
			dis_mpo_scale(old, fo / (no * no));
		return old;
	}
	mpo_free(old);
	return Mn;
}

/* Overlap and error of M' against X = Uᵀ W V: A = ⟨M', X⟩ / (‖W‖ ‖M'‖),
 * err² = 1 − 2⟨M', X⟩/‖W‖² + ‖M'‖²/‖W‖². */
void dis_measure(double f, double mnorm, double wnorm, double *overlap, double *error)
{
	*overlap = mnorm > 0 ? f / (wnorm * mnorm) : 0;
	double e2 = 1 - 2 * f / (wnorm * wnorm) + mnorm * mnorm / (wnorm * wnorm);
	*error = sqrt(e2 > 0 ? e2 : 0);
}

/* ------------------------------------------------ the explicit driver */

/* A history entry from the M' step's results. */
static void fill_step(dis_step *st, const dis_backend *be, double f, double mn, double disc,
		      double t0)
{
	dis_measure(f, mn, be->wnorm, &st->overlap, &st->error);
	st->loss = st->error * st->error;
	st->discarded = disc;
	st->max_bond = be->max_bond(be->ctx);
	st->seconds = progress_now() - t0;
}

/* One optimisation at bond chi from the current circuits: sweep 0 (X, M'),
 * then sweeps until the overlap gain is below tol. With r, every sweep is
 * recorded; *sweeps gets the number done. */
static int stage(const dis_backend *be, dis_circuit *U, dis_circuit *V, int chi,
		 const dis_opts *o, dis_result *r, int *sweeps, double *t_sweeps)
{
	double disc = 0, f, mn, t0 = progress_now();
	dis_step st = {0};
	be->reset_m(be->ctx);
	if (be->x_of(be->ctx, U, V, &disc) || be->trunc(be->ctx, chi, o->fit_sweeps, &f, &mn, NULL))
		return -1;
	fill_step(&st, be, f, mn, disc, t0);
	if (r)
		dis_result_push(r, &st, o);
	double prev = st.overlap;
	*sweeps = 0;
	for (int sweep = 1; sweep <= o->max_sweeps; sweep++) {
		t0 = progress_now();
		disc = 0;
		if (be->sweep(be->ctx, U, V, &disc) ||
		    be->trunc(be->ctx, chi, o->fit_sweeps, &f, &mn, NULL))
			return -1;
		fill_step(&st, be, f, mn, disc, t0);
		*t_sweeps += st.seconds;
		*sweeps = sweep;
		if (r) {
			dis_result_push(r, &st, o);
			r->nsweeps = sweep;
		}
		if (st.overlap - prev < o->tol) {
			if (r)
				r->converged = 1;
			break;
		}
		prev = st.overlap;
	}
	return 0;
}

/* Overlap at sweep 0 for the given circuits (X, T_χ'(X), fit). */
static int start_overlap(const dis_backend *be, const dis_circuit *U, const dis_circuit *V,
			 int chi, int fit, double *A)
{
	double disc = 0, f, mn, err;
	be->reset_m(be->ctx);
	if (be->x_of(be->ctx, U, V, &disc) || be->trunc(be->ctx, chi, fit, &f, &mn, NULL))
		return -1;
	dis_measure(f, mn, be->wnorm, A, &err);
	return 0;
}

/* Every gate ← polar(g + hop · noise), in SO for the gates `special` keeps there. */
static int kick(dis_circuit *c, const dis_opts *o)
{
	double A[1 << (2 * DIS_MAX_K)];
	for (int j = 0; c && j < c->ngates; j++) {
		int k = c->gate[j].k;
		int64_t d = (int64_t)1 << k;
		for (int64_t i = 0; i < d * d; i++)
			A[i] = c->gate[j].m[i] + o->hop * o->urand(o->urand_ctx);
		if (dis_procrustes(A, d, o->special && k >= DIS_SO_MIN_K, c->gate[j].m))
			return -1;
	}
	return 0;
}

/* Basin hopping: restarts at χ' from kicked copies of the best gates;
 * r->u, r->v, r->residual, overlap and error end as the best run's. */
static int hops(const dis_backend *be, int chi, const dis_opts *o, dis_result *r, double *t_sweeps)
{
	if (!(r->restart_overlap = calloc((size_t)o->restarts, sizeof(double)))) {
		la_set_error("out of memory (dis restarts)");
		return -1;
	}
	for (int h = 1; h <= o->restarts; h++) {
		if (o->target > 0 && r->overlap >= o->target)
			break;
		r->nrestarts = h;
		dis_circuit *u = r->u ? dis_circuit_clone(r->u) : NULL;
		dis_circuit *v = r->v ? dis_circuit_clone(r->v) : NULL;
		dis_result tmp;
		int done = 0, bad = (r->u && !u) || (r->v && !v) || kick(u, o) || kick(v, o) ||
				    dis_result_init(&tmp, 0, o->max_sweeps);
		if (!bad) {
			bad = stage(be, u, v, chi, o, &tmp, &done, t_sweeps);
			double a = bad ? 0 : tmp.hist[tmp.nhist - 1].overlap;
			r->restart_sweeps += done;
			r->restart_overlap[h - 1] = a;
			if (!bad && a > r->overlap) {
				mpo *M = be->take_m(be->ctx);
				if (!M) {
					bad = 1;
				} else {
					mpo_free(r->residual);
					r->residual = M;
					dis_circuit_free(r->u);
					dis_circuit_free(r->v);
					r->u = u;
					r->v = v;
					u = v = NULL;
					r->overlap = a;
					r->error = tmp.hist[tmp.nhist - 1].error;
					r->best_restart = h;
				}
			}
			dis_result_free(&tmp);
		}
		dis_circuit_free(u);
		dis_circuit_free(v);
		if (bad)
			return -1;
	}
	return 0;
}

int dis_explicit_run(const dis_backend *be, int n, int m, int64_t params_w, const dis_opts *o,
		     dis_result *r)
{
	int S = n > m ? n : m, rc = -1, chi = o->residual_bond;
	S = S < 1 ? 1 : S;
	if (dis_check_opts(o, n, m) || dis_result_init(r, S - 1, o->max_sweeps))
		return -1;
	double t_start = progress_now(), t_sweeps = 0, disc = 0, f, mn, tt, wn = be->wnorm;
	dis_circuit *U0 = NULL, *V0 = NULL;
	r->u = dis_side_circuit(o->sides & DIS_LEFT, n, o->u0, &o->ansatz);
	r->v = dis_side_circuit(o->sides & DIS_RIGHT, m, o->v0, &o->ansatz);
	if (((o->sides & DIS_LEFT) && !r->u) || ((o->sides & DIS_RIGHT) && !r->v))
		goto out;
	r->params_w = params_w;
	r->params_u = r->u ? r->u->nparams : 0;
	r->params_v = r->v ? r->v->nparams : 0;
	/* Plain truncation of W, the baseline. */
	be->reset_m(be->ctx);
	if (be->entropy(be->ctx, 0, r->entropy_before) || be->x_of(be->ctx, NULL, NULL, &disc) ||
	    be->trunc(be->ctx, chi, 0, &f, &mn, &tt))
		goto out;
	if (wn == 0) { /* nothing to approximate: M' = 0 is exact */
		dis_step st = {0};
		st.overlap = r->overlap_trunc = r->overlap = 1;
		dis_result_push(r, &st, o);
		if (be->entropy(be->ctx, 1, r->entropy_after) || !(r->residual = be->take_m(be->ctx)))
			goto out;
		r->params_residual = mpo_nparams(r->residual);
		rc = 0;
		goto out;
	}
	dis_measure(tt * tt, tt, wn, &r->overlap_trunc, &r->error_trunc);
	if (o->anneal && chi > 1 && (r->u || r->v)) {
		if ((r->u && !(U0 = dis_circuit_clone(r->u))) || (r->v && !(V0 = dis_circuit_clone(r->v))))
			goto out;
		for (int c = 1; c < chi; c *= 2) {
			int done = 0;
			if (stage(be, r->u, r->v, c, o, NULL, &done, &t_sweeps))
				goto out;
			r->anneal_sweeps += done;
		}
		double a_ann, a_init;
		if (start_overlap(be, r->u, r->v, chi, o->fit_sweeps, &a_ann) ||
		    start_overlap(be, U0, V0, chi, o->fit_sweeps, &a_init))
			goto out;
		if (a_init > a_ann) { /* the annealed gates are a worse start: drop them */
			if (r->u)
				memcpy(r->u->data, U0->data, (size_t)U0->nparams * sizeof(double));
			if (r->v)
				memcpy(r->v->data, V0->data, (size_t)V0->nparams * sizeof(double));
		}
	}
	int done = 0;
	if (stage(be, r->u, r->v, chi, o, r, &done, &t_sweeps) || !(r->residual = be->take_m(be->ctx)))
		goto out;
	r->overlap = r->hist[r->nhist - 1].overlap;
	r->error = r->hist[r->nhist - 1].error;
	if (o->restarts > 0 && hops(be, chi, o, r, &t_sweeps))
		goto out;
	/* X for the kept circuits (the last stage's unless restarts ran). */
	if ((o->restarts > 0 && be->x_of(be->ctx, r->u, r->v, &disc)) ||
	    be->entropy(be->ctx, 1, r->entropy_after))
		goto out;
	r->loss = r->error * r->error;
	r->params_residual = mpo_nparams(r->residual);
	int total = r->nsweeps + r->anneal_sweeps + r->restart_sweeps;
	r->seconds_per_sweep = total ? t_sweeps / total : 0;
	rc = 0;
out:
	r->seconds = progress_now() - t_start;
	dis_circuit_free(U0);
	dis_circuit_free(V0);
	return rc;
}

/* ------------------------------------------------------ the MPO backend */

typedef struct mpo_be {
	mpo *W, *X, *M;       /* W padded */
	const mpo_trunc *t;
	int update;           /* DIS_UPDATE_O or DIS_UPDATE_SO (dis_envs) */
} mpo_be;

/* W V: Vᵀ on the output legs of Wᵀ. */
static mpo *times_v(const mpo *W, const dis_circuit *V, const mpo_trunc *t, double *disc)
{
	mpo *Wt = dis_mpo_transpose(W), *r = NULL;
	if (Wt && !dis_apply_circuit(Wt, V, 1, t, disc))
		r = dis_mpo_transpose(Wt);
	mpo_free(Wt);
	return r;
}

/* Uᵀ W (transposed if tr). */
static mpo *ut_w(const mpo *W, const dis_circuit *U, int tr, const mpo_trunc *t, double *disc)
{
	mpo *c = mpo_clone(W), *r = NULL;
	if (c && (!U || !dis_apply_circuit(c, U, 1, t, disc)))
		r = tr ? dis_mpo_transpose(c) : c;
	if (r != c)
		mpo_free(c);
	return r;
}

static int mb_x_of(void *ctx, const dis_circuit *U, const dis_circuit *V, double *disc)
{
	mpo_be *b = ctx;
	mpo *T = ut_w(b->W, U, 0, b->t, disc);
	mpo_free(b->X);
	b->X = T && V ? times_v(T, V, b->t, disc) : T;
	if (b->X != T)
		mpo_free(T);
	return b->X ? 0 : -1;
}

static int mb_sweep(void *ctx, dis_circuit *U, dis_circuit *V, double *disc)
{
	mpo_be *b = ctx;
	mpo *T = NULL, *Mt = NULL, *L = NULL;
	int rc = -1;
	if (U) { /* f = ⟨U M', W V⟩ */
		T = V ? times_v(b->W, V, b->t, disc) : mpo_clone(b->W);
		if (!T || dis_envs(T, b->M, U, b->update, b->t, NULL, V ? NULL : &L, NULL, disc))
			goto out;
		if (!V) {
			mpo_free(b->X);
			b->X = L;
			L = NULL;
		}
		mpo_free(T);
		T = NULL;
	}
	if (V) { /* f = ⟨V M'ᵀ, Wᵀ U⟩, ending with Vᵀ Wᵀ U = Xᵀ */
		if (!(T = ut_w(b->W, U, 1, b->t, disc)) || !(Mt = dis_mpo_transpose(b->M)) ||
		    dis_envs(T, Mt, V, b->update, b->t, NULL, &L, NULL, disc))
			goto out;
		mpo_free(b->X);
		if (!(b->X = dis_mpo_transpose(L)))
			goto out;
	}
	rc = 0;
out:
	mpo_free(T);
	mpo_free(Mt);
	mpo_free(L);
	return rc;
}

/* M' = T_χ'(X), or the old M' when it overlaps X better, then `fit`
 * fitting sweeps; a kept M' that is not refitted is rescaled to its best
 * multiple f/‖M'‖². On return *f = ⟨M', X⟩, *mnorm = ‖M'‖ and *tt (may be
 * NULL) the TT-SVD's own ⟨T(X), X⟩/‖T(X)‖ = ‖T(X)‖. */
static int mb_trunc(void *ctx, int chi, int fit, double *f, double *mnorm, double *tt)
{
	mpo_be *b = ctx;
	const mpo_trunc t = {chi, 0};
	mpo *Mn = mpo_clone(b->X);
	if (!Mn || mpo_truncate(Mn, &t, NULL) < 0) {
		mpo_free(Mn);
		return -1;
	}
	double fn = dis_mpo_dot(Mn, b->X), nn = mpo_norm(Mn);
	if (isnan(fn) || nn < 0) {
		mpo_free(Mn);
		return -1;
	}
	if (tt)
		*tt = nn > 0 ? fn / nn : 0;
	double fo = 0, no = 0;
	if (b->M && (isnan(fo = dis_mpo_dot(b->M, b->X)) || (no = mpo_norm(b->M)) < 0)) {
		mpo_free(Mn);
		return -1;
	}
	b->M = Mn = dis_keep_better(b->M, fo, no, Mn, fn, nn, fit);
	if (dis_fit(Mn, b->X, fit))
		return -1;
	*f = dis_mpo_dot(Mn, b->X);
	*mnorm = mpo_norm(Mn);
	return isnan(*f) || *mnorm < 0 ? -1 : 0;
}

static void mb_reset_m(void *ctx)
{
	mpo_be *b = ctx;
	mpo_free(b->M);
	b->M = NULL;
}

static int mb_entropy(void *ctx, int of_x, double *S)
{
	mpo_be *b = ctx;
	return dis_entropy_of(of_x ? b->X : b->W, S);
}

static int mb_max_bond(void *ctx)
{
	const mpo *a = ((mpo_be *)ctx)->X;
	int m = 1;
	for (int k = 0; a && k <= a->nsites; k++)
		m = a->bond[k] > m ? a->bond[k] : m;
	return m;
}

static mpo *mb_take_m(void *ctx)
{
	mpo_be *b = ctx;
	mpo *M = b->M;
	b->M = NULL;
	return M;
}

int dis_explicit(const mpo *W, const dis_opts *o, dis_result *r)
{
	memset(r, 0, sizeof *r);
	mpo_be b = {dis_mpo_padded(W), NULL, NULL, &o->gate_trunc,
		    o->special ? DIS_UPDATE_SO : DIS_UPDATE_O};
	if (!b.W)
		return -1;
	dis_backend be = {&b, mpo_norm(b.W), mb_x_of, mb_sweep, mb_trunc, mb_reset_m, mb_entropy,
			  mb_max_bond, mb_take_m};
	int rc = be.wnorm < 0 ? -1 : dis_explicit_run(&be, W->n_out, W->n_in, mpo_nparams(W), o, r);
	mpo_free(b.W);
	mpo_free(b.X);
	mpo_free(b.M);
	return rc;
}
