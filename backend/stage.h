/* stage.h - quantum stages of the hybrid program (DESIGN.md §6, spec §2):
 * the OpenQASM text and the reference vector of a Circuit node that runs on
 * the quantum side, and a checked Circuit node with constant gates for the
 * emitters.
 *
 * A Circuit node (ir/ops.def) applies Q = C (transpose = 0) or Cᵀ
 * (transpose = 1) to its zero-padded input, C = G_last ⋯ G_0 in
 * passes/dis.h's convention. Its stage program (qasm_options.readout) has
 * q + 1 qubits: the state preparation of [x̂ ; r] / √2, Q on the data
 * register (G_0 .. G_last, or G_lastᵀ .. G_0ᵀ), H on the ancilla, measure.
 * r = Qᵀu with u_j = 1/√2^q is computed here in double (circuit_apply_f64),
 * and runtime/stage.c (qnn_stage_run) reads y = Q x back from that program.
 */
#ifndef QNNC_STAGE_H
#define QNNC_STAGE_H

#include <stddef.h>

#include "../ir/ir.h"
#include "../passes/circuit.h"
#include "qasm.h"

/* A Circuit node's attributes and gates, checked. */
typedef struct stage_circuit {
	circuit_desc d;  /* attributes (passes/circuit.h); release with stage_circuit_free */
	const double *G; /* every gate matrix: the constant G's data, d.off[j] is gate j's */
} stage_circuit;

/* Fill sc from Circuit node n: circuit_check (attributes, inputs, G's
 * layout, every gate orthogonal) and G must be a constant. 0, or -1 with
 * ir_error naming the node (and the gate); sc needs stage_circuit_free
 * either way. */
int stage_circuit_of(ir_graph *g, ir_node *n, stage_circuit *sc);
void stage_circuit_free(stage_circuit *sc);

/* The OpenQASM 3 program of the stage of Circuit node n (isa: physical
 * qubits and the rz/sx/x/cx basis, see qasm.h), as heap text (*text, *len
 * bytes, NUL-terminated), and *ref = r = Qᵀu (2^q doubles, heap). st (may
 * be NULL) receives the gate counts. Release with free. 0, or -1 with
 * ir_error (then nothing is allocated). */
int stage_program(ir_graph *g, ir_node *n, int isa, char **text, size_t *len, double **ref,
		  qasm_stats *st);

/* The same program as OpenQASM 2 (qasm_emit_circuit2) with the preparation
 * angles bound to theta (2^(q+1) - 1 values: qnn_stateprep_angles of
 * [x̂ ; r] / √2 over q + 1 qubits for one input x). Heap text; 0 or -1 with
 * ir_error. */
int stage_program2(ir_graph *g, ir_node *n, const double *theta, char **text, size_t *len,
		   qasm_stats *st);

#endif
