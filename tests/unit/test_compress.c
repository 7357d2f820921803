/* test_compress.c - bottleneck selection (passes/select.c), MPO compression
 * (passes/compress.c), the report (backend/report.c) and the compile
 * command's compression flags (driver/compile.c):
 *   - Gemm (transB 0/1, alpha, beta, every bias shape) and MatMul(+Add)
 *     graphs compressed at full bond compute what they computed before;
 *   - truncation: the reported error is the exact one and matches the
 *     discarded weight (‖W − W'‖² = (1 − Π(1 − ε_b)) ‖W‖²);
 *   - --layers=auto picks fc2 of examples/mnist-mlp/model.onnx, names pick
 *     by node or weight, unknown names list the candidates;
 *   - the compressed MNIST MLP through the C backend agrees with the
 *     interpreter;
 *   - the JSON writer's escaping and the report's fields;
 *   - --matrix and the flag checks of the qnnc binary (when built). */
#include "test.h"
#include "op_test.h"
#include "cc_harness.h"

#include "../../backend/report.h"
#include "../../frontend/npy.h"
#include "../../frontend/onnx.h"
#include "../../passes/compress.h"
#include "../../passes/la.h"

#include <sys/stat.h>
#include <sys/wait.h>


/* ------------------------------------------------------------ graphs */

static ir_graph *new_graph(void)
{
	ir_graph *g = ir_graph_new("test_compress");
	g->opsets = ir_alloc(g->arena, sizeof *g->opsets);
	g->opsets[0].domain = "";
	g->opsets[0].version = 13;
	g->nopsets = 1;
	return g;
}

static ir_value *konst(ir_graph *g, const char *name, int rank, const int64_t *dims, uint64_t *seed)
{
	ir_value *v = ir_value_new(g, name);
	v->konst = ot_random(g, IR_F32, rank, dims, 0.5, seed);
	op_value_from_tensor(v, v->konst);
	return v;
}

static ir_value *input(ir_graph *g, const char *name, ir_dtype t, int rank, const int64_t *dims)
{
	ir_value *v = ir_value_new(g, name);
	v->dtype = t;
	ir_shape_from_dims(&v->shape, rank, dims);
	ir_graph_add_input(g, v);
	return v;
}

/* x [M,K] -> Gemm "lin" -> Relu -> y. crank < 0: no C. */
static ir_graph *gemm_graph(int64_t M, int64_t K, int64_t N, int tb, double alpha, double beta, int crank,
			    const int64_t *cdims, uint64_t seed)
{
	ir_graph *g = new_graph();
	int64_t xd[2] = {M, K}, bd[2] = {tb ? N : K, tb ? K : N};
	ir_value *in[3] = {input(g, "x", IR_F32, 2, xd), konst(g, "w", 2, bd, &seed),
			   crank >= 0 ? konst(g, "c", crank, cdims, &seed) : NULL};
	ir_value *h = ir_value_new(g, "h"), *y = ir_value_new(g, "y");
	ir_node *n = ir_node_new(g, IR_OP_Gemm, "lin", crank >= 0 ? 3 : 2, in, 1, &h);
	ot_int(g, n, "transB", tb);
	ot_float(g, n, "alpha", alpha);
	ot_float(g, n, "beta", beta);
	ir_node_new(g, IR_OP_Relu, "act", 1, &h, 1, &y);
	ir_graph_add_output(g, y);
	return g;
}

/* x [2,3,K] -> MatMul "lin" [-> Add "bias"] -> y. brank < 0: no Add;
 * swap puts the bias first. */
static ir_graph *matmul_graph(int64_t K, int64_t N, int brank, const int64_t *bdims, int swap, uint64_t seed)
{
	ir_graph *g = new_graph();
	int64_t xd[3] = {2, 3, K}, wd[2] = {K, N};
	ir_value *in[2] = {input(g, "x", IR_F32, 3, xd), konst(g, "w", 2, wd, &seed)};
	ir_value *t = ir_value_new(g, brank >= 0 ? "t" : "y");
	ir_node_new(g, IR_OP_MatMul, "lin", 2, in, 1, &t);
	if (brank < 0) {
		ir_graph_add_output(g, t);
		return g;
	}
	ir_value *b = konst(g, "b", brank, bdims, &seed), *y = ir_value_new(g, "y");
	ir_value *ain[2] = {swap ? b : t, swap ? t : b};
	ir_node_new(g, IR_OP_Add, "bias", 2, ain, 1, &y);
	ir_graph_add_output(g, y);
	return g;
}

