/* cgen_unary.c - C emission for the 'unary' op family (see ir/ops.def):
 * activations and elementwise math, Identity, Dropout (inference, with
 * its mask), Clip, Cast and CastLike. Every op is one flat loop over the
 * elements; float32 uses the <math.h> float functions.
 *
 * Semantics equal passes/op_unary.c: Sigmoid and Softplus go through
 * exp(-|x|) so they cannot overflow; NaN propagates through Relu, Clip,
 * HardSigmoid and Sign; integer Neg and Abs wrap (-MIN == MIN). Cast:
 * float -> integer truncates and saturates at the type's range with NaN
 * -> 0 (C leaves out-of-range conversions undefined, so the generated code
 * tests before converting); integer -> integer wraps; anything -> bool is
 * x != 0 with NaN true; double -> float rounds.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "ops.h"

/* A compile-time double converted like cg_d2i_expr, as a literal of t. */
static const char *un_const_literal(ir_dtype t, double v, char *buf, size_t len)
{
	if (!ir_dtype_is_float(t)) {
		double lo, hi;
		cg_int_range(t, &lo, &hi);
		if (isnan(v)) {
			v = 0;
		} else if (v <= lo || v >= hi) {
			const char *l, *h;
			cg_int_limits(t, &l, &h);
			snprintf(buf, len, "(%s)%s", ir_dtype_c_type(t), v <= lo ? l : h);
			return buf;
		}
		v = trunc(v);
	}
	return cg_literal(t, v, buf, len);
}

static void un_memcpy(cgen *cg, int j, int i, const ir_value *v)
{
	int64_t bytes = cg_numel(v) * (int64_t)ir_dtype_size(v->dtype);
	if (bytes)
		cg_printf(cg, "\tmemcpy(y%d, x%d, %" PRId64 ");\n", j, i, bytes);
	else
		cg_printf(cg, "\t(void)y%d;\n\t(void)x%d;\n", j, i);
}

/* Cast of x (dtype s) to dtype d as an expression; may print a local
 * first (at indentation 2). */
static void un_cast_expr(cgen *cg, ir_dtype s, ir_dtype d, char *e, size_t len)
{
	if (d == IR_BOOL) {
		/* NaN is true; a <= / >= pair avoids -Wfloat-equal */
		snprintf(e, len, "%s", ir_dtype_is_float(s) ? "!(x >= 0 && x <= 0)" : "x != 0");
	} else if (ir_dtype_is_float(s) && !ir_dtype_is_float(d)) {
		cg_printf(cg, "\t\tconst double v = (double)x;\n");
		cg_d2i_expr(e, len, d, "v");
	} else {
		snprintf(e, len, "x");
	}
}

/* One loop y0[i] = (R)(expr) over nel elements, with const T x = x0[i]. */
static void un_loop_open(cgen *cg, int64_t nel, ir_dtype t)
{
	cg_printf(cg, "\tfor (int64_t i = 0; i < %" PRId64 "; i++) {\n", nel);
	cg_printf(cg, "\t\tconst %s x = x0[i];\n", ir_dtype_c_type(t));
}

static void un_loop_close(cgen *cg, ir_dtype rt, const char *expr)
{
	cg_printf(cg, "\t\ty0[i] = (%s)(%s);\n\t}\n", ir_dtype_c_type(rt), expr);
}

