/* disentangle.c - the disentangle pass (see disentangle.h): each selected
 * MpoLinear layer W becomes U M' Vᵀ, found by dis_explicit (Evenbly–Vidal
 * sweeps) or dis_gradient (Riemannian Adam, optionally on calibration
 * activations), and is rewritten into Circuit / MpoLinear / Circuit nodes.
 *
 * The numerics run on the layer's MPO in double, read from its f32 (or
 * f64) cores; small layers (opts.dense_max) run either method on the dense
 * matrix instead (the same iterations; the dense form is the tests' oracle).
 * The gates go into the graph as f64 constants, exactly as found; M' is
 * stored in the layer's dtype like any MpoLinear core.
 */
#include "disentangle.h"

#include "la.h"
#include "mpo.h"
#include "passes.h"
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIS_DENSE_LIMIT ((int64_t)1 << 24) /* elements of a layer projected densely */
#define DIS_CALIB_BATCH 100

void disentangle_defaults(disentangle_opts *o)
{
	memset(o, 0, sizeof *o);
	dis_defaults(&o->dis);
	o->method = DISENTANGLE_VARIATIONAL;
	o->calib_limit = 512;
	o->dense_max = (int64_t)1 << 20;
}

const char *disentangle_sides_name(int sides)
{
	return sides == DIS_LEFT ? "left" : sides == DIS_RIGHT ? "right" : sides == DIS_BOTH ? "both" : "?";
}

const char *disentangle_method_name(disentangle_method m)
{
	return m == DISENTANGLE_GRADIENT ? "gradient" : "variational";
}

void disentangle_free(disentangle_result *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->layer[i].name);
		free(r->layer[i].note);
		dis_result_free(&r->layer[i].r);
	}
	free(r->layer);
	memset(r, 0, sizeof *r);
}

