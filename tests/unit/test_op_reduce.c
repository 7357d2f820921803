/* test_op_reduce.c - the 'reduce' and 'softmax' op families
 * (passes/op_reduce.c, passes/op_softmax.c): axes as attribute or input,
 * keepdims, noop_with_empty_axes, empty reductions, integer semantics,
 * ArgMax / ArgMin ties and NaN, shape inference with unknown axes, and
 * Softmax's change of meaning at opset 13. */
#include "test.h"
#include "op_test.h"

/* Run op at opset on x (plus the axes input unless NULL) after the
 * attribute spec; NULL on error with the message in g->err. */
static ir_tensor *red(ir_graph *g, ir_op op, int opset, const char *attrs, ir_tensor *x,
		      ir_tensor *axes)
{
	ir_tensor *in[2] = {x, axes};
	return ot_apply(g, op, opset, attrs, axes ? 2 : 1, in);
}

static ir_tensor *axes(ir_graph *g, int k, const int64_t *v)
{
	int64_t d = k;
	return ot_tensor_i(g, IR_I64, 1, &d, v);
}

#define AX(g, ...) axes(g, (int)(sizeof D(__VA_ARGS__) / sizeof(int64_t)), D(__VA_ARGS__))

static ir_tensor *count(ir_graph *g, ir_dtype t, int rank, const int64_t *dims)
{
	return ot_iota(g, t, rank, dims, 0);
}

/* -------------------------------------------------------------- tests */

static void test_axes_and_keepdims(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	ir_tensor *x = count(g, IR_F32, 3, D(2, 3, 4));
	/* sum_j (12 i + 4 j + k) = 36 i + 12 + 3 k */
	ir_tensor *y = red(g, IR_OP_ReduceSum, 13, "keepdims=0", x, AX(g, 1));
	ASSERT(ot_near(y, 2, D(2, 4), V(12, 15, 18, 21, 48, 51, 54, 57), 0) && y->dtype == IR_F32);
	/* opset 11: axes attribute; mean over i, k of 12 i + 4 j + k = 7.5 + 4 j */
	y = red(g, IR_OP_ReduceMean, 11, "axes=-1,0", x, NULL);
	ASSERT(ot_near(y, 3, D(1, 3, 1), V(7.5, 11.5, 15.5), 0));
	/* opset 18: every op takes axes as an input */
	y = red(g, IR_OP_ReduceMax, 18, NULL, x, AX(g, 2, 0));
	ASSERT(ot_near(y, 3, D(1, 3, 1), V(15, 19, 23), 0));
	y = red(g, IR_OP_ReduceMin, 18, "keepdims=0", x, AX(g, -2));
	ASSERT(ot_near(y, 2, D(2, 4), V(0, 1, 2, 3, 12, 13, 14, 15), 0));
	y = red(g, IR_OP_ReduceSumSquare, 18, "keepdims=0", x, AX(g, 0, 1, 2));
	ASSERT(ot_near(y, 0, NULL, V(4324), 0)); /* sum of i^2, i < 24 */
	y = red(g, IR_OP_ReduceL2, 18, "keepdims=0", count(g, IR_F64, 2, D(2, 2)), AX(g, 1));
	ASSERT(ot_near(y, 1, D(2), V(1, sqrt(13.0)), 1e-12));
	ir_graph_free(g);
}

static void test_noop_with_empty_axes(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	ir_tensor *x = ot_tensor(g, IR_F64, 2, D(2, 2), V(-1, 2, -3, 4)), *none = axes(g, 0, NULL);
	ASSERT(ot_near(red(g, IR_OP_ReduceSum, 13, "noop_with_empty_axes=1", x, none), 2, D(2, 2),
		    V(-1, 2, -3, 4), 0));
	/* empty axes without noop: everything, keepdims gives [1,1] */
	ASSERT(ot_near(red(g, IR_OP_ReduceSum, 13, NULL, x, none), 2, D(1, 1), V(2), 0));
	/* the axes input omitted altogether, keepdims 0: a scalar */
	ASSERT(ot_near(red(g, IR_OP_ReduceProd, 18, "keepdims=0", x, NULL), 0, NULL, V(24), 0));
	/* noop keeps the elementwise part of the op */
	ASSERT(ot_near(red(g, IR_OP_ReduceSumSquare, 18, "noop_with_empty_axes=1", x, NULL), 2, D(2, 2),
		    V(1, 4, 9, 16), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceL2, 18, "noop_with_empty_axes=1", x, none), 2, D(2, 2),
		    V(1, 2, 3, 4), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceLogSumExp, 18, "noop_with_empty_axes=1", x, none), 2, D(2, 2),
		    V(-1, 2, -3, 4), 1e-12));
	ir_graph_free(g);
}