static ir_tensor *random_input(const ir_value *v, uint64_t seed)
{
	int64_t d[IR_MAX_RANK];
	for (int i = 0; i < v->shape.rank; i++)
		d[i] = v->shape.d[i].v;
	ir_tensor *x = ir_tensor_new(NULL, v->dtype, v->shape.rank, d);
	for (int64_t e = 0; e < x->numel; e++)
		ir_tensor_set_f64(x, e, ot_rand(&seed));
	return x;
}

/* max |a − b| / max |a| */
static double rel_diff(const ir_tensor *a, const ir_tensor *b)
{
	if (!a || !b || a->numel != b->numel)
		return INFINITY;
	double d = 0, s = 1e-300;
	for (int64_t e = 0; e < a->numel; e++) {
		d = fmax(d, fabs(ir_tensor_get_f64(a, e) - ir_tensor_get_f64(b, e)));
		s = fmax(s, fabs(ir_tensor_get_f64(a, e)));
	}
	return d / s;
}

/* Select spec, compress with (bond, cutoff), re-infer and verify; the
 * graph's output on a random input before and after is compared. Returns
 * the relative difference, or -1 with the diagnostic printed. */
static double compress_graph(ir_graph *g, const char *spec, int bond, double cutoff, int group,
			     compress_result *cr)
{
	select_opts so;
	select_result sr;
	compress_opts co = {bond, cutoff, group};
	select_defaults(&so);
	ir_tensor *x = NULL, *y0 = NULL, *y1 = NULL;
	double d = -1;
	memset(cr, 0, sizeof *cr);
	if (pass_infer(g) || ir_verify(g))
		goto out;
	x = random_input(g->inputs[0], 99);
	if (interp_run(g, &x, &y0) || pass_select(g, spec, &so, &sr) < 0)
		goto out;
	if (pass_compress(g, &sr, &co, cr) < 0 || pass_infer(g) || ir_verify(g) || interp_run(g, &x, &y1)) {
		select_free(&sr);
		goto out;
	}
	select_free(&sr);
	d = rel_diff(y0, y1);
out:
	if (d < 0)
		fprintf(stderr, "%s\n", g->err);
	ir_tensor_free(x);
	ir_tensor_free(y0);
	ir_tensor_free(y1);
	return d;
}

static int count_op(const ir_graph *g, ir_op op)
{
	int c = 0;
	for (int k = 0; k < g->nnodes; k++)
		c += g->nodes[k]->op == op;
	return c;
}

/* ------------------------------------------------------------ cases */

static void test_gemm_forms(void)
{
	static const struct {
		int64_t M, K, N;
		int tb;
		double alpha, beta;
		int crank;
		int64_t cd[2];
	} cs[] = {
		{3, 12, 5, 1, 1.0, 1.0, 1, {5, 0}},
		{3, 12, 5, 0, 1.0, 1.0, 1, {5, 0}},
		{2, 16, 16, 0, 0.5, 2.0, 2, {1, 16}},
		{4, 7, 9, 1, -1.5, 0.25, 0, {0, 0}},
		{1, 9, 3, 1, 1.0, 1.0, -1, {0, 0}},
		{2, 8, 8, 1, 1.0, 0.0, 1, {8, 0}},   /* beta 0: no bias */
		{3, 10, 6, 0, 2.0, 1.0, 2, {1, 1}},
	};
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
		ir_graph *g = gemm_graph(cs[i].M, cs[i].K, cs[i].N, cs[i].tb, cs[i].alpha, cs[i].beta, cs[i].crank,
					 cs[i].cd, 10 + i);
		compress_result cr;
		double d = compress_graph(g, "lin", 0, 0, 1, &cr);
		int ok = d >= 0 && d <= 1e-5 && count_op(g, IR_OP_MpoLinear) == 1 && count_op(g, IR_OP_Gemm) == 0 &&
			 cr.n == 1 && cr.layer[0].rel_error < 1e-12 && cr.layer[0].rows == cs[i].N &&
			 cr.layer[0].cols == cs[i].K && cr.layer[0].has_bias == (cs[i].crank >= 0 && cs[i].beta != 0);
		if (!ok)
			fprintf(stderr, "gemm case %zu: diff %g\n", i, d);
		compress_free(&cr);
		ir_graph_free(g);
		ASSERT(ok);
	}
}

