/* onnx.c - the ONNX frontend: ModelProto -> IR, TensorProto <-> tensor.
 *
 * Follows onnx.proto (IR versions 3..13) as compiled by protoc-c from
 * Debian's libonnx-dev. Every malformed input becomes a diagnostic that
 * names the file and, where there is one, the node; nothing here aborts.
 * External data (data_location = EXTERNAL) is read relative to the model's
 * folder and refused when the resolved path leaves that folder.
 */
#include "onnx.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"

#include "fe_util.h"

/* Opset range of the default domain that qnnc understands. */
#define OPSET_MIN 7
#define OPSET_MAX 25

/* ------------------------------------------------------------ tensors */

typedef struct ctx {
	ir_graph *g;
	const char *base_dir; /* NULL: external data refused */
} ctx;

static const char *dtype_label(int code)
{
	static const char *names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16",
				      "int32", "int64", "string", "bool", "float16", "double",
				      "uint32", "uint64", "complex64", "complex128", "bfloat16"};
	if (code >= 0 && code < (int)(sizeof names / sizeof names[0]))
		return names[code];
	return "unknown";
}

/* Resolve an external-data location inside base_dir. Returns a malloc'd
 * real path or NULL with a message. */
static char *resolve_external(ctx *c, const char *what, const char *loc)
{
	if (!c->base_dir) {
		ir_error(c->g, NULL, "%s: external data '%s' cannot be resolved (no model folder)", what, loc);
		return NULL;
	}
	if (!*loc || loc[0] == '/') {
		ir_error(c->g, NULL, "%s: external data location '%s' must be a relative path inside the model's folder", what, loc);
		return NULL;
	}
	/* Refuse ".." climbing out before touching the file system (as
	 * onnx.checker does); symlinks are caught by realpath below. */
	int depth = 0;
	for (const char *p = loc; *p && depth >= 0;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			depth--;
		else if (n && !(n == 1 && p[0] == '.'))
			depth++;
		p += n;
		p += strspn(p, "/");
	}
	if (depth < 0) {
		ir_error(c->g, NULL, "%s: external data location '%s' escapes the model's folder", what, loc);
		return NULL;
	}
	char base[PATH_MAX], full[PATH_MAX];
	if (!realpath(c->base_dir, base)) {
		ir_error(c->g, NULL, "%s: cannot resolve model folder '%s': %s", what, c->base_dir, strerror(errno));
		return NULL;
	}
	size_t need = strlen(base) + 1 + strlen(loc) + 1;
	char *joined = malloc(need);
	if (!joined)
		return NULL;
	snprintf(joined, need, "%s/%s", base, loc);
	char *rp = realpath(joined, full);
	free(joined);
	if (!rp) {
		ir_error(c->g, NULL, "%s: external data file '%s': %s", what, loc, strerror(errno));
		return NULL;
	}
	size_t bl = strlen(base);
	if (strncmp(full, base, bl) || full[bl] != '/') {
		ir_error(c->g, NULL, "%s: external data location '%s' escapes the model's folder", what, loc);
		return NULL;
	}
	return strdup(full);
}

/* Open tp's external data and check that it holds bytes from its offset;
 * returns the file positioned there, or NULL with a message. Checked
 * before the tensor is allocated, so a tiny model cannot make us allocate
 * what its data does not back. */
