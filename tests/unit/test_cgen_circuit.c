/* test_cgen_circuit.c - the C backend of Circuit nodes (backend/cgen_circuit.c)
 * and the stage programs (backend/stage.c).
 *
 * Graphs are built by hand (X → Circuit, and Circuit → MpoLinear → Circuit
 * as a disentangled layer becomes), with shapes set directly, so nothing
 * here needs the interpreter. References: dis_circuit_apply_batch
 * (passes/dis_dense.c) for the circuits, mpo_apply for the MPO. The
 * generated code is built with cc -std=c99 -Wall -Wextra -Wpedantic
 * -Werror -O2 (plus QNNC_TEST_CFLAGS, and clang -Weverything -fsyntax-only
 * when clang is installed); quantum stages link the build tree's libqnnrt
 * (QNNC_BINARY_DIR/runtime/libqnnrt.a, headers in QNNC_SOURCE_DIR/runtime).
 * Stage programs are also parsed and simulated with libqnnrt directly.
 */
#include "test.h"

#include "../../backend/cgen.h"
#include "../../backend/stage.h"
#include "../../ir/ir.h"
#include "../../passes/dis.h"
#include "../../passes/mpo.h"
#include "../../runtime/qnnrt.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef QNNC_SOURCE_DIR
#define QNNC_SOURCE_DIR "."
#endif
#ifndef QNNC_BINARY_DIR
#define QNNC_BINARY_DIR "build"
#endif

#define CC_FLAGS "-std=c99 -Wall -Wextra -Wpedantic -Werror -O2"
#define CLANG_FLAGS                                                                           \
	"-std=c99 -Weverything -Werror -Wno-padded -Wno-declaration-after-statement "         \
	"-Wno-unknown-warning-option -Wno-unsafe-buffer-usage -Wno-unused-macros"

static char workdir[256];
static int have_cc, have_clang, have_rt;
static char rt_flags[1024]; /* -I and the library for quantum programs */

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static double urand(void *ctx)
{
	(void)ctx;
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0 * 2 - 1;
}

static dis_circuit *random_circuit(int q, int k, int depth, dis_layout layout)
{
	dis_ansatz a = {k, depth, layout, 0};
	dis_circuit *c = dis_circuit_new(q, &a);
	if (c && dis_circuit_randomize(c, urand, NULL)) {
		dis_circuit_free(c);
		return NULL;
	}
	return c;
}

static void set_shape(ir_value *v, ir_dtype t, int rank, const int64_t *dims)
{
	v->dtype = t;
	ir_shape_from_dims(&v->shape, rank, dims);
}

static ir_value *konst(ir_graph *g, const char *name, ir_dtype t, int64_t n, const double *data)
{
	ir_value *v = ir_value_new(g, name);
	int64_t dims[1] = {n};
	ir_tensor *k = ir_tensor_new(g->arena, t, 1, dims);
	for (int64_t i = 0; i < n; i++)
		ir_tensor_set_f64(k, i, data[i]);
	v->konst = k;
	set_shape(v, t, 1, dims);
	return v;
}

static void set_int(ir_graph *g, ir_node *n, const char *name, int64_t v)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_INT, .i = v};
	ir_attr_set(g, n, &a);
}

static void set_ints(ir_graph *g, ir_node *n, const char *name, int cnt, int64_t *v)
{
	ir_attr a = {.name = name, .kind = IR_ATTR_INTS, .n = cnt, .is = v};
	ir_attr_set(g, n, &a);
}

/* Append Circuit(x, G, B) with the gates of c; returns Y (shape set:
 * x's with the last dim rows). bias (rows values) may be NULL. */
static ir_value *add_circuit(ir_graph *g, const char *name, ir_value *x, const dis_circuit *c, int rows,
			     int cols, int transpose, int stage, const double *bias)
{
	char nm[128];
	snprintf(nm, sizeof nm, "%s.gates", name);
	ir_value *G = konst(g, nm, IR_F64, c->nparams, c->data);
	ir_value *B = NULL;
	if (bias) {
		snprintf(nm, sizeof nm, "%s.bias", name);
		B = konst(g, nm, x->dtype, rows, bias);
	}
	snprintf(nm, sizeof nm, "%s.out", name);
	ir_value *y = ir_value_new(g, nm);
	ir_value *in[3] = {x, G, B};
	ir_node *n = ir_node_new(g, IR_OP_Circuit, name, bias ? 3 : 2, in, 1, &y);
	n->domain = "qnnc";
	set_int(g, n, "qubits", c->nqubits);
	set_int(g, n, "rows", rows);
	set_int(g, n, "cols", cols);
	set_int(g, n, "transpose", transpose);
	if (stage >= -1)
		set_int(g, n, "stage", stage);
	int64_t *sites = ir_alloc(g->arena, (size_t)(c->ngates + 1) * sizeof *sites);
	int64_t *ks = ir_alloc(g->arena, (size_t)(c->ngates + 1) * sizeof *ks);
	for (int j = 0; j < c->ngates; j++) {
		sites[j] = c->gate[j].site;
		ks[j] = c->gate[j].k;
	}
	set_ints(g, n, "sites", c->ngates, sites);
	set_ints(g, n, "ks", c->ngates, ks);
	int64_t dims[IR_MAX_RANK];
	for (int i = 0; i < x->shape.rank; i++)
		dims[i] = x->shape.d[i].v;
	dims[x->shape.rank - 1] = rows;
	set_shape(y, x->dtype, x->shape.rank, dims);
	return y;
}

