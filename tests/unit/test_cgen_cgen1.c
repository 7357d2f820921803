/* test_cgen_cgen1.c - the C emitters of the matmul, conv, pool and norm
 * families (backend/cgen_{matmul,conv,pool,norm}.c) on what the ONNX node
 * tests do not reach: constant weights (packed Gemm/MatMul panels, baked
 * BatchNormalization tables, batch statistics with constant parameters), Conv with dilations, groups, 1-D and 3-D,
 * kernels wider than the fused-tap limit, planes too large for the
 * padded-stack path, pools with empty windows and column-major Indices,
 * and the --cblas variants of the products.
 *
 * Each case is one node: the generated C is compiled with the strict
 * flags (cc -std=c99 -Wall -Wextra -Wpedantic -Werror -O2; clang
 * -Weverything too when clang is installed; QNNC_TEST_CFLAGS adds flags
 * such as -fsanitize=address,undefined), run, and compared with the
 * reference interpreter. Skipped (77) when no C compiler is available.
 */
#include "test.h"
#include "op_test.h"

#include "../../backend/cgen.h"

#include <stdlib.h>
#include <unistd.h>

static char workdir[256];
static int have_clang;
static int use_cblas; /* emit with qnnc --cblas, link OpenBLAS */

#define CC_FLAGS "-std=c99 -Wall -Wextra -Wpedantic -Werror -O2"
#define CLANG_FLAGS                                                                           \
	"-std=c99 -Weverything -Werror -Wno-padded -Wno-declaration-after-statement "         \
	"-Wno-unknown-warning-option -Wno-unsafe-buffer-usage -Wno-unused-macros"

/* One value of tensor t as a C literal for the harness. */
static void print_elem(FILE *f, const ir_tensor *t, int64_t i)
{
	if (ir_dtype_is_float(t->dtype))
		fprintf(f, "%a%s", ir_tensor_get_f64(t, i), t->dtype == IR_F32 ? "f" : "");
	else if (ir_dtype_is_signed(t->dtype))
		fprintf(f, "%lld", (long long)ir_tensor_get_i64(t, i));
	else
		fprintf(f, "%lluu", (unsigned long long)ir_tensor_get_i64(t, i));
}

/* Bind the inputs (constant where konst[i]), compile the node to C, run it
 * and compare with the interpreter. Returns 0 when they agree. */
