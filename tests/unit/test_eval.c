/* test_eval.c - top-1 accuracy evaluation (passes/eval.c): a hand-built
 * classifier on an in-memory dataset (batching, padding of fixed batch
 * sizes, flattened and float64 inputs, preprocessing, NaN logits, error
 * messages), then the MNIST MLP fixture on the real MNIST test split,
 * whose accuracy is pinned by the fixture README (97.75%, torch and
 * numpy). Without the data the real-data tests print SKIP and, if all
 * else passed, the program returns 77 (skipped). */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "../../frontend/dataset.h"
#include "../../frontend/onnx.h"
#include "../../passes/eval.h"
#include "../../passes/passes.h"
#include "test.h"

#define MNIST_DIR QNNC_SHARED_DATA "/mnist"
#define MLP_MODEL QNNC_SOURCE_DIR "/examples/mnist-mlp/model.onnx"
#define CNN_MODEL QNNC_SOURCE_DIR "/examples/cifar10-cnn/model.onnx"

static int skipped;

/* Seven 1×2×2 images. The toy model's logit k is pixel k (k < 3), so the
 * prediction is the brightest of the first three pixels; the labels of
 * images 5 and 6 are deliberately wrong, so the accuracy is 5/7. */
static uint8_t toy_pixels[7 * 4] = {
	200, 10, 20, 0,  /* 0 */
	10, 200, 20, 0,  /* 1 */
	10, 20, 200, 0,  /* 2 */
	90, 80, 70, 255, /* 0 */
	5, 6, 7, 0,      /* 2 */
	1, 250, 3, 0,    /* 1, labelled 0 */
	30, 20, 10, 0,   /* 0, labelled 2 */
};
static uint8_t toy_labels[7] = {0, 1, 2, 0, 2, 0, 2};
static const int32_t toy_pred[7] = {0, 1, 2, 0, 2, 1, 0};

static ds_set toy_set(void)
{
	ds_set d = {DS_MNIST, 7, 1, 2, 2, 3, toy_pixels, toy_labels};
	return d;
}

#define W3 "{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}"

/* The toy classifier with input type in_type (e.g. "f32[N,1,2,2]"); a
 * Flatten makes any input layout [b, 4]. */
static ir_graph *toy_graph(const char *in_type, const char *wtype, const char *wdata)
{
	char text[2048], err[512];
	snprintf(text, sizeof text,
		 "graph @toy {\n opset 13\n input %%x : %s\n const %%w = %s[3,4] %s\n"
		 " %%f = Flatten(%%x) {axis = 1} @flat\n"
		 " %%y = Gemm(%%f, %%w) {transB = 1} @fc\n output %%y\n}\n",
		 in_type, wtype, wdata);
	ir_graph *g = ir_parse(text, "toy.ir", err, sizeof err);
	if (!g)
		fprintf(stderr, "%s\n", err);
	else if (pass_infer(g)) {
		fprintf(stderr, "%s\n", g->err);
		ir_graph_free(g);
		g = NULL;
	}
	return g;
}

static void test_toy_batches(void)
{
	ds_set d = toy_set();
	ir_graph *g = toy_graph("f32[N,1,2,2]", "f32", W3);
	ASSERT(g);
	/* 3 leaves a short last batch, 100 exceeds the set, 0 is the default. */
	int batches[] = {1, 3, 7, 100, 0};
	for (int i = 0; i < 5; i++) {
		eval_result r;
		int32_t pred[7];
		ASSERT(eval_predict(g, &d, NULL, batches[i], 1, "toy", pred, &r) == 0);
		ASSERT(r.n == 7 && r.correct == 5 && r.classes == 3);
		ASSERT_NEAR(r.accuracy, 5.0 / 7.0, 1e-15);
		ASSERT(r.batch == (batches[i] == 1 ? 1 : batches[i] == 3 ? 3 : 7));
		ASSERT(memcmp(pred, toy_pred, sizeof pred) == 0);
		ASSERT(r.seconds >= 0 && r.images_per_s >= 0);
	}
	ir_graph_free(g);
}

