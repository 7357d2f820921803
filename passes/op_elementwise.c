/* op_elementwise.c - the 'elementwise' op family (see ir/ops.def): numpy
 * broadcasting arithmetic, comparisons and logic, the variadic Max, Min,
 * Sum and Mean, and Where. Check, infer, run.
 *
 * Kernels are generated per (op, dtype) by macros; each computes one
 * contiguous inner run of the output whose input strides are 0 or 1.
 * ew_iterate walks the broadcast output after dropping size-1 dims and
 * merging dims that are contiguous in every operand, so a same-shape op is
 * a single run, a row broadcast one run per row and a scalar operand a
 * hoisted constant: the loops vectorise.
 *
 * Integer semantics: arithmetic wraps modulo 2^N (computed in unsigned
 * types, so there is no signed overflow; narrowing back to a signed type is
 * modulo 2^N with gcc and clang). Div truncates toward zero and MIN / -1
 * wraps to MIN; Mod with fmod=0 takes the sign of the divisor, with fmod=1
 * the sign of the dividend. Integer division or remainder by zero, and an
 * integer 0 raised to a negative power, are errors reported by run (numpy
 * warns, onnxruntime traps: there is no meaningful value). Pow with an
 * integer base and a float exponent converts the double result back with
 * truncation, saturating at the type's range (NaN gives 0). Floats follow
 * IEEE 754; Max and Min propagate NaN as the ONNX spec requires.
 */
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EW_NDT (IR_U64 + 1) /* size of dtype-indexed tables */

/* ------------------------------------------------------------ kernels */

typedef void (*ew_bin)(void *o, const void *a, int64_t sa, const void *b, int64_t sb, int64_t n);

/* One inner run: o[i] = EXPR of x = a[i*sa], y = b[i*sb] with sa, sb in
 * {0, 1}, split into four loops so that each one vectorises. */
#define EW_KERNEL(name, T, R, EXPR)                                           \
	static void name(void *o_, const void *a_, int64_t sa, const void *b_, \
			 int64_t sb, int64_t n)                                \
	{                                                                     \
		R *restrict o = o_;                                           \
		const T *restrict a = a_;                                     \
		const T *restrict b = b_;                                     \
		if (sa && sb) {                                               \
			OP_FOR(n, T x = a[i]; T y = b[i]; o[i] = (R)(EXPR););  \
		} else if (sa) {                                              \
			const T y = b[0];                                     \
			OP_FOR(n, T x = a[i]; o[i] = (R)(EXPR););             \
		} else if (sb) {                                              \
			const T x = a[0];                                     \
			OP_FOR(n, T y = b[i]; o[i] = (R)(EXPR););             \
		} else {                                                      \
			const T x = a[0], y = b[0];                           \
			const R r = (R)(EXPR);                                \
			OP_FOR(n, o[i] = r;);                                 \
		}                                                             \
	}

/* Type lists: X(op, dtype code, C type, suffix, wide unsigned type). The
 * wide type keeps uint8/uint16 products from promoting to signed int. */
#define EW_FLOATS(X, A) X(A, IR_F32, float, f32, float) X(A, IR_F64, double, f64, double)
#define EW_SINTS(X, A)                                                         \
	X(A, IR_I8, int8_t, i8, uint32_t) X(A, IR_I16, int16_t, i16, uint32_t) \
	X(A, IR_I32, int32_t, i32, uint32_t) X(A, IR_I64, int64_t, i64, uint64_t)
#define EW_UINTS(X, A)                                                          \
	X(A, IR_U8, uint8_t, u8, uint32_t) X(A, IR_U16, uint16_t, u16, uint32_t) \
	X(A, IR_U32, uint32_t, u32, uint32_t) X(A, IR_U64, uint64_t, u64, uint64_t)
#define EW_INTS(X, A) EW_SINTS(X, A) EW_UINTS(X, A)
#define EW_NUMERIC(X, A) EW_FLOATS(X, A) EW_INTS(X, A)
#define EW_BOOL(X, A) X(A, IR_BOOL, uint8_t, b, uint32_t)

