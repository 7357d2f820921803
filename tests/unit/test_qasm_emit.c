/* test_qasm_emit.c - the OpenQASM emitter (backend/qasm.c): emitted
 * programs, read back and simulated by the runtime (libqnnrt), act as the
 * product of the input gates embedded with DESIGN §2's site order; the state
 * preparation inputs prepare qnn_stateprep_angles' vector; the native-basis
 * (isa) and OpenQASM 2 forms have the same amplitudes as the portable
 * program; the read-out stage has the amplitudes DESIGN §6 predicts; bad
 * input is refused with a message. */
#include <stdint.h>

#include "../../backend/qasm.h"
#include "../../passes/la.h"
#include "../../passes/synth.h"
#include "../../runtime/qnnrt.h"
#include "embed.h"
#include "haar.h"
#include "test.h"

/* Emit into a NUL-terminated heap string (NULL on failure, message in err). */
static char *emit_any(const qasm_gate *g, int ng, int n, const qasm_options *o, const double *theta,
		      int v2, char *err, size_t errlen)
{
	FILE *f = tmpfile();
	if (!f)
		return NULL;
	char *text = NULL;
	int rc = v2 ? qasm_emit_circuit2(f, g, ng, n, o, theta, err, errlen)
		    : qasm_emit_circuit(f, g, ng, n, o, err, errlen);
	if (rc == 0) {
		long len = ftell(f);
		text = len >= 0 ? malloc((size_t)len + 1) : NULL;
		rewind(f);
		if (text && fread(text, 1, (size_t)len, f) == (size_t)len)
			text[len] = '\0';
		else {
			free(text);
			text = NULL;
		}
	}
	fclose(f);
	return text;
}

static char *emit(const qasm_gate *g, int ng, int n, const qasm_options *o, char *err, size_t errlen)
{
	return emit_any(g, ng, n, o, NULL, 0, err, errlen);
}

/* Random circuit of ng gates with k in 1..kmax on n qubits; Us holds the
 * matrices (64 × 64 doubles per gate). Returns the expected 2^n × 2^n matrix. */
static double *random_circuit(qasm_gate *g, double *Us, int ng, int n, int kmax)
{
	long N = 1L << n;
	double *M = calloc((size_t)(N * N), sizeof *M);
	for (long i = 0; i < N; i++)
		M[i * N + i] = 1;
	for (int i = 0; i < ng; i++) {
		int k = 1 + (int)(urand() * kmax);
		if (k > n)
			k = n;
		g[i].k = k;
		g[i].site = 1 + (int)(urand() * (n - k + 1));
		g[i].U = Us + (size_t)i * 4096;
		/* det -1 only where synthesis stays real (k <= 2) */
		int det = k <= 2 && urand() < 0.5 ? -1 : 1;
		if (haar(Us + (size_t)i * 4096, 1 << k, det))
			return free(M), NULL;
		apply_embedded(M, n, &g[i]);
	}
	return M;
}

static void test_matrix_action(void)
{
	rng_state = 12345;
	for (int trial = 0; trial < 8; trial++) {
		int n = 3 + trial % 4, ng = 3 + trial % 2;
		long N = 1L << n;
		qasm_gate g[4];
		double *Us = malloc((size_t)4 * 4096 * sizeof *Us);
		double *M = random_circuit(g, Us, ng, n, 3);
		ASSERT(M);
		qasm_stats st;
		qasm_options o = {0, 0, &st, 0, 0};
		char err[256];
		char *text = emit(g, ng, n, &o, err, sizeof err);
		if (!text)
			fprintf(stderr, "emit: %s\n", err);
		ASSERT(text);
		ASSERT(strncmp(text, "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n", 38) == 0);
		ASSERT(!strstr(text, "measure"));
		ASSERT(!strstr(text, "input"));
		qnn_program *p = qnn_program_parse(text, strlen(text), "emitted", err, sizeof err);
		if (!p)
			fprintf(stderr, "parse: %s\n%s", err, text);
		ASSERT(p);
		ASSERT(qnn_program_nqubits(p) == n);
		ASSERT(qnn_program_nbits(p) == n);
		ASSERT(qnn_program_ninputs(p) == 0);
		ASSERT(qnn_program_ngates(p) == st.cx + st.oneq);
		ASSERT(st.prep_cx == 0 && st.prep_oneq == 0 && st.ninputs == 0);
		int cplx = !qnn_program_is_real(p);
		double maxerr = 0;
		for (long b = 0; b < N; b++) {
			qnn_state *s = qnn_state_new(n, cplx);
			ASSERT(s);
			qnn_state_set_basis(s, (uint64_t)b);
			int rc = qnn_program_apply(p, NULL, 0, s, err, sizeof err);
			if (rc)
				fprintf(stderr, "apply: %s\n", err);
			ASSERT(rc == 0);
			const double *re = qnn_state_real(s), *im = qnn_state_imag(s);
			for (long i = 0; i < N; i++) {
				maxerr = fmax(maxerr, fabs(re[i] - M[i * N + b]));
				if (im)
					maxerr = fmax(maxerr, fabs(im[i]));
			}
			qnn_state_free(s);
		}
		qnn_program_free(p);
		free(text);
		free(M);
		free(Us);
		ASSERT_NEAR(maxerr, 0, 1e-10);
	}
}

