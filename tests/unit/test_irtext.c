/* test_irtext.c - the textual IR: print/parse round trips of hand-built
 * graphs (every dtype, attribute kind, odd names, special floats), parse
 * errors with their line:col, and a mutation fuzz loop. */
#include "../../ir/ir.h"
#include "test.h"

#include <float.h>
#include <stdint.h>

static char *print_str(const ir_graph *g, int elide)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	ir_print(f, g, elide);
	fclose(f);
	return buf;
}

static float f32_bits(uint32_t b)
{
	float f;
	memcpy(&f, &b, sizeof f);
	return f;
}

static double f64_bits(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof d);
	return d;
}

static ir_value *konst(ir_graph *g, const char *name, ir_dtype dt, int rank, const int64_t *dims,
		       const void *data)
{
	ir_value *v = ir_value_new(g, name);
	v->konst = ir_tensor_new(g->arena, dt, rank, dims);
	if (data)
		memcpy(v->konst->data, data, (size_t)v->konst->numel * ir_dtype_size(dt));
	v->dtype = dt;
	ir_shape_from_dims(&v->shape, rank, dims);
	return v;
}

static ir_node *node(ir_graph *g, const char *op, const char *name, int nin, ir_value **in, int nout,
		     ir_value **out)
{
	ir_op o = ir_op_lookup("", op);
	if (o == IR_OP_COUNT)
		abort();
	return ir_node_new(g, o, name, nin, in, nout, out);
}

static void set_type(ir_value *v, ir_dtype dt, int rank, const int64_t *dims)
{
	v->dtype = dt;
	ir_shape_from_dims(&v->shape, rank, dims);
}

