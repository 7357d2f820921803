/* test_disentangle.c - the disentangle pass (passes/disentangle.c) and the
 * MpoLinear handling of selection and compression it relies on:
 *   - a planted 64×64 Gemm, compressed then disentangled, becomes
 *     <layer>/V, <layer>/M, <layer>/U with the contract's attributes,
 *     constants and bias placement, for sides both, left and right, in f32
 *     and f64; the interpreter computes U M' Vᵀ x + b as dis_circuit_to_dense
 *     and mpo_to_dense give it; the overlap is never below plain truncation
 *     and the reported error is the true one;
 *   - stage numbers run in graph order across layers;
 *   - a padded MpoLinear (48×40 in a 64×64 MPO with weight in the padding)
 *     is disentangled as its 48×40 block;
 *   - MpoLinear layers are selectable, kept by compress unless truncated,
 *     refused with group > 1;
 *   - bad options and layers give diagnostics; the gradient method, with
 *     calibration activations of the MNIST MLP when the data is there. */
#include "test.h"
#include "op_test.h"

#include "../../frontend/onnx.h"
#include "../../passes/compress.h"
#include "../../passes/dis.h"
#include "../../passes/disentangle.h"
#include "../../passes/la.h"
#include "../../passes/mpo.h"
#include "../../passes/passes.h"

#define NQ 6
#define D64 64

static double urand_cb(void *ctx) { return 2 * ds_rng_uniform(ctx) - 1; }

/* A planted W = U M Vᵀ (64×64 row-major): random depth-1 brickwork circuits
 * of 2-qubit gates and a random M of bond 2. */
static void planted(double *W, uint64_t seed)
{
	ds_rng rng;
	ds_rng_seed(&rng, seed);
	dis_ansatz a = {2, 1, DIS_BRICK, 0};
	dis_circuit *U = dis_circuit_new(NQ, &a), *V = dis_circuit_new(NQ, &a);
	int bond[NQ + 1] = {1, 2, 2, 2, 2, 2, 1};
	mpo *M = mpo_new(D64, D64, 1, bond);
	IR_ASSERT(U && V && M && !dis_circuit_randomize(U, urand_cb, &rng) &&
		  !dis_circuit_randomize(V, urand_cb, &rng));
	for (int k = 0; k < M->nsites; k++)
		for (int64_t e = 0; e < (int64_t)M->bond[k] * 4 * M->bond[k + 1]; e++)
			M->core[k][e] = urand_cb(&rng);
	double *Md = malloc(D64 * D64 * sizeof *Md), *T = malloc(D64 * D64 * sizeof *T);
	IR_ASSERT(Md && T && !mpo_to_dense(M, Md));
	for (int i = 0; i < D64; i++) /* T = Mᵀ */
		for (int j = 0; j < D64; j++)
			T[j * D64 + i] = Md[i * D64 + j];
	IR_ASSERT(!dis_circuit_apply(V, 0, T, D64)); /* V Mᵀ */
	for (int i = 0; i < D64; i++)                /* W = (V Mᵀ)ᵀ = M Vᵀ */
		for (int j = 0; j < D64; j++)
			W[i * D64 + j] = T[j * D64 + i];
	IR_ASSERT(!dis_circuit_apply(U, 0, W, D64)); /* U M Vᵀ */
	free(Md);
	free(T);
	mpo_free(M);
	dis_circuit_free(U);
	dis_circuit_free(V);
}

static ir_graph *new_graph(void)
{
	ir_graph *g = ir_graph_new("test_disentangle");
	g->opsets = ir_alloc(g->arena, sizeof *g->opsets);
	g->opsets[0].domain = "";
	g->opsets[0].version = 13;
	g->nopsets = 1;
	return g;
}

static ir_value *const_of(ir_graph *g, const char *name, ir_dtype t, int rank, const int64_t *dims,
			  const double *v)
{
	ir_value *c = ir_value_new(g, name);
	c->konst = ir_tensor_new(g->arena, t, rank, dims);
	for (int64_t e = 0; e < c->konst->numel; e++)
		ir_tensor_set_f64(c->konst, e, v[e]);
	op_value_from_tensor(c, c->konst);
	return c;
}