static int run_node(const char *label, ir_graph *g, ir_node *n, ir_tensor **in, const int *konst)
{
	char path[512], cmd[2048];
	for (int i = 0; i < n->nin; i++) {
		if (!in[i]) {
			n->in[i] = NULL;
			continue;
		}
		if (konst[i]) {
			n->in[i]->konst = in[i];
			op_value_from_tensor(n->in[i], in[i]);
		} else {
			ot_shape(n->in[i], in[i]->dtype, in[i]->rank, in[i]->dims, NULL);
			ir_graph_add_input(g, n->in[i]);
		}
	}
	for (int j = 0; j < n->nout; j++)
		if (n->out[j])
			ir_graph_add_output(g, n->out[j]);
	ir_tensor *ref[4] = {0};
	if (pass_infer(g) || interp_node(g, n, in, ref)) {
		fprintf(stderr, "%s: %s\n", label, g->err);
		return -1;
	}
	int rc = -1;
	snprintf(path, sizeof path, "%s/model.c", workdir);
	FILE *c = fopen(path, "w");
	snprintf(path, sizeof path, "%s/model.h", workdir);
	FILE *h = fopen(path, "w");
	cgen_options o = {.name = "model", .use_cblas = use_cblas};
	int erc = c && h ? cgen_emit(g, &o, "model.h", c, h) : -1;
	if (c)
		fclose(c);
	if (h)
		fclose(h);
	if (erc) {
		fprintf(stderr, "%s: emit failed: %s\n", label, g->err);
		goto out;
	}
	/* harness: inputs as literals, outputs printed one per line */
	snprintf(path, sizeof path, "%s/main.c", workdir);
	FILE *m = fopen(path, "w");
	if (!m)
		goto out;
	fprintf(m, "#include \"model.h\"\n#include <stdio.h>\n");
	for (int i = 0; i < g->ninputs; i++) {
		int k = 0;
		while (n->in[k] != g->inputs[i])
			k++;
		const ir_tensor *t = in[k];
		fprintf(m, "static const %s in%d[%lld] = {", ir_dtype_c_type(t->dtype), i,
			(long long)(t->numel ? t->numel : 1));
		for (int64_t e = 0; e < t->numel; e++) {
			print_elem(m, t, e);
			fprintf(m, ",%s", e % 8 == 7 ? "\n" : " ");
		}
		fprintf(m, "%s};\n", t->numel ? "" : "0");
	}
	for (int j = 0; j < g->noutputs; j++)
		fprintf(m, "static %s out%d[%lld];\n", ir_dtype_c_type(g->outputs[j]->dtype), j,
			(long long)(ref[j]->numel ? ref[j]->numel : 1));
	fprintf(m, "int main(void)\n{\n\tint i;\n\tif (model_run(0");
	for (int i = 0; i < g->ninputs; i++)
		fprintf(m, ", in%d", i);
	for (int j = 0; j < g->noutputs; j++)
		fprintf(m, ", out%d", j);
	fprintf(m, "))\n\t\treturn 1;\n");
	for (int j = 0; j < g->noutputs; j++) {
		const char *fmt = ir_dtype_is_float(ref[j]->dtype) ? "%a\\n\", (double)" : "%lld\\n\", (long long)";
		fprintf(m, "\tfor (i = 0; i < %lld; i++)\n\t\tprintf(\"%sout%d[i]);\n", (long long)ref[j]->numel, fmt,
			j);
	}
	fprintf(m, "\treturn 0;\n}\n");
	fclose(m);
	/* QNNC_TEST_CFLAGS adds flags, e.g. -fsanitize=address,undefined */
	const char *extra = getenv("QNNC_TEST_CFLAGS");
	snprintf(cmd, sizeof cmd, "cd '%s' && cc " CC_FLAGS " %s model.c main.c %s -lm -o prog 2>cc.log", workdir,
		 extra ? extra : "", use_cblas ? "-lopenblas" : "");
	if (system(cmd)) {
		fprintf(stderr, "%s: generated code does not compile (see %s/cc.log)\n", label, workdir);
		goto out;
	}
	snprintf(cmd, sizeof cmd, "cd '%s' && clang " CLANG_FLAGS " -fsyntax-only model.c 2>clang.log", workdir);
	if (have_clang && system(cmd)) {
		fprintf(stderr, "%s: clang -Weverything rejects the code (see %s/clang.log)\n", label, workdir);
		goto out;
	}
	snprintf(cmd, sizeof cmd, "'%s/prog'", workdir);
	FILE *p = popen(cmd, "r");
	if (!p)
		goto out;
	rc = 0;
	for (int j = 0; j < g->noutputs && !rc; j++)
		for (int64_t e = 0; e < ref[j]->numel && !rc; e++) {
			char line[128];
			if (!fgets(line, sizeof line, p)) {
				fprintf(stderr, "%s: output %d is short\n", label, j);
				rc = -1;
				break;
			}
			if (ir_dtype_is_float(ref[j]->dtype)) {
				double got = strtod(line, NULL), want = ir_tensor_get_f64(ref[j], e);
				int same = (isnan(got) && isnan(want)) || got == want ||
					   fabs(got - want) <= 1e-5 + 1e-4 * fabs(want);
				if (!same) {
					fprintf(stderr, "%s: output %d element %lld: %.9g, expected %.9g\n", label, j,
						(long long)e, got, want);
					rc = -1;
				}
			} else if (strtoll(line, NULL, 10) != ir_tensor_get_i64(ref[j], e)) {
				fprintf(stderr, "%s: output %d element %lld: %s, expected %lld\n", label, j,
					(long long)e, line, (long long)ir_tensor_get_i64(ref[j], e));
				rc = -1;
			}
		}
	if (pclose(p) && !rc) {
		fprintf(stderr, "%s: the generated program failed\n", label);
		rc = -1;
	}
out:
	for (int j = 0; j < 4; j++)
		ir_tensor_free(ref[j]);
	return rc;
}

