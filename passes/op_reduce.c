/* op_reduce.c - the 'reduce' op family (see ir/ops.def): ReduceSum, Mean,
 * Max, Min, Prod, SumSquare, L2, LogSumExp, and ArgMax / ArgMin.
 * Check, infer, run.
 *
 * Axes: an attribute, or from opset 13 (ReduceSum) / 18 (the others) an
 * optional int64 input. No axes (absent or empty) reduces every dim, or
 * with noop_with_empty_axes=1 none: the op then degenerates to its
 * elementwise part (ReduceSumSquare squares, ReduceL2 takes |x|, the
 * others are the identity), which is what a reduction over runs of one
 * element computes, so it needs no special case.
 *
 * Run: the input is copied once into a buffer in one of three domains
 * (double for floats, int64 for signed, uint64 for unsigned and bool),
 * laid out as [kept dims..., reduced dims...], so every output element
 * reduces one contiguous run. float32 is thereby summed in double.
 * Integer sums and products wrap modulo 2^N like the ONNX reference;
 * integer ReduceMean truncates toward zero.
 *
 * Empty reductions (a reduced dim of size 0) follow the ONNX reference:
 * Sum, SumSquare, L2 give 0, Prod 1, Mean NaN (an error for integers),
 * Max -inf (the dtype minimum for integers), Min +inf (the maximum),
 * LogSumExp -inf; ArgMax / ArgMin over an empty axis are an error.
 */
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RD_F, RD_S, RD_U }; /* accumulation domains */

static int rd_is_arg(const ir_node *n) { return n->op == IR_OP_ArgMax || n->op == IR_OP_ArgMin; }

/* Whether axes come from input 1 (n->opset 0 means the newest opset). */
static int rd_axes_input(const ir_node *n)
{
	int since = n->op == IR_OP_ReduceSum ? 13 : 18;
	return !op_opset_before(n, since);
}

int reduce_check(ir_graph *g, ir_node *n)
{
	if (op_check_arity(g, n))
		return -1;
	if (rd_is_arg(n))
		return 0;
	int since = n->op == IR_OP_ReduceSum ? 13 : 18;
	if (rd_axes_input(n) && ir_attr_find(n, "axes"))
		return ir_error(g, n, "axes is an input since opset %d, not an attribute", since);
	if (!rd_axes_input(n) && n->nin > 1 && n->in[1])
		return ir_error(g, n, "takes axes as an attribute before opset %d, not as an input", since);
	return 0;
}

int reduce_axes_mask(ir_graph *g, ir_node *n, ir_value **in, int rank, unsigned *mask)
{
	int64_t axes[64];
	int k;
	*mask = 0;
	if (rd_is_arg(n)) {
		axes[0] = ir_attr_int(n, "axis", 0);
		k = 1;
	} else if (rd_axes_input(n)) {
		ir_value *a = n->nin > 1 ? in[1] : NULL;
		if (!a) {
			k = 0;
		} else if (!a->konst) {
			return 1;
		} else {
			if (a->konst->dtype != IR_I64 || a->konst->rank != 1)
				return ir_error(g, n, "axes must be a 1-D int64 tensor, got %s of rank %d",
						ir_dtype_name(a->konst->dtype), a->konst->rank);
			k = op_read_ints(g, n, a->konst, axes, 64);
			if (k < 0)
				return -1;
		}
	} else {
		const int64_t *p;
		k = ir_attr_ints(n, "axes", &p);
		if (k > 64)
			return ir_error(g, n, "attribute 'axes' has %d entries", k);
		if (k > 0)
			memcpy(axes, p, (size_t)k * sizeof *axes);
	}
	if (k <= 0) {
		if (!ir_attr_int(n, "noop_with_empty_axes", 0))
			*mask = rank ? (1u << rank) - 1 : 0;
		return 0;
	}
	for (int i = 0; i < k; i++) {
		int ax;
		if (rank == 0) {
			/* a scalar: axis 0 / -1 names the scalar itself */
			if (axes[i] != 0 && axes[i] != -1)
				return ir_error(g, n, "axis %lld is out of range for a scalar", (long long)axes[i]);
			continue;
		}
		if (op_axis(g, n, axes[i], rank, &ax))
			return -1;
		if (*mask & (1u << ax))
			return ir_error(g, n, "axis %lld is repeated", (long long)axes[i]);
		*mask |= 1u << ax;
	}
	return 0;
}

