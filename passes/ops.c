/* ops.c - the op dispatch table (generated from ir/ops.def) and the
 * helpers shared by the op families: arity, attributes, axes,
 * broadcasting, strided copies. */
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

/* Attribute name of n, or NULL when absent; error if it has another kind. */
static int attr_of_kind(ir_graph *g, ir_node *n, const char *name, ir_attr_kind kind, const char *what,
			const ir_attr **a)
{
	*a = ir_attr_find(n, name);
	if (*a && (*a)->kind != kind)
		return ir_error(g, n, "attribute '%s' must be %s", name, what);
	return 0;
}

int op_attr_int(ir_graph *g, ir_node *n, const char *name, int64_t dflt, int64_t *v)
{
	const ir_attr *a;
	int rc = attr_of_kind(g, n, name, IR_ATTR_INT, "an int", &a);
	*v = a && !rc ? a->i : dflt;
	return rc;
}

int op_attr_float(ir_graph *g, ir_node *n, const char *name, double dflt, double *v)
{
	const ir_attr *a;
	int rc = attr_of_kind(g, n, name, IR_ATTR_FLOAT, "a float", &a);
	*v = a && !rc ? a->f : dflt;
	return rc;
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

void op_dense_strides(int rank, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; i--) {
		strides[i] = s;
		s *= dims[i];
	}
}

int op_merge_dims(int rank, const int64_t *dims, int k, const int64_t *st, int ld, int64_t *md, int64_t *ms)
{
	int r = 0;
	for (int d = 0; d < rank; d++)
		if (dims[d] == 0)
			return -1;
	for (int d = 0; d < rank; d++) {
		if (dims[d] == 1)
			continue;
		int merge = r > 0;
		for (int i = 0; i < k && merge; i++)
			merge = ms[i * ld + r - 1] == st[i * ld + d] * dims[d];
		if (merge) {
			md[r - 1] *= dims[d];
			for (int i = 0; i < k; i++)
				ms[i * ld + r - 1] = st[i * ld + d];
			continue;
		}
		md[r] = dims[d];
		for (int i = 0; i < k; i++)
			ms[i * ld + r] = st[i * ld + d];
		r++;
	}
	return r;
}

void op_strided_copy(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
		     const int64_t *strides, int64_t off)
{
	int64_t d[2 * IR_MAX_RANK], s[2 * IR_MAX_RANK];
	IR_ASSERT(rank <= 2 * IR_MAX_RANK);
	int r = op_merge_dims(rank, dims, 1, strides, 0, d, s);
	if (r < 0)
		return;
	const char *base = (const char *)src + off * (int64_t)es;
	char *o = dst;
	if (r == 0) {
		memcpy(o, base, es);
		return;
	}
	int64_t cnt[2 * IR_MAX_RANK] = {0}, inner = d[r - 1], is = s[r - 1], pos = 0;
	for (;;) {
		const char *p = base + pos * (int64_t)es;
		if (is == 1) {
			memcpy(o, p, (size_t)inner * es);
		} else {
			switch (es) {
#define OP_RUN(T)                                                                        \
	for (int64_t j = 0; j < inner; j++)                                              \
		memcpy(o + j * (int64_t)sizeof(T), p + j * is * (int64_t)sizeof(T), sizeof(T)); \
	break;
			case 1: OP_RUN(uint8_t)
			case 2: OP_RUN(uint16_t)
			case 4: OP_RUN(uint32_t)
			default: OP_RUN(uint64_t)
#undef OP_RUN
			}
		}
		o += inner * (int64_t)es;
		int k = r - 2;
		for (; k >= 0; k--) {
			pos += s[k];
			if (++cnt[k] < d[k])
				break;
			pos -= s[k] * d[k];
			cnt[k] = 0;
		}
		if (k < 0)
			return;
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
