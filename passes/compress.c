/* compress.c - MPO compression of the selected linear layers (DESIGN.md
 * §2, §3): each layer's W (N×K, y = W x + b) becomes an MpoLinear node
 * whose cores are constants, and what was lost is recorded for the report.
 *
 * W from the graph: Gemm with transB=0 gives W = alpha·Bᵀ, transB=1 gives
 * W = alpha·B; the bias is beta·C (one value per row of W). MatMul(X, B)
 * gives W = Bᵀ with its fused Add's constant as the bias.
 *
 * Compression (passes/mpo.h): the exact TT-SVD first, whose bonds and
 * entanglement entropies are the "before" profile, then one truncation
 * sweep with the policy {max_bond, cutoff} at the orthogonality centre.
 * The sweep's errors are orthogonal, so ‖W − W'‖²/‖W‖² = 1 − Π_b (1 − ε_b)
 * exactly (ε_b the relative discarded weight of bond b). When the exact
 * TT-SVD would exceed 2^24 parameters, the truncating TT-SVD runs directly
 * (same policy, same error identity) and the "before" profile is omitted.
 * The relative Frobenius error is also measured on the dense W' when N·K ≤
 * 2^24, else given as the square root above. Everything runs in double;
 * the cores are then stored in the layer's dtype (f32 rounding adds about
 * 1e-7 relative, not counted in the report).
 *
 * A selected MpoLinear (a model compressed before) is read back into an
 * MPO: without --bond / --cutoff it is only measured (its bonds and
 * entropies are both the "before" and the "after" profile); with them the
 * same truncation sweep runs on it and its cores are replaced.
 */
#include "compress.h"

#include "la.h"
#include "mpo.h"
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COMPRESS_DENSE_LIMIT ((int64_t)1 << 24) /* elements */

static char *dupstr(const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s ? s : "", n);
	return d;
}

void compress_free(compress_result *r)
{
	for (int i = 0; i < r->n; i++) {
		compress_layer *L = &r->layer[i];
		free(L->name);
		free(L->op);
		free(L->weight);
		free(L->reason);
		free(L->bond_full);
		free(L->bond);
		free(L->entropy_full);
		free(L->entropy);
		free(L->discarded);
		free(L->note);
	}
	free(r->layer);
	memset(r, 0, sizeof *r);
}

/* Compress W (N×K) with o into an MPO and fill L's numbers. NULL with a
 * message in err on failure. */
