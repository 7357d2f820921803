/* op_softmax.c - the 'softmax' op family (see ir/ops.def): Softmax and
 * LogSoftmax. Check, infer, run.
 *
 * Both normalise runs of L elements at stride S: the input is viewed as
 * [outer, L, S]. From opset 13 the run is the dims[axis] elements along
 * 'axis' (default -1), S = prod(dims[axis+1:]). Before opset 13 the input
 * is coerced to 2-D at 'axis' (default 1) and each row of the flattened
 * trailing block prod(dims[axis:]) is normalised as one run, S = 1.
 *
 * Numerics: m = max x; softmax = exp(x - m) / sum exp(x - m) and
 * logsoftmax = (x - m) - log(sum exp(x - m)), summed in double for both
 * float32 and float64. n->opset 0 means the newest semantics.
 */
#include "ops.h"

#include <math.h>

int softmax_view(ir_graph *g, ir_node *n, int rank, const int64_t *dims, int64_t *outer, int64_t *len,
		 int64_t *stride)
{
	int64_t a = ir_attr_int(n, "axis", op_opset_before(n, 13) ? 1 : -1);
	int axis;
	*outer = *len = *stride = 1;
	if (rank == 0)
		return 0; /* a scalar is a run of one */
	if (op_axis(g, n, a, rank, &axis))
		return -1;
	if (!dims)
		return 0;
	for (int i = 0; i < axis; i++)
		*outer *= dims[i];
	if (op_opset_before(n, 13)) {
		for (int i = axis; i < rank; i++)
			*len *= dims[i];
	} else {
		*len = dims[axis];
		for (int i = axis + 1; i < rank; i++)
			*stride *= dims[i];
	}
	return 0;
}

int softmax_check(ir_graph *g, ir_node *n) { return op_check_arity(g, n); }

int softmax_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	int64_t o, l, s;
	if (op_require_dtype(g, n, in[0], OP_FLOATS, "the input"))
		return -1;
	if (in[0]->shape.rank >= 0 && softmax_view(g, n, in[0]->shape.rank, NULL, &o, &l, &s))
		return -1;
	out[0]->dtype = in[0]->dtype;
	out[0]->shape = in[0]->shape;
	return 0;
}

/* One run x[0], x[s], ... x[(len-1)*s] into y at the same offsets. */
#define SM_KERNEL(name, T)                                                       \
	static void name(T *y, const T *x, int64_t len, int64_t s, int logsm)     \
	{                                                                        \
		double m = -INFINITY, sum = 0;                                   \
		for (int64_t i = 0; i < len; i++)                                \
			if (x[i * s] > m || x[i * s] != x[i * s])                \
				m = x[i * s];                                    \
		if (!isfinite(m))                                                \
			m = m != m ? m : 0; /* +-inf: no finite shift; NaN stays */ \
		for (int64_t i = 0; i < len; i++)                                \
			sum += exp((double)x[i * s] - m);                        \
		double ls = log(sum);                                            \
		for (int64_t i = 0; i < len; i++) {                              \
			double d = (double)x[i * s] - m;                         \
			y[i * s] = (T)(logsm ? d - ls : exp(d) / sum);           \
		}                                                                \
	}
SM_KERNEL(sm_f32, float)
SM_KERNEL(sm_f64, double)

int softmax_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *x = in[0];
	int64_t outer, len, s;
	int logsm = n->op == IR_OP_LogSoftmax;
	if (softmax_view(g, n, x->rank, x->dims, &outer, &len, &s))
		return -1;
	if (x->numel == 0)
		return 0;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t j = 0; j < s; j++) {
			int64_t off = o * len * s + j;
			if (x->dtype == IR_F32)
				sm_f32((float *)out[0]->data + off, (const float *)x->data + off, len, s, logsm);
			else
				sm_f64((double *)out[0]->data + off, (const double *)x->data + off, len, s, logsm);
		}
	return 0;
}
