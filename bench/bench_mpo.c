/* bench_mpo.c - TT-SVD and MPO application against the dense baselines
 * measured in the same run (dgesdd of the same matrix; dgemv for one
 * vector, dgemm for a batch of 64), for N×N layers, N = 256, 1024, 4096:
 *   bench_mpo [--full] [--chi X]
 * Two matrices per size: "random" (uniform entries: a flat spectrum, so
 * χ = 16 is a hard truncation) and "kron3" (a sum of three Kronecker
 * products of random 2×2 matrices: every bond is at most 3). Speedups are
 * dense time / MPO time. The dense SVD of the 4096 "kron3" matrix is
 * skipped unless --full (it alone takes about 30 s on 2 cores).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../frontend/dataset.h"
#include "../passes/la.h"
#include "../passes/mpo.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static ds_rng rng = {42};

static double urand(void) { return 2 * ds_rng_uniform(&rng) - 1; } /* [-1, 1) */

/* W = Σ_r ⊗_k A_{r,k} (N = 2^n, k = 0 on the most significant bit). */
static void fill_kron(double *W, int n, int terms)
{
	int64_t N = (int64_t)1 << n;
	double A[4][32][4];
	for (int r = 0; r < terms; r++)
		for (int k = 0; k < n; k++)
			for (int e = 0; e < 4; e++)
				A[r][k][e] = urand();
	for (int64_t i = 0; i < N; i++)
		for (int64_t j = 0; j < N; j++) {
			double s = 0;
			for (int r = 0; r < terms; r++) {
				double v = 1;
				for (int k = 0; k < n; k++)
					v *= A[r][k][((i >> (n - 1 - k)) & 1) * 2 + ((j >> (n - 1 - k)) & 1)];
				s += v;
			}
			W[i * N + j] = s;
		}
}

/* One application (MPO or dense) of W to a batch. */
typedef struct {
	const mpo *a;
	const double *W, *X;
	double *Y;
	int64_t N, batch;
} apply_job;

static void run_mpo(const apply_job *j) { mpo_apply(j->a, j->X, j->batch, j->Y); }

static void run_dense(const apply_job *j)
{
	if (j->batch == 1)
		la_gemv(0, j->N, j->N, 1.0, j->W, j->X, 0.0, j->Y);
	else
		la_gemm(0, 1, j->batch, j->N, j->N, 1.0, j->X, j->W, 0.0, j->Y);
}

/* Best time per call of f over 3 groups of calls lasting ~0.1 s each. */
static double best_time(void (*f)(const apply_job *), const apply_job *j)
{
	double t0 = now();
	f(j);
	double one = now() - t0, best = one;
	int reps = one > 0 ? (int)(0.1 / one) : 1000;
	reps = reps < 1 ? 1 : reps > 1000 ? 1000 : reps;
	for (int g = 0; g < 3; g++) {
		t0 = now();
		for (int r = 0; r < reps; r++)
			f(j);
		double t = (now() - t0) / reps;
		if (t < best)
			best = t;
	}
	return best;
}

