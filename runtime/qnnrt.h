/* qnnrt.h - libqnnrt, the runtime of qnnc's generated programs: an
 * OpenQASM 3 reader, a statevector simulator, the executor interface that
 * runs a quantum stage (embedded simulator by default, any other device
 * through a plug-in), and the state-preparation angles.
 *
 * C99, depends on libc and libm only; generated code includes this header
 * alone. Every function that can fail returns 0 or a negative QNN_E* code
 * and, where it takes an error buffer, writes one line of diagnostic
 * there ("prog.qasm:3:7: unknown gate 'foo'" for program errors).
 *
 * Conventions (DESIGN.md §2):
 *   - Qubit q[j] is bit j of a basis index, least significant first.
 *     Qubit registers are numbered in declaration order: after
 *     `qubit[2] a; qubit[3] b;`, b[0] is qubit 2. Physical qubit $k is
 *     qubit k (a program uses either physical or declared qubits).
 *   - Classical bits likewise: c[j] is bit j of a measured value, bit
 *     registers concatenated in declaration order. A histogram is indexed
 *     by that value.
 *   - A k-qubit matrix acting on qubits (t_0, ..., t_{k-1}) is 2^k x 2^k,
 *     row-major, and its row/column index r = sum_j r_j 2^j, r_j being the
 *     value of t_j (the first listed qubit is the least significant).
 *     So `cx a, b` on qubits (a, b) maps index 1 (a=1, b=0) to index 3.
 *   - Global phases follow the OpenQASM 3 standard library (stdgates.inc
 *     of openqasm/openqasm): rz(l) = diag(e^{-il/2}, e^{il/2}),
 *     u1(l) = p(l) = U(0,0,l), u2(f,l) = e^{-i(f+l)/2} U(pi/2,f,l),
 *     u3(t,f,l) = e^{-i(f+l)/2} U(t,f,l) (Qiskit drops these phases,
 *     which only show under `ctrl @` or in amplitudes).
 *
 * Numbers in program text are read and written in the "C" locale format
 * (a host program that calls setlocale(LC_NUMERIC, ...) breaks them).
 *
 * Memory: programs and states are heap objects freed by their _free
 * function; results go into buffers the caller owns (generated code sizes
 * them at compile time). Nothing here is global except the default
 * executor's program cache, which is locked.
 */
#ifndef QNNRT_H
#define QNNRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes (0 is success). */
enum {
	QNN_OK = 0,
	QNN_EPARSE = -1,       /* the program text is not valid (message has line:col) */
	QNN_EINPUT = -2,       /* wrong number of inputs, or a value that is not finite */
	QNN_ENOMEM = -3,       /* out of memory (state too large for this machine) */
	QNN_ERANGE = -4,       /* too many qubits or bits, or a result buffer too small */
	QNN_EUNSUPPORTED = -5, /* valid program, feature this executor does not provide */
	QNN_EARG = -6,         /* bad argument (NULL pointer, negative shots, ...) */
	QNN_EEXEC = -7         /* the executor or device failed */
};

/* Short text for a return code ("parse error", ...). */
const char *qnn_strerror(int code);

/* Largest register the embedded simulator accepts (2^34 amplitudes are
 * 128 GiB real: memory runs out first, reported as QNN_ENOMEM). */
#define QNN_SIM_MAX_QUBITS 34
/* Largest dense gate accepted by qnn_state_apply. */
#define QNN_MAX_GATE_QUBITS 10
/* Largest classical register a histogram can be indexed by. */
#define QNN_MAX_BITS 40

/* ------------------------------------------------------------ results */

/* What a run returns. The caller fills the buffer fields (NULL / 0 when a
 * result is not wanted) and the executor fills the rest.
 *
 *   counts:   histogram over measured values, counts[v] = number of shots
 *             whose classical register read v; needs counts_len >= 2^nbits
 *             (entries past 2^nbits are zeroed). Sums to the shot count.
 *   amp_re, amp_im: the final state before measurement (simulators only;
 *             others return QNN_EUNSUPPORTED). Needs amps_len >= 2^nqubits.
 *             amp_im may be NULL when the caller knows the final state is
 *             real; imaginary parts up to 1e-10 are then dropped and a
 *             larger one fails with QNN_ERANGE. When set it receives
 *             zeros for a real state. The global phase (gphase) is
 *             included.
 */
