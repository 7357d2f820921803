/* onnx_save.c - IR graph -> ONNX ModelProto (--emit=onnx): the graph as
 * it stands after the passes (folded, compressed, healed) written back so
 * that other tools can run it and onnx_load reads it again.
 *
 * Constants become initializers (raw_data, little endian), graph inputs
 * and outputs carry their dtype and shape (symbolic dims as dim_param,
 * unknown dims empty), and intermediate values of known dtype go into
 * value_info. qnnc's own ops (MpoLinear, domain "qnnc") are written as
 * custom-domain nodes; the model's doc string says that only qnnc runs
 * them. All protobuf structures live in a scratch arena freed at the end;
 * tensor data is not copied.
 */
#include "onnx.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"

#include "fe_util.h"

#ifndef QNNC_VERSION
#define QNNC_VERSION "unknown"
#endif

/* IR version 7 is the oldest that needs no initializers listed as inputs
 * and that every current runtime reads. */
#define SAVE_MIN_IR_VERSION 7
/* ai.onnx opset written when the graph imports none (onnx_load needs one
 * whenever there are nodes; e.g. the --matrix graph has only MpoLinear). */
#define SAVE_DEFAULT_OPSET 13
/* protobuf refuses messages of 2 GiB and more. */
#define SAVE_MAX_BYTES ((size_t)INT32_MAX)

#define QNNC_DOC                                                                            \
	"This model uses operators of the custom domain 'qnnc' (MpoLinear: a linear layer "  \
	"Y = X W^T + B whose weight W is a matrix product operator, inputs X, B (may be "     \
	"omitted) and one core per site; attributes rows, cols, group). Other ONNX runtimes " \
	"do not implement this domain: run the model with qnnc, which reads it back."

typedef struct saver {
	const ir_graph *g;
	ir_arena *a;       /* every protobuf structure built here */
	char *err;
	size_t errlen;
} saver;

static const char *src_name(const ir_graph *g)
{
	return g->source && *g->source ? g->source : "graph";
}

static const char *op_name(const ir_node *n)
{
	return (unsigned)n->op < IR_OP_COUNT ? ir_ops[n->op].name : "?";
}

/* The protobuf structures take non-const strings but never write them. */
static char *cs(const char *s)
{
	return (char *)(s ? s : "");
}

/* A tensor as a TensorProto pointing at the tensor's own data. */
static Onnx__TensorProto *tensor_proto(saver *s, const ir_tensor *t, const char *name)
{
	static uint8_t empty; /* raw_data of a tensor without elements */
	Onnx__TensorProto *tp = ir_alloc(s->a, sizeof *tp);
	*tp = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
	tp->name = cs(name);
	tp->n_dims = (size_t)t->rank;
	tp->dims = (int64_t *)t->dims;
	tp->has_data_type = 1;
	tp->data_type = (int32_t)t->dtype;
	tp->has_raw_data = 1;
	tp->raw_data.len = (size_t)t->numel * ir_dtype_size(t->dtype);
	/* little endian host, as the loader assumes; bools are bytes 0/1 */
	tp->raw_data.data = tp->raw_data.len && t->data ? t->data : &empty;
	return tp;
}

/* A ValueInfoProto for v: its dtype and shape where known. */
static Onnx__ValueInfoProto *value_info(saver *s, const ir_value *v)
{
	Onnx__ValueInfoProto *vi = ir_alloc(s->a, sizeof *vi);
	*vi = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
	vi->name = cs(v->name);
	if (v->dtype == IR_UNDEF && v->shape.rank < 0)
		return vi; /* untyped: the reader infers it */
	Onnx__TypeProto *tp = ir_alloc(s->a, sizeof *tp);
	Onnx__TypeProto__Tensor *tt = ir_alloc(s->a, sizeof *tt);
	*tp = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
	*tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	if (v->dtype != IR_UNDEF) {
		tt->has_elem_type = 1;
		tt->elem_type = (int32_t)v->dtype;
	}
	if (v->shape.rank >= 0) {
		int rank = v->shape.rank < IR_MAX_RANK ? v->shape.rank : IR_MAX_RANK;
		Onnx__TensorShapeProto *sh = ir_alloc(s->a, sizeof *sh);
		*sh = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
		sh->n_dim = (size_t)rank;
		sh->dim = ir_alloc(s->a, ((size_t)rank + 1) * sizeof *sh->dim);
		for (int i = 0; i < rank; i++) {
			const ir_dim *d = &v->shape.d[i];
			Onnx__TensorShapeProto__Dimension *dp = ir_alloc(s->a, sizeof *dp);
			*dp = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
			/* ONNX holds a value or a name, not both: the value wins. */
			if (d->v >= 0) {
				dp->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
				dp->dim_value = d->v;
			} else if (d->sym && *d->sym) {
				dp->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
				dp->dim_param = cs(d->sym);
			}
			sh->dim[i] = dp;
		}
		tt->shape = sh;
	}
	vi->type = tp;
	return vi;
}

