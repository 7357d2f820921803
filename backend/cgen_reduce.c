/* cgen_reduce.c - C emission for the 'reduce' op family (see ir/ops.def):
 * ReduceSum, Mean, Max, Min, Prod, SumSquare, L2, LogSumExp, ArgMax and
 * ArgMin.
 *
 * Semantics equal passes/op_reduce.c: float32 accumulates in double,
 * integers in 64-bit wrapping unsigned arithmetic (so sums and products
 * wrap modulo 2^N and ReduceMean truncates the exact 64-bit sum toward
 * zero); L2 and LogSumExp of integers go through double and convert back
 * saturating. Max / Min propagate NaN; ArgMax / ArgMin let NaN win and
 * break ties by the first index (the last with select_last_index). Empty
 * reductions: Sum, SumSquare, L2 0, Prod 1, Mean NaN (0 for integers,
 * which the interpreter refuses), Max -inf / the type minimum, Min +inf /
 * the maximum, LogSumExp -inf, ArgMax / ArgMin 0 (refused too).
 *
 * Loops: when the innermost input dim is reduced, each output element
 * reduces contiguous runs into a local accumulator ("per output"). When
 * it is kept, the input is walked in memory order and accumulated into
 * the output with vectorisable axpy-style inner loops ("streaming"); that
 * form accumulates in the output type itself, which for float32 sums
 * means float instead of double (differences within rounding), and is
 * used only where it gives the same integer results.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "ops.h"

static int rd_is_arg(const ir_node *n) { return n->op == IR_OP_ArgMax || n->op == IR_OP_ArgMin; }

/* The reduced dims as a bit mask (passes/op_reduce.c). */
static int rd_mask(cgen *cg, ir_node *n, int rank, unsigned *mask)
{
	int rc = reduce_axes_mask(cg->g, n, n->in, rank, mask);
	if (rc == 1)
		return ir_error(cg->g, n, "the C backend needs constant axes (input '%s' is computed)",
				n->in[1]->name);
	return rc;
}

/* The accumulator type and its identity. */
static const char *rd_acc_type(ir_node *n, ir_dtype t)
{
	if (ir_dtype_is_float(t) || n->op == IR_OP_ReduceL2 || n->op == IR_OP_ReduceLogSumExp)
		return "double";
	if (n->op == IR_OP_ReduceMax || n->op == IR_OP_ReduceMin)
		return ir_dtype_c_type(t);
	return "uint64_t";
}

static const char *rd_init(ir_node *n, ir_dtype t)
{
	int fl = ir_dtype_is_float(t);
	const char *lo, *hi;
	switch (n->op) {
	case IR_OP_ReduceProd: return fl ? "1.0" : "1u";
	case IR_OP_ReduceMax:
	case IR_OP_ReduceMin:
		if (fl)
			return n->op == IR_OP_ReduceMax ? "-(double)INFINITY" : "(double)INFINITY";
		cg_int_limits(t, &lo, &hi);
		return n->op == IR_OP_ReduceMax ? lo : hi;
	case IR_OP_ReduceLogSumExp: return "-(double)INFINITY";
	default: return ir_dtype_is_float(t) || n->op == IR_OP_ReduceL2 ? "0.0" : "0u";
	}
}

/* "acc <- acc (op) v" for the element expression v of dtype t. */
static void rd_step(cgen *cg, int ind, ir_node *n, ir_dtype t, const char *v)
{
	int fl = ir_dtype_is_float(t);
	/* into the 64-bit domain: sign-extend signed, zero-extend the rest */
	char w[CG_IDXLEN + 64];
	if (fl || n->op == IR_OP_ReduceL2)
		snprintf(w, sizeof w, "(double)%s", v);
	else if (ir_dtype_is_signed(t))
		snprintf(w, sizeof w, "(uint64_t)(int64_t)%s", v);
	else
		snprintf(w, sizeof w, "(uint64_t)%s", v);
	cg_tabs(cg, ind);
	switch (n->op) {
	case IR_OP_ReduceSum:
	case IR_OP_ReduceMean: cg_printf(cg, "acc += %s;\n", w); break;
	case IR_OP_ReduceProd: cg_printf(cg, "acc *= %s;\n", w); break;
	case IR_OP_ReduceSumSquare:
	case IR_OP_ReduceL2:
		cg_printf(cg, "{\n");
		cg_tabs(cg, ind + 1);
		cg_printf(cg, "const %s q = %s;\n", fl || n->op == IR_OP_ReduceL2 ? "double" : "uint64_t", w);
		cg_tabs(cg, ind + 1);
		cg_printf(cg, "acc += q * q;\n");
		cg_tabs(cg, ind);
		cg_printf(cg, "}\n");
		break;
	case IR_OP_ReduceMax:
	case IR_OP_ReduceMin: {
		const char *cmp = n->op == IR_OP_ReduceMax ? ">" : "<";
		if (!fl) {
			cg_printf(cg, "acc = %s %s acc ? %s : acc;\n", v, cmp, v);
			break;
		}
		cg_printf(cg, "{\n");
		cg_tabs(cg, ind + 1);
		cg_printf(cg, "const double q = (double)%s;\n", v);
		cg_tabs(cg, ind + 1);
		cg_printf(cg, "acc = (q %s acc || isnan(q)) && !isnan(acc) ? q : acc;\n", cmp);
		cg_tabs(cg, ind);
		cg_printf(cg, "}\n");
		break;
	}
	default: IR_UNREACHABLE();
	}
}

