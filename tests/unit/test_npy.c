/* test_npy.c - the .npy reader and writer: round trips, hand-built files
 * for every header variant (Fortran order, versions 2.0/3.0, big endian,
 * integer dtypes) and malformed input (truncation, bad dicts, overflowing
 * shapes, size mismatches, random byte flips). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../frontend/npy.h"
#include "test.h"

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char buf[256];
	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/qnnc_test_npy_XXXXXX");
		if (!mkdtemp(tmpdir))
			tmpdir[0] = '\0';
	}
	snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
	return buf;
}

/* A whole .npy file in memory: preamble for `major`, the dict padded to a
 * multiple of 64 with '\n' last, then data. */
static unsigned char *make_npy(int major, const char *dict, const void *data, size_t dlen,
			       size_t *len)
{
	size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
	size_t total = (pre + dl + 1 + 63) / 64 * 64, hlen = total - pre;
	unsigned char *b = malloc(total + dlen + 1);
	memcpy(b, "\x93NUMPY", 6);
	b[6] = (unsigned char)major;
	b[7] = 0;
	for (size_t i = 0; i < pre - 8; i++)
		b[8 + i] = (unsigned char)(hlen >> (8 * i));
	memcpy(b + pre, dict, dl);
	memset(b + pre + dl, ' ', hlen - dl - 1);
	b[total - 1] = '\n';
	if (dlen)
		memcpy(b + total, data, dlen);
	*len = total + dlen;
	return b;
}

static double *parse(const unsigned char *b, size_t len, int64_t *r, int64_t *c, char *err)
{
	return npy_parse_matrix(b, len, "t.npy", r, c, err, 256);
}

static void test_roundtrip_f64(void)
{
	double a[3 * 5];
	for (int i = 0; i < 15; i++)
		a[i] = (i - 7) * 0.1 + 1e-300 * i;
	a[4] = -0.0;
	char err[256] = "";
	const char *p = tmp_path("rt64.npy");
	ASSERT(npy_write_matrix(p, a, 3, 5, NPY_F64, err, sizeof err) == 0);
	int64_t r = 0, c = 0;
	double *b = npy_read_matrix(p, &r, &c, err, sizeof err);
	ASSERT(b);
	ASSERT(r == 3 && c == 5);
	ASSERT(memcmp(a, b, sizeof a) == 0); /* bit-exact, including -0 */
	free(b);

	/* The header is what numpy writes: version 1.0, 64-byte aligned data. */
	FILE *f = fopen(p, "rb");
	ASSERT(f);
	unsigned char h[128];
	size_t n = fread(h, 1, sizeof h, f);
	fclose(f);
	ASSERT(n == 128);
	ASSERT(!memcmp(h, "\x93NUMPY\x01\x00", 8));
	size_t hlen = h[8] | (size_t)h[9] << 8;
	ASSERT((10 + hlen) % 64 == 0);
	ASSERT(h[10 + hlen - 1] == '\n');
	const char *want = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 5), }";
	ASSERT(!memcmp(h + 10, want, strlen(want)));
	unlink(p);
}

static void test_roundtrip_f32(void)
{
	double a[4 * 2] = {1.0, -2.5, 3.14159265358979, 1e-40, 1e30, 0.1, -7.0, 65504.0};
	char err[256] = "";
	const char *p = tmp_path("rt32.npy");
	ASSERT(npy_write_matrix(p, a, 4, 2, NPY_F32, err, sizeof err) == 0);
	int64_t r = 0, c = 0;
	double *b = npy_read_matrix(p, &r, &c, err, sizeof err);
	ASSERT(b);
	ASSERT(r == 4 && c == 2);
	for (int i = 0; i < 8; i++)
		ASSERT(b[i] == (double)(float)a[i]);
	free(b);
	unlink(p);

	/* Too large for float32: refused, nothing written. */
	double big[1] = {1e300};
	ASSERT(npy_write_matrix(p, big, 1, 1, NPY_F32, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "float32");
	ASSERT(access(p, F_OK) != 0);
}

static void test_write_errors(void)
{
	double a[1] = {1};
	char err[256] = "";
	ASSERT(npy_write_matrix("/nonexistent-dir/x.npy", a, 1, 1, NPY_F64, err, sizeof err) == -1);
	ASSERT_STR_CONTAINS(err, "/nonexistent-dir/x.npy");
	ASSERT(npy_write_matrix(tmp_path("z.npy"), a, 0, 1, NPY_F64, err, sizeof err) == -1);
	int64_t r, c;
	ASSERT(!npy_read_matrix("/nonexistent-dir/x.npy", &r, &c, err, sizeof err));
	ASSERT_STR_CONTAINS(err, "/nonexistent-dir/x.npy");
}

static void test_fortran_order(void)
{
	/* The 2×3 matrix [[1,2,3],[4,5,6]] stored column by column. */
	double col[6] = {1, 4, 2, 5, 3, 6};
	size_t len;
	unsigned char *b = make_npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
				    col, sizeof col, &len);
	int64_t r, c;
	char err[256] = "";
	double *m = parse(b, len, &r, &c, err);
	free(b);
	ASSERT(m);
	ASSERT(r == 2 && c == 3);
	for (int i = 0; i < 6; i++)
		ASSERT(m[i] == i + 1);
	free(m);
}

