/* verify.c - structural checks on a graph, run between passes in debug
 * builds and after the frontend. It trusts nothing: ids, names, the name
 * map, definitions, order, arities and constant data are all checked, and
 * the first problem is reported with the node it concerns. */
#include "ir.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* What defines a value; a value may have only one of these. */
enum { DEF_NONE, DEF_INPUT, DEF_CONST, DEF_NODE };

static int value_ok(const ir_graph *g, const ir_value *v)
{
	return v && v->id >= 0 && v->id < g->nvalues && g->values[v->id] == v;
}

int ir_check_arity(ir_graph *g, const ir_node *n)
{
	const ir_op_info *o = &ir_ops[n->op];
	int nin = n->nin, nout = n->nout;
	while (nin > 0 && !n->in[nin - 1])
		nin--;
	while (nout > 0 && !n->out[nout - 1])
		nout--;
	if (nin < o->min_in || (o->max_in >= 0 && nin > o->max_in))
		return ir_error(g, n, "has %d inputs, expected %d..%d", nin, o->min_in, o->max_in);
	if (nout < o->min_out || nout > o->max_out)
		return ir_error(g, n, "has %d outputs, expected %d..%d", nout, o->min_out, o->max_out);
	for (int i = 0; i < o->min_in && i < nin; i++)
		if (!n->in[i])
			return ir_error(g, n, "required input %d is missing", i);
	if (nout > 0 && !n->out[0])
		return ir_error(g, n, "first output is missing");
	return 0;
}

static int check_shape(ir_graph *g, const ir_node *n, const ir_value *v)
{
	const ir_shape *s = &v->shape;
	if (v->dtype != IR_UNDEF && !ir_dtype_supported(v->dtype))
		return ir_error(g, n, "value '%s' has unsupported dtype code %d", v->name, (int)v->dtype);
	if (s->rank < -1 || s->rank > IR_MAX_RANK)
		return ir_error(g, n, "value '%s' has rank %d", v->name, s->rank);
	for (int i = 0; i < s->rank; i++)
		if (s->d[i].v < -1)
			return ir_error(g, n, "value '%s' has dim %d = %" PRId64 " (unknown dims are -1)",
					v->name, i, s->d[i].v);
	const ir_tensor *t = v->konst;
	if (!t)
		return 0;
	if (!ir_dtype_supported(t->dtype) || t->rank < 0 || t->rank > IR_MAX_RANK || !t->data ||
	    ir_numel(t->rank, t->dims) != t->numel)
		return ir_error(g, n, "value '%s' has a malformed constant tensor", v->name);
	ir_shape ts;
	ir_shape_from_dims(&ts, t->rank, t->dims);
	int same = v->dtype == t->dtype && s->rank == t->rank;
	for (int i = 0; same && i < t->rank; i++)
		same = s->d[i].v == t->dims[i];
	if (!same) {
		char a[160], b[160];
		return ir_error(g, n, "value '%s' is %s%s but its constant data is %s%s", v->name,
				ir_dtype_name(v->dtype), ir_shape_str(s, a, sizeof a),
				ir_dtype_name(t->dtype), ir_shape_str(&ts, b, sizeof b));
	}
	return 0;
}

