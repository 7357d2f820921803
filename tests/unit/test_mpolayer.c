/* test_mpolayer.c - the MpoLinear op (passes/op_mpolayer.c) and its C
 * emitter (backend/cgen_mpolayer.c): a layer built from the TT-SVD of a
 * random W equals the dense W x + b through the interpreter (full bond:
 * the original W; truncated: mpo_to_dense of the cores), for batch ranks
 * 1..3, with and without bias, N and K not powers of two, grouped sites;
 * diagnostics for malformed nodes; the textual IR round trip; the
 * generated C agrees with the interpreter (tiles, partial tiles). */
#include "test.h"
#include "op_test.h"
#include "cc_harness.h"

#include "../../passes/la.h"
#include "../../passes/mpo.h"


typedef struct layer {
	int64_t N, K;
	double *W, *b; /* malloc'd; b may be NULL */
	mpo *a;
} layer;

static void layer_free(layer *L)
{
	free(L->W);
	free(L->b);
	mpo_free(L->a);
}

/* Random W (and b), its MPO with group g truncated to max_bond (0: full). */
static int layer_make(layer *L, int64_t N, int64_t K, int group, int max_bond, int bias, uint64_t seed)
{
	memset(L, 0, sizeof *L);
	L->N = N;
	L->K = K;
	L->W = malloc((size_t)(N * K) * sizeof *L->W);
	for (int64_t e = 0; e < N * K; e++)
		L->W[e] = ot_rand(&seed);
	if (bias) {
		L->b = malloc((size_t)N * sizeof *L->b);
		for (int64_t i = 0; i < N; i++)
			L->b[i] = ot_rand(&seed);
	}
	mpo_trunc t = {max_bond, 0};
	L->a = mpo_from_dense(L->W, N, K, group, &t, NULL);
	if (!L->a) {
		fprintf(stderr, "mpo_from_dense: %s\n", la_last_error());
		return -1;
	}
	if (max_bond > 0) /* the reference is then the truncated operator */
		return mpo_to_dense(L->a, L->W);
	return 0;
}

/* x -> MpoLinear -> y, x of dtype t and shape xd, inferred. */
static ir_graph *layer_graph(const layer *L, ir_dtype t, int xrank, const int64_t *xd)
{
	const mpo *a = L->a;
	ir_graph *g = ir_graph_new("test_mpolayer");
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y"), *in[80] = {x, NULL};
	x->dtype = t;
	ir_shape_from_dims(&x->shape, xrank, xd);
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, y);
	if (L->b) {
		in[1] = ir_value_new(g, "b");
		in[1]->konst = ot_tensor(g, t, 1, &L->N, L->b);
		op_value_from_tensor(in[1], in[1]->konst);
	}
	for (int k = 0; k < a->nsites; k++) {
		char nm[16];
		int64_t cd[4] = {a->bond[k], a->dout[k], a->din[k], a->bond[k + 1]};
		snprintf(nm, sizeof nm, "core%d", k);
		in[2 + k] = ir_value_new(g, nm);
		in[2 + k]->konst = ot_tensor(g, t, 4, cd, a->core[k]);
		op_value_from_tensor(in[2 + k], in[2 + k]->konst);
	}
	ir_node *n = ir_node_new(g, IR_OP_MpoLinear, "mpo", 2 + a->nsites, in, 1, &y);
	ot_int(g, n, "rows", a->rows);
	ot_int(g, n, "cols", a->cols);
	ot_int(g, n, "n_out", a->n_out);
	ot_int(g, n, "n_in", a->n_in);
	ot_int(g, n, "group", a->group);
	if (pass_infer(g) || ir_verify(g)) {
		fprintf(stderr, "%s\n", g->err);
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

/* Interpreter vs dense W x + b on a random x; returns the max error
 * relative to the largest |y|, or -1 on failure. */
static double layer_error(const layer *L, ir_graph *g, ir_tensor **xout, uint64_t seed)
{
	ir_value *xv = g->inputs[0];
	int64_t xd[IR_MAX_RANK];
	for (int d = 0; d < xv->shape.rank; d++)
		xd[d] = xv->shape.d[d].v;
	ir_tensor *x = ir_tensor_new(NULL, xv->dtype, xv->shape.rank, xd), *y = NULL;
	for (int64_t e = 0; e < x->numel; e++)
		ir_tensor_set_f64(x, e, ot_rand(&seed));
	if (interp_run(g, &x, &y)) {
		fprintf(stderr, "%s\n", g->err);
		ir_tensor_free(x);
		return -1;
	}
	int64_t batch = x->numel / L->K;
	double err = 0, scale = 1e-300;
	if (y->rank != x->rank || y->dims[y->rank - 1] != L->N || y->numel != batch * L->N)
		err = INFINITY;
	for (int64_t r = 0; r < batch && isfinite(err); r++)
		for (int64_t i = 0; i < L->N; i++) {
			double want = L->b ? L->b[i] : 0;
			if (xv->dtype == IR_F32) /* the bias as stored */
				want = (float)want;
			for (int64_t j = 0; j < L->K; j++)
				want += L->W[i * L->K + j] * ir_tensor_get_f64(x, r * L->K + j);
			double got = ir_tensor_get_f64(y, r * L->N + i);
			err = fmax(err, fabs(got - want));
			scale = fmax(scale, fabs(want));
		}
	ir_tensor_free(y);
	if (xout)
		*xout = x;
	else
		ir_tensor_free(x);
	return err / scale;
}

typedef struct mcase {
	int64_t N, K;
	int group, bond, bias;
	ir_dtype t;
	int xrank;
	int64_t xd[3];
} mcase;

static const mcase cases[] = {
	{8, 8, 1, 0, 0, IR_F64, 1, {8}},
	{5, 12, 1, 0, 1, IR_F32, 2, {3, 12}},
	{20, 7, 2, 0, 1, IR_F32, 3, {2, 3, 7}},
	{1, 1, 1, 0, 1, IR_F64, 2, {4, 1}},
	{1, 9, 1, 0, 0, IR_F32, 2, {2, 9}},
	{16, 3, 3, 0, 1, IR_F64, 2, {5, 3}},
	{32, 32, 1, 2, 1, IR_F64, 2, {3, 32}},   /* truncated: bonds of 2 */
	{64, 48, 2, 5, 0, IR_F32, 2, {40, 48}},  /* bonds 5, 2 qubits per site */
	{6, 8, 1, 0, 1, IR_F32, 2, {0, 8}},      /* empty batch */
};

static void test_semantics(void)
{
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const mcase *m = &cases[c];
		layer L;
		ASSERT(layer_make(&L, m->N, m->K, m->group, m->bond, m->bias, 100 + c) == 0);
		ir_graph *g = layer_graph(&L, m->t, m->xrank, m->xd);
		ASSERT(g);
		double err = layer_error(&L, g, NULL, 7 + c);
		if (!(err >= 0 && err <= (m->t == IR_F32 ? 1e-5 : 1e-12)))
			fprintf(stderr, "case %zu (%lldx%lld group %d bond %d %s): error %g\n", c, (long long)m->N,
				(long long)m->K, m->group, m->bond, ir_dtype_name(m->t), err);
		ir_graph_free(g);
		layer_free(&L);
		ASSERT(err >= 0 && err <= (m->t == IR_F32 ? 1e-5 : 1e-12));
	}
}

