/* test_qasm.c - the OpenQASM 3 reader of libqnnrt (runtime/qasm*.{c,l,y}):
 * what parses and what it means (registers, broadcast, gate definitions,
 * modifiers, expressions, measurement forms), the flat writer's round
 * trip, error messages with line:col, and a small fuzz for crashes. */
#include <stdint.h>

#include "../../runtime/qnnrt.h"
#include "test.h"

static qnn_program *parse(const char *src, char *err, size_t errlen)
{
	return qnn_program_parse(src, strlen(src), "prog.qasm", err, errlen);
}

/* Final amplitudes of p for inputs in (complex state, all 2^n). */
static int amps(const qnn_program *p, const double *in, int nin, double *re, double *im)
{
	int n = qnn_program_nqubits(p);
	qnn_state *s = qnn_state_new(n, 1);
	char err[256];
	int r = qnn_program_apply(p, in, nin, s, err, sizeof err);
	if (r)
		fprintf(stderr, "apply: %s\n", err);
	memcpy(re, qnn_state_real(s), sizeof(double) << n);
	memcpy(im, qnn_state_imag(s), sizeof(double) << n);
	qnn_state_free(s);
	return r;
}

/* Unitary of p (column c = image of |c>), D = 2^n. */
static void unitary(const qnn_program *p, double *ur, double *ui)
{
	int n = qnn_program_nqubits(p), D = 1 << n;
	qnn_state *s = qnn_state_new(n, 1);
	for (int c = 0; c < D; c++) {
		qnn_state_set_basis(s, (uint64_t)c);
		qnn_program_apply(p, NULL, 0, s, NULL, 0);
		for (int r = 0; r < D; r++) {
			ur[r * D + c] = qnn_state_real(s)[r];
			ui[r * D + c] = qnn_state_imag(s)[r];
		}
	}
	qnn_state_free(s);
}

static double unitary_diff(const char *a, const char *b)
{
	char err[256];
	qnn_program *pa = parse(a, err, sizeof err), *pb = parse(b, err, sizeof err);
	if (!pa || !pb) {
		fprintf(stderr, "parse: %s\n", err);
		qnn_program_free(pa);
		qnn_program_free(pb);
		return 1e9;
	}
	int D = 1 << qnn_program_nqubits(pa);
	double ar[64 * 64], ai[64 * 64], br[64 * 64], bi[64 * 64], d = 0;
	unitary(pa, ar, ai);
	unitary(pb, br, bi);
	for (int i = 0; i < D * D; i++)
		d = fmax(d, hypot(ar[i] - br[i], ai[i] - bi[i]));
	qnn_program_free(pa);
	qnn_program_free(pb);
	return d;
}

#define HDR "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n"

static void test_basic(void)
{
	char err[256];
	qnn_program *p = parse(HDR "input float[64] theta0;\ninput float theta1;\n"
				   "qubit[3] q;\nqubit r;\nbit[2] c;\nbit d;\n"
				   "// a comment\n/* and a\nblock one */\n"
				   "h q;\nry(theta0 * 2 - theta1) r;\ncx q[0], r;\n"
				   "c[0] = measure q[1];\nmeasure r -> d;\n",
			       err, sizeof err);
	if (!p)
		fprintf(stderr, "%s\n", err);
	ASSERT(p);
	ASSERT(qnn_program_nqubits(p) == 4);
	ASSERT(qnn_program_nbits(p) == 3);
	ASSERT(qnn_program_ninputs(p) == 2);
	ASSERT(!strcmp(qnn_program_input_name(p, 1), "theta1"));
	ASSERT(qnn_program_input_index(p, "theta0") == 0);
	ASSERT(qnn_program_input_index(p, "theta1") == 1);
	ASSERT(qnn_program_input_index(p, "nope") == -1);
	ASSERT(qnn_program_input_name(p, 2) == NULL);
	ASSERT(qnn_program_ngates(p) == 5); /* h broadcast to 3 */
	ASSERT(qnn_program_is_real(p));
	qnn_program_free(p);

	/* OpenQASM 2 forms */
	p = parse("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\n"
		  "U(pi/2, 0, pi) q[0];\nCX q[0], q[1];\nmeasure q -> c;\n",
		  err, sizeof err);
	ASSERT(p);
	ASSERT(qnn_program_nqubits(p) == 2 && qnn_program_nbits(p) == 2);
	qnn_program_free(p);
	/* no header at all, single quotes, empty statements */
	p = parse("include 'stdgates.inc';;\nqubit q; x q;", err, sizeof err);
	ASSERT(p);
	qnn_program_free(p);
	/* physical qubits */
	p = parse(HDR "bit[2] c;\nrz(0.5) $0;\nsx $3;\ncx $3, $0;\nc[1] = measure $3;\n", err,
		  sizeof err);
	ASSERT(p);
	ASSERT(qnn_program_nqubits(p) == 4);
	ASSERT(!qnn_program_is_real(p));
	qnn_program_free(p);
	/* bit[n] c = measure q; and unicode names */
	p = parse(HDR "qubit[2] q;\ngate g(θ) a { ry(θ/2) a; rz(π) a; }\ng(τ/4) q[1];\n"
		      "bit[2] c = measure q;\n",
		  err, sizeof err);
	if (!p)
		fprintf(stderr, "%s\n", err);
	ASSERT(p);
	qnn_program_free(p);
	p = parse("", err, sizeof err);
	ASSERT(p && qnn_program_nqubits(p) == 0);
	qnn_program_free(p);
}