static void test_versions(void)
{
	float v[4] = {1.5f, -2.0f, 0.25f, 8.0f};
	int64_t r, c;
	char err[256] = "";
	for (int major = 1; major <= 3; major++) {
		size_t len;
		/* Keys in another order and double quotes are valid Python too. */
		unsigned char *b = make_npy(major, "{\"shape\": (2, 2), 'fortran_order': False, "
					    "'descr': '<f4'}", v, sizeof v, &len);
		double *m = parse(b, len, &r, &c, err);
		free(b);
		ASSERT(m);
		ASSERT(r == 2 && c == 2);
		ASSERT(m[0] == 1.5 && m[1] == -2.0 && m[2] == 0.25 && m[3] == 8.0);
		free(m);
	}
}

static void test_one_dim(void)
{
	double v[3] = {1, 2, 3};
	size_t len;
	unsigned char *b = make_npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }",
				    v, sizeof v, &len);
	int64_t r, c;
	char err[256] = "";
	double *m = parse(b, len, &r, &c, err);
	free(b);
	ASSERT(m);
	ASSERT(r == 1 && c == 3);
	ASSERT(m[2] == 3);
	free(m);
	/* Python 2 numpy wrote longs: (2L, 1L). */
	b = make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 1L), }", v, 16, &len);
	m = parse(b, len, &r, &c, err);
	free(b);
	ASSERT(m);
	ASSERT(r == 2 && c == 1);
	free(m);
}

static void test_big_endian(void)
{
	/* 1.0 and -2.0 as big-endian float64, 0.5 and 3.0 as big-endian float32. */
	unsigned char d8[16] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0};
	unsigned char d4[8] = {0x3f, 0, 0, 0, 0x40, 0x40, 0, 0};
	size_t len;
	int64_t r, c;
	char err[256] = "";
	unsigned char *b = make_npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2), }",
				    d8, sizeof d8, &len);
	double *m = parse(b, len, &r, &c, err);
	free(b);
	ASSERT(m);
	ASSERT(m[0] == 1.0 && m[1] == -2.0);
	free(m);
	b = make_npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 1), }", d4,
		     sizeof d4, &len);
	m = parse(b, len, &r, &c, err);
	free(b);
	ASSERT(m);
	ASSERT(r == 2 && c == 1 && m[0] == 0.5 && m[1] == 3.0);
	free(m);
}

static void test_other_dtypes(void)
{
	static const struct {
		const char *descr;
		unsigned char bytes[16];
		size_t n;
		double want[2];
	} cases[] = {
		{"|u1", {200, 7}, 2, {200, 7}},
		{"|i1", {0xff, 0x80}, 2, {-1, -128}},
		{"<i2", {0xfe, 0xff, 0x10, 0x00}, 4, {-2, 16}},
		{">i4", {0xff, 0xff, 0xff, 0xfd, 0, 0, 1, 0}, 8, {-3, 256}},
		{"<u8", {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}, 16, {1, 9223372036854775808.0}},
		{"|b1", {0, 1}, 2, {0, 1}},
		{"<f2", {0x00, 0x3c, 0x01, 0x00}, 4, {1.0, 5.9604644775390625e-08}},
		{">f2", {0xc0, 0x00, 0x7b, 0xff}, 4, {-2.0, 65504.0}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char dict[128];
		snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }",
			 cases[i].descr);
		size_t len;
		unsigned char *b = make_npy(1, dict, cases[i].bytes, cases[i].n, &len);
		int64_t r, c;
		char err[256] = "";
		double *m = parse(b, len, &r, &c, err);
		free(b);
		if (!m)
			fprintf(stderr, "%s: %s\n", cases[i].descr, err);
		ASSERT(m);
		ASSERT(m[0] == cases[i].want[0] && m[1] == cases[i].want[1]);
		free(m);
	}
}

