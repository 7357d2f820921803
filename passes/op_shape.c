/* op_shape.c - the 'shape' op family (see ir/ops.def): constants, shape
 * queries and pure data movement (Reshape, Flatten, Transpose, Concat,
 * Squeeze, Unsqueeze, Gather, Slice, Expand, ConstantOfShape, Tile).
 * Check, infer, run.
 *
 * Data movement never looks at element values, so every dtype is handled
 * by element size: views (Transpose, Slice, Expand, Tile) are expressed
 * as a strided read of the input and go through one copy routine,
 * op_strided_copy (ops.c). Tile is the view of the input with dims
 * interleaved as (repeat_0, d_0, repeat_1, d_1, ...) and stride 0 along
 * each repeat dim.
 *
 * Shapes that depend on tensor data (Reshape's shape, Slice's starts ...)
 * are read from in[i]->konst when it is known; otherwise the affected dims
 * (or the rank) are left unknown. n->opset 0 means "newest semantics".
 */
#include "ops.h"

#include <string.h>

#define SH_MAXR (2 * IR_MAX_RANK) /* Tile's interleaved view */
#define SH_MAXV 64                /* longest integer vector an attribute or input may hold */

static void sh_unknown(ir_value *v, ir_dtype dt, int rank)
{
	v->dtype = dt;
	memset(&v->shape, 0, sizeof v->shape);
	v->shape.rank = rank;
	for (int i = 0; i < rank; i++)
		v->shape.d[i].v = -1;
}

static ir_dim sh_known(int64_t v) { return (ir_dim){v, NULL}; }

/* *p *= v; returns 1 on overflow. */
static int sh_mul(int64_t *p, int64_t v)
{
	if (v && *p > INT64_MAX / v)
		return 1;
	*p *= v;
	return 0;
}

static int64_t sh_prod(const int64_t *d, int lo, int hi)
{
	int64_t p = 1;
	for (int i = lo; i < hi; i++)
		p *= d[i];
	return p;
}

static const ir_tensor *sh_konst(ir_value **in, int nin, int i)
{
	return i < nin && in[i] ? in[i]->konst : NULL;
}

/* The element count of a 1-D vector input when its shape is known, else -1. */
static int64_t sh_vec_len(ir_value *v)
{
	if (!v || v->shape.rank != 1 || v->shape.d[0].v < 0)
		return -1;
	return v->shape.d[0].v;
}

/* Read an integer vector from a known tensor or an ints attribute. */
static int sh_read_vec(ir_graph *g, ir_node *n, const ir_tensor *t, const char *what, int64_t *out)
{
	if (t->dtype != IR_I64 && t->dtype != IR_I32)
		return ir_error(g, n, "%s must be int64 (or int32), got %s", what, ir_dtype_name(t->dtype));
	if (t->rank != 1)
		return ir_error(g, n, "%s must be a 1-D tensor, got rank %d", what, t->rank);
	if (t->numel > SH_MAXV)
		return ir_error(g, n, "%s has %lld entries (at most %d supported)", what,
				(long long)t->numel, SH_MAXV);
	return op_read_ints(g, n, t, out, SH_MAXV);
}

static int sh_attr_vec(ir_graph *g, ir_node *n, const char *name, int64_t *out)
{
	const int64_t *p;
	int k = ir_attr_ints(n, name, &p);
	if (k < 0)
		return -1;
	if (k > SH_MAXV)
		return ir_error(g, n, "attribute '%s' has %d entries (at most %d supported)", name, k, SH_MAXV);
	memcpy(out, p, (size_t)k * sizeof *out);
	return k;
}

/* Normalise a list of axes against rank; duplicates are an error. */
static int sh_norm_axes(ir_graph *g, ir_node *n, const int64_t *axes, int k, int rank, int *out)
{
	unsigned seen = 0;
	for (int i = 0; i < k; i++) {
		if (op_axis(g, n, axes[i], rank, &out[i]))
			return -1;
		if (seen & (1u << out[i]))
			return ir_error(g, n, "axis %lld is repeated", (long long)axes[i]);
		seen |= 1u << out[i];
	}
	return 0;
}

static int sh_too_big(ir_graph *g, ir_node *n, int rank)
{
	if (rank > IR_MAX_RANK)
		return ir_error(g, n, "the output would have rank %d (qnnc supports up to %d)", rank,
				IR_MAX_RANK);
	return 0;
}

/* ---------------------------------------------------------- Constant */

static int constant_check(ir_graph *g, ir_node *n)
{
	static const char *refused[] = {"value_string", "value_strings", "sparse_value"};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if (ir_attr_find(n, refused[i]))
			return ir_error(g, n, "attribute '%s' is not supported (only numeric dense constants)",
					refused[i]);
	static const struct {
		const char *name;
		ir_attr_kind kind;
	} forms[] = {
		{"value", IR_ATTR_TENSOR},      {"value_float", IR_ATTR_FLOAT},
		{"value_floats", IR_ATTR_FLOATS}, {"value_int", IR_ATTR_INT},
		{"value_ints", IR_ATTR_INTS},
	};
	int found = 0;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		const ir_attr *a = ir_attr_find(n, forms[i].name);
		if (!a)
			continue;
		if (a->kind != forms[i].kind)
			return ir_error(g, n, "attribute '%s' has the wrong kind", forms[i].name);
		if (forms[i].kind == IR_ATTR_TENSOR && !a->t)
			return ir_error(g, n, "attribute 'value' holds no tensor");
		found++;
	}
	if (found != 1)
		return ir_error(g, n, "exactly one of the attributes value, value_float, value_floats, "
				"value_int, value_ints must be set (found %d)", found);
	return 0;
}

