/* test_frontend.c - the ONNX frontend (frontend/onnx.c): models built in
 * memory with protobuf-c, loaded with onnx_load_bytes / onnx_load. Every
 * malformed model must fail with a message naming the file and the node or
 * tensor; well-formed ones must arrive in the IR with the right values. */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../frontend/onnx.h"
#include "../../ir/ir.h"
#include "../../passes/passes.h"
#include "onnx.pb-c.h"
#include "test.h"

#define ERRLEN 4096
#define SRC "mem.onnx"

/* ------------------------------------------------------------ memory pool */

/* Every protobuf object a test builds comes from here; pool_reset frees
 * all of it, so a test that returns early from an ASSERT leaks nothing. */
static void **pool;
static size_t npool, cap_pool;

static void pool_reset(void)
{
	for (size_t i = 0; i < npool; i++)
		free(pool[i]);
	free(pool);
	pool = NULL;
	npool = cap_pool = 0;
}

static void *pal(size_t n)
{
	if (npool == cap_pool) {
		cap_pool = cap_pool ? 2 * cap_pool : 256;
		pool = realloc(pool, cap_pool * sizeof *pool);
		if (!pool)
			abort();
	}
	void *p = calloc(1, n ? n : 1);
	if (!p)
		abort();
	return pool[npool++] = p;
}

static void *pdup(const void *src, size_t n)
{
	void *p = pal(n);
	if (n)
		memcpy(p, src, n);
	return p;
}

static char *pstr(const char *s) { return pdup(s, strlen(s) + 1); }

/* ------------------------------------------------------------- temp dirs */

static char tmp_root[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	if (remove(path))
		perror(path);
	return 0; /* keep going */
}

static void tmp_cleanup(void)
{
	if (tmp_root[0] && nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
		perror(tmp_root);
}

/* A fresh folder under the test's temporary root; returns a pool string. */
static const char *tmp_dir(const char *name)
{
	if (!tmp_root[0]) {
		snprintf(tmp_root, sizeof tmp_root, "/tmp/qnnc-test-frontend-XXXXXX");
		if (!mkdtemp(tmp_root)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(tmp_cleanup);
	}
	char *p = pal(strlen(tmp_root) + strlen(name) + 2);
	sprintf(p, "%s/%s", tmp_root, name);
	mkdir(p, 0777);
	return p;
}

static const char *path_in(const char *dir, const char *file)
{
	char *p = pal(strlen(dir) + strlen(file) + 2);
	sprintf(p, "%s/%s", dir, file);
	return p;
}

static int write_bytes(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = len ? fwrite(buf, 1, len, f) : 0;
	return (fclose(f) || w != len) ? -1 : 0;
}

/* ------------------------------------------------------------ model builder */

#define MAXN 16

typedef struct model {
	Onnx__ModelProto m;
	Onnx__GraphProto g;
	Onnx__OperatorSetIdProto *opsets[4];
	Onnx__NodeProto *nodes[MAXN];
	Onnx__TensorProto *inits[MAXN];
	Onnx__ValueInfoProto *ins[MAXN], *outs[MAXN], *vis[MAXN];
} model;

static void model_opset(model *m, const char *domain, int64_t version)
{
	Onnx__OperatorSetIdProto init = ONNX__OPERATOR_SET_ID_PROTO__INIT, *o = pal(sizeof *o);
	*o = init;
	o->domain = pstr(domain);
	o->has_version = 1;
	o->version = version;
	m->opsets[m->m.n_opset_import++] = o;
}

/* An empty model; opset 0 imports no default-domain opset. */
static model *model_new(int64_t ir_version, int64_t opset)
{
	Onnx__ModelProto mi = ONNX__MODEL_PROTO__INIT;
	Onnx__GraphProto gi = ONNX__GRAPH_PROTO__INIT;
	model *m = pal(sizeof *m);
	m->m = mi;
	m->g = gi;
	m->m.has_ir_version = 1;
	m->m.ir_version = ir_version;
	m->m.producer_name = pstr("test_frontend");
	m->m.graph = &m->g;
	m->m.opset_import = m->opsets;
	m->g.name = pstr("g");
	m->g.node = m->nodes;
	m->g.initializer = m->inits;
	m->g.input = m->ins;
	m->g.output = m->outs;
	m->g.value_info = m->vis;
	if (opset)
		model_opset(m, "", opset);
	return m;
}

/* "a,b,,c" -> {"a", "b", "", "c"}; "" -> nothing. */
static char **split(const char *list, size_t *n)
{
	*n = 0;
	if (!*list)
		return NULL;
	char **v = pal(MAXN * sizeof *v);
	const char *s = list;
	for (;;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		char *w = pal(len + 1);
		memcpy(w, s, len);
		v[(*n)++] = w;
		if (!e)
			break;
		s = e + 1;
	}
	return v;
}

/* Appends a node; name or op may be NULL (field absent). */
static Onnx__NodeProto *node(model *m, const char *op, const char *name, const char *ins, const char *outs)
{
	Onnx__NodeProto init = ONNX__NODE_PROTO__INIT, *n = pal(sizeof *n);
	*n = init;
	n->op_type = op ? pstr(op) : NULL;
	n->name = name ? pstr(name) : NULL;
	n->input = split(ins, &n->n_input);
	n->output = split(outs, &n->n_output);
	n->attribute = pal(MAXN * sizeof *n->attribute);
	m->nodes[m->g.n_node++] = n;
	return n;
}

/* A ValueInfo; elem < 0: no type at all; rank < 0: no shape. */
static Onnx__ValueInfoProto *vinfo(const char *name, int elem, int rank, const int64_t *dims)
{
	Onnx__ValueInfoProto vi = ONNX__VALUE_INFO_PROTO__INIT, *v = pal(sizeof *v);
	*v = vi;
	v->name = pstr(name);
	if (elem < 0)
		return v;
	Onnx__TypeProto ti = ONNX__TYPE_PROTO__INIT, *tp = pal(sizeof *tp);
	Onnx__TypeProto__Tensor tti = ONNX__TYPE_PROTO__TENSOR__INIT, *tt = pal(sizeof *tt);
	*tp = ti;
	*tt = tti;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = elem;
	if (rank >= 0) {
		Onnx__TensorShapeProto si = ONNX__TENSOR_SHAPE_PROTO__INIT, *sh = pal(sizeof *sh);
		*sh = si;
		sh->n_dim = (size_t)rank;
		sh->dim = pal((size_t)(rank + 1) * sizeof *sh->dim);
		for (int i = 0; i < rank; i++) {
			Onnx__TensorShapeProto__Dimension di = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
			Onnx__TensorShapeProto__Dimension *d = pal(sizeof *d);
			*d = di;
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i];
			sh->dim[i] = d;
		}
		tt->shape = sh;
	}
	v->type = tp;
	return v;
}

static Onnx__ValueInfoProto *input(model *m, const char *name, int elem, int rank, const int64_t *dims)
{
	return m->ins[m->g.n_input++] = vinfo(name, elem, rank, dims);
}

static Onnx__ValueInfoProto *output(model *m, const char *name, int elem)
{
	return m->outs[m->g.n_output++] = vinfo(name, elem, -1, NULL);
}

static Onnx__TensorProto *tensor(const char *name, int dtype, int rank, const int64_t *dims)
{
	Onnx__TensorProto ti = ONNX__TENSOR_PROTO__INIT, *t = pal(sizeof *t);
	*t = ti;
	t->name = name ? pstr(name) : NULL;
	t->has_data_type = 1;
	t->data_type = dtype;
	t->n_dims = (size_t)rank;
	t->dims = pdup(dims, (size_t)rank * sizeof *dims);
	return t;
}

static Onnx__TensorProto *initializer(model *m, const char *name, int dtype, int rank, const int64_t *dims)
{
	return m->inits[m->g.n_initializer++] = tensor(name, dtype, rank, dims);
}

static void set_raw(Onnx__TensorProto *t, const void *data, size_t len)
{
	t->has_raw_data = 1;
	t->raw_data.len = len;
	t->raw_data.data = pdup(data, len);
}

static void set_floats(Onnx__TensorProto *t, size_t n, const float *v)
{
	t->n_float_data = n;
	t->float_data = pdup(v, n * sizeof *v);
}

static void add_external(Onnx__TensorProto *t, const char *key, const char *value)
{
	Onnx__StringStringEntryProto ei = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *e = pal(sizeof *e);
	*e = ei;
	e->key = pstr(key);
	e->value = pstr(value);
	if (!t->external_data)
		t->external_data = pal(8 * sizeof *t->external_data);
	t->external_data[t->n_external_data++] = e;
	t->has_data_location = 1;
	t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
}

static Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name, Onnx__AttributeProto__AttributeType type)
{
	Onnx__AttributeProto ai = ONNX__ATTRIBUTE_PROTO__INIT, *a = pal(sizeof *a);
	*a = ai;
	a->name = pstr(name);
	if (type) {
		a->has_type = 1;
		a->type = type;
	}
	n->attribute[n->n_attribute++] = a;
	return a;
}

