/* bench_train.c - training throughput of qnnc's engine (passes/train.c):
 * epochs of Adam (lr 1e-3) over the MNIST training set, starting from the
 * weights of an ONNX model, all parameters trained, batches shuffled with a
 * fixed seed. Prints images per second (shuffling, batch conversion with
 * the model's preprocessing, forward, loss, backward and the optimiser
 * step all included; the first steps are a warm-up and not timed) and the
 * test accuracy after training. bench/bench_train.sh runs it beside the
 * same loop in PyTorch (bench_train_torch.py).
 *
 *   bench_train MODEL.onnx MNIST_DIR [BATCH [EPOCHS [THREADS]]]
 *
 * Output, one line: "qnnc images_per_s 41234.5 loss 0.0412 test_acc 0.9781
 * batch 128 threads 2 epochs 1"
 */
#include "../frontend/dataset.h"
#include "../frontend/onnx.h"
#include "../passes/la.h"
#include "../passes/passes.h"
#include "../passes/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODEL.onnx MNIST_DIR [BATCH [EPOCHS [THREADS]]]\n", argv[0]);
		return 2;
	}
	int64_t batch = argc > 3 ? atoll(argv[3]) : 128;
	int epochs = argc > 4 ? atoi(argv[4]) : 1;
	int threads = la_set_threads(argc > 5 ? atoi(argv[5]) : 0);
	char err[512], spec[1024];
	snprintf(spec, sizeof spec, "mnist:%s", argv[2]);
	ds_set *tr = ds_load(spec, DS_TRAIN, err, sizeof err);
	ds_set *te = tr ? ds_load(spec, DS_TEST, err, sizeof err) : NULL;
	ir_graph *g = te ? onnx_load(argv[1], err, sizeof err) : NULL;
	if (!g) {
		fprintf(stderr, "bench_train: %s\n", err);
		return 1;
	}
	ds_preprocess pp;
	ds_preprocess_parse("mean:0.1307,std:0.3081", &pp, err, sizeof err);
	train_model *m = NULL;
	if (pass_infer(g) || pass_fold(g, 0) < 0 || !(m = train_new(g, NULL)))
		goto fail;
	train_config c;
	train_config_defaults(&c);
	c.batch = batch;
	c.pp = &pp;
	c.quiet = 1;
	/* Warm-up on the first 20 batches (buffers, BLAS threads). */
	ds_set warm = *tr;
	warm.n = 20 * batch < tr->n ? 20 * batch : tr->n;
	if (train_fit(m, &warm, NULL, &c, NULL))
		goto fail;
	train_free(m);
	if (!(m = train_new(g, NULL)))
		goto fail;
	c.epochs = epochs;
	train_epoch_stats *st = calloc((size_t)epochs, sizeof *st);
	double t0 = now();
	if (!st || train_fit(m, tr, NULL, &c, st))
		goto fail;
	double secs = now() - t0, loss, acc;
	if (train_evaluate(m, te, &pp, 1000, &loss, &acc, NULL))
		goto fail;
	printf("qnnc images_per_s %.1f loss %.4f test_acc %.4f batch %lld threads %d epochs %d\n",
	       (double)tr->n * epochs / secs, st[epochs - 1].loss, acc, (long long)batch, threads,
	       epochs);
	free(st);
	train_free(m);
	ds_free(tr);
	ds_free(te);
	ir_graph_free(g);
	la_release();
	return 0;
fail:
	fprintf(stderr, "bench_train: %s\n", g->err);
	return 1;
}