static const char *attr_kind_name(ir_attr_kind k)
{
	static const char *names[] = {"float", "int", "string", "tensor", "floats", "ints", "strings", "other"};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

static int attr_proto(saver *s, const ir_node *n, const ir_attr *a, Onnx__AttributeProto **out)
{
	Onnx__AttributeProto *ap = ir_alloc(s->a, sizeof *ap);
	*ap = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
	ap->name = cs(a->name);
	ap->has_type = 1;
	int n_el = a->n > 0 ? a->n : 0;
	switch (a->kind) {
	case IR_ATTR_FLOAT:
		ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
		ap->has_f = 1;
		ap->f = (float)a->f; /* ONNX attributes are floats; the IR's came from one */
		break;
	case IR_ATTR_INT:
		ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		ap->has_i = 1;
		ap->i = a->i;
		break;
	case IR_ATTR_STRING:
		ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
		ap->has_s = 1;
		ap->s.data = (uint8_t *)cs(a->s);
		ap->s.len = strlen(cs(a->s));
		break;
	case IR_ATTR_TENSOR:
		if (!a->t)
			goto other;
		ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
		ap->t = tensor_proto(s, a->t, "");
		break;
	case IR_ATTR_FLOATS:
		ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
		ap->n_floats = (size_t)n_el;
		ap->floats = ir_alloc(s->a, ((size_t)n_el + 1) * sizeof *ap->floats);
		for (int i = 0; i < n_el; i++)
			ap->floats[i] = a->fs ? (float)a->fs[i] : 0.0f;
		break;
	case IR_ATTR_INTS:
		ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
		ap->n_ints = (size_t)n_el;
		ap->ints = ir_alloc(s->a, ((size_t)n_el + 1) * sizeof *ap->ints);
		for (int i = 0; i < n_el; i++)
			ap->ints[i] = a->is ? a->is[i] : 0;
		break;
	case IR_ATTR_STRINGS:
		ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
		ap->n_strings = (size_t)n_el;
		ap->strings = ir_alloc(s->a, ((size_t)n_el + 1) * sizeof *ap->strings);
		for (int i = 0; i < n_el; i++) {
			const char *str = a->ss ? cs(a->ss[i]) : "";
			ap->strings[i].data = (uint8_t *)str;
			ap->strings[i].len = strlen(str);
		}
		break;
	default:
	other:
		/* The loader keeps graphs, sparse tensors and types by kind only:
		 * their content is gone, so writing them would invent data. */
		fe_set_err(s->err, s->errlen,
			   "%s: node '%s' (%s): attribute '%s' of kind %s%s%s%s cannot be written to ONNX "
			   "(its content was not kept when the model was read)",
			   src_name(s->g), cs(n->name), op_name(n), cs(a->name), attr_kind_name(a->kind),
			   a->kind == IR_ATTR_OTHER ? " (" : "", a->kind == IR_ATTR_OTHER ? cs(a->other) : "",
			   a->kind == IR_ATTR_OTHER ? ")" : "");
		return -1;
	}
	*out = ap;
	return 0;
}

/* A value is defined when a node produces it, it is constant, or it is a
 * graph input; anything else would make the written model invalid. */
static int is_defined(const ir_value *v)
{
	return v->def || v->konst || v->is_input;
}

static int node_proto(saver *s, const ir_node *n, Onnx__NodeProto **out)
{
	Onnx__NodeProto *np = ir_alloc(s->a, sizeof *np);
	*np = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
	IR_ASSERT((unsigned)n->op < IR_OP_COUNT);
	np->op_type = cs(ir_ops[n->op].name);
	np->name = cs(n->name);
	const char *dom = n->domain ? n->domain : ir_ops[n->op].domain;
	if (dom && *dom)
		np->domain = cs(dom);
	np->n_input = (size_t)(n->nin > 0 ? n->nin : 0);
	np->input = ir_alloc(s->a, (np->n_input + 1) * sizeof *np->input);
	for (size_t i = 0; i < np->n_input; i++) {
		const ir_value *v = n->in[i];
		if (v && !is_defined(v)) {
			fe_set_err(s->err, s->errlen,
				   "%s: node '%s' (%s): input '%s' is not defined by any node, constant or graph input",
				   src_name(s->g), cs(n->name), op_name(n), cs(v->name));
			return -1;
		}
		np->input[i] = v ? cs(v->name) : ""; /* "" is an omitted optional input */
	}
	np->n_output = (size_t)(n->nout > 0 ? n->nout : 0);
	np->output = ir_alloc(s->a, (np->n_output + 1) * sizeof *np->output);
	for (size_t i = 0; i < np->n_output; i++)
		np->output[i] = n->out[i] ? cs(n->out[i]->name) : "";
	np->n_attribute = (size_t)(n->nattr > 0 ? n->nattr : 0);
	np->attribute = ir_alloc(s->a, (np->n_attribute + 1) * sizeof *np->attribute);
	for (size_t i = 0; i < np->n_attribute; i++)
		if (attr_proto(s, n, &n->attrs[i], &np->attribute[i]))
			return -1;
	if (dom && !strcmp(dom, "qnnc"))
		np->doc_string = cs(ir_ops[n->op].doc);
	*out = np;
	return 0;
}

static int uses_qnnc(const ir_graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		const char *dom = n->domain ? n->domain : ir_ops[n->op].domain;
		if (dom && !strcmp(dom, "qnnc"))
			return 1;
	}
	return 0;
}

