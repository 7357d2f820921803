/* test_circuit.c - the Circuit op (passes/op_circuit.c, circuit.h) and its
 * training support (passes/train_circuit.c): the gate kernels against
 * naive loops on every gather / gemm path; the interpreter against
 * dis_circuit_apply_batch on random orthogonal circuits (both transposes,
 * padding, truncation, bias, f32 and f64, batch ranks 1..3) to 1e-12;
 * diagnostics for malformed nodes; finite-difference checks of dL/dX,
 * dL/dG and dL/dB; optimiser steps that keep the gates orthogonal and
 * lower the loss (TRAIN_LAYER, train_fit); train_write_back storing
 * orthogonal f64 gates, and leaving gates that did not move bit for bit. */
#include "test.h"
#include "op_test.h"
#include "train_fd.h"

#include "../../frontend/dataset.h"
#include "../../passes/circuit.h"
#include "../../passes/dis.h"
#include "../../passes/la.h"
#include "../../passes/train.h"

static double urand_cb(void *ctx) { return ot_rand(ctx); }

/* A random orthogonal circuit on q qubits (NULL on failure). */
static dis_circuit *random_circuit(int q, int k, int depth, dis_layout layout, int one_body,
				   uint64_t *seed)
{
	dis_ansatz a = {k, depth, layout, one_body};
	dis_circuit *c = dis_circuit_new(q, &a);
	if (c && dis_circuit_randomize(c, urand_cb, seed)) {
		dis_circuit_free(c);
		return NULL;
	}
	return c;
}

static ir_value *add_const(ir_graph *g, const char *name, ir_dtype t, int64_t n, const double *data)
{
	ir_value *v = ir_value_new(g, name);
	v->konst = ot_tensor(g, t, 1, &n, data);
	op_value_from_tensor(v, v->konst);
	return v;
}

/* y = Circuit(x, gates of c, bias) named name; skip names an attribute to
 * leave out (NULL: none). */
static ir_node *add_circuit(ir_graph *g, const char *name, ir_value *x, ir_value *y,
			    const dis_circuit *c, int64_t rows, int64_t cols, int transpose,
			    const double *bias, ir_dtype bt, const char *skip)
{
	char nm[64];
	snprintf(nm, sizeof nm, "%s.gates", name);
	ir_value *in[3] = {x, add_const(g, nm, IR_F64, c->nparams, c->data), NULL};
	if (bias) {
		snprintf(nm, sizeof nm, "%s.bias", name);
		in[2] = add_const(g, nm, bt, rows, bias);
	}
	ir_node *n = ir_node_new(g, IR_OP_Circuit, name, bias ? 3 : 2, in, 1, &y);
	int64_t sites[256], ks[256];
	for (int j = 0; j < c->ngates && j < 256; j++) {
		sites[j] = c->gate[j].site;
		ks[j] = c->gate[j].k;
	}
	const char *names[] = {"qubits", "rows", "cols", "transpose"};
	int64_t vals[] = {c->nqubits, rows, cols, transpose};
	for (int i = 0; i < 4; i++)
		if (!skip || strcmp(skip, names[i]))
			ot_int(g, n, names[i], vals[i]);
	if (!skip || strcmp(skip, "sites"))
		ot_ints(g, n, "sites", c->ngates, sites);
	if (!skip || strcmp(skip, "ks"))
		ot_ints(g, n, "ks", c->ngates, ks);
	return n;
}

/* A graph x [xd] (dtype t) -> Circuit -> y, not inferred. */
static ir_graph *circuit_graph(const dis_circuit *c, ir_dtype t, int xrank, const int64_t *xd,
			       int64_t rows, int transpose, const double *bias, ir_node **node)
{
	ir_graph *g = ir_graph_new("test_circuit");
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y");
	x->dtype = t;
	ir_shape_from_dims(&x->shape, xrank, xd);
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, y);
	ir_node *n = add_circuit(g, "circ", x, y, c, rows, xd[xrank - 1], transpose, bias, t, NULL);
	if (node)
		*node = n;
	return g;
}

/* ------------------------------------------------------------ kernels */

/* The a-th amplitude of vector (row r, hi, lo) of a gate on (site, k). */
static int64_t amp(int q, int site, int k, int64_t r, int64_t hi, int64_t a, int64_t lo)
{
	return (r << q) + (((hi << k) + a) << (q - site - k)) + lo;
}

/* Plain loops: ref = g x (gᵀ x with tr) on every row, dg += Σ dy_a x_b. */
static void naive_gate(int q, int site, int k, const double *g, int tr, const double *x,
		       const double *dy, int64_t batch, double *ref, double *dg)
{
	int64_t d = (int64_t)1 << k, nhi = (int64_t)1 << site, nlo = (int64_t)1 << (q - site - k);
	for (int64_t r = 0; r < batch; r++)
		for (int64_t hi = 0; hi < nhi; hi++)
			for (int64_t lo = 0; lo < nlo; lo++)
				for (int64_t a = 0; a < d; a++) {
					double s = 0, ya = dy[amp(q, site, k, r, hi, a, lo)];
					for (int64_t b = 0; b < d; b++) {
						double xb = x[amp(q, site, k, r, hi, b, lo)];
						s += (tr ? g[b * d + a] : g[a * d + b]) * xb;
						dg[a * d + b] += ya * xb;
					}
					ref[amp(q, site, k, r, hi, a, lo)] = s;
				}
}

