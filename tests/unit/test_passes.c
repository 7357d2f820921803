/* test_passes.c - shape inference, constant folding (incl. the Shape ->
 * Gather -> Concat -> Reshape chains exporters emit), dead-code removal,
 * and the interpreter's agreement before and after folding. */
#include "../../passes/passes.h"
#include "test.h"

static ir_value *konst_i64(ir_graph *g, const char *name, int n, const int64_t *v)
{
	ir_value *x = ir_value_new(g, name);
	int64_t d = n;
	x->konst = ir_tensor_new(g->arena, IR_I64, 1, &d);
	for (int i = 0; i < n; i++)
		((int64_t *)x->konst->data)[i] = v[i];
	x->dtype = IR_I64;
	ir_shape_from_dims(&x->shape, 1, &d);
	return x;
}

/* x[2,3,4] -> Shape -> Gather(0) -> Concat([-1]) -> Reshape(x) -> Relu -> y,
 * plus a dead Neg. */
static ir_graph *build(void)
{
	ir_graph *g = ir_graph_new("fold-test");
	g->nopsets = 1;
	g->opsets = ir_alloc(g->arena, sizeof *g->opsets);
	g->opsets[0].domain = "";
	g->opsets[0].version = 13;
	ir_value *x = ir_value_new(g, "x");
	x->dtype = IR_F32;
	ir_shape_from_dims(&x->shape, 3, (int64_t[]){2, 3, 4});
	ir_graph_add_input(g, x);
	ir_value *s = ir_value_new(g, "s"), *g0 = ir_value_new(g, "g0"), *shp = ir_value_new(g, "shp");
	ir_value *r = ir_value_new(g, "r"), *y = ir_value_new(g, "y"), *dead = ir_value_new(g, "dead");
	ir_value *idx = konst_i64(g, "idx", 1, (int64_t[]){0});
	ir_value *m1 = konst_i64(g, "m1", 1, (int64_t[]){-1});
	ir_node_new(g, IR_OP_Shape, "shape", 1, &x, 1, &s);
	ir_node_new(g, IR_OP_Gather, "gather", 2, (ir_value *[]){s, idx}, 1, &g0);
	ir_node *cat = ir_node_new(g, IR_OP_Concat, "concat", 2, (ir_value *[]){g0, m1}, 1, &shp);
	ir_attr a = {.name = "axis", .kind = IR_ATTR_INT, .i = 0};
	ir_attr_set(g, cat, &a);
	ir_node_new(g, IR_OP_Reshape, "reshape", 2, (ir_value *[]){x, shp}, 1, &r);
	ir_node_new(g, IR_OP_Relu, "relu", 1, &r, 1, &y);
	ir_node_new(g, IR_OP_Neg, "neg", 1, &x, 1, &dead);
	ir_graph_add_output(g, y);
	return g;
}

static void test_fold_shape_chain(void)
{
	ir_graph *g = build();
	ASSERT(pass_infer(g) == 0);
	/* Before folding, Reshape's output is unknown: its shape is data. */
	ir_value *r = ir_value_find(g, "r");
	ASSERT(!ir_shape_known(&r->shape));

	ir_tensor *in = ir_tensor_new(NULL, IR_F32, 3, (int64_t[]){2, 3, 4});
	for (int i = 0; i < 24; i++)
		((float *)in->data)[i] = (float)(i - 11);
	ir_tensor *before, *after;
	ASSERT(interp_run(g, &in, &before) == 0);

	int folded = pass_fold(g, 0);
	ASSERT(folded == 3); /* Shape, Gather, Concat */
	pass_dce(g);
	ASSERT(g->nnodes == 2); /* Reshape, Relu; the dead Neg is gone */
	ASSERT(g->nodes[0]->op == IR_OP_Reshape && g->nodes[1]->op == IR_OP_Relu);
	r = ir_value_find(g, "r");
	ASSERT(ir_shape_known(&r->shape) && r->shape.rank == 2 && r->shape.d[0].v == 2 && r->shape.d[1].v == 12);
	ASSERT(pass_infer(g) == 0 && ir_verify(g) == 0);
	ASSERT(interp_run(g, &in, &after) == 0);
	ASSERT(after->rank == 2 && after->dims[0] == 2 && after->dims[1] == 12);
	ASSERT(memcmp(before->data, after->data, 24 * sizeof(float)) == 0);
	ASSERT(((float *)after->data)[0] == 0.0f && ((float *)after->data)[23] == 12.0f);
	ir_tensor_free(before);
	ir_tensor_free(after);
	ir_tensor_free(in);
	ir_graph_free(g);
}

static void test_infer_errors(void)
{
	ir_graph *g = ir_graph_new("bad.onnx");
	g->nopsets = 1;
	g->opsets = ir_alloc(g->arena, sizeof *g->opsets);
	g->opsets[0].domain = "";
	g->opsets[0].version = 13;
	ir_value *x = ir_value_new(g, "x"), *w = ir_value_new(g, "w"), *y = ir_value_new(g, "y");
	x->dtype = w->dtype = IR_F32;
	ir_shape_from_dims(&x->shape, 2, (int64_t[]){1, 5});
	ir_shape_from_dims(&w->shape, 2, (int64_t[]){4, 3});
	ir_graph_add_input(g, x);
	ir_graph_add_input(g, w);
	ir_node_new(g, IR_OP_MatMul, "mm", 2, (ir_value *[]){x, w}, 1, &y);
	ir_graph_add_output(g, y);
	ASSERT(pass_infer(g) == -1);
	ASSERT_STR_CONTAINS(g->err, "bad.onnx: node 'mm' (MatMul)");
	ir_graph_free(g);
}

TEST_MAIN({"fold_shape_chain", test_fold_shape_chain}, {"infer_errors", test_infer_errors})