/* x [4, 64] -> Gemm "lin" (W = wᵀ, bias c) [-> Relu -> Gemm "lin2"] -> y. */
static ir_graph *gemm_graph(ir_dtype t, int two, uint64_t seed)
{
	ir_graph *g = new_graph();
	double *W = malloc(D64 * D64 * sizeof *W), *w = malloc(D64 * D64 * sizeof *w), b[D64];
	int64_t xd[2] = {4, D64}, wd[2] = {D64, D64}, bd[1] = {D64};
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y"), *h = two ? ir_value_new(g, "h") : y;
	x->dtype = t;
	ir_shape_from_dims(&x->shape, 2, xd);
	ir_graph_add_input(g, x);
	for (int l = 0; l <= two; l++) {
		planted(W, seed + (uint64_t)l);
		for (int i = 0; i < D64; i++) {
			b[i] = 0.01 * (i % 7) - 0.02;
			for (int j = 0; j < D64; j++)
				w[j * D64 + i] = W[i * D64 + j];
		}
		ir_value *in[3] = {l ? ir_value_new(g, "r") : x, const_of(g, l ? "w2" : "w", t, 2, wd, w),
				   const_of(g, l ? "c2" : "c", t, 1, bd, b)};
		if (l) {
			ir_node_new(g, IR_OP_Relu, "act", 1, &h, 1, &in[0]);
			ir_node_new(g, IR_OP_Gemm, "lin2", 3, in, 1, &y);
		} else {
			ir_node_new(g, IR_OP_Gemm, "lin", 3, in, 1, &h);
		}
	}
	ir_graph_add_output(g, y);
	free(W);
	free(w);
	return g;
}

/* Select spec, compress at bond (0: exact) and re-infer. */
static int compress(ir_graph *g, const char *spec, int bond, int group, compress_result *cr)
{
	select_opts so;
	select_result sr;
	compress_opts co = {bond, 0, group};
	select_defaults(&so);
	memset(cr, 0, sizeof *cr);
	int rc = pass_infer(g) || pass_select(g, spec, &so, &sr) < 0 || pass_compress(g, &sr, &co, cr) < 0 ||
		 pass_infer(g) || ir_verify(g);
	select_free(&sr);
	if (rc)
		fprintf(stderr, "%s\n", g->err);
	return rc ? -1 : 0;
}

static void opts_for(disentangle_opts *o, int sides, int depth, int chi, int sweeps)
{
	disentangle_defaults(o);
	o->dis.sides = sides;
	o->dis.ansatz.depth = depth;
	o->dis.residual_bond = chi;
	o->dis.max_sweeps = sweeps;
	o->quiet = 1;
}

/* Select spec, disentangle with o, re-infer and verify. Returns the pass's
 * count, or -1 (diagnostic in g->err). */
static int disentangle(ir_graph *g, const char *spec, const disentangle_opts *o, disentangle_result *dr)
{
	select_opts so;
	select_result sr;
	select_defaults(&so);
	memset(dr, 0, sizeof *dr);
	if (pass_select(g, spec, &so, &sr) < 0)
		return -1;
	int n = pass_disentangle(g, &sr, o, dr);
	select_free(&sr);
	if (n >= 0 && (pass_infer(g) || ir_verify(g)))
		n = -1;
	return n;
}

static ir_tensor *random_x(ir_dtype t, int64_t rows, int64_t cols, uint64_t seed)
{
	int64_t d[2] = {rows, cols};
	ir_tensor *x = ir_tensor_new(NULL, t, 2, d);
	for (int64_t e = 0; e < x->numel; e++)
		ir_tensor_set_f64(x, e, ot_rand(&seed));
	return x;
}

/* C = A B (n×k times k×m, row-major), or A Bᵀ when bt (B m×k). */
static void matmul(const double *A, const double *B, int bt, int64_t n, int64_t k, int64_t m, double *C)
{
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < m; j++) {
			double v = 0;
			for (int64_t l = 0; l < k; l++)
				v += A[i * k + l] * (bt ? B[j * k + l] : B[l * m + j]);
			C[i * m + j] = v;
		}
}

/* The dense 2^n × 2^m operator U M' Vᵀ of a result (absent sides: I),
 * from dis_circuit_to_dense and mpo_to_dense. */
