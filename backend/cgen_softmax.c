/* cgen_softmax.c - C emission for the 'softmax' op family (see
 * ir/ops.def): Softmax and LogSoftmax.
 *
 * Both normalise runs of L elements at stride S; the input is viewed as
 * [outer, L, S] (passes/op_softmax.c). From opset 13 the run lies along
 * 'axis' (default -1); before, the input is coerced to 2-D at 'axis'
 * (default 1), so each row of prod(dims[axis:]) elements is one run, S = 1.
 *
 * Numerics as in the interpreter: m = max x (NaN wins; an infinite m is
 * replaced by 0 so that infinities propagate as they would without the
 * shift), the sum of exp(x - m) is accumulated in double. With S = 1 each
 * run is contiguous. With S > 1 the run is processed in blocks of up to
 * SM_BLOCK columns with small local arrays for the column maxima and sums,
 * so every inner loop runs over contiguous memory.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <stdarg.h>

#include "ops.h"

#define SM_BLOCK 64

/* One contiguous run per outer index. */
static void sm_rows(cgen *cg, ir_dtype t, int logsm, int64_t outer, int64_t len)
{
	const char *T = ir_dtype_c_type(t), *F = t == IR_F32 ? "f" : "";
	cg_printf(cg, "\tfor (int64_t o = 0; o < %" PRId64 "; o++) {\n", outer);
	cg_printf(cg, "\t\tconst %s *restrict x = x0 + o * %" PRId64 ";\n", T, len);
	cg_printf(cg, "\t\t%s *restrict y = y0 + o * %" PRId64 ";\n", T, len);
	cg_printf(cg, "\t\t%s m = x[0];\n", T);
	cg_printf(cg, "\t\tfor (int64_t j = 1; j < %" PRId64 "; j++)\n", len);
	cg_printf(cg, "\t\t\tm = (x[j] > m || isnan(x[j])) && !isnan(m) ? x[j] : m;\n");
	cg_printf(cg, "\t\tif (isinf(m))\n\t\t\tm = 0;\n");
	cg_printf(cg, "\t\tdouble s = 0;\n");
	cg_printf(cg, "\t\tfor (int64_t j = 0; j < %" PRId64 "; j++) {\n", len);
	cg_printf(cg, "\t\t\tconst %s e = exp%s(x[j] - m);\n", T, F);
	if (!logsm)
		cg_printf(cg, "\t\t\ty[j] = e;\n");
	cg_printf(cg, "\t\t\ts += (double)e;\n\t\t}\n");
	if (logsm) {
		cg_printf(cg, "\t\tconst %s ls = (%s)log(s);\n", T, T);
		cg_printf(cg, "\t\tfor (int64_t j = 0; j < %" PRId64 "; j++)\n", len);
		cg_printf(cg, "\t\t\ty[j] = (x[j] - m) - ls;\n");
	} else {
		cg_printf(cg, "\t\tconst %s r = (%s)s;\n", T, T);
		cg_printf(cg, "\t\tfor (int64_t j = 0; j < %" PRId64 "; j++)\n", len);
		cg_printf(cg, "\t\t\ty[j] /= r;\n");
	}
	cg_printf(cg, "\t}\n");
}

