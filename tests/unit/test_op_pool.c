/* test_op_pool.c - MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool
 * (passes/op_pool.c): the ONNX documentation examples by hand (pads,
 * strides, auto_pad, ceil_mode, dilations, count_include_pad, argmax
 * indices in both storage orders), random N-d cases against a direct
 * loop, integer inputs, shape inference and diagnostics. */
#include "test.h"
#include "op_test.h"

/* Run op on x (values start, start+1, ... unless data is given) and
 * compare Y (and Indices when want_ind) with the expected values. */
static void pool_case(ir_op op, ir_dtype t, int rank, const int64_t *dims, const double *data,
		      const char *attrs, int orank, const int64_t *odims, const double *want,
		      const double *want_ind)
{
	ir_graph *g = ir_graph_new("pool");
	ir_node *n = ot_node(g, op, 22, 1, want_ind ? 2 : 1);
	ot_attrs(g, n, attrs);
	ir_tensor *x = ot_tensor(g, t, rank, dims, data);
	for (int64_t i = 0; !data && i < x->numel; i++)
		ir_tensor_set_f64(x, i, (double)(i + 1));
	ir_tensor *out[2] = {0};
	ASSERT(ot_run(g, n, &x, out) == 0);
	ASSERT(out[0]->rank == orank && out[0]->dtype == t);
	for (int i = 0; i < orank; i++)
		ASSERT(out[0]->dims[i] == odims[i]);
	for (int64_t i = 0; i < out[0]->numel; i++)
		ASSERT_NEAR(ir_tensor_get_f64(out[0], i), want[i], 1e-4);
	if (want_ind) {
		ASSERT(out[1]->dtype == IR_I64 && out[1]->numel == out[0]->numel);
		for (int64_t i = 0; i < out[1]->numel; i++)
			ASSERT(((int64_t *)out[1]->data)[i] == (int64_t)want_ind[i]);
	}
	ir_graph_free(g);
}

static const int64_t d55[4] = {1, 1, 5, 5}, d44[4] = {1, 1, 4, 4};

static void test_maxpool_doc(void)
{
	double y[25] = {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25,
			23, 24, 25, 25, 25, 23, 24, 25, 25, 25};
	double iy[25];
	for (int i = 0; i < 25; i++)
		iy[i] = y[i] - 1;
	pool_case(IR_OP_MaxPool, IR_F32, 4, d55, NULL, "kernel_shape=5,5;pads=2,2,2,2", 4, d55, y, iy);
	pool_case(IR_OP_MaxPool, IR_U8, 4, d55, NULL, "kernel_shape=5,5;pads=2,2,2,2", 4, d55, y, NULL);
	pool_case(IR_OP_MaxPool, IR_F32, 4, d55, NULL, "kernel_shape=2,2;strides=2,2", 4,
		  (int64_t[]){1, 1, 2, 2}, (double[]){7, 9, 17, 19}, NULL);
	/* storage_order=1: column-major indices */
	pool_case(IR_OP_MaxPool, IR_F32, 4, d55, NULL, "kernel_shape=2,2;strides=2,2;storage_order=1",
		  4, (int64_t[]){1, 1, 2, 2}, (double[]){7, 9, 17, 19}, (double[]){6, 16, 8, 18});
	pool_case(IR_OP_MaxPool, IR_F32, 4, d55, NULL, "kernel_shape=3,3;strides=2,2;auto_pad=SAME_UPPER",
		  4, (int64_t[]){1, 1, 3, 3}, (double[]){7, 9, 10, 17, 19, 20, 22, 24, 25}, NULL);
	pool_case(IR_OP_MaxPool, IR_F32, 4, d44, NULL, "kernel_shape=3,3;strides=2,2;ceil_mode=1", 4,
		  (int64_t[]){1, 1, 2, 2}, (double[]){11, 12, 15, 16}, NULL);
	pool_case(IR_OP_MaxPool, IR_F32, 4, d44, NULL, "kernel_shape=2,2;dilations=2,2", 4,
		  (int64_t[]){1, 1, 2, 2}, (double[]){11, 12, 15, 16}, NULL);
	/* ceil_mode would add a window starting in the end padding: dropped */
	pool_case(IR_OP_MaxPool, IR_F32, 4, (int64_t[]){1, 1, 2, 2}, NULL,
		  "kernel_shape=1,1;strides=2,2;ceil_mode=1", 4, (int64_t[]){1, 1, 1, 1},
		  (double[]){1}, NULL);
	/* 1-D, and indices that include the batch and channel offset */
	pool_case(IR_OP_MaxPool, IR_F32, 3, (int64_t[]){2, 2, 3},
		  (double[]){1, 5, 2, 7, 3, 3, 0, -1, -2, 4, 4, 9}, "kernel_shape=2", 3, (int64_t[]){2, 2, 2}, (double[]){5, 5, 7, 3, 0, -1, 4, 9},
		  (double[]){1, 1, 3, 4, 6, 7, 9, 11});
	/* int8 with negative values; an all-padding-free 3-D window */
	pool_case(IR_OP_MaxPool, IR_I8, 5, (int64_t[]){1, 1, 2, 2, 2},
		  (double[]){-5, -7, -128, -6, -9, -100, -8, -3}, "kernel_shape=2,2,2", 5,
		  (int64_t[]){1, 1, 1, 1, 1}, (double[]){-3}, (double[]){7});
}