/* Fixed batch sizes (padded last batch), flattened inputs, float64. */
static void test_toy_layouts(void)
{
	ds_set d = toy_set();
	const char *types[] = {"f32[1,1,2,2]", "f32[2,1,2,2]", "f32[4,1,2,2]", "f32[N,4]",
			       "f32[3,4]", "f32[N,2,2]", "f32[N,?,?,?]", "f64[N,1,2,2]"};
	for (int i = 0; i < 8; i++) {
		ir_graph *g = toy_graph(types[i], types[i][1] == '6' ? "f64" : "f32", W3);
		ASSERT(g);
		eval_result r;
		int32_t pred[7];
		int rc = eval_predict(g, &d, NULL, 3, 1, NULL, pred, &r);
		if (rc)
			fprintf(stderr, "%s: %s\n", types[i], g->err);
		ASSERT(rc == 0);
		ASSERT(r.correct == 5 && memcmp(pred, toy_pred, sizeof pred) == 0);
		int64_t fixed = types[i][4] == 'N' ? 3 : types[i][4] - '0';
		ASSERT(r.batch == fixed);
		ir_graph_free(g);
	}
}

/* Preprocessing reaches the model: scale:-1 turns argmax into argmin. */
static void test_toy_preprocess(void)
{
	ds_set d = toy_set();
	ir_graph *g = toy_graph("f32[N,1,2,2]", "f32", W3);
	ASSERT(g);
	ds_preprocess pp;
	char err[256];
	ASSERT(ds_preprocess_parse("scale:-1,shift:0.5", &pp, err, sizeof err) == 0);
	eval_result r;
	int32_t pred[7];
	ASSERT(eval_predict(g, &d, &pp, 4, 1, NULL, pred, &r) == 0);
	/* The darkest of the first three pixels; images 5 and 6 are right. */
	const int32_t want[7] = {1, 0, 0, 2, 0, 0, 2};
	ASSERT(memcmp(pred, want, sizeof want) == 0);
	ASSERT(r.correct == 2);
	/* Three values for one channel. */
	ASSERT(ds_preprocess_parse("mean:0.1/0.2/0.3,std:1", &pp, err, sizeof err) == 0);
	ASSERT(eval_accuracy(g, &d, &pp, 0, 1, NULL, &r) == -1);
	ASSERT_STR_CONTAINS(g->err, "channel");
	ir_graph_free(g);
}

/* NaN logits never win; an image with only NaN logits counts as wrong. */
static void test_toy_nan(void)
{
	ds_set d = toy_set();
	ir_graph *g = toy_graph("f32[N,1,2,2]", "f32", "{nan, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}");
	ASSERT(g);
	eval_result r;
	int32_t pred[7];
	ASSERT(eval_predict(g, &d, NULL, 0, 1, NULL, pred, &r) == 0);
	const int32_t want[7] = {2, 1, 2, 1, 2, 1, 1};
	ASSERT(memcmp(pred, want, sizeof want) == 0);
	ASSERT(r.correct == 3);
	ir_graph_free(g);
	g = toy_graph("f32[N,1,2,2]", "f32", "{nan, 0, 0, 0, nan, 0, 0, 0, nan, 0, 0, 0}");
	ASSERT(g);
	ASSERT(eval_predict(g, &d, NULL, 0, 1, NULL, pred, &r) == 0);
	ASSERT(r.correct == 0 && pred[0] == -1 && pred[6] == -1);
	ir_graph_free(g);
}

static void test_toy_compare(void)
{
	ds_set d = toy_set();
	ir_graph *a = toy_graph("f32[N,1,2,2]", "f32", W3);
	/* b swaps classes 0 and 1: only images 2 and 4 keep their prediction,
	 * and image 5 (labelled 0) becomes right. */
	ir_graph *b = toy_graph("f32[1,1,2,2]", "f32", "{0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0}");
	ASSERT(a && b);
	eval_comparison c;
	ASSERT(eval_compare(a, b, &d, NULL, 0, 1, &c) == 0);
	ASSERT(c.a.correct == 5 && c.b.correct == 3);
	ASSERT(c.agree == 2);
	ASSERT_NEAR(c.agreement, 2.0 / 7.0, 1e-15);
	ASSERT(eval_compare(a, a, &d, NULL, 0, 1, &c) == 0);
	ASSERT(c.agree == 7 && c.agreement == 1.0);
	ir_graph_free(a);
	ir_graph_free(b);
}

