/* test_op_matmul.c - Gemm and MatMul (passes/op_matmul.c): shapes, every
 * attribute and bias form, batch broadcasting and 1-D operands, integer
 * types, diagnostics; results against naive loops in double. */
#include "test.h"
#include "op_test.h"

/* Gemm oracle: alpha op(A) op(B) + beta C, C broadcast from its own dims. */
static double gemm_ref(const ir_tensor *a, const ir_tensor *b, const ir_tensor *c, int ta, int tb,
		       double alpha, double beta, int64_t i, int64_t j, int64_t k)
{
	double s = 0;
	for (int64_t p = 0; p < k; p++) {
		double x = ir_tensor_get_f64(a, ta ? p * a->dims[1] + i : i * a->dims[1] + p);
		double y = ir_tensor_get_f64(b, tb ? j * b->dims[1] + p : p * b->dims[1] + j);
		s += x * y;
	}
	s *= alpha;
	if (c) {
		int64_t ci = 0;
		if (c->rank == 1)
			ci = c->dims[0] == 1 ? 0 : j;
		else if (c->rank == 2)
			ci = (c->dims[0] == 1 ? 0 : i) * c->dims[1] + (c->dims[1] == 1 ? 0 : j);
		s += beta * ir_tensor_get_f64(c, ci);
	}
	return s;
}

static void gemm_case(ir_dtype t, int ta, int tb, double alpha, double beta, int crank,
		      const int64_t *cdims, uint64_t seed)
{
	int64_t m = 3, n = 5, k = 4;
	ir_graph *g = ir_graph_new("gemm");
	ir_node *nd = ot_node(g, IR_OP_Gemm, 13, crank >= 0 ? 3 : 2, 1);
	ot_int(g, nd, "transA", ta);
	ot_int(g, nd, "transB", tb);
	if (alpha != 1)
		ot_float(g, nd, "alpha", alpha);
	if (beta != 1)
		ot_float(g, nd, "beta", beta);
	int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n};
	double amp = ir_dtype_is_float(t) ? 1 : 10;
	ir_tensor *in[3] = {ot_random(g, t, 2, ad, amp, &seed), ot_random(g, t, 2, bd, amp, &seed),
			    crank >= 0 ? ot_random(g, t, crank, cdims, amp, &seed) : NULL};
	ir_tensor *out[1];
	ASSERT(ot_run(g, nd, in, out) == 0);
	ASSERT(out[0]->rank == 2 && out[0]->dims[0] == m && out[0]->dims[1] == n);
	ASSERT(out[0]->dtype == t);
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			double want = gemm_ref(in[0], in[1], in[2], ta, tb, alpha, beta, i, j, k);
			if (!ir_dtype_is_float(t))
				want = (double)(int64_t)want;
			ASSERT_NEAR(ir_tensor_get_f64(out[0], i * n + j), want, 1e-5 * (1 + fabs(want)));
		}
	ir_graph_free(g);
}

static void test_gemm_attributes(void)
{
	static const int64_t cd[][2] = {{0, 0}, {1, 0}, {5, 0}, {1, 5}, {3, 1}, {3, 5}, {1, 1}};
	static const int cr[] = {0, 1, 1, 2, 2, 2, 2};
	uint64_t seed = 1;
	int before = test_failures;
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++)
			for (int c = 0; c < 7; c++) {
				gemm_case(IR_F32, ta, tb, 0.25, 0.35, cr[c], cd[c], seed++);
				if (test_failures != before)
					return;
			}
	gemm_case(IR_F32, 0, 0, 1, 1, -1, NULL, 7);  /* no C */
	gemm_case(IR_F32, 1, 0, 2, 0, 2, cd[5], 8);   /* beta 0 ignores C */
	gemm_case(IR_F64, 1, 1, 0.5, -2, 2, cd[3], 9);
}

static void test_gemm_integers(void)
{
	static const int64_t cd[2] = {1, 5};
	gemm_case(IR_I32, 0, 1, 1, 1, 2, cd, 11);
	gemm_case(IR_I64, 1, 0, 1, 1, 1, cd + 1, 12);
	gemm_case(IR_U32, 0, 0, 1, 1, -1, NULL, 13);
	gemm_case(IR_U64, 1, 1, 1, 1, 0, cd, 14);
	gemm_case(IR_I64, 0, 0, 2, 3, 2, cd, 15); /* alpha, beta via double */
}