static FILE *open_external(ctx *c, const char *what, const Onnx__TensorProto *tp, size_t bytes)
{
	const char *loc = NULL;
	long long offset = 0, length = -1;
	for (size_t i = 0; i < tp->n_external_data; i++) {
		const char *k = tp->external_data[i]->key, *v = tp->external_data[i]->value;
		if (!k || !v)
			continue;
		char *end;
		if (!strcmp(k, "location"))
			loc = v;
		else if (!strcmp(k, "offset") || !strcmp(k, "length")) {
			errno = 0;
			long long x = strtoll(v, &end, 10);
			if (errno || *end || end == v || x < 0) {
				ir_error(c->g, NULL, "%s: bad external data %s '%s'", what, k, v);
				return NULL;
			}
			if (!strcmp(k, "offset"))
				offset = x;
			else
				length = x;
		}
	}
	if (!loc) {
		ir_error(c->g, NULL, "%s: external data has no location", what);
		return NULL;
	}
	if (length >= 0 && (unsigned long long)length != bytes) {
		ir_error(c->g, NULL, "%s: external data length %lld does not match the tensor's %zu bytes", what, length, bytes);
		return NULL;
	}
	char *path = resolve_external(c, what, loc);
	if (!path)
		return NULL;
	FILE *f = fopen(path, "rb");
	int e = errno;
	free(path);
	struct stat st;
	if (!f) {
		ir_error(c->g, NULL, "%s: cannot open external data '%s': %s", what, loc, strerror(e));
	} else if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		ir_error(c->g, NULL, "%s: external data '%s' is not a regular file", what, loc);
	} else if ((unsigned long long)st.st_size < (unsigned long long)offset + bytes ||
		   fseeko(f, (off_t)offset, SEEK_SET)) {
		ir_error(c->g, NULL, "%s: external data '%s' is shorter than offset %lld + %zu bytes", what, loc, offset, bytes);
	} else {
		return f;
	}
	if (f)
		fclose(f);
	return NULL;
}

/* Convert a TensorProto; what names it in diagnostics ("initializer 'w'"). */
static ir_tensor *tensor_from_proto(ctx *c, const Onnx__TensorProto *tp, const char *what)
{
	int code = tp->has_data_type ? tp->data_type : 0;
	if (!ir_dtype_supported(code)) {
		ir_error(c->g, NULL, "%s: unsupported tensor data type %s (%d)", what, dtype_label(code), code);
		return NULL;
	}
	if (tp->n_dims > IR_MAX_RANK) {
		ir_error(c->g, NULL, "%s: rank %zu exceeds the maximum %d", what, tp->n_dims, IR_MAX_RANK);
		return NULL;
	}
	for (size_t i = 0; i < tp->n_dims; i++)
		if (tp->dims[i] < 0) {
			ir_error(c->g, NULL, "%s: negative dimension %lld", what, (long long)tp->dims[i]);
			return NULL;
		}
	if (tp->segment) {
		ir_error(c->g, NULL, "%s: segmented tensors are not supported", what);
		return NULL;
	}
	ir_dtype dt = (ir_dtype)code;
	int64_t numel = ir_numel((int)tp->n_dims, tp->dims);
	size_t es = ir_dtype_size(dt);
	if (numel < 0 || (uint64_t)numel > ((uint64_t)1 << 40) / es) {
		ir_error(c->g, NULL, "%s: dimensions overflow (too many elements)", what);
		return NULL;
	}
	size_t bytes = (size_t)numel * es;
	size_t n = (size_t)numel;
	/* Check that the data is there before allocating for it. */
	FILE *ext = NULL;
	if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
		if (!(ext = open_external(c, what, tp, bytes)))
			return NULL;
	} else if (tp->has_raw_data) {
		if (tp->raw_data.len != bytes) {
			ir_error(c->g, NULL, "%s: raw_data has %zu bytes, shape needs %zu", what, tp->raw_data.len, bytes);
			return NULL;
		}
	} else {
		size_t have;
		const char *field;
		switch (dt) {
		case IR_F32: have = tp->n_float_data; field = "float_data"; break;
		case IR_F64: have = tp->n_double_data; field = "double_data"; break;
		case IR_I64: have = tp->n_int64_data; field = "int64_data"; break;
		case IR_U32: case IR_U64: have = tp->n_uint64_data; field = "uint64_data"; break;
		default: have = tp->n_int32_data; field = "int32_data"; break;
		}
		if (have != n) {
			ir_error(c->g, NULL, "%s: %s has %zu elements, shape needs %zu", what, field, have, n);
			return NULL;
		}
	}
	ir_tensor *t = ir_tensor_new(c->g->arena, dt, (int)tp->n_dims, tp->dims);
	if (!t) {
		if (ext)
			fclose(ext);
		ir_error(c->g, NULL, "%s: out of memory for %lld elements", what, (long long)numel);
		return NULL;
	}
	if (ext || tp->has_raw_data) {
		if (ext) {
			int short_read = fread(t->data, 1, bytes, ext) != bytes;
			fclose(ext);
			if (short_read) {
				ir_error(c->g, NULL, "%s: cannot read external data: %s", what, strerror(errno));
				return NULL;
			}
		} else if (bytes) {
			memcpy(t->data, tp->raw_data.data, bytes); /* little endian host */
		}
		if (dt == IR_BOOL)
			for (size_t i = 0; i < n; i++)
				((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
		return t;
	}
	for (size_t i = 0; i < n; i++) {
		switch (dt) {
		case IR_F32: ((float *)t->data)[i] = tp->float_data[i]; break;
		case IR_F64: ((double *)t->data)[i] = tp->double_data[i]; break;
		case IR_I64: ((int64_t *)t->data)[i] = tp->int64_data[i]; break;
		case IR_U32: ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i]; break;
		case IR_U64: ((uint64_t *)t->data)[i] = tp->uint64_data[i]; break;
		default: ir_tensor_set_i64(t, (int64_t)i, tp->int32_data[i]); break;
		}
	}
	return t;
}

