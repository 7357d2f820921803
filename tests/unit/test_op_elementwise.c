/* test_op_elementwise.c - the 'elementwise' family (passes/op_elementwise.c):
 * hand-computed cases for every op, broadcasting (scalar, row, column, rank
 * mismatch, random shapes up to IR_MAX_RANK against a naive oracle), every
 * integer dtype, integer edge cases, NaN, dtype errors and shape inference. */
#include "test.h"
#include "op_test.h"

/* Each test starts with ot_begin(), which frees the previous test's
 * graph. op(in...) with attributes, checked, inferred and run as the
 * interpreter would; *out gets the output (arena-owned). Returns 0 or -1
 * (the message is in G->err). */
static int eval_attrs(ir_op op, int nin, ir_tensor **in, const ir_attr *attrs, int nattrs,
		      ir_tensor **out)
{
	return ot_eval(G, op, 0, nin, in, attrs, nattrs, 1, out);
}

static int eval(ir_op op, int nin, ir_tensor **in, ir_tensor **out)
{
	return eval_attrs(op, nin, in, NULL, 0, out);
}

static int eval2(ir_op op, ir_tensor *a, ir_tensor *b, ir_tensor **out)
{
	ir_tensor *in[2] = {a, b};
	return eval(op, 2, in, out);
}

static int same_dims(const ir_tensor *t, int rank, const int64_t *dims)
{
	if (t->rank != rank)
		return 0;
	for (int i = 0; i < rank; i++)
		if (t->dims[i] != dims[i])
			return 0;
	return 1;
}

/* ------------------------------------------------------ hand computed */

static void test_add_sub_mul_div_f32(void)
{
	ot_begin();
	ir_tensor *a = T(IR_F32, 2, D(2, 3), V(1, 2, 3, 4, 5, 6));
	ir_tensor *b = T(IR_F32, 2, D(2, 3), V(0.5, -1, 2, 8, 0.25, -3));
	ir_tensor *o;
	ASSERT(eval2(IR_OP_Add, a, b, &o) == 0);
	ASSERT(o->dtype == IR_F32 && same_dims(o, 2, D(2, 3)));
	const double add[] = {1.5, 1, 5, 12, 5.25, 3};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), add[i], 0);
	ASSERT(eval2(IR_OP_Sub, a, b, &o) == 0);
	const double sub[] = {0.5, 3, 1, -4, 4.75, 9};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), sub[i], 0);
	ASSERT(eval2(IR_OP_Mul, a, b, &o) == 0);
	const double mul[] = {0.5, -2, 6, 32, 1.25, -18};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), mul[i], 0);
	ASSERT(eval2(IR_OP_Div, a, b, &o) == 0);
	const double dv[] = {2, -2, 1.5, 0.5, 20, -2};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), dv[i], 0);
	/* float division by zero is IEEE, not an error */
	ASSERT(eval2(IR_OP_Div, T(IR_F32, 1, D(2), V(1, -1)), T(IR_F32, 0, NULL, V(0)), &o) == 0);
	ASSERT(isinf(ir_tensor_get_f64(o, 0)) && ir_tensor_get_f64(o, 0) > 0);
	ASSERT(isinf(ir_tensor_get_f64(o, 1)) && ir_tensor_get_f64(o, 1) < 0);
}

static void test_f64(void)
{
	ot_begin();
	ir_tensor *o;
	ASSERT(eval2(IR_OP_Sub, T(IR_F64, 1, D(2), V(1e300, 0.1)), T(IR_F64, 1, D(2), V(1e299, 0.3)), &o) == 0);
	ASSERT(o->dtype == IR_F64);
	ASSERT_NEAR(((double *)o->data)[0], 9e299, 1e285);
	ASSERT_NEAR(((double *)o->data)[1], 0.1 - 0.3, 0);
}

/* ------------------------------------------------------- broadcasting */