/* The site order pinned by hand: X on site 1 of 3 qubits flips the most
 * significant bit, i.e. q[2] (|000> -> |100>, index 4). */
static void test_site_order(void)
{
	static const double X[4] = {0, 1, 1, 0};
	ASSERT(qasm_qubit_of_site(1, 3) == 2 && qasm_qubit_of_site(3, 3) == 0);
	qasm_gate g = {1, 1, X};
	char err[256];
	char *text = emit(&g, 1, 3, NULL, err, sizeof err);
	ASSERT(text);
	ASSERT_STR_CONTAINS(text, "q[2];");
	ASSERT(!strstr(text, "q[0];") && !strstr(text, "q[1];"));
	ASSERT_STR_CONTAINS(text, "c = measure q;\n"); /* default options measure */
	qnn_program *p = qnn_program_parse(text, strlen(text), NULL, err, sizeof err);
	ASSERT(p);
	qnn_state *s = qnn_state_new(3, 1);
	ASSERT(s);
	ASSERT(qnn_program_apply(p, NULL, 0, s, err, sizeof err) == 0);
	ASSERT_NEAR(hypot(qnn_state_real(s)[4], qnn_state_imag(s)[4]), 1, 1e-12);
	qnn_state_free(s);
	qnn_program_free(p);
	free(text);
}