static int constant_infer(ir_node *n, ir_value *out)
{
	const ir_attr *a;
	int64_t len;
	if ((a = ir_attr_find(n, "value"))) {
		op_value_from_tensor(out, a->t);
	} else if (ir_attr_find(n, "value_float")) {
		sh_unknown(out, IR_F32, 0);
	} else if (ir_attr_find(n, "value_int")) {
		sh_unknown(out, IR_I64, 0);
	} else if ((a = ir_attr_find(n, "value_floats"))) {
		len = a->n;
		sh_unknown(out, IR_F32, 1);
		out->shape.d[0].v = len;
	} else {
		a = ir_attr_find(n, "value_ints");
		len = a->n;
		sh_unknown(out, IR_I64, 1);
		out->shape.d[0].v = len;
	}
	return 0;
}

static int constant_run(ir_node *n, ir_tensor *out)
{
	const ir_attr *a;
	if ((a = ir_attr_find(n, "value"))) {
		memcpy(out->data, a->t->data, (size_t)a->t->numel * ir_dtype_size(a->t->dtype));
	} else if ((a = ir_attr_find(n, "value_float"))) {
		ir_tensor_set_f64(out, 0, a->f);
	} else if ((a = ir_attr_find(n, "value_int"))) {
		ir_tensor_set_i64(out, 0, a->i);
	} else if ((a = ir_attr_find(n, "value_floats"))) {
		for (int i = 0; i < a->n; i++)
			ir_tensor_set_f64(out, i, a->fs[i]);
	} else {
		a = ir_attr_find(n, "value_ints");
		for (int i = 0; i < a->n; i++)
			ir_tensor_set_i64(out, i, a->is[i]);
	}
	return 0;
}

/* ------------------------------------------------------- Shape, Size */

void shape_window(const ir_node *n, int rank, int64_t *lo, int64_t *hi)
{
	int64_t s = ir_attr_int(n, "start", 0), e = ir_attr_int(n, "end", rank);
	if (s < 0)
		s += rank;
	if (e < 0)
		e += rank;
	s = s < 0 ? 0 : s > rank ? rank : s;
	e = e < 0 ? 0 : e > rank ? rank : e;
	*lo = s;
	*hi = e > s ? e : s;
}

/* ----------------------------------------------------------- Reshape */

/* The target shape of Reshape: from the 'shape' attribute before opset 5,
 * else from input 1. Returns the count, -2 when it is not known yet, -1 on
 * error. */
static int reshape_target(ir_graph *g, ir_node *n, const ir_tensor *k, int64_t *tgt)
{
	int cnt;
	if (op_opset_before(n, 5))
		cnt = sh_attr_vec(g, n, "shape", tgt);
	else if (!k)
		return -2;
	else
		cnt = sh_read_vec(g, n, k, "the shape input", tgt);
	if (cnt > IR_MAX_RANK)
		return ir_error(g, n, "the target shape has %d dims (qnnc supports up to %d)", cnt,
				IR_MAX_RANK);
	return cnt;
}

static int reshape_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *is = &in[0]->shape;
	int64_t tgt[SH_MAXV];
	int allowzero = (int)ir_attr_int(n, "allowzero", 0);
	int k = reshape_target(g, n, sh_konst(in, n->nin, 1), tgt);
	if (k == -1)
		return -1;
	if (k == -2) {
		int64_t len = sh_vec_len(n->nin > 1 ? in[1] : NULL);
		sh_unknown(out, in[0]->dtype, len >= 0 && len <= IR_MAX_RANK ? (int)len : -1);
		return 0;
	}
	sh_unknown(out, in[0]->dtype, k);
	int neg = -1, zero = 0;
	for (int i = 0; i < k; i++) {
		if (tgt[i] == -1) {
			if (neg >= 0)
				return ir_error(g, n, "the target shape has more than one -1");
			neg = i;
		} else if (tgt[i] < -1) {
			return ir_error(g, n, "the target shape has invalid dim %lld", (long long)tgt[i]);
		} else if (tgt[i] == 0 && !allowzero) {
			if (is->rank >= 0 && i >= is->rank)
				return ir_error(g, n, "target dim %d is 0 (copy the input dim) but the input "
						"has rank %d", i, is->rank);
			out->shape.d[i] = is->rank >= 0 ? is->d[i] : sh_known(-1);
		} else {
			zero |= tgt[i] == 0;
			out->shape.d[i] = sh_known(tgt[i]);
		}
	}
	if (zero && neg >= 0)
		return ir_error(g, n, "with allowzero=1 the target shape may not hold both 0 and -1");
	if (is->rank < 0)
		return 0;
	/* Copied dims cancel; the remaining input dims must equal the product
	 * of the explicit target dims times the -1 dim. */
	int64_t pin = 1, pout = 1;
	for (int j = 0; j < is->rank; j++) {
		if (j < k && tgt[j] == 0 && !allowzero)
			continue;
		if (is->d[j].v < 0)
			return 0; /* unknown: -1 (if any) stays unknown, nothing to check */
		if (sh_mul(&pin, is->d[j].v))
			return ir_error(g, n, "the input element count overflows");
	}
	for (int i = 0; i < k; i++)
		if (i != neg && !(tgt[i] == 0 && !allowzero) && sh_mul(&pout, tgt[i]))
			return ir_error(g, n, "the target element count overflows");
	if (neg >= 0) {
		if (pout == 0) {
			char b[256];
			return ir_error(g, n, "cannot infer the -1 in target shape %s: the other dims "
					"hold zero elements", ir_shape_str(&out->shape, b, sizeof b));
		}
		if (pin % pout == 0) {
			out->shape.d[neg] = sh_known(pin / pout);
			return 0;
		}
	} else if (pin == pout) {
		return 0;
	}
	char a[256], b[256], ca[64] = "", cb[64] = "";
	int64_t na = ir_shape_numel(is), nb = ir_shape_numel(&out->shape);
	if (na >= 0)
		snprintf(ca, sizeof ca, " (%lld elements)", (long long)na);
	if (nb >= 0)
		snprintf(cb, sizeof cb, " (%lld elements)", (long long)nb);
	return ir_error(g, n, "cannot reshape %s%s to %s%s: element counts differ",
			ir_shape_str(is, a, sizeof a), ca, ir_shape_str(&out->shape, b, sizeof b), cb);
}