/* Each malformed header must fail with a message containing `expect`. */
static void test_bad_headers(void)
{
	static const struct {
		const char *dict;
		size_t datalen;
		const char *expect;
	} cases[] = {
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 31, "needs more"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 33, "different number"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 32, "more"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (3037000500, 3037000500), }", 32, "more"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 1), }", 8, "overflows"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }", 64, "3-D"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8, "0-D"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", 0, "empty"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (4), }", 32, "malformed"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (-4,), }", 32, "malformed"},
		{"{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 16, "dtype"},
		{"{'descr': 'O', 'fortran_order': False, 'shape': (1,), }", 8, "dtype"},
		{"{'descr': '<f8x', 'fortran_order': False, 'shape': (1,), }", 8, "dtype"},
		{"{'descr': 'f8', 'fortran_order': False, 'shape': (1,), }", 8, "byte order"},
		{"{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }", 4, "byte order"},
		{"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", 8, "structured"},
		{"{'descr': '<f8', 'shape': (1,), }", 8, "lacks 'fortran_order'"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", 8, "unexpected key"},
		{"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", 8, "repeated"},
		{"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,), }", 8, "malformed"},
		{"{'descr': '<f8', 'fortran_order': Falsey, 'shape': (1,), }", 8, "malformed"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (1,) ", 8, "malformed"},
		{"{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}", 8, "malformed"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} junk", 8, "malformed"},
		{"{'descr: '<f8', 'fortran_order': False, 'shape': (1,)}", 8, "malformed"},
		{"", 8, "malformed"},
	};
	static const unsigned char zeros[64];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len;
		unsigned char *b = make_npy(1, cases[i].dict, zeros, cases[i].datalen, &len);
		int64_t r, c;
		char err[256] = "";
		double *m = parse(b, len, &r, &c, err);
		free(b);
		if (m || !strstr(err, cases[i].expect))
			fprintf(stderr, "case %zu: %s -> %s\n", i, cases[i].dict, m ? "accepted" : err);
		ASSERT(!m);
		ASSERT_STR_CONTAINS(err, "t.npy: ");
		ASSERT_STR_CONTAINS(err, cases[i].expect);
	}
}

static void test_bad_preamble(void)
{
	double v[1] = {1};
	size_t len;
	unsigned char *b = make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
				    v, sizeof v, &len);
	int64_t r, c;
	char err[256] = "";
	b[0] = 'X';
	ASSERT(!parse(b, len, &r, &c, err));
	ASSERT_STR_CONTAINS(err, "not a .npy file");
	b[0] = 0x93;
	b[6] = 4;
	ASSERT(!parse(b, len, &r, &c, err));
	ASSERT_STR_CONTAINS(err, "version 4.0");
	b[6] = 1;
	b[7] = 1;
	ASSERT(!parse(b, len, &r, &c, err));
	ASSERT_STR_CONTAINS(err, "version 1.1");
	b[7] = 0;
	b[8] = 0xff;
	b[9] = 0xff;
	ASSERT(!parse(b, len, &r, &c, err));
	ASSERT_STR_CONTAINS(err, "past the end");
	free(b);
	ASSERT(!parse((const unsigned char *)"", 0, &r, &c, err));
}

/* Every proper prefix of a valid file fails cleanly. */
static void test_truncation(void)
{
	double v[6] = {1, 2, 3, 4, 5, 6};
	size_t len;
	for (int major = 1; major <= 2; major++) {
		unsigned char *b = make_npy(major, "{'descr': '<f8', 'fortran_order': False, "
					    "'shape': (2, 3), }", v, sizeof v, &len);
		for (size_t n = 0; n < len; n++) {
			/* A fresh exact-size copy so ASan sees reads past the end. */
			unsigned char *cut = malloc(n ? n : 1);
			memcpy(cut, b, n);
			int64_t r, c;
			char err[256] = "";
			double *m = parse(cut, n, &r, &c, err);
			free(cut);
			ASSERT(!m);
			ASSERT(err[0]);
		}
		free(b);
	}
}

/* Random byte flips: parsing either succeeds with a consistent shape or
 * fails with a message; ASan/UBSan catch the rest. */
static void test_fuzz(void)
{
	double v[6] = {1, 2, 3, 4, 5, 6};
	size_t len;
	unsigned char *b = make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
				    v, sizeof v, &len);
	uint64_t s = 12345;
	for (int it = 0; it < 2000; it++) {
		unsigned char *m = malloc(len);
		memcpy(m, b, len);
		int flips = 1 + it % 4;
		for (int k = 0; k < flips; k++) {
			s = s * 6364136223846793005u + 1442695040888963407u;
			size_t pos = (size_t)(s >> 33) % 128; /* preamble and header */
			m[pos] = (unsigned char)(s >> 24);
		}
		int64_t r = -1, c = -1;
		char err[256] = "";
		double *out = parse(m, len, &r, &c, err);
		if (out) {
			ASSERT(r > 0 && c > 0 && r * c <= 48);
			free(out);
		} else {
			ASSERT(err[0]);
		}
		free(m);
	}
	free(b);
}

static void test_cleanup(void)
{
	if (tmpdir[0])
		ASSERT(rmdir(tmpdir) == 0);
}

TEST_MAIN({"roundtrip_f64", test_roundtrip_f64}, {"roundtrip_f32", test_roundtrip_f32},
	  {"write_errors", test_write_errors}, {"fortran_order", test_fortran_order},
	  {"versions", test_versions}, {"one_dim", test_one_dim}, {"big_endian", test_big_endian},
	  {"other_dtypes", test_other_dtypes}, {"bad_headers", test_bad_headers},
	  {"bad_preamble", test_bad_preamble}, {"truncation", test_truncation},
	  {"fuzz", test_fuzz}, {"cleanup", test_cleanup})