int reduce_view(int rank, const int64_t *dims, unsigned mask, int64_t *vd, int64_t *vs, int64_t *count)
{
	int64_t st[IR_MAX_RANK];
	int nd = 0, nk = 0;
	op_dense_strides(rank, dims, st);
	*count = 1;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < rank; i++)
			if (!!(mask & (1u << i)) == pass) {
				vd[nd] = dims[i];
				vs[nd++] = st[i];
				if (pass)
					*count *= dims[i];
				else
					nk++;
			}
	return nk;
}

int reduce_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	const ir_shape *s = &in[0]->shape;
	ir_value *y = out[0];
	int keep = ir_attr_int(n, "keepdims", 1) != 0;
	unsigned allowed = OP_NUMERIC;
	if (n->op == IR_OP_ReduceMax || n->op == IR_OP_ReduceMin)
		allowed |= 1u << IR_BOOL;
	if (op_require_dtype(g, n, in[0], allowed, "the input"))
		return -1;
	if (!rd_is_arg(n) && rd_axes_input(n) && n->nin > 1 &&
	    op_require_dtype(g, n, in[1], 1u << IR_I64, "axes"))
		return -1;
	y->dtype = rd_is_arg(n) ? IR_I64 : in[0]->dtype;
	memset(&y->shape, 0, sizeof y->shape);
	y->shape.rank = -1;
	if (s->rank < 0)
		return 0;
	unsigned mask;
	int rc = reduce_axes_mask(g, n, in, s->rank, &mask);
	if (rc < 0)
		return -1;
	if (rc) {
		if (keep) {
			y->shape.rank = s->rank;
			for (int i = 0; i < s->rank; i++)
				y->shape.d[i].v = -1;
		}
		return 0;
	}
	int r = 0;
	for (int i = 0; i < s->rank; i++) {
		if (!(mask & (1u << i)))
			y->shape.d[r++] = s->d[i];
		else if (keep)
			y->shape.d[r++] = (ir_dim){1, NULL};
	}
	y->shape.rank = r;
	return 0;
}

/* ------------------------------------------------------------- run */

/* Copy x into buf (domain dom, 8 bytes an element) in the order of the
 * view (dims, strides): a strided copy of the raw elements, then widened
 * in place from the end (element i moves from byte es*i up to 8*i, so
 * nothing is overwritten before it is read). */
static void rd_gather(const ir_tensor *x, int nd, const int64_t *dims, const int64_t *strides,
		      int dom, void *buf)
{
	size_t es = ir_dtype_size(x->dtype);
	char *raw = buf;
	double *fb = buf;
	int64_t *sb = buf;
	uint64_t *ub = buf;
	if (x->numel == 0)
		return;
	op_strided_copy(buf, x->data, es, nd, dims, strides, 0);
	switch (x->dtype) {
#define RD_CASE(C, T)                                                      \
	case C:                                                            \
		for (int64_t i = x->numel - 1; i >= 0; i--) {              \
			T v;                                               \
			memcpy(&v, raw + (size_t)i * sizeof v, sizeof v);  \
			if (dom == RD_F)                                   \
				fb[i] = (double)v;                         \
			else if (dom == RD_S)                              \
				sb[i] = (int64_t)v;                        \
			else                                               \
				ub[i] = (uint64_t)v;                       \
		}                                                          \
		break;
		OP_DTYPES(RD_CASE)
#undef RD_CASE
	default: IR_UNREACHABLE();
	}
}