static double *dense_of(const dis_result *r)
{
	int64_t R = r->residual->rows, C = r->residual->cols;
	double *M = malloc((size_t)(R * C) * sizeof *M), *T = malloc((size_t)(R * C) * sizeof *T);
	double *Q = malloc((size_t)((R > C ? R : C) * (R > C ? R : C)) * sizeof *Q);
	IR_ASSERT(M && T && Q && !mpo_to_dense(r->residual, M));
	if (r->v) {
		IR_ASSERT(!dis_circuit_to_dense(r->v, Q));
		matmul(M, Q, 1, R, C, C, T);
		memcpy(M, T, (size_t)(R * C) * sizeof *M);
	}
	if (r->u) {
		IR_ASSERT(!dis_circuit_to_dense(r->u, Q));
		matmul(Q, M, 0, R, R, C, T);
		memcpy(M, T, (size_t)(R * C) * sizeof *M);
	}
	free(T);
	free(Q);
	return M;
}

/* max |y − (A x + b)| / max |A x + b| over the rows of x (A: N×K block of
 * the padded operator P with pc columns). */
static double check_output(const ir_tensor *x, const ir_tensor *y, const double *P, int64_t pc, int64_t N,
			   int64_t K, const ir_tensor *b)
{
	double d = 0, s = 1e-300;
	for (int64_t r = 0; r < x->dims[0]; r++)
		for (int64_t i = 0; i < N; i++) {
			double v = b ? ir_tensor_get_f64(b, i) : 0;
			for (int64_t j = 0; j < K; j++)
				v += P[i * pc + j] * ir_tensor_get_f64(x, r * K + j);
			d = fmax(d, fabs(ir_tensor_get_f64(y, r * N + i) - v));
			s = fmax(s, fabs(v));
		}
	return d / s;
}

static ir_node *node_named(ir_graph *g, const char *name)
{
	for (int k = 0; k < g->nnodes; k++)
		if (!strcmp(g->nodes[k]->name, name))
			return g->nodes[k];
	return NULL;
}

/* The Circuit node n holds circuit c as the contract says. */
static int circuit_matches(ir_graph *g, ir_node *n, const dis_circuit *c, const char *gates, int64_t q,
			   int64_t rows, int64_t cols, int64_t transpose, int64_t stage)
{
	const int64_t *sites, *ks;
	ir_value *G = ir_value_find(g, gates);
	if (!n || n->op != IR_OP_Circuit || !G || n->in[1] != G || G->dtype != IR_F64 || !G->konst ||
	    G->konst->numel != c->nparams || memcmp(G->konst->data, c->data, (size_t)c->nparams * sizeof(double)))
		return 0;
	if (ir_attr_int(n, "qubits", -1) != q || ir_attr_int(n, "rows", -1) != rows ||
	    ir_attr_int(n, "cols", -1) != cols || ir_attr_int(n, "transpose", -1) != transpose ||
	    ir_attr_int(n, "stage", -9) != stage || strcmp(n->domain, "qnnc"))
		return 0;
	if (ir_attr_ints(n, "sites", &sites) != c->ngates || ir_attr_ints(n, "ks", &ks) != c->ngates)
		return 0;
	for (int j = 0; j < c->ngates; j++)
		if (sites[j] != c->gate[j].site || ks[j] != c->gate[j].k)
			return 0;
	return 1;
}

/* ------------------------------------------------------------ cases */