/* Y = (C or Cᵀ) pad(X) truncated + bias, in double. */
static int ref_circuit(const dis_circuit *c, int transpose, int rows, int cols, const double *bias,
		       const double *X, int64_t batch, double *Y)
{
	int64_t d = (int64_t)1 << c->nqubits;
	double *buf = calloc((size_t)(batch * d + 1), sizeof *buf);
	if (!buf)
		return -1;
	for (int64_t b = 0; b < batch; b++)
		memcpy(buf + b * d, X + b * cols, (size_t)cols * sizeof *buf);
	int rc = dis_circuit_apply_batch(c, transpose, buf, batch);
	for (int64_t b = 0; b < batch; b++)
		for (int i = 0; i < rows; i++)
			Y[b * rows + i] = buf[b * d + i] + (bias ? bias[i] : 0);
	free(buf);
	return rc;
}

/* Random X (batch × cols) rounded to dtype t; every third row scaled up. */
static double *random_x(int64_t batch, int cols, ir_dtype t)
{
	double *x = malloc((size_t)(batch * cols + 1) * sizeof *x);
	for (int64_t i = 0; x && i < batch * cols; i++) {
		double v = urand(NULL) * ((i / cols) % 3 == 2 ? 7 : 1);
		x[i] = t == IR_F32 ? (double)(float)v : v;
	}
	return x;
}

/* How the generated program is driven. */
typedef struct run_opts {
	int quantum;      /* link libqnnrt */
	int null_ctx;     /* model_run(NULL, ...) */
	int bad_executor; /* ctx->executor = an executor that fails with QNN_EEXEC */
	uint64_t seed;    /* ctx->seed */
} run_opts;

/* Emit g with o, build it with the strict flags, run it on X and read Y
 * (nout values) and model_run's return value. 0 when all that worked (also
 * when model_run failed: *rc tells); -1 with a message otherwise. */