/* circuit_gate_apply and circuit_gate_grad against plain loops, for every
 * (site, k) on several register sizes: 1- and 2-qubit loops (strides below
 * and above 16), gathers into one gemm, and one gemm per large block. */
static void test_kernels(void)
{
	static const int qs[] = {1, 2, 3, 5, 8, 11};
	uint64_t seed = 11;
	const int64_t batch = 3;
	for (size_t qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
		int q = qs[qi];
		int64_t n = batch << q;
		double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
		double *ref = malloc((size_t)n * sizeof *ref), *dy = malloc((size_t)n * sizeof *dy);
		double *work = malloc(circuit_work_size(q) * sizeof *work);
		double err = 0, gerr = 0;
		for (int k = 1; k <= CIRCUIT_MAX_K && k <= q; k++)
			for (int site = 0; site + k <= q; site++)
				for (int tr = 0; tr < 2; tr++) {
					int64_t d2 = (int64_t)1 << (2 * k);
					double gm[4096], dg[4096], dgr[4096];
					for (int64_t e = 0; e < d2; e++) {
						gm[e] = ot_rand(&seed);
						dg[e] = dgr[e] = ot_rand(&seed); /* grad accumulates */
					}
					for (int64_t e = 0; e < n; e++) {
						x[e] = y[e] = ot_rand(&seed);
						dy[e] = ot_rand(&seed);
					}
					circuit_gate_apply(q, site, k, gm, tr, y, batch, work);
					circuit_gate_grad(q, site, k, x, dy, batch, dg, work);
					naive_gate(q, site, k, gm, tr, x, dy, batch, ref, dgr);
					for (int64_t e = 0; e < n; e++)
						err = fmax(err, fabs(y[e] - ref[e]));
					for (int64_t e = 0; e < d2; e++)
						gerr = fmax(gerr, fabs(dg[e] - dgr[e]));
				}
		free(x);
		free(y);
		free(ref);
		free(dy);
		free(work);
		if (!(err <= 1e-12 && gerr <= 1e-11))
			fprintf(stderr, "q %d: apply error %g, grad error %g\n", q, err, gerr);
		ASSERT(err <= 1e-12 && gerr <= 1e-11);
	}
}

/* circuit_apply_f64 equals dis_circuit_apply_batch, and rejects gates
 * that do not fit. */
static void test_apply_f64(void)
{
	uint64_t seed = 5;
	const int64_t batch = 2;
	for (int q = 1; q <= 12; q += 11) {
		for (int kk = 1; kk <= 3; kk++) {
			dis_layout lay = kk == 2 ? DIS_STAIR : DIS_BRICK;
			dis_circuit *c = random_circuit(q, kk, 3, lay, kk == 3, &seed);
			ASSERT(c);
			int64_t n = batch << q;
			double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
			int sites[512], ks[512];
			for (int j = 0; j < c->ngates; j++) {
				sites[j] = c->gate[j].site;
				ks[j] = c->gate[j].k;
			}
			for (int tr = 0; tr < 2; tr++) {
				for (int64_t e = 0; e < n; e++)
					a[e] = b[e] = ot_rand(&seed);
				ASSERT(circuit_apply_f64(sites, ks, c->ngates, c->data, q, tr, a, batch) ==
				       0);
				ASSERT(dis_circuit_apply_batch(c, tr, b, batch) == 0);
				double err = 0;
				for (int64_t e = 0; e < n; e++)
					err = fmax(err, fabs(a[e] - b[e]));
				ASSERT(err <= 1e-12);
			}
			if (c->ngates > 0) {
				sites[0] = q; /* past the end */
				ASSERT(circuit_apply_f64(sites, ks, c->ngates, c->data, q, 0, a, batch) ==
				       -1);
				ASSERT_STR_CONTAINS(la_last_error(), "does not fit");
			}
			free(a);
			free(b);
			dis_circuit_free(c);
		}
	}
	ASSERT(circuit_gate_offsets((const int[]){1, 3, 2}, 3, NULL) == 4 + 64 + 16);
}

/* ------------------------------------------------------- interpreter */

typedef struct icase {
	int q, k, depth;
	dis_layout layout;
	int one_body;
	int64_t rows, cols;
	int bias;
	ir_dtype t;
	int xrank;
	int64_t lead[2]; /* leading dims */
} icase;

static const icase icases[] = {
	{3, 2, 2, DIS_BRICK, 0, 8, 8, 0, IR_F64, 1, {0}},
	{3, 2, 3, DIS_BRICK, 1, 6, 5, 1, IR_F64, 2, {4}},
	{4, 3, 2, DIS_STAIR, 0, 16, 9, 1, IR_F64, 3, {2, 3}},
	{5, 1, 2, DIS_BRICK, 0, 7, 32, 0, IR_F64, 2, {3}},
	{6, 6, 1, DIS_BRICK, 0, 33, 40, 1, IR_F64, 2, {2}},
	{7, 4, 2, DIS_STAIR, 1, 100, 128, 1, IR_F64, 2, {2}},
	{11, 2, 2, DIS_BRICK, 1, 1000, 1500, 1, IR_F64, 2, {2}},
	{2, 3, 1, DIS_BRICK, 0, 3, 3, 1, IR_F64, 2, {2}}, /* k > q: one gate of all q */
	{4, 2, 0, DIS_BRICK, 0, 10, 12, 1, IR_F64, 2, {2}}, /* no gates */
	{4, 2, 3, DIS_BRICK, 1, 10, 13, 1, IR_F32, 2, {5}},
	{9, 3, 2, DIS_STAIR, 0, 300, 257, 1, IR_F32, 3, {2, 1}},
};