static mpo *compress_dense(const double *W, int64_t N, int64_t K, const compress_opts *o,
			   compress_layer *L, char *err, size_t errlen)
{
	int dout[64], din[64];
	int S = mpolayer_layout(N, K, o->group, dout, din, &L->n_out, &L->n_in);
	mpo *a = NULL, *c = NULL;
	double *W2 = NULL;
	if (S < 0) {
		snprintf(err, errlen, "a %lldx%lld layer cannot be laid out with %d qubits per site",
			 (long long)N, (long long)K, o->group);
		return NULL;
	}
	L->rows = N;
	L->cols = K;
	L->group = o->group;
	L->nsites = S;
	L->params_dense = N * K;
	size_t nb = S > 1 ? (size_t)S - 1 : 1; /* bonds, at least one element */
	L->bond = calloc((size_t)S + 1, sizeof *L->bond);
	L->entropy = calloc(nb, sizeof *L->entropy);
	L->discarded = calloc(nb, sizeof *L->discarded);
	if (!L->bond || !L->entropy || !L->discarded)
		goto oom;
	double n2 = 0;
	for (int64_t e = 0; e < N * K; e++)
		n2 += W[e] * W[e];
	L->norm = sqrt(n2);
	mpo_trunc t = {o->max_bond, o->cutoff};
	double full = mpolayer_max_params(N, K, o->group, 0);
	if (full <= (double)COMPRESS_DENSE_LIMIT) {
		L->bond_full = calloc((size_t)S + 1, sizeof *L->bond_full);
		L->entropy_full = calloc(nb, sizeof *L->entropy_full);
		if (!L->bond_full || !L->entropy_full)
			goto oom;
		if (!(a = mpo_from_dense(W, N, K, o->group, NULL, NULL)))
			goto fail;
		memcpy(L->bond_full, a->bond, ((size_t)S + 1) * sizeof *a->bond);
		if (mpo_entropy(a, L->entropy_full) || (L->discarded_total = mpo_truncate(a, &t, L->discarded)) < 0)
			goto fail;
	} else {
		char note[256];
		snprintf(note, sizeof note, "the exact TT-SVD (up to %.3g parameters) is too large to form: "
			 "truncated during the sweep, no profile before truncation", full);
		if (!(L->note = dupstr(note)))
			goto oom;
		if (!(a = mpo_from_dense(W, N, K, o->group, &t, L->discarded)))
			goto fail;
		double keep = 1;
		for (int b = 0; b < S - 1; b++)
			keep *= 1 - L->discarded[b];
		L->discarded_total = 1 - keep;
	}
	memcpy(L->bond, a->bond, ((size_t)S + 1) * sizeof *a->bond);
	L->params_mpo = mpo_nparams(a);
	/* The entropy sweep rewrites the cores: measure a copy. */
	if (!(c = mpo_clone(a)) || mpo_entropy(c, L->entropy))
		goto fail;
	mpo_free(c);
	c = NULL;
	if (N * K <= COMPRESS_DENSE_LIMIT) {
		if (!(W2 = malloc((size_t)(N * K) * sizeof *W2)))
			goto oom;
		if (mpo_to_dense(a, W2))
			goto fail;
		double d2 = 0;
		for (int64_t e = 0; e < N * K; e++)
			d2 += (W[e] - W2[e]) * (W[e] - W2[e]);
		free(W2);
		L->rel_error = n2 > 0 ? sqrt(d2 / n2) : sqrt(d2);
		L->rel_error_exact = 1;
	} else {
		L->rel_error = sqrt(L->discarded_total > 0 ? L->discarded_total : 0);
	}
	return a;
oom:
	snprintf(err, errlen, "out of memory");
	mpo_free(a);
	mpo_free(c);
	free(W2);
	return NULL;
fail:
	snprintf(err, errlen, "%s", la_last_error());
	mpo_free(a);
	mpo_free(c);
	free(W2);
	return NULL;
}

/* The graph's opset of domain "qnnc" (added as version 1 if absent). */
static int qnnc_opset(ir_graph *g)
{
	int64_t v = ir_graph_opset(g, "qnnc");
	if (v > 0)
		return (int)v;
	ir_opset *o = ir_alloc(g->arena, ((size_t)g->nopsets + 1) * sizeof *o);
	if (g->nopsets)
		memcpy(o, g->opsets, (size_t)g->nopsets * sizeof *o);
	o[g->nopsets].domain = ir_strdup(g->arena, "qnnc");
	o[g->nopsets].version = 1;
	g->opsets = o;
	g->nopsets++;
	return 1;
}

static void set_int(ir_graph *g, ir_node *n, const char *name, int64_t v)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_INT, .i = v};
	ir_attr_set(g, n, &a);
}

/* Turn node n into MpoLinear(x, bias, cores of a) of dtype t, keeping its
 * name, position and output; the cores become constants named
 * "<base>.mpo<k>". Returns 0 or -1 with ir_error. */
