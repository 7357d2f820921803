/* dis.h - disentanglers (DESIGN.md §4): real orthogonal circuits U on the n
 * output qubits and V on the m input qubits, and a residual MPO M' of small
 * bond χ', with the (padded, 2^n × 2^m) layer W ≈ U M' Vᵀ.
 *
 * Circuits. A circuit on q qubits is a list of gates in application order;
 * its matrix is C = G_{last} ⋯ G_1 G_0. Gate j acts on the qubits of sites
 * s .. s+k-1 (0-based; site 0 is the most significant bit of the 2^q index,
 * DESIGN.md §2) with a real orthogonal 2^k × 2^k matrix g (row-major). The
 * gate index reads the k bits with the first site most significant:
 *   a = Σ_t a_t 2^(k-1-t),  a_t the bit of site s+t,
 *   (G x)[.., a, ..] = Σ_b g[a, b] x[.., b, ..].
 * U = C_U and V = C_V, so a vector x goes through Vᵀ (V's gates in reverse
 * order, each transposed), then M', then U. Gates are grouped into slices:
 * runs of gates on disjoint qubits, sorted by site, which the sweeps update
 * together.
 *
 * Ansatz (per side): D layers of k-qubit gates (k = 1..6), every layer
 * covering the whole register. Brickwork: layer l tiles the qubits with
 * gates of k qubits from the offset o = 0 (l even) or ⌊k/2⌋ (l odd); with
 * o > 0 the first gate covers qubits 0..o-1, and a gate that would run past
 * the end is clipped to the qubits left, so every qubit is in exactly one
 * gate of each layer and each layer is one slice. Staircase: layer l has
 * gates on qubits [s, s+k) for s = 0, 1, .., q-k in that order (one gate of
 * all q qubits if q < k), each its own slice. With one_body, a layer of
 * 1-qubit gates sits between consecutive layers (at either end it would be
 * absorbed by M' or by the next k-qubit layer). Every gate starts as the
 * identity, so the start is plain truncation.
 *
 * Overlap A = Tr[M'ᵀ Uᵀ W V] / (‖W‖_F ‖M'‖_F) = ⟨U M' Vᵀ, W⟩ / (‖W‖ ‖M'‖),
 * error ‖W − U M' Vᵀ‖_F / ‖W‖_F (DESIGN.md §2).
 *
 * Explicit method (dis_explicit; Evenbly and Vidal, "Algorithms for
 * entanglement renormalization", Phys. Rev. B 79, 144108 (2009), §IV):
 * alternate M' ← T_χ'(Uᵀ W V) (TT-SVD truncation at the orthogonality
 * centre, then fit_sweeps one-site fitting sweeps at fixed bond) with one
 * sweep over every gate, g ← polar(E_g + λ g) where E_g = ∂ Tr[M'ᵀ Uᵀ W V]
 * / ∂g and λ = DIS_PROX ‖E_g‖ only picks, among the maximisers of the
 * trace, the one nearest the current gate (with `special`, gates of
 * k ≥ 3 qubits take the maximiser over SO(2^k) instead, see below). Each
 * update maximises the trace for that gate with the rest fixed, and a new
 * M' is kept only when its overlap beats the old M' against the new
 * Uᵀ W V, so the overlap never decreases (up to the gate-application
 * tolerance below). From the identity, alternating updates often stall in
 * local optima; two remedies: `anneal` first optimises at bonds 1, 2, 4,
 * .. < χ' and continues at χ' from those gates if that start is better (on
 * planted depth-2 problems this turns most failures into exact
 * recoveries), and `restarts` hops from the best gates with random kicks
 * (hop 1: strong; hop 10: nearly a fresh random start, which frees the
 * planted cases that anneal leaves stuck), keeps the best run and stops
 * early once the overlap reaches `target`.
 *
 * Special orthogonal gates. Synthesis (synth.h) turns a k ≥ 3 gate of
 * det −1 into a circuit with an extra C^(k-1)Z: 21 / 96 CX at k = 3 / 4
 * instead of 17 / 85 for det +1. With `special` (the default) every gate
 * of k ≥ 3 qubits stays in SO(2^k): the explicit update is the maximiser
 * over SO (Kabsch), restarts kick into SO, and the gradient method's
 * retractions g ← g R with R = cay(Δ) or exp(Δ) ∈ SO never change a det.
 * Gates of k ≤ 2 qubits keep the whole O(2^k) (a det −1 gate costs 3
 * instead of 2 CX at k = 2, nothing at k = 1). Starting circuits (u0, v0)
 * must then have det +1 on their k ≥ 3 gates.
 *
 * Implicit method (dis_gradient): Riemannian Adam on the gates (tangent
 * space of O(2^k), Cayley or exponential retraction, moments moved by
 * projection) and Euclidean Adam on the cores of M' at fixed bond χ', on
 * L = ‖W − U M' Vᵀ‖² / ‖W‖² (MPO path, gradients = the environments), or
 * with calibration inputs X (batch × K, one sample per row) on
 * ‖(W − U M' Vᵀ) Xᵀ‖² / ‖W Xᵀ‖² (dense path). It starts from the identity
 * gates and M' = T_χ'(W), or from u0, v0, m0 (e.g. the explicit result),
 * and returns the best point seen.
 *
 * MPO path and tolerance. Environments are contracted on MPOs (one qubit
 * per site; see dis_mpo.c): applying a k-qubit gate to an MPO contracts it
 * into the k sites and re-splits the bonds by SVD at the orthogonality
 * centre, dropping per bond the smallest singular values whose relative
 * squared weight is at most gate_trunc.cutoff (and beyond
 * gate_trunc.max_bond if set). The default cutoff 1e-20 only drops
 * numerical noise (relative norm 1e-10 per bond); the weights dropped are
 * summed per sweep in dis_step.discarded. A dense path (dis_dense.c, small
 * layers) implements the same method with the same update order and is the
 * test oracle.
 *
 * Errors: functions return -1 (or NULL) with a message in la_last_error();
 * nothing aborts on bad input. Not reentrant (la.h's workspaces).
 */