static void test_stateprep(void)
{
	rng_state = 777;
	for (int trial = 0; trial < 4; trial++) {
		int n = 3 + trial, ng = 3;
		long N = 1L << n;
		qasm_gate g[3];
		double *Us = malloc((size_t)3 * 4096 * sizeof *Us);
		double *M = random_circuit(g, Us, ng, n, 3);
		ASSERT(M);
		double *v = malloc((size_t)N * sizeof *v), *theta = malloc((size_t)N * sizeof *theta);
		double nv = 0;
		for (long i = 0; i < N; i++)
			v[i] = gauss(), nv += v[i] * v[i];
		nv = sqrt(nv);
		for (long i = 0; i < N; i++)
			v[i] /= nv;
		ASSERT(qnn_stateprep_angles(v, n, theta) == 0);

		qasm_stats st;
		qasm_options o = {1, 1, &st, 0, 0};
		char err[256];
		char *text = emit(g, ng, n, &o, err, sizeof err);
		ASSERT(text);
		ASSERT_STR_CONTAINS(text, "input float[64] theta0;\n");
		ASSERT(text[strlen(text) - 1] == '\n');
		ASSERT(strcmp(text + strlen(text) - 15, "c = measure q;\n") == 0);

		/* The preparation is the runtime's documented sequence, verbatim. */
		long np = qnn_stateprep_gates(n, NULL);
		qnn_prep_gate *pg = malloc((size_t)np * sizeof *pg);
		ASSERT(qnn_stateprep_gates(n, pg) == np);
		size_t cap = (size_t)np * 40 + 1, len = 0;
		char *want = malloc(cap);
		long pcx = 0;
		for (long i = 0; i < np; i++) {
			if (pg[i].control < 0)
				len += (size_t)snprintf(want + len, cap - len, "ry(theta%d) q[%d];\n",
							pg[i].angle, pg[i].target);
			else
				len += (size_t)snprintf(want + len, cap - len, "cx q[%d], q[%d];\n",
							pg[i].control, pg[i].target), pcx++;
		}
		ASSERT_STR_CONTAINS(text, want);
		ASSERT(st.prep_cx == pcx && st.prep_oneq == np - pcx && st.ninputs == N - 1);
		free(want);
		free(pg);

		qnn_program *p = qnn_program_parse(text, strlen(text), "emitted", err, sizeof err);
		if (!p)
			fprintf(stderr, "parse: %s\n", err);
		ASSERT(p);
		ASSERT(qnn_program_ninputs(p) == N - 1);
		ASSERT(qnn_program_input_index(p, "theta0") == 0);
		ASSERT(qnn_program_ngates(p) == st.cx + st.oneq);
		qnn_state *s = qnn_state_new(n, !qnn_program_is_real(p));
		ASSERT(s);
		int rc = qnn_program_apply(p, theta, (int)(N - 1), s, err, sizeof err);
		if (rc)
			fprintf(stderr, "apply: %s\n", err);
		ASSERT(rc == 0);
		double maxerr = 0;
		const double *re = qnn_state_real(s), *im = qnn_state_imag(s);
		for (long i = 0; i < N; i++) {
			double want_i = 0;
			for (long j = 0; j < N; j++)
				want_i += M[i * N + j] * v[j];
			maxerr = fmax(maxerr, fabs(re[i] - want_i));
			if (im)
				maxerr = fmax(maxerr, fabs(im[i]));
		}
		qnn_state_free(s);
		qnn_program_free(p);
		free(text);
		free(v);
		free(theta);
		free(M);
		free(Us);
		ASSERT_NEAR(maxerr, 0, 1e-10);
	}
}

static void expect_error(const qasm_gate *g, int ng, int n, const qasm_options *o, const char *msg)
{
	char err[256];
	FILE *f = tmpfile();
	ASSERT(f);
	int rc = qasm_emit_circuit(f, g, ng, n, o, err, sizeof err);
	long len = ftell(f);
	fclose(f);
	ASSERT(rc == -1);
	ASSERT(len == 0); /* nothing written on bad input */
	ASSERT_STR_CONTAINS(err, msg);
}

static void test_errors(void)
{
	static const double I2[4] = {1, 0, 0, 1};
	static const double bad[4] = {1, 1, 0, 1};
	double nan2[4] = {1, 0, 0, NAN};
	qasm_gate g = {1, 1, I2};
	qasm_options sp = {1, 0, NULL, 0, 0};
	expect_error(&g, 1, 0, NULL, "0 qubits");
	expect_error(&g, 1, 31, &sp, "state preparation on 31 qubits");
	g.site = 3;
	expect_error(&g, 1, 2, NULL, "sites 3..3 outside");
	g.site = 1;
	g.k = 7;
	expect_error(&g, 1, 8, NULL, "7 qubits, expected 1 to 6");
	g.k = 1;
	g.U = nan2;
	expect_error(&g, 1, 2, NULL, "not finite");
	g.U = NULL;
	expect_error(&g, 1, 2, NULL, "no matrix");
	/* Not orthogonal: caught by synthesis, after the header went out. */
	g.U = bad;
	char err[256];
	FILE *f = tmpfile();
	ASSERT(f);
	ASSERT(qasm_emit_circuit(f, &g, 1, 2, NULL, err, sizeof err) == -1);
	fclose(f);
	ASSERT_STR_CONTAINS(err, "gate 0 (1 qubits on sites 1..1): synthesis failed");
}

/* ng random gates (k in 1..kmax, either determinant: det -1 with k >= 3
 * brings p gates into the synthesis) on n qubits; matrices in Us (4096
 * doubles per gate). */