/* The flat writer: writing, parsing the output and writing again gives
 * the same text and the same amplitudes. */
static void test_roundtrip(void)
{
	static const char *const progs[] = {
		HDR "input float[64] a;\ninput float[64] b;\nqubit[4] q;\nbit[4] c;\n"
		    "gate two(x, y) s, t { rx(x) s; cry(-y / 3) s, t; U(x, y, pi) t; gphase(x); }\n"
		    "gate three(z) u, v, w { two(z, z ** 2) u, w; ccx u, v, w; inv @ two(z, 1) v, u; }\n"
		    "h q;\ntwo(a, b) q[0], q[2];\nctrl @ three(sin(a) + cos(b)) q[3], q[0], q[1], q[2];\n"
		    "negctrl @ inv @ t q[1], q[2];\npow(2) @ sx q[3];\npow(-1) @ u3(a, -b, 0.25) q[0];\n"
		    "cu(a, b, 0.5, -0.5) q[1], q[3];\nctrl(2) @ negctrl @ rz(exp(a) / sqrt(2)) q[0], q[1], q[2], q[3];\n"
		    "u2(a, arctan(b)) q[2];\ncswap q[0], q[1], q[2];\nc = measure q;\n",
		HDR "qubit[3] q;\nbit[1] m;\nx q[0];\ny q[1];\nz q[2];\ns q[0];\nsdg q[1];\ntdg q[2];\n"
		    "id q[0];\nphase(0.1) q[1];\ncphase(0.2) q[1], q[2];\ncp(0.3) q[0], q[2];\ncy q[0], q[1];\n"
		    "ch q[1], q[2];\ncz q[0], q[2];\ncrx(1) q[0], q[1];\ncrz(2) q[1], q[0];\nswap q[0], q[2];\n"
		    "u1(0.7) q[0];\np(-0.7) q[1];\nctrl @ gphase(0.3) q[2];\nmeasure q[0];\nm[0] = measure q[2];\n",
	};
	for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		char err[256];
		qnn_program *p = parse(progs[i], err, sizeof err);
		if (!p)
			fprintf(stderr, "%s\n", err);
		ASSERT(p);
		long n = qnn_program_write(p, NULL, 0, NULL, 0);
		ASSERT(n > 0);
		char *t1 = malloc((size_t)n + 1), *t2 = malloc((size_t)n + 1);
		ASSERT(qnn_program_write(p, NULL, 0, t1, (size_t)n + 1) == n);
		qnn_program *q = qnn_program_parse(t1, (size_t)n, "flat.qasm", err, sizeof err);
		if (!q)
			fprintf(stderr, "%s\n%s\n", err, t1);
		ASSERT(q);
		ASSERT(qnn_program_write(q, NULL, 0, t2, (size_t)n + 1) == n);
		ASSERT(!strcmp(t1, t2));
		ASSERT(qnn_program_ngates(p) == qnn_program_ngates(q));
		double in[2] = {0.37, -1.21};
		int nin = qnn_program_ninputs(p);
		double ar[16], ai[16], br[16], bi[16];
		ASSERT(amps(p, in, nin, ar, ai) == 0 && amps(q, in, nin, br, bi) == 0);
		for (int k = 0; k < 1 << qnn_program_nqubits(p); k++) {
			ASSERT_NEAR(ar[k], br[k], 1e-14);
			ASSERT_NEAR(ai[k], bi[k], 1e-14);
		}
		/* with the inputs inlined: no input declarations, same state */
		long m = qnn_program_write(p, in, nin, NULL, 0);
		char *t3 = malloc((size_t)m + 1);
		ASSERT(qnn_program_write(p, in, nin, t3, (size_t)m + 1) == m);
		qnn_program *r = qnn_program_parse(t3, (size_t)m, "inlined.qasm", err, sizeof err);
		free(t3);
		ASSERT(r && qnn_program_ninputs(r) == 0);
		ASSERT(amps(r, NULL, 0, br, bi) == 0);
		for (int k = 0; k < 1 << qnn_program_nqubits(p); k++) {
			ASSERT_NEAR(ar[k], br[k], 1e-14);
			ASSERT_NEAR(ai[k], bi[k], 1e-14);
		}
		/* a too-short buffer is truncated and terminated, length still full */
		char small[10];
		ASSERT(qnn_program_write(p, NULL, 0, small, sizeof small) == n);
		ASSERT(strlen(small) == sizeof small - 1);
		qnn_program_free(r);
		qnn_program_free(q);
		qnn_program_free(p);
		free(t1);
		free(t2);
	}
}