static int make_mpolayer(ir_graph *g, ir_node *n, const char *base, ir_value *x, ir_value *bias,
			 const mpo *a, ir_dtype t)
{
	int S = a->nsites;
	ir_value **in = ir_alloc(g->arena, ((size_t)S + 2) * sizeof *in);
	in[0] = x;
	in[1] = bias;
	for (int k = 0; k < S; k++) {
		char name[512];
		int64_t dims[4] = {a->bond[k], a->dout[k], a->din[k], a->bond[k + 1]};
		snprintf(name, sizeof name, "%s.mpo%d", base, k);
		ir_value *v = ir_value_new(g, name);
		ir_tensor *c = ir_tensor_new(g->arena, t, 4, dims);
		if (!c)
			return ir_error(g, n, "out of memory");
		for (int64_t e = 0; e < c->numel; e++)
			ir_tensor_set_f64(c, e, a->core[k][e]);
		v->konst = c;
		v->dtype = t;
		ir_shape_from_dims(&v->shape, 4, dims);
		in[2 + k] = v;
	}
	n->op = IR_OP_MpoLinear;
	n->domain = ir_ops[IR_OP_MpoLinear].domain;
	n->opset = qnnc_opset(g);
	n->nin = S + 2;
	n->in = in;
	n->nattr = 0;
	n->attrs = NULL;
	n->aux = NULL;
	set_int(g, n, "rows", a->rows);
	set_int(g, n, "cols", a->cols);
	set_int(g, n, "n_out", a->n_out);
	set_int(g, n, "n_in", a->n_in);
	set_int(g, n, "group", a->group);
	return 0;
}

/* W (N×K) and the bias (N values, or NULL when there is none) of layer L. */
static int extract(const select_layer *L, double *W, double **bias)
{
	ir_node *n = L->node;
	const ir_tensor *B = n->in[1]->konst, *C = NULL;
	int64_t N = L->rows, K = L->cols;
	double scale = 1, cscale = 1;
	int tb = 0;
	if (n->op == IR_OP_Gemm) {
		tb = ir_attr_int(n, "transB", 0) != 0;
		scale = ir_attr_float(n, "alpha", 1.0);
		cscale = ir_attr_float(n, "beta", 1.0);
		if (n->nin > 2 && n->in[2] && cscale != 0)
			C = n->in[2]->konst;
	} else if (L->add) {
		C = L->add->in[0] == n->out[0] ? L->add->in[1]->konst : L->add->in[0]->konst;
	}
	for (int64_t i = 0; i < N; i++)
		for (int64_t j = 0; j < K; j++)
			W[i * K + j] = scale * ir_tensor_get_f64(B, tb ? i * K + j : j * N + i);
	*bias = NULL;
	if (!C)
		return 0;
	if (!(*bias = malloc((size_t)N * sizeof **bias)))
		return -1;
	for (int64_t i = 0; i < N; i++)
		(*bias)[i] = cscale * ir_tensor_get_f64(C, C->numel == 1 ? 0 : i);
	return 0;
}

/* The value holding the bias for the new node: the existing constant when
 * it is already an [N] vector of the right dtype and scale, else a new one. */
static ir_value *bias_value(ir_graph *g, const select_layer *L, const double *bias, ir_dtype t)
{
	ir_node *n = L->node;
	ir_value *c = NULL;
	if (n->op == IR_OP_Gemm && n->nin > 2 && ir_attr_float(n, "beta", 1.0) == 1.0)
		c = n->in[2];
	else if (L->add)
		c = L->add->in[0] == n->out[0] ? L->add->in[1] : L->add->in[0];
	if (c && c->dtype == t && c->konst->rank == 1 && c->konst->dims[0] == L->rows)
		return c;
	char name[512];
	snprintf(name, sizeof name, "%s.mpo_bias", L->weight);
	ir_value *v = ir_value_new(g, name);
	int64_t dims[1] = {L->rows};
	if (!(v->konst = ir_tensor_new(g->arena, t, 1, dims)))
		return NULL;
	for (int64_t i = 0; i < L->rows; i++)
		ir_tensor_set_f64(v->konst, i, bias[i]);
	v->dtype = t;
	ir_shape_from_dims(&v->shape, 1, dims);
	return v;
}