static void rewrite_case(ir_dtype t, int sides, double tol)
{
	ir_graph *g = gemm_graph(t, 0, 11);
	compress_result cr;
	disentangle_result dr = {0};
	disentangle_opts o;
	ir_tensor *x = random_x(t, 4, D64, 5), *y = NULL;
	double *P = NULL;
	ir_value *bias = ir_value_find(g, "c");
	ASSERT(!compress(g, "lin", 0, 1, &cr));
	opts_for(&o, sides, 2, 2, 10);
	int n = disentangle(g, "lin", &o, &dr);
	if (n < 0)
		fprintf(stderr, "%s\n", g->err);
	ASSERT(n == 1 && dr.n == 1);
	const disentangle_layer *L = &dr.layer[0];
	const dis_result *r = &L->r;
	int hu = sides & DIS_LEFT, hv = sides & DIS_RIGHT;
	ASSERT(!strcmp(L->name, "lin") && L->rows == D64 && L->cols == D64 && L->n == NQ && L->m == NQ);
	ASSERT(!!r->u == !!hu && !!r->v == !!hv);
	/* nodes in graph order, names, attributes, constants, the bias on the last */
	ASSERT(g->nnodes == 1 + !!hu + !!hv);
	ir_node *V = node_named(g, "lin/V"), *M = node_named(g, "lin/M"), *U = node_named(g, "lin/U");
	ASSERT(M && M->op == IR_OP_MpoLinear && (!hv || V) && (!hu || U));
	ASSERT(g->nodes[0] == (hv ? V : M) && g->nodes[g->nnodes - 1] == (hu ? U : M));
	ASSERT(!hv || circuit_matches(g, V, r->v, "lin.V.gates", NQ, D64, D64, 1, 0));
	ASSERT(!hu || circuit_matches(g, U, r->u, "lin.U.gates", NQ, D64, D64, 0, hv ? 1 : 0));
	ASSERT(L->stage_v == (hv ? 0 : -1) && L->stage_u == (hu ? (hv ? 1 : 0) : -1));
	ASSERT(ir_attr_int(M, "rows", 0) == D64 && ir_attr_int(M, "cols", 0) == D64 &&
	       ir_attr_int(M, "n_out", 0) == NQ && ir_attr_int(M, "n_in", 0) == NQ &&
	       ir_attr_int(M, "group", 0) == 1);
	ASSERT(M->nin == 2 + r->residual->nsites && M->in[2] == ir_value_find(g, "lin.M.core0"));
	ASSERT(M->in[2]->dtype == t && M->in[2]->konst->dims[3] == r->residual->bond[1]);
	ASSERT(hu ? U->nin == 3 && U->in[2] == bias && !M->in[1] : M->in[1] == bias);
	ASSERT(M->in[0] == (hv ? V->out[0] : g->inputs[0]));
	ASSERT(g->outputs[0] == (hu ? U : M)->out[0]);
	ASSERT(!ir_value_find(g, "w.mpo0") && !ir_value_find(g, "w")); /* old cores dropped */
	/* the interpreter computes U M' Vᵀ x + b */
	P = dense_of(r);
	if (interp_run(g, &x, &y))
		fprintf(stderr, "%s\n", g->err);
	ASSERT(y && y->dtype == t && y->dims[0] == 4 && y->dims[1] == D64);
	ASSERT(check_output(x, y, P, D64, D64, D64, bias->konst) < tol);
	/* overlap never below plain truncation; the error is ‖W − U M' Vᵀ‖/‖W‖ */
	ASSERT(r->overlap >= r->overlap_trunc - 1e-12 && r->error <= r->error_trunc + 1e-12);
	double W[D64 * D64], d2 = 0, n2 = 0;
	planted(W, 11);
	for (int e = 0; e < D64 * D64; e++) {
		double wv = t == IR_F32 ? (double)(float)W[e] : W[e];
		d2 += (wv - P[e]) * (wv - P[e]);
		n2 += wv * wv;
	}
	ASSERT_NEAR(sqrt(d2 / n2), r->error, t == IR_F32 ? 1e-5 : 1e-9);
	ASSERT(r->params_u == (hu ? r->u->nparams : 0) && L->params_dense == D64 * D64 && L->params_mpo > 0);
	ASSERT(L->gates_u == (hu ? r->u->ngates : 0) && L->gates_v == (hv ? r->v->ngates : 0));
	free(P);
	ir_tensor_free(x);
	ir_tensor_free(y);
	disentangle_free(&dr);
	compress_free(&cr);
	ir_graph_free(g);
}

static void test_both_f64(void) { rewrite_case(IR_F64, DIS_BOTH, 1e-9); }

/* Small layers take the dense path by default (dense_max); the MPO path
 * (dense_max = 0) is the same method: same sweeps, overlaps and gates. */