static void test_empty_reductions(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	ir_tensor *xf = ot_tensor(g, IR_F32, 3, D(2, 0, 3), NULL), *a1 = AX(g, 1);
	double inf = INFINITY, nan = NAN;
	ASSERT(ot_near(red(g, IR_OP_ReduceMax, 18, "keepdims=0", xf, a1), 2, D(2, 3),
		    V(-inf, -inf, -inf, -inf, -inf, -inf), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceMin, 18, NULL, xf, a1), 3, D(2, 1, 3), V(inf, inf, inf, inf, inf, inf), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceProd, 18, "keepdims=0", xf, a1), 2, D(2, 3), V(1, 1, 1, 1, 1, 1), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceSum, 18, "keepdims=0", xf, a1), 2, D(2, 3), V(0, 0, 0, 0, 0, 0), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceL2, 18, "keepdims=0", xf, a1), 2, D(2, 3), V(0, 0, 0, 0, 0, 0), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceLogSumExp, 18, "keepdims=0", xf, a1), 2, D(2, 3),
		    V(-inf, -inf, -inf, -inf, -inf, -inf), 0));
	ASSERT(ot_near(red(g, IR_OP_ReduceMean, 18, "keepdims=0", xf, a1), 2, D(2, 3),
		    V(nan, nan, nan, nan, nan, nan), 0));
	/* integers: the dtype's extremes */
	ir_tensor *xi = ot_tensor(g, IR_I32, 2, D(2, 0), NULL);
	ASSERT(ot_near(red(g, IR_OP_ReduceMax, 18, "keepdims=0", xi, a1), 1, D(2), V(INT32_MIN, INT32_MIN), 0));
	ir_tensor *y = red(g, IR_OP_ReduceMin, 11, "axes=-1", ot_tensor(g, IR_I8, 2, D(1, 0), NULL), NULL);
	ASSERT(ot_near(y, 2, D(1, 1), V(127), 0) && y->dtype == IR_I8);
	ASSERT(!red(g, IR_OP_ReduceMean, 18, NULL, xi, a1));
	ASSERT_STR_CONTAINS(g->err, "the mean of an empty set of integers is undefined");
	/* reducing a non-empty axis keeps the empty one */
	ASSERT(ot_near(red(g, IR_OP_ReduceSum, 18, NULL, xf, AX(g, 2)), 3, D(2, 0, 1), NULL, 0));
	ir_graph_free(g);
}

static void test_integers_bool_nan(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	ir_tensor *y = red(g, IR_OP_ReduceMean, 18, NULL, ot_tensor(g, IR_I32, 1, D(2), V(-3, -4)), NULL);
	ASSERT(ot_near(y, 1, D(1), V(-3), 0) && y->dtype == IR_I32); /* -3.5 truncated */
	y = red(g, IR_OP_ReduceSum, 13, NULL, ot_tensor(g, IR_I8, 1, D(2), V(100, 100)), NULL);
	ASSERT(ot_near(y, 1, D(1), V(-56), 0)); /* 200 wraps modulo 256 */
	ir_tensor *u = ot_tensor(g, IR_U64, 1, D(2), V(3, 4));
	y = red(g, IR_OP_ReduceL2, 18, NULL, u, NULL);
	ASSERT(ot_near(y, 1, D(1), V(5), 0) && y->dtype == IR_U64);
	/* int64 extremes survive (no detour through double) */
	ir_tensor *big = ot_tensor(g, IR_I64, 1, D(2), NULL);
	((int64_t *)big->data)[0] = INT64_MAX;
	((int64_t *)big->data)[1] = INT64_MAX - 1;
	y = red(g, IR_OP_ReduceMin, 18, NULL, big, NULL);
	ASSERT(y && ((int64_t *)y->data)[0] == INT64_MAX - 1);
	ir_tensor *b = ot_tensor(g, IR_BOOL, 1, D(3), V(0, 1, 0));
	y = red(g, IR_OP_ReduceMax, 20, NULL, b, NULL);
	ASSERT(ot_near(y, 1, D(1), V(1), 0) && y->dtype == IR_BOOL);
	ASSERT(ot_near(red(g, IR_OP_ReduceMin, 20, NULL, b, NULL), 1, D(1), V(0), 0));
	ASSERT(!red(g, IR_OP_ReduceSum, 20, NULL, b, NULL));
	ASSERT_STR_CONTAINS(g->err, "the input has unsupported dtype bool");

	ASSERT(ot_near(red(g, IR_OP_ReduceMax, 18, NULL, ot_tensor(g, IR_F32, 1, D(3), V(1, NAN, 2)), NULL),
		    1, D(1), V(NAN), 0));
	/* LogSumExp does not overflow */
	y = red(g, IR_OP_ReduceLogSumExp, 18, NULL, ot_tensor(g, IR_F32, 1, D(2), V(1000, 1000)), NULL);
	ASSERT(ot_near(y, 1, D(1), V(1000 + log(2.0)), 1e-3));
	ir_graph_free(g);
}

