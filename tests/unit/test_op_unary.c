/* test_op_unary.c - the 'unary' family (passes/op_unary.c): every op on
 * hand-computed values, attribute defaults, numerical stability, integer
 * edge cases, Clip in both opset forms, Dropout inference and refusal of
 * training mode, Cast across all dtype pairs with out-of-range values. */
#include "test.h"

#include <float.h>

#include "op_test.h"

/* Each test starts with ot_begin(), which frees the previous test's
 * graph; ops run through ot_eval on G. */

static int run1(ir_op op, ir_tensor *x, const ir_attr *attrs, int nattrs, ir_tensor **out)
{
	ir_tensor *in[1] = {x};
	return ot_eval(G, op, 0, 1, in, attrs, nattrs, 1, out);
}

static double at(const ir_tensor *t, int64_t i) { return ir_tensor_get_f64(t, i); }

/* ------------------------------------------------------------ float ops */

static void test_float_ops(void)
{
	ot_begin();
	const double xs[] = {-2, -0.5, 0, 0.5, 3};
	static const struct {
		ir_op op;
		double want[5];
	} cases[] = {
		{IR_OP_Relu, {0, 0, 0, 0.5, 3}},
		{IR_OP_LeakyRelu, {-0.02, -0.005, 0, 0.5, 3}},
		{IR_OP_Neg, {2, 0.5, 0, -0.5, -3}},
		{IR_OP_Abs, {2, 0.5, 0, 0.5, 3}},
		{IR_OP_Floor, {-2, -1, 0, 0, 3}},
		{IR_OP_Ceil, {-2, 0, 0, 1, 3}},
		{IR_OP_Sign, {-1, -1, 0, 1, 1}},
		{IR_OP_Identity, {-2, -0.5, 0, 0.5, 3}},
		{IR_OP_HardSigmoid, {0.1, 0.4, 0.5, 0.6, 1}},
		{IR_OP_Elu, {-0.8646647167633873, -0.3934693402873666, 0, 0.5, 3}},
		{IR_OP_Sigmoid, {0.11920292202211755, 0.3775406687981454, 0.5, 0.6224593312018546, 0.9525741268224334}},
		{IR_OP_Tanh, {-0.9640275800758169, -0.46211715726000974, 0, 0.46211715726000974, 0.9950547536867305}},
		{IR_OP_Exp, {0.1353352832366127, 0.6065306597126334, 1, 1.6487212707001282, 20.085536923187668}},
		{IR_OP_Erf, {-0.9953222650189527, -0.5204998778130465, 0, 0.5204998778130465, 0.9999779095030014}},
		{IR_OP_Softplus, {0.12692801104297263, 0.4740769841801067, 0.6931471805599453, 0.9740769841801067, 3.048587351573742}},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		for (int pass = 0; pass < 2; pass++) {
			ir_dtype t = pass ? IR_F64 : IR_F32;
			ir_tensor *o;
			ASSERT(run1(cases[k].op, T(t, 1, D(5), xs), NULL, 0, &o) == 0);
			ASSERT(o->dtype == t && o->rank == 1 && o->dims[0] == 5);
			for (int i = 0; i < 5; i++)
				ASSERT_NEAR(at(o, i), cases[k].want[i],
					    (t == IR_F32 ? 3e-7 : 2e-16) * fmax(1, fabs(cases[k].want[i])));
		}
	}
	/* positive-domain ops */
	ir_tensor *o;
	ASSERT(run1(IR_OP_Log, T(IR_F32, 1, D(3), V(1, 2.718281828459045, 0)), NULL, 0, &o) == 0);
	ASSERT_NEAR(at(o, 0), 0, 0);
	ASSERT_NEAR(at(o, 1), 1, 1e-7);
	ASSERT(isinf(at(o, 2)) && at(o, 2) < 0);
	ASSERT(run1(IR_OP_Sqrt, T(IR_F64, 1, D(3), V(4, 2, -1)), NULL, 0, &o) == 0);
	ASSERT_NEAR(at(o, 0), 2, 0);
	ASSERT_NEAR(at(o, 1), 1.4142135623730951, 1e-16);
	ASSERT(isnan(at(o, 2)));
	ASSERT(run1(IR_OP_Reciprocal, T(IR_F32, 1, D(3), V(4, -0.5, 0)), NULL, 0, &o) == 0);
	ASSERT_NEAR(at(o, 0), 0.25, 0);
	ASSERT_NEAR(at(o, 1), -2, 0);
	ASSERT(isinf(at(o, 2)));
}