/* The layer's y shape follows X: [..., K] -> [..., N]. */
static void test_shapes(void)
{
	layer L;
	int64_t xd[3] = {2, 3, 12};
	ASSERT(layer_make(&L, 5, 12, 1, 0, 0, 1) == 0);
	ir_graph *g = layer_graph(&L, IR_F32, 3, xd);
	ASSERT(g);
	const ir_shape *s = &g->outputs[0]->shape;
	int ok = s->rank == 3 && s->d[0].v == 2 && s->d[1].v == 3 && s->d[2].v == 5 &&
		 g->outputs[0]->dtype == IR_F32;
	ir_graph_free(g);
	layer_free(&L);
	ASSERT(ok);
}

/* A malformed node gives a diagnostic naming the node, never a crash. */
static int diag(ir_graph *g, const char *want)
{
	int rc = pass_infer(g);
	if (rc == 0 || !strstr(g->err, want) || !strstr(g->err, "node 'mpo' (MpoLinear)")) {
		fprintf(stderr, "expected an error with \"%s\", got rc %d: %s\n", want, rc, g->err);
		return -1;
	}
	return 0;
}

static ir_graph *broken(const layer *L, ir_dtype t)
{
	int64_t xd[2] = {2, L->K};
	ir_graph *g = layer_graph(L, t, 2, xd);
	g->nerrors = 0;
	g->err[0] = 0;
	return g;
}

