/* test_dataset.c - dataset readers on small synthetic files (raw and
 * gzipped IDX, CIFAR-10 records), their error messages for malformed
 * files, --preprocess parsing, the PRNG, shuffling, held-out splits and
 * augmented batches. The real MNIST/CIFAR-10 checks are in
 * test_dataset_real.c (skipped when the data is absent). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../frontend/dataset.h"
#include "test.h"

/* ------------------------------------------------------------ temp files */

static char root[64];
static char *made[128];
static int nmade;

/* Path of name inside a fresh temp folder sub (created on demand); every
 * path handed out is removed by test_cleanup. */
static const char *tpath(const char *sub, const char *name)
{
	static char buf[4][256];
	static int k;
	if (!root[0]) {
		strcpy(root, "/tmp/qnnc_test_dataset_XXXXXX");
		if (!mkdtemp(root))
			abort();
	}
	char *p = buf[k++ % 4];
	snprintf(p, 256, "%s/%s", root, sub);
	if (mkdir(p, 0700) == 0 && nmade < 128)
		made[nmade++] = strdup(p);
	if (name) {
		snprintf(p, 256, "%s/%s/%s", root, sub, name);
		int known = 0;
		for (int i = 0; i < nmade; i++)
			known |= !strcmp(made[i], p);
		if (!known && nmade < 128)
			made[nmade++] = strdup(p);
	}
	return p;
}

