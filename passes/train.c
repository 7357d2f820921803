/* train.c - the training engine (see train.h): builds a tape from an IR
 * graph, runs forward passes that keep the activations, the softmax
 * cross-entropy loss, the reverse sweep, and the epoch loop.
 *
 * Reverse mode: with the loss L and a node y = f(x1, x2, ...), the
 * backward sweep visits the nodes in reverse topological order and adds
 * (∂f/∂xi)ᵀ dL/dy into dL/dxi; a value used twice receives both
 * contributions because every gradient buffer starts at zero and kernels
 * only add. Views (Reshape, Flatten, ...) share the data and gradient
 * buffers of their input, so they cost nothing either way. Only values on
 * a path from a trainable parameter (or from the input, with input_grad)
 * to the logits get a gradient, so e.g. "train only the MPO layer" skips
 * the products that would give the first layer's gradients.
 *
 * Shapes are re-inferred with the ops' own infer functions on every
 * forward pass, so any batch size works and integer shape computations
 * (Shape -> Gather -> Concat -> Reshape) are evaluated by the interpreter
 * for the batch at hand.
 */
#include "train_internal.h"

#include "ops.h"
#include "passes.h"
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TR_SCRATCH 4

struct train_model {
	ir_graph *g;
	train_opts opts;
	int nvals;
	tr_val *vals;          /* one per graph value (by id) */
	int nnodes;
	tr_node *nodes;        /* the nodes that run per batch, in order */
	int nparams;
	train_param *params;
	char *param_layer;     /* [nparams]: used by an MpoLinear node */
	tr_val *input, *logits;
	int64_t fixed_batch;   /* the input fixes the batch size (0: free) */
	int64_t sample;        /* floats per sample */
	int64_t classes;
	int64_t b;             /* batch of the last forward pass (0: none) */
	int grads_planned;     /* needs_grad is up to date */
	float *dlogits;
	size_t dlogits_cap;
	float *scratch[TR_SCRATCH];
	size_t scratch_cap[TR_SCRATCH];
	/* per-node temporaries for shape inference */
	int maxio;
	ir_value *tmpv, **tmpp;
	ir_tensor *tmpt, **tmptp;
};

ir_graph *tr_graph(train_model *m) { return m->g; }

float *tr_scratch(train_model *m, tr_node *t, int slot, size_t n)
{
	IR_ASSERT(slot >= 0 && slot < TR_SCRATCH);
	if (n == 0)
		n = 1;
	if (m->scratch_cap[slot] < n) {
		free(m->scratch[slot]);
		m->scratch[slot] = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
		m->scratch_cap[slot] = m->scratch[slot] ? n : 0;
		if (!m->scratch[slot]) {
			ir_error(m->g, t ? t->n : NULL, "out of memory (%zu bytes of training scratch)",
				 n * sizeof(float));
			return NULL;
		}
	}
	return m->scratch[slot];
}

/* Grow *buf to at least n floats (contents not kept). 0 or -1. */
static int tr_grow(float **buf, size_t *cap, size_t n)
{
	if (n == 0)
		n = 1;
	if (*cap >= n)
		return 0;
	free(*buf);
	*buf = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
	*cap = *buf ? n : 0;
	return *buf ? 0 : -1;
}

/* ---------------------------------------------------------- building */

/* Bit i of a kernel's slot mask (bit 31 stands for all slots from 31). */
static unsigned slot_bit(unsigned mask, int i) { return (mask >> (i < 31 ? i : 31)) & 1u; }

static const tr_extra *extra_for(ir_op op)
{
	for (int j = 0; j < tr_nextras_circuit; j++)
		if (tr_extras_circuit[j].op == op)
			return &tr_extras_circuit[j];
	return NULL;
}

/* Input i of t's node may be an f64 constant (Circuit gates). */
static int f64_slot(const tr_node *t, int i) { return t->x && slot_bit(t->x->f64params, i); }

/* Input i of t's node is a parameter: a float32 graph constant (not one
 * computed at train_new) in a slot the kernel marks, or an f64 one in an
 * f64 slot. Scalar operands of Add / Sub / Mul / Div are left alone: they
 * are normalisation constants (x/255, x − 0.5), not learned weights. */
static int is_param(const tr_node *t, int i, const tr_val *v)
{
	const ir_node *n = t->n;
	int binary = n->op == IR_OP_Add || n->op == IR_OP_Sub || n->op == IR_OP_Mul ||
		     n->op == IR_OP_Div;
	return slot_bit(t->k->params, i) && (v->kind == TV_CONST || v->kind == TV_PARAM) && v->t &&
	       (v->t->dtype == IR_F32 || (v->t->dtype == IR_F64 && f64_slot(t, i))) &&
	       v->v->konst == v->t && !(binary && v->t->numel == 1);
}

/* The rewritten layers that TRAIN_LAYER trains. */
static int layer_op(ir_op op) { return op == IR_OP_MpoLinear || op == IR_OP_Circuit; }