/* Interpreter vs dis_circuit_apply_batch on the padded rows, + bias: the
 * largest error in units of the tolerance (1e-12; f32 outputs are rounded
 * once, so 1e-6 relative), or INFINITY on failure. */
static double interp_error(const icase *ic, int transpose, uint64_t *seed)
{
	dis_circuit *c = random_circuit(ic->q, ic->k, ic->depth, ic->layout, ic->one_body, seed);
	if (!c)
		return INFINITY;
	int64_t xd[3], D = (int64_t)1 << ic->q, batch = 1;
	for (int i = 0; i < ic->xrank - 1; i++)
		batch *= xd[i] = ic->lead[i];
	xd[ic->xrank - 1] = ic->cols;
	double *bias = NULL;
	if (ic->bias) {
		bias = malloc((size_t)ic->rows * sizeof *bias);
		for (int64_t i = 0; i < ic->rows; i++)
			bias[i] = ot_rand(seed);
	}
	ir_graph *g = circuit_graph(c, ic->t, ic->xrank, xd, ic->rows, transpose, bias, NULL);
	double err = INFINITY;
	ir_tensor *x = NULL, *y = NULL;
	double *ref = malloc((size_t)(batch * D) * sizeof *ref);
	if (pass_infer(g) || ir_verify(g)) {
		fprintf(stderr, "%s\n", g->err);
		goto out;
	}
	x = ir_tensor_new(NULL, ic->t, ic->xrank, xd);
	for (int64_t e = 0; e < x->numel; e++)
		ir_tensor_set_f64(x, e, ot_rand(seed));
	if (interp_run(g, &x, &y)) {
		fprintf(stderr, "%s\n", g->err);
		goto out;
	}
	for (int64_t r = 0; r < batch; r++)
		for (int64_t j = 0; j < D; j++)
			ref[r * D + j] = j < ic->cols ? ir_tensor_get_f64(x, r * ic->cols + j) : 0;
	if (dis_circuit_apply_batch(c, transpose, ref, batch))
		goto out;
	if (y->dtype != ic->t || y->rank != ic->xrank || y->dims[ic->xrank - 1] != ic->rows ||
	    y->numel != batch * ic->rows)
		goto out;
	err = 0;
	for (int64_t r = 0; r < batch; r++)
		for (int64_t i = 0; i < ic->rows; i++) {
			double bi = bias ? (ic->t == IR_F32 ? (float)bias[i] : bias[i]) : 0;
			double want = ref[r * D + i] + bi, got = ir_tensor_get_f64(y, r * ic->rows + i);
			double tol = ic->t == IR_F32 ? 1e-6 * (1 + fabs(want)) : 1e-12;
			err = fmax(err, fabs(got - want) / tol);
		}
out:
	ir_tensor_free(x);
	ir_tensor_free(y);
	free(ref);
	free(bias);
	ir_graph_free(g);
	dis_circuit_free(c);
	return err;
}

static void test_interp(void)
{
	uint64_t seed = 99;
	for (size_t i = 0; i < sizeof icases / sizeof icases[0]; i++)
		for (int tr = 0; tr < 2; tr++) {
			double e = interp_error(&icases[i], tr, &seed);
			if (!(e <= 1))
				fprintf(stderr, "case %zu transpose %d: error %g tol\n", i, tr, e);
			ASSERT(e <= 1);
		}
}

/* An f32 and an f64 node agree with the graph's attributes printed and
 * parsed back (the textual IR keeps the ints and the f64 gates). */