/* --------------------------------------------------------- attributes */

/* A protobuf bytes field as an arena string (an empty field has no data). */
static char *bytes_str(ir_graph *g, ProtobufCBinaryData b)
{
	return ir_strndup(g->arena, b.len ? (const char *)b.data : "", b.len);
}

static int attr_from_proto(ctx *c, const Onnx__AttributeProto *ap, const char *nodename,
			   const char *optype, ir_attr *a)
{
	ir_graph *g = c->g;
	memset(a, 0, sizeof *a);
	a->name = ir_strdup(g->arena, ap->name ? ap->name : "");
	char what[512];
	snprintf(what, sizeof what, "node '%s' (%s): attribute '%s'", nodename, optype, a->name);
	int type = ap->has_type ? (int)ap->type : 0;
	if (!type) { /* IR version 1 models: infer the kind from the set field */
		if (ap->has_f) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
		else if (ap->has_i) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		else if (ap->has_s) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
		else if (ap->t) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
		else if (ap->n_floats) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
		else if (ap->n_ints) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
		else if (ap->n_strings) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
		else if (ap->g) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
		else
			return ir_error(g, NULL, "%s has no type and no value", what);
	}
	if (ap->ref_attr_name && *ap->ref_attr_name)
		return ir_error(g, NULL, "%s refers to a function attribute, which is only valid inside functions", what);
	switch (type) {
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
		a->kind = IR_ATTR_FLOAT;
		a->f = ap->f;
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
		a->kind = IR_ATTR_INT;
		a->i = ap->i;
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
		a->kind = IR_ATTR_STRING;
		a->s = bytes_str(g, ap->s);
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
		a->kind = IR_ATTR_TENSOR;
		if (!ap->t)
			return ir_error(g, NULL, "%s is a tensor attribute without a tensor", what);
		a->t = tensor_from_proto(c, ap->t, what);
		if (!a->t)
			return -1;
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
		a->kind = IR_ATTR_FLOATS;
		a->n = (int)ap->n_floats;
		a->fs = ir_alloc(g->arena, (ap->n_floats + 1) * sizeof(double));
		for (size_t i = 0; i < ap->n_floats; i++)
			a->fs[i] = ap->floats[i];
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
		a->kind = IR_ATTR_INTS;
		a->n = (int)ap->n_ints;
		a->is = ir_alloc(g->arena, (ap->n_ints + 1) * sizeof(int64_t));
		for (size_t i = 0; i < ap->n_ints; i++)
			a->is[i] = ap->ints[i];
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
		a->kind = IR_ATTR_STRINGS;
		a->n = (int)ap->n_strings;
		a->ss = ir_alloc(g->arena, (ap->n_strings + 1) * sizeof(char *));
		for (size_t i = 0; i < ap->n_strings; i++)
			a->ss[i] = bytes_str(g, ap->strings[i]);
		break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: a->kind = IR_ATTR_OTHER; a->other = "graph"; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: a->kind = IR_ATTR_OTHER; a->other = "graphs"; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: a->kind = IR_ATTR_OTHER; a->other = "sparse_tensor"; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: a->kind = IR_ATTR_OTHER; a->other = "sparse_tensors"; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: a->kind = IR_ATTR_OTHER; a->other = "tensors"; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: a->kind = IR_ATTR_OTHER; a->other = "type_proto"; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: a->kind = IR_ATTR_OTHER; a->other = "type_protos"; break;
	default:
		return ir_error(g, NULL, "%s has unknown attribute type %d", what, type);
	}
	return 0;
}

