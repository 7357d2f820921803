/* test_dataset_real.c - the dataset readers on the real MNIST and CIFAR-10
 * files in QNNC_SHARED_DATA: sizes, first labels, class histograms, and
 * pixel statistics (which pin the scaling to [0, 1] and the channel
 * layout against the well-known normalisation constants). Returns 77
 * (skipped) when neither dataset is present; a missing one is reported as
 * SKIP on its own lines. The synthetic tests are in test_dataset.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../frontend/dataset.h"
#include "test.h"

#define MNIST_DIR QNNC_SHARED_DATA "/mnist"
#define CIFAR_DIR QNNC_SHARED_DATA "/cifar10"

static int have(const char *dir)
{
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

#define NEED(dir)                                                            \
	do {                                                                 \
		if (!have(dir)) {                                            \
			printf("SKIP %s: %s not found\n", __func__, dir);    \
			return;                                              \
		}                                                            \
	} while (0)

/* Per-channel mean and standard deviation of all pixels after ds_batch
 * (with preprocessing pp, may be NULL). */
static int channel_stats(const ds_set *d, const ds_preprocess *pp, double *mean, double *sd)
{
	enum { B = 500 };
	int64_t chw = d->c * d->h * d->w, hw = d->h * d->w;
	float *x = malloc((size_t)(B * chw) * sizeof *x);
	double s[DS_MAX_CHANNELS] = {0}, s2[DS_MAX_CHANNELS] = {0};
	char err[256];
	if (!x)
		return -1;
	for (int64_t first = 0; first < d->n; first += B) {
		int64_t b = d->n - first < B ? d->n - first : B;
		if (ds_batch(d, NULL, first, b, pp, NULL, NULL, x, NULL, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			free(x);
			return -1;
		}
		for (int64_t i = 0; i < b; i++)
			for (int64_t c = 0; c < d->c; c++)
				for (int64_t k = 0; k < hw; k++) {
					double v = x[i * chw + c * hw + k];
					s[c] += v;
					s2[c] += v * v;
				}
	}
	double cnt = (double)(d->n * hw);
	for (int64_t c = 0; c < d->c; c++) {
		mean[c] = s[c] / cnt;
		sd[c] = sqrt(s2[c] / cnt - mean[c] * mean[c]);
	}
	free(x);
	return 0;
}

static int check_histogram(const ds_set *d, const int *want)
{
	int hist[10] = {0};
	for (int64_t i = 0; i < d->n; i++)
		hist[d->labels[i]]++;
	for (int k = 0; k < 10; k++)
		if (hist[k] != want[k]) {
			fprintf(stderr, "class %d: %d samples, expected %d\n", k, hist[k], want[k]);
			return 0;
		}
	return 1;
}

static void test_mnist_test(void)
{
	NEED(MNIST_DIR);
	static const int want[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
	char err[512] = "";
	ds_set *d = ds_load("mnist:" MNIST_DIR, DS_TEST, err, sizeof err);
	if (!d)
		fprintf(stderr, "%s\n", err);
	ASSERT(d);
	ASSERT(d->n == 10000 && d->c == 1 && d->h == 28 && d->w == 28 && d->nclasses == 10);
	ASSERT(d->labels[0] == 7);
	ASSERT(check_histogram(d, want));
	ds_free(d);
}

static void test_mnist_train(void)
{
	NEED(MNIST_DIR);
	static const int want[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
	char err[512] = "";
	ds_set *d = ds_load("mnist:" MNIST_DIR, DS_TRAIN, err, sizeof err);
	ASSERT(d);
	ASSERT(d->n == 60000 && d->h == 28 && d->w == 28);
	ASSERT(d->labels[0] == 5);
	ASSERT(check_histogram(d, want));
	/* The usual normalisation constants are these statistics. */
	double m[1], s[1];
	ASSERT(channel_stats(d, NULL, m, s) == 0);
	ASSERT_NEAR(m[0], 0.1307, 5e-4);
	ASSERT_NEAR(s[0], 0.3081, 5e-4);
	ds_preprocess pp;
	ASSERT(ds_preprocess_parse("mean:0.1307,std:0.3081", &pp, err, sizeof err) == 0);
	ASSERT(channel_stats(d, &pp, m, s) == 0);
	ASSERT_NEAR(m[0], 0.0, 2e-3);
	ASSERT_NEAR(s[0], 1.0, 2e-3);
	ds_set *h = ds_holdout(d, 5000, err, sizeof err);
	ASSERT(h && d->n == 55000 && h->n == 5000);
	ds_free(h);
	ds_free(d);
}

static void test_cifar_test(void)
{
	NEED(CIFAR_DIR);
	static const int want[10] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
	char err[512] = "";
	ds_set *d = ds_load("cifar10:" CIFAR_DIR, DS_TEST, err, sizeof err);
	if (!d)
		fprintf(stderr, "%s\n", err);
	ASSERT(d);
	ASSERT(d->n == 10000 && d->c == 3 && d->h == 32 && d->w == 32);
	ASSERT(d->labels[0] == 3 && !strcmp(ds_class_name(d->kind, d->labels[0]), "cat"));
	ASSERT(check_histogram(d, want));
	ds_free(d);
}

static void test_cifar_train(void)
{
	NEED(CIFAR_DIR);
	static const int want[10] = {5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000};
	char err[512] = "";
	ds_set *d = ds_load("cifar10:" CIFAR_DIR, DS_TRAIN, err, sizeof err);
	ASSERT(d);
	ASSERT(d->n == 50000);
	ASSERT(d->labels[0] == 6); /* frog */
	ASSERT(check_histogram(d, want));
	/* Per-channel means pin the R, G, B plane order. */
	double m[3], s[3];
	ASSERT(channel_stats(d, NULL, m, s) == 0);
	ASSERT_NEAR(m[0], 0.4914, 5e-4);
	ASSERT_NEAR(m[1], 0.4822, 5e-4);
	ASSERT_NEAR(m[2], 0.4465, 5e-4);
	ASSERT_NEAR(s[0], 0.2470, 5e-4);
	ASSERT_NEAR(s[1], 0.2435, 5e-4);
	ASSERT_NEAR(s[2], 0.2616, 5e-4);
	ds_free(d);
}

/* TEST_MAIN defines main; rename it so the skip check can run first. */
#define main run_tests
TEST_MAIN({"mnist_test", test_mnist_test}, {"mnist_train", test_mnist_train},
	  {"cifar_test", test_cifar_test}, {"cifar_train", test_cifar_train})
#undef main

int main(void)
{
	if (!have(MNIST_DIR) && !have(CIFAR_DIR)) {
		printf("SKIP: neither %s nor %s found\n", MNIST_DIR, CIFAR_DIR);
		return 77;
	}
	return run_tests();
}
