/* test_op_conv.c - Conv (passes/op_conv.c) and BatchNormalization
 * (passes/op_norm.c): the ONNX documentation examples by hand, random
 * 1-D/2-D/3-D convolutions with groups, dilations, strides, pads and
 * auto_pad against a direct loop, shape inference, diagnostics, and
 * Conv followed by BatchNormalization against Conv with folded weights. */
#include "test.h"
#include "op_test.h"

static ir_tensor *ones(ir_graph *g, int rank, const int64_t *dims)
{
	ir_tensor *t = ot_tensor(g, IR_F32, rank, dims, NULL);
	for (int64_t i = 0; i < t->numel; i++)
		ir_tensor_set_f64(t, i, 1);
	return t;
}

/* One 2-D example from the ONNX operator docs: x = 0..H*W-1, W all ones. */
static void doc_case(int64_t h, int64_t w, const char *auto_pad, const int64_t *pads,
		     const int64_t *strides, int64_t oh, int64_t ow, const double *want)
{
	ir_graph *g = ir_graph_new("conv");
	ir_node *n = ot_node(g, IR_OP_Conv, 22, 2, 1);
	ot_ints(g, n, "kernel_shape", 2, (int64_t[]){3, 3});
	if (auto_pad)
		ot_str(g, n, "auto_pad", auto_pad);
	if (pads)
		ot_ints(g, n, "pads", 4, pads);
	if (strides)
		ot_ints(g, n, "strides", 2, strides);
	ir_tensor *in[2] = {ot_iota(g, IR_F32, 4, (int64_t[]){1, 1, h, w}, 0),
			    ones(g, 4, (int64_t[]){1, 1, 3, 3})};
	ir_tensor *out[1];
	ASSERT(ot_run(g, n, in, out) == 0);
	ASSERT(out[0]->rank == 4 && out[0]->dims[2] == oh && out[0]->dims[3] == ow);
	for (int64_t i = 0; i < oh * ow; i++)
		ASSERT_NEAR(ir_tensor_get_f64(out[0], i), want[i], 1e-4);
	ir_graph_free(g);
}