/* ---------------------------------------------------------- value info */

/* Apply a ValueInfoProto's tensor type to v (dtype, shape). */
static int apply_type(ctx *c, ir_value *v, const Onnx__ValueInfoProto *vi, const char *role)
{
	const Onnx__TypeProto *tp = vi->type;
	if (!tp)
		return 0; /* untyped: inference fills it in */
	if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
		static const char *kinds[] = {"none", "tensor", "sequence", "map", "optional", "sparse tensor"};
		int k = tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE ? 2
			: tp->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE ? 3
			: tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE ? 4
			: tp->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE ? 5 : 0;
		if (k == 0)
			return 0;
		return ir_error(c->g, NULL, "%s '%s' has %s type; only tensors are supported", role, v->name, kinds[k]);
	}
	const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	if (!tt)
		return 0;
	if (tt->has_elem_type && tt->elem_type) {
		if (!ir_dtype_supported(tt->elem_type))
			return ir_error(c->g, NULL, "%s '%s' has unsupported element type %s (%d)", role, v->name,
					dtype_label(tt->elem_type), tt->elem_type);
		v->dtype = (ir_dtype)tt->elem_type;
	}
	if (!tt->shape)
		return 0; /* unknown rank */
	if (tt->shape->n_dim > IR_MAX_RANK)
		return ir_error(c->g, NULL, "%s '%s' has rank %zu, more than the maximum %d", role, v->name,
				tt->shape->n_dim, IR_MAX_RANK);
	ir_shape s;
	memset(&s, 0, sizeof s);
	s.rank = (int)tt->shape->n_dim;
	for (int i = 0; i < s.rank; i++) {
		const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
		s.d[i].v = -1;
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
			if (d->dim_value < 0)
				return ir_error(c->g, NULL, "%s '%s' has negative dimension %lld", role, v->name,
						(long long)d->dim_value);
			s.d[i].v = d->dim_value;
		} else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param &&
			   *d->dim_param) {
			s.d[i].sym = ir_strdup(c->g->arena, d->dim_param);
		}
	}
	if (ir_shape_known(&s) && ir_shape_numel(&s) < 0)
		return ir_error(c->g, NULL, "%s '%s': dimensions overflow", role, v->name);
	v->shape = s;
	return 0;
}

/* ---------------------------------------------------------- the graph */

static const char *node_label(const Onnx__NodeProto *np, size_t idx, char *buf, size_t n)
{
	if (np->name && *np->name)
		return np->name;
	snprintf(buf, n, "%s_%zu", np->op_type ? np->op_type : "node", idx);
	return buf;
}

static const char *op_label(const Onnx__NodeProto *np)
{
	return np->op_type ? np->op_type : "";
}

/* A predecessor of node i that topo_order has not placed yet (every node
 * left over has one), or i itself if there is none. */
static size_t pending_pred(const Onnx__GraphProto *gp, const ir_map *producer, const char *done, size_t i)
{
	const Onnx__NodeProto *np = gp->node[i];
	for (size_t j = 0; j < np->n_input; j++) {
		uintptr_t p = np->input[j] && *np->input[j] ? (uintptr_t)ir_map_get(producer, np->input[j]) : 0;
		if (p && !done[p - 1])
			return p - 1;
	}
	return i;
}

/* Topological order of the nodes (Kahn, stable: ties keep file order).
 * Fails on undefined inputs and cycles. */
