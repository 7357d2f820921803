/* op_norm.c - the 'norm' op family (see ir/ops.def): BatchNormalization,
 * per channel c (dim 1) of X [N, C, D1..Dn]:
 *
 *   Y = scale[c] * (X - mean[c]) / sqrt(var[c] + epsilon) + B[c]
 *
 * computed as Y = a[c] X + b[c] with a, b formed in double. In inference
 * form mean/var are the inputs. With training_mode=1 (opset 14+) they are
 * the batch statistics (mean and population variance over every axis but
 * 1, as the ONNX reference computes them), and the optional outputs are
 * running_mean = input_mean·momentum + mean·(1 − momentum), likewise
 * running_var. The older training outputs (saved_mean, saved_var, before
 * opset 14) and per-activation statistics (spatial=0) are refused.
 */
#include "ops.h"

#include <math.h>
#include <string.h>

int norm_check(ir_graph *g, ir_node *n)
{
	/* Training is diagnosed before the arity check, which would only say
	 * that opset 9..13 models with 5 outputs have too many. */
	int64_t training = ir_attr_int(n, "training_mode", 0);
	if (training != 0 && training != 1)
		return ir_error(g, n, "training_mode must be 0 or 1, got %lld", (long long)training);
	for (int i = 1; i < n->nout; i++)
		if (n->out[i] && (n->opset < 14 || !training))
			return ir_error(g, n, n->opset >= 14
				? "outputs running_mean / running_var are only valid with training_mode=1"
				: "outputs mean / var / saved_mean / saved_var (training before opset 14) "
				  "are not supported");
	if (op_check_arity(g, n))
		return -1;
	if (ir_attr_int(n, "spatial", 1) != 1)
		return ir_error(g, n, "spatial=0 (statistics per activation rather than per channel) "
				      "is not supported; only spatial=1");
	double eps;
	return op_attr_float(g, n, "epsilon", 1e-5, &eps);
}

int norm_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	static const char *const what[5] = {"input X", "scale", "B", "input_mean", "input_var"};
	const ir_shape *xs = &in[0]->shape;
	char s1[128], s2[128];
	for (int i = 0; i < 5; i++)
		if (op_require_dtype(g, n, in[i], OP_FLOATS, what[i]))
			return -1;
	if (xs->rank >= 0 && xs->rank < 2)
		return ir_error(g, n, "X must have rank >= 2 (N, C, ...), got %s",
				ir_shape_str(xs, s1, sizeof s1));
	ir_dim c = xs->rank >= 2 ? xs->d[1] : (ir_dim){-1, NULL};
	for (int i = 1; i < 5; i++) {
		const ir_shape *ps = &in[i]->shape;
		if (ps->rank < 0)
			continue;
		if (ps->rank != 1 || (c.v >= 0 && ps->d[0].v >= 0 && ps->d[0].v != c.v))
			return ir_error(g, n, "%s %s must be a vector of the channels of X %s",
					what[i], ir_shape_str(ps, s1, sizeof s1),
					ir_shape_str(xs, s2, sizeof s2));
	}
	out[0]->dtype = in[0]->dtype;
	out[0]->shape = *xs;
	for (int i = 1; i < 3 && i < n->nout; i++)
		if (out[i]) {
			out[i]->dtype = in[3]->dtype;
			out[i]->shape = in[3]->shape;
		}
	return 0;
}

int norm_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	double eps = ir_attr_float(n, "epsilon", 1e-5);
	double momentum = ir_attr_float(n, "momentum", 0.9);
	int training = ir_attr_int(n, "training_mode", 0) == 1;
	int64_t c = x->dims[1], inner = 1;
	for (int d = 2; d < x->rank; d++)
		inner *= x->dims[d];
	for (int64_t ch = 0; ch < c; ch++) {
		double mean = ir_tensor_get_f64(in[3], ch), var = ir_tensor_get_f64(in[4], ch);
		if (training) {
			/* Two passes (mean, then squared deviations) for accuracy. */
			double sum = 0, sq = 0;
			int64_t cnt = x->dims[0] * inner;
			for (int64_t bi = 0; bi < x->dims[0]; bi++)
				for (int64_t i = 0; i < inner; i++)
					sum += ir_tensor_get_f64(x, (bi * c + ch) * inner + i);
			double bm = cnt ? sum / (double)cnt : 0;
			for (int64_t bi = 0; bi < x->dims[0]; bi++)
				for (int64_t i = 0; i < inner; i++) {
					double dv = ir_tensor_get_f64(x, (bi * c + ch) * inner + i) - bm;
					sq += dv * dv;
				}
			double bv = cnt ? sq / (double)cnt : 0;
			if (out[1])
				ir_tensor_set_f64(out[1], ch, mean * momentum + bm * (1 - momentum));
			if (out[2])
				ir_tensor_set_f64(out[2], ch, var * momentum + bv * (1 - momentum));
			mean = bm;
			var = bv;
		}
		double a = ir_tensor_get_f64(in[1], ch) / sqrt(var + eps);
		double b = ir_tensor_get_f64(in[2], ch) - mean * a;
		for (int64_t bi = 0; bi < x->dims[0]; bi++) {
			int64_t o = (bi * c + ch) * inner;
			if (x->dtype == IR_F32) {
				const float *xp = (const float *)x->data + o;
				float *yp = (float *)y->data + o;
				for (int64_t i = 0; i < inner; i++)
					yp[i] = (float)(a * xp[i] + b);
			} else {
				const double *xp = (const double *)x->data + o;
				double *yp = (double *)y->data + o;
				for (int64_t i = 0; i < inner; i++)
					yp[i] = a * xp[i] + b;
			}
		}
	}
	(void)g;
	return 0;
}
