/* test_op_shape.c - the 'shape' op family (passes/op_shape.c): Constant,
 * Shape, Size, Reshape, Flatten, Transpose, Concat, Squeeze, Unsqueeze,
 * Gather, Slice, Expand, ConstantOfShape, Tile: results, inferred shapes
 * (also with data unknown at compile time) and the diagnostics. Each case
 * runs through interp_node, so check and infer see the constant inputs as
 * they do at run time. */
#include "test.h"
#include "op_test.h"

/* Each test starts with fresh(), which frees the previous test's graph. */
static void fresh(void)
{
	static int once;
	if (!once++)
		atexit(ot_end);
	ot_begin();
}

/* op (opset, inputs in[0..nin), NULL for omitted) after the attribute
 * spec; NULL on error with the message in G->err. */
static ir_tensor *run_op(ir_op op, int opset, const char *attrs, int nin, ir_tensor **in)
{
	return ot_apply(G, op, opset, attrs, nin, in);
}

/* 0, 1, 2, ... */
static ir_tensor *iota(ir_dtype t, int rank, const int64_t *dims) { return ot_iota(G, t, rank, dims, 0); }

/* An int64 vector, exact for the INT64 sentinels (doubles are not). */
static ir_tensor *ivec(int k, const int64_t *v)
{
	int64_t d = k;
	return ot_tensor_i(G, IR_I64, 1, &d, v);
}

/* y has this shape and (unless vals is NULL) these values. */
static int is(const ir_tensor *y, int rank, const int64_t *dims, const double *vals)
{
	return ot_near(y, rank, dims, vals, 0);
}

#define IN(...) ((ir_tensor *[]){__VA_ARGS__})
#define IVEC(...) ivec((int)(sizeof D(__VA_ARGS__) / sizeof(int64_t)), D(__VA_ARGS__))

/* -------------------------------------------------------------- tests */

static void test_reshape_zero_and_negative(void)
{
	fresh();
	ir_tensor *x = iota(IR_F32, 3, D(2, 3, 4)), *y;
	y = run_op(IR_OP_Reshape, 25, NULL, 2, IN(x, IVEC(0, -1)));
	ASSERT(is(y, 2, D(2, 12), NULL) && ir_tensor_get_f64(y, 23) == 23);
	y = run_op(IR_OP_Reshape, 25, NULL, 2, IN(x, IVEC(2, 0, 1, -1)));
	ASSERT(is(y, 4, D(2, 3, 1, 4), NULL));
	/* every dtype is a plain copy */
	y = run_op(IR_OP_Reshape, 25, NULL, 2, IN(iota(IR_BOOL, 1, D(2)), IVEC(1, 2)));
	ASSERT(is(y, 2, D(1, 2), V(0, 1)));
}

static void test_reshape_allowzero(void)
{
	fresh();
	ir_tensor *x = iota(IR_F32, 3, D(0, 3, 4));
	ASSERT(is(run_op(IR_OP_Reshape, 25, "allowzero=1", 2, IN(x, IVEC(3, 4, 0))), 3, D(3, 4, 0), NULL));
	/* without allowzero the 0 copies input dim 2 (4) */
	ASSERT(!run_op(IR_OP_Reshape, 25, NULL, 2, IN(x, IVEC(3, 4, 0))));
	ASSERT_STR_CONTAINS(G->err, "[0,3,4] (0 elements) to [3,4,4] (48 elements)");
	ASSERT(!run_op(IR_OP_Reshape, 25, "allowzero=1", 2, IN(x, IVEC(0, -1))));
	ASSERT_STR_CONTAINS(G->err, "both 0 and -1");
	ASSERT(!run_op(IR_OP_Reshape, 25, "allowzero=2", 2, IN(x, IVEC(0, -1))));
	ASSERT_STR_CONTAINS(G->err, "allowzero must be 0 or 1");
}