static int topo_order(ctx *c, const Onnx__GraphProto *gp, ir_map *defined, size_t *order)
{
	ir_graph *g = c->g;
	size_t nn = gp->n_node;
	ir_map *producer = ir_map_new();
	/* producer maps output name -> (node index + 1) */
	for (size_t i = 0; i < nn; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		for (size_t j = 0; j < np->n_output; j++) {
			const char *o = np->output[j];
			if (!o || !*o)
				continue;
			char lb[64];
			if (ir_map_get(producer, o) || ir_map_get(defined, o)) {
				ir_map_free(producer);
				return ir_error(g, NULL, "node '%s' (%s): output '%s' is already defined",
						node_label(np, i, lb, sizeof lb), op_label(np), o);
			}
			ir_map_put(producer, o, (void *)(uintptr_t)(i + 1));
		}
	}
	size_t *indeg = calloc(nn + 1, sizeof *indeg);
	size_t *users_n = calloc(nn + 1, sizeof *users_n);
	size_t **users = calloc(nn + 1, sizeof *users);
	int rc = 0;
	for (size_t i = 0; i < nn && !rc; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		for (size_t j = 0; j < np->n_input; j++) {
			const char *in = np->input[j];
			if (!in || !*in)
				continue;
			uintptr_t p = (uintptr_t)ir_map_get(producer, in);
			if (!p) {
				if (ir_map_get(defined, in))
					continue;
				char lb[64];
				rc = ir_error(g, NULL,
					      "node '%s' (%s): input '%s' is not defined by any node, initializer or graph input",
					      node_label(np, i, lb, sizeof lb), op_label(np), in);
				break;
			}
			size_t u = p - 1;
			indeg[i]++;
			size_t *nu = realloc(users[u], (users_n[u] + 1) * sizeof *nu);
			if (!nu) {
				rc = ir_error(g, NULL, "out of memory");
				break;
			}
			users[u] = nu;
			users[u][users_n[u]++] = i;
		}
	}
	if (!rc) {
		/* Kahn's algorithm with a min-index ready list for stability. */
		size_t *ready = malloc((nn + 1) * sizeof *ready), nready = 0, k = 0;
		char *done = calloc(nn + 1, 1);
		for (size_t i = 0; i < nn; i++)
			if (!indeg[i])
				ready[nready++] = i;
		while (nready) {
			size_t best = 0;
			for (size_t r = 1; r < nready; r++)
				if (ready[r] < ready[best])
					best = r;
			size_t i = ready[best];
			ready[best] = ready[--nready];
			order[k++] = i;
			done[i] = 1;
			for (size_t u = 0; u < users_n[i]; u++)
				if (--indeg[users[i][u]] == 0)
					ready[nready++] = users[i][u];
		}
		if (k < nn) {
			/* Nodes downstream of a cycle are left over too: walk back
			 * nn steps to land on the cycle, then name its first node
			 * in file order. */
			size_t i = 0, first;
			while (done[i])
				i++;
			for (size_t step = 0; step < nn; step++)
				i = pending_pred(gp, producer, done, i);
			first = i;
			for (size_t j = pending_pred(gp, producer, done, i); j != i; j = pending_pred(gp, producer, done, j))
				if (j < first)
					first = j;
			char lb[64];
			rc = ir_error(g, NULL, "node '%s' (%s): the graph has a cycle through this node",
				      node_label(gp->node[first], first, lb, sizeof lb), op_label(gp->node[first]));
		}
		free(ready);
		free(done);
	}
	for (size_t i = 0; i < nn; i++)
		free(users[i]);
	free(users);
	free(users_n);
	free(indeg);
	ir_map_free(producer);
	return rc;
}

