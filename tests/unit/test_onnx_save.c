/* test_onnx_save.c - writing IR graphs back as ONNX (frontend/onnx_save.c):
 *   - mnist-8 and examples/mnist-mlp round-trip: the reloaded, inferred
 *     graph prints the same IR and computes bit-identical outputs;
 *   - an MLP with an MpoLinear node (compressed at bond 4) round-trips and
 *     declares the "qnnc" opset and the doc string;
 *   - initializers of every dtype (scalars, empty tensors, extremes) and
 *     attributes of every kind, omitted inputs and outputs, symbolic and
 *     unknown dims survive onnx_save_file + onnx_load_bytes;
 *   - an attribute of kind OTHER is a clear error and leaves no file;
 *   - onnx.checker accepts the saved classical models (when Debian's
 *     python3-onnx is installed; skipped otherwise). */
#include "test.h"

#include "../../frontend/onnx.h"
#include "../../passes/compress.h"
#include "../../passes/passes.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static void tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

/* ir_print into a malloc'd string, from the first blank line on: the
 * header (ir_version, producer, opsets) legitimately changes on save. */
static char *print_body(const ir_graph *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	ir_print(f, g, 0);
	fclose(f);
	char *body = strstr(buf, "\n\n");
	char *res = strdup(body ? body : buf);
	free(buf);
	return res;
}

static int same_print(const ir_graph *a, const ir_graph *b)
{
	char *pa = print_body(a), *pb = print_body(b);
	int ok = pa && pb && !strcmp(pa, pb);
	if (!ok && pa && pb)
		fprintf(stderr, "--- before\n%s--- after\n%s", pa, pb);
	free(pa);
	free(pb);
	return ok;
}

static int same_tensor(const ir_tensor *a, const ir_tensor *b)
{
	if (!a || !b || a->dtype != b->dtype || a->rank != b->rank || a->numel != b->numel)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return 0;
	return !a->numel || !memcmp(a->data, b->data, (size_t)a->numel * ir_dtype_size(a->dtype));
}

/* Run both graphs on x; 1 when every output is bit-identical. */
static int same_run(ir_graph *a, ir_graph *b, ir_tensor *x)
{
	ir_tensor *ya[4] = {0}, *yb[4] = {0};
	int ok = a->noutputs == b->noutputs && a->noutputs <= 4 && a->ninputs == 1 && b->ninputs == 1;
	if (ok && (interp_run(a, &x, ya) || interp_run(b, &x, yb))) {
		fprintf(stderr, "%s\n%s\n", a->err, b->err);
		ok = 0;
	}
	for (int i = 0; ok && i < a->noutputs; i++)
		ok = same_tensor(ya[i], yb[i]);
	for (int i = 0; i < 4; i++) {
		ir_tensor_free(ya[i]);
		ir_tensor_free(yb[i]);
	}
	return ok;
}

/* Save g to tmpdir/name and load it again (inferred). */
static ir_graph *save_reload(const ir_graph *g, const char *name, char *path, size_t n)
{
	char err[4096];
	tmp_path(path, n, name);
	if (onnx_save(g, path, err, sizeof err)) {
		fprintf(stderr, "save: %s\n", err);
		return NULL;
	}
	ir_graph *h = onnx_load(path, err, sizeof err);
	if (!h) {
		fprintf(stderr, "reload: %s\n", err);
		return NULL;
	}
	if (pass_infer(h)) {
		fprintf(stderr, "reload infer: %s\n", h->err);
		ir_graph_free(h);
		return NULL;
	}
	return h;
}

static int have_python_onnx(void)
{
	static int have = -1;
	if (have < 0)
		have = access("/usr/bin/python3", X_OK) == 0 &&
		       system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") == 0;
	return have;
}

/* onnx.checker on a saved model (1 also when python3-onnx is absent). */
static int onnx_checker_ok(const char *path)
{
	if (!have_python_onnx())
		return 1;
	char cmd[1200];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))' '%s'", path);
	return system(cmd) == 0;
}

/* A deterministic input for a graph input of known dtype f32; symbolic
 * dims become 2. */
static ir_tensor *make_input(const ir_value *v)
{
	int64_t dims[IR_MAX_RANK];
	for (int i = 0; i < v->shape.rank; i++)
		dims[i] = v->shape.d[i].v >= 0 ? v->shape.d[i].v : 2;
	ir_tensor *x = ir_tensor_new(NULL, IR_F32, v->shape.rank, dims);
	for (int64_t i = 0; x && i < x->numel; i++)
		((float *)x->data)[i] = (float)((i * 37) % 101) / 101.0f;
	return x;
}