typedef struct qnn_result {
	uint64_t *counts;
	size_t counts_len;
	double *amp_re;
	double *amp_im;
	size_t amps_len;
	/* filled by the executor */
	int nqubits;      /* qubits of the program */
	int nbits;        /* classical bits of the program */
	int is_real;      /* the simulation ran on a real state (simulators) */
	long shots;       /* shots taken */
	char err[256];    /* diagnostic when the run fails, else "" */
} qnn_result;

/* ------------------------------------------------------------ executors */

/* An executor runs one OpenQASM 3 program (the text of a quantum stage,
 * len bytes, not necessarily NUL-terminated) with values for its `input`
 * declarations (inputs[i] for the i-th declared input, in program order),
 * takes `shots` samples using `seed` when it samples, and fills *res.
 * run returns 0 or a negative QNN_E* code with a message in res->err.
 * destroy (may be NULL) releases impl. name is for diagnostics.
 *
 * The embedded simulator is the default. To run on something else (a
 * device, a remote or distributed simulator), fill a struct with your own
 * functions and hand it to the generated code's context, e.g.
 *
 *     static int dev_run(void *impl, const char *prog, size_t len,
 *                        const double *in, int nin, long shots,
 *                        uint64_t seed, qnn_result *res)
 *     {
 *         struct my_device *d = impl;
 *         if (res->amp_re) {
 *             snprintf(res->err, sizeof res->err, "no amplitudes on hardware");
 *             return QNN_EUNSUPPORTED;
 *         }
 *         // submit prog with the input values bound, wait; zero
 *         // res->counts, then for each measured value v:
 *         //     res->counts[v] += number of times seen
 *         res->nqubits = ...; res->nbits = ...;
 *         res->shots = shots;
 *         return 0;
 *     }
 *     qnn_executor dev = { "my-device", &my_device_handle, dev_run, NULL };
 *     ctx.executor = &dev;
 *
 * A plug-in whose device cannot read gate definitions or input
 * declarations can use qnn_program_parse + qnn_program_write to get a
 * flat OpenQASM 3 program with the input values inlined. An executor may be called from several
 * threads at once only if its run is thread-safe (the default one is).
 */
typedef struct qnn_executor {
	const char *name;
	void *impl;
	int (*run)(void *impl, const char *program, size_t len, const double *inputs,
		   int ninputs, long shots, uint64_t seed, qnn_result *res);
	void (*destroy)(void *impl);
} qnn_executor;

/* The embedded statevector simulator; a static object, never destroy it.
 * It caches parsed programs (keyed by their text, a few dozen kept),
 * so a stage run once per inference is parsed once. Thread-safe. */
const qnn_executor *qnn_executor_default(void);

/* Run through ex (NULL: the default executor): checks the arguments,
 * clears res's output fields, calls ex->run. */
int qnn_execute(const qnn_executor *ex, const char *program, size_t len,
		const double *inputs, int ninputs, long shots, uint64_t seed,
		qnn_result *res);

/* Empty the default executor's program cache (frees memory; optional). */
void qnn_executor_default_clear(void);

/* ------------------------------------------------------------ programs */

/* A parsed program: gate definitions expanded, registers broadcast, a
 * flat list of gates on qubit indices whose angles are expressions of
 * the inputs, evaluated at each run. Immutable once parsed, so one
 * program may run in several threads. */
typedef struct qnn_program qnn_program;

/* Parse len bytes of OpenQASM 3 (or the OpenQASM 2 subset: qreg, creg,
 * measure ->, qelib1.inc). source names the text in diagnostics (NULL:
 * "<qasm>"). Returns NULL and a message in err on any error. */
qnn_program *qnn_program_parse(const char *text, size_t len, const char *source,
			       char *err, size_t errlen);
void qnn_program_free(qnn_program *p);

int qnn_program_nqubits(const qnn_program *p);
int qnn_program_nbits(const qnn_program *p);
int qnn_program_ninputs(const qnn_program *p);
/* Name of input i (declaration order), NULL when out of range. */
const char *qnn_program_input_name(const qnn_program *p, int i);
/* Index of the input called name, or -1. */
int qnn_program_input_index(const qnn_program *p, const char *name);
/* Number of gate operations after expansion (measurements excluded). */
long qnn_program_ngates(const qnn_program *p);
/* 1 when every gate matrix is real for any input value (ry, x, z, h,
 * cx, cz, swap, ccx, ... only), so runs use the real state. */