static int add_param(train_model *m, tr_val *v, const ir_node *n)
{
	if (v->param >= 0) {
		m->param_layer[v->param] |= layer_op(n->op);
		return 0;
	}
	train_param *np = realloc(m->params, (size_t)(m->nparams + 1) * sizeof *np);
	if (np)
		m->params = np;
	char *nl = realloc(m->param_layer, (size_t)(m->nparams + 1));
	if (nl)
		m->param_layer = nl;
	if (!np || !nl)
		return ir_error(m->g, n, "out of memory");
	train_param *p = &m->params[m->nparams];
	memset(p, 0, sizeof *p);
	p->name = v->v->name;
	p->value = v->v;
	p->node = n;
	p->numel = v->t->numel;
	p->w = malloc((size_t)(p->numel ? p->numel : 1) * sizeof(float));
	p->g = calloc((size_t)(p->numel ? p->numel : 1), sizeof(float));
	if (!p->w || !p->g) {
		free(p->w);
		free(p->g);
		return ir_error(m->g, n, "out of memory");
	}
	if (v->t->dtype == IR_F64) /* the engine trains in float */
		for (int64_t e = 0; e < p->numel; e++)
			p->w[e] = (float)((const double *)v->t->data)[e];
	else
		memcpy(p->w, v->t->data, (size_t)p->numel * sizeof(float));
	m->param_layer[m->nparams] = layer_op(n->op);
	v->kind = TV_PARAM;
	v->param = m->nparams++;
	v->x = p->w;
	return 0;
}

/* A trailing Softmax / LogSoftmax over the class axis of the output. */
static int skippable_softmax(const ir_node *n, const ir_value *out)
{
	if (!n || (n->op != IR_OP_Softmax && n->op != IR_OP_LogSoftmax) || out->shape.rank < 2)
		return 0;
	int rank = out->shape.rank, legacy = n->opset > 0 && n->opset < 13;
	int64_t axis = ir_attr_int(n, "axis", legacy ? 1 : -1);
	if (axis < 0)
		axis += rank;
	if (axis < 0 || axis >= rank)
		return 0;
	if (!legacy)
		return axis == rank - 1;
	/* 2-D coercion: the run is dims[axis:], the classes when the dims
	 * between are 1. */
	for (int d = (int)axis; d < rank - 1; d++)
		if (out->shape.d[d].v != 1)
			return 0;
	return 1;
}

/* Evaluate a node that reads only constants, once. */
static int eval_const_node(train_model *m, ir_node *n)
{
	ir_tensor **in = m->tmptp, **out = m->tmptp + m->maxio;
	for (int i = 0; i < n->nin; i++)
		in[i] = n->in[i] ? m->vals[n->in[i]->id].t : NULL;
	if (interp_node(m->g, n, in, out))
		return -1;
	for (int i = 0; i < n->nout; i++) {
		if (!n->out[i])
			continue;
		tr_val *v = &m->vals[n->out[i]->id];
		v->kind = TV_CONST;
		v->t = out[i];
		v->own_t = 1;
		v->rank = out[i]->rank;
		memcpy(v->dims, out[i]->dims, sizeof v->dims);
		v->numel = out[i]->numel;
		v->x = out[i]->dtype == IR_F32 ? out[i]->data : NULL;
	}
	return 0;
}