static int emit_and_run(const char *label, ir_graph *g, const cgen_options *o, const run_opts *r, const double *X,
			int64_t nx, double *Y, int64_t nout, int *rc)
{
	char path[512], cmd[4096];
	snprintf(path, sizeof path, "%s/model.c", workdir);
	FILE *c = fopen(path, "w");
	snprintf(path, sizeof path, "%s/model.h", workdir);
	FILE *h = fopen(path, "w");
	int erc = c && h ? cgen_emit(g, o, "model.h", c, h) : -1;
	if (c)
		fclose(c);
	if (h)
		fclose(h);
	if (erc) {
		fprintf(stderr, "%s: emit failed: %s\n", label, g->err);
		return -1;
	}
	const char *T = ir_dtype_c_type(g->inputs[0]->dtype);
	const char *suf = g->inputs[0]->dtype == IR_F32 ? "f" : "";
	snprintf(path, sizeof path, "%s/main.c", workdir);
	FILE *m = fopen(path, "w");
	if (!m)
		return -1;
	fprintf(m, "#include \"model.h\"\n#include <stdio.h>\n#include <stdlib.h>\n");
	fprintf(m, "static const %s in0[%lld] = {", T, (long long)nx);
	for (int64_t i = 0; i < nx; i++)
		fprintf(m, "%a%s,%s", X[i], suf, i % 6 == 5 ? "\n" : " ");
	fprintf(m, "};\nstatic %s out0[%lld];\n", T, (long long)nout);
	if (r->bad_executor)
		fprintf(m, "static int bad_run(void *impl, const char *prog, size_t len, const double *in, int nin,\n"
			   "\t\t   long shots, uint64_t seed, qnn_result *res)\n{\n"
			   "\t(void)impl, (void)prog, (void)len, (void)in, (void)nin, (void)shots, (void)seed;\n"
			   "\tsnprintf(res->err, sizeof res->err, \"device offline\");\n\treturn QNN_EEXEC;\n}\n"
			   "static const qnn_executor bad = {\"bad\", NULL, bad_run, NULL};\n");
	fprintf(m, "int main(void)\n{\n\tint i, rc;\n");
	if (r->null_ctx) {
		fprintf(m, "\tmodel_ctx *ctx = NULL;\n");
	} else {
		fprintf(m, "\tmodel_ctx *ctx = malloc(sizeof *ctx);\n\tif (!ctx)\n\t\treturn 2;\n\tmodel_init(ctx);\n");
		if (r->quantum)
			fprintf(m, "\tctx->seed = %lluu;\n", (unsigned long long)r->seed);
		if (r->bad_executor)
			fprintf(m, "\tctx->executor = &bad;\n");
	}
	fprintf(m, "\trc = model_run(ctx, in0, out0);\n\tprintf(\"%%d\\n\", rc);\n");
	if (r->bad_executor)
		fprintf(m, "\tprintf(\"%%s\\n\", ctx->err);\n");
	fprintf(m, "\tfor (i = 0; i < %lld; i++)\n\t\tprintf(\"%%a\\n\", (double)out0[i]);\n", (long long)nout);
	fprintf(m, "\tfree(ctx);\n\treturn 0;\n}\n");
	fclose(m);
	const char *extra = getenv("QNNC_TEST_CFLAGS");
	snprintf(cmd, sizeof cmd, "cd '%s' && cc " CC_FLAGS " %s %s model.c main.c %s -lm -o prog 2>cc.log", workdir,
		 extra ? extra : "", r->quantum ? rt_flags : "", r->quantum ? QNNC_BINARY_DIR "/runtime/libqnnrt.a" : "");
	if (system(cmd)) {
		fprintf(stderr, "%s: generated code does not compile (see %s/cc.log)\n", label, workdir);
		snprintf(cmd, sizeof cmd, "head -c 3000 '%s/cc.log' >&2", workdir);
		if (system(cmd))
			return -1;
		return -1;
	}
	snprintf(cmd, sizeof cmd, "cd '%s' && clang " CLANG_FLAGS " %s -fsyntax-only model.c 2>clang.log", workdir,
		 r->quantum ? rt_flags : "");
	if (have_clang && system(cmd)) {
		fprintf(stderr, "%s: clang -Weverything rejects the code (see %s/clang.log)\n", label, workdir);
		snprintf(cmd, sizeof cmd, "head -c 3000 '%s/clang.log' >&2", workdir);
		if (system(cmd))
			return -1;
		return -1;
	}
	snprintf(cmd, sizeof cmd, "'%s/prog'", workdir);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[512];
	int ok = fgets(line, sizeof line, p) != NULL;
	*rc = ok ? atoi(line) : 0;
	if (ok && r->bad_executor) {
		ok = fgets(line, sizeof line, p) != NULL;
		if (ok && !strstr(line, "offline")) {
			fprintf(stderr, "%s: ctx->err is \"%s\", expected the executor's message\n", label, line);
			ok = 0;
		}
	}
	for (int64_t i = 0; ok && i < nout; i++) {
		ok = fgets(line, sizeof line, p) != NULL;
		Y[i] = ok ? strtod(line, NULL) : NAN;
	}
	if (pclose(p) || !ok) {
		fprintf(stderr, "%s: the generated program failed or its output is short\n", label);
		return -1;
	}
	return 0;
}

/* max |got - want| <= tol * max(1, max |want|) */
static int close_to(const char *label, const double *got, const double *want, int64_t n, double tol)
{
	double scale = 1;
	for (int64_t i = 0; i < n; i++)
		scale = fmax(scale, fabs(want[i]));
	for (int64_t i = 0; i < n; i++)
		if (!(fabs(got[i] - want[i]) <= tol * scale)) {
			fprintf(stderr, "%s: element %lld is %.9g, expected %.9g (scale %g)\n", label, (long long)i, got[i],
				want[i], scale);
			return -1;
		}
	return 0;
}

/* ------------------------------------------------------------ single Circuit */

typedef struct circ_case {
	const char *label;
	int q, k, depth;
	dis_layout layout;
	int rows, cols, transpose, bias;
	ir_dtype dt;
	int rank;          /* X [batch, cols] (2) or [2, batch/2, cols] (3) */
	int64_t batch;
	int zero_row;      /* row 1 of X is zero */
} circ_case;

