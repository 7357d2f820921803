/* op_test.h - helpers for the op-family unit tests: one node in a fresh
 * graph, attributes, tensors (arena-owned), seeded random data, a run
 * through check + infer + run (interp_node, or the op's own functions),
 * result checks, and compact literals for the test cases. */
#ifndef QNNC_OP_TEST_H
#define QNNC_OP_TEST_H

#include "../../ir/ir.h"
#include "../../passes/ops.h"
#include "../../passes/passes.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A node of op with nin inputs and nout outputs, values named in0.. and
 * out0..; the graph declares opset (0: none). */
static inline ir_node *ot_node(ir_graph *g, ir_op op, int opset, int nin, int nout)
{
	ir_value *in[8] = {0}, *out[8] = {0};
	char name[16];
	if (opset > 0 && !g->nopsets) {
		g->opsets = ir_alloc(g->arena, sizeof *g->opsets);
		g->opsets[0].domain = "";
		g->opsets[0].version = opset;
		g->nopsets = 1;
	}
	for (int i = 0; i < nin; i++) {
		snprintf(name, sizeof name, "in%d", i);
		in[i] = ir_value_new(g, name);
	}
	for (int i = 0; i < nout; i++) {
		snprintf(name, sizeof name, "out%d", i);
		out[i] = ir_value_new(g, name);
	}
	return ir_node_new(g, op, NULL, nin, in, nout, out);
}

static inline void ot_int(ir_graph *g, ir_node *n, const char *name, int64_t v)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_INT, .i = v};
	ir_attr_set(g, n, &a);
}

static inline void ot_float(ir_graph *g, ir_node *n, const char *name, double v)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_FLOAT, .f = v};
	ir_attr_set(g, n, &a);
}

static inline void ot_str(ir_graph *g, ir_node *n, const char *name, const char *s)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_STRING, .s = s};
	ir_attr_set(g, n, &a);
}

static inline void ot_ints(ir_graph *g, ir_node *n, const char *name, int cnt, const int64_t *v)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_INTS, .n = cnt, .is = (int64_t *)v};
	ir_attr_set(g, n, &a);
}

/* Attributes from a spec such as "kernel_shape=3,3;auto_pad=SAME_UPPER;
 * group=2": a value starting with a letter is a string, several numbers
 * (or a name in the list below) are ints, one number is an int. */
static inline void ot_attrs(ir_graph *g, ir_node *n, const char *spec)
{
	static const char *const lists[] = {"kernel_shape", "strides", "pads", "dilations"};
	char buf[256];
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *save = NULL, *it = strtok_r(buf, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
		char *v = strchr(it, '=');
		*v++ = 0;
		if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z')) {
			ot_str(g, n, it, v);
			continue;
		}
		int64_t vals[16];
		int cnt = 0, list = 0;
		for (char *p = v; cnt < 16; p++) {
			vals[cnt++] = strtoll(p, &p, 10);
			if (*p != ',')
				break;
		}
		for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
			list |= !strcmp(it, lists[i]);
		if (list || cnt > 1)
			ot_ints(g, n, it, cnt, vals);
		else
			ot_int(g, n, it, vals[0]);
	}
}

/* A tensor owned by g's arena; data (may be NULL) gives values as doubles. */
static inline ir_tensor *ot_tensor(ir_graph *g, ir_dtype t, int rank, const int64_t *dims,
				   const double *data)
{
	ir_tensor *x = ir_tensor_new(g->arena, t, rank, dims);
	for (int64_t i = 0; data && i < x->numel; i++)
		ir_tensor_set_f64(x, i, data[i]);
	return x;
}

/* xorshift64*: deterministic data for the tests */
static inline double ot_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* A uniform integer in [lo, hi]. */
static inline int64_t ot_pick(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)((ot_rand(s) + 1) / 2 * (double)(hi - lo + 1)) % (hi - lo + 1);
}

/* A tensor of uniform values in [-amp, amp) ([0, amp) for unsigned types),
 * truncated for integers. */
static inline ir_tensor *ot_random(ir_graph *g, ir_dtype t, int rank, const int64_t *dims,
				   double amp, uint64_t *seed)
{
	ir_tensor *x = ir_tensor_new(g->arena, t, rank, dims);
	int uns = ir_dtype_is_int(t) && !ir_dtype_is_signed(t);
	for (int64_t i = 0; i < x->numel; i++) {
		double v = amp * (uns ? (ot_rand(seed) + 1) / 2 : ot_rand(seed));
		ir_tensor_set_f64(x, i, ir_dtype_is_float(t) ? v : (double)(int64_t)v);
	}
	return x;
}