static int build_graph(ctx *c, const Onnx__ModelProto *mp)
{
	ir_graph *g = c->g;
	const Onnx__GraphProto *gp = mp->graph;
	if (!gp)
		return ir_error(g, NULL, "the model has no graph");
	if (mp->n_functions)
		return ir_error(g, NULL, "model-local functions are not supported (%zu defined)", mp->n_functions);
	g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
	if (gp->name && *gp->name)
		g->name = ir_strdup(g->arena, gp->name);
	if (mp->producer_name)
		g->producer = ir_strdup(g->arena, mp->producer_name);

	g->nopsets = (int)mp->n_opset_import;
	g->opsets = ir_alloc(g->arena, (mp->n_opset_import + 1) * sizeof *g->opsets);
	for (size_t i = 0; i < mp->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
		g->opsets[i].domain = ir_strdup(g->arena, o->domain ? o->domain : "");
		g->opsets[i].version = o->has_version ? o->version : 0;
	}
	int64_t opset = ir_graph_opset(g, "");
	if (gp->n_node && !opset)
		return ir_error(g, NULL, "the model imports no ai.onnx opset");
	if (opset && (opset < OPSET_MIN || opset > OPSET_MAX))
		return ir_error(g, NULL, "ai.onnx opset %lld is not supported (supported: %d to %d)",
				(long long)opset, OPSET_MIN, OPSET_MAX);
	if (gp->n_sparse_initializer)
		return ir_error(g, NULL, "sparse initializers are not supported");

	ir_map *defined = ir_map_new(); /* names defined before any node */
	int rc = 0;
	for (size_t i = 0; i < gp->n_initializer && !rc; i++) {
		const Onnx__TensorProto *tp = gp->initializer[i];
		const char *nm = tp->name ? tp->name : "";
		char what[512];
		snprintf(what, sizeof what, "initializer '%s'", nm);
		if (!*nm) {
			rc = ir_error(g, NULL, "initializer %zu has no name", i);
			break;
		}
		if (ir_value_find(g, nm)) {
			rc = ir_error(g, NULL, "%s is defined twice", what);
			break;
		}
		ir_tensor *t = tensor_from_proto(c, tp, what);
		if (!t) {
			rc = -1;
			break;
		}
		ir_value *v = ir_value_new(g, nm);
		v->konst = t;
		v->dtype = t->dtype;
		ir_shape_from_dims(&v->shape, t->rank, t->dims);
		ir_map_put(defined, v->name, v);
	}
	for (size_t i = 0; i < gp->n_input && !rc; i++) {
		const Onnx__ValueInfoProto *vi = gp->input[i];
		const char *nm = vi->name ? vi->name : "";
		ir_value *v = ir_value_find(g, nm);
		if (v && v->konst) {
			/* Old IR: initializers are listed as inputs too; they stay
			 * constants (a declared type must agree). */
			ir_value tmp = *v;
			tmp.shape.rank = -1;
			tmp.dtype = IR_UNDEF;
			if ((rc = apply_type(c, &tmp, vi, "input")))
				break;
			if ((tmp.dtype && tmp.dtype != v->dtype) ||
			    (ir_shape_known(&tmp.shape) && !ir_shape_equal(&tmp.shape, &v->shape))) {
				rc = ir_error(g, NULL, "input '%s' declares a type that differs from its initializer", nm);
				break;
			}
			continue;
		}
		if (!*nm) {
			rc = ir_error(g, NULL, "graph input %zu has no name", i);
			break;
		}
		if (v) {
			rc = ir_error(g, NULL, "graph input '%s' is listed twice", nm);
			break;
		}
		v = ir_value_new(g, nm);
		if ((rc = apply_type(c, v, vi, "input")))
			break;
		ir_graph_add_input(g, v);
		ir_map_put(defined, v->name, v);
	}

	size_t *order = rc ? NULL : calloc(gp->n_node + 1, sizeof *order);
	if (!rc && !order)
		rc = ir_error(g, NULL, "out of memory");
	if (!rc)
		rc = topo_order(c, gp, defined, order);
	for (size_t k = 0; k < gp->n_node && !rc; k++) {
		size_t idx = order[k];
		const Onnx__NodeProto *np = gp->node[idx];
		char lb[64];
		const char *nname = node_label(np, idx, lb, sizeof lb);
		const char *optype = np->op_type ? np->op_type : "";
		const char *domain = np->domain ? np->domain : "";
		ir_op op = ir_op_lookup(domain, optype);
		if (op == IR_OP_COUNT) {
			if (*domain && strcmp(domain, "ai.onnx"))
				rc = ir_error(g, NULL, "node '%s': unknown op '%s' in domain '%s'", nname, optype, domain);
			else
				rc = ir_error(g, NULL, "node '%s': unsupported op '%s' (domain ai.onnx)", nname, optype);
			break;
		}
		ir_value **in = calloc(np->n_input + 1, sizeof *in);
		ir_value **out = calloc(np->n_output + 1, sizeof *out);
		for (size_t j = 0; j < np->n_input; j++)
			in[j] = np->input[j] && *np->input[j] ? ir_value_find(g, np->input[j]) : NULL;
		for (size_t j = 0; j < np->n_output; j++)
			out[j] = np->output[j] && *np->output[j] ? ir_value_new(g, np->output[j]) : NULL;
		ir_node *n = ir_node_new(g, op, nname, (int)np->n_input, in, (int)np->n_output, out);
		free(in);
		free(out);
		n->domain = ir_ops[op].domain;
		n->opset = (int)ir_graph_opset(g, n->domain);
		n->attrs = ir_alloc(g->arena, (np->n_attribute + 1) * sizeof *n->attrs);
		for (size_t j = 0; j < np->n_attribute && !rc; j++) {
			for (size_t k2 = 0; k2 < j; k2++)
				if (np->attribute[k2]->name && np->attribute[j]->name &&
				    !strcmp(np->attribute[k2]->name, np->attribute[j]->name))
					rc = ir_error(g, n, "attribute '%s' is given twice", np->attribute[j]->name);
			if (!rc)
				rc = attr_from_proto(c, np->attribute[j], nname, optype, &n->attrs[n->nattr++]);
		}
	}
	free(order);

	/* Declared types of intermediate values and outputs. */
	for (size_t i = 0; i < gp->n_value_info && !rc; i++) {
		ir_value *v = ir_value_find(g, gp->value_info[i]->name ? gp->value_info[i]->name : "");
		if (v && !v->konst && !v->is_input)
			rc = apply_type(c, v, gp->value_info[i], "value");
	}
	if (!rc && gp->n_output == 0)
		rc = ir_error(g, NULL, "the graph has no outputs");
	for (size_t i = 0; i < gp->n_output && !rc; i++) {
		const char *nm = gp->output[i]->name ? gp->output[i]->name : "";
		ir_value *v = ir_value_find(g, nm);
		if (!v) {
			rc = ir_error(g, NULL, "graph output '%s' is not produced by any node", nm);
			break;
		}
		if (v->is_output) {
			rc = ir_error(g, NULL, "graph output '%s' is listed twice", nm);
			break;
		}
		if (!v->konst && !v->is_input)
			rc = apply_type(c, v, gp->output[i], "output");
		else {
			/* Still reject non-tensor outputs clearly. */
			ir_value tmp = *v;
			rc = apply_type(c, &tmp, gp->output[i], "output");
		}
		if (!rc)
			ir_graph_add_output(g, v);
	}
	ir_map_free(defined);
	return rc;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	size_t n = (size_t)(slash - path);
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, path, n);
		d[n] = 0;
	}
	return d;
}