/* X → Circuit → Y under options o; compares with the reference within tol. */
static int check_case(const circ_case *cc, const cgen_options *o, int stage, const run_opts *r, double tol)
{
	ir_graph *g = ir_graph_new(cc->label);
	dis_circuit *c = random_circuit(cc->q, cc->k, cc->depth, cc->layout);
	double *X = random_x(cc->batch, cc->cols, cc->dt);
	double *bias = malloc((size_t)cc->rows * sizeof *bias);
	double *want = malloc((size_t)(cc->batch * cc->rows) * sizeof *want);
	double *got = malloc((size_t)(cc->batch * cc->rows) * sizeof *got);
	int rc = -1, run_rc = 0;
	if (!g || !c || !X || !bias || !want || !got)
		goto out;
	for (int i = 0; i < cc->rows; i++)
		bias[i] = cc->dt == IR_F32 ? (double)(float)urand(NULL) : urand(NULL);
	if (cc->zero_row && cc->batch > 1)
		memset(X + cc->cols, 0, (size_t)cc->cols * sizeof *X);
	ir_value *x = ir_value_new(g, "x");
	int64_t dims[3] = {cc->batch, cc->cols};
	if (cc->rank == 3) {
		dims[0] = 2;
		dims[1] = cc->batch / 2;
		dims[2] = cc->cols;
	}
	set_shape(x, cc->dt, cc->rank, dims);
	ir_graph_add_input(g, x);
	ir_value *y = add_circuit(g, "layer/V", x, c, cc->rows, cc->cols, cc->transpose, stage,
				  cc->bias ? bias : NULL);
	ir_graph_add_output(g, y);
	if (ref_circuit(c, cc->transpose, cc->rows, cc->cols, cc->bias ? bias : NULL, X, cc->batch, want))
		goto out;
	if (emit_and_run(cc->label, g, o, r, X, cc->batch * cc->cols, got, cc->batch * cc->rows, &run_rc))
		goto out;
	if (run_rc) {
		fprintf(stderr, "%s: model_run returned %d\n", cc->label, run_rc);
		goto out;
	}
	rc = close_to(cc->label, got, want, cc->batch * cc->rows, tol);
out:
	dis_circuit_free(c);
	free(X);
	free(bias);
	free(want);
	free(got);
	ir_graph_free(g);
	return rc;
}

static void test_classical(void)
{
	if (!have_cc)
		return;
	static const circ_case cases[] = {
		{"f32 brick k=2", 3, 2, 3, DIS_BRICK, 5, 6, 0, 1, IR_F32, 2, 4, 0},
		{"f32 transposed, rank 3", 4, 2, 2, DIS_BRICK, 16, 11, 1, 1, IR_F32, 3, 6, 1},
		{"f64 stair k=3 transposed", 6, 3, 2, DIS_STAIR, 64, 40, 1, 0, IR_F64, 2, 7, 0},
		{"f64 k=1", 3, 1, 2, DIS_BRICK, 3, 8, 0, 1, IR_F64, 2, 1, 0},
		{"f64 k=4", 5, 4, 2, DIS_BRICK, 32, 32, 0, 1, IR_F64, 2, 3, 0},
		{"f64 k=5 transposed", 6, 5, 2, DIS_STAIR, 17, 64, 1, 1, IR_F64, 2, 2, 0},
		{"f64 k=6", 7, 6, 2, DIS_BRICK, 100, 90, 0, 1, IR_F64, 2, 3, 0},
		{"f32 tiled, partial tile", 10, 2, 2, DIS_BRICK, 700, 1000, 0, 1, IR_F32, 2, 100, 0},
		{"f64 one qubit", 1, 1, 1, DIS_BRICK, 1, 2, 1, 1, IR_F64, 2, 3, 0},
		{"f32 no gates", 3, 2, 0, DIS_BRICK, 7, 5, 0, 1, IR_F32, 2, 2, 0},
	};
	cgen_options o = {"model", 0, 0, 0, 0, 0};
	run_opts r = {0, 0, 0, 0};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const circ_case *cc = &cases[i];
		double tol = cc->dt == IR_F32 ? 1e-6 : 1e-12;
		ASSERT(check_case(cc, &o, -1, &r, tol) == 0);
	}
	/* a stage number, compiled classically: no runtime needed */
	o.classical_circuits = 1;
	r.null_ctx = 1;
	ASSERT(check_case(&cases[0], &o, 0, &r, 1e-6) == 0);
}