/* A graph that uses every feature of the format. */
static ir_graph *build_full(void)
{
	ir_graph *g = ir_graph_new("full.onnx");
	g->name = ir_strdup(g->arena, "torch jit/ü");
	g->ir_version = 9;
	g->producer = ir_strdup(g->arena, "pytorch \"2.1\"\n\ttab\x01");
	static ir_opset ops[3] = {{"", 13}, {"com.microsoft", 1}, {"ai.onnx.ml", 3}};
	g->opsets = ops;
	g->nopsets = 3;

	/* Inputs: symbolic, unknown, named-known dims, unknown rank, a default. */
	ir_value *x = ir_value_new(g, "input:0 with space");
	x->dtype = IR_F32;
	x->shape.rank = 4;
	x->shape.d[0] = (ir_dim){-1, "N"};
	x->shape.d[1] = (ir_dim){-1, NULL};
	x->shape.d[2] = (ir_dim){28, "H"};
	x->shape.d[3] = (ir_dim){-1, "batch size"};
	ir_graph_add_input(g, x);
	ir_value *any = ir_value_new(g, "any");
	any->dtype = IR_F64;
	ir_graph_add_input(g, any);
	ir_value *untyped = ir_value_new(g, "untyped");
	ir_graph_add_input(g, untyped);
	uint8_t dflt[2] = {7, 255};
	ir_value *opt = konst(g, "opt", IR_U8, 1, (int64_t[]){2}, dflt);
	opt->shape.d[0].sym = "K";
	ir_graph_add_input(g, opt);

	/* Constants: every dtype, special floats, scalar, empty, large. */
	float fs[] = {f32_bits(0x7fc00000), f32_bits(0xffc00000), f32_bits(0x7f800001),
		      f32_bits(0xffa5a5a5), INFINITY, -INFINITY, -0.0f, 0.0f, f32_bits(1), f32_bits(0x007fffff),
		      FLT_MIN, FLT_MAX, 0.1f, -1.5f, 3.0f, 1e-30f};
	konst(g, "/fc1/weight", IR_F32, 2, (int64_t[]){4, 4}, fs);
	double ds[] = {f64_bits(0x7ff8000000000000ull), f64_bits(0xfff8000000000000ull),
		       f64_bits(0x7ff0000000000001ull), f64_bits(0x7ff8dead0000beefull), INFINITY, -INFINITY,
		       -0.0, f64_bits(1), DBL_MIN / 3, DBL_MAX, 0.1, -2.5};
	konst(g, "onnx::Gemm_5", IR_F64, 3, (int64_t[]){2, 3, 2}, ds);
	int8_t i8[] = {-128, 127, 0, -1};
	konst(g, "i8", IR_I8, 1, (int64_t[]){4}, i8);
	int16_t i16[] = {-32768, 32767};
	konst(g, "i16", IR_I16, 1, (int64_t[]){2}, i16);
	int32_t i32[] = {INT32_MIN, INT32_MAX, 42};
	konst(g, "i32", IR_I32, 1, (int64_t[]){3}, i32);
	int64_t i64[] = {INT64_MIN, INT64_MAX, -1};
	konst(g, "i64", IR_I64, 1, (int64_t[]){3}, i64);
	uint8_t u8[] = {0, 255};
	konst(g, "u8", IR_U8, 1, (int64_t[]){2}, u8);
	uint16_t u16[] = {65535};
	konst(g, "u16", IR_U16, 1, (int64_t[]){1}, u16);
	uint32_t u32[] = {UINT32_MAX, 1};
	konst(g, "u32", IR_U32, 1, (int64_t[]){2}, u32);
	uint64_t u64[] = {UINT64_MAX, 0};
	konst(g, "u64", IR_U64, 1, (int64_t[]){2}, u64);
	uint8_t b[] = {0, 1, 1};
	konst(g, "bool", IR_BOOL, 1, (int64_t[]){3}, b);
	float sc = 2.0f;
	konst(g, "scalar", IR_F32, 0, NULL, &sc);
	konst(g, "empty", IR_F32, 2, (int64_t[]){0, 3}, NULL);
	ir_value *big = konst(g, "big", IR_F32, 2, (int64_t[]){5, 7}, NULL);
	for (int i = 0; i < 35; i++)
		((float *)big->konst->data)[i] = (float)i / 7;
	ir_value *retyped = konst(g, "retyped", IR_I64, 1, (int64_t[]){2}, i64);
	retyped->dtype = IR_UNDEF;
	retyped->shape.rank = -1;
	ir_value *dangling = ir_value_new(g, "dangling");
	set_type(dangling, IR_BOOL, 0, NULL);

	/* Nodes: every attribute kind, odd names, omitted optionals. */
	ir_value *y = ir_value_new(g, "y ü∂/x:y.z");
	set_type(y, IR_F32, 2, (int64_t[]){1, 4});
	ir_node *n = node(g, "Gemm", "gemm \"0\"", 3, (ir_value *[]){x, ir_value_find(g, "/fc1/weight"), NULL},
			  1, &y);
	ir_attr a = {.name = "alpha", .kind = IR_ATTR_FLOAT, .f = 0.1};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "nanattr", .kind = IR_ATTR_FLOAT, .f = f64_bits(0x7ff4000000000001ull)};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "transB", .kind = IR_ATTR_INT, .i = INT64_MIN};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "mode", .kind = IR_ATTR_STRING, .s = "a \"quoted\"\\ string\n"};
	ir_attr_set(g, n, &a);
	ir_tensor *t = ir_tensor_new(g->arena, IR_I32, 2, (int64_t[]){1, 2});
	((int32_t *)t->data)[0] = -3;
	((int32_t *)t->data)[1] = 4;
	a = (ir_attr){.name = "value", .kind = IR_ATTR_TENSOR, .t = t};
	ir_attr_set(g, n, &a);
	double fl[] = {-0.0, INFINITY, 1e-310, 0.5};
	a = (ir_attr){.name = "floats", .kind = IR_ATTR_FLOATS, .n = 4, .fs = fl};
	ir_attr_set(g, n, &a);
	int64_t il[] = {1, -2, INT64_MAX};
	a = (ir_attr){.name = "ints", .kind = IR_ATTR_INTS, .n = 3, .is = il};
	ir_attr_set(g, n, &a);
	const char *sl[] = {"", "b c", "\x7f"};
	a = (ir_attr){.name = "strs", .kind = IR_ATTR_STRINGS, .n = 3, .ss = sl};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "e1", .kind = IR_ATTR_FLOATS};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "e2", .kind = IR_ATTR_INTS};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "e3", .kind = IR_ATTR_STRINGS};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "body", .kind = IR_ATTR_OTHER, .other = "GRAPH"};
	ir_attr_set(g, n, &a);
	a = (ir_attr){.name = "odd name", .kind = IR_ATTR_INT, .i = 1};
	ir_attr_set(g, n, &a);
	n->domain = "ai.onnx";
	n->opset = 11;

	ir_value *d = ir_value_new(g, "1");
	ir_node *drop = node(g, "Dropout", NULL, 3, (ir_value *[]){y, NULL, ir_value_find(g, "bool")}, 2,
			     (ir_value *[]){d, NULL});
	drop->opset = 13; /* equals the graph's: not printed */
	ir_value *s = ir_value_new(g, "inf");
	set_type(s, IR_I64, 1, (int64_t[]){2});
	node(g, "Shape", "", 1, &d, 1, &s);
	s->konst = ir_tensor_new(g->arena, IR_I64, 1, (int64_t[]){2});
	ir_value *c = ir_value_new(g, "-1");
	node(g, "Clip", "_", 3, (ir_value *[]){d, NULL, ir_value_find(g, "scalar")}, 1, &c);
	node(g, "Relu", "no outputs", 1, &c, 0, NULL);
	ir_graph_add_output(g, c);
	ir_graph_add_output(g, s);
	return g;
}

