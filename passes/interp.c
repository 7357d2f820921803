/* interp.c - the reference interpreter: executes the IR node by node on
 * concrete tensors, re-running each op's shape inference on the actual
 * inputs (so data-dependent shapes work) and freeing every intermediate
 * tensor after its last use. */
#include "passes.h"
#include "ops.h"

#include <stdlib.h>
#include <string.h>

int interp_node(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const op_impl *impl = &op_impls[n->op];
	ir_value *vin = calloc((size_t)n->nin + 1, sizeof *vin);
	ir_value *vout = calloc((size_t)n->nout + 1, sizeof *vout);
	ir_value **pin = calloc((size_t)n->nin + 1, sizeof *pin);
	ir_value **pout = calloc((size_t)n->nout + 1, sizeof *pout);
	int rc = -1;
	if (!vin || !vout || !pin || !pout) {
		ir_error(g, n, "out of memory");
		goto done;
	}
	for (int i = 0; i < n->nin; i++) {
		if (!in[i])
			continue;
		vin[i].name = n->in[i] ? n->in[i]->name : "";
		vin[i].konst = in[i];
		op_value_from_tensor(&vin[i], in[i]);
		pin[i] = &vin[i];
	}
	for (int i = 0; i < n->nout; i++) {
		out[i] = NULL;
		if (!n->out[i])
			continue;
		vout[i].name = n->out[i]->name;
		vout[i].shape.rank = -1;
		pout[i] = &vout[i];
	}
	if (impl->check(g, n) || impl->infer(g, n, pin, pout))
		goto done;
	for (int i = 0; i < n->nout; i++) {
		if (!pout[i])
			continue;
		int64_t dims[IR_MAX_RANK];
		if (op_shape_dims(&vout[i].shape, dims) || vout[i].dtype == IR_UNDEF) {
			ir_error(g, n, "the shape of output '%s' could not be determined", vout[i].name);
			goto fail;
		}
		out[i] = ir_tensor_new(NULL, vout[i].dtype, vout[i].shape.rank, dims);
		if (!out[i]) {
			ir_error(g, n, "cannot allocate output '%s'", vout[i].name);
			goto fail;
		}
	}
	if (impl->run(g, n, in, out))
		goto fail;
	rc = 0;
	goto done;
fail:
	for (int i = 0; i < n->nout; i++) {
		ir_tensor_free(out[i]);
		out[i] = NULL;
	}
done:
	free(vin);
	free(vout);
	free(pin);
	free(pout);
	return rc;
}

int interp_run(ir_graph *g, ir_tensor *const *inputs, ir_tensor **outputs)
{
	int nv = g->nvalues;
	ir_tensor **val = calloc((size_t)nv + 1, sizeof *val);
	char *owned = calloc((size_t)nv + 1, 1);
	int *last = malloc(((size_t)nv + 1) * sizeof *last);
	int rc = -1;
	if (!val || !owned || !last) {
		ir_error(g, NULL, "out of memory");
		goto done;
	}
	for (int i = 0; i < g->noutputs; i++)
		outputs[i] = NULL;
	for (int i = 0; i < nv; i++) {
		last[i] = -1;
		if (g->values[i]->konst)
			val[i] = g->values[i]->konst;
	}
	for (int k = 0; k < g->nnodes; k++)
		for (int j = 0; j < g->nodes[k]->nin; j++)
			if (g->nodes[k]->in[j])
				last[g->nodes[k]->in[j]->id] = k;
	for (int i = 0; i < g->noutputs; i++)
		last[g->outputs[i]->id] = g->nnodes; /* outputs live to the end */

	for (int i = 0; i < g->ninputs; i++) {
		ir_value *v = g->inputs[i];
		const ir_tensor *t = inputs[i];
		if (!t) {
			ir_error(g, NULL, "graph input '%s' is not bound", v->name);
			goto done;
		}
		if (v->dtype != IR_UNDEF && t->dtype != v->dtype) {
			ir_error(g, NULL, "graph input '%s' expects %s, got %s", v->name,
				 ir_dtype_name(v->dtype), ir_dtype_name(t->dtype));
			goto done;
		}
		int bad = v->shape.rank >= 0 && v->shape.rank != t->rank;
		for (int d = 0; !bad && d < v->shape.rank; d++)
			bad = v->shape.d[d].v >= 0 && v->shape.d[d].v != t->dims[d];
		if (bad) {
			char a[256], b[256];
			ir_shape s;
			ir_shape_from_dims(&s, t->rank, t->dims);
			ir_error(g, NULL, "graph input '%s' expects shape %s, got %s", v->name,
				 ir_shape_str(&v->shape, a, sizeof a), ir_shape_str(&s, b, sizeof b));
			goto done;
		}
		val[v->id] = (ir_tensor *)t;
	}

	ir_tensor *in[64], *out[64];
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		if (n->nin > 64 || n->nout > 64) {
			ir_error(g, n, "more than 64 inputs or outputs");
			goto done;
		}
		for (int j = 0; j < n->nin; j++) {
			in[j] = n->in[j] ? val[n->in[j]->id] : NULL;
			if (n->in[j] && !in[j]) {
				ir_error(g, n, "input '%s' has no value", n->in[j]->name);
				goto done;
			}
		}
		if (interp_node(g, n, in, out))
			goto done;
		for (int j = 0; j < n->nout; j++) {
			if (!n->out[j])
				continue;
			int id = n->out[j]->id;
			if (owned[id])
				ir_tensor_free(val[id]);
			val[id] = out[j];
			owned[id] = 1;
		}
		/* Free what no later node needs. */
		for (int j = 0; j < n->nin; j++) {
			ir_value *v = n->in[j];
			if (v && last[v->id] == k && owned[v->id]) {
				ir_tensor_free(val[v->id]);
				val[v->id] = NULL;
				owned[v->id] = 0;
			}
		}
		for (int j = 0; j < n->nout; j++) {
			ir_value *v = n->out[j];
			if (v && last[v->id] < 0 && owned[v->id]) { /* unused output */
				ir_tensor_free(val[v->id]);
				val[v->id] = NULL;
				owned[v->id] = 0;
			}
		}
	}
	for (int i = 0; i < g->noutputs; i++) {
		int id = g->outputs[i]->id;
		if (!val[id]) {
			ir_error(g, NULL, "graph output '%s' was not computed", g->outputs[i]->name);
			goto done;
		}
		if (owned[id]) {
			/* The same value may be listed once only (frontend checks). */
			outputs[i] = val[id];
			owned[id] = 0;
		} else {
			outputs[i] = ir_tensor_clone(NULL, val[id]);
			if (!outputs[i]) {
				ir_error(g, NULL, "out of memory");
				goto done;
			}
		}
	}
	rc = 0;
done:
	if (rc && outputs)
		for (int i = 0; i < g->noutputs; i++) {
			ir_tensor_free(outputs[i]);
			outputs[i] = NULL;
		}
	if (owned)
		for (int i = 0; i < nv; i++)
			if (owned[i])
				ir_tensor_free(val[i]);
	free(val);
	free(owned);
	free(last);
	return rc;
}
