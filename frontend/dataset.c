/* dataset.c - MNIST and CIFAR-10 readers, --preprocess, PRNG, shuffling,
 * augmentation and float batches (see dataset.h).
 *
 * Formats: IDX (LeCun, "THE MNIST DATABASE of handwritten digits"): a
 * big-endian magic 0x0000TTDD (TT = 0x08 for unsigned bytes, DD = number
 * of dimensions), DD big-endian uint32 sizes, then the data. CIFAR-10
 * binary version (Krizhevsky, "Learning Multiple Layers of Features from
 * Tiny Images", 2009, and the dataset page): 10000 records per file, each
 * 1 label byte + 1024 R + 1024 G + 1024 B bytes.
 *
 * Buffers grow as data arrives rather than being sized from the header,
 * so a corrupt header cannot make us allocate gigabytes before the file
 * is found to be short.
 */
#include "dataset.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fe_util.h"

#define MNIST_CLASSES 10
#define CIFAR_CLASSES 10
#define CIFAR_SIDE 32
#define CIFAR_RECORD (1 + 3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_TRAIN_FILES 5
/* Larger images than this are certainly a corrupt IDX header. */
#define IDX_MAX_IMAGE_BYTES (1u << 24)

/* ------------------------------------------------------------ specs */

static const char *const kind_names[] = {"mnist", "cifar10"};

const char *ds_kind_name(ds_kind kind)
{
	return (unsigned)kind < 2 ? kind_names[kind] : "?";
}

const char *ds_class_name(ds_kind kind, int label)
{
	static const char *const digits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
	static const char *const cifar[] = {"airplane", "automobile", "bird", "cat", "deer",
					    "dog", "frog", "horse", "ship", "truck"};
	if (label < 0 || label >= 10)
		return "?";
	if (kind == DS_MNIST)
		return digits[label];
	if (kind == DS_CIFAR10)
		return cifar[label];
	return "?";
}

int ds_parse_spec(const char *spec, ds_kind *kind, char **dir, char *err, size_t errlen)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	if (!colon || colon[1] == '\0') {
		fe_set_err(err, errlen, "dataset '%s': expected mnist:DIR or cifar10:DIR",
			spec ? spec : "");
		return -1;
	}
	size_t klen = (size_t)(colon - spec);
	int found = -1;
	for (int i = 0; i < 2; i++)
		if (strlen(kind_names[i]) == klen && !memcmp(spec, kind_names[i], klen))
			found = i;
	if (found < 0) {
		fe_set_err(err, errlen, "dataset '%s': unknown kind '%.*s' (expected mnist or cifar10)",
			spec, (int)klen, spec);
		return -1;
	}
	char *d = malloc(strlen(colon + 1) + 1);
	if (!d) {
		fe_set_err(err, errlen, "dataset '%s': out of memory", spec);
		return -1;
	}
	strcpy(d, colon + 1);
	*kind = (ds_kind)found;
	*dir = d;
	return 0;
}

/* dir + "/" + name (+ suffix) into a malloc'd string; NULL on OOM. */
static char *join_path(const char *dir, const char *name, const char *suffix)
{
	size_t dl = strlen(dir);
	int slash = dl > 0 && dir[dl - 1] == '/';
	size_t len = dl + 1 + strlen(name) + strlen(suffix) + 1;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s%s%s%s", dir, slash ? "" : "/", name, suffix);
	return p;
}

static int is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static ds_set *new_set(ds_kind kind)
{
	ds_set *d = calloc(1, sizeof *d);
	if (d)
		d->kind = kind;
	return d;
}

void ds_free(ds_set *d)
{
	if (!d)
		return;
	free(d->pixels);
	free(d->labels);
	free(d);
}

/* ------------------------------------------------------------ MNIST (IDX) */

/* Read up to want bytes from f into a buffer grown as data arrives.
 * Returns the buffer and the byte count in *got, or NULL on OOM or a zlib
 * error (then *zerr holds zlib's message). A short count means EOF. */