static void test_roundtrip_full(void)
{
	ir_graph *g = build_full();
	char *t1 = print_str(g, 0);
	char err[512];
	ir_graph *h = ir_parse(t1, "full.ir", err, sizeof err);
	if (!h)
		fprintf(stderr, "%s\n%s\n", err, t1);
	ASSERT(h);
	char *t2 = print_str(h, 0);
	if (strcmp(t1, t2))
		fprintf(stderr, "--- first\n%s--- second\n%s", t1, t2);
	ASSERT(!strcmp(t1, t2));

	/* Spot checks on the parsed graph, beyond the text. */
	ASSERT(!strcmp(h->name, "torch jit/ü"));
	ASSERT(!strcmp(h->producer, g->producer));
	ASSERT(h->ir_version == 9 && h->nopsets == 3 && !strcmp(h->opsets[1].domain, "com.microsoft"));
	ASSERT(h->ninputs == 4 && h->noutputs == 2 && h->nnodes == 5);
	ir_value *x = h->inputs[0];
	ASSERT(!strcmp(x->name, "input:0 with space") && x->dtype == IR_F32 && x->shape.rank == 4);
	ASSERT(x->shape.d[0].v == -1 && !strcmp(x->shape.d[0].sym, "N"));
	ASSERT(x->shape.d[1].v == -1 && !x->shape.d[1].sym);
	ASSERT(x->shape.d[2].v == 28 && !strcmp(x->shape.d[2].sym, "H"));
	ASSERT(!strcmp(x->shape.d[3].sym, "batch size"));
	ASSERT(h->inputs[1]->dtype == IR_F64 && h->inputs[1]->shape.rank == -1);
	ASSERT(h->inputs[2]->dtype == IR_UNDEF && h->inputs[2]->shape.rank == -1);
	ASSERT(h->inputs[3]->konst && ((uint8_t *)h->inputs[3]->konst->data)[1] == 255);
	ir_value *w = ir_value_find(h, "/fc1/weight");
	ASSERT(w && w->konst && w->konst->dtype == IR_F32 && !w->def);
	ASSERT(!memcmp(w->konst->data, ir_value_find(g, "/fc1/weight")->konst->data, 16 * sizeof(float)));
	ir_value *dv = ir_value_find(h, "onnx::Gemm_5");
	ASSERT(!memcmp(dv->konst->data, ir_value_find(g, "onnx::Gemm_5")->konst->data, 12 * sizeof(double)));
	ASSERT(((uint64_t *)ir_value_find(h, "u64")->konst->data)[0] == UINT64_MAX);
	ASSERT(((int64_t *)ir_value_find(h, "i64")->konst->data)[0] == INT64_MIN);
	ASSERT(ir_value_find(h, "scalar")->konst->rank == 0);
	ASSERT(ir_value_find(h, "empty")->konst->numel == 0);
	ASSERT(ir_value_find(h, "retyped")->dtype == IR_UNDEF);
	ir_node *n = h->nodes[0];
	ASSERT(n->op == IR_OP_Gemm && !strcmp(n->name, "gemm \"0\"") && !strcmp(n->domain, "ai.onnx"));
	ASSERT(n->opset == 11 && n->nin == 3 && !n->in[2] && n->nattr == 13);
	ASSERT(ir_attr_float(n, "alpha", 0) == 0.1);
	uint64_t bits;
	double nanattr = ir_attr_find(n, "nanattr")->f;
	memcpy(&bits, &nanattr, sizeof bits);
	ASSERT(bits == 0x7ff4000000000001ull);
	ASSERT(ir_attr_int(n, "transB", 0) == INT64_MIN);
	ASSERT(!strcmp(ir_attr_string(n, "mode", ""), "a \"quoted\"\\ string\n"));
	const ir_attr *ta = ir_attr_find(n, "value");
	ASSERT(ta->kind == IR_ATTR_TENSOR && ta->t->dtype == IR_I32 && ((int32_t *)ta->t->data)[0] == -3);
	const double *fl;
	ASSERT(ir_attr_floats(n, "floats", &fl) == 4 && signbit(fl[0]) && fl[2] == 1e-310);
	const int64_t *il;
	ASSERT(ir_attr_ints(n, "ints", &il) == 3 && il[2] == INT64_MAX);
	ASSERT(ir_attr_find(n, "strs")->n == 3 && !strcmp(ir_attr_find(n, "strs")->ss[2], "\x7f"));
	ASSERT(ir_attr_find(n, "e1")->kind == IR_ATTR_FLOATS && ir_attr_find(n, "e1")->n == 0);
	ASSERT(ir_attr_find(n, "e3")->kind == IR_ATTR_STRINGS);
	ASSERT(ir_attr_find(n, "body")->kind == IR_ATTR_OTHER && !strcmp(ir_attr_find(n, "body")->other, "GRAPH"));
	ASSERT(h->nodes[1]->op == IR_OP_Dropout && h->nodes[1]->nout == 2 && !h->nodes[1]->out[1]);
	ASSERT(!h->nodes[1]->in[1] && h->nodes[1]->opset == 13);
	ASSERT(h->nodes[2]->out[0]->konst && h->nodes[2]->out[0]->def == h->nodes[2]);
	ASSERT(h->nodes[4]->nout == 0);
	ASSERT(ir_value_find(h, "dangling") && ir_value_find(h, "dangling")->dtype == IR_BOOL);

	/* Elided output: shorter, says so, and the parser refuses it. */
	char *e = print_str(g, 1);
	ASSERT(strstr(e, "{...}") && strlen(e) < strlen(t1));
	ir_graph *bad = ir_parse(e, "e.ir", err, sizeof err);
	ASSERT(!bad);
	ASSERT_STR_CONTAINS(err, "elided");
	free(e);
	free(t1);
	free(t2);
	ir_graph_free(h);
	ir_graph_free(g);
}