static void test_text_round_trip(void)
{
	uint64_t seed = 3;
	dis_circuit *c = random_circuit(3, 2, 2, DIS_BRICK, 1, &seed);
	ASSERT(c);
	int64_t xd[2] = {2, 6};
	double b[5] = {0.1, -0.2, 0.3, 0.4, -0.5};
	ir_graph *g = circuit_graph(c, IR_F64, 2, xd, 5, 1, b, NULL);
	ASSERT(pass_infer(g) == 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ir_print(f, g, 0);
	fclose(f);
	char err[256];
	ir_graph *h = ir_parse(buf, "rt.ir", err, sizeof err);
	if (!h)
		fprintf(stderr, "%s\n%s\n", err, buf);
	ASSERT(h);
	ASSERT(pass_infer(h) == 0);
	ir_tensor *x = ir_tensor_new(NULL, IR_F64, 2, xd), *y1 = NULL, *y2 = NULL;
	for (int64_t e = 0; e < x->numel; e++)
		ir_tensor_set_f64(x, e, ot_rand(&seed));
	ASSERT(interp_run(g, &x, &y1) == 0 && interp_run(h, &x, &y2) == 0);
	for (int64_t e = 0; e < y1->numel; e++)
		ASSERT_NEAR(ir_tensor_get_f64(y1, e), ir_tensor_get_f64(y2, e), 1e-15);
	ir_tensor_free(x);
	ir_tensor_free(y1);
	ir_tensor_free(y2);
	free(buf);
	ir_graph_free(g);
	ir_graph_free(h);
	dis_circuit_free(c);
}

/* -------------------------------------------------------- diagnostics */

typedef enum {
	M_NONE, M_SKIP, M_INT, M_INTS_KS, M_INTS_SITES, M_SITES_AS_INT, M_G_EXTRA, M_G_F32,
	M_G_SCALE, M_G_NAN, M_X_COLS, M_B_LEN, M_B_DTYPE, M_STAGE_STR
} mut_kind;

typedef struct dcase {
	mut_kind kind;
	const char *attr;   /* attribute for M_SKIP / M_INT */
	int64_t v;          /* value for M_INT, entry for M_INTS_*, gate for M_G_* */
	const char *expect;
} dcase;

static const dcase dcases[] = {
	{M_NONE, NULL, 0, NULL},
	{M_SKIP, "qubits", 0, "attribute 'qubits' is required"},
	{M_SKIP, "transpose", 0, "attribute 'transpose' is required"},
	{M_SKIP, "ks", 0, "attribute 'ks' is required"},
	{M_INT, "qubits", 31, "qubits must be in 1..30"},
	{M_INT, "qubits", 0, "qubits must be in 1..30"},
	{M_INT, "rows", 9, "rows and cols must be in 1..2^qubits = 8"},
	{M_INT, "cols", 0, "rows and cols must be in 1..2^qubits"},
	{M_INT, "transpose", 2, "transpose must be 0 or 1"},
	{M_INT, "stage", -2, "stage must be -1"},
	{M_INT, "stage", 3, NULL},
	{M_INT, "stage", -1, NULL},
	{M_STAGE_STR, "stage", 0, "attribute 'stage' must be an int"},
	{M_SITES_AS_INT, NULL, 0, "attribute 'sites' is not ints"},
	{M_INTS_KS, NULL, 7, "gate 1: ks[1] = 7"},
	{M_INTS_KS, NULL, 0, "gate 1: ks[1] = 0"},
	{M_INTS_SITES, NULL, 2, "gate 1: 2 qubits at site 2 do not fit the 3 qubits"},
	{M_INTS_SITES, NULL, -1, "do not fit"},
	{M_INTS_SITES, NULL, 99, "sites has 5 entries and ks 4"}, /* v = 99: append */
	{M_G_EXTRA, NULL, 0, "G has 53 elements; the 4 gates need sum 4^k = 52"},
	{M_G_F32, NULL, 0, "G must be f64"},
	{M_G_SCALE, NULL, 2, "gate 2 (2 qubits at site 1) is not orthogonal"},
	{M_G_NAN, NULL, 3, "gate 3 (1 qubit at site 2) has a non-finite entry"},
	{M_X_COLS, NULL, 0, "must have cols = 6 elements along its last axis"},
	{M_B_LEN, NULL, 0, "must be a vector of rows = 5 elements"},
	{M_B_DTYPE, NULL, 0, "B has dtype f32, X has f64"},
};

/* The base: 3 qubits, gates k = 2 at 0, 2 at 1, 2 at 1, 1 at 2 (sum 4^k
 * = 52), X [2, 6] f64, rows 5, B f64 [5]; one mutation; pass_infer. */
static int diag_case(const dcase *dc, ir_graph **gout)
{
	static const int site[4] = {0, 1, 1, 2}, kk[4] = {2, 2, 2, 1};
	uint64_t seed = 17;
	double *data = malloc(52 * sizeof *data);
	dis_gate gates[4];
	int64_t off = 0;
	for (int j = 0; j < 4; j++) {
		int64_t d = (int64_t)1 << kk[j];
		double A[16];
		for (int e = 0; e < d * d; e++)
			A[e] = ot_rand(&seed);
		la_polar(A, d, d, data + off);
		gates[j] = (dis_gate){site[j], kk[j], data + off};
		off += d * d;
	}
	dis_circuit view = {.nqubits = 3, .ngates = 4, .gate = gates, .nparams = 52, .data = data};
	if (dc->kind == M_G_SCALE)
		for (int e = 0; e < 16; e++)
			gates[dc->v].m[e] *= 1.001;
	if (dc->kind == M_G_NAN)
		gates[dc->v].m[1] = NAN;
	if (dc->kind == M_G_EXTRA)
		view.nparams = 53;
	double *big = NULL;
	if (dc->kind == M_G_EXTRA) {
		big = calloc(53, sizeof *big);
		memcpy(big, data, 52 * sizeof *big);
		view.data = big;
	}
	ir_graph *g = ir_graph_new("diag.onnx");
	ir_value *x = ir_value_new(g, "x"), *y = ir_value_new(g, "y");
	int64_t xd[2] = {2, dc->kind == M_X_COLS ? 7 : 6};
	x->dtype = IR_F64;
	ir_shape_from_dims(&x->shape, 2, xd);
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, y);
	double b[6] = {1, 2, 3, 4, 5, 6};
	ir_dtype bt = dc->kind == M_B_DTYPE ? IR_F32 : IR_F64;
	ir_node *n = add_circuit(g, "circ", x, y, &view, dc->kind == M_B_LEN ? 6 : 5, 6, 0, b, bt,
				 dc->kind == M_SKIP ? dc->attr : NULL);
	if (dc->kind == M_B_LEN) /* the node says 5 rows, B has 6 */
		ot_int(g, n, "rows", 5);
	if (dc->kind == M_INT)
		ot_int(g, n, dc->attr, dc->v);
	if (dc->kind == M_STAGE_STR)
		ot_str(g, n, "stage", "one");
	if (dc->kind == M_SITES_AS_INT)
		ot_int(g, n, "sites", 0);
	if (dc->kind == M_INTS_KS || dc->kind == M_INTS_SITES) {
		int64_t s[5], k[4];
		for (int j = 0; j < 4; j++) {
			s[j] = site[j];
			k[j] = kk[j];
		}
		s[4] = 0;
		if (dc->kind == M_INTS_KS)
			k[1] = dc->v;
		else if (dc->v != 99)
			s[1] = dc->v;
		ot_ints(g, n, "sites", dc->v == 99 ? 5 : 4, s);
		ot_ints(g, n, "ks", 4, k);
	}
	if (dc->kind == M_G_F32) {
		n->in[1]->konst = ot_tensor(g, IR_F32, 1, (int64_t[]){52}, data);
		op_value_from_tensor(n->in[1], n->in[1]->konst);
	}
	int rc = pass_infer(g);
	*gout = g;
	free(data);
	free(big);
	return rc;
}

