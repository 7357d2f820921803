/* test_cgen_cgen2.c - generated C for the elementwise, unary, softmax,
 * reduce and shape families against the reference interpreter.
 *
 * The ONNX node tests cover few of these ops and few dtypes, so this test
 * builds small graphs in textual IR (every dtype, broadcasting patterns,
 * axes and keepdims variants, NaN / infinity / integer extremes), runs
 * them through the interpreter, emits C for all of them, builds one
 * program with the strict flags of the conformance runner and compares
 * every output (integers and bools exactly, floats to 1e-4 relative; NaN
 * must be NaN). The same program is also built with ASan + UBSan and run
 * (the generated code must be free of undefined behaviour on extreme
 * inputs) and, when clang is installed, checked with clang -Weverything.
 * The files are kept in /tmp/qnnc_cgen2_* on failure or with QNNC_KEEP=1.
 *
 * Input data is chosen from the input's name: "nz..." nonzero integers,
 * "sm..." integers in [-3, 3], "nn..." in [0, 4], "ixD..." indices in
 * [-D, D), "sp..." floats with NaN, +-inf and signed zeros, "big..." floats
 * far outside the integer ranges, "pos..." positive floats. Otherwise
 * floats are multiples of 1/4 in [-4, 4] (so ties and equality occur) and
 * integers are random bits mixed with MIN, MAX, -1, 0, 1.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../backend/cgen.h"
#include "../../ir/ir.h"
#include "../../passes/passes.h"
#include "test.h"

#define MAXCASES 160
#define MAXIO 64

typedef struct tcase {
	char name[64];
	char *ir;
	ir_graph *g;
	int nin, nout;
	ir_tensor *in[MAXIO], *exp[MAXIO];
} tcase;

static tcase cases[MAXCASES];
static int ncases;
static char workdir[512];
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static int64_t rnd_range(int64_t lo, int64_t hi) /* [lo, hi] */
{
	return lo + (int64_t)(next64() % (uint64_t)(hi - lo + 1));
}

/* Append a case from printf-style IR text. */
static void add(const char *name, const char *fmt, ...)
{
	IR_ASSERT(ncases < MAXCASES);
	tcase *c = &cases[ncases++];
	va_list ap;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->ir = malloc(16384);
	va_start(ap, fmt);
	vsnprintf(c->ir, 16384, fmt, ap);
	va_end(ap);
}

static void fill_int(ir_tensor *t, const char *nm)
{
	int sg = ir_dtype_is_signed(t->dtype);
	int bits = (int)ir_dtype_size(t->dtype) * 8;
	int64_t mn = sg ? -(int64_t)(((uint64_t)1 << (bits - 1)) - 1) - 1 : 0;
	uint64_t mx = sg ? ((uint64_t)1 << (bits - 1)) - 1 : bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
	for (int64_t i = 0; i < t->numel; i++) {
		int64_t v;
		if (!strncmp(nm, "sm", 2)) {
			v = rnd_range(sg ? -3 : 0, 3);
		} else if (!strncmp(nm, "nn", 2)) {
			v = rnd_range(0, 4);
		} else if (!strncmp(nm, "ix", 2)) {
			int64_t d = atoll(nm + 2);
			v = rnd_range(-d, d - 1);
		} else {
			uint64_t r = next64();
			switch (next64() % 8) {
			case 0: v = mn; break;
			case 1: v = (int64_t)mx; break; /* u64 max wraps to -1: stored bits are right */
			case 2: v = sg ? -1 : (int64_t)mx; break;
			case 3: v = 0; break;
			case 4: v = 1; break;
			default:
				v = (int64_t)(r >> (64 - bits));
				if (sg && bits < 64 && v > (int64_t)mx)
					v -= (int64_t)1 << bits;
				break;
			}
			if (!strncmp(nm, "nz", 2) && v == 0)
				v = 2;
		}
		if (t->dtype == IR_U64)
			((uint64_t *)t->data)[i] = (uint64_t)v;
		else
			ir_tensor_set_i64(t, i, v);
	}
}

static void fill_float(ir_tensor *t, const char *nm)
{
	static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0};
	for (int64_t i = 0; i < t->numel; i++) {
		double v = (double)rnd_range(-16, 16) / 4;
		if (!strncmp(nm, "pos", 3))
			v = (double)rnd_range(1, 32) / 8;
		if (!strncmp(nm, "big", 3)) {
			v = ldexp((double)rnd_range(-1000, 1000) / 999.0, (int)rnd_range(0, 70));
			if (next64() % 5 == 0)
				v = sp[next64() % 5];
		}
		if (!strncmp(nm, "sp", 2) && next64() % 4 == 0)
			v = sp[next64() % 5];
		ir_tensor_set_f64(t, i, v);
	}
}