static int roundtrips(const ir_graph *g)
{
	char err[512];
	char *t1 = print_str(g, 0);
	ir_graph *h = ir_parse(t1, "rt.ir", err, sizeof err);
	char *t2 = h ? print_str(h, 0) : NULL;
	int ok = t2 && !strcmp(t1, t2);
	if (!ok)
		fprintf(stderr, "round trip failed: %s\n%s---\n%s", h ? "" : err, t1, t2 ? t2 : "");
	free(t1);
	free(t2);
	ir_graph_free(h);
	return ok;
}

/* Corner cases of the printer's defaults. */
static void test_roundtrip_edges(void)
{
	ir_graph *g = ir_graph_new(NULL);
	ASSERT(roundtrips(g)); /* empty graph */
	g->name = NULL;
	ASSERT(roundtrips(g));
	g->name = "";
	g->producer = "";
	ir_value *x = ir_value_new(g, "x");
	ir_graph_add_input(g, x);
	ir_value *y = ir_value_new(g, "graph"); /* a keyword as a name */
	ir_node *n = ir_node_new(g, IR_OP_Relu, NULL, 1, &x, 1, &y);
	n->name = "";
	ir_attr a = {.name = "nan", .kind = IR_ATTR_STRING};
	ir_attr_set(g, n, &a);
	y->shape.rank = 2;
	y->shape.d[0] = (ir_dim){-1, "inf"};
	y->shape.d[1] = (ir_dim){-1, "_"};
	ir_graph_add_output(g, y);
	ir_graph_add_output(g, y);
	ASSERT(roundtrips(g));
	ir_graph_free(g);
}