static void test_diagnostics(void)
{
	for (size_t i = 0; i < sizeof dcases / sizeof dcases[0]; i++) {
		const dcase *dc = &dcases[i];
		ir_graph *g = NULL;
		int rc = diag_case(dc, &g);
		if (dc->expect ? rc != -1 || !strstr(g->err, dc->expect) : rc != 0)
			fprintf(stderr, "diagnostic case %zu: rc %d, \"%s\", expected \"%s\"\n", i, rc,
				g->err, dc->expect ? dc->expect : "(success)");
		if (dc->expect) {
			ASSERT(rc == -1);
			ASSERT_STR_CONTAINS(g->err, dc->expect);
			ASSERT_STR_CONTAINS(g->err, "diag.onnx: node 'circ' (Circuit): ");
		} else {
			ASSERT(rc == 0);
		}
		ir_graph_free(g);
	}
}

/* G that is not a constant is checked when the node runs. */
static void test_runtime_gates(void)
{
	uint64_t seed = 23;
	dis_circuit *c = random_circuit(2, 2, 1, DIS_BRICK, 0, &seed);
	ASSERT(c && c->ngates == 1);
	ir_graph *g = ir_graph_new("rt.onnx");
	ir_value *x = ir_value_new(g, "x"), *gv = ir_value_new(g, "gates"), *y = ir_value_new(g, "y");
	int64_t xd[2] = {1, 4}, gd = 16;
	x->dtype = gv->dtype = IR_F64;
	ir_shape_from_dims(&x->shape, 2, xd);
	ir_shape_from_dims(&gv->shape, 1, &gd);
	ir_graph_add_input(g, x);
	ir_graph_add_input(g, gv);
	ir_graph_add_output(g, y);
	ir_value *in[2] = {x, gv};
	ir_node *n = ir_node_new(g, IR_OP_Circuit, "late", 2, in, 1, &y);
	ot_int(g, n, "qubits", 2);
	ot_int(g, n, "rows", 4);
	ot_int(g, n, "cols", 4);
	ot_int(g, n, "transpose", 0);
	ot_ints(g, n, "sites", 1, (int64_t[]){0});
	ot_ints(g, n, "ks", 1, (int64_t[]){2});
	ASSERT(pass_infer(g) == 0);
	ir_tensor *t[2] = {ir_tensor_new(NULL, IR_F64, 2, xd), ir_tensor_new(NULL, IR_F64, 1, &gd)};
	ir_tensor *out = NULL;
	memcpy(t[1]->data, c->data, 16 * sizeof(double));
	for (int e = 0; e < 4; e++)
		((double *)t[0]->data)[e] = e + 1;
	ASSERT(interp_run(g, t, &out) == 0);
	double ref[4] = {1, 2, 3, 4};
	ASSERT(dis_circuit_apply_batch(c, 0, ref, 1) == 0);
	for (int e = 0; e < 4; e++)
		ASSERT_NEAR(((double *)out->data)[e], ref[e], 1e-14);
	ir_tensor_free(out);
	out = NULL;
	((double *)t[1]->data)[5] += 1e-3;
	ASSERT(interp_run(g, t, &out) == -1);
	ASSERT_STR_CONTAINS(g->err, "node 'late' (Circuit): gate 0 (2 qubits at site 0) is not "
				    "orthogonal");
	ir_tensor_free(t[0]);
	ir_tensor_free(t[1]);
	ir_graph_free(g);
	dis_circuit_free(c);
}

/* ----------------------------------------------------------- training */

/* x [N, 5] -> V: Circuit(q 3, cols 5, rows 8, transpose 1) -> U: Circuit
 * (q 3, cols 8, rows 6, transpose 0, bias) -> y [N, 6]; with front, a
 * Gemm [N, 6] -> [N, 5] first. Gates: brickwork k = 2 with 1-qubit layers. */