static int prepare(tcase *c, int idx)
{
	char err[2048];
	c->g = ir_parse(c->ir, c->name, err, sizeof err);
	if (!c->g) {
		fprintf(stderr, "%s: parse: %s\n", c->name, err);
		return -1;
	}
	ir_graph *g = c->g;
	if (pass_infer(g)) {
		fprintf(stderr, "%s: infer: %s\n", c->name, g->err);
		return -1;
	}
	c->nin = g->ninputs;
	c->nout = g->noutputs;
	IR_ASSERT(c->nin <= MAXIO && c->nout <= MAXIO);
	for (int i = 0; i < c->nin; i++) {
		ir_value *v = g->inputs[i];
		int64_t dims[IR_MAX_RANK];
		for (int d = 0; d < v->shape.rank; d++)
			dims[d] = v->shape.d[d].v;
		c->in[i] = ir_tensor_new(NULL, v->dtype, v->shape.rank, dims);
		if (ir_dtype_is_float(v->dtype))
			fill_float(c->in[i], v->name);
		else if (v->dtype == IR_BOOL)
			for (int64_t k = 0; k < c->in[i]->numel; k++)
				((uint8_t *)c->in[i]->data)[k] = (uint8_t)(next64() & 1);
		else
			fill_int(c->in[i], v->name);
		char p[1024];
		snprintf(p, sizeof p, "%s/in_%d_%d.bin", workdir, idx, i);
		FILE *f = fopen(p, "wb");
		IR_ASSERT(f);
		fwrite(c->in[i]->data, 1, (size_t)c->in[i]->numel * ir_dtype_size(v->dtype), f);
		fclose(f);
	}
	if (interp_run(g, c->in, c->exp)) {
		fprintf(stderr, "%s: interpreter: %s\n", c->name, g->err);
		return -1;
	}
	char cp[1024], hp[1024], hn[64], nm[32];
	snprintf(nm, sizeof nm, "t%d", idx);
	snprintf(hn, sizeof hn, "t%d.h", idx);
	snprintf(cp, sizeof cp, "%s/t%d.c", workdir, idx);
	snprintf(hp, sizeof hp, "%s/t%d.h", workdir, idx);
	FILE *cf = fopen(cp, "w"), *hf = fopen(hp, "w");
	IR_ASSERT(cf && hf);
	cgen_options o = {.name = nm};
	int rc = cgen_emit(g, &o, hn, cf, hf);
	fclose(cf);
	fclose(hf);
	if (rc) {
		fprintf(stderr, "%s: cgen: %s\n", c->name, g->err);
		return -1;
	}
	return 0;
}

static void write_harness(void)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/harness.c", workdir);
	FILE *h = fopen(p, "w");
	IR_ASSERT(h);
	fprintf(h, "#include <stdio.h>\n#include <stdint.h>\n");
	for (int k = 0; k < ncases; k++)
		fprintf(h, "#include \"t%d.h\"\n", k);
	fprintf(h, "\nstatic int rd(const char *p, void *d, size_t n)\n{\n\tFILE *f = fopen(p, \"rb\");\n"
		   "\tsize_t r;\n\tif (!f)\n\t\treturn 1;\n\tr = fread(d, 1, n, f);\n\tfclose(f);\n\treturn r != n;\n}\n\n");
	fprintf(h, "static int wr(const char *p, const void *d, size_t n)\n{\n\tFILE *f = fopen(p, \"wb\");\n"
		   "\tsize_t r;\n\tif (!f)\n\t\treturn 1;\n\tr = fwrite(d, 1, n, f);\n\treturn fclose(f) || r != n;\n}\n\n");
	for (int k = 0; k < ncases; k++) {
		tcase *c = &cases[k];
		for (int i = 0; i < c->nin; i++)
			fprintf(h, "static %s i%d_%d[%lld];\n", ir_dtype_c_type(c->in[i]->dtype), k, i,
				(long long)(c->in[i]->numel ? c->in[i]->numel : 1));
		for (int j = 0; j < c->nout; j++)
			fprintf(h, "static %s o%d_%d[%lld];\n", ir_dtype_c_type(c->exp[j]->dtype), k, j,
				(long long)(c->exp[j]->numel ? c->exp[j]->numel : 1));
	}
	fprintf(h, "\nint main(void)\n{\n\tint bad = 0;\n");
	for (int k = 0; k < ncases; k++) {
		tcase *c = &cases[k];
		for (int i = 0; i < c->nin; i++)
			fprintf(h, "\tbad |= rd(\"in_%d_%d.bin\", i%d_%d, sizeof i%d_%d[0] * %lld);\n", k, i, k, i, k, i,
				(long long)c->in[i]->numel);
		fprintf(h, "\tbad |= t%d_run(NULL", k);
		for (int i = 0; i < c->nin; i++)
			fprintf(h, ", i%d_%d", k, i);
		for (int j = 0; j < c->nout; j++)
			fprintf(h, ", o%d_%d", k, j);
		fprintf(h, ");\n");
		for (int j = 0; j < c->nout; j++)
			fprintf(h, "\tbad |= wr(\"out_%d_%d.bin\", o%d_%d, sizeof o%d_%d[0] * %lld);\n", k, j, k, j, k, j,
				(long long)c->exp[j]->numel);
	}
	fprintf(h, "\treturn bad;\n}\n");
	fclose(h);
}