/* The final value of an output element from acc and the element count
 * (not for L2 and LogSumExp). */
static void rd_final(ir_node *n, ir_dtype t, int64_t count, char *e, size_t len)
{
	int fl = ir_dtype_is_float(t);
	switch (n->op) {
	case IR_OP_ReduceMean:
		if (fl)
			snprintf(e, len, "acc / %" PRId64 ".0", count);
		else if (!count)
			snprintf(e, len, "0");
		else if (ir_dtype_is_signed(t))
			snprintf(e, len, "(int64_t)acc / %" PRId64, count);
		else
			snprintf(e, len, "acc / %" PRId64 "u", count);
		return;
	default: snprintf(e, len, "acc"); return;
	}
}

/* Outer nest over the output, inner nest over the reduced dims. vd/vs: the
 * input dims and strides, kept ones first (nk of them), then reduced. */
static void rd_per_output(cgen *cg, ir_node *n, ir_dtype t, int nd, int nk, const int64_t *vd,
			  const int64_t *vs, int64_t count)
{
	const char *T = ir_dtype_c_type(t), *A = rd_acc_type(n, t);
	const char *RT = ir_dtype_c_type(n->out[0]->dtype);
	char idx[2][CG_IDXLEN], inner[1][CG_IDXLEN], e[CG_IDXLEN + 64];
	int64_t st[2 * IR_MAX_RANK], off[2] = {0, 0}, ds = 1;
	/* output (dense over kept dims) and input base */
	for (int d = nk - 1; d >= 0; d--) {
		st[d] = ds;
		ds *= vd[d];
		st[nk + d] = vs[d];
	}
	int ob = cg_nest_open(cg, 1, "i", nk, vd, 2, st, off, NULL, &idx[0][0], CG_IDXLEN);
	if (!ob)
		return;
	const char *base[1] = {idx[1]};
	int nr = nd - nk;
	int is_arg = rd_is_arg(n);
	if (n->op == IR_OP_ReduceLogSumExp) {
		/* max first; no finite shift for +-inf (NaN stays) */
		cg_tabs(cg, ob);
		cg_printf(cg, "double m = -(double)INFINITY;\n");
		int ib = cg_nest_open(cg, ob, "j", nr, vd + nk, 1, vs + nk, off, base, &inner[0][0], CG_IDXLEN);
		if (ib) {
			cg_tabs(cg, ib);
			cg_printf(cg, "const double q = (double)x0[%s];\n", inner[0]);
			cg_tabs(cg, ib);
			cg_printf(cg, "m = (q > m || isnan(q)) && !isnan(m) ? q : m;\n");
			cg_nest_close(cg, ib);
		}
		cg_tabs(cg, ob);
		cg_printf(cg, "if (isinf(m))\n");
		cg_tabs(cg, ob + 1);
		cg_printf(cg, "m = 0;\n");
		cg_tabs(cg, ob);
		cg_printf(cg, "double acc = 0.0;\n");
		ib = cg_nest_open(cg, ob, "j", nr, vd + nk, 1, vs + nk, off, base, &inner[0][0], CG_IDXLEN);
		if (ib) {
			cg_tabs(cg, ib);
			cg_printf(cg, "acc += exp((double)x0[%s] - m);\n", inner[0]);
			cg_nest_close(cg, ib);
		}
		cg_tabs(cg, ob);
		cg_printf(cg, "const double r = log(acc) + m;\n");
	} else if (is_arg) {
		int fl = ir_dtype_is_float(t), last = ir_attr_int(n, "select_last_index", 0) != 0;
		const char *cmp = n->op == IR_OP_ArgMax ? ">" : "<";
		cg_tabs(cg, ob);
		cg_printf(cg, "%s best = x0[%s];\n", T, idx[1]);
		cg_tabs(cg, ob);
		cg_printf(cg, "int64_t at = 0;\n");
		IR_ASSERT(nr == 1 && vd[nk] > 1);
		cg_tabs(cg, ob);
		cg_printf(cg, "for (int64_t j = 1; j < %" PRId64 "; j++) {\n", vd[nk]);
		cg_tabs(cg, ob + 1);
		cg_printf(cg, "const %s q = x0[%s + j * %" PRId64 "];\n", T, idx[1], vs[nk]);
		cg_tabs(cg, ob + 1);
		/* NaN wins: the first NaN, or the last with select_last_index */
		if (fl && last)
			cg_printf(cg, "if (isnan(best) ? isnan(q) : (isnan(q) || q %s= best)) {\n", cmp);
		else if (fl)
			cg_printf(cg, "if (!isnan(best) && (isnan(q) || q %s best)) {\n", cmp);
		else
			cg_printf(cg, "if (q %s%s best) {\n", cmp, last ? "=" : "");
		cg_tabs(cg, ob + 2);
		cg_printf(cg, "best = q;\n");
		cg_tabs(cg, ob + 2);
		cg_printf(cg, "at = j;\n");
		cg_tabs(cg, ob + 1);
		cg_printf(cg, "}\n");
		cg_tabs(cg, ob);
		cg_printf(cg, "}\n");
		cg_tabs(cg, ob);
		cg_printf(cg, "y0[%s] = at;\n", idx[0]);
		cg_nest_close(cg, ob);
		return;
	} else {
		cg_tabs(cg, ob);
		cg_printf(cg, "%s acc = %s;\n", A, rd_init(n, t));
		int ib = cg_nest_open(cg, ob, "j", nr, vd + nk, 1, vs + nk, off, base, &inner[0][0], CG_IDXLEN);
		if (ib) {
			snprintf(e, sizeof e, "x0[%s]", inner[0]);
			rd_step(cg, ib, n, t, e);
			cg_nest_close(cg, ib);
		}
		if (n->op == IR_OP_ReduceL2) {
			cg_tabs(cg, ob);
			cg_printf(cg, "const double r = sqrt(acc);\n");
		}
	}
	/* L2 and LogSumExp end in a double r, converted back saturating for
	 * integers */
	if (n->op == IR_OP_ReduceL2 || n->op == IR_OP_ReduceLogSumExp) {
		if (ir_dtype_is_float(t))
			snprintf(e, sizeof e, "r");
		else
			cg_d2i_expr(e, sizeof e, t, "r");
	} else {
		rd_final(n, t, count, e, sizeof e);
	}
	cg_tabs(cg, ob);
	cg_printf(cg, "y0[%s] = (%s)(%s);\n", idx[0], RT, e);
	cg_nest_close(cg, ob);
}