static void test_averagepool_doc(void)
{
	pool_case(IR_OP_AveragePool, IR_F32, 4, d55, NULL, "kernel_shape=5,5;pads=2,2,2,2", 4, d55,
		  (double[]){7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14,
			     14.5, 15, 15.5, 16, 16.5, 17, 17.5, 18, 18.5, 19}, NULL);
	pool_case(IR_OP_AveragePool, IR_F32, 4, d55, NULL,
		  "kernel_shape=5,5;pads=2,2,2,2;count_include_pad=1", 4, d55,
		  (double[]){2.52, 3.6, 4.8, 4.08, 3.24, 4.56, 6.4, 8.4, 7.04, 5.52, 7.2, 10, 13,
			     10.8, 8.4, 6.96, 9.6, 12.4, 10.24, 7.92, 6.12, 8.4, 10.8, 8.88, 6.84},
		  NULL);
	pool_case(IR_OP_AveragePool, IR_F32, 4, d55, NULL, "kernel_shape=2,2;strides=2,2", 4,
		  (int64_t[]){1, 1, 2, 2}, (double[]){4, 6, 14, 16}, NULL);
	pool_case(IR_OP_AveragePool, IR_F32, 4, d55, NULL,
		  "kernel_shape=3,3;strides=2,2;auto_pad=SAME_UPPER", 4, (int64_t[]){1, 1, 3, 3},
		  (double[]){4, 5.5, 7, 11.5, 13, 14.5, 19, 20.5, 22}, NULL);
	pool_case(IR_OP_AveragePool, IR_F32, 4, d44, NULL, "kernel_shape=3,3;strides=2,2;ceil_mode=1",
		  4, (int64_t[]){1, 1, 2, 2}, (double[]){6, 7.5, 12, 13.5}, NULL);
	pool_case(IR_OP_AveragePool, IR_F32, 4, d44, NULL,
		  "kernel_shape=2,2;strides=1,1;dilations=2,2;ceil_mode=1", 4,
		  (int64_t[]){1, 1, 2, 2}, (double[]){6, 7, 10, 11}, NULL);
	/* SAME_LOWER puts the odd pad first: 2x2 input, kernel 2 */
	pool_case(IR_OP_AveragePool, IR_F32, 4, (int64_t[]){1, 1, 2, 2}, NULL,
		  "kernel_shape=2,2;auto_pad=SAME_LOWER", 4, (int64_t[]){1, 1, 2, 2},
		  (double[]){1, 1.5, 2, 2.5}, NULL);
	pool_case(IR_OP_AveragePool, IR_F32, 4, (int64_t[]){1, 1, 2, 2}, NULL,
		  "kernel_shape=2,2;auto_pad=SAME_UPPER", 4, (int64_t[]){1, 1, 2, 2},
		  (double[]){2.5, 3, 3.5, 4}, NULL);
	/* the last window starts in the begin padding: one output, 9 counted */
	pool_case(IR_OP_AveragePool, IR_F32, 4, (int64_t[]){1, 1, 2, 2},
		  (double[]){0.8580, 0.0786, 0.2692, 0.1537},
		  "kernel_shape=3,3;strides=3,3;pads=1,1,1,1;ceil_mode=1;count_include_pad=1", 4,
		  (int64_t[]){1, 1, 1, 1}, (double[]){1.3595 / 9}, NULL);
	/* a ceil_mode window running past the end padding counts only up to it:
	 * in 4, kernel 3, stride 2, pads 0/1: windows [0,3) and [2,5) -> 2,3,pad */
	pool_case(IR_OP_AveragePool, IR_F32, 3, (int64_t[]){1, 1, 4}, NULL,
		  "kernel_shape=3;strides=2;pads=0,1;ceil_mode=1;count_include_pad=1", 3,
		  (int64_t[]){1, 1, 2}, (double[]){2, 7.0 / 3}, NULL);
	pool_case(IR_OP_AveragePool, IR_F32, 3, (int64_t[]){1, 1, 4}, NULL,
		  "kernel_shape=3;strides=3;pads=0,0;ceil_mode=1;count_include_pad=1", 3,
		  (int64_t[]){1, 1, 2}, (double[]){2, 4}, NULL);
}

