/* test_train_grad.c - every backward kernel of the training engine
 * (passes/train*.c) against central finite differences, and every forward
 * kernel against the reference interpreter.
 *
 * Each case is a small graph in textual IR: input x, the op under test,
 * a Flatten to [batch, features]. The test loss is L = Σ r·y for a fixed
 * random r (written as the logits gradient), so dL/dθ from train_backward
 * must equal (L(θ + ε) − L(θ − ε)) / 2ε for every entry θ of the input
 * and of every parameter. L is summed in double; with ε = 1e-3 on float32
 * activations the difference is within 1e-3 of the gradient scale (1e-4
 * for single ops), and the test requires max |fd − grad| ≤ 5e-3 · max
 * |grad| per tensor: a kernel with a term 2% off fails (checked by
 * breaking kernels on purpose; test_detects_wrong_gradient keeps a 5%
 * error in one entry as a standing check).
 * Inputs keep clear of kinks (Relu at 0, MaxPool ties) by more than ε.
 *
 * Constants are written "~" (uniform in [-1, 1]) or "~+" (in [0.5, 1.5])
 * after their type; expand() replaces them with seeded random data.
 */
#include "test.h"
#include "train_fd.h"

#include "../../frontend/dataset.h"
#include "../../ir/ir.h"
#include "../../passes/passes.h"
#include "../../passes/train.h"

#include <stdint.h>

static ds_rng rng = {20260124};

static double urand(double lo, double hi) { return lo + (hi - lo) * ds_rng_uniform(&rng); }

/* Replace every "~" / "~+" that follows a type "f32[d,...]" with random
 * data of that many elements. */
static char *expand(const char *src)
{
	size_t cap = strlen(src) * 4 + 4096, len = 0;
	char *out = malloc(cap);
	for (const char *p = src; *p;) {
		if (*p != '~') {
			out[len++] = *p++;
			out[len] = 0;
			continue;
		}
		int pos = p[1] == '+';
		p += 1 + pos;
		/* numel from the last "[...]" before the marker */
		const char *lb = out + len;
		while (lb > out && *lb != '[')
			lb--;
		int64_t n = 1;
		for (const char *q = lb + 1; *q && *q != ']'; q++)
			if (*q >= '0' && *q <= '9') {
				int64_t v = strtoll(q, (char **)&q, 10);
				n *= v;
				q--;
			}
		if (len + (size_t)n * 24 + 16 > cap) {
			cap = len + (size_t)n * 24 + 4096 + cap;
			out = realloc(out, cap);
		}
		len += (size_t)sprintf(out + len, "{");
		for (int64_t i = 0; i < n; i++)
			len += (size_t)sprintf(out + len, "%s%.6g", i ? ", " : "",
					       pos ? urand(0.5, 1.5) : urand(-1, 1));
		len += (size_t)sprintf(out + len, "}");
		if (strlen(p) + len + 16 > cap) {
			cap = len + strlen(p) + 4096;
			out = realloc(out, cap);
		}
	}
	return out;
}