static uint8_t *pack(const model *m, size_t *len)
{
	*len = onnx__model_proto__get_packed_size(&m->m);
	uint8_t *buf = pal(*len);
	onnx__model_proto__pack(&m->m, buf);
	return buf;
}

static ir_graph *load(const model *m, char *err)
{
	size_t len;
	uint8_t *buf = pack(m, &len);
	err[0] = 0;
	return onnx_load_bytes(buf, len, SRC, NULL, err, ERRLEN);
}

/* Write the model as dir/file and load it from there. */
static ir_graph *load_file(const model *m, const char *dir, const char *file, char *err)
{
	size_t len;
	uint8_t *buf = pack(m, &len);
	const char *path = path_in(dir, file);
	if (write_bytes(path, buf, len))
		return NULL;
	err[0] = 0;
	return onnx_load(path, err, ERRLEN);
}

static const int64_t d23[] = {2, 3};
static const float w23[] = {1, 2, 3, 4, 5, 6};

/* input x f32[2,3]; initializer w f32[2,3]; y = Add(x, w) @add; output y. */
static model *simple_model(void)
{
	model *m = model_new(8, 13);
	input(m, "x", 1, 2, d23);
	set_raw(initializer(m, "w", 1, 2, d23), w23, sizeof w23);
	node(m, "Add", "add", "x,w", "y");
	output(m, "y", 1);
	return m;
}

/* Load must fail; the message starts with the source and contains each
 * needle. */
#define EXPECT_FAIL(m, ...)                                                         \
	do {                                                                        \
		char err_[ERRLEN];                                                  \
		ir_graph *g_ = load((m), err_);                                     \
		ir_graph_free(g_);                                                  \
		ASSERT(g_ == NULL);                                                 \
		ASSERT(strncmp(err_, SRC ": ", strlen(SRC) + 2) == 0);              \
		const char *needles_[] = {__VA_ARGS__};                             \
		for (size_t i_ = 0; i_ < sizeof needles_ / sizeof *needles_; i_++)  \
			ASSERT_STR_CONTAINS(err_, needles_[i_]);                    \
	} while (0)

static ir_node *find_node(ir_graph *g, const char *name)
{
	for (int i = 0; i < g->nnodes; i++)
		if (!strcmp(g->nodes[i]->name, name))
			return g->nodes[i];
	return NULL;
}

/* ------------------------------------------------------ malformed files */

static void test_simple_loads(void)
{
	pool_reset();
	char err[ERRLEN];
	ir_graph *g = load(simple_model(), err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	int ok = g->ninputs == 1 && g->noutputs == 1 && g->nnodes == 1 && g->nodes[0]->op == IR_OP_Add &&
		 !strcmp(g->nodes[0]->name, "add") && g->inputs[0]->dtype == IR_F32 &&
		 g->inputs[0]->shape.rank == 2 && g->inputs[0]->shape.d[1].v == 3 && g->ir_version == 8 &&
		 ir_graph_opset(g, "") == 13 && g->nodes[0]->opset == 13 && !strcmp(g->name, "g") &&
		 g->nodes[0]->in[1]->konst && ir_tensor_get_f64(g->nodes[0]->in[1]->konst, 5) == 6 &&
		 ir_verify(g) == 0;
	ir_graph_free(g);
	ASSERT(ok);
}

/* Every strict prefix of a valid model: a clean error, never a crash. */
static void test_truncated(void)
{
	pool_reset();
	model *m = simple_model();
	node(m, "Relu", "relu", "y", "z");
	attr(m->nodes[0], "unused", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)->has_i = 1;
	output(m, "z", 1);
	size_t len;
	uint8_t *full = pack(m, &len);
	ASSERT(len > 100);
	for (size_t cut = 0; cut < len; cut++) {
		/* a heap copy of exactly cut bytes, so ASan sees over-reads */
		uint8_t *buf = malloc(cut ? cut : 1);
		memcpy(buf, full, cut);
		char err[ERRLEN] = "";
		ir_graph *g = onnx_load_bytes(buf, cut, SRC, NULL, err, sizeof err);
		free(buf);
		if (g)
			fprintf(stderr, "prefix of %zu/%zu bytes loaded\n", cut, len);
		ir_graph_free(g);
		ASSERT(!g);
		ASSERT(strncmp(err, SRC ": ", strlen(SRC) + 2) == 0);
		ASSERT(strlen(err) > strlen(SRC) + 10);
	}
	/* the cut that drops only opset_import parses but has no opset */
	char err[ERRLEN];
	m->m.n_opset_import = 0;
	ir_graph *g = load(m, err);
	ir_graph_free(g);
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, "imports no ai.onnx opset");
}

static void test_empty_and_random(void)
{
	pool_reset();
	const char *dir = tmp_dir("empty");
	const char *path = path_in(dir, "empty.onnx");
	ASSERT(write_bytes(path, "", 0) == 0);
	char err[ERRLEN];
	ir_graph *g = onnx_load(path, err, sizeof err);
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, path);
	ASSERT_STR_CONTAINS(err, "empty file");

	g = onnx_load(path_in(dir, "missing.onnx"), err, sizeof err);
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, "missing.onnx: cannot read");

	g = onnx_load(dir, err, sizeof err); /* a folder, not a file */
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, dir);

	/* parses as a protobuf (ir_version = 7) but has no graph */
	static const uint8_t nograph[] = {0x08, 0x07};
	g = onnx_load_bytes(nograph, sizeof nograph, SRC, NULL, err, sizeof err);
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, SRC ": the model has no graph");

	uint32_t seed = 12345;
	for (int k = 0; k < 300; k++) {
		uint8_t buf[512];
		seed = seed * 1664525u + 1013904223u;
		size_t n = 1 + (seed >> 8) % sizeof buf;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1664525u + 1013904223u;
			buf[i] = (uint8_t)(seed >> 24);
		}
		uint8_t *heap = malloc(n);
		memcpy(heap, buf, n);
		err[0] = 0;
		g = onnx_load_bytes(heap, n, SRC, NULL, err, sizeof err);
		free(heap);
		ir_graph_free(g);
		ASSERT(!g);
		ASSERT(strncmp(err, SRC ": ", strlen(SRC) + 2) == 0);
	}
	/* a text file */
	path = path_in(dir, "text.onnx");
	ASSERT(write_bytes(path, "hello, world\n", 13) == 0);
	g = onnx_load(path, err, sizeof err);
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, path);
}