static void random_gates(qasm_gate *g, double *Us, int ng, int n, int kmax)
{
	for (int i = 0; i < ng; i++) {
		int k = 1 + (int)(urand() * kmax);
		if (k > n)
			k = n;
		g[i].k = k;
		g[i].site = 1 + (int)(urand() * (n - k + 1));
		g[i].U = Us + (size_t)i * 4096;
		ASSERT(haar(Us + (size_t)i * 4096, 1 << k, urand() < 0.5 ? -1 : 1) == 0);
	}
}

/* Parse text, check its shape, run it with inputs, amplitudes into re/im. */
static void run_amps(const char *text, const double *in, int nin, int nq, double *re, double *im)
{
	char err[256];
	qnn_program *p = qnn_program_parse(text, strlen(text), "emitted", err, sizeof err);
	if (!p)
		fprintf(stderr, "parse: %s\n%s", err, text);
	ASSERT(p);
	ASSERT(qnn_program_nqubits(p) == nq);
	ASSERT(qnn_program_ninputs(p) == nin);
	qnn_result res;
	memset(&res, 0, sizeof res);
	res.amp_re = re;
	res.amp_im = im;
	res.amps_len = (size_t)1 << nq;
	int rc = qnn_program_run(p, in, nin, 0, 0, &res);
	if (rc)
		fprintf(stderr, "run: %s\n", res.err);
	ASSERT(rc == 0);
	qnn_program_free(p);
}

/* Every statement of text is one of the listed forms (first word). */
static void only_statements(const char *text, const char *const *ok)
{
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		size_t len = strcspn(l, " (;[\n");
		int found = 0;
		for (int i = 0; ok[i]; i++)
			found |= strlen(ok[i]) == len && !strncmp(l, ok[i], len);
		if (!found)
			fprintf(stderr, "unexpected statement: %.*s\n", (int)strcspn(l, "\n"), l);
		ASSERT(found);
		ASSERT(strchr(l, '\n'));
	}
}

static double max_diff(const double *a, const double *b, long n)
{
	double m = 0;
	for (long i = 0; i < n; i++)
		m = fmax(m, fabs(a[i] - b[i]));
	return m;
}

/* A random vector's preparation angles (2^n - 1, heap). */
static double *random_angles(int n)
{
	long N = 1L << n;
	double *v = malloc((size_t)N * sizeof *v), *theta = malloc((size_t)N * sizeof *theta);
	for (long i = 0; i < N; i++)
		v[i] = gauss();
	int rc = qnn_stateprep_angles(v, n, theta);
	free(v);
	return rc ? (free(theta), NULL) : theta;
}

/* The native basis: only rz, sx, x, cx on $k (plus one gphase), and the
 * same amplitudes as the portable program, with and without preparation
 * and in the read-out form. */