static void test_quantum_exact(void)
{
	if (!have_cc || !have_rt)
		return;
	static const circ_case cases[] = {
		{"stage f32 exact", 3, 2, 2, DIS_BRICK, 5, 6, 0, 1, IR_F32, 2, 4, 1},
		{"stage f64 exact transposed", 4, 3, 2, DIS_STAIR, 16, 13, 1, 0, IR_F64, 2, 3, 0},
		{"stage f64 one qubit", 1, 1, 1, DIS_BRICK, 2, 1, 0, 1, IR_F64, 2, 2, 0},
		/* a program past C99's 4095-character literals: a brace list */
		{"stage f32 long program", 6, 3, 2, DIS_BRICK, 50, 64, 1, 1, IR_F32, 2, 2, 0},
	};
	cgen_options o = {"model", 0, 0, 0, 0, 0};
	run_opts r = {1, 0, 0, 7};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const circ_case *cc = &cases[i];
		ASSERT(check_case(cc, &o, 0, &r, cc->dt == IR_F32 ? 1e-6 : 1e-9) == 0);
	}
	/* the default context (ctx = NULL) is initialised on first use */
	r.null_ctx = 1;
	ASSERT(check_case(&cases[0], &o, 3, &r, 1e-6) == 0);
	/* physical qubits and the rz/sx/x/cx basis give the same amplitudes */
	o.isa = 1;
	r.null_ctx = 0;
	ASSERT(check_case(&cases[1], &o, 0, &r, 1e-9) == 0);
}

/* Shots: the ℓ2 error of one vector is about |x| √(d/S) (DESIGN.md §6). */
static void test_quantum_shots(void)
{
	if (!have_cc || !have_rt)
		return;
	const int q = 3, rows = 8, cols = 8;
	const int64_t batch = 5;
	const long S = 20000;
	ir_graph *g = ir_graph_new("shots");
	dis_circuit *c = random_circuit(q, 2, 2, DIS_BRICK);
	double *X = random_x(batch, cols, IR_F64);
	double want[5 * 8], got[5 * 8], again[5 * 8];
	ASSERT(g && c && X);
	ir_value *x = ir_value_new(g, "x");
	int64_t dims[2] = {batch, cols};
	set_shape(x, IR_F64, 2, dims);
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, add_circuit(g, "layer/U", x, c, rows, cols, 0, 1, NULL));
	ASSERT(ref_circuit(c, 0, rows, cols, NULL, X, batch, want) == 0);
	cgen_options o = {"model", 0, 0, 1, S, 0};
	run_opts r = {1, 0, 0, 12345};
	int rc = -1;
	ASSERT(emit_and_run("shots", g, &o, &r, X, batch * cols, got, batch * rows, &rc) == 0);
	ASSERT(rc == 0);
	double worst = 0;
	for (int64_t b = 0; b < batch; b++) {
		double err = 0, nx = 0;
		for (int i = 0; i < rows; i++)
			err += (got[b * rows + i] - want[b * rows + i]) * (got[b * rows + i] - want[b * rows + i]);
		for (int j = 0; j < cols; j++)
			nx += X[b * cols + j] * X[b * cols + j];
		double ratio = sqrt(err) / (sqrt(nx) * sqrt((double)(1 << q) / (double)S));
		worst = fmax(worst, ratio);
		ASSERT(ratio < 4);      /* a few standard errors */
		ASSERT(err > 0);        /* it did sample */
	}
	printf("  shots: worst error %.2f x |x| sqrt(d/S)\n", worst);
	/* the same seed gives the same samples */
	ASSERT(emit_and_run("shots again", g, &o, &r, X, batch * cols, again, batch * rows, &rc) == 0);
	ASSERT(memcmp(got, again, sizeof got) == 0);
	dis_circuit_free(c);
	free(X);
	ir_graph_free(g);
}

/* A disentangled layer: Circuit(Vᵀ, stage 0) → MpoLinear(M') → Circuit(U,
 * stage 1, B), quantum and classical, against dis + mpo_apply. */
