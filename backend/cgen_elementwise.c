/* cgen_elementwise.c - C emission for the 'elementwise' op family (see
 * ir/ops.def): broadcasting arithmetic, comparisons, logic, the variadic
 * Max / Min / Sum / Mean, Pow and Where.
 *
 * Broadcasting is resolved at compile time: every operand gets element
 * strides over the output's dims (0 along broadcast dims), size-1 dims are
 * dropped and dims that are contiguous in every operand are merged, so a
 * same-shape op is one flat loop, a scalar operand a loop-invariant load
 * and a row broadcast two loops whose inner one runs over contiguous
 * memory: gcc -O2 vectorises them.
 *
 * Semantics equal passes/op_elementwise.c: integer arithmetic wraps modulo
 * 2^N (computed in unsigned types, no signed overflow); Div truncates and
 * MIN / -1 wraps to MIN; Mod with fmod=0 takes the divisor's sign. The
 * interpreter refuses integer division by zero and 0 to a negative power;
 * generated code cannot fail, so there they give 0 (never UB). Max and Min
 * propagate NaN; float equality is spelt a <= b && a >= b so that clang's
 * -Wfloat-equal stays quiet.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static int ew_is_variadic(ir_op op)
{
	return op == IR_OP_Max || op == IR_OP_Min || op == IR_OP_Sum || op == IR_OP_Mean;
}

/* Print "y0[o] = (R)(expr);" at indentation ind. */
static void ew_store(cgen *cg, int ind, const char *o, ir_dtype rt, const char *expr)
{
	cg_tabs(cg, ind);
	cg_printf(cg, "y0[%s] = (%s)(%s);\n", o, ir_dtype_c_type(rt), expr);
}

/* max (want_max) or min of a and b into a, NaN winning for floats. */
static void ew_minmax_into(cgen *cg, int ind, ir_dtype t, int want_max, const char *a, const char *b)
{
	const char *cmp = want_max ? ">" : "<";
	cg_tabs(cg, ind);
	if (ir_dtype_is_float(t))
		cg_printf(cg, "%s = (%s %s %s || isnan(%s)) ? %s : %s;\n", a, a, cmp, b, a, a, b);
	else
		cg_printf(cg, "%s = %s %s %s ? %s : %s;\n", a, a, cmp, b, a, b);
}

/* Body of a binary op on locals a, b of dtype t (the output at index o). */
static int ew_binary_body(cgen *cg, ir_node *n, int ind, ir_dtype t, const char *o)
{
	const char *T = ir_dtype_c_type(t), *W = cg_wide_unsigned(t);
	int fl = ir_dtype_is_float(t), sg = ir_dtype_is_signed(t);
	/* 32/64-bit unsigned arithmetic already wraps without promotion. */
	int plain = fl || t == IR_U32 || t == IR_U64;
	const char *fsuf = t == IR_F32 ? "f" : "";
	char e[256];
	const char *sym = NULL;
	switch (n->op) {
	case IR_OP_Add: sym = "+"; break;
	case IR_OP_Sub: sym = "-"; break;
	case IR_OP_Mul: sym = "*"; break;
	default: break;
	}
	if (sym) {
		if (plain)
			snprintf(e, sizeof e, "a %s b", sym);
		else
			snprintf(e, sizeof e, "(%s)a %s (%s)b", W, sym, W);
		ew_store(cg, ind, o, t, e);
		return 0;
	}
	switch (n->op) {
	case IR_OP_Div:
		if (fl)
			snprintf(e, sizeof e, "a / b");
		else if (sg)
			snprintf(e, sizeof e, "b == 0 ? (%s)0 : b == -1 ? (%s)(0u - (%s)a) : (%s)(a / b)", T, T, W, T);
		else
			snprintf(e, sizeof e, "b == 0 ? (%s)0 : (%s)(a / b)", T, T);
		ew_store(cg, ind, o, t, e);
		return 0;
	case IR_OP_Mod:
		if (fl) {
			snprintf(e, sizeof e, "fmod%s(a, b)", fsuf);
		} else if (!sg) {
			snprintf(e, sizeof e, "b == 0 ? (%s)0 : (%s)(a %% b)", T, T);
		} else if (ir_attr_int(n, "fmod", 0)) {
			snprintf(e, sizeof e, "b == 0 || b == -1 ? (%s)0 : (%s)(a %% b)", T, T);
		} else {
			/* C's % has the dividend's sign; move to the divisor's */
			cg_tabs(cg, ind);
			cg_printf(cg, "const %s r = b == 0 || b == -1 ? (%s)0 : (%s)(a %% b);\n", T, T, T);
			snprintf(e, sizeof e, "r != 0 && (r < 0) != (b < 0) ? r + b : r");
		}
		ew_store(cg, ind, o, t, e);
		return 0;
	case IR_OP_Equal:
		ew_store(cg, ind, o, IR_BOOL, fl ? "a <= b && a >= b" : "a == b");
		return 0;
	case IR_OP_Less: ew_store(cg, ind, o, IR_BOOL, "a < b"); return 0;
	case IR_OP_LessOrEqual: ew_store(cg, ind, o, IR_BOOL, "a <= b"); return 0;
	case IR_OP_Greater: ew_store(cg, ind, o, IR_BOOL, "a > b"); return 0;
	case IR_OP_GreaterOrEqual: ew_store(cg, ind, o, IR_BOOL, "a >= b"); return 0;
	case IR_OP_And: ew_store(cg, ind, o, IR_BOOL, "(a != 0) & (b != 0)"); return 0;
	case IR_OP_Or: ew_store(cg, ind, o, IR_BOOL, "(a != 0) | (b != 0)"); return 0;
	case IR_OP_Xor: ew_store(cg, ind, o, IR_BOOL, "(a != 0) ^ (b != 0)"); return 0;
	default:
		return ir_error(cg->g, n, "the C backend has no elementwise kernel for %s", ir_ops[n->op].name);
	}
}

