/* ir.c - arena, dtypes, tensors, shapes, graph building, diagnostics,
 * attribute access and the string map. */
#include "ir.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void ir_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: internal error: assertion failed: %s\n", file, line, what);
	abort();
}

/* ------------------------------------------------------------- arena */

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char mem[];
} chunk;

struct ir_arena {
	chunk *head;
	ir_tensor **tensors; /* owned tensors, freed with the arena */
	size_t ntensors, cap_tensors;
};

/* Allocation failures of the compiler's own bookkeeping are fatal: there
 * is no sensible way to continue, and every caller would only re-report. */
_Noreturn static void out_of_memory(void)
{
	fprintf(stderr, "qnnc: out of memory\n");
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		out_of_memory();
	return q;
}

ir_arena *ir_arena_new(void)
{
	return xcalloc(1, sizeof(ir_arena));
}

void ir_arena_free(ir_arena *a)
{
	if (!a)
		return;
	for (chunk *c = a->head, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	for (size_t i = 0; i < a->ntensors; i++)
		ir_tensor_free(a->tensors[i]);
	free(a->tensors);
	free(a);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *ir_alloc(ir_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (!a->head || a->head->cap - a->head->used < size) {
		size_t cap = size > 65536 ? size : 65536;
		chunk *c = xmalloc(sizeof *c + cap);
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = a->head->mem + a->head->used;
	a->head->used += size;
	memset(p, 0, size);
	return p;
}

char *ir_strndup(ir_arena *a, const char *s, size_t n)
{
	char *p = ir_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *ir_strdup(ir_arena *a, const char *s)
{
	return s ? ir_strndup(a, s, strlen(s)) : NULL;
}

/* ------------------------------------------------------------ dtypes */

static const struct {
	ir_dtype t;
	size_t size;
	const char *name, *onnx, *ctype;
} dtypes[] = {
	{IR_F32, 4, "f32", "float", "float"},
	{IR_F64, 8, "f64", "double", "double"},
	{IR_I8, 1, "i8", "int8", "int8_t"},
	{IR_I16, 2, "i16", "int16", "int16_t"},
	{IR_I32, 4, "i32", "int32", "int32_t"},
	{IR_I64, 8, "i64", "int64", "int64_t"},
	{IR_U8, 1, "u8", "uint8", "uint8_t"},
	{IR_U16, 2, "u16", "uint16", "uint16_t"},
	{IR_U32, 4, "u32", "uint32", "uint32_t"},
	{IR_U64, 8, "u64", "uint64", "uint64_t"},
	{IR_BOOL, 1, "bool", "bool", "uint8_t"},
};
#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

static int dtype_index(ir_dtype t)
{
	for (size_t i = 0; i < NDTYPES; i++)
		if (dtypes[i].t == t)
			return (int)i;
	return -1;
}

int ir_dtype_supported(int code) { return dtype_index((ir_dtype)code) >= 0; }

size_t ir_dtype_size(ir_dtype t)
{
	int i = dtype_index(t);
	return i < 0 ? 0 : dtypes[i].size;
}

const char *ir_dtype_name(ir_dtype t)
{
	int i = dtype_index(t);
	return i < 0 ? "undef" : dtypes[i].name;
}

const char *ir_dtype_onnx_name(ir_dtype t)
{
	int i = dtype_index(t);
	return i < 0 ? "undefined" : dtypes[i].onnx;
}

const char *ir_dtype_c_type(ir_dtype t)
{
	int i = dtype_index(t);
	return i < 0 ? "void" : dtypes[i].ctype;
}

ir_dtype ir_dtype_from_name(const char *s)
{
	for (size_t i = 0; i < NDTYPES; i++)
		if (!strcmp(dtypes[i].name, s))
			return dtypes[i].t;
	return IR_UNDEF;
}

int ir_dtype_is_float(ir_dtype t) { return t == IR_F32 || t == IR_F64; }
int ir_dtype_is_signed(ir_dtype t)
{
	return t == IR_I8 || t == IR_I16 || t == IR_I32 || t == IR_I64;
}
int ir_dtype_is_int(ir_dtype t)
{
	return ir_dtype_is_signed(t) || t == IR_U8 || t == IR_U16 || t == IR_U32 || t == IR_U64;
}

/* ----------------------------------------------------------- tensors */

int64_t ir_numel(int rank, const int64_t *dims)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 0)
			return -1;
		if (dims[i] && n > INT64_MAX / dims[i])
			return -1;
		n *= dims[i];
	}
	return n;
}

static void arena_own(ir_arena *a, ir_tensor *t)
{
	if (a->ntensors == a->cap_tensors) {
		a->cap_tensors = a->cap_tensors ? 2 * a->cap_tensors : 64;
		a->tensors = xrealloc(a->tensors, a->cap_tensors * sizeof *a->tensors);
	}
	a->tensors[a->ntensors++] = t;
}

ir_tensor *ir_tensor_new(ir_arena *a, ir_dtype dt, int rank, const int64_t *dims)
{
	IR_ASSERT(rank >= 0 && rank <= IR_MAX_RANK);
	int64_t n = ir_numel(rank, dims);
	size_t es = ir_dtype_size(dt);
	if (n < 0 || es == 0 || (uint64_t)n > (uint64_t)(SIZE_MAX / 2) / es)
		return NULL;
	size_t bytes = ((size_t)n * es + 63) & ~(size_t)63;
	ir_tensor *t = calloc(1, sizeof *t);
	void *data = aligned_alloc(64, bytes ? bytes : 64);
	if (!t || !data) {
		free(t);
		free(data);
		return NULL;
	}
	memset(data, 0, bytes ? bytes : 64);
	t->dtype = dt;
	t->rank = rank;
	for (int i = 0; i < rank; i++)
		t->dims[i] = dims[i];
	t->numel = n;
	t->data = data;
	if (a)
		arena_own(a, t);
	return t;
}

ir_tensor *ir_tensor_clone(ir_arena *a, const ir_tensor *s)
{
	ir_tensor *t = ir_tensor_new(a, s->dtype, s->rank, s->dims);
	if (t)
		memcpy(t->data, s->data, (size_t)s->numel * ir_dtype_size(s->dtype));
	return t;
}

void ir_tensor_free(ir_tensor *t)
{
	if (!t)
		return;
	free(t->data);
	free(t);
}

double ir_tensor_get_f64(const ir_tensor *t, int64_t i)
{
	const void *p = t->data;
	switch (t->dtype) {
	case IR_F32: return ((const float *)p)[i];
	case IR_F64: return ((const double *)p)[i];
	case IR_I8: return ((const int8_t *)p)[i];
	case IR_I16: return ((const int16_t *)p)[i];
	case IR_I32: return ((const int32_t *)p)[i];
	case IR_I64: return (double)((const int64_t *)p)[i];
	case IR_U8: case IR_BOOL: return ((const uint8_t *)p)[i];
	case IR_U16: return ((const uint16_t *)p)[i];
	case IR_U32: return ((const uint32_t *)p)[i];
	case IR_U64: return (double)((const uint64_t *)p)[i];
	default: IR_UNREACHABLE();
	}
}

int64_t ir_tensor_get_i64(const ir_tensor *t, int64_t i)
{
	const void *p = t->data;
	switch (t->dtype) {
	case IR_F32: return (int64_t)((const float *)p)[i];
	case IR_F64: return (int64_t)((const double *)p)[i];
	case IR_I8: return ((const int8_t *)p)[i];
	case IR_I16: return ((const int16_t *)p)[i];
	case IR_I32: return ((const int32_t *)p)[i];
	case IR_I64: return ((const int64_t *)p)[i];
	case IR_U8: case IR_BOOL: return ((const uint8_t *)p)[i];
	case IR_U16: return ((const uint16_t *)p)[i];
	case IR_U32: return ((const uint32_t *)p)[i];
	case IR_U64: return (int64_t)((const uint64_t *)p)[i];
	default: IR_UNREACHABLE();
	}
}

void ir_tensor_set_f64(ir_tensor *t, int64_t i, double v)
{
	void *p = t->data;
	switch (t->dtype) {
	case IR_F32: ((float *)p)[i] = (float)v; break;
	case IR_F64: ((double *)p)[i] = v; break;
	case IR_I8: ((int8_t *)p)[i] = (int8_t)v; break;
	case IR_I16: ((int16_t *)p)[i] = (int16_t)v; break;
	case IR_I32: ((int32_t *)p)[i] = (int32_t)v; break;
	case IR_I64: ((int64_t *)p)[i] = (int64_t)v; break;
	case IR_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
	case IR_BOOL: ((uint8_t *)p)[i] = v != 0; break;
	case IR_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
	case IR_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
	case IR_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
	default: IR_UNREACHABLE();
	}
}

void ir_tensor_set_i64(ir_tensor *t, int64_t i, int64_t v)
{
	void *p = t->data;
	switch (t->dtype) {
	case IR_F32: ((float *)p)[i] = (float)v; break;
	case IR_F64: ((double *)p)[i] = (double)v; break;
	case IR_I8: ((int8_t *)p)[i] = (int8_t)v; break;
	case IR_I16: ((int16_t *)p)[i] = (int16_t)v; break;
	case IR_I32: ((int32_t *)p)[i] = (int32_t)v; break;
	case IR_I64: ((int64_t *)p)[i] = v; break;
	case IR_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
	case IR_BOOL: ((uint8_t *)p)[i] = v != 0; break;
	case IR_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
	case IR_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
	case IR_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
	default: IR_UNREACHABLE();
	}
}

/* ------------------------------------------------------------ shapes */

int ir_shape_known(const ir_shape *s)
{
	if (s->rank < 0)
		return 0;
	for (int i = 0; i < s->rank; i++)
		if (s->d[i].v < 0)
			return 0;
	return 1;
}

int ir_shape_equal(const ir_shape *a, const ir_shape *b)
{
	if (a->rank != b->rank)
		return 0;
	for (int i = 0; i < a->rank; i++) {
		if (a->d[i].v != b->d[i].v)
			return 0;
		if (a->d[i].v < 0) {
			const char *x = a->d[i].sym, *y = b->d[i].sym;
			if (!x || !y || strcmp(x, y))
				return 0;
		}
	}
	return 1;
}

void ir_shape_from_dims(ir_shape *s, int rank, const int64_t *dims)
{
	memset(s, 0, sizeof *s);
	s->rank = rank;
	for (int i = 0; i < rank; i++)
		s->d[i].v = dims[i];
}

int64_t ir_shape_numel(const ir_shape *s)
{
	if (!ir_shape_known(s))
		return -1;
	int64_t dims[IR_MAX_RANK];
	for (int i = 0; i < s->rank; i++)
		dims[i] = s->d[i].v;
	return ir_numel(s->rank, dims);
}

char *ir_shape_str(const ir_shape *s, char *buf, size_t n)
{
	size_t k = 0;
#define PUT(...)                                                      \
	do {                                                          \
		int w_ = snprintf(buf + k, k < n ? n - k : 0, __VA_ARGS__); \
		if (w_ > 0)                                           \
			k += (size_t)w_;                              \
	} while (0)
	if (s->rank < 0) {
		PUT("[*]");
		return buf;
	}
	PUT("[");
	for (int i = 0; i < s->rank; i++) {
		if (i)
			PUT(",");
		if (s->d[i].v >= 0)
			PUT("%" PRId64, s->d[i].v);
		else
			PUT("%s", s->d[i].sym ? s->d[i].sym : "?");
	}
	PUT("]");
#undef PUT
	return buf;
}

/* --------------------------------------------------------------- map */

struct ir_map {
	size_t cap, n;
	const char **keys;
	void **vals;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

ir_map *ir_map_new(void)
{
	ir_map *m = xmalloc(sizeof *m);
	m->cap = 64;
	m->n = 0;
	m->keys = xcalloc(m->cap, sizeof *m->keys);
	m->vals = xcalloc(m->cap, sizeof *m->vals);
	return m;
}

void ir_map_free(ir_map *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	free(m);
}

static size_t map_slot(const ir_map *m, const char *key)
{
	size_t i = hash_str(key) & (m->cap - 1);
	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *ir_map_get(const ir_map *m, const char *key)
{
	size_t i = map_slot(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

void ir_map_put(ir_map *m, const char *key, void *val)
{
	if (2 * (m->n + 1) > m->cap) {
		ir_map old = *m;
		m->cap *= 2;
		m->n = 0;
		m->keys = xcalloc(m->cap, sizeof *m->keys);
		m->vals = xcalloc(m->cap, sizeof *m->vals);
		for (size_t i = 0; i < old.cap; i++)
			if (old.keys[i])
				ir_map_put(m, old.keys[i], old.vals[i]);
		free(old.keys);
		free(old.vals);
	}
	size_t i = map_slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->n++;
	}
	m->vals[i] = val;
}

/* ------------------------------------------------------------- graph */

ir_graph *ir_graph_new(const char *source)
{
	ir_arena *a = ir_arena_new();
	ir_graph *g = ir_alloc(a, sizeof *g);
	g->arena = a;
	g->source = ir_strdup(a, source ? source : "<input>");
	g->name = "main";
	g->names = ir_map_new();
	return g;
}

void ir_graph_free(ir_graph *g)
{
	if (!g)
		return;
	ir_map_free(g->names);
	free(g->values);
	free(g->nodes);
	free(g->inputs);
	free(g->outputs);
	ir_arena_free(g->arena);
}

ir_value *ir_value_find(ir_graph *g, const char *name)
{
	return name ? ir_map_get(g->names, name) : NULL;
}

static void *grow(void *p, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return p;
	int c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *q = xrealloc(p, (size_t)c * elem);
	*cap = c;
	return q;
}

ir_value *ir_value_new(ir_graph *g, const char *name)
{
	char buf[64];
	if (!name || !*name) {
		snprintf(buf, sizeof buf, "t%d", g->nvalues);
		name = buf;
	}
	const char *nm = name;
	char *tmp = NULL;
	for (int k = 1; ir_map_get(g->names, nm); k++) {
		size_t len = strlen(name) + 24;
		free(tmp);
		tmp = xmalloc(len);
		snprintf(tmp, len, "%s_%d", name, k);
		nm = tmp;
	}
	ir_value *v = ir_alloc(g->arena, sizeof *v);
	v->name = ir_strdup(g->arena, nm);
	free(tmp);
	v->shape.rank = -1;
	g->values = grow(g->values, &g->cap_values, g->nvalues + 1, sizeof *g->values);
	v->id = g->nvalues;
	g->values[g->nvalues++] = v;
	ir_map_put(g->names, v->name, v);
	return v;
}

ir_node *ir_node_new(ir_graph *g, ir_op op, const char *name, int nin,
		     ir_value *const *in, int nout, ir_value *const *out)
{
	ir_node *n = ir_alloc(g->arena, sizeof *n);
	n->op = op;
	n->domain = op < IR_OP_COUNT ? ir_ops[op].domain : "";
	n->opset = (int)ir_graph_opset(g, n->domain);
	if (name && *name) {
		n->name = ir_strdup(g->arena, name);
	} else {
		char buf[64];
		snprintf(buf, sizeof buf, "%s_%d", op < IR_OP_COUNT ? ir_ops[op].name : "node", g->nnodes);
		n->name = ir_strdup(g->arena, buf);
	}
	n->nin = nin;
	n->in = ir_alloc(g->arena, (size_t)(nin ? nin : 1) * sizeof *n->in);
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	n->nout = nout;
	n->out = ir_alloc(g->arena, (size_t)(nout ? nout : 1) * sizeof *n->out);
	for (int i = 0; i < nout; i++) {
		n->out[i] = out[i];
		if (out[i])
			out[i]->def = n;
	}
	g->nodes = grow(g->nodes, &g->cap_nodes, g->nnodes + 1, sizeof *g->nodes);
	n->id = g->nnodes;
	g->nodes[g->nnodes++] = n;
	return n;
}

static ir_value **append_value(ir_value **arr, int n, ir_value *v)
{
	ir_value **p = xrealloc(arr, (size_t)(n + 1) * sizeof *p);
	p[n] = v;
	return p;
}

void ir_graph_add_input(ir_graph *g, ir_value *v)
{
	v->is_input = 1;
	g->inputs = append_value(g->inputs, g->ninputs++, v);
}

void ir_graph_add_output(ir_graph *g, ir_value *v)
{
	v->is_output = 1;
	g->outputs = append_value(g->outputs, g->noutputs++, v);
}

void ir_graph_remove_nodes(ir_graph *g, const char *dead)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++) {
		if (dead[i]) {
			for (int j = 0; j < g->nodes[i]->nout; j++)
				if (g->nodes[i]->out[j] && g->nodes[i]->out[j]->def == g->nodes[i])
					g->nodes[i]->out[j]->def = NULL;
			continue;
		}
		g->nodes[i]->id = k;
		g->nodes[k++] = g->nodes[i];
	}
	g->nnodes = k;
	/* Drop values nobody references any more. */
	char *used = xcalloc((size_t)g->nvalues + 1, 1);
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			if (n->in[j])
				used[n->in[j]->id] = 1;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j])
				used[n->out[j]->id] = 1;
	}
	int m = 0;
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (!used[i] && !v->is_input && !v->is_output) {
			ir_map_put(g->names, v->name, NULL);
			continue;
		}
		v->id = m;
		g->values[m++] = v;
	}
	g->nvalues = m;
	free(used);
}