#ifndef QNNC_DIS_H
#define QNNC_DIS_H

#include <stdint.h>

#include "mpo.h"

#define DIS_MAX_K 6

typedef enum dis_layout { DIS_BRICK, DIS_STAIR } dis_layout;
enum { DIS_LEFT = 1, DIS_RIGHT = 2, DIS_BOTH = 3 }; /* --sides: U, V or both */
typedef enum dis_retraction { DIS_CAYLEY, DIS_EXP } dis_retraction;

typedef struct dis_ansatz {
	int k;                /* qubits per gate, 1..6 */
	int depth;            /* layers D ≥ 0 */
	dis_layout layout;
	int one_body;         /* 1-qubit layers between the layers */
} dis_ansatz;

typedef struct dis_gate {
	int site, k;          /* acts on sites site .. site+k-1 */
	double *m;            /* 2^k × 2^k, row-major, points into the circuit's data */
} dis_gate;

typedef struct dis_circuit {
	int nqubits;
	int ngates, nslices, nlayers;
	dis_gate *gate;       /* [ngates], application order */
	int *slice;           /* [nslices + 1]: slice i is gates slice[i] .. slice[i+1]-1 */
	int64_t nparams;      /* Σ 4^k: the length of data */
	double *data;         /* every gate matrix, gate order; gradients and
	                         environments use the same layout */
} dis_circuit;

/* One entry of the history: sweep 0 (explicit) / step 0 (gradient) is the
 * starting point. */
typedef struct dis_step {
	double overlap, error;
	double loss;          /* gradient: the loss optimised (calibrated if so); explicit: error² */
	double seconds;       /* wall time of this sweep / step */
	double discarded;     /* Σ relative weights dropped applying gates to MPOs */
	int max_bond;         /* largest bond of Uᵀ W V (MPO path) */
} dis_step;