/* Kernel definers: the expression is EW_<op>_<F|S|U>(T, W), in x and y. */
#define EW_DEF_F(A, C, T, S, W) EW_KERNEL(ew_##A##_##S, T, T, EW_##A##_F(T, W))
#define EW_DEF_S(A, C, T, S, W) EW_KERNEL(ew_##A##_##S, T, T, EW_##A##_S(T, W))
#define EW_DEF_U(A, C, T, S, W) EW_KERNEL(ew_##A##_##S, T, T, EW_##A##_U(T, W))
/* Comparisons and logic: one expression EW_<op> for all dtypes, bool out. */
#define EW_DEF_C(A, C, T, S, W) EW_KERNEL(ew_##A##_##S, T, uint8_t, EW_##A)
#define EW_TAB(A, C, T, S, W) [C] = ew_##A##_##S,

#define EW_ARITH(A)                      \
	EW_FLOATS(EW_DEF_F, A)           \
	EW_SINTS(EW_DEF_S, A)            \
	EW_UINTS(EW_DEF_U, A)            \
	static const ew_bin ew_##A##_tab[EW_NDT] = {EW_NUMERIC(EW_TAB, A)};
#define EW_INTARITH(A)                   \
	EW_SINTS(EW_DEF_S, A)            \
	EW_UINTS(EW_DEF_U, A)            \
	static const ew_bin ew_##A##_tab[EW_NDT] = {EW_INTS(EW_TAB, A)};
#define EW_COMPARE(A)                    \
	EW_NUMERIC(EW_DEF_C, A)          \
	static const ew_bin ew_##A##_tab[EW_NDT] = {EW_NUMERIC(EW_TAB, A)};
#define EW_LOGIC(A)                      \
	EW_BOOL(EW_DEF_C, A)             \
	static const ew_bin ew_##A##_tab[EW_NDT] = {EW_BOOL(EW_TAB, A)};

#define EW_ADD_F(T, W) (x + y)
#define EW_ADD_S(T, W) ((T)((W)x + (W)y))
#define EW_ADD_U EW_ADD_S
#define EW_SUB_F(T, W) (x - y)
#define EW_SUB_S(T, W) ((T)((W)x - (W)y))
#define EW_SUB_U EW_SUB_S
#define EW_MUL_F(T, W) (x * y)
#define EW_MUL_S(T, W) ((T)((W)x * (W)y))
#define EW_MUL_U EW_MUL_S
/* Divisors are nonzero here (run checks first); -1 is special because
 * MIN / -1 overflows. */
#define EW_DIV_F(T, W) (x / y)
#define EW_DIV_S(T, W) (y == -1 ? (T)(0u - (W)x) : (T)(x / y))
#define EW_DIV_U(T, W) (x / y)
/* x != x is isnan(x): NaN wins in either position (fmax would drop it). */
#define EW_MAX_F(T, W) ((x > y || x != x) ? x : y)
#define EW_MAX_S(T, W) (x > y ? x : y)
#define EW_MAX_U EW_MAX_S
#define EW_MIN_F(T, W) ((x < y || x != x) ? x : y)
#define EW_MIN_S(T, W) (x < y ? x : y)
#define EW_MIN_U EW_MIN_S
/* fmod=1: the sign of the dividend (C %, C fmod, which is exact). */
#define EW_FMOD_F(T, W) ((T)fmod(x, y))
#define EW_FMOD_S(T, W) (y == -1 ? 0 : x % y)
#define EW_FMOD_U(T, W) (x % y)
/* fmod=0: the sign of the divisor (Python %). */
#define EW_IMOD_FN(A, C, T, S, W)                           \
	static inline T ew_imod_##S(T x, T y)               \
	{                                                   \
		if (y == -1)                                \
			return 0;                           \
		T r = (T)(x % y);                           \
		if (r != 0 && ((r < 0) != (y < 0)))        \
			r = (T)(r + y);                     \
		return r;                                   \
	}
EW_SINTS(EW_IMOD_FN, _)
#define EW_DEF_IMOD(A, C, T, S, W) EW_KERNEL(ew_##A##_##S, T, T, ew_imod_##S(x, y))
#define EW_MOD_U(T, W) (x % y)

EW_ARITH(ADD)
EW_ARITH(SUB)
EW_ARITH(MUL)
EW_ARITH(DIV)
EW_ARITH(MAX)
EW_ARITH(MIN)
EW_ARITH(FMOD)
EW_SINTS(EW_DEF_IMOD, MOD)
EW_UINTS(EW_DEF_U, MOD)
static const ew_bin ew_MOD_tab[EW_NDT] = {EW_INTS(EW_TAB, MOD)};