/* ------------------------------------------------------------ models */

static void round_trip(const char *model, const char *input_pb, const char *name)
{
	char err[4096], path[1024];
	if (access(model, R_OK)) {
		printf("SKIP %s: %s not found\n", name, model);
		return;
	}
	ir_graph *g = onnx_load(model, err, sizeof err);
	ASSERT(g);
	ASSERT(!pass_infer(g));
	ir_graph *h = save_reload(g, name, path, sizeof path);
	ir_tensor *x = input_pb ? onnx_read_tensor(input_pb, NULL, err, sizeof err) : make_input(g->inputs[0]);
	int ok = h && x && h->ir_version >= 7 && h->producer && !strcmp(h->producer, "qnnc") &&
		 ir_graph_opset(h, "") == ir_graph_opset(g, "") && ir_graph_opset(h, "qnnc") == 0 &&
		 same_print(g, h) && same_run(g, h, x) && onnx_checker_ok(path);
	ir_tensor_free(x);
	ir_graph_free(h);
	ir_graph_free(g);
	ASSERT(ok);
}

static void test_mnist8(void)
{
	round_trip(QNNC_SHARED_DATA "/models/mnist-8/model.onnx",
		   QNNC_SHARED_DATA "/models/mnist-8/test_data_set_0/input_0.pb", "mnist8.onnx");
}

static void test_mlp(void)
{
	round_trip(QNNC_SOURCE_DIR "/examples/mnist-mlp/model.onnx", NULL, "mlp.onnx");
}

/* The MLP with fc2 compressed into an MpoLinear node at bond 4. */
static void test_mpolinear(void)
{
	const char *model = QNNC_SOURCE_DIR "/examples/mnist-mlp/model.onnx";
	char err[4096], path[1024];
	if (access(model, R_OK)) {
		printf("SKIP mpolinear: %s not found\n", model);
		return;
	}
	ir_graph *g = onnx_load(model, err, sizeof err);
	ASSERT(g);
	select_opts so;
	select_result sr;
	compress_result cr;
	compress_opts co = {4, 0, 1};
	select_defaults(&so);
	so.max_bond = 4;
	memset(&cr, 0, sizeof cr);
	int ok = !pass_infer(g) && pass_fold(g, 0) >= 0;
	pass_dce(g);
	ok = ok && pass_select(g, "auto", &so, &sr) == 1;
	ok = ok && pass_compress(g, &sr, &co, &cr) == 1 && !pass_infer(g);
	select_free(&sr);
	compress_free(&cr);
	if (!ok)
		fprintf(stderr, "%s\n", g->err);
	int nmpo = 0;
	for (int i = 0; i < g->nnodes; i++)
		nmpo += g->nodes[i]->op == IR_OP_MpoLinear;
	ir_graph *h = ok ? save_reload(g, "mpo.onnx", path, sizeof path) : NULL;
	int nmpo2 = 0;
	for (int i = 0; h && i < h->nnodes; i++)
		nmpo2 += h->nodes[i]->op == IR_OP_MpoLinear && !strcmp(h->nodes[i]->domain, "qnnc");
	ir_tensor *x = make_input(g->inputs[0]);
	ok = ok && h && nmpo == 1 && nmpo2 == 1 && ir_graph_opset(h, "qnnc") == 1 && same_print(g, h) &&
	     same_run(g, h, x);
	ir_tensor_free(x);
	ir_graph_free(h);
	ir_graph_free(g);
	ASSERT(ok);
	/* The doc string explains the custom domain. */
	FILE *f = fopen(path, "rb");
	ASSERT(f);
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	ok = 0;
	for (size_t i = 0; buf && i + 20 < n && !ok; i++)
		ok = !memcmp(buf + i, "custom domain 'qnnc'", 20);
	free(buf);
	ASSERT(ok);
}

/* --------------------------------------------------- built graphs */

static ir_graph *new_graph(void)
{
	ir_graph *g = ir_graph_new("test_onnx_save");
	g->name = "built";
	g->opsets = ir_alloc(g->arena, sizeof *g->opsets);
	g->opsets[0].domain = "";
	g->opsets[0].version = 13;
	g->nopsets = 1;
	return g;
}

static ir_value *konst(ir_graph *g, const char *name, ir_dtype t, int rank, const int64_t *dims)
{
	ir_value *v = ir_value_new(g, name);
	v->konst = ir_tensor_new(g->arena, t, rank, dims);
	v->dtype = t;
	ir_shape_from_dims(&v->shape, rank, dims);
	return v;
}