static void test_matmul_forms(void)
{
	static const struct {
		int64_t K, N;
		int brank;
		int64_t bd[4];
		int swap, fused;
	} cs[] = {
		{12, 5, 1, {5}, 0, 1},
		{12, 5, 1, {5}, 1, 1},
		{8, 16, 2, {1, 16}, 0, 1},
		{8, 16, 3, {1, 1, 16}, 0, 1},
		{6, 4, 0, {0}, 0, 1},
		{6, 4, -1, {0}, 0, 0},
		{6, 4, 3, {2, 1, 4}, 0, 0},  /* a bias per batch row is not a layer bias */
		{6, 4, 4, {1, 1, 1, 4}, 0, 0}, /* would broadcast the output up a rank */
	};
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
		ir_graph *g = matmul_graph(cs[i].K, cs[i].N, cs[i].brank, cs[i].bd, cs[i].swap, 30 + i);
		compress_result cr;
		double d = compress_graph(g, "w", 0, 0, 1, &cr);
		int ok = d >= 0 && d <= 1e-5 && count_op(g, IR_OP_MpoLinear) == 1 && count_op(g, IR_OP_MatMul) == 0 &&
			 count_op(g, IR_OP_Add) == (cs[i].brank >= 0 && !cs[i].fused) && cr.n == 1 &&
			 cr.layer[0].has_bias == cs[i].fused;
		if (ok && cs[i].fused) /* the layer keeps the MatMul's name */
			ok = !strcmp(g->nodes[0]->name, "lin");
		if (!ok)
			fprintf(stderr, "matmul case %zu: diff %g\n", i, d);
		compress_free(&cr);
		ir_graph_free(g);
		ASSERT(ok);
	}
}

/* Grouped sites and f64 layers compress exactly too. */
static void test_group(void)
{
	for (int group = 1; group <= 4; group++) {
		int64_t cd[1] = {20};
		ir_graph *g = gemm_graph(2, 33, 20, 1, 1.0, 1.0, 1, cd, 50 + (uint64_t)group);
		compress_result cr;
		double d = compress_graph(g, "lin", 0, 0, group, &cr);
		int ok = d >= 0 && d <= 1e-5 && cr.n == 1 && cr.layer[0].group == group &&
			 cr.layer[0].nsites == (6 + group - 1) / group;
		compress_free(&cr);
		ir_graph_free(g);
		ASSERT(ok);
	}
}

/* Truncation: bonds within the policy, the exact error equals the one the
 * discarded weights predict, and the params shrink. */
static void test_truncation(void)
{
	int64_t cd[1] = {64};
	ir_graph *g = gemm_graph(2, 64, 64, 1, 1.0, 1.0, 1, cd, 77);
	compress_result cr;
	double d = compress_graph(g, "lin", 3, 0, 1, &cr);
	ASSERT(d > 0 && cr.n == 1);
	const compress_layer *L = &cr.layer[0];
	int ok = L->rel_error_exact && L->params_mpo < L->params_dense && L->bond_full && L->entropy_full;
	for (int k = 0; k <= L->nsites; k++)
		ok = ok && L->bond[k] <= 3 && L->bond[k] <= L->bond_full[k];
	ASSERT_NEAR(L->rel_error * L->rel_error, L->discarded_total, 1e-10);
	double keep = 1;
	for (int b = 0; b < L->nsites - 1; b++)
		keep *= 1 - L->discarded[b];
	ASSERT_NEAR(1 - keep, L->discarded_total, 1e-10);
	/* cutoff: the same identity, every ε_b within the cutoff */
	compress_free(&cr);
	ir_graph_free(g);
	ASSERT(ok);
	g = gemm_graph(2, 64, 64, 1, 1.0, 1.0, 1, cd, 77);
	d = compress_graph(g, "lin", 0, 0.05, 1, &cr);
	ASSERT(d > 0 && cr.n == 1);
	L = &cr.layer[0];
	for (int b = 0; b < L->nsites - 1; b++)
		ok = ok && L->discarded[b] <= 0.05;
	ASSERT_NEAR(L->rel_error * L->rel_error, L->discarded_total, 1e-10);
	compress_free(&cr);
	ir_graph_free(g);
	ASSERT(ok);
}

