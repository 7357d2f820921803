/* qasm.c - the OpenQASM 3 emitter (see qasm.h): state preparation, gates
 * synthesised by syn_synth, measurement. */
#include "qasm.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "la.h"
#include "synth.h"

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

/* The uniformly controlled Ry preparation of runtime/qnnrt.h
 * (qnn_stateprep_gates), restated here so the compiler libraries do not
 * link the runtime; the unit test pins the two against each other. */
static void qasm_emit_stateprep(FILE *f, int n, qasm_stats *st)
{
	for (int t = n - 1; t >= 0; t--) {
		long L = 1L << (n - 1 - t);
		int logL = n - 1 - t;
		for (long i = 0; i < L; i++) {
			fprintf(f, "ry(theta%ld) q[%d];\n", L - 1 + i, t);
			st->prep_oneq++;
			if (L > 1) {
				int b = 0;
				if (i < L - 1)
					while (!(((i + 1) >> b) & 1))
						b++;
				else
					b = logL - 1;
				fprintf(f, "cx q[%d], q[%d];\n", t + 1 + b, t);
				st->prep_cx++;
			}
		}
	}
}

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

int qasm_emit_circuit(FILE *f, const qasm_gate *gates, int ngates, int nqubits,
		      const qasm_options *o, char *err, size_t errlen)
{
	static const qasm_options defaults = {0, 1, NULL};
	qasm_stats st = {0, 0, 0, 0, 0};
	if (err && errlen)
		err[0] = '\0';
	if (!o)
		o = &defaults;
	if (!f || ngates < 0 || (ngates > 0 && !gates))
		return qasm_fail(err, errlen, "qasm_emit_circuit: bad argument");
	if (nqubits < 1 || nqubits > QASM_MAX_QUBITS)
		return qasm_fail(err, errlen, "%d qubits: expected 1 to %d", nqubits, QASM_MAX_QUBITS);
	if (o->stateprep && nqubits > QASM_MAX_STATEPREP_QUBITS)
		return qasm_fail(err, errlen, "state preparation on %d qubits: at most %d supported",
				 nqubits, QASM_MAX_STATEPREP_QUBITS);
	/* Check everything before writing, so bad input leaves no partial program. */
	for (int i = 0; i < ngates; i++)
		if (qasm_check_gate(&gates[i], i, nqubits, err, errlen))
			return -1;

	fprintf(f, "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n");
	fprintf(f, "// Qubit q[j] is bit j of a basis index (least significant first);\n"
		   "// register site k (1 = most significant) is q[%d-k].\n",
		nqubits);
	fprintf(f, "qubit[%d] q;\nbit[%d] c;\n", nqubits, nqubits);
	if (o->stateprep) {
		long nin = (1L << nqubits) - 1;
		for (long i = 0; i < nin; i++)
			fprintf(f, "input float[64] theta%ld;\n", i);
		st.ninputs = (int)nin;
		qasm_emit_stateprep(f, nqubits, &st);
	}

	syn_circuit c;
	syn_circuit_init(&c, 1);
	for (int gi = 0; gi < ngates; gi++) {
		const qasm_gate *g = &gates[gi];
		if (syn_synth(g->U, g->k, &c)) {
			syn_circuit_free(&c);
			return qasm_fail(err, errlen, "gate %d (%d qubits on sites %d..%d): synthesis failed: %s",
					 gi, g->k, g->site, g->site + g->k - 1, la_last_error());
		}
		/* syn qubit j is gate-local site k-j, register site site+k-1-j. */
		int qmap[QASM_MAX_GATE_QUBITS];
		for (int j = 0; j < g->k; j++)
			qmap[j] = qasm_qubit_of_site(g->site + g->k - 1 - j, nqubits);
		fprintf(f, "// gate %d: %d qubits on sites %d..%d\n", gi, g->k, g->site,
			g->site + g->k - 1);
		for (int i = 0; i < c.n; i++) {
			const syn_op *op = &c.ops[i];
			const char *name = syn_gate_name(op->gate);
			if (op->gate == SYN_CX) {
				fprintf(f, "cx q[%d], q[%d];\n", qmap[op->q0], qmap[op->q1]);
				st.cx++;
			} else if (op->gate == SYN_RY || op->gate == SYN_P) {
				fprintf(f, "%s(%.17g) q[%d];\n", name, op->angle, qmap[op->q0]);
				st.oneq++;
			} else {
				fprintf(f, "%s q[%d];\n", name, qmap[op->q0]);
				st.oneq++;
			}
		}
	}
	syn_circuit_free(&c);

	if (o->measure)
		fprintf(f, "c = measure q;\n");
	st.cx += st.prep_cx;
	st.oneq += st.prep_oneq;
	if (o->stats)
		*o->stats = st;
	if (fflush(f) || ferror(f))
		return qasm_fail(err, errlen, "write error in the OpenQASM output");
	return 0;
}
