/* infer.c - the shape and dtype inference pass: every node's attributes
 * are checked and its outputs typed, in topological order. Shapes the
 * model declares (value_info, graph outputs) fill in what inference cannot
 * know and must agree with what it does know. */
#include "passes.h"
#include "ops.h"

#include <string.h>

/* Merge a declared shape into an inferred one. */
static int merge_declared(ir_graph *g, ir_node *n, ir_value *v, ir_dtype ddt, const ir_shape *decl)
{
	if (v->dtype == IR_UNDEF)
		v->dtype = ddt;
	else if (ddt != IR_UNDEF && ddt != v->dtype)
		return ir_error(g, n, "output '%s' is %s but the model declares %s", v->name,
				ir_dtype_name(v->dtype), ir_dtype_name(ddt));
	if (decl->rank < 0)
		return 0;
	if (v->shape.rank < 0) {
		v->shape = *decl;
		return 0;
	}
	if (v->shape.rank != decl->rank)
		goto mismatch;
	for (int i = 0; i < decl->rank; i++) {
		ir_dim *d = &v->shape.d[i];
		if (d->v < 0) {
			*d = decl->d[i];
		} else if (decl->d[i].v >= 0 && decl->d[i].v != d->v) {
			goto mismatch;
		}
	}
	return 0;
mismatch:;
	char a[256], b[256];
	return ir_error(g, n, "output '%s' has inferred shape %s but the model declares %s", v->name,
			ir_shape_str(&v->shape, a, sizeof a), ir_shape_str(decl, b, sizeof b));
}

int pass_infer(ir_graph *g)
{
	for (int i = 0; i < g->ninputs; i++)
		if (g->inputs[i]->dtype == IR_UNDEF)
			return ir_error(g, NULL, "graph input '%s' has no element type", g->inputs[i]->name);
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		ir_shape decl[64];
		ir_dtype ddt[64];
		if (n->nout > 64)
			return ir_error(g, n, "more than 64 outputs");
		for (int j = 0; j < n->nout; j++) {
			if (!n->out[j])
				continue;
			decl[j] = n->out[j]->shape;
			ddt[j] = n->out[j]->dtype;
			n->out[j]->dtype = IR_UNDEF;
			memset(&n->out[j]->shape, 0, sizeof n->out[j]->shape);
			n->out[j]->shape.rank = -1;
		}
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] && n->in[j]->dtype == IR_UNDEF)
				return ir_error(g, n, "input '%s' has no known element type", n->in[j]->name);
		const op_impl *impl = &op_impls[n->op];
		if (impl->check(g, n) || impl->infer(g, n, n->in, n->out))
			return -1;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && merge_declared(g, n, n->out[j], ddt[j], &decl[j]))
				return -1;
	}
	return 0;
}