static void test_names(void)
{
	int64_t cd[1] = {5};
	ir_graph *g = gemm_graph(3, 12, 5, 1, 1.0, 1.0, 1, cd, 1);
	select_opts so;
	select_result sr;
	select_defaults(&so);
	ASSERT(pass_infer(g) == 0);
	/* auto: a 5x12 layer is too small */
	ASSERT(pass_select(g, "auto", &so, &sr) == 0);
	ASSERT_STR_CONTAINS(sr.layer[0].reason, "below the 64x64 minimum");
	select_free(&sr);
	ASSERT(pass_select(g, "lin", &so, &sr) == 1);
	ASSERT_STR_CONTAINS(sr.layer[0].reason, "node name");
	select_free(&sr);
	ASSERT(pass_select(g, "w", &so, &sr) == 1);
	ASSERT_STR_CONTAINS(sr.layer[0].reason, "weight name");
	select_free(&sr);
	ASSERT(pass_select(g, "lin,nope", &so, &sr) < 0);
	select_free(&sr);
	ASSERT_STR_CONTAINS(g->err, "no linear layer is named 'nope'; candidates: 'lin' (weight 'w', 5x12)");
	ASSERT(pass_select(g, "lin,", &so, &sr) < 0);
	select_free(&sr);
	ASSERT_STR_CONTAINS(g->err, "--layers");
	ir_graph_free(g);

	/* a MatMul of two activations is listed but cannot be named */
	g = new_graph();
	int64_t ad[2] = {2, 4}, bd[2] = {4, 3};
	ir_value *in[2] = {input(g, "a", IR_F32, 2, ad), input(g, "b", IR_F32, 2, bd)}, *y = ir_value_new(g, "y");
	ir_node_new(g, IR_OP_MatMul, "mm", 2, in, 1, &y);
	ir_graph_add_output(g, y);
	ASSERT(pass_infer(g) == 0);
	ASSERT(pass_select(g, "mm", &so, &sr) < 0);
	ASSERT(sr.n == 1 && !sr.layer[0].eligible);
	select_free(&sr);
	ASSERT_STR_CONTAINS(g->err, "node 'mm' (MatMul): --layers: cannot compress this layer: the weight B is not a constant");
	ir_graph_free(g);
}

/* ---------------------------------------------------- the MNIST MLP */

static ir_graph *load_mlp(char *path, size_t len)
{
	char err[4096];
	snprintf(path, len, "%s/examples/mnist-mlp/model.onnx", QNNC_SOURCE_DIR);
	ir_graph *g = onnx_load(path, err, sizeof err);
	if (!g) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	ir_shape *s = &g->inputs[0]->shape; /* batch 2 */
	s->d[0].v = 2;
	s->d[0].sym = NULL;
	if (pass_infer(g) || pass_fold(g, 0) < 0) {
		fprintf(stderr, "%s\n", g->err);
		ir_graph_free(g);
		return NULL;
	}
	pass_dce(g);
	return g;
}