/* Each bad model gives an error naming what is wrong. */
static void test_toy_errors(void)
{
	ds_set d = toy_set();
	struct {
		const char *text, *want;
	} cases[] = {
		{"graph { opset 13 input %x : f32[N,1,3,3] %y = Flatten(%x) @f output %y }",
		 "model input 'x' has shape [N,1,3,3], but the mnist images are 1×2×2"},
		{"graph { opset 13 input %x : f32[N,5] %y = Identity(%x) @i output %y }",
		 "the input must be [N,1,2,2], [N,2,2] or [N,4]"},
		{"graph { opset 13 input %x : f32[N,1,2] %y = Identity(%x) @i output %y }",
		 "has shape [N,1,2]"},
		{"graph { opset 13 input %x : i64[N,1,2,2] %y = Identity(%x) @i output %y }",
		 "model input 'x' is i64"},
		{"graph { opset 13 input %x : f32[N,1,2,2] input %z : f32[1] %y = Identity(%x) @i output %y }",
		 "the model has 2 inputs"},
		{"graph { opset 13 input %x : f32[N,1,2,2] %y = Identity(%x) @i output %y output %x }",
		 "the model has 2 outputs"},
		{"graph { opset 13 input %x : f32[N,1,2,2] %y = Cast(%x) {to = 7} @c output %y }",
		 "model output 'y' is i64"},
		{"graph { opset 13 input %x : f32[N,1,2,2] %y = Flatten(%x) {axis = 4} @f output %y }",
		 "fewer than 2 classes"},
		{"graph { opset 13 input %x : f32[N,1,2,2] %y = Flatten(%x) {axis = 0} @f output %y }",
		 "has shape [1,"},
		{"graph { opset 13 input %x : f32[0,1,2,2] %y = Flatten(%x) @f output %y }",
		 "a batch of 0 images"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[512];
		ir_graph *g = ir_parse(cases[i].text, "bad.ir", err, sizeof err);
		if (!g)
			fprintf(stderr, "case %zu: %s\n", i, err);
		ASSERT(g);
		if (pass_infer(g))
			fprintf(stderr, "case %zu: %s\n", i, g->err);
		eval_result r;
		int rc = eval_accuracy(g, &d, NULL, 0, 1, NULL, &r);
		if (rc == 0 || !strstr(g->err, cases[i].want))
			fprintf(stderr, "case %zu: rc %d, message: %s\n", i, rc, g->err);
		ASSERT(rc == -1);
		ASSERT_STR_CONTAINS(g->err, cases[i].want);
		ASSERT_STR_CONTAINS(g->err, "bad.ir: --eval: ");
		ir_graph_free(g);
	}
	/* An empty dataset. */
	ir_graph *g = toy_graph("f32[N,1,2,2]", "f32", W3);
	ASSERT(g);
	d.n = 0;
	eval_result r;
	ASSERT(eval_accuracy(g, &d, NULL, 0, 1, NULL, &r) == -1);
	ASSERT_STR_CONTAINS(g->err, "no images");
	ir_graph_free(g);
}

/* ------------------------------------------------------------ real data */

static ir_graph *load_model(const char *path)
{
	char err[1024];
	ir_graph *g = onnx_load(path, err, sizeof err);
	if (!g) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	if (pass_infer(g) || pass_fold(g, 0) < 0 || pass_infer(g)) {
		fprintf(stderr, "%s\n", g->err);
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

static ds_set *load_mnist(void)
{
	struct stat st;
	if (stat(MNIST_DIR, &st) != 0) {
		skipped++;
		return NULL;
	}
	char err[512];
	ds_set *d = ds_load("mnist:" MNIST_DIR, DS_TEST, err, sizeof err);
	if (!d)
		fprintf(stderr, "%s\n", err);
	return d;
}

#define NEED_MNIST(d)                                                               \
	do {                                                                        \
		if (!(d)) {                                                         \
			ASSERT(skipped);                                            \
			printf("SKIP %s: %s not found\n", __func__, MNIST_DIR);     \
			return;                                                     \
		}                                                                   \
	} while (0)

/* 9775 of 10,000: the count torch and a numpy forward pass agree on. */
static void test_mnist_mlp(void)
{
	ds_set *d = load_mnist();
	NEED_MNIST(d);
	ir_graph *g = load_model(MLP_MODEL);
	ASSERT(g);
	ds_preprocess pp;
	char err[256];
	ASSERT(ds_preprocess_parse("mean:0.1307,std:0.3081", &pp, err, sizeof err) == 0);
	eval_result r;
	int32_t *p100 = malloc((size_t)d->n * sizeof *p100), *p1 = malloc((size_t)d->n * sizeof *p1);
	ASSERT(p100 && p1);
	int rc = eval_predict(g, d, &pp, 0, 1, "original", p100, &r);
	if (rc)
		fprintf(stderr, "%s\n", g->err);
	ASSERT(rc == 0);
	printf("mnist-mlp batch %lld: %lld/%lld = %.4f in %.3f s (%.0f images/s)\n", (long long)r.batch,
	       (long long)r.correct, (long long)r.n, r.accuracy, r.seconds, r.images_per_s);
	ASSERT(r.n == 10000 && r.batch == 100 && r.classes == 10);
	ASSERT(r.correct == 9775);

	/* One image at a time, as the graph would run with N fixed to 1. */
	ir_value *in = g->inputs[0];
	ASSERT(in->shape.rank == 4 && in->shape.d[0].v < 0);
	in->shape.d[0].v = 1;
	in->shape.d[0].sym = NULL;
	ASSERT(pass_infer(g) == 0);
	ASSERT(eval_predict(g, d, &pp, 0, 1, "batch 1", p1, &r) == 0);
	printf("mnist-mlp batch %lld: %lld/%lld = %.4f in %.3f s (%.0f images/s)\n", (long long)r.batch,
	       (long long)r.correct, (long long)r.n, r.accuracy, r.seconds, r.images_per_s);
	ASSERT(r.batch == 1 && r.correct == 9775);
	ASSERT(eval_agreement(p1, p100, d->n) == d->n);

	/* Without preprocessing the model sees other inputs and does worse. */
	ASSERT(eval_accuracy(g, d, NULL, 0, 1, NULL, &r) == 0);
	ASSERT(r.correct < 9775);
	free(p100);
	free(p1);
	ir_graph_free(g);
	ds_free(d);
}

/* The CIFAR model on MNIST: a clear error, not a crash in Conv. */
static void test_mnist_on_cifar_model(void)
{
	ds_set *d = load_mnist();
	NEED_MNIST(d);
	ir_graph *g = load_model(CNN_MODEL);
	ASSERT(g);
	eval_result r;
	ASSERT(eval_accuracy(g, d, NULL, 0, 1, NULL, &r) == -1);
	ASSERT_STR_CONTAINS(g->err, "--eval: model input 'input' has shape [N,3,32,32], but the mnist "
				    "images are 1×28×28");
	ir_graph_free(g);
	ds_free(d);
}

int main(void)
{
	static const test_case cases[] = {
		{"toy_batches", test_toy_batches},
		{"toy_layouts", test_toy_layouts},
		{"toy_preprocess", test_toy_preprocess},
		{"toy_nan", test_toy_nan},
		{"toy_compare", test_toy_compare},
		{"toy_errors", test_toy_errors},
		{"mnist_mlp", test_mnist_mlp},
		{"mnist_on_cifar_model", test_mnist_on_cifar_model},
	};
	int failed = test_run(cases, (int)(sizeof cases / sizeof cases[0]));
	/* Without the data the synthetic tests still ran; 77 tells CTest the
	 * real-data checks did not. */
	return failed ? 1 : skipped ? 77 : 0;
}
