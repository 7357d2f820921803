/* npy.c - NumPy .npy reader and writer (see npy.h).
 *
 * Format (numpy/lib/format.py, "NEP 1"): the magic "\x93NUMPY", a major
 * and a minor version byte, the header length (little-endian uint16 for
 * version 1.0, uint32 for 2.0 and 3.0), then the header: a Python dict
 * literal {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces to a multiple of 64 bytes (16 in old files) and
 * ending in '\n'; the raw data follows. Version 3.0 only allows UTF-8 in
 * the header, which changes nothing for the keys read here.
 *
 * Every number in the file is decoded from its bytes in the declared byte
 * order, so the result does not depend on the host's byte order.
 */
#include "npy.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_util.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_DIMS 64 /* numpy's NPY_MAXDIMS */

/* ------------------------------------------------------------ header */

typedef struct hdr_lexer {
	const char *p, *end;
} hdr_lexer;

static void skip_ws(hdr_lexer *lx)
{
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
		lx->p++;
}

/* Consume c (after whitespace) if it is next. */
static int accept(hdr_lexer *lx, char c)
{
	skip_ws(lx);
	if (lx->p < lx->end && *lx->p == c) {
		lx->p++;
		return 1;
	}
	return 0;
}

/* A quoted string without escapes into out (cap bytes). */
static int lex_string(hdr_lexer *lx, char *out, size_t cap)
{
	skip_ws(lx);
	if (lx->p >= lx->end || (*lx->p != '\'' && *lx->p != '"'))
		return -1;
	char q = *lx->p++;
	size_t n = 0;
	while (lx->p < lx->end && *lx->p != q) {
		if (*lx->p == '\\' || n + 1 >= cap)
			return -1;
		out[n++] = *lx->p++;
	}
	if (lx->p >= lx->end)
		return -1;
	lx->p++;
	out[n] = '\0';
	return 0;
}

/* A word such as True / False. */
static int lex_word(hdr_lexer *lx, const char *w)
{
	skip_ws(lx);
	size_t n = strlen(w);
	if ((size_t)(lx->end - lx->p) >= n && !memcmp(lx->p, w, n)) {
		const char *after = lx->p + n;
		if (after == lx->end || !(*after == '_' || (*after >= 'A' && *after <= 'Z') ||
					  (*after >= 'a' && *after <= 'z') || (*after >= '0' && *after <= '9'))) {
			lx->p = after;
			return 1;
		}
	}
	return 0;
}

/* A non-negative decimal integer (Python 2 files may append 'L'). 0, -1
 * if not a number, -2 on overflow. */
static int lex_int(hdr_lexer *lx, int64_t *v)
{
	skip_ws(lx);
	if (lx->p >= lx->end || *lx->p < '0' || *lx->p > '9')
		return -1;
	uint64_t x = 0;
	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9') {
		unsigned dgt = (unsigned)(*lx->p++ - '0');
		if (x > ((uint64_t)INT64_MAX - dgt) / 10)
			return -2;
		x = x * 10 + dgt;
	}
	if (lx->p < lx->end && *lx->p == 'L')
		lx->p++;
	*v = (int64_t)x;
	return 0;
}

typedef struct npy_header {
	char descr[32];
	int fortran;
	int ndims;
	int64_t dims[NPY_MAX_DIMS];
} npy_header;

