/* op_unary.c - the 'unary' op family (see ir/ops.def): activations and
 * elementwise math, Identity, Dropout (inference), Clip, Cast and CastLike.
 * Check, infer, run; every output has the shape of input 0.
 *
 * Numerics: float32 data is computed in float with the C library's float
 * functions (Erf and Abs in double, then rounded); Sigmoid uses exp(-|x|) on the side that cannot overflow and
 * Softplus max(x,0) + log1p(exp(-|x|)), so both are exact in the limits.
 * NaN propagates through Relu, LeakyRelu, Clip, HardSigmoid and Sign.
 *
 * Cast rules (all pairs of supported dtypes): float -> integer truncates
 * toward zero and saturates at the type's range, NaN -> 0 (C leaves this
 * undefined; onnxruntime gives whatever the CPU gives); integer -> integer
 * wraps modulo 2^N (numpy, onnxruntime); anything -> bool is x != 0 (NaN
 * is true); bool -> anything is 0 or 1; double -> float rounds, overflowing
 * to +-inf. Integer Neg and Abs wrap (-MIN == MIN).
 */
#include "ops.h"

#include <math.h>
#include <string.h>

/* -------------------------------------------------------- dtype codes */

/* ONNX TensorProto.DataType names, for messages about types qnnc refuses. */
static const char *un_onnx_type_name(int64_t code)
{
	static const char *const names[] = {
		"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
		"STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
		"COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
		"FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0"};
	if (code >= 0 && code < (int64_t)(sizeof names / sizeof names[0]))
		return names[code];
	return NULL;
}

static int un_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
		char y = *b >= 'a' && *b <= 'z' ? (char)(*b - 32) : *b;
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* Cast's 'to': an ONNX dtype code (opset >= 6) or, before, a name such as
 * "FLOAT". Returns 0 with *dt set, or -1 with an error. */
static int un_cast_to(ir_graph *g, ir_node *n, ir_dtype *dt)
{
	const ir_attr *a = ir_attr_find(n, "to");
	if (!a)
		return ir_error(g, n, "attribute 'to' is required");
	int64_t code = -1;
	if (a->kind == IR_ATTR_INT) {
		code = a->i;
	} else if (a->kind == IR_ATTR_STRING) {
		for (int c = 0; un_onnx_type_name(c); c++)
			if (un_ieq(a->s, un_onnx_type_name(c)))
				code = c;
		if (code < 0)
			return ir_error(g, n, "attribute 'to' names an unknown type '%s'", a->s);
	} else {
		return ir_error(g, n, "attribute 'to' must be an int (an ONNX TensorProto.DataType)");
	}
	const char *name = un_onnx_type_name(code);
	if (!name || code == 0)
		return ir_error(g, n, "attribute 'to' = %lld is not a valid ONNX data type", (long long)code);
	if (!ir_dtype_supported((int)code))
		return ir_error(g, n, "Cast to %s (%lld) is not supported; qnnc supports float, double, "
				"int8..int64, uint8..uint64 and bool", name, (long long)code);
	*dt = (ir_dtype)code;
	return 0;
}

/* -------------------------------------------------------------- typing */

#define UN_BOOL (1u << IR_BOOL)
#define UN_SIGNED ((1u << IR_I8) | (1u << IR_I16) | (1u << IR_I32) | (1u << IR_I64))

/* Dtypes the ONNX spec allows for input 0. */
static unsigned un_mask(ir_op op)
{
	switch (op) {
	case IR_OP_Identity: case IR_OP_Cast: case IR_OP_CastLike: return OP_ANY;
	case IR_OP_Relu: case IR_OP_Neg: return OP_FLOATS | UN_SIGNED;
	case IR_OP_Abs: case IR_OP_Sign: case IR_OP_Erf: case IR_OP_Clip: return OP_NUMERIC;
	case IR_OP_Not: return UN_BOOL;
	default: return OP_FLOATS;
	}
}