static void write_bytes(const char *path, int gz, const void *data, size_t n)
{
	if (gz) {
		gzFile f = gzopen(path, "wb");
		gzwrite(f, data, (unsigned)n);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

/* An IDX file of unsigned bytes: header for dims[0..nd), then `n` bytes of
 * data (n may differ from the product, to make broken files). */
static void write_idx(const char *path, int gz, uint32_t magic, const uint32_t *dims, int nd,
		      const uint8_t *data, size_t n)
{
	uint8_t *b = malloc(4 + 4 * (size_t)nd + n);
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(magic >> (24 - 8 * i));
	for (int d = 0; d < nd; d++)
		for (int i = 0; i < 4; i++)
			b[4 + 4 * d + i] = (uint8_t)(dims[d] >> (24 - 8 * i));
	memcpy(b + 4 + 4 * nd, data, n);
	write_bytes(path, gz, b, 4 + 4 * (size_t)nd + n);
	free(b);
}

/* Synthetic MNIST split: n images h×w with pixel (i, r, q) = i + 3r + q,
 * label i % 10. */
static void make_mnist(const char *sub, const char *prefix, int gz, uint32_t n, uint32_t h,
		       uint32_t w)
{
	uint8_t *pix = malloc((size_t)n * h * w), *lab = malloc(n);
	for (uint32_t i = 0; i < n; i++) {
		lab[i] = (uint8_t)(i % 10);
		for (uint32_t k = 0; k < h * w; k++)
			pix[i * h * w + k] = (uint8_t)(i + 3 * (k / w) + k % w);
	}
	char name[64];
	uint32_t dims[3] = {n, h, w};
	snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
	write_idx(tpath(sub, name), gz, 0x803, dims, 3, pix, (size_t)n * h * w);
	snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
	write_idx(tpath(sub, name), gz, 0x801, dims, 1, lab, n);
	free(pix);
	free(lab);
}

/* ------------------------------------------------------------ MNIST */

static void test_mnist_raw_and_gz(void)
{
	make_mnist("m1", "train", 0, 7, 4, 5);
	make_mnist("m1", "t10k", 1, 3, 4, 5);
	char err[512] = "", spec[300];
	snprintf(spec, sizeof spec, "mnist:%s", tpath("m1", NULL));
	for (int split = 0; split < 2; split++) {
		ds_set *d = ds_load(spec, split ? DS_TEST : DS_TRAIN, err, sizeof err);
		if (!d)
			fprintf(stderr, "%s\n", err);
		ASSERT(d);
		ASSERT(d->kind == DS_MNIST && d->nclasses == 10);
		ASSERT(d->n == (split ? 3 : 7) && d->c == 1 && d->h == 4 && d->w == 5);
		for (int64_t i = 0; i < d->n; i++) {
			ASSERT(d->labels[i] == i % 10);
			ASSERT(d->pixels[i * 20 + 2 * 5 + 3] == i + 6 + 3);
		}
		ds_free(d);
	}
}

/* Load the train split of folder sub and expect failure mentioning all of
 * the given fragments. */
static int expect_fail(ds_kind kind, const char *sub, ds_split split, const char *frag1,
		       const char *frag2)
{
	char err[512] = "";
	ds_set *d = ds_load_dir(kind, tpath(sub, NULL), split, err, sizeof err);
	int ok = !d && strstr(err, frag1) && (!frag2 || strstr(err, frag2));
	if (!ok)
		fprintf(stderr, "%s: unexpected result: %s\n", sub, d ? "loaded" : err);
	ds_free(d);
	return ok;
}

static void test_mnist_malformed(void)
{
	uint8_t pix[2 * 4 * 4] = {0}, lab[3] = {1, 2, 3};
	uint32_t dims[3] = {2, 4, 4}, ldims[1] = {2};

	/* Bad magic: the label file's magic on the image file. */
	write_idx(tpath("bm", "train-images-idx3-ubyte"), 0, 0x801, dims, 3, pix, sizeof pix);
	write_idx(tpath("bm", "train-labels-idx1-ubyte"), 0, 0x801, ldims, 1, lab, 2);
	ASSERT(expect_fail(DS_MNIST, "bm", DS_TRAIN, "bm/train-images-idx3-ubyte: bad magic", NULL));

	/* Truncated raw data. */
	write_idx(tpath("tr", "train-images-idx3-ubyte"), 0, 0x803, dims, 3, pix, sizeof pix - 1);
	write_idx(tpath("tr", "train-labels-idx1-ubyte"), 0, 0x801, ldims, 1, lab, 2);
	ASSERT(expect_fail(DS_MNIST, "tr", DS_TRAIN, "tr/train-images-idx3-ubyte: truncated", NULL));

	/* Truncated header. */
	write_bytes(tpath("th", "train-images-idx3-ubyte"), 0, "\0\0\x08\x03\0\0", 6);
	write_idx(tpath("th", "train-labels-idx1-ubyte"), 0, 0x801, ldims, 1, lab, 2);
	ASSERT(expect_fail(DS_MNIST, "th", DS_TRAIN, "th/train-images-idx3-ubyte: truncated IDX header",
			   NULL));

	/* Trailing bytes. */
	write_idx(tpath("tb", "train-images-idx3-ubyte.gz"), 1, 0x803, dims, 3, pix, sizeof pix);
	write_idx(tpath("tb", "train-labels-idx1-ubyte.gz"), 1, 0x801, ldims, 1, lab, 3);
	ASSERT(expect_fail(DS_MNIST, "tb", DS_TRAIN, "tb/train-labels-idx1-ubyte.gz: trailing", NULL));

	/* Count mismatch: 3 labels for 2 images. */
	ldims[0] = 3;
	write_idx(tpath("cm", "train-images-idx3-ubyte"), 0, 0x803, dims, 3, pix, sizeof pix);
	write_idx(tpath("cm", "train-labels-idx1-ubyte"), 0, 0x801, ldims, 1, lab, 3);
	ASSERT(expect_fail(DS_MNIST, "cm", DS_TRAIN, "cm/train-labels-idx1-ubyte: 3 labels",
			   "has 2 images"));
	ldims[0] = 2;

	/* A label out of range. */
	uint8_t badlab[2] = {1, 10};
	write_idx(tpath("lr", "t10k-images-idx3-ubyte"), 0, 0x803, dims, 3, pix, sizeof pix);
	write_idx(tpath("lr", "t10k-labels-idx1-ubyte"), 0, 0x801, ldims, 1, badlab, 2);
	ASSERT(expect_fail(DS_MNIST, "lr", DS_TEST, "lr/t10k-labels-idx1-ubyte: label 10 of image 1",
			   NULL));

	/* A zero dimension. */
	uint32_t zdims[3] = {2, 0, 4};
	write_idx(tpath("zd", "t10k-images-idx3-ubyte"), 0, 0x803, zdims, 3, pix, 0);
	write_idx(tpath("zd", "t10k-labels-idx1-ubyte"), 0, 0x801, ldims, 1, lab, 2);
	ASSERT(expect_fail(DS_MNIST, "zd", DS_TEST, "zd/t10k-images-idx3-ubyte: dimension 1 is zero",
			   NULL));

	/* A cut gzip stream: the compressed file loses its tail. */
	make_mnist("cg", "train", 1, 50, 28, 28);
	const char *gzp = tpath("cg", "train-images-idx3-ubyte.gz");
	FILE *f = fopen(gzp, "rb");
	ASSERT(f);
	uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	ASSERT(n > 100);
	write_bytes(gzp, 0, buf, n / 2);
	ASSERT(expect_fail(DS_MNIST, "cg", DS_TRAIN, "cg/train-images-idx3-ubyte.gz: truncated", NULL));

	/* Missing files and folders. */
	ASSERT(expect_fail(DS_MNIST, "empty", DS_TRAIN, "empty/train-images-idx3-ubyte[.gz]: no such file",
			   NULL));
	char err[512] = "";
	ASSERT(!ds_load_dir(DS_MNIST, "/nonexistent-qnnc", DS_TRAIN, err, sizeof err));
	ASSERT_STR_CONTAINS(err, "/nonexistent-qnnc: ");
}

static void test_spec(void)
{
	ds_kind k;
	char *dir = NULL, err[256] = "";
	ASSERT(ds_parse_spec("cifar10:/a/b:c", &k, &dir, err, sizeof err) == 0);
	ASSERT(k == DS_CIFAR10 && !strcmp(dir, "/a/b:c"));
	free(dir);
	ASSERT(ds_parse_spec("mnist:x", &k, &dir, err, sizeof err) == 0 && k == DS_MNIST);
	free(dir);
	ASSERT(ds_parse_spec("mnist", &k, &dir, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "expected mnist:DIR or cifar10:DIR");
	ASSERT(ds_parse_spec("mnist:", &k, &dir, err, sizeof err) == -1);
	ASSERT(ds_parse_spec("imagenet:/x", &k, &dir, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "unknown kind 'imagenet'");
	ASSERT(!strcmp(ds_class_name(DS_CIFAR10, 3), "cat"));
	ASSERT(!strcmp(ds_class_name(DS_MNIST, 7), "7"));
	ASSERT(!strcmp(ds_class_name(DS_MNIST, 10), "?"));
	ASSERT(!strcmp(ds_kind_name(DS_CIFAR10), "cifar10"));
}

/* ------------------------------------------------------------ CIFAR-10 */

#define REC 3073

/* Records whose label is (base + i) % 10 and whose pixel k of record i is
 * (base + i + k) mod 256. */
static void write_cifar(const char *path, int nrec, int base, int badlabel_at)
{
	uint8_t *b = malloc((size_t)nrec * REC);
	for (int i = 0; i < nrec; i++) {
		b[i * REC] = (uint8_t)(i == badlabel_at ? 10 : (base + i) % 10);
		for (int k = 0; k < 3072; k++)
			b[i * REC + 1 + k] = (uint8_t)(base + i + k);
	}
	write_bytes(path, 0, b, (size_t)nrec * REC);
	free(b);
}

static void test_cifar(void)
{
	static const int counts[5] = {2, 1, 1, 1, 3};
	int base = 0;
	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof name, "data_batch_%d.bin", i + 1);
		write_cifar(tpath("c1", name), counts[i], base, -1);
		base += counts[i];
	}
	write_cifar(tpath("c1", "test_batch.bin"), 4, 100, -1);
	char err[512] = "", spec[300];
	snprintf(spec, sizeof spec, "cifar10:%s", tpath("c1", NULL));
	ds_set *d = ds_load(spec, DS_TRAIN, err, sizeof err);
	ASSERT(d);
	ASSERT(d->n == 8 && d->c == 3 && d->h == 32 && d->w == 32 && d->nclasses == 10);
	for (int i = 0; i < 8; i++) {
		ASSERT(d->labels[i] == i % 10);
		/* Channel 1 (green) row 2 column 5 is byte 1024 + 2·32 + 5 of the record. */
		ASSERT(d->pixels[(size_t)i * 3072 + 1024 + 69] == (uint8_t)(i + 1024 + 69));
	}
	ds_free(d);
	d = ds_load(spec, DS_TEST, err, sizeof err);
	ASSERT(d);
	ASSERT(d->n == 4 && d->labels[0] == 0 && d->labels[3] == 3);
	ds_free(d);

	/* Label 10, wrong size, missing batch. */
	write_cifar(tpath("c2", "test_batch.bin"), 3, 0, 1);
	ASSERT(expect_fail(DS_CIFAR10, "c2", DS_TEST, "c2/test_batch.bin: record 1 has label 10", NULL));
	write_bytes(tpath("c3", "test_batch.bin"), 0, "\x01\x02\x03", 3);
	ASSERT(expect_fail(DS_CIFAR10, "c3", DS_TEST, "c3/test_batch.bin: size 3 is not", "3073"));
	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof name, "data_batch_%d.bin", i + 1);
		if (i != 2)
			write_cifar(tpath("c4", name), 1, 0, -1);
	}
	ASSERT(expect_fail(DS_CIFAR10, "c4", DS_TRAIN, "c4/data_batch_3.bin: no such file", NULL));
	ASSERT(expect_fail(DS_CIFAR10, "c4", DS_TEST, "c4/test_batch.bin: no such file", NULL));
}