#define EW_EQ (x == y)
#define EW_LT (x < y)
#define EW_LE (x <= y)
#define EW_GT (x > y)
#define EW_GE (x >= y)
#define EW_AND ((x != 0) & (y != 0))
#define EW_OR ((x != 0) | (y != 0))
#define EW_XOR ((x != 0) ^ (y != 0))
EW_COMPARE(LT)
EW_COMPARE(LE)
EW_COMPARE(GT)
EW_COMPARE(GE)
EW_NUMERIC(EW_DEF_C, EQ)
EW_BOOL(EW_DEF_C, EQ)
static const ew_bin ew_EQ_tab[EW_NDT] = {EW_NUMERIC(EW_TAB, EQ) EW_BOOL(EW_TAB, EQ)};
EW_LOGIC(AND)
EW_LOGIC(OR)
EW_LOGIC(XOR)

/* Pow with the same float type on both sides: the common case, kept fast. */
EW_KERNEL(ew_pow_f32, float, float, powf(x, y))
EW_KERNEL(ew_pow_f64, double, double, pow(x, y))

/* ---------------------------------------------------------- iteration */

/* Visit one inner run: o is the output, p[i] input i, s[i] its stride in
 * elements (0 or 1), n the run length. */
typedef void (*ew_visit)(void *ctx, char *o, const char *const *p, const int64_t *s, int64_t n);

/* Walk the contiguous output out, with k <= 3 inputs broadcast to it. */
static void ew_iterate(ir_tensor *out, int k, const ir_tensor *const *in, ew_visit fn, void *ctx)
{
	if (out->numel == 0)
		return;
	int64_t st[3 * IR_MAX_RANK], dims[IR_MAX_RANK], cs[3 * IR_MAX_RANK]; /* operand i at i * IR_MAX_RANK */
	size_t es[3];
	for (int i = 0; i < k; i++) {
		op_broadcast_strides(in[i], out->rank, out->dims, st + i * IR_MAX_RANK);
		es[i] = ir_dtype_size(in[i]->dtype);
	}
	int r = op_merge_dims(out->rank, out->dims, k, st, IR_MAX_RANK, dims, cs);
	if (r == 0) {
		dims[0] = 1;
		for (int i = 0; i < k; i++)
			cs[i * IR_MAX_RANK] = 0;
		r = 1;
	}
	int64_t n = dims[r - 1], idx[IR_MAX_RANK] = {0}, off[3] = {0, 0, 0}, s[3];
	for (int i = 0; i < k; i++)
		s[i] = cs[i * IR_MAX_RANK + r - 1];
	size_t oes = ir_dtype_size(out->dtype);
	char *o = out->data;
	const char *p[3];
	for (;;) {
		for (int i = 0; i < k; i++)
			p[i] = (const char *)in[i]->data + (size_t)off[i] * es[i];
		fn(ctx, o, p, s, n);
		o += (size_t)n * oes;
		int d = r - 2;
		for (; d >= 0; d--) {
			for (int i = 0; i < k; i++)
				off[i] += cs[i * IR_MAX_RANK + d];
			if (++idx[d] < dims[d])
				break;
			for (int i = 0; i < k; i++)
				off[i] -= cs[i * IR_MAX_RANK + d] * dims[d];
			idx[d] = 0;
		}
		if (d < 0)
			break;
	}
}

static void ew_visit_bin(void *ctx, char *o, const char *const *p, const int64_t *s, int64_t n)
{
	(*(const ew_bin *)ctx)(o, p[0], s[0], p[1], s[1], n);
}

static void ew_apply2(ir_tensor *out, const ir_tensor *a, const ir_tensor *b, ew_bin fn)
{
	const ir_tensor *in[2] = {a, b};
	ew_iterate(out, 2, in, ew_visit_bin, &fn);
}

#define EW_WHERE_LOOP(T)                                                   \
	do {                                                               \
		T *o = (T *)o_;                                            \
		const T *x = (const T *)p[1], *y = (const T *)p[2];        \
		for (int64_t i = 0; i < n; i++)                            \
			o[i] = c[i * s[0]] ? x[i * s[1]] : y[i * s[2]];    \
	} while (0)