static void test_dense_vs_mpo(void)
{
	disentangle_result dr[2];
	const dis_result *r[2];
	ir_graph *g[2];
	for (int p = 0; p < 2; p++) {
		compress_result cr;
		disentangle_opts o;
		g[p] = gemm_graph(IR_F64, 0, 11);
		ASSERT(!compress(g[p], "lin", 0, 1, &cr));
		opts_for(&o, DIS_BOTH, 2, 2, 10);
		if (p)
			o.dense_max = 0;
		ASSERT(disentangle(g[p], "lin", &o, &dr[p]) == 1);
		r[p] = &dr[p].layer[0].r;
		compress_free(&cr);
	}
	ASSERT(!strcmp(dr[0].layer[0].engine, "dense") && !strcmp(dr[1].layer[0].engine, "mpo"));
	ASSERT(r[0]->nsweeps == r[1]->nsweeps && r[0]->nhist == r[1]->nhist);
	ASSERT(r[0]->hist[r[0]->nhist - 1].max_bond == 0 && r[1]->hist[r[1]->nhist - 1].max_bond > 0);
	for (int h = 0; h < r[0]->nhist; h++)
		ASSERT_NEAR(r[0]->hist[h].overlap, r[1]->hist[h].overlap, 1e-8);
	ASSERT_NEAR(r[0]->overlap, r[1]->overlap, 1e-8);
	double dmax = 0;
	for (int s = 0; s < 2; s++) {
		const dis_circuit *a = s ? r[0]->u : r[0]->v, *b = s ? r[1]->u : r[1]->v;
		ASSERT(a && b && a->nparams == b->nparams);
		for (int64_t e = 0; e < a->nparams; e++)
			dmax = fmax(dmax, fabs(a->data[e] - b->data[e]));
	}
	ASSERT(dmax < 1e-6);
	for (int p = 0; p < 2; p++) {
		disentangle_free(&dr[p]);
		ir_graph_free(g[p]);
	}
}
static void test_both_f32(void) { rewrite_case(IR_F32, DIS_BOTH, 1e-5); }
static void test_left(void) { rewrite_case(IR_F64, DIS_LEFT, 1e-9); }
static void test_right(void) { rewrite_case(IR_F32, DIS_RIGHT, 1e-5); }

/* Two layers: stages 0..3 in graph order, same gates on a second run. */
static void test_stages(void)
{
	ir_graph *g = gemm_graph(IR_F32, 1, 21), *g2 = gemm_graph(IR_F32, 1, 21);
	compress_result cr, cr2;
	disentangle_result dr, dr2;
	disentangle_opts o;
	ASSERT(!compress(g, "auto", 4, 1, &cr) && !compress(g2, "auto", 4, 1, &cr2) && cr.n == 2);
	opts_for(&o, DIS_BOTH, 1, 2, 3);
	ASSERT(disentangle(g, "lin,lin2", &o, &dr) == 2 && disentangle(g2, "auto", &o, &dr2) == 2);
	static const char *const want[] = {"lin/V", "lin/M", "lin/U", "act", "lin2/V", "lin2/M", "lin2/U"};
	ASSERT(g->nnodes == 7);
	for (int k = 0; k < 7; k++)
		ASSERT(!strcmp(g->nodes[k]->name, want[k]) && g->nodes[k]->id == k);
	ASSERT(ir_attr_int(g->nodes[0], "stage", -1) == 0 && ir_attr_int(g->nodes[2], "stage", -1) == 1 &&
	       ir_attr_int(g->nodes[4], "stage", -1) == 2 && ir_attr_int(g->nodes[6], "stage", -1) == 3);
	ASSERT(dr.layer[0].stage_v == 0 && dr.layer[0].stage_u == 1 && dr.layer[1].stage_v == 2 &&
	       dr.layer[1].stage_u == 3);
	for (int i = 0; i < 2; i++) /* deterministic */
		ASSERT(!memcmp(dr.layer[i].r.u->data, dr2.layer[i].r.u->data,
			       (size_t)dr.layer[i].r.u->nparams * sizeof(double)));
	ir_tensor *x = random_x(IR_F32, 4, D64, 3), *y = NULL;
	ASSERT(!interp_run(g, &x, &y) && y->numel == 4 * D64);
	ir_tensor_free(x);
	ir_tensor_free(y);
	disentangle_free(&dr);
	disentangle_free(&dr2);
	compress_free(&cr);
	compress_free(&cr2);
	ir_graph_free(g);
	ir_graph_free(g2);
}

/* An MpoLinear whose 64×64 MPO holds weight outside its 48×40 block: the
 * pass disentangles the block (M' has zero padding at full χ'). */