/* Write with onnx_save_file into a temporary FILE and read it back. */
static ir_graph *via_file(const ir_graph *g, char *err, size_t errlen)
{
	FILE *f = tmpfile();
	if (!f)
		return NULL;
	ir_graph *h = NULL;
	if (!onnx_save_file(g, f, err, errlen)) {
		long len = ftell(f);
		unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
		rewind(f);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len)
			h = onnx_load_bytes(buf, (size_t)len, "reloaded", NULL, err, errlen);
		free(buf);
	}
	fclose(f);
	return h;
}

static void test_dtypes(void)
{
	static const ir_dtype types[] = {IR_F32, IR_U8, IR_I8, IR_U16, IR_I16, IR_I32,
					 IR_I64, IR_BOOL, IR_F64, IR_U32, IR_U64};
	ir_graph *g = new_graph();
	int64_t d3[1] = {3}, d0[2] = {2, 0};
	char name[64];
	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
		ir_dtype t = types[k];
		snprintf(name, sizeof name, "c_%s", ir_dtype_name(t));
		ir_value *v = konst(g, name, t, 1, d3);
		/* extremes of every type: all bits set, zero, a middle pattern */
		size_t es = ir_dtype_size(t);
		unsigned char *p = v->konst->data;
		memset(p, 0xff, es);
		memset(p + 2 * es, 0x5a, es);
		if (t == IR_BOOL)
			p[0] = 1, p[2] = 1;
		if (t == IR_F32)
			((float *)p)[2] = -0.0f;
		ir_graph_add_output(g, v);
		snprintf(name, sizeof name, "e_%s", ir_dtype_name(t));
		ir_graph_add_output(g, konst(g, name, t, 2, d0)); /* no elements */
	}
	ir_value *s = konst(g, "scalar", IR_F64, 0, NULL);
	*(double *)s->konst->data = 0x1.123456789abcdp-1000;
	ir_graph_add_output(g, s);
	char err[4096];
	ir_graph *h = via_file(g, err, sizeof err);
	if (!h)
		fprintf(stderr, "%s\n", err);
	ASSERT(h);
	int ok = h->noutputs == g->noutputs;
	for (int i = 0; ok && i < g->noutputs; i++) {
		ir_value *a = g->outputs[i], *b = h->outputs[i];
		ok = !strcmp(a->name, b->name) && same_tensor(a->konst, b->konst);
		if (!ok)
			fprintf(stderr, "differs: %s\n", a->name);
	}
	ir_graph_free(h);
	ir_graph_free(g);
	ASSERT(ok);
}

static void set_attr(ir_graph *g, ir_node *n, ir_attr a)
{
	ir_attr_set(g, n, &a);
}

/* Attributes of every kind, omitted inputs and outputs, value_info with
 * symbolic and unknown dims: compared through the printed IR (the
 * attributes are not Identity's, so the graph is not inferred). */