static void test_argmax_argmin(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	ir_tensor *x = ot_tensor(g, IR_F32, 2, D(2, 4), V(1, 3, 3, 0, 5, 5, 1, 5));
	ir_tensor *y = red(g, IR_OP_ArgMax, 13, "axis=1;keepdims=0", x, NULL);
	ASSERT(ot_near(y, 1, D(2), V(1, 0), 0) && y->dtype == IR_I64);
	ASSERT(ot_near(red(g, IR_OP_ArgMax, 13, "axis=-1;select_last_index=1", x, NULL), 2, D(2, 1), V(2, 3), 0));
	ASSERT(ot_near(red(g, IR_OP_ArgMin, 13, NULL, x, NULL), 2, D(1, 4), V(0, 0, 1, 0), 0));
	/* NaN wins, the first one (or the last with select_last_index), as numpy */
	ir_tensor *xn = ot_tensor(g, IR_F64, 1, D(4), V(2, NAN, 1, NAN));
	ASSERT(ot_near(red(g, IR_OP_ArgMin, 13, NULL, xn, NULL), 1, D(1), V(1), 0));
	ASSERT(ot_near(red(g, IR_OP_ArgMax, 13, "select_last_index=1", xn, NULL), 1, D(1), V(3), 0));
	ASSERT(ot_near(red(g, IR_OP_ArgMax, 13, NULL, ot_tensor(g, IR_U8, 1, D(3), V(7, 255, 255)), NULL),
		    1, D(1), V(1), 0));
	ASSERT(!red(g, IR_OP_ArgMax, 13, NULL, ot_tensor(g, IR_I16, 2, D(0, 3), NULL), NULL));
	ASSERT_STR_CONTAINS(g->err, "cannot take ArgMax over an empty axis");
	ASSERT(!red(g, IR_OP_ArgMax, 13, "axis=2", x, NULL));
	ASSERT_STR_CONTAINS(g->err, "axis 2 is out of range for rank 2");
	ir_graph_free(g);
}

