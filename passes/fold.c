/* fold.c - constant folding and dead-code elimination. A node whose
 * inputs are all constant is executed once with the interpreter and its
 * outputs become constants; this removes Constant nodes and folds the
 * shape subgraphs exporters emit (Shape -> Gather -> Concat -> Reshape).
 * Shape and Size only look at their input's dims, so they fold as soon as
 * that shape is known, whatever the data. */
#include "passes.h"
#include "ops.h"

#include <stdlib.h>
#include <string.h>

void pass_dce(ir_graph *g)
{
	char *live = calloc((size_t)g->nvalues + 1, 1);
	char *dead = calloc((size_t)g->nnodes + 1, 1);
	if (!live || !dead) {
		free(live);
		free(dead);
		return;
	}
	for (int i = 0; i < g->noutputs; i++)
		live[g->outputs[i]->id] = 1;
	for (int k = g->nnodes - 1; k >= 0; k--) {
		ir_node *n = g->nodes[k];
		int used = 0;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && live[n->out[j]->id])
				used = 1;
		if (!used) {
			dead[k] = 1;
			continue;
		}
		for (int j = 0; j < n->nin; j++)
			if (n->in[j])
				live[n->in[j]->id] = 1;
	}
	ir_graph_remove_nodes(g, dead);
	free(live);
	free(dead);
}

int pass_fold(ir_graph *g, size_t max_bytes)
{
	char *dead = calloc((size_t)g->nnodes + 1, 1);
	int folded = 0;
	if (!dead)
		return ir_error(g, NULL, "out of memory");
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		ir_tensor *in[64], *out[64];
		ir_tensor dims_only; /* data-less stand-in for Shape / Size */
		int ok = n->nin <= 64 && n->nout <= 64;
		/* Inputs folded earlier in this pass may now fix this node's
		 * output shapes (a Reshape whose shape became constant). */
		int refresh = 0;
		for (int j = 0; ok && j < n->nin; j++)
			refresh |= n->in[j] && n->in[j]->konst;
		if (refresh && op_impls[n->op].infer(g, n, n->in, n->out)) {
			free(dead);
			return -1;
		}
		for (int j = 0; ok && j < n->nin; j++) {
			in[j] = n->in[j] ? n->in[j]->konst : NULL;
			if (j == 0 && !in[j] && (n->op == IR_OP_Shape || n->op == IR_OP_Size) &&
			    ir_shape_known(&n->in[0]->shape) && n->in[0]->dtype != IR_UNDEF) {
				memset(&dims_only, 0, sizeof dims_only);
				dims_only.dtype = n->in[0]->dtype;
				dims_only.rank = n->in[0]->shape.rank;
				for (int d = 0; d < dims_only.rank; d++)
					dims_only.dims[d] = n->in[0]->shape.d[d].v;
				dims_only.numel = ir_shape_numel(&n->in[0]->shape);
				in[j] = &dims_only;
			}
			if (n->in[j] && !in[j])
				ok = 0;
		}
		size_t bytes = 0;
		for (int j = 0; ok && j < n->nout; j++) {
			if (!n->out[j])
				continue;
			int64_t ne = ir_shape_numel(&n->out[j]->shape);
			if (ne < 0)
				ok = 0;
			else
				bytes += (size_t)ne * ir_dtype_size(n->out[j]->dtype);
		}
		if (!ok || (max_bytes && bytes > max_bytes))
			continue;
		if (interp_node(g, n, in, out)) {
			free(dead);
			return -1;
		}
		for (int j = 0; j < n->nout; j++) {
			if (!n->out[j])
				continue;
			n->out[j]->konst = ir_tensor_clone(g->arena, out[j]);
			ir_tensor_free(out[j]);
			if (!n->out[j]->konst) {
				free(dead);
				return ir_error(g, n, "out of memory");
			}
			op_value_from_tensor(n->out[j], n->out[j]->konst);
		}
		dead[k] = 1;
		folded++;
	}
	ir_graph_remove_nodes(g, dead);
	free(dead);
	return folded;
}