static void test_reshape_errors(void)
{
	fresh();
	ir_tensor *x = iota(IR_F32, 3, D(2, 3, 4));
	ASSERT(!run_op(IR_OP_Reshape, 25, NULL, 2, IN(x, IVEC(5, 5))));
	ASSERT_STR_CONTAINS(G->err, "test.onnx: node 'Reshape_0' (Reshape): cannot reshape [2,3,4] "
			    "(24 elements) to [5,5] (25 elements)");
	ASSERT(!run_op(IR_OP_Reshape, 25, NULL, 2, IN(x, IVEC(-1, -1))));
	ASSERT_STR_CONTAINS(G->err, "more than one -1");
	ASSERT(!run_op(IR_OP_Reshape, 25, NULL, 2, IN(x, IVEC(5, -1))));
	ASSERT_STR_CONTAINS(G->err, "cannot reshape [2,3,4] (24 elements) to [5,?]");
	ASSERT(!run_op(IR_OP_Reshape, 25, NULL, 2, IN(x, IVEC(1, 1, 1, 0))));
	ASSERT_STR_CONTAINS(G->err, "target dim 3 is 0 (copy the input dim) but the input has rank 3");
}

static void test_infer_without_data(void)
{
	fresh();
	/* a copied symbolic dim cancels, so -1 is known */
	ir_node *n = ot_node(G, IR_OP_Reshape, 13, 2, 1);
	ot_inputs(G, n, "f32[N,1,28,28] i64[2]");
	n->in[1]->konst = IVEC(0, -1);
	ASSERT(ot_infer(G, n) == 0);
	char b[64];
	ASSERT(!strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[N,784]"));
	/* shape data unknown, its length known: rank 3 */
	n = ot_node(G, IR_OP_Reshape, 13, 2, 1);
	ot_inputs(G, n, "f32[N,1,28,28] i64[3]");
	ASSERT(ot_infer(G, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[?,?,?]"));
	/* Slice with unknown starts: only the sliced axis becomes unknown */
	n = ot_node(G, IR_OP_Slice, 13, 4, 1);
	ot_inputs(G, n, "f32[N,5,6] i64[1] i64[1] i64[1]");
	n->in[3]->konst = IVEC(-1);
	ASSERT(ot_infer(G, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[N,5,?]"));
	/* Flatten keeps a lone symbol, Transpose moves symbols */
	n = ot_node(G, IR_OP_Flatten, 13, 1, 1);
	ot_inputs(G, n, "f32[N,3,4]");
	ASSERT(ot_infer(G, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[N,12]"));
	n = ot_node(G, IR_OP_Transpose, 13, 1, 1);
	ot_inputs(G, n, "u8[N,3,M]");
	ASSERT(ot_infer(G, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[M,3,N]"));
	ASSERT(n->out[0]->dtype == IR_U8);
	n = ot_node(G, IR_OP_Concat, 13, 2, 1);
	ot_int(G, n, "axis", 1);
	ot_inputs(G, n, "f32[N,3] f32[N,?]");
	ASSERT(ot_infer(G, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[N,?]"));
	n = ot_node(G, IR_OP_Unsqueeze, 13, 2, 1);
	ot_inputs(G, n, "f32[N,3] i64[2]");
	ASSERT(ot_infer(G, n) == 0 && !strcmp(ir_shape_str(&n->out[0]->shape, b, sizeof b), "[?,?,?,?]"));
}

static void test_slice_negative_steps_and_clamping(void)
{
	fresh();
	ir_tensor *x = iota(IR_I32, 1, D(10)), *zero = IVEC(0), *y;
	/* reverse everything with the INT64 sentinels */
	y = run_op(IR_OP_Slice, 13, NULL, 5, IN(x, IVEC(-1), IVEC(INT64_MIN), zero, IVEC(-1)));
	ASSERT(is(y, 1, D(10), V(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)));
	/* a start past the end clamps to the last element for negative steps */
	y = run_op(IR_OP_Slice, 13, NULL, 5, IN(x, IVEC(100), IVEC(1), zero, IVEC(-3)));
	ASSERT(is(y, 1, D(3), V(9, 6, 3)));
	/* an end past the end clamps to dim - 1 for negative steps: empty */
	y = run_op(IR_OP_Slice, 13, NULL, 5, IN(x, IVEC(9), IVEC(INT64_MAX), zero, IVEC(-1)));
	ASSERT(is(y, 1, D(0), NULL));
	/* positive steps clamp to [0, 10] */
	y = run_op(IR_OP_Slice, 13, NULL, 5, IN(x, IVEC(-100), IVEC(INT64_MAX), zero, IVEC(4)));
	ASSERT(is(y, 1, D(3), V(0, 4, 8)));
	y = run_op(IR_OP_Slice, 13, NULL, 5, IN(x, IVEC(7), IVEC(3), zero, IVEC(1)));
	ASSERT(is(y, 1, D(0), NULL));
	/* axes and steps omitted */
	y = run_op(IR_OP_Slice, 13, NULL, 3, IN(x, IVEC(-3), IVEC(-1)));
	ASSERT(is(y, 1, D(2), V(7, 8)));
	ASSERT(!run_op(IR_OP_Slice, 13, NULL, 5, IN(x, IVEC(0), IVEC(1), zero, IVEC(0))));
	ASSERT_STR_CONTAINS(G->err, "step for axis 0 is 0");
	ASSERT(!run_op(IR_OP_Slice, 13, NULL, 4, IN(x, IVEC(0, 0), IVEC(1, 1), IVEC(0, -1))));
	ASSERT_STR_CONTAINS(G->err, "axis -1 is repeated");
}

static void test_slice_2d_and_opset9(void)
{
	fresh();
	/* rows 2..0 step -2, columns 1..2; axes unsorted and negative */
	ir_tensor *y = run_op(IR_OP_Slice, 13, NULL, 5,
			      IN(iota(IR_F64, 2, D(3, 4)), IVEC(1, 2), IVEC(3, -4), IVEC(-1, 0), IVEC(1, -2)));
	ASSERT(is(y, 2, D(2, 2), V(9, 10, 1, 2)));
	/* opset 9: attributes, no steps */
	ir_node *n = ot_node(G, IR_OP_Slice, 9, 1, 1);
	n->opset = 9;
	ot_ints(G, n, "starts", 1, D(1));
	ot_ints(G, n, "ends", 1, D(1000));
	ot_ints(G, n, "axes", 1, D(1));
	ASSERT(ot_run(G, n, IN(iota(IR_U8, 2, D(3, 4))), &y) == 0);
	ASSERT(is(y, 2, D(3, 3), V(1, 2, 3, 5, 6, 7, 9, 10, 11)));
	ASSERT(!run_op(IR_OP_Slice, 9, "starts=1,2", 1, IN(iota(IR_U8, 2, D(3, 4)))));
	ASSERT_STR_CONTAINS(G->err, "'starts' and 'ends' are required before opset 10");
}

static void test_squeeze_unsqueeze(void)
{
	fresh();
	ir_tensor *x = iota(IR_F32, 4, D(1, 3, 1, 5));
	ASSERT(is(run_op(IR_OP_Squeeze, 13, NULL, 2, IN(x, IVEC(-2))), 3, D(1, 3, 5), NULL));
	/* no axes: every 1 goes */
	ASSERT(is(run_op(IR_OP_Squeeze, 13, NULL, 1, IN(x)), 2, D(3, 5), NULL));
	ASSERT(!run_op(IR_OP_Squeeze, 13, NULL, 2, IN(x, IVEC(1))));
	ASSERT_STR_CONTAINS(G->err, "cannot squeeze axis 1 of shape [1,3,1,5]: its size is 3, not 1");
	/* opset 11: an attribute, and the input form is refused */
	ASSERT(is(run_op(IR_OP_Squeeze, 11, "axes=0,2", 1, IN(x)), 2, D(3, 5), NULL));
	ASSERT(!run_op(IR_OP_Squeeze, 11, NULL, 2, IN(x, IVEC(0))));
	ASSERT_STR_CONTAINS(G->err, "axes is an attribute before opset 13");

	x = iota(IR_F32, 3, D(3, 4, 5));
	ir_tensor *y = run_op(IR_OP_Unsqueeze, 13, NULL, 2, IN(x, IVEC(5, 4, 2)));
	ASSERT(is(y, 6, D(3, 4, 1, 5, 1, 1), NULL) && ir_tensor_get_f64(y, 59) == 59);
	ASSERT(is(run_op(IR_OP_Unsqueeze, 11, "axes=-1,0", 1, IN(x)), 5, D(1, 3, 4, 5, 1), NULL));
	ASSERT(!run_op(IR_OP_Unsqueeze, 13, NULL, 2, IN(x, IVEC(1, -4))));
	ASSERT_STR_CONTAINS(G->err, "axis -4 is repeated");
	ASSERT(!run_op(IR_OP_Unsqueeze, 13, NULL, 1, IN(x)));
	ASSERT_STR_CONTAINS(G->err, "the axes input is required");
}

static void test_transpose_flatten(void)
{
	fresh();
	ir_tensor *x = iota(IR_I16, 3, D(2, 3, 4)), *y;
	/* default: y[i][j][k] = x[k][j][i] = 12 k + 4 j + i */
	y = run_op(IR_OP_Transpose, 13, NULL, 1, IN(x));
	ASSERT(is(y, 3, D(4, 3, 2), V(0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22,
				      3, 15, 7, 19, 11, 23)));
	y = run_op(IR_OP_Transpose, 13, "perm=1,2,0", 1, IN(x));
	ASSERT(is(y, 3, D(3, 4, 2), V(0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20,
				      9, 21, 10, 22, 11, 23)));
	ASSERT(!run_op(IR_OP_Transpose, 13, "perm=0,2,2", 1, IN(x)));
	ASSERT_STR_CONTAINS(G->err, "perm is not a permutation of 0..2");
	ASSERT(!run_op(IR_OP_Transpose, 13, "perm=1,0", 1, IN(x)));
	ASSERT_STR_CONTAINS(G->err, "perm has 2 entries but the input has rank 3");

	ASSERT(is(run_op(IR_OP_Flatten, 13, "axis=0", 1, IN(x)), 2, D(1, 24), NULL));
	ASSERT(is(run_op(IR_OP_Flatten, 13, "axis=3", 1, IN(x)), 2, D(24, 1), NULL));
	ASSERT(is(run_op(IR_OP_Flatten, 13, "axis=-1", 1, IN(x)), 2, D(6, 4), NULL));
	ASSERT(is(run_op(IR_OP_Flatten, 13, NULL, 1, IN(x)), 2, D(2, 12), NULL));
	ASSERT(!run_op(IR_OP_Flatten, 13, "axis=4", 1, IN(x)));
	ASSERT_STR_CONTAINS(G->err, "axis 4 is out of range [-3, 3]");
}

static void test_concat(void)
{
	fresh();
	ir_tensor *a = iota(IR_I8, 2, D(2, 1)), *b = iota(IR_I8, 2, D(2, 0));
	ir_tensor *c = ot_tensor(G, IR_I8, 2, D(2, 2), V(7, 8, 9, 10));
	ir_tensor *y = run_op(IR_OP_Concat, 13, "axis=-1", 3, IN(a, b, c));
	ASSERT(is(y, 2, D(2, 3), V(0, 7, 8, 1, 9, 10)) && y->dtype == IR_I8);
	ASSERT(!run_op(IR_OP_Concat, 13, "axis=0", 3, IN(a, b, c)));
	ASSERT_STR_CONTAINS(G->err, "input 1 has shape [2,0], which does not match [2,1] outside axis 0");
	ASSERT(!run_op(IR_OP_Concat, 13, NULL, 3, IN(a, b, c)));
	ASSERT_STR_CONTAINS(G->err, "the attribute 'axis' is required");
	ASSERT(!run_op(IR_OP_Concat, 13, "axis=0", 2, IN(a, iota(IR_U8, 2, D(2, 1)))));
	ASSERT_STR_CONTAINS(G->err, "input 1 is u8 but input 0 is i8");
}

static void test_gather(void)
{
	fresh();
	ir_tensor *x = iota(IR_I64, 2, D(2, 3));
	ir_tensor *idx = ot_tensor(G, IR_I32, 2, D(2, 2), V(0, -1, 2, 1));
	ASSERT(is(run_op(IR_OP_Gather, 13, "axis=1", 2, IN(x, idx)), 3, D(2, 2, 2), V(0, 2, 2, 1, 3, 5, 5, 4)));
	/* a scalar index drops the axis */
	ir_tensor *y = run_op(IR_OP_Gather, 13, NULL, 2, IN(x, ot_tensor(G, IR_I64, 0, NULL, V(-1))));
	ASSERT(is(y, 1, D(3), V(3, 4, 5)));
	ASSERT(!run_op(IR_OP_Gather, 13, NULL, 2, IN(x, ot_tensor(G, IR_I64, 0, NULL, V(2)))));
	ASSERT_STR_CONTAINS(G->err, "index 2 is out of range for axis 0 of size 2");
	ASSERT(!run_op(IR_OP_Gather, 13, NULL, 2, IN(x, ot_tensor(G, IR_F32, 0, NULL, V(0)))));
	ASSERT_STR_CONTAINS(G->err, "indices has unsupported dtype f32");
}

static void test_expand_tile(void)
{
	fresh();
	ir_tensor *b = ot_tensor(G, IR_BOOL, 2, D(3, 1), V(1, 0, 1)), *y;
	y = run_op(IR_OP_Expand, 13, NULL, 2, IN(b, IVEC(2, 1, 2)));
	ASSERT(is(y, 3, D(2, 3, 2), V(1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1)));
	ASSERT(!run_op(IR_OP_Expand, 13, NULL, 2, IN(b, IVEC(2, 2))));
	ASSERT_STR_CONTAINS(G->err, "cannot be broadcast");

	ir_tensor *x = iota(IR_U16, 2, D(2, 2));
	ASSERT(is(run_op(IR_OP_Tile, 13, NULL, 2, IN(x, IVEC(1, 2))), 2, D(2, 4), V(0, 1, 0, 1, 2, 3, 2, 3)));
	ASSERT(is(run_op(IR_OP_Tile, 13, NULL, 2, IN(x, IVEC(2, 1))), 2, D(4, 2), V(0, 1, 2, 3, 0, 1, 2, 3)));
	ASSERT(is(run_op(IR_OP_Tile, 13, NULL, 2, IN(x, IVEC(2, 0))), 2, D(4, 0), NULL));
	ASSERT(!run_op(IR_OP_Tile, 13, NULL, 2, IN(x, IVEC(2))));
	ASSERT_STR_CONTAINS(G->err, "repeats has 1 entries but the input has rank 2");
	ASSERT(!run_op(IR_OP_Tile, 13, NULL, 2, IN(x, IVEC(1, -1))));
	ASSERT_STR_CONTAINS(G->err, "repeat -1 for axis 1 is negative");
}

static void test_constants(void)
{
	fresh();
	ir_tensor *y = run_op(IR_OP_ConstantOfShape, 13, NULL, 1, IN(IVEC(2, 3)));
	ASSERT(is(y, 2, D(2, 3), V(0, 0, 0, 0, 0, 0)) && y->dtype == IR_F32);

	ir_node *n = ot_node(G, IR_OP_ConstantOfShape, 13, 1, 1);
	ir_attr a = {.name = "value", .kind = IR_ATTR_TENSOR, .t = ot_tensor(G, IR_I32, 1, D(1), V(7))};
	ir_attr_set(G, n, &a);
	ASSERT(ot_run(G, n, IN(IVEC(3)), &y) == 0);
	ASSERT(is(y, 1, D(3), V(7, 7, 7)) && y->dtype == IR_I32);
	ASSERT(is(run_op(IR_OP_ConstantOfShape, 13, NULL, 1, IN(ivec(0, NULL))), 0, NULL, V(0)));
	ASSERT(!run_op(IR_OP_ConstantOfShape, 13, NULL, 1, IN(IVEC(2, -1))));
	ASSERT_STR_CONTAINS(G->err, "the shape input has negative dim -1");

	y = run_op(IR_OP_Constant, 13, "value_ints=4,5,6", 0, NULL);
	ASSERT(is(y, 1, D(3), V(4, 5, 6)) && y->dtype == IR_I64);
	n = ot_node(G, IR_OP_Constant, 13, 0, 1);
	ot_float(G, n, "value_float", 2.5);
	ASSERT(ot_run(G, n, NULL, &y) == 0 && is(y, 0, NULL, V(2.5)) && y->dtype == IR_F32);
	n = ot_node(G, IR_OP_Constant, 13, 0, 1);
	a.t = ot_tensor(G, IR_F64, 2, D(1, 2), V(-1, 3));
	ir_attr_set(G, n, &a);
	ASSERT(ot_run(G, n, NULL, &y) == 0 && is(y, 2, D(1, 2), V(-1, 3)) && y->dtype == IR_F64);

	ASSERT(!run_op(IR_OP_Constant, 13, "value_string=hi", 0, NULL));
	ASSERT_STR_CONTAINS(G->err, "'value_string' is not supported");
	ASSERT(!run_op(IR_OP_Constant, 13, NULL, 0, NULL));
	ASSERT_STR_CONTAINS(G->err, "exactly one of the attributes");
	ASSERT(!run_op(IR_OP_Constant, 13, "value_int=1;value_ints=1,2", 0, NULL));
	ASSERT_STR_CONTAINS(G->err, "(found 2)");
}

static void test_shape_size(void)
{
	fresh();
	ir_tensor *x = iota(IR_F32, 4, D(2, 3, 4, 5)), *y;
	ASSERT(is(run_op(IR_OP_Shape, 13, NULL, 1, IN(x)), 1, D(4), V(2, 3, 4, 5)));
	ASSERT(is(run_op(IR_OP_Shape, 15, "start=-3;end=-1", 1, IN(x)), 1, D(2), V(3, 4)));
	ASSERT(is(run_op(IR_OP_Shape, 15, "start=10", 1, IN(x)), 1, D(0), NULL));
	y = run_op(IR_OP_Size, 13, NULL, 1, IN(x));
	ASSERT(is(y, 0, NULL, V(120)) && y->dtype == IR_I64);
}

TEST_MAIN({"reshape_zero_and_negative", test_reshape_zero_and_negative},
	  {"reshape_allowzero", test_reshape_allowzero},
	  {"reshape_errors", test_reshape_errors},
	  {"infer_without_data", test_infer_without_data},
	  {"slice_negative_steps_and_clamping", test_slice_negative_steps_and_clamping},
	  {"slice_2d_and_opset9", test_slice_2d_and_opset9},
	  {"squeeze_unsqueeze", test_squeeze_unsqueeze},
	  {"transpose_flatten", test_transpose_flatten},
	  {"concat", test_concat},
	  {"gather", test_gather},
	  {"expand_tile", test_expand_tile},
	  {"constants", test_constants},
	  {"shape_size", test_shape_size})