typedef struct dis_opts {
	int sides;            /* DIS_LEFT, DIS_RIGHT or DIS_BOTH */
	dis_ansatz ansatz;    /* the same ansatz on each side */
	int residual_bond;    /* χ' ≥ 1 */
	int max_sweeps;       /* explicit: sweeps; gradient: steps */
	double tol;           /* explicit: stop when a sweep gains less overlap;
	                         gradient: when the best loss improved by less
	                         than tol (relative) over `patience` steps */
	mpo_trunc gate_trunc; /* applying gates to MPOs (see the top comment) */
	int fit_sweeps;       /* explicit: one-site fitting sweeps of M' to Uᵀ W V
	                         after each truncation (0: none) */
	int anneal;           /* explicit: first optimise at bonds 1, 2, 4, .. < χ'
	                         (each until tol or max_sweeps), then at χ' from
	                         those gates if that start is better */
	int restarts;         /* explicit: basin hopping, this many runs at χ' from
	                         the best gates so far with every gate replaced by
	                         polar(g + hop·noise), the best run kept */
	double hop;           /* noise amplitude (default 1: a strong kick; ≥ 10 is
	                         close to a fresh random start) */
	double target;        /* explicit: no further restart once the overlap
	                         reaches target (0, the default: run them all) */
	int special;          /* 1 (default): gates of k ≥ 3 qubits stay in SO(2^k)
	                         (det +1; see the top comment); 0: O(2^k) */
	double (*urand)(void *ctx); /* uniform in [-1, 1), needed for restarts */
	void *urand_ctx;
	/* Starting point (NULL: identity gates and M' = T_χ'(Uᵀ W V)); copied.
	 * The circuits must have n (u0) and m (v0) qubits. */
	const dis_circuit *u0, *v0;
	const mpo *m0;        /* gradient only: starting M' (2^n × 2^m, one qubit per site) */
	/* gradient method */
	double lr;            /* gate step (radians-ish, per-gate normalised) */
	double lr_core;       /* Adam step for the cores of M' */
	double lr_min;        /* cosine schedule floor, as a fraction of lr */
	int warmup;           /* linear warm-up steps */
	double beta1, beta2, eps;
	dis_retraction retraction;
	int patience;
	int dense;            /* plain loss on dense matrices (the same steps, cheaper
	                         for small layers; n + m ≤ 26) instead of MPOs; the
	                         calibrated loss is always dense */
	/* Called after every sweep / step (may be NULL). */
	void (*progress)(void *ctx, int step, const dis_step *s);
	void *progress_ctx;
} dis_opts;

typedef struct dis_result {
	dis_circuit *u, *v;   /* NULL for a side not disentangled */
	mpo *residual;        /* M': 2^n × 2^m (padded), one qubit per site */
	double overlap, error, loss;
	double overlap_trunc, error_trunc; /* plain truncation at χ' */
	int nsweeps;          /* sweeps / steps done (final stage) */
	int anneal_sweeps;    /* sweeps spent at smaller bonds before it */
	int restart_sweeps;   /* sweeps spent in restarts */
	int best_restart;     /* 0: the first run; h: restart h (hist is the first run's) */
	int nrestarts;        /* restarts run (fewer than asked once target is reached) */
	double *restart_overlap; /* [restarts]: each restart's final overlap (0 if not run) */
	int converged;        /* stopped on tol rather than max_sweeps */
	int nhist;
	dis_step *hist;       /* [nhist] = nsweeps + 1 */
	int nbonds;
	double *entropy_before, *entropy_after; /* [nbonds]: W and Uᵀ W V */
	int64_t params_w, params_u, params_v, params_residual;
	double seconds, seconds_per_sweep;
} dis_result;

/* ---------------------------------------------------------------- dis.c */

/* Defaults: both sides, k = 2, D = 4, brickwork, χ' = 2, 50 sweeps,
 * tol 1e-6, gate_trunc {0, 1e-20}, fit_sweeps 1, anneal on, no restarts
 * (hop 1), special on; gradient: lr 0.05, lr_core 0.01, lr_min 0.01,
 * warmup 10, β = (0.9, 0.999), eps 1e-12, Cayley, patience 50. */
void dis_defaults(dis_opts *o);

/* A circuit of identity gates on q ≥ 0 qubits, or NULL on bad arguments
 * (k outside 1..6, negative depth) or out of memory. */
dis_circuit *dis_circuit_new(int q, const dis_ansatz *a);
dis_circuit *dis_circuit_clone(const dis_circuit *c);
void dis_circuit_free(dis_circuit *c);
/* Replace every gate by a random orthogonal matrix: the polar factor of a
 * matrix of urand(ctx) values (uniform in [-1, 1) is fine), the nearest
 * matrix of SO(2^k) for gates of k ≥ 3 qubits (what `special` keeps); for
 * planted problems in tests and benchmarks. 0 or -1. */
int dis_circuit_randomize(dis_circuit *c, double (*urand)(void *ctx), void *ctx);
/* max |gᵀ g − I| over the gates. */
double dis_circuit_orth_error(const dis_circuit *c);
/* Sign of det g for a k-qubit gate (+1 or −1; 0 if singular). */
int dis_gate_det(const double *g, int k);
/* The index of the first gate of k ≥ 3 qubits with det −1 (one that
 * `special` excludes), or −1 if there is none. */