static void test_isa(void)
{
	static const char *const ok[] = {"OPENQASM", "include", "//", "bit", "input", "rz", "sx",
					 "x", "cx", "gphase", "c", "barrier", NULL};
	rng_state = 4242;
	for (int trial = 0; trial < 10; trial++) {
		int n = 1 + trial % 5, ng = 2 + trial % 3;
		int prep = trial % 3 != 0, readout = trial % 4 == 3, nq = n + readout;
		long N = 1L << nq;
		qasm_gate g[4];
		double *Us = malloc((size_t)4 * 4096 * sizeof *Us);
		random_gates(g, Us, ng, n, 3);
		qasm_stats s3, si;
		qasm_options o3 = {prep, trial % 2, &s3, readout, 0}, oi = o3;
		oi.isa = 1;
		oi.stats = &si;
		char err[256];
		char *t3 = emit(g, ng, n, &o3, err, sizeof err);
		char *ti = emit(g, ng, n, &oi, err, sizeof err);
		if (!ti)
			fprintf(stderr, "emit: %s\n", err);
		ASSERT(t3 && ti);
		only_statements(ti, ok);
		ASSERT(!strstr(ti, "qubit[") && !strstr(ti, "q["));
		ASSERT(strstr(ti, "$0"));
		int has_prep = prep || readout, nin = has_prep ? (int)(N - 1) : 0;
		if (has_prep) {
			ASSERT_STR_CONTAINS(ti, "rz(theta0 + pi) $");
			ASSERT(si.ninputs == nin && si.prep_cx == s3.prep_cx);
		}
		if (o3.measure || readout) {
			char want[64];
			snprintf(want, sizeof want, "c[%d] = measure $%d;\n", nq - 1, nq - 1);
			ASSERT_STR_CONTAINS(ti, "c[0] = measure $0;\n");
			ASSERT_STR_CONTAINS(ti, want);
		}
		double *theta = has_prep ? random_angles(nq) : NULL;
		ASSERT(theta || !has_prep);
		double *a = malloc((size_t)N * 4 * sizeof *a);
		run_amps(t3, theta, nin, nq, a, a + N);
		run_amps(ti, theta, nin, nq, a + 2 * N, a + 3 * N);
		ASSERT_NEAR(max_diff(a, a + 2 * N, 2 * N), 0, 1e-10);
		/* Counts: every native gate is counted, gphase is not. */
		qnn_program *p = qnn_program_parse(ti, strlen(ti), NULL, err, sizeof err);
		ASSERT(p);
		ASSERT(qnn_program_ngates(p) == si.cx + si.oneq + (strstr(ti, "gphase(") != NULL));
		qnn_program_free(p);
		free(a);
		free(theta);
		free(t3);
		free(ti);
		free(Us);
	}
	/* An idle top qubit still belongs to the program. */
	static const double X[4] = {0, 1, 1, 0};
	qasm_gate x = {1, 4, X};
	qasm_options o = {0, 0, NULL, 0, 1};
	char err[256];
	char *t = emit(&x, 1, 4, &o, err, sizeof err);
	ASSERT(t);
	ASSERT_STR_CONTAINS(t, "x $0;\n");
	double re[16], im[16];
	run_amps(t, NULL, 0, 4, re, im);
	ASSERT_NEAR(re[1], 1, 1e-15);
	free(t);
}

/* The signed read-out stage: amp(a, j) = ((Q x^)_j + (-1)^a u_j) / 2 with
 * the preparation of [x^ ; Q^T u] / sqrt(2) (DESIGN §6). */
static void test_readout(void)
{
	rng_state = 99;
	for (int q = 1; q <= 4; q++) {
		long d = 1L << q, D = 2 * d;
		int ng = 1 + q % 3;
		qasm_gate g[3];
		double *Us = malloc((size_t)3 * 4096 * sizeof *Us);
		double *Q = random_circuit(g, Us, ng, q, 3);
		ASSERT(Q);
		qasm_stats st;
		qasm_options o = {0, 0, &st, 1, 0};
		char err[256];
		char *text = emit(g, ng, q, &o, err, sizeof err);
		if (!text)
			fprintf(stderr, "emit: %s\n", err);
		ASSERT(text);
		ASSERT_STR_CONTAINS(text, "// Signed read-out stage");
		char want[64];
		snprintf(want, sizeof want, "qubit[%d] q;\nbit[%d] c;\n", q + 1, q + 1);
		ASSERT_STR_CONTAINS(text, want);
		snprintf(want, sizeof want, "input float[64] theta%ld;\n", D - 2);
		ASSERT_STR_CONTAINS(text, want);
		snprintf(want, sizeof want, "h q[%d];\nc = measure q;\n", q);
		ASSERT_STR_CONTAINS(text, want);
		ASSERT(st.ninputs == D - 1 && st.prep_oneq == D - 1 && st.prep_cx == D - 2);

		double *x = malloc((size_t)d * sizeof *x), *w = malloc((size_t)D * sizeof *w);
		double *th = malloc((size_t)D * sizeof *th), *amp = malloc((size_t)D * 2 * sizeof *amp);
		double nx = 0, u = 1 / sqrt((double)d);
		for (long j = 0; j < d; j++)
			x[j] = gauss(), nx += x[j] * x[j];
		nx = sqrt(nx);
		for (long j = 0; j < d; j++) {
			w[j] = x[j] / nx;
			w[d + j] = 0;
			for (long i = 0; i < d; i++)
				w[d + j] += Q[i * d + j] * u; /* r = Q^T u */
		}
		ASSERT(qnn_stateprep_angles(w, q + 1, th) == 0);
		run_amps(text, th, (int)(D - 1), q + 1, amp, amp + D);
		qnn_program *p = qnn_program_parse(text, strlen(text), NULL, err, sizeof err);
		ASSERT(p && qnn_program_ngates(p) == st.cx + st.oneq);
		qnn_program_free(p);
		double worst = 0;
		for (long j = 0; j < d; j++) {
			double qx = 0;
			for (long i = 0; i < d; i++)
				qx += Q[j * d + i] * x[i] / nx;
			worst = fmax(worst, fabs(amp[j] - (qx + u) / 2));
			worst = fmax(worst, fabs(amp[d + j] - (qx - u) / 2));
			worst = fmax(worst, fabs(amp[D + j]) + fabs(amp[D + d + j]));
		}
		ASSERT_NEAR(worst, 0, 1e-10);
		free(x);
		free(w);
		free(th);
		free(amp);
		free(Q);
		free(Us);
		free(text);
	}
}

