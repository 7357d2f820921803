/* la.h - the one wrapper around LAPACK/BLAS (OpenBLAS + LAPACKE). Every
 * dense linear-algebra call in the compiler goes through here: workspaces
 * are reused, info codes are checked, and singular vectors get a fixed sign
 * gauge so results are deterministic. All matrices are row-major doubles
 * with an explicit leading dimension equal to their column count.
 *
 * Maths and references: SVD by divide and conquer (LAPACK dgesdd) with a
 * QR-iteration retry (dgesvd) when it does not converge; QR by Householder
 * (dgeqrf + dorgqr); polar decomposition A = Q P from the SVD
 * A = U S Vᵀ as Q = U Vᵀ (Higham, "Functions of Matrices", ch. 8);
 * symmetric eigenproblem by dsyevd; cosine-sine decomposition by dorcsd;
 * real Schur form by dgees; linear systems by LU (dgesv's
 * dgetrf + dgetrs), and on top of them the Cayley transform and the
 * matrix exponential.
 *
 * Sign gauge (singular and eigen vectors): in every left singular vector
 * (column of U) and every eigenvector, the first entry whose magnitude is
 * within a relative 1e-10 of the largest is made positive; the matching
 * right singular vector (row of Vt) flips with it. The tolerance makes
 * exact ties that rounding splits (e.g. ±1/√2) resolve to the first entry.
 * QR and LQ get a non-negative diagonal in R and L. With full rank and
 * distinct singular values the factors are then unique, so equal inputs give
 * bit-identical outputs.
 *
 * Not reentrant: the workspaces are static (one set per process), so call
 * from one thread at a time. A failing call returns -1 and leaves a
 * message in la_last_error(); nothing here aborts on bad data.
 */
#ifndef QNNC_LA_H
#define QNNC_LA_H

#include <stdint.h>

/* Thin SVD of the m×n matrix A (not modified): A = U diag(S) Vt with
 * k = min(m, n), U m×k, S k (descending, ≥ 0), Vt k×n, gauge as above.
 * Outputs must not alias A. Returns 0, or -1 if A has a non-finite entry,
 * a dimension exceeds LAPACK's int range, memory runs out, or both LAPACK
 * drivers fail. */
int la_svd(const double *A, int64_t m, int64_t n, double *U, double *S, double *Vt);

/* The left half of la_svd: U (m×k) and S (k), the same gauge, without
 * forming Vt (then S Vt = Uᵀ A if needed). For a wide A (n > m) it first
 * reduces A = L Q by TSQR (Q not formed: one sweep over A through the
 * cache) and takes the SVD of the m×m factor L; dgesdd would sweep a wide
 * A several times per row to build both factors (TT-SVD of large layers).
 * Same failures as la_svd. */
int la_svd_left(const double *A, int64_t m, int64_t n, double *U, double *S);

/* Thin QR of the m×n matrix A (m ≥ n or not): A = Q R with k = min(m, n),
 * Q m×k with orthonormal columns, R k×n upper triangular with a
 * non-negative diagonal (the gauge). Outputs must not alias A. 0 or -1. */
int la_qr(const double *A, int64_t m, int64_t n, double *Q, double *R);

/* Same as la_qr but A = L Q with L m×k lower triangular (non-negative
 * diagonal) and Q k×n with orthonormal rows. */
int la_lq(const double *A, int64_t m, int64_t n, double *L, double *Q);

/* Orthogonal polar factor of the m×n matrix A: Q = U Vt from the thin SVD
 * (m×n, orthonormal columns if m ≥ n, rows otherwise). For square A it is
 * the orthogonal matrix that maximises Tr(Qᵀ A) (the closest orthogonal
 * matrix in Frobenius norm). Q may not alias A. Returns 0 or -1. */
int la_polar(const double *A, int64_t m, int64_t n, double *Q);

/* Sign of det A for the n×n matrix A by LU with partial pivoting on a copy
 * (on the stack up to 64×64, so gate-sized calls do not allocate): +1, −1,
 * or 0 when a pivot vanishes (or, above 64×64, when out of memory). */
int la_det_sign(const double *A, int64_t n);

/* Eigen-decomposition of the symmetric n×n matrix A (only its upper
 * triangle is read): eigenvalues w ascending, eigenvectors as the columns of
 * Z (n×n, gauge as above). Z may not alias A. Returns 0 or -1. */
int la_syev(const double *A, int64_t n, double *w, double *Z);