/* Checks that need the definition table; `how` and `by` are per value. */
static int check_defs(ir_graph *g, unsigned char *how, ir_node **by, char *avail)
{
	for (int i = 0; i < g->ninputs; i++) {
		ir_value *v = g->inputs[i];
		if (!value_ok(g, v))
			return ir_error(g, NULL, "graph input %d is not a value of the graph", i);
		if (how[v->id] != DEF_NONE)
			return ir_error(g, NULL, "value '%s' is a graph input twice", v->name);
		if (!v->is_input)
			return ir_error(g, NULL, "graph input '%s' is not flagged is_input", v->name);
		how[v->id] = DEF_INPUT;
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		for (int j = 0; j < n->nout; j++) {
			ir_value *v = n->out[j];
			if (!v)
				continue;
			if (!value_ok(g, v))
				return ir_error(g, n, "output %d is not a value of the graph", j);
			if (how[v->id] == DEF_INPUT)
				return ir_error(g, n, "output '%s' is also a graph input", v->name);
			if (how[v->id] == DEF_NODE)
				return ir_error(g, n, "output '%s' is already defined by node '%s'", v->name,
						by[v->id]->name);
			how[v->id] = DEF_NODE;
			by[v->id] = n;
		}
	}
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (how[i] == DEF_NONE && v->konst)
			how[i] = DEF_CONST;
		if (how[i] == DEF_NODE && v->def != by[i])
			return ir_error(g, by[i], "output '%s' does not point back to its node", v->name);
		if (how[i] != DEF_NODE && v->def)
			return ir_error(g, NULL, "value '%s' names a producer node that does not output it",
					v->name);
		if (v->is_input && how[i] != DEF_INPUT)
			return ir_error(g, NULL, "value '%s' is flagged is_input but is not a graph input",
					v->name);
		avail[i] = how[i] == DEF_INPUT || how[i] == DEF_CONST;
	}
	/* Walk in order: an input must be available when its node runs. */
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++) {
			ir_value *v = n->in[j];
			if (!v)
				continue;
			if (!value_ok(g, v))
				return ir_error(g, n, "input %d is not a value of the graph", j);
			if (avail[v->id])
				continue;
			if (how[v->id] == DEF_NODE)
				return ir_error(g, n, "uses '%s' before its definition by node '%s' "
						      "(cycle or nodes out of order)",
						v->name, by[v->id]->name);
			return ir_error(g, n, "uses undefined value '%s'", v->name);
		}
		for (int j = 0; j < n->nout; j++)
			if (n->out[j])
				avail[n->out[j]->id] = 1;
	}
	for (int i = 0; i < g->noutputs; i++) {
		ir_value *v = g->outputs[i];
		if (!value_ok(g, v))
			return ir_error(g, NULL, "graph output %d is not a value of the graph", i);
		if (how[v->id] == DEF_NONE)
			return ir_error(g, NULL, "graph output '%s' is never defined", v->name);
		if (!v->is_output)
			return ir_error(g, NULL, "graph output '%s' is not flagged is_output", v->name);
	}
	for (int i = 0; i < g->nvalues; i++) {
		if (!g->values[i]->is_output)
			continue;
		int found = 0;
		for (int k = 0; k < g->noutputs && !found; k++)
			found = g->outputs[k] == g->values[i];
		if (!found)
			return ir_error(g, NULL, "value '%s' is flagged is_output but is not a graph output",
					g->values[i]->name);
	}
	return 0;
}

int ir_verify(ir_graph *g)
{
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (!v)
			return ir_error(g, NULL, "value slot %d is empty", i);
		if (v->id != i)
			return ir_error(g, NULL, "value '%s' has id %d at index %d", v->name ? v->name : "?",
					v->id, i);
		if (!v->name)
			return ir_error(g, NULL, "value %d has no name", i);
		/* The name map is how passes find values: it must agree. */
		ir_value *m = ir_value_find(g, v->name);
		if (m != v)
			return ir_error(g, NULL, "value name '%s' is %s", v->name,
					m ? "used by two values" : "missing from the name map");
		if (check_shape(g, v->def, v))
			return -1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (!n)
			return ir_error(g, NULL, "node slot %d is empty", i);
		if (!n->name)
			return ir_error(g, NULL, "node %d has no name", i);
		if (n->id != i)
			return ir_error(g, n, "has id %d at index %d", n->id, i);
		if ((unsigned)n->op >= IR_OP_COUNT)
			return ir_error(g, NULL, "node '%s' has invalid op code %d", n->name, (int)n->op);
		if ((n->nin && !n->in) || (n->nout && !n->out) || n->nin < 0 || n->nout < 0)
			return ir_error(g, n, "has malformed input or output arrays");
		if (ir_check_arity(g, n))
			return -1;
		for (int j = 0; j < n->nattr; j++) {
			const ir_attr *a = &n->attrs[j];
			if (!a->name)
				return ir_error(g, n, "attribute %d has no name", j);
			for (int k = 0; k < j; k++)
				if (!strcmp(n->attrs[k].name, a->name))
					return ir_error(g, n, "attribute '%s' is set twice", a->name);
		}
	}
	size_t nv = (size_t)g->nvalues + 1;
	unsigned char *how = calloc(nv, 1);
	ir_node **by = calloc(nv, sizeof *by);
	char *avail = calloc(nv, 1);
	int rc = how && by && avail ? check_defs(g, how, by, avail) : ir_error(g, NULL, "out of memory");
	free(how);
	free(by);
	free(avail);
	return rc;
}
