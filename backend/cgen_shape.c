/* cgen_shape.c - C emission for the 'shape' op family (see ir/ops.def):
 * constants, shape queries and data movement.
 *
 * Constant, Shape, Size and ConstantOfShape are normally folded before
 * emission; they are emitted anyway from the attributes and the static
 * shapes. Reshape, Flatten, Squeeze and Unsqueeze are views that the
 * driver (backend/cgen.c) handles without code; if one reaches this file
 * it is a copy. Transpose, Slice, Expand and Tile are strided reads of the
 * input written densely to the output (Tile views the input with dims
 * interleaved as (repeat_0, d_0, repeat_1, d_1, ...), stride 0 along the
 * repeats), emitted as one loop nest over the output with compile-time
 * strides. Concat copies contiguous blocks; Gather reads its indices at
 * run time and, since generated code cannot fail, writes zeros for an
 * index out of range (the interpreter refuses it).
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <string.h>

#include "ops.h"

#define SH_MAXR (2 * IR_MAX_RANK)

/* "(void)xI;" for the inputs from 'from' on (shape and axes inputs that
 * the code does not read). */
static void sh_void_inputs(cgen *cg, const ir_node *n, int from)
{
	for (int i = from; i < n->nin; i++)
		if (n->in[i])
			cg_printf(cg, "\t(void)x%d;\n", i);
}

/* y0 = the strided view (dims, element strides ist, first element ioff)
 * of x0, written densely. */
static void sh_strided_copy(cgen *cg, int rank, const int64_t *dims, const int64_t *ist, int64_t ioff)
{
	int64_t st[2 * SH_MAXR], off[2] = {0, ioff};
	char idx[2][CG_IDXLEN];
	op_dense_strides(rank, dims, st);
	memcpy(st + rank, ist, (size_t)rank * sizeof *ist);
	int b = cg_nest_open(cg, 1, "i", rank, dims, 2, st, off, NULL, &idx[0][0], CG_IDXLEN);
	if (!b) {
		cg_printf(cg, "\t(void)x0;\n\t(void)y0;\n");
		return;
	}
	cg_tabs(cg, b);
	cg_printf(cg, "y0[%s] = x0[%s];\n", idx[0], idx[1]);
	cg_nest_close(cg, b);
}

static void sh_memcpy(cgen *cg, const ir_value *v)
{
	int64_t bytes = cg_numel(v) * (int64_t)ir_dtype_size(v->dtype);
	if (bytes)
		cg_printf(cg, "\tmemcpy(y0, x0, %" PRId64 ");\n", bytes);
	else
		cg_printf(cg, "\t(void)x0;\n\t(void)y0;\n");
}

/* y0 = the constant tensor t. */
static void sh_emit_tensor(cgen *cg, ir_node *n, const ir_tensor *t)
{
	char name[48];
	if (!t->numel) {
		cg_begin_fn(cg, n);
		cg_printf(cg, "\t(void)y0;\n}\n");
		return;
	}
	snprintf(name, sizeof name, "n%d_value", n->id);
	cg_const_array(cg, name, t);
	cg_begin_fn(cg, n);
	cg_printf(cg, "\tmemcpy(y0, %s, %" PRId64 ");\n}\n", name, t->numel * (int64_t)ir_dtype_size(t->dtype));
}

static int sh_constant(cgen *cg, ir_node *n)
{
	ir_value *y = n->out[0];
	const ir_attr *a;
	if (y->konst) {
		sh_emit_tensor(cg, n, y->konst);
		return 0;
	}
	if ((a = ir_attr_find(n, "value")) && a->t) {
		sh_emit_tensor(cg, n, a->t);
		return 0;
	}
	static const char *const forms[] = {"value_float", "value_floats", "value_int", "value_ints"};
	a = NULL;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0] && !a; i++)
		a = ir_attr_find(n, forms[i]);
	if (!a)
		return ir_error(cg->g, n, "Constant without a supported value attribute");
	ir_dtype dt = a->kind == IR_ATTR_INT || a->kind == IR_ATTR_INTS ? IR_I64 : IR_F32;
	int scalar = a->kind == IR_ATTR_FLOAT || a->kind == IR_ATTR_INT;
	int64_t len = scalar ? 1 : a->n;
	ir_tensor *t = ir_tensor_new(cg->g->arena, dt, scalar ? 0 : 1, &len);
	if (!t)
		return ir_error(cg->g, n, "out of memory");
	for (int64_t i = 0; i < t->numel; i++) {
		switch (a->kind) {
		case IR_ATTR_FLOAT: ir_tensor_set_f64(t, i, a->f); break;
		case IR_ATTR_INT: ir_tensor_set_i64(t, i, a->i); break;
		case IR_ATTR_FLOATS: ir_tensor_set_f64(t, i, a->fs[i]); break;
		default: ir_tensor_set_i64(t, i, a->is[i]); break;
		}
	}
	sh_emit_tensor(cg, n, t);
	return 0;
}