static int build_nodes(train_model *m, const char *needed)
{
	ir_graph *g = m->g;
	m->nodes = calloc((size_t)g->nnodes + 1, sizeof *m->nodes);
	if (!m->nodes)
		return ir_error(g, NULL, "out of memory");
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		int dyn = 0, any_float_out = 0;
		if (!needed[k])
			continue;
		for (int i = 0; i < n->nin; i++)
			if (n->in[i]) {
				tr_val *v = &m->vals[n->in[i]->id];
				if (v->kind == TV_ACT || v->kind == TV_INT)
					dyn = 1;
				if (v->kind == TV_CONST && !v->t)
					return ir_error(g, n, "input '%s' has no value", v->v->name);
			}
		if (!dyn) {
			if (eval_const_node(m, n))
				return -1;
			continue;
		}
		for (int i = 0; i < n->nout; i++) {
			if (n->out[i] && n->out[i]->dtype == IR_UNDEF)
				return ir_error(g, n, "output '%s' has no dtype; run shape inference "
						      "before training", n->out[i]->name);
			if (n->out[i] && ir_dtype_is_float(n->out[i]->dtype))
				any_float_out = 1;
		}
		tr_node *t = &m->nodes[m->nnodes];
		t->n = n;
		t->nin = n->nin;
		t->nout = n->nout;
		t->in = calloc((size_t)n->nin + 1, sizeof *t->in);
		t->out = calloc((size_t)n->nout + 1, sizeof *t->out);
		if (!t->in || !t->out) {
			free(t->in);
			free(t->out);
			return ir_error(g, n, "out of memory");
		}
		m->nnodes++;
		IR_ASSERT(n->nin <= m->maxio && n->nout <= m->maxio);
		for (int i = 0; i < n->nin; i++)
			t->in[i] = n->in[i] ? &m->vals[n->in[i]->id] : NULL;
		if (!any_float_out) { /* integer shape arithmetic: the interpreter */
			for (int i = 0; i < n->nout; i++)
				if (n->out[i]) {
					t->out[i] = &m->vals[n->out[i]->id];
					t->out[i]->kind = TV_INT;
				}
			continue;
		}
		t->k = tr_kernel_find(n->op);
		t->x = extra_for(n->op);
		if (!t->k)
			return ir_error(g, n, "training does not support %s on the path from the input "
					      "to the logits", ir_ops[n->op].name);
		if (!n->out[0])
			return ir_error(g, n, "output 0 is omitted; training needs it");
		for (int i = 0; i < n->nout; i++) {
			if (!n->out[i])
				continue;
			tr_val *v = &m->vals[n->out[i]->id];
			if (i == 0) {
				if (n->out[0]->dtype != IR_F32)
					return ir_error(g, n, "output '%s' is %s; training runs in f32 only",
							n->out[0]->name, ir_dtype_name(n->out[0]->dtype));
				v->kind = TV_ACT;
				t->out[0] = v;
				continue;
			}
			/* Secondary outputs (MaxPool Indices, Dropout mask): only
			 * when nothing on the path reads them. */
			for (int j = k + 1; j < g->nnodes; j++)
				for (int q = 0; needed[j] && q < g->nodes[j]->nin; q++)
					if (g->nodes[j]->in[q] == n->out[i])
						return ir_error(g, n, "output %d ('%s') is read by node '%s'; "
								      "training supports only output 0 of %s",
								i, n->out[i]->name, g->nodes[j]->name,
								ir_ops[n->op].name);
			if (n->out[i] == m->logits->v)
				return ir_error(g, n, "output %d cannot be the logits", i);
		}
		for (int i = 0; i < n->nin; i++) {
			tr_val *v = t->in[i];
			if (!v)
				continue;
			if (v->kind == TV_ACT && v->v->dtype != IR_F32 && v->v->dtype != IR_UNDEF)
				return ir_error(g, n, "input '%s' is %s; training runs in f32 only",
						v->v->name, ir_dtype_name(v->v->dtype));
			if ((v->kind == TV_CONST || v->kind == TV_PARAM) && v->t &&
			    ir_dtype_is_float(v->t->dtype) && v->t->dtype != IR_F32 &&
			    !(v->t->dtype == IR_F64 && f64_slot(t, i)))
				return ir_error(g, n, "constant '%s' is %s; training runs in f32 only",
						v->v->name, ir_dtype_name(v->t->dtype));
			if (is_param(t, i, v) && add_param(m, v, n))
				return -1;
		}
		/* The op's own attribute checks, then what the kernel refuses. */
		if (op_impls[n->op].check(g, n) || (t->k->check && t->k->check(m, t)))
			return -1;
	}
	return 0;
}