static void ew_visit_where(void *ctx, char *o_, const char *const *p, const int64_t *s, int64_t n)
{
	const uint8_t *c = (const uint8_t *)p[0];
	switch (*(const size_t *)ctx) {
	case 1: EW_WHERE_LOOP(uint8_t); break;
	case 2: EW_WHERE_LOOP(uint16_t); break;
	case 4: EW_WHERE_LOOP(uint32_t); break;
	case 8: EW_WHERE_LOOP(uint64_t); break;
	default: IR_UNREACHABLE();
	}
}

/* ---------------------------------------------------------------- Pow */

typedef struct ew_pow_ctx {
	ir_dtype bt, et;
	int zero_neg; /* set when an integer 0 met a negative exponent */
} ew_pow_ctx;

/* An integer exponent as sign and magnitude (uint64 exponents exceed int64). */
static void ew_load_iexp(ir_dtype t, const char *p, int *neg, uint64_t *mag)
{
	*neg = 0;
	switch (t) {
	case IR_U64: *mag = *(const uint64_t *)p; return;
	case IR_U32: *mag = *(const uint32_t *)p; return;
	case IR_U16: *mag = *(const uint16_t *)p; return;
	case IR_U8: *mag = *(const uint8_t *)p; return;
	default: break;
	}
	int64_t v;
	switch (t) {
	case IR_I8: v = *(const int8_t *)p; break;
	case IR_I16: v = *(const int16_t *)p; break;
	case IR_I32: v = *(const int32_t *)p; break;
	case IR_I64: v = *(const int64_t *)p; break;
	default: IR_UNREACHABLE();
	}
	*neg = v < 0;
	*mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* x^e for a float base and an integer exponent, exact in sign: beyond
 * 2^53 the exponent is not representable, so take |x|^e and fix the sign
 * from the exponent's parity. */
static double ew_fpow_int(double x, int neg, uint64_t mag)
{
	double e = (double)mag;
	if (mag <= ((uint64_t)1 << 53))
		return pow(x, neg ? -e : e);
	double r = pow(fabs(x), neg ? -e : e);
	return (x < 0 && (mag & 1)) ? -r : r;
}

/* x^e in wrapping 64-bit arithmetic (exact modulo 2^N for any N <= 64). */
static uint64_t ew_ipow(uint64_t x, uint64_t e)
{
	uint64_t r = 1;
	while (e) {
		if (e & 1)
			r *= x;
		x *= x;
		e >>= 1;
	}
	return r;
}

/* Integer base to an integer exponent; a negative exponent gives 1/x^e
 * truncated toward zero (onnxruntime's static_cast of std::pow). */
static uint64_t ew_ipow_signed(int64_t x, int neg, uint64_t mag, int *zero_neg)
{
	if (!neg)
		return ew_ipow((uint64_t)x, mag);
	if (x == 1)
		return 1;
	if (x == -1)
		return (mag & 1) ? (uint64_t)-1 : 1;
	if (x == 0)
		*zero_neg = 1;
	return 0;
}

static double ew_load_f(ir_dtype t, const char *p)
{
	return t == IR_F32 ? *(const float *)p : *(const double *)p;
}

static void ew_visit_pow(void *ctx, char *o, const char *const *p, const int64_t *s, int64_t n)
{
	ew_pow_ctx *c = ctx;
	size_t bs = ir_dtype_size(c->bt), xs = ir_dtype_size(c->et);
	int fexp = ir_dtype_is_float(c->et);
	for (int64_t i = 0; i < n; i++) {
		const char *bp = p[0] + (size_t)(i * s[0]) * bs, *ep = p[1] + (size_t)(i * s[1]) * xs;
		int neg = 0;
		uint64_t mag = 0;
		double fe = 0;
		if (fexp)
			fe = ew_load_f(c->et, ep);
		else
			ew_load_iexp(c->et, ep, &neg, &mag);
		switch (c->bt) {
		case IR_F32: {
			double x = *(const float *)bp;
			((float *)o)[i] = (float)(fexp ? pow(x, fe) : ew_fpow_int(x, neg, mag));
			break;
		}
		case IR_F64: {
			double x = *(const double *)bp;
			((double *)o)[i] = fexp ? pow(x, fe) : ew_fpow_int(x, neg, mag);
			break;
		}
		case IR_I32: {
			int32_t x = *(const int32_t *)bp;
			((int32_t *)o)[i] = fexp ? op_d2_i32(pow(x, fe))
					       : (int32_t)ew_ipow_signed(x, neg, mag, &c->zero_neg);
			break;
		}
		case IR_I64: {
			int64_t x = *(const int64_t *)bp;
			((int64_t *)o)[i] = fexp ? op_d2_i64(pow((double)x, fe))
					       : (int64_t)ew_ipow_signed(x, neg, mag, &c->zero_neg);
			break;
		}
		default: IR_UNREACHABLE();
		}
	}
}

/* ------------------------------------------------------------- typing */

#define EW_BOOLMASK (1u << IR_BOOL)
#define EW_POW_BASE (OP_FLOATS | (1u << IR_I32) | (1u << IR_I64))

static int ew_is_compare(ir_op op)
{
	return op == IR_OP_Equal || op == IR_OP_Less || op == IR_OP_LessOrEqual ||
	       op == IR_OP_Greater || op == IR_OP_GreaterOrEqual;
}

/* Dtypes the ONNX spec allows for the (shared) input type of op. */
static unsigned ew_mask(ir_op op)
{
	switch (op) {
	case IR_OP_Sum: case IR_OP_Mean: return OP_FLOATS;
	case IR_OP_Equal: case IR_OP_Where: return OP_ANY;
	case IR_OP_And: case IR_OP_Or: case IR_OP_Xor: return EW_BOOLMASK;
	case IR_OP_Pow: return EW_POW_BASE;
	default: return OP_NUMERIC;
	}
}

static const char *ew_mask_str(unsigned mask, char *buf, size_t len)
{
	static const ir_dtype all[] = {IR_F32, IR_F64, IR_I8, IR_I16, IR_I32, IR_I64,
				       IR_U8, IR_U16, IR_U32, IR_U64, IR_BOOL};
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (!(mask & (1u << all[i])))
			continue;
		int w = snprintf(buf + k, len - k, "%s%s", k ? ", " : "", ir_dtype_name(all[i]));
		if (w < 0 || (size_t)w >= len - k)
			break;
		k += (size_t)w;
	}
	return buf;
}