/* OpenQASM 2 with bound angles: qelib1 names only, and the amplitudes of
 * the OpenQASM 3 program with its inputs bound. */
static void test_qasm2(void)
{
	static const char *const ok[] = {"OPENQASM", "include", "//", "qreg", "creg", "ry", "x",
					 "z", "u1", "h", "cx", "measure", NULL};
	rng_state = 2718;
	int saw_u1 = 0;
	for (int trial = 0; trial < 8; trial++) {
		int n = 2 + trial % 4, ng = 2 + trial % 2;
		int prep = trial % 2 == 0 || trial == 7, readout = trial % 4 == 2, nq = n + readout;
		long N = 1L << nq;
		qasm_gate g[3];
		double *Us = malloc((size_t)3 * 4096 * sizeof *Us);
		random_gates(g, Us, ng, n, 3);
		qasm_stats s2, s3;
		qasm_options o3 = {prep, 1, &s3, readout, 0}, o2 = o3;
		o2.stats = &s2;
		int has_prep = prep || readout, nin = has_prep ? (int)(N - 1) : 0;
		double *theta = has_prep ? random_angles(nq) : NULL;
		ASSERT(theta || !has_prep);
		char err[256];
		char *t3 = emit(g, ng, n, &o3, err, sizeof err);
		char *t2 = emit_any(g, ng, n, &o2, theta, 1, err, sizeof err);
		if (!t2)
			fprintf(stderr, "emit2: %s\n", err);
		ASSERT(t3 && t2);
		ASSERT(strncmp(t2, "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n", 36) == 0);
		char want[80];
		snprintf(want, sizeof want, "qreg q[%d];\ncreg c[%d];\n", nq, nq);
		ASSERT_STR_CONTAINS(t2, want);
		snprintf(want, sizeof want, "measure q[%d] -> c[%d];\n", nq - 1, nq - 1);
		ASSERT_STR_CONTAINS(t2, want);
		ASSERT_STR_CONTAINS(t2, "measure q[0] -> c[0];\n");
		only_statements(t2, ok);
		ASSERT(!strstr(t2, "theta") && !strstr(t2, "input"));
		saw_u1 |= strstr(t2, "u1(") != NULL;
		if (has_prep) {
			snprintf(want, sizeof want, "ry(%.17g) q[%d];\n", theta[0], nq - 1);
			ASSERT_STR_CONTAINS(t2, want);
		}
		ASSERT(s2.cx == s3.cx && s2.oneq == s3.oneq && s2.prep_cx == s3.prep_cx &&
		       s2.ninputs == 0);
		double *a = malloc((size_t)N * 4 * sizeof *a);
		run_amps(t3, theta, nin, nq, a, a + N);
		run_amps(t2, NULL, 0, nq, a + 2 * N, a + 3 * N);
		ASSERT_NEAR(max_diff(a, a + 2 * N, 2 * N), 0, 1e-10);
		free(a);
		free(theta);
		free(t3);
		free(t2);
		free(Us);
	}
	ASSERT(saw_u1); /* a det -1 gate of 3 qubits came through as u1 */
}