/* Print one line at indentation ind. */
static void sm_line(cgen *cg, int ind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sm_line(cgen *cg, int ind, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cg_tabs(cg, ind);
	cg_printf(cg, "%s\n", buf);
}

/* Runs at stride S > 1: blocks of up to SM_BLOCK adjacent columns. */
static void sm_columns(cgen *cg, ir_dtype t, int logsm, int64_t outer, int64_t len, int64_t S)
{
	const char *T = ir_dtype_c_type(t), *F = t == IR_F32 ? "f" : "";
	int64_t B = S < SM_BLOCK ? S : SM_BLOCK;
	int blocks = B != S, i = 2;
	char w[96];
	sm_line(cg, 1, "for (int64_t o = 0; o < %" PRId64 "; o++) {", outer);
	if (blocks) {
		sm_line(cg, 2, "for (int64_t c = 0; c < %" PRId64 "; c += %" PRId64 ") {", S, B);
		i = 3;
		if (S % B)
			sm_line(cg, i, "const int64_t w = %" PRId64 " - c < %" PRId64 " ? %" PRId64 " - c : %" PRId64 ";", S,
				B, S, B);
		snprintf(w, sizeof w, "%s", S % B ? "w" : "");
	}
	if (!blocks || !(S % B))
		snprintf(w, sizeof w, "%" PRId64, B);
	sm_line(cg, i, "const %s *restrict x = x0 + o * %" PRId64 "%s;", T, len * S, blocks ? " + c" : "");
	sm_line(cg, i, "%s *restrict y = y0 + o * %" PRId64 "%s;", T, len * S, blocks ? " + c" : "");
	sm_line(cg, i, "%s m[%" PRId64 "];", T, B);
	sm_line(cg, i, "double s[%" PRId64 "];", B);
	sm_line(cg, i, "for (int64_t j = 0; j < %s; j++) {", w);
	sm_line(cg, i + 1, "m[j] = x[j];");
	sm_line(cg, i + 1, "s[j] = 0;");
	sm_line(cg, i, "}");
	sm_line(cg, i, "for (int64_t a = 1; a < %" PRId64 "; a++)", len);
	sm_line(cg, i + 1, "for (int64_t j = 0; j < %s; j++) {", w);
	sm_line(cg, i + 2, "const %s v = x[a * %" PRId64 " + j];", T, S);
	sm_line(cg, i + 2, "m[j] = (v > m[j] || isnan(v)) && !isnan(m[j]) ? v : m[j];");
	sm_line(cg, i + 1, "}");
	sm_line(cg, i, "for (int64_t j = 0; j < %s; j++)", w);
	sm_line(cg, i + 1, "if (isinf(m[j]))");
	sm_line(cg, i + 2, "m[j] = 0;");
	sm_line(cg, i, "for (int64_t a = 0; a < %" PRId64 "; a++)", len);
	sm_line(cg, i + 1, "for (int64_t j = 0; j < %s; j++) {", w);
	sm_line(cg, i + 2, "const %s e = exp%s(x[a * %" PRId64 " + j] - m[j]);", T, F, S);
	if (!logsm)
		sm_line(cg, i + 2, "y[a * %" PRId64 " + j] = e;", S);
	sm_line(cg, i + 2, "s[j] += (double)e;");
	sm_line(cg, i + 1, "}");
	if (logsm) {
		sm_line(cg, i, "for (int64_t j = 0; j < %s; j++)", w);
		sm_line(cg, i + 1, "s[j] = log(s[j]);");
	}
	sm_line(cg, i, "for (int64_t a = 0; a < %" PRId64 "; a++)", len);
	sm_line(cg, i + 1, "for (int64_t j = 0; j < %s; j++)", w);
	if (logsm)
		sm_line(cg, i + 2, "y[a * %" PRId64 " + j] = (x[a * %" PRId64 " + j] - m[j]) - (%s)s[j];", S, S, T);
	else
		sm_line(cg, i + 2, "y[a * %" PRId64 " + j] /= (%s)s[j];", S, T);
	if (blocks)
		sm_line(cg, 2, "}");
	sm_line(cg, 1, "}");
}

int cgen_softmax(cgen *cg, ir_node *n)
{
	int64_t outer, len, S;
	ir_dtype t = n->in[0]->dtype;
	if (!ir_dtype_is_float(t))
		return ir_error(cg->g, n, "%s takes float or double, got %s", ir_ops[n->op].name, ir_dtype_name(t));
	int64_t dims[IR_MAX_RANK];
	int rank = cg_dims(n->in[0], dims);
	if (softmax_view(cg->g, n, rank, dims, &outer, &len, &S))
		return -1;
	cg_begin_fn(cg, n);
	if (cg_numel(n->in[0]) == 0)
		cg_void_params(cg, n);
	else if (S == 1)
		sm_rows(cg, t, n->op == IR_OP_LogSoftmax, outer, len);
	else
		sm_columns(cg, t, n->op == IR_OP_LogSoftmax, outer, len, S);
	cg_printf(cg, "}\n");
	return 0;
}