/* ------------------------------------------------------- graph structure */

static void test_undefined_input(void)
{
	pool_reset();
	model *m = simple_model();
	m->nodes[0]->input[1] = pstr("nowhere");
	EXPECT_FAIL(m, "node 'add' (Add)", "input 'nowhere' is not defined");

	/* an unnamed node is named after its op and position */
	pool_reset();
	m = simple_model();
	node(m, "Relu", NULL, "ghost", "z");
	EXPECT_FAIL(m, "node 'Relu_1' (Relu)", "'ghost'");

	/* a node without op_type must not print a NULL string */
	pool_reset();
	m = simple_model();
	node(m, NULL, "anon", "ghost", "z");
	EXPECT_FAIL(m, "node 'anon'", "'ghost'");
	char err[ERRLEN];
	ir_graph *g = load(m, err);
	ASSERT(!g);
	ASSERT(!strstr(err, "(null)"));
}

static void test_duplicate_output(void)
{
	pool_reset();
	model *m = simple_model();
	node(m, "Relu", "relu", "x", "y");
	EXPECT_FAIL(m, "node 'relu' (Relu)", "output 'y' is already defined");

	/* a node output may not redefine a graph input or initializer */
	pool_reset();
	m = simple_model();
	node(m, "Relu", "relu2", "y", "w");
	EXPECT_FAIL(m, "node 'relu2' (Relu)", "output 'w' is already defined");
	pool_reset();
	m = simple_model();
	node(m, "Relu", "relu3", "y", "x");
	EXPECT_FAIL(m, "node 'relu3' (Relu)", "output 'x' is already defined");

	/* two initializers of one name, a graph input listed twice */
	pool_reset();
	m = simple_model();
	set_raw(initializer(m, "w", 1, 2, d23), w23, sizeof w23);
	EXPECT_FAIL(m, "initializer 'w' is defined twice");
	pool_reset();
	m = simple_model();
	input(m, "x", 1, 2, d23);
	EXPECT_FAIL(m, "graph input 'x' is listed twice");
	pool_reset();
	m = simple_model();
	output(m, "y", 1);
	EXPECT_FAIL(m, "graph output 'y' is listed twice");
}

static void test_cycle(void)
{
	pool_reset();
	model *m = model_new(8, 13);
	input(m, "x", 1, 1, d23);
	node(m, "Add", "n1", "x,b", "a");
	node(m, "Relu", "n2", "a", "b");
	output(m, "a", 1);
	EXPECT_FAIL(m, "node 'n1' (Add)", "cycle");

	/* a self loop */
	pool_reset();
	m = model_new(8, 13);
	input(m, "x", 1, 1, d23);
	node(m, "Add", "self", "x,a", "a");
	output(m, "a", 1);
	EXPECT_FAIL(m, "node 'self' (Add)", "cycle");

	/* a node downstream of the cycle comes first in the file; the
	 * message must name a node that is on the cycle */
	pool_reset();
	m = model_new(8, 13);
	input(m, "x", 1, 1, d23);
	node(m, "Relu", "after", "b", "c");
	node(m, "Add", "loop1", "x,b", "a");
	node(m, "Relu", "loop2", "a", "b");
	output(m, "c", 1);
	EXPECT_FAIL(m, "node 'loop1' (Add)", "cycle");
}

static void test_graph_outputs_and_types(void)
{
	pool_reset();
	model *m = simple_model();
	output(m, "nothing", 1);
	EXPECT_FAIL(m, "graph output 'nothing' is not produced by any node");

	pool_reset();
	m = simple_model();
	m->g.n_output = 0;
	EXPECT_FAIL(m, "the graph has no outputs");

	/* a sequence-typed graph input */
	pool_reset();
	m = simple_model();
	Onnx__TypeProto ti = ONNX__TYPE_PROTO__INIT, *tp = pal(sizeof *tp);
	Onnx__TypeProto__Sequence si = ONNX__TYPE_PROTO__SEQUENCE__INIT, *sq = pal(sizeof *sq);
	*tp = ti;
	*sq = si;
	sq->elem_type = vinfo("e", 1, -1, NULL)->type;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
	tp->sequence_type = sq;
	m->ins[0]->type = tp;
	EXPECT_FAIL(m, "input 'x' has sequence type", "only tensors");

	/* ... and a sequence-typed graph output */
	pool_reset();
	m = simple_model();
	tp = pal(sizeof *tp);
	sq = pal(sizeof *sq);
	*tp = ti;
	*sq = si;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
	tp->sequence_type = sq;
	m->outs[0]->type = tp;
	EXPECT_FAIL(m, "output 'y' has sequence type");

	/* ... and sequence-typed value_info of an intermediate value */
	pool_reset();
	m = simple_model();
	node(m, "Relu", "relu", "y", "z");
	m->outs[0]->name = pstr("z");
	m->vis[m->g.n_value_info++] = vinfo("y", 1, -1, NULL);
	m->vis[0]->type->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
	m->vis[0]->type->sequence_type = pdup(&si, sizeof si);
	EXPECT_FAIL(m, "value 'y' has sequence type");

	/* unsupported element type and negative dim of a declared input */
	pool_reset();
	m = simple_model();
	m->ins[0]->type->tensor_type->elem_type = 10;
	EXPECT_FAIL(m, "input 'x' has unsupported element type float16");
	pool_reset();
	m = simple_model();
	m->ins[0]->type->tensor_type->shape->dim[0]->dim_value = -1;
	EXPECT_FAIL(m, "input 'x' has negative dimension -1");
	pool_reset();
	m = simple_model();
	int64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	m->ins[0] = vinfo("x", 1, 9, d9);
	EXPECT_FAIL(m, "input 'x' has rank 9");
}

/* ------------------------------------------------------------- tensors */

