/* bench_dis.c - seconds per sweep of the explicit disentangler on both
 * sides (k = 2, D = 4 brickwork, χ' = 4, one qubit per site), each against
 * a baseline measured in the same run:
 *   bench_dis [--sweeps S] [--cap X] [--oracle]
 * Rows (the three sizes):
 *   256, 4096  a random N×N layer, given to the method as its TT-SVD at
 *              bond 32 (what a compressed MpoLinear holds); the baseline is
 *              one dense SVD (dgesdd) of the layer, what a plain low-rank
 *              truncation of it costs.
 *   65536      a random MPO of bond 32 (2^16 × 2^16, 32 GiB densely: never
 *              formed); the baseline is one TT-SVD truncation of it to χ',
 *              what plain MPO truncation costs.
 * ratio = seconds per sweep / baseline seconds. Applying gates to the MPOs
 * grows their bonds (up to 4 per crossing gate, so up to 32·4^4 on each
 * side); --cap X bounds them at X (default 128 = 4·32, 0: no cap) and the
 * weight that drops is printed (Σ of the relative discarded weights over
 * the run). --oracle adds the dense path (the test oracle) on the exact
 * 256 layer. Random data from a fixed seed, one BLAS thread.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../frontend/dataset.h"
#include "../passes/dis.h"
#include "../passes/la.h"
#include "../passes/mpo.h"
#include "../passes/progress.h"

static ds_rng rng = {42};

static double urand(void) { return 2 * ds_rng_uniform(&rng) - 1; } /* [-1, 1) */

static int fail(const char *what)
{
	fprintf(stderr, "bench_dis: %s: %s\n", what, la_last_error());
	return 1;
}

/* One row: the explicit method on W (MPO) or Wd (dense N×N), both sides. */
static int row(const char *layer, const char *input, int64_t N, const mpo *W, const double *Wd,
	       int cap, int sweeps, const char *bname, double base)
{
	dis_opts o;
	dis_defaults(&o);
	o.sides = DIS_BOTH;
	o.ansatz.k = 2;
	o.ansatz.depth = 4;
	o.residual_bond = 4;
	o.max_sweeps = sweeps;
	o.tol = 0;
	o.anneal = 0;
	o.gate_trunc.max_bond = cap;
	dis_result r;
	int rc = W ? dis_explicit(W, &o, &r) : dis_dense_explicit(Wd, N, N, &o, &r);
	if (rc) {
		dis_result_free(&r);
		return fail(layer);
	}
	int mb = 0;
	double disc = 0;
	for (int s = 0; s < r.nhist; s++) {
		mb = r.hist[s].max_bond > mb ? r.hist[s].max_bond : mb;
		disc += r.hist[s].discarded;
	}
	char bond[16] = "-";
	if (W)
		snprintf(bond, sizeof bond, "%d", mb);
	printf("%-13s %-16s %8s %9.3f  %-22s %9.3f %9.3g %8.5f %8.5f %9.2e\n", layer, input, bond,
	       r.seconds_per_sweep, bname, base, r.seconds_per_sweep / base, r.overlap,
	       r.overlap_trunc, disc);
	fflush(stdout);
	dis_result_free(&r);
	return 0;
}

/* A random MPO of bond chi on n + n qubits, cores scaled to keep ‖W‖ ~ 1. */
static mpo *random_mpo(int n, int chi)
{
	int bond[65];
	for (int k = 0; k <= n; k++) {
		int64_t l = (int64_t)1 << (2 * (k < 30 ? k : 30));
		int64_t r = (int64_t)1 << (2 * (n - k < 30 ? n - k : 30));
		int64_t b = chi < l ? chi : l;
		bond[k] = (int)(b < r ? b : r);
	}
	mpo *a = dis_mpo_zero(n, n, bond);
	for (int k = 0; a && k < n; k++) {
		int64_t sz = (int64_t)a->bond[k] * 4 * a->bond[k + 1];
		double s = 1 / sqrt(4.0 * a->bond[k]);
		for (int64_t i = 0; i < sz; i++)
			a->core[k][i] = s * urand();
	}
	return a;
}