/* Cosine-sine decomposition (dorcsd) of the n×n orthogonal matrix X, n
 * even, h = n/2: X = diag(U1, U2) [C -S; S C] diag(V1t, V2t) with
 * C = diag(cos θ), S = diag(sin θ), θ (h entries) in [0, π/2], and the four
 * factors h×h orthogonal. No sign gauge: the factors are LAPACK's (up to the
 * transposes of the row-major layout). Outputs must not alias X. Returns 0,
 * or -1 if n is odd, X has a non-finite entry, or dorcsd fails. */
int la_csd(const double *X, int64_t n, double *U1, double *U2, double *V1t, double *V2t,
	   double *theta);

/* Real Schur form (dgees, no eigenvalue ordering) of the n×n matrix A:
 * A = Q T Qᵀ with Q orthogonal and T quasi-upper-triangular in LAPACK's
 * standard form (2×2 blocks with equal diagonal and off-diagonal entries of
 * opposite signs; exact zeros below a 1×1 block). T and Q may not alias A.
 * Returns 0 or -1 (non-finite entry, no convergence). */
int la_schur(const double *A, int64_t n, double *T, double *Q);

/* C = alpha op(A) op(B) + beta C, op(A) m×k, op(B) k×n, C m×n, with
 * op = transpose when ta / tb is nonzero. Stored shapes are A: ta ? k×m :
 * m×k, B: tb ? n×k : k×n (row-major, contiguous). */
void la_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha, const double *A,
	     const double *B, double beta, double *C);

/* y = alpha op(A) x + beta y for the m×n matrix A (op = transpose if ta). */
void la_gemv(int ta, int64_t m, int64_t n, double alpha, const double *A, const double *x,
	     double beta, double *y);

/* Float32 la_gemm for the training engine (passes/train*.c), same shapes
 * and conventions: C = alpha op(A) op(B) + beta C, row-major, contiguous;
 * k = 0 gives C = beta C. */
void la_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *A,
	      const float *B, float beta, float *C);

/* Solve A X = B for the n×n matrix A and the n×nrhs matrix B by LU with
 * partial pivoting (dgetrf + dgetrs). X may alias B. Returns 0, or -1 if A
 * is exactly singular, has a non-finite entry, or memory runs out. */
int la_solve(const double *A, int64_t n, const double *B, int64_t nrhs, double *X);

/* Cayley transform Q = (I − A/2)^{-1} (I + A/2) of the n×n matrix A. For a
 * skew-symmetric A, Q is orthogonal with det +1, I − A/2 is always
 * invertible, and Q = exp(A) + O(‖A‖³): the retraction of a step A in the
 * Lie algebra of O(n) (Li, Fuxin, Todorovic, "Efficient Riemannian
 * optimization on the Stiefel manifold via the Cayley transform", ICLR
 * 2020). Q may not alias A. Returns 0 or -1. */
int la_cayley(const double *A, int64_t n, double *Q);

/* Matrix exponential of the n×n matrix A by scaling and squaring with the
 * [13/13] Padé approximant (Higham, "The scaling and squaring method for
 * the matrix exponential revisited", SIAM J. Matrix Anal. Appl. 26
 * (2005)): relative error near machine precision in exact arithmetic. E may
 * not alias A. Returns 0 or -1. */
int la_expm(const double *A, int64_t n, double *E);

/* Threads for BLAS/LAPACK (n ≤ 0: OpenBLAS's default, one per core).
 * Bit-identical results need a fixed count: OpenBLAS splits work
 * differently with more threads, and e.g. a 64×64×900 dgemm already
 * differs in the last bits between 1 and 2 threads. So a driver that
 * promises the same output at any thread count pins this (to 1, or to a
 * number that does not depend on the machine). Returns the count now in
 * effect. */
int la_set_threads(int n);

/* The last failure of la_, tn_ or mpo_ (the numerical core shares one
 * message slot), "" if none. la_set_error formats into it (printf-style). */
const char *la_last_error(void);
void la_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Release the reused workspaces, which keep the size of the largest
 * problem seen (call at exit for leak checkers, or after a large
 * factorisation to give the memory back). */
void la_release(void);

/* Test hooks. la_debug_fail_svd(c): the next c SVD driver calls (dgesdd
 * or the dgesvd retry) report non-convergence without running, so c = 1
 * exercises the retry and c = 2 the failure path. la_svd_retries counts the
 * dgesdd -> dgesvd retries since start-up. */
void la_debug_fail_svd(int count);
int64_t la_svd_retries(void);

#endif