static int64_t rd_smin(ir_dtype t)
{
	return t == IR_I8 ? INT8_MIN : t == IR_I16 ? INT16_MIN : t == IR_I32 ? INT32_MIN : INT64_MIN;
}
static int64_t rd_smax(ir_dtype t)
{
	return t == IR_I8 ? INT8_MAX : t == IR_I16 ? INT16_MAX : t == IR_I32 ? INT32_MAX : INT64_MAX;
}
static uint64_t rd_umax(ir_dtype t)
{
	return t == IR_BOOL ? 1 : t == IR_U8 ? UINT8_MAX : t == IR_U16 ? UINT16_MAX
		: t == IR_U32 ? UINT32_MAX : UINT64_MAX;
}

static double rd_float(ir_op op, const double *b, int64_t c)
{
	double acc, m;
	switch (op) {
	case IR_OP_ReduceSum:
	case IR_OP_ReduceMean:
		acc = 0;
		for (int64_t i = 0; i < c; i++)
			acc += b[i];
		return op == IR_OP_ReduceMean ? acc / (double)c : acc; /* 0/0 = NaN when empty */
	case IR_OP_ReduceMax:
	case IR_OP_ReduceMin: {
		int max = op == IR_OP_ReduceMax;
		acc = max ? -INFINITY : INFINITY;
		for (int64_t i = 0; i < c; i++) {
			if (b[i] != b[i])
				return b[i]; /* NaN propagates */
			if (max ? b[i] > acc : b[i] < acc)
				acc = b[i];
		}
		return acc;
	}
	case IR_OP_ReduceProd:
		acc = 1;
		for (int64_t i = 0; i < c; i++)
			acc *= b[i];
		return acc;
	case IR_OP_ReduceSumSquare:
	case IR_OP_ReduceL2:
		acc = 0;
		for (int64_t i = 0; i < c; i++)
			acc += b[i] * b[i];
		return op == IR_OP_ReduceL2 ? sqrt(acc) : acc;
	case IR_OP_ReduceLogSumExp:
		m = rd_float(IR_OP_ReduceMax, b, c);
		if (!isfinite(m))
			m = m != m ? m : 0; /* no finite shift: let inf / NaN propagate */
		acc = 0;
		for (int64_t i = 0; i < c; i++)
			acc += exp(b[i] - m);
		return log(acc) + m;
	default: IR_UNREACHABLE();
	}
}

/* Integer reductions in the wrapping unsigned domain; signed tells how to
 * compare and divide. Max / Min of an empty run give lo / hi. */
static uint64_t rd_int(ir_op op, const uint64_t *b, int64_t c, int is_signed, uint64_t lo, uint64_t hi)
{
	uint64_t acc;
	switch (op) {
	case IR_OP_ReduceSum:
	case IR_OP_ReduceMean:
		acc = 0;
		for (int64_t i = 0; i < c; i++)
			acc += b[i];
		if (op == IR_OP_ReduceSum)
			return acc;
		if (is_signed) {
			int64_t v = (int64_t)acc;
			/* INT64_MIN / -1 cannot happen: c > 0 */
			return (uint64_t)(v / c);
		}
		return acc / (uint64_t)c;
	case IR_OP_ReduceMax:
	case IR_OP_ReduceMin: {
		int max = op == IR_OP_ReduceMax;
		acc = max ? lo : hi;
		for (int64_t i = 0; i < c; i++) {
			int gt = is_signed ? (int64_t)b[i] > (int64_t)acc : b[i] > acc;
			int lt = is_signed ? (int64_t)b[i] < (int64_t)acc : b[i] < acc;
			if (max ? gt : lt)
				acc = b[i];
		}
		return acc;
	}
	case IR_OP_ReduceProd:
		acc = 1;
		for (int64_t i = 0; i < c; i++)
			acc *= b[i];
		return acc;
	case IR_OP_ReduceSumSquare:
		acc = 0;
		for (int64_t i = 0; i < c; i++)
			acc += b[i] * b[i];
		return acc;
	default: IR_UNREACHABLE();
	}
}

/* A float result stored into an integer dtype (ReduceL2 and ReduceLogSumExp
 * of integers): truncated toward zero, saturated at the dtype's range. */