static void test_tensor_data_errors(void)
{
	pool_reset();
	model *m = simple_model();
	m->inits[0]->raw_data.len = 20;
	EXPECT_FAIL(m, "initializer 'w'", "raw_data has 20 bytes, shape needs 24");

	pool_reset();
	m = simple_model();
	m->inits[0]->has_raw_data = 0;
	set_floats(m->inits[0], 5, w23);
	EXPECT_FAIL(m, "initializer 'w'", "float_data has 5 elements, shape needs 6");

	pool_reset();
	m = simple_model();
	m->inits[0]->has_raw_data = 0;
	EXPECT_FAIL(m, "initializer 'w'", "float_data has 0 elements, shape needs 6");

	pool_reset();
	m = simple_model();
	m->inits[0]->dims[0] = -2;
	EXPECT_FAIL(m, "initializer 'w'", "negative dimension -2");

	pool_reset();
	m = simple_model();
	m->inits[0]->dims[0] = m->inits[0]->dims[1] = (int64_t)1 << 40;
	EXPECT_FAIL(m, "initializer 'w'", "overflow");

	pool_reset();
	m = simple_model();
	int64_t big[3] = {(int64_t)1 << 40, (int64_t)1 << 40, (int64_t)1 << 40};
	m->inits[0]->dims = big;
	m->inits[0]->n_dims = 3;
	EXPECT_FAIL(m, "initializer 'w'", "overflow");

	pool_reset();
	m = simple_model();
	int64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 6};
	m->inits[0]->dims = d9;
	m->inits[0]->n_dims = 9;
	EXPECT_FAIL(m, "initializer 'w'", "rank 9");

	/* 2^32 floats (16 GiB) declared with 24 bytes of data: refused before
	 * anything that size is allocated */
	pool_reset();
	m = simple_model();
	m->inits[0]->dims[0] = m->inits[0]->dims[1] = (int64_t)1 << 16;
	EXPECT_FAIL(m, "initializer 'w'", "raw_data has 24 bytes");
	pool_reset();
	m = simple_model();
	m->inits[0]->dims[0] = m->inits[0]->dims[1] = (int64_t)1 << 16;
	m->inits[0]->has_raw_data = 0;
	EXPECT_FAIL(m, "initializer 'w'", "float_data has 0 elements");

	pool_reset();
	m = simple_model();
	m->inits[0]->data_type = 10; /* float16 */
	EXPECT_FAIL(m, "initializer 'w'", "unsupported tensor data type float16 (10)");
	pool_reset();
	m = simple_model();
	m->inits[0]->data_type = 8; /* string */
	EXPECT_FAIL(m, "initializer 'w'", "unsupported tensor data type string (8)");
	pool_reset();
	m = simple_model();
	m->inits[0]->has_data_type = 0;
	EXPECT_FAIL(m, "initializer 'w'", "unsupported tensor data type undefined");
	pool_reset();
	m = simple_model();
	m->inits[0]->data_type = 1000;
	EXPECT_FAIL(m, "initializer 'w'", "unsupported tensor data type unknown (1000)");

	pool_reset();
	m = simple_model();
	m->inits[0]->name = NULL;
	EXPECT_FAIL(m, "initializer 0 has no name");

	/* old-IR initializer that is also an input, with a different type */
	pool_reset();
	m = simple_model();
	m->m.ir_version = 3;
	int64_t d32[2] = {3, 2};
	input(m, "w", 1, 2, d32);
	EXPECT_FAIL(m, "input 'w' declares a type that differs from its initializer");
}

/* One model per dtype, data in the dtype's typed field (not raw_data). */
static void test_typed_fields(void)
{
	static const int64_t d4[] = {4};
	static const struct {
		ir_dtype dt;
		int64_t v[4];
	} ints[] = {
		{IR_I8, {-128, 127, 0, -1}},
		{IR_I16, {-32768, 32767, 0, -1}},
		{IR_I32, {INT32_MIN, INT32_MAX, 0, -1}},
		{IR_U8, {0, 255, 1, 128}},
		{IR_U16, {0, 65535, 1, 32768}},
		{IR_BOOL, {0, 1, 1, 0}},
	};
	char err[ERRLEN];
	for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
		pool_reset();
		model *m = model_new(8, 13);
		Onnx__TensorProto *t = initializer(m, "c", (int)ints[k].dt, 1, d4);
		t->n_int32_data = 4;
		t->int32_data = pal(4 * sizeof(int32_t));
		for (int i = 0; i < 4; i++)
			t->int32_data[i] = (int32_t)ints[k].v[i];
		if (ints[k].dt == IR_BOOL)
			t->int32_data[1] = 7; /* any nonzero is true */
		output(m, "c", (int)ints[k].dt);
		ir_graph *g = load(m, err);
		if (!g)
			fprintf(stderr, "%s: %s\n", ir_dtype_name(ints[k].dt), err);
		ASSERT(g);
		ir_value *v = ir_value_find(g, "c");
		int ok = v && v->konst && v->konst->dtype == ints[k].dt && v->konst->numel == 4 &&
			 v->dtype == ints[k].dt && v->is_output && g->noutputs == 1 && g->ninputs == 0;
		for (int i = 0; ok && i < 4; i++)
			ok = ir_tensor_get_i64(v->konst, i) == ints[k].v[i];
		if (!ok)
			fprintf(stderr, "typed int32_data for %s wrong\n", ir_dtype_name(ints[k].dt));
		ir_graph_free(g);
		ASSERT(ok);
	}

	pool_reset();
	model *m = model_new(8, 13);
	static const float fv[] = {1.5f, -0.0f, 3.4028235e38f, 1e-45f};
	set_floats(initializer(m, "f", IR_F32, 1, d4), 4, fv);
	Onnx__TensorProto *t = initializer(m, "d", IR_F64, 1, d4);
	static const double dv[] = {0.1, -1e300, 4.9e-324, 2.0};
	t->n_double_data = 4;
	t->double_data = pdup(dv, sizeof dv);
	t = initializer(m, "i", IR_I64, 1, d4);
	static const int64_t iv[] = {INT64_MIN, INT64_MAX, 0, -5};
	t->n_int64_data = 4;
	t->int64_data = pdup(iv, sizeof iv);
	t = initializer(m, "u32", IR_U32, 1, d4);
	static const uint64_t uv32[] = {0, 4294967295u, 1, 2147483648u};
	t->n_uint64_data = 4;
	t->uint64_data = pdup(uv32, sizeof uv32);
	t = initializer(m, "u64", IR_U64, 1, d4);
	static const uint64_t uv64[] = {0, UINT64_MAX, 1, (uint64_t)1 << 63};
	t->n_uint64_data = 4;
	t->uint64_data = pdup(uv64, sizeof uv64);
	/* raw bool data is normalised to 0/1 as well */
	static const uint8_t bv[] = {0, 2, 255, 1};
	set_raw(initializer(m, "b", IR_BOOL, 1, d4), bv, 4);
	output(m, "f", -1);
	output(m, "d", -1);
	output(m, "i", -1);
	output(m, "u32", -1);
	output(m, "u64", -1);
	output(m, "b", -1);
	ir_graph *g = load(m, err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	const ir_tensor *f = ir_value_find(g, "f")->konst, *d = ir_value_find(g, "d")->konst,
			*i = ir_value_find(g, "i")->konst, *u = ir_value_find(g, "u32")->konst,
			*u6 = ir_value_find(g, "u64")->konst, *b = ir_value_find(g, "b")->konst;
	int ok = f && d && i && u && u6 && b && f->dtype == IR_F32 && d->dtype == IR_F64 &&
		 i->dtype == IR_I64 && u->dtype == IR_U32 && u6->dtype == IR_U64 && b->dtype == IR_BOOL;
	ok = ok && !memcmp(f->data, fv, sizeof fv) && !memcmp(d->data, dv, sizeof dv) &&
	     !memcmp(i->data, iv, sizeof iv) && !memcmp(u6->data, uv64, sizeof uv64);
	for (int k = 0; ok && k < 4; k++)
		ok = ((const uint32_t *)u->data)[k] == (uint32_t)uv32[k] &&
		     ((const uint8_t *)b->data)[k] == (bv[k] != 0);
	ir_graph_free(g);
	ASSERT(ok);

	/* a typed-field count mismatch names the field of the dtype */
	pool_reset();
	m = model_new(8, 13);
	t = initializer(m, "q", IR_I64, 1, d4);
	t->n_int64_data = 3;
	t->int64_data = pdup(iv, 3 * sizeof *iv);
	output(m, "q", -1);
	EXPECT_FAIL(m, "initializer 'q'", "int64_data has 3 elements, shape needs 4");
	pool_reset();
	m = model_new(8, 13);
	t = initializer(m, "q", IR_U8, 1, d4);
	output(m, "q", -1);
	EXPECT_FAIL(m, "initializer 'q'", "int32_data has 0 elements, shape needs 4");
	pool_reset();
	m = model_new(8, 13);
	t = initializer(m, "q", IR_U32, 1, d4);
	output(m, "q", -1);
	EXPECT_FAIL(m, "initializer 'q'", "uint64_data has 0 elements");
	pool_reset();
	m = model_new(8, 13);
	t = initializer(m, "q", IR_F64, 1, d4);
	output(m, "q", -1);
	EXPECT_FAIL(m, "initializer 'q'", "double_data has 0 elements");
}