/* Seconds for one dense SVD (U, S, Vᵀ) of the N×N matrix W. */
static double svd_seconds(const double *W, int64_t N)
{
	size_t nn = (size_t)(N * N);
	double *U = malloc(nn * sizeof *U), *Vt = malloc(nn * sizeof *Vt);
	double *S = malloc((size_t)N * sizeof *S), t = -1;
	if (U && Vt && S) {
		t = progress_now();
		t = la_svd(W, N, N, U, S, Vt) ? -1 : progress_now() - t;
	}
	free(U);
	free(Vt);
	free(S);
	return t;
}

int main(int argc, char **argv)
{
	int cap = 128, sweeps = 3, oracle = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cap") && i + 1 < argc)
			cap = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--sweeps") && i + 1 < argc)
			sweeps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--oracle"))
			oracle = 1;
		else {
			fprintf(stderr, "usage: bench_dis [--sweeps S] [--cap X] [--oracle]\n");
			return 2;
		}
	}
	if (cap < 0 || sweeps < 1) {
		fprintf(stderr, "bench_dis: --cap must be ≥ 0 and --sweeps ≥ 1\n");
		return 2;
	}
	la_set_threads(1);
	printf("bench_dis: explicit method, both sides, k = 2, D = 4 brickwork, chi' = 4, %d sweeps, "
	       "gate bond cap %d, 1 BLAS thread\n", sweeps, cap);
	printf("%-13s %-16s %8s %9s  %-22s %9s %9s %8s %8s %9s\n", "layer", "input", "maxbond",
	       "s/sweep", "baseline", "base s", "ratio", "overlap", "trunc", "discarded");
	double t0 = progress_now();
	for (int n = 8; n <= 12; n += 4) {
		int64_t N = (int64_t)1 << n;
		double *W = malloc(sizeof(double) * (size_t)(N * N));
		if (!W) {
			fprintf(stderr, "bench_dis: out of memory\n");
			return 1;
		}
		for (int64_t i = 0; i < N * N; i++)
			W[i] = urand();
		const mpo_trunc t = {32, 0};
		mpo *Wm = mpo_from_dense(W, N, N, 1, &t, NULL);
		double base = Wm ? svd_seconds(W, N) : -1;
		if (!Wm || base < 0)
			return fail("baseline");
		char layer[32], bname[32];
		snprintf(layer, sizeof layer, "%lld^2", (long long)N);
		snprintf(bname, sizeof bname, "dense SVD %lld^2", (long long)N);
		if (row(layer, "MPO chi=32", N, Wm, NULL, cap, sweeps, bname, base))
			return 1;
		if (oracle && n == 8 && row(layer, "dense (oracle)", N, NULL, W, cap, sweeps, bname, base))
			return 1;
		mpo_free(Wm);
		free(W);
	}
	/* 2^16 × 2^16 as an MPO only. */
	mpo *W = random_mpo(16, 32), *T = W ? mpo_clone(W) : NULL;
	if (!T)
		return fail("2^16 MPO");
	const mpo_trunc tr = {4, 0};
	double tt = progress_now();
	if (mpo_truncate(T, &tr, NULL) < 0)
		return fail("truncation");
	tt = progress_now() - tt;
	mpo_free(T);
	if (row("65536^2", "MPO chi=32 only", (int64_t)1 << 16, W, NULL, cap, sweeps,
		"TT-SVD to chi'=4", tt))
		return 1;
	mpo_free(W);
	la_release();
	printf("ratio = s/sweep / baseline s; overlap after %d sweeps (trunc: plain truncation "
	       "to chi'); discarded: weight dropped by the gate bond cap\ntotal %.1f s\n", sweeps,
	       progress_now() - t0);
	return 0;
}