/* Check input dtypes (unknown ones are skipped) and find the output dtype. */
static int ew_types(ir_graph *g, ir_node *n, int nin, ir_value *const *in, ir_dtype *res)
{
	const char *op = ir_ops[n->op].name;
	char buf[160];
	*res = IR_UNDEF;
	if (n->op == IR_OP_Pow) {
		if (in[0] && in[0]->dtype != IR_UNDEF && !(EW_POW_BASE & (1u << in[0]->dtype)))
			return ir_error(g, n, "base has dtype %s; Pow takes %s", ir_dtype_name(in[0]->dtype),
					ew_mask_str(EW_POW_BASE, buf, sizeof buf));
		if (in[1] && in[1]->dtype != IR_UNDEF && !(OP_NUMERIC & (1u << in[1]->dtype)))
			return ir_error(g, n, "exponent has dtype %s; Pow takes %s",
					ir_dtype_name(in[1]->dtype), ew_mask_str(OP_NUMERIC, buf, sizeof buf));
		*res = in[0] ? in[0]->dtype : IR_UNDEF;
		return 0;
	}
	int first = 0;
	if (n->op == IR_OP_Where) {
		if (in[0] && in[0]->dtype != IR_UNDEF && in[0]->dtype != IR_BOOL)
			return ir_error(g, n, "condition has dtype %s, expected bool", ir_dtype_name(in[0]->dtype));
		first = 1;
	}
	ir_dtype dt = IR_UNDEF;
	int di = -1;
	for (int i = first; i < nin; i++) {
		if (!in[i] || in[i]->dtype == IR_UNDEF)
			continue;
		if (dt == IR_UNDEF) {
			dt = in[i]->dtype;
			di = i;
		} else if (in[i]->dtype != dt) {
			return ir_error(g, n, "input %d has dtype %s but input %d has %s; %s needs equal dtypes",
					di, ir_dtype_name(dt), i, ir_dtype_name(in[i]->dtype), op);
		}
	}
	unsigned mask = ew_mask(n->op);
	if (dt != IR_UNDEF && !(mask & (1u << dt)))
		return ir_error(g, n, "inputs have dtype %s; %s takes %s", ir_dtype_name(dt), op,
				ew_mask_str(mask, buf, sizeof buf));
	if (n->op == IR_OP_Mod && ir_dtype_is_float(dt) && ir_attr_int(n, "fmod", 0) == 0)
		return ir_error(g, n, "fmod=0 (integer mod) is not defined for %s; the ONNX spec requires "
				"fmod=1 for floating-point inputs", ir_dtype_name(dt));
	*res = ew_is_compare(n->op) ? IR_BOOL : dt;
	return 0;
}