static void test_global_pools(void)
{
	double x[12] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, 0};
	pool_case(IR_OP_GlobalAveragePool, IR_F32, 4, (int64_t[]){1, 2, 2, 3}, x, "", 4,
		  (int64_t[]){1, 2, 1, 1}, (double[]){3.5, -2.5}, NULL);
	pool_case(IR_OP_GlobalMaxPool, IR_F64, 4, (int64_t[]){1, 2, 2, 3}, x, "", 4,
		  (int64_t[]){1, 2, 1, 1}, (double[]){6, 0}, NULL);
	pool_case(IR_OP_GlobalAveragePool, IR_F64, 5, (int64_t[]){2, 1, 1, 2, 3}, x, "", 5,
		  (int64_t[]){2, 1, 1, 1, 1}, (double[]){3.5, -2.5}, NULL);
	pool_case(IR_OP_GlobalMaxPool, IR_F32, 3, (int64_t[]){3, 1, 4}, x, "", 3,
		  (int64_t[]){3, 1, 1}, (double[]){4, 6, 0}, NULL);
}

/* ------------------------------------------------- random vs direct loop */

typedef struct pool_cfg {
	int nsp, ceil, incl, max;
	int64_t in[3], k[3], s[3], d[3], pads[6];
} pool_cfg;

static int64_t ref_extent(const pool_cfg *f, int d)
{
	int64_t ek = (f->k[d] - 1) * f->d[d] + 1, p0 = f->pads[d], p1 = f->pads[f->nsp + d];
	double r = (double)(f->in[d] + p0 + p1 - ek) / (double)f->s[d] + 1;
	int64_t o = (int64_t)(f->ceil ? ceil(r) : floor(r));
	while (f->ceil && (o - 1) * f->s[d] >= f->in[d] + p0)
		o--;
	return o;
}

