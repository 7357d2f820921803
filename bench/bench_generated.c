/* bench_generated.c - times batch-1 inference of qnnc-generated C. Built by
 * bench/run.sh with -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model against the
 * generated model.c:  bench_generated INPUT.bin ITERATIONS
 * prints "generated_us <microseconds per inference>". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include QNNC_MODEL_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define UPPER_IN0 CAT(MODEL_UPPER, _IN0_SIZE)
#define UPPER_OUT0 CAT(MODEL_UPPER, _OUT0_SIZE)

static float input[UPPER_IN0], output[UPPER_OUT0];
static CAT(NAME, _ctx) ctx;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_generated INPUT.bin ITERATIONS\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f || fread(input, sizeof input[0], UPPER_IN0, f) != UPPER_IN0) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	int iters = atoi(argv[2]);
	CAT(NAME, _init)(&ctx);
	double best = 1e30;
	volatile float sink = 0;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = now();
		for (int i = 0; i < iters; i++) {
			CAT(NAME, _run)(&ctx, input, output);
			sink += output[0];
		}
		double t = (now() - t0) / iters;
		if (t < best)
			best = t;
	}
	printf("generated_us %.3f\n", best * 1e6);
	return 0;
}