static void test_padded(void)
{
	ir_graph *g = new_graph();
	double W[D64 * D64];
	planted(W, 31);
	mpo_trunc t = {4, 0};
	mpo *a = mpo_from_dense(W, D64, D64, 1, &t, NULL);
	double *A = malloc(D64 * D64 * sizeof *A);
	ASSERT(a && A && !mpo_to_dense(a, A));
	int64_t xd[2] = {3, 40};
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y");
	x->dtype = IR_F64;
	ir_shape_from_dims(&x->shape, 2, xd);
	ir_graph_add_input(g, x);
	ir_value *in[2 + NQ] = {x, NULL};
	for (int k = 0; k < NQ; k++) {
		char name[32];
		int64_t d[4] = {a->bond[k], 2, 2, a->bond[k + 1]};
		snprintf(name, sizeof name, "core%d", k);
		in[2 + k] = const_of(g, name, IR_F64, 4, d, a->core[k]);
	}
	ir_node *n = ir_node_new(g, IR_OP_MpoLinear, "mpo", 2 + NQ, in, 1, &y);
	n->domain = "qnnc";
	ot_int(g, n, "rows", 48);
	ot_int(g, n, "cols", 40);
	ot_int(g, n, "n_out", NQ);
	ot_int(g, n, "n_in", NQ);
	ot_int(g, n, "group", 1);
	ir_graph_add_output(g, y);
	/* compress keeps it as it is */
	compress_result cr;
	ir_tensor *core0 = in[2]->konst;
	ASSERT(!compress(g, "mpo", 0, 1, &cr) && cr.n == 1 && n->in[2]->konst == core0);
	ASSERT(!strcmp(cr.layer[0].op, "MpoLinear") && cr.layer[0].rel_error == 0 && cr.layer[0].note);
	disentangle_result dr;
	disentangle_opts o;
	opts_for(&o, DIS_BOTH, 1, 64, 2);
	ASSERT(disentangle(g, "mpo", &o, &dr) == 1);
	const dis_result *r = &dr.layer[0].r;
	ASSERT(dr.layer[0].rows == 48 && dr.layer[0].cols == 40 && !dr.layer[0].note);
	double *P = dense_of(r), e = 0;
	for (int i = 0; i < D64; i++)
		for (int j = 0; j < D64; j++)
			e = fmax(e, fabs(P[i * D64 + j] - (i < 48 && j < 40 ? A[i * D64 + j] : 0)));
	ASSERT(e < 1e-9);
	ASSERT(r->error < 1e-6); /* sqrt of a difference of squares: 1e-8 at best */
	ir_tensor *xt = random_x(IR_F64, 3, 40, 8), *yt = NULL;
	ASSERT(!interp_run(g, &xt, &yt) && yt->dims[1] == 48);
	ASSERT(check_output(xt, yt, A, D64, 48, 40, NULL) < 1e-9);
	ir_tensor_free(xt);
	ir_tensor_free(yt);
	free(P);
	free(A);
	mpo_free(a);
	disentangle_free(&dr);
	compress_free(&cr);
	ir_graph_free(g);
}

/* MpoLinear in selection and compression. */
static void test_select_compress(void)
{
	ir_graph *g = gemm_graph(IR_F32, 0, 41);
	compress_result cr, cr2;
	select_opts so;
	select_result sr;
	select_defaults(&so);
	ASSERT(!compress(g, "lin", 8, 1, &cr) && cr.layer[0].bond[3] == 8);
	ASSERT(pass_select(g, "auto", &so, &sr) == 1 && sr.n == 1 && !strcmp(sr.layer[0].op, "MpoLinear") &&
	       sr.layer[0].eligible && !*sr.layer[0].weight && sr.layer[0].rows == D64);
	select_free(&sr);
	/* truncation on request: bonds at most 2, the measured error */
	ir_tensor *x = random_x(IR_F32, 4, D64, 9), *y0 = NULL, *y1 = NULL;
	ASSERT(!interp_run(g, &x, &y0));
	ASSERT(!compress(g, "lin", 2, 1, &cr2) && cr2.n == 1 && !cr2.layer[0].note);
	for (int k = 0; k <= cr2.layer[0].nsites; k++)
		ASSERT(cr2.layer[0].bond[k] <= 2 && cr2.layer[0].bond_full[k] == cr.layer[0].bond[k]);
	ASSERT(cr2.layer[0].rel_error > 0.01 && cr2.layer[0].rel_error_exact && cr2.layer[0].has_bias);
	ASSERT(!interp_run(g, &x, &y1));
	double d = 0;
	for (int64_t e = 0; e < y0->numel; e++)
		d = fmax(d, fabs(ir_tensor_get_f64(y0, e) - ir_tensor_get_f64(y1, e)));
	ASSERT(d > 1e-3);
	ASSERT(ir_value_find(g, "w.mpo0") && ir_value_find(g, "w.mpo0")->konst->dims[3] <= 2);
	ir_tensor_free(x);
	ir_tensor_free(y0);
	ir_tensor_free(y1);
	compress_free(&cr);
	compress_free(&cr2);
	ir_graph_free(g);
	/* group 2: not selectable, and the pass refuses it */
	g = gemm_graph(IR_F32, 0, 41);
	ASSERT(!compress(g, "lin", 4, 2, &cr));
	ASSERT(pass_select(g, "lin", &so, &sr) == -1);
	ASSERT_STR_CONTAINS(g->err, "group 1 only");
	select_free(&sr);
	compress_free(&cr);
	ir_graph_free(g);
}

