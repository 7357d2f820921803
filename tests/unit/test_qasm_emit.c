/* test_qasm_emit.c - the OpenQASM 3 emitter (backend/qasm.c): emitted
 * programs, read back and simulated by the runtime (libqnnrt), act as the
 * product of the input gates embedded with DESIGN §2's site order; the state
 * preparation inputs prepare qnn_stateprep_angles' vector; bad input is
 * refused with a message. */
#include <stdint.h>

#include "../../backend/qasm.h"
#include "../../passes/la.h"
#include "../../passes/synth.h"
#include "../../runtime/qnnrt.h"
#include "haar.h"
#include "test.h"

/* Emit into a NUL-terminated heap string (NULL on failure, message in err). */
static char *emit(const qasm_gate *g, int ng, int n, const qasm_options *o, char *err, size_t errlen)
{
	FILE *f = tmpfile();
	if (!f)
		return NULL;
	char *text = NULL;
	if (qasm_emit_circuit(f, g, ng, n, o, err, errlen) == 0) {
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

/* Independent embedding, from DESIGN §2 alone: basis index
 * i = Σ_t i_t 2^(n-t) over register sites t = 1..n, and a k-qubit gate's own
 * index r = Σ_l r_l 2^(k-l) over its local sites l = 1..k, local site l
 * being register site s+l-1. M := G_embedded · M. */
static void apply_embedded(double *M, int n, const qasm_gate *g)
{
	long N = 1L << n, d = 1L << g->k;
	double *col = malloc((size_t)N * sizeof *col);
	for (long c = 0; c < N; c++) {
		for (long i = 0; i < N; i++)
			col[i] = 0;
		for (long x = 0; x < N; x++) {
			double a = M[x * N + c];
			if (a == 0)
				continue;
			long r = 0, rest = x;
			for (int l = 1; l <= g->k; l++) {
				int pos = n - (g->site + l - 1);
				r |= ((x >> pos) & 1) << (g->k - l);
				rest &= ~(1L << pos);
			}
			for (long r2 = 0; r2 < d; r2++) {
				long y = rest;
				for (int l = 1; l <= g->k; l++)
					y |= ((r2 >> (g->k - l)) & 1) << (n - (g->site + l - 1));
				col[y] += g->U[r2 * d + r] * a;
			}
		}
		for (long i = 0; i < N; i++)
			M[i * N + c] = col[i];
	}
	free(col);
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
		qasm_options o = {0, 0, &st};
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
		qasm_options o = {1, 1, &st};
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
	qasm_options sp = {1, 0, NULL};
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

TEST_MAIN({"matrix_action", test_matrix_action}, {"site_order", test_site_order},
	  {"stateprep", test_stateprep}, {"errors", test_errors})