int qnn_program_is_real(const qnn_program *p);

/* Run on the embedded simulator: what the default executor does after its
 * cache lookup. With shots > 0 and res->counts set, samples the measured
 * bits; with res->amp_re set, returns the state before measurement.
 * Terminal measurements are sampled from the final state; a program that
 * measures or resets a qubit and then uses it again is simulated shot by
 * shot (and has no amplitudes). */
int qnn_program_run(const qnn_program *p, const double *inputs, int ninputs,
		    long shots, uint64_t seed, qnn_result *res);

/* Write p as a flat OpenQASM 3 program (stdgates.inc names, modifiers for
 * the rest, one `qubit[n] q;` and one `bit[m] c;` register). With
 * inputs == NULL the angles stay expressions of the `input` declarations
 * (the output parses back to the same program); with inputs, the values
 * are substituted and no input is declared. Writes at most len bytes
 * (NUL-terminated when len > 0) and returns the full length, as
 * snprintf does, or a negative code. */
long qnn_program_write(const qnn_program *p, const double *inputs, int ninputs,
		       char *buf, size_t len);

/* ------------------------------------------------------------ simulator */

/* A statevector over n qubits, real (one array of 2^n doubles) or
 * complex (separate real and imaginary arrays). Starts in |0...0>. */
typedef struct qnn_state qnn_state;

/* NULL when n is out of range [0, QNN_SIM_MAX_QUBITS] or memory runs out. */
qnn_state *qnn_state_new(int nqubits, int is_complex);
void qnn_state_free(qnn_state *s);
int qnn_state_nqubits(const qnn_state *s);
int qnn_state_is_complex(const qnn_state *s);
/* The amplitude arrays (2^n each); imag is NULL for a real state. */
double *qnn_state_real(qnn_state *s);
double *qnn_state_imag(qnn_state *s);
/* Set the basis state |index>. */
void qnn_state_set_basis(qnn_state *s, uint64_t index);

/* Apply a dense k-qubit matrix (convention above) to qubits[0..k),
 * 1 <= k <= QNN_MAX_GATE_QUBITS, in one pass over the state. im may be
 * NULL for a real matrix; a complex matrix on a real state fails with
 * QNN_EARG. The matrix need not be unitary. */
int qnn_state_apply(qnn_state *s, int k, const int *qubits, const double *re,
		    const double *im);

/* As qnn_state_apply, acting only where each ctrls[i] has the value
 * ctrl_vals[i] (0 or 1; NULL means all 1). k may be 0: a 1x1 matrix
 * multiplies the controlled subspace (a controlled phase). */
int qnn_state_apply_ctrl(qnn_state *s, int k, const int *qubits, const double *re,
			 const double *im, int nctrl, const int *ctrls, const int *ctrl_vals);

/* Apply the gates of p (inputs bound) to s, which may be real only when
 * the bound program is real. Terminal measurements are ignored; a
 * measurement or reset followed by more gates fails (QNN_EUNSUPPORTED).
 * The global phase (gphase) is applied too. */
int qnn_program_apply(const qnn_program *p, const double *inputs, int ninputs,
		      qnn_state *s, char *err, size_t errlen);

/* Sample shots basis indices from |amplitude|^2 (normalised by the
 * state's norm) into counts[0 .. 2^n) (added to, not cleared). With more
 * shots than outcomes (states up to 2^20 amplitudes) the histogram is
 * drawn at once as a multinomial, one exact binomial per outcome, in
 * O(2^n) instead of O(shots); otherwise one uniform per shot.
 * Deterministic: the same state and seed give the same counts on every
 * machine up to libm (an integer generator; the binomials use log, exp
 * and sqrt); program runs add kernels that round the same way with or
 * without AVX2, so otherwise only libm's sin/cos/exp of the angles can
 * differ between machines. */
int qnn_state_sample(const qnn_state *s, long shots, uint64_t seed, uint64_t *counts);

/* ------------------------------------------------------------ random numbers */

/* xoshiro256** (Blackman & Vigna), seeded by splitmix64 of the seed: the
 * same stream on every machine. Uniforms are the top 53 bits / 2^53. */
typedef struct qnn_rng {
	uint64_t s[4];
} qnn_rng;
void qnn_rng_seed(qnn_rng *r, uint64_t seed);
uint64_t qnn_rng_next(qnn_rng *r);
double qnn_rng_uniform(qnn_rng *r); /* [0, 1) */