static char *dupstr(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* ------------------------------------------------------------ the layer W */

/* W of the MpoLinear n as an N×K MPO with one qubit per site and zero
 * padding (see the top of disentangle.h); *note gets a malloc'd remark or
 * stays NULL. NULL with ir_error on failure. */
static mpo *layer_w(ir_graph *g, ir_node *n, char **note)
{
	mpo *a = compress_node_mpo(g, n), *b;
	if (!a)
		return NULL;
	if (a->group != 1) {
		ir_error(g, n, "disentangling needs one qubit per MPO site; this layer has group %d", a->group);
		mpo_free(a);
		return NULL;
	}
	int padded = a->rows != (int64_t)1 << a->n_out || a->cols != (int64_t)1 << a->n_in;
	if (!padded)
		return a;
	int64_t NK = a->rows * a->cols;
	if (NK > DIS_DENSE_LIMIT) {
		*note = dupstr("the layer is padded to powers of two and too large to project the padding out "
			       "densely: W includes what its MPO holds in the padding");
		return a;
	}
	double *Wd = malloc((size_t)NK * sizeof *Wd);
	int oom = !Wd;
	/* Exact up to rounding: the cutoff only drops numerical noise. */
	mpo_trunc t = {0, 1e-24};
	b = Wd && !mpo_to_dense(a, Wd) ? mpo_from_dense(Wd, a->rows, a->cols, 1, &t, NULL) : NULL;
	free(Wd);
	if (!b)
		ir_error(g, n, "cannot project the padding out of the layer: %s",
			 oom ? "out of memory" : la_last_error());
	mpo_free(a);
	return b;
}

/* ----------------------------------------------------------- calibration */

/* The input activations of every layer node[i] (rows[i] × K_i doubles, one
 * row per input vector) on the first o->calib_limit images of o->calib:
 * the interpreter runs the graph with those values as extra outputs. */
static int calib_collect(ir_graph *g, ir_node **node, int nl, const disentangle_opts *o, double **X,
			 int64_t *rows)
{
	const ds_set *d = o->calib;
	char err[512], ss[256];
	if (g->ninputs != 1)
		return ir_error(g, NULL, "--calib: the model has %d inputs; it needs exactly one (the images)",
				g->ninputs);
	const ir_value *in = g->inputs[0];
	const ir_shape *s = &in->shape;
	ir_dtype dt = in->dtype;
	int64_t chw = d->c * d->h * d->w, per = 1;
	if (dt != IR_F32 && dt != IR_F64)
		return ir_error(g, NULL, "--calib: model input '%s' is %s; images are fed as f32 (or f64)", in->name,
				ir_dtype_name(dt));
	for (int k = 1; k < s->rank; k++)
		per = s->d[k].v >= 0 && per >= 0 ? per * s->d[k].v : -1;
	if (s->rank < 2 || per != chw)
		return ir_error(g, NULL, "--calib: model input '%s' has shape %s; the %s images need [N, %lld] or "
				"[N, c, h, w] with c·h·w = %lld", in->name, ir_shape_str(s, ss, sizeof ss),
				ds_kind_name(d->kind), (long long)chw, (long long)chw);
	if (ds_preprocess_check(o->pp, d->c, err, sizeof err))
		return ir_error(g, NULL, "--calib: %s", err);
	int64_t limit = o->calib_limit < d->n ? o->calib_limit : d->n;
	int64_t fixed = s->d[0].v > 0 ? s->d[0].v : 0;
	int64_t B = fixed ? fixed : limit < DIS_CALIB_BATCH ? limit : DIS_CALIB_BATCH;
	int64_t dims[IR_MAX_RANK];
	for (int k = 0; k < s->rank; k++)
		dims[k] = k ? s->d[k].v : B;
	ir_value **saved = g->outputs, **extra = calloc((size_t)nl, sizeof *extra);
	ir_tensor **out = calloc((size_t)nl, sizeof *out);
	ir_tensor *x = ir_tensor_new(NULL, dt, s->rank, dims);
	float *stage = malloc((size_t)(B * chw) * sizeof *stage);
	int saved_n = g->noutputs, rc = -1;
	if (!extra || !out || !x || !stage) {
		ir_error(g, NULL, "--calib: out of memory");
		goto done;
	}
	for (int i = 0; i < nl; i++) {
		int64_t K = ir_attr_int(node[i], "cols", 1);
		extra[i] = node[i]->in[0];
		rows[i] = 0;
		if (!(X[i] = malloc((size_t)(limit * K) * sizeof **X))) {
			ir_error(g, NULL, "--calib: out of memory");
			goto done;
		}
	}
	g->outputs = extra;
	g->noutputs = nl;
	for (int64_t first = 0; first < limit; first += B) {
		int64_t b = limit - first < B ? limit - first : B;
		if (ds_batch(d, NULL, first, b, o->pp, NULL, NULL, stage, NULL, err, sizeof err)) {
			ir_error(g, NULL, "--calib: %s", err);
			goto done;
		}
		for (int64_t e = 0; e < B * chw; e++)
			ir_tensor_set_f64(x, e, e < b * chw ? (double)stage[e] : 0.0);
		if (interp_run(g, &x, out))
			goto done;
		for (int i = 0; i < nl; i++) {
			int64_t K = ir_attr_int(node[i], "cols", 1), nrow = out[i]->numel / K;
			/* the activation's rows belong to the images in order; padded images come last */
			int64_t keep = out[i]->numel % K || nrow % B ? 0 : nrow / B * b;
			if (!keep) {
				ir_error(g, node[i], "--calib: the layer input has %lld values for a batch of %lld "
					 "images of which the last axis (%lld) does not divide evenly",
					 (long long)out[i]->numel, (long long)B, (long long)K);
				goto done;
			}
			if (rows[i] + keep > limit) { /* several rows per image: keep the first images' */
				double *t = realloc(X[i], (size_t)((rows[i] + keep) * K) * sizeof **X);
				if (!t) {
					ir_error(g, NULL, "--calib: out of memory");
					goto done;
				}
				X[i] = t;
			}
			for (int64_t e = 0; e < keep * K; e++)
				X[i][rows[i] * K + e] = ir_tensor_get_f64(out[i], e);
			rows[i] += keep;
			ir_tensor_free(out[i]);
			out[i] = NULL;
		}
	}
	rc = 0;
done:
	g->outputs = saved;
	g->noutputs = saved_n;
	for (int i = 0; out && i < nl; i++)
		ir_tensor_free(out[i]);
	free(out);
	free(extra);
	free(stage);
	ir_tensor_free(x);
	return rc;
}

/* -------------------------------------------------------------- progress */

typedef struct step_ctx {
	progress bar;
	const char *label;
	int64_t total;
	int quiet;
	const dis_opts *user;  /* the caller's own callback, chained */
} step_ctx;

/* Only the sweeps at χ' report (annealing at smaller bonds runs before
 * them, shown as such): the bar restarts at sweep 0, so that its time and
 * estimate are those of the sweeps. */
static void on_step(void *ctx, int step, const dis_step *s)
{
	step_ctx *c = ctx;
	if (step == 0) {
		progress_finish(&c->bar, 0, NULL);
		progress_start(&c->bar, stderr, c->label, c->total, c->quiet);
	}
	progress_update(&c->bar, step, "overlap %.6f", s->overlap);
	if (c->user->progress)
		c->user->progress(c->user->progress_ctx, step, s);
}

static double seeded_urand(void *ctx) { return 2 * ds_rng_uniform(ctx) - 1; }

/* ---------------------------------------------------------------- rewrite */

static void set_int(ir_graph *g, ir_node *n, const char *name, int64_t v)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_INT, .i = v};
	ir_attr_set(g, n, &a);
}