/* ------------------------------------------------ Flatten, Transpose */

/* The product of dims [lo, hi) as a dim: a single unknown dim times 1 keeps
 * its symbol; a known 0 wins over unknowns. */
static ir_dim sh_dim_prod(const ir_shape *s, int lo, int hi)
{
	int64_t p = 1;
	int nunk = 0, unk = -1, ovf = 0;
	for (int i = lo; i < hi; i++) {
		if (s->d[i].v < 0) {
			nunk++;
			unk = i;
		} else {
			ovf |= sh_mul(&p, s->d[i].v);
		}
	}
	if (p == 0)
		return sh_known(0);
	if (nunk == 1 && p == 1)
		return s->d[unk];
	return sh_known(nunk || ovf ? -1 : p);
}

static int flatten_axis(ir_graph *g, ir_node *n, int rank, int *axis)
{
	int64_t a = ir_attr_int(n, "axis", 1);
	if (a < -rank || a > rank)
		return ir_error(g, n, "axis %lld is out of range [%d, %d]", (long long)a, -rank, rank);
	*axis = (int)(a < 0 ? a + rank : a);
	return 0;
}

static int flatten_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *s = &in[0]->shape;
	int axis = 0;
	sh_unknown(out, in[0]->dtype, 2);
	if (s->rank < 0)
		return 0;
	if (flatten_axis(g, n, s->rank, &axis))
		return -1;
	out->shape.d[0] = sh_dim_prod(s, 0, axis);
	out->shape.d[1] = sh_dim_prod(s, axis, s->rank);
	return 0;
}

static int transpose_check(ir_graph *g, ir_node *n)
{
	const int64_t *perm;
	int k = ir_attr_ints(n, "perm", &perm);
	if (k > IR_MAX_RANK)
		return ir_error(g, n, "perm has %d entries (qnnc supports rank up to %d)", k, IR_MAX_RANK);
	unsigned seen = 0;
	for (int i = 0; i < k; i++) {
		if (perm[i] < 0 || perm[i] >= k || (seen & (1u << perm[i])))
			return ir_error(g, n, "perm is not a permutation of 0..%d", k - 1);
		seen |= 1u << perm[i];
	}
	return 0;
}

/* The permutation for rank: the attribute, or the dims reversed. */
static int transpose_perm(ir_graph *g, ir_node *n, int rank, int *perm)
{
	const int64_t *p;
	int k = ir_attr_ints(n, "perm", &p);
	if (k < 0) {
		for (int i = 0; i < rank; i++)
			perm[i] = rank - 1 - i;
		return 0;
	}
	if (k != rank)
		return ir_error(g, n, "perm has %d entries but the input has rank %d", k, rank);
	for (int i = 0; i < k; i++)
		perm[i] = (int)p[i];
	return 0;
}

static int transpose_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *s = &in[0]->shape;
	int perm[IR_MAX_RANK];
	if (s->rank < 0) {
		const int64_t *p;
		sh_unknown(out, in[0]->dtype, ir_attr_ints(n, "perm", &p));
		return 0;
	}
	if (transpose_perm(g, n, s->rank, perm))
		return -1;
	sh_unknown(out, in[0]->dtype, s->rank);
	for (int i = 0; i < s->rank; i++)
		out->shape.d[i] = s->d[perm[i]];
	return 0;
}

static int transpose_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor *out)
{
	const ir_tensor *x = in[0];
	int perm[IR_MAX_RANK];
	int64_t st[IR_MAX_RANK], ps[IR_MAX_RANK];
	if (transpose_perm(g, n, x->rank, perm))
		return -1;
	op_dense_strides(x->rank, x->dims, st);
	for (int i = 0; i < x->rank; i++)
		ps[i] = st[perm[i]];
	op_strided_copy(out->data, x->data, ir_dtype_size(x->dtype), x->rank, out->dims, ps, 0);
	return 0;
}

/* ------------------------------------------------------------ Concat */