int dis_circuit_first_improper(const dis_circuit *c);

/* The explicit (variational) method on the layer W (one qubit per site).
 * Fills r (release with dis_result_free, also after an error). 0 or -1. */
int dis_explicit(const mpo *W, const dis_opts *o, dis_result *r);
void dis_result_free(dis_result *r);

/* ---------------------------------------------------------- dis_dense.c */

/* X ← C X (transpose: Cᵀ X) for X of 2^q × ncols (row-major), in place. */
int dis_circuit_apply(const dis_circuit *c, int transpose, double *X, int64_t ncols);
/* Each row x of X (batch × 2^q) ← C x (transpose: Cᵀ x), in place. */
int dis_circuit_apply_batch(const dis_circuit *c, int transpose, double *X, int64_t batch);
/* The 2^q × 2^q matrix of the circuit. */
int dis_circuit_to_dense(const dis_circuit *c, double *C);

/* The explicit method on a dense N×K layer (padded inside): the oracle for
 * dis_explicit, same update order. Practical to about 2^12 per side. */
int dis_dense_explicit(const double *W, int64_t N, int64_t K, const dis_opts *o, dis_result *r);

/* ----------------------------------------------------------- dis_grad.c */

/* The implicit (gradient) method on W (one qubit per site). With X
 * (batch × K, K = W->cols, one calibration input per row) the loss is the
 * activation-aware one; that path works on dense matrices and is meant for
 * layers up to about 4096 × 4096. 0 or -1; fills r. */
int dis_gradient(const mpo *W, const double *X, int64_t batch, const dis_opts *o, dis_result *r);

/* ------------------------------------------------- internals (tests use them) */

/* dis.c: shared by dis_dense.c and dis_grad.c. The explicit method runs on
 * a backend that holds W, X = Uᵀ W V and M' (MPO or dense). */
typedef struct dis_backend {
	void *ctx;
	double wnorm;                                    /* ‖W‖ */
	/* X ← Uᵀ W V (NULL circuits: identity), from W. */
	int (*x_of)(void *ctx, const dis_circuit *U, const dis_circuit *V, double *disc);
	/* One sweep over U's then V's gates with M' fixed; X for the new gates. */
	int (*sweep)(void *ctx, dis_circuit *U, dis_circuit *V, double *disc);
	/* The M' step (truncate_step in dis.c); no M' yet after reset_m. */
	int (*trunc)(void *ctx, int chi, int fit, double *f, double *mn, double *tt);
	void (*reset_m)(void *ctx);
	int (*entropy)(void *ctx, int of_x, double *S);  /* of W or of X */
	int (*max_bond)(void *ctx);                      /* of X, 0 if dense */
	mpo *(*take_m)(void *ctx);                       /* M', now the caller's */
} dis_backend;
int dis_explicit_run(const dis_backend *be, int n, int m, int64_t params_w, const dis_opts *o,
		     dis_result *r);
int dis_check_opts(const dis_opts *o, int n, int m);
dis_circuit *dis_side_circuit(int enabled, int q, const dis_circuit *start, const dis_ansatz *a);
int dis_result_init(dis_result *r, int nbonds, int maxhist);
void dis_result_push(dis_result *r, const dis_step *s, const dis_opts *o);
int dis_entropy_of(const mpo *a, double *S);
/* The guard of the M' step: the old M' (⟨M', X⟩ = fo, ‖M'‖ = no; may be
 * NULL) if it overlaps X better than the new truncation Mn (fn, nn),
 * rescaled to its best multiple fo/no² unless it will be refitted; the
 * other is freed. */
mpo *dis_keep_better(mpo *old, double fo, double no, mpo *Mn, double fn, double nn, int fit);
void dis_measure(double f, double mnorm, double wnorm, double *overlap, double *error);

/* dis_mpo.c. MPOs here have one qubit per site, n_out/n_in qubits and
 * rows/cols = 2^n_out / 2^n_in (the padded operator). */

/* g ← polar(E + λ g), λ = DIS_PROX ‖E‖_F: the explicit update (monotone;
 * see dis_mpo.c), over O(2^k). */
#define DIS_PROX 1e-8
int dis_polar_update(const double *E, int k, double *g);
/* The same with special = 1 and k ≥ DIS_SO_MIN_K: the maximiser over
 * SO(2^k) (g must be in SO for the update to be monotone). */