static void test_chain(void)
{
	if (!have_cc)
		return;
	const int n = 3, m = 4, N = 6, K = 13;
	const int64_t batch = 3;
	const int Nn = 1 << n, Mm = 1 << m;
	ir_graph *g = ir_graph_new("chain");
	dis_circuit *U = random_circuit(n, 2, 2, DIS_BRICK), *V = random_circuit(m, 2, 2, DIS_BRICK);
	double W[8 * 16], bias[6];
	for (int i = 0; i < Nn * Mm; i++)
		W[i] = (double)(float)urand(NULL);
	for (int i = 0; i < N; i++)
		bias[i] = (double)(float)urand(NULL);
	mpo *M = mpo_from_dense(W, Nn, Mm, 1, NULL, NULL);
	ASSERT(g && U && V && M);
	/* f32 cores, and the reference MPO with the same rounded values */
	for (int s = 0; s < M->nsites; s++) {
		int64_t sz = (int64_t)M->bond[s] * M->dout[s] * M->din[s] * M->bond[s + 1];
		for (int64_t i = 0; i < sz; i++)
			M->core[s][i] = (double)(float)M->core[s][i];
	}
	double *X = random_x(batch, K, IR_F32);
	ir_value *x = ir_value_new(g, "x");
	int64_t dims[2] = {batch, K};
	set_shape(x, IR_F32, 2, dims);
	ir_graph_add_input(g, x);
	ir_value *v = add_circuit(g, "layer/V", x, V, Mm, K, 1, 0, NULL);
	/* MpoLinear(v, no bias, cores) */
	ir_value *in[2 + 16] = {v, NULL};
	for (int s = 0; s < M->nsites; s++) {
		char nm[64];
		snprintf(nm, sizeof nm, "layer.M.core%d", s);
		int64_t cd[4] = {M->bond[s], M->dout[s], M->din[s], M->bond[s + 1]};
		int64_t sz = cd[0] * cd[1] * cd[2] * cd[3];
		ir_value *cv = konst(g, nm, IR_F32, sz, M->core[s]);
		ir_shape_from_dims(&cv->shape, 4, cd);
		cv->konst->rank = 4;
		memcpy(cv->konst->dims, cd, sizeof cd);
		in[2 + s] = cv;
	}
	ir_value *mo = ir_value_new(g, "layer/M.out");
	ir_node *mn = ir_node_new(g, IR_OP_MpoLinear, "layer/M", 2 + M->nsites, in, 1, &mo);
	mn->domain = "qnnc";
	set_int(g, mn, "rows", Nn);
	set_int(g, mn, "cols", Mm);
	set_int(g, mn, "n_out", n);
	set_int(g, mn, "n_in", m);
	set_int(g, mn, "group", 1);
	int64_t md[2] = {batch, Nn};
	set_shape(mo, IR_F32, 2, md);
	ir_value *y = add_circuit(g, "layer/U", mo, U, N, Nn, 0, 1, bias);
	ir_graph_add_output(g, y);
	/* reference */
	double v_ref[3 * 16], m_ref[3 * 8], want[3 * 6], got[3 * 6];
	ASSERT(ref_circuit(V, 1, Mm, K, NULL, X, batch, v_ref) == 0);
	ASSERT(mpo_apply(M, v_ref, batch, m_ref) == 0);
	ASSERT(ref_circuit(U, 0, N, Nn, bias, m_ref, batch, want) == 0);
	int rc = -1;
	cgen_options o = {"model", 0, 1, 0, 0, 0};
	run_opts r = {0, 0, 0, 0};
	ASSERT(emit_and_run("chain classical", g, &o, &r, X, batch * K, got, batch * N, &rc) == 0);
	ASSERT(rc == 0);
	ASSERT(close_to("chain classical", got, want, batch * N, 1e-5) == 0);
	if (have_rt) {
		o.classical_circuits = 0;
		r.quantum = 1;
		ASSERT(emit_and_run("chain quantum", g, &o, &r, X, batch * K, got, batch * N, &rc) == 0);
		ASSERT(rc == 0);
		ASSERT(close_to("chain quantum", got, want, batch * N, 1e-5) == 0);
		/* a failing executor: _run returns its code and its message */
		r.bad_executor = 1;
		ASSERT(emit_and_run("chain bad executor", g, &o, &r, X, batch * K, got, batch * N, &rc) == 0);
		ASSERT(rc == QNN_EEXEC);
	}
	mpo_free(M);
	dis_circuit_free(U);
	dis_circuit_free(V);
	free(X);
	ir_graph_free(g);
}

/* ------------------------------------------------------------ stage programs */

/* Simulate the program of Circuit node n with its angles for x (2^q
 * values) and compare the amplitudes with ((Q x̂)_j ± u_j) / 2. */