static void set_ints(ir_graph *g, ir_node *n, const char *name, const int64_t *v, int count)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_INTS, .is = (int64_t *)v, .n = count};
	ir_attr_set(g, n, &a);
}

static ir_value *new_const(ir_graph *g, const char *name, ir_dtype t, int rank, const int64_t *dims)
{
	ir_value *v = ir_value_new(g, name);
	if (!(v->konst = ir_tensor_new(g->arena, t, rank, dims)))
		return NULL;
	v->dtype = t;
	ir_shape_from_dims(&v->shape, rank, dims);
	return v;
}

/* Circuit(x, G, B) -> y for circuit c, its gates as the constant
 * "<layer>.<side>.gates"; stage 0 for now (numbered at the end). */
static ir_node *circuit_node(ir_graph *g, const char *layer, const char *side, ir_value *x, ir_value *B,
			     ir_value *y, const dis_circuit *c, int64_t rows, int64_t cols, int transpose)
{
	char name[1024];
	int64_t np = c->nparams;
	snprintf(name, sizeof name, "%s.%s.gates", layer, side);
	ir_value *G = new_const(g, name, IR_F64, 1, &np);
	int64_t *sites = ir_alloc(g->arena, ((size_t)c->ngates + 1) * sizeof *sites);
	int64_t *ks = ir_alloc(g->arena, ((size_t)c->ngates + 1) * sizeof *ks);
	if (!G)
		return NULL;
	memcpy(G->konst->data, c->data, (size_t)np * sizeof(double));
	for (int j = 0; j < c->ngates; j++) {
		sites[j] = c->gate[j].site;
		ks[j] = c->gate[j].k;
	}
	ir_value *in[3] = {x, G, B};
	snprintf(name, sizeof name, "%s/%s", layer, side);
	ir_node *n = ir_node_new(g, IR_OP_Circuit, name, B ? 3 : 2, in, 1, &y);
	n->domain = ir_ops[IR_OP_Circuit].domain;
	n->opset = (int)ir_graph_opset(g, "qnnc");
	set_int(g, n, "qubits", c->nqubits);
	set_int(g, n, "rows", rows);
	set_int(g, n, "cols", cols);
	set_int(g, n, "transpose", transpose);
	set_ints(g, n, "sites", sites, c->ngates);
	set_ints(g, n, "ks", ks, c->ngates);
	set_int(g, n, "stage", 0);
	return n;
}

