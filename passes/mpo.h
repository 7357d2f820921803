/* mpo.h - matrix product operators for linear layers (DESIGN.md §2, §3).
 *
 * W (N×K, y = W x) is zero-padded to 2^n × 2^m and written as
 *   W[i, j] = Σ_a core_1[1, i_1, j_1, a_1] core_2[a_1, i_2, j_2, a_2] ... ,
 * i = Σ_k i_k 2^(n-k) (site 1 = most significant bit), likewise j. Core k
 * is a row-major array of shape (bond[k], dout[k], din[k], bond[k+1]) with
 * bond[0] = bond[nsites] = 1. There are nsites = ceil(max(n, m, 1) / g)
 * sites; site k holds qubit positions k·g+1 .. k·g+g (0-based k) and its
 * output leg has dim 2^(number of those positions ≤ n), 1 if none, and
 * likewise its input leg with m. So for n ≠ m the sites past the shorter
 * side carry a dim-1 leg, and N = K = 1 is one site with dims (1, 1).
 *
 * Canonical forms: core k is left-orthogonal when, as a (bond[k] dout din)
 * × bond[k+1] matrix, it has orthonormal columns, right-orthogonal when as
 * bond[k] × (dout din bond[k+1]) it has orthonormal rows. `center` = c
 * means every core left of c is left-orthogonal and every core right of c
 * right-orthogonal, so ‖W‖_F = ‖core c‖_F and the SVD of core c across a
 * bond next to it gives that bond's Schmidt (singular) values.
 *
 * Truncation: at a bond with singular values σ (descending), keep the
 * fewest r ≥ 1 with Σ_{i≥r} σ_i² ≤ cutoff · Σ σ² (if cutoff > 0), then
 * r = min(r, max_bond) (if max_bond > 0). The relative discarded weight of
 * the bond is ε = Σ_{i≥r} σ_i² / Σ σ² (0 for a zero operator). A
 * left-to-right sweep that truncates each bond at the orthogonality centre
 * (TT-SVD with a policy, mpo_truncate) makes orthogonal errors, so its
 * relative squared error is exactly ‖W − W'‖²_F / ‖W‖²_F =
 * 1 − Π_b (1 − ε_b) ≤ Σ_b ε_b. These are errors of the padded 2^n × 2^m
 * operator; truncation may leak weight into the padding, so the error of
 * the N×K block (what mpo_to_dense and mpo_apply see) can only be smaller.
 *
 * Determinism: every factorisation uses la.h's gauges, so the same input
 * gives bit-identical cores. Failures (bad arguments, out of memory, LAPACK)
 * return NULL / -1 with a message in la_last_error(); an MPO that an
 * operation failed on still represents the operator reached so far.
 *
 * TT-SVD: Oseledets, "Tensor-Train Decomposition", SIAM J. Sci. Comput. 33
 * (2011); canonical forms and truncation at the orthogonality centre:
 * Schollwöck, "The density-matrix renormalization group in the age of
 * matrix product states", Ann. Phys. 326 (2011), §4.
 */
#ifndef QNNC_MPO_H
#define QNNC_MPO_H

#include <stdint.h>

typedef struct mpo {
	int nsites;
	int n_out, n_in;      /* qubits: N padded to 2^n_out, K to 2^n_in */
	int64_t rows, cols;   /* N, K before padding */
	int group;            /* qubit positions per site */
	int *dout, *din;      /* [nsites] */
	int *bond;            /* [nsites + 1] */
	double **core;        /* [nsites], each from tn_alloc (64-byte aligned) */
	int center;           /* orthogonality centre, or -1 (set it to -1 after
	                         changing cores by hand) */
} mpo;

typedef struct mpo_trunc {
	int max_bond;         /* 0: no limit */
	double cutoff;        /* relative discarded weight per bond, 0: none */
} mpo_trunc;

/* Number of sites for an N×K layer with g qubit positions per site, or -1
 * if N < 1, K < 1, g < 1 or g > 16 (the length of a discarded[] array is
 * this minus 1). */
int mpo_nsites(int64_t N, int64_t K, int group);