mpo *compress_node_mpo(ir_graph *g, ir_node *n)
{
	int64_t N = ir_attr_int(n, "rows", 0), K = ir_attr_int(n, "cols", 0);
	int64_t group = ir_attr_int(n, "group", 1);
	int S = n->op == IR_OP_MpoLinear && group >= 1 && group <= 16 ? mpo_nsites(N, K, (int)group) : -1;
	if (S < 1 || n->nin != S + 2) {
		ir_error(g, n, "not an MpoLinear with a valid layout (rows, cols, group and %d cores)", S);
		return NULL;
	}
	int *bond = malloc(((size_t)S + 1) * sizeof *bond);
	if (!bond) {
		ir_error(g, n, "out of memory");
		return NULL;
	}
	bond[0] = 1;
	for (int k = 0; k < S; k++) {
		const ir_value *v = n->in[2 + k];
		const ir_tensor *c = v ? v->konst : NULL;
		if (!c || c->rank != 4 || c->dims[0] != bond[k] || c->dims[3] < 1 || c->dims[3] > INT32_MAX) {
			free(bond);
			ir_error(g, n, "core %d is not a constant (χ, d_out, d_in, χ') tensor that chains with "
				 "the previous core", k);
			return NULL;
		}
		bond[k + 1] = (int)c->dims[3];
	}
	mpo *a = bond[S] == 1 ? mpo_new(N, K, (int)group, bond) : NULL;
	free(bond);
	if (!a) {
		ir_error(g, n, "the cores do not form an MPO (last bond not 1, or out of memory)");
		return NULL;
	}
	for (int k = 0; k < S; k++) {
		const ir_tensor *c = n->in[2 + k]->konst;
		if (c->dims[1] != a->dout[k] || c->dims[2] != a->din[k]) {
			ir_error(g, n, "core %d has legs %lldx%lld, the layout needs %dx%d", k,
				 (long long)c->dims[1], (long long)c->dims[2], a->dout[k], a->din[k]);
			mpo_free(a);
			return NULL;
		}
		for (int64_t e = 0; e < c->numel; e++)
			a->core[k][e] = ir_tensor_get_f64(c, e);
	}
	return a;
}

/* Whether v is read by any node other than n. */
static int shared_value(const ir_graph *g, const ir_node *n, const ir_value *v)
{
	for (int k = 0; k < g->nnodes; k++)
		for (int j = 0; g->nodes[k] != n && j < g->nodes[k]->nin; j++)
			if (g->nodes[k]->in[j] == v)
				return 1;
	return 0;
}