static void expect_error(ir_graph *g, const char *spec, const disentangle_opts *o, const char *msg)
{
	disentangle_result dr;
	g->nerrors = 0;
	g->err[0] = 0;
	ASSERT(disentangle(g, spec, o, &dr) == -1);
	ASSERT_STR_CONTAINS(g->err, msg);
	disentangle_free(&dr);
}

static void test_bad(void)
{
	ir_graph *g = gemm_graph(IR_F32, 0, 51);
	disentangle_opts o;
	select_opts so;
	select_result sr;
	disentangle_result dr;
	select_defaults(&so);
	ASSERT(!pass_infer(g));
	/* a Gemm: not compressed yet */
	opts_for(&o, DIS_BOTH, 1, 2, 2);
	ASSERT(pass_select(g, "lin", &so, &sr) == 1);
	ASSERT(pass_disentangle(g, &sr, &o, &dr) == -1);
	ASSERT_STR_CONTAINS(g->err, "is not an MpoLinear node");
	select_free(&sr);
	disentangle_free(&dr);
	compress_result cr;
	ASSERT(!compress(g, "lin", 4, 1, &cr));
	opts_for(&o, DIS_BOTH, 1, 0, 2);
	expect_error(g, "lin", &o, "residual bond 0");
	opts_for(&o, DIS_BOTH, 1, 2, 2);
	o.dis.ansatz.k = 7;
	expect_error(g, "lin", &o, "gates of 7 qubits");
	opts_for(&o, 0, 1, 2, 2);
	expect_error(g, "lin", &o, "sides must be");
	opts_for(&o, DIS_BOTH, 1, 2, 2);
	ds_set fake = {.n = 10, .c = 1, .h = 8, .w = 8};
	o.calib = &fake;
	expect_error(g, "lin", &o, "need the gradient method");
	/* nothing was rewritten by the failures */
	ASSERT(g->nnodes == 1 && g->nodes[0]->op == IR_OP_MpoLinear && !strcmp(g->nodes[0]->name, "lin"));
	compress_free(&cr);
	ir_graph_free(g);
}

static void test_gradient(void)
{
	ir_graph *g = gemm_graph(IR_F64, 0, 61);
	compress_result cr;
	disentangle_result dr;
	disentangle_opts o;
	ASSERT(!compress(g, "lin", 0, 1, &cr));
	opts_for(&o, DIS_BOTH, 1, 2, 40);
	o.method = DISENTANGLE_GRADIENT;
	ASSERT(disentangle(g, "lin", &o, &dr) == 1);
	ASSERT(!strcmp(dr.layer[0].engine, "dense")); /* a small layer */
	const dis_result *r = &dr.layer[0].r;
	ASSERT(r->nhist >= 2 && r->loss <= r->hist[0].loss && r->u && r->v);
	ASSERT(dis_circuit_orth_error(r->u) < 1e-10);
	double *P = dense_of(r);
	ir_tensor *x = random_x(IR_F64, 4, D64, 2), *y = NULL;
	ASSERT(!interp_run(g, &x, &y));
	ASSERT(check_output(x, y, P, D64, D64, D64, ir_value_find(g, "c")->konst) < 1e-9);
	free(P);
	ir_tensor_free(x);
	ir_tensor_free(y);
	disentangle_free(&dr);
	compress_free(&cr);
	ir_graph_free(g);
}

