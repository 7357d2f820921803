/* circuit.h - the kernels of the Circuit op (semantics in ir/ops.def, the
 * gate index convention in dis.h), defined in passes/op_circuit.c and
 * shared by the interpreter, the training engine (train_circuit.c) and the
 * backends: a Circuit node's attributes, applying gates to batches of
 * 2^q-vectors, the gradient of a gate, and the orthogonality check.
 *
 * A state is one row of 2^q doubles; a batch is `batch` rows, row-major.
 * Gate j acts on sites sites[j] .. sites[j]+ks[j]-1 (site 0 the most
 * significant bit) with the row-major 2^k × 2^k matrix at G + off[j],
 * off[j] = Σ_{i<j} 4^ks[i]; C = G_last ⋯ G_0.
 *
 * BLAS through la.h (so the same thread caveats: bit-identical results for
 * a fixed la_set_threads count); no state of its own.
 */
#ifndef QNNC_CIRCUIT_H
#define QNNC_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "../ir/ir.h"

#define CIRCUIT_MAX_K 6         /* qubits per gate (dis.h's DIS_MAX_K) */
#define CIRCUIT_MAX_QUBITS 30
#define CIRCUIT_ORTH_TOL 1e-6   /* max |gᵀg − I| a gate may have */

/* A Circuit node's attributes, checked (circuit_desc_get). */
typedef struct circuit_desc {
	int q;                /* qubits */
	int64_t rows, cols;   /* 1..2^q */
	int transpose;        /* 0: C x, 1: Cᵀ x */
	int stage;            /* quantum stage, -1: classical only */
	int ngates;           /* ≥ 0 */
	int *sites, *ks;      /* [ngates] */
	int64_t *off;         /* [ngates + 1]: off[ngates] = Σ 4^k = numel(G) */
} circuit_desc;

/* Read and check n's attributes: qubits in 1..30, rows and cols in
 * 1..2^q, transpose 0/1, ints sites and ks of equal length with k in 1..6
 * and site + k ≤ q, stage ≥ -1 (absent: -1). The arrays are malloc'd:
 * release with circuit_desc_free (also after a failure). 0 or -1 with
 * ir_error. */
int circuit_desc_get(ir_graph *g, ir_node *n, circuit_desc *c);
void circuit_desc_free(circuit_desc *c);

/* Every gate of G (c->off[c->ngates] doubles) finite and orthogonal within
 * CIRCUIT_ORTH_TOL; otherwise -1 with ir_error naming the node and the
 * gate. */
int circuit_check_gates(ir_graph *g, ir_node *n, const circuit_desc *c, const double *G);

/* max |gᵀg − I| of the 2^k × 2^k matrix g; NaN if g has a non-finite entry. */
double circuit_orth_defect(int k, const double *g);

/* off[j] = Σ_{i<j} 4^ks[i] for j = 0..ngates (off may be NULL); returns
 * the total, numel(G). */
int64_t circuit_gate_offsets(const int *ks, int ngates, int64_t *off);

/* Doubles of workspace circuit_gate_apply and circuit_gate_grad need on q
 * qubits (max(2^q, 2 · 4096)). */
size_t circuit_work_size(int q);

/* One gate on every row of x (batch × 2^q), in place: x ← g x, or gᵀ x
 * with transpose. The gate's 2^k amplitudes of a row sit 2^(q-site-k)
 * apart: k ≤ 2 runs as plain loops; otherwise a large (2^k × stride) block
 * is one gemm, and thin ones are gathered into a (vectors × 2^k) matrix,
 * multiplied in one gemm and scattered back. work: circuit_work_size(q)
 * doubles. */
void circuit_gate_apply(int q, int site, int k, const double *g, int transpose, double *x,
			int64_t batch, double *work);

/* dg (2^k × 2^k) += Σ over the rows and the other qubits of dy_a x_b: the
 * gradient of Σ ⟨dy, g x⟩ with respect to g, given the gate's input x and
 * the gradient dy at its output (both batch × 2^q). For the transposed
 * application gᵀ x the gradient is the transpose: swap x and dy. work as
 * above. */
void circuit_gate_grad(int q, int site, int k, const double *x, const double *dy, int64_t batch,
		       double *dg, double *work);

/* Every row x of x (batch × 2^q) ← C x (transpose: Cᵀ x, the gates in
 * reverse order, each transposed). 0, or -1 with la_set_error when a gate
 * does not fit q qubits or memory runs out. */
int circuit_apply_f64(const int *sites, const int *ks, int ngates, const double *G, int q,
		      int transpose, double *x, int64_t batch);

#endif