static int concat_check(ir_graph *g, ir_node *n)
{
	if (!op_opset_before(n, 4) && !ir_attr_find(n, "axis"))
		return ir_error(g, n, "the attribute 'axis' is required");
	for (int i = 0; i < n->nin; i++)
		if (!n->in[i])
			return ir_error(g, n, "input %d is missing", i);
	return 0;
}

static int concat_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	int rank = -1, axis;
	for (int i = 0; i < n->nin; i++) {
		if (in[i]->dtype != in[0]->dtype)
			return ir_error(g, n, "input %d is %s but input 0 is %s", i,
					ir_dtype_name(in[i]->dtype), ir_dtype_name(in[0]->dtype));
		int r = in[i]->shape.rank;
		if (r >= 0 && rank >= 0 && r != rank)
			return ir_error(g, n, "input %d has rank %d but another input has rank %d", i, r, rank);
		if (r >= 0)
			rank = r;
	}
	sh_unknown(out, in[0]->dtype, rank);
	if (rank < 0)
		return 0;
	if (rank == 0)
		return ir_error(g, n, "cannot concatenate scalars");
	if (op_axis(g, n, ir_attr_int(n, "axis", 1), rank, &axis))
		return -1;
	int64_t sum = 0;
	for (int d = 0; d < rank; d++) {
		ir_dim r = sh_known(-1);
		for (int i = 0; i < n->nin; i++) {
			const ir_shape *s = &in[i]->shape;
			if (s->rank < 0) {
				if (d == axis)
					sum = -1;
				continue;
			}
			ir_dim x = s->d[d];
			if (d == axis) {
				if (x.v < 0 || sum < 0)
					sum = -1;
				else
					sum += x.v;
				continue;
			}
			if (x.v >= 0 && r.v >= 0 && x.v != r.v) {
				char a[256], b[256];
				return ir_error(g, n, "input %d has shape %s, which does not match %s "
						"outside axis %d", i, ir_shape_str(s, a, sizeof a),
						ir_shape_str(&in[0]->shape, b, sizeof b), axis);
			}
			if (x.v >= 0 || (r.v < 0 && !r.sym))
				r = x;
		}
		out->shape.d[d] = d == axis ? sh_known(sum) : r;
	}
	return 0;
}

static int concat_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor *out)
{
	int axis;
	if (op_axis(g, n, ir_attr_int(n, "axis", 1), out->rank, &axis))
		return -1;
	size_t es = ir_dtype_size(out->dtype);
	int64_t outer = sh_prod(out->dims, 0, axis);
	char *o = out->data;
	for (int64_t i = 0; i < outer; i++)
		for (int k = 0; k < n->nin; k++) {
			size_t block = (size_t)sh_prod(in[k]->dims, axis, in[k]->rank) * es;
			memcpy(o, (const char *)in[k]->data + (size_t)i * block, block);
			o += block;
		}
	return 0;
}

/* ------------------------------------------------ Squeeze, Unsqueeze */

/* Axes of Squeeze / Unsqueeze: the attribute before opset 13, else input
 * 1. An empty axes input is a no-op for Squeeze, as in the ONNX reference
 * and shape inference (onnxruntime's kernel squeezes all 1s). Returns the count, -2 when absent, -3 when not known yet (*len gets
 * the count if that is known, else -1), -1 on error. */
static int sq_axes(ir_graph *g, ir_node *n, ir_value **in, int64_t *axes, int64_t *len)
{
	if (op_opset_before(n, 13)) {
		/* an empty attribute list means "absent" (ONNX reference) */
		int k = ir_attr_find(n, "axes") ? sh_attr_vec(g, n, "axes", axes) : -2;
		return k == 0 ? -2 : k;
	}
	if (n->nin < 2 || !in[1])
		return -2;
	if (!in[1]->konst) {
		*len = sh_vec_len(in[1]);
		return -3;
	}
	return sh_read_vec(g, n, in[1]->konst, "axes", axes);
}

static int sq_check(ir_graph *g, ir_node *n)
{
	int attr = ir_attr_find(n, "axes") != NULL;
	int input = n->nin > 1 && n->in[1];
	if (op_opset_before(n, 13)) {
		if (input)
			return ir_error(g, n, "axes is an attribute before opset 13, not an input");
		if (n->op == IR_OP_Unsqueeze && !attr)
			return ir_error(g, n, "the attribute 'axes' is required");
	} else {
		if (attr)
			return ir_error(g, n, "axes is an input since opset 13, not an attribute");
		if (n->op == IR_OP_Unsqueeze && !input)
			return ir_error(g, n, "the axes input is required");
	}
	return 0;
}

static int squeeze_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *s = &in[0]->shape;
	int64_t axes[SH_MAXV], len = -1;
	int k = sq_axes(g, n, in, axes, &len), ax[SH_MAXV];
	if (k == -1)
		return -1;
	if (k == -3) {
		int r = s->rank >= 0 && len >= 0 ? s->rank - (int)len : -1;
		sh_unknown(out, in[0]->dtype, r < 0 ? -1 : r);
		return 0;
	}
	sh_unknown(out, in[0]->dtype, -1);
	if (s->rank < 0)
		return 0;
	int r = 0;
	if (k == -2) {
		for (int i = 0; i < s->rank; i++)
			if (s->d[i].v < 0)
				return 0; /* whether it is 1 decides the rank */
		for (int i = 0; i < s->rank; i++)
			if (s->d[i].v != 1)
				out->shape.d[r++] = s->d[i];
		out->shape.rank = r;
		return 0;
	}
	if (sh_norm_axes(g, n, axes, k, s->rank, ax))
		return -1;
	unsigned drop = 0;
	for (int i = 0; i < k; i++) {
		if (s->d[ax[i]].v >= 0 && s->d[ax[i]].v != 1) {
			char b[256];
			return ir_error(g, n, "cannot squeeze axis %lld of shape %s: its size is %lld, not 1",
					(long long)axes[i], ir_shape_str(s, b, sizeof b),
					(long long)s->d[ax[i]].v);
		}
		drop |= 1u << ax[i];
	}
	for (int i = 0; i < s->rank; i++)
		if (!(drop & (1u << i)))
			out->shape.d[r++] = s->d[i];
	out->shape.rank = r;
	return 0;
}