static int bench_one(const char *name, const double *W, int n, int chi, int dense_svd,
		     double *svd_time)
{
	int64_t N = (int64_t)1 << n;
	const mpo_trunc t = {chi, 1e-12};
	/* TT-SVD (best of 3 below 4096, once at 4096). */
	mpo *a = NULL;
	double t_tt = 1e30;
	for (int rep = 0; rep < (n >= 12 ? 1 : 3); rep++) {
		mpo_free(a);
		double t0 = now();
		a = mpo_from_dense(W, N, N, 1, &t, NULL);
		if (!a) {
			fprintf(stderr, "bench_mpo: %s\n", la_last_error());
			return 1;
		}
		double dt = now() - t0;
		t_tt = dt < t_tt ? dt : t_tt;
	}
	int maxbond = 0;
	for (int k = 0; k <= a->nsites; k++)
		maxbond = a->bond[k] > maxbond ? a->bond[k] : maxbond;
	/* Accuracy of the truncated MPO. */
	double *R = malloc(sizeof(double) * (size_t)(N * N)), d2 = 0, w2 = 0;
	if (!R || mpo_to_dense(a, R)) {
		fprintf(stderr, "bench_mpo: out of memory\n");
		return 1;
	}
	for (int64_t i = 0; i < N * N; i++) {
		d2 += (R[i] - W[i]) * (R[i] - W[i]);
		w2 += W[i] * W[i];
	}
	free(R);
	/* Dense SVD of the same matrix (once). */
	if (dense_svd) {
		double *U = malloc(sizeof(double) * (size_t)(N * N)), *S = malloc(sizeof(double) * (size_t)N);
		double *Vt = malloc(sizeof(double) * (size_t)(N * N));
		double t0 = now();
		if (!U || !S || !Vt || la_svd(W, N, N, U, S, Vt)) {
			fprintf(stderr, "bench_mpo: dense SVD failed: %s\n", la_last_error());
			return 1;
		}
		*svd_time = now() - t0;
		free(U), free(S), free(Vt);
	}
	/* Application: one vector and a batch of 64. */
	double *X = malloc(sizeof(double) * (size_t)(64 * N)), *Y = malloc(sizeof(double) * (size_t)(64 * N));
	for (int64_t i = 0; i < 64 * N; i++)
		X[i] = urand();
	apply_job j1 = {a, W, X, Y, N, 1}, j64 = {a, W, X, Y, N, 64};
	double m1 = best_time(run_mpo, &j1), d1 = best_time(run_dense, &j1);
	double m64 = best_time(run_mpo, &j64), d64 = best_time(run_dense, &j64);
	char svd[64], ratio[32];
	if (dense_svd) {
		snprintf(svd, sizeof svd, "%9.3f", *svd_time);
		snprintf(ratio, sizeof ratio, "%7.1f", *svd_time / t_tt);
	} else {
		snprintf(svd, sizeof svd, "%9s", "skipped");
		snprintf(ratio, sizeof ratio, "%7s", "-");
	}
	printf("%-7s %5lld %4d %9.3f %s %s %9lld %9.2e %9.1f %9.1f %6.1f %9.1f %9.1f %6.1f\n", name,
	       (long long)N, maxbond, t_tt, svd, ratio, (long long)mpo_nparams(a),
	       w2 > 0 ? sqrt(d2 / w2) : 0.0, m1 * 1e6, d1 * 1e6, d1 / m1, m64 * 1e6, d64 * 1e6,
	       d64 / m64);
	fflush(stdout);
	free(X), free(Y);
	mpo_free(a);
	return 0;
}

int main(int argc, char **argv)
{
	int full = 0, chi = 16;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--full"))
			full = 1;
		else if (!strcmp(argv[i], "--chi") && i + 1 < argc)
			chi = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_mpo [--full] [--chi X]\n");
			return 2;
		}
	}
	if (chi < 1) {
		fprintf(stderr, "bench_mpo: --chi must be at least 1\n");
		return 2;
	}
	printf("bench_mpo: N×N layers, TT-SVD with max bond %d (cutoff 1e-12), one qubit per site\n", chi);
	printf("times: ttsvd/dgesdd in s, apply in µs (best of 3); speedup = dense / MPO\n");
	printf("%-7s %5s %4s %9s %9s %7s %9s %9s %9s %9s %6s %9s %9s %6s\n", "matrix", "N", "chi",
	       "ttsvd", "dgesdd", "speedup", "params", "rel_err", "mpo_x1", "gemv", "speedup",
	       "mpo_x64", "gemm64", "speedup");
	double t0 = now();
	for (int n = 8; n <= 12; n += 2) {
		int64_t N = (int64_t)1 << n;
		double *W = malloc(sizeof(double) * (size_t)(N * N)), svd_time = 0;
		if (!W) {
			fprintf(stderr, "bench_mpo: out of memory\n");
			return 1;
		}
		for (int64_t i = 0; i < N * N; i++)
			W[i] = urand();
		if (bench_one("random", W, n, chi, 1, &svd_time))
			return 1;
		fill_kron(W, n, 3);
		if (bench_one("kron3", W, n, chi, n < 12 || full, &svd_time))
			return 1;
		free(W);
	}
	la_release();
	printf("total %.1f s\n", now() - t0);
	return 0;
}