static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static int same(ir_dtype t, const void *a, const void *b, int64_t i)
{
	if (!ir_dtype_is_float(t))
		return !memcmp((const char *)a + i * (int64_t)ir_dtype_size(t),
			       (const char *)b + i * (int64_t)ir_dtype_size(t), ir_dtype_size(t));
	double x = t == IR_F32 ? ((const float *)a)[i] : ((const double *)a)[i];
	double y = t == IR_F32 ? ((const float *)b)[i] : ((const double *)b)[i];
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y);
	if (isinf(x) || isinf(y))
		return x == y;
	return fabs(x - y) <= 1e-6 + 1e-4 * fabs(y);
}

/* Compare the program's output files with the interpreter; returns the
 * number of mismatching outputs. */
static int compare_all(const char *what)
{
	int bad = 0;
	for (int k = 0; k < ncases; k++) {
		tcase *c = &cases[k];
		for (int j = 0; j < c->nout; j++) {
			ir_tensor *e = c->exp[j];
			size_t bytes = (size_t)e->numel * ir_dtype_size(e->dtype);
			char p[1024];
			snprintf(p, sizeof p, "%s/out_%d_%d.bin", workdir, k, j);
			void *got = malloc(bytes + 1);
			FILE *f = fopen(p, "rb");
			int ok = f && fread(got, 1, bytes, f) == bytes;
			if (f)
				fclose(f);
			int64_t at = -1;
			for (int64_t i = 0; ok && i < e->numel; i++)
				if (!same(e->dtype, got, e->data, i)) {
					ok = 0;
					at = i;
				}
			if (!ok) {
				bad++;
				fprintf(stderr, "%s: case %s (t%d) output %d ('%s') differs", what, c->name, k, j,
					c->g->outputs[j]->name);
				if (at >= 0 && ir_dtype_is_float(e->dtype))
					fprintf(stderr, " at %lld: got %.9g, expected %.9g", (long long)at,
						e->dtype == IR_F32 ? ((float *)got)[at] : ((double *)got)[at],
						ir_tensor_get_f64(e, at));
				else if (at >= 0)
					fprintf(stderr, " at %lld: got %lld, expected %lld", (long long)at,
						(long long)(e->dtype == IR_U64 ? (int64_t)((uint64_t *)got)[at]
							    : ir_tensor_get_i64(&(ir_tensor){e->dtype, 1, {e->numel}, e->numel, got}, at)),
						(long long)ir_tensor_get_i64(e, at));
				fprintf(stderr, "\n");
			}
			free(got);
		}
	}
	return bad;
}

/* ------------------------------------------------------------- cases */

static const char *const INTS[] = {"i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"};
static const char *const FLOATS[] = {"f32", "f64"};