/* ------------------------------------------------------------ state preparation */

/* Real-amplitude state preparation by uniformly controlled Ry rotations
 * (Mottonen, Vartiainen, Bergholm, Salomaa, "Transformation of quantum
 * states using uniformly controlled rotations", QIC 5 (2005) 467).
 *
 * v has 2^n entries (any real vector, not all zero; it is normalised),
 * 1 <= n <= 30. theta receives 2^n - 1 angles such that the circuit below,
 * applied to |0...0>, gives v/|v| exactly (signs included: Ry rotations
 * alone reach every real unit vector).
 *
 * The circuit, n stages from the most significant qubit down; stage
 * t = n-1, ..., 0 is a uniformly controlled Ry on target q[t] controlled by
 * q[t+1..n-1] (L = 2^(n-1-t) angles, stored from theta[L-1]):
 *
 *     for i in 0 .. L-1:
 *         ry(theta[L-1+i]) q[t];
 *         if L > 1: cx q[t+1+b(i)], q[t];
 *
 * where b(i) is the index of the lowest set bit of i+1 for i < L-1, and
 * log2(L) - 1 for i = L-1 (the Gray-code order). So n = 2 is
 *
 *     ry(theta0) q[1];
 *     ry(theta1) q[0]; cx q[1], q[0]; ry(theta2) q[0]; cx q[1], q[0];
 *
 * 2^n - 1 ry and 2^n - 2 cx in all. qnn_stateprep_gates lists it. */
int qnn_stateprep_angles(const double *v, int n, double *theta);

/* One gate of the preparation circuit: ry(theta[angle]) q[target] when
 * control < 0, else cx q[control], q[target]. */
typedef struct qnn_prep_gate {
	int target;
	int control;
	int angle;
} qnn_prep_gate;

/* Fill gates[0 .. 2^(n+1) - 3) with the circuit above, in time order
 * (gates may be NULL to count only); returns the count, or a negative
 * code when n is out of range. */
long qnn_stateprep_gates(int n, qnn_prep_gate *gates);

/* ------------------------------------------------------------ quantum stages */

/* A quantum stage applies an orthogonal Q (2^q x 2^q) to x by a signed
 * read-out (DESIGN.md §6). Its program has q + 1 qubits: data q[0..q-1]
 * (q[j] = bit j of the data index), ancilla q[q]; inputs theta0 ..
 * theta{2^(q+1)-2} are the state preparation (qnn_stateprep_angles over
 * q + 1 qubits) of w = [x/|x| ; r] / sqrt(2) (w[a 2^q + j], the ancilla
 * the most significant bit), r = Q^T u, u_j = 1/sqrt(d), d = 2^q; then Q on
 * the data qubits, `h q[q];` and `c = measure q;`. After the H,
 * amp(a, j) = ((Q x^)_j +- u_j) / 2, so
 *   exact: (Q x^)_j = amp(0, j) + amp(1, j)
 *   shots: (Q x^)_j = sqrt(d) (n(0, j) - n(1, j)) / S
 * and y = |x| (Q x^). */
typedef enum qnn_readout { QNN_READOUT_EXACT = 0, QNN_READOUT_SHOTS = 1 } qnn_readout;

typedef struct qnn_stage {
	const char *program; /* OpenQASM 3 text of the stage */
	size_t len;
	int nqubits;         /* data qubits q; the program has q + 1 */
	const double *ref;   /* r = Q^T u, 2^q values (computed by the compiler) */
} qnn_stage;

/* Doubles of workspace qnn_stage_run needs (w, angles, amplitudes or counts). */
#define QNN_STAGE_WORK(q) (3 * ((size_t)2 << (q)))

/* y = Q x (2^q values each) through ex (NULL: the default executor), read
 * out exactly (amplitudes; simulators only; shots ignored) or from
 * `shots` > 0 samples drawn with seed (deterministic per seed). 1 <= q <= 29.
 * x = 0 gives y = 0 without running. work holds QNN_STAGE_WORK(q) doubles
 * (the counts live there as uint64_t); y may be x, neither may overlap
 * work. ref must have norm 1 (to 1e-6). Returns 0 or a negative QNN_E*
 * code with one line of diagnostic in err. */
int qnn_stage_run(const qnn_stage *st, const qnn_executor *ex, qnn_readout mode, long shots,
		  uint64_t seed, const double *x, double *y, double *work, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
