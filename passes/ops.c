/* ops.c - the op dispatch table (generated from ir/ops.def) and the
 * helpers shared by the op families: arity, axes, broadcasting. */
#include "ops.h"

#include <string.h>

const op_impl op_impls[IR_OP_COUNT] = {
#define OP(id, family, minin, maxin, minout, maxout, doc) \
	{family##_check, family##_infer, family##_run},
#include "../ir/ops.def"
#undef OP
};

int op_check_arity(ir_graph *g, ir_node *n)
{
	return ir_check_arity(g, n);
}

int op_axis(ir_graph *g, ir_node *n, int64_t axis, int rank, int *out)
{
	int64_t lo = rank ? -rank : -1, hi = rank ? rank : 1;
	if (axis < lo || axis >= hi)
		return ir_error(g, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
	*out = (int)(axis < 0 ? axis + rank : axis);
	return 0;
}

int op_broadcast(ir_graph *g, ir_node *n, int k, const ir_shape *const *in, ir_shape *out)
{
	int rank = 0;
	for (int i = 0; i < k; i++) {
		if (in[i]->rank < 0) {
			memset(out, 0, sizeof *out);
			out->rank = -1;
			return 0;
		}
		if (in[i]->rank > rank)
			rank = in[i]->rank;
	}
	memset(out, 0, sizeof *out);
	out->rank = rank;
	for (int d = 0; d < rank; d++) {
		ir_dim r = {1, NULL};
		int unknown = 0;
		for (int i = 0; i < k; i++) {
			int off = rank - in[i]->rank;
			if (d < off)
				continue;
			ir_dim x = in[i]->d[d - off];
			if (x.v == 1)
				continue;
			if (x.v < 0) {
				if (r.v < 0 && r.sym && x.sym && !strcmp(r.sym, x.sym))
					continue;
				if (r.v == 1 && !unknown) {
					r = x;
					continue;
				}
				unknown = 1;
				continue;
			}
			if (r.v == 1 || (r.v < 0 && !unknown)) {
				/* a known dim > 1 fixes an unknown one (or it is an error at run time) */
				r = x;
				continue;
			}
			if (r.v >= 0 && r.v != x.v) {
				char a[128], b[128];
				ir_shape_str(in[0], a, sizeof a);
				ir_shape_str(in[i], b, sizeof b);
				return ir_error(g, n, "shapes %s and %s cannot be broadcast", a, b);
			}
		}
		if (unknown && r.v < 0)
			r = (ir_dim){-1, NULL};
		out->d[d] = r;
	}
	return 0;
}

void op_broadcast_strides(const ir_tensor *t, int rank, const int64_t *dims, int64_t *strides)
{
	int off = rank - t->rank;
	int64_t s = 1;
	for (int d = rank - 1; d >= 0; d--) {
		if (d < off) {
			strides[d] = 0;
			continue;
		}
		int64_t td = t->dims[d - off];
		strides[d] = (td == 1 && dims[d] != 1) ? 0 : s;
		s *= td;
	}
}

int op_read_ints(ir_graph *g, ir_node *n, const ir_tensor *t, int64_t *out, int max)
{
	if (!ir_dtype_is_int(t->dtype) || t->rank > 1)
		return ir_error(g, n, "expected a 1-D integer tensor, got %s of rank %d",
				ir_dtype_name(t->dtype), t->rank);
	if (t->numel > max)
		return ir_error(g, n, "integer vector too long (%lld > %d)", (long long)t->numel, max);
	for (int64_t i = 0; i < t->numel; i++)
		out[i] = ir_tensor_get_i64(t, i);
	return (int)t->numel;
}

void op_value_from_tensor(ir_value *v, const ir_tensor *t)
{
	v->dtype = t->dtype;
	ir_shape_from_dims(&v->shape, t->rank, t->dims);
}

int op_shape_dims(const ir_shape *s, int64_t *dims)
{
	if (!ir_shape_known(s))
		return -1;
	for (int i = 0; i < s->rank; i++)
		dims[i] = s->d[i].v;
	return 0;
}

int op_require_dtype(ir_graph *g, ir_node *n, const ir_value *v, unsigned mask, const char *what)
{
	if (!v || v->dtype == IR_UNDEF)
		return 0;
	if (!(mask & (1u << v->dtype)))
		return ir_error(g, n, "%s has unsupported dtype %s", what, ir_dtype_name(v->dtype));
	return 0;
}