train_model *train_new(ir_graph *g, const train_opts *o)
{
	char s[256];
	if (g->ninputs != 1) {
		ir_error(g, NULL, "training needs a model with exactly one input (the images), "
				  "this one has %d", g->ninputs);
		return NULL;
	}
	if (g->noutputs != 1) {
		ir_error(g, NULL, "training needs a model with exactly one output (the logits), "
				  "this one has %d", g->noutputs);
		return NULL;
	}
	ir_value *in = g->inputs[0], *out = g->outputs[0];
	if (in->dtype != IR_F32) {
		ir_error(g, NULL, "model input '%s' is %s; training runs in f32 only", in->name,
			 ir_dtype_name(in->dtype));
		return NULL;
	}
	if (in->shape.rank < 1) {
		ir_error(g, NULL, "model input '%s' must have a batch dim, got %s", in->name,
			 in->shape.rank < 0 ? "an unknown shape" : ir_shape_str(&in->shape, s, sizeof s));
		return NULL;
	}
	for (int d = 1; d < in->shape.rank; d++)
		if (in->shape.d[d].v < 0) {
			ir_error(g, NULL, "model input '%s' has shape %s; all dims but the batch must be known",
				 in->name, ir_shape_str(&in->shape, s, sizeof s));
			return NULL;
		}
	train_model *m = calloc(1, sizeof *m);
	if (!m) {
		ir_error(g, NULL, "out of memory");
		return NULL;
	}
	m->g = g;
	if (o)
		m->opts = *o;
	m->nvals = g->nvalues;
	m->maxio = 2;
	for (int k = 0; k < g->nnodes; k++) {
		if (g->nodes[k]->nin > m->maxio)
			m->maxio = g->nodes[k]->nin;
		if (g->nodes[k]->nout > m->maxio)
			m->maxio = g->nodes[k]->nout;
	}
	m->vals = calloc((size_t)m->nvals + 1, sizeof *m->vals);
	m->tmpv = calloc((size_t)(2 * m->maxio), sizeof *m->tmpv);
	m->tmpp = calloc((size_t)(2 * m->maxio), sizeof *m->tmpp);
	m->tmpt = calloc((size_t)(2 * m->maxio), sizeof *m->tmpt);
	m->tmptp = calloc((size_t)(2 * m->maxio), sizeof *m->tmptp);
	char *needed = calloc((size_t)g->nnodes + 1, 1);
	char *vneed = calloc((size_t)m->nvals + 1, 1);
	if (!m->vals || !m->tmpv || !m->tmpp || !m->tmpt || !m->tmptp || !needed || !vneed) {
		ir_error(g, NULL, "out of memory");
		goto fail;
	}
	for (int i = 0; i < m->nvals; i++) {
		tr_val *v = &m->vals[i];
		v->v = g->values[i];
		v->param = -1;
		v->kind = TV_CONST;
		v->t = g->values[i]->konst;
		if (v->t) {
			v->rank = v->t->rank;
			memcpy(v->dims, v->t->dims, sizeof v->dims);
			v->numel = v->t->numel;
			v->x = v->t->dtype == IR_F32 ? v->t->data : NULL;
		}
	}
	m->input = &m->vals[in->id];
	m->input->kind = TV_ACT;
	m->input->t = NULL;
	m->fixed_batch = in->shape.d[0].v >= 0 ? in->shape.d[0].v : 0;
	m->sample = 1;
	for (int d = 1; d < in->shape.rank; d++)
		m->sample *= in->shape.d[d].v;

	/* The logits: the output, or the input of a trailing softmax. */
	ir_value *lv = out;
	if (!m->opts.keep_softmax && skippable_softmax(out->def, out))
		lv = out->def->in[0];
	m->logits = &m->vals[lv->id];
	if (lv->shape.rank >= 0 && lv->shape.rank < 2) {
		ir_error(g, NULL, "the logits '%s' have shape %s; they must be [N, classes]", lv->name,
			 ir_shape_str(&lv->shape, s, sizeof s));
		goto fail;
	}
	if (lv->dtype != IR_F32 && lv->dtype != IR_UNDEF) {
		ir_error(g, NULL, "the logits '%s' are %s; training runs in f32 only", lv->name,
			 ir_dtype_name(lv->dtype));
		goto fail;
	}
	/* Nodes the logits depend on. */
	vneed[lv->id] = 1;
	for (int k = g->nnodes - 1; k >= 0; k--) {
		ir_node *n = g->nodes[k];
		for (int i = 0; i < n->nout && !needed[k]; i++)
			needed[k] = n->out[i] && vneed[n->out[i]->id];
		for (int i = 0; needed[k] && i < n->nin; i++)
			if (n->in[i])
				vneed[n->in[i]->id] = 1;
	}
	if (!vneed[in->id]) {
		ir_error(g, NULL, "the logits '%s' do not depend on the input '%s'", lv->name, in->name);
		goto fail;
	}
	if (build_nodes(m, needed))
		goto fail;
	if (m->logits->kind != TV_ACT) {
		ir_error(g, NULL, "the logits '%s' are not a float activation", lv->name);
		goto fail;
	}
	for (int i = 0; i < m->nparams; i++)
		m->params[i].trainable = m->opts.scope == TRAIN_ALL ||
					 (m->opts.scope == TRAIN_LAYER && m->param_layer[i]);
	free(needed);
	free(vneed);
	return m;
fail:
	free(needed);
	free(vneed);
	train_free(m);
	return NULL;
}

void train_free(train_model *m)
{
	if (!m)
		return;
	for (int k = 0; k < m->nnodes; k++) {
		tr_node *t = &m->nodes[k];
		if (t->k && t->k->release)
			t->k->release(t);
		free(t->in);
		free(t->out);
	}
	for (int i = 0; m->vals && i < m->nvals; i++) {
		tr_val *v = &m->vals[i];
		if (v->own_t)
			ir_tensor_free(v->t);
		free(v->buf);
		free(v->gbuf);
	}
	for (int i = 0; i < m->nparams; i++) {
		free(m->params[i].w);
		free(m->params[i].g);
	}
	for (int i = 0; i < TR_SCRATCH; i++)
		free(m->scratch[i]);
	free(m->params);
	free(m->param_layer);
	free(m->nodes);
	free(m->vals);
	free(m->dlogits);
	free(m->tmpv);
	free(m->tmpp);
	free(m->tmpt);
	free(m->tmptp);
	free(m);
}

int train_nparams(const train_model *m) { return m->nparams; }
train_param *train_param_at(train_model *m, int i)
{
	return i >= 0 && i < m->nparams ? &m->params[i] : NULL;
}

int64_t train_ntrainable(const train_model *m, int *count)
{
	int64_t total = 0;
	int c = 0;
	for (int i = 0; i < m->nparams; i++)
		if (m->params[i].trainable) {
			total += m->params[i].numel;
			c++;
		}
	if (count)
		*count = c;
	return total;
}