/* ---------------------------------------------------------------- Pow */

/* Print "neg" / "m" locals: the integer exponent b (dtype et) as a sign
 * and a 64-bit magnitude (uint64 exponents exceed int64). */
static void pow_exp_parts(cgen *cg, int ind, ir_dtype et)
{
	cg_tabs(cg, ind);
	if (ir_dtype_is_signed(et)) {
		cg_printf(cg, "const int neg = b < 0;\n");
		cg_tabs(cg, ind);
		cg_printf(cg, "const uint64_t m = neg ? 0u - (uint64_t)b : (uint64_t)b;\n");
	} else {
		cg_printf(cg, "const int neg = 0;\n");
		cg_tabs(cg, ind);
		cg_printf(cg, "const uint64_t m = (uint64_t)b;\n");
	}
}

/* Private helpers printed before the node's function. */
static void pow_helpers(cgen *cg, ir_node *n, ir_dtype bt, ir_dtype et)
{
	if (ir_dtype_is_float(et) || ir_dtype_is_float(bt))
		return;
	/* integer base and exponent: wrapping square-and-multiply */
	cg_printf(cg, "static uint64_t n%d_ipow(uint64_t x, uint64_t e)\n{\n\tuint64_t r = 1;\n"
		      "\twhile (e) {\n\t\tif (e & 1u)\n\t\t\tr *= x;\n\t\tx *= x;\n\t\te >>= 1;\n\t}\n"
		      "\treturn r;\n}\n\n", n->id);
}

static int pow_body(cgen *cg, ir_node *n, int ind, ir_dtype bt, ir_dtype et, const char *o)
{
	char e[512];
	if (bt == IR_F32 && et == IR_F32) {
		ew_store(cg, ind, o, bt, "powf(a, b)");
		return 0;
	}
	if (bt == IR_F64 && et == IR_F64) {
		ew_store(cg, ind, o, bt, "pow(a, b)");
		return 0;
	}
	if (ir_dtype_is_float(bt) && ir_dtype_is_float(et)) {
		cg_tabs(cg, ind);
		cg_printf(cg, "const double r = pow((double)a, (double)b);\n");
		ew_store(cg, ind, o, bt, "r");
		return 0;
	}
	if (ir_dtype_is_float(bt)) {
		/* integer exponent: beyond 2^53 it is not a double, so take
		 * |a|^m and fix the sign from m's parity */
		pow_exp_parts(cg, ind, et);
		cg_tabs(cg, ind);
		cg_printf(cg, "const double p = (double)m;\n");
		cg_tabs(cg, ind);
		cg_printf(cg, "const int big = m > UINT64_C(9007199254740992);\n");
		cg_tabs(cg, ind);
		cg_printf(cg, "double r = pow(big ? fabs((double)a) : (double)a, neg ? -p : p);\n");
		cg_tabs(cg, ind);
		cg_printf(cg, "if (big && a < 0 && (m & 1u))\n");
		cg_tabs(cg, ind + 1);
		cg_printf(cg, "r = -r;\n");
		ew_store(cg, ind, o, bt, "r");
		return 0;
	}
	if (ir_dtype_is_float(et)) {
		cg_tabs(cg, ind);
		cg_printf(cg, "const double r = pow((double)a, (double)b);\n");
		cg_d2i_expr(e, sizeof e, bt, "r");
		ew_store(cg, ind, o, bt, e);
		return 0;
	}
	/* integer ^ integer; a negative exponent gives 1 / a^m truncated */
	pow_exp_parts(cg, ind, et);
	cg_tabs(cg, ind);
	cg_printf(cg, "const uint64_t r = !neg ? n%d_ipow((uint64_t)a, m) : a == 1 ? 1u\n", n->id);
	cg_tabs(cg, ind + 1);
	cg_printf(cg, ": a == -1 ? ((m & 1u) ? UINT64_MAX : 1u) : 0u;\n");
	ew_store(cg, ind, o, bt, "r");
	return 0;
}