/* Slice's first element and step per input dim (passes/op_shape.c),
 * checked against the inferred output shape. */
static int sh_slice_plan(cgen *cg, ir_node *n, int rank, const int64_t *dims, const int64_t *odims,
			 int64_t *start, int64_t *step)
{
	int64_t len[IR_MAX_RANK];
	for (int i = 1; i < n->nin && i < 5; i++)
		if (n->in[i] && !n->in[i]->konst)
			return ir_error(cg->g, n, "the C backend needs constant slice parameters (input '%s' "
					"is computed)", n->in[i]->name);
	int rc = shape_slice_plan(cg->g, n, rank, dims, n->in, start, step, len);
	if (rc)
		return rc < 0 ? -1 : ir_error(cg->g, n, "the slice parameters are not known");
	for (int a = 0; a < rank; a++)
		if (len[a] != odims[a])
			return ir_error(cg->g, n, "slice of axis %d has %lld elements but the output dim is %lld", a,
					(long long)len[a], (long long)odims[a]);
	return 0;
}

static int sh_gather(cgen *cg, ir_node *n)
{
	int64_t xd[IR_MAX_RANK];
	int rank = cg_dims(n->in[0], xd), axis;
	const char *T = ir_dtype_c_type(n->in[0]->dtype);
	if (op_axis(cg->g, n, ir_attr_int(n, "axis", 0), rank, &axis))
		return -1;
	int64_t outer = 1, inner = 1, nidx = cg_numel(n->in[1]), dax = xd[axis];
	for (int i = 0; i < axis; i++)
		outer *= xd[i];
	for (int i = axis + 1; i < rank; i++)
		inner *= xd[i];
	cg_begin_fn(cg, n);
	if (outer * nidx * inner == 0) {
		cg_void_params(cg, n);
		cg_printf(cg, "}\n");
		return 0;
	}
	cg_printf(cg, "\tfor (int64_t o = 0; o < %" PRId64 "; o++)\n", outer);
	cg_printf(cg, "\t\tfor (int64_t j = 0; j < %" PRId64 "; j++) {\n", nidx);
	cg_printf(cg, "\t\t\tint64_t k = (int64_t)x1[j];\n");
	cg_printf(cg, "\t\t\t%s *restrict d = y0 + (o * %" PRId64 " + j) * %" PRId64 ";\n", T, nidx, inner);
	cg_printf(cg, "\t\t\tif (k < 0)\n\t\t\t\tk += %" PRId64 ";\n", dax);
	cg_printf(cg, "\t\t\tif (k < 0 || k >= %" PRId64 ") {\n", dax);
	cg_printf(cg, "\t\t\t\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\t\t\t\td[i] = (%s)0;\n", inner, T);
	cg_printf(cg, "\t\t\t\tcontinue;\n\t\t\t}\n");
	cg_printf(cg, "\t\t\tconst %s *restrict s = x0 + (o * %" PRId64 " + k) * %" PRId64 ";\n", T, dax, inner);
	cg_printf(cg, "\t\t\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\t\t\td[i] = s[i];\n", inner);
	cg_printf(cg, "\t\t}\n}\n");
	return 0;
}

static int sh_concat(cgen *cg, ir_node *n)
{
	int64_t od[IR_MAX_RANK];
	int rank = cg_dims(n->out[0], od), axis;
	if (op_axis(cg->g, n, ir_attr_int(n, "axis", 1), rank, &axis))
		return -1;
	int64_t outer = 1, total = 1;
	for (int i = 0; i < axis; i++)
		outer *= od[i];
	for (int i = axis; i < rank; i++)
		total *= od[i];
	size_t es = ir_dtype_size(n->out[0]->dtype);
	cg_begin_fn(cg, n);
	if (outer * total == 0) {
		cg_void_params(cg, n);
		cg_printf(cg, "}\n");
		return 0;
	}
	if (outer > 1)
		cg_printf(cg, "\tfor (int64_t o = 0; o < %" PRId64 "; o++) {\n", outer);
	int64_t at = 0;
	for (int i = 0; i < n->nin; i++) {
		int64_t blk = cg_numel(n->in[i]) / outer;
		if (!blk) {
			cg_printf(cg, "\t(void)x%d;\n", i);
			continue;
		}
		if (outer > 1)
			cg_printf(cg, "\t\tmemcpy(y0 + o * %" PRId64 " + %" PRId64 ", x%d + o * %" PRId64 ", %" PRId64 ");\n",
				  total, at, i, blk, blk * (int64_t)es);
		else
			cg_printf(cg, "\tmemcpy(y0 + %" PRId64 ", x%d, %" PRId64 ");\n", at, i, blk * (int64_t)es);
		at += blk;
	}
	if (outer > 1)
		cg_printf(cg, "\t}\n");
	cg_printf(cg, "}\n");
	return 0;
}