static void cases_elementwise(void)
{
	char nm[64];
	for (size_t k = 0; k < 8; k++) {
		const char *t = INTS[k];
		snprintf(nm, sizeof nm, "ew_int_%s", t);
		add(nm, "graph { opset 13\n input %%a : %s[3,4]\n input %%nzb : %s[4]\n input %%c : %s[3,1]\n"
			"%%add = Add(%%a, %%nzb)\n %%sub = Sub(%%a, %%c)\n %%mul = Mul(%%c, %%a)\n"
			"%%div = Div(%%a, %%nzb)\n %%mod0 = Mod(%%a, %%nzb)\n %%mod1 = Mod(%%a, %%nzb) {fmod = 1}\n"
			"%%max = Max(%%a, %%nzb, %%c)\n %%min = Min(%%c, %%a)\n %%eq = Equal(%%a, %%c)\n"
			"%%lt = Less(%%a, %%nzb)\n %%le = LessOrEqual(%%c, %%a)\n %%gt = Greater(%%a, %%nzb)\n"
			"%%ge = GreaterOrEqual(%%a, %%a)\n %%max1 = Max(%%a)\n"
			"output %%add\n output %%sub\n output %%mul\n output %%div\n output %%mod0\n output %%mod1\n"
			"output %%max\n output %%min\n output %%eq\n output %%lt\n output %%le\n output %%gt\n"
			"output %%ge\n output %%max1\n}\n",
		    t, t, t);
	}
	for (size_t k = 0; k < 2; k++) {
		const char *t = FLOATS[k];
		snprintf(nm, sizeof nm, "ew_float_%s", t);
		add(nm, "graph { opset 13\n input %%spa : %s[2,3,4]\n input %%spb : %s[3,1]\n input %%s : %s[]\n"
			"input %%spc : %s[2,3,4]\n"
			"%%add = Add(%%spa, %%spb)\n %%sub = Sub(%%s, %%spa)\n %%mul = Mul(%%spa, %%spc)\n"
			"%%div = Div(%%spa, %%spb)\n %%mod = Mod(%%spa, %%spb) {fmod = 1}\n"
			"%%pow = Pow(%%spa, %%spb)\n %%max = Max(%%spa, %%spb, %%spc)\n %%min = Min(%%spc, %%spa)\n"
			"%%sum = Sum(%%spa, %%spb, %%s)\n %%mean = Mean(%%spb, %%spa, %%spc)\n %%sum1 = Sum(%%spb)\n"
			"%%eq = Equal(%%spa, %%spc)\n %%lt = Less(%%spa, %%spb)\n %%le = LessOrEqual(%%spa, %%spb)\n"
			"%%gt = Greater(%%spb, %%spa)\n %%ge = GreaterOrEqual(%%spa, %%spc)\n"
			"output %%add\n output %%sub\n output %%mul\n output %%div\n output %%mod\n output %%pow\n"
			"output %%max\n output %%min\n output %%sum\n output %%mean\n output %%sum1\n output %%eq\n"
			"output %%lt\n output %%le\n output %%gt\n output %%ge\n}\n",
		    t, t, t, t);
	}
	add("ew_bool", "graph { opset 13\n input %%a : bool[2,1,3]\n input %%b : bool[4,1]\n input %%x : f32[4,3]\n"
		       "input %%y : f32[]\n input %%ia : i64[2,4,3]\n"
		       "%%and = And(%%a, %%b)\n %%or = Or(%%b, %%a)\n %%xor = Xor(%%a, %%b)\n %%eq = Equal(%%a, %%b)\n"
		       "%%w = Where(%%a, %%x, %%y)\n %%wi = Where(%%b, %%ia, %%ia)\n"
		       "output %%and\n output %%or\n output %%xor\n output %%eq\n output %%w\n output %%wi\n}\n");
	add("ew_bcast_shapes", "graph { opset 13\n input %%a : f32[2,1,3,1,5]\n input %%b : f32[6,1]\n"
			       "input %%c : f32[1]\n input %%d : f32[2,4,3,6,5]\n"
			       "%%x = Add(%%a, %%b)\n %%y = Mul(%%c, %%a)\n %%z = Sub(%%d, %%a)\n %%w = Div(%%b, %%d)\n"
			       "output %%x\n output %%y\n output %%z\n output %%w\n}\n");
	add("ew_pow_mixed",
	    "graph { opset 15\n input %%a : f32[6]\n input %%smi : i32[6]\n input %%smj : i64[6]\n"
	    "input %%b : f64[6]\n input %%smc : i32[6]\n input %%nnd : i32[6]\n input %%sme : i64[6]\n"
	    "input %%nnf : i64[6]\n input %%g : f32[6]\n input %%u : u8[6]\n input %%nnv : u64[6]\n"
	    "%%p1 = Pow(%%a, %%smi)\n %%p2 = Pow(%%a, %%smj)\n %%p3 = Pow(%%b, %%a)\n %%p4 = Pow(%%a, %%b)\n"
	    "%%p5 = Pow(%%smc, %%nnd)\n %%p6 = Pow(%%sme, %%nnf)\n %%p7 = Pow(%%smc, %%g)\n %%p8 = Pow(%%sme, %%b)\n"
	    "%%p9 = Pow(%%smc, %%u)\n %%p10 = Pow(%%b, %%nnv)\n %%p11 = Pow(%%sme, %%smj)\n"
	    "output %%p1\n output %%p2\n output %%p3\n output %%p4\n output %%p5\n output %%p6\n"
	    "output %%p7\n output %%p8\n output %%p9\n output %%p10\n output %%p11\n}\n");
	add("ew_pow_big_int", "graph { opset 15\n input %%nza : i64[40]\n input %%b : i32[40]\n"
			      "%%p = Pow(%%nza, %%b)\n output %%p\n}\n");
}