/* The nodes a layer became (NULL where a side is absent). */
typedef struct rewritten {
	ir_node *v, *m, *u;
} rewritten;

/* Rewrite the MpoLinear n with the result of its disentangling. */
static int rewrite(ir_graph *g, ir_node *n, const dis_result *r, rewritten *rw)
{
	const char *layer = ir_strdup(g->arena, n->name);
	ir_value *X = n->in[0], *B = n->nin > 1 ? n->in[1] : NULL, *Y = n->out[0], *cur = X;
	ir_dtype t = X->dtype;
	int64_t N = ir_attr_int(n, "rows", 1), K = ir_attr_int(n, "cols", 1);
	const mpo *M = r->residual;
	char name[1024];
	if (r->v) {
		snprintf(name, sizeof name, "%s/V_output_0", layer);
		cur = ir_value_new(g, name);
		if (!(rw->v = circuit_node(g, layer, "V", X, NULL, cur, r->v, (int64_t)1 << M->n_in, K, 1)))
			return ir_error(g, n, "out of memory");
	}
	ir_value *mo = Y;
	if (r->u) {
		snprintf(name, sizeof name, "%s/M_output_0", layer);
		mo = ir_value_new(g, name);
	}
	int S = M->nsites;
	ir_value **in = ir_alloc(g->arena, ((size_t)S + 2) * sizeof *in);
	in[0] = cur;
	in[1] = r->u ? NULL : B;
	for (int k = 0; k < S; k++) {
		int64_t dims[4] = {M->bond[k], M->dout[k], M->din[k], M->bond[k + 1]};
		snprintf(name, sizeof name, "%s.M.core%d", layer, k);
		ir_value *c = new_const(g, name, t, 4, dims);
		if (!c)
			return ir_error(g, n, "out of memory");
		for (int64_t e = 0; e < c->konst->numel; e++)
			ir_tensor_set_f64(c->konst, e, M->core[k][e]);
		in[2 + k] = c;
	}
	snprintf(name, sizeof name, "%s/M", layer);
	n->name = ir_strdup(g->arena, name);
	n->in = in;
	n->nin = S + 2;
	n->out[0] = mo;
	mo->def = n;
	n->nattr = 0;
	n->attrs = NULL;
	n->aux = NULL;
	set_int(g, n, "rows", r->u ? (int64_t)1 << M->n_out : N);
	set_int(g, n, "cols", r->v ? (int64_t)1 << M->n_in : K);
	set_int(g, n, "n_out", M->n_out);
	set_int(g, n, "n_in", M->n_in);
	set_int(g, n, "group", 1);
	rw->m = n;
	if (r->u && !(rw->u = circuit_node(g, layer, "U", mo, B, Y, r->u, N, (int64_t)1 << M->n_out, 0)))
		return ir_error(g, n, "out of memory");
	return 0;
}

/* Put every rewritten layer's nodes in place of the MpoLinear (V before,
 * U after: ir_node_new appended them), number the quantum stages of the
 * graph in graph order, renumber ids and drop the old cores. */
static void finish_graph(ir_graph *g, const rewritten *rw, int nl, int nbase)
{
	ir_node **order = malloc(((size_t)g->nnodes + 1) * sizeof *order);
	char *none = calloc((size_t)g->nnodes + 1, 1);
	IR_ASSERT(order && none);
	int k = 0;
	for (int i = 0; i < nbase; i++) {
		ir_node *n = g->nodes[i];
		const rewritten *w = NULL;
		for (int j = 0; j < nl && !w; j++)
			if (rw[j].m == n)
				w = &rw[j];
		if (w && w->v)
			order[k++] = w->v;
		order[k++] = n;
		if (w && w->u)
			order[k++] = w->u;
	}
	/* nodes of a layer whose rewrite failed half-way stay at the end */
	for (int i = nbase; i < g->nnodes; i++) {
		int placed = 0;
		for (int j = 0; j < nl; j++)
			placed |= (rw[j].v == g->nodes[i] || rw[j].u == g->nodes[i]) && rw[j].m;
		if (!placed)
			order[k++] = g->nodes[i];
	}
	IR_ASSERT(k == g->nnodes);
	memcpy(g->nodes, order, (size_t)k * sizeof *order);
	int64_t stage = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->op == IR_OP_Circuit && ir_attr_int(n, "stage", -1) >= 0)
			set_int(g, n, "stage", stage++);
	}
	ir_graph_remove_nodes(g, none);
	free(order);
	free(none);
}