/* --------------------------------------------------- check and infer */

int elementwise_check(ir_graph *g, ir_node *n)
{
	if (op_check_arity(g, n))
		return -1;
	for (int i = 0; i < n->nin; i++)
		if (!n->in[i])
			return ir_error(g, n, "input %d is missing (no input of %s is optional)", i,
					ir_ops[n->op].name);
	if (op_opset_before(n, 7) && ir_attr_int(n, "broadcast", 0))
		return ir_error(g, n, "legacy broadcasting (attribute broadcast=1, opset %d < 7) is not "
				"supported", n->opset);
	if (n->op == IR_OP_Mod) {
		int64_t fm;
		if (op_attr_int(g, n, "fmod", 0, &fm))
			return -1;
		if (fm != 0 && fm != 1)
			return ir_error(g, n, "attribute 'fmod' must be 0 or 1, got %lld", (long long)fm);
	}
	ir_dtype dt;
	return ew_types(g, n, n->nin, n->in, &dt);
}

int elementwise_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	for (int i = 0; i < n->nin; i++)
		if (!in[i])
			return ir_error(g, n, "input %d is missing", i);
	ir_dtype dt;
	if (ew_types(g, n, n->nin, in, &dt))
		return -1;
	/* Pairwise broadcasting equals the k-way rule. */
	ir_shape acc = in[0]->shape;
	for (int i = 1; i < n->nin; i++) {
		const ir_shape *two[2] = {&acc, &in[i]->shape};
		ir_shape r;
		if (op_broadcast(g, n, 2, two, &r))
			return -1;
		acc = r;
	}
	out[0]->dtype = dt;
	out[0]->shape = acc;
	return 0;
}

/* ---------------------------------------------------------------- run */

/* Defends run against shapes that do not broadcast to out (a caller that
 * skipped infer): the iteration would read out of bounds. */
static int ew_check_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor *out)
{
	for (int i = 0; i < n->nin; i++) {
		const ir_tensor *t = in[i];
		if (!t)
			return ir_error(g, n, "input %d is missing", i);
		int ok = t->rank <= out->rank;
		for (int d = 0; ok && d < t->rank; d++) {
			int64_t od = out->dims[out->rank - t->rank + d];
			ok = t->dims[d] == od || t->dims[d] == 1;
		}
		if (!ok)
			return ir_error(g, n, "input %d does not broadcast to the output shape", i);
	}
	return 0;
}

/* Integer Div and Mod: every divisor element is used when the output is
 * not empty, so a zero anywhere in B is a division by zero. */
static int ew_check_divisor(ir_graph *g, ir_node *n, const ir_tensor *b, const ir_tensor *out)
{
	if (!ir_dtype_is_int(b->dtype) || out->numel == 0)
		return 0;
	for (int64_t i = 0; i < b->numel; i++)
		if (ir_tensor_get_i64(b, i) == 0)
			return ir_error(g, n, "integer division by zero (divisor element %lld is 0)",
					(long long)i);
	return 0;
}

/* Max, Min, Sum, Mean: fold left, alternating between out and a
 * temporary so that no kernel reads and writes the same buffer. */
static int ew_variadic(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor *out, ew_bin fn)
{
	int k = n->nin;
	if (k == 1) {
		memcpy(out->data, in[0]->data, (size_t)out->numel * ir_dtype_size(out->dtype));
		return 0;
	}
	ir_tensor *tmp = NULL;
	if (k > 2) {
		tmp = ir_tensor_new(NULL, out->dtype, out->rank, out->dims);
		if (!tmp)
			return ir_error(g, n, "out of memory");
	}
	const ir_tensor *acc = in[0];
	for (int i = 1; i < k; i++) {
		ir_tensor *dst = (k - 1 - i) % 2 == 0 ? out : tmp;
		ew_apply2(dst, acc, in[i], fn);
		acc = dst;
	}
	ir_tensor_free(tmp);
	if (n->op == IR_OP_Mean) {
		if (out->dtype == IR_F32) {
			float *o = out->data, c = (float)k;
			for (int64_t i = 0; i < out->numel; i++)
				o[i] /= c;
		} else {
			double *o = out->data, c = (double)k;
			for (int64_t i = 0; i < out->numel; i++)
				o[i] /= c;
		}
	}
	return 0;
}