static void cases_unary(void)
{
	char nm[64];
	for (size_t k = 0; k < 2; k++) {
		const char *t = FLOATS[k];
		snprintf(nm, sizeof nm, "un_float_%s", t);
		add(nm, "graph { opset 13\n input %%spx : %s[3,5]\n input %%pos : %s[7]\n"
			"%%relu = Relu(%%spx)\n %%lr = LeakyRelu(%%spx) {alpha = 0.1}\n %%lr0 = LeakyRelu(%%spx)\n"
			"%%sig = Sigmoid(%%spx)\n %%tanh = Tanh(%%spx)\n %%exp = Exp(%%spx)\n %%log = Log(%%pos)\n"
			"%%neg = Neg(%%spx)\n %%abs = Abs(%%spx)\n %%sqrt = Sqrt(%%pos)\n %%rec = Reciprocal(%%spx)\n"
			"%%fl = Floor(%%spx)\n %%ce = Ceil(%%spx)\n %%erf = Erf(%%spx)\n %%sign = Sign(%%spx)\n"
			"%%elu = Elu(%%spx) {alpha = 0.5}\n %%sp = Softplus(%%spx)\n"
			"%%hs = HardSigmoid(%%spx) {alpha = 0.3, beta = 0.4}\n %%hs0 = HardSigmoid(%%spx)\n"
			"%%cl = Clip(%%spx)\n"
			"output %%relu\n output %%lr\n output %%lr0\n output %%sig\n output %%tanh\n output %%exp\n"
			"output %%log\n output %%neg\n output %%abs\n output %%sqrt\n output %%rec\n output %%fl\n"
			"output %%ce\n output %%erf\n output %%sign\n output %%elu\n output %%sp\n output %%hs\n"
			"output %%hs0\n output %%cl\n}\n",
		    t, t);
	}
	for (size_t k = 0; k < 8; k++) {
		const char *t = INTS[k];
		int sg = t[0] == 'i';
		snprintf(nm, sizeof nm, "un_int_%s", t);
		add(nm, "graph { opset 13\n input %%x : %s[9]\n input %%lo : %s[]\n input %%hi : %s[]\n"
			"%%abs = Abs(%%x)\n %%sign = Sign(%%x)\n %%erf = Erf(%%x)\n"
			"%%c2 = Clip(%%x, %%lo, %%hi)\n %%c1 = Clip(%%x, %%lo)\n %%c3 = Clip(%%x, _, %%hi)\n"
			"%s"
			"output %%abs\n output %%sign\n output %%erf\n output %%c2\n output %%c1\n output %%c3\n"
			"%s}\n",
		    t, t, t, sg ? "%neg = Neg(%x)\n %relu = Relu(%x)\n" : "",
		    sg ? "output %neg\n output %relu\n" : "");
	}
	add("un_clip_legacy", "graph { opset 6\n input %%spx : f32[11]\n"
			      "%%a = Clip(%%spx) {min = -1.5, max = 2.0}\n %%b = Clip(%%spx) {max = 0.5}\n"
			      "%%c = Clip(%%spx) {min = 3.0, max = 1.0}\n"
			      "output %%a\n output %%b\n output %%c\n}\n");
	add("un_clip_f", "graph { opset 13\n input %%spx : f64[11]\n const %%lo = f64[] {2.5}\n"
			 "const %%hi = f64[] {-1.0}\n %%a = Clip(%%spx, %%lo, %%hi)\n %%b = Clip(%%spx, _, %%lo)\n"
			 "output %%a\n output %%b\n}\n");
	add("un_not_dropout", "graph { opset 13\n input %%b : bool[5]\n input %%x : f32[2,3]\n input %%y : f32[4]\n"
			      "%%n = Not(%%b)\n %%d, %%m = Dropout(%%x)\n %%e, %%em = Dropout(%%y) opset 7\n"
			      "output %%n\n output %%d\n output %%m\n output %%e\n output %%em\n}\n");
	/* every Cast pair: one graph per source dtype */
	static const char *const all[] = {"f32", "f64", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "bool"};
	static const int code[] = {1, 11, 3, 5, 6, 7, 2, 4, 12, 13, 9};
	for (int s = 0; s < 11; s++) {
		char body[8192];
		size_t len = 0;
		for (int d = 0; d < 11; d++)
			len += (size_t)snprintf(body + len, sizeof body - len, "%%c%d = Cast(%%%s) {to = %d}\n output %%c%d\n",
						d, s < 2 ? "bigx" : "x", code[d], d);
		snprintf(nm, sizeof nm, "cast_from_%s", all[s]);
		add(nm, "graph { opset 13\n input %%%s : %s[40]\n input %%t : i16[1]\n%s"
			"%%cl = CastLike(%%%s, %%t)\n output %%cl\n}\n",
		    s < 2 ? "bigx" : "x", all[s], body, s < 2 ? "bigx" : "x");
	}
}

static void cases_softmax(void)
{
	static const struct {
		int opset, axis;
		const char *shape;
	} v[] = {
		{13, 0, "2,3,4"}, {13, 1, "2,3,4"}, {13, 2, "2,3,4"}, {13, -1, "3,5"}, {13, 1, "2,3,70"},
		{11, 1, "2,3,4"}, {11, 0, "2,3,4"}, {11, 2, "2,3,4"}, {11, -1, "2,3,4"}, {13, 0, "1"},
	};
	char nm[64];
	for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
		for (int f = 0; f < 2; f++) {
			snprintf(nm, sizeof nm, "softmax_%zu_%s", k, FLOATS[f]);
			add(nm, "graph { opset %d\n input %%%s : %s[%s]\n"
				"%%s = Softmax(%%%s) {axis = %d}\n %%l = LogSoftmax(%%%s) {axis = %d}\n"
				"output %%s\n output %%l\n}\n",
			    v[k].opset, k == 3 ? "spx" : "x", FLOATS[f], v[k].shape, k == 3 ? "spx" : "x", v[k].axis,
			    k == 3 ? "spx" : "x", v[k].axis);
		}
	add("softmax_default", "graph { opset 13\n input %%x : f32[2,3,4]\n %%s = Softmax(%%x)\n"
			       "%%l = LogSoftmax(%%x)\n %%s11 = Softmax(%%x) opset 11\n output %%s\n output %%l\n"
			       "output %%s11\n}\n");
}