/* Parse the header dict; all three keys required, no others. */
static int parse_dict(const char *text, size_t len, npy_header *h, const char *src, char *err,
		      size_t errlen)
{
	hdr_lexer lx = {text, text + len};
	int seen[3] = {0, 0, 0};
	if (!accept(&lx, '{'))
		goto bad;
	while (!accept(&lx, '}')) {
		char key[32];
		if (lex_string(&lx, key, sizeof key) || !accept(&lx, ':'))
			goto bad;
		int k = !strcmp(key, "descr") ? 0 : !strcmp(key, "fortran_order") ? 1
						  : !strcmp(key, "shape")	    ? 2 : -1;
		if (k < 0) {
			fe_set_err(err, errlen, "%s: unexpected key '%s' in .npy header", src, key);
			return -1;
		}
		if (seen[k]++) {
			fe_set_err(err, errlen, "%s: key '%s' repeated in .npy header", src, key);
			return -1;
		}
		if (k == 0) {
			skip_ws(&lx);
			if (lx.p < lx.end && *lx.p == '[') {
				fe_set_err(err, errlen, "%s: structured dtypes are not supported (need a "
					"plain numeric array)", src);
				return -1;
			}
			if (lex_string(&lx, h->descr, sizeof h->descr))
				goto bad;
		} else if (k == 1) {
			if (lex_word(&lx, "True"))
				h->fortran = 1;
			else if (lex_word(&lx, "False"))
				h->fortran = 0;
			else
				goto bad;
		} else {
			if (!accept(&lx, '('))
				goto bad;
			h->ndims = 0;
			while (!accept(&lx, ')')) {
				if (h->ndims == NPY_MAX_DIMS) {
					fe_set_err(err, errlen, "%s: more than %d dimensions in .npy shape",
						src, NPY_MAX_DIMS);
					return -1;
				}
				int r = lex_int(&lx, &h->dims[h->ndims]);
				if (r == -2) {
					fe_set_err(err, errlen, "%s: .npy shape entry overflows 64 bits", src);
					return -1;
				}
				if (r)
					goto bad;
				h->ndims++;
				/* (n) is an int in Python, not a tuple: require the comma. */
				if (!accept(&lx, ',')) {
					if (!accept(&lx, ')') || h->ndims == 1)
						goto bad;
					break;
				}
			}
		}
		if (!accept(&lx, ',')) {
			if (!accept(&lx, '}'))
				goto bad;
			break;
		}
	}
	skip_ws(&lx);
	if (lx.p != lx.end)
		goto bad;
	for (int k = 0; k < 3; k++)
		if (!seen[k]) {
			static const char *const names[] = {"descr", "fortran_order", "shape"};
			fe_set_err(err, errlen, "%s: .npy header lacks '%s'", src, names[k]);
			return -1;
		}
	return 0;
bad:;
	/* Quote the header with control bytes blanked out: it may be garbage. */
	char shown[81];
	size_t n = len < 80 ? len : 80;
	for (size_t i = 0; i < n; i++)
		shown[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : ' ';
	shown[n] = '\0';
	fe_set_err(err, errlen, "%s: malformed .npy header dict at byte %d of \"%s%s\"", src,
		(int)(lx.p - text), shown, len > n ? "..." : "");
	return -1;
}

/* ------------------------------------------------------------ dtypes */

typedef struct npy_type {
	char kind; /* 'f', 'i', 'u', 'b' */
	int size;
	int big;
} npy_type;

static int parse_descr(const char *d, npy_type *t, const char *src, char *err, size_t errlen)
{
	const char *p = d;
	char order = 0;
	if (*p == '<' || *p == '>' || *p == '|' || *p == '=')
		order = *p++;
	char kind = *p ? *p++ : 0;
	int size = 0;
	while (*p >= '0' && *p <= '9' && size < 100)
		size = size * 10 + (*p++ - '0');
	int ok = *p == '\0';
	if (ok && kind == 'f')
		ok = size == 2 || size == 4 || size == 8;
	else if (ok && (kind == 'i' || kind == 'u'))
		ok = size == 1 || size == 2 || size == 4 || size == 8;
	else if (ok && kind == 'b')
		ok = size == 1;
	else
		ok = 0;
	if (!ok) {
		fe_set_err(err, errlen, "%s: unsupported .npy dtype '%s' (need float16/32/64, "
			"[u]int8/16/32/64 or bool)", src, d);
		return -1;
	}
	/* '=' (native) and a missing order only make sense for single bytes:
	 * numpy itself always writes '<' or '>' for wider types. */
	if (size > 1 && order != '<' && order != '>') {
		fe_set_err(err, errlen, "%s: .npy dtype '%s' has no explicit byte order", src, d);
		return -1;
	}
	t->kind = kind;
	t->size = size;
	t->big = order == '>';
	return 0;
}

static uint64_t load_uint(const unsigned char *b, int size, int big)
{
	uint64_t v = 0;
	for (int i = 0; i < size; i++)
		v |= (uint64_t)b[big ? size - 1 - i : i] << (8 * i);
	return v;
}

/* IEEE binary16 to double (exact). */
static double half_to_double(uint16_t h)
{
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double s = (h & 0x8000) ? -1.0 : 1.0;
	if (e == 0)
		return s * ldexp(m, -24);
	if (e == 31)
		return m ? NAN : s * INFINITY;
	return s * ldexp(m + 1024, e - 25);
}

static double decode(const unsigned char *b, const npy_type *t)
{
	uint64_t u = load_uint(b, t->size, t->big);
	switch (t->kind) {
	case 'f':
		if (t->size == 2)
			return half_to_double((uint16_t)u);
		if (t->size == 4) {
			uint32_t w = (uint32_t)u;
			float f;
			memcpy(&f, &w, sizeof f);
			return f;
		} else {
			double d;
			memcpy(&d, &u, sizeof d);
			return d;
		}
	case 'b':
		return u != 0;
	case 'u':
		return (double)u;
	default: /* 'i': sign-extend from size bytes */
		if (t->size < 8 && (u >> (8 * t->size - 1)) & 1)
			u |= ~(uint64_t)0 << (8 * t->size);
		return (double)(int64_t)u;
	}
}

/* ------------------------------------------------------------ reading */

double *npy_parse_matrix(const void *buf, size_t len, const char *source, int64_t *rows,
			 int64_t *cols, char *err, size_t errlen)
{
	const unsigned char *b = buf;
	const char *src = source ? source : "(memory)";
	if (len < NPY_MAGIC_LEN + 2 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN)) {
		fe_set_err(err, errlen, "%s: not a .npy file (missing \\x93NUMPY magic)", src);
		return NULL;
	}
	int major = b[6], minor = b[7];
	if (!(major >= 1 && major <= 3 && minor == 0)) {
		fe_set_err(err, errlen, "%s: unsupported .npy format version %d.%d (know 1.0, 2.0, 3.0)",
			src, major, minor);
		return NULL;
	}
	size_t off = major == 1 ? 10 : 12;
	if (len < off) {
		fe_set_err(err, errlen, "%s: truncated .npy preamble", src);
		return NULL;
	}
	size_t hlen = (size_t)load_uint(b + 8, major == 1 ? 2 : 4, 0);
	if (hlen > len - off) {
		fe_set_err(err, errlen, "%s: .npy header of %zu bytes runs past the end of the file "
			"(%zu bytes)", src, hlen, len);
		return NULL;
	}
	npy_header h;
	memset(&h, 0, sizeof h);
	npy_type t;
	if (parse_dict((const char *)b + off, hlen, &h, src, err, errlen) ||
	    parse_descr(h.descr, &t, src, err, errlen))
		return NULL;
	if (h.ndims < 1 || h.ndims > 2) {
		fe_set_err(err, errlen, "%s: expected a 1-D or 2-D array, got %d-D", src, h.ndims);
		return NULL;
	}
	size_t data_len = len - off - hlen;
	/* Bound the element count by what the file can hold before
	 * multiplying, so huge shapes cannot overflow. */
	uint64_t count = 1, cap = data_len / (size_t)t.size;
	int too_big = 0;
	for (int i = 0; i < h.ndims; i++) {
		if (h.dims[i] == 0) {
			fe_set_err(err, errlen, "%s: empty array (dimension %d is 0)", src, i);
			return NULL;
		}
		if ((uint64_t)h.dims[i] > cap / count)
			too_big = 1;
		else
			count *= (uint64_t)h.dims[i];
	}
	if (too_big || count * (uint64_t)t.size != data_len) {
		char shape[64];
		if (h.ndims == 1)
			snprintf(shape, sizeof shape, "(%lld,)", (long long)h.dims[0]);
		else
			snprintf(shape, sizeof shape, "(%lld, %lld)", (long long)h.dims[0],
				 (long long)h.dims[1]);
		fe_set_err(err, errlen, "%s: shape %s of '%s' needs %s bytes of data, file has %zu", src,
			shape, h.descr, too_big ? "more" : "a different number of", data_len);
		return NULL;
	}
	int64_t r = h.ndims == 1 ? 1 : h.dims[0], c = h.ndims == 1 ? h.dims[0] : h.dims[1];
	if (count > SIZE_MAX / sizeof(double)) {
		fe_set_err(err, errlen, "%s: array too large for this machine", src);
		return NULL;
	}
	double *out = malloc((size_t)count * sizeof *out);
	if (!out) {
		fe_set_err(err, errlen, "%s: out of memory for a %lld×%lld matrix", src, (long long)r,
			(long long)c);
		return NULL;
	}
	const unsigned char *data = b + off + hlen;
	if (h.fortran && h.ndims == 2) {
		/* Column-major: element (i, j) is at file position j·r + i. */
		for (int64_t j = 0, k = 0; j < c; j++)
			for (int64_t i = 0; i < r; i++, k++)
				out[i * c + j] = decode(data + (size_t)k * (size_t)t.size, &t);
	} else {
		for (uint64_t k = 0; k < count; k++)
			out[k] = decode(data + k * (size_t)t.size, &t);
	}
	*rows = r;
	*cols = c;
	return out;
}

