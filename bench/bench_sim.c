/* bench_sim.c - gates per second of libqnnrt's statevector simulator on
 * the real float64 path, for dense 1-, 2- and 6-qubit gates at 20, 24 and
 * 26 qubits, with the memory bandwidth reached (each gate reads and writes
 * the whole state: 16 * 2^n bytes) next to a plain memcpy of the state
 * measured in the same run (also 16 * 2^n bytes moved), and the flop rate
 * (2 * 2^k flops per amplitude); then shot sampling, one call against
 * one uniform per shot.
 *   bench_sim [--quick]      (--quick: 20 and 24 qubits only)
 * Each row averages over target sets at the bottom, middle and top of the
 * register. Rates are the best of three timed rounds (memcpy included), so
 * other load on a shared machine disturbs them less; runs take about 30 s
 * in all (26 qubits is 512 MiB per state). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../runtime/qnnrt.h"

#define ROUNDS 3

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A random orthogonal D x D matrix (Gram-Schmidt), so repeated
 * application neither grows nor shrinks the state. */
static void orthogonal(int D, double *m, qnn_rng *r)
{
	for (int i = 0; i < D; i++) {
		double *row = m + (size_t)i * D;
		for (int j = 0; j < D; j++)
			row[j] = 2 * qnn_rng_uniform(r) - 1;
		for (int p = 0; p < i; p++) {
			const double *q = m + (size_t)p * D;
			double dot = 0;
			for (int j = 0; j < D; j++)
				dot += row[j] * q[j];
			for (int j = 0; j < D; j++)
				row[j] -= dot * q[j];
		}
		double nrm = 0;
		for (int j = 0; j < D; j++)
			nrm += row[j] * row[j];
		nrm = sqrt(nrm);
		for (int j = 0; j < D; j++)
			row[j] /= nrm;
	}
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	static const int sizes[] = {20, 24, 26};
	static const int ks[] = {1, 2, 6};
	int nsizes = quick ? 2 : 3;
	qnn_rng rng;
	qnn_rng_seed(&rng, 1);
	static double m[64 * 64];
	printf("%-6s %-5s %12s %10s %10s %10s %9s\n", "qubits", "gate", "gates/s", "GB/s", "memcpy", "ratio",
	       "GFLOP/s");
	double t_start = now();
	for (int si = 0; si < nsizes; si++) {
		int n = sizes[si];
		size_t N = (size_t)1 << n, bytes = N * sizeof(double);
		qnn_state *s = qnn_state_new(n, 0);
		double *dst = malloc(bytes);
		if (!s || !dst) {
			fprintf(stderr, "bench_sim: no memory for %d qubits\n", n);
			return 1;
		}
		double *a = qnn_state_real(s);
		for (size_t i = 0; i < N; i++)
			a[i] = 1 / sqrt((double)N);
		memcpy(dst, a, bytes); /* touch every page before timing */
		double copy_bw = 0, t;
		for (int round = 0; round < ROUNDS; round++) {
			int reps = 0;
			double t0 = now();
			do {
				memcpy(reps & 1 ? a : dst, reps & 1 ? dst : a, bytes);
				reps++;
			} while ((t = now() - t0) < 0.1 || reps < 2);
			copy_bw = fmax(copy_bw, 2.0 * (double)bytes * reps / t / 1e9);
		}
		for (int ki = 0; ki < 3; ki++) {
			int k = ks[ki], D = 1 << k;
			orthogonal(D, m, &rng);
			/* targets at the bottom, the middle and the top of the register */
			int sets[3][6];
			for (int j = 0; j < k; j++) {
				sets[0][j] = j;
				sets[1][j] = n / 2 - k / 2 + j;
				sets[2][j] = n - k + j;
			}
			double gps = 0;
			for (int round = 0; round < ROUNDS; round++) {
				int gates = 0;
				double g0 = now();
				do {
					if (qnn_state_apply(s, k, sets[gates % 3], m, NULL)) {
						fprintf(stderr, "bench_sim: apply failed\n");
						return 1;
					}
					gates++;
				} while ((t = now() - g0) < 0.15 || gates < 3);
				gps = fmax(gps, gates / t);
			}
			double bw = gps * 2.0 * (double)bytes / 1e9;
			double gflops = gps * (double)N * 2.0 * D / 1e9;
			printf("%-6d %-5d %12.2f %10.2f %10.2f %10.2f %9.2f\n", n, k, gps, bw, copy_bw,
			       bw / copy_bw, gflops);
			fflush(stdout);
		}
		free(dst);
		qnn_state_free(s);
	}
	/* Shot sampling: S shots drawn in one call (a multinomial histogram
	 * when S exceeds the outcomes) against the same S drawn in calls of at
	 * most 2^n shots (one uniform per shot), on a random 9-qubit state (a
	 * stage of the MNIST example) and a 16-qubit one. */
	printf("\nsampling: shots/s in one call vs in calls of <= 2^n shots (one uniform per shot)\n");
	printf("%-6s %-9s %14s %14s %8s\n", "qubits", "shots", "one call", "per shot", "ratio");
	static const int sq[] = {9, 16};
	static const long sshots[] = {10000, 1000000};
	for (int qi = 0; qi < 2; qi++) {
		int n = sq[qi];
		size_t N = (size_t)1 << n;
		qnn_state *s = qnn_state_new(n, 0);
		uint64_t *counts = calloc(N, sizeof *counts);
		if (!s || !counts) {
			fprintf(stderr, "bench_sim: out of memory\n");
			return 1;
		}
		double *a = qnn_state_real(s), nrm = 0;
		for (size_t i = 0; i < N; i++) {
			a[i] = 2 * qnn_rng_uniform(&rng) - 1;
			nrm += a[i] * a[i];
		}
		for (size_t i = 0; i < N; i++)
			a[i] /= sqrt(nrm);
		for (int si = 0; si < 2; si++) {
			long S = sshots[si];
			double best[2] = {0, 0};
			for (int round = 0; round < ROUNDS; round++)
				for (int way = 0; way < 2; way++) {
					long drawn = 0;
					double t, t0 = now();
					do {
						for (long left = S; left > 0;) {
							long c = way && left > (long)N ? (long)N : left;
							if (qnn_state_sample(s, c, (uint64_t)drawn, counts)) {
								fprintf(stderr, "bench_sim: sampling failed\n");
								return 1;
							}
							left -= c;
							drawn += c;
						}
					} while ((t = now() - t0) < 0.1);
					best[way] = fmax(best[way], (double)drawn / t);
				}
			printf("%-6d %-9ld %14.4g %14.4g %8.1f\n", n, S, best[0], best[1], best[0] / best[1]);
			fflush(stdout);
		}
		free(counts);
		qnn_state_free(s);
	}
	printf("total %.1f s\n", now() - t_start);
	return 0;
}