/* ----------------------------------------------------------------- the pass */

static ir_node *find_node(ir_graph *g, const char *name)
{
	for (int k = 0; k < g->nnodes; k++)
		if (!strcmp(g->nodes[k]->name, name))
			return g->nodes[k];
	return NULL;
}

static int check_opts(ir_graph *g, const disentangle_opts *o)
{
	const dis_opts *d = &o->dis;
	if (d->sides < DIS_LEFT || d->sides > DIS_BOTH)
		return ir_error(g, NULL, "disentangle: sides must be left, right or both");
	if (d->ansatz.k < 1 || d->ansatz.k > DIS_MAX_K || d->ansatz.depth < 0)
		return ir_error(g, NULL, "disentangle: gates of %d qubits (1..%d) and depth %d (>= 0)",
				d->ansatz.k, DIS_MAX_K, d->ansatz.depth);
	if (d->residual_bond < 1 || d->max_sweeps < 0 || !(d->tol >= 0) || d->restarts < 0)
		return ir_error(g, NULL, "disentangle: residual bond %d, sweeps %d, tol %g and restarts %d "
				"must be >= 1, >= 0, >= 0, >= 0", d->residual_bond, d->max_sweeps, d->tol, d->restarts);
	if (o->method != DISENTANGLE_VARIATIONAL && o->method != DISENTANGLE_GRADIENT)
		return ir_error(g, NULL, "disentangle: unknown method %d", (int)o->method);
	if (o->calib && o->method != DISENTANGLE_GRADIENT)
		return ir_error(g, NULL, "disentangle: calibration inputs need the gradient method");
	if (o->calib && (o->calib_limit < 1 || o->calib->n < 1))
		return ir_error(g, NULL, "disentangle: no calibration images (limit %lld, dataset %lld)",
				(long long)o->calib_limit, (long long)o->calib->n);
	return 0;
}