static ir_graph *layer_graph(uint64_t *seed, int front, int64_t nout)
{
	dis_circuit *v = random_circuit(3, 2, 2, DIS_BRICK, 1, seed);
	dis_circuit *u = random_circuit(3, 3, 2, DIS_STAIR, 0, seed);
	if (!v || !u) {
		dis_circuit_free(v);
		dis_circuit_free(u);
		return NULL;
	}
	ir_graph *g = ir_graph_new("layer");
	ir_value *x = ir_value_new(g, "x"), *h = ir_value_new(g, "h"), *z = ir_value_new(g, "z");
	ir_value *y = ir_value_new(g, "y"), *in = x;
	x->dtype = IR_F32;
	x->shape.rank = 2;
	x->shape.d[0] = (ir_dim){-1, "N"};
	x->shape.d[1].v = front ? 6 : 5;
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, y);
	if (front) {
		double w[30];
		for (int e = 0; e < 30; e++)
			w[e] = 0.5 * ot_rand(seed);
		int64_t wd[2] = {5, 6};
		ir_value *wv = ir_value_new(g, "fc.w");
		wv->konst = ot_tensor(g, IR_F32, 2, wd, w);
		op_value_from_tensor(wv, wv->konst);
		ir_value *gin[2] = {x, wv};
		ir_node *n = ir_node_new(g, IR_OP_Gemm, "fc", 2, gin, 1, &h);
		ot_int(g, n, "transB", 1);
		in = h;
	}
	double b[8];
	for (int i = 0; i < 8; i++)
		b[i] = 0.3 * ot_rand(seed);
	add_circuit(g, "layer/V", in, z, v, 8, 5, 1, NULL, IR_F32, NULL);
	add_circuit(g, "layer/U", z, y, u, nout, 8, 0, b, IR_F32, NULL);
	dis_circuit_free(v);
	dis_circuit_free(u);
	if (pass_infer(g) || ir_verify(g)) {
		fprintf(stderr, "%s\n", g->err);
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

/* Forward vs the interpreter, then dL/dx and dL/dθ of every parameter by
 * central differences on L = Σ r·y. Run twice: on the graph's orthogonal
 * gates, and with every gate pushed off the orthogonal group (the
 * backward pass recomputes inputs with the inverse gates, so it is exact
 * for any invertible gate). */
static void test_train_gradients(void)
{
	uint64_t seed = 41;
	ir_graph *g = layer_graph(&seed, 0, 6);
	ASSERT(g);
	train_opts o = {.scope = TRAIN_ALL, .input_grad = 1};
	train_model *m = train_new(g, &o);
	if (!m)
		fprintf(stderr, "%s\n", g->err);
	ASSERT(m);
	ASSERT(train_nparams(m) == 3); /* V gates, U gates, U bias */
	const int64_t b = 3, nx = 15, ny = 18;
	float x[15], r[18];
	for (int i = 0; i < nx; i++)
		x[i] = (float)ot_rand(&seed);
	for (int i = 0; i < ny; i++)
		r[i] = (float)ot_rand(&seed);
	ASSERT(train_forward(m, x, b) == 0);
	/* the forward pass equals the interpreter */
	ir_tensor *xt = ir_tensor_new(NULL, IR_F32, 2, (int64_t[]){b, 5}), *yt = NULL;
	memcpy(xt->data, x, sizeof x);
	ASSERT(interp_run(g, &xt, &yt) == 0);
	for (int i = 0; i < ny; i++)
		ASSERT_NEAR(train_logits(m)[i], ((float *)yt->data)[i], 1e-6);
	ir_tensor_free(xt);
	ir_tensor_free(yt);
	int ok = 1;
	for (int pass = 0; pass < 2 && ok; pass++) {
		if (pass == 1) /* off the orthogonal group */
			for (int i = 0; i < train_nparams(m); i++) {
				train_param *p = train_param_at(m, i);
				for (int64_t e = 0; strstr(p->name, "gates") && e < p->numel; e++)
					p->w[e] += (float)(0.2 * ot_rand(&seed));
			}
		float gx[15];
		ok = train_forward(m, x, b) == 0;
		memcpy(train_logits_grad(m), r, sizeof r);
		ok = ok && train_backward(m) == 0;
		memcpy(gx, train_input_grad(m), sizeof gx);
		ok = ok && fd_check(m, x, gx, nx, x, b, r, ny, 0, 0, "x", "circuit");
		for (int i = 0; ok && i < train_nparams(m); i++) {
			train_param *p = train_param_at(m, i);
			float *gp = malloc((size_t)p->numel * sizeof *gp);
			memcpy(gp, p->g, (size_t)p->numel * sizeof *gp);
			ok = fd_check(m, p->w, gp, p->numel, x, b, r, ny, 0, 0, p->name, "circuit");
			free(gp);
		}
		if (!ok)
			fprintf(stderr, "  gradient check failed on pass %d\n", pass);
	}
	train_free(m);
	ir_graph_free(g);
	ASSERT(ok);
}

/* max |gᵀg − I| over the gates of a float parameter laid out as node n's G. */
static double param_orth(const train_param *p, const ir_node *n)
{
	const int64_t *ks;
	int ng = ir_attr_ints(n, "ks", &ks);
	double err = 0, gd[4096];
	int64_t off = 0;
	for (int j = 0; j < ng; j++) {
		int64_t d2 = (int64_t)1 << (2 * ks[j]);
		for (int64_t e = 0; e < d2; e++)
			gd[e] = p->w[off + e];
		err = fmax(err, circuit_orth_defect((int)ks[j], gd));
		off += d2;
	}
	return err;
}

static double konst_orth(const ir_value *v, const ir_node *n)
{
	const int64_t *ks;
	int ng = ir_attr_ints(n, "ks", &ks);
	double err = 0;
	int64_t off = 0;
	for (int j = 0; j < ng; j++) {
		err = fmax(err, circuit_orth_defect((int)ks[j], (const double *)v->konst->data + off));
		off += (int64_t)1 << (2 * ks[j]);
	}
	return err;
}

static ir_node *node_named(ir_graph *g, const char *name)
{
	for (int k = 0; k < g->nnodes; k++)
		if (!strcmp(g->nodes[k]->name, name))
			return g->nodes[k];
	return NULL;
}

/* Adam steps on one batch under TRAIN_LAYER: the Gemm in front stays, the
 * gates stay orthogonal after every step, the loss goes down; the weights
 * written back are orthogonal f64 gates and the interpreter then computes
 * the engine's logits. *out (may be NULL) gets a copy of U's gates. */
static int train_steps(uint64_t seed0, double **out, int64_t *nout)
{
	uint64_t seed = seed0;
	int ok = 0;
	ir_graph *g = layer_graph(&seed, 1, 4);
	if (!g)
		return 0;
	train_opts o = {.scope = TRAIN_LAYER};
	train_model *m = train_new(g, &o);
	optim *opt = NULL;
	double *ug0 = NULL;
	if (!m) {
		fprintf(stderr, "%s\n", g->err);
		goto done;
	}
	ir_node *vn = node_named(g, "layer/V"), *un = node_named(g, "layer/U");
	ir_value *vg = ir_value_find(g, "layer/V.gates"), *ug = ir_value_find(g, "layer/U.gates");
	ir_value *fw = ir_value_find(g, "fc.w");
	ug0 = malloc((size_t)ug->konst->numel * sizeof *ug0);
	memcpy(ug0, ug->konst->data, (size_t)ug->konst->numel * sizeof *ug0);
	float fw0[30];
	memcpy(fw0, fw->konst->data, sizeof fw0);
	train_param *pv = NULL, *pu = NULL, *pw = NULL;
	float *w[4], *gr[4];
	int64_t sizes[4];
	int np = 0;
	for (int i = 0; i < train_nparams(m); i++) {
		train_param *p = train_param_at(m, i);
		pv = p->value == vg ? p : pv;
		pu = p->value == ug ? p : pu;
		pw = p->value == fw ? p : pw;
		if (p->trainable) {
			w[np] = p->w;
			gr[np] = p->g;
			sizes[np++] = p->numel;
		}
	}
	if (!pv || !pu || !pw || pw->trainable || !pv->trainable || !pu->trainable || np != 3) {
		fprintf(stderr, "TRAIN_LAYER picked the wrong parameters (%d trainable)\n", np);
		goto done;
	}
	enum { B = 16, STEPS = 40 };
	float x[B * 6];
	uint8_t lab[B];
	for (int i = 0; i < B * 6; i++)
		x[i] = (float)(3 * ot_rand(&seed));
	for (int i = 0; i < B; i++)
		lab[i] = (uint8_t)ot_pick(&seed, 0, 3);
	optim_opts oo;
	optim_defaults(&oo, OPTIM_ADAM);
	oo.lr = 0.02;
	opt = optim_new(&oo, np, sizes);
	double first = 0, last = 0, worst = 0;
	for (int s = 0; s < STEPS; s++) {
		double L;
		if (train_forward(m, x, B) || train_loss(m, lab, &L, NULL) || train_backward(m))
			goto done;
		if (s == 0)
			first = L;
		last = L;
		optim_step(opt, w, gr, oo.lr);
		if (train_project(m))
			goto done;
		worst = fmax(worst, fmax(param_orth(pv, vn), param_orth(pu, un)));
	}
	if (!(worst < 1e-6) || !(last < 0.8 * first)) {
		fprintf(stderr, "orthogonality %g, loss %g -> %g\n", worst, first, last);
		goto done;
	}
	if (train_forward(m, x, B))
		goto done;
	float logits[B * 4];
	memcpy(logits, train_logits(m), sizeof logits);
	train_write_back(m);
	double ov = konst_orth(vg, vn), ou = konst_orth(ug, un), moved = 0;
	for (int64_t e = 0; e < ug->konst->numel; e++)
		moved = fmax(moved, fabs(((double *)ug->konst->data)[e] - ug0[e]));
	if (!(ov < 1e-12 && ou < 1e-12 && moved > 1e-3) || vg->konst->dtype != IR_F64 ||
	    memcmp(fw0, fw->konst->data, sizeof fw0)) {
		fprintf(stderr, "write-back: orthogonality %g %g, moved %g\n", ov, ou, moved);
		goto done;
	}
	/* The graph passes its checks and computes what the engine did. */
	ir_tensor *xt = ir_tensor_new(NULL, IR_F32, 2, (int64_t[]){B, 6}), *yt = NULL;
	memcpy(xt->data, x, sizeof x);
	if (pass_infer(g) || interp_run(g, &xt, &yt)) {
		fprintf(stderr, "%s\n", g->err);
		ir_tensor_free(xt);
		goto done;
	}
	double d = 0;
	for (int i = 0; i < B * 4; i++)
		d = fmax(d, fabs(logits[i] - ((float *)yt->data)[i]));
	ir_tensor_free(xt);
	ir_tensor_free(yt);
	if (!(d < 1e-5)) {
		fprintf(stderr, "interpreter after write-back differs by %g\n", d);
		goto done;
	}
	if (out) {
		*nout = ug->konst->numel;
		*out = malloc((size_t)ug->konst->numel * sizeof **out);
		memcpy(*out, ug->konst->data, (size_t)ug->konst->numel * sizeof **out);
	}
	ok = 1;
done:
	free(ug0);
	optim_free(opt);
	train_free(m);
	ir_graph_free(g);
	return ok;
}

static void test_train_steps(void)
{
	double *a = NULL, *b = NULL;
	int64_t na = 0, nb = 0;
	ASSERT(train_steps(77, &a, &na));
	/* deterministic: the same run gives the same gates bit for bit */
	ASSERT(train_steps(77, &b, &nb));
	int same = na == nb && !memcmp(a, b, (size_t)na * sizeof *a);
	free(a);
	free(b);
	ASSERT(same);
}

/* Gates that are not trained are written back unchanged, bit for bit. */
static void test_write_back_frozen(void)
{
	uint64_t seed = 8;
	ir_graph *g = layer_graph(&seed, 0, 6);
	ASSERT(g);
	ir_value *vg = ir_value_find(g, "layer/V.gates");
	int64_t nv = vg->konst->numel;
	double *v0 = malloc((size_t)nv * sizeof *v0);
	memcpy(v0, vg->konst->data, (size_t)nv * sizeof *v0);
	train_opts o = {.scope = TRAIN_NONE};
	train_model *m = train_new(g, &o);
	ASSERT(m);
	ASSERT(train_set_trainable(m, "layer/U", 1) == 2); /* U's gates and bias */
	float x[10];
	uint8_t lab[2] = {1, 4};
	for (int i = 0; i < 10; i++)
		x[i] = (float)ot_rand(&seed);
	double L;
	ASSERT(train_forward(m, x, 2) == 0 && train_loss(m, lab, &L, NULL) == 0);
	ASSERT(train_backward(m) == 0);
	for (int i = 0; i < train_nparams(m); i++) {
		train_param *p = train_param_at(m, i);
		if (!p->trainable)
			continue;
		for (int64_t e = 0; e < p->numel; e++)
			p->w[e] -= 0.1f * p->g[e];
	}
	ASSERT(train_project(m) == 0);
	train_write_back(m);
	int same = !memcmp(v0, vg->konst->data, (size_t)nv * sizeof *v0);
	free(v0);
	train_free(m);
	ASSERT(pass_infer(g) == 0); /* U's new gates are orthogonal */
	ir_graph_free(g);
	ASSERT(same);
}

/* train_fit projects after every step: 4×4 images -> Flatten -> Circuit
 * (16 -> 4 classes, bias); the loss falls and the gates stay orthogonal. */
static void test_train_fit(void)
{
	uint64_t seed = 1234;
	dis_circuit *c = random_circuit(4, 2, 3, DIS_BRICK, 1, &seed);
	ASSERT(c);
	ir_graph *g = ir_graph_new("fit");
	ir_value *x = ir_value_new(g, "x"), *f = ir_value_new(g, "f"), *y = ir_value_new(g, "y");
	x->dtype = IR_F32;
	x->shape.rank = 4;
	x->shape.d[0] = (ir_dim){-1, "N"};
	x->shape.d[1].v = 1;
	x->shape.d[2].v = x->shape.d[3].v = 4;
	ir_graph_add_input(g, x);
	ir_graph_add_output(g, y);
	ir_node *fl = ir_node_new(g, IR_OP_Flatten, "flat", 1, &x, 1, &f);
	ot_int(g, fl, "axis", 1);
	double b[4] = {0};
	ir_node *cn = add_circuit(g, "circ", f, y, c, 4, 16, 0, b, IR_F32, NULL);
	dis_circuit_free(c);
	ASSERT(pass_infer(g) == 0);
	ds_set d = {DS_MNIST, 512, 1, 4, 4, 4, malloc(512 * 16), malloc(512)};
	ds_rng r;
	ds_rng_seed(&r, 5);
	for (int64_t i = 0; i < d.n; i++) { /* class: the brightest quadrant */
		double q[4] = {0};
		for (int j = 0; j < 16; j++) {
			uint8_t p = (uint8_t)ds_rng_below(&r, 256);
			d.pixels[i * 16 + j] = p;
			q[(j / 8) * 2 + (j % 4) / 2] += p;
		}
		int best = 0;
		for (int k = 1; k < 4; k++)
			best = q[k] > q[best] ? k : best;
		d.labels[i] = (uint8_t)best;
	}
	train_model *m = train_new(g, &(train_opts){.scope = TRAIN_LAYER});
	ASSERT(m);
	train_config cfg;
	train_config_defaults(&cfg);
	cfg.epochs = 4;
	cfg.batch = 32;
	cfg.optim.lr = 0.02;
	cfg.quiet = 1;
	static const ds_preprocess pp = {DS_PRE_MEAN_STD, 1, {0.5f}, {0.25f}};
	cfg.pp = &pp;
	train_epoch_stats st[4];
	int rc = train_fit(m, &d, NULL, &cfg, st);
	if (rc)
		fprintf(stderr, "%s\n", g->err);
	train_param *pg = NULL;
	for (int i = 0; i < train_nparams(m); i++)
		if (!strcmp(train_param_at(m, i)->name, "circ.gates"))
			pg = train_param_at(m, i);
	double orth = pg ? param_orth(pg, cn) : INFINITY;
	train_free(m);
	free(d.pixels);
	free(d.labels);
	ir_graph_free(g);
	ASSERT(rc == 0);
	ASSERT(orth < 1e-6);
	ASSERT(st[3].loss < st[0].loss);
}

TEST_MAIN({"kernels", test_kernels}, {"apply_f64", test_apply_f64}, {"interp", test_interp},
	  {"text_round_trip", test_text_round_trip}, {"diagnostics", test_diagnostics},
	  {"runtime_gates", test_runtime_gates}, {"train_gradients", test_train_gradients},
	  {"train_steps", test_train_steps}, {"write_back_frozen", test_write_back_frozen},
	  {"train_fit", test_train_fit})