static Onnx__OperatorSetIdProto *opset_proto(saver *s, const char *domain, int64_t version)
{
	Onnx__OperatorSetIdProto *o = ir_alloc(s->a, sizeof *o);
	*o = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
	o->domain = cs(domain);
	o->has_version = 1;
	o->version = version;
	return o;
}

static int build_model(saver *s, Onnx__ModelProto *mp, Onnx__GraphProto *gp)
{
	const ir_graph *g = s->g;
	mp->has_ir_version = 1;
	mp->ir_version = g->ir_version > SAVE_MIN_IR_VERSION ? g->ir_version : SAVE_MIN_IR_VERSION;
	mp->producer_name = "qnnc";
	mp->producer_version = QNNC_VERSION;

	int qnnc = uses_qnnc(g);
	int has_default = ir_graph_opset(g, "") != 0, has_qnnc = ir_graph_opset(g, "qnnc") != 0;
	size_t nops = 0;
	mp->opset_import = ir_alloc(s->a, ((size_t)(g->nopsets > 0 ? g->nopsets : 0) + 3) * sizeof *mp->opset_import);
	for (int i = 0; i < g->nopsets; i++) {
		const char *d = g->opsets[i].domain ? g->opsets[i].domain : "";
		mp->opset_import[nops++] = opset_proto(s, !strcmp(d, "ai.onnx") ? "" : d, g->opsets[i].version);
	}
	if (!has_default && g->nnodes)
		mp->opset_import[nops++] = opset_proto(s, "", SAVE_DEFAULT_OPSET);
	if (qnnc && !has_qnnc)
		mp->opset_import[nops++] = opset_proto(s, "qnnc", 1);
	mp->n_opset_import = nops;
	if (qnnc)
		mp->doc_string = QNNC_DOC;

	gp->name = cs(g->name && *g->name ? g->name : "main");
	mp->graph = gp;

	size_t nv = (size_t)(g->nvalues > 0 ? g->nvalues : 0);
	gp->initializer = ir_alloc(s->a, (nv + 1) * sizeof *gp->initializer);
	gp->value_info = ir_alloc(s->a, (nv + 1) * sizeof *gp->value_info);
	for (size_t i = 0; i < nv; i++) {
		const ir_value *v = g->values[i];
		/* data a pass computed for a node output stays with its node */
		if (v && v->konst && !v->def)
			gp->initializer[gp->n_initializer++] = tensor_proto(s, v->konst, v->name);
		else if (v && v->def && !v->is_output && v->dtype != IR_UNDEF)
			gp->value_info[gp->n_value_info++] = value_info(s, v);
	}

	gp->input = ir_alloc(s->a, ((size_t)(g->ninputs > 0 ? g->ninputs : 0) + 1) * sizeof *gp->input);
	for (int i = 0; i < g->ninputs; i++) {
		if (!g->inputs[i]) {
			fe_set_err(s->err, s->errlen, "%s: graph input %d is missing", src_name(g), i);
			return -1;
		}
		gp->input[gp->n_input++] = value_info(s, g->inputs[i]);
	}
	gp->output = ir_alloc(s->a, ((size_t)(g->noutputs > 0 ? g->noutputs : 0) + 1) * sizeof *gp->output);
	for (int i = 0; i < g->noutputs; i++) {
		const ir_value *v = g->outputs[i];
		if (!v || !is_defined(v)) {
			fe_set_err(s->err, s->errlen, "%s: graph output '%s' is not defined by any node, constant or input",
				   src_name(g), v ? cs(v->name) : "?");
			return -1;
		}
		/* A constant or input listed as output is valid ONNX as it is. */
		gp->output[gp->n_output++] = value_info(s, v);
	}
	if (!g->noutputs) {
		fe_set_err(s->err, s->errlen, "%s: the graph has no outputs", src_name(g));
		return -1;
	}

	gp->node = ir_alloc(s->a, ((size_t)(g->nnodes > 0 ? g->nnodes : 0) + 1) * sizeof *gp->node);
	for (int i = 0; i < g->nnodes; i++) {
		if (node_proto(s, g->nodes[i], &gp->node[i]))
			return -1;
		gp->n_node++;
	}
	return 0;
}