static void pool_random_case(const pool_cfg *f, uint64_t seed)
{
	ir_graph *g = ir_graph_new("pool");
	ir_node *nd = ot_node(g, f->max ? IR_OP_MaxPool : IR_OP_AveragePool, 22, 1, f->max ? 2 : 1);
	int nsp = f->nsp;
	ot_ints(g, nd, "kernel_shape", nsp, f->k);
	ot_ints(g, nd, "strides", nsp, f->s);
	ot_ints(g, nd, "dilations", nsp, f->d);
	ot_ints(g, nd, "pads", 2 * nsp, f->pads);
	ot_int(g, nd, "ceil_mode", f->ceil);
	if (!f->max)
		ot_int(g, nd, "count_include_pad", f->incl);
	int64_t xd[5] = {2, 3};
	for (int d = 0; d < nsp; d++)
		xd[d + 2] = f->in[d];
	ir_tensor *x = ot_random(g, IR_F32, nsp + 2, xd, 1, &seed);
	ir_tensor *out[2];
	ASSERT(ot_run(g, nd, &x, out) == 0);
	int64_t od[3] = {1, 1, 1}, kd[3] = {1, 1, 1}, in[3] = {1, 1, 1}, lo[3] = {0}, hi[3] = {0};
	int64_t pn = 1, plane = 1;
	for (int d = 0; d < nsp; d++) {
		od[d] = ref_extent(f, d);
		ASSERT(out[0]->dims[d + 2] == od[d]);
		kd[d] = f->k[d];
		in[d] = f->in[d];
		lo[d] = f->pads[d];
		hi[d] = f->pads[nsp + d];
		pn *= od[d];
		plane *= in[d];
	}
	for (int64_t j = 0; j < out[0]->numel; j++) {
		int64_t pl = j / pn, r = j % pn, o[3] = {0};
		for (int d = nsp - 1; d >= 0; d--) {
			o[d] = r % od[d];
			r /= od[d];
		}
		double best = -INFINITY, sum = 0;
		int64_t arg = -1, cnt = 0, cpad = 0;
		for (int64_t k0 = 0; k0 < kd[0]; k0++)
			for (int64_t k1 = 0; k1 < kd[1]; k1++)
				for (int64_t k2 = 0; k2 < kd[2]; k2++) {
					int64_t k[3] = {k0, k1, k2}, flat = 0;
					int inside = 1, inpad = 1;
					for (int d = 0; d < nsp; d++) {
						int64_t p = o[d] * f->s[d] - lo[d] + k[d] * f->d[d];
						inside &= p >= 0 && p < in[d];
						inpad &= p < in[d] + hi[d];
						flat = flat * in[d] + p;
					}
					cpad += inpad;
					if (!inside)
						continue;
					double v = ir_tensor_get_f64(x, pl * plane + flat);
					cnt++;
					sum += v;
					if (v > best) {
						best = v;
						arg = pl * plane + flat;
					}
				}
		double want = f->max ? best : sum / (double)(f->incl ? cpad : cnt);
		ASSERT_NEAR(ir_tensor_get_f64(out[0], j), want, 1e-5);
		if (f->max)
			ASSERT(((int64_t *)out[1]->data)[j] == arg);
	}
	ir_graph_free(g);
}

static void test_pool_random(void)
{
	uint64_t s = 7;
	int before = test_failures;
	for (int it = 0; it < 150; it++) {
		pool_cfg f = {.nsp = 1 + it % 3, .ceil = (it / 3) % 2, .incl = (it / 6) % 2,
			      .max = (it / 12) % 2};
		for (int d = 0; d < f.nsp; d++) {
			f.k[d] = ot_pick(&s, 1, 3);
			f.s[d] = ot_pick(&s, 1, 3);
			f.d[d] = ot_pick(&s, 1, 2);
			int64_t ek = (f.k[d] - 1) * f.d[d] + 1;
			/* pads smaller than the window, so no window is all padding */
			f.pads[d] = ot_pick(&s, 0, ek - 1 < 2 ? ek - 1 : 2);
			f.pads[f.nsp + d] = ot_pick(&s, 0, ek - 1 < 2 ? ek - 1 : 2);
			f.in[d] = ek + ot_pick(&s, 0, f.nsp == 3 ? 3 : 6);
		}
		pool_random_case(&f, (uint64_t)it + 1);
		if (test_failures != before) {
			fprintf(stderr, "config %d: nsp %d ceil %d incl %d max %d\n", it, f.nsp,
				f.ceil, f.incl, f.max);
			return;
		}
	}
}

/* ------------------------------------------------------------- shapes */