int cgen_shape(cgen *cg, ir_node *n)
{
	int64_t xd[SH_MAXR], od[IR_MAX_RANK], st[SH_MAXR], vd[SH_MAXR], vs[SH_MAXR];
	int rank = 0, orank = cg_dims(n->out[0], od);
	char lit[64];
	if (n->nin > 0 && n->in[0])
		rank = cg_dims(n->in[0], xd);
	switch (n->op) {
	case IR_OP_Constant:
		return sh_constant(cg, n);
	case IR_OP_Shape: {
		int64_t lo, hi;
		shape_window(n, rank, &lo, &hi);
		cg_begin_fn(cg, n);
		cg_printf(cg, "\t(void)x0;\n");
		if (hi == lo)
			cg_printf(cg, "\t(void)y0;\n");
		for (int64_t i = lo; i < hi; i++)
			cg_printf(cg, "\ty0[%" PRId64 "] = %s;\n", i - lo, cg_literal(IR_I64, (double)xd[i], lit, sizeof lit));
		cg_printf(cg, "}\n");
		return 0;
	}
	case IR_OP_Size:
		cg_begin_fn(cg, n);
		cg_printf(cg, "\t(void)x0;\n\ty0[0] = INT64_C(%" PRId64 ");\n}\n", cg_numel(n->in[0]));
		return 0;
	case IR_OP_ConstantOfShape: {
		const ir_attr *a = ir_attr_find(n, "value");
		const char *v = a && a->t ? cg_tensor_literal(a->t, 0, lit, sizeof lit) : "0";
		int64_t nel = cg_numel(n->out[0]);
		cg_begin_fn(cg, n);
		cg_printf(cg, "\t(void)x0;\n");
		if (nel)
			cg_printf(cg, "\tfor (int64_t i = 0; i < %" PRId64 "; i++)\n\t\ty0[i] = (%s)%s;\n", nel,
				  ir_dtype_c_type(n->out[0]->dtype), v);
		else
			cg_printf(cg, "\t(void)y0;\n");
		cg_printf(cg, "}\n");
		return 0;
	}
	case IR_OP_Reshape:
	case IR_OP_Flatten:
	case IR_OP_Squeeze:
	case IR_OP_Unsqueeze:
		cg_begin_fn(cg, n);
		sh_void_inputs(cg, n, 1);
		sh_memcpy(cg, n->in[0]);
		cg_printf(cg, "}\n");
		return 0;
	case IR_OP_Transpose: {
		const int64_t *p;
		int k = ir_attr_ints(n, "perm", &p);
		if (k >= 0 && k != rank)
			return ir_error(cg->g, n, "perm has %d entries but the input has rank %d", k, rank);
		op_dense_strides(rank, xd, st);
		for (int i = 0; i < rank; i++)
			vs[i] = st[k >= 0 ? p[i] : rank - 1 - i];
		cg_begin_fn(cg, n);
		sh_strided_copy(cg, orank, od, vs, 0);
		cg_printf(cg, "}\n");
		return 0;
	}
	case IR_OP_Concat:
		return sh_concat(cg, n);
	case IR_OP_Gather:
		return sh_gather(cg, n);
	case IR_OP_Slice: {
		int64_t start[IR_MAX_RANK], step[IR_MAX_RANK], off = 0;
		if (orank != rank)
			return ir_error(cg->g, n, "output rank %d differs from the input rank %d", orank, rank);
		if (sh_slice_plan(cg, n, rank, xd, od, start, step))
			return -1;
		op_dense_strides(rank, xd, st);
		for (int i = 0; i < rank; i++) {
			off += start[i] * st[i];
			vs[i] = step[i] * st[i];
		}
		cg_begin_fn(cg, n);
		sh_void_inputs(cg, n, 1);
		sh_strided_copy(cg, rank, od, vs, off);
		cg_printf(cg, "}\n");
		return 0;
	}
	case IR_OP_Expand:
		cg_bcast_strides(n->in[0], orank, od, vs);
		cg_begin_fn(cg, n);
		sh_void_inputs(cg, n, 1);
		sh_strided_copy(cg, orank, od, vs, 0);
		cg_printf(cg, "}\n");
		return 0;
	case IR_OP_Tile:
		if (orank != rank)
			return ir_error(cg->g, n, "output rank %d differs from the input rank %d", orank, rank);
		op_dense_strides(rank, xd, st);
		for (int i = 0; i < rank; i++) {
			if (xd[i] && od[i] % xd[i])
				return ir_error(cg->g, n, "output dim %d (%lld) is not a multiple of the input's (%lld)",
						i, (long long)od[i], (long long)xd[i]);
			vd[2 * i] = xd[i] ? od[i] / xd[i] : 0;
			vs[2 * i] = 0;
			vd[2 * i + 1] = xd[i];
			vs[2 * i + 1] = st[i];
		}
		cg_begin_fn(cg, n);
		sh_void_inputs(cg, n, 1);
		sh_strided_copy(cg, 2 * rank, vd, vs, 0);
		cg_printf(cg, "}\n");
		return 0;
	default:
		return ir_error(cg->g, n, "the C backend has no shape kernel for %s", ir_ops[n->op].name);
	}
}