static void test_conv_doc_examples(void)
{
	doc_case(5, 5, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 5, 5,
		 (double[]){12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
			    93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
	doc_case(5, 5, NULL, (int64_t[]){0, 0, 0, 0}, NULL, 3, 3,
		 (double[]){54, 63, 72, 99, 108, 117, 144, 153, 162});
	doc_case(7, 5, NULL, (int64_t[]){1, 1, 1, 1}, (int64_t[]){2, 2}, 4, 3,
		 (double[]){12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124});
	doc_case(7, 5, NULL, NULL, (int64_t[]){2, 2}, 3, 2,
		 (double[]){54, 72, 144, 162, 234, 252});
	doc_case(7, 5, NULL, (int64_t[]){1, 0, 1, 0}, (int64_t[]){2, 2}, 4, 2,
		 (double[]){21, 33, 99, 117, 189, 207, 171, 183});
	/* SAME_LOWER, stride 2: total pad 2 per dim, split 1 / 1 */
	doc_case(5, 5, "SAME_LOWER", NULL, (int64_t[]){2, 2}, 3, 3,
		 (double[]){12, 27, 24, 63, 108, 81, 72, 117, 84});
	/* SAME_UPPER vs SAME_LOWER with an odd total pad (4x4, stride 2: total 1) */
	doc_case(4, 4, "SAME_UPPER", NULL, (int64_t[]){2, 2}, 2, 2,
		 (double[]){45, 39, 66, 50});
	doc_case(4, 4, "SAME_LOWER", NULL, (int64_t[]){2, 2}, 2, 2,
		 (double[]){10, 24, 51, 90});
	doc_case(5, 5, "VALID", NULL, NULL, 3, 3,
		 (double[]){54, 63, 72, 99, 108, 117, 144, 153, 162});
}

/* ------------------------------------------------- random vs direct loop */

typedef struct conv_cfg {
	int nsp, group, bias, autopad; /* autopad: 0 NOTSET, 1 VALID, 2 SAME_UPPER, 3 SAME_LOWER */
	int64_t n, c, m, in[3], k[3], s[3], d[3], pads[6];
} conv_cfg;

/* Output extent and begin pad of one dim, computed here independently. */
static int64_t ref_out(const conv_cfg *f, int d, int64_t *lo)
{
	int64_t ek = (f->k[d] - 1) * f->d[d] + 1;
	if (f->autopad >= 2) {
		int64_t o = (f->in[d] + f->s[d] - 1) / f->s[d];
		int64_t tot = (o - 1) * f->s[d] + ek - f->in[d];
		tot = tot < 0 ? 0 : tot;
		*lo = f->autopad == 2 ? tot / 2 : (tot + 1) / 2;
		return o;
	}
	int64_t p0 = f->autopad ? 0 : f->pads[d], p1 = f->autopad ? 0 : f->pads[f->nsp + d];
	*lo = p0;
	return (f->in[d] + p0 + p1 - ek) / f->s[d] + 1;
}

/* The direct sum for output (batch bi, channel m, position o). */
static double conv_ref_at(const conv_cfg *f, const ir_tensor *x, const ir_tensor *w,
			  const ir_tensor *b, int64_t bi, int64_t m, const int64_t *o,
			  const int64_t *lo)
{
	int64_t cg = f->c / f->group, gi = m / (f->m / f->group), kn = 1;
	for (int d = 0; d < f->nsp; d++)
		kn *= f->k[d];
	double s = b ? ir_tensor_get_f64(b, m) : 0;
	for (int64_t c = 0; c < cg; c++)
		for (int64_t kf = 0; kf < kn; kf++) {
			int64_t k[3], rem = kf, xi = bi * f->c + gi * cg + c, wi = m * cg + c;
			for (int d = f->nsp - 1; d >= 0; d--) {
				k[d] = rem % f->k[d];
				rem /= f->k[d];
			}
			int ok = 1;
			for (int d = 0; d < f->nsp; d++) {
				int64_t p = o[d] * f->s[d] - lo[d] + k[d] * f->d[d];
				ok &= p >= 0 && p < f->in[d];
				xi = xi * f->in[d] + p;
				wi = wi * f->k[d] + k[d];
			}
			if (ok)
				s += ir_tensor_get_f64(x, xi) * ir_tensor_get_f64(w, wi);
		}
	return s;
}

static void conv_random_case(const conv_cfg *f, ir_dtype t, uint64_t seed)
{
	static const char *const ap[] = {"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"};
	ir_graph *g = ir_graph_new("conv");
	ir_node *nd = ot_node(g, IR_OP_Conv, 22, 2 + f->bias, 1);
	int nsp = f->nsp, rank = nsp + 2;
	if (f->group != 1)
		ot_int(g, nd, "group", f->group);
	ot_ints(g, nd, "strides", nsp, f->s);
	ot_ints(g, nd, "dilations", nsp, f->d);
	if (f->autopad)
		ot_str(g, nd, "auto_pad", ap[f->autopad]);
	else
		ot_ints(g, nd, "pads", 2 * nsp, f->pads);
	if (seed & 1) /* kernel_shape is optional */
		ot_ints(g, nd, "kernel_shape", nsp, f->k);
	int64_t xd[5] = {f->n, f->c}, wd[5] = {f->m, f->c / f->group};
	for (int d = 0; d < nsp; d++) {
		xd[d + 2] = f->in[d];
		wd[d + 2] = f->k[d];
	}
	ir_tensor *in[3] = {ot_random(g, t, rank, xd, 1, &seed), ot_random(g, t, rank, wd, 1, &seed),
			    f->bias ? ot_random(g, t, 1, &f->m, 1, &seed) : NULL};
	ir_tensor *out[1];
	ASSERT(ot_run(g, nd, in, out) == 0);
	const ir_tensor *x = in[0], *w = in[1], *y = out[0];
	int64_t od[3] = {1, 1, 1}, lo[3] = {0}, pn = 1;
	for (int d = 0; d < nsp; d++) {
		od[d] = ref_out(f, d, &lo[d]);
		ASSERT(y->dims[d + 2] == od[d]);
		pn *= od[d];
	}
	ASSERT(y->dims[0] == f->n && y->dims[1] == f->m);
	double worst = 0;
	for (int64_t j = 0; j < y->numel; j++) {
		int64_t o[3], rem = j / pn;
		for (int d = nsp - 1, r = (int)(j % pn); d >= 0; d--) {
			o[d] = r % od[d];
			r /= (int)od[d];
		}
		double e = fabs(ir_tensor_get_f64(y, j) - conv_ref_at(f, x, w, in[2], rem / f->m,
								       rem % f->m, o, lo));
		worst = e > worst ? e : worst;
	}
	ASSERT(worst < 1e-4);
	ir_graph_free(g);
}

static void test_conv_random(void)
{
	uint64_t s = 42;
	int before = test_failures;
	for (int it = 0; it < 120; it++) {
		conv_cfg f = {.nsp = 1 + it % 3, .bias = it % 2, .autopad = it % 7 < 4 ? it % 7 : 0};
		f.group = (int)ot_pick(&s, 1, 3);
		f.n = ot_pick(&s, 1, 2);
		f.c = f.group * ot_pick(&s, 1, 3);
		f.m = f.group * ot_pick(&s, 1, 3);
		for (int d = 0; d < f.nsp; d++) {
			f.k[d] = ot_pick(&s, 1, 3);
			f.s[d] = ot_pick(&s, 1, 3);
			f.d[d] = ot_pick(&s, 1, 2);
			f.pads[d] = ot_pick(&s, 0, 2);
			f.pads[f.nsp + d] = ot_pick(&s, 0, 2);
			f.in[d] = (f.k[d] - 1) * f.d[d] + ot_pick(&s, 1, f.nsp == 3 ? 4 : 7);
		}
		conv_random_case(&f, it % 5 == 4 ? IR_F64 : IR_F32, (uint64_t)it + 1);
		if (test_failures != before) {
			fprintf(stderr, "config %d: nsp %d group %d autopad %d\n", it, f.nsp, f.group,
				f.autopad);
			return;
		}
	}
}

/* ------------------------------------------------------------- shapes */

static int conv_infer_case(int xr, const int64_t *xd, const char *const *xs, int wr,
			   const int64_t *wd, int group, char *shape, char *err)
{
	ir_graph *g = ir_graph_new("conv");
	ir_node *n = ot_node(g, IR_OP_Conv, 22, 2, 1);
	ot_shape(n->in[0], IR_F32, xr, xd, xs);
	ot_shape(n->in[1], IR_F32, wr, wd, NULL);
	if (group != 1)
		ot_int(g, n, "group", group);
	ot_ints(g, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
	int rc = ot_infer(g, n);
	ir_shape_str(&n->out[0]->shape, shape, 128);
	snprintf(err, sizeof g->err, "%s", g->err);
	ir_graph_free(g);
	return rc;
}

static void test_conv_infer(void)
{
	char s[128], e[sizeof ((ir_graph *)0)->err];
	ASSERT(conv_infer_case(4, (int64_t[]){-1, 3, 8, 8}, (const char *[]){"N", 0, 0, 0}, 4,
			       (int64_t[]){4, 3, 3, 3}, 1, s, e) == 0);
	ASSERT(!strcmp(s, "[N,4,8,8]"));
	ASSERT(conv_infer_case(4, (int64_t[]){2, 6, -1, 9}, NULL, 4, (int64_t[]){3, 2, 3, 3}, 3, s,
			       e) == 0);
	ASSERT(!strcmp(s, "[2,3,?,9]"));
	ASSERT(conv_infer_case(-1, NULL, NULL, 4, (int64_t[]){4, 2, 3, 3}, 1, s, e) == 0);
	ASSERT(!strcmp(s, "[?,4,?,?]"));
	ASSERT(conv_infer_case(4, (int64_t[]){1, 4, 8, 8}, NULL, 4, (int64_t[]){4, 3, 3, 3}, 1, s,
			       e) == -1);
	ASSERT_STR_CONTAINS(e, "X [1,4,8,8] has 4 channels but W [4,3,3,3] expects 3");
	ASSERT(conv_infer_case(4, (int64_t[]){1, 4, 8, 8}, NULL, 4, (int64_t[]){3, 2, 3, 3}, 2, s,
			       e) == -1);
	ASSERT_STR_CONTAINS(e, "group 2 does not divide the 3 output channels");
	ASSERT(conv_infer_case(4, (int64_t[]){1, 3, 8, 8}, NULL, 3, (int64_t[]){4, 3, 3}, 1, s,
			       e) == -1);
	ASSERT_STR_CONTAINS(e, "must have the same rank");
	ASSERT(conv_infer_case(4, (int64_t[]){1, 3, 1, 1}, NULL, 4, (int64_t[]){4, 3, 5, 5}, 1, s,
			       e) == -1);
	ASSERT_STR_CONTAINS(e, "larger than the padded input");
}

/* check() / infer() diagnostics for one attribute setting. */
static void conv_attr_error(const char *attrs, const char *want)
{
	ir_graph *g = ir_graph_new("conv");
	ir_node *n = ot_node(g, IR_OP_Conv, 22, 2, 1);
	ot_inputs(g, n, "f32[1,3,8,8] f32[4,3,3,3]");
	ot_attrs(g, n, attrs);
	ASSERT(ot_infer(g, n) == -1);
	ASSERT_STR_CONTAINS(g->err, want);
	ir_graph_free(g);
}

static void test_conv_attr_errors(void)
{
	conv_attr_error("pads=0,-1,0,0", "pads[1] = -1, must be non-negative");
	conv_attr_error("pads=0,1,0", "pads has 3 values, expected two per spatial dim");
	conv_attr_error("auto_pad=SAME", "unknown auto_pad 'SAME'");
	conv_attr_error("kernel_shape=3,3,3", "kernel_shape has 3 values, expected 2");
	conv_attr_error("kernel_shape=3,2", "kernel_shape[1] = 2 does not match W [4,3,3,3]");
	conv_attr_error("strides=1,0", "strides[1] = 0, must be positive");
	conv_attr_error("group=0", "group must be a positive int");
	conv_attr_error("auto_pad=SAME_UPPER;pads=1,1,1,1",
			"pads cannot be combined with auto_pad=SAME_UPPER");
	conv_attr_error("strides=1,1;dilations=2", "dilations has 1 values, expected 2");
}

/* ----------------------------------------------------- BatchNormalization */

static void test_batchnorm_example(void)
{
	/* the ONNX docs example, by hand */
	ir_graph *g = ir_graph_new("bn");
	ir_node *n = ot_node(g, IR_OP_BatchNormalization, 15, 5, 1);
	ot_float(g, n, "epsilon", 1e-2);
	int64_t c = 2;
	ir_tensor *in[5] = {
		ot_tensor(g, IR_F32, 4, (int64_t[]){1, 2, 1, 3}, (double[]){-1, 0, 1, 2, 3, 4}),
		ot_tensor(g, IR_F32, 1, &c, (double[]){1.0, 1.5}),
		ot_tensor(g, IR_F32, 1, &c, (double[]){0, 1}),
		ot_tensor(g, IR_F32, 1, &c, (double[]){0, 3}),
		ot_tensor(g, IR_F32, 1, &c, (double[]){1, 1.5}),
	};
	ir_tensor *out[1];
	ASSERT(ot_run(g, n, in, out) == 0);
	for (int i = 0; i < 6; i++) {
		int ch = i / 3;
		double x = ir_tensor_get_f64(in[0], i), sc[2] = {1, 1.5}, b[2] = {0, 1},
		       mu[2] = {0, 3}, var[2] = {1, 1.5};
		double want = sc[ch] * (x - mu[ch]) / sqrt(var[ch] + 1e-2) + b[ch];
		ASSERT_NEAR(ir_tensor_get_f64(out[0], i), want, 1e-6);
	}
	ir_graph_free(g);

	/* rank 2 ([N, C]), float64, default epsilon */
	g = ir_graph_new("bn");
	n = ot_node(g, IR_OP_BatchNormalization, 9, 5, 1);
	c = 3;
	ir_tensor *in2[5] = {
		ot_tensor(g, IR_F64, 2, (int64_t[]){2, 3}, (double[]){1, 2, 3, 4, 5, 6}),
		ot_tensor(g, IR_F64, 1, &c, (double[]){2, 2, 2}),
		ot_tensor(g, IR_F64, 1, &c, (double[]){0, 0, 1}),
		ot_tensor(g, IR_F64, 1, &c, (double[]){1, 1, 1}),
		ot_tensor(g, IR_F64, 1, &c, (double[]){4, 4, 4}),
	};
	ASSERT(ot_run(g, n, in2, out) == 0);
	ASSERT_NEAR(((double *)out[0]->data)[5], 2 * (6 - 1) / sqrt(4 + 1e-5) + 1, 1e-12);
	ir_graph_free(g);
}

static void bn_error(int opset, int nout, const char *attr, int64_t v, const char *want)
{
	ir_graph *g = ir_graph_new("bn");
	ir_node *n = ot_node(g, IR_OP_BatchNormalization, opset, 5, nout);
	if (attr)
		ot_int(g, n, attr, v);
	ot_shape(n->in[0], IR_F32, 4, (int64_t[]){2, 3, 4, 5}, NULL);
	for (int i = 1; i < 5; i++)
		ot_shape(n->in[i], IR_F32, 1, (int64_t[]){i == 4 ? 4 : 3}, NULL);
	ASSERT(ot_infer(g, n) == -1);
	ASSERT_STR_CONTAINS(g->err, want);
	ir_graph_free(g);
}

static void test_batchnorm_errors(void)
{
	bn_error(15, 3, "training_mode", 2, "training_mode must be 0 or 1");
	bn_error(15, 3, NULL, 0, "only valid with training_mode=1");
	bn_error(9, 5, NULL, 0, "before opset 14");
	bn_error(7, 1, "spatial", 0, "spatial=0");
	bn_error(15, 1, NULL, 0, "input_var [4] must be a vector of the channels of X [2,3,4,5]");
}

/* Conv then BatchNormalization equals one Conv with folded W and B. */
static void test_conv_batchnorm_fold(void)
{
	uint64_t seed = 5;
	ir_graph *g = ir_graph_new("fold");
	ir_node *cv = ot_node(g, IR_OP_Conv, 15, 3, 1);
	ir_node *bn = ot_node(g, IR_OP_BatchNormalization, 15, 5, 1);
	ot_ints(g, cv, "pads", 4, (int64_t[]){1, 0, 2, 1});
	ot_ints(g, cv, "strides", 2, (int64_t[]){2, 1});
	ot_int(g, cv, "group", 2);
	ot_float(g, bn, "epsilon", 1e-3);
	int64_t m = 4;
	ir_tensor *x = ot_random(g, IR_F32, 4, (int64_t[]){2, 4, 6, 5}, 1, &seed);
	ir_tensor *w = ot_random(g, IR_F32, 4, (int64_t[]){4, 2, 3, 2}, 1, &seed);
	ir_tensor *b = ot_random(g, IR_F32, 1, &m, 1, &seed);
	ir_tensor *sc = ot_random(g, IR_F32, 1, &m, 2, &seed);
	ir_tensor *bb = ot_random(g, IR_F32, 1, &m, 1, &seed);
	ir_tensor *mu = ot_random(g, IR_F32, 1, &m, 1, &seed);
	ir_tensor *var = ot_random(g, IR_F32, 1, &m, 1, &seed);
	for (int i = 0; i < 4; i++)
		ir_tensor_set_f64(var, i, fabs(ir_tensor_get_f64(var, i)) + 0.1);
	ir_tensor *y1[1], *y2[1], *y3[1];
	ASSERT(ot_run(g, cv, (ir_tensor *[]){x, w, b}, y1) == 0);
	ASSERT(ot_run(g, bn, (ir_tensor *[]){y1[0], sc, bb, mu, var}, y2) == 0);
	ir_tensor *wf = ir_tensor_clone(g->arena, w), *bf = ir_tensor_clone(g->arena, b);
	int64_t per = w->numel / m;
	for (int i = 0; i < m; i++) {
		double a = ir_tensor_get_f64(sc, i) / sqrt(ir_tensor_get_f64(var, i) + 1e-3);
		for (int64_t j = 0; j < per; j++)
			ir_tensor_set_f64(wf, i * per + j, a * ir_tensor_get_f64(w, i * per + j));
		ir_tensor_set_f64(bf, i, a * (ir_tensor_get_f64(b, i) - ir_tensor_get_f64(mu, i)) +
					     ir_tensor_get_f64(bb, i));
	}
	ASSERT(ot_run(g, cv, (ir_tensor *[]){x, wf, bf}, y3) == 0);
	ASSERT(y3[0]->numel == y2[0]->numel && y2[0]->numel == 2 * 4 * 4 * 5);
	ASSERT(ot_err(y3[0], y2[0], 1e-4, 1e-5) <= 1);
	ir_graph_free(g);
}

TEST_MAIN({"conv_doc_examples", test_conv_doc_examples}, {"conv_random", test_conv_random},
	  {"conv_infer", test_conv_infer}, {"conv_attr_errors", test_conv_attr_errors},
	  {"batchnorm_example", test_batchnorm_example},
	  {"batchnorm_errors", test_batchnorm_errors},
	  {"conv_batchnorm_fold", test_conv_batchnorm_fold})