static void test_mlp_auto(void)
{
	char path[1024];
	ir_graph *g = load_mlp(path, sizeof path);
	ASSERT(g);
	select_opts so;
	select_result sr;
	select_defaults(&so);
	so.max_bond = 16;
	int n = pass_select(g, "auto", &so, &sr);
	int ok = n == 1 && sr.n == 3;
	for (int i = 0; ok && i < sr.n; i++)
		ok = sr.layer[i].eligible && sr.layer[i].selected == !strcmp(sr.layer[i].name, "/fc2/Gemm");
	if (ok) {
		ASSERT_STR_CONTAINS(sr.layer[0].reason, "reads the model input directly");
		ASSERT_STR_CONTAINS(sr.layer[1].reason, "256x256 hidden layer");
		ASSERT_STR_CONTAINS(sr.layer[2].reason, "classifier");
		ASSERT(!strcmp(sr.layer[1].weight, "fc2.weight") && sr.layer[1].rows == 256 && sr.layer[1].cols == 256);
	}
	select_free(&sr);
	/* by name and by weight */
	ok = ok && pass_select(g, "/fc1/Gemm,fc3.weight", &so, &sr) == 2 && sr.layer[0].selected &&
	     !sr.layer[1].selected && sr.layer[2].selected;
	select_free(&sr);
	ok = ok && pass_select(g, "fc9", &so, &sr) < 0 && strstr(g->err, "'/fc2/Gemm' (weight 'fc2.weight', 256x256)");
	select_free(&sr);
	ir_graph_free(g);
	ASSERT(ok);
}

/* Full bond: the compressed model computes what the original does, in the
 * interpreter and in generated C; the report has the expected fields. */
static void test_mlp_full(void)
{
	char path[1024];
	ir_graph *g = load_mlp(path, sizeof path);
	ASSERT(g);
	compress_result cr;
	double d = compress_graph(g, "auto", 1000, 0, 1, &cr);
	int ok = d >= 0 && d <= 1e-5 && cr.n == 1 && count_op(g, IR_OP_MpoLinear) == 1 && count_op(g, IR_OP_Gemm) == 2;
	if (!ok)
		fprintf(stderr, "mnist full bond: diff %g\n", d);
	if (ok) {
		const compress_layer *L = &cr.layer[0];
		int full[9] = {1, 4, 16, 64, 256, 64, 16, 4, 1};
		ok = L->nsites == 8 && L->n_out == 8 && L->n_in == 8 && L->rel_error < 1e-12 && L->has_bias;
		for (int k = 0; ok && k < 9; k++)
			ok = L->bond[k] == full[k] && L->bond_full[k] == full[k];
	}
	if (ok && cch_dir[0]) {
		ir_tensor *x = random_input(g->inputs[0], 4);
		ok = cch_check("mnist-mlp fc2 at full bond", g, &x, 1e-5, 1e-6) == 0;
		ir_tensor_free(x);
	}
	compress_free(&cr);
	ir_graph_free(g);
	ASSERT(ok);
}

/* The report of fc2 at bond 8 (test_mpolayer runs truncated MPOs through
 * the C backend). */
static void test_mlp_report(void)
{
	char path[1024];
	ir_graph *g = load_mlp(path, sizeof path);
	ASSERT(g);
	select_opts so;
	select_result sr;
	compress_result cr;
	compress_opts co = {8, 0, 1};
	select_defaults(&so);
	so.max_bond = 8;
	ASSERT(pass_select(g, "auto", &so, &sr) == 1);
	int ok = pass_compress(g, &sr, &co, &cr) == 1 && !pass_infer(g) && !ir_verify(g);
	char *text = NULL;
	size_t len = 0;
	const char *fn[2] = {"layers", "bond"}, *fv[2] = {"auto", "8"};
	report_info ri = {.model = path, .nflags = 2, .flag_name = fn, .flag_value = fv, .layers = "auto", .selection = &sr, .compression = &cr};
	FILE *f = open_memstream(&text, &len);
	ok = ok && report_write(f, &ri) == 0;
	fclose(f);
	select_free(&sr);
	compress_free(&cr);
	ir_graph_free(g);
	ASSERT(ok);
	static const char *const want[] = {
		"\"qnnc_version\": \"" QNNC_VERSION "\"",
		"\"kind\": \"onnx\"",
		"\"flags\": {\n    \"layers\": \"auto\",\n    \"bond\": \"8\"\n  }",
		"\"name\": \"/fc2/Gemm\",\n        \"op\": \"Gemm\",\n        \"weight\": \"fc2.weight\"",
		"\"selected\": true",
		"\"max_bond\": 8",
		"\"bond_before\": [1, 4, 16, 64, 256, 64, 16, 4, 1]",
		"\"bond\": [1, 4, 8, 8, 8, 8, 8, 4, 1]",
		"\"rel_error_method\": \"exact\"",
		"\"params_dense\": 65536",
		"\"note\": null",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(text, want[i])) {
			fprintf(stderr, "report lacks %s:\n%s\n", want[i], text);
			ok = 0;
		}
	free(text);
	ASSERT(ok);
}

