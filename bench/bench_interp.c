/* bench_interp.c - times batch-1 inference of the reference interpreter:
 *   bench_interp MODEL.onnx INPUT.pb ITERATIONS [RAW_INPUT_OUT]
 * prints "interp_us <microseconds per inference>"; with a fourth argument
 * also writes the input's raw bytes there (for the generated-C bench). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../frontend/onnx.h"
#include "../passes/passes.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: bench_interp MODEL.onnx INPUT.pb ITERATIONS [RAW_INPUT_OUT]\n");
		return 2;
	}
	char err[4096];
	ir_graph *g = onnx_load(argv[1], err, sizeof err);
	if (!g || pass_infer(g) || pass_fold(g, 0) < 0) {
		fprintf(stderr, "%s\n", g ? g->err : err);
		return 1;
	}
	ir_tensor *in = onnx_read_tensor(argv[2], NULL, err, sizeof err);
	if (!in) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (argc == 5) {
		FILE *f = fopen(argv[4], "wb");
		if (!f || fwrite(in->data, ir_dtype_size(in->dtype), (size_t)in->numel, f) != (size_t)in->numel) {
			fprintf(stderr, "cannot write %s\n", argv[4]);
			return 1;
		}
		fclose(f);
	}
	int iters = atoi(argv[3]);
	ir_tensor *out[8];
	double best = 1e30;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = now();
		for (int i = 0; i < iters; i++) {
			if (interp_run(g, &in, out)) {
				fprintf(stderr, "%s\n", g->err);
				return 1;
			}
			for (int k = 0; k < g->noutputs; k++)
				ir_tensor_free(out[k]);
		}
		double t = (now() - t0) / iters;
		if (t < best)
			best = t;
	}
	printf("interp_us %.3f\n", best * 1e6);
	ir_tensor_free(in);
	ir_graph_free(g);
	return 0;
}