static void cases_reduce(void)
{
	static const char *const ops[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
					  "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp"};
	static const char *const axes[] = {"0", "1", "2", "0, 2", "-1, 0", "1, 2"};
	static const char *const dts[] = {"f32", "f64", "i32", "i64", "u8", "i8"};
	char nm[64];
	for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
		/* opset 13 (axes attributes, ReduceSum's an input) */
		char body[16384];
		size_t len = 0;
		for (size_t o = 0; o < 8; o++) {
			for (size_t a = 0; a < sizeof axes / sizeof axes[0]; a++) {
				int keep = (int)((o + a) % 2);
				if (o == 0)
					len += (size_t)snprintf(body + len, sizeof body - len,
								"const %%ax%zu_%zu = i64[%d] {%s}\n"
								"%%r%zu_%zu = ReduceSum(%%x, %%ax%zu_%zu) {keepdims = %d}\n",
								o, a, a >= 3 ? 2 : 1, axes[a], o, a, o, a, keep);
				else
					len += (size_t)snprintf(body + len, sizeof body - len,
								"%%r%zu_%zu = %s(%%x) {axes = [%s], keepdims = %d}\n", o,
								a, ops[o], axes[a], keep);
				len += (size_t)snprintf(body + len, sizeof body - len, "output %%r%zu_%zu\n", o, a);
			}
			len += (size_t)snprintf(body + len, sizeof body - len,
						"%%all%zu = %s(%%x) {keepdims = 0}\n output %%all%zu\n", o, ops[o], o);
		}
		snprintf(nm, sizeof nm, "reduce_%s", dts[d]);
		add(nm, "graph { opset 13\n input %%x : %s[3,4,5]\n%s}\n", dts[d], body);
	}
	/* opset 18: axes as an input, noop_with_empty_axes, ints near overflow */
	add("reduce_opset18", "graph { opset 18\n input %%x : f32[2,3,4]\n input %%spy : f32[4,6]\n"
			      "input %%b : bool[3,4]\n input %%i : i16[3,4]\n input %%u : u64[5]\n"
			      "const %%a1 = i64[1] {1}\n const %%a0 = i64[0] {}\n const %%a02 = i64[2] {0, 2}\n"
			      "%%m = ReduceMax(%%x, %%a1)\n %%n = ReduceMean(%%x, %%a02) {keepdims = 0}\n"
			      "%%e = ReduceL2(%%x, %%a0) {noop_with_empty_axes = 1}\n %%f = ReduceSumSquare(%%x, %%a0)\n"
			      "%%g = ReduceLogSumExp(%%spy, %%a1)\n %%h = ReduceMax(%%spy)\n %%k = ReduceMin(%%spy, %%a1)\n"
			      "%%bm = ReduceMax(%%b, %%a1)\n %%bn = ReduceMin(%%b) {keepdims = 0}\n"
			      "%%im = ReduceMean(%%i, %%a1)\n %%is = ReduceSum(%%i) {keepdims = 0}\n"
			      "%%ip = ReduceProd(%%i, %%a1)\n %%il = ReduceL2(%%i, %%a1)\n %%ie = ReduceLogSumExp(%%i)\n"
			      "%%us = ReduceSum(%%u)\n %%um = ReduceMean(%%u)\n %%uq = ReduceSumSquare(%%u)\n"
			      "%%sx = ReduceSum(%%spy, %%a1) {keepdims = 0}\n %%sy = ReduceMean(%%spy)\n"
			      "output %%m\n output %%n\n output %%e\n output %%f\n output %%g\n output %%h\n output %%k\n"
			      "output %%bm\n output %%bn\n output %%im\n output %%is\n output %%ip\n output %%il\n"
			      "output %%ie\n output %%us\n output %%um\n output %%uq\n output %%sx\n output %%sy\n}\n");
	add("reduce_empty", "graph { opset 18\n input %%x : f32[3,0]\n input %%i : i32[3,0]\n const %%a1 = i64[1] {1}\n"
			    "%%s = ReduceSum(%%x, %%a1)\n %%m = ReduceMean(%%x, %%a1)\n %%mx = ReduceMax(%%x, %%a1)\n"
			    "%%mn = ReduceMin(%%i, %%a1)\n %%p = ReduceProd(%%x, %%a1)\n %%l = ReduceLogSumExp(%%x, %%a1)\n"
			    "%%li = ReduceLogSumExp(%%i, %%a1)\n %%ni = ReduceMax(%%i, %%a1)\n"
			    "output %%s\n output %%m\n output %%mx\n output %%mn\n output %%p\n output %%l\n"
			    "output %%li\n output %%ni\n}\n");
	add("reduce_scalar", "graph { opset 13\n input %%x : f32[]\n %%s = ReduceSum(%%x)\n %%m = ReduceMax(%%x) {keepdims = 0}\n"
			     "output %%s\n output %%m\n}\n");
	/* ArgMax / ArgMin: ties (small ints), NaN, select_last_index */
	add("argmax", "graph { opset 13\n input %%spx : f32[3,4,5]\n input %%smi : i32[3,4,5]\n input %%u : u8[6,2]\n"
		      "%%a = ArgMax(%%spx)\n %%b = ArgMax(%%spx) {axis = 1, keepdims = 0}\n"
		      "%%c = ArgMin(%%spx) {axis = -1, select_last_index = 1}\n %%d = ArgMax(%%smi) {axis = 2}\n"
		      "%%e = ArgMin(%%smi) {axis = 1, select_last_index = 1}\n %%f = ArgMax(%%smi) {axis = 0, select_last_index = 1}\n"
		      "%%g = ArgMin(%%u) {axis = 0, keepdims = 0}\n %%h = ArgMax(%%spx) {axis = 2, select_last_index = 1}\n"
		      "%%k = ArgMin(%%spx) {axis = 0}\n"
		      "output %%a\n output %%b\n output %%c\n output %%d\n output %%e\n output %%f\n output %%g\n"
		      "output %%h\n output %%k\n}\n");
	add("argmax_one", "graph { opset 13\n input %%x : f32[3,1]\n %%a = ArgMax(%%x) {axis = 1}\n output %%a\n}\n");
}