static void test_infer_and_errors(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	char b[64];
	/* axes unknown at compile time: rank kept with keepdims, else unknown */
	ir_node *n = ot_node(g, IR_OP_ReduceSum, 13, 2, 1);
	ot_inputs(g, n, "f32[N,5,7] i64[1]");
	ASSERT(ot_infer(g, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[?,?,?]"));
	ot_int(g, n, "keepdims", 0);
	ASSERT(ot_infer(g, n) == 0 && n->out[0]->shape.rank == -1);
	/* known axes keep the symbols of the kept dims */
	n->in[1]->konst = AX(g, -1, 1);
	ot_int(g, n, "keepdims", 1);
	ASSERT(ot_infer(g, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[N,1,1]"));
	n = ot_node(g, IR_OP_ArgMin, 13, 1, 1);
	ot_inputs(g, n, "i32[N,5]");
	ASSERT(ot_infer(g, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[1,5]"));
	ASSERT(n->out[0]->dtype == IR_I64);

	ir_tensor *x = count(g, IR_F32, 2, D(2, 2));
	ASSERT(!red(g, IR_OP_ReduceMax, 18, "axes=0,1", x, NULL));
	ASSERT_STR_CONTAINS(g->err, "axes is an input since opset 18, not an attribute");
	ASSERT(!red(g, IR_OP_ReduceMax, 13, NULL, x, AX(g, 0)));
	ASSERT_STR_CONTAINS(g->err, "takes axes as an attribute before opset 18");
	ASSERT(!red(g, IR_OP_ReduceMax, 18, NULL, x, AX(g, 0, -2)));
	ASSERT_STR_CONTAINS(g->err, "axis -2 is repeated");
	ASSERT(!red(g, IR_OP_ReduceSum, 18, NULL, x, AX(g, 2)));
	ASSERT_STR_CONTAINS(g->err, "axis 2 is out of range for rank 2");
	ir_graph_free(g);
}

static double run_sum(const ir_tensor *y, int64_t from, int64_t cnt, int64_t stride)
{
	double s = 0;
	for (int64_t i = 0; i < cnt; i++)
		s += ir_tensor_get_f64(y, from + i * stride);
	return s;
}

static void test_softmax_opset_11_vs_13(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	ir_tensor *x = count(g, IR_F32, 3, D(2, 3, 4));
	/* opset 11, default axis 1: each batch's 12 elements form one distribution */
	ir_tensor *y11 = red(g, IR_OP_Softmax, 11, NULL, x, NULL);
	ASSERT(y11 && y11->rank == 3);
	ASSERT_NEAR(run_sum(y11, 0, 12, 1), 1, 1e-6);
	ASSERT_NEAR(run_sum(y11, 12, 12, 1), 1, 1e-6);
	/* the largest term of a geometric series */
	ASSERT_NEAR(ir_tensor_get_f64(y11, 11), (1 - exp(-1.0)) / (1 - exp(-12.0)), 1e-6);
	/* opset 13, default axis -1: each row of 4 */
	ir_tensor *y13 = red(g, IR_OP_Softmax, 13, NULL, x, NULL);
	ASSERT(y13);
	for (int r = 0; r < 6; r++)
		ASSERT_NEAR(run_sum(y13, 4 * r, 4, 1), 1, 1e-6);
	ASSERT_NEAR(ir_tensor_get_f64(y13, 3), (1 - exp(-1.0)) / (1 - exp(-4.0)), 1e-6);
	/* opset 13, axis 1: strided runs of 3 */
	ir_tensor *y = red(g, IR_OP_Softmax, 13, "axis=1", x, NULL);
	ASSERT(y);
	ASSERT_NEAR(run_sum(y, 13, 3, 4), 1, 1e-6);
	ASSERT_NEAR(ir_tensor_get_f64(y, 17), exp(-4.0) / (exp(-8.0) + exp(-4.0) + 1), 1e-6);
	/* opset 11, axis 0: the whole tensor */
	y = red(g, IR_OP_LogSoftmax, 11, "axis=0", x, NULL);
	ASSERT(y);
	ASSERT_NEAR(ir_tensor_get_f64(y, 23), -log((1 - exp(-24.0)) / (1 - exp(-1.0))), 1e-5);
	ASSERT(!red(g, IR_OP_Softmax, 13, "axis=3", x, NULL));
	ASSERT_STR_CONTAINS(g->err, "axis 3 is out of range for rank 3");
	ir_graph_free(g);
}

static void test_softmax_large_and_dtypes(void)
{
	ir_graph *g = ir_graph_new("test.onnx");
	ir_tensor *x = ot_tensor(g, IR_F32, 2, D(2, 2), V(1000, 1001, -1000, -1001));
	double l = log(1 + exp(-1.0));
	ASSERT(ot_near(red(g, IR_OP_LogSoftmax, 13, NULL, x, NULL), 2, D(2, 2), V(-1 - l, -l, -l, -1 - l), 1e-5));
	double p = 1 / (1 + exp(-1.0));
	ASSERT(ot_near(red(g, IR_OP_Softmax, 13, NULL, x, NULL), 2, D(2, 2), V(1 - p, p, p, 1 - p), 1e-6));
	ir_tensor *xd = ot_tensor(g, IR_F64, 1, D(3), V(-INFINITY, 0, 0));
	ASSERT(ot_near(red(g, IR_OP_Softmax, 13, NULL, xd, NULL), 1, D(3), V(0, 0.5, 0.5), 1e-15));
	ASSERT(!red(g, IR_OP_Softmax, 13, NULL, count(g, IR_I32, 1, D(3)), NULL));
	ASSERT_STR_CONTAINS(g->err, "the input has unsupported dtype i32");
	ir_graph_free(g);
}

TEST_MAIN({"axes_and_keepdims", test_axes_and_keepdims},
	  {"noop_with_empty_axes", test_noop_with_empty_axes},
	  {"empty_reductions", test_empty_reductions},
	  {"integers_bool_nan", test_integers_bool_nan},
	  {"argmax_argmin", test_argmax_argmin},
	  {"infer_and_errors", test_infer_and_errors},
	  {"softmax_opset_11_vs_13", test_softmax_opset_11_vs_13},
	  {"softmax_large_and_dtypes", test_softmax_large_and_dtypes})