/* TT-SVD of W (N×K row-major) with g qubit positions per site: a
 * left-to-right SVD sweep, truncating each bond as it is made. With t NULL
 * (or {0, 0}) nothing is truncated (exact up to rounding; bonds are the
 * full ranks). discarded (nsites-1 entries, may be NULL) receives ε per
 * bond. The result is left-canonical (center = nsites-1). Returns NULL on
 * bad arguments, non-finite W, out of memory or LAPACK failure. */
mpo *mpo_from_dense(const double *W, int64_t N, int64_t K, int group, const mpo_trunc *t,
		    double *discarded);
/* The zero operator as an N×K MPO with g qubit positions per site (layout
 * as above) and the given bonds (nsites+1 entries, both ends 1, all ≥ 1;
 * NULL: all 1): every core allocated and zero, center -1. Returns NULL on a
 * bad layout or bond, or out of memory. */
mpo *mpo_new(int64_t N, int64_t K, int group, const int *bond);
void mpo_free(mpo *a);
/* Deep copy, or NULL when out of memory. */
mpo *mpo_clone(const mpo *a);

/* Bring into mixed canonical form with the given centre (0..nsites-1) by
 * QR sweeps from the left and LQ sweeps from the right (only from the
 * current centre when it is known). Thin factors may shrink bonds to
 * min(left dims, right dims). Returns 0 or -1. */
int mpo_canonicalize(mpo *a, int center);

/* Truncate every bond with policy t in one sweep: right-canonicalise, then
 * SVD at the centre moving left to right. discarded (nsites-1 entries, may
 * be NULL) gets ε per bond. Returns the relative squared error
 * ‖W − W'‖²_F / ‖W‖²_F of the sweep (= 1 − Π(1 − ε_b), computed from the
 * absolute weights; ≤ Σ ε_b), or -1 on failure. Ends with center =
 * nsites-1. */
double mpo_truncate(mpo *a, const mpo_trunc *t, double *discarded);

/* Truncate only bond b (1..nsites-1, between sites b-1 and b) with policy t:
 * move the centre to site b-1, SVD, keep, absorb into site b (the new
 * centre). Returns ε of that bond, which is exactly the relative squared
 * error ‖W − W'‖²_F / ‖W‖²_F of the step, or -1 on failure. */
double mpo_truncate_bond(mpo *a, int b, const mpo_trunc *t);

/* Von Neumann entropy −Σ p ln p, p = σ²/Σσ², of every bond (nsites-1
 * entries) by an SVD sweep without truncation: the operator is unchanged
 * up to rounding, but the cores are rewritten and the centre ends at
 * nsites-1. A zero operator has entropy 0. Returns 0 or -1. */
int mpo_entropy(mpo *a, double *S);

/* Frobenius norm (by transfer matrices; needs no canonical form), or -1
 * when out of memory. */
double mpo_norm(const mpo *a);
/* Parameter count: the sum of the core sizes. */
int64_t mpo_nparams(const mpo *a);

/* Dense N×K matrix (padding dropped). 0, or -1 when out of memory. */
int mpo_to_dense(const mpo *a, double *W);

/* Y[b, :] = W X[b, :] for a batch: X is batch×K, Y batch×N (row-major),
 * batch ≥ 0. Contracts site by site with one dgemm per site on a
 * (bond·input leg) × rest state; site k costs 2·batch·χ_{k-1}χ_k ·
 * (Π_{l≤k} dout_l)(Π_{l≥k} din_l) flops, e.g. 4·batch·2^n·Σ_k χ_{k-1}χ_k
 * for a square layer with one qubit per site, against 2·batch·N·K dense.
 * The batch goes in chunks sized so the state stays in cache. 0, or -1
 * when out of memory. */
int mpo_apply(const mpo *a, const double *X, int64_t batch, double *Y);

/* C = W B for a dense K×ncols matrix B; C is N×ncols (row-major). Same
 * routine as mpo_apply with the columns of B as the batch. 0 or -1. */
int mpo_apply_matrix(const mpo *a, const double *B, int64_t ncols, double *C);

#endif