static int check_program(const char *label, const char *text, size_t len, int q, const double *ref,
			 const double *Qx, const double *x, int bound)
{
	char err[512];
	int d = 1 << q, rc = -1;
	qnn_program *p = qnn_program_parse(text, len, label, err, sizeof err);
	double *w = calloc((size_t)(2 * d), sizeof *w), *theta = calloc((size_t)(2 * d), sizeof *theta);
	double *re = calloc((size_t)(2 * d), sizeof *re), *im = calloc((size_t)(2 * d), sizeof *im);
	if (!p) {
		fprintf(stderr, "%s: %s\n", label, err);
		goto out;
	}
	if (qnn_program_nqubits(p) != q + 1 || qnn_program_ninputs(p) != (bound ? 0 : 2 * d - 1)) {
		fprintf(stderr, "%s: %d qubits, %d inputs\n", label, qnn_program_nqubits(p), qnn_program_ninputs(p));
		goto out;
	}
	double nx = 0;
	for (int j = 0; j < d; j++)
		nx += x[j] * x[j];
	nx = sqrt(nx);
	for (int j = 0; j < d; j++) {
		w[j] = x[j] / nx / sqrt(2.0);
		w[d + j] = ref[j] / sqrt(2.0);
	}
	if (qnn_stateprep_angles(w, q + 1, theta))
		goto out;
	qnn_result res;
	memset(&res, 0, sizeof res);
	res.amp_re = re;
	res.amp_im = im;
	res.amps_len = (size_t)(2 * d);
	if (qnn_program_run(p, bound ? NULL : theta, bound ? 0 : 2 * d - 1, 0, 0, &res)) {
		fprintf(stderr, "%s: run: %s\n", label, res.err);
		goto out;
	}
	for (int a = 0; a < 2; a++)
		for (int j = 0; j < d; j++) {
			double want = (Qx[j] / nx + (a ? -1 : 1) / sqrt((double)d)) / 2;
			if (!(fabs(re[a * d + j] - want) < 1e-9 && fabs(im[a * d + j]) < 1e-9)) {
				fprintf(stderr, "%s: amplitude (%d, %d) is %.12g%+.12gi, expected %.12g\n", label, a, j,
					re[a * d + j], im[a * d + j], want);
				goto out;
			}
		}
	rc = 0;
out:
	qnn_program_free(p);
	free(w);
	free(theta);
	free(re);
	free(im);
	return rc;
}

static void test_stage_program(void)
{
	for (int transpose = 0; transpose < 2; transpose++) {
		const int q = 3, d = 8;
		ir_graph *g = ir_graph_new("stage");
		dis_circuit *c = random_circuit(q, 2, 3, DIS_BRICK);
		ASSERT(g && c);
		ir_value *x = ir_value_new(g, "x");
		int64_t dims[2] = {1, d};
		set_shape(x, IR_F64, 2, dims);
		ir_graph_add_input(g, x);
		ir_graph_add_output(g, add_circuit(g, "layer/U", x, c, d, d, transpose, 2, NULL));
		ir_node *n = g->nodes[0];
		double xv[8], Qx[8], u[8];
		for (int j = 0; j < d; j++) {
			Qx[j] = xv[j] = urand(NULL);
			u[j] = 1 / sqrt((double)d);
		}
		ASSERT(dis_circuit_apply(c, transpose, Qx, 1) == 0);
		ASSERT(dis_circuit_apply(c, !transpose, u, 1) == 0); /* Qᵀu */
		for (int isa = 0; isa < 2; isa++) {
			char *text;
			size_t len;
			double *ref;
			qasm_stats st;
			ASSERT(stage_program(g, n, isa, &text, &len, &ref, &st) == 0);
			ASSERT(strlen(text) == len);
			ASSERT(st.ninputs == 2 * d - 1);
			for (int j = 0; j < d; j++)
				ASSERT_NEAR(ref[j], u[j], 1e-12);
			int ok = check_program(isa ? "stage isa" : "stage", text, len, q, ref, Qx, xv, 0);
			if (isa)
				ASSERT(strstr(text, "$0") && !strstr(text, "qubit[")); /* physical qubits */
			free(text);
			free(ref);
			ASSERT(ok == 0);
		}
		/* OpenQASM 2 with the angles bound */
		double w[16], theta[16], nx = 0, *ref;
		char *text;
		size_t len;
		{
			char *t3;
			size_t l3;
			ASSERT(stage_program(g, n, 0, &t3, &l3, &ref, NULL) == 0);
			free(t3);
		}
		for (int j = 0; j < d; j++)
			nx += xv[j] * xv[j];
		for (int j = 0; j < d; j++) {
			w[j] = xv[j] / sqrt(nx) / sqrt(2.0);
			w[d + j] = ref[j] / sqrt(2.0);
		}
		ASSERT(qnn_stateprep_angles(w, q + 1, theta) == 0);
		ASSERT(stage_program2(g, n, theta, &text, &len, NULL) == 0);
		ASSERT(strstr(text, "OPENQASM 2.0;") && strstr(text, "qelib1.inc"));
		int ok = check_program("stage qasm2", text, len, q, ref, Qx, xv, 1);
		free(text);
		free(ref);
		ASSERT(ok == 0);
		dis_circuit_free(c);
		ir_graph_free(g);
	}
}

/* ------------------------------------------------------------ diagnostics */