/* Check the dtypes that are known and find the output dtype. */
static int un_types(ir_graph *g, ir_node *n, ir_value *const *in, ir_dtype *res)
{
	const ir_value *x = in[0];
	ir_dtype xt = x ? x->dtype : IR_UNDEF;
	*res = xt;
	if (op_require_dtype(g, n, x, un_mask(n->op), "input"))
		return -1;
	switch (n->op) {
	case IR_OP_Cast:
		return un_cast_to(g, n, res);
	case IR_OP_CastLike:
		*res = n->nin > 1 && in[1] ? in[1]->dtype : IR_UNDEF;
		return 0;
	case IR_OP_Clip:
		for (int i = 1; i < n->nin && i < 3; i++) {
			const ir_value *b = in[i];
			if (b && b->dtype != IR_UNDEF && xt != IR_UNDEF && b->dtype != xt)
				return ir_error(g, n, "bound '%s' has dtype %s but the input has %s",
						i == 1 ? "min" : "max", ir_dtype_name(b->dtype), ir_dtype_name(xt));
		}
		return 0;
	case IR_OP_Dropout:
		if (n->nin > 1 && op_require_dtype(g, n, in[1], OP_FLOATS, "ratio"))
			return -1;
		if (n->nin > 2 && op_require_dtype(g, n, in[2], UN_BOOL, "training_mode"))
			return -1;
		return 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------- Dropout */

/* Training mode is refused unless the ratio is known to be 0 (then the
 * op is the identity). ratio and train are the inputs' data where known. */
static int un_dropout_mode(ir_graph *g, ir_node *n, const ir_tensor *ratio, const ir_tensor *train)
{
	int training = ir_attr_int(n, "training_mode", 0) != 0;
	if (train) {
		if (train->numel != 1)
			return ir_error(g, n, "training_mode must be a scalar, got %lld elements",
					(long long)train->numel);
		training |= ir_tensor_get_i64(train, 0) != 0;
	}
	if (!training)
		return 0;
	double r = 0.5;
	int known = 1;
	if (op_opset_before(n, 12)) {
		r = ir_attr_float(n, "ratio", 0.5);
	} else if (n->nin > 1 && n->in[1]) {
		known = ratio && ratio->numel == 1;
		if (known)
			r = ir_tensor_get_f64(ratio, 0);
	}
	if (known && r == 0)
		return 0;
	return ir_error(g, n, "training_mode=1 is not supported: dropout is random");
}

/* ------------------------------------------------------ check and infer */

int unary_check(ir_graph *g, ir_node *n)
{
	if (op_check_arity(g, n))
		return -1;
	double f;
	int64_t i;
	switch (n->op) {
	case IR_OP_LeakyRelu:
	case IR_OP_Elu:
		if (op_attr_float(g, n, "alpha", 0, &f))
			return -1;
		break;
	case IR_OP_HardSigmoid:
		if (op_attr_float(g, n, "alpha", 0, &f) || op_attr_float(g, n, "beta", 0, &f))
			return -1;
		break;
	case IR_OP_Clip:
		if (op_opset_before(n, 11)) {
			if (n->nin > 1)
				return ir_error(g, n, "Clip before opset 11 takes its bounds as attributes, "
						"not inputs (opset %d)", n->opset);
			if (op_attr_float(g, n, "min", 0, &f) || op_attr_float(g, n, "max", 0, &f))
				return -1;
		} else if (ir_attr_find(n, "min") || ir_attr_find(n, "max")) {
			return ir_error(g, n, "attributes 'min'/'max' were replaced by inputs in opset 11 "
					"(this node has opset %d)", n->opset);
		}
		break;
	case IR_OP_Cast:
		if (op_attr_int(g, n, "saturate", 1, &i))
			return -1;
		break;
	case IR_OP_Dropout:
		if (op_attr_float(g, n, "ratio", 0.5, &f) || op_attr_int(g, n, "seed", 0, &i) ||
		    op_attr_int(g, n, "is_test", 0, &i) || op_attr_int(g, n, "training_mode", 0, &i))
			return -1;
		if (un_dropout_mode(g, n, n->nin > 1 && n->in[1] ? n->in[1]->konst : NULL,
				    n->nin > 2 && n->in[2] ? n->in[2]->konst : NULL))
			return -1;
		break;
	default:
		break;
	}
	ir_dtype dt;
	return un_types(g, n, n->in, &dt);
}

int unary_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	if (!in[0])
		return ir_error(g, n, "input 0 is missing");
	ir_dtype dt;
	if (un_types(g, n, in, &dt))
		return -1;
	if (n->op == IR_OP_Clip) {
		for (int i = 1; i < n->nin && i < 3; i++) {
			int64_t ne = in[i] ? ir_shape_numel(&in[i]->shape) : 1;
			if (ne >= 0 && ne != 1) {
				char s[128];
				return ir_error(g, n, "bound '%s' must be a scalar, got shape %s",
						i == 1 ? "min" : "max", ir_shape_str(&in[i]->shape, s, sizeof s));
			}
		}
	}
	if (n->op == IR_OP_Dropout &&
	    un_dropout_mode(g, n, n->nin > 1 && in[1] ? in[1]->konst : NULL,
			    n->nin > 2 && in[2] ? in[2]->konst : NULL))
		return -1;
	out[0]->dtype = dt;
	out[0]->shape = in[0]->shape;
	if (n->op == IR_OP_Dropout && n->nout > 1 && out[1]) {
		/* The mask was a tensor of the input's type before opset 10. */
		out[1]->dtype = op_opset_before(n, 10) ? in[0]->dtype : IR_BOOL;
		out[1]->shape = in[0]->shape;
	}
	return 0;
}

/* ------------------------------------------------------------ kernels */

/* o[i] = EXPR of x = a[i], input type T, output type R; nel, in and out
 * come from the enclosing function. */
#define UN_LOOP(T, R, EXPR)                                         \
	do {                                                        \
		const T *restrict a = in->data;                     \
		R *restrict o = out->data;                          \
		OP_FOR(nel, T x = a[i]; o[i] = (R)(EXPR););         \
	} while (0)

/* Float math, once per precision: F is the C library suffix (f or none). */
#define UN_MATH(T, S, F)                                                     \
	static inline T un_sigmoid_##S(T x)                                  \
	{                                                                    \
		if (x >= 0)                                                  \
			return 1 / (1 + exp##F(-x));                         \
		T e = exp##F(x);                                             \
		return e / (1 + e);                                          \
	}                                                                    \
	static inline T un_softplus_##S(T x)                                 \
	{                                                                    \
		return (x > 0 ? x : 0) + log1p##F(exp##F(-fabs##F(x)));      \
	}                                                                    \
	static inline T un_hardsigmoid_##S(T x, T alpha, T beta)             \
	{                                                                    \
		T y = alpha * x + beta;                                      \
		y = y < 0 ? 0 : y;                                           \
		return y > 1 ? 1 : y;                                        \
	}                                                                    \
	static inline T un_sign_##S(T x)                                     \
	{                                                                    \
		return x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x; /* NaN stays */ \
	}
UN_MATH(float, f32, f)
UN_MATH(double, f64, )

/* Apply EXPR (in x, with S the type suffix and F the libm suffix) to a
 * float32 or float64 tensor. */
#define UN_FLOAT_OP(EXPR_F32, EXPR_F64)                          \
	do {                                                     \
		if (in->dtype == IR_F32)                         \
			UN_LOOP(float, float, EXPR_F32);         \
		else                                             \
			UN_LOOP(double, double, EXPR_F64);       \
	} while (0)

/* Type lists: X(dtype code, C type, suffix, wide unsigned type, lowest,
 * highest). Integer negation goes through the unsigned type to wrap. */
#define UN_FLOATS(X) X(IR_F32, float, f32, float, -INFINITY, INFINITY) \
	X(IR_F64, double, f64, double, -INFINITY, INFINITY)
#define UN_SINTS(X)                                                  \
	X(IR_I8, int8_t, i8, uint32_t, INT8_MIN, INT8_MAX)           \
	X(IR_I16, int16_t, i16, uint32_t, INT16_MIN, INT16_MAX)      \
	X(IR_I32, int32_t, i32, uint32_t, INT32_MIN, INT32_MAX)      \
	X(IR_I64, int64_t, i64, uint64_t, INT64_MIN, INT64_MAX)
#define UN_UINTS(X)                                                  \
	X(IR_U8, uint8_t, u8, uint32_t, 0, UINT8_MAX)                \
	X(IR_U16, uint16_t, u16, uint32_t, 0, UINT16_MAX)            \
	X(IR_U32, uint32_t, u32, uint32_t, 0, UINT32_MAX)            \
	X(IR_U64, uint64_t, u64, uint64_t, 0, UINT64_MAX)
#define UN_NUMERIC(X) UN_FLOATS(X) UN_SINTS(X) UN_UINTS(X)

#define UN_X_ABS_F(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, fabs(x)); break;
#define UN_X_ABS_S(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, x < 0 ? (T)(0u - (W)x) : x); break;
#define UN_X_ABS_U(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, x); break;
#define UN_X_NEG_F(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, -x); break;
#define UN_X_NEG_S(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, (T)(0u - (W)x)); break;
#define UN_X_RELU(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, x < 0 ? 0 : x); break;
#define UN_X_SIGN_F(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, un_sign_##S(x)); break;
#define UN_X_SIGN_S(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, (x > 0) - (x < 0)); break;
#define UN_X_SIGN_U(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, x > 0); break;
#define UN_X_ERF_F(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, erf(x)); break;
#define UN_X_ERF_I(C, T, S, W, LO, HI) case C: UN_LOOP(T, T, op_d2_##S(erf((double)x))); break;

/* min(max(x, lo), hi), also when lo > hi (then hi); NaN x stays NaN. */
#define UN_CLAMP(x, lo, hi) ((x) < (lo) ? ((lo) > (hi) ? (hi) : (lo)) : ((x) > (hi) ? (hi) : (x)))

/* Clip bounds: a bound input (scalar of the input's type), else the
 * attribute (before opset 11), else no bound. */
#define UN_X_CLIP(C, T, S, W, LO, HI)                                      \
	case C: {                                                          \
		T lo = LO, hi = HI;                                        \
		if (tlo)                                                   \
			lo = *(const T *)tlo->data;                        \
		else if (has_alo)                                          \
			lo = op_d2_##S(alo);                               \
		if (thi)                                                   \
			hi = *(const T *)thi->data;                        \
		else if (has_ahi)                                          \
			hi = op_d2_##S(ahi);                               \
		UN_LOOP(T, T, UN_CLAMP(x, lo, hi));                        \
		break;                                                     \
	}

static int un_clip(ir_graph *g, ir_node *n, ir_tensor **in_, ir_tensor *out)
{
	const ir_tensor *in = in_[0], *tlo = NULL, *thi = NULL;
	int64_t nel = in->numel;
	double alo = 0, ahi = 0;
	int has_alo = 0, has_ahi = 0;
	if (op_opset_before(n, 11)) {
		has_alo = ir_attr_find(n, "min") != NULL;
		has_ahi = ir_attr_find(n, "max") != NULL;
		alo = ir_attr_float(n, "min", 0);
		ahi = ir_attr_float(n, "max", 0);
	} else {
		tlo = n->nin > 1 ? in_[1] : NULL;
		thi = n->nin > 2 ? in_[2] : NULL;
		for (int i = 1; i < n->nin && i < 3; i++) {
			const ir_tensor *b = in_[i];
			if (b && (b->dtype != in->dtype || b->numel != 1))
				return ir_error(g, n, "bound '%s' must be a %s scalar", i == 1 ? "min" : "max",
						ir_dtype_name(in->dtype));
		}
	}
	switch (in->dtype) {
	UN_NUMERIC(UN_X_CLIP)
	default: return ir_error(g, n, "Clip does not support dtype %s", ir_dtype_name(in->dtype));
	}
	return 0;
}

/* Cast: for destination type DT, CONVF converts a float source element,
 * CONVI an integer or bool one (UN_LOOP's final (DT) does the rest). */
#define UN_ID(x) (x)
#define UN_NZ(x) ((x) != 0)
#define UN_CAST_FROM(DT, CONVF, CONVI)                                      \
	switch (in->dtype) {                                                \
	case IR_F32: UN_LOOP(float, DT, CONVF(x)); break;                   \
	case IR_F64: UN_LOOP(double, DT, CONVF(x)); break;                  \
	case IR_I8: UN_LOOP(int8_t, DT, CONVI(x)); break;                   \
	case IR_I16: UN_LOOP(int16_t, DT, CONVI(x)); break;                 \
	case IR_I32: UN_LOOP(int32_t, DT, CONVI(x)); break;                 \
	case IR_I64: UN_LOOP(int64_t, DT, CONVI(x)); break;                 \
	case IR_U8: case IR_BOOL: UN_LOOP(uint8_t, DT, CONVI(x)); break;    \
	case IR_U16: UN_LOOP(uint16_t, DT, CONVI(x)); break;                \
	case IR_U32: UN_LOOP(uint32_t, DT, CONVI(x)); break;                \
	case IR_U64: UN_LOOP(uint64_t, DT, CONVI(x)); break;                \
	default: IR_UNREACHABLE();                                          \
	}
#define UN_X_CAST_F(C, T, S, W, LO, HI) case C: UN_CAST_FROM(T, UN_ID, UN_ID) break;
#define UN_X_CAST_I(C, T, S, W, LO, HI) case C: UN_CAST_FROM(T, op_d2_##S, UN_ID) break;

static void un_cast(const ir_tensor *in, ir_tensor *out)
{
	int64_t nel = in->numel;
	if (in->dtype == out->dtype) {
		memcpy(out->data, in->data, (size_t)nel * ir_dtype_size(in->dtype));
		return;
	}
	switch (out->dtype) {
	UN_FLOATS(UN_X_CAST_F)
	UN_SINTS(UN_X_CAST_I)
	UN_UINTS(UN_X_CAST_I)
	case IR_BOOL: UN_CAST_FROM(uint8_t, UN_NZ, UN_NZ) break;
	default: IR_UNREACHABLE();
	}
}

/* ---------------------------------------------------------------- run */

int unary_run(ir_graph *g, ir_node *n, ir_tensor **in_, ir_tensor **outs)
{
	const ir_tensor *in = in_[0];
	ir_tensor *out = outs[0];
	if (!in)
		return ir_error(g, n, "input 0 is missing");
	int64_t nel = in->numel;
	if (out->numel != nel)
		return ir_error(g, n, "output has %lld elements, input %lld", (long long)out->numel,
				(long long)nel);
	/* The kernels trust the dtypes: check them on the tensors. */
	ir_value tv[2];
	ir_value *tp[3] = {&tv[0], NULL, NULL};
	memset(tv, 0, sizeof tv);
	tv[0].dtype = in->dtype;
	if (n->op == IR_OP_CastLike && n->nin > 1 && in_[1]) {
		tv[1].dtype = in_[1]->dtype;
		tp[1] = &tv[1];
	}
	ir_dtype rt;
	if (un_types(g, n, tp, &rt))
		return -1;
	if (rt != out->dtype)
		return ir_error(g, n, "output tensor is %s, expected %s", ir_dtype_name(out->dtype),
				ir_dtype_name(rt));

	int f32 = in->dtype == IR_F32;
	double alpha, beta;
	switch (n->op) {
	case IR_OP_Identity:
		memcpy(out->data, in->data, (size_t)nel * ir_dtype_size(in->dtype));
		return 0;
	case IR_OP_Dropout:
		if (un_dropout_mode(g, n, n->nin > 1 ? in_[1] : NULL, n->nin > 2 ? in_[2] : NULL))
			return -1;
		memcpy(out->data, in->data, (size_t)nel * ir_dtype_size(in->dtype));
		if (n->nout > 1 && outs[1]) {
			ir_tensor *m = outs[1];
			if (m->numel != nel)
				return ir_error(g, n, "mask has %lld elements, input %lld",
						(long long)m->numel, (long long)nel);
			for (int64_t i = 0; i < nel; i++)
				ir_tensor_set_i64(m, i, 1);
		}
		return 0;
	case IR_OP_Cast:
	case IR_OP_CastLike:
		un_cast(in, out);
		return 0;
	case IR_OP_Clip:
		return un_clip(g, n, in_, out);
	case IR_OP_Not:
		UN_LOOP(uint8_t, uint8_t, !x);
		return 0;
	case IR_OP_Relu:
		switch (in->dtype) {
		UN_FLOATS(UN_X_RELU)
		UN_SINTS(UN_X_RELU)
		default: IR_UNREACHABLE();
		}
		return 0;
	case IR_OP_Neg:
		switch (in->dtype) {
		UN_FLOATS(UN_X_NEG_F)
		UN_SINTS(UN_X_NEG_S)
		default: IR_UNREACHABLE();
		}
		return 0;
	case IR_OP_Abs:
		switch (in->dtype) {
		UN_FLOATS(UN_X_ABS_F)
		UN_SINTS(UN_X_ABS_S)
		UN_UINTS(UN_X_ABS_U)
		default: IR_UNREACHABLE();
		}
		return 0;
	case IR_OP_Sign:
		switch (in->dtype) {
		UN_FLOATS(UN_X_SIGN_F)
		UN_SINTS(UN_X_SIGN_S)
		UN_UINTS(UN_X_SIGN_U)
		default: IR_UNREACHABLE();
		}
		return 0;
	case IR_OP_Erf:
		switch (in->dtype) {
		UN_FLOATS(UN_X_ERF_F)
		UN_SINTS(UN_X_ERF_I)
		UN_UINTS(UN_X_ERF_I)
		default: IR_UNREACHABLE();
		}
		return 0;
	default:
		break;
	}

	/* The rest take float32 or float64 only (un_types checked). */
	switch (n->op) {
	case IR_OP_LeakyRelu:
		alpha = ir_attr_float(n, "alpha", 0.01);
		if (f32) {
			float a32 = (float)alpha;
			UN_LOOP(float, float, x < 0 ? a32 * x : x);
		} else {
			UN_LOOP(double, double, x < 0 ? alpha * x : x);
		}
		break;
	case IR_OP_Elu:
		alpha = ir_attr_float(n, "alpha", 1.0);
		if (f32) {
			float a32 = (float)alpha;
			UN_LOOP(float, float, x < 0 ? a32 * expm1f(x) : x);
		} else {
			UN_LOOP(double, double, x < 0 ? alpha * expm1(x) : x);
		}
		break;
	case IR_OP_HardSigmoid:
		alpha = ir_attr_float(n, "alpha", 0.2);
		beta = ir_attr_float(n, "beta", 0.5);
		UN_FLOAT_OP(un_hardsigmoid_f32(x, (float)alpha, (float)beta),
			    un_hardsigmoid_f64(x, alpha, beta));
		break;
	case IR_OP_Sigmoid: UN_FLOAT_OP(un_sigmoid_f32(x), un_sigmoid_f64(x)); break;
	case IR_OP_Softplus: UN_FLOAT_OP(un_softplus_f32(x), un_softplus_f64(x)); break;
	case IR_OP_Tanh: UN_FLOAT_OP(tanhf(x), tanh(x)); break;
	case IR_OP_Exp: UN_FLOAT_OP(expf(x), exp(x)); break;
	case IR_OP_Log: UN_FLOAT_OP(logf(x), log(x)); break;
	case IR_OP_Sqrt: UN_FLOAT_OP(sqrtf(x), sqrt(x)); break;
	case IR_OP_Reciprocal: UN_FLOAT_OP(1 / x, 1 / x); break;
	case IR_OP_Floor: UN_FLOAT_OP(floorf(x), floor(x)); break;
	case IR_OP_Ceil: UN_FLOAT_OP(ceilf(x), ceil(x)); break;
	default:
		return ir_error(g, n, "op %s is not in the unary family", ir_ops[n->op].name);
	}
	return 0;
}
