/* qasm.c - the OpenQASM emitter (see qasm.h): state preparation, gates
 * synthesised by syn_synth, read-out, measurement; written portably
 * (OpenQASM 3, stdgates.inc), in the native basis rz/sx/x/cx, or as
 * OpenQASM 2 with bound angles. One writer (qw) takes the gate stream and
 * spells it for the chosen form. */
#include "qasm.h"

#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"
#include "synth.h"

#define QASM_PI 3.14159265358979323846
/* A rotation angle this close to 0 (or, in the decomposition, to pi/2 or
 * pi) is taken as exact: the matrix error is at most half of it. */
#define QASM_ANGLE_EPS 1e-13

static int qasm_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ------------------------------------------------------------ the writer */

enum { QW_QASM3, QW_ISA, QW_QASM2 };

/* One-qubit gates of the gate stream (synthesis, preparation, read-out). */
enum { QW_RY, QW_X, QW_Z, QW_P, QW_H };

typedef struct {
	FILE *f;
	int mode;
	int n;		     /* qubits of the program */
	int in_prep;	     /* counting into prep_cx / prep_oneq */
	qasm_stats st;
	const double *theta; /* bound preparation angles (QASM 2) */
	/* ISA: pending constant one-qubit unitary per qubit (time order:
	 * earlier gates on the right), the dropped global phase, and which
	 * qubits the program names. */
	double complex U[QASM_MAX_QUBITS + 1][4];
	unsigned char pend[QASM_MAX_QUBITS + 1];
	unsigned char used[QASM_MAX_QUBITS + 1];
	double phase;
	/* Depth: per qubit, the layer of its last gate, over the whole
	 * program and over the gates outside the state preparation. */
	long lay[QASM_MAX_QUBITS + 1], lay_circ[QASM_MAX_QUBITS + 1];
} qw;

/* A gate on a (and b, -1 for none) takes the layer after the latest of its
 * qubits' layers (ASAP scheduling, every gate one time step). */
static void qw_layer(long *lay, long *depth, int a, int b)
{
	long t = lay[a] + 1;
	if (b >= 0 && lay[b] + 1 > t)
		t = lay[b] + 1;
	lay[a] = t;
	if (b >= 0)
		lay[b] = t;
	if (t > *depth)
		*depth = t;
}

static void qw_count(qw *w, int two, int a, int b)
{
	qw_layer(w->lay, &w->st.depth, a, b);
	if (!w->in_prep)
		qw_layer(w->lay_circ, &w->st.circuit_depth, a, b);
	if (two) {
		w->st.cx++;
		w->st.prep_cx += w->in_prep;
	} else {
		w->st.oneq++;
		w->st.prep_oneq += w->in_prep;
	}
}

static void qw_qubit(qw *w, int j)
{
	if (w->mode == QW_ISA) {
		fprintf(w->f, "$%d", j);
		w->used[j] = 1;
	} else {
		fprintf(w->f, "q[%d]", j);
	}
}

/* An angle as program text: exact multiples of pi/4 by name (they come
 * out of the native-basis rules), everything else round-trip exact. */