int train_set_trainable(train_model *m, const char *name, int on)
{
	int hits = 0;
	for (int i = 0; i < m->nparams; i++) {
		int match = !strcmp(m->params[i].name, name);
		for (int k = 0; !match && k < m->nnodes; k++) {
			const tr_node *t = &m->nodes[k];
			if (strcmp(t->n->name, name))
				continue;
			for (int j = 0; j < t->nin; j++)
				match |= t->in[j] && t->in[j]->param == i;
		}
		if (match) {
			m->params[i].trainable = on != 0;
			hits++;
		}
	}
	m->grads_planned = 0;
	return hits;
}

int64_t train_sample_size(const train_model *m) { return m->sample; }
int64_t train_classes(const train_model *m) { return m->classes; }
const float *train_logits(const train_model *m) { return m->logits->x; }

void train_write_back(train_model *m)
{
	for (int i = 0; i < m->nparams; i++) {
		train_param *p = &m->params[i];
		if (p->value->konst->dtype == IR_F32)
			memcpy(p->value->konst->data, p->w, (size_t)p->numel * sizeof(float));
	}
	/* f64 parameters: their kernels know what the graph must hold. */
	for (int k = 0; k < m->nnodes; k++)
		if (m->nodes[k].x && m->nodes[k].x->write_back)
			m->nodes[k].x->write_back(m, &m->nodes[k]);
}

int train_project(train_model *m)
{
	for (int k = 0; k < m->nnodes; k++)
		if (m->nodes[k].x && m->nodes[k].x->project && m->nodes[k].x->project(m, &m->nodes[k]))
			return -1;
	return 0;
}

/* ----------------------------------------------------------- forward */

/* Set out's dims from a (fully known) inferred shape. */
static int take_shape(train_model *m, tr_node *t, tr_val *v, const ir_value *tv)
{
	int64_t dims[IR_MAX_RANK];
	if (op_shape_dims(&tv->shape, dims))
		return ir_error(m->g, t->n, "the shape of '%s' could not be determined", v->v->name);
	v->rank = tv->shape.rank;
	memcpy(v->dims, dims, sizeof dims);
	v->numel = ir_numel(v->rank, dims);
	if (v->numel < 0)
		return ir_error(m->g, t->n, "the shape of '%s' overflows", v->v->name);
	return 0;
}

/* A tensor header over a float value's data (for the interpreter). */
static void view_tensor(const tr_val *v, ir_tensor *t)
{
	memset(t, 0, sizeof *t);
	t->dtype = IR_F32;
	t->rank = v->rank;
	memcpy(t->dims, v->dims, sizeof t->dims);
	t->numel = v->numel;
	t->data = v->x;
}

static int forward_node(train_model *m, tr_node *t)
{
	ir_node *n = t->n;
	ir_value *vi = m->tmpv, *vo = m->tmpv + m->maxio;
	ir_value **pi = m->tmpp, **po = m->tmpp + m->maxio;
	for (int i = 0; i < t->nin; i++) {
		tr_val *v = t->in[i];
		pi[i] = NULL;
		if (!v)
			continue;
		memset(&vi[i], 0, sizeof vi[i]);
		vi[i].name = v->v->name;
		if (v->kind == TV_ACT) {
			vi[i].dtype = IR_F32;
			ir_shape_from_dims(&vi[i].shape, v->rank, v->dims);
		} else {
			vi[i].konst = v->kind == TV_PARAM ? v->v->konst : v->t;
			op_value_from_tensor(&vi[i], vi[i].konst);
		}
		pi[i] = &vi[i];
	}
	for (int i = 0; i < t->nout; i++) {
		po[i] = NULL;
		if (!n->out[i])
			continue;
		memset(&vo[i], 0, sizeof vo[i]);
		vo[i].name = n->out[i]->name;
		vo[i].shape.rank = -1;
		po[i] = &vo[i];
	}
	if (!t->k) {
		/* Interpreter node: the check runs inside interp_node. */
		ir_tensor **in = m->tmptp, **out = m->tmptp + m->maxio;
		for (int i = 0; i < t->nin; i++) {
			tr_val *v = t->in[i];
			in[i] = NULL;
			if (!v)
				continue;
			if (v->kind == TV_ACT || v->kind == TV_PARAM) {
				view_tensor(v, &m->tmpt[i]);
				in[i] = &m->tmpt[i];
			} else {
				in[i] = v->t;
			}
		}
		if (interp_node(m->g, n, in, out))
			return -1;
		for (int i = 0; i < t->nout; i++) {
			tr_val *v = t->out[i];
			if (!v) {
				ir_tensor_free(out[i]);
				continue;
			}
			if (v->own_t)
				ir_tensor_free(v->t);
			v->t = out[i];
			v->own_t = 1;
			v->rank = out[i]->rank;
			memcpy(v->dims, out[i]->dims, sizeof v->dims);
			v->numel = out[i]->numel;
		}
		return 0;
	}
	if (op_impls[n->op].infer(m->g, n, pi, po))
		return -1;
	tr_val *y = t->out[0];
	if (take_shape(m, t, y, &vo[0]))
		return -1;
	if (t->k->view) {
		y->x = t->in[0]->x;
	} else {
		if (tr_grow(&y->buf, &y->cap, (size_t)y->numel))
			return ir_error(m->g, n, "out of memory for '%s' (%lld floats)", y->v->name,
					(long long)y->numel);
		y->x = y->buf;
	}
	return t->k->forward(m, t);
}