/* The profile of a selected MpoLinear, and its truncation when asked for. */
static int compress_existing(ir_graph *g, const select_layer *L, const compress_opts *o, compress_layer *cl)
{
	ir_node *n = L->node;
	mpo *a = compress_node_mpo(g, n), *c = NULL;
	double *W0 = NULL, *W1 = NULL;
	char msg[256];
	if (!a)
		return -1;
	int S = a->nsites;
	size_t nb = S > 1 ? (size_t)S - 1 : 1;
	cl->rows = a->rows;
	cl->cols = a->cols;
	cl->n_out = a->n_out;
	cl->n_in = a->n_in;
	cl->group = a->group;
	cl->nsites = S;
	cl->has_bias = n->nin > 1 && n->in[1];
	cl->params_dense = a->rows * a->cols;
	cl->bond_full = malloc(((size_t)S + 1) * sizeof *cl->bond_full);
	cl->bond = malloc(((size_t)S + 1) * sizeof *cl->bond);
	cl->entropy_full = calloc(nb, sizeof *cl->entropy_full);
	cl->entropy = calloc(nb, sizeof *cl->entropy);
	cl->discarded = calloc(nb, sizeof *cl->discarded);
	if (!cl->bond_full || !cl->bond || !cl->entropy_full || !cl->entropy || !cl->discarded)
		goto oom;
	memcpy(cl->bond_full, a->bond, ((size_t)S + 1) * sizeof *a->bond);
	if ((cl->norm = mpo_norm(a)) < 0 || !(c = mpo_clone(a)) || mpo_entropy(c, cl->entropy_full))
		goto fail;
	mpo_free(c);
	c = NULL;
	if (!(o->max_bond > 0 || o->cutoff > 0)) {
		memcpy(cl->bond, a->bond, ((size_t)S + 1) * sizeof *a->bond);
		memcpy(cl->entropy, cl->entropy_full, nb * sizeof *cl->entropy);
		cl->params_mpo = mpo_nparams(a);
		cl->rel_error_exact = 1;
		snprintf(msg, sizeof msg, "an MpoLinear layer, kept as it is (no --bond or --cutoff)");
		cl->note = dupstr(msg);
		mpo_free(a);
		return cl->note ? 0 : ir_error(g, n, "out of memory");
	}
	int64_t NK = a->rows * a->cols;
	if (NK <= COMPRESS_DENSE_LIMIT) {
		W0 = malloc((size_t)NK * sizeof *W0);
		W1 = malloc((size_t)NK * sizeof *W1);
		if (!W0 || !W1)
			goto oom;
		if (mpo_to_dense(a, W0))
			goto fail;
	}
	mpo_trunc t = {o->max_bond, o->cutoff};
	if ((cl->discarded_total = mpo_truncate(a, &t, cl->discarded)) < 0)
		goto fail;
	memcpy(cl->bond, a->bond, ((size_t)S + 1) * sizeof *a->bond);
	cl->params_mpo = mpo_nparams(a);
	if (!(c = mpo_clone(a)) || mpo_entropy(c, cl->entropy))
		goto fail;
	if (W0) {
		if (mpo_to_dense(a, W1))
			goto fail;
		double d2 = 0, n2 = 0;
		for (int64_t e = 0; e < NK; e++) {
			d2 += (W0[e] - W1[e]) * (W0[e] - W1[e]);
			n2 += W0[e] * W0[e];
		}
		cl->rel_error = n2 > 0 ? sqrt(d2 / n2) : sqrt(d2);
		cl->rel_error_exact = 1;
	} else {
		cl->rel_error = sqrt(cl->discarded_total > 0 ? cl->discarded_total : 0);
	}
	/* The new cores, in place of the old constants where nothing else reads them. */
	ir_dtype dt = n->in[0]->dtype;
	for (int k = 0; k < S; k++) {
		int64_t dims[4] = {a->bond[k], a->dout[k], a->din[k], a->bond[k + 1]};
		ir_value *v = n->in[2 + k];
		ir_tensor *tt = ir_tensor_new(g->arena, dt, 4, dims);
		if (!tt)
			goto oom;
		for (int64_t e = 0; e < tt->numel; e++)
			ir_tensor_set_f64(tt, e, a->core[k][e]);
		if (shared_value(g, n, v))
			v = n->in[2 + k] = ir_value_new(g, v->name);
		v->konst = tt;
		v->dtype = dt;
		ir_shape_from_dims(&v->shape, 4, dims);
	}
	mpo_free(a);
	mpo_free(c);
	free(W0);
	free(W1);
	return 0;
oom:
	snprintf(msg, sizeof msg, "out of memory");
	goto out;
fail:
	snprintf(msg, sizeof msg, "%s", la_last_error());
out:
	mpo_free(a);
	mpo_free(c);
	free(W0);
	free(W1);
	return ir_error(g, n, "cannot compress this MpoLinear: %s", msg);
}