/* ---------------------------------------------------- JSON writer */

static void test_json(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_writer w;
	json_init(&w, f);
	json_object(&w);
	json_key(&w, "s");
	json_string(&w, "q\"b\\n\n\t\x01\x7f é \xff\xc3 \xed\xa0\x80 €");
	json_key(&w, "x");
	json_array(&w, 1);
	json_double(&w, 0.1);
	json_double(&w, NAN);
	json_double(&w, -INFINITY);
	json_double(&w, -0.0);
	json_int(&w, -((int64_t)1 << 62));
	json_end(&w);
	json_key(&w, "e");
	json_array(&w, 0);
	json_end(&w);
	json_key(&w, "o");
	json_object(&w);
	json_key(&w, "b");
	json_bool(&w, 1);
	json_key(&w, "n");
	json_null(&w);
	json_end(&w);
	json_end(&w);
	ASSERT(json_finish(&w) == 0);
	fclose(f);
	const char *want = "{\n"
			   "  \"s\": \"q\\\"b\\\\n\\n\\t\\u0001\\u007f \xc3\xa9 \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \xe2\x82\xac\",\n"
			   "  \"x\": [0.10000000000000001, null, null, -0, -4611686018427387904],\n"
			   "  \"e\": [],\n"
			   "  \"o\": {\n"
			   "    \"b\": true,\n"
			   "    \"n\": null\n"
			   "  }\n"
			   "}\n";
	if (strcmp(text, want))
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", text, want);
	int ok = !strcmp(text, want);
	free(text);
	ASSERT(ok);
}

/* ---------------------------------------------------- --matrix */

static void test_matrix_graph(void)
{
	uint64_t seed = 8;
	double W[5 * 12];
	for (int e = 0; e < 60; e++)
		W[e] = ot_rand(&seed);
	compress_opts co = {0, 0, 1};
	compress_result cr;
	char err[512];
	ir_graph *g = compress_matrix_graph("w.npy", W, 5, 12, &co, &cr, err, sizeof err);
	ASSERT(g);
	g->inputs[0]->shape.d[0] = (ir_dim){3, NULL};
	int ok = !pass_infer(g) && !ir_verify(g) && cr.n == 1 && !strcmp(cr.layer[0].reason, "--matrix");
	ir_tensor *x = random_input(g->inputs[0], 9), *y = NULL;
	ok = ok && !interp_run(g, &x, &y) && y->rank == 2 && y->dims[0] == 3 && y->dims[1] == 5 &&
	     !strcmp(g->outputs[0]->name, "y") && !strcmp(g->inputs[0]->name, "x");
	for (int r = 0; ok && r < 3; r++)
		for (int i = 0; i < 5; i++) {
			double want = 0;
			for (int j = 0; j < 12; j++)
				want += W[i * 12 + j] * ir_tensor_get_f64(x, r * 12 + j);
			ok = ok && fabs(ir_tensor_get_f64(y, r * 5 + i) - want) <= 1e-5;
		}
	ir_tensor_free(x);
	ir_tensor_free(y);
	ir_graph_free(g);
	compress_free(&cr);
	ASSERT(ok);
	/* a non-finite entry is a diagnostic naming the file */
	W[7] = NAN;
	g = compress_matrix_graph("w.npy", W, 5, 12, &co, &cr, err, sizeof err);
	compress_free(&cr);
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, "w.npy: cannot compress the 5x12 matrix");
}

/* ---------------------------------------------------- the qnnc binary */

