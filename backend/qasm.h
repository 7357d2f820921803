/* qasm.h - the OpenQASM emitter: a list of dense real orthogonal gates on
 * register sites becomes an OpenQASM 3 program of stdgates.inc gates
 * (DESIGN §5), each gate synthesised by syn_synth (passes/synth.h); the
 * same circuit in a native basis (isa), as a signed read-out stage
 * (readout, DESIGN §6) or as OpenQASM 2 (qasm_emit_circuit2).
 *
 * Bit order (DESIGN §2). Register sites count from 1 at the most significant
 * bit of a basis index; qubit q[j] is bit j (least significant first). Site
 * k of an n-qubit register is q[n-k]: qasm_qubit_of_site is the only place
 * that says so. A k-qubit gate on sites s..s+k-1 has its matrix index bit j
 * (syn_synth's qubit j, gate-local site k-j) on register site s+k-1-j.
 *
 * Program form:
 *
 *     OPENQASM 3.0;
 *     include "stdgates.inc";
 *     // comment: qubit order
 *     qubit[n] q;
 *     bit[n] c;
 *     input float[64] theta0; ...        (options.stateprep)
 *     ...state preparation...            (options.stateprep)
 *     ...the gates, gates[0] first...
 *     c = measure q;                     (options.measure)
 *
 * The state preparation is the uniformly controlled Ry circuit that
 * runtime/qnnrt.h documents (qnn_stateprep_gates), with its 2^n - 1 angles
 * as inputs theta0 .. theta{2^n-2}; binding them to qnn_stateprep_angles(v)
 * prepares v/|v| before the gates act.
 *
 * Read-out stage (options.readout; runtime qnn_stage_run). nqubits is the
 * data register q; the program has q + 1 qubits, data q[0..q-1] and the
 * ancilla q[q]. The state preparation covers all q + 1 qubits (2^(q+1) - 1
 * inputs, the ancilla the most significant bit), the gates act on the data
 * register (their sites are data sites: site s is q[q-s]), then `h q[q];`
 * and `c = measure q;` (implied, whatever options.stateprep and
 * options.measure say). 1 <= q <= QASM_MAX_STATEPREP_QUBITS - 1.
 *
 * ISA form (options.isa): physical qubits $0..$n-1 (no qubit declaration;
 * $j is q[j]), gates rz, sx, x, cx only. Runs of constant one-qubit gates
 * on a qubit are merged and re-decomposed (Rz Ry Rz, at most two sx); an
 * input rotation ry(thetaN) becomes sx; rz(thetaN + pi); sx; rz(pi) (the
 * constant parts merged with their neighbours; the preparation's and the
 * circuit's gates are not merged with each other, so prep_* stay
 * separate). The global phase this drops is summed and emitted as one
 * `gphase(..);` after the gates (none when it is 0), so the amplitudes
 * equal the portable program's. Measurement is `c[j] = measure $j;` per
 * qubit; without measurement, a `barrier` on all qubits keeps an idle top
 * qubit in the program. Gate counts (qasm_stats) count native gates;
 * gphase is not counted.
 */
#ifndef QNNC_QASM_H
#define QNNC_QASM_H

#include <stddef.h>
#include <stdio.h>

/* Largest dense gate the emitter synthesises. */
#define QASM_MAX_GATE_QUBITS 6
/* Largest register the emitter writes (a basis index fits in 64 bits). */
#define QASM_MAX_QUBITS 63
/* Largest register with a state preparation (2^n - 1 inputs; the runtime
 * accepts n <= 30). */
#define QASM_MAX_STATEPREP_QUBITS 30

/* A dense real orthogonal k-qubit gate on register sites site..site+k-1. */
typedef struct {
	int k;		  /* 1 .. QASM_MAX_GATE_QUBITS */
	int site;	  /* first (most significant) site, 1 .. nqubits-k+1 */
	const double *U;  /* 2^k × 2^k, row-major; row/column bit j is syn qubit j */
} qasm_gate;

/* Gate counts of an emitted program. */
typedef struct {
	long cx;	/* two-qubit gates, state preparation included */
	long oneq;	/* one-qubit gates, state preparation and read-out h included */
	long prep_cx;	/* of which in the state preparation */
	long prep_oneq;
	long depth;	/* layers of the whole program (every gate one step, ASAP) */
	long circuit_depth; /* the same without the state preparation */
	int ninputs;	/* input declarations: 2^n - 1 with stateprep (OpenQASM 3), else 0
			 * (also in OpenQASM 2, where the angles are bound) */
} qasm_stats;

typedef struct {
	int stateprep;	   /* declare angle inputs and prepare the input state */
	int measure;	   /* end with `c = measure q;` */
	qasm_stats *stats; /* when not NULL, receives the counts */
	int readout;	   /* 1: signed read-out stage form (below); nqubits is the
			    * data register q, the program has q + 1 qubits */
	int isa;	   /* 1: physical qubits $k, basis rz, sx, x, cx and one
			    * gphase (amplitudes equal the portable program's) */
} qasm_options;

/* Register qubit q[j] of register site `site` (1 = most significant) of an
 * nqubits-qubit register. */
static inline int qasm_qubit_of_site(int site, int nqubits) { return nqubits - site; }

/* Write the program to f. o may be NULL (no state preparation, measure).
 * Returns 0, or -1 with one line of diagnostic in err (bad gate, synthesis
 * failure, write error); f may then hold a partial program. */
int qasm_emit_circuit(FILE *f, const qasm_gate *gates, int ngates, int nqubits,
		      const qasm_options *o, char *err, size_t errlen);

/* The same circuit as OpenQASM 2 (qelib1.inc, `qreg q[n]; creg c[n];`,
 * `measure q[j] -> c[j];`) for readers without OpenQASM 3 (the npm
 * quantum-circuit simulator). With o->stateprep the preparation angles are
 * bound: theta holds its 2^n - 1 values (n the program's qubits, q + 1 with
 * o->readout), written with %.17g; theta is unused otherwise. o->isa is
 * ignored (qelib1 names: ry, x, z, h, cx, u1 for p). Same return as
 * qasm_emit_circuit. */
int qasm_emit_circuit2(FILE *f, const qasm_gate *gates, int ngates, int nqubits,
		       const qasm_options *o, const double *theta, char *err, size_t errlen);

#endif