static void test_expressions(void)
{
	/* every function and operator, checked through p(λ) = diag(1, e^{iλ}) */
	static const struct {
		const char *e;
		double v;
	} cases[] = {
		{"1 + 2 * 3", 7},
		{"-2 ** 2", -4},
		{"2 ** 3 ** 2", 512},
		{"(1 + 2) * 3 / 4", 2.25},
		{"7 % 3", 1},
		{"mod(-7, 3)", -1},
		{"pow(2, 0.5)", 1.4142135623730951},
		{"sin(pi / 6) + cos(0) + tan(0)", 1.5},
		{"exp(1) - euler", 0},
		{"ln(euler ** 2) + log(1)", 2},
		{"sqrt(16) + arccos(1) + arcsin(0) + arctan(1) * 4 / pi", 5},
		{"floor(2.7) + ceiling(2.2)", 5},
		{"π + tau - 3 * pi", 0},
		{"1.5e-1 + .25 + 1e1 + 2.", 12.4},
		{"+3 - -2", 5},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char src[256], err[256];
		snprintf(src, sizeof src, HDR "qubit q;\np(%s) q;\n", cases[i].e);
		qnn_program *p = parse(src, err, sizeof err);
		if (!p)
			fprintf(stderr, "%s: %s\n", cases[i].e, err);
		ASSERT(p);
		double re[2], im[2];
		qnn_state *s = qnn_state_new(1, 1);
		qnn_state_set_basis(s, 1);
		ASSERT(qnn_program_apply(p, NULL, 0, s, err, sizeof err) == 0);
		double got = atan2(qnn_state_imag(s)[1], qnn_state_real(s)[1]);
		double want = remainder(cases[i].v, 2 * M_PI);
		re[0] = got, im[0] = want;
		if (fabs(remainder(got - want, 2 * M_PI)) > 1e-12)
			fprintf(stderr, "%s: got %.17g want %.17g\n", cases[i].e, re[0], im[0]);
		ASSERT(fabs(remainder(got - want, 2 * M_PI)) <= 1e-12);
		qnn_state_free(s);
		qnn_program_free(p);
	}
	/* input-dependent expressions are evaluated per run */
	char err[256];
	qnn_program *p = parse(HDR "input float[64] a;\nconst float[64] k = 2;\nqubit q;\n"
				   "gate g(x) t { p(sqrt(x) * k) t; }\ng(a) q;\n",
			       err, sizeof err);
	ASSERT(p);
	for (double a = 0.1; a < 1; a += 0.2) {
		qnn_state *s = qnn_state_new(1, 1);
		qnn_state_set_basis(s, 1);
		ASSERT(qnn_program_apply(p, &a, 1, s, err, sizeof err) == 0);
		ASSERT_NEAR(atan2(qnn_state_imag(s)[1], qnn_state_real(s)[1]), 2 * sqrt(a), 1e-14);
		qnn_state_free(s);
	}
	/* a value that is not finite for some input fails that run only */
	double bad = -1;
	qnn_state *s = qnn_state_new(1, 1);
	ASSERT(qnn_program_apply(p, &bad, 1, s, err, sizeof err) == QNN_EINPUT);
	ASSERT_STR_CONTAINS(err, "prog.qasm:7:1: gate parameter 1 is not finite");
	qnn_state_free(s);
	qnn_program_free(p);
}