int train_forward(train_model *m, const float *x, int64_t b)
{
	char s[256];
	ir_value *in = m->input->v;
	m->b = 0;
	if (b < 1)
		return ir_error(m->g, NULL, "training batch of %lld samples", (long long)b);
	if (m->fixed_batch && b != m->fixed_batch)
		return ir_error(m->g, NULL, "model input '%s' is %s: the model fixes the batch size to "
					    "%lld, so it cannot run a batch of %lld",
				in->name, ir_shape_str(&in->shape, s, sizeof s),
				(long long)m->fixed_batch, (long long)b);
	tr_val *xv = m->input;
	xv->rank = in->shape.rank;
	xv->dims[0] = b;
	for (int d = 1; d < xv->rank; d++)
		xv->dims[d] = in->shape.d[d].v;
	xv->numel = b * m->sample;
	xv->x = (float *)x; /* never written: kernels only write their outputs */
	for (int k = 0; k < m->nnodes; k++)
		if (forward_node(m, &m->nodes[k]))
			return -1;
	tr_val *L = m->logits;
	int ok = L->rank >= 2 && L->dims[0] == b;
	for (int d = 1; ok && d < L->rank - 1; d++)
		ok = L->dims[d] == 1;
	if (!ok) {
		ir_shape sh;
		ir_shape_from_dims(&sh, L->rank, L->dims);
		return ir_error(m->g, NULL, "the logits '%s' have shape %s for a batch of %lld; they must "
					    "be [%lld, classes]", L->v->name, ir_shape_str(&sh, s, sizeof s),
				(long long)b, (long long)b);
	}
	m->classes = L->dims[L->rank - 1];
	if (m->classes < 1)
		return ir_error(m->g, NULL, "the logits '%s' have no classes", L->v->name);
	m->b = b;
	if (tr_grow(&m->dlogits, &m->dlogits_cap, (size_t)(b * m->classes)))
		return ir_error(m->g, NULL, "out of memory");
	memset(m->dlogits, 0, (size_t)(b * m->classes) * sizeof(float));
	return 0;
}

/* -------------------------------------------------------------- loss */

float *train_logits_grad(train_model *m) { return m->b ? m->dlogits : NULL; }

/* Cross-entropy log Σ exp z − z[label] of one row of C logits, computed
 * in double around the maximum; *lse gets log Σ exp z, *arg the argmax
 * (first maximum; NaN never wins, -1 if all are NaN, as eval.c counts). */
static double row_ce(const float *z, int64_t C, int label, int64_t *arg, double *lse)
{
	double mx = 0, s = 0;
	*arg = -1;
	for (int64_t j = 0; j < C; j++)
		if (!isnan(z[j]) && (*arg < 0 || z[j] > mx)) {
			mx = z[j];
			*arg = j;
		}
	for (int64_t j = 0; j < C; j++)
		s += exp((double)z[j] - mx);
	*lse = mx + log(s);
	return *lse - (double)z[label];
}

int train_loss(train_model *m, const uint8_t *labels, double *loss, int64_t *correct)
{
	if (!m->b)
		return ir_error(m->g, NULL, "train_loss before a forward pass");
	int64_t C = m->classes, hits = 0;
	double total = 0, inv = 1.0 / (double)m->b;
	for (int64_t r = 0; r < m->b; r++) {
		const float *z = m->logits->x + r * C;
		float *dz = m->dlogits + r * C;
		if (labels[r] >= C)
			return ir_error(m->g, NULL, "label %d of sample %lld is out of range (%lld classes)",
					labels[r], (long long)r, (long long)C);
		int64_t arg;
		double lse;
		total += row_ce(z, C, labels[r], &arg, &lse);
		hits += arg == labels[r];
		/* d CE / dz = softmax(z) − onehot(label), over the batch mean */
		for (int64_t j = 0; j < C; j++)
			dz[j] = (float)((exp((double)z[j] - lse) - (j == labels[r])) * inv);
	}
	if (loss)
		*loss = total * inv;
	if (correct)
		*correct = hits;
	return 0;
}

/* ---------------------------------------------------------- backward */

/* Which values need a gradient: trainable parameters (and the input with
 * input_grad), then everything computed from them. */
static void plan_grads(train_model *m)
{
	for (int i = 0; i < m->nvals; i++) {
		tr_val *v = &m->vals[i];
		v->needs_grad = v->kind == TV_PARAM && m->params[v->param].trainable;
		v->alias = NULL;
	}
	m->input->needs_grad = m->opts.input_grad != 0;
	for (int k = 0; k < m->nnodes; k++) {
		tr_node *t = &m->nodes[k];
		t->backward = 0;
		if (!t->k)
			continue;
		for (int i = 0; i < t->nin; i++)
			t->backward |= t->in[i] && t->in[i]->needs_grad;
		t->out[0]->needs_grad = t->backward;
		if (t->k->view && t->backward)
			t->out[0]->alias = t->in[0]->alias ? t->in[0]->alias : t->in[0];
	}
	m->grads_planned = 1;
}