/* -------------------------------------------------------------- emit */

int cgen_elementwise(cgen *cg, ir_node *n)
{
	int nin = n->nin;
	if (nin + 1 > CG_NEST_MAXOPS)
		return ir_error(cg->g, n, "the C backend supports at most %d inputs here, this node has %d",
				CG_NEST_MAXOPS - 1, nin);
	for (int i = 0; i < nin; i++)
		if (!n->in[i])
			return ir_error(cg->g, n, "input %d is missing", i);
	int64_t dims[IR_MAX_RANK];
	int rank = cg_dims(n->out[0], dims);
	ir_dtype rt = n->out[0]->dtype;
	ir_dtype t = n->in[n->op == IR_OP_Where ? 1 : 0]->dtype;

	if (n->op == IR_OP_Pow && cg_numel(n->out[0]))
		pow_helpers(cg, n, t, n->in[1]->dtype);
	cg_begin_fn(cg, n);

	/* operand 0 is the output, operand i+1 input i */
	int64_t st[CG_NEST_MAXOPS * IR_MAX_RANK], off[CG_NEST_MAXOPS] = {0};
	char idx[CG_NEST_MAXOPS][CG_IDXLEN];
	cg_bcast_strides(n->out[0], rank, dims, st);
	for (int i = 0; i < nin; i++)
		cg_bcast_strides(n->in[i], rank, dims, st + (size_t)(i + 1) * (size_t)rank);
	int body = cg_nest_open(cg, 1, "i", rank, dims, nin + 1, st, off, NULL, &idx[0][0], CG_IDXLEN);
	if (!body) {
		cg_void_params(cg, n);
		cg_printf(cg, "}\n");
		return 0;
	}
	const char *T = ir_dtype_c_type(t);
	int rc = 0;
	if (ew_is_variadic(n->op)) {
		cg_tabs(cg, body);
		cg_printf(cg, "%s v = x0[%s];\n", T, idx[1]);
		for (int i = 1; i < nin; i++) {
			cg_tabs(cg, body);
			cg_printf(cg, "const %s v%d = x%d[%s];\n", T, i, i, idx[i + 1]);
			char vi[16];
			snprintf(vi, sizeof vi, "v%d", i);
			if (n->op == IR_OP_Max || n->op == IR_OP_Min) {
				ew_minmax_into(cg, body, t, n->op == IR_OP_Max, "v", vi);
			} else {
				cg_tabs(cg, body);
				cg_printf(cg, "v += v%d;\n", i);
			}
		}
		if (n->op == IR_OP_Mean) {
			char lit[64], e[96];
			snprintf(e, sizeof e, "v / %s", cg_literal(t, nin, lit, sizeof lit));
			ew_store(cg, body, idx[0], rt, e);
		} else {
			ew_store(cg, body, idx[0], rt, "v");
		}
	} else if (n->op == IR_OP_Where) {
		cg_tabs(cg, body);
		cg_printf(cg, "const %s a = x1[%s], b = x2[%s];\n", T, idx[2], idx[3]);
		char e[CG_IDXLEN + 32];
		snprintf(e, sizeof e, "x0[%s] ? a : b", idx[1]);
		ew_store(cg, body, idx[0], rt, e);
	} else {
		ir_dtype et = n->in[1]->dtype;
		cg_tabs(cg, body);
		cg_printf(cg, "const %s a = x0[%s];\n", T, idx[1]);
		cg_tabs(cg, body);
		cg_printf(cg, "const %s b = x1[%s];\n", ir_dtype_c_type(et), idx[2]);
		if (n->op == IR_OP_Pow)
			rc = pow_body(cg, n, body, t, et, idx[0]);
		else
			rc = ew_binary_body(cg, n, body, t, idx[0]);
	}
	cg_nest_close(cg, body);
	cg_printf(cg, "}\n");
	return rc;
}