/* protobuf-c unpacks nested messages recursively with no depth limit, so a
 * small crafted file (graphs in attributes in nodes in graphs ...) would
 * overflow the stack. wire_depth walks the wire format first, guided by the
 * message descriptors, and returns the deepest nesting (capped just above
 * MAX_NESTING), or -1 if the bytes at this level are malformed (unpack
 * then fails on them before it recurses). */
#define MAX_NESTING 100

static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (int sh = 0; sh < 64 && *p < end; sh += 7) {
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int wire_depth(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end, int depth)
{
	int max = depth;
	if (depth > MAX_NESTING)
		return depth;
	while (p < end) {
		uint64_t key, v;
		if (wire_varint(&p, end, &key) || (key >> 3) > 0x1fffffff)
			return -1;
		switch (key & 7) {
		case 0:
			if (wire_varint(&p, end, &v))
				return -1;
			break;
		case 1:
		case 5: {
			size_t w = (key & 7) == 1 ? 8 : 4;
			if ((size_t)(end - p) < w)
				return -1;
			p += w;
			break;
		}
		case 2: {
			if (wire_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return -1;
			const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				/* a malformed submessage still has a known extent:
				 * keep checking its siblings */
				int sub = wire_depth(f->descriptor, p, p + v, depth + 1);
				if (sub > MAX_NESTING)
					return sub;
				if (sub > max)
					max = sub;
			}
			p += v;
			break;
		}
		default:
			return -1;
		}
	}
	return max;
}

ir_graph *onnx_load_bytes(const void *buf, size_t len, const char *source, const char *base_dir,
			  char *err, size_t errlen)
{
	ir_graph *g = ir_graph_new(source);
	ctx c = {g, base_dir};
	Onnx__ModelProto *mp = NULL;
	if (len == 0) {
		ir_error(g, NULL, "empty file, not an ONNX model");
		goto fail;
	}
	if (wire_depth(&onnx__model_proto__descriptor, buf, (const uint8_t *)buf + len, 0) > MAX_NESTING) {
		ir_error(g, NULL, "not a valid ONNX model (messages nest more than %d levels deep)", MAX_NESTING);
		goto fail;
	}
	mp = onnx__model_proto__unpack(NULL, len, buf);
	if (!mp) {
		ir_error(g, NULL, "not a valid ONNX model (truncated or corrupt protobuf, %zu bytes)", len);
		goto fail;
	}
	if (build_graph(&c, mp))
		goto fail;
	onnx__model_proto__free_unpacked(mp, NULL);
	return g;
fail:
	fe_set_err(err, errlen, "%s", g->err);
	if (mp)
		onnx__model_proto__free_unpacked(mp, NULL);
	ir_graph_free(g);
	return NULL;
}

ir_graph *onnx_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	unsigned char *buf = fe_read_file(path, &len, err, errlen);
	if (!buf)
		return NULL;
	char *dir = dir_of(path);
	ir_graph *g = onnx_load_bytes(buf, len, path, dir, err, errlen);
	free(dir);
	free(buf);
	return g;
}