/* Write a length-delimited field header in front of the len bytes that
 * start at buf + *start (the buffer is filled from its end). */
static void prepend_field(uint8_t *buf, size_t *start, unsigned field, size_t len)
{
	uint8_t hdr[16];
	size_t n = 0;
	hdr[n++] = (uint8_t)(field << 3 | 2);
	do {
		hdr[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
		len >>= 7;
	} while (len);
	*start -= n;
	memcpy(buf + *start, hdr, n);
}

/* Graphs in attributes in nodes in graphs, 100000 deep (1.2 MB): refused
 * before protobuf-c's recursive unpack can overflow the stack. */
static void test_deep_nesting(void)
{
	pool_reset();
	size_t cap = 4 << 20, start = cap;
	uint8_t *buf = pal(cap);
	for (int level = 0; level < 100000; level++) {
		prepend_field(buf, &start, 6, cap - start); /* AttributeProto.g */
		prepend_field(buf, &start, 5, cap - start); /* NodeProto.attribute */
		prepend_field(buf, &start, 1, cap - start); /* GraphProto.node */
	}
	prepend_field(buf, &start, 7, cap - start); /* ModelProto.graph */
	char err[ERRLEN];
	ir_graph *g = onnx_load_bytes(buf + start, cap - start, SRC, NULL, err, sizeof err);
	ASSERT(!g);
	ASSERT_STR_CONTAINS(err, SRC ": ");
	ASSERT_STR_CONTAINS(err, "levels deep");

	/* 20 nested subgraphs (about 60 message levels) are fine */
	model *m = model_new(8, 13);
	input(m, "x", 1, 2, d23);
	Onnx__NodeProto *n = node(m, "Identity", "id", "x", "y");
	output(m, "y", 1);
	for (int level = 0; level < 20; level++) {
		Onnx__GraphProto gi = ONNX__GRAPH_PROTO__INIT, *sub = pal(sizeof *sub);
		*sub = gi;
		attr(n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = sub;
		Onnx__NodeProto ni = ONNX__NODE_PROTO__INIT;
		n = pdup(&ni, sizeof ni);
		n->op_type = pstr("Identity");
		n->attribute = pal(sizeof *n->attribute);
		sub->n_node = 1;
		sub->node = pal(sizeof *sub->node);
		sub->node[0] = n;
	}
	g = load(m, err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	const ir_attr *a = ir_attr_find(g->nodes[0], "body");
	int ok = a && a->kind == IR_ATTR_OTHER && !strcmp(a->other, "graph");
	ir_graph_free(g);
	ASSERT(ok);
}

/* ---------------------------------------------------------------- ops */

static void test_unknown_ops(void)
{
	pool_reset();
	model *m = simple_model();
	m->nodes[0]->op_type = pstr("FrobnicateV2");
	EXPECT_FAIL(m, "node 'add'", "'FrobnicateV2'", "ai.onnx");

	/* explicit "ai.onnx" domain is the default domain */
	pool_reset();
	m = simple_model();
	m->nodes[0]->op_type = pstr("FrobnicateV2");
	m->nodes[0]->domain = pstr("ai.onnx");
	EXPECT_FAIL(m, "node 'add'", "'FrobnicateV2'", "ai.onnx");

	pool_reset();
	m = simple_model();
	m->nodes[0]->domain = pstr("com.example");
	model_opset(m, "com.example", 1);
	EXPECT_FAIL(m, "node 'add'", "'Add'", "com.example");

	/* a known op in domain "ai.onnx" loads */
	pool_reset();
	m = simple_model();
	m->nodes[0]->domain = pstr("ai.onnx");
	char err[ERRLEN];
	ir_graph *g = load(m, err);
	int ok = g && g->nodes[0]->op == IR_OP_Add && !strcmp(g->nodes[0]->domain, "");
	ir_graph_free(g);
	ASSERT(ok);
}

static void test_opsets(void)
{
	pool_reset();
	model *m = simple_model();
	m->opsets[0]->version = 3;
	EXPECT_FAIL(m, "ai.onnx opset 3 is not supported");
	m->opsets[0]->version = 99;
	EXPECT_FAIL(m, "ai.onnx opset 99 is not supported");
	m->opsets[0]->domain = pstr("ai.onnx");
	EXPECT_FAIL(m, "ai.onnx opset 99 is not supported");
	m->opsets[0]->domain = pstr("com.example");
	EXPECT_FAIL(m, "imports no ai.onnx opset");

	/* the range ends load */
	char err[ERRLEN];
	for (int64_t v = 7; v <= 25; v += 18) {
		pool_reset();
		m = simple_model();
		m->opsets[0]->version = v;
		ir_graph *g = load(m, err);
		int ok = g && g->nodes[0]->opset == v;
		ir_graph_free(g);
		ASSERT(ok);
	}
}

static void test_attributes(void)
{
	pool_reset();
	model *m = model_new(8, 13);
	input(m, "x", 1, 2, d23);
	Onnx__NodeProto *n = node(m, "Identity", "id", "x", "y");
	output(m, "y", 1);
	Onnx__AttributeProto *a = attr(n, "f", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
	a->has_f = 1;
	a->f = 0.25f;
	a = attr(n, "i", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	a->has_i = 1;
	a->i = -((int64_t)1 << 40);
	a = attr(n, "s", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
	a->has_s = 1;
	a->s.data = (uint8_t *)pstr("NOTSET");
	a->s.len = 6;
	a = attr(n, "t", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
	a->t = tensor("tv", IR_F32, 2, d23);
	set_floats(a->t, 6, w23);
	a = attr(n, "fs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
	static const float fs[] = {0.5f, -2.0f, 3.0f};
	a->n_floats = 3;
	a->floats = pdup(fs, sizeof fs);
	a = attr(n, "is", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
	static const int64_t is[] = {1, -1, INT64_MAX, 0};
	a->n_ints = 4;
	a->ints = pdup(is, sizeof is);
	a = attr(n, "ss", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
	a->n_strings = 2;
	a->strings = pal(2 * sizeof *a->strings);
	a->strings[0].data = (uint8_t *)pstr("ab");
	a->strings[0].len = 2;
	a->strings[1].data = (uint8_t *)pstr("");
	a->strings[1].len = 0;
	a = attr(n, "empty_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
	a = attr(n, "empty_s", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
	/* IR version 1 style: no type field, the kind comes from the value */
	a = attr(n, "untyped", 0);
	a->has_i = 1;
	a->i = 42;
	a = attr(n, "g", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
	Onnx__GraphProto gi = ONNX__GRAPH_PROTO__INIT;
	a->g = pdup(&gi, sizeof gi);

	char err[ERRLEN];
	ir_graph *g = load(m, err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	ir_node *nd = g->nodes[0];
	const ir_attr *af = ir_attr_find(nd, "f"), *ai = ir_attr_find(nd, "i"), *as = ir_attr_find(nd, "s"),
		      *at = ir_attr_find(nd, "t"), *afs = ir_attr_find(nd, "fs"), *ais = ir_attr_find(nd, "is"),
		      *ass = ir_attr_find(nd, "ss"), *ae = ir_attr_find(nd, "empty_ints"),
		      *au = ir_attr_find(nd, "untyped"), *ag = ir_attr_find(nd, "g"),
		      *aes = ir_attr_find(nd, "empty_s");
	int ok = nd->nattr == 11 && aes && aes->kind == IR_ATTR_STRING && !strcmp(aes->s, "") && af && ai && as && at && afs && ais && ass && ae && au && ag;
	ok = ok && af->kind == IR_ATTR_FLOAT && af->f == 0.25 && ai->kind == IR_ATTR_INT &&
	     ai->i == -((int64_t)1 << 40) && as->kind == IR_ATTR_STRING && !strcmp(as->s, "NOTSET");
	ok = ok && at->kind == IR_ATTR_TENSOR && at->t && at->t->dtype == IR_F32 && at->t->rank == 2 &&
	     at->t->dims[0] == 2 && at->t->dims[1] == 3 && !memcmp(at->t->data, w23, sizeof w23);
	ok = ok && afs->kind == IR_ATTR_FLOATS && afs->n == 3 && afs->fs[0] == 0.5 && afs->fs[1] == -2.0 &&
	     afs->fs[2] == 3.0;
	ok = ok && ais->kind == IR_ATTR_INTS && ais->n == 4 && !memcmp(ais->is, is, sizeof is);
	ok = ok && ass->kind == IR_ATTR_STRINGS && ass->n == 2 && !strcmp(ass->ss[0], "ab") &&
	     !strcmp(ass->ss[1], "");
	ok = ok && ae->kind == IR_ATTR_INTS && ae->n == 0 && au->kind == IR_ATTR_INT && au->i == 42 &&
	     ag->kind == IR_ATTR_OTHER && !strcmp(ag->other, "graph");
	ok = ok && ir_attr_int(nd, "i", 0) == -((int64_t)1 << 40) && ir_attr_float(nd, "f", 0) == 0.25;
	ir_graph_free(g);
	ASSERT(ok);

	/* a bad tensor inside an attribute names the node and the attribute */
	n->attribute[3]->t->n_float_data = 2;
	EXPECT_FAIL(m, "node 'id' (Identity): attribute 't'", "float_data has 2 elements");
	n->attribute[3]->t = NULL;
	EXPECT_FAIL(m, "node 'id' (Identity): attribute 't'", "without a tensor");

	/* an attribute given twice, one with neither type nor value */
	pool_reset();
	m = model_new(8, 13);
	input(m, "x", 1, 2, d23);
	n = node(m, "Identity", "id", "x", "y");
	output(m, "y", 1);
	attr(n, "k", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)->has_i = 1;
	attr(n, "k", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)->has_i = 1;
	EXPECT_FAIL(m, "node 'id' (Identity)", "attribute 'k' is given twice");
	n->n_attribute = 0;
	attr(n, "nothing", 0);
	EXPECT_FAIL(m, "node 'id' (Identity): attribute 'nothing' has no type and no value");
}

static void test_constant_node(void)
{
	pool_reset();
	model *m = model_new(8, 13);
	Onnx__NodeProto *n = node(m, "Constant", "k", "", "c");
	Onnx__AttributeProto *a = attr(n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
	static const int64_t iv[] = {3, -4};
	static const int64_t d2[] = {2};
	a->t = tensor(NULL, IR_I64, 1, d2);
	set_raw(a->t, iv, sizeof iv);
	input(m, "x", IR_I64, 1, d2);
	node(m, "Add", "add", "x,c", "y");
	output(m, "y", IR_I64);
	char err[ERRLEN];
	ir_graph *g = load(m, err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	ir_node *k = find_node(g, "k");
	const ir_attr *v = k ? ir_attr_find(k, "value") : NULL;
	int ok = g->nnodes == 2 && k && k->op == IR_OP_Constant && k->nin == 0 && k->nout == 1 &&
		 !strcmp(k->out[0]->name, "c") && k->out[0]->def == k && v && v->kind == IR_ATTR_TENSOR &&
		 v->t->dtype == IR_I64 && v->t->numel == 2 && !memcmp(v->t->data, iv, sizeof iv) &&
		 g->nodes[1]->in[1] == k->out[0];
	ir_graph_free(g);
	ASSERT(ok);

	/* a scalar Constant in a typed field */
	pool_reset();
	m = model_new(8, 13);
	n = node(m, "Constant", "s", "", "c");
	a = attr(n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
	a->t = tensor(NULL, IR_F32, 0, NULL);
	static const float one = 2.5f;
	set_floats(a->t, 1, &one);
	output(m, "c", 1);
	g = load(m, err);
	ASSERT(g);
	v = ir_attr_find(g->nodes[0], "value");
	ok = v && v->t->rank == 0 && v->t->numel == 1 && ir_tensor_get_f64(v->t, 0) == 2.5;
	ir_graph_free(g);
	ASSERT(ok);
}

static void test_old_ir_initializer_inputs(void)
{
	pool_reset();
	model *m = model_new(3, 8);
	m->m.ir_version = 3;
	input(m, "x", 1, 2, d23);
	input(m, "w", 1, 2, d23); /* IR < 4: initializers are inputs too */
	set_raw(initializer(m, "w", 1, 2, d23), w23, sizeof w23);
	node(m, "Add", "add", "x,w", "y");
	output(m, "y", 1);
	char err[ERRLEN];
	ir_graph *g = load(m, err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	ir_value *w = ir_value_find(g, "w");
	int ok = g->ninputs == 1 && !strcmp(g->inputs[0]->name, "x") && w && w->konst && !w->is_input &&
		 w->dtype == IR_F32 && w->shape.rank == 2 && g->ir_version == 3 && ir_verify(g) == 0;
	ir_graph_free(g);
	ASSERT(ok);

	/* the input may come before or after, typed or untyped */
	pool_reset();
	m = model_new(3, 8);
	input(m, "w", -1, -1, NULL);
	input(m, "x", 1, 2, d23);
	set_raw(initializer(m, "w", 1, 2, d23), w23, sizeof w23);
	node(m, "Add", "add", "x,w", "y");
	output(m, "y", 1);
	g = load(m, err);
	ok = g && g->ninputs == 1 && !strcmp(g->inputs[0]->name, "x");
	ir_graph_free(g);
	ASSERT(ok);
}

static void test_topological_order(void)
{
	pool_reset();
	model *m = model_new(8, 13);
	input(m, "x", 1, 2, d23);
	node(m, "Relu", "second", "a", "y");
	node(m, "Neg", "first", "x", "a");
	output(m, "y", 1);
	char err[ERRLEN];
	ir_graph *g = load(m, err);
	ASSERT(g);
	int ok = g->nnodes == 2 && !strcmp(g->nodes[0]->name, "first") && !strcmp(g->nodes[1]->name, "second") &&
		 g->nodes[0]->id == 0 && g->nodes[1]->in[0] == g->nodes[0]->out[0] && ir_verify(g) == 0;
	ir_graph_free(g);
	ASSERT(ok);

	/* ties keep file order: r needs p and q; q and p are independent */
	pool_reset();
	m = model_new(8, 13);
	input(m, "x", 1, 2, d23);
	node(m, "Add", "r", "p,q", "y");
	node(m, "Relu", "q1", "x", "q");
	node(m, "Neg", "p1", "x", "p");
	node(m, "Abs", "s", "x", "z");
	output(m, "y", 1);
	output(m, "z", 1);
	g = load(m, err);
	ASSERT(g);
	ok = g->nnodes == 4 && !strcmp(g->nodes[0]->name, "q1") && !strcmp(g->nodes[1]->name, "p1") &&
	     !strcmp(g->nodes[2]->name, "r") && !strcmp(g->nodes[3]->name, "s") && ir_verify(g) == 0;
	ir_graph_free(g);
	ASSERT(ok);

	/* omitted optional inputs and outputs are NULL, not values named "" */
	pool_reset();
	m = model_new(8, 13);
	input(m, "x", 1, 2, d23);
	node(m, "Dropout", "drop", "x,,", "y,");
	output(m, "y", 1);
	g = load(m, err);
	ASSERT(g);
	ok = g->nnodes == 1 && g->nodes[0]->nin == 3 && g->nodes[0]->in[1] == NULL && g->nodes[0]->in[2] == NULL &&
	     g->nodes[0]->nout == 2 && g->nodes[0]->out[1] == NULL && ir_value_find(g, "") == NULL;
	ir_graph_free(g);
	ASSERT(ok);
}

/* --------------------------------------------------------- external data */

static void test_external_data(void)
{
	pool_reset();
	const char *root = tmp_dir("ext");
	const char *dir = tmp_dir("ext/model");
	/* 8 bytes of padding, then the 6 floats */
	uint8_t blob[8 + sizeof w23];
	memset(blob, 0xAB, 8);
	memcpy(blob + 8, w23, sizeof w23);
	ASSERT(write_bytes(path_in(dir, "w.bin"), blob, sizeof blob) == 0);
	ASSERT(write_bytes(path_in(root, "outside.bin"), blob, sizeof blob) == 0);
	ASSERT(symlink(path_in(root, "outside.bin"), path_in(dir, "link.bin")) == 0);
	ASSERT(write_bytes(path_in(dir, "short.bin"), blob, 12) == 0);
	tmp_dir("ext/model/sub");
	ASSERT(write_bytes(path_in(dir, "sub/w2.bin"), w23, sizeof w23) == 0);

	char err[ERRLEN];
	model *m = simple_model();
	Onnx__TensorProto *t = m->inits[0];
	t->has_raw_data = 0;
	add_external(t, "location", "w.bin");
	add_external(t, "offset", "8");
	add_external(t, "length", "24");
	ir_graph *g = load_file(m, dir, "model.onnx", err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	ir_value *w = ir_value_find(g, "w");
	int ok = w && w->konst && !memcmp(w->konst->data, w23, sizeof w23);
	ir_graph_free(g);
	ASSERT(ok);

	/* in a subfolder, without offset and length keys */
	t->n_external_data = 0;
	add_external(t, "location", "sub/w2.bin");
	g = load_file(m, dir, "model.onnx", err);
	ok = g && !memcmp(ir_value_find(g, "w")->konst->data, w23, sizeof w23);
	ir_graph_free(g);
	ASSERT(ok);

	/* every failure names the model file and the tensor */
	const char *model_path = path_in(dir, "model.onnx");
	static const struct {
		const char *loc, *offset, *length, *needle;
	} bad[] = {
		{"../outside.bin", NULL, NULL, "escapes the model's folder"},
		{"../nonexistent.bin", NULL, NULL, "escapes the model's folder"},
		{"sub/../../outside.bin", NULL, NULL, "escapes the model's folder"},
		{"link.bin", "8", NULL, "escapes the model's folder"},
		{"/etc/passwd", NULL, NULL, "must be a relative path"},
		{"", NULL, NULL, "must be a relative path"},
		{"missing.bin", NULL, NULL, "missing.bin"},
		{"short.bin", NULL, NULL, "shorter than"},
		{"w.bin", "16", NULL, "shorter than"},
		{"w.bin", "8", "20", "length 20"},
		{"w.bin", "-1", NULL, "bad external data offset '-1'"},
		{"w.bin", "x", NULL, "bad external data offset 'x'"},
		{"w.bin", NULL, "99999999999999999999", "bad external data length"},
		{"sub", NULL, NULL, "'sub'"},
		{NULL, NULL, NULL, "has no location"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		t->n_external_data = 0;
		if (bad[k].loc)
			add_external(t, "location", bad[k].loc);
		else
			add_external(t, "checksum", "0");
		if (bad[k].offset)
			add_external(t, "offset", bad[k].offset);
		if (bad[k].length)
			add_external(t, "length", bad[k].length);
		g = load_file(m, dir, "model.onnx", err);
		if (g || !strstr(err, bad[k].needle) || !strstr(err, model_path) || !strstr(err, "initializer 'w'"))
			fprintf(stderr, "external data case %zu (%s): got \"%s\"\n", k,
				bad[k].loc ? bad[k].loc : "-", g ? "loaded" : err);
		ir_graph_free(g);
		ASSERT(!g);
		ASSERT_STR_CONTAINS(err, model_path);
		ASSERT_STR_CONTAINS(err, "initializer 'w'");
		ASSERT_STR_CONTAINS(err, bad[k].needle);
	}

	/* from memory without a folder, external data is refused */
	t->n_external_data = 0;
	add_external(t, "location", "w.bin");
	EXPECT_FAIL(m, "initializer 'w'", "cannot be resolved");

	/* a TensorProto file with external data next to it */
	Onnx__TensorProto *tp = tensor("ext", IR_F32, 2, d23);
	add_external(tp, "location", "w.bin");
	add_external(tp, "offset", "8");
	size_t len = onnx__tensor_proto__get_packed_size(tp);
	uint8_t *buf = pal(len);
	onnx__tensor_proto__pack(tp, buf);
	ASSERT(write_bytes(path_in(dir, "t.pb"), buf, len) == 0);
	char *name = NULL;
	ir_tensor *rt = onnx_read_tensor(path_in(dir, "t.pb"), &name, err, sizeof err);
	ok = rt && name && !strcmp(name, "ext") && !memcmp(rt->data, w23, sizeof w23);
	ir_tensor_free(rt);
	free(name);
	ASSERT(ok);
	tp->external_data[0]->value = pstr("../outside.bin");
	onnx__tensor_proto__pack(tp, buf = pal(onnx__tensor_proto__get_packed_size(tp)));
	ASSERT(write_bytes(path_in(dir, "t.pb"), buf, onnx__tensor_proto__get_packed_size(tp)) == 0);
	rt = onnx_read_tensor(path_in(dir, "t.pb"), &name, err, sizeof err);
	ASSERT(!rt && !name);
	ASSERT_STR_CONTAINS(err, "t.pb");
	ASSERT_STR_CONTAINS(err, "escapes the model's folder");
}

/* ------------------------------------------------------ tensor files */

static void test_tensor_roundtrip(void)
{
	pool_reset();
	const char *dir = tmp_dir("rt");
	const char *path = path_in(dir, "t.pb");
	static const ir_dtype all[] = {IR_F32, IR_F64, IR_I8, IR_I16, IR_I32, IR_I64,
				       IR_U8, IR_U16, IR_U32, IR_U64, IR_BOOL};
	static const int64_t dims[][3] = {{2, 3, 1}, {2, 0, 3}, {0}};
	static const int ranks[] = {3, 3, 0};
	char err[ERRLEN];
	for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
		for (size_t s = 0; s < 3; s++) {
			ir_tensor *t = ir_tensor_new(NULL, all[k], ranks[s], dims[s]);
			ASSERT(t);
			for (int64_t i = 0; i < t->numel; i++) {
				if (ir_dtype_is_float(all[k]))
					ir_tensor_set_f64(t, i, (double)i * -0.37 + 1e-3);
				else
					ir_tensor_set_i64(t, i, all[k] == IR_BOOL ? i % 2 : 100 - 37 * i);
			}
			char nm[32];
			snprintf(nm, sizeof nm, "t_%s_%zu", ir_dtype_name(all[k]), s);
			int rc = onnx_write_tensor(path, nm, t, err, sizeof err);
			char *name = NULL;
			ir_tensor *r = rc ? NULL : onnx_read_tensor(path, &name, err, sizeof err);
			int ok = r && name && !strcmp(name, nm) && r->dtype == t->dtype && r->rank == t->rank &&
				 r->numel == t->numel &&
				 !memcmp(r->dims, t->dims, (size_t)t->rank * sizeof *t->dims) &&
				 !memcmp(r->data, t->data, (size_t)t->numel * ir_dtype_size(t->dtype));
			if (!ok)
				fprintf(stderr, "round trip %s shape %zu: %s\n", nm, s, r ? "differs" : err);
			ir_tensor_free(t);
			ir_tensor_free(r);
			free(name);
			ASSERT(ok);
		}
	}
	/* no temporary files are left behind */
	DIR *d = opendir(dir);
	ASSERT(d);
	int nfiles = 0;
	for (struct dirent *e; (e = readdir(d));)
		nfiles += e->d_name[0] != '.';
	closedir(d);
	ASSERT(nfiles == 1);

	/* a tensor without a name reads back with *name NULL */
	ir_tensor *t = ir_tensor_new(NULL, IR_F32, 0, NULL);
	ASSERT(onnx_write_tensor(path, NULL, t, err, sizeof err) == 0);
	char *name = (char *)"junk";
	ir_tensor *r = onnx_read_tensor(path, &name, err, sizeof err);
	int ok = r && !name && r->rank == 0 && r->numel == 1;
	ir_tensor_free(r);
	ASSERT(onnx_write_tensor(path_in(dir, "no/such/dir/t.pb"), "x", t, err, sizeof err) == -1);
	ir_tensor_free(t);
	ASSERT(ok);
	ASSERT_STR_CONTAINS(err, "no/such/dir/t.pb");

	/* read errors name the file */
	r = onnx_read_tensor(path_in(dir, "absent.pb"), NULL, err, sizeof err);
	ASSERT(!r);
	ASSERT_STR_CONTAINS(err, "absent.pb: cannot read");
	ASSERT(write_bytes(path_in(dir, "bad.pb"), "\x0a\xff\xff", 3) == 0);
	r = onnx_read_tensor(path_in(dir, "bad.pb"), NULL, err, sizeof err);
	ASSERT(!r);
	ASSERT_STR_CONTAINS(err, "bad.pb: not a valid TensorProto");
	Onnx__TensorProto *tp = tensor("h", 10, 1, (const int64_t[]){2});
	set_raw(tp, "\0\0\0\0", 4);
	uint8_t buf[64];
	size_t len = onnx__tensor_proto__pack(tp, buf);
	ASSERT(write_bytes(path_in(dir, "f16.pb"), buf, len) == 0);
	r = onnx_read_tensor(path_in(dir, "f16.pb"), NULL, err, sizeof err);
	ASSERT(!r);
	ASSERT_STR_CONTAINS(err, "f16.pb");
	ASSERT_STR_CONTAINS(err, "float16");
}

/* ------------------------------------------------------- a real model */

static void test_mnist8(void)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/models/mnist-8/model.onnx", QNNC_SHARED_DATA);
	if (access(path, R_OK)) {
		printf("SKIP mnist8: %s not found\n", path);
		return;
	}
	char err[ERRLEN];
	ir_graph *g = onnx_load(path, err, sizeof err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	ir_value *x = g->ninputs == 1 ? g->inputs[0] : NULL;
	int ok = x && x->dtype == IR_F32 && x->shape.rank == 4 && x->shape.d[2].v == 28 && g->noutputs == 1 &&
		 g->nnodes > 5 && ir_verify(g) == 0;
	ir_graph_free(g);
	ASSERT(ok);
	snprintf(path, sizeof path, "%s/models/mnist-8/test_data_set_0/input_0.pb", QNNC_SHARED_DATA);
	ir_tensor *t = onnx_read_tensor(path, NULL, err, sizeof err);
	ok = t && t->dtype == IR_F32 && t->numel == 784;
	ir_tensor_free(t);
	ASSERT(ok);
}

/* A model that loads but whose attribute values are unsupported: shape
 * inference (the first pass after loading) names the file, node and value. */
static void expect_attr_error(model *m, const char *needle)
{
	char err[ERRLEN];
	ir_graph *g = load(m, err);
	ASSERT(g != NULL);
	int bad = pass_infer(g) == -1;
	char msg[sizeof g->err];
	memcpy(msg, g->err, sizeof msg);
	ir_graph_free(g);
	ASSERT(bad);
	ASSERT(strncmp(msg, SRC ": node 'add' (", strlen(SRC) + 14) == 0);
	ASSERT_STR_CONTAINS(msg, needle);
}

static void test_unsupported_attribute_values(void)
{
	pool_reset();
	model *m = simple_model();
	m->nodes[0]->op_type = pstr("Softmax");
	m->nodes[0]->n_input = 1;
	Onnx__AttributeProto *a = attr(m->nodes[0], "axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	a->has_i = 1;
	a->i = 7;
	expect_attr_error(m, "axis 7");

	pool_reset();
	m = simple_model();
	m->nodes[0]->op_type = pstr("Cast");
	m->nodes[0]->n_input = 1;
	a = attr(m->nodes[0], "to", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	a->has_i = 1;
	a->i = 16; /* bfloat16 */
	expect_attr_error(m, "BFLOAT16");

	pool_reset();
	m = simple_model();
	m->nodes[0]->op_type = pstr("LeakyRelu");
	m->nodes[0]->n_input = 1;
	a = attr(m->nodes[0], "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
	a->has_s = 1;
	a->s.data = (uint8_t *)pstr("big");
	a->s.len = 3;
	expect_attr_error(m, "alpha");
}

TEST_MAIN({"simple_loads", test_simple_loads}, {"truncated", test_truncated},
	  {"empty_and_random", test_empty_and_random},
	  {"deep_nesting", test_deep_nesting}, {"undefined_input", test_undefined_input},
	  {"duplicate_output", test_duplicate_output}, {"cycle", test_cycle},
	  {"graph_outputs_and_types", test_graph_outputs_and_types},
	  {"tensor_data_errors", test_tensor_data_errors}, {"typed_fields", test_typed_fields},
	  {"unknown_ops", test_unknown_ops}, {"opsets", test_opsets}, {"attributes", test_attributes},
	  {"constant_node", test_constant_node}, {"old_ir_initializer_inputs", test_old_ir_initializer_inputs},
	  {"topological_order", test_topological_order}, {"external_data", test_external_data},
	  {"tensor_roundtrip", test_tensor_roundtrip}, {"mnist8", test_mnist8},
	  {"unsupported_attribute_values", test_unsupported_attribute_values})