/* Gate definitions and modifiers mean what the specification says. */
static void test_semantics(void)
{
	/* user gate vs its body */
	ASSERT(unitary_diff(HDR "qubit[2] q;\ngate g(a) x, y { h x; crz(a) x, y; ry(-a) y; }\ng(0.7) q[1], q[0];\n",
			    HDR "qubit[2] q;\nh q[1];\ncrz(0.7) q[1], q[0];\nry(-0.7) q[0];\n") < 1e-14);
	/* inv @ of a gate runs its inverted body backwards */
	ASSERT(unitary_diff(HDR "qubit[2] q;\ngate g(a) x, y { h x; crz(a) x, y; s y; }\ninv @ g(0.7) q[0], q[1];\n",
			    HDR "qubit[2] q;\nsdg q[1];\ncrz(-0.7) q[0], q[1];\nh q[0];\n") < 1e-14);
	/* pow */
	ASSERT(unitary_diff(HDR "qubit q;\npow(2) @ s q;\n", HDR "qubit q;\nz q;\n") < 1e-15);
	ASSERT(unitary_diff(HDR "qubit q;\npow(-1) @ t q;\n", HDR "qubit q;\ntdg q;\n") < 1e-15);
	ASSERT(unitary_diff(HDR "qubit q;\npow(0) @ h q;\n", HDR "qubit q;\nid q;\n") < 1e-15);
	/* ctrl on a user gate controls every gate in it, gphase included */
	ASSERT(unitary_diff(HDR "qubit[2] q;\ngate g a { x a; gphase(pi / 2); }\nctrl @ g q[0], q[1];\n",
			    HDR "qubit[2] q;\ncx q[0], q[1];\ns q[0];\n") < 1e-15);
	/* negctrl = x, ctrl, x */
	ASSERT(unitary_diff(HDR "qubit[3] q;\nnegctrl @ ctrl @ ry(0.4) q[0], q[2], q[1];\n",
			    HDR "qubit[3] q;\nx q[0];\nctrl(2) @ ry(0.4) q[0], q[2], q[1];\nx q[0];\n") < 1e-15);
	/* ctrl @ x = cx, ctrl @ ctrl @ x = ccx, ctrl @ swap = cswap */
	ASSERT(unitary_diff(HDR "qubit[3] q;\nctrl @ x q[2], q[0];\nctrl @ ctrl @ x q[0], q[2], q[1];\nctrl @ swap q[1], q[0], q[2];\n",
			    HDR "qubit[3] q;\ncx q[2], q[0];\nccx q[0], q[2], q[1];\ncswap q[1], q[0], q[2];\n") < 1e-15);
	/* broadcast: h on a register, cx register-register and qubit-register */
	ASSERT(unitary_diff(HDR "qubit[2] a;\nqubit[2] b;\nh a;\ncx a, b;\ncz a[0], b;\n",
			    HDR "qubit[4] q;\nh q[0];\nh q[1];\ncx q[0], q[2];\ncx q[1], q[3];\ncz q[0], q[2];\ncz q[0], q[3];\n") < 1e-15);
	/* OpenQASM 2's U and CX */
	ASSERT(unitary_diff("OPENQASM 2.0;\nqreg q[2];\nU(pi/2, 0, pi) q[0];\nCX q[0], q[1];\n",
			    HDR "qubit[2] q;\nU(pi/2, 0, pi) q[0];\ncx q[0], q[1];\n") < 1e-15);
	/* barriers are no-ops; reset of a fresh qubit too */
	ASSERT(unitary_diff(HDR "qubit[2] q;\nreset q;\nh q[0];\nbarrier q;\nbarrier;\ngate g a, b { h a; barrier a, b; h b; }\ng q[0], q[1];\n",
			    HDR "qubit[2] q;\nh q[1];\n") < 1e-15);
	/* mid-circuit measurement: no unitary, but a valid program */
	char err[256];
	qnn_program *p = parse(HDR "qubit q;\nbit b;\nh q;\nb = measure q;\nh q;\n", err, sizeof err);
	ASSERT(p);
	qnn_state *s = qnn_state_new(1, 1);
	ASSERT(qnn_program_apply(p, NULL, 0, s, err, sizeof err) == QNN_EUNSUPPORTED);
	qnn_state_free(s);
	qnn_program_free(p);
}