static void cases_shape(void)
{
	add("transpose", "graph { opset 13\n input %%x : i16[2,3,4,5]\n input %%y : f32[3,4]\n"
			 "%%a = Transpose(%%x) {perm = [0, 2, 3, 1]}\n %%b = Transpose(%%x)\n"
			 "%%c = Transpose(%%x) {perm = [1, 0, 2, 3]}\n %%d = Transpose(%%y)\n"
			 "%%e = Transpose(%%x) {perm = [0, 1, 2, 3]}\n"
			 "output %%a\n output %%b\n output %%c\n output %%d\n output %%e\n}\n");
	add("concat", "graph { opset 13\n input %%x : u8[2,3,4]\n input %%y : u8[2,1,4]\n input %%z : u8[2,2,4]\n"
		      "input %%e : u8[2,0,4]\n input %%w : u8[2,3,1]\n"
		      "%%a = Concat(%%x, %%y, %%e, %%z) {axis = 1}\n %%b = Concat(%%x, %%x) {axis = 0}\n"
		      "%%c = Concat(%%x, %%w) {axis = -1}\n %%d = Concat(%%y) {axis = 1}\n"
		      "output %%a\n output %%b\n output %%c\n output %%d\n}\n");
	add("gather", "graph { opset 13\n input %%x : f32[4,3,2]\n input %%ix4 : i64[2,3]\n input %%ix3 : i32[5]\n"
		      "input %%ix2 : i64[]\n const %%ci = i64[2] {-1, 0}\n"
		      "%%a = Gather(%%x, %%ix4)\n %%b = Gather(%%x, %%ix3) {axis = 1}\n"
		      "%%c = Gather(%%x, %%ix2) {axis = -1}\n %%d = Gather(%%x, %%ci) {axis = 0}\n"
		      "output %%a\n output %%b\n output %%c\n output %%d\n}\n");
	add("slice", "graph { opset 13\n input %%x : i32[5,6,7]\n"
		     "const %%s1 = i64[3] {1, -1, 0}\n const %%e1 = i64[3] {4, -7, 100}\n"
		     "const %%a1 = i64[3] {0, 1, 2}\n const %%p1 = i64[3] {2, -2, 3}\n"
		     "const %%s2 = i64[1] {-3}\n const %%e2 = i64[1] {-100}\n const %%a2 = i64[1] {-1}\n"
		     "const %%p2 = i64[1] {-1}\n const %%s3 = i64[2] {2, 1}\n const %%e3 = i64[2] {2, 5}\n"
		     "const %%s4 = i64[1] {9223372036854775807}\n const %%e4 = i64[1] {-9223372036854775808}\n"
		     "%%a = Slice(%%x, %%s1, %%e1, %%a1, %%p1)\n %%b = Slice(%%x, %%s2, %%e2, %%a2, %%p2)\n"
		     "%%c = Slice(%%x, %%s3, %%e3)\n %%d = Slice(%%x, %%s4, %%e4, %%a2, %%p2)\n"
		     "%%f = Slice(%%x) {starts = [1, 2], ends = [3, 100], axes = [2, 0]} opset 9\n"
		     "output %%a\n output %%b\n output %%c\n output %%d\n output %%f\n}\n");
	add("expand_tile", "graph { opset 13\n input %%x : f64[3,1]\n input %%y : bool[2,3]\n"
			   "const %%s = i64[3] {2, 3, 4}\n const %%r = i64[2] {2, 3}\n const %%r0 = i64[2] {0, 1}\n"
			   "const %%s1 = i64[1] {1}\n"
			   "%%a = Expand(%%x, %%s)\n %%b = Tile(%%y, %%r)\n %%c = Tile(%%x, %%r0)\n %%d = Expand(%%x, %%s1)\n"
			   "output %%a\n output %%b\n output %%c\n output %%d\n}\n");
	add("rank8", "graph { opset 13\n input %%x : i8[2,1,2,1,2,1,2,3]\n input %%y : f32[3,1,2,1,2,1,2,1]\n"
		     "const %%r = i64[8] {1, 2, 1, 3, 1, 2, 3, 2}\n const %%a = i64[3] {1, 3, 7}\n"
		     "%%t = Tile(%%x, %%r)\n %%p = Transpose(%%x) {perm = [7, 0, 6, 1, 5, 2, 4, 3]}\n"
		     "%%s = ReduceSum(%%y, %%a)\n %%m = Add(%%x, %%x)\n %%q = Mul(%%y, %%y)\n"
		     "output %%t\n output %%p\n output %%s\n output %%m\n output %%q\n}\n");
	add("const_shape", "graph { opset 15\n input %%x : f32[2,3,4]\n const %%s = i64[2] {2, 3}\n"
			   "%%a = Shape(%%x)\n %%b = Shape(%%x) {start = 1}\n %%c = Shape(%%x) {start = -1, end = 1}\n"
			   "%%d = Size(%%x)\n %%e = ConstantOfShape(%%s)\n"
			   "%%f = ConstantOfShape(%%s) {\"value\" = i32[1] {-7}}\n %%g = Constant() {value_floats = [1.5, -2.0]}\n"
			   "%%h = Constant() {value_int = 42}\n %%k = Constant() {\"value\" = u16[2,2] {1, 2, 3, 65535}}\n"
			   "%%m = Constant() {value_float = 0.25}\n %%n = Constant() {value_ints = [3, -4, 5]}\n"
			   "output %%a\n output %%b\n output %%c\n output %%d\n output %%e\n output %%f\n output %%g\n"
			   "output %%h\n output %%k\n output %%m\n output %%n\n}\n");
	add("empties", "graph { opset 13\n input %%x : f32[2,0]\n input %%i : i32[0]\n input %%y : f32[3]\n"
		       "const %%r = i64[2] {1, 2}\n const %%s0 = i64[1] {0}\n const %%e0 = i64[1] {0}\n"
		       "%%a = Add(%%x, %%x)\n %%p = Pow(%%i, %%i)\n %%c = Cast(%%x) {to = 7}\n %%t = Transpose(%%x)\n"
		       "%%s = Softmax(%%x)\n %%k = Tile(%%x, %%r)\n %%g = Gather(%%y, %%i)\n %%n = Neg(%%i)\n"
		       "%%l = Slice(%%y, %%s0, %%e0)\n %%m = Max(%%x, %%x, %%x)\n"
		       "output %%a\n output %%p\n output %%c\n output %%t\n output %%s\n output %%k\n output %%g\n"
		       "output %%n\n output %%l\n output %%m\n}\n");
	add("const_operands", "graph { opset 13\n input %%x : f32[2,3]\n const %%w = f32[3] {0.5, -1.0, 2.0}\n"
			      "const %%e = f32[] {3.0}\n %%a = Mul(%%x, %%w)\n %%b = Add(%%a, %%a)\n"
			      "%%c = Pow(%%b, %%e)\n %%m = Greater(%%x, %%e)\n %%d = Where(%%m, %%c, %%w)\n"
			      "output %%d\n output %%b\n}\n");
	/* views (Flatten) between computing nodes share storage */
	add("chain", "graph { opset 13\n input %%x : f32[2,3,4]\n"
		     "%%t = Transpose(%%x)\n %%e = Exp(%%t)\n %%f = Flatten(%%e) {axis = 2}\n %%s = Softmax(%%f)\n"
		     "output %%s\n}\n");
}

