/* classify.c - runs a qnnc-generated image classifier on the MNIST or
 * CIFAR-10 test set and prints its top-1 accuracy. Built against the
 * generated model.c with
 *
 *   cc -std=c99 -O2 -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model \
 *      [-DQNNC_HYBRID -Iruntime] classify.c model.c [-lqnnrt] -lz -lm
 *
 * QNNC_HYBRID: the model has quantum stages, so its context carries the
 * executor, the read-out mode, the shot count and the seed (runtime/qnnrt.h).
 *
 *   classify DATASET [--readout=exact|shots] [--shots=S] [--seed=N]
 *            [--limit=N] [--preds=FILE] [--mean=M[/M/M]] [--std=S[/S/S]]
 *
 * DATASET is mnist:DIR (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
 * gzipped or not) or cifar10:DIR (test_batch.bin). Pixels are scaled to
 * [0, 1], then (x - mean) / std per channel (defaults: the MNIST and the
 * CIFAR-10 statistics the bundled models were trained with). --preds
 * writes one predicted class per line, for comparing two builds. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include QNNC_MODEL_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* A whole file through zlib (which reads gzipped and raw files alike);
 * tries DIR/BASE.gz, then DIR/BASE. */
static unsigned char *slurp(const char *dir, const char *base, long *len)
{
	char path[4096];
	gzFile f;
	snprintf(path, sizeof path, "%s/%s.gz", dir, base);
	f = gzopen(path, "rb");
	if (!f) {
		snprintf(path, sizeof path, "%s/%s", dir, base);
		f = gzopen(path, "rb");
	}
	if (!f) {
		fprintf(stderr, "classify: cannot open %s/%s(.gz)\n", dir, base);
		return NULL;
	}
	long cap = 1 << 20, n = 0;
	unsigned char *buf = malloc((size_t)cap);
	for (;;) {
		if (!buf)
			break;
		int got = gzread(f, buf + n, (unsigned)(cap - n));
		if (got < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		n += got;
		if (n < cap)
			break;
		cap *= 2;
		unsigned char *nb = realloc(buf, (size_t)cap);
		if (!nb)
			free(buf);
		buf = nb;
	}
	gzclose(f);
	if (!buf)
		fprintf(stderr, "classify: cannot read %s\n", path);
	*len = n;
	return buf;
}

static long be32(const unsigned char *p)
{
	return (long)p[0] << 24 | (long)p[1] << 16 | (long)p[2] << 8 | p[3];
}

typedef struct dataset {
	long n;                 /* images */
	int c, h, w;            /* channels, height, width */
	unsigned char *pix;     /* n × c·h·w bytes, CHW */
	unsigned char *label;   /* n */
	unsigned char *blob[2]; /* what to free */
} dataset;

static int load_mnist(const char *dir, dataset *d)
{
	long li, ll;
	unsigned char *img = slurp(dir, "t10k-images-idx3-ubyte", &li);
	unsigned char *lab = slurp(dir, "t10k-labels-idx1-ubyte", &ll);
	d->blob[0] = img;
	d->blob[1] = lab;
	if (!img || !lab)
		return -1;
	if (li < 16 || ll < 8 || be32(img) != 0x803 || be32(lab) != 0x801 || be32(img + 4) != be32(lab + 4) ||
	    be32(img + 8) != 28 || be32(img + 12) != 28 || li < 16 + be32(img + 4) * 784 ||
	    ll < 8 + be32(lab + 4)) {
		fprintf(stderr, "classify: %s does not hold the MNIST test set (IDX files)\n", dir);
		return -1;
	}
	d->n = be32(img + 4);
	d->c = 1;
	d->h = d->w = 28;
	d->pix = img + 16;
	d->label = lab + 8;
	return 0;
}

/* CIFAR-10 binary: 10000 records of 1 label byte + 3072 pixel bytes (CHW). */
static int load_cifar(const char *dir, dataset *d)
{
	long len;
	unsigned char *b = slurp(dir, "test_batch.bin", &len);
	d->blob[0] = b;
	if (!b)
		return -1;
	if (len <= 0 || len % 3073) {
		fprintf(stderr, "classify: %s/test_batch.bin is not a CIFAR-10 binary batch\n", dir);
		return -1;
	}
	d->n = len / 3073;
	d->c = 3;
	d->h = d->w = 32;
	/* Split labels and pixels in place: pixels move down over the labels. */
	d->label = malloc((size_t)d->n);
	d->blob[1] = d->label;
	if (!d->label)
		return -1;
	for (long i = 0; i < d->n; i++) {
		d->label[i] = b[i * 3073];
		memmove(b + i * 3072, b + i * 3073 + 1, 3072);
	}
	d->pix = b;
	return 0;
}

/* "a/b/c" or "a" into v[0..3) (a single value fills all three). */
static int parse_per_channel(const char *s, float *v)
{
	char *end;
	for (int i = 0; i < 3; i++) {
		v[i] = strtof(s, &end);
		if (end == s)
			return -1;
		if (!*end) {
			for (int j = i + 1; j < 3; j++)
				v[j] = i ? v[i] : v[0];
			return i == 0 || i == 2 ? 0 : -1;
		}
		if (*end != '/')
			return -1;
		s = end + 1;
	}
	return -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: classify mnist:DIR|cifar10:DIR [--readout=exact|shots] [--shots=S] [--seed=N]\n"
			"                [--limit=N] [--preds=FILE] [--mean=M[/M/M]] [--std=S[/S/S]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *spec = argv[1], *preds = NULL, *mean_arg = NULL, *std_arg = NULL;
	long limit = 0;
	int readout = -1;
	long shots = 0;
	unsigned long long seed = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--readout=exact"))
			readout = 0;
		else if (!strcmp(a, "--readout=shots"))
			readout = 1;
		else if (!strncmp(a, "--shots=", 8))
			shots = strtol(a + 8, NULL, 10);
		else if (!strncmp(a, "--seed=", 7))
			seed = strtoull(a + 7, NULL, 10);
		else if (!strncmp(a, "--limit=", 8))
			limit = strtol(a + 8, NULL, 10);
		else if (!strncmp(a, "--preds=", 8))
			preds = a + 8;
		else if (!strncmp(a, "--mean=", 7))
			mean_arg = a + 7;
		else if (!strncmp(a, "--std=", 6))
			std_arg = a + 6;
		else
			return usage();
	}
	dataset d = {0};
	int is_mnist = !strncmp(spec, "mnist:", 6);
	if (!is_mnist && strncmp(spec, "cifar10:", 8))
		return usage();
	if ((is_mnist ? load_mnist(spec + 6, &d) : load_cifar(spec + 8, &d)) != 0) {
		free(d.blob[0]);
		free(d.blob[1]);
		return 1;
	}
	float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.247f, 0.243f, 0.261f};
	if (is_mnist)
		mean[0] = 0.1307f, std[0] = 0.3081f;
	if ((mean_arg && parse_per_channel(mean_arg, mean)) || (std_arg && parse_per_channel(std_arg, std)))
		return usage();
	if (limit > 0 && limit < d.n)
		d.n = limit;

	static CAT(NAME, _ctx) ctx;
	CAT(NAME, _init)(&ctx);