static void test_errors(void)
{
	layer L;
	ASSERT(layer_make(&L, 6, 10, 1, 0, 1, 3) == 0);
	ir_graph *g;
	ir_node *n;
	int bad = 0;

	g = broken(&L, IR_F32); /* wrong core count */
	n = g->nodes[0];
	n->nin--;
	bad |= diag(g, "cores");
	ir_graph_free(g);

	g = broken(&L, IR_F32); /* a core with the wrong leg */
	n = g->nodes[0];
	n->in[3]->shape.d[1].v = 3;
	bad |= diag(g, "core 1 has shape");
	ir_graph_free(g);

	g = broken(&L, IR_F32); /* mismatched bonds */
	n = g->nodes[0];
	n->in[2]->shape.d[3].v = 7;
	bad |= diag(g, "core 1 has shape");
	ir_graph_free(g);

	g = broken(&L, IR_F32); /* X's last axis */
	g->inputs[0]->shape.d[1].v = 11;
	bad |= diag(g, "cols = 10");
	ir_graph_free(g);

	g = broken(&L, IR_F32); /* bias length */
	g->nodes[0]->in[1]->shape.d[0].v = 5;
	bad |= diag(g, "B [5]");
	ir_graph_free(g);

	g = broken(&L, IR_F32); /* dtypes */
	g->nodes[0]->in[4]->dtype = IR_F64;
	bad |= diag(g, "core 2 has dtype f64");
	ir_graph_free(g);

	g = broken(&L, IR_F32); /* attributes */
	ot_int(g, g->nodes[0], "n_out", 4);
	bad |= diag(g, "n_out and n_in must be");
	ir_graph_free(g);

	g = broken(&L, IR_F32);
	ot_int(g, g->nodes[0], "group", 0);
	bad |= diag(g, "group must be in 1..16");
	ir_graph_free(g);

	g = broken(&L, IR_F32);
	ot_float(g, g->nodes[0], "rows", 6);
	bad |= diag(g, "rows must be an int");
	ir_graph_free(g);

	g = broken(&L, IR_F32);
	g->nodes[0]->nattr = 0;
	bad |= diag(g, "attribute rows is required");
	ir_graph_free(g);

	g = broken(&L, IR_F32);
	g->inputs[0]->dtype = IR_I32;
	bad |= diag(g, "input X has unsupported dtype i32");
	ir_graph_free(g);

	layer_free(&L);
	ASSERT(!bad);
}

/* Printed and parsed back, the graph computes the same. */
static void test_irtext(void)
{
	layer L;
	int64_t xd[2] = {3, 12};
	ASSERT(layer_make(&L, 5, 12, 2, 0, 1, 11) == 0);
	ir_graph *g = layer_graph(&L, IR_F32, 2, xd);
	ASSERT(g);
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ir_print(f, g, 0);
	fclose(f);
	ir_graph *h = ir_parse(text, "roundtrip", err, sizeof err);
	if (!h)
		fprintf(stderr, "parse: %s\n", err);
	free(text);
	int ok = h && !pass_infer(h);
	double e1 = layer_error(&L, g, NULL, 5), e2 = ok ? layer_error(&L, h, NULL, 5) : -1;
	ok = ok && e1 >= 0 && e1 == e2;
	ir_graph_free(h);
	ir_graph_free(g);
	layer_free(&L);
	ASSERT(ok);
}

/* Generated C against the interpreter. */
static void test_cgen(void)
{
	static const mcase cc[] = {
		{5, 12, 1, 0, 1, IR_F32, 2, {3, 12}},
		{20, 7, 2, 0, 1, IR_F32, 3, {2, 3, 7}},
		{8, 8, 1, 0, 0, IR_F64, 1, {8}},
		{1, 1, 1, 0, 1, IR_F32, 2, {4, 1}},
		{1, 9, 1, 0, 0, IR_F32, 2, {2, 9}},
		{16, 3, 3, 0, 1, IR_F64, 2, {5, 3}},
		{64, 64, 1, 0, 1, IR_F32, 2, {40, 64}},   /* tiles of 31 vectors, the last partial */
		{256, 256, 1, 0, 1, IR_F32, 2, {3, 256}}, /* full bond 256: tiles of one vector */
		{100, 200, 1, 6, 1, IR_F32, 2, {7, 200}},
	};
	if (!cch_dir[0]) {
		printf("(cgen: no C compiler, skipped)\n");
		return;
	}
	for (size_t c = 0; c < sizeof cc / sizeof cc[0]; c++) {
		const mcase *m = &cc[c];
		layer L;
		char label[96];
		ir_tensor *x = NULL;
		snprintf(label, sizeof label, "MpoLinear %lldx%lld group %d bond %d %s", (long long)m->N,
			 (long long)m->K, m->group, m->bond, ir_dtype_name(m->t));
		ASSERT(layer_make(&L, m->N, m->K, m->group, m->bond, m->bias, 200 + c) == 0);
		ir_graph *g = layer_graph(&L, m->t, m->xrank, m->xd);
		ASSERT(g);
		int rc = layer_error(&L, g, &x, 3) < 0 ? -1 : cch_check(label, g, &x, 1e-5, 1e-6);
		ir_tensor_free(x);
		ir_graph_free(g);
		layer_free(&L);
		ASSERT(rc == 0);
	}
}

int main(void)
{
	static const test_case tests[] = {
		{"semantics", test_semantics}, {"shapes", test_shapes}, {"errors", test_errors},
		{"irtext", test_irtext}, {"cgen", test_cgen},
	};
	int rc = cch_main("mpolayer", tests, (int)(sizeof tests / sizeof tests[0]));
	la_release();
	return rc;
}