static void test_broadcast_scalar_row_column(void)
{
	ot_begin();
	ir_tensor *m = T(IR_F32, 2, D(2, 3), V(1, 2, 3, 4, 5, 6)), *o;
	/* scalar (rank 0) on either side */
	ASSERT(eval2(IR_OP_Sub, m, T(IR_F32, 0, NULL, V(10)), &o) == 0);
	ASSERT(same_dims(o, 2, D(2, 3)));
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), i + 1 - 10, 0);
	ASSERT(eval2(IR_OP_Sub, T(IR_F32, 0, NULL, V(10)), m, &o) == 0);
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), 10 - (i + 1), 0);
	/* scalar of shape [1,1] */
	ASSERT(eval2(IR_OP_Mul, m, T(IR_F32, 2, D(1, 1), V(2)), &o) == 0);
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), 2 * (i + 1), 0);
	/* row [3] */
	ASSERT(eval2(IR_OP_Add, m, T(IR_F32, 1, D(3), V(10, 20, 30)), &o) == 0);
	const double row[] = {11, 22, 33, 14, 25, 36};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), row[i], 0);
	/* column [2,1] */
	ASSERT(eval2(IR_OP_Add, T(IR_F32, 2, D(2, 1), V(100, 200)), m, &o) == 0);
	const double col[] = {101, 102, 103, 204, 205, 206};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), col[i], 0);
	/* both sides broadcast: [2,1] x [1,3] -> outer product */
	ASSERT(eval2(IR_OP_Mul, T(IR_F32, 2, D(2, 1), V(1, 2)), T(IR_F32, 2, D(1, 3), V(3, 4, 5)), &o) == 0);
	ASSERT(same_dims(o, 2, D(2, 3)));
	const double outer[] = {3, 4, 5, 6, 8, 10};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), outer[i], 0);
	/* rank mismatch: [2,1,3] + [4,1] -> [2,4,3] */
	ASSERT(eval2(IR_OP_Add, T(IR_F32, 3, D(2, 1, 3), V(0, 1, 2, 3, 4, 5)),
		     T(IR_F32, 2, D(4, 1), V(0, 10, 20, 30)), &o) == 0);
	ASSERT(same_dims(o, 3, D(2, 4, 3)));
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 4; j++)
			for (int k = 0; k < 3; k++)
				ASSERT_NEAR(ir_tensor_get_f64(o, (i * 4 + j) * 3 + k), i * 3 + k + 10 * j, 0);
	/* NCHW + per-channel bias [C,1,1] */
	double x[2 * 3 * 2 * 2];
	for (int i = 0; i < 24; i++)
		x[i] = i;
	ASSERT(eval2(IR_OP_Add, T(IR_F32, 4, D(2, 3, 2, 2), x), T(IR_F32, 3, D(3, 1, 1), V(100, 200, 300)), &o) == 0);
	for (int i = 0; i < 24; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), i + 100 * (1 + (i / 4) % 3), 0);
	/* empty */
	ASSERT(eval2(IR_OP_Add, T(IR_F32, 2, D(0, 3), V(0)), T(IR_F32, 1, D(3), V(1, 2, 3)), &o) == 0);
	ASSERT(same_dims(o, 2, D(0, 3)) && o->numel == 0);
	/* incompatible */
	ASSERT(eval2(IR_OP_Add, m, T(IR_F32, 1, D(2), V(1, 2)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "cannot be broadcast");
	ASSERT_STR_CONTAINS(G->err, "(Add)");
}

/* Deterministic xorshift for the random-shape tests. */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Naive broadcast index: element of t for output multi-index idx. */
static int64_t naive_index(const ir_tensor *t, int rank, const int64_t *idx)
{
	int64_t k = 0;
	int off = rank - t->rank;
	for (int d = 0; d < t->rank; d++)
		k = k * t->dims[d] + (t->dims[d] == 1 ? 0 : idx[d + off]);
	return k;
}

/* Random shapes of rank up to IR_MAX_RANK with random size-1 dims and
 * random rank drops, for Sub (f32 and i64) and Where, against the oracle. */
static void test_broadcast_random(void)
{
	for (int iter = 0; iter < 300; iter++) {
		ot_begin();
		int rank = 1 + (int)(rnd() % IR_MAX_RANK);
		int64_t od[IR_MAX_RANK];
		int64_t total = 1;
		for (int d = 0; d < rank; d++) {
			od[d] = 1 + (int64_t)(rnd() % (rank > 5 ? 2 : 4)) + (rnd() % 3 == 0);
			total *= od[d];
		}
		ir_tensor *in[3];
		ir_dtype dts[3] = {IR_BOOL, iter % 2 ? IR_F32 : IR_I64, iter % 2 ? IR_F32 : IR_I64};
		for (int i = 0; i < 3; i++) {
			int r = rank - (int)(rnd() % (rank + 1));
			int64_t dd[IR_MAX_RANK];
			for (int d = 0; d < r; d++)
				dd[d] = rnd() % 3 == 0 ? 1 : od[rank - r + d];
			ir_tensor *t = ir_tensor_new(G->arena, dts[i], r, dd);
			for (int64_t e = 0; e < t->numel; e++)
				ir_tensor_set_i64(t, e, i == 0 ? (int64_t)(rnd() & 1) : (int64_t)(rnd() % 1000) - 500);
			in[i] = t;
		}
		ir_tensor *o, *w;
		ASSERT(eval2(IR_OP_Sub, in[1], in[2], &o) == 0);
		ASSERT(eval(IR_OP_Where, 3, in, &w) == 0);
		/* The output shape is the broadcast of the three only where
		 * some operand has the full dim; compare on the Sub output. */
		int64_t idx[IR_MAX_RANK] = {0};
		for (int64_t e = 0; e < o->numel; e++) {
			int64_t ia = naive_index(in[1], o->rank, idx), ib = naive_index(in[2], o->rank, idx);
			double want = (double)(ir_tensor_get_i64(in[1], ia) - ir_tensor_get_i64(in[2], ib));
			ASSERT_NEAR(ir_tensor_get_f64(o, e), want, 0);
			for (int d = o->rank - 1; d >= 0; d--) {
				if (++idx[d] < o->dims[d])
					break;
				idx[d] = 0;
			}
		}
		int64_t widx[IR_MAX_RANK] = {0};
		for (int64_t e = 0; e < w->numel; e++) {
			int64_t c = naive_index(in[0], w->rank, widx);
			const ir_tensor *src = ir_tensor_get_i64(in[0], c) ? in[1] : in[2];
			ASSERT_NEAR(ir_tensor_get_f64(w, e), ir_tensor_get_f64(src, naive_index(src, w->rank, widx)), 0);
			for (int d = w->rank - 1; d >= 0; d--) {
				if (++widx[d] < w->dims[d])
					break;
				widx[d] = 0;
			}
		}
		(void)total;
	}
}

/* ------------------------------------------------------------ integers */

static const ir_dtype int_types[] = {IR_I8, IR_I16, IR_I32, IR_I64, IR_U8, IR_U16, IR_U32, IR_U64};

/* Wrap v into dtype t as a signed value (unsigned types keep low bits). */
static int64_t wrap(ir_dtype t, int64_t v)
{
	switch (t) {
	case IR_I8: return (int8_t)v;
	case IR_I16: return (int16_t)v;
	case IR_I32: return (int32_t)v;
	case IR_U8: return (uint8_t)v;
	case IR_U16: return (uint16_t)v;
	case IR_U32: return (uint32_t)v;
	default: return v;
	}
}

static void test_int_arith_all_types(void)
{
	ot_begin();
	for (size_t k = 0; k < sizeof int_types / sizeof int_types[0]; k++) {
		ir_dtype t = int_types[k];
		int s = ir_dtype_is_signed(t);
		int64_t av[] = {7, 100, 127, s ? -7 : 250, 0, 1};
		int64_t bv[] = {2, 3, 1, s ? 2 : 3, 5, 1};
		ir_tensor *a = TI(t, 1, D(6), av), *b = TI(t, 1, D(6), bv), *o;
		ASSERT(eval2(IR_OP_Add, a, b, &o) == 0);
		ASSERT(o->dtype == t);
		for (int i = 0; i < 6; i++)
			ASSERT(ir_tensor_get_i64(o, i) == wrap(t, av[i] + bv[i]));
		ASSERT(eval2(IR_OP_Sub, a, b, &o) == 0);
		for (int i = 0; i < 6; i++)
			ASSERT(ir_tensor_get_i64(o, i) == wrap(t, av[i] - bv[i]));
		ASSERT(eval2(IR_OP_Mul, a, b, &o) == 0);
		for (int i = 0; i < 6; i++)
			ASSERT(ir_tensor_get_i64(o, i) == wrap(t, av[i] * bv[i]));
		ASSERT(eval2(IR_OP_Div, a, b, &o) == 0);
		for (int i = 0; i < 6; i++)
			ASSERT(ir_tensor_get_i64(o, i) == wrap(t, av[i] / bv[i]));
		ASSERT(eval2(IR_OP_Max, a, b, &o) == 0);
		for (int i = 0; i < 6; i++)
			ASSERT(ir_tensor_get_i64(o, i) == (av[i] > bv[i] ? av[i] : bv[i]));
		/* row broadcast with a scalar divisor */
		ASSERT(eval2(IR_OP_Div, a, TI(t, 0, NULL, VI(2)), &o) == 0);
		for (int i = 0; i < 6; i++)
			ASSERT(ir_tensor_get_i64(o, i) == wrap(t, av[i] / 2));
		/* Less on every type */
		ASSERT(eval2(IR_OP_Less, a, b, &o) == 0);
		ASSERT(o->dtype == IR_BOOL);
		for (int i = 0; i < 6; i++)
			ASSERT(ir_tensor_get_i64(o, i) == (av[i] < bv[i]));
	}
}

static void test_int_wrap_and_exact64(void)
{
	ot_begin();
	ir_tensor *o;
	/* 8-bit wrap */
	ASSERT(eval2(IR_OP_Add, TI(IR_I8, 1, D(2), VI(127, -128)), TI(IR_I8, 1, D(2), VI(1, -1)), &o) == 0);
	ASSERT(((int8_t *)o->data)[0] == -128 && ((int8_t *)o->data)[1] == 127);
	ASSERT(eval2(IR_OP_Mul, TI(IR_U16, 1, D(1), VI(65535)), TI(IR_U16, 1, D(1), VI(65535)), &o) == 0);
	ASSERT(((uint16_t *)o->data)[0] == 1);
	ASSERT(eval2(IR_OP_Mul, TI(IR_I16, 1, D(1), VI(-32768)), TI(IR_I16, 1, D(1), VI(-32768)), &o) == 0);
	ASSERT(((int16_t *)o->data)[0] == 0);
	/* int64 beyond 2^53: no round trip through double */
	int64_t big = ((int64_t)1 << 62) + 1;
	ASSERT(eval2(IR_OP_Add, TI(IR_I64, 1, D(1), VI(big)), TI(IR_I64, 1, D(1), VI(2)), &o) == 0);
	ASSERT(((int64_t *)o->data)[0] == big + 2);
	ASSERT(eval2(IR_OP_Mul, TI(IR_I64, 1, D(1), VI(3037000499LL)), TI(IR_I64, 1, D(1), VI(3037000499LL)), &o) == 0);
	ASSERT(((int64_t *)o->data)[0] == 3037000499LL * 3037000499LL);
	ASSERT(eval2(IR_OP_Div, TI(IR_I64, 1, D(1), VI(INT64_MAX)), TI(IR_I64, 1, D(1), VI(3)), &o) == 0);
	ASSERT(((int64_t *)o->data)[0] == INT64_MAX / 3);
	ASSERT(eval2(IR_OP_Add, TI(IR_I64, 1, D(1), VI(INT64_MAX)), TI(IR_I64, 1, D(1), VI(1)), &o) == 0);
	ASSERT(((int64_t *)o->data)[0] == INT64_MIN);
	/* uint64 */
	ir_tensor *u = ir_tensor_new(G->arena, IR_U64, 1, D(2));
	((uint64_t *)u->data)[0] = UINT64_MAX - 1;
	((uint64_t *)u->data)[1] = ((uint64_t)1 << 63) + 5;
	ir_tensor *one = ir_tensor_new(G->arena, IR_U64, 0, NULL);
	((uint64_t *)one->data)[0] = 1;
	ASSERT(eval2(IR_OP_Add, u, one, &o) == 0);
	ASSERT(((uint64_t *)o->data)[0] == UINT64_MAX);
	ASSERT(((uint64_t *)o->data)[1] == ((uint64_t)1 << 63) + 6);
	ASSERT(eval2(IR_OP_Greater, u, one, &o) == 0);
	ASSERT(((uint8_t *)o->data)[0] == 1 && ((uint8_t *)o->data)[1] == 1);
	ir_tensor *three = ir_tensor_new(G->arena, IR_U64, 0, NULL);
	((uint64_t *)three->data)[0] = 3;
	ASSERT(eval2(IR_OP_Div, u, three, &o) == 0);
	ASSERT(((uint64_t *)o->data)[0] == (UINT64_MAX - 1) / 3);
	ASSERT(eval2(IR_OP_Sub, one, three, &o) == 0);
	ASSERT(((uint64_t *)o->data)[0] == UINT64_MAX - 1);
}

static void test_int_div_trunc_and_zero(void)
{
	ot_begin();
	ir_tensor *o;
	ASSERT(eval2(IR_OP_Div, TI(IR_I32, 1, D(4), VI(-7, 7, -7, 7)), TI(IR_I32, 1, D(4), VI(2, -2, -2, 2)), &o) == 0);
	ASSERT(((int32_t *)o->data)[0] == -3 && ((int32_t *)o->data)[1] == -3);
	ASSERT(((int32_t *)o->data)[2] == 3 && ((int32_t *)o->data)[3] == 3);
	/* MIN / -1 wraps instead of trapping */
	ASSERT(eval2(IR_OP_Div, TI(IR_I32, 1, D(1), VI(INT32_MIN)), TI(IR_I32, 1, D(1), VI(-1)), &o) == 0);
	ASSERT(((int32_t *)o->data)[0] == INT32_MIN);
	ASSERT(eval2(IR_OP_Div, TI(IR_I64, 1, D(1), VI(INT64_MIN)), TI(IR_I64, 1, D(1), VI(-1)), &o) == 0);
	ASSERT(((int64_t *)o->data)[0] == INT64_MIN);
	ASSERT(eval2(IR_OP_Div, TI(IR_I8, 1, D(1), VI(-128)), TI(IR_I8, 1, D(1), VI(-1)), &o) == 0);
	ASSERT(((int8_t *)o->data)[0] == -128);
	/* division by zero: a clear error, for every integer type */
	for (size_t k = 0; k < sizeof int_types / sizeof int_types[0]; k++) {
		ASSERT(eval2(IR_OP_Div, TI(int_types[k], 1, D(3), VI(1, 2, 3)), TI(int_types[k], 1, D(3), VI(1, 0, 1)), &o) == -1);
		ASSERT_STR_CONTAINS(G->err, "integer division by zero");
		ASSERT(eval2(IR_OP_Mod, TI(int_types[k], 1, D(3), VI(1, 2, 3)), TI(int_types[k], 0, NULL, VI(0)), &o) == -1);
		ASSERT_STR_CONTAINS(G->err, "division by zero");
	}
	/* ... but not when the output is empty */
	ASSERT(eval2(IR_OP_Div, TI(IR_I32, 1, D(0), VI(0)), TI(IR_I32, 0, NULL, VI(0)), &o) == 0);
}

static void test_mod(void)
{
	ot_begin();
	ir_tensor *o;
	ir_tensor *a = TI(IR_I32, 1, D(6), VI(-7, 7, -7, 7, 6, INT32_MIN));
	ir_tensor *b = TI(IR_I32, 1, D(6), VI(3, -3, -3, 3, 3, -1));
	ASSERT(eval2(IR_OP_Mod, a, b, &o) == 0);
	const int32_t m0[] = {2, -2, -1, 1, 0, 0};
	for (int i = 0; i < 6; i++)
		ASSERT(((int32_t *)o->data)[i] == m0[i]);
	ir_attr f1 = AI("fmod", 1);
	ir_tensor *in[2] = {a, b};
	ASSERT(eval_attrs(IR_OP_Mod, 2, in, &f1, 1, &o) == 0);
	const int32_t m1[] = {-1, 1, -1, 1, 0, 0};
	for (int i = 0; i < 6; i++)
		ASSERT(((int32_t *)o->data)[i] == m1[i]);
	/* every signed type, sign of the divisor */
	const ir_dtype st[] = {IR_I8, IR_I16, IR_I64};
	for (int k = 0; k < 3; k++) {
		ASSERT(eval2(IR_OP_Mod, TI(st[k], 1, D(2), VI(-5, 5)), TI(st[k], 1, D(2), VI(3, -3)), &o) == 0);
		ASSERT(ir_tensor_get_i64(o, 0) == 1 && ir_tensor_get_i64(o, 1) == -1);
	}
	ASSERT(eval2(IR_OP_Mod, TI(IR_U8, 1, D(2), VI(250, 7)), TI(IR_U8, 0, NULL, VI(7)), &o) == 0);
	ASSERT(ir_tensor_get_i64(o, 0) == 250 % 7 && ir_tensor_get_i64(o, 1) == 0);
	/* floats need fmod=1 */
	ir_tensor *fa = T(IR_F32, 1, D(2), V(5.5, -5.5)), *fb = T(IR_F32, 0, NULL, V(2));
	in[0] = fa;
	in[1] = fb;
	ASSERT(eval_attrs(IR_OP_Mod, 2, in, &f1, 1, &o) == 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 0), 1.5, 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 1), -1.5, 0);
	ASSERT(eval2(IR_OP_Mod, fa, fb, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "fmod=1");
	ir_attr bad = AI("fmod", 2);
	ASSERT(eval_attrs(IR_OP_Mod, 2, in, &bad, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "'fmod' must be 0 or 1");
	ir_attr badk = AF("fmod", 1);
	ASSERT(eval_attrs(IR_OP_Mod, 2, in, &badk, 1, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "must be an int");
}

static void test_pow(void)
{
	ot_begin();
	ir_tensor *o;
	ASSERT(eval2(IR_OP_Pow, T(IR_F32, 1, D(3), V(2, 4, -2)), T(IR_F32, 1, D(3), V(3, 0.5, 2)), &o) == 0);
	ASSERT(o->dtype == IR_F32);
	ASSERT_NEAR(ir_tensor_get_f64(o, 0), 8, 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 1), 2, 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 2), 4, 0);
	/* float base, integer exponent (result keeps the base dtype) */
	ASSERT(eval2(IR_OP_Pow, T(IR_F32, 1, D(3), V(-2, 2, 10)), TI(IR_I64, 1, D(3), VI(3, -2, 0)), &o) == 0);
	ASSERT(o->dtype == IR_F32);
	ASSERT_NEAR(ir_tensor_get_f64(o, 0), -8, 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 1), 0.25, 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 2), 1, 0);
	/* huge odd exponent keeps the sign of -1 */
	ASSERT(eval2(IR_OP_Pow, T(IR_F64, 1, D(2), V(-1, -1)), TI(IR_I64, 1, D(2), VI(INT64_MAX, INT64_MAX - 1)), &o) == 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 0), -1, 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 1), 1, 0);
	ASSERT(eval2(IR_OP_Pow, T(IR_F64, 0, NULL, V(3)), TI(IR_U8, 1, D(2), VI(2, 4)), &o) == 0);
	ASSERT(same_dims(o, 1, D(2)));
	ASSERT_NEAR(ir_tensor_get_f64(o, 0), 9, 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 1), 81, 0);
	ASSERT(eval2(IR_OP_Pow, T(IR_F32, 1, D(1), V(2)), T(IR_F64, 1, D(1), V(-1)), &o) == 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 0), 0.5, 0);
	/* integer base, integer exponent: exact and wrapping */
	ASSERT(eval2(IR_OP_Pow, TI(IR_I32, 1, D(4), VI(3, -2, 2, 7)), TI(IR_I32, 1, D(4), VI(4, 3, 31, 0)), &o) == 0);
	ASSERT(o->dtype == IR_I32);
	ASSERT(((int32_t *)o->data)[0] == 81 && ((int32_t *)o->data)[1] == -8);
	ASSERT(((int32_t *)o->data)[2] == INT32_MIN && ((int32_t *)o->data)[3] == 1);
	ASSERT(eval2(IR_OP_Pow, TI(IR_I64, 1, D(2), VI(3, 2)), TI(IR_U64, 1, D(2), VI(39, 62)), &o) == 0);
	ASSERT(((int64_t *)o->data)[0] == 4052555153018976267LL);
	ASSERT(((int64_t *)o->data)[1] == (int64_t)1 << 62);
	/* negative integer exponents truncate 1/x^e toward zero */
	ASSERT(eval2(IR_OP_Pow, TI(IR_I64, 1, D(4), VI(2, 1, -1, -1)), TI(IR_I8, 1, D(4), VI(-1, -5, -3, -4)), &o) == 0);
	ASSERT(((int64_t *)o->data)[0] == 0 && ((int64_t *)o->data)[1] == 1);
	ASSERT(((int64_t *)o->data)[2] == -1 && ((int64_t *)o->data)[3] == 1);
	ASSERT(eval2(IR_OP_Pow, TI(IR_I32, 1, D(1), VI(0)), TI(IR_I32, 1, D(1), VI(-1)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "negative power");
	/* integer base, float exponent: truncated, saturated */
	ASSERT(eval2(IR_OP_Pow, TI(IR_I32, 1, D(3), VI(4, 2, -8)), T(IR_F32, 1, D(3), V(0.5, 100, 1.0 / 3)), &o) == 0);
	ASSERT(((int32_t *)o->data)[0] == 2 && ((int32_t *)o->data)[1] == INT32_MAX);
	ASSERT(((int32_t *)o->data)[2] == 0); /* NaN -> 0 */
	/* unsupported base dtype */
	ASSERT(eval2(IR_OP_Pow, TI(IR_U8, 1, D(1), VI(2)), TI(IR_U8, 1, D(1), VI(2)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "base has dtype u8");
	ASSERT(eval2(IR_OP_Pow, T(IR_F32, 1, D(1), V(2)), TI(IR_BOOL, 1, D(1), VI(1)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "exponent has dtype bool");
}

/* ------------------------------------------------------------ variadic */

static void test_max_min_nan_variadic(void)
{
	ot_begin();
	ir_tensor *o;
	double nan = NAN;
	ir_tensor *a = T(IR_F32, 1, D(4), V(1, nan, 3, nan)), *b = T(IR_F32, 1, D(4), V(nan, 2, 1, nan));
	ASSERT(eval2(IR_OP_Max, a, b, &o) == 0);
	ASSERT(isnan(ir_tensor_get_f64(o, 0)) && isnan(ir_tensor_get_f64(o, 1)));
	ASSERT_NEAR(ir_tensor_get_f64(o, 2), 3, 0);
	ASSERT(isnan(ir_tensor_get_f64(o, 3)));
	ASSERT(eval2(IR_OP_Min, a, b, &o) == 0);
	ASSERT(isnan(ir_tensor_get_f64(o, 0)) && isnan(ir_tensor_get_f64(o, 1)));
	ASSERT_NEAR(ir_tensor_get_f64(o, 2), 1, 0);
	/* three inputs, three shapes: [3], [2,1], scalar */
	ir_tensor *in[4] = {T(IR_F64, 1, D(3), V(1, 5, 3)), T(IR_F64, 2, D(2, 1), V(2, 4)),
			    T(IR_F64, 0, NULL, V(3.5)), T(IR_F64, 1, D(3), V(0, 0, 10))};
	ASSERT(eval(IR_OP_Max, 3, in, &o) == 0);
	ASSERT(same_dims(o, 2, D(2, 3)));
	const double mx[] = {3.5, 5, 3.5, 4, 5, 4};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), mx[i], 0);
	ASSERT(eval(IR_OP_Min, 4, in, &o) == 0);
	const double mn[] = {0, 0, 2, 0, 0, 3};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), mn[i], 0);
	ASSERT(eval(IR_OP_Sum, 4, in, &o) == 0);
	const double sm[] = {6.5, 10.5, 18.5, 8.5, 12.5, 20.5};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), sm[i], 1e-12);
	ASSERT(eval(IR_OP_Mean, 4, in, &o) == 0);
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), sm[i] / 4, 1e-12);
	ASSERT(eval(IR_OP_Mean, 3, in, &o) == 0);
	ASSERT_NEAR(ir_tensor_get_f64(o, 0), (1 + 2 + 3.5) / 3, 1e-12);
	/* one input: a copy */
	ASSERT(eval(IR_OP_Sum, 1, in, &o) == 0);
	ASSERT(same_dims(o, 1, D(3)) && ir_tensor_get_f64(o, 1) == 5);
	/* integer Max/Min on every type; Sum/Mean are float-only (spec) */
	for (size_t k = 0; k < sizeof int_types / sizeof int_types[0]; k++) {
		ir_tensor *ii[3] = {TI(int_types[k], 1, D(2), VI(1, 9)), TI(int_types[k], 1, D(2), VI(5, 2)),
				    TI(int_types[k], 0, NULL, VI(3))};
		ASSERT(eval(IR_OP_Max, 3, ii, &o) == 0);
		ASSERT(ir_tensor_get_i64(o, 0) == 5 && ir_tensor_get_i64(o, 1) == 9);
		ASSERT(eval(IR_OP_Min, 3, ii, &o) == 0);
		ASSERT(ir_tensor_get_i64(o, 0) == 1 && ir_tensor_get_i64(o, 1) == 2);
	}
	ir_tensor *si[2] = {TI(IR_I32, 1, D(2), VI(1, 9)), TI(IR_I32, 1, D(2), VI(1, 9))};
	ASSERT(eval(IR_OP_Sum, 2, si, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "Sum takes f32, f64");
	/* mixed dtypes in a variadic op */
	ir_tensor *mix[3] = {T(IR_F32, 1, D(1), V(1)), T(IR_F32, 1, D(1), V(1)), T(IR_F64, 1, D(1), V(1))};
	ASSERT(eval(IR_OP_Max, 3, mix, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "input 0 has dtype f32 but input 2 has f64");
}

/* ---------------------------------------------------- compare and logic */

static void test_compare(void)
{
	ot_begin();
	ir_tensor *o;
	double nan = NAN;
	ir_tensor *a = T(IR_F32, 1, D(4), V(1, 2, 3, nan)), *b = T(IR_F32, 1, D(4), V(2, 2, 2, nan));
	const ir_op ops[] = {IR_OP_Equal, IR_OP_Less, IR_OP_LessOrEqual, IR_OP_Greater, IR_OP_GreaterOrEqual};
	const int want[5][4] = {{0, 1, 0, 0}, {1, 0, 0, 0}, {1, 1, 0, 0}, {0, 0, 1, 0}, {0, 1, 1, 0}};
	for (int k = 0; k < 5; k++) {
		ASSERT(eval2(ops[k], a, b, &o) == 0);
		ASSERT(o->dtype == IR_BOOL && same_dims(o, 1, D(4)));
		for (int i = 0; i < 4; i++)
			ASSERT(((uint8_t *)o->data)[i] == want[k][i]);
		/* int64 beyond 2^53 compares exactly */
		int64_t big = ((int64_t)1 << 60);
		ASSERT(eval2(ops[k], TI(IR_I64, 1, D(3), VI(big, big + 1, big - 1)), TI(IR_I64, 0, NULL, VI(big)), &o) == 0);
		const int w64[5][3] = {{1, 0, 0}, {0, 0, 1}, {1, 0, 1}, {0, 1, 0}, {1, 1, 0}};
		for (int i = 0; i < 3; i++)
			ASSERT(((uint8_t *)o->data)[i] == w64[k][i]);
	}
	/* Equal takes bool; Less does not */
	ASSERT(eval2(IR_OP_Equal, TI(IR_BOOL, 1, D(2), VI(1, 0)), TI(IR_BOOL, 0, NULL, VI(1)), &o) == 0);
	ASSERT(((uint8_t *)o->data)[0] == 1 && ((uint8_t *)o->data)[1] == 0);
	ASSERT(eval2(IR_OP_Less, TI(IR_BOOL, 1, D(2), VI(1, 0)), TI(IR_BOOL, 0, NULL, VI(1)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "Less takes");
}

static void test_logic(void)
{
	ot_begin();
	ir_tensor *o;
	ir_tensor *a = TI(IR_BOOL, 2, D(2, 2), VI(0, 0, 1, 1)), *b = TI(IR_BOOL, 1, D(2), VI(0, 1));
	ASSERT(eval2(IR_OP_And, a, b, &o) == 0);
	ASSERT(o->dtype == IR_BOOL);
	const int an[] = {0, 0, 0, 1}, orr[] = {0, 1, 1, 1}, xo[] = {0, 1, 1, 0};
	for (int i = 0; i < 4; i++)
		ASSERT(((uint8_t *)o->data)[i] == an[i]);
	ASSERT(eval2(IR_OP_Or, a, b, &o) == 0);
	for (int i = 0; i < 4; i++)
		ASSERT(((uint8_t *)o->data)[i] == orr[i]);
	ASSERT(eval2(IR_OP_Xor, a, b, &o) == 0);
	for (int i = 0; i < 4; i++)
		ASSERT(((uint8_t *)o->data)[i] == xo[i]);
	ASSERT(eval2(IR_OP_And, T(IR_F32, 1, D(1), V(1)), T(IR_F32, 1, D(1), V(1)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "And takes bool");
}

static void test_where(void)
{
	ot_begin();
	ir_tensor *o;
	/* cond [2,1], X [3], Y scalar -> [2,3] */
	ir_tensor *in[3] = {TI(IR_BOOL, 2, D(2, 1), VI(1, 0)), T(IR_F32, 1, D(3), V(1, 2, 3)), T(IR_F32, 0, NULL, V(-1))};
	ASSERT(eval(IR_OP_Where, 3, in, &o) == 0);
	ASSERT(o->dtype == IR_F32 && same_dims(o, 2, D(2, 3)));
	const double w[] = {1, 2, 3, -1, -1, -1};
	for (int i = 0; i < 6; i++)
		ASSERT_NEAR(ir_tensor_get_f64(o, i), w[i], 0);
	/* every element size */
	const ir_dtype ts[] = {IR_I8, IR_I16, IR_I64, IR_U32, IR_BOOL, IR_F64};
	for (int k = 0; k < 6; k++) {
		ir_tensor *x[3] = {TI(IR_BOOL, 1, D(3), VI(1, 0, 1)), TI(ts[k], 1, D(3), VI(1, 1, 1)),
				   TI(ts[k], 1, D(3), VI(0, 0, 0))};
		ASSERT(eval(IR_OP_Where, 3, x, &o) == 0);
		ASSERT(o->dtype == ts[k]);
		ASSERT(ir_tensor_get_i64(o, 0) == 1 && ir_tensor_get_i64(o, 1) == 0 && ir_tensor_get_i64(o, 2) == 1);
	}
	in[0] = T(IR_F32, 1, D(1), V(1));
	ASSERT(eval(IR_OP_Where, 3, in, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "condition has dtype f32, expected bool");
	in[0] = TI(IR_BOOL, 1, D(1), VI(1));
	in[2] = TI(IR_I64, 0, NULL, VI(1));
	ASSERT(eval(IR_OP_Where, 3, in, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "input 1 has dtype f32 but input 2 has i64");
}

/* ------------------------------------------------- errors and inference */

static void test_dtype_mismatch(void)
{
	ot_begin();
	ir_tensor *o;
	ASSERT(eval2(IR_OP_Add, T(IR_F32, 1, D(1), V(1)), TI(IR_I64, 1, D(1), VI(1)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "test.onnx: node 'Add_");
	ASSERT_STR_CONTAINS(G->err, "f32");
	ASSERT_STR_CONTAINS(G->err, "i64");
	ASSERT(eval2(IR_OP_Add, TI(IR_BOOL, 1, D(1), VI(1)), TI(IR_BOOL, 1, D(1), VI(1)), &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "inputs have dtype bool; Add takes");
	/* arity */
	ir_tensor *one[1] = {T(IR_F32, 1, D(1), V(1))};
	ASSERT(eval(IR_OP_Add, 1, one, &o) == -1);
	ASSERT_STR_CONTAINS(G->err, "inputs");
}

static void test_infer_unknown_dims(void)
{
	ot_begin();
	ir_value *a = ir_value_new(G, "a"), *b = ir_value_new(G, "b"), *c = ir_value_new(G, "c");
	a->dtype = b->dtype = IR_F32;
	a->shape.rank = 2;
	a->shape.d[0] = (ir_dim){-1, "N"};
	a->shape.d[1] = (ir_dim){3, NULL};
	b->shape.rank = 1;
	b->shape.d[0] = (ir_dim){3, NULL};
	ir_value *in[2] = {a, b}, *out[1] = {c};
	ir_node *n = ir_node_new(G, IR_OP_Add, "add", 2, in, 1, out);
	ASSERT(elementwise_check(G, n) == 0);
	ASSERT(elementwise_infer(G, n, n->in, n->out) == 0);
	ASSERT(c->dtype == IR_F32 && c->shape.rank == 2);
	ASSERT(c->shape.d[0].v < 0 && c->shape.d[0].sym && !strcmp(c->shape.d[0].sym, "N"));
	ASSERT(c->shape.d[1].v == 3);
	/* unknown against a known dim > 1 */
	b->shape.rank = 2;
	b->shape.d[0] = (ir_dim){4, NULL};
	b->shape.d[1] = (ir_dim){1, NULL};
	ASSERT(elementwise_infer(G, n, n->in, n->out) == 0);
	ASSERT(c->shape.d[0].v == 4 && c->shape.d[1].v == 3);
	/* unknown rank */
	a->shape.rank = -1;
	ASSERT(elementwise_infer(G, n, n->in, n->out) == 0);
	ASSERT(c->shape.rank == -1);
	/* comparisons give bool even with unknown input dtypes */
	a->dtype = IR_UNDEF;
	ir_node *m = ir_node_new(G, IR_OP_Less, "lt", 2, in, 1, out);
	ASSERT(elementwise_infer(G, m, m->in, m->out) == 0);
	ASSERT(c->dtype == IR_BOOL);
}

/* The fast paths on a size that exercises vector loops and tails. */
static void test_large_f32(void)
{
	ot_begin();
	int64_t n = 1037;
	ir_tensor *a = ir_tensor_new(G->arena, IR_F32, 2, D(n, 3)), *b = ir_tensor_new(G->arena, IR_F32, 2, D(n, 3));
	for (int64_t i = 0; i < 3 * n; i++) {
		((float *)a->data)[i] = (float)i;
		((float *)b->data)[i] = (float)(2 * i + 1);
	}
	ir_tensor *o;
	ASSERT(eval2(IR_OP_Add, a, b, &o) == 0);
	for (int64_t i = 0; i < 3 * n; i++)
		ASSERT(((float *)o->data)[i] == (float)(3 * i + 1));
	ASSERT(eval2(IR_OP_Mul, a, T(IR_F32, 1, D(3), V(1, 2, 3)), &o) == 0);
	for (int64_t i = 0; i < 3 * n; i++)
		ASSERT(((float *)o->data)[i] == (float)i * (float)(1 + i % 3));
}

TEST_MAIN({"add_sub_mul_div_f32", test_add_sub_mul_div_f32},
	  {"f64", test_f64},
	  {"broadcast_scalar_row_column", test_broadcast_scalar_row_column},
	  {"broadcast_random", test_broadcast_random},
	  {"int_arith_all_types", test_int_arith_all_types},
	  {"int_wrap_and_exact64", test_int_wrap_and_exact64},
	  {"int_div_trunc_and_zero", test_int_div_trunc_and_zero},
	  {"mod", test_mod},
	  {"pow", test_pow},
	  {"max_min_nan_variadic", test_max_min_nan_variadic},
	  {"compare", test_compare},
	  {"logic", test_logic},
	  {"where", test_where},
	  {"dtype_mismatch", test_dtype_mismatch},
	  {"infer_unknown_dims", test_infer_unknown_dims},
	  {"large_f32", test_large_f32},
	  {"cleanup", ot_end})