static void test_attrs_and_types(void)
{
	ir_graph *g = new_graph();
	g->ir_version = 8; /* the newest onnx 1.12's checker reads */
	ir_value *x = ir_value_new(g, "x");
	x->dtype = IR_F32;
	x->shape.rank = 3;
	x->shape.d[0] = (ir_dim){-1, "N"};
	x->shape.d[1] = (ir_dim){-1, NULL};
	x->shape.d[2] = (ir_dim){4, NULL};
	ir_graph_add_input(g, x);
	int64_t d1[1] = {1};
	ir_value *hi = konst(g, "hi", IR_F32, 1, d1);
	((float *)hi->konst->data)[0] = 6;
	ir_value *a = ir_value_new(g, "a"), *b = ir_value_new(g, "b"), *c = ir_value_new(g, "c");
	a->dtype = IR_F32;
	a->shape = x->shape;
	ir_value *cin[3] = {x, NULL, hi};
	ir_node *clip = ir_node_new(g, IR_OP_Clip, "clip", 3, cin, 1, &a);
	ir_value *dout[2] = {b, NULL};
	ir_node_new(g, IR_OP_Dropout, "drop", 1, &a, 2, dout);
	ir_node *id = ir_node_new(g, IR_OP_Identity, "id", 1, &b, 1, &c);
	c->dtype = IR_F32; /* unknown rank: a type without shape */
	ir_graph_add_output(g, c);
	static double fs[3] = {1.5, -0.0, 0x1p-140};
	static int64_t is[3] = {INT64_MIN, 0, INT64_MAX};
	static const char *ss[2] = {"", "x\"y\n\xce\xbb"};
	int64_t td[2] = {1, 2};
	ir_tensor *t = ir_tensor_new(g->arena, IR_I32, 2, td);
	((int32_t *)t->data)[0] = INT32_MIN;
	((int32_t *)t->data)[1] = 7;
	set_attr(g, id, (ir_attr){.name = "f", .kind = IR_ATTR_FLOAT, .f = 0.25});
	set_attr(g, id, (ir_attr){.name = "i", .kind = IR_ATTR_INT, .i = -5});
	set_attr(g, id, (ir_attr){.name = "s", .kind = IR_ATTR_STRING, .s = "hello"});
	set_attr(g, id, (ir_attr){.name = "t", .kind = IR_ATTR_TENSOR, .t = t});
	set_attr(g, id, (ir_attr){.name = "fs", .kind = IR_ATTR_FLOATS, .n = 3, .fs = fs});
	set_attr(g, id, (ir_attr){.name = "is", .kind = IR_ATTR_INTS, .n = 3, .is = is});
	set_attr(g, id, (ir_attr){.name = "ss", .kind = IR_ATTR_STRINGS, .n = 2, .ss = ss});
	set_attr(g, id, (ir_attr){.name = "none", .kind = IR_ATTR_INTS, .n = 0});
	set_attr(g, clip, (ir_attr){.name = "empty", .kind = IR_ATTR_STRING, .s = ""});
	char err[4096];
	ir_graph *h = via_file(g, err, sizeof err);
	if (!h)
		fprintf(stderr, "%s\n", err);
	ASSERT(h);
	int ok = h->ir_version == 8 && same_print(g, h);
	ir_graph_free(h);
	ASSERT(ok);
	/* The checker accepts the types (the custom attributes aside, the
	 * graph is valid ONNX): run it without them. */
	id->nattr = 0;
	clip->nattr = 0;
	c->shape = x->shape; /* onnx 1.12's checker wants a shape on outputs */
	char path[1024];
	tmp_path(path, sizeof path, "types.onnx");
	ok = !onnx_save(g, path, err, sizeof err) && onnx_checker_ok(path);
	ir_graph_free(g);
	ASSERT(ok);
}

/* An attribute the loader kept by kind only cannot be written. */
static void test_other_attr(void)
{
	ir_graph *g = new_graph();
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y");
	x->dtype = IR_F32;
	x->shape.rank = 0;
	ir_graph_add_input(g, x);
	ir_node *n = ir_node_new(g, IR_OP_Identity, "ident", 1, &x, 1, &y);
	ir_graph_add_output(g, y);
	ir_attr a = {.name = "body", .kind = IR_ATTR_OTHER, .other = "graph"};
	ir_attr_set(g, n, &a);
	char err[4096] = "", path[1024];
	tmp_path(path, sizeof path, "other.onnx");
	int rc = onnx_save(g, path, err, sizeof err);
	ir_graph_free(g);
	ASSERT(rc == -1);
	ASSERT_STR_CONTAINS(err, "test_onnx_save: node 'ident' (Identity): attribute 'body' of kind other (graph) "
				 "cannot be written to ONNX");
	ASSERT(access(path, F_OK) != 0); /* neither the file nor its temporary */
	char tmp[1100];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	ASSERT(access(tmp, F_OK) != 0);
	/* An unwritable destination names the path. */
	g = new_graph();
	x = ir_value_new(g, "x");
	x->dtype = IR_F32;
	x->shape.rank = 0;
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, x);
	rc = onnx_save(g, "/nonexistent-dir/m.onnx", err, sizeof err);
	ir_graph_free(g);
	ASSERT(rc == -1);
	ASSERT_STR_CONTAINS(err, "/nonexistent-dir/m.onnx");
}

static void test_setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_onnx_save.XXXXXX");
	ASSERT(mkdtemp(tmpdir));
	if (!have_python_onnx())
		printf("SKIP onnx.checker: /usr/bin/python3 with onnx not available\n");
}

static void test_cleanup(void)
{
	static const char *files[] = {"mnist8.onnx", "mlp.onnx", "mpo.onnx", "types.onnx"};
	char path[1024];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		tmp_path(path, sizeof path, files[i]);
		remove(path);
	}
	ASSERT(rmdir(tmpdir) == 0);
}

TEST_MAIN({"setup", test_setup}, {"mnist8", test_mnist8}, {"mlp", test_mlp},
	  {"mpolinear", test_mpolinear}, {"dtypes", test_dtypes}, {"attrs_and_types", test_attrs_and_types},
	  {"other_attr", test_other_attr}, {"cleanup", test_cleanup})