static void test_attrs(void)
{
	ot_begin();
	ir_tensor *o;
	ir_tensor *x = T(IR_F32, 1, D(3), V(-2, 0, 2));
	ir_attr a = AF("alpha", 0.5);
	ASSERT(run1(IR_OP_LeakyRelu, x, &a, 1, &o) == 0);
	ASSERT_NEAR(at(o, 0), -1, 0);
	ASSERT_NEAR(at(o, 2), 2, 0);
	ASSERT(run1(IR_OP_Elu, x, &a, 1, &o) == 0);
	ASSERT_NEAR(at(o, 0), 0.5 * (exp(-2) - 1), 1e-7);
	ir_attr hs[2] = {AF("alpha", 1), AF("beta", 0.25)};
	ASSERT(run1(IR_OP_HardSigmoid, x, hs, 2, &o) == 0);
	ASSERT_NEAR(at(o, 0), 0, 0);
	ASSERT_NEAR(at(o, 1), 0.25, 0);
	ASSERT_NEAR(at(o, 2), 1, 0);
	/* wrong attribute kinds */
	ir_attr bad = AI("alpha", 1);
	ASSERT(run1(IR_OP_LeakyRelu, x, &bad, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "(LeakyRelu): attribute 'alpha' must be a float");
	ir_attr badb = AS("beta", "x");
	ASSERT(run1(IR_OP_HardSigmoid, x, &badb, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "'beta' must be a float");
}

static void test_stability_and_nan(void)
{
	ot_begin();
	ir_tensor *o;
	const double big[] = {-1000, -100, -30, 30, 100, 1000};
	for (int pass = 0; pass < 2; pass++) {
		ir_dtype t = pass ? IR_F64 : IR_F32;
		ASSERT(run1(IR_OP_Sigmoid, T(t, 1, D(6), big), NULL, 0, &o) == 0);
		for (int i = 0; i < 6; i++) {
			ASSERT(!isnan(at(o, i)) && at(o, i) >= 0 && at(o, i) <= 1);
			ASSERT_NEAR(at(o, i), big[i] > 0 ? 1 : 0, 1e-13);
		}
		ASSERT(at(o, 2) > 0); /* exp(-30) is representable in float */
		ASSERT(run1(IR_OP_Softplus, T(t, 1, D(6), big), NULL, 0, &o) == 0);
		for (int i = 0; i < 6; i++) {
			ASSERT(!isnan(at(o, i)) && !isinf(at(o, i)) && at(o, i) >= 0);
			ASSERT_NEAR(at(o, i), big[i] > 0 ? big[i] : 0, 1e-12);
		}
		ASSERT(at(o, 2) > 0);
		ASSERT(run1(IR_OP_Elu, T(t, 1, D(6), big), NULL, 0, &o) == 0);
		ASSERT_NEAR(at(o, 0), -1, 0);
		ASSERT(run1(IR_OP_Tanh, T(t, 1, D(6), big), NULL, 0, &o) == 0);
		ASSERT_NEAR(at(o, 0), -1, 0);
		ASSERT_NEAR(at(o, 5), 1, 0);
	}
	/* NaN goes through */
	const ir_op nanops[] = {IR_OP_Relu, IR_OP_LeakyRelu, IR_OP_Sigmoid, IR_OP_Softplus,
				IR_OP_HardSigmoid, IR_OP_Sign, IR_OP_Elu, IR_OP_Abs, IR_OP_Neg};
	for (size_t k = 0; k < sizeof nanops / sizeof nanops[0]; k++) {
		ASSERT(run1(nanops[k], T(IR_F32, 1, D(1), V(NAN)), NULL, 0, &o) == 0);
		ASSERT(isnan(at(o, 0)));
	}
}

/* --------------------------------------------------------- integer ops */

static void test_int_ops(void)
{
	ot_begin();
	ir_tensor *o;
	ASSERT(run1(IR_OP_Relu, TI(IR_I8, 1, D(3), VI(-128, 0, 127)), NULL, 0, &o) == 0);
	ASSERT(o->dtype == IR_I8 && ir_tensor_get_i64(o, 0) == 0 && ir_tensor_get_i64(o, 2) == 127);
	ASSERT(run1(IR_OP_Relu, TI(IR_I64, 1, D(2), VI(INT64_MIN, INT64_MAX)), NULL, 0, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == 0 && ir_tensor_get_i64(o, 1) == INT64_MAX);
	ASSERT(run1(IR_OP_Neg, TI(IR_I32, 1, D(3), VI(INT32_MIN, -5, 7)), NULL, 0, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == INT32_MIN); /* wraps */
	ASSERT(ir_tensor_get_i64(o, 1) == 5 && ir_tensor_get_i64(o, 2) == -7);
	ASSERT(run1(IR_OP_Abs, TI(IR_I64, 1, D(3), VI(INT64_MIN, -5, ((int64_t)1 << 60) + 1)), NULL, 0, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == INT64_MIN && ir_tensor_get_i64(o, 1) == 5);
	ASSERT(ir_tensor_get_i64(o, 2) == ((int64_t)1 << 60) + 1);
	ASSERT(run1(IR_OP_Abs, TI(IR_U8, 1, D(2), VI(200, 0)), NULL, 0, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == 200);
	ASSERT(run1(IR_OP_Sign, TI(IR_I16, 1, D(3), VI(-300, 0, 300)), NULL, 0, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == -1 && ir_tensor_get_i64(o, 1) == 0 && ir_tensor_get_i64(o, 2) == 1);
	ASSERT(run1(IR_OP_Sign, TI(IR_U32, 1, D(2), VI(0, 9)), NULL, 0, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == 0 && ir_tensor_get_i64(o, 1) == 1);
	ASSERT(run1(IR_OP_Erf, TI(IR_I32, 1, D(4), VI(-10, -1, 1, 10)), NULL, 0, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == -1 && ir_tensor_get_i64(o, 1) == 0);
	ASSERT(ir_tensor_get_i64(o, 2) == 0 && ir_tensor_get_i64(o, 3) == 1);
	ASSERT(run1(IR_OP_Not, TI(IR_BOOL, 1, D(2), VI(0, 1)), NULL, 0, &o) == 0);
	ASSERT(o->dtype == IR_BOOL && ir_tensor_get_i64(o, 0) == 1 && ir_tensor_get_i64(o, 1) == 0);
	/* dtypes the spec does not allow */
	ASSERT(run1(IR_OP_Not, T(IR_F32, 1, D(1), V(1)), NULL, 0, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "(Not): input has unsupported dtype f32");
	ASSERT(run1(IR_OP_Sigmoid, TI(IR_I32, 1, D(1), VI(1)), NULL, 0, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "unsupported dtype i32");
	ASSERT(run1(IR_OP_Neg, TI(IR_U8, 1, D(1), VI(1)), NULL, 0, &o) == -1);
	ASSERT(run1(IR_OP_Relu, TI(IR_BOOL, 1, D(1), VI(1)), NULL, 0, &o) == -1);
}

static void test_identity_all_dtypes(void)
{
	ot_begin();
	const ir_dtype all[] = {IR_F32, IR_F64, IR_I8, IR_I16, IR_I32, IR_I64,
				IR_U8, IR_U16, IR_U32, IR_U64, IR_BOOL};
	for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
		ir_tensor *o, *x = TI(all[k], 2, D(2, 2), VI(1, 0, 1, 1));
		ASSERT(run1(IR_OP_Identity, x, NULL, 0, &o) == 0);
		ASSERT(o->dtype == all[k] && o->rank == 2 && o->dims[1] == 2);
		ASSERT(!memcmp(o->data, x->data, 4 * ir_dtype_size(all[k])));
	}
	/* a scalar and an empty tensor */
	ir_tensor *o;
	ASSERT(run1(IR_OP_Identity, T(IR_F32, 0, NULL, V(5)), NULL, 0, &o) == 0);
	ASSERT(o->rank == 0 && at(o, 0) == 5);
	ASSERT(run1(IR_OP_Relu, T(IR_F32, 2, D(0, 4), V(0)), NULL, 0, &o) == 0);
	ASSERT(o->numel == 0 && o->dims[1] == 4);
}

/* ---------------------------------------------------------------- Clip */

static void test_clip(void)
{
	ot_begin();
	ir_tensor *o, *x = T(IR_F32, 1, D(5), V(-3, -1, 0, 1, 3));
	ir_tensor *lo = T(IR_F32, 0, NULL, V(-1.5)), *hi = T(IR_F32, 0, NULL, V(2));
	ir_tensor *in[3] = {x, lo, hi};
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 3, in, NULL, 0, 1, &o) == 0);
	const double w[] = {-1.5, -1, 0, 1, 2};
	for (int i = 0; i < 5; i++)
		ASSERT_NEAR(at(o, i), w[i], 0);
	/* max only (min omitted: NULL entry) */
	in[1] = NULL;
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 3, in, NULL, 0, 1, &o) == 0);
	ASSERT_NEAR(at(o, 0), -3, 0);
	ASSERT_NEAR(at(o, 4), 2, 0);
	/* min only */
	in[1] = lo;
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 2, in, NULL, 0, 1, &o) == 0);
	ASSERT_NEAR(at(o, 0), -1.5, 0);
	ASSERT_NEAR(at(o, 4), 3, 0);
	/* no bounds */
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 1, in, NULL, 0, 1, &o) == 0);
	ASSERT_NEAR(at(o, 0), -3, 0);
	/* min > max: max everywhere */
	in[1] = T(IR_F32, 0, NULL, V(2));
	in[2] = T(IR_F32, 0, NULL, V(-1));
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 3, in, NULL, 0, 1, &o) == 0);
	for (int i = 0; i < 5; i++)
		ASSERT_NEAR(at(o, i), -1, 0);
	/* NaN passes through */
	in[0] = T(IR_F32, 1, D(1), V(NAN));
	in[1] = lo;
	in[2] = hi;
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 3, in, NULL, 0, 1, &o) == 0);
	ASSERT(isnan(at(o, 0)));
	/* int8 with default (type limits) and given bounds */
	ir_tensor *xi = TI(IR_I8, 1, D(4), VI(-128, -5, 5, 127));
	ir_tensor *ii[3] = {xi, TI(IR_I8, 0, NULL, VI(-6)), NULL};
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 3, ii, NULL, 0, 1, &o) == 0);
	ASSERT(o->dtype == IR_I8);
	ASSERT(ir_tensor_get_i64(o, 0) == -6 && ir_tensor_get_i64(o, 1) == -5 && ir_tensor_get_i64(o, 3) == 127);
	ii[1] = NULL;
	ii[2] = TI(IR_I8, 1, D(1), VI(0)); /* shape [1] is accepted as a scalar */
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 3, ii, NULL, 0, 1, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == -128 && ir_tensor_get_i64(o, 3) == 0);
	/* uint64 and int64 near the limits */
	ir_tensor *xu = ir_tensor_new(G->arena, IR_U64, 1, D(2));
	((uint64_t *)xu->data)[0] = UINT64_MAX;
	((uint64_t *)xu->data)[1] = 3;
	ir_tensor *uu[3] = {xu, TI(IR_U64, 0, NULL, VI(5)), NULL};
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 2, uu, NULL, 0, 1, &o) == 0);
	ASSERT(((uint64_t *)o->data)[0] == UINT64_MAX && ((uint64_t *)o->data)[1] == 5);
	/* opset 6: attributes, defaults are no bound */
	ir_attr at6[2] = {AF("min", -1), AF("max", 1)};
	ir_tensor *x6[1] = {x};
	ASSERT(ot_eval(G, IR_OP_Clip, 6, 1, x6, at6, 2, 1, &o) == 0);
	ASSERT_NEAR(at(o, 0), -1, 0);
	ASSERT_NEAR(at(o, 4), 1, 0);
	ASSERT(ot_eval(G, IR_OP_Clip, 6, 1, x6, &at6[1], 1, 1, &o) == 0);
	ASSERT_NEAR(at(o, 0), -3, 0);
	ASSERT_NEAR(at(o, 4), 1, 0);
	/* errors */
	ii[0] = x;
	ii[1] = TI(IR_I8, 0, NULL, VI(0));
	ii[2] = NULL;
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 2, ii, NULL, 0, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "bound 'min' has dtype i8 but the input has f32");
	ii[1] = T(IR_F32, 1, D(2), V(0, 1));
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 2, ii, NULL, 0, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "bound 'min' must be a scalar, got shape [2]");
	ASSERT(ot_eval(G, IR_OP_Clip, 13, 1, x6, at6, 2, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "replaced by inputs in opset 11");
	ir_attr badk = AI("min", 0);
	ASSERT(ot_eval(G, IR_OP_Clip, 6, 1, x6, &badk, 1, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "'min' must be a float");
}

/* ------------------------------------------------------------- Dropout */

static void test_dropout(void)
{
	ot_begin();
	ir_tensor *o[2], *x = T(IR_F32, 2, D(2, 2), V(1, -2, 3, -4));
	ir_tensor *in[3] = {x, T(IR_F32, 0, NULL, V(0.3)), NULL};
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 2, in, NULL, 0, 2, o) == 0);
	ASSERT(!memcmp(o[0]->data, x->data, 16));
	ASSERT(o[1]->dtype == IR_BOOL && o[1]->numel == 4);
	for (int i = 0; i < 4; i++)
		ASSERT(((uint8_t *)o[1]->data)[i] == 1);
	/* training_mode = false given explicitly */
	in[2] = TI(IR_BOOL, 0, NULL, VI(0));
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 3, in, NULL, 0, 1, o) == 0);
	ASSERT(at(o[0], 3) == -4);
	/* training mode is refused ... */
	in[2] = TI(IR_BOOL, 0, NULL, VI(1));
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 3, in, NULL, 0, 2, o) == -1);
	ASSERT_STR_CONTAINS(G->err, "(Dropout): training_mode=1 is not supported: dropout is random");
	in[1] = NULL; /* default ratio 0.5 */
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 3, in, NULL, 0, 1, o) == -1);
	ir_attr tm = AI("training_mode", 1);
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 1, in, &tm, 1, 1, o) == -1);
	ASSERT_STR_CONTAINS(G->err, "training_mode=1 is not supported");
	/* ... unless the ratio is 0, which is deterministic */
	in[1] = T(IR_F32, 0, NULL, V(0));
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 3, in, NULL, 0, 2, o) == 0);
	ASSERT(at(o[0], 0) == 1 && ir_tensor_get_i64(o[1], 0) == 1);
	/* opset 7: ratio attribute, mask of the input's type */
	ir_attr r7 = AF("ratio", 0.2);
	ASSERT(ot_eval(G, IR_OP_Dropout, 7, 1, in, &r7, 1, 2, o) == 0);
	ASSERT(o[1]->dtype == IR_F32 && at(o[1], 2) == 1);
	ASSERT(ot_eval(G, IR_OP_Dropout, 10, 1, in, &r7, 1, 2, o) == 0);
	ASSERT(o[1]->dtype == IR_BOOL);
	/* old is_test attribute is accepted */
	ir_attr it = AI("is_test", 1);
	ASSERT(ot_eval(G, IR_OP_Dropout, 6, 1, in, &it, 1, 1, o) == 0);
	/* f64 data; integer data is not allowed */
	in[0] = T(IR_F64, 1, D(2), V(1, 2));
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 1, in, NULL, 0, 1, o) == 0);
	ASSERT(at(o[0], 1) == 2);
	in[0] = TI(IR_I32, 1, D(2), VI(1, 2));
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 1, in, NULL, 0, 1, o) == -1);
	in[0] = x;
	in[1] = TI(IR_I32, 0, NULL, VI(0));
	ASSERT(ot_eval(G, IR_OP_Dropout, 13, 2, in, NULL, 0, 1, o) == -1);
	ASSERT_STR_CONTAINS(G->err, "ratio has unsupported dtype i32");
}