static void test_holdout(void)
{
	make_mnist("ho", "train", 0, 9, 2, 3);
	char err[512] = "";
	ds_set *d = ds_load_dir(DS_MNIST, tpath("ho", NULL), DS_TRAIN, err, sizeof err);
	ASSERT(d);
	ASSERT(!ds_holdout(d, 0, err, sizeof err));
	ASSERT_STR_CONTAINS(err, "0 < k < 9");
	ASSERT(!ds_holdout(d, 9, err, sizeof err));
	ds_set *h = ds_holdout(d, 4, err, sizeof err);
	ASSERT(h);
	ASSERT(d->n == 5 && h->n == 4 && h->c == 1 && h->h == 2 && h->w == 3);
	for (int i = 0; i < 4; i++) {
		ASSERT(h->labels[i] == 5 + i);
		ASSERT(h->pixels[i * 6 + 4] == 5 + i + 3 + 1);
	}
	ASSERT(d->labels[4] == 4);
	ds_free(h);
	ds_free(d);
}

/* ------------------------------------------------------------ preprocessing */

static void test_preprocess_parse(void)
{
	ds_preprocess pp;
	char err[256] = "";
	ASSERT(ds_preprocess_parse("mean:0.1307,std:0.3081", &pp, err, sizeof err) == 0);
	ASSERT(pp.kind == DS_PRE_MEAN_STD && pp.count == 1);
	ASSERT(pp.a[0] == 0.1307f && pp.b[0] == 0.3081f);
	ASSERT(ds_preprocess_parse("mean:0.4914/0.4822/0.4465,std:0.247/0.243/0.261", &pp, err,
				   sizeof err) == 0);
	ASSERT(pp.count == 3 && pp.a[2] == 0.4465f && pp.b[1] == 0.243f);
	/* Keys in either order; a single value broadcasts. */
	ASSERT(ds_preprocess_parse("std:0.5,mean:0.5/0.4/0.3", &pp, err, sizeof err) == 0);
	ASSERT(pp.count == 3 && pp.b[2] == 0.5f && pp.a[1] == 0.4f);
	ASSERT(ds_preprocess_parse("scale:2,shift:-1", &pp, err, sizeof err) == 0);
	ASSERT(pp.kind == DS_PRE_SCALE_SHIFT && pp.a[0] == 2.0f && pp.b[0] == -1.0f);
	ASSERT(ds_preprocess_parse("scale:255", &pp, err, sizeof err) == 0);
	ASSERT(pp.a[0] == 255.0f && pp.b[0] == 0.0f);
	ASSERT(ds_preprocess_parse("mean:0.5", &pp, err, sizeof err) == 0);
	ASSERT(pp.kind == DS_PRE_MEAN_STD && pp.b[0] == 1.0f);
	ASSERT(ds_preprocess_parse("none", &pp, err, sizeof err) == 0 && pp.kind == DS_PRE_NONE);
	ASSERT(ds_preprocess_parse("", &pp, err, sizeof err) == 0 && pp.kind == DS_PRE_NONE);
	ASSERT(ds_preprocess_parse(NULL, &pp, err, sizeof err) == 0 && pp.kind == DS_PRE_NONE);

	static const struct {
		const char *s, *expect;
	} bad[] = {
		{"mean:0.1,std:0", "std must be nonzero"},
		{"mean:0.1,std:1/0/1", "std must be nonzero"},
		{"mean:0.1,scale:2", "either mean/std or scale/shift"},
		{"mean:abc", "'abc' is not a number"},
		{"mean:1x,std:1", "'1x' is not a number"},
		{"mean: 1", "' 1' is not a number"},
		{"mean:1/2,std:1/2/3", "'std' has 3 values but 'mean' has 2"},
		{"foo:1", "unknown key 'foo'"},
		{"mean", "expected KEY:VALUE"},
		{"mean:1,,std:2", "expected KEY:VALUE"},
		{"mean:1,std:2,", "expected KEY:VALUE"},
		{"mean:1,mean:2", "'mean' given twice"},
		{"mean:1/,std:1", "missing value for 'mean'"},
		{"mean:,std:1", "missing value for 'mean'"},
		{"mean:nan,std:1", "not a finite float"},
		{"scale:1e40", "not a finite float"},
		{"mean:1/2/3/4/5/6/7/8/9", "too many values"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		int rc = ds_preprocess_parse(bad[i].s, &pp, err, sizeof err);
		if (rc != -1 || !strstr(err, bad[i].expect))
			fprintf(stderr, "'%s' -> %d '%s'\n", bad[i].s, rc, err);
		ASSERT(rc == -1);
		ASSERT_STR_CONTAINS(err, bad[i].s);
		ASSERT_STR_CONTAINS(err, bad[i].expect);
	}
}

static void test_preprocess_apply(void)
{
	ds_preprocess pp;
	char err[256] = "";
	ASSERT(ds_preprocess_parse("mean:0.5/0.25,std:0.5/2", &pp, err, sizeof err) == 0);
	ASSERT(ds_preprocess_apply(&pp, 0, 1.0f) == 1.0f);
	ASSERT(ds_preprocess_apply(&pp, 1, 0.25f) == 0.0f);
	ASSERT(ds_preprocess_apply(&pp, 1, 1.0f) == 0.375f);
	ASSERT(ds_preprocess_check(&pp, 2, err, sizeof err) == 0);
	ASSERT(ds_preprocess_check(&pp, 3, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "3 channels");
	ASSERT(ds_preprocess_parse("scale:2,shift:-1", &pp, err, sizeof err) == 0);
	ASSERT(ds_preprocess_apply(&pp, 5, 0.75f) == 0.5f);
	ASSERT(ds_preprocess_check(&pp, 3, err, sizeof err) == 0);
	ASSERT(ds_preprocess_apply(NULL, 0, 0.3f) == 0.3f);
}

/* ------------------------------------------------------------ randomness */

static void test_rng(void)
{
	/* Reference values of splitmix64 (Vigna's splitmix64.c). */
	ds_rng r;
	ds_rng_seed(&r, 1234567);
	static const uint64_t want[5] = {6457827717110365317u, 3203168211198807973u,
					 9817491932198370423u, 4593380528125082431u,
					 16408922859458223821u};
	for (int i = 0; i < 5; i++)
		ASSERT(ds_rng_next(&r) == want[i]);
	ds_rng_seed(&r, 7);
	int hist[3] = {0, 0, 0};
	for (int i = 0; i < 3000; i++) {
		uint64_t v = ds_rng_below(&r, 3);
		ASSERT(v < 3);
		hist[v]++;
		double u = ds_rng_uniform(&r);
		ASSERT(u >= 0.0 && u < 1.0);
	}
	for (int i = 0; i < 3; i++)
		ASSERT(hist[i] > 900 && hist[i] < 1100);
	ASSERT(ds_rng_below(&r, 1) == 0);
}

static void test_shuffle(void)
{
	enum { N = 1000 };
	ds_rng r1, r2, r3;
	ds_rng_seed(&r1, 42);
	ds_rng_seed(&r2, 42);
	ds_rng_seed(&r3, 43);
	int64_t *a = ds_permutation(N, &r1), *b = ds_permutation(N, &r2), *c = ds_permutation(N, &r3);
	ASSERT(a && b && c);
	ASSERT(!memcmp(a, b, N * sizeof *a));
	ASSERT(memcmp(a, c, N * sizeof *a));
	char seen[N] = {0};
	int fixed = 0;
	for (int i = 0; i < N; i++) {
		ASSERT(a[i] >= 0 && a[i] < N && !seen[a[i]]);
		seen[a[i]] = 1;
		fixed += a[i] == i;
	}
	ASSERT(fixed < 10); /* expected 1 for a uniform permutation */
	free(a);
	free(b);
	free(c);
	int64_t *id = ds_permutation(5, NULL);
	ASSERT(id && id[0] == 0 && id[4] == 4);
	free(id);
	int64_t one = 0;
	ds_shuffle(&one, 1, &r1);
	ds_shuffle(NULL, 0, &r1);
	ASSERT(one == 0);
}

/* ------------------------------------------------------------ batches */

static ds_set *tiny_set(void)
{
	/* 3 RGB images 5×4 with distinct pixels; pixel values never 0. */
	ds_set *d = calloc(1, sizeof *d);
	d->kind = DS_CIFAR10;
	d->n = 3;
	d->c = 3;
	d->h = 5;
	d->w = 4;
	d->nclasses = 10;
	d->pixels = malloc(3 * 60);
	d->labels = malloc(3);
	for (int i = 0; i < 180; i++)
		d->pixels[i] = (uint8_t)(1 + (i * 37) % 250);
	for (int i = 0; i < 3; i++)
		d->labels[i] = (uint8_t)(7 - i);
	return d;
}

static void test_batch_plain(void)
{
	ds_set *d = tiny_set();
	ds_preprocess pp;
	char err[256] = "";
	ASSERT(ds_preprocess_parse("mean:0.4914/0.4822/0.4465,std:0.247/0.243/0.261", &pp, err,
				   sizeof err) == 0);
	float x[2 * 60 + 1];
	uint8_t y[2];
	x[120] = 12345.0f; /* canary */
	int64_t idx[3] = {2, 0, 1};
	ASSERT(ds_batch(d, idx, 1, 2, &pp, NULL, NULL, x, y, err, sizeof err) == 0);
	ASSERT(x[120] == 12345.0f);
	ASSERT(y[0] == 7 && y[1] == 6);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 60; k++) {
			int s = i == 0 ? 0 : 1, c = k / 20;
			float v = (float)d->pixels[s * 60 + k] / 255.0f;
			ASSERT(x[i * 60 + k] == (v - pp.a[c]) / pp.b[c]);
		}
	/* No preprocessing: plain [0, 1]; contiguous samples when idx is NULL. */
	ASSERT(ds_batch(d, NULL, 1, 2, NULL, NULL, NULL, x, NULL, err, sizeof err) == 0);
	ASSERT(x[0] == (float)d->pixels[60] / 255.0f);

	ASSERT(ds_batch(d, NULL, 2, 2, NULL, NULL, NULL, x, y, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "out of range");
	idx[2] = 3;
	ASSERT(ds_batch(d, idx, 2, 1, NULL, NULL, NULL, x, y, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "sample index 3");
	ASSERT(ds_preprocess_parse("mean:0.1/0.2,std:1", &pp, err, sizeof err) == 0);
	ASSERT(ds_batch(d, NULL, 0, 1, &pp, NULL, NULL, x, y, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "3 channels");
	ds_augment aug = {2, 1};
	ASSERT(ds_batch(d, NULL, 0, 1, NULL, &aug, NULL, x, y, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "random number generator");
	aug.pad = 6;
	ds_rng r;
	ds_rng_seed(&r, 1);
	ASSERT(ds_batch(d, NULL, 0, 1, NULL, &aug, &r, x, y, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "padding 6");
	ds_free(d);
}

/* Does out (c×h×w) equal src cropped at offset (dy, dx) from the padded
 * image and optionally mirrored? */
static int matches(const ds_set *d, const uint8_t *src, const float *out, int dy, int dx, int fl)
{
	for (int c = 0; c < d->c; c++)
		for (int r = 0; r < d->h; r++)
			for (int q = 0; q < d->w; q++) {
				int sr = r + dy, sq = (fl ? (int)d->w - 1 - q : q) + dx;
				int v = sr >= 0 && sr < d->h && sq >= 0 && sq < d->w
						? src[(c * d->h + sr) * d->w + sq] : 0;
				if (out[(c * d->h + r) * d->w + q] != (float)v / 255.0f)
					return 0;
			}
	return 1;
}

static void test_augment(void)
{
	ds_set *d = tiny_set();
	enum { B = 3, CHW = 60 };
	float x1[B * CHW + 1], x2[B * CHW + 1], x0[B * CHW];
	char err[256] = "";
	ds_augment aug = {2, 1};
	ds_rng r1, r2;
	ds_rng_seed(&r1, 99);
	ds_rng_seed(&r2, 99);
	x1[B * CHW] = x2[B * CHW] = -1.0f;
	/* Several rounds so that flips and shifts of every kind appear. */
	int flips = 0, shifts = 0;
	for (int round = 0; round < 20; round++) {
		ASSERT(ds_batch(d, NULL, 0, B, NULL, &aug, &r1, x1, NULL, err, sizeof err) == 0);
		ASSERT(ds_batch(d, NULL, 0, B, NULL, &aug, &r2, x2, NULL, err, sizeof err) == 0);
		ASSERT(!memcmp(x1, x2, sizeof x1)); /* same seed, same batches */
		ASSERT(x1[B * CHW] == -1.0f);       /* shape kept: nothing written past */
		for (int i = 0; i < B; i++) {
			int found = 0;
			for (int dy = -2; dy <= 2 && !found; dy++)
				for (int dx = -2; dx <= 2 && !found; dx++)
					for (int fl = 0; fl < 2 && !found; fl++)
						if (matches(d, d->pixels + i * CHW, x1 + i * CHW, dy, dx, fl)) {
							found = 1;
							flips += fl;
							shifts += dy || dx;
						}
			ASSERT(found);
		}
	}
	ASSERT(flips > 5 && flips < 55 && shifts > 30);
	/* No augmentation requested: identical to a plain batch, rng untouched. */
	ds_augment none = {0, 0};
	ds_rng_seed(&r1, 5);
	ASSERT(ds_batch(d, NULL, 0, B, NULL, &none, &r1, x1, NULL, err, sizeof err) == 0);
	ASSERT(ds_batch(d, NULL, 0, B, NULL, NULL, NULL, x0, NULL, err, sizeof err) == 0);
	ASSERT(!memcmp(x0, x1, sizeof x0));
	ASSERT(r1.state == 5);
	ds_free(d);
}

static void test_cleanup(void)
{
	/* Files were recorded after their folders: remove in reverse. */
	for (int i = nmade - 1; i >= 0; i--) {
		if (unlink(made[i]) != 0)
			rmdir(made[i]);
		free(made[i]);
	}
	nmade = 0;
	if (root[0])
		ASSERT(rmdir(root) == 0);
}

TEST_MAIN({"mnist_raw_and_gz", test_mnist_raw_and_gz}, {"mnist_malformed", test_mnist_malformed},
	  {"spec", test_spec}, {"cifar", test_cifar}, {"holdout", test_holdout},
	  {"preprocess_parse", test_preprocess_parse}, {"preprocess_apply", test_preprocess_apply},
	  {"rng", test_rng}, {"shuffle", test_shuffle}, {"batch_plain", test_batch_plain},
	  {"augment", test_augment}, {"cleanup", test_cleanup})