static void expect_error2(const qasm_gate *g, int ng, int n, const qasm_options *o,
			  const double *theta, const char *msg)
{
	char err[256];
	FILE *f = tmpfile();
	ASSERT(f);
	int rc = qasm_emit_circuit2(f, g, ng, n, o, theta, err, sizeof err);
	long len = ftell(f);
	fclose(f);
	ASSERT(rc == -1);
	ASSERT(len == 0);
	ASSERT_STR_CONTAINS(err, msg);
}

static void test_errors_forms(void)
{
	static const double I2[4] = {1, 0, 0, 1};
	qasm_gate g = {1, 1, I2};
	qasm_options ro = {0, 0, NULL, 1, 0}, roi = {0, 0, NULL, 1, 1}, sp = {1, 1, NULL, 0, 0};
	expect_error(&g, 1, 30, &ro, "read-out stage on 30 data qubits: expected 1 to 29");
	expect_error(&g, 1, 0, &roi, "read-out stage on 0 data qubits");
	double th[3] = {0.1, NAN, 0.3};
	expect_error2(&g, 1, 2, &sp, NULL, "needs its 3 angles");
	expect_error2(&g, 1, 2, &sp, th, "theta1 is not finite");
	expect_error2(&g, 1, 2, &ro, th, "theta1 is not finite"); /* read-out: 2 qubits + ancilla */
	g.site = 2;
	expect_error2(&g, 1, 1, &ro, NULL, "sites 2..2 outside the register of 1 qubits");
}

/* Depth: Ry gates on three different qubits form one layer; a 2-qubit
 * gate after them adds its CX layers; the state preparation of 3 qubits is
 * one chain on the top qubit's controls (depth counted, not circuit_depth). */
static void test_depth(void)
{
	double r[3][4], cx2[16];
	for (int i = 0; i < 3; i++) {
		double a = 0.3 + 0.2 * i;
		r[i][0] = cos(a), r[i][1] = -sin(a), r[i][2] = sin(a), r[i][3] = cos(a);
	}
	/* CX with control on the gate's qubit 1 (site 1): det -1, a bare CX. */
	for (int i = 0; i < 16; i++)
		cx2[i] = 0;
	cx2[0 * 4 + 0] = cx2[1 * 4 + 1] = cx2[2 * 4 + 3] = cx2[3 * 4 + 2] = 1;
	qasm_gate g[3] = {{1, 1, r[0]}, {1, 2, r[1]}, {1, 3, r[2]}};
	qasm_stats st;
	qasm_options o = {.measure = 1, .stats = &st};
	char err[256];
	char *t = emit_any(g, 3, 3, &o, NULL, 0, err, sizeof err);
	ASSERT(t != NULL);
	ASSERT(st.oneq == 3 && st.cx == 0);
	ASSERT(st.depth == 1 && st.circuit_depth == 1);
	free(t);
	qasm_gate g2[4] = {{1, 1, r[0]}, {1, 2, r[1]}, {1, 3, r[2]}, {2, 1, cx2}};
	t = emit_any(g2, 4, 3, &o, NULL, 0, err, sizeof err);
	ASSERT(t != NULL);
	/* The 2-qubit gate waits for both of its qubits: depth >= 2, and at
	 * most one step per gate emitted on those two qubits. */
	ASSERT(st.circuit_depth >= 2 && st.circuit_depth <= st.oneq + st.cx);
	ASSERT(st.depth == st.circuit_depth);
	free(t);
	o.stateprep = 1;
	t = emit_any(g, 3, 3, &o, NULL, 0, err, sizeof err);
	ASSERT(t != NULL);
	/* The preparation (7 ry, 6 cx) is sequential on q[0] except its first
	 * stages; the circuit's Ry layer comes after it. */
	ASSERT(st.circuit_depth == 1);
	ASSERT(st.depth > st.circuit_depth && st.depth <= st.oneq + st.cx);
	free(t);
}

TEST_MAIN({"depth", test_depth}, {"matrix_action", test_matrix_action}, {"site_order", test_site_order},
	  {"stateprep", test_stateprep}, {"errors", test_errors}, {"isa", test_isa},
	  {"readout", test_readout}, {"qasm2", test_qasm2}, {"errors_forms", test_errors_forms})