int train_backward(train_model *m)
{
	if (!m->b)
		return ir_error(m->g, NULL, "train_backward before a forward pass");
	if (!m->grads_planned)
		plan_grads(m);
	for (int i = 0; i < m->nparams; i++)
		memset(m->params[i].g, 0, (size_t)m->params[i].numel * sizeof(float));
	for (int i = 0; i < m->nvals; i++) {
		tr_val *v = &m->vals[i];
		v->dx = NULL;
		if (!v->needs_grad)
			continue;
		if (v->kind == TV_PARAM) {
			v->dx = m->params[v->param].g;
			continue;
		}
		if (v->alias)
			continue;
		if (tr_grow(&v->gbuf, &v->gcap, (size_t)v->numel))
			return ir_error(m->g, NULL, "out of memory for the gradient of '%s'", v->v->name);
		v->dx = v->gbuf;
		memset(v->dx, 0, (size_t)v->numel * sizeof(float));
	}
	for (int i = 0; i < m->nvals; i++)
		if (m->vals[i].needs_grad && m->vals[i].alias)
			m->vals[i].dx = m->vals[i].alias->dx;
	tr_val *L = m->logits;
	if (!L->needs_grad)
		return 0;
	for (int64_t i = 0; i < L->numel; i++)
		L->dx[i] += m->dlogits[i];
	for (int k = m->nnodes - 1; k >= 0; k--) {
		tr_node *t = &m->nodes[k];
		if (t->k && t->backward && !t->k->view && t->k->backward(m, t))
			return -1;
	}
	return 0;
}

const float *train_input_grad(const train_model *m)
{
	return m->opts.input_grad ? m->input->dx : NULL;
}

/* --------------------------------------------------------- epoch loop */

void train_config_defaults(train_config *c)
{
	memset(c, 0, sizeof *c);
	c->epochs = 1;
	c->batch = 128;
	optim_defaults(&c->optim, OPTIM_ADAM);
	sched_defaults(&c->sched, SCHED_CONSTANT);
}

static int check_data(train_model *m, const ds_set *d, const ds_preprocess *pp, const char *what)
{
	char err[256];
	if (!d || d->n <= 0)
		return ir_error(m->g, NULL, "the %s set has no images", what);
	if (d->c * d->h * d->w != m->sample)
		return ir_error(m->g, NULL, "the %s images are %lld×%lld×%lld = %lld values, the model "
					    "input '%s' takes %lld per sample", what, (long long)d->c,
				(long long)d->h, (long long)d->w, (long long)(d->c * d->h * d->w),
				m->input->v->name, (long long)m->sample);
	if (ds_preprocess_check(pp, d->c, err, sizeof err))
		return ir_error(m->g, NULL, "%s", err);
	return 0;
}

int train_evaluate(train_model *m, const ds_set *d, const ds_preprocess *pp, int64_t batch,
		   double *loss, double *accuracy, int32_t *pred)
{
	char err[256];
	if (check_data(m, d, pp, "evaluation"))
		return -1;
	int64_t B = m->fixed_batch ? m->fixed_batch : batch > 0 ? batch : 256;
	if (!m->fixed_batch && B > d->n)
		B = d->n;
	float *x = malloc((size_t)(B * m->sample) * sizeof *x);
	uint8_t *y = malloc((size_t)B);
	double total = 0;
	int64_t hits = 0;
	int rc = -1;
	if (!x || !y) {
		ir_error(m->g, NULL, "out of memory");
		goto done;
	}
	for (int64_t first = 0; first < d->n; first += B) {
		int64_t b = d->n - first < B ? d->n - first : B, run = m->fixed_batch ? B : b;
		if (ds_batch(d, NULL, first, b, pp, NULL, NULL, x, y, err, sizeof err)) {
			ir_error(m->g, NULL, "%s", err);
			goto done;
		}
		memset(x + b * m->sample, 0, (size_t)((run - b) * m->sample) * sizeof *x);
		memset(y + b, 0, (size_t)(run - b));
		if (train_forward(m, x, run))
			goto done;
		/* Row by row, so that padding rows do not count. */
		for (int64_t r = 0; r < b; r++) {
			int64_t arg;
			double lse;
			if (y[r] >= m->classes) {
				ir_error(m->g, NULL, "label %d is out of range (%lld classes)", y[r],
					 (long long)m->classes);
				goto done;
			}
			total += row_ce(m->logits->x + r * m->classes, m->classes, y[r], &arg, &lse);
			hits += arg == y[r];
			if (pred)
				pred[first + r] = (int32_t)arg;
		}
	}
	if (loss)
		*loss = total / (double)d->n;
	if (accuracy)
		*accuracy = (double)hits / (double)d->n;
	rc = 0;
done:
	free(x);
	free(y);
	return rc;
}