/* Walk the input in memory order, accumulating into the output. */
static void rd_streaming(cgen *cg, ir_node *n, ir_dtype t, int rank, const int64_t *dims, unsigned mask,
			 int64_t onel, int64_t count)
{
	const char *T = ir_dtype_c_type(t), *W = cg_wide_unsigned(t);
	int fl = ir_dtype_is_float(t);
	char idx[2][CG_IDXLEN], lit[64];
	int64_t st[2 * IR_MAX_RANK], off[2] = {0, 0}, s = 1, os = 1;
	for (int d = rank - 1; d >= 0; d--) {
		st[rank + d] = s; /* input, dense */
		s *= dims[d];
		if (mask & (1u << d)) {
			st[d] = 0;
		} else {
			st[d] = os;
			os *= dims[d];
		}
	}
	const char *init;
	switch (n->op) {
	case IR_OP_ReduceProd: init = fl ? cg_literal(t, 1, lit, sizeof lit) : "1"; break;
	case IR_OP_ReduceMax: init = fl ? cg_literal(t, -INFINITY, lit, sizeof lit) : rd_init(n, t); break;
	case IR_OP_ReduceMin: init = fl ? cg_literal(t, INFINITY, lit, sizeof lit) : rd_init(n, t); break;
	default: init = fl ? cg_literal(t, 0, lit, sizeof lit) : "0"; break;
	}
	cg_printf(cg, "\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\ty0[i] = (%s)%s;\n", onel, T, init);
	int b = cg_nest_open(cg, 1, "i", rank, dims, 2, st, off, NULL, &idx[0][0], CG_IDXLEN);
	if (b) {
		cg_tabs(cg, b);
		cg_printf(cg, "const %s v = x0[%s];\n", T, idx[1]);
		cg_tabs(cg, b);
		const char *o = idx[0];
		if (n->op == IR_OP_ReduceMax || n->op == IR_OP_ReduceMin) {
			const char *cmp = n->op == IR_OP_ReduceMax ? ">" : "<";
			if (fl)
				cg_printf(cg, "y0[%s] = (v %s y0[%s] || isnan(v)) && !isnan(y0[%s]) ? v : y0[%s];\n", o,
					  cmp, o, o, o);
			else
				cg_printf(cg, "y0[%s] = v %s y0[%s] ? v : y0[%s];\n", o, cmp, o, o);
		} else {
			/* Sum, Mean, Prod, SumSquare, L2; integers wrap in W */
			const char *op = n->op == IR_OP_ReduceProd ? "*" : "+";
			int sq = n->op == IR_OP_ReduceSumSquare || n->op == IR_OP_ReduceL2;
			if (fl)
				cg_printf(cg, "y0[%s] %s= %s;\n", o, op, sq ? "v * v" : "v");
			else if (sq)
				cg_printf(cg, "y0[%s] = (%s)((%s)y0[%s] + (%s)v * (%s)v);\n", o, T, W, o, W, W);
			else
				cg_printf(cg, "y0[%s] = (%s)((%s)y0[%s] %s (%s)v);\n", o, T, W, o, op, W);
		}
		cg_nest_close(cg, b);
	}
	if (n->op == IR_OP_ReduceMean)
		cg_printf(cg, "\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\ty0[i] /= %s;\n", onel,
			  cg_literal(t, (double)count, lit, sizeof lit));
	if (n->op == IR_OP_ReduceL2)
		cg_printf(cg, "\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\ty0[i] = sqrt%s(y0[i]);\n", onel,
			  t == IR_F32 ? "f" : "");
}