/* check + infer + allocate + run; outputs are handed to g's arena. A
 * failure prints the diagnostic. */
static inline int ot_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	ir_tensor *tmp[8] = {0};
	if (interp_node(g, n, in, tmp)) {
		fprintf(stderr, "%s\n", g->err);
		return -1;
	}
	for (int i = 0; i < n->nout; i++) {
		out[i] = tmp[i];
		if (tmp[i]) { /* adopt: clone into the arena, free the original */
			out[i] = ir_tensor_clone(g->arena, tmp[i]);
			ir_tensor_free(tmp[i]);
		}
	}
	return 0;
}

/* Set a value's dtype and shape; dims < 0 are unknown, named by syms[i]. */
static inline void ot_shape(ir_value *v, ir_dtype t, int rank, const int64_t *dims,
			    const char *const *syms)
{
	memset(&v->shape, 0, sizeof v->shape);
	v->dtype = t;
	v->shape.rank = rank;
	for (int i = 0; i < rank; i++) {
		v->shape.d[i].v = dims[i];
		v->shape.d[i].sym = syms ? syms[i] : NULL;
	}
}

/* Declare the node's input types from a spec such as "f32[N,3,?] f64[] -
 * f32[*]": a dtype name and dims (numbers, ? for unknown, other names
 * symbolic), [*] for an unknown rank, "-" to leave an input alone. */
static inline void ot_inputs(ir_graph *g, ir_node *n, const char *spec)
{
	const char *p = spec;
	for (int i = 0; i < n->nin && *p; i++) {
		while (*p == ' ')
			p++;
		if (*p == '-') {
			p++;
			continue;
		}
		const char *br = strchr(p, '[');
		char name[16];
		snprintf(name, sizeof name, "%.*s", (int)(br - p), p);
		ir_value *v = n->in[i];
		memset(&v->shape, 0, sizeof v->shape);
		v->dtype = ir_dtype_from_name(name);
		p = br + 1;
		if (*p == '*') {
			v->shape.rank = -1;
			p += 2;
			continue;
		}
		while (*p && *p != ']') {
			ir_dim *d = &v->shape.d[v->shape.rank++];
			size_t len = strcspn(p, ",]");
			if (*p >= '0' && *p <= '9')
				d->v = strtoll(p, NULL, 10);
			else
				*d = (ir_dim){-1, *p == '?' ? NULL : ir_strndup(g->arena, p, len)};
			p += len + (p[len] == ',');
		}
		p++;
	}
}

/* check + infer on the node's own values. */
static inline int ot_infer(ir_graph *g, ir_node *n)
{
	const op_impl *impl = &op_impls[n->op];
	return impl->check(g, n) || impl->infer(g, n, n->in, n->out) ? -1 : 0;
}

/* Max |a - b| / (atol + rtol |b|) over two tensors of equal numel. */
static inline double ot_err(const ir_tensor *a, const ir_tensor *b, double rtol, double atol)
{
	double worst = 0;
	for (int64_t i = 0; i < a->numel; i++) {
		double x = ir_tensor_get_f64(a, i), y = ir_tensor_get_f64(b, i);
		double e = fabs(x - y) / (atol + rtol * fabs(y));
		if (e > worst || e != e)
			worst = e != e ? 1e300 : e;
	}
	return worst;
}

/* -------------------------------- running one op, checking its result */

/* op(in[0..nin)) at opset (0: none declared) after the attribute spec
 * (see ot_attrs; NULL for none), NULL entries of in omitted, through
 * interp_node. The output, or NULL on error with the message in g->err. */
static inline ir_tensor *ot_apply(ir_graph *g, ir_op op, int opset, const char *attrs, int nin,
				  ir_tensor **in)
{
	ir_node *n = ot_node(g, op, opset, nin, 1);
	ir_tensor *y = NULL;
	n->opset = opset;
	if (attrs)
		ot_attrs(g, n, attrs);
	for (int i = 0; i < nin; i++)
		if (!in[i])
			n->in[i] = NULL;
	g->err[0] = 0;
	g->nerrors = 0;
	return ot_run(g, n, in, &y) ? NULL : y;
}

/* op(in[0..nin)) at opset with the attributes attrs[0..nattrs), checked,
 * inferred and run directly (the inputs are values whose konst is the
 * tensor, NULL entries omitted); out[0..nout) get the outputs
 * (arena-owned). Returns 0 or -1 (message in g->err). */