#define DIS_SO_MIN_K 3
int dis_gate_update(const double *E, int k, int special, double *g);
/* Q ← the maximiser of Tr(Qᵀ A) over O(d) (special = 0) or SO(d) (special
 * = 1; Kabsch: A = P S Rᵀ, Q = P diag(1, .., 1, det(P Rᵀ)) Rᵀ) for the d×d
 * matrix A; Q may not alias A. 0 or -1. */
int dis_procrustes(const double *A, int64_t d, int special, double *Q);
/* The `update` argument of dis_envs and dis_dense_envs. */
enum { DIS_ENVS_ONLY = 0, DIS_UPDATE_O = 1, DIS_UPDATE_SO = 2 };
/* 0 if a has one qubit per site, else -1 with the error set. */
int dis_check_mpo(const mpo *a);
/* Zero MPO with the given bonds (nsites+1 entries, ends 1; NULL: all 1). */
mpo *dis_mpo_zero(int n_out, int n_in, const int *bond);
/* Copy of a as the padded operator (rows, cols = 2^n); a must have one
 * qubit per site. */
mpo *dis_mpo_padded(const mpo *a);
/* The MPO of aᵀ (output and input legs swapped). */
mpo *dis_mpo_transpose(const mpo *a);
/* ⟨a, b⟩_F; NAN on failure (mismatched layouts, out of memory). */
double dis_mpo_dot(const mpo *a, const mpo *b);
/* a ← G a on the output legs (transpose: Gᵀ a), re-split with policy t;
 * *discarded (may be NULL) gets the sum of the relative weights dropped. */
int dis_apply_gate(mpo *a, const dis_gate *g, int transpose, const mpo_trunc *t,
		   double *discarded);
/* a ← C a (transpose: Cᵀ a) on the output legs. */
int dis_apply_circuit(mpo *a, const dis_circuit *c, int transpose, const mpo_trunc *t,
		      double *discarded);
/* The sandwich for f = ⟨C R0, T⟩ (T, R0: 2^q × 2^p MPOs with q = C's
 * qubits). Visits the slices from the last to the first and, in a slice,
 * the gates left to right. update = DIS_UPDATE_O (1): each gate becomes
 * polar(E_g) as soon as E_g is known (the explicit sweep; c is changed);
 * DIS_UPDATE_SO (2): the same with dis_gate_update(.., special = 1);
 * update = 0: nothing changes. E (nparams, may be NULL) gets every E_g = ∂f/∂g (with
 * update, at the moment of the update). *Lout (may be NULL) gets Cᵀ T with
 * C as it is at the end; *f (may be NULL) gets f at the end. */
int dis_envs(const mpo *T, const mpo *R0, dis_circuit *c, int update, const mpo_trunc *t,
	     double *E, mpo **Lout, double *f, double *discarded);
/* G[j] (the size of core j of M) = ∂⟨M, X⟩/∂core_j. */
int dis_core_envs(const mpo *M, const mpo *X, double **G);
/* Variational fit of M to X at M's bonds: `sweeps` one-site sweeps
 * (right, then left), each core set to its optimum LE X RE with M
 * canonical there, so ‖X − M‖ never grows; ends with centre 0. */
int dis_fit(mpo *M, const mpo *X, int sweeps);
/* a ← s a (scales the centre core, or core 0 without a centre). */
void dis_mpo_scale(mpo *a, double s);

/* dis_grad.c: the loss and its Euclidean gradients (any may be NULL) at
 * (U, V, M) as the gradient method sees them, with W as given (not
 * rescaled): the calibrated loss with X, else the plain one on MPOs, or on
 * dense matrices when dense is set. */
int dis_grad_eval(const mpo *W, const double *X, int64_t batch, int dense, const dis_opts *o,
		  dis_circuit *U, dis_circuit *V, const mpo *M, double *loss, double *gU,
		  double *gV, double **gM);

/* dis_dense.c: the same sandwich on dense T, R0 (2^q × cols). Lout
 * (2^q × cols, may be NULL) gets Cᵀ T. */
int dis_dense_envs(const double *T, const double *R0, int64_t cols, dis_circuit *c, int update,
		   double *E, double *Lout, double *f);
/* G[j] = ∂⟨M, X⟩/∂core_j for a dense X (2^n_out × 2^n_in of M). */
int dis_dense_core_envs(const mpo *M, const double *X, double **G);

#endif