static void qw_angle(char *buf, size_t len, double a)
{
	static const struct {
		double v;
		const char *s;
	} named[] = {
		{QASM_PI, "pi"},	     {-QASM_PI, "-pi"},		  {QASM_PI / 2, "pi/2"},
		{-QASM_PI / 2, "-pi/2"},     {QASM_PI / 4, "pi/4"},	  {-QASM_PI / 4, "-pi/4"},
		{3 * QASM_PI / 4, "3*pi/4"}, {-3 * QASM_PI / 4, "-3*pi/4"},
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (a == named[i].v) {
			snprintf(buf, len, "%s", named[i].s);
			return;
		}
	snprintf(buf, len, "%.17g", a);
}

/* name(angle) qubit; — angle NULL for none. */
static void qw_put1(qw *w, const char *name, const char *angle, int q)
{
	if (angle)
		fprintf(w->f, "%s(%s) ", name, angle);
	else
		fprintf(w->f, "%s ", name);
	qw_qubit(w, q);
	fputs(";\n", w->f);
	qw_count(w, 0, q, -1);
}

static void qw_put_cx(qw *w, int c, int t)
{
	fputs("cx ", w->f);
	qw_qubit(w, c);
	fputs(", ", w->f);
	qw_qubit(w, t);
	fputs(";\n", w->f);
	qw_count(w, 1, c, t);
}

/* ------------------------------------------------------------ native basis */

/* Wrap x into (-pi, pi]; returns the number of 2 pi turns removed. */
static long qw_wrap(double *x)
{
	double k = nearbyint(*x / (2 * QASM_PI));
	*x -= 2 * QASM_PI * k;
	if (*x <= -QASM_PI)
		*x += 2 * QASM_PI, k -= 1;
	else if (*x > QASM_PI)
		*x -= 2 * QASM_PI, k += 1;
	return (long)k;
}

static void m2_mul(double complex *out, const double complex *A, const double complex *B)
{
	double complex r[4] = {A[0] * B[0] + A[1] * B[2], A[0] * B[1] + A[1] * B[3],
			       A[2] * B[0] + A[3] * B[2], A[2] * B[1] + A[3] * B[3]};
	memcpy(out, r, sizeof r);
}

static void m2_rz(double complex *m, double a)
{
	m[0] = cexp(-I * a / 2);
	m[1] = m[2] = 0;
	m[3] = cexp(I * a / 2);
}

static const double complex m2_sx[4] = {0.5 + 0.5 * I, 0.5 - 0.5 * I, 0.5 - 0.5 * I, 0.5 + 0.5 * I};
static const double complex m2_x[4] = {0, 1, 1, 0};

/* The matrix of a gate of the stream. */
static void m2_gate(double complex *m, int kind, double a)
{
	const double h = sqrt(0.5);
	switch (kind) {
	case QW_RY: {
		double c = cos(a / 2), s = sin(a / 2);
		m[0] = c, m[1] = -s, m[2] = s, m[3] = c;
		break;
	}
	case QW_X: memcpy(m, m2_x, sizeof m2_x); break;
	case QW_Z: m[0] = 1, m[1] = m[2] = 0, m[3] = -1; break;
	case QW_P: m[0] = 1, m[1] = m[2] = 0, m[3] = cexp(I * a); break;
	default: m[0] = m[1] = m[2] = h, m[3] = -h; break; /* QW_H */
	}
}

/* A native sequence in time order: sx (angle unused) or rz(angle). */
typedef struct {
	int n;
	int sx[5];
	double a[5];
} nseq;

static void nseq_rz(nseq *s, double a, double *phase)
{
	/* Rz(a + 2 pi k) = (-1)^k Rz(a) */
	*phase += QASM_PI * (double)(qw_wrap(&a) & 1);
	if (fabs(a) < QASM_ANGLE_EPS)
		return;
	s->sx[s->n] = 0, s->a[s->n] = a, s->n++;
}

static void nseq_sx(nseq *s) { s->sx[s->n] = 1, s->a[s->n] = 0, s->n++; }

/* Decompose the 2×2 unitary U as e^{i phase} times the native sequence
 * (x true: followed by an x gate). U = e^{ig} Rz(phi) Ry(theta) Rz(lam),
 * theta in [0, pi], and Ry in the native basis:
 *   Ry(theta) = i Rz(pi) SX Rz(theta + pi) SX       (two sx)
 *   Ry(pi/2)  = e^{-i pi/4} Rz(pi/2) SX Rz(-pi/2)    (one sx)
 *   Ry(pi)    = X Z, and Rz(phi) X = X Rz(-phi), Z = i Rz(pi)  (an x)
 * The result is multiplied back and compared with U. */
static int qw_native(const double complex *U, nseq *s, int *x, double *phase)
{
	double complex det = U[0] * U[3] - U[1] * U[2];
	double g = carg(det) / 2;
	double complex e = cexp(-I * g), a = U[0] * e, c = U[2] * e;
	double theta = 2 * atan2(cabs(c), cabs(a));
	double sum = cabs(a) > 0 ? -2 * carg(a) : 0; /* phi + lam */
	double diff = cabs(c) > 0 ? 2 * carg(c) : 0; /* phi - lam */
	double phi = (sum + diff) / 2, lam = (sum - diff) / 2;
	s->n = 0;
	*x = 0;
	*phase = g;
	if (theta < QASM_ANGLE_EPS) {
		nseq_rz(s, phi + lam, phase);
	} else if (fabs(theta - QASM_PI) < QASM_ANGLE_EPS) {
		*phase += QASM_PI / 2;
		nseq_rz(s, lam + QASM_PI - phi, phase);
		*x = 1;
	} else if (fabs(theta - QASM_PI / 2) < QASM_ANGLE_EPS) {
		*phase -= QASM_PI / 4;
		nseq_rz(s, lam - QASM_PI / 2, phase);
		nseq_sx(s);
		nseq_rz(s, phi + QASM_PI / 2, phase);
	} else {
		*phase += QASM_PI / 2;
		nseq_rz(s, lam, phase);
		nseq_sx(s);
		nseq_rz(s, theta + QASM_PI, phase);
		nseq_sx(s);
		nseq_rz(s, phi + QASM_PI, phase);
	}
	/* Multiply back: e^{i phase} x? · s[n-1] ··· s[0] must be U. */
	double complex M[4] = {cexp(I * *phase), 0, 0, cexp(I * *phase)}, G[4];
	for (int i = 0; i < s->n; i++) {
		if (s->sx[i])
			memcpy(G, m2_sx, sizeof G);
		else
			m2_rz(G, s->a[i]);
		m2_mul(M, G, M);
	}
	if (*x)
		m2_mul(M, m2_x, M);
	double worst = 0;
	for (int i = 0; i < 4; i++)
		worst = fmax(worst, cabs(M[i] - U[i]));
	return worst <= 1e-10 ? 0 : -1;
}

/* Write qubit q's pending unitary as native gates. */
static int qw_flush(qw *w, int q)
{
	if (!w->pend[q])
		return 0;
	w->pend[q] = 0;
	nseq s;
	int x;
	double ph;
	if (qw_native(w->U[q], &s, &x, &ph))
		return -1;
	w->phase += ph;
	char buf[40];
	for (int i = 0; i < s.n; i++) {
		if (s.sx[i]) {
			qw_put1(w, "sx", NULL, q);
		} else {
			qw_angle(buf, sizeof buf, s.a[i]);
			qw_put1(w, "rz", buf, q);
		}
	}
	if (x)
		qw_put1(w, "x", NULL, q);
	return 0;
}

static int qw_flush_all(qw *w)
{
	for (int q = 0; q < w->n; q++)
		if (qw_flush(w, q))
			return -1;
	return 0;
}

/* U[q] := G U[q] (G acts after what is pending). */
static void qw_pend(qw *w, int q, const double complex *G)
{
	if (!w->pend[q]) {
		memcpy(w->U[q], G, 4 * sizeof *G);
		w->pend[q] = 1;
	} else {
		m2_mul(w->U[q], G, w->U[q]);
	}
}

/* ------------------------------------------------------------ the gate stream */

/* A constant one-qubit gate. */
static int qw_gate1(qw *w, int kind, double a, int q)
{
	static const char *const q3[] = {"ry", "x", "z", "p", "h"};
	static const char *const q2[] = {"ry", "x", "z", "u1", "h"};
	char buf[40];
	if (w->mode == QW_ISA) {
		double complex G[4];
		m2_gate(G, kind, a);
		qw_pend(w, q, G);
		return 0;
	}
	int param = kind == QW_RY || kind == QW_P;
	if (param)
		snprintf(buf, sizeof buf, "%.17g", a);
	qw_put1(w, (w->mode == QW_QASM2 ? q2 : q3)[kind], param ? buf : NULL, q);
	return 0;
}

/* ry(theta<idx>) on q: an input of the state preparation. */
static int qw_ry_input(qw *w, long idx, int q)
{
	char buf[40];
	if (w->mode == QW_QASM2) {
		snprintf(buf, sizeof buf, "%.17g", w->theta[idx]);
		qw_put1(w, "ry", buf, q);
		return 0;
	}
	snprintf(buf, sizeof buf, "theta%ld", idx);
	if (w->mode == QW_QASM3) {
		qw_put1(w, "ry", buf, q);
		return 0;
	}
	/* Ry(t) = i Rz(pi) SX Rz(t + pi) SX: the sx before joins what is
	 * pending, the rz(pi) sx after waits for the next gates. */
	double complex RSX[4];
	m2_rz(RSX, QASM_PI);
	m2_mul(RSX, RSX, m2_sx);
	qw_pend(w, q, m2_sx);
	if (qw_flush(w, q))
		return -1;
	snprintf(buf, sizeof buf, "theta%ld + pi", idx);
	qw_put1(w, "rz", buf, q);
	qw_pend(w, q, RSX);
	w->phase += QASM_PI / 2;
	return 0;
}

static int qw_cx(qw *w, int c, int t)
{
	if (w->mode == QW_ISA && (qw_flush(w, c) || qw_flush(w, t)))
		return -1;
	qw_put_cx(w, c, t);
	return 0;
}

/* The uniformly controlled Ry preparation of runtime/qnnrt.h
 * (qnn_stateprep_gates), restated here so the compiler libraries do not
 * link the runtime; the unit test pins the two against each other. */
static int qw_stateprep(qw *w)
{
	int n = w->n;
	w->in_prep = 1;
	for (int t = n - 1; t >= 0; t--) {
		long L = 1L << (n - 1 - t);
		int logL = n - 1 - t;
		for (long i = 0; i < L; i++) {
			if (qw_ry_input(w, L - 1 + i, t))
				return -1;
			if (L > 1) {
				int b = 0;
				if (i < L - 1)
					while (!(((i + 1) >> b) & 1))
						b++;
				else
					b = logL - 1;
				if (qw_cx(w, t + 1 + b, t))
					return -1;
			}
		}
	}
	/* The preparation ends here in the counts too. */
	if (w->mode == QW_ISA && qw_flush_all(w))
		return -1;
	w->in_prep = 0;
	return 0;
}

/* ------------------------------------------------------------ programs */

static int qasm_check_gate(const qasm_gate *g, int idx, int nqubits, char *err, size_t errlen)
{
	if (g->k < 1 || g->k > QASM_MAX_GATE_QUBITS)
		return qasm_fail(err, errlen, "gate %d: %d qubits, expected 1 to %d", idx, g->k,
				 QASM_MAX_GATE_QUBITS);
	if (g->site < 1 || g->site + g->k - 1 > nqubits)
		return qasm_fail(err, errlen, "gate %d: sites %d..%d outside the register of %d qubits",
				 idx, g->site, g->site + g->k - 1, nqubits);
	if (!g->U)
		return qasm_fail(err, errlen, "gate %d: no matrix", idx);
	long d = 1L << g->k;
	for (long i = 0; i < d * d; i++)
		if (!isfinite(g->U[i]))
			return qasm_fail(err, errlen, "gate %d: matrix entry %ld is not finite", idx, i);
	return 0;
}

static void qw_header(qw *w, int nqubits, int readout, int prep)
{
	FILE *f = w->f;
	int n = w->n;
	const char *Q = w->mode == QW_ISA ? "$" : "q[";
	const char *E = w->mode == QW_ISA ? "" : "]";
	/* an index expression: q[n-k] or $(n-k) */
	const char *Qx = w->mode == QW_ISA ? "$(" : "q[", *Ex = w->mode == QW_ISA ? ")" : "]";
	if (w->mode == QW_QASM2)
		fputs("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n", f);
	else
		fputs("OPENQASM 3.0;\ninclude \"stdgates.inc\";\n", f);
	if (readout) {
		int q = nqubits;
		fprintf(f,
			"// Signed read-out stage (DESIGN §6). Data qubits %s0%s..%s%d%s, %sj%s = bit j\n"
			"// of the data index (data site s is %s%d-s%s); ancilla %s%d%s.\n"
			"// The preparation makes w = [x/|x| ; r] / sqrt(2) over all %d qubits (w[a*%ld + j],\n"
			"// the ancilla the most significant bit), r = Q^T u, u_j = 1/sqrt(%ld); then Q on\n"
			"// the data qubits and h on the ancilla: amp(a,j) = ((Q x/|x|)_j +- u_j) / 2.\n"
			"// With n(a,j) = count of c = a*%ld + j in S shots:\n"
			"//   (Q x)_j = |x| sqrt(%ld) (n(0,j) - n(1,j)) / S,\n"
			"// or exactly (Q x)_j = |x| (amp(0,j) + amp(1,j)).\n",
			Q, E, Q, q - 1, E, Q, E, Qx, q, Ex, Q, q, E, q + 1, 1L << q, 1L << q, 1L << q,
			1L << q);
	} else {
		fprintf(f,
			"// Qubit %sj%s is bit j of a basis index (least significant first);\n"
			"// register site k (1 = most significant) is %s%d-k%s.\n",
			Q, E, Qx, n, Ex);
	}
	if (w->mode == QW_ISA)
		fputs("// Native basis rz, sx, x, cx; gphase restores the dropped global phase.\n", f);
	if (w->mode == QW_QASM2) {
		fprintf(f, "qreg q[%d];\ncreg c[%d];\n", n, n);
		return;
	}
	if (w->mode == QW_QASM3)
		fprintf(f, "qubit[%d] q;\n", n);
	fprintf(f, "bit[%d] c;\n", n);
	if (prep) {
		long nin = (1L << n) - 1;
		for (long i = 0; i < nin; i++)
			fprintf(f, "input float[64] theta%ld;\n", i);
	}
}

static int qasm_emit(FILE *f, const qasm_gate *gates, int ngates, int nqubits, const qasm_options *o,
		     int mode, const double *theta, char *err, size_t errlen)
{
	static const qasm_options defaults = {0, 1, NULL, 0, 0};
	if (err && errlen)
		err[0] = '\0';
	if (!o)
		o = &defaults;
	if (!f || ngates < 0 || (ngates > 0 && !gates))
		return qasm_fail(err, errlen, "%s: bad argument",
				 mode == QW_QASM2 ? "qasm_emit_circuit2" : "qasm_emit_circuit");
	int readout = o->readout != 0;
	int prep = o->stateprep || readout, measure = o->measure || readout;
	if (readout) {
		if (nqubits < 1 || nqubits > QASM_MAX_STATEPREP_QUBITS - 1)
			return qasm_fail(err, errlen,
					 "read-out stage on %d data qubits: expected 1 to %d (%d with the ancilla)",
					 nqubits, QASM_MAX_STATEPREP_QUBITS - 1, QASM_MAX_STATEPREP_QUBITS);
	} else {
		if (nqubits < 1 || nqubits > QASM_MAX_QUBITS)
			return qasm_fail(err, errlen, "%d qubits: expected 1 to %d", nqubits,
					 QASM_MAX_QUBITS);
		if (prep && nqubits > QASM_MAX_STATEPREP_QUBITS)
			return qasm_fail(err, errlen,
					 "state preparation on %d qubits: at most %d supported", nqubits,
					 QASM_MAX_STATEPREP_QUBITS);
	}
	int n = nqubits + readout;
	/* Check everything before writing, so bad input leaves no partial program. */
	for (int i = 0; i < ngates; i++)
		if (qasm_check_gate(&gates[i], i, nqubits, err, errlen))
			return -1;
	if (mode == QW_QASM2 && prep) {
		if (!theta)
			return qasm_fail(err, errlen, "OpenQASM 2 with a state preparation needs its %ld angles",
					 (1L << n) - 1);
		for (long i = 0; i < (1L << n) - 1; i++)
			if (!isfinite(theta[i]))
				return qasm_fail(err, errlen, "preparation angle theta%ld is not finite", i);
	}

	qw *w = calloc(1, sizeof *w);
	if (!w)
		return qasm_fail(err, errlen, "out of memory");
	w->f = f;
	w->mode = mode;
	w->n = n;
	w->theta = theta;
	qw_header(w, nqubits, readout, prep && mode != QW_QASM2);
	if (prep) {
		w->st.ninputs = mode == QW_QASM2 ? 0 : (int)((1L << n) - 1);
		if (qw_stateprep(w))
			goto native_fail;
	}

	syn_circuit c;
	syn_circuit_init(&c, 1);
	for (int gi = 0; gi < ngates; gi++) {
		const qasm_gate *g = &gates[gi];
		if (syn_synth(g->U, g->k, &c)) {
			syn_circuit_free(&c);
			free(w);
			return qasm_fail(err, errlen, "gate %d (%d qubits on sites %d..%d): synthesis failed: %s",
					 gi, g->k, g->site, g->site + g->k - 1, la_last_error());
		}
		/* syn qubit j is gate-local site k-j, register site site+k-1-j
		 * of the (data) register. */
		int qmap[QASM_MAX_GATE_QUBITS];
		for (int j = 0; j < g->k; j++)
			qmap[j] = qasm_qubit_of_site(g->site + g->k - 1 - j, nqubits);
		fprintf(f, "// gate %d: %d qubits on sites %d..%d\n", gi, g->k, g->site,
			g->site + g->k - 1);
		for (int i = 0; i < c.n; i++) {
			const syn_op *op = &c.ops[i];
			int r = 0;
			switch (op->gate) {
			case SYN_CX: r = qw_cx(w, qmap[op->q0], qmap[op->q1]); break;
			case SYN_RY: r = qw_gate1(w, QW_RY, op->angle, qmap[op->q0]); break;
			case SYN_P: r = qw_gate1(w, QW_P, op->angle, qmap[op->q0]); break;
			case SYN_X: r = qw_gate1(w, QW_X, 0, qmap[op->q0]); break;
			case SYN_Z: r = qw_gate1(w, QW_Z, 0, qmap[op->q0]); break;
			default: r = -1; break;
			}
			if (r) {
				syn_circuit_free(&c);
				goto native_fail;
			}
		}
	}
	syn_circuit_free(&c);

	if (readout) {
		fputs("// read-out: interfere the ancilla\n", f);
		if (qw_gate1(w, QW_H, 0, nqubits))
			goto native_fail;
	}
	if (mode == QW_ISA) {
		if (qw_flush_all(w))
			goto native_fail;
		double ph = w->phase;
		qw_wrap(&ph);
		if (ph != 0) {
			char buf[40];
			qw_angle(buf, sizeof buf, ph);
			fprintf(f, "gphase(%s);\n", buf);
		}
		/* The program's width is its highest physical qubit: name idle
		 * ones so it stays n. */
		if (!measure) {
			int idle = 0;
			for (int q = 0; q < n; q++)
				idle |= !w->used[q];
			if (idle) {
				fputs("barrier ", f);
				for (int q = 0; q < n; q++)
					fprintf(f, "%s$%d", q ? ", " : "", q);
				fputs(";\n", f);
			}
		}
	}
	if (measure) {
		if (mode == QW_QASM3)
			fputs("c = measure q;\n", f);
		else
			for (int q = 0; q < n; q++)
				fprintf(f, mode == QW_ISA ? "c[%d] = measure $%d;\n" : "measure q[%d] -> c[%d];\n",
					q, q);
	}
	if (o->stats)
		*o->stats = w->st;
	free(w);
	if (fflush(f) || ferror(f))
		return qasm_fail(err, errlen, "write error in the OpenQASM output");
	return 0;

native_fail:
	free(w);
	return qasm_fail(err, errlen, "internal error: a one-qubit gate did not translate to the native basis");
}

int qasm_emit_circuit(FILE *f, const qasm_gate *gates, int ngates, int nqubits,
		      const qasm_options *o, char *err, size_t errlen)
{
	return qasm_emit(f, gates, ngates, nqubits, o, o && o->isa ? QW_ISA : QW_QASM3, NULL, err,
			 errlen);
}

int qasm_emit_circuit2(FILE *f, const qasm_gate *gates, int ngates, int nqubits,
		       const qasm_options *o, const double *theta, char *err, size_t errlen)
{
	return qasm_emit(f, gates, ngates, nqubits, o, QW_QASM2, theta, err, errlen);
}