/* ---------------------------------------------------------------- Cast */

static int cast(ir_tensor *x, ir_dtype to, ir_tensor **o)
{
	ir_attr a = AI("to", to);
	return run1(IR_OP_Cast, x, &a, 1, o);
}

static void test_cast_values(void)
{
	ot_begin();
	ir_tensor *o;
	/* float -> int: truncation toward zero, saturation, NaN -> 0 */
	ir_tensor *f = T(IR_F32, 1, D(8), V(2.7, -2.7, 1e10, -1e10, NAN, INFINITY, -INFINITY, -0.5));
	ASSERT(cast(f, IR_I32, &o) == 0);
	ASSERT(o->dtype == IR_I32);
	const int64_t w32[] = {2, -2, INT32_MAX, INT32_MIN, 0, INT32_MAX, INT32_MIN, 0};
	for (int i = 0; i < 8; i++)
		ASSERT(ir_tensor_get_i64(o, i) == w32[i]);
	ASSERT(cast(f, IR_U8, &o) == 0);
	const int64_t w8[] = {2, 0, 255, 0, 0, 255, 0, 0};
	for (int i = 0; i < 8; i++)
		ASSERT(ir_tensor_get_i64(o, i) == w8[i]);
	ASSERT(cast(f, IR_I64, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 2) == 10000000000LL && ir_tensor_get_i64(o, 5) == INT64_MAX);
	ASSERT(cast(T(IR_F64, 1, D(3), V(9.3e18, 1.9e19, -1)), IR_U64, &o) == 0);
	ASSERT(((uint64_t *)o->data)[0] == 9300000000000000000ull);
	ASSERT(((uint64_t *)o->data)[1] == UINT64_MAX && ((uint64_t *)o->data)[2] == 0);
	ASSERT(cast(T(IR_F64, 1, D(2), V(9.3e18, -9.3e18)), IR_I64, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == INT64_MAX && ir_tensor_get_i64(o, 1) == INT64_MIN);
	/* int -> int wraps */
	ASSERT(cast(TI(IR_I64, 1, D(3), VI(300, -1, ((int64_t)1 << 40) + 7)), IR_I8, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == 44 && ir_tensor_get_i64(o, 1) == -1 && ir_tensor_get_i64(o, 2) == 7);
	ASSERT(cast(TI(IR_I8, 1, D(1), VI(-1)), IR_U64, &o) == 0);
	ASSERT(((uint64_t *)o->data)[0] == UINT64_MAX);
	ASSERT(cast(TI(IR_I16, 1, D(1), VI(-1)), IR_U16, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == 65535);
	/* int64 -> f32/f64 rounds; exact int64 survives to int64 via no float */
	ASSERT(cast(TI(IR_I64, 1, D(1), VI(((int64_t)1 << 53) + 1)), IR_F64, &o) == 0);
	ASSERT(at(o, 0) == 9007199254740992.0);
	/* to bool: x != 0, NaN is true, -0 false */
	ASSERT(cast(T(IR_F32, 1, D(4), V(0, -0.0, NAN, 0.1)), IR_BOOL, &o) == 0);
	ASSERT(o->dtype == IR_BOOL);
	ASSERT(ir_tensor_get_i64(o, 0) == 0 && ir_tensor_get_i64(o, 1) == 0);
	ASSERT(ir_tensor_get_i64(o, 2) == 1 && ir_tensor_get_i64(o, 3) == 1);
	ASSERT(cast(TI(IR_I32, 1, D(3), VI(0, 256, -1)), IR_BOOL, &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == 0 && ir_tensor_get_i64(o, 1) == 1 && ir_tensor_get_i64(o, 2) == 1);
	/* bool -> float */
	ASSERT(cast(TI(IR_BOOL, 1, D(2), VI(1, 0)), IR_F32, &o) == 0);
	ASSERT(at(o, 0) == 1 && at(o, 1) == 0);
	/* double -> float overflows to inf */
	ASSERT(cast(T(IR_F64, 1, D(2), V(1e300, 0.1)), IR_F32, &o) == 0);
	ASSERT(isinf(at(o, 0)) && at(o, 1) == (double)0.1f);
	/* uint64 max -> float */
	ir_tensor *u = ir_tensor_new(G->arena, IR_U64, 0, NULL);
	((uint64_t *)u->data)[0] = UINT64_MAX;
	ASSERT(cast(u, IR_F64, &o) == 0);
	ASSERT(at(o, 0) == 18446744073709551616.0);
	/* old string form of 'to' */
	ir_attr s = AS("to", "DOUBLE");
	ASSERT(run1(IR_OP_Cast, TI(IR_I32, 1, D(1), VI(3)), &s, 1, &o) == 0);
	ASSERT(o->dtype == IR_F64 && at(o, 0) == 3);
}

/* Every pair of the 11 dtypes on values every type holds. */
static void test_cast_all_pairs(void)
{
	ot_begin();
	const ir_dtype all[] = {IR_F32, IR_F64, IR_I8, IR_I16, IR_I32, IR_I64,
				IR_U8, IR_U16, IR_U32, IR_U64, IR_BOOL};
	const int nt = (int)(sizeof all / sizeof all[0]);
	for (int i = 0; i < nt; i++)
		for (int j = 0; j < nt; j++) {
			ir_tensor *o, *x = TI(all[i], 1, D(3), VI(0, 1, 100));
			ASSERT(cast(x, all[j], &o) == 0);
			ASSERT(o->dtype == all[j] && o->numel == 3);
			int tb = all[j] == IR_BOOL, fb = all[i] == IR_BOOL;
			ASSERT(ir_tensor_get_i64(o, 0) == 0);
			ASSERT(ir_tensor_get_i64(o, 1) == 1);
			ASSERT(ir_tensor_get_i64(o, 2) == (tb || fb ? 1 : 100));
			/* CastLike to a tensor of that dtype */
			ir_tensor *in[2] = {x, TI(all[j], 1, D(1), VI(0))};
			ASSERT(ot_eval(G, IR_OP_CastLike, 0, 2, in, NULL, 0, 1, &o) == 0);
			ASSERT(o->dtype == all[j] && ir_tensor_get_i64(o, 2) == (tb || fb ? 1 : 100));
		}
}

static void test_cast_errors(void)
{
	ot_begin();
	ir_tensor *o, *x = T(IR_F32, 1, D(1), V(1));
	ASSERT(cast(x, 10, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "(Cast): Cast to FLOAT16 (10) is not supported");
	ASSERT(cast(x, 8, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "STRING");
	ASSERT(cast(x, 16, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "BFLOAT16");
	ASSERT(cast(x, 99, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "'to' = 99 is not a valid ONNX data type");
	ASSERT(cast(x, 0, &o) == -1);
	ASSERT(run1(IR_OP_Cast, x, NULL, 0, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "attribute 'to' is required");
	ir_attr fl = AF("to", 1);
	ASSERT(run1(IR_OP_Cast, x, &fl, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "'to' must be an int");
	ir_attr s = AS("to", "NOPE");
	ASSERT(run1(IR_OP_Cast, x, &s, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "unknown type 'NOPE'");
}

/* ---------------------------------------------------------- inference */

static void test_infer_shapes(void)
{
	ot_begin();
	ir_value *x = ir_value_new(G, "x"), *y = ir_value_new(G, "y"), *m = ir_value_new(G, "m");
	x->dtype = IR_F32;
	x->shape.rank = 3;
	x->shape.d[0] = (ir_dim){-1, "N"};
	x->shape.d[1] = (ir_dim){-1, NULL};
	x->shape.d[2] = (ir_dim){4, NULL};
	ir_value *in[1] = {x}, *out[2] = {y, m};
	ir_node *n = ir_node_new(G, IR_OP_Dropout, "d", 1, in, 2, out);
	ASSERT(unary_check(G, n) == 0);
	ASSERT(unary_infer(G, n, n->in, n->out) == 0);
	ASSERT(y->dtype == IR_F32 && m->dtype == IR_BOOL);
	ASSERT(ir_shape_equal(&y->shape, &x->shape) || (y->shape.rank == 3 && y->shape.d[2].v == 4));
	ASSERT(y->shape.d[0].sym && !strcmp(y->shape.d[0].sym, "N") && y->shape.d[1].v < 0);
	ASSERT(m->shape.rank == 3 && m->shape.d[2].v == 4);
	/* Cast gives the 'to' dtype with the same (partly unknown) shape */
	ir_value *c = ir_value_new(G, "c");
	ir_value *cout[1] = {c};
	ir_node *k = ir_node_new(G, IR_OP_Cast, "c", 1, in, 1, cout);
	ir_attr to = AI("to", IR_I64);
	ir_attr_set(G, k, &to);
	ASSERT(unary_check(G, k) == 0);
	ASSERT(unary_infer(G, k, k->in, k->out) == 0);
	ASSERT(c->dtype == IR_I64 && c->shape.rank == 3 && c->shape.d[1].v < 0);
	/* unknown rank propagates */
	x->shape.rank = -1;
	ASSERT(unary_infer(G, k, k->in, k->out) == 0);
	ASSERT(c->shape.rank == -1);
	/* arity */
	ir_value *two[2] = {x, x};
	ir_node *bad = ir_node_new(G, IR_OP_Relu, "r", 2, two, 1, cout);
	ASSERT(unary_check(G, bad) == -1);
	ASSERT_STR_CONTAINS(G->err, "inputs");
}

TEST_MAIN({"float_ops", test_float_ops},
	  {"attrs", test_attrs},
	  {"stability_and_nan", test_stability_and_nan},
	  {"int_ops", test_int_ops},
	  {"identity_all_dtypes", test_identity_all_dtypes},
	  {"clip", test_clip},
	  {"dropout", test_dropout},
	  {"cast_values", test_cast_values},
	  {"cast_all_pairs", test_cast_all_pairs},
	  {"cast_errors", test_cast_errors},
	  {"infer_shapes", test_infer_shapes},
	  {"cleanup", ot_end})