static void test_errors(void)
{
	static const struct {
		const char *src, *msg;
	} cases[] = {
		{"OPENQASM 3;\nqubit q;\nfoo q;\n", "prog.qasm:3:1: unknown gate 'foo'"},
		{"OPENQASM 3;\nqubit q;\n  h q;\n", "prog.qasm:3:3: unknown gate 'h' (missing include \"stdgates.inc\"?)"},
		{HDR "qubit[2] q;\ncx q[0] q[1];\n", "prog.qasm:4:9: syntax error: unexpected 'q', expected"},
		{HDR "qubit[2] q;\ncx q[0], q[2];\n", "prog.qasm:4:12: index into 'q' 2 is out of range [0, 1]"},
		{HDR "qubit[2] q;\ncx q[0], q[0];\n", "prog.qasm:4:1: gate 'cx' uses qubit q[0] twice"},
		{HDR "qubit[2] q;\nrx q[0];\n", "prog.qasm:4:1: gate 'rx' takes 1 parameter, got 0"},
		{HDR "qubit[2] q;\nh q[0], q[1];\n", "prog.qasm:4:1: gate 'h' takes 1 qubit, got 2"},
		{HDR "qubit[2] q;\nctrl @ h q[0];\n", "prog.qasm:4:8: gate 'h' with 1 control takes 2 qubits, got 1"},
		{HDR "qubit[2] q;\nrx(theta) q[0];\n", "prog.qasm:4:4: unknown identifier 'theta'"},
		{HDR "qubit[2] q;\nrx(sinh(1)) q[0];\n", "prog.qasm:4:4: unknown function 'sinh'"},
		{HDR "qubit[2] q;\nrx(sin(1, 2)) q[0];\n", "prog.qasm:4:4: function 'sin' takes 1 argument, got 2"},
		{HDR "qubit[2] q;\nrx(1/0) q[0];\n", "prog.qasm:4:5: the value of this expression is not finite"},
		{HDR "qubit[2] q;\nqubit q;\n", "prog.qasm:4:7: 'q' is already declared (a qubit register, at 3:10)"},
		{HDR "qubit[0] q;\n", "prog.qasm:3:7: register size 0 is out of range"},
		{HDR "qubit[1.5] q;\n", "prog.qasm:3:7: register size must be an integer, got 1.5"},
		{HDR "input float[64] a;\nqubit[a] q;\n", "prog.qasm:4:7: register size must be a constant"},
		{HDR "qubit x;\n", "prog.qasm:3:7: 'x' is a built-in gate"},
		{HDR "qubit pi;\n", "prog.qasm:3:7: 'pi' is a built-in constant"},
		{HDR "gate h a { x a; }\n", "prog.qasm:3:6: 'h' is a built-in gate"},
		{HDR "gate g a { g a; }\n", "prog.qasm:3:12: gate 'g' cannot call itself"},
		{HDR "gate g a { h b; }\n", "prog.qasm:3:14: unknown qubit 'b' in gate 'g'"},
		{HDR "gate g a, a { h a; }\n", "prog.qasm:3:11: duplicate qubit 'a'"},
		{HDR "gate g(x) x { h x; }\n", "prog.qasm:3:11: 'x' is both a parameter and a qubit"},
		{HDR "qubit[2] q;\ngate g a { h a[0]; }\n", "prog.qasm:4:14: gate bodies take qubit arguments by name only"},
		{HDR "input float[64] tt;\ngate g a { rx(tt) a; }\n", "prog.qasm:4:15: input 'tt' cannot be used inside a gate definition"},
		{HDR "qubit[2] q;\nbit[3] c;\nc = measure q;\n", "prog.qasm:5:5: measure: 2 qubits into 3 bits"},
		{HDR "qubit[2] q;\nbit[2] c;\nmeasure c -> q;\n", "prog.qasm:5:9: 'c' is a bit register, not a qubit register"},
		{HDR "qubit[2] q;\nqubit[3] r;\ncx q, r;\n", "prog.qasm:5:7: register 'r' has 3 qubits but 'q' has 2"},
		{HDR "qubit q;\nh $0;\n", "prog.qasm:4:3: physical qubit $0 in a program that declares qubits"},
		{HDR "h $0;\nqubit q;\n", "prog.qasm:4:7: cannot declare qubits in a program that uses physical qubits"},
		{HDR "qubit q;\nh q[0];\n", "prog.qasm:4:5: 'q' is a single qubit and cannot be indexed"},
		{HDR "qubit q;\npow(0.5) @ x q;\n", "prog.qasm:4:5: pow @ exponent must be an integer, got 0.5"},
		{HDR "qubit[2] q;\nctrl(0) @ x q[0], q[1];\n", "prog.qasm:4:6: control count 0 is out of range"},
		{HDR "qubit q;\nif (1) x q;\n", "prog.qasm:4:1: 'if' is not supported by this OpenQASM reader"},
		{HDR "include \"other.inc\";\n", "prog.qasm:3:9: cannot include \"other.inc\""},
		{"qubit q;\nOPENQASM 3.0;\n", "prog.qasm:2:1: OPENQASM must be the first statement"},
		{"OPENQASM 4.0;\n", "prog.qasm:1:1: unsupported OpenQASM version 4"},
		{HDR "qubit q;\n/* open", "prog.qasm:4:1: unterminated comment"},
		{HDR "qubit q;\ninclude \"stdgates.inc;\n", "prog.qasm:4:9: unterminated string"},
		{HDR "qubit q;\nh q; #\n", "prog.qasm:4:6: unexpected character '#'"},
		{HDR "qubit q;\nh q", "prog.qasm:4:4: syntax error: unexpected end of input, expected"},
		{HDR "gate g(θ) a { rx(θ) a; }\nqubit q;\ng(φ) q;\n", "prog.qasm:5:3: unknown identifier 'φ'"},
		{HDR "qubit[2] q;\nq = measure q;\n", "prog.qasm:4:1: 'q' is a qubit register, not a bit register"},
		{HDR "const float[64] k = 1;\nqubit q;\nk q;\n", "prog.qasm:5:1: 'k' is a constant, not a gate"},
		{HDR "input float a;\nconst float b = a;\n", "prog.qasm:4:13: const 'b' must not depend on an input"},
		{HDR "qubit q;\nrx(q) q;\n", "prog.qasm:4:4: 'q' is a qubit register, not a value"},
		{HDR "gate g a { ctrl @ h a; }\n", "prog.qasm:3:19: gate 'h' with 1 control takes 2 qubits, got 1"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[256] = "";
		qnn_program *p = parse(cases[i].src, err, sizeof err);
		if (p || !strstr(err, cases[i].msg))
			fprintf(stderr, "case %zu: got \"%s\"\n", i, p ? "(parsed)" : err);
		ASSERT(!p);
		ASSERT_STR_CONTAINS(err, cases[i].msg);
	}
	/* deep nesting and expansion blow-ups are refused, not crashed on */
	char *big = malloc(200000);
	strcpy(big, HDR "qubit q;\ngate g0 a { x a; x a; }\n");
	for (int k = 1; k < 40; k++)
		sprintf(big + strlen(big), "gate g%d a { g%d a; g%d a; }\n", k, k - 1, k - 1);
	strcat(big, "g39 q;\n");
	char err[256];
	qnn_program *p = parse(big, err, sizeof err);
	ASSERT(!p);
	ASSERT_STR_CONTAINS(err, "program expands to more than");
	strcpy(big, HDR "qubit q;\nrx(");
	size_t len = strlen(big);
	memset(big + len, '(', 50000);
	strcpy(big + len + 50000, "1");
	p = parse(big, err, sizeof err);
	ASSERT(!p);
	ASSERT_STR_CONTAINS(err, "prog.qasm:");
	free(big);
	/* NULL text is an error, not a crash */
	ASSERT(!qnn_program_parse(NULL, 5, NULL, err, sizeof err));
}

/* Mutated programs: parse or fail with a located message, never crash. */
static void test_fuzz(void)
{
	static const char *const seeds[] = {
		HDR "input float[64] a;\nqubit[3] q;\nbit[3] c;\ngate g(x) s, t { rx(x / 2) s; cx s, t; }\n"
		    "h q;\nctrl @ g(a * pi) q[0], q[1], q[2];\ninv @ pow(2) @ s q[1];\nc = measure q;\n",
		"OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\nU(0.1, 0.2, 0.3) q[0];\n"
		"CX q[0], q[1];\nbarrier q;\nmeasure q -> c;\n/* end */ // done\n",
	};
	static const char *const tokens[] = {"(", ")", "[", "]", "{", "}", ";", ",", "@", "->", "**", "q",
					     "$1", "ctrl", "inv", "gate", "measure", "1e999", "-", "/*",
					     "\"", "\xff", "pow(", "qubit[", "0", "\n"};
	uint64_t x = 12345;
	int parsed = 0, failed = 0;
	for (int it = 0; it < 3000; it++) {
		const char *seed = seeds[it % 2];
		size_t n = strlen(seed);
		char buf[1024];
		memcpy(buf, seed, n + 1);
		int edits = 1 + it % 3;
		for (int e = 0; e < edits; e++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t pos = (size_t)(x >> 33) % (n + 1);
			int what = (int)(x >> 20) % 4;
			if (what == 0 && n > 0) { /* delete a run */
				size_t len = 1 + (x >> 8) % 6;
				if (pos + len > n)
					len = n - pos;
				memmove(buf + pos, buf + pos + len, n - pos - len + 1);
				n -= len;
			} else if (what == 1 && pos < n) { /* change a digit, or any byte */
				if (buf[pos] >= '0' && buf[pos] <= '9')
					buf[pos] = (char)('0' + (x >> 40) % 10);
				else
					buf[pos] = (char)(x >> 40);
			} else if (what == 2) { /* truncate */
				n = pos;
				buf[n] = 0;
			} else { /* insert a token */
				const char *t = tokens[(x >> 12) % (sizeof tokens / sizeof tokens[0])];
				size_t tl = strlen(t);
				if (n + tl + 1 >= sizeof buf)
					continue;
				memmove(buf + pos + tl, buf + pos, n - pos + 1);
				memcpy(buf + pos, t, tl);
				n += tl;
			}
		}
		char err[256] = "";
		qnn_program *p = qnn_program_parse(buf, n, "fuzz.qasm", err, sizeof err);
		if (p) {
			parsed++;
			/* whatever parsed also runs and writes */
			double in[1] = {0.5};
			uint64_t counts[64];
			qnn_result r = {counts, 64, NULL, NULL, 0, 0, 0, 0, 0, {0}};
			int nin = qnn_program_ninputs(p);
			if (qnn_program_nqubits(p) <= 12 && nin <= 1)
				qnn_program_run(p, in, nin, 10, 1, &r);
			char out[4096];
			ASSERT(qnn_program_write(p, NULL, 0, out, sizeof out) > 0);
			qnn_program_free(p);
		} else {
			failed++;
			int line, col;
			if (sscanf(err, "fuzz.qasm:%d:%d: ", &line, &col) != 2 || line < 1 || col < 1)
				fprintf(stderr, "unlocated error: %s\n", err);
			ASSERT(sscanf(err, "fuzz.qasm:%d:%d: ", &line, &col) == 2);
		}
	}
	if (parsed < 100 || failed < 100)
		fprintf(stderr, "fuzz: %d parsed, %d failed\n", parsed, failed);
	ASSERT(parsed >= 100 && failed >= 100);
}

TEST_MAIN({"basic", test_basic}, {"roundtrip", test_roundtrip}, {"expressions", test_expressions},
	  {"semantics", test_semantics}, {"errors", test_errors}, {"fuzz", test_fuzz})