static int unsqueeze_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *s = &in[0]->shape;
	int64_t axes[SH_MAXV], len = -1;
	int k = sq_axes(g, n, in, axes, &len), ax[SH_MAXV];
	if (k == -1)
		return -1;
	if (k == -2)
		return ir_error(g, n, "axes are required");
	if (k == -3) {
		int r = s->rank >= 0 && len >= 0 ? s->rank + (int)len : -1;
		if (sh_too_big(g, n, r))
			return -1;
		sh_unknown(out, in[0]->dtype, r);
		return 0;
	}
	if (s->rank < 0) {
		sh_unknown(out, in[0]->dtype, -1);
		return 0;
	}
	int r = s->rank + k;
	if (sh_too_big(g, n, r) || sh_norm_axes(g, n, axes, k, r, ax))
		return -1;
	unsigned ins = 0;
	for (int i = 0; i < k; i++)
		ins |= 1u << ax[i];
	sh_unknown(out, in[0]->dtype, r);
	for (int i = 0, j = 0; i < r; i++)
		out->shape.d[i] = (ins & (1u << i)) ? sh_known(1) : s->d[j++];
	return 0;
}

/* ------------------------------------------------------------ Gather */

static int gather_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *s = &in[0]->shape, *q = &in[1]->shape;
	int axis;
	if (op_require_dtype(g, n, in[1], (1u << IR_I32) | (1u << IR_I64), "indices"))
		return -1;
	sh_unknown(out, in[0]->dtype, -1);
	if (s->rank == 0)
		return ir_error(g, n, "cannot gather from a scalar");
	if (s->rank < 0 || q->rank < 0)
		return 0;
	if (op_axis(g, n, ir_attr_int(n, "axis", 0), s->rank, &axis))
		return -1;
	int r = s->rank + q->rank - 1;
	if (sh_too_big(g, n, r))
		return -1;
	out->shape.rank = r;
	int k = 0;
	for (int i = 0; i < axis; i++)
		out->shape.d[k++] = s->d[i];
	for (int i = 0; i < q->rank; i++)
		out->shape.d[k++] = q->d[i];
	for (int i = axis + 1; i < s->rank; i++)
		out->shape.d[k++] = s->d[i];
	return 0;
}

static int gather_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor *out)
{
	const ir_tensor *x = in[0], *idx = in[1];
	int axis;
	if (op_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis))
		return -1;
	int64_t dax = x->dims[axis];
	for (int64_t j = 0; j < idx->numel; j++) {
		int64_t v = ir_tensor_get_i64(idx, j);
		if (v < -dax || v >= dax)
			return ir_error(g, n, "index %lld is out of range for axis %d of size %lld",
					(long long)v, axis, (long long)dax);
	}
	size_t es = ir_dtype_size(x->dtype);
	int64_t outer = sh_prod(x->dims, 0, axis);
	size_t block = (size_t)sh_prod(x->dims, axis + 1, x->rank) * es;
	char *o = out->data;
	for (int64_t i = 0; i < outer; i++)
		for (int64_t j = 0; j < idx->numel; j++) {
			int64_t v = ir_tensor_get_i64(idx, j);
			if (v < 0)
				v += dax;
			memcpy(o, (const char *)x->data + (size_t)(i * dax + v) * block, block);
			o += block;
		}
	return 0;
}

/* ------------------------------------------------------------- Slice */

/* Per input dim: first element, step and output length (-1: unknown);
 * cut is set for the dims the slice touches. */
typedef struct sl_plan {
	int64_t start[IR_MAX_RANK], step[IR_MAX_RANK], len[IR_MAX_RANK];
	int cut[IR_MAX_RANK];
} sl_plan;

static int slice_check(ir_graph *g, ir_node *n)
{
	if (op_opset_before(n, 10)) {
		const int64_t *p;
		int ks = ir_attr_ints(n, "starts", &p), ke = ir_attr_ints(n, "ends", &p);
		int ka = ir_attr_ints(n, "axes", &p);
		if (ks < 0 || ke < 0)
			return ir_error(g, n, "the attributes 'starts' and 'ends' are required before opset 10");
		if (ks != ke || (ka >= 0 && ka != ks))
			return ir_error(g, n, "starts, ends and axes must have the same length");
		if (n->nin > 1)
			return ir_error(g, n, "takes one input before opset 10");
	} else if (n->nin < 3 || !n->in[1] || !n->in[2]) {
		return ir_error(g, n, "the inputs starts and ends are required");
	}
	return 0;
}

/* Clamp start and end of one axis of size d (ONNX Slice rules) and give
 * the output length. */