static int pool_infer_case(ir_op op, const char *attrs, int xr, const int64_t *xd,
			   const char *const *xs, ir_dtype t, char *shape, char *err)
{
	ir_graph *g = ir_graph_new("pool");
	ir_node *n = ot_node(g, op, 22, 1, op == IR_OP_MaxPool ? 2 : 1);
	ot_attrs(g, n, attrs);
	ot_shape(n->in[0], t, xr, xd, xs);
	int rc = ot_infer(g, n);
	ir_shape_str(&n->out[0]->shape, shape, 128);
	char s2[128];
	if (op == IR_OP_MaxPool && !rc &&
	    (n->out[1]->dtype != IR_I64 ||
	     strcmp(shape, ir_shape_str(&n->out[1]->shape, s2, sizeof s2))))
		rc = -2; /* Indices: int64, the shape of Y */
	snprintf(err, sizeof g->err, "%s", g->err);
	ir_graph_free(g);
	return rc;
}

static void test_pool_infer(void)
{
	char s[128], e[sizeof((ir_graph *)0)->err];
	const char *const nsym[] = {"N", 0, 0, 0};
	ASSERT(pool_infer_case(IR_OP_MaxPool, "kernel_shape=3,3;strides=2,2", 4,
			       (int64_t[]){-1, 3, 32, -1}, nsym, IR_F32, s, e) == 0);
	ASSERT(!strcmp(s, "[N,3,15,?]"));
	ASSERT(pool_infer_case(IR_OP_AveragePool, "kernel_shape=2,2,2", -1, NULL, NULL, IR_F32, s,
			       e) == 0);
	ASSERT(!strcmp(s, "[?,?,?,?,?]"));
	ASSERT(pool_infer_case(IR_OP_GlobalAveragePool, "", 4, (int64_t[]){-1, 8, 7, 7}, nsym,
			       IR_F64, s, e) == 0);
	ASSERT(!strcmp(s, "[N,8,1,1]"));
	ASSERT(pool_infer_case(IR_OP_MaxPool, "kernel_shape=3", 4, (int64_t[]){1, 3, 8, 8}, NULL,
			       IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "kernel_shape has 1 values, expected 2");
	ASSERT(pool_infer_case(IR_OP_MaxPool, "strides=1,1", 4, (int64_t[]){1, 3, 8, 8}, NULL,
			       IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "kernel_shape is required");
	ASSERT(pool_infer_case(IR_OP_MaxPool, "kernel_shape=3,3;storage_order=2", 4,
			       (int64_t[]){1, 3, 8, 8}, NULL, IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "storage_order must be 0 or 1");
	ASSERT(pool_infer_case(IR_OP_AveragePool, "kernel_shape=3,3", 4, (int64_t[]){1, 3, 8, 8},
			       NULL, IR_I8, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "input X has unsupported dtype i8");
	ASSERT(pool_infer_case(IR_OP_AveragePool, "kernel_shape=3,3;auto_pad=same", 4,
			       (int64_t[]){1, 3, 8, 8}, NULL, IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "unknown auto_pad 'same'");
	ASSERT(pool_infer_case(IR_OP_AveragePool, "kernel_shape=3,3;pads=1,1,-1,1", 4,
			       (int64_t[]){1, 3, 8, 8}, NULL, IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "pads[2] = -1, must be non-negative");
	ASSERT(pool_infer_case(IR_OP_MaxPool, "kernel_shape=3,3", 3, (int64_t[]){1, 3, 8}, NULL,
			       IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "kernel_shape has 2 values, expected 1");
	ASSERT(pool_infer_case(IR_OP_MaxPool, "kernel_shape=9", 3, (int64_t[]){1, 3, 8}, NULL,
			       IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "larger than the padded input");
	ASSERT(pool_infer_case(IR_OP_AveragePool, "kernel_shape=2;ceil_mode=3", 3,
			       (int64_t[]){1, 3, 8}, NULL, IR_F32, s, e) == -1);
	ASSERT_STR_CONTAINS(e, "ceil_mode must be 0 or 1");
}

TEST_MAIN({"maxpool_doc", test_maxpool_doc}, {"averagepool_doc", test_averagepool_doc},
	  {"global_pools", test_global_pools}, {"pool_random", test_pool_random},
	  {"pool_infer", test_pool_infer})