double *npy_read_matrix(const char *path, int64_t *rows, int64_t *cols, char *err, size_t errlen)
{
	size_t n;
	unsigned char *buf = fe_read_file(path, &n, err, errlen);
	if (!buf)
		return NULL;
	double *m = npy_parse_matrix(buf, n, path, rows, cols, err, errlen);
	free(buf);
	return m;
}

/* ------------------------------------------------------------ writing */

static void store_le(unsigned char *b, uint64_t v, int size)
{
	for (int i = 0; i < size; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

int npy_write_matrix(const char *path, const double *a, int64_t rows, int64_t cols,
		     npy_dtype dtype, char *err, size_t errlen)
{
	if (rows <= 0 || cols <= 0 || rows > INT64_MAX / cols || (dtype != NPY_F64 && dtype != NPY_F32)) {
		fe_set_err(err, errlen, "%s: cannot write a %lld×%lld matrix of dtype %d", path,
			(long long)rows, (long long)cols, (int)dtype);
		return -1;
	}
	int size = dtype == NPY_F64 ? 8 : 4;
	if (dtype == NPY_F32)
		for (int64_t k = 0; k < rows * cols; k++)
			if (isfinite(a[k]) && fabs(a[k]) > FLT_MAX) {
				fe_set_err(err, errlen, "%s: value %g at (%lld, %lld) does not fit in float32",
					path, a[k], (long long)(k / cols), (long long)(k % cols));
				return -1;
			}
	/* Header padded with spaces so the data starts at a multiple of 64. */
	char hdr[256];
	int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f%d', 'fortran_order': False, 'shape': "
			  "(%lld, %lld), }", size, (long long)rows, (long long)cols);
	int total = (10 + hl + 1 + 63) / 64 * 64;
	memset(hdr + hl, ' ', (size_t)(total - 10 - hl - 1));
	hdr[total - 10 - 1] = '\n';
	unsigned char pre[10];
	memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
	pre[6] = 1;
	pre[7] = 0;
	store_le(pre + 8, (uint64_t)(total - 10), 2);

	/* Same temporary-then-rename scheme as onnx_write_tensor. */
	size_t tl = strlen(path) + 32;
	char *tmp = malloc(tl);
	if (!tmp) {
		fe_set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	snprintf(tmp, tl, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		fe_set_err(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	size_t hbytes = (size_t)(total - 10);
	int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, hbytes, f) == hbytes;
	unsigned char chunk[8 * 1024];
	size_t used = 0;
	for (int64_t k = 0; ok && k < rows * cols; k++) {
		uint64_t bits;
		if (dtype == NPY_F64) {
			memcpy(&bits, &a[k], 8);
		} else {
			float v = (float)a[k];
			uint32_t w;
			memcpy(&w, &v, 4);
			bits = w;
		}
		store_le(chunk + used, bits, size);
		used += (size_t)size;
		if (used == sizeof chunk || k == rows * cols - 1) {
			ok = fwrite(chunk, 1, used, f) == used;
			used = 0;
		}
	}
	int e = errno;
	if (fclose(f) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = 0;
		e = errno;
	}
	if (!ok) {
		fe_set_err(err, errlen, "%s: write failed: %s", path, strerror(e));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}