static inline int ot_eval(ir_graph *g, ir_op op, int opset, int nin, ir_tensor **in, const ir_attr *attrs,
			  int nattrs, int nout, ir_tensor **out)
{
	g->nerrors = 0;
	g->err[0] = 0;
	ir_value *vin[8], *vout[8] = {0};
	for (int i = 0; i < nin; i++) {
		vin[i] = NULL;
		if (!in[i])
			continue;
		vin[i] = ir_value_new(g, NULL);
		vin[i]->konst = in[i];
		op_value_from_tensor(vin[i], in[i]);
	}
	for (int i = 0; i < nout; i++)
		vout[i] = ir_value_new(g, NULL);
	ir_node *n = ir_node_new(g, op, NULL, nin, vin, nout, vout);
	n->opset = opset;
	for (int i = 0; i < nattrs; i++)
		ir_attr_set(g, n, &attrs[i]);
	const op_impl *impl = &op_impls[op];
	for (int i = 0; i < nout; i++)
		out[i] = NULL;
	if (impl->check(g, n) || impl->infer(g, n, n->in, n->out))
		return -1;
	ir_tensor *o[8] = {0};
	for (int i = 0; i < nout; i++) {
		int64_t dims[IR_MAX_RANK];
		if (op_shape_dims(&vout[i]->shape, dims))
			return ir_error(g, n, "test: output shape unknown");
		o[i] = ir_tensor_new(g->arena, vout[i]->dtype, vout[i]->shape.rank, dims);
	}
	if (impl->run(g, n, in, o))
		return -1;
	for (int i = 0; i < nout; i++)
		out[i] = o[i];
	return 0;
}

/* y has dims (rank) and, unless want is NULL, values within tol (NaN
 * matches NaN). */
static inline int ot_near(const ir_tensor *y, int rank, const int64_t *dims, const double *want, double tol)
{
	if (!y || y->rank != rank)
		return 0;
	for (int i = 0; i < rank; i++)
		if (y->dims[i] != dims[i])
			return 0;
	for (int64_t i = 0; want && i < y->numel; i++) {
		double v = ir_tensor_get_f64(y, i);
		if (!(fabs(v - want[i]) <= tol || (isnan(v) && isnan(want[i])) || v == want[i]))
			return 0;
	}
	return 1;
}

/* ------------------------------------- one graph per test, literals */

/* The current test's graph, for tests that keep one: ot_begin() frees the
 * previous test's graph and starts a fresh one, ot_end() frees the last. */
static ir_graph *G;

static inline ir_graph *ot_begin(void)
{
	ir_graph_free(G);
	G = ir_graph_new("test.onnx");
	return G;
}

static inline void ot_end(void)
{
	ir_graph_free(G);
	G = NULL;
}

/* Compound literals: dims, double and int64 values, attributes. */
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const double[]){__VA_ARGS__})
#define VI(...) ((const int64_t[]){__VA_ARGS__})
#define AI(nm, v) ((ir_attr){.name = (nm), .kind = IR_ATTR_INT, .i = (v)})
#define AF(nm, v) ((ir_attr){.name = (nm), .kind = IR_ATTR_FLOAT, .f = (v)})
#define AS(nm, v) ((ir_attr){.name = (nm), .kind = IR_ATTR_STRING, .s = (v)})

/* A tensor of dtype t in g's arena from int64 values (exact, wrapping
 * into t; data may be NULL). */
static inline ir_tensor *ot_tensor_i(ir_graph *g, ir_dtype t, int rank, const int64_t *dims,
				     const int64_t *data)
{
	ir_tensor *x = ot_tensor(g, t, rank, dims, NULL);
	for (int64_t i = 0; data && i < x->numel; i++)
		ir_tensor_set_i64(x, i, data[i]);
	return x;
}

/* start, start + 1, ... of dtype t in g's arena. */
static inline ir_tensor *ot_iota(ir_graph *g, ir_dtype t, int rank, const int64_t *dims, double start)
{
	ir_tensor *x = ot_tensor(g, t, rank, dims, NULL);
	for (int64_t i = 0; i < x->numel; i++)
		ir_tensor_set_f64(x, i, start + (double)i);
	return x;
}

/* Tensors in G from doubles (exact for the small values used) or int64. */
static inline ir_tensor *T(ir_dtype t, int rank, const int64_t *dims, const double *v)
{
	return ot_tensor(G, t, rank, dims, v);
}

static inline ir_tensor *TI(ir_dtype t, int rank, const int64_t *dims, const int64_t *v)
{
	return ot_tensor_i(G, t, rank, dims, v);
}

#endif