static int emit_error(ir_graph *g, const cgen_options *o, const char *want)
{
	char *cb = NULL, *hb = NULL;
	size_t cl = 0, hl = 0;
	FILE *c = open_memstream(&cb, &cl), *h = open_memstream(&hb, &hl);
	g->err[0] = 0; /* ir_error keeps the first message */
	g->nerrors = 0;
	int rc = cgen_emit(g, o, "model.h", c, h);
	fclose(c);
	fclose(h);
	free(cb);
	free(hb);
	if (rc == 0 || !strstr(g->err, want)) {
		fprintf(stderr, "expected an error containing \"%s\", got %d \"%s\"\n", want, rc, g->err);
		return -1;
	}
	return 0;
}

static void test_errors(void)
{
	cgen_options o = {"model", 0, 0, 0, 0, 0};
	int64_t dims[2] = {2, 4};
	/* a gate that is not orthogonal */
	{
		ir_graph *g = ir_graph_new("bad.onnx");
		dis_circuit *c = random_circuit(2, 2, 1, DIS_BRICK);
		ASSERT(g && c);
		c->data[5] += 0.01;
		ir_value *x = ir_value_new(g, "x");
		set_shape(x, IR_F32, 2, dims);
		ir_graph_add_input(g, x);
		ir_graph_add_output(g, add_circuit(g, "layer/U", x, c, 4, 4, 0, -2, NULL));
		ASSERT(emit_error(g, &o, "node 'layer/U' (Circuit): gate 0") == 0);
		ASSERT(strstr(g->err, "not orthogonal"));
		dis_circuit_free(c);
		ir_graph_free(g);
	}
	/* two nodes claim one stage; a wrong G length */
	{
		ir_graph *g = ir_graph_new("dup.onnx");
		dis_circuit *c = random_circuit(2, 2, 1, DIS_BRICK);
		ASSERT(g && c);
		ir_value *x = ir_value_new(g, "x");
		set_shape(x, IR_F32, 2, dims);
		ir_graph_add_input(g, x);
		ir_value *y = add_circuit(g, "a", x, c, 4, 4, 0, 0, NULL);
		ir_graph_add_output(g, add_circuit(g, "b", y, c, 4, 4, 0, 0, NULL));
		ASSERT(emit_error(g, &o, "quantum stage 0 is also node 'a'") == 0);
		cgen_options oc = o;
		oc.classical_circuits = 1;
		g->nodes[1]->in[1]->konst->numel = 3; /* not Σ 4^k */
		ASSERT(emit_error(g, &oc, "sum 4^k = 16") == 0);
		dis_circuit_free(c);
		ir_graph_free(g);
	}
	/* bad options */
	{
		ir_graph *g = ir_graph_new("opt.onnx");
		ir_value *x = ir_value_new(g, "x");
		set_shape(x, IR_F32, 2, dims);
		ir_graph_add_input(g, x);
		ir_graph_add_output(g, x);
		cgen_options ob = o;
		ob.readout = 5;
		ASSERT(emit_error(g, &ob, "read-out") == 0);
		ir_graph_free(g);
	}
}

int main(void)
{
	static const test_case cases[] = {
		{"classical", test_classical},
		{"quantum exact", test_quantum_exact},
		{"quantum shots", test_quantum_shots},
		{"chain", test_chain},
		{"stage program", test_stage_program},
		{"errors", test_errors},
	};
	have_cc = !system("cc --version >/dev/null 2>&1");
	have_clang = have_cc && !system("clang --version >/dev/null 2>&1");
	snprintf(workdir, sizeof workdir, "/tmp/qnnc-test-circuit-XXXXXX");
	if (have_cc && !mkdtemp(workdir))
		have_cc = 0;
	if (!have_cc)
		printf("(no C compiler: the generated-code checks are skipped)\n");
	have_rt = access(QNNC_BINARY_DIR "/runtime/libqnnrt.a", R_OK) == 0;
	if (have_cc && !have_rt)
		printf("(no %s/runtime/libqnnrt.a: the quantum-stage builds are skipped)\n", QNNC_BINARY_DIR);
	/* libqnnrt is built with this test's sanitizers, so programs linking it need them */
	snprintf(rt_flags, sizeof rt_flags, "-I'%s/runtime'%s", QNNC_SOURCE_DIR,
#if defined(__SANITIZE_ADDRESS__)
		 " -fsanitize=address,undefined"
#else
		 ""
#endif
	);
	int failed = test_run(cases, (int)(sizeof cases / sizeof cases[0]));
	if (have_cc && !failed) {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", workdir);
	} else if (have_cc) {
		fprintf(stderr, "generated files kept in %s\n", workdir);
	}
	return failed ? 1 : 0;
}