#ifdef QNNC_HYBRID
	if (readout >= 0)
		ctx.readout = readout;
	if (shots > 0)
		ctx.shots = shots;
	ctx.seed = seed;
#else
	if (readout >= 0 || shots > 0 || seed) {
		fprintf(stderr, "classify: this model has no quantum stage (--readout/--shots/--seed do not apply)\n");
		return 2;
	}
#endif
	FILE *pf = preds ? fopen(preds, "w") : NULL;
	if (preds && !pf) {
		fprintf(stderr, "classify: cannot write %s\n", preds);
		return 1;
	}
	long per = (long)d.c * d.h * d.w;
	float *x = malloc(sizeof *x * (size_t)per);
	float y[10];
	long correct = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < d.n; i++) {
		const unsigned char *p = d.pix + i * per;
		for (long k = 0; k < per; k++) {
			int ch = (int)(k / ((long)d.h * d.w));
			x[k] = (p[k] / 255.0f - mean[ch]) / std[ch];
		}
		int rc = CAT(NAME, _run)(&ctx, x, y);
		if (rc) {
			fprintf(stderr, "classify: inference failed on image %ld (code %d)\n", i, rc);
			return 1;
		}
		int best = 0;
		for (int k = 1; k < 10; k++)
			if (y[k] > y[best])
				best = k;
		correct += best == d.label[i];
		if (pf)
			fprintf(pf, "%d\n", best);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	printf("images %ld  correct %ld  accuracy %.2f%%  (%.1f us/image)\n", d.n, correct,
	       100.0 * (double)correct / (double)d.n, 1e6 * secs / (double)d.n);
	if (pf && fclose(pf)) {
		fprintf(stderr, "classify: error writing %s\n", preds);
		return 1;
	}
	free(x);
	free(d.blob[0]);
	free(d.blob[1]);
	return 0;
}
