/* bench_dis.c - seconds per sweep of the explicit disentangler (k = 2,
 * D = 4 brickwork, χ' = 4, one qubit per site), against baselines measured
 * in the same run:
 *   bench_dis [--cap X] [--sweeps S] [--full]
 * Rows:
 *   256, 4096  a random N×N layer. "dense": the dense path on the exact
 *              layer (the oracle); "mpo χ=32": the MPO path on the layer's
 *              TT-SVD at bond 32; ratio = dense / MPO per sweep. The
 *              dense 4096 rows take about 10 minutes (full TT-SVDs of
 *              4096² matrices in every M' step) and run with --full only.
 *   65536      a random MPO of bond 32 (2^16 × 2^16, never dense); the
 *              baseline is one TT-SVD truncation of it to χ' (what plain
 *              compression costs); ratio = sweep / truncation.
 * Applying gates to the big MPOs grows their bonds (up to 4 per crossing
 * gate); --cap X bounds them at X (default 128 = 4·32, 0: no cap), and the
 * weight that drops is printed (Σ of the relative discarded weights per
 * sweep). Sides: left only and both. Random data from a fixed seed.
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

static ds_rng rng = {42};

static double urand(void) { return 2 * ds_rng_uniform(&rng) - 1; } /* [-1, 1) */

static void header(void)
{
	printf("%-6s %-10s %-5s %8s %10s %10s %9s %9s %8s %10s\n", "N", "path", "sides", "maxbond",
	       "s/sweep", "baseline", "ratio", "overlap", "trunc", "discarded");
}

static int run(const char *path, int64_t N, int sides, const mpo *W, const double *Wd, int cap,
	       int sweeps, double baseline, const char *bname, double *per_sweep)
{
	dis_opts o;
	dis_defaults(&o);
	o.sides = sides;
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
		fprintf(stderr, "bench_dis: %s\n", la_last_error());
		dis_result_free(&r);
		return 1;
	}
	int mb = 0;
	double disc = 0;
	for (int s = 0; s < r.nhist; s++) {
		mb = r.hist[s].max_bond > mb ? r.hist[s].max_bond : mb;
		disc += r.hist[s].discarded;
	}
	*per_sweep = r.seconds_per_sweep;
	char b[32] = "-", ratio[32] = "-";
	if (baseline > 0) {
		snprintf(b, sizeof b, "%.3f", baseline);
		snprintf(ratio, sizeof ratio, "%.2f%s", !strcmp(bname, "dense") ? baseline / *per_sweep :
									     *per_sweep / baseline, "");
	}
	printf("%-6lld %-10s %-5s %8d %10.3f %10s %9s %9.5f %8.5f %10.2e\n", (long long)N, path,
	       sides == DIS_LEFT ? "left" : "both", mb, *per_sweep, b, ratio, r.overlap,
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
		int64_t l = (int64_t)1 << (2 * (k < 30 ? k : 30)), r = (int64_t)1 << (2 * (n - k < 30 ? n - k : 30));
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

int main(int argc, char **argv)
{
	int cap = 128, sweeps = 3, dense4096 = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cap") && i + 1 < argc)
			cap = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--sweeps") && i + 1 < argc)
			sweeps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--full"))
			dense4096 = 1;
		else {
			fprintf(stderr, "usage: bench_dis [--cap X] [--sweeps S] [--full]\n");
			return 2;
		}
	}
	if (cap < 0 || sweeps < 1) {
		fprintf(stderr, "bench_dis: --cap must be ≥ 0 and --sweeps ≥ 1\n");
		return 2;
	}
	la_set_threads(1);
	printf("bench_dis: explicit method, k = 2, D = 4 brickwork, chi' = 4, %d sweeps, gate "
	       "bond cap %d, 1 BLAS thread\n", sweeps, cap);
	header();
	double t0 = dis_now();
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
		if (!Wm) {
			fprintf(stderr, "bench_dis: %s\n", la_last_error());
			return 1;
		}
		for (int sides = DIS_LEFT; sides <= DIS_BOTH; sides += 2) {
			double dense = 0, mp = 0;
			if (n < 12 || dense4096) {
				if (run("dense", N, sides, NULL, W, cap, sweeps, 0, "", &dense))
					return 1;
			}
			if (run("mpo chi=32", N, sides, Wm, NULL, cap, sweeps, dense, "dense", &mp))
				return 1;
		}
		mpo_free(Wm);
		free(W);
	}
	/* 2^16 × 2^16 as an MPO only. */
	mpo *W = random_mpo(16, 32), *T = W ? mpo_clone(W) : NULL;
	if (!T) {
		fprintf(stderr, "bench_dis: %s\n", la_last_error());
		return 1;
	}
	const mpo_trunc tr = {4, 0};
	double tt = dis_now();
	if (mpo_truncate(T, &tr, NULL) < 0) {
		fprintf(stderr, "bench_dis: %s\n", la_last_error());
		return 1;
	}
	tt = dis_now() - tt;
	mpo_free(T);
	for (int sides = DIS_LEFT; sides <= DIS_BOTH; sides += 2) {
		double s;
		if (run("mpo chi=32", (int64_t)1 << 16, sides, W, NULL, cap, sweeps, tt, "truncation", &s))
			return 1;
	}
	mpo_free(W);
	la_release();
	printf("ratio: dense s/sweep over MPO s/sweep (256, 4096); s/sweep over one truncation "
	       "(65536)\ntotal %.1f s\n", dis_now() - t0);
	return 0;
}