static ir_graph *make_graph(const char *text)
{
	char err[512];
	char *t = expand(text);
	ir_graph *g = ir_parse(t, "grad.ir", err, sizeof err);
	free(t);
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

enum { X_PLAIN, X_AWAY, X_DISTINCT };

/* Build the graph, compare the forward pass with the interpreter, then every
 * gradient with finite differences. xkind shapes the input data. */
static int gradcheck(const char *label, const char *text, int64_t b, int xkind)
{
	ir_graph *g = make_graph(text);
	if (!g)
		return 0;
	train_opts o = {.scope = TRAIN_ALL, .keep_softmax = 1, .input_grad = 1};
	train_model *m = train_new(g, &o);
	if (!m) {
		fprintf(stderr, "  %s: train_new: %s\n", label, g->err);
		ir_graph_free(g);
		return 0;
	}
	int64_t ns = train_sample_size(m), nx = b * ns;
	float *x = malloc((size_t)nx * sizeof *x);
	for (int64_t i = 0; i < nx; i++) {
		if (xkind == X_DISTINCT) { /* distinct values 0.05 apart, shuffled */
			x[i] = (float)(0.05 * (double)i - 0.025 * (double)nx);
			continue;
		}
		double v = urand(-1, 1);
		if (xkind == X_AWAY && fabs(v) < 0.1)
			v = v < 0 ? v - 0.1 : v + 0.1;
		x[i] = (float)v;
	}
	if (xkind == X_DISTINCT)
		for (int64_t i = nx - 1; i > 0; i--) {
			int64_t j = (int64_t)ds_rng_below(&rng, (uint64_t)i + 1);
			float tmp = x[i];
			x[i] = x[j];
			x[j] = tmp;
		}
	int ok = 0;
	if (train_forward(m, x, b)) {
		fprintf(stderr, "  %s: forward: %s\n", label, g->err);
		goto done;
	}
	int64_t ny = b * train_classes(m);
	float *r = malloc((size_t)ny * sizeof *r);
	for (int64_t i = 0; i < ny; i++)
		r[i] = (float)urand(-1, 1);

	/* forward vs the interpreter */
	int64_t dims[IR_MAX_RANK];
	dims[0] = b;
	for (int d = 1; d < g->inputs[0]->shape.rank; d++)
		dims[d] = g->inputs[0]->shape.d[d].v;
	ir_tensor *in = ir_tensor_new(NULL, IR_F32, g->inputs[0]->shape.rank, dims);
	memcpy(in->data, x, (size_t)nx * sizeof *x);
	ir_tensor *ref = NULL;
	if (interp_run(g, &in, &ref)) {
		fprintf(stderr, "  %s: interpreter: %s\n", label, g->err);
		ir_tensor_free(in);
		free(r);
		goto done;
	}
	const float *y = train_logits(m);
	double fmax = 0, fscale = 0;
	for (int64_t i = 0; i < ny; i++) {
		double ri = ((const float *)ref->data)[i];
		fmax = fmax > fabs(ri - y[i]) ? fmax : fabs(ri - y[i]);
		fscale = fscale > fabs(ri) ? fscale : fabs(ri);
	}
	ir_tensor_free(in);
	ir_tensor_free(ref);
	if (!(fmax <= 1e-5 * (1 + fscale))) {
		fprintf(stderr, "  %s: forward differs from the interpreter by %g (scale %g)\n", label,
			fmax, fscale);
		free(r);
		goto done;
	}

	memcpy(train_logits_grad(m), r, (size_t)ny * sizeof *r);
	if (train_backward(m)) {
		fprintf(stderr, "  %s: backward: %s\n", label, g->err);
		free(r);
		goto done;
	}
	/* Copy the gradients: the FD passes run forward again. */
	int np = train_nparams(m);
	float *gx = malloc((size_t)nx * sizeof *gx);
	memcpy(gx, train_input_grad(m), (size_t)nx * sizeof *gx);
	ok = fd_check(m, x, gx, nx, x, b, r, ny, 300, 1, "x", label);
	free(gx);
	for (int i = 0; ok && i < np; i++) {
		train_param *p = train_param_at(m, i);
		float *gp = malloc((size_t)p->numel * sizeof *gp);
		memcpy(gp, p->g, (size_t)p->numel * sizeof *gp);
		ok = fd_check(m, p->w, gp, p->numel, x, b, r, ny, 300, 1, p->name, label);
		free(gp);
	}
	free(r);
done:
	free(x);
	train_free(m);
	ir_graph_free(g);
	return ok;
}

#define HEAD "graph @t {\n opset 13\n opset \"qnnc\" 1\n"

typedef struct gcase {
	const char *label;
	const char *text;
	int64_t batch;
	int xkind;
} gcase;

static int run_cases(const gcase *c, int n)
{
	int fails = 0;
	for (int i = 0; i < n; i++) {
		int ok = gradcheck(c[i].label, c[i].text, c[i].batch, c[i].xkind);
		if (!ok)
			fprintf(stderr, "FAIL case %s\n", c[i].label);
		fails += !ok;
	}
	return fails;
}

static void test_linear(void)
{
	static const gcase c[] = {
		{"Gemm transB C[N]", HEAD " input %x : f32[N,5]\n const %w = f32[3,5] ~\n"
		 " const %c = f32[3] ~\n %y = Gemm(%x, %w, %c) {transB = 1} @fc\n output %y\n}", 4, 0},
		{"Gemm transA alpha beta C[1,N]", HEAD " input %x : f32[N,4]\n const %w = f32[4,3] ~\n"
		 " const %c = f32[1,3] ~\n %y = Gemm(%x, %w, %c) {transA = 1, alpha = 0.7, beta = 1.3} @fc\n"
		 " output %y\n}", 4, 0},
		{"Gemm C[M,N] no transB", HEAD " input %x : f32[N,4]\n const %w = f32[4,3] ~\n"
		 " const %c = f32[2,3] ~\n %y = Gemm(%x, %w, %c) {alpha = 1.5} @fc\n output %y\n}", 2, 0},
		{"Gemm constant A", HEAD " input %x : f32[N,3]\n const %a = f32[3,3] ~\n"
		 " %y = Gemm(%a, %x) {transB = 1, transA = 1} @fc\n output %y\n}", 3, 0},
		{"MatMul 2-D", HEAD " input %x : f32[N,5]\n const %w = f32[5,3] ~\n"
		 " %y = MatMul(%x, %w) @mm\n output %y\n}", 3, 0},
		{"MatMul batched A", HEAD " input %x : f32[N,2,5]\n const %w = f32[5,3] ~\n"
		 " %z = MatMul(%x, %w) @mm\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 3, 0},
		{"MatMul const A, batched B", HEAD " input %x : f32[N,3,2]\n const %w = f32[4,3] ~\n"
		 " %z = MatMul(%w, %x) @mm\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"MatMul two activations", HEAD " input %x : f32[N,3,4]\n"
		 " %t = Transpose(%x) {perm = [0, 2, 1]} @tr\n %z = MatMul(%x, %t) @mm\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"MatMul vector B", HEAD " input %x : f32[N,2,5]\n const %w = f32[5] ~\n"
		 " %z = MatMul(%x, %w) @mm\n output %z\n}", 3, 0},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

static void test_elementwise(void)
{
	static const gcase c[] = {
		{"Add bias", HEAD " input %x : f32[N,4]\n const %b = f32[4] ~\n"
		 " %y = Add(%x, %b) @add\n output %y\n}", 3, 0},
		{"Add channel bias", HEAD " input %x : f32[N,3,2,2]\n const %b = f32[3,1,1] ~\n"
		 " %z = Add(%b, %x) @add\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"Add scalar", HEAD " input %x : f32[N,4]\n const %b = f32[] ~\n"
		 " %y = Add(%x, %b) @add\n output %y\n}", 2, 0},
		{"Sub both ways", HEAD " input %x : f32[N,4]\n const %b = f32[1,4] ~\n"
		 " %z = Sub(%x, %b) @s1\n %y = Sub(%b, %z) @s2\n output %y\n}", 3, 0},
		{"Mul", HEAD " input %x : f32[N,2,3]\n const %b = f32[2,1] ~\n"
		 " %z = Mul(%x, %b) @mul\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"Mul x*x", HEAD " input %x : f32[N,4]\n %y = Mul(%x, %x) @mul\n output %y\n}", 3, 0},
		{"Div", HEAD " input %x : f32[N,4]\n const %b = f32[4] ~+\n"
		 " %z = Div(%x, %b) @d1\n %y = Div(%b, %z) @d2\n output %y\n}", 3, X_AWAY},
		{"Add of activations broadcast", HEAD " input %x : f32[N,3,4]\n"
		 " %s = GlobalAveragePool(%x) @gap\n"
		 " %z = Add(%x, %s) @add\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

static void test_unary(void)
{
	static const gcase c[] = {
		{"Relu", HEAD " input %x : f32[N,6]\n %y = Relu(%x) @r\n output %y\n}", 3, X_AWAY},
		{"LeakyRelu", HEAD " input %x : f32[N,6]\n %y = LeakyRelu(%x) {alpha = 0.2} @r\n"
		 " output %y\n}", 3, X_AWAY},
		{"LeakyRelu default", HEAD " input %x : f32[N,6]\n %y = LeakyRelu(%x) @r\n output %y\n}",
		 3, X_AWAY},
		{"Sigmoid", HEAD " input %x : f32[N,6]\n %z = Mul(%x, %x) @sq\n %s = Sub(%x, %z) @d\n"
		 " %y = Sigmoid(%s) @s\n output %y\n}", 3, 0},
		{"Tanh", HEAD " input %x : f32[N,6]\n %y = Tanh(%x) @t\n output %y\n}", 3, 0},
		{"views and Dropout", HEAD " input %x : f32[N,2,3]\n const %shape = i64[2] {0, -1}\n"
		 " const %ax = i64[1] {1}\n"
		 " %a = Reshape(%x, %shape) @rs\n %b = Unsqueeze(%a, %ax) @u\n"
		 " %c = Squeeze(%b, %ax) @s\n %d, _ = Dropout(%c) @drop\n"
		 " %e = Identity(%d) @id\n %y = Tanh(%e) @t\n output %y\n}", 3, 0},
		{"Transpose", HEAD " input %x : f32[N,2,3,2]\n %t = Transpose(%x) {perm = [0, 3, 1, 2]} @tr\n"
		 " %y = Flatten(%t) {axis = 1} @f\n output %y\n}", 2, 0},
		{"Shape chain Reshape", HEAD " input %x : f32[N,2,3]\n %s = Shape(%x) @shape\n"
		 " const %i0 = i64[] {0}\n %n = Gather(%s, %i0) {axis = 0} @g\n"
		 " const %ax = i64[1] {0}\n %n1 = Unsqueeze(%n, %ax) @u\n const %m1 = i64[1] {-1}\n"
		 " %sh = Concat(%n1, %m1) {axis = 0} @cat\n %r = Reshape(%x, %sh) @rs\n"
		 " %y = Sigmoid(%r) @sig\n output %y\n}", 3, 0},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

static void test_conv(void)
{
	static const gcase c[] = {
		{"Conv 3x3 pad 1", HEAD " input %x : f32[N,3,5,5]\n const %w = f32[4,3,3,3] ~\n"
		 " const %b = f32[4] ~\n %z = Conv(%x, %w, %b) {pads = [1, 1, 1, 1]} @conv\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"Conv stride 2 dilation 2", HEAD " input %x : f32[N,2,7,6]\n const %w = f32[3,2,2,3] ~\n"
		 " %z = Conv(%x, %w) {strides = [2, 2], dilations = [2, 1], pads = [0, 1, 1, 0]} @conv\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"Conv groups", HEAD " input %x : f32[N,4,4,4]\n const %w = f32[6,2,3,3] ~\n"
		 " const %b = f32[6] ~\n %z = Conv(%x, %w, %b) {group = 2, auto_pad = \"SAME_UPPER\"} @conv\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"Conv 1-D", HEAD " input %x : f32[N,2,9]\n const %w = f32[3,2,4] ~\n const %b = f32[3] ~\n"
		 " %z = Conv(%x, %w, %b) {strides = [2]} @conv\n %y = Flatten(%z) {axis = 1} @f\n"
		 " output %y\n}", 3, 0},
		{"Conv pointwise", HEAD " input %x : f32[N,3,3,3]\n const %w = f32[2,3,1,1] ~\n"
		 " %z = Conv(%x, %w) @conv\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"Conv 3-D", HEAD " input %x : f32[N,2,3,4,3]\n const %w = f32[2,2,2,2,2] ~\n"
		 " %z = Conv(%x, %w) {pads = [1, 0, 1, 0, 1, 0]} @conv\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

static void test_pool(void)
{
	static const gcase c[] = {
		{"MaxPool 2x2", HEAD " input %x : f32[N,2,4,4]\n"
		 " %z = MaxPool(%x) {kernel_shape = [2, 2], strides = [2, 2]} @mp\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, X_DISTINCT},
		{"MaxPool 3x3 pads ceil", HEAD " input %x : f32[N,2,5,6]\n"
		 " %z = MaxPool(%x) {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1],"
		 " ceil_mode = 1} @mp\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, X_DISTINCT},
		{"MaxPool dilated", HEAD " input %x : f32[N,1,6,6]\n"
		 " %z = MaxPool(%x) {kernel_shape = [2, 2], dilations = [2, 2]} @mp\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, X_DISTINCT},
		{"AveragePool exclude pad", HEAD " input %x : f32[N,2,5,5]\n"
		 " %z = AveragePool(%x) {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} @ap\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"AveragePool include pad ceil", HEAD " input %x : f32[N,2,5,6]\n"
		 " %z = AveragePool(%x) {kernel_shape = [3, 2], strides = [2, 2], pads = [1, 0, 1, 1],"
		 " count_include_pad = 1, ceil_mode = 1} @ap\n %y = Flatten(%z) {axis = 1} @f\n"
		 " output %y\n}", 2, 0},
		{"GlobalAveragePool", HEAD " input %x : f32[N,3,3,2]\n %z = GlobalAveragePool(%x) @gap\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"GlobalMaxPool", HEAD " input %x : f32[N,3,3,2]\n %z = GlobalMaxPool(%x) @gmp\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, X_DISTINCT},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

static void test_norm_softmax(void)
{
	static const gcase c[] = {
		{"BatchNormalization", HEAD " input %x : f32[N,3,2,2]\n const %s = f32[3] ~\n"
		 " const %b = f32[3] ~\n const %m = f32[3] ~\n const %v = f32[3] ~+\n"
		 " %z = BatchNormalization(%x, %s, %b, %m, %v) {epsilon = 0.01} @bn\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 3, 0},
		{"BatchNormalization 2-D", HEAD " input %x : f32[N,4]\n const %s = f32[4] ~\n"
		 " const %b = f32[4] ~\n const %m = f32[4] ~\n const %v = f32[4] ~+\n"
		 " %y = BatchNormalization(%x, %s, %b, %m, %v) @bn\n output %y\n}", 3, 0},
		{"Softmax", HEAD " input %x : f32[N,5]\n %y = Softmax(%x) @sm\n output %y\n}", 3, 0},
		{"Softmax axis 1 of 3", HEAD " input %x : f32[N,3,2]\n %z = Softmax(%x) {axis = 1} @sm\n"
		 " %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		{"LogSoftmax", HEAD " input %x : f32[N,5]\n %y = LogSoftmax(%x) @sm\n output %y\n}", 3, 0},
		{"Softmax opset 11", "graph @t {\n opset 11\n input %x : f32[N,2,3]\n"
		 " %z = Softmax(%x) @sm\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

static void test_mpo(void)
{
	static const gcase c[] = {
		/* 6×5 padded to 8×8: three sites of (2, 2), bonds 1-3-2-1. */
		{"MpoLinear 6x5", HEAD " input %x : f32[N,5]\n const %b = f32[6] ~\n"
		 " const %c0 = f32[1,2,2,3] ~\n const %c1 = f32[3,2,2,2] ~\n const %c2 = f32[2,2,2,1] ~\n"
		 " %y = MpoLinear(%x, %b, %c0, %c1, %c2) {rows = 6, cols = 5, n_out = 3, n_in = 3,"
		 " group = 1} @mpo domain \"qnnc\"\n output %y\n}", 3, 0},
		/* 4×16, no bias: sites 3 and 4 have dout = 1. */
		{"MpoLinear 4x16 no bias", HEAD " input %x : f32[N,16]\n"
		 " const %c0 = f32[1,2,2,2] ~\n const %c1 = f32[2,2,2,3] ~\n const %c2 = f32[3,1,2,2] ~\n"
		 " const %c3 = f32[2,1,2,1] ~\n"
		 " %y = MpoLinear(%x, _, %c0, %c1, %c2, %c3) {rows = 4, cols = 16, n_out = 2, n_in = 4,"
		 " group = 1} @mpo domain \"qnnc\"\n output %y\n}", 2, 0},
		/* group 2: 7×9 padded to 8×16, sites (4, 4) and (2, 4). */
		{"MpoLinear group 2", HEAD " input %x : f32[N,2,9]\n const %b = f32[7] ~\n"
		 " const %c0 = f32[1,4,4,3] ~\n const %c1 = f32[3,2,4,1] ~\n"
		 " %z = MpoLinear(%x, %b, %c0, %c1) {rows = 7, cols = 9, n_out = 3, n_in = 4,"
		 " group = 2} @mpo domain \"qnnc\"\n %y = Flatten(%z) {axis = 1} @f\n output %y\n}", 2, 0},
		/* one site */
		{"MpoLinear 1 site", HEAD " input %x : f32[N,2]\n const %c0 = f32[1,2,2,1] ~\n"
		 " %y = MpoLinear(%x, _, %c0) {rows = 2, cols = 2, n_out = 1, n_in = 1, group = 1}"
		 " @mpo domain \"qnnc\"\n output %y\n}", 2, 0},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

/* A small network: every kind of node at once, the gradients composed. */
static void test_network(void)
{
	static const gcase c[] = {
		{"CNN", HEAD " input %x : f32[N,2,6,6]\n const %w1 = f32[3,2,3,3] ~\n const %b1 = f32[3] ~\n"
		 " const %s = f32[3] ~\n const %bb = f32[3] ~\n const %m = f32[3] ~\n const %v = f32[3] ~+\n"
		 " const %w2 = f32[4,12] ~\n const %b2 = f32[4] ~\n"
		 " %c = Conv(%x, %w1, %b1) {pads = [1, 1, 1, 1]} @conv\n"
		 " %n = BatchNormalization(%c, %s, %bb, %m, %v) @bn\n %r = Tanh(%n) @act\n"
		 " %p = AveragePool(%r) {kernel_shape = [3, 3], strides = [3, 3]} @pool\n"
		 " %f = Flatten(%p) {axis = 1} @flat\n %y = Gemm(%f, %w2, %b2) {transB = 1} @fc\n"
		 " output %y\n}", 3, 0},
	};
	ASSERT(run_cases(c, (int)(sizeof c / sizeof c[0])) == 0);
}

/* The softmax cross-entropy gradient of train_loss against differences
 * of its own loss. */
static void test_loss(void)
{
	ir_graph *g = make_graph(HEAD " input %x : f32[N,4]\n %y = Identity(%x) @id\n output %y\n}");
	ASSERT(g);
	train_opts o = {.scope = TRAIN_ALL, .input_grad = 1};
	train_model *m = train_new(g, &o);
	ASSERT(m);
	float x[12];
	uint8_t lab[3] = {0, 3, 2};
	for (int i = 0; i < 12; i++)
		x[i] = (float)urand(-2, 2);
	double L;
	int64_t hits;
	ASSERT(train_forward(m, x, 3) == 0 && train_loss(m, lab, &L, &hits) == 0);
	ASSERT(train_backward(m) == 0);
	float gx[12];
	memcpy(gx, train_input_grad(m), sizeof gx);
	/* independent loss: mean of logsumexp − z[label] in double */
	double ref = 0;
	for (int r = 0; r < 3; r++) {
		double s = 0;
		for (int j = 0; j < 4; j++)
			s += exp(x[r * 4 + j]);
		ref += log(s) - x[r * 4 + lab[r]];
	}
	ASSERT_NEAR(L, ref / 3, 1e-6);
	for (int i = 0; i < 12; i++) {
		float keep = x[i];
		double lp, lm;
		x[i] = keep + 1e-3f;
		ASSERT(train_forward(m, x, 3) == 0 && train_loss(m, lab, &lp, NULL) == 0);
		double h = (double)x[i];
		x[i] = keep - 1e-3f;
		h -= (double)x[i];
		ASSERT(train_forward(m, x, 3) == 0 && train_loss(m, lab, &lm, NULL) == 0);
		x[i] = keep;
		ASSERT_NEAR((lp - lm) / h, gx[i], 2e-4);
	}
	uint8_t bad[3] = {0, 4, 1};
	ASSERT(train_forward(m, x, 3) == 0);
	ASSERT(train_loss(m, bad, &L, NULL) == -1);
	ASSERT_STR_CONTAINS(g->err, "out of range");
	train_free(m);
	ir_graph_free(g);
}

/* The test must be able to fail: a wrong gradient is caught. */
static void test_detects_wrong_gradient(void)
{
	ir_graph *g = make_graph(HEAD " input %x : f32[N,3]\n const %w = f32[2,3] ~\n"
				 " %y = Gemm(%x, %w) {transB = 1} @fc\n output %y\n}");
	ASSERT(g);
	train_opts o = {.scope = TRAIN_ALL, .input_grad = 1};
	train_model *m = train_new(g, &o);
	ASSERT(m);
	float x[6] = {0.1f, -0.2f, 0.3f, 0.5f, 0.7f, -0.9f}, r[4] = {1, -1, 0.5f, 2};
	ASSERT(train_forward(m, x, 2) == 0);
	memcpy(train_logits_grad(m), r, sizeof r);
	ASSERT(train_backward(m) == 0);
	train_param *p = train_param_at(m, 0);
	float gw[6];
	memcpy(gw, p->g, sizeof gw);
	ASSERT(fd_check(m, p->w, gw, 6, x, 2, r, 4, 300, 1, "w", "ok") == 1);
	gw[4] *= 1.05f; /* 5% off in one entry */
	fprintf(stderr, "  (a failure message is expected next)\n");
	ASSERT(fd_check(m, p->w, gw, 6, x, 2, r, 4, 300, 1, "w", "broken on purpose") == 0);
	train_free(m);
	ir_graph_free(g);
}

TEST_MAIN({"linear", test_linear}, {"elementwise", test_elementwise}, {"unary", test_unary},
	  {"conv", test_conv}, {"pool", test_pool}, {"norm_softmax", test_norm_softmax},
	  {"mpo", test_mpo}, {"network", test_network}, {"loss", test_loss},
	  {"detects_wrong_gradient", test_detects_wrong_gradient})