static int64_t rd_to_int(double v, ir_dtype t)
{
	if (ir_dtype_is_signed(t))
		return op_f2i(v, rd_smin(t), rd_smax(t));
	return (int64_t)op_f2u(v, rd_umax(t));
}

static int64_t rd_arg(ir_op op, int dom, const void *buf, int64_t c, int last)
{
	int64_t best = 0;
	int max = op == IR_OP_ArgMax;
	for (int64_t i = 1; i < c; i++) {
		int better, equal;
		if (dom == RD_F) {
			const double *b = buf;
			double x = b[i], y = b[best];
			int xn = x != x, yn = y != y;
			/* NaN wins (first NaN, or last with select_last_index) */
			better = yn ? 0 : xn ? 1 : max ? x > y : x < y;
			equal = (xn && yn) || (!xn && !yn && x == y);
		} else if (dom == RD_S) {
			const int64_t *b = buf;
			better = max ? b[i] > b[best] : b[i] < b[best];
			equal = b[i] == b[best];
		} else {
			const uint64_t *b = buf;
			better = max ? b[i] > b[best] : b[i] < b[best];
			equal = b[i] == b[best];
		}
		if (better || (last && equal))
			best = i;
	}
	return best;
}

int reduce_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	ir_value va, *vin[2] = {NULL, NULL};
	unsigned mask;
	if (n->nin > 1 && in[1]) {
		memset(&va, 0, sizeof va);
		op_value_from_tensor(&va, in[1]);
		va.konst = in[1];
		vin[1] = &va;
	}
	if (reduce_axes_mask(g, n, vin, x->rank, &mask))
		return -1;
	int64_t vd[IR_MAX_RANK], vs[IR_MAX_RANK], count;
	reduce_view(x->rank, x->dims, mask, vd, vs, &count);
	/* L2 and LogSumExp of integers are computed in double too */
	int via_f = n->op == IR_OP_ReduceL2 || n->op == IR_OP_ReduceLogSumExp;
	int dom = ir_dtype_is_float(x->dtype) || via_f ? RD_F
		: ir_dtype_is_signed(x->dtype) ? RD_S : RD_U;
	if (y->numel == 0)
		return 0;
	if (count == 0) {
		if (rd_is_arg(n))
			return ir_error(g, n, "cannot take %s over an empty axis", ir_ops[n->op].name);
		if (n->op == IR_OP_ReduceMean && dom != RD_F)
			return ir_error(g, n, "the mean of an empty set of integers is undefined");
	}
	void *buf = (uint64_t)x->numel < SIZE_MAX / 8 ? malloc((size_t)(x->numel ? x->numel : 1) * 8) : NULL;
	if (!buf)
		return ir_error(g, n, "out of memory");
	rd_gather(x, x->rank, vd, vs, dom, buf);
	int is_signed = dom == RD_S;
	uint64_t lo = is_signed ? (uint64_t)rd_smin(x->dtype) : 0;
	uint64_t hi = is_signed ? (uint64_t)rd_smax(x->dtype) : rd_umax(x->dtype);
	int last = ir_attr_int(n, "select_last_index", 0) != 0;
	for (int64_t k = 0; k < y->numel; k++) {
		const char *run = (const char *)buf + (size_t)(k * count) * 8;
		if (rd_is_arg(n)) {
			((int64_t *)y->data)[k] = rd_arg(n->op, dom, run, count, last);
		} else if (dom == RD_F && via_f && !ir_dtype_is_float(y->dtype)) {
			ir_tensor_set_i64(y, k, rd_to_int(rd_float(n->op, (const double *)run, count), y->dtype));
		} else if (dom == RD_F) {
			ir_tensor_set_f64(y, k, rd_float(n->op, (const double *)run, count));
		} else {
			ir_tensor_set_i64(y, k, (int64_t)rd_int(n->op, (const uint64_t *)run, count,
								is_signed, lo, hi));
		}
	}
	free(buf);
	return 0;
}