/* Text written by hand: defaults, decimal floats, forward references. */
static void test_parse_handwritten(void)
{
	const char *src =
		"# a comment\n"
		"graph {\n"
		"  opset 13\n"
		"  input %x : f32[2]\n"
		"  %z = Add(%y, %c) # forward use of %y\n"
		"  %y = Relu(%x) {alpha = 1.5, ints = [1, 2], fl = [1, 2.5], ss = [\"a\"]}\n"
		"  const %c = f32[2] {1, -2.5e-1}\n"
		"  const %h = f64[] {nan(0x7ff0000000000002)}\n"
		"  output %z\n"
		"}\n";
	char err[256];
	ir_graph *g = ir_parse(src, "hand.ir", err, sizeof err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	ASSERT(g);
	ASSERT(!strcmp(g->name, "main") && !g->producer && g->ir_version == 0);
	ASSERT(g->nnodes == 2 && g->nodes[0]->opset == 13);
	ASSERT(!strcmp(g->nodes[0]->name, "Add_0") && !strcmp(g->nodes[0]->domain, ""));
	ir_value *c = ir_value_find(g, "c");
	ASSERT(c->dtype == IR_F32 && c->shape.rank == 1 && c->shape.d[0].v == 2);
	ASSERT(((float *)c->konst->data)[1] == -0.25f);
	ASSERT(ir_value_find(g, "z")->dtype == IR_UNDEF && ir_value_find(g, "z")->shape.rank == -1);
	ir_node *r = g->nodes[1];
	ASSERT(ir_attr_find(r, "alpha")->kind == IR_ATTR_FLOAT && ir_attr_float(r, "alpha", 0) == 1.5);
	ASSERT(ir_attr_find(r, "ints")->kind == IR_ATTR_INTS);
	ASSERT(ir_attr_find(r, "fl")->kind == IR_ATTR_FLOATS && ir_attr_find(r, "fl")->fs[0] == 1.0);
	ASSERT(ir_attr_find(r, "ss")->kind == IR_ATTR_STRINGS);
	uint64_t bits;
	memcpy(&bits, ir_value_find(g, "h")->konst->data, 8);
	ASSERT(bits == 0x7ff0000000000002ull);
	/* The forward reference parses; the verifier is what rejects it. */
	ASSERT(ir_verify(g) == -1);
	ASSERT_STR_CONTAINS(g->err, "before its definition");
	ir_graph_free(g);
}

typedef struct {
	const char *text;
	const char *where;   /* "line:col" */
	const char *message; /* substring */
} bad_case;

static void test_parse_errors(void)
{
	static const bad_case cases[] = {
		{"graph {\n  input %x : f32[2]\n  %y = Foo(%x)\n}", "3:8", "unknown op 'Foo' in domain 'ai.onnx'"},
		{"graph {\n  input %x\n  %y = Relu(%x) domain \"com.acme\"\n}", "3:8", "unknown op 'Relu' in domain 'com.acme'"},
		{"graph {\n  %y = Relu(%x)\n  output %y\n}", "2:13", "undefined value %x"},
		{"graph {\n  output %q\n}", "2:10", "undefined value %q"},
		{"graph {\n  input %x\n  input %x\n}", "3:9", "duplicate definition of %x (first defined at 2:9)"},
		{"graph {\n  input %x\n  %x = Relu(%x)\n}", "3:3", "duplicate definition of %x"},
		{"graph {\n  input %x : f16[2]\n}", "2:14", "unknown dtype 'f16'"},
		{"graph {\n  const %c = f32[2,3] {1, 2, 3, 4, 5}\n}", "2:14", "data count mismatch: f32[2,3] needs 6 values, got 5"},
		{"graph {\n  const %c = i8[2] {1, 2, 3}\n}", "2:27", "too many values"},
		{"graph {\n  const %c = i8[2] {1, 200}\n}", "2:24", "200 is out of range for i8"},
		{"graph {\n  const %c = u8[1] {-1}\n}", "2:21", "out of range for u8"},
		{"graph {\n  const %c = bool[1] {2}\n}", "2:23", "bool data must be 0 or 1"},
		{"graph {\n  const %c = i32[1] {1.5}\n}", "2:22", "i32 data must be integers"},
		{"graph {\n  const %c = f32[1] {1e300}\n}", "2:22", "out of range for f32"},
		{"graph {\n  const %c = f32[1] {nan(0x7ff0000000000001)}\n}", "2:22", "is not an f32 NaN"},
		{"graph {\n  const %c = f32[40] {...}\n}", "2:23", "elided"},
		{"graph {\n  input %x : f32[1,2,3,4,5,6,7,8,9]\n}", "2:34", "rank exceeds 8"},
		{"graph {\n  input %x\n  %y = Relu(%x) {a = 1, a = 2}\n}", "3:25", "duplicate attribute 'a'"},
		{"graph {\n  input %x\n  %y = Relu(%x) {a = []}\n}", "3:22", "empty list needs its kind"},
		{"graph {\n  input %x\n  %y = Relu(%x) {a = [1, \"s\"]}\n}", "3:22", "mixes strings and numbers"},
		{"graph {\n  input %x\n  %y = Relu(%x) {a = 99999999999999999999999}\n}", "3:22", "integer literal out of range"},
		{"graph {\n  input %x\n  %y = Relu(%x) {a = \"abc}\n}", "3:22", "unterminated string"},
		{"graph {\n  input %x\n  %y = Relu(%x) {a = \"a\\qb\"}\n}", "3:22", "unknown escape"},
		{"graph {\n  input %x\n  %y = Relu(%x) {a = \"a\\x00\"}\n}", "3:22", "NUL byte"},
		{"graph {\n  input %x\n  %y = Relu(%x) , \n}", "3:17", "syntax error: unexpected ','"},
		{"graph {\n  const %c = f32[1] {0x10}\n}", "2:22", "need a 'p' exponent"},
		{"graph {\n  input %x\n  %y = Relu %x\n}", "3:13", "syntax error: unexpected value name '%x', expected '('"},
		{"graph {\n  input %x\n  known %x = i64[1] {1}\n}", "3:9", "not an output of a node above"},
		{"graph {\n  input %x $\n}", "2:12", "unexpected character '$'"},
		{"graph {\n  input %\"\"\n}", "2:9", "empty value name"},
		{"graph {\n  input %\"a b\"\n  value %\"a b\"\n}", "3:9", "duplicate definition of %\"a b\" (first defined at 2:9)"},
		{"graph {\n  input %x : f32[2,-1]\n}", "2:20", "negative dim: write ? for an unknown dim"},
		{"graph {\n  input %x\n  %y = Relu(%x)\n  known %y = f32[1] {0}\n  known %y = f32[1] {0}\n}", "5:9", "%y already has known data"},
		{"graph {\n  input %x\n", "3:1", "unexpected end of input"},
		{"graph {\n}\ngraph {\n}\n", "3:1", "expected end of file"},
		{"graph {\n  input %x\n  %y = Relu(%x) opset 99999999999\n}", "3:23", "node opset 99999999999 is out of range"},
		{"", "1:1", "syntax error"},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[512], want[64];
		ir_graph *g = ir_parse(cases[i].text, "t.ir", err, sizeof err);
		if (g) {
			fprintf(stderr, "case %zu parsed\n", i);
			ir_graph_free(g);
			bad++;
			continue;
		}
		snprintf(want, sizeof want, "t.ir:%s: ", cases[i].where);
		if (strncmp(err, want, strlen(want)) || !strstr(err, cases[i].message))
			fprintf(stderr, "case %zu: got \"%s\", want \"%s%s\"\n", i, err, want, cases[i].message);
		bad += strncmp(err, want, strlen(want)) || !strstr(err, cases[i].message);
	}
	ASSERT(!bad);
	/* A NULL text and a zero-size buffer are not crashes. */
	ASSERT(!ir_parse(NULL, NULL, NULL, 0));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11) % n;
}