int cgen_reduce(cgen *cg, ir_node *n)
{
	ir_dtype t = n->in[0]->dtype;
	int64_t dims[IR_MAX_RANK];
	int rank = cg_dims(n->in[0], dims);
	unsigned mask;
	if (rd_mask(cg, n, rank, &mask))
		return -1;
	if (rd_is_arg(n) && rank == 0)
		return ir_error(cg->g, n, "%s of a scalar is not supported", ir_ops[n->op].name);
	int64_t onel = cg_numel(n->out[0]), count;
	/* the view: kept dims then reduced dims, each in input order */
	int64_t vd[IR_MAX_RANK], vs[IR_MAX_RANK];
	int nk = reduce_view(rank, dims, mask, vd, vs, &count);

	cg_begin_fn(cg, n);
	if (n->nin > 1 && n->in[1])
		cg_printf(cg, "\t(void)x1;\n");
	if (onel == 0) {
		cg_void_params(cg, n);
		cg_printf(cg, "}\n");
		return 0;
	}
	if (count == 0 || (rd_is_arg(n) && count == 1)) {
		/* an empty reduction reads nothing: every output element is the
		 * accumulator's initial value run through the final step; an
		 * arg over one element (or none) is index 0 */
		cg_printf(cg, "\t(void)x0;\n");
		if (rd_is_arg(n)) {
			cg_printf(cg, "\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\ty0[i] = 0;\n}\n", onel);
			return 0;
		}
	}
	/* Streaming when the innermost non-trivial dim is kept and the result
	 * equals the per-output one (not for integer Mean / L2 / LogSumExp). */
	int inner_kept = 0;
	for (int d = rank - 1; d >= 0; d--)
		if (dims[d] != 1) {
			inner_kept = !(mask & (1u << d));
			break;
		}
	int streamable = !rd_is_arg(n) && n->op != IR_OP_ReduceLogSumExp &&
			 (ir_dtype_is_float(t) || (n->op != IR_OP_ReduceMean && n->op != IR_OP_ReduceL2));
	if (inner_kept && streamable && count > 1)
		rd_streaming(cg, n, t, rank, dims, mask, onel, count);
	else
		rd_per_output(cg, n, t, rank, nk, vd, vs, count);
	cg_printf(cg, "}\n");
	return 0;
}