int pass_disentangle(ir_graph *g, const select_result *sel, const disentangle_opts *o,
		     disentangle_result *out)
{
	memset(out, 0, sizeof *out);
	out->opts = *o;
	out->opts.calib = NULL; /* the report keeps the options, not the data */
	out->opts.pp = NULL;
	if (check_opts(g, o))
		return -1;
	int nl = sel->nselected, nbase = g->nnodes, rc = -1;
	ir_node **node = calloc((size_t)nl + 1, sizeof *node);
	rewritten *rw = calloc((size_t)nl + 1, sizeof *rw);
	double **X = calloc((size_t)nl + 1, sizeof *X);
	int64_t *xrows = calloc((size_t)nl + 1, sizeof *xrows);
	out->layer = calloc((size_t)nl + 1, sizeof *out->layer);
	if (!node || !rw || !X || !xrows || !out->layer) {
		ir_error(g, NULL, "out of memory");
		goto done;
	}
	/* The layers, in graph order, each an MpoLinear by now. */
	for (int i = 0, j = 0; i < sel->n; i++) {
		const select_layer *L = &sel->layer[i];
		if (!L->selected)
			continue;
		ir_node *n = find_node(g, L->name);
		if (!n || n->op != IR_OP_MpoLinear) {
			ir_error(g, n, "disentangle: layer '%s' is not an MpoLinear node (compress it first)", L->name);
			goto done;
		}
		node[j++] = n;
	}
	for (int i = 1; i < nl; i++) /* insertion sort by position */
		for (int j = i; j > 0 && node[j]->id < node[j - 1]->id; j--) {
			ir_node *t = node[j];
			node[j] = node[j - 1];
			node[j - 1] = t;
		}
	if (o->calib && nl && calib_collect(g, node, nl, o, X, xrows))
		goto done;

	for (int i = 0; i < nl; i++) {
		ir_node *n = node[i];
		disentangle_layer *D = &out->layer[out->n++];
		if (!(D->name = dupstr(n->name))) {
			ir_error(g, n, "out of memory");
			goto done;
		}
		D->stage_v = D->stage_u = -1;
		mpo *W = layer_w(g, n, &D->note);
		if (!W)
			goto done;
		D->rows = W->rows;
		D->cols = W->cols;
		D->n = W->n_out;
		D->m = W->n_in;
		D->has_bias = n->nin > 1 && n->in[1];
		D->params_dense = W->rows * W->cols;
		D->params_mpo = 0;
		for (int k = 2; k < n->nin; k++)
			D->params_mpo += n->in[k]->konst->numel;
		D->calib_rows = xrows[i];
		int sides = o->dis.sides;
		if (((sides & DIS_LEFT) && (D->n < 1 || D->n > 30)) || ((sides & DIS_RIGHT) && (D->m < 1 || D->m > 30))) {
			ir_error(g, n, "disentangle: a %lldx%lld layer has %d output and %d input qubits; a "
				 "circuit side needs 1..30", (long long)D->rows, (long long)D->cols, D->n, D->m);
			mpo_free(W);
			goto done;
		}
		dis_opts d = o->dis;
		ds_rng rng;
		ds_rng_seed(&rng, o->seed + 0x9e3779b97f4a7c15u * (uint64_t)i);
		if (!d.urand) {
			d.urand = seeded_urand;
			d.urand_ctx = &rng;
		}
		step_ctx sc = {.label = D->name, .total = d.max_sweeps > 0 ? d.max_sweeps : 1, .quiet = o->quiet,
			       .user = &o->dis};
		d.progress = on_step;
		d.progress_ctx = &sc;
		progress_start(&sc.bar, stderr, sc.label, sc.total, o->quiet);
		progress_update(&sc.bar, 0, "%s", o->method == DISENTANGLE_VARIATIONAL && d.anneal &&
				d.residual_bond > 1 ? "annealing" : "starting");
		int bad;
		int small = W->rows * W->cols <= o->dense_max;
		D->engine = small || X[i] ? "dense" : "mpo";
		if (o->method == DISENTANGLE_GRADIENT) {
			d.dense = small;
			bad = dis_gradient(W, X[i], xrows[i], &d, &D->r);
		} else if (small) {
			double *Wd = malloc((size_t)(W->rows * W->cols) * sizeof *Wd);
			bad = !Wd || mpo_to_dense(W, Wd) || dis_dense_explicit(Wd, W->rows, W->cols, &d, &D->r);
			if (!Wd)
				la_set_error("out of memory");
			free(Wd);
		} else {
			bad = dis_explicit(W, &d, &D->r);
		}
		progress_finish(&sc.bar, 0, NULL);
		mpo_free(W);
		if (bad) {
			ir_error(g, n, "disentangle (%s): %s", disentangle_method_name(o->method), la_last_error());
			goto done;
		}
		if (rewrite(g, n, &D->r, &rw[i]))
			goto done;
		D->gates_u = D->r.u ? D->r.u->ngates : 0;
		D->gates_v = D->r.v ? D->r.v->ngates : 0;
	}
	rc = 0;
done:
	if (out->layer && rw) {
		finish_graph(g, rw, nl, nbase);
		for (int i = 0; i < out->n; i++) {
			out->layer[i].stage_v = rw[i].v ? (int)ir_attr_int(rw[i].v, "stage", -1) : -1;
			out->layer[i].stage_u = rw[i].u ? (int)ir_attr_int(rw[i].u, "stage", -1) : -1;
		}
	}
	for (int i = 0; X && i < nl; i++)
		free(X[i]);
	free(X);
	free(xrows);
	free(node);
	free(rw);
	return rc ? -1 : out->n;
}