static int64_t sl_clamp(int64_t d, int64_t *start, int64_t end, int64_t step)
{
	int64_t s = *start;
	if (s < 0)
		s += d;
	if (end < 0)
		end += d;
	if (step > 0) {
		s = s < 0 ? 0 : s > d ? d : s;
		end = end < 0 ? 0 : end > d ? d : end;
		*start = s;
		return end > s ? (end - s - 1) / step + 1 : 0;
	}
	s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
	end = end < -1 ? -1 : end > d - 1 ? d - 1 : end;
	*start = s;
	if (s <= end)
		return 0;
	uint64_t ustep = (uint64_t)0 - (uint64_t)step; /* |step|, also for INT64_MIN */
	return (int64_t)((uint64_t)(s - end - 1) / ustep) + 1;
}

/* Build the plan for input shape s (rank known). Returns 0 with every
 * length known, 1 when some are unknown (their len is -1), -1 on error. */
static int slice_plan(ir_graph *g, ir_node *n, const ir_shape *s, ir_value **in, sl_plan *p)
{
	int64_t st[SH_MAXV], en[SH_MAXV], ax[SH_MAXV], sp[SH_MAXV];
	int ks, ke, ka = -2, kp = -2, unknown = 0;
	for (int i = 0; i < s->rank; i++) {
		p->start[i] = 0;
		p->step[i] = 1;
		p->len[i] = s->d[i].v;
		p->cut[i] = 0;
	}
	if (op_opset_before(n, 10)) {
		ks = sh_attr_vec(g, n, "starts", st);
		ke = sh_attr_vec(g, n, "ends", en);
		if (ir_attr_find(n, "axes"))
			ka = sh_attr_vec(g, n, "axes", ax);
		if (ks == -1 || ke == -1 || ka == -1)
			return -1;
	} else {
		const ir_tensor *k1 = sh_konst(in, n->nin, 1), *k2 = sh_konst(in, n->nin, 2);
		const ir_tensor *k3 = sh_konst(in, n->nin, 3), *k4 = sh_konst(in, n->nin, 4);
		if (!k1 || !k2 || (n->nin > 4 && in[4] && !k4))
			unknown = 1;
		if (n->nin > 3 && in[3] && !k3)
			goto all_unknown;
		ks = k1 ? sh_read_vec(g, n, k1, "starts", st) : (int)sh_vec_len(in[1]);
		ke = k2 ? sh_read_vec(g, n, k2, "ends", en) : (int)sh_vec_len(in[2]);
		if (k3)
			ka = sh_read_vec(g, n, k3, "axes", ax);
		if (k4)
			kp = sh_read_vec(g, n, k4, "steps", sp);
		if ((k1 && ks < 0) || (k2 && ke < 0) || ka == -1 || kp == -1)
			return -1;
		if (ka == -2 && (ks < 0 || ke < 0))
			goto all_unknown;
	}
	int k = ks >= 0 ? ks : ke >= 0 ? ke : ka;
	if ((ks >= 0 && ks != k) || (ke >= 0 && ke != k) || (ka >= 0 && ka != k) ||
	    (kp >= 0 && kp != k))
		return ir_error(g, n, "starts, ends, axes and steps must have the same length");
	if (ka == -2) {
		if (k > s->rank)
			return ir_error(g, n, "%d starts given for an input of rank %d", k, s->rank);
		for (int i = 0; i < k; i++)
			ax[i] = i;
	}
	int axn[SH_MAXV];
	if (sh_norm_axes(g, n, ax, k, s->rank, axn))
		return -1;
	for (int i = 0; i < k; i++) {
		int a = axn[i];
		int64_t step = kp >= 0 ? sp[i] : 1;
		if (kp >= 0 && step == 0)
			return ir_error(g, n, "step for axis %d is 0", a);
		p->cut[a] = 1;
		if (unknown || s->d[a].v < 0) {
			p->len[a] = -1;
			unknown = 1;
			continue;
		}
		p->step[a] = step;
		p->start[a] = st[i];
		p->len[a] = sl_clamp(s->d[a].v, &p->start[a], en[i], step);
	}
	return unknown;
all_unknown:
	for (int i = 0; i < s->rank; i++) {
		p->len[i] = -1;
		p->cut[i] = 1;
	}
	return 1;
}

static int slice_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *s = &in[0]->shape;
	sl_plan p;
	sh_unknown(out, in[0]->dtype, s->rank);
	if (s->rank < 0)
		return 0;
	if (slice_plan(g, n, s, in, &p) < 0)
		return -1;
	for (int i = 0; i < s->rank; i++)
		out->shape.d[i] = p.cut[i] ? sh_known(p.len[i]) : s->d[i];
	return 0;
}

int shape_slice_plan(ir_graph *g, ir_node *n, int rank, const int64_t *dims, ir_value **in,
		     int64_t *start, int64_t *step, int64_t *len)
{
	ir_shape s;
	sl_plan p;
	ir_shape_from_dims(&s, rank, dims);
	int rc = slice_plan(g, n, &s, in, &p);
	if (rc)
		return rc;
	for (int i = 0; i < rank; i++) {
		start[i] = p.start[i];
		step[i] = p.step[i];
		len[i] = p.len[i];
	}
	return 0;
}

