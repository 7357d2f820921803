/* haar.h - seeded random numbers and Haar-random orthogonal matrices for
 * the synthesis and circuit tests. Set rng_state to seed. */
#ifndef QNNC_TEST_HAAR_H
#define QNNC_TEST_HAAR_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../passes/la.h"
#include "../../passes/synth.h"

static uint64_t rng_state;

static double urand(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void) { return sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand()); }

/* Haar-random orthogonal n×n: QR of a Gaussian with R's diagonal made
 * positive (la_qr's gauge); det forced to `det` by negating column 0. */
static int haar(double *Q, int n, int det)
{
	double *G = malloc((size_t)2 * n * n * sizeof *G);
	if (!G)
		return -1;
	for (int i = 0; i < n * n; i++)
		G[i] = gauss();
	int rc = la_qr(G, n, n, Q, G + n * n);
	free(G);
	if (rc)
		return -1;
	if (la_det_sign(Q, n) != det)
		for (int i = 0; i < n; i++)
			Q[i * n] = -Q[i * n];
	return 0;
}

#endif