/* ------------------------------------------------------------ cases */

typedef struct gemm_spec {
	ir_dtype t;
	int64_t m, k, n;
	int ta, tb;
	double alpha, beta;
	int crank;          /* -1: no C */
	int64_t cdims[2];
	int kb, kc;         /* B / C constant */
} gemm_spec;

static int gemm_case(const gemm_spec *s, uint64_t seed)
{
	ir_graph *g = ir_graph_new("gemm");
	ir_node *n = ot_node(g, IR_OP_Gemm, 13, s->crank >= 0 ? 3 : 2, 1);
	ot_int(g, n, "transA", s->ta);
	ot_int(g, n, "transB", s->tb);
	ot_float(g, n, "alpha", s->alpha);
	ot_float(g, n, "beta", s->beta);
	int64_t ad[2] = {s->ta ? s->k : s->m, s->ta ? s->m : s->k};
	int64_t bd[2] = {s->tb ? s->n : s->k, s->tb ? s->k : s->n};
	double amp = ir_dtype_is_float(s->t) ? 1 : 20;
	ir_tensor *in[3] = {ot_random(g, s->t, 2, ad, amp, &seed), ot_random(g, s->t, 2, bd, amp, &seed),
			    s->crank >= 0 ? ot_random(g, s->t, s->crank, s->cdims, amp, &seed) : NULL};
	int konst[3] = {0, s->kb, s->kc};
	char label[128];
	snprintf(label, sizeof label, "Gemm %lldx%lldx%lld ta=%d tb=%d", (long long)s->m, (long long)s->k,
		 (long long)s->n, s->ta, s->tb);
	int rc = run_node(label, g, n, in, konst);
	ir_graph_free(g);
	return rc;
}