/* ------------------------------------------------------ tensor files */

ir_tensor *onnx_read_tensor(const char *path, char **name, char *err, size_t errlen)
{
	if (name)
		*name = NULL;
	size_t len;
	unsigned char *buf = fe_read_file(path, &len, err, errlen);
	if (!buf)
		return NULL;
	Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
	free(buf);
	if (!tp) {
		fe_set_err(err, errlen, "%s: not a valid TensorProto file", path);
		return NULL;
	}
	ir_graph *g = ir_graph_new(path);
	char *dir = dir_of(path);
	ctx c = {g, dir};
	ir_tensor *t = tensor_from_proto(&c, tp, "tensor");
	ir_tensor *res = NULL;
	if (t) {
		res = ir_tensor_new(NULL, t->dtype, t->rank, t->dims);
		if (res)
			memcpy(res->data, t->data, (size_t)t->numel * ir_dtype_size(t->dtype));
		else
			fe_set_err(err, errlen, "%s: out of memory", path);
		if (res && name && tp->name && *tp->name)
			*name = strdup(tp->name);
	} else {
		fe_set_err(err, errlen, "%s", g->err);
	}
	free(dir);
	ir_graph_free(g);
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return res;
}

int onnx_write_tensor(const char *path, const char *name, const ir_tensor *t, char *err, size_t errlen)
{
	Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
	tp.n_dims = (size_t)t->rank;
	tp.dims = (int64_t *)t->dims;
	tp.has_data_type = 1;
	tp.data_type = (int32_t)t->dtype;
	tp.name = (char *)(name ? name : "");
	tp.has_raw_data = 1;
	tp.raw_data.len = (size_t)t->numel * ir_dtype_size(t->dtype);
	tp.raw_data.data = t->data;
	size_t len = onnx__tensor_proto__get_packed_size(&tp);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		fe_set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	onnx__tensor_proto__pack(&tp, buf);
	size_t pl = strlen(path) + 32;
	char *tmp = malloc(pl);
	if (!tmp) {
		free(buf);
		fe_set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	snprintf(tmp, pl, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	int rc = 0;
	if (!f || fwrite(buf, 1, len, f) != len) {
		fe_set_err(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		rc = -1;
	}
	if (f && fclose(f) && !rc) {
		fe_set_err(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		rc = -1;
	}
	if (!rc && rename(tmp, path)) {
		fe_set_err(err, errlen, "%s: cannot rename: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc)
		remove(tmp);
	free(tmp);
	free(buf);
	return rc;
}