int train_fit(train_model *m, const ds_set *d, const ds_set *val, const train_config *c,
	      train_epoch_stats *stats)
{
	char err[256];
	if (check_data(m, d, c->pp, "training") || (val && check_data(m, val, c->pp, "held-out")))
		return -1;
	if (c->epochs < 1 || c->batch < 1)
		return ir_error(m->g, NULL, "training needs epochs >= 1 and batch >= 1, got %d and %lld",
				c->epochs, (long long)c->batch);
	if (optim_check(&c->optim, err, sizeof err))
		return ir_error(m->g, NULL, "%s", err);
	if (m->fixed_batch && c->batch != m->fixed_batch)
		return ir_error(m->g, NULL, "the model fixes the batch size to %lld; train with batch %lld",
				(long long)m->fixed_batch, (long long)m->fixed_batch);
	int drop_last = c->drop_last || m->fixed_batch;
	int64_t B = c->batch < d->n ? c->batch : d->n;
	if (m->fixed_batch && B != m->fixed_batch)
		return ir_error(m->g, NULL, "the training set has %lld images, fewer than the batch size "
					    "%lld the model fixes", (long long)d->n, (long long)B);
	int64_t per_epoch = drop_last ? d->n / B : (d->n + B - 1) / B;
	int64_t total_steps = per_epoch * c->epochs;
	int np = 0;
	for (int i = 0; i < m->nparams; i++)
		np += m->params[i].trainable;
	int64_t *sizes = malloc((size_t)(np + 1) * sizeof *sizes);
	float **w = malloc((size_t)(np + 1) * sizeof *w), **g = malloc((size_t)(np + 1) * sizeof *g);
	float *x = malloc((size_t)(B * m->sample) * sizeof *x);
	uint8_t *y = malloc((size_t)B);
	int64_t *perm = NULL;
	optim *opt = NULL;
	int rc = -1;
	progress bar;
	progress_start(&bar, stderr, c->label ? c->label : "train", total_steps, c->quiet);
	if (!sizes || !w || !g || !x || !y) {
		ir_error(m->g, NULL, "out of memory");
		goto done;
	}
	for (int i = 0, j = 0; i < m->nparams; i++)
		if (m->params[i].trainable) {
			sizes[j] = m->params[i].numel;
			w[j] = m->params[i].w;
			g[j++] = m->params[i].g;
		}
	if (!(opt = optim_new(&c->optim, np, sizes))) {
		ir_error(m->g, NULL, "out of memory");
		goto done;
	}
	ds_rng rng;
	ds_rng_seed(&rng, c->seed);
	int augment = c->aug.pad > 0 || c->aug.flip;
	int64_t step = 0;
	for (int e = 0; e < c->epochs; e++) {
		double t0 = progress_now(), sum = 0, lr = 0;
		int64_t hits = 0, seen = 0;
		free(perm);
		if (!(perm = ds_permutation(d->n, &rng))) {
			ir_error(m->g, NULL, "out of memory");
			goto done;
		}
		for (int64_t s = 0; s < per_epoch; s++, step++) {
			int64_t first = s * B, b = d->n - first < B ? d->n - first : B, h;
			double loss;
			if (ds_batch(d, perm, first, b, c->pp, augment ? &c->aug : NULL, &rng, x, y, err,
				     sizeof err)) {
				ir_error(m->g, NULL, "%s", err);
				goto done;
			}
			if (train_forward(m, x, b) || train_loss(m, y, &loss, &h) || train_backward(m))
				goto done;
			lr = sched_lr(&c->sched, c->optim.lr, step, total_steps);
			optim_step(opt, w, g, lr);
			if (train_project(m))
				goto done;
			sum += loss * (double)b;
			hits += h;
			seen += b;
			if (!isfinite(loss)) {
				ir_error(m->g, NULL, "the training loss is %g at epoch %d, step %lld; lower "
						     "the learning rate", loss, e + 1, (long long)s + 1);
				goto done;
			}
			progress_update(&bar, step + 1, "epoch %d/%d  loss %.4f  acc %.2f%%", e + 1,
					c->epochs, sum / (double)seen, 100.0 * (double)hits / (double)seen);
		}
		train_epoch_stats st = {.epoch = e + 1, .lr = lr, .val_loss = -1, .val_accuracy = -1};
		st.seconds = progress_now() - t0;
		st.loss = seen ? sum / (double)seen : 0;
		st.accuracy = seen ? (double)hits / (double)seen : 0;
		st.images_per_s = st.seconds > 0 ? (double)seen / st.seconds : 0;
		if (val && train_evaluate(m, val, c->pp, B, &st.val_loss, &st.val_accuracy, NULL))
			goto done;
		if (stats)
			stats[e] = st;
		if (c->on_epoch)
			c->on_epoch(c->ctx, &st);
	}
	rc = 0;
done:
	progress_finish(&bar, 0, NULL);
	optim_free(opt);
	free(perm);
	free(sizes);
	free(w);
	free(g);
	free(x);
	free(y);
	return rc;
}