/* Mutations of a valid text either parse (and then print, re-parse and
 * print identically) or fail with "source:line:col: message". */
static void test_fuzz(void)
{
	ir_graph *g = build_full();
	/* A smaller seed text keeps the loop fast and mutations dense. */
	char *full = print_str(g, 0);
	ir_graph_free(g);
	static const char *const frags[] = {
		",", "}", "{", "%x", "_", "nan", "-", "\"", "[", "]", "9999999999999999999999", "=",
		"@n", ":", "f32[2]", "{...}", "\\x", "\n", "known %y = ", "opset 1", "?", "*", "%\"\"",
		"0x1p+99999", "nan(0x1)", "#", "const %k = i8[1] {1}", "value %v", "output %1", "\xff",
		"Relu(%x)", "(", ")", "ints[]", "domain \"d\"",
	};
	size_t len = strlen(full);
	char *buf = malloc(len + 256);
	int parsed = 0, failed = 0;
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(buf, full, len + 1);
		size_t n = len;
		int muts = 1 + (int)rnd(3);
		for (int m = 0; m < muts; m++) {
			size_t pos = n ? rnd((uint32_t)n) : 0;
			switch (rnd(4)) {
			case 0: /* replace one byte */
				if (n)
					buf[pos] = (char)(1 + rnd(255));
				break;
			case 1: { /* delete a short range */
				size_t k = 1 + rnd(12);
				if (pos + k > n)
					k = n - pos;
				memmove(buf + pos, buf + pos + k, n - pos - k + 1);
				n -= k;
				break;
			}
			default: { /* insert a fragment */
				const char *f = frags[rnd(sizeof frags / sizeof frags[0])];
				size_t k = strlen(f);
				if (n + k + 1 > len + 255)
					break;
				memmove(buf + pos + k, buf + pos, n - pos + 1);
				memcpy(buf + pos, f, k);
				n += k;
			}
			}
		}
		char err[512];
		err[0] = 'x';
		ir_graph *h = ir_parse(buf, "fz.ir", err, sizeof err);
		if (!h) {
			failed++;
			int line, col;
			if (sscanf(err, "fz.ir:%d:%d: ", &line, &col) != 2 || line < 1 || col < 1)
				fprintf(stderr, "bad message \"%s\"\n", err);
			ASSERT(sscanf(err, "fz.ir:%d:%d: ", &line, &col) == 2);
			continue;
		}
		parsed++;
		char *t1 = print_str(h, 0);
		ir_verify(h);
		ir_graph *h2 = ir_parse(t1, "fz2.ir", err, sizeof err);
		if (!h2)
			fprintf(stderr, "reprint does not parse: %s\n%s", err, t1);
		ASSERT(h2);
		char *t2 = print_str(h2, 1);
		free(t2);
		t2 = print_str(h2, 0);
		if (strcmp(t1, t2))
			fprintf(stderr, "not idempotent:\n%s---\n%s", t1, t2);
		ASSERT(!strcmp(t1, t2));
		free(t1);
		free(t2);
		ir_graph_free(h2);
		ir_graph_free(h);
	}
	/* Both outcomes must actually occur, or the fuzz tests nothing. */
	ASSERT(parsed > 50 && failed > 50);
	free(buf);
	free(full);
}

TEST_MAIN({"roundtrip_full", test_roundtrip_full}, {"roundtrip_edges", test_roundtrip_edges},
	  {"parse_handwritten", test_parse_handwritten},
	  {"parse_errors", test_parse_errors}, {"fuzz", test_fuzz})