static int slice_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor *out, ir_value **vin)
{
	const ir_tensor *x = in[0];
	int64_t start[IR_MAX_RANK], step[IR_MAX_RANK], len[IR_MAX_RANK];
	int64_t st[IR_MAX_RANK], vs[IR_MAX_RANK], off = 0;
	if (shape_slice_plan(g, n, x->rank, x->dims, vin, start, step, len))
		return ir_error(g, n, "the slice parameters are not known"); /* konst is set at run time */
	op_dense_strides(x->rank, x->dims, st);
	for (int i = 0; i < x->rank; i++) {
		off += start[i] * st[i];
		vs[i] = step[i] * st[i];
	}
	op_strided_copy(out->data, x->data, ir_dtype_size(x->dtype), x->rank, out->dims, vs, off);
	return 0;
}

/* ---------------------------------------- Expand, ConstantOfShape, Tile */

/* A shape given as data (Expand, ConstantOfShape): from konst, else a
 * shape of unknown dims when the vector length is known. Returns 0, 1 when
 * even the rank is unknown, -1 on error. */
static int sh_shape_input(ir_graph *g, ir_node *n, ir_value *v, const char *what, ir_shape *s)
{
	int64_t dims[SH_MAXV];
	memset(s, 0, sizeof *s);
	if (v->dtype != IR_I64 && v->dtype != IR_UNDEF)
		return ir_error(g, n, "%s must be int64, got %s", what, ir_dtype_name(v->dtype));
	if (!v->konst) {
		int64_t len = sh_vec_len(v);
		if (len < 0)
			return 1;
		if (sh_too_big(g, n, (int)(len < SH_MAXV ? len : SH_MAXV)))
			return -1;
		s->rank = (int)len;
		for (int i = 0; i < s->rank; i++)
			s->d[i].v = -1;
		return 0;
	}
	int k = sh_read_vec(g, n, v->konst, what, dims);
	if (k < 0 || sh_too_big(g, n, k))
		return -1;
	for (int i = 0; i < k; i++)
		if (dims[i] < 0)
			return ir_error(g, n, "%s has negative dim %lld", what, (long long)dims[i]);
	ir_shape_from_dims(s, k, dims);
	return 0;
}

static int expand_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	ir_shape t;
	int rc = sh_shape_input(g, n, in[1], "the shape input", &t);
	if (rc < 0)
		return -1;
	sh_unknown(out, in[0]->dtype, -1);
	if (rc)
		return 0;
	const ir_shape *sh[2] = {&in[0]->shape, &t};
	if (op_broadcast(g, n, 2, sh, &out->shape))
		return -1;
	/* A target dim of 1 never shrinks the input: op_broadcast keeps x. */
	return 0;
}

static int expand_run(ir_tensor **in, ir_tensor *out)
{
	int64_t st[IR_MAX_RANK];
	op_broadcast_strides(in[0], out->rank, out->dims, st);
	op_strided_copy(out->data, in[0]->data, ir_dtype_size(in[0]->dtype), out->rank, out->dims, st, 0);
	return 0;
}

static int cos_check(ir_graph *g, ir_node *n)
{
	const ir_attr *a = ir_attr_find(n, "value");
	if (!a)
		return 0;
	if (a->kind != IR_ATTR_TENSOR || !a->t)
		return ir_error(g, n, "attribute 'value' must be a tensor");
	if (a->t->numel != 1)
		return ir_error(g, n, "attribute 'value' must hold one element, it holds %lld",
				(long long)a->t->numel);
	return 0;
}

static int cos_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_attr *a = ir_attr_find(n, "value");
	ir_shape t;
	int rc = sh_shape_input(g, n, in[0], "the shape input", &t);
	if (rc < 0)
		return -1;
	sh_unknown(out, a ? a->t->dtype : IR_F32, -1);
	if (!rc)
		out->shape = t;
	return 0;
}

static int cos_run(ir_node *n, ir_tensor *out)
{
	const ir_attr *a = ir_attr_find(n, "value");
	size_t es = ir_dtype_size(out->dtype);
	if (!a)
		return 0; /* float 0: the buffer is zeroed */
	for (int64_t i = 0; i < out->numel; i++)
		memcpy((char *)out->data + (size_t)i * es, a->t->data, es);
	return 0;
}

static int tile_repeats(ir_graph *g, ir_node *n, const ir_tensor *k, int rank, int64_t *rep)
{
	int cnt = sh_read_vec(g, n, k, "repeats", rep);
	if (cnt < 0)
		return -1;
	if (cnt != rank)
		return ir_error(g, n, "repeats has %d entries but the input has rank %d", cnt, rank);
	for (int i = 0; i < cnt; i++)
		if (rep[i] < 0)
			return ir_error(g, n, "repeat %lld for axis %d is negative", (long long)rep[i], i);
	return 0;
}

static int tile_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value *out)
{
	const ir_shape *s = &in[0]->shape;
	int64_t rep[SH_MAXV];
	if (op_require_dtype(g, n, in[1], 1u << IR_I64, "repeats"))
		return -1;
	sh_unknown(out, in[0]->dtype, s->rank);
	if (s->rank < 0 || !in[1]->konst)
		return 0;
	if (tile_repeats(g, n, in[1]->konst, s->rank, rep))
		return -1;
	for (int i = 0; i < s->rank; i++) {
		if (rep[i] == 1)
			out->shape.d[i] = s->d[i];
		else if (rep[i] == 0)
			out->shape.d[i] = sh_known(0);
		else if (s->d[i].v >= 0 && s->d[i].v > INT64_MAX / rep[i])
			return ir_error(g, n, "the output dim %d overflows", i);
		else
			out->shape.d[i] = sh_known(s->d[i].v < 0 ? -1 : s->d[i].v * rep[i]);
	}
	return 0;
}