/* Clip's bounds as C expressions (NULL: no bound). */
static int un_clip_bounds(cgen *cg, ir_node *n, ir_dtype t, char *lo, char *hi, size_t len, int *has_lo,
			  int *has_hi)
{
	*has_lo = *has_hi = 0;
	if (op_opset_before(n, 11)) {
		const ir_attr *a;
		if ((a = ir_attr_find(n, "min"))) {
			un_const_literal(t, a->f, lo, len);
			*has_lo = 1;
		}
		if ((a = ir_attr_find(n, "max"))) {
			un_const_literal(t, a->f, hi, len);
			*has_hi = 1;
		}
		return 0;
	}
	for (int i = 1; i < n->nin && i < 3; i++) {
		if (!n->in[i])
			continue;
		if (cg_numel(n->in[i]) != 1 || n->in[i]->dtype != t)
			return ir_error(cg->g, n, "bound '%s' must be a %s scalar", i == 1 ? "min" : "max",
					ir_dtype_name(t));
		snprintf(i == 1 ? lo : hi, len, "x%d[0]", i);
		*(i == 1 ? has_lo : has_hi) = 1;
	}
	return 0;
}

int cgen_unary(cgen *cg, ir_node *n)
{
	ir_value *in = n->in[0], *out = n->out[0];
	ir_dtype t = in->dtype, rt = out->dtype;
	int64_t nel = cg_numel(in);
	const char *T = ir_dtype_c_type(t), *W = cg_wide_unsigned(t);
	const char *F = t == IR_F32 ? "f" : "";
	int fl = ir_dtype_is_float(t), sg = ir_dtype_is_signed(t);
	char e[512], l0[64], l1[64], l2[64];

	cg_begin_fn(cg, n);
	if (nel == 0) {
		cg_void_params(cg, n);
		cg_printf(cg, "}\n");
		return 0;
	}
	switch (n->op) {
	case IR_OP_Identity:
		un_memcpy(cg, 0, 0, in);
		cg_printf(cg, "}\n");
		return 0;
	case IR_OP_Dropout:
		/* inference: the identity, and a mask of ones (check refused
		 * training mode) */
		for (int i = 1; i < n->nin; i++)
			if (n->in[i])
				cg_printf(cg, "\t(void)x%d;\n", i);
		un_memcpy(cg, 0, 0, in);
		if (n->nout > 1 && n->out[1])
			cg_printf(cg, "\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\ty1[i] = (%s)1;\n", nel,
				  ir_dtype_c_type(n->out[1]->dtype));
		cg_printf(cg, "}\n");
		return 0;
	case IR_OP_Cast:
	case IR_OP_CastLike:
		if (n->op == IR_OP_CastLike && n->nin > 1 && n->in[1])
			cg_printf(cg, "\t(void)x1;\n");
		if (t == rt) {
			un_memcpy(cg, 0, 0, in);
			cg_printf(cg, "}\n");
			return 0;
		}
		un_loop_open(cg, nel, t);
		un_cast_expr(cg, t, rt, e, sizeof e);
		un_loop_close(cg, rt, e);
		cg_printf(cg, "}\n");
		return 0;
	case IR_OP_Clip: {
		char lo[64], hi[64];
		int has_lo, has_hi;
		if (un_clip_bounds(cg, n, t, lo, hi, sizeof lo, &has_lo, &has_hi))
			return -1;
		if (has_lo)
			cg_printf(cg, "\tconst %s lo = %s;\n", T, lo);
		if (has_hi)
			cg_printf(cg, "\tconst %s hi = %s;\n", T, hi);
		un_loop_open(cg, nel, t);
		/* min(max(x, lo), hi), also when lo > hi (then hi) */
		if (has_lo && has_hi)
			snprintf(e, sizeof e, "x < lo ? (lo > hi ? hi : lo) : (x > hi ? hi : x)");
		else if (has_lo)
			snprintf(e, sizeof e, "x < lo ? lo : x");
		else if (has_hi)
			snprintf(e, sizeof e, "x > hi ? hi : x");
		else
			snprintf(e, sizeof e, "x");
		un_loop_close(cg, t, e);
		cg_printf(cg, "}\n");
		return 0;
	}
	default:
		break;
	}

	double alpha, beta;
	un_loop_open(cg, nel, t);
	switch (n->op) {
	case IR_OP_Not: snprintf(e, sizeof e, "!x"); break;
	case IR_OP_Relu: snprintf(e, sizeof e, "x < 0 ? (%s)0 : x", T); break;
	case IR_OP_Neg:
		if (fl)
			snprintf(e, sizeof e, "-x");
		else
			snprintf(e, sizeof e, "0u - (%s)x", W);
		break;
	case IR_OP_Abs:
		if (fl)
			snprintf(e, sizeof e, "fabs%s(x)", F);
		else if (sg)
			snprintf(e, sizeof e, "x < 0 ? (%s)(0u - (%s)x) : x", T, W);
		else
			snprintf(e, sizeof e, "x");
		break;
	case IR_OP_Sign:
		if (fl)
			snprintf(e, sizeof e, "x > 0 ? (%s)1 : x < 0 ? (%s)-1 : isnan(x) ? x : (%s)0", T, T, T);
		else if (sg)
			snprintf(e, sizeof e, "(x > 0) - (x < 0)");
		else
			snprintf(e, sizeof e, "x > 0");
		break;
	case IR_OP_Erf:
		if (fl) {
			snprintf(e, sizeof e, "erf%s(x)", F);
		} else {
			/* erf of an integer is -1, 0 or 1 after truncation */
			cg_printf(cg, "\t\tconst double v = erf((double)x);\n");
			snprintf(e, sizeof e, "v");
		}
		break;
	case IR_OP_LeakyRelu:
		alpha = ir_attr_float(n, "alpha", 0.01);
		snprintf(e, sizeof e, "x < 0 ? %s * x : x", cg_literal(t, alpha, l0, sizeof l0));
		break;
	case IR_OP_Elu:
		alpha = ir_attr_float(n, "alpha", 1.0);
		snprintf(e, sizeof e, "x < 0 ? %s * expm1%s(x) : x", cg_literal(t, alpha, l0, sizeof l0), F);
		break;
	case IR_OP_HardSigmoid:
		alpha = ir_attr_float(n, "alpha", 0.2);
		beta = ir_attr_float(n, "beta", 0.5);
		cg_printf(cg, "\t\tconst %s h = %s * x + %s;\n", T, cg_literal(t, alpha, l0, sizeof l0),
			  cg_literal(t, beta, l1, sizeof l1));
		cg_printf(cg, "\t\tconst %s c = h < 0 ? %s : h;\n", T, cg_literal(t, 0, l2, sizeof l2));
		snprintf(e, sizeof e, "c > 1 ? %s : c", cg_literal(t, 1, l0, sizeof l0));
		break;
	case IR_OP_Sigmoid:
		/* exp of -|x| never overflows */
		cg_printf(cg, "\t\tconst %s z = exp%s(-fabs%s(x));\n", T, F, F);
		snprintf(e, sizeof e, "x >= 0 ? 1 / (1 + z) : z / (1 + z)");
		break;
	case IR_OP_Softplus:
		snprintf(e, sizeof e, "(x > 0 ? x : 0) + log1p%s(exp%s(-fabs%s(x)))", F, F, F);
		break;
	case IR_OP_Tanh: snprintf(e, sizeof e, "tanh%s(x)", F); break;
	case IR_OP_Exp: snprintf(e, sizeof e, "exp%s(x)", F); break;
	case IR_OP_Log: snprintf(e, sizeof e, "log%s(x)", F); break;
	case IR_OP_Sqrt: snprintf(e, sizeof e, "sqrt%s(x)", F); break;
	case IR_OP_Reciprocal: snprintf(e, sizeof e, "1 / x"); break;
	case IR_OP_Floor: snprintf(e, sizeof e, "floor%s(x)", F); break;
	case IR_OP_Ceil: snprintf(e, sizeof e, "ceil%s(x)", F); break;
	default:
		return ir_error(cg->g, n, "the C backend has no unary kernel for %s", ir_ops[n->op].name);
	}
	un_loop_close(cg, rt, e);
	cg_printf(cg, "}\n");
	return 0;
}