static uint8_t *gz_read_grow(gzFile f, size_t want, size_t *got, const char **zerr)
{
	size_t cap = want < ((size_t)1 << 20) ? want : ((size_t)1 << 20), n = 0;
	uint8_t *buf = malloc(cap ? cap : 1);
	*zerr = NULL;
	while (buf && n < want) {
		if (n == cap) {
			size_t nc = cap * 2 < want ? cap * 2 : want;
			uint8_t *nb = realloc(buf, nc);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap = nc;
		}
		size_t chunk = cap - n;
		if (chunk > ((size_t)1 << 30))
			chunk = (size_t)1 << 30;
		int r = gzread(f, buf + n, (unsigned)chunk);
		if (r < 0) {
			int code;
			*zerr = gzerror(f, &code);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*got = n;
	return buf;
}

/* Non-NULL message if the stream ended abnormally (a cut gzip member). */
static const char *gz_end_problem(gzFile f)
{
	int code;
	const char *msg = gzerror(f, &code);
	if (code == Z_BUF_ERROR)
		return "the gzip stream is cut short";
	if (code != Z_OK)
		return msg;
	return NULL;
}

/* Find DIR/name or DIR/name.gz; malloc'd path or NULL with err. */
static char *mnist_find(const char *dir, const char *name, char *err, size_t errlen)
{
	static const char *const suffixes[] = {"", ".gz"};
	for (int i = 0; i < 2; i++) {
		char *p = join_path(dir, name, suffixes[i]);
		if (!p) {
			fe_set_err(err, errlen, "%s: out of memory", dir);
			return NULL;
		}
		if (is_regular(p))
			return p;
		free(p);
	}
	char *p = join_path(dir, name, "");
	fe_set_err(err, errlen, "%s[.gz]: no such file (is '%s' an MNIST folder?)", p ? p : name, dir);
	free(p);
	return NULL;
}

/* Read one IDX file of unsigned bytes with `ndims` dimensions. On success
 * dims[] holds the sizes and *data the payload (dims product bytes). */
static int idx_read(const char *path, int ndims, uint32_t dims[3], uint8_t **data,
		    char *err, size_t errlen)
{
	*data = NULL;
	gzFile f = gzopen(path, "rb");
	if (!f) {
		fe_set_err(err, errlen, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
		return -1;
	}
	gzbuffer(f, 1 << 17);
	int rc = -1;
	uint8_t hdr[16];
	size_t hlen = 4 + 4 * (size_t)ndims, got = 0;
	const char *zerr = NULL;
	uint8_t *h = gz_read_grow(f, hlen, &got, &zerr);
	if (!h) {
		fe_set_err(err, errlen, "%s: %s", path, zerr ? zerr : "out of memory");
		goto out;
	}
	memcpy(hdr, h, got);
	free(h);
	if (got < hlen) {
		const char *why = gz_end_problem(f);
		fe_set_err(err, errlen, "%s: truncated IDX header (%zu of %zu bytes)%s%s", path, got,
			hlen, why ? ": " : "", why ? why : "");
		goto out;
	}
	uint32_t magic = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	uint32_t want = 0x0800u | (uint32_t)ndims;
	if (magic != want) {
		fe_set_err(err, errlen, "%s: bad magic number 0x%08x (expected 0x%08x: an IDX file of "
			"unsigned bytes with %d dimension%s)", path, (unsigned)magic, (unsigned)want,
			ndims, ndims == 1 ? "" : "s");
		goto out;
	}
	uint64_t total = 1;
	for (int i = 0; i < ndims; i++) {
		const uint8_t *b = hdr + 4 + 4 * i;
		dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (dims[i] == 0) {
			fe_set_err(err, errlen, "%s: dimension %d is zero", path, i);
			goto out;
		}
		total *= dims[i];
		if (i > 0 && total / dims[0] > IDX_MAX_IMAGE_BYTES) {
			fe_set_err(err, errlen, "%s: implausible image size in IDX header", path);
			goto out;
		}
	}
	/* total ≤ 2^32 · 2^24 fits in 64 bits and in size_t on 64-bit hosts. */
	if (total > SIZE_MAX) {
		fe_set_err(err, errlen, "%s: data too large for this machine", path);
		goto out;
	}
	*data = gz_read_grow(f, (size_t)total, &got, &zerr);
	if (!*data) {
		fe_set_err(err, errlen, "%s: %s", path, zerr ? zerr : "out of memory");
		goto out;
	}
	if (got < total) {
		const char *why = gz_end_problem(f);
		fe_set_err(err, errlen, "%s: truncated: header promises %llu data bytes, only %zu present%s%s%s",
			path, (unsigned long long)total, got, why ? " (" : "", why ? why : "",
			why ? ")" : "");
		goto out;
	}
	uint8_t extra;
	int r = gzread(f, &extra, 1);
	if (r != 0) {
		if (r < 0) {
			int code;
			fe_set_err(err, errlen, "%s: %s", path, gzerror(f, &code));
		} else {
			fe_set_err(err, errlen, "%s: trailing data after the %llu bytes the header promises",
				path, (unsigned long long)total);
		}
		goto out;
	}
	rc = 0;
out:
	gzclose(f);
	if (rc) {
		free(*data);
		*data = NULL;
	}
	return rc;
}

static ds_set *mnist_load(const char *dir, ds_split split, char *err, size_t errlen)
{
	const char *pre = split == DS_TRAIN ? "train" : "t10k";
	char iname[64], lname[64];
	snprintf(iname, sizeof iname, "%s-images-idx3-ubyte", pre);
	snprintf(lname, sizeof lname, "%s-labels-idx1-ubyte", pre);
	char *ipath = mnist_find(dir, iname, err, errlen);
	if (!ipath)
		return NULL;
	char *lpath = mnist_find(dir, lname, err, errlen);
	if (!lpath) {
		free(ipath);
		return NULL;
	}
	ds_set *d = NULL;
	uint8_t *pix = NULL, *lab = NULL;
	uint32_t idims[3], ldims[3];
	if (idx_read(ipath, 3, idims, &pix, err, errlen) || idx_read(lpath, 1, ldims, &lab, err, errlen))
		goto fail;
	if (ldims[0] != idims[0]) {
		fe_set_err(err, errlen, "%s: %u labels, but %s has %u images", lpath, (unsigned)ldims[0],
			ipath, (unsigned)idims[0]);
		goto fail;
	}
	for (uint32_t i = 0; i < ldims[0]; i++) {
		if (lab[i] >= MNIST_CLASSES) {
			fe_set_err(err, errlen, "%s: label %d of image %u is out of range (MNIST has %d classes)",
				lpath, lab[i], (unsigned)i, MNIST_CLASSES);
			goto fail;
		}
	}
	d = new_set(DS_MNIST);
	if (!d) {
		fe_set_err(err, errlen, "%s: out of memory", ipath);
		goto fail;
	}
	d->n = idims[0];
	d->c = 1;
	d->h = idims[1];
	d->w = idims[2];
	d->nclasses = MNIST_CLASSES;
	d->pixels = pix;
	d->labels = lab;
	free(ipath);
	free(lpath);
	return d;
fail:
	free(pix);
	free(lab);
	free(ipath);
	free(lpath);
	return NULL;
}

/* ------------------------------------------------------------ CIFAR-10 */

/* Size of a CIFAR batch file in records; -1 with err if not a whole
 * positive number of records. */
static int64_t cifar_records(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fe_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fe_set_err(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_size <= 0 || st.st_size % CIFAR_RECORD) {
		fe_set_err(err, errlen, "%s: size %lld is not a positive multiple of the %d-byte CIFAR-10 "
			"record (1 label byte + 3072 pixel bytes)", path, (long long)st.st_size,
			CIFAR_RECORD);
		return -1;
	}
	return (int64_t)(st.st_size / CIFAR_RECORD);
}

/* Read n records of path into pixels/labels starting at record `at`. */
static int cifar_read(const char *path, int64_t n, ds_set *d, int64_t at, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fe_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	const size_t plane = 3 * CIFAR_SIDE * CIFAR_SIDE;
	uint8_t rec[CIFAR_RECORD];
	int rc = -1;
	for (int64_t i = 0; i < n; i++) {
		if (fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD) {
			fe_set_err(err, errlen, "%s: %s at record %lld", path,
				ferror(f) ? "read error" : "truncated", (long long)i);
			goto out;
		}
		if (rec[0] >= CIFAR_CLASSES) {
			fe_set_err(err, errlen, "%s: record %lld has label %d (CIFAR-10 has %d classes)",
				path, (long long)i, rec[0], CIFAR_CLASSES);
			goto out;
		}
		d->labels[at + i] = rec[0];
		memcpy(d->pixels + (size_t)(at + i) * plane, rec + 1, plane);
	}
	if (fgetc(f) != EOF) {
		fe_set_err(err, errlen, "%s: file grew while reading (trailing data)", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

static ds_set *cifar_load(const char *dir, ds_split split, char *err, size_t errlen)
{
	char *paths[CIFAR_TRAIN_FILES] = {0};
	int64_t counts[CIFAR_TRAIN_FILES];
	int nfiles = split == DS_TRAIN ? CIFAR_TRAIN_FILES : 1;
	int64_t total = 0;
	ds_set *d = NULL;
	for (int i = 0; i < nfiles; i++) {
		char name[32];
		if (split == DS_TRAIN)
			snprintf(name, sizeof name, "data_batch_%d.bin", i + 1);
		else
			snprintf(name, sizeof name, "test_batch.bin");
		paths[i] = join_path(dir, name, "");
		if (!paths[i]) {
			fe_set_err(err, errlen, "%s: out of memory", dir);
			goto fail;
		}
		if (!is_regular(paths[i])) {
			fe_set_err(err, errlen, "%s: no such file (is '%s' a CIFAR-10 binary folder?)",
				paths[i], dir);
			goto fail;
		}
		counts[i] = cifar_records(paths[i], err, errlen);
		if (counts[i] < 0)
			goto fail;
		total += counts[i];
	}
	d = new_set(DS_CIFAR10);
	if (!d)
		goto oom;
	d->n = total;
	d->c = 3;
	d->h = d->w = CIFAR_SIDE;
	d->nclasses = CIFAR_CLASSES;
	d->pixels = malloc((size_t)total * (CIFAR_RECORD - 1));
	d->labels = malloc((size_t)total);
	if (!d->pixels || !d->labels)
		goto oom;
	for (int64_t i = 0, at = 0; i < nfiles; at += counts[i], i++)
		if (cifar_read(paths[i], counts[i], d, at, err, errlen))
			goto fail;
	for (int i = 0; i < nfiles; i++)
		free(paths[i]);
	return d;
oom:
	fe_set_err(err, errlen, "%s: out of memory loading CIFAR-10", dir);
fail:
	for (int i = 0; i < nfiles; i++)
		free(paths[i]);
	ds_free(d);
	return NULL;
}

/* ------------------------------------------------------------ loading */

ds_set *ds_load_dir(ds_kind kind, const char *dir, ds_split split, char *err, size_t errlen)
{
	struct stat st;
	if (!dir || stat(dir, &st) != 0) {
		fe_set_err(err, errlen, "%s: %s", dir ? dir : "(null)", dir ? strerror(errno) : "no folder");
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		fe_set_err(err, errlen, "%s: not a directory", dir);
		return NULL;
	}
	if (split != DS_TRAIN && split != DS_TEST) {
		fe_set_err(err, errlen, "%s: unknown split %d", dir, (int)split);
		return NULL;
	}
	switch (kind) {
	case DS_MNIST:
		return mnist_load(dir, split, err, errlen);
	case DS_CIFAR10:
		return cifar_load(dir, split, err, errlen);
	}
	fe_set_err(err, errlen, "%s: unknown dataset kind %d", dir, (int)kind);
	return NULL;
}

ds_set *ds_load(const char *spec, ds_split split, char *err, size_t errlen)
{
	ds_kind kind;
	char *dir;
	if (ds_parse_spec(spec, &kind, &dir, err, errlen))
		return NULL;
	ds_set *d = ds_load_dir(kind, dir, split, err, errlen);
	free(dir);
	return d;
}

ds_set *ds_holdout(ds_set *d, int64_t k, char *err, size_t errlen)
{
	if (!d || k <= 0 || k >= d->n) {
		fe_set_err(err, errlen, "held-out split of %lld samples: need 0 < k < %lld", (long long)k,
			d ? (long long)d->n : 0LL);
		return NULL;
	}
	size_t img = (size_t)(d->c * d->h * d->w);
	ds_set *h = new_set(d->kind);
	if (h) {
		*h = *d;
		h->n = k;
		h->pixels = malloc((size_t)k * img);
		h->labels = malloc((size_t)k);
	}
	if (!h || !h->pixels || !h->labels) {
		if (h) {
			free(h->pixels);
			free(h->labels);
			free(h);
		}
		fe_set_err(err, errlen, "held-out split: out of memory");
		return NULL;
	}
	int64_t keep = d->n - k;
	memcpy(h->pixels, d->pixels + (size_t)keep * img, (size_t)k * img);
	memcpy(h->labels, d->labels + keep, (size_t)k);
	d->n = keep;
	/* Shrinking cannot fail in practice; if it does, the old block stays. */
	uint8_t *p = realloc(d->pixels, (size_t)keep * img);
	if (p)
		d->pixels = p;
	p = realloc(d->labels, (size_t)keep);
	if (p)
		d->labels = p;
	return h;
}

/* ------------------------------------------------------------ preprocessing */

/* Parse "v" or "v1/v2/..." into out[]; returns the count or -1 with err. */
static int parse_values(const char *s, const char *key, size_t len, const char *whole,
			float *out, char *err, size_t errlen)
{
	int n = 0;
	const char *p = s, *end = s + len;
	for (;;) {
		if (n == DS_MAX_CHANNELS) {
			fe_set_err(err, errlen, "preprocess '%s': too many values for '%s' (at most %d)",
				whole, key, DS_MAX_CHANNELS);
			return -1;
		}
		const char *q = p;
		while (q < end && *q != '/')
			q++;
		char buf[64];
		size_t tl = (size_t)(q - p);
		char *stop;
		if (tl == 0 || tl >= sizeof buf) {
			fe_set_err(err, errlen, "preprocess '%s': %s value for '%s'", whole,
				tl ? "overlong" : "missing", key);
			return -1;
		}
		memcpy(buf, p, tl);
		buf[tl] = '\0';
		errno = 0;
		double v = strtod(buf, &stop);
		if (stop == buf || *stop != '\0' || isspace((unsigned char)buf[0])) {
			fe_set_err(err, errlen, "preprocess '%s': '%s' is not a number (in '%s')", whole, buf, key);
			return -1;
		}
		if (!isfinite(v) || fabs(v) > FLT_MAX) {
			fe_set_err(err, errlen, "preprocess '%s': %s value '%s' is not a finite float", whole,
				key, buf);
			return -1;
		}
		out[n++] = (float)v;
		if (q == end)
			return n;
		p = q + 1;
	}
}

int ds_preprocess_parse(const char *s, ds_preprocess *pp, char *err, size_t errlen)
{
	static const char *const keys[] = {"mean", "std", "scale", "shift"};
	static const float defaults[] = {0.0f, 1.0f, 1.0f, 0.0f};
	float vals[4][DS_MAX_CHANNELS];
	int counts[4] = {0, 0, 0, 0};
	memset(pp, 0, sizeof *pp);
	if (!s || !*s || !strcmp(s, "none"))
		return 0;
	const char *p = s;
	for (;;) {
		const char *item_end = strchr(p, ',');
		if (!item_end)
			item_end = p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(item_end - p));
		if (!colon) {
			fe_set_err(err, errlen, "preprocess '%s': expected KEY:VALUE, got '%.*s' "
				"(keys: mean, std, scale, shift)", s, (int)(item_end - p), p);
			return -1;
		}
		int k = -1;
		for (int i = 0; i < 4; i++)
			if (strlen(keys[i]) == (size_t)(colon - p) && !memcmp(p, keys[i], (size_t)(colon - p)))
				k = i;
		if (k < 0) {
			fe_set_err(err, errlen, "preprocess '%s': unknown key '%.*s' (expected mean, std, "
				"scale or shift)", s, (int)(colon - p), p);
			return -1;
		}
		if (counts[k]) {
			fe_set_err(err, errlen, "preprocess '%s': '%s' given twice", s, keys[k]);
			return -1;
		}
		counts[k] = parse_values(colon + 1, keys[k], (size_t)(item_end - colon - 1), s, vals[k],
					 err, errlen);
		if (counts[k] < 0)
			return -1;
		if (!*item_end)
			break;
		p = item_end + 1;
	}
	int ms = counts[0] || counts[1], ss = counts[2] || counts[3];
	if (ms && ss) {
		fe_set_err(err, errlen, "preprocess '%s': use either mean/std or scale/shift, not both", s);
		return -1;
	}
	int base = ms ? 0 : 2, n = 1;
	for (int i = base; i < base + 2; i++) {
		if (counts[i] > 1 && n > 1 && counts[i] != n) {
			fe_set_err(err, errlen, "preprocess '%s': '%s' has %d values but '%s' has %d", s,
				keys[i], counts[i], keys[base], n);
			return -1;
		}
		if (counts[i] > n)
			n = counts[i];
	}
	for (int i = base; i < base + 2; i++) {
		float *dst = i == base ? pp->a : pp->b;
		for (int c = 0; c < n; c++)
			dst[c] = counts[i] == 0 ? defaults[i] : vals[i][counts[i] == 1 ? 0 : c];
	}
	if (ms)
		for (int c = 0; c < n; c++)
			if (pp->b[c] == 0.0f) {
				fe_set_err(err, errlen, "preprocess '%s': std must be nonzero", s);
				return -1;
			}
	pp->kind = ms ? DS_PRE_MEAN_STD : DS_PRE_SCALE_SHIFT;
	pp->count = n;
	return 0;
}

int ds_preprocess_check(const ds_preprocess *pp, int64_t c, char *err, size_t errlen)
{
	if (!pp || pp->kind == DS_PRE_NONE || pp->count == 1 || pp->count == c)
		return 0;
	fe_set_err(err, errlen, "preprocess: %d values per key, but the images have %lld channel%s "
		"(give 1 or %lld)", pp->count, (long long)c, c == 1 ? "" : "s", (long long)c);
	return -1;
}

float ds_preprocess_apply(const ds_preprocess *pp, int64_t ch, float x)
{
	if (!pp || pp->kind == DS_PRE_NONE)
		return x;
	int i = pp->count == 1 ? 0 : (int)ch;
	if (pp->kind == DS_PRE_MEAN_STD)
		return (x - pp->a[i]) / pp->b[i];
	return x * pp->a[i] + pp->b[i];
}

/* ------------------------------------------------------------ randomness */

void ds_rng_seed(ds_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t ds_rng_next(ds_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

uint64_t ds_rng_below(ds_rng *r, uint64_t bound)
{
	if (bound <= 1)
		return 0;
	/* Reject the low 2^64 mod bound values so every residue is equally likely. */
	uint64_t threshold = (0 - bound) % bound;
	for (;;) {
		uint64_t v = ds_rng_next(r);
		if (v >= threshold)
			return v % bound;
	}
}

double ds_rng_uniform(ds_rng *r)
{
	return (double)(ds_rng_next(r) >> 11) * 0x1.0p-53;
}

void ds_shuffle(int64_t *a, int64_t n, ds_rng *r)
{
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)ds_rng_below(r, (uint64_t)i + 1);
		int64_t t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

int64_t *ds_permutation(int64_t n, ds_rng *r)
{
	if (n < 0)
		return NULL;
	int64_t *a = malloc((size_t)(n ? n : 1) * sizeof *a);
	if (!a)
		return NULL;
	for (int64_t i = 0; i < n; i++)
		a[i] = i;
	if (r)
		ds_shuffle(a, n, r);
	return a;
}

/* ------------------------------------------------------------ batches */

int ds_batch(const ds_set *d, const int64_t *idx, int64_t first, int64_t b,
	     const ds_preprocess *pp, const ds_augment *aug, ds_rng *rng,
	     float *x, uint8_t *y, char *err, size_t errlen)
{
	if (!d || first < 0 || b < 0 || (!idx && first > d->n - b)) {
		fe_set_err(err, errlen, "batch of %lld samples at %lld: out of range (dataset has %lld)",
			(long long)b, (long long)first, d ? (long long)d->n : 0LL);
		return -1;
	}
	if (d->c > DS_MAX_CHANNELS) {
		fe_set_err(err, errlen, "batch: %lld channels (at most %d supported)", (long long)d->c,
			DS_MAX_CHANNELS);
		return -1;
	}
	if (ds_preprocess_check(pp, d->c, err, errlen))
		return -1;
	int pad = aug ? aug->pad : 0, flip = aug ? aug->flip : 0;
	if (pad < 0 || pad > d->h || pad > d->w || (flip != 0 && flip != 1)) {
		fe_set_err(err, errlen, "augmentation: padding %d must be in [0, %lld] and flip %d 0 or 1",
			pad, (long long)(d->h < d->w ? d->h : d->w), flip);
		return -1;
	}
	if ((pad || flip) && !rng) {
		fe_set_err(err, errlen, "augmentation needs a random number generator");
		return -1;
	}
	/* Every output value is a function of (channel, byte): tabulate it,
	 * which is also bit-identical to computing it per pixel. */
	float lut[DS_MAX_CHANNELS][256];
	for (int64_t c = 0; c < d->c; c++)
		for (int v = 0; v < 256; v++)
			lut[c][v] = ds_preprocess_apply(pp, c, (float)v / 255.0f);
	const int64_t h = d->h, w = d->w, hw = h * w, chw = d->c * hw;
	for (int64_t i = 0; i < b; i++) {
		int64_t s = idx ? idx[first + i] : first + i;
		if (s < 0 || s >= d->n) {
			fe_set_err(err, errlen, "batch: sample index %lld out of range (dataset has %lld)",
				(long long)s, (long long)d->n);
			return -1;
		}
		const uint8_t *src = d->pixels + s * chw;
		float *dst = x + i * chw;
		if (y)
			y[i] = d->labels[s];
		int64_t dy = 0, dx = 0, fl = 0;
		if (pad) {
			dy = (int64_t)ds_rng_below(rng, 2 * (uint64_t)pad + 1) - pad;
			dx = (int64_t)ds_rng_below(rng, 2 * (uint64_t)pad + 1) - pad;
		}
		if (flip)
			fl = (int64_t)(ds_rng_next(rng) >> 63);
		if (!pad && !fl) {
			for (int64_t c = 0; c < d->c; c++)
				for (int64_t k = 0; k < hw; k++)
					dst[c * hw + k] = lut[c][src[c * hw + k]];
			continue;
		}
		for (int64_t c = 0; c < d->c; c++)
			for (int64_t r = 0; r < h; r++)
				for (int64_t q = 0; q < w; q++) {
					int64_t sr = r + dy, sq = (fl ? w - 1 - q : q) + dx;
					uint8_t v = sr >= 0 && sr < h && sq >= 0 && sq < w
							    ? src[c * hw + sr * w + sq] : 0;
					dst[c * hw + r * w + q] = lut[c][v];
				}
	}
	return 0;
}