static const ew_bin *ew_table(ir_node *n)
{
	switch (n->op) {
	case IR_OP_Add: case IR_OP_Sum: case IR_OP_Mean: return ew_ADD_tab;
	case IR_OP_Sub: return ew_SUB_tab;
	case IR_OP_Mul: return ew_MUL_tab;
	case IR_OP_Div: return ew_DIV_tab;
	case IR_OP_Mod: return ir_attr_int(n, "fmod", 0) ? ew_FMOD_tab : ew_MOD_tab;
	case IR_OP_Max: return ew_MAX_tab;
	case IR_OP_Min: return ew_MIN_tab;
	case IR_OP_Equal: return ew_EQ_tab;
	case IR_OP_Less: return ew_LT_tab;
	case IR_OP_LessOrEqual: return ew_LE_tab;
	case IR_OP_Greater: return ew_GT_tab;
	case IR_OP_GreaterOrEqual: return ew_GE_tab;
	case IR_OP_And: return ew_AND_tab;
	case IR_OP_Or: return ew_OR_tab;
	case IR_OP_Xor: return ew_XOR_tab;
	default: return NULL;
	}
}

int elementwise_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	ir_tensor *o = out[0];
	if (ew_check_run(g, n, in, o))
		return -1;
	ir_dtype it = in[n->op == IR_OP_Where ? 1 : 0]->dtype;
	/* Re-check dtypes on the tensors themselves: the kernels trust them. */
	ir_value tv[3];
	ir_value *tp[3];
	int nt = n->nin < 3 ? n->nin : 3;
	for (int i = 0; i < nt; i++) {
		memset(&tv[i], 0, sizeof tv[i]);
		tv[i].dtype = in[i]->dtype;
		tp[i] = &tv[i];
	}
	for (int i = 3; i < n->nin; i++)
		if (in[i]->dtype != it)
			return ir_error(g, n, "input %d has dtype %s but input 0 has %s", i,
					ir_dtype_name(in[i]->dtype), ir_dtype_name(it));
	ir_dtype rt;
	if (ew_types(g, n, nt, tp, &rt))
		return -1;
	if (rt != o->dtype)
		return ir_error(g, n, "output tensor is %s, expected %s", ir_dtype_name(o->dtype),
				ir_dtype_name(rt));

	switch (n->op) {
	case IR_OP_Where: {
		size_t es = ir_dtype_size(it);
		const ir_tensor *w[3] = {in[0], in[1], in[2]};
		ew_iterate(o, 3, w, ew_visit_where, &es);
		return 0;
	}
	case IR_OP_Pow:
		if (it == IR_F32 && in[1]->dtype == IR_F32) {
			ew_apply2(o, in[0], in[1], ew_pow_f32);
		} else if (it == IR_F64 && in[1]->dtype == IR_F64) {
			ew_apply2(o, in[0], in[1], ew_pow_f64);
		} else {
			ew_pow_ctx c = {it, in[1]->dtype, 0};
			const ir_tensor *w[2] = {in[0], in[1]};
			ew_iterate(o, 2, w, ew_visit_pow, &c);
			if (c.zero_neg)
				return ir_error(g, n, "integer 0 raised to a negative power (division by zero)");
		}
		return 0;
	case IR_OP_Max: case IR_OP_Min: case IR_OP_Sum: case IR_OP_Mean:
		return ew_variadic(g, n, in, o, ew_table(n)[it]);
	case IR_OP_Div: case IR_OP_Mod:
		if (ew_check_divisor(g, n, in[1], o))
			return -1;
		break;
	default:
		break;
	}
	const ew_bin *tab = ew_table(n);
	if (!tab || !tab[it])
		return ir_error(g, n, "no kernel for dtype %s", ir_dtype_name(it));
	ew_apply2(o, in[0], in[1], tab[it]);
	return 0;
}