/* Shape inference of one node: want is the output shape ("[3,4]") or a
 * piece of the expected diagnostic. */
static void infer_case(ir_op op, int opset, int nin, int trans_a, const char *inputs,
		       const char *want)
{
	ir_graph *g = ir_graph_new("mm");
	ir_node *n = ot_node(g, op, opset, nin, 1);
	char s[128];
	if (trans_a)
		ot_int(g, n, "transA", 1);
	ot_inputs(g, n, inputs);
	int rc = ot_infer(g, n);
	if (want[0] == '[') {
		if (rc)
			fprintf(stderr, "%s\n", g->err);
		ASSERT(rc == 0 && n->out[0]->dtype == n->in[0]->dtype);
		ASSERT(!strcmp(ir_shape_str(&n->out[0]->shape, s, sizeof s), want));
	} else {
		ASSERT(rc == -1);
		ASSERT_STR_CONTAINS(g->err, want);
	}
	ir_graph_free(g);
}

static void test_gemm_infer(void)
{
	ir_op G = IR_OP_Gemm;
	infer_case(G, 13, 3, 0, "f32[3,4] f32[5,6] f32[6]", "inner dimensions differ");
	infer_case(G, 13, 3, 0, "f32[3,4] f32[4,6] f32[2,6]",
		   "C [2,6] cannot be broadcast to the output shape [3,6]");
	infer_case(G, 13, 2, 0, "f32[1,3,4] f32[4,6]", "must be 2-D");
	infer_case(G, 13, 2, 0, "f32[3,4] f64[4,6]", "share one dtype");
	infer_case(G, 13, 2, 0, "i8[3,4] i8[4,6]", "input A has unsupported dtype i8");
	infer_case(G, 9, 2, 0, "f32[3,4] f32[4,6]", "input C is required before opset 11");
	/* symbolic M through transA; C broadcast forms */
	infer_case(G, 13, 3, 1, "f32[4,batch] f32[4,6] f32[6]", "[batch,6]");
	infer_case(G, 13, 3, 0, "f64[?,4] f64[4,6] f64[]", "[?,6]");
	infer_case(G, 13, 3, 0, "f32[3,4] f32[4,6] f32[3,1]", "[3,6]");
	infer_case(G, 13, 3, 0, "f32[*] f32[4,6] f32[1,6]", "[?,6]");
}

static void test_matmul_infer(void)
{
	ir_op M = IR_OP_MatMul;
	infer_case(M, 13, 2, 0, "f32[2,1,3,4] f32[5,4,2]", "[2,5,3,2]");
	infer_case(M, 13, 2, 0, "f32[3] f32[3]", "[]");
	infer_case(M, 13, 2, 0, "f32[4] f32[2,4,1]", "[2,1]");
	infer_case(M, 13, 2, 0, "i64[1,2,4,3] i64[3]", "[1,2,4]");
	/* a symbolic batch dim survives; an unknown K is no error */
	infer_case(M, 13, 2, 0, "f32[N,3,?] f32[4,2]", "[N,3,2]");
	infer_case(M, 13, 2, 0, "f32[N,1,3,4] f32[N,7,4,2]", "[N,7,3,2]");
	infer_case(M, 13, 2, 0, "f32[*] f32[4,2]", "[*]");
	infer_case(M, 13, 2, 0, "f32[3,4] f32[5,2]", "inner dimensions differ: A [3,4] and B [5,2]");
	infer_case(M, 13, 2, 0, "f32[2,3,4] f32[3,4,2]", "cannot be broadcast");
	infer_case(M, 13, 2, 0, "f32[] f32[4,2]", "rank >= 1");
	infer_case(M, 13, 2, 0, "u32[2,3] i32[3,2]", "share one dtype");
}

/* Element offset of a broadcast operand for the output batch index idx. */
static int64_t bcast_offset(const ir_tensor *t, int nb, const int64_t *idx, int64_t mat)
{
	int tb = t->rank - 2 > 0 ? t->rank - 2 : 0;
	int64_t off = 0;
	for (int i = 0; i < tb; i++) {
		int64_t d = t->dims[i], j = idx[nb - tb + i];
		off = off * d + (d == 1 ? 0 : j);
	}
	return off * mat;
}