static void test_gemm(void)
{
	static const gemm_spec specs[] = {
		/* nn.Linear at batch 1: constant W (transB=1) and bias */
		{IR_F32, 1, 7, 10, 0, 1, 1, 1, 1, {10}, 1, 1},
		/* partial panel, alpha and beta, C per row at run time */
		{IR_F32, 3, 5, 37, 0, 0, 0.5, 2, 2, {3, 1}, 1, 0},
		/* transposed A, constant C that differs per row (not folded), double */
		{IR_F64, 2, 4, 33, 1, 1, 1.5, -1, 2, {2, 33}, 1, 1},
		/* scalar C, wide N */
		{IR_F32, 2, 3, 70, 0, 0, 1, 0.25, 0, {0}, 1, 1},
		/* several panels, no C */
		{IR_F32, 4, 9, 100, 0, 1, 1, 1, -1, {0}, 1, 0},
		/* runtime B transposed, C [1, N] */
		{IR_F32, 3, 6, 5, 1, 1, 2, 3, 2, {1, 5}, 0, 0},
		/* empty inner dimension */
		{IR_F32, 2, 0, 3, 0, 0, 1, 0.5, 1, {3}, 0, 0},
		/* integers wrap */
		{IR_I32, 3, 4, 5, 0, 1, 1, 1, 1, {5}, 0, 0},
		{IR_I64, 2, 3, 4, 1, 0, 1, 1, -1, {0}, 1, 0},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		ASSERT(gemm_case(&specs[i], 100 + i) == 0);
}

static int matmul_case(ir_dtype t, int ra, const int64_t *ad, int rb, const int64_t *bd, int kb, uint64_t seed)
{
	ir_graph *g = ir_graph_new("matmul");
	ir_node *n = ot_node(g, IR_OP_MatMul, 13, 2, 1);
	double amp = ir_dtype_is_float(t) ? 1 : 20;
	ir_tensor *in[2] = {ot_random(g, t, ra, ad, amp, &seed), ot_random(g, t, rb, bd, amp, &seed)};
	int konst[2] = {0, kb};
	int rc = run_node("MatMul", g, n, in, konst);
	ir_graph_free(g);
	return rc;
}

static void test_matmul(void)
{
	int64_t a3[3] = {2, 3, 5}, b2[2] = {5, 12}, a1[1] = {5}, b27[2] = {5, 7};
	int64_t a4[4] = {2, 1, 4, 3}, b3[3] = {3, 3, 2}, a2[2] = {3, 4}, b1[1] = {4};
	int64_t ai[2] = {2, 3}, bi[2] = {3, 2};
	ASSERT(matmul_case(IR_F32, 3, a3, 2, b2, 1, 1) == 0);  /* batched A, constant B: panels */
	ASSERT(matmul_case(IR_F32, 1, a1, 2, b27, 1, 2) == 0); /* 1-D A */
	ASSERT(matmul_case(IR_F64, 4, a4, 3, b3, 0, 3) == 0);  /* broadcast batch dims */
	ASSERT(matmul_case(IR_F32, 2, a2, 1, b1, 1, 4) == 0);  /* 1-D constant B */
	ASSERT(matmul_case(IR_I64, 2, ai, 2, bi, 0, 5) == 0);
	ASSERT(matmul_case(IR_U32, 2, ai, 2, bi, 1, 6) == 0);
}

typedef struct conv_spec {
	int nsp;
	int64_t x[5], w[5];
	int64_t strides[3], dil[3], pads[6];
	const char *auto_pad;
	int64_t group;
	int bias, kw; /* bias present; W (and B) constant */
	ir_dtype t;
} conv_spec;

static int conv_case(const conv_spec *s, uint64_t seed)
{
	ir_graph *g = ir_graph_new("conv");
	ir_node *n = ot_node(g, IR_OP_Conv, 13, s->bias ? 3 : 2, 1);
	int r = s->nsp + 2;
	if (s->strides[0])
		ot_ints(g, n, "strides", s->nsp, s->strides);
	if (s->dil[0])
		ot_ints(g, n, "dilations", s->nsp, s->dil);
	if (s->auto_pad)
		ot_str(g, n, "auto_pad", s->auto_pad);
	else
		ot_ints(g, n, "pads", 2 * s->nsp, s->pads);
	ot_int(g, n, "group", s->group);
	ir_tensor *in[3] = {ot_random(g, s->t, r, s->x, 1, &seed), ot_random(g, s->t, r, s->w, 1, &seed), NULL};
	if (s->bias)
		in[2] = ot_random(g, s->t, 1, s->w, 1, &seed);
	int konst[3] = {0, s->kw, s->kw};
	int rc = run_node("Conv", g, n, in, konst);
	ir_graph_free(g);
	return rc;
}

static void test_conv(void)
{
	static const conv_spec specs[] = {
		/* padded plane on the stack */
		{2, {1, 3, 9, 11}, {4, 3, 3, 3}, {0}, {0}, {1, 1, 1, 1}, NULL, 1, 1, 1, IR_F32},
		/* strides, dilations, asymmetric pads, groups, batch */
		{2, {2, 4, 10, 9}, {6, 2, 3, 2}, {2, 1}, {2, 2}, {1, 0, 2, 1}, NULL, 2, 1, 1, IR_F32},
		/* 1-D, 11 taps (one axpy per tap), runtime weights */
		{1, {1, 2, 40}, {3, 2, 11}, {0}, {0}, {5, 5}, NULL, 1, 0, 0, IR_F32},
		/* 3-D */
		{3, {1, 2, 5, 6, 7}, {2, 2, 3, 3, 3}, {1, 2, 1}, {0}, {1, 1, 1, 1, 1, 1}, NULL, 1, 1, 1, IR_F64},
		/* pointwise: one block of 8 channels; 13 = 8 + 5; grouped */
		{2, {2, 8, 5, 5}, {4, 8, 1, 1}, {0}, {0}, {0, 0, 0, 0}, NULL, 1, 1, 1, IR_F32},
		{2, {1, 13, 4, 6}, {5, 13, 1, 1}, {0}, {0}, {0, 0, 0, 0}, NULL, 1, 0, 1, IR_F32},
		{2, {2, 6, 3, 3}, {4, 3, 1, 1}, {0}, {0}, {0, 0, 0, 0}, NULL, 2, 1, 1, IR_F64},
		/* a plane too large for the stack: border tests instead */
		{2, {1, 1, 130, 130}, {2, 1, 3, 3}, {0}, {0}, {1, 1, 1, 1}, NULL, 1, 1, 1, IR_F32},
		/* the same with stride 2 and a wide kernel */
		{2, {1, 1, 131, 140}, {1, 1, 3, 10}, {2, 2}, {0}, {1, 4, 1, 5}, NULL, 1, 0, 1, IR_F32},
		/* depthwise, SAME_LOWER, stride 2 */
		{2, {1, 3, 7, 7}, {3, 1, 3, 3}, {2, 2}, {0}, {0}, "SAME_LOWER", 3, 1, 1, IR_F32},
		/* even kernel, SAME_UPPER: windows cross the end only */
		{2, {1, 1, 6, 6}, {1, 1, 2, 2}, {0}, {0}, {0}, "SAME_UPPER", 1, 0, 1, IR_F32},
		/* valid convolution, stride 1: no padding at all */
		{2, {1, 2, 8, 12}, {3, 2, 3, 5}, {0}, {0}, {0, 0, 0, 0}, NULL, 1, 1, 1, IR_F32},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		ASSERT(conv_case(&specs[i], 200 + i) == 0);
}

static int pool_case(ir_op op, ir_dtype t, int rank, const int64_t *xd, int nsp, const int64_t *kernel,
		     const int64_t *strides, const int64_t *pads, int ceil, int incl, int with_idx, int order,
		     uint64_t seed)
{
	ir_graph *g = ir_graph_new("pool");
	ir_node *n = ot_node(g, op, 12, 1, with_idx ? 2 : 1);
	if (kernel) {
		ot_ints(g, n, "kernel_shape", nsp, kernel);
		ot_ints(g, n, "strides", nsp, strides);
		ot_ints(g, n, "pads", 2 * nsp, pads);
		ot_int(g, n, "ceil_mode", ceil);
	}
	if (op == IR_OP_AveragePool)
		ot_int(g, n, "count_include_pad", incl);
	if (op == IR_OP_MaxPool)
		ot_int(g, n, "storage_order", order);
	ir_tensor *in[1] = {ot_random(g, t, rank, xd, ir_dtype_is_float(t) ? 1 : 100, &seed)};
	int konst[1] = {0};
	int rc = run_node("pool", g, n, in, konst);
	ir_graph_free(g);
	return rc;
}

static void test_pool(void)
{
	int64_t x2[4] = {2, 3, 7, 8}, k2[2] = {3, 2}, s2[2] = {2, 3}, p2[4] = {1, 0, 1, 1};
	int64_t kbig[2] = {2, 2}, s1[2] = {1, 1}, pbig[4] = {2, 2, 2, 2};
	int64_t x1[3] = {1, 2, 9}, k1[1] = {4}, st1[1] = {2}, p1[2] = {2, 1};
	int64_t xg[4] = {2, 3, 5, 7}, xs[4] = {1, 2, 2, 3};
	ASSERT(pool_case(IR_OP_MaxPool, IR_F32, 4, x2, 2, k2, s2, p2, 1, 0, 1, 1, 1) == 0);
	ASSERT(pool_case(IR_OP_MaxPool, IR_F32, 4, x2, 2, k2, s2, p2, 0, 0, 1, 0, 2) == 0);
	ASSERT(pool_case(IR_OP_MaxPool, IR_I8, 4, x2, 2, k2, s2, p2, 0, 0, 0, 0, 3) == 0);
	ASSERT(pool_case(IR_OP_MaxPool, IR_U8, 3, x1, 1, k1, st1, p1, 1, 0, 0, 0, 4) == 0);
	/* windows entirely in the padding */
	ASSERT(pool_case(IR_OP_MaxPool, IR_F32, 4, xs, 2, kbig, s1, pbig, 0, 0, 1, 0, 5) == 0);
	ASSERT(pool_case(IR_OP_AveragePool, IR_F32, 4, x2, 2, k2, s2, p2, 1, 1, 0, 0, 6) == 0);
	ASSERT(pool_case(IR_OP_AveragePool, IR_F64, 4, x2, 2, k2, s2, p2, 1, 0, 0, 0, 7) == 0);
	ASSERT(pool_case(IR_OP_AveragePool, IR_F32, 3, x1, 1, k1, st1, p1, 0, 1, 0, 0, 8) == 0);
	ASSERT(pool_case(IR_OP_GlobalAveragePool, IR_F32, 4, xg, 0, NULL, NULL, NULL, 0, 0, 0, 0, 9) == 0);
	ASSERT(pool_case(IR_OP_GlobalMaxPool, IR_F32, 4, xg, 0, NULL, NULL, NULL, 0, 0, 0, 0, 10) == 0);
	ASSERT(pool_case(IR_OP_GlobalMaxPool, IR_F64, 4, xs, 0, NULL, NULL, NULL, 0, 0, 0, 0, 11) == 0);
}

/* training: 0 inference, 1 batch statistics, 2 also the running ones */
static int bn_case(ir_dtype t, int rank, const int64_t *xd, int kparams, int training, uint64_t seed)
{
	ir_graph *g = ir_graph_new("bn");
	ir_node *n = ot_node(g, IR_OP_BatchNormalization, 15, 5, training == 2 ? 3 : 1);
	ot_float(g, n, "epsilon", 1e-3);
	if (training) {
		ot_int(g, n, "training_mode", 1);
		ot_float(g, n, "momentum", 0.75);
	}
	int64_t cd[1] = {xd[1]};
	ir_tensor *in[5] = {ot_random(g, t, rank, xd, 2, &seed)};
	for (int i = 1; i < 5; i++) {
		in[i] = ot_random(g, t, 1, cd, 1, &seed);
		if (i == 4) /* variances are positive */
			for (int64_t c = 0; c < cd[0]; c++)
				ir_tensor_set_f64(in[i], c, fabs(ir_tensor_get_f64(in[i], c)) + 0.1);
	}
	int konst[5] = {0, kparams, kparams, kparams, kparams};
	int rc = run_node("BatchNormalization", g, n, in, konst);
	ir_graph_free(g);
	return rc;
}

static void test_batchnorm(void)
{
	int64_t x4[4] = {2, 3, 4, 5}, x3[3] = {1, 2, 3}, x2[2] = {4, 6};
	ASSERT(bn_case(IR_F32, 4, x4, 1, 0, 1) == 0);
	ASSERT(bn_case(IR_F64, 3, x3, 0, 0, 2) == 0);
	ASSERT(bn_case(IR_F32, 2, x2, 1, 0, 3) == 0);
	ASSERT(bn_case(IR_F32, 4, x4, 1, 2, 4) == 0);
	ASSERT(bn_case(IR_F64, 3, x3, 0, 1, 5) == 0);
}

/* The products again through cblas_[sd]gemm, when OpenBLAS links. */
static void test_cblas(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && printf '#include <cblas.h>\\nint main(void) { return cblas_sdot(0, 0, 1, 0, 1) != 0; }\\n' "
		 ">b.c && cc b.c -lopenblas -o b >/dev/null 2>&1", workdir);
	if (system(cmd)) {
		printf("(cblas: OpenBLAS not found, skipped)\n");
		return;
	}
	use_cblas = 1;
	test_gemm();
	test_matmul();
	test_conv();
	use_cblas = 0;
}

int main(void)
{
	static const test_case cases[] = {
		{"gemm", test_gemm}, {"matmul", test_matmul}, {"conv", test_conv},
		{"pool", test_pool}, {"cblas", test_cblas}, {"batchnorm", test_batchnorm},
	};
	if (system("cc --version >/dev/null 2>&1")) {
		printf("SKIP: no C compiler (cc) to build the generated code\n");
		return 77;
	}
	have_clang = !system("clang --version >/dev/null 2>&1");
	snprintf(workdir, sizeof workdir, "/tmp/qnnc-test-cgen1-XXXXXX");
	if (!mkdtemp(workdir)) {
		printf("SKIP: cannot create a work directory\n");
		return 77;
	}
	int failed = test_run(cases, (int)(sizeof cases / sizeof cases[0]));
	if (!failed) { /* keep the files of a failure for inspection */
		char cmd[512];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", workdir);
	}
	return failed ? 1 : 0;
}