static void test_against_interpreter(void)
{
	if (system("cc --version > /dev/null 2>&1") != 0) {
		printf("SKIP: no C compiler 'cc' on PATH\n");
		exit(77);
	}
	snprintf(workdir, sizeof workdir, "%s", "/tmp/qnnc_cgen2_XXXXXX");
	ASSERT(mkdtemp(workdir));
	cases_elementwise();
	cases_unary();
	cases_softmax();
	cases_reduce();
	cases_shape();
	int failed = 0;
	for (int k = 0; k < ncases; k++)
		if (prepare(&cases[k], k))
			failed++;
	ASSERT(failed == 0);
	write_harness();

	const char *strict = "-std=c99 -Wall -Wextra -Wpedantic -Werror";
	ASSERT(sh("cd '%s' && cc %s -O2 -I. t*.c harness.c -lm -o prog 2> cc.log || (head -c 3000 cc.log; false)",
		  workdir, strict) == 0);
	ASSERT(sh("cd '%s' && ./prog", workdir) == 0);
	ASSERT(compare_all("cc -O2") == 0);

	/* the generated code has no undefined behaviour on these inputs */
	ASSERT(sh("cd '%s' && rm -f out_*.bin && cc %s -O1 -g -fsanitize=address,undefined "
		  "-fno-sanitize-recover=all -I. t*.c harness.c -lm -o prog-san 2> san.log "
		  "|| (head -c 3000 san.log; false)", workdir, strict) == 0);
	ASSERT(sh("cd '%s' && ./prog-san", workdir) == 0);
	ASSERT(compare_all("cc -fsanitize") == 0);

	if (system("clang --version > /dev/null 2>&1") == 0) {
		ASSERT(sh("cd '%s' && clang -std=c99 -Weverything -Werror -Wno-unknown-warning-option -Wno-padded "
			  "-Wno-declaration-after-statement -Wno-unsafe-buffer-usage -Wno-unused-macros "
			  "-fsyntax-only -I. t*.c 2> clang.log || (head -c 3000 clang.log; false)", workdir) == 0);
	} else {
		printf("note: clang not found, -Weverything check skipped\n");
	}
	for (int k = 0; k < ncases; k++) {
		for (int i = 0; i < cases[k].nin; i++)
			ir_tensor_free(cases[k].in[i]);
		for (int j = 0; j < cases[k].nout; j++)
			ir_tensor_free(cases[k].exp[j]);
		ir_graph_free(cases[k].g);
		free(cases[k].ir);
	}
	if (!test_failures && !getenv("QNNC_KEEP"))
		sh("rm -rf '%s'", workdir);
	else
		printf("generated files kept in %s\n", workdir);
}

TEST_MAIN({"generated C equals the interpreter", test_against_interpreter})