/* MatMul + Add on a rank-3 input: the layer keeps the MatMul's name. */
static void test_matmul_add(void)
{
	ir_graph *g = new_graph();
	double W[D64 * D64], w[D64 * D64], b[D64];
	int64_t xd[3] = {2, 3, D64}, wd[2] = {D64, D64}, bd[1] = {D64};
	planted(W, 71);
	for (int i = 0; i < D64; i++) {
		b[i] = 0.5 - 0.01 * i;
		for (int j = 0; j < D64; j++)
			w[j * D64 + i] = W[i * D64 + j];
	}
	ir_value *x = ir_value_new(g, "x"), *t = ir_value_new(g, "t"), *y = ir_value_new(g, "y");
	x->dtype = IR_F64;
	ir_shape_from_dims(&x->shape, 3, xd);
	ir_graph_add_input(g, x);
	ir_value *in[2] = {x, const_of(g, "w", IR_F64, 2, wd, w)};
	ir_node_new(g, IR_OP_MatMul, "lin", 2, in, 1, &t);
	ir_value *ain[2] = {t, const_of(g, "b", IR_F64, 1, bd, b)};
	ir_node_new(g, IR_OP_Add, "bias", 2, ain, 1, &y);
	ir_graph_add_output(g, y);
	compress_result cr;
	disentangle_result dr;
	disentangle_opts o;
	ASSERT(!compress(g, "lin", 0, 1, &cr) && g->nnodes == 1);
	opts_for(&o, DIS_BOTH, 1, 2, 4);
	ASSERT(disentangle(g, "lin", &o, &dr) == 1 && g->nnodes == 3 && node_named(g, "lin/U"));
	ASSERT(node_named(g, "lin/U")->in[2] == ir_value_find(g, "b"));
	double *P = dense_of(&dr.layer[0].r);
	int64_t x2[2] = {6, D64};
	ir_tensor *xt = random_x(IR_F64, 6, D64, 4), *yt = NULL;
	xt->rank = 3;
	memcpy(xt->dims, xd, sizeof xd);
	ASSERT(!interp_run(g, &xt, &yt) && yt->rank == 3 && yt->dims[2] == D64);
	memcpy(xt->dims, x2, sizeof x2);
	xt->rank = yt->rank = 2;
	yt->dims[0] = 6;
	yt->dims[1] = D64;
	ASSERT(check_output(xt, yt, P, D64, D64, D64, ir_value_find(g, "b")->konst) < 1e-9);
	free(P);
	ir_tensor_free(xt);
	ir_tensor_free(yt);
	disentangle_free(&dr);
	compress_free(&cr);
	ir_graph_free(g);
}

/* The calibrated gradient method on the MNIST MLP's fc2 (needs the data). */
static void test_calib(void)
{
	char path[1024], err[1024];
	snprintf(path, sizeof path, "%s/mnist", QNNC_SHARED_DATA);
	ds_set *d = ds_load_dir(DS_MNIST, path, DS_TRAIN, err, sizeof err);
	if (!d) {
		printf("SKIP calib: %s\n", err);
		return;
	}
	snprintf(path, sizeof path, "%s/examples/mnist-mlp/model.onnx", QNNC_SOURCE_DIR);
	ir_graph *g = onnx_load(path, err, sizeof err);
	ASSERT(g);
	compress_result cr;
	disentangle_result dr;
	disentangle_opts o;
	ds_preprocess pp;
	ASSERT(!ds_preprocess_parse("mean:0.1307,std:0.3081", &pp, err, sizeof err));
	ASSERT(!pass_infer(g) && pass_fold(g, 0) >= 0);
	ir_value *out0 = g->outputs[0];
	ASSERT(!compress(g, "auto", 8, 1, &cr) && cr.n == 1);
	opts_for(&o, DIS_BOTH, 1, 4, 15);
	o.method = DISENTANGLE_GRADIENT;
	o.calib = d;
	o.pp = &pp;
	o.calib_limit = 150; /* two batches, the second short */
	int n = disentangle(g, "auto", &o, &dr);
	if (n < 0)
		fprintf(stderr, "%s\n", g->err);
	ASSERT(n == 1 && dr.layer[0].calib_rows == 150 && !strcmp(dr.layer[0].name, "/fc2/Gemm"));
	ASSERT(!strcmp(dr.layer[0].engine, "dense")); /* calibrated: always dense */
	ASSERT(dr.layer[0].r.loss <= dr.layer[0].r.hist[0].loss);
	ASSERT(node_named(g, "/fc2/Gemm/V") && node_named(g, "/fc2/Gemm/U"));
	/* the graph's outputs are restored */
	ASSERT(g->noutputs == 1 && g->outputs[0] == out0);
	disentangle_free(&dr);
	compress_free(&cr);
	ir_graph_free(g);
	ds_free(d);
}

TEST_MAIN({"both_f64", test_both_f64}, {"dense_vs_mpo", test_dense_vs_mpo}, {"both_f32", test_both_f32}, {"left", test_left},
	  {"right", test_right}, {"stages", test_stages}, {"padded", test_padded},
	  {"select_compress", test_select_compress}, {"bad", test_bad}, {"gradient", test_gradient},
	  {"matmul_add", test_matmul_add},
	  {"calib", test_calib})
