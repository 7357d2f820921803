/* mnist_main.c - runs a qnnc-generated MNIST classifier on the MNIST test
 * set and prints its top-1 accuracy. Built by scripts/mnist.sh with
 * -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model against the generated model.c.
 *
 *   mnist_main DATA_DIR [MEAN STD]
 *
 * DATA_DIR holds t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz)
 * (read with zlib, which takes gzipped and raw files alike). Pixels are
 * scaled to [0, 1], then (x - MEAN) / STD (defaults 0.1307, 0.3081). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include QNNC_MODEL_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

static unsigned char *read_idx(const char *dir, const char *base, int want_dims, long *count)
{
	char path[4096];
	gzFile f = NULL;
	snprintf(path, sizeof path, "%s/%s.gz", dir, base);
	f = gzopen(path, "rb");
	if (!f) {
		snprintf(path, sizeof path, "%s/%s", dir, base);
		f = gzopen(path, "rb");
	}
	if (!f) {
		fprintf(stderr, "mnist: cannot open %s/%s(.gz)\n", dir, base);
		return NULL;
	}
	unsigned char hdr[16];
	int hl = 4 + 4 * want_dims;
	if (gzread(f, hdr, (unsigned)hl) != hl || hdr[0] || hdr[1] || hdr[2] != 8 || hdr[3] != want_dims) {
		fprintf(stderr, "mnist: %s is not an IDX file of %d dims of bytes\n", path, want_dims);
		gzclose(f);
		return NULL;
	}
	long n = 1;
	for (int i = 0; i < want_dims; i++)
		n *= (long)hdr[4 + 4 * i] << 24 | (long)hdr[5 + 4 * i] << 16 | (long)hdr[6 + 4 * i] << 8 | hdr[7 + 4 * i];
	*count = (long)hdr[4] << 24 | (long)hdr[5] << 16 | (long)hdr[6] << 8 | hdr[7];
	unsigned char *buf = malloc((size_t)n);
	if (!buf || gzread(f, buf, (unsigned)n) != (int)n) {
		fprintf(stderr, "mnist: %s is truncated\n", path);
		free(buf);
		gzclose(f);
		return NULL;
	}
	gzclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: mnist_main DATA_DIR [MEAN STD]\n");
		return 2;
	}
	float mean = argc == 4 ? strtof(argv[2], NULL) : 0.1307f;
	float std = argc == 4 ? strtof(argv[3], NULL) : 0.3081f;
	long nimg, nlab;
	unsigned char *img = read_idx(argv[1], "t10k-images-idx3-ubyte", 3, &nimg);
	unsigned char *lab = read_idx(argv[1], "t10k-labels-idx1-ubyte", 1, &nlab);
	if (!img || !lab || nimg != nlab)
		return 1;
	static float x[784], y[10];
	static CAT(NAME, _ctx) ctx;
	CAT(NAME, _init)(&ctx);
	long correct = 0;
	clock_t t0 = clock();
	for (long i = 0; i < nimg; i++) {
		for (int k = 0; k < 784; k++)
			x[k] = (img[i * 784 + k] / 255.0f - mean) / std;
		if (CAT(NAME, _run)(&ctx, x, y)) {
			fprintf(stderr, "mnist: inference failed on image %ld\n", i);
			return 1;
		}
		int best = 0;
		for (int k = 1; k < 10; k++)
			if (y[k] > y[best])
				best = k;
		correct += best == lab[i];
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	printf("images %ld  correct %ld  accuracy %.2f%%  (%.1f us/image)\n", nimg, correct,
	       100.0 * correct / nimg, 1e6 * secs / nimg);
	free(img);
	free(lab);
	return 0;
}