static int run(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void)
{
	char qnnc[1024], model[1024], cmd[4096], path[1200];
	struct stat sb;
	snprintf(qnnc, sizeof qnnc, "%s/driver/qnnc", QNNC_BINARY_DIR);
	snprintf(model, sizeof model, "%s/examples/mnist-mlp/model.onnx", QNNC_SOURCE_DIR);
	if (stat(qnnc, &sb) || !cch_dir[0]) {
		printf("(cli: %s not built, skipped)\n", qnnc);
		return;
	}
	static const struct {
		const char *args;
		int rc;
	} cs[] = {
		{"--layers=auto --bond=1000 --emit=c,report", 0},
		{"--layers=/fc2/Gemm --bond=4 --cutoff=0.01 --group=2 --emit=report", 0},
		{"--layers=auto --bond=0", 2},
		{"--layers=auto --bond=x", 2},
		{"--layers=auto --bond=99999999999", 2},
		{"--layers=auto --cutoff=1", 2},
		{"--layers=auto --cutoff=-0.1", 2},
		{"--layers=auto --cutoff=nan", 2},
		{"--layers=auto --group=17", 2},
		{"--layers=auto --group=0", 2},
		{"--layers=' '", 1},
		{"--layers=", 2},
		{"--bond=4", 2},
		{"--emit=c,bogus", 2},
		{"--layers=nosuch", 1},
	};
	int ok = 1;
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
		snprintf(cmd, sizeof cmd, "'%s' %s '%s' -o '%s/cli' 2>'%s/cli.err' >/dev/null", qnnc, cs[i].args, model,
			 cch_dir, cch_dir);
		int rc = run(cmd);
		if (rc != cs[i].rc) {
			fprintf(stderr, "qnnc %s: exit %d, expected %d\n", cs[i].args, rc, cs[i].rc);
			ok = 0;
		}
	}
	/* the first two wrote their files; the report is valid JSON to python */
	snprintf(path, sizeof path, "%s/cli.json", cch_dir);
	ok = ok && !stat(path, &sb) && sb.st_size > 0;
	snprintf(cmd, sizeof cmd, "python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); "
		 "sys.exit(0 if r[\"compression\"][\"layers\"][0][\"group\"] == 2 else 1)' '%s' 2>/dev/null", path);
	if (ok && run("python3 -c 1 2>/dev/null") == 0)
		ok = run(cmd) == 0;
	snprintf(path, sizeof path, "%s/cli.c", cch_dir);
	ok = ok && !stat(path, &sb);
	/* --matrix from a .npy file: y = W x with x [batch, K] */
	double W[6 * 10];
	uint64_t seed = 3;
	char err[512];
	for (int e = 0; e < 60; e++)
		W[e] = ot_rand(&seed);
	snprintf(path, sizeof path, "%s/w.npy", cch_dir);
	ok = ok && !npy_write_matrix(path, W, 6, 10, NPY_F64, err, sizeof err);
	snprintf(cmd, sizeof cmd, "'%s' --matrix '%s' --bond=2 --dim batch=4 --emit=c,ir,report -o '%s/mat' 2>/dev/null",
		 qnnc, path, cch_dir);
	ok = ok && run(cmd) == 0;
	snprintf(path, sizeof path, "%s/mat.h", cch_dir);
	FILE *h = fopen(path, "r");
	char buf[8192] = "";
	if (h) {
		size_t n = fread(buf, 1, sizeof buf - 1, h);
		buf[n] = 0;
		fclose(h);
	}
	ok = ok && strstr(buf, "f32 [4,10]") && strstr(buf, "f32 [4,6]");
	snprintf(cmd, sizeof cmd, "'%s' --matrix '%s/w.npy' --layers=auto -o '%s/mat' 2>/dev/null", qnnc, cch_dir,
		 cch_dir);
	ok = ok && run(cmd) == 2;
	snprintf(cmd, sizeof cmd, "'%s' --matrix '%s/nosuch.npy' -o '%s/mat' 2>/dev/null", qnnc, cch_dir, cch_dir);
	ok = ok && run(cmd) == 1;
	ASSERT(ok);
}

int main(void)
{
	static const test_case tests[] = {
		{"gemm_forms", test_gemm_forms}, {"matmul_forms", test_matmul_forms}, {"group", test_group},
		{"truncation", test_truncation}, {"names", test_names}, {"mlp_auto", test_mlp_auto},
		{"mlp_full", test_mlp_full}, {"mlp_report", test_mlp_report}, {"json", test_json},
		{"matrix_graph", test_matrix_graph}, {"cli", test_cli},
	};
	int rc = cch_main("compress", tests, (int)(sizeof tests / sizeof tests[0]));
	la_release();
	return rc;
}
