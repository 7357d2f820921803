/* cgen_norm.c - C emission for the 'norm' op family (see ir/ops.def):
 * BatchNormalization per channel c (dim 1) of X:
 *
 *   Y = scale[c] (X - mean[c]) / sqrt(var[c] + epsilon) + B[c] = a[c] X + b[c]
 *
 * a and b are formed in double like the interpreter (passes/op_norm.c).
 * Inference form: at compile time when the four parameters are constants
 * (the usual case: two small tables, the parameters themselves are not
 * read), else once per channel at run time. training_mode=1: mean and
 * (population) variance of the batch, in double, two passes; the optional
 * outputs running_mean / running_var = input * momentum + batch statistic
 * * (1 - momentum). The per-element loop is one vectorisable multiply-add
 * over each contiguous plane.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <math.h>

/* Training mode: the statistics of the batch, per channel. */
static void emit_batch_stats(cgen *cg, ir_node *n, int64_t nb, int64_t c, int64_t ip)
{
	char lit[64], lit2[64];
	double momentum = ir_attr_float(n, "momentum", 0.9);
	int64_t cnt = nb * ip;
	const char *ind = "\t\t";
	if (cnt == 0) {
		cg_printf(cg, "%sconst double mean = 0.0, var = 0.0;\n", ind);
	} else {
		const char *T = ir_dtype_c_type(n->in[0]->dtype);
		cg_printf(cg, "%sdouble sum = 0.0, sq = 0.0;\n", ind);
		for (int pass = 0; pass < 2; pass++) {
			cg_printf(cg, "%sfor (int n = 0; n < %" PRId64 "; n++) {\n", ind, nb);
			cg_printf(cg, "%s\tconst %s *xp = x0 + (n * %" PRId64 " + c) * %" PRId64 ";\n", ind, T, c, ip);
			cg_printf(cg, "%s\tfor (int i = 0; i < %" PRId64 "; i++)\n", ind, ip);
			if (pass)
				cg_printf(cg, "%s\t\tsq += ((double)xp[i] - mean) * ((double)xp[i] - mean);\n%s}\n", ind,
					  ind);
			else
				cg_printf(cg, "%s\t\tsum += (double)xp[i];\n%s}\n%sconst double mean = sum / %s;\n", ind,
					  ind, ind, cg_literal(IR_F64, (double)cnt, lit, sizeof lit));
		}
		cg_printf(cg, "%sconst double var = sq / %s;\n", ind, cg_literal(IR_F64, (double)cnt, lit, sizeof lit));
	}
	cg_literal(IR_F64, momentum, lit, sizeof lit);
	cg_literal(IR_F64, 1 - momentum, lit2, sizeof lit2);
	for (int j = 1; j < 3; j++)
		if (j < n->nout && n->out[j])
			cg_printf(cg, "%sy%d[c] = (%s)((double)x%d[c] * %s + %s * %s);\n", ind, j,
				  ir_dtype_c_type(n->out[j]->dtype), j + 2, lit, j == 1 ? "mean" : "var", lit2);
}

int cgen_norm(cgen *cg, ir_node *n)
{
	if (cg_fits_int(cg, n))
		return -1;
	const ir_value *x = n->in[0];
	ir_dtype t = x->dtype;
	const char *T = ir_dtype_c_type(t);
	double eps = ir_attr_float(n, "epsilon", 1e-5);
	int training = ir_attr_int(n, "training_mode", 0) == 1;
	int64_t nb = x->shape.d[0].v, c = x->shape.d[1].v, ip = 1;
	for (int d = 2; d < x->shape.rank; d++)
		ip *= x->shape.d[d].v;
	int konst = !training;
	for (int i = 1; i < 5; i++)
		konst &= n->in[i]->konst != NULL;
	char fn[32], name[64], lit[64];
	cg_fn_name(n, fn, sizeof fn);
	if (konst && c > 0) {
		int64_t dims[1] = {c};
		ir_tensor *a = ir_tensor_new(NULL, t, 1, dims), *b = ir_tensor_new(NULL, t, 1, dims);
		if (!a || !b) {
			ir_tensor_free(a);
			return ir_error(cg->g, n, "out of memory");
		}
		for (int64_t ch = 0; ch < c; ch++) {
			double av = ir_tensor_get_f64(n->in[1]->konst, ch) /
				    sqrt(ir_tensor_get_f64(n->in[4]->konst, ch) + eps);
			ir_tensor_set_f64(a, ch, av);
			ir_tensor_set_f64(b, ch, ir_tensor_get_f64(n->in[2]->konst, ch) -
							 ir_tensor_get_f64(n->in[3]->konst, ch) * av);
		}
		cg_printf(cg, "/* a = scale / sqrt(var + epsilon), b = B - mean * a */\n");
		snprintf(name, sizeof name, "%s_a", fn);
		cg_const_array(cg, name, a);
		snprintf(name, sizeof name, "%s_b", fn);
		cg_const_array(cg, name, b);
		ir_tensor_free(a);
		ir_tensor_free(b);
	}
	cg_begin_fn(cg, n);
	int stats_out = training && ((n->nout > 1 && n->out[1]) || (n->nout > 2 && n->out[2]));
	if (konst || c == 0)
		cg_printf(cg, "\t(void)x1;\n\t(void)x2;\n");
	if (konst || c == 0 || (training && !stats_out))
		cg_printf(cg, "\t(void)x3;\n\t(void)x4;\n");
	if (c == 0) {
		cg_printf(cg, "\t(void)x0;\n\t(void)y0;\n");
		for (int j = 1; j < 3; j++)
			if (j < n->nout && n->out[j])
				cg_printf(cg, "\t(void)y%d;\n", j);
		cg_printf(cg, "}\n");
		return 0;
	}
	cg_printf(cg, "\tfor (int c = 0; c < %" PRId64 "; c++) {\n", c);
	if (konst) {
		cg_printf(cg, "\t\tconst %s a = %s_a[c], b = %s_b[c];\n", T, fn, fn);
	} else {
		if (training)
			emit_batch_stats(cg, n, nb, c, ip);
		cg_printf(cg, "\t\tconst double ad = (double)x1[c] / sqrt(%s + %s);\n", training ? "var" : "(double)x4[c]",
			  cg_literal(IR_F64, eps, lit, sizeof lit));
		cg_printf(cg, "\t\tconst %s a = (%s)ad, b = (%s)((double)x2[c] - %s * ad);\n", T, T, T,
			  training ? "mean" : "(double)x3[c]");
	}
	if (nb * ip == 0) {
		cg_printf(cg, "\t\t(void)a;\n\t\t(void)b;\n\t}\n\t(void)x0;\n\t(void)y0;\n}\n");
		return 0;
	}
	cg_printf(cg, "\t\tfor (int n = 0; n < %" PRId64 "; n++) {\n", nb);
	cg_printf(cg, "\t\t\tconst %s *xp = x0 + (n * %" PRId64 " + c) * %" PRId64 ";\n", T, c, ip);
	cg_printf(cg, "\t\t\t%s *yp = y0 + (n * %" PRId64 " + c) * %" PRId64 ";\n", T, c, ip);
	cg_for_split(cg, "\t\t\t", "i", 0, ip, "yp[i] = a * xp[i] + b;");
	cg_printf(cg, "\t\t}\n\t}\n}\n");
	return 0;
}
