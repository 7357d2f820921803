/* test_train.c - the training engine end to end (passes/train.c, optim.c):
 * a small MLP learns separable synthetic data through train_fit, two runs
 * give bit-identical weights, the optimisers and schedules match their
 * formulas, the weights go back into the graph, the parameter mask holds,
 * unsupported graphs are refused with the node named, and (with the shared
 * MNIST data) the example MLP compressed to bond 4 is healed. */
#include "test.h"

#include "../../frontend/dataset.h"
#include "../../frontend/onnx.h"
#include "../../ir/ir.h"
#include "../../passes/compress.h"
#include "../../passes/la.h"
#include "../../passes/passes.h"
#include "../../passes/train.h"

#include <stdint.h>

/* "{v, v, ...}" of n values uniform in [-scale, scale]; malloc'd. */
static char *weights(int64_t n, double scale, ds_rng *r)
{
	char *s = malloc((size_t)n * 20 + 8);
	size_t len = (size_t)sprintf(s, "{");
	for (int64_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s%.7g", i ? ", " : "",
				       scale * (2 * ds_rng_uniform(r) - 1));
	sprintf(s + len, "}");
	return s;
}

static ir_graph *parse_infer(const char *text)
{
	char err[512];
	ir_graph *g = ir_parse(text, "train.ir", err, sizeof err);
	if (!g) {
		fprintf(stderr, "parse: %s\n", err);
		return NULL;
	}
	if (pass_infer(g)) {
		fprintf(stderr, "infer: %s\n", g->err);
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

/* MLP 16 -> 32 -> 4 (Relu), PyTorch's default init scale 1/sqrt(fan_in);
 * input [N, 1, 4, 4] flattened. */
static ir_graph *mlp_graph(uint64_t seed, const char *tail)
{
	ds_rng r;
	ds_rng_seed(&r, seed);
	char *w1 = weights(32 * 16, 0.25, &r), *b1 = weights(32, 0.25, &r);
	char *w2 = weights(4 * 32, 0.177, &r), *b2 = weights(4, 0.177, &r);
	size_t cap = strlen(w1) + strlen(w2) + 4096;
	char *text = malloc(cap);
	snprintf(text, cap,
		 "graph @mlp {\n opset 13\n input %%x : f32[N,1,4,4]\n"
		 " const %%w1 = f32[32,16] %s\n const %%b1 = f32[32] %s\n"
		 " const %%w2 = f32[4,32] %s\n const %%b2 = f32[4] %s\n"
		 " %%f = Flatten(%%x) {axis = 1} @flat\n"
		 " %%h = Gemm(%%f, %%w1, %%b1) {transB = 1} @fc1\n %%a = Relu(%%h) @relu\n"
		 " %%y = Gemm(%%a, %%w2, %%b2) {transB = 1} @fc2\n%s}\n",
		 w1, b1, w2, b2, tail ? tail : " output %y\n");
	ir_graph *g = parse_infer(text);
	free(w1);
	free(b1);
	free(w2);
	free(b2);
	free(text);
	return g;
}

/* n samples of 4×4 "images" whose class is the argmax of a fixed random
 * linear map of the centred pixels: linearly separable. */
static ds_set *synthetic(int64_t n, uint64_t seed)
{
	ds_set *d = calloc(1, sizeof *d);
	d->kind = DS_MNIST;
	d->n = n;
	d->c = 1;
	d->h = d->w = 4;
	d->nclasses = 4;
	d->pixels = malloc((size_t)n * 16);
	d->labels = malloc((size_t)n);
	ds_rng r;
	ds_rng_seed(&r, 777);
	double W[4][16];
	for (int k = 0; k < 4; k++)
		for (int j = 0; j < 16; j++)
			W[k][j] = 2 * ds_rng_uniform(&r) - 1;
	ds_rng_seed(&r, seed);
	for (int64_t i = 0; i < n; i++) {
		double s[4] = {0};
		for (int j = 0; j < 16; j++) {
			uint8_t p = (uint8_t)ds_rng_below(&r, 256);
			d->pixels[i * 16 + j] = p;
			for (int k = 0; k < 4; k++)
				s[k] += W[k][j] * (p / 255.0 - 0.5);
		}
		int best = 0;
		for (int k = 1; k < 4; k++)
			if (s[k] > s[best])
				best = k;
		d->labels[i] = (uint8_t)best;
	}
	return d;
}

static const ds_preprocess pp_half = {DS_PRE_MEAN_STD, 1, {0.5f}, {0.25f}};

/* Train the MLP on 2000 samples, 8 epochs of batch 64 (250 steps). */
static int fit_mlp(ir_graph *g, const train_config *base, double *val_acc, float **wout,
		   int64_t *nw)
{
	ds_set *d = synthetic(2500, 1);
	char err[256];
	ds_set *val = ds_holdout(d, 500, err, sizeof err);
	train_model *m = train_new(g, NULL);
	int rc = -1;
	if (!m || !val) {
		fprintf(stderr, "%s\n", m ? err : g->err);
		goto done;
	}
	train_config c = *base;
	train_epoch_stats st[16];
	if (train_fit(m, d, val, &c, st)) {
		fprintf(stderr, "fit: %s\n", g->err);
		goto done;
	}
	*val_acc = st[c.epochs - 1].val_accuracy;
	if (wout) {
		int64_t total = 0;
		for (int i = 0; i < train_nparams(m); i++)
			total += train_param_at(m, i)->numel;
		*wout = malloc((size_t)total * sizeof **wout);
		*nw = 0;
		for (int i = 0; i < train_nparams(m); i++) {
			train_param *p = train_param_at(m, i);
			memcpy(*wout + *nw, p->w, (size_t)p->numel * sizeof(float));
			*nw += p->numel;
		}
	}
	rc = 0;
done:
	train_free(m);
	ds_free(d);
	ds_free(val);
	return rc;
}

static void base_config(train_config *c)
{
	train_config_defaults(c);
	c->epochs = 8;
	c->batch = 64;
	c->seed = 42;
	c->pp = &pp_half;
	c->quiet = 1;
}

static void test_mlp_learns_adam(void)
{
	ir_graph *g = mlp_graph(5, NULL);
	ASSERT(g);
	train_config c;
	base_config(&c);
	c.optim.lr = 3e-3;
	c.sched.kind = SCHED_COSINE;
	double acc = 0;
	ASSERT(fit_mlp(g, &c, &acc, NULL, NULL) == 0);
	printf("  adam + cosine: held-out accuracy %.2f%%\n", 100 * acc);
	ASSERT(acc > 0.95);
	ir_graph_free(g);
}

static void test_mlp_learns_sgd(void)
{
	ir_graph *g = mlp_graph(6, NULL);
	ASSERT(g);
	train_config c;
	base_config(&c);
	optim_defaults(&c.optim, OPTIM_SGD);
	c.optim.lr = 0.1;
	c.optim.nesterov = 1;
	c.optim.weight_decay = 1e-4;
	sched_defaults(&c.sched, SCHED_ONECYCLE);
	double acc = 0;
	ASSERT(fit_mlp(g, &c, &acc, NULL, NULL) == 0);
	printf("  sgd nesterov + one-cycle: held-out accuracy %.2f%%\n", 100 * acc);
	ASSERT(acc > 0.95);
	ir_graph_free(g);
}

/* Same seed and thread count: bit-identical weights; another seed: not. */
static void test_determinism(void)
{
	train_config c;
	base_config(&c);
	c.epochs = 2;
	c.aug.pad = 1; /* augmentation draws from the same seeded stream */
	c.aug.flip = 1;
	float *w[3] = {0};
	int64_t n[3];
	double acc;
	int threads = la_set_threads(0);
	for (int run = 0; run < 3; run++) {
		ir_graph *g = mlp_graph(7, NULL);
		ASSERT(g);
		c.seed = run < 2 ? 42 : 43;
		ASSERT(fit_mlp(g, &c, &acc, &w[run], &n[run]) == 0);
		ir_graph_free(g);
	}
	ASSERT(n[0] == n[1] && n[0] == n[2]);
	ASSERT(memcmp(w[0], w[1], (size_t)n[0] * sizeof(float)) == 0);
	ASSERT(memcmp(w[0], w[2], (size_t)n[0] * sizeof(float)) != 0);
	printf("  %lld weights bit-identical over two runs (%d BLAS threads)\n", (long long)n[0],
	       threads);
	for (int i = 0; i < 3; i++)
		free(w[i]);
}

/* After train_write_back the interpreter computes what the engine does. */
static void test_write_back(void)
{
	ir_graph *g = mlp_graph(8, NULL);
	ASSERT(g);
	train_model *m = train_new(g, NULL);
	ASSERT(m);
	ds_set *d = synthetic(256, 3);
	train_config c;
	base_config(&c);
	c.epochs = 1;
	ASSERT(train_fit(m, d, NULL, &c, NULL) == 0);
	float before = ((float *)ir_value_find(g, "w1")->konst->data)[0];
	ASSERT(before != train_param_at(m, 0)->w[0]); /* trained, not yet written */
	train_write_back(m);
	ASSERT(((float *)ir_value_find(g, "w1")->konst->data)[0] == train_param_at(m, 0)->w[0]);
	int64_t dims[4] = {8, 1, 4, 4};
	ir_tensor *x = ir_tensor_new(NULL, IR_F32, 4, dims), *y = NULL;
	char err[128];
	ASSERT(ds_batch(d, NULL, 0, 8, &pp_half, NULL, NULL, x->data, NULL, err, sizeof err) == 0);
	ASSERT(interp_run(g, &x, &y) == 0);
	ASSERT(train_forward(m, x->data, 8) == 0);
	const float *z = train_logits(m);
	for (int i = 0; i < 32; i++)
		ASSERT_NEAR(((float *)y->data)[i], z[i], 1e-5 * (1 + fabs(z[i])));
	ir_tensor_free(x);
	ir_tensor_free(y);
	train_free(m);
	ds_free(d);
	ir_graph_free(g);
}

/* train_evaluate agrees with the loss and hits of train_loss. */
static void test_evaluate(void)
{
	ir_graph *g = mlp_graph(9, NULL);
	ASSERT(g);
	train_model *m = train_new(g, NULL);
	ASSERT(m);
	ds_set *d = synthetic(50, 4);
	double loss, acc, l2;
	int32_t pred[50];
	ASSERT(train_evaluate(m, d, &pp_half, 16, &loss, &acc, pred) == 0);
	float x[50 * 16];
	uint8_t y[50];
	char err[128];
	int64_t hits;
	ASSERT(ds_batch(d, NULL, 0, 50, &pp_half, NULL, NULL, x, y, err, sizeof err) == 0);
	ASSERT(train_forward(m, x, 50) == 0 && train_loss(m, y, &l2, &hits) == 0);
	ASSERT_NEAR(loss, l2, 1e-9);
	ASSERT_NEAR(acc, (double)hits / 50, 1e-12);
	for (int i = 0; i < 50; i++) {
		const float *z = train_logits(m) + i * 4;
		int best = 0;
		for (int k = 1; k < 4; k++)
			if (z[k] > z[best])
				best = k;
		ASSERT(pred[i] == best);
	}
	train_free(m);
	ds_free(d);
	ir_graph_free(g);
}

/* A trailing Softmax is skipped: the loss sees the logits before it. */
static void test_trailing_softmax(void)
{
	ir_graph *g = mlp_graph(10, " %p = Softmax(%y) @sm\n output %p\n");
	ASSERT(g);
	train_model *m = train_new(g, NULL);
	ASSERT(m);
	float x[16];
	for (int i = 0; i < 16; i++)
		x[i] = (float)i / 16;
	ASSERT(train_forward(m, x, 1) == 0);
	const float *z = train_logits(m);
	double s = 0;
	for (int k = 0; k < 4; k++)
		s += z[k];
	ASSERT(fabs(s - 1) > 1e-3 || z[0] < 0); /* not probabilities */
	train_free(m);
	train_opts o = {.keep_softmax = 1};
	m = train_new(g, &o);
	ASSERT(m && train_forward(m, x, 1) == 0);
	z = train_logits(m);
	ASSERT_NEAR(z[0] + z[1] + z[2] + z[3], 1, 1e-6);
	train_free(m);
	ir_graph_free(g);
}

/* Parameter masks: TRAIN_LAYER trains only MpoLinear, TRAIN_NONE plus
 * train_set_trainable picks by name; frozen weights stay bit-identical. */
static void test_mask(void)
{
	ds_rng r;
	ds_rng_seed(&r, 11);
	char *w1 = weights(16 * 16, 0.25, &r), *c0 = weights(1 * 2 * 2 * 4, 0.5, &r);
	char *c1 = weights(4 * 2 * 2 * 4, 0.5, &r), *c2 = weights(4 * 2 * 2 * 2, 0.5, &r);
	char *c3 = weights(2 * 2 * 2 * 1, 0.5, &r), *w2 = weights(4 * 16, 0.25, &r);
	char text[65536];
	snprintf(text, sizeof text,
		 "graph @m {\n opset 13\n opset \"qnnc\" 1\n input %%x : f32[N,1,4,4]\n"
		 " const %%w1 = f32[16,16] %s\n const %%c0 = f32[1,2,2,4] %s\n"
		 " const %%c1 = f32[4,2,2,4] %s\n const %%c2 = f32[4,2,2,2] %s\n"
		 " const %%c3 = f32[2,2,2,1] %s\n const %%w2 = f32[4,16] %s\n"
		 " %%f = Flatten(%%x) {axis = 1} @flat\n %%h = Gemm(%%f, %%w1) {transB = 1} @fc1\n"
		 " %%a = Relu(%%h) @r1\n"
		 " %%m = MpoLinear(%%a, _, %%c0, %%c1, %%c2, %%c3) {rows = 16, cols = 16, n_out = 4,"
		 " n_in = 4, group = 1} @mpo domain \"qnnc\"\n %%b = Relu(%%m) @r2\n"
		 " %%y = Gemm(%%b, %%w2) {transB = 1} @fc3\n output %%y\n}\n",
		 w1, c0, c1, c2, c3, w2);
	free(w1);
	free(c0);
	free(c1);
	free(c2);
	free(c3);
	free(w2);
	ir_graph *g = parse_infer(text);
	ASSERT(g);
	ds_set *d = synthetic(512, 5);
	train_config c;
	base_config(&c);
	c.epochs = 1;
	for (int mode = 0; mode < 2; mode++) {
		train_opts o = {.scope = mode == 0 ? TRAIN_LAYER : TRAIN_NONE};
		train_model *m = train_new(g, &o);
		ASSERT(m);
		ASSERT(train_nparams(m) == 6);
		if (mode == 1) {
			ASSERT(train_set_trainable(m, "fc3", 1) == 1);
			ASSERT(train_set_trainable(m, "c2", 1) == 1);
			ASSERT(train_set_trainable(m, "nothing", 1) == 0);
		}
		float *before[6];
		for (int i = 0; i < 6; i++) {
			train_param *p = train_param_at(m, i);
			before[i] = malloc((size_t)p->numel * sizeof(float));
			memcpy(before[i], p->w, (size_t)p->numel * sizeof(float));
		}
		int count;
		int64_t nt = train_ntrainable(m, &count);
		ASSERT(count == (mode == 0 ? 4 : 2));
		ASSERT(nt == (mode == 0 ? 16 + 64 + 32 + 8 : 32 + 64));
		ASSERT(train_fit(m, d, NULL, &c, NULL) == 0);
		for (int i = 0; i < 6; i++) {
			train_param *p = train_param_at(m, i);
			int same = !memcmp(before[i], p->w, (size_t)p->numel * sizeof(float));
			int want = mode == 0 ? p->node->op == IR_OP_MpoLinear
					     : !strcmp(p->name, "w2") || !strcmp(p->name, "c2");
			if (same == want)
				fprintf(stderr, "  mode %d: %s %s\n", mode, p->name,
					same ? "did not change" : "changed");
			ASSERT(same != want);
			free(before[i]);
		}
		train_free(m);
	}
	ds_free(d);
	ir_graph_free(g);
}

/* Which constants are parameters: a scalar Div (normalisation) is not, a
 * vector Sub (a bias) and the Gemm weight are; constants computed from
 * constants at train_new are not. */
static void test_param_rules(void)
{
	ir_graph *g = parse_infer("graph @p {\n opset 13\n input %x : f32[N,2]\n"
				  " const %s = f32[] {255}\n const %b = f32[2] {0.5, 0.25}\n"
				  " const %w = f32[2,2] {1, 0, 0, 1}\n const %v = f32[2] {1, 2}\n"
				  " %n = Neg(%v) @neg\n %d = Div(%x, %s) @div\n %c = Sub(%d, %b) @sub\n"
				  " %e = Add(%c, %n) @add\n %y = Gemm(%e, %w) @fc\n output %y\n}\n");
	ASSERT(g);
	train_model *m = train_new(g, NULL);
	ASSERT(m);
	ASSERT(train_nparams(m) == 2);
	ASSERT(!strcmp(train_param_at(m, 0)->name, "b") && !strcmp(train_param_at(m, 1)->name, "w"));
	train_free(m);
	ir_graph_free(g);
}

static void test_optim(void)
{
	/* Adam, two steps on one weight, against the formulas in double */
	optim_opts o;
	optim_defaults(&o, OPTIM_ADAM);
	o.lr = 0.1;
	o.weight_decay = 0.01;
	int64_t n = 1;
	optim *p = optim_new(&o, 1, &n);
	ASSERT(p);
	float w = 0.5f, gr;
	float *pw = &w, *pg = &gr;
	double W = 0.5, m = 0, v = 0;
	double gs[2] = {0.3, -0.7};
	for (int t = 1; t <= 2; t++) {
		gr = (float)gs[t - 1];
		optim_step(p, &pw, &pg, o.lr);
		double G = gs[t - 1] + 0.01 * W;
		m = 0.9 * m + 0.1 * G;
		v = 0.999 * v + 0.001 * G * G;
		W -= 0.1 * (m / (1 - pow(0.9, t))) / (sqrt(v / (1 - pow(0.999, t))) + 1e-8);
		ASSERT_NEAR(w, W, 1e-6);
	}
	ASSERT(optim_steps(p) == 2);
	optim_free(p);
	/* AdamW: decay the weight, not the gradient */
	o.decoupled = 1;
	p = optim_new(&o, 1, &n);
	w = 0.5f;
	gr = 0.3f;
	optim_step(p, &pw, &pg, o.lr);
	ASSERT_NEAR(w, 0.5 * (1 - 0.1 * 0.01) - 0.1 * 1.0 / (1 + 1e-8 / 0.3), 1e-6);
	optim_free(p);
	/* SGD momentum, Nesterov */
	optim_defaults(&o, OPTIM_SGD);
	o.lr = 0.1;
	for (int nest = 0; nest < 2; nest++) {
		o.nesterov = nest;
		p = optim_new(&o, 1, &n);
		w = 1;
		double Wd = 1, buf = 0;
		for (int t = 1; t <= 3; t++) {
			gr = (float)(0.2 * t);
			optim_step(p, &pw, &pg, o.lr);
			double G = 0.2 * t;
			buf = t == 1 ? G : 0.9 * buf + G;
			Wd -= 0.1 * (nest ? G + 0.9 * buf : buf);
			ASSERT_NEAR(w, Wd, 1e-6);
		}
		optim_free(p);
	}
	char err[128];
	o.lr = -1;
	ASSERT(optim_check(&o, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "learning rate");
	optim_defaults(&o, OPTIM_ADAM);
	o.beta2 = 1;
	ASSERT(optim_check(&o, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "beta2");
}

static void test_schedules(void)
{
	sched_opts s;
	sched_defaults(&s, SCHED_CONSTANT);
	ASSERT(sched_lr(&s, 0.1, 0, 100) == 0.1 && sched_lr(&s, 0.1, 99, 100) == 0.1);
	s.warmup = 10;
	ASSERT_NEAR(sched_lr(&s, 0.1, 0, 100), 0.01, 1e-15);
	ASSERT_NEAR(sched_lr(&s, 0.1, 9, 100), 0.1, 1e-15);
	sched_defaults(&s, SCHED_COSINE);
	s.warmup = 10;
	s.min_ratio = 0.1;
	ASSERT_NEAR(sched_lr(&s, 1, 4, 110), 0.5, 1e-15);
	ASSERT_NEAR(sched_lr(&s, 1, 10, 110), 1, 1e-15);
	ASSERT_NEAR(sched_lr(&s, 1, 109, 110), 0.1, 1e-12);
	double mid = sched_lr(&s, 1, 10 + 50, 111); /* cosine halfway: mean of the ends */
	ASSERT_NEAR(mid, 0.55, 1e-12);
	/* OneCycleLR: lr/25 at the start, lr at 30%, lr/25/1e4 at the end */
	sched_defaults(&s, SCHED_ONECYCLE);
	ASSERT_NEAR(sched_lr(&s, 1, 0, 101), 0.04, 1e-15);
	ASSERT_NEAR(sched_lr(&s, 1, 100, 101), 0.04 / 1e4, 1e-15);
	double peak = 0;
	for (int t = 0; t < 101; t++)
		peak = fmax(peak, sched_lr(&s, 1, t, 101));
	ASSERT_NEAR(peak, 1, 1e-3);
	ASSERT(sched_lr(&s, 1, 29, 101) > sched_lr(&s, 1, 10, 101));
	ASSERT(sched_lr(&s, 1, 60, 101) < sched_lr(&s, 1, 40, 101));
}

/* Graphs the engine refuses, with the reason and the node. */
static void test_refusals(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{" input %x : f32[N,4]\n %e = Exp(%x) @exp1\n output %e\n",
		 "node 'exp1' (Exp): training does not support Exp"},
		{" input %x : f32[N,2,2,2]\n const %s = f32[2] {1, 1}\n const %b = f32[2] {0, 0}\n"
		 " const %m = f32[2] {0, 0}\n const %v = f32[2] {1, 1}\n"
		 " %y = BatchNormalization(%x, %s, %b, %m, %v) {training_mode = 1} @bn\n"
		 " %f = Flatten(%y) {axis = 1} @flat\n output %f\n", "statistics frozen"},
		{" input %x : f32[N,1,4,4]\n %y, %i = MaxPool(%x) {kernel_shape = [2, 2]} @mp\n"
		 " %c = Cast(%i) {to = 1} @cast\n %z = Add(%y, %c) @add\n %f = Flatten(%z) {axis = 1} @fl\n"
		 " output %f\n", "read by node 'cast'; training supports only output 0 of MaxPool"},
		{" input %x : f32[N,4]\n input %x2 : f32[N,4]\n %y = Add(%x, %x2) @add\n output %y\n",
		 "exactly one input"},
		{" input %x : f64[N,4]\n %y = Relu(%x) @r\n output %y\n", "f32 only"},
		{" input %x : f32[N,4]\n const %w = f32[2,2] {1, 2, 3, 4}\n"
		 " %y = MatMul(%w, %w) @mm\n output %y\n", "do not depend on the input"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[1024];
		snprintf(text, sizeof text, "graph @bad {\n opset 15\n%s}\n", cases[i].text);
		ir_graph *g = parse_infer(text);
		ASSERT(g);
		train_model *m = train_new(g, NULL);
		if (m) {
			fprintf(stderr, "  case %zu was accepted\n", i);
			train_free(m);
		}
		ASSERT(!m);
		ASSERT_STR_CONTAINS(g->err, cases[i].want);
		ir_graph_free(g);
	}
	/* a model that fixes the batch size */
	ir_graph *g = parse_infer("graph @fixed {\n opset 13\n input %x : f32[2,4]\n"
				  " const %s = i64[2] {2, 4}\n %r = Reshape(%x, %s) @rs\n"
				  " %y = Relu(%r) @relu\n output %y\n}\n");
	ASSERT(g);
	train_model *m = train_new(g, NULL);
	ASSERT(m);
	float x[12] = {0};
	ASSERT(train_forward(m, x, 2) == 0);
	ASSERT(train_forward(m, x, 3) == -1);
	ASSERT_STR_CONTAINS(g->err, "fixes the batch size to 2");
	train_free(m);
	ir_graph_free(g);
}

/* The real case of DESIGN.md §3b: the example MNIST MLP with fc2 cut to an
 * MPO of bond 4 loses most of its accuracy; one short epoch of healing
 * (all parameters) brings it back. Training
 * only the MPO (some 300 parameters at bond 4) gets to about 95% in two
 * full epochs; with everything trainable two epochs give 97.3%. */
static void test_heal_mnist(void)
{
	char path[1024], err[512];
	snprintf(path, sizeof path, "%s/examples/mnist-mlp/model.onnx", QNNC_SOURCE_DIR);
	ds_set *tr = ds_load("mnist:" QNNC_SHARED_DATA "/mnist", DS_TRAIN, err, sizeof err);
	ds_set *te = tr ? ds_load("mnist:" QNNC_SHARED_DATA "/mnist", DS_TEST, err, sizeof err) : NULL;
	ir_graph *g = te ? onnx_load(path, err, sizeof err) : NULL;
	if (!g) {
		printf("  SKIP heal_mnist: %s\n", err);
		ds_free(tr);
		ds_free(te);
		return;
	}
	ds_set *tsub = ds_holdout(te, 2000, err, sizeof err); /* the last 2000 test images */
	ASSERT(tsub);
	ds_preprocess pp;
	ASSERT(ds_preprocess_parse("mean:0.1307,std:0.3081", &pp, err, sizeof err) == 0);
	select_opts so;
	select_result sr;
	compress_result cr;
	compress_opts co = {4, 0, 1};
	select_defaults(&so);
	ASSERT(pass_infer(g) == 0 && pass_fold(g, 0) >= 0);
	train_model *m = train_new(g, NULL);
	ASSERT(m);
	double l0, a0, l1, a1, l2, a2;
	ASSERT(train_evaluate(m, tsub, &pp, 500, &l0, &a0, NULL) == 0);
	train_free(m);
	ASSERT(pass_select(g, "/fc2/Gemm", &so, &sr) == 1);
	ASSERT(pass_compress(g, &sr, &co, &cr) == 1);
	select_free(&sr);
	compress_free(&cr);
	ASSERT(pass_infer(g) == 0);
	m = train_new(g, NULL);
	ASSERT(m);
	ASSERT(train_evaluate(m, tsub, &pp, 500, &l1, &a1, NULL) == 0);
	train_config c;
	train_config_defaults(&c);
	c.pp = &pp;
	c.quiet = 1;
	ASSERT(train_fit(m, tr, NULL, &c, NULL) == 0);
	ASSERT(train_evaluate(m, tsub, &pp, 500, &l2, &a2, NULL) == 0);
	printf("  MNIST MLP on 2000 test images: original %.2f%%, fc2 at bond 4 %.2f%%, healed "
	       "(1 epoch) %.2f%%\n", 100 * a0, 100 * a1, 100 * a2);
	ASSERT(a1 < a0 - 0.05);
	ASSERT(a2 > a0 - 0.015);
	/* the healed weights reach the graph: the interpreter agrees */
	train_write_back(m);
	int64_t dims[4] = {4, 1, 28, 28};
	ir_tensor *x = ir_tensor_new(NULL, IR_F32, 4, dims), *y = NULL;
	ASSERT(ds_batch(tsub, NULL, 0, 4, &pp, NULL, NULL, x->data, NULL, err, sizeof err) == 0);
	ASSERT(interp_run(g, &x, &y) == 0 && train_forward(m, x->data, 4) == 0);
	for (int i = 0; i < 40; i++)
		ASSERT_NEAR(((float *)y->data)[i], train_logits(m)[i], 1e-4 * (1 + fabs(train_logits(m)[i])));
	ir_tensor_free(x);
	ir_tensor_free(y);
	train_free(m);
	ds_free(tr);
	ds_free(te);
	ds_free(tsub);
	ir_graph_free(g);
}

TEST_MAIN({"mlp_learns_adam", test_mlp_learns_adam}, {"mlp_learns_sgd", test_mlp_learns_sgd},
	  {"determinism", test_determinism}, {"write_back", test_write_back},
	  {"evaluate", test_evaluate}, {"trailing_softmax", test_trailing_softmax},
	  {"mask", test_mask}, {"param_rules", test_param_rules}, {"optim", test_optim}, {"schedules", test_schedules},
	  {"refusals", test_refusals}, {"heal_mnist", test_heal_mnist})