int64_t ir_graph_opset(const ir_graph *g, const char *domain)
{
	int def = !domain || !*domain || !strcmp(domain, "ai.onnx");
	for (int i = 0; i < g->nopsets; i++) {
		const char *d = g->opsets[i].domain;
		int ddef = !d || !*d || !strcmp(d, "ai.onnx");
		if (def ? ddef : (d && !strcmp(d, domain)))
			return g->opsets[i].version;
	}
	return 0;
}

int ir_error(ir_graph *g, const ir_node *n, const char *fmt, ...)
{
	if (g->nerrors++ == 0) {
		int k;
		if (n)
			k = snprintf(g->err, sizeof g->err, "%s: node '%s' (%s): ", g->source,
				     n->name, n->op < IR_OP_COUNT ? ir_ops[n->op].name : "?");
		else
			k = snprintf(g->err, sizeof g->err, "%s: ", g->source);
		if (k < 0)
			k = 0;
		if ((size_t)k < sizeof g->err) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(g->err + k, sizeof g->err - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

/* -------------------------------------------------------- attributes */

const ir_attr *ir_attr_find(const ir_node *n, const char *name)
{
	for (int i = 0; i < n->nattr; i++)
		if (!strcmp(n->attrs[i].name, name))
			return &n->attrs[i];
	return NULL;
}

int64_t ir_attr_int(const ir_node *n, const char *name, int64_t dflt)
{
	const ir_attr *a = ir_attr_find(n, name);
	if (!a)
		return dflt;
	return a->kind == IR_ATTR_FLOAT ? (int64_t)a->f : a->i;
}

double ir_attr_float(const ir_node *n, const char *name, double dflt)
{
	const ir_attr *a = ir_attr_find(n, name);
	if (!a)
		return dflt;
	return a->kind == IR_ATTR_INT ? (double)a->i : a->f;
}

const char *ir_attr_string(const ir_node *n, const char *name, const char *dflt)
{
	const ir_attr *a = ir_attr_find(n, name);
	return a && a->kind == IR_ATTR_STRING ? a->s : dflt;
}

int ir_attr_ints(const ir_node *n, const char *name, const int64_t **out)
{
	const ir_attr *a = ir_attr_find(n, name);
	if (!a || a->kind != IR_ATTR_INTS)
		return -1;
	*out = a->is;
	return a->n;
}

int ir_attr_floats(const ir_node *n, const char *name, const double **out)
{
	const ir_attr *a = ir_attr_find(n, name);
	if (!a || a->kind != IR_ATTR_FLOATS)
		return -1;
	*out = a->fs;
	return a->n;
}

ir_attr *ir_attr_set(ir_graph *g, ir_node *n, const ir_attr *a)
{
	ir_attr *dst = (ir_attr *)ir_attr_find(n, a->name);
	if (!dst) {
		ir_attr *na = ir_alloc(g->arena, (size_t)(n->nattr + 1) * sizeof *na);
		if (n->nattr)
			memcpy(na, n->attrs, (size_t)n->nattr * sizeof *na);
		n->attrs = na;
		dst = &na[n->nattr++];
	}
	*dst = *a;
	dst->name = ir_strdup(g->arena, a->name);
	if (a->s)
		dst->s = ir_strdup(g->arena, a->s);
	if (a->n && a->fs) {
		dst->fs = ir_alloc(g->arena, (size_t)a->n * sizeof(double));
		memcpy(dst->fs, a->fs, (size_t)a->n * sizeof(double));
	}
	if (a->n && a->is) {
		dst->is = ir_alloc(g->arena, (size_t)a->n * sizeof(int64_t));
		memcpy(dst->is, a->is, (size_t)a->n * sizeof(int64_t));
	}
	if (a->n && a->ss) {
		dst->ss = ir_alloc(g->arena, (size_t)a->n * sizeof(char *));
		for (int i = 0; i < a->n; i++)
			dst->ss[i] = ir_strdup(g->arena, a->ss[i]);
	}
	return dst;
}

/* ------------------------------------------------------------ op table */

const ir_op_info ir_ops[IR_OP_COUNT] = {
#define OP(id, family, minin, maxin, minout, maxout, doc) \
	{#id, #family, minin, maxin, minout, maxout, doc, ""},
#define QOP(id, family, minin, maxin, minout, maxout, doc) \
	{#id, #family, minin, maxin, minout, maxout, doc, "qnnc"},
#include "ops.def"
#undef QOP
#undef OP
};

ir_op ir_op_lookup(const char *domain, const char *name)
{
	if (!domain || !strcmp(domain, "ai.onnx"))
		domain = "";
	for (int i = 0; i < IR_OP_COUNT; i++)
		if (!strcmp(ir_ops[i].name, name) && !strcmp(ir_ops[i].domain, domain))
			return (ir_op)i;
	return IR_OP_COUNT;
}
