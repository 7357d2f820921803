/* test_verify.c - ir_verify: a valid graph passes, and each class of
 * structural error is caught with a message naming the node or value. */
#include "../../ir/ir.h"
#include "test.h"

static ir_graph *parse(const char *text)
{
	char err[512];
	ir_graph *g = ir_parse(text, "v.ir", err, sizeof err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	return g;
}

/* Verify g, expect failure with every needle in the message; frees g. */
static int fails_with(ir_graph *g, const char *n1, const char *n2)
{
	if (!g)
		return 0;
	int rc = ir_verify(g);
	int ok = rc == -1 && strstr(g->err, n1) && (!n2 || strstr(g->err, n2));
	if (!ok)
		fprintf(stderr, "verify: rc %d, \"%s\", want \"%s\" and \"%s\"\n", rc, g->err, n1,
			n2 ? n2 : "");
	ir_graph_free(g);
	return ok;
}

static const char *valid_text =
	"graph {\n"
	"  opset 13\n"
	"  input %x : f32[N,4]\n"
	"  input %opt : f32[4] = f32[4] {1, 2, 3, 4}\n"
	"  const %w = f32[4,2] {1, 2, 3, 4, 5, 6, 7, 8}\n"
	"  %h : f32[N,2] = MatMul(%x, %w) @mm\n"
	"  %y, _ = Dropout(%h) @drop\n"
	"  %s : i64[2] = Shape(%y) @shape\n"
	"  known %s = i64[2] {-1, 2}\n"
	"  %c = Clip(%y, _, %opt) @clip\n"
	"  output %c\n"
	"  output %s\n"
	"}\n";

static void test_valid(void)
{
	ir_graph *g = parse(valid_text);
	ASSERT(g);
	int rc = ir_verify(g);
	if (rc)
		fprintf(stderr, "%s\n", g->err);
	ASSERT(rc == 0 && g->nerrors == 0);
	ir_graph_free(g);
	/* An empty graph is fine too. */
	g = ir_graph_new(NULL);
	ASSERT(ir_verify(g) == 0);
	ir_graph_free(g);
}

static void test_order_and_cycles(void)
{
	ASSERT(fails_with(parse("graph {\n input %x\n %b = Relu(%a) @first\n %a = Relu(%x) @second\n output %b\n}"),
			  "node 'first' (Relu): uses 'a' before its definition by node 'second'", NULL));
	ASSERT(fails_with(parse("graph {\n %a = Relu(%b) @n1\n %b = Relu(%a) @n2\n output %b\n}"),
			  "node 'n1' (Relu)", "cycle"));
	ASSERT(fails_with(parse("graph {\n %a = Relu(%a) @self\n output %a\n}"),
			  "node 'self' (Relu): uses 'a' before its definition by node 'self'", NULL));
	/* A declared value nobody defines. */
	ASSERT(fails_with(parse("graph {\n value %u : f32[2]\n %a = Relu(%u) @r\n output %a\n}"),
			  "node 'r' (Relu): uses undefined value 'u'", NULL));
	ASSERT(fails_with(parse("graph {\n value %u\n output %u\n}"), "graph output 'u' is never defined",
			  NULL));
}

static void test_duplicate_definitions(void)
{
	ir_graph *g = ir_graph_new("dup.onnx");
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y");
	ir_graph_add_input(g, x);
	ir_node_new(g, IR_OP_Relu, "r1", 1, &x, 1, &y);
	ir_node_new(g, IR_OP_Neg, "r2", 1, &x, 1, &y);
	ASSERT(fails_with(g, "dup.onnx: node 'r2' (Neg): output 'y' is already defined by node 'r1'", NULL));

	g = ir_graph_new("dup.onnx");
	x = ir_value_new(g, "x");
	ir_graph_add_input(g, x);
	ir_node_new(g, IR_OP_Relu, "r", 1, &x, 1, &x);
	ASSERT(fails_with(g, "node 'r' (Relu): output 'x' is also a graph input", NULL));

	g = ir_graph_new("dup.onnx");
	x = ir_value_new(g, "x");
	y = ir_value_new(g, "y");
	ir_node_new(g, IR_OP_Dropout, "d", 1, &x, 2, (ir_value *[]){y, y});
	ir_graph_add_input(g, x);
	ASSERT(fails_with(g, "node 'd' (Dropout): output 'y' is already defined by node 'd'", NULL));

	g = ir_graph_new("dup.onnx");
	x = ir_value_new(g, "x");
	ir_graph_add_input(g, x);
	ir_graph_add_input(g, x);
	ASSERT(fails_with(g, "value 'x' is a graph input twice", NULL));
}

static void test_arity(void)
{
	ASSERT(fails_with(parse("graph {\n input %x\n %y = Add(%x) @add\n}"),
			  "node 'add' (Add): has 1 inputs, expected 2..2", NULL));
	ASSERT(fails_with(parse("graph {\n input %x\n %y = Relu(%x, %x) @r\n}"),
			  "node 'r' (Relu): has 2 inputs, expected 1..1", NULL));
	/* Trailing omitted inputs do not count, leading ones are missing. */
	ASSERT(fails_with(parse("graph {\n input %x\n %y = Gemm(_, %x, _) @g\n}"),
			  "node 'g' (Gemm): required input 0 is missing", NULL));
	ASSERT(fails_with(parse("graph {\n input %x\n _, %m = Dropout(%x) @d\n}"),
			  "node 'd' (Dropout): first output is missing", NULL));
	ASSERT(fails_with(parse("graph {\n input %x\n %a, %b = Relu(%x) @r\n}"),
			  "node 'r' (Relu): has 2 outputs, expected 1..1", NULL));
	ASSERT(fails_with(parse("graph {\n input %x\n Relu(%x) @r\n}"),
			  "node 'r' (Relu): has 0 outputs", NULL));
	ir_graph *g = parse("graph {\n input %x\n %y = Max(%x, %x, %x, %x, %x) @m\n %z = Relu(%y, _, _) @r\n}");
	ASSERT(g && ir_verify(g) == 0); /* variadic; trailing omitted */
	ir_graph_free(g);
}

static void test_constants_and_shapes(void)
{
	ASSERT(fails_with(parse("graph {\n const %w : f32[3] = f32[2] {1, 2}\n}"),
			  "value 'w' is f32[3] but its constant data is f32[2]", NULL));
	ASSERT(fails_with(parse("graph {\n const %w : i32[2] = f32[2] {1, 2}\n}"),
			  "value 'w' is i32[2] but its constant data is f32[2]", NULL));
	ASSERT(fails_with(parse("graph {\n const %w : f32[N] = f32[2] {1, 2}\n}"),
			  "value 'w' is f32[N] but", NULL));
	ASSERT(fails_with(parse("graph {\n input %x\n %s : i64[3] = Shape(%x) @shape\n"
				" known %s = i64[2] {1, 2}\n}"),
			  "node 'shape' (Shape): value 's' is i64[3] but its constant data is i64[2]", NULL));

	ir_graph *g = parse(valid_text);
	ASSERT(g);
	ir_value_find(g, "h")->shape.d[1].v = -7;
	ASSERT(fails_with(g, "node 'mm' (MatMul): value 'h' has dim 1 = -7", NULL));
	g = parse(valid_text);
	ir_value_find(g, "h")->shape.rank = 9;
	ASSERT(fails_with(g, "node 'mm' (MatMul): value 'h' has rank 9", NULL));
	g = parse(valid_text);
	ir_value_find(g, "h")->dtype = (ir_dtype)16;
	ASSERT(fails_with(g, "value 'h' has unsupported dtype code 16", NULL));
}

static void test_ids_and_names(void)
{
	ir_graph *g = parse(valid_text);
	ASSERT(g);
	ir_value *a = g->values[0], *b = g->values[1];
	g->values[0] = b;
	g->values[1] = a;
	ASSERT(fails_with(g, "has id 1 at index 0", NULL));

	g = parse(valid_text);
	ir_node *n = g->nodes[0];
	g->nodes[0] = g->nodes[1];
	g->nodes[1] = n;
	ASSERT(fails_with(g, "node 'drop' (Dropout): has id 1 at index 0", NULL));

	g = parse(valid_text);
	ir_value_find(g, "h")->name = "w";
	ASSERT(fails_with(g, "value name 'w' is used by two values", NULL));

	g = parse(valid_text);
	ir_value_find(g, "h")->name = "fresh";
	ASSERT(fails_with(g, "value name 'fresh' is missing from the name map", NULL));

	g = parse(valid_text);
	ir_value_find(g, "h")->def = NULL;
	ASSERT(fails_with(g, "node 'mm' (MatMul): output 'h' does not point back to its node", NULL));

	g = parse(valid_text);
	ir_value_find(g, "w")->is_input = 1;
	ASSERT(fails_with(g, "value 'w' is flagged is_input but is not a graph input", NULL));

	g = parse(valid_text);
	ir_value_find(g, "h")->is_output = 1;
	ASSERT(fails_with(g, "value 'h' is flagged is_output but is not a graph output", NULL));

	g = parse(valid_text);
	g->nodes[1]->op = IR_OP_COUNT;
	ASSERT(fails_with(g, "node 'drop' has invalid op code", NULL));

	g = parse(valid_text);
	ir_attr at = {.name = "k", .kind = IR_ATTR_INT};
	ir_attr_set(g, g->nodes[0], &at);
	ir_attr_set(g, g->nodes[0], &(ir_attr){.name = "j", .kind = IR_ATTR_INT});
	g->nodes[0]->attrs[1].name = "k";
	ASSERT(fails_with(g, "node 'mm' (MatMul): attribute 'k' is set twice", NULL));

	/* A value from another graph. */
	g = parse(valid_text);
	ir_graph *o = parse(valid_text);
	g->nodes[2]->in[0] = o->values[g->nodes[2]->in[0]->id + 1];
	ASSERT(fails_with(g, "node 'shape' (Shape): input 0 is not a value of the graph", NULL));
	ir_graph_free(o);
}

TEST_MAIN({"valid", test_valid}, {"order_and_cycles", test_order_and_cycles},
	  {"duplicate_definitions", test_duplicate_definitions}, {"arity", test_arity},
	  {"constants_and_shapes", test_constants_and_shapes}, {"ids_and_names", test_ids_and_names})