static int compress_one(ir_graph *g, const select_layer *L, const compress_opts *o, compress_layer *cl,
			char *dead)
{
	ir_node *n = L->node;
	int64_t N = L->rows, K = L->cols;
	ir_dtype t = n->in[0]->dtype;
	ir_value *x = n->in[0], *bv = NULL;
	ir_node *target = n;
	char err[1024];
	double *bias = NULL, *W = n->op == IR_OP_MpoLinear ? NULL : malloc((size_t)(N * K) * sizeof *W);
	int rc = -1;
	cl->name = dupstr(L->name);
	cl->op = dupstr(L->op);
	cl->weight = dupstr(L->weight);
	cl->reason = dupstr(L->reason);
	if (n->op == IR_OP_MpoLinear) {
		free(W);
		if (!cl->name || !cl->op || !cl->weight || !cl->reason)
			return ir_error(g, n, "out of memory");
		return compress_existing(g, L, o, cl);
	}
	if (!W || !cl->name || !cl->op || !cl->weight || !cl->reason || extract(L, W, &bias)) {
		free(W);
		return ir_error(g, n, "out of memory");
	}
	cl->has_bias = bias != NULL;
	mpo *a = compress_dense(W, N, K, o, cl, err, sizeof err);
	if (!a) {
		ir_error(g, n, "cannot compress weight '%s' (%lldx%lld): %s", L->weight, (long long)N,
			 (long long)K, err);
		goto done;
	}
	if (bias && !(bv = bias_value(g, L, bias, t))) {
		ir_error(g, n, "out of memory");
		goto done;
	}
	if (L->add) { /* the Add becomes the layer; the MatMul goes */
		target = L->add;
		target->name = n->name;
		dead[n->id] = 1;
	}
	rc = make_mpolayer(g, target, L->weight, x, bv, a, t);
done:
	mpo_free(a);
	free(W);
	free(bias);
	return rc;
}

int pass_compress(ir_graph *g, const select_result *r, const compress_opts *o, compress_result *out)
{
	memset(out, 0, sizeof *out);
	out->opts = *o;
	out->layer = calloc((size_t)r->nselected + 1, sizeof *out->layer);
	char *dead = calloc((size_t)g->nnodes + 1, 1);
	int rc = 0;
	if (!out->layer || !dead) {
		free(dead);
		return ir_error(g, NULL, "out of memory");
	}
	for (int i = 0; i < r->n && !rc; i++)
		if (r->layer[i].selected) {
			compress_layer *cl = &out->layer[out->n++];
			double t0 = progress_now();
			rc = compress_one(g, &r->layer[i], o, cl, dead);
			cl->seconds = progress_now() - t0;
		}
	if (!rc)
		ir_graph_remove_nodes(g, dead); /* fused MatMuls, and the unused weights */
	free(dead);
	return rc ? -1 : out->n;
}

ir_graph *compress_matrix_graph(const char *source, const double *W, int64_t N, int64_t K,
				const compress_opts *o, compress_result *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->opts = *o;
	compress_layer *L = out->layer = calloc(1, sizeof *out->layer);
	if (!L) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	out->n = 1;
	L->name = dupstr("W");
	L->op = dupstr("matrix");
	L->weight = dupstr(source);
	L->reason = dupstr("--matrix");
	char msg[1024];
	double t0 = progress_now();
	mpo *a = L->name && L->op && L->weight && L->reason ?
		 compress_dense(W, N, K, o, L, msg, sizeof msg) : NULL;
	L->seconds = progress_now() - t0;
	if (!a) {
		snprintf(err, errlen, "%s: cannot compress the %lldx%lld matrix: %s", source, (long long)N,
			 (long long)K, L->reason ? msg : "out of memory");
		return NULL;
	}
	ir_graph *g = ir_graph_new(source);
	g->name = ir_strdup(g->arena, "matrix");
	g->producer = ir_strdup(g->arena, "qnnc --matrix");
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y");
	x->dtype = y->dtype = IR_F32;
	x->shape.rank = 2;
	x->shape.d[0] = (ir_dim){-1, ir_strdup(g->arena, "batch")};
	x->shape.d[1] = (ir_dim){K, NULL};
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, y);
	ir_node *n = ir_node_new(g, IR_OP_MpoLinear, "W", 1, &x, 1, &y);
	int rc = make_mpolayer(g, n, "W", x, NULL, a, IR_F32);
	mpo_free(a);
	if (rc) {
		snprintf(err, errlen, "%s", g->err);
		ir_graph_free(g);
		return NULL;
	}
	return g;
}