static int tile_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor *out)
{
	const ir_tensor *x = in[0];
	int64_t rep[SH_MAXV], st[IR_MAX_RANK], vd[SH_MAXR], vs[SH_MAXR];
	if (tile_repeats(g, n, in[1], x->rank, rep))
		return -1;
	op_dense_strides(x->rank, x->dims, st);
	for (int i = 0; i < x->rank; i++) {
		vd[2 * i] = rep[i];
		vs[2 * i] = 0;
		vd[2 * i + 1] = x->dims[i];
		vs[2 * i + 1] = st[i];
	}
	op_strided_copy(out->data, x->data, ir_dtype_size(x->dtype), 2 * x->rank, vd, vs, 0);
	return 0;
}

/* ---------------------------------------------------------- dispatch */

int shape_check(ir_graph *g, ir_node *n)
{
	if (op_check_arity(g, n))
		return -1;
	switch (n->op) {
	case IR_OP_Constant: return constant_check(g, n);
	case IR_OP_Reshape: {
		int64_t az = ir_attr_int(n, "allowzero", 0);
		if (az != 0 && az != 1)
			return ir_error(g, n, "allowzero must be 0 or 1, got %lld", (long long)az);
		if (op_opset_before(n, 5) && !ir_attr_find(n, "shape"))
			return ir_error(g, n, "the attribute 'shape' is required before opset 5");
		if (!op_opset_before(n, 5) && (n->nin < 2 || !n->in[1]))
			return ir_error(g, n, "the shape input is required");
		return 0;
	}
	case IR_OP_Transpose: return transpose_check(g, n);
	case IR_OP_Concat: return concat_check(g, n);
	case IR_OP_Squeeze:
	case IR_OP_Unsqueeze: return sq_check(g, n);
	case IR_OP_Slice: return slice_check(g, n);
	case IR_OP_ConstantOfShape: return cos_check(g, n);
	default: return 0;
	}
}

int shape_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	ir_value *y = out[0];
	switch (n->op) {
	case IR_OP_Constant: return constant_infer(n, y);
	case IR_OP_Shape: {
		int64_t lo, hi;
		sh_unknown(y, IR_I64, 1);
		if (in[0]->shape.rank >= 0) {
			shape_window(n, in[0]->shape.rank, &lo, &hi);
			y->shape.d[0].v = hi - lo;
		}
		return 0;
	}
	case IR_OP_Size: sh_unknown(y, IR_I64, 0); return 0;
	case IR_OP_Reshape: return reshape_infer(g, n, in, y);
	case IR_OP_Flatten: return flatten_infer(g, n, in, y);
	case IR_OP_Transpose: return transpose_infer(g, n, in, y);
	case IR_OP_Concat: return concat_infer(g, n, in, y);
	case IR_OP_Squeeze: return squeeze_infer(g, n, in, y);
	case IR_OP_Unsqueeze: return unsqueeze_infer(g, n, in, y);
	case IR_OP_Gather: return gather_infer(g, n, in, y);
	case IR_OP_Slice: return slice_infer(g, n, in, y);
	case IR_OP_Expand: return expand_infer(g, n, in, y);
	case IR_OP_ConstantOfShape: return cos_infer(g, n, in, y);
	case IR_OP_Tile: return tile_infer(g, n, in, y);
	default: IR_UNREACHABLE();
	}
}

int shape_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	ir_tensor *y = out[0];
	switch (n->op) {
	case IR_OP_Constant: return constant_run(n, y);
	case IR_OP_Shape: {
		int64_t lo, hi;
		shape_window(n, in[0]->rank, &lo, &hi);
		for (int64_t i = lo; i < hi; i++)
			((int64_t *)y->data)[i - lo] = in[0]->dims[i];
		return 0;
	}
	case IR_OP_Size: ((int64_t *)y->data)[0] = in[0]->numel; return 0;
	case IR_OP_Reshape:
	case IR_OP_Flatten:
	case IR_OP_Squeeze:
	case IR_OP_Unsqueeze:
		/* same elements in the same order */
		memcpy(y->data, in[0]->data, (size_t)in[0]->numel * ir_dtype_size(in[0]->dtype));
		return 0;
	case IR_OP_Transpose: return transpose_run(g, n, in, y);
	case IR_OP_Concat: return concat_run(g, n, in, y);
	case IR_OP_Gather: return gather_run(g, n, in, y);
	case IR_OP_Slice: {
		ir_value v[5], *pv[5] = {0};
		for (int i = 0; i < n->nin && i < 5; i++) {
			if (!in[i])
				continue;
			memset(&v[i], 0, sizeof v[i]);
			op_value_from_tensor(&v[i], in[i]);
			v[i].konst = in[i];
			pv[i] = &v[i];
		}
		return slice_run(g, n, in, y, pv);
	}
	case IR_OP_Expand: return expand_run(in, y);
	case IR_OP_ConstantOfShape: return cos_run(n, y);
	case IR_OP_Tile: return tile_run(g, n, in, y);
	default: IR_UNREACHABLE();
	}
}