static void matmul_case(ir_dtype t, int ra, const int64_t *da, int rb, const int64_t *db,
			uint64_t seed)
{
	ir_graph *g = ir_graph_new("matmul");
	ir_node *nd = ot_node(g, IR_OP_MatMul, 13, 2, 1);
	double amp = ir_dtype_is_float(t) ? 1 : 8;
	ir_tensor *in[2] = {ot_random(g, t, ra, da, amp, &seed), ot_random(g, t, rb, db, amp, &seed)};
	ir_tensor *out[1];
	ASSERT(ot_run(g, nd, in, out) == 0);
	const ir_tensor *a = in[0], *b = in[1], *y = out[0];
	int64_t m = ra == 1 ? 1 : da[ra - 2], k = da[ra - 1], n = rb == 1 ? 1 : db[rb - 1];
	int nb = y->rank - (ra > 1) - (rb > 1);
	int64_t nbatch = 1, idx[IR_MAX_RANK] = {0};
	for (int i = 0; i < nb; i++)
		nbatch *= y->dims[i];
	ASSERT(y->numel == nbatch * m * n);
	for (int64_t bi = 0; bi < nbatch; bi++) {
		int64_t oa = bcast_offset(a, nb, idx, m * k), ob = bcast_offset(b, nb, idx, k * n);
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < n; j++) {
				double s = 0;
				for (int64_t p = 0; p < k; p++)
					s += ir_tensor_get_f64(a, oa + i * k + p) *
					     ir_tensor_get_f64(b, ob + p * n + j);
				ASSERT_NEAR(ir_tensor_get_f64(y, (bi * m + i) * n + j), s,
					    1e-5 * (1 + fabs(s)));
			}
		for (int i = nb - 1; i >= 0 && ++idx[i] == y->dims[i]; i--)
			idx[i] = 0;
	}
	ir_graph_free(g);
}

static void test_matmul_values(void)
{
	static const ir_dtype types[] = {IR_F32, IR_F64, IR_I32, IR_I64, IR_U32, IR_U64};
	int before = test_failures;
	for (int t = 0; t < 6; t++) {
		uint64_t s = 100 + (uint64_t)t * 10;
		matmul_case(types[t], 4, (int64_t[]){2, 1, 3, 4}, 3, (int64_t[]){5, 4, 2}, s++);
		matmul_case(types[t], 4, (int64_t[]){3, 1, 3, 4}, 4, (int64_t[]){1, 2, 4, 2}, s++);
		matmul_case(types[t], 3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){4, 3}, s++);
		matmul_case(types[t], 2, (int64_t[]){3, 4}, 3, (int64_t[]){2, 4, 3}, s++);
		matmul_case(types[t], 1, (int64_t[]){3}, 1, (int64_t[]){3}, s++);
		matmul_case(types[t], 1, (int64_t[]){4}, 3, (int64_t[]){2, 4, 1}, s++);
		matmul_case(types[t], 4, (int64_t[]){1, 2, 4, 3}, 1, (int64_t[]){3}, s++);
		matmul_case(types[t], 2, (int64_t[]){3, 0}, 2, (int64_t[]){0, 2}, s++); /* K = 0 */
		matmul_case(types[t], 3, (int64_t[]){0, 3, 2}, 2, (int64_t[]){2, 2}, s++);
		if (test_failures != before)
			return;
	}
}

static void test_matmul_int_wraps(void)
{
	/* int32 products wrap like numpy: 65536 * 65536 = 2^32 -> 0 */
	ir_graph *g = ir_graph_new("matmul");
	ir_node *n = ot_node(g, IR_OP_MatMul, 13, 2, 1);
	ir_tensor *in[2] = {ot_tensor(g, IR_I32, 2, (int64_t[]){1, 2}, (double[]){65536, 3}),
			    ot_tensor(g, IR_I32, 2, (int64_t[]){2, 1}, (double[]){65536, -5})};
	ir_tensor *out[1];
	ASSERT(ot_run(g, n, in, out) == 0);
	ASSERT(((int32_t *)out[0]->data)[0] == -15);
	ir_graph_free(g);
}

TEST_MAIN({"gemm_attributes", test_gemm_attributes}, {"gemm_integers", test_gemm_integers},
	  {"gemm_infer", test_gemm_infer}, {"matmul_infer", test_matmul_infer},
	  {"matmul_values", test_matmul_values}, {"matmul_int_wraps", test_matmul_int_wraps})