/* Streams the packed model into a FILE, remembering the first failure. */
typedef struct file_buffer {
	ProtobufCBuffer base;
	FILE *f;
	int err;
} file_buffer;

static void file_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	file_buffer *fb = (file_buffer *)b;
	if (!fb->err && len && fwrite(data, 1, len, fb->f) != len)
		fb->err = errno ? errno : EIO;
}

int onnx_save_file(const ir_graph *g, FILE *f, char *err, size_t errlen)
{
	saver s = {g, ir_arena_new(), err, errlen};
	Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
	Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
	int rc = build_model(&s, &mp, &gp);
	if (!rc) {
		size_t len = onnx__model_proto__get_packed_size(&mp);
		if (len >= SAVE_MAX_BYTES) {
			fe_set_err(err, errlen,
				   "%s: the model needs %zu bytes, more than protobuf's 2 GiB limit "
				   "(external data is not written)", src_name(g), len);
			rc = -1;
		}
	}
	if (!rc) {
		file_buffer fb = {{file_append}, f, 0};
		errno = 0;
		onnx__model_proto__pack_to_buffer(&mp, &fb.base);
		if (!fb.err && fflush(f))
			fb.err = errno ? errno : EIO;
		if (fb.err) {
			fe_set_err(err, errlen, "cannot write the ONNX model: %s", strerror(fb.err));
			rc = -1;
		}
	}
	ir_arena_free(s.a);
	return rc;
}

int onnx_save(const ir_graph *g, const char *path, char *err, size_t errlen)
{
	size_t pl = strlen(path) + 32;
	char *tmp = malloc(pl);
	if (!tmp) {
		fe_set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	snprintf(tmp, pl, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		fe_set_err(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	char msg[2048] = "";
	int rc = onnx_save_file(g, f, msg, sizeof msg);
	if (fclose(f) && !rc) {
		snprintf(msg, sizeof msg, "cannot write the ONNX model: %s", strerror(errno));
		rc = -1;
	}
	if (!rc && rename(tmp, path)) {
		snprintf(msg, sizeof msg, "cannot rename '%s': %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc) {
		remove(tmp);
		/* graph errors already name the graph; I/O errors get the path */
		if (!strncmp(msg, "cannot ", 7))
			fe_set_err(err, errlen, "%s: %s", path, msg);
		else
			fe_set_err(err, errlen, "%s", msg);
	}
	free(tmp);
	return rc;
}
