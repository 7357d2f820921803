/* synth.h - gate synthesis: a real orthogonal k-qubit gate (a 2^k × 2^k
 * matrix) becomes a circuit of one-qubit gates and CX (DESIGN §5).
 *
 * Bit order. Qubit j of a circuit is bit j of the gate matrix's row and
 * column index, least significant first: U[i][i'] with i = Σ_j i_j 2^j, the
 * same as OpenQASM's q[j] (DESIGN §2). Sites count from the most
 * significant bit: local site 1 of a k-qubit gate is qubit k-1 and local
 * site k is qubit 0 (syn_qubit_of_site). A gate placed on register sites
 * s..s+k-1 of an m-qubit register therefore has its qubit j on q[m-s-k+1+j]:
 * the QASM emitter adds the offset m-s-k+1 and keeps the order.
 *
 * Time order. ops[0] acts first. syn_circuit_matrix returns the product
 * G_{n-1} ··· G_1 G_0, which equals the synthesised matrix.
 *
 * Gate set: ry, x, z, cx — real, so every orthogonal gate of det +1 (and
 * any det for k ≤ 2) comes out real. For k ≥ 3 a gate of det -1 is out of
 * reach of every circuit of real one- and two-qubit gates (each of them has
 * det +1 on 3 or more qubits), so there the synthesis adds one diagonal
 * C^{k-1}Z built from p (phase) gates and CX; the circuit's matrix is still
 * the real input exactly, with complex gates inside. See synth.c.
 */
#ifndef QNNC_SYNTH_H
#define QNNC_SYNTH_H

/* Largest gate synthesised: tested up to 6; k = 8 takes about a second,
 * mostly the final multiply-back check (ops × 4^k). */
#define SYN_MAX_QUBITS 8

typedef enum {
	SYN_RY, /* Ry(angle) = [[cos a/2, -sin a/2], [sin a/2, cos a/2]] on q0 */
	SYN_X,	/* Pauli X on q0 */
	SYN_Z,	/* Pauli Z on q0 */
	SYN_P,	/* phase diag(1, e^{i angle}) on q0 (stdgates "p"; det -1 case only) */
	SYN_CX, /* CX with control q0 and target q1 */
	SYN_GATE_COUNT
} syn_gate;

typedef struct {
	syn_gate gate;
	int q0, q1;   /* local qubits; q1 is -1 for one-qubit gates */
	double angle; /* radians, ry and p only */
} syn_op;

typedef struct {
	int k;	      /* number of qubits */
	int n, cap;   /* ops used / allocated */
	syn_op *ops;  /* in time order */
	double error; /* max |circuit - gate| found by the final check */
} syn_circuit;

typedef struct {
	int cx;	      /* two-qubit gates */
	int oneq;     /* one-qubit gates */
	int depth;    /* layers, every gate one layer on each of its qubits */
	int cx_depth; /* layers counting CX only */
} syn_stats;

/* The OpenQASM 3 stdgates.inc name of a gate ("ry", "x", "z", "p", "cx"). */
const char *syn_gate_name(syn_gate g);

/* Qubit of the gate-local site s (1 = most significant) of a k-qubit gate. */
static inline int syn_qubit_of_site(int site, int k) { return k - site; }

void syn_circuit_init(syn_circuit *c, int k);
void syn_circuit_free(syn_circuit *c);

/* Synthesise the k-qubit orthogonal gate U (2^k × 2^k, row-major) into c
 * (set up by syn_circuit_init; its old ops are dropped). U must be finite and
 * orthogonal to 1e-8 (max |UᵀU - I|). The result is checked by multiplying
 * it back: c->error holds max |circuit - U| and must be below 1e-10 plus
 * ten times U's orthogonality defect. Returns 0, or -1 with the reason in
 * la_last_error() (bad k, bad input, LAPACK failure, failed check). */
int syn_synth(const double *U, int k, syn_circuit *c);

/* The 2^k × 2^k matrix of the circuit (row-major, real part) into out.
 * Returns the largest |imaginary part| of an entry: 0 for a circuit
 * without p gates, rounding-level for the det -1 circuits above. */
double syn_circuit_matrix(const syn_circuit *c, int k, double *out);

/* Gate counts and depth. */
void syn_circuit_stats(const syn_circuit *c, syn_stats *s);

/* CX counts of syn_synth for a generic gate of k qubits (1 ≤ k ≤
 * SYN_MAX_QUBITS) and determinant det: the bound the tests pin. */
int syn_cx_bound(int k, int det);

#endif
