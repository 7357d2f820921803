/* embed.h - a test oracle shared by the QASM tests: a k-qubit gate placed
 * on register sites, embedded in the 2^n × 2^n matrix by index arithmetic
 * written from DESIGN §2 alone (independent of backend/qasm.c and synth.c). */
#ifndef QNNC_TEST_EMBED_H
#define QNNC_TEST_EMBED_H

#include <stdlib.h>

#include "../../backend/qasm.h"

/* Independent embedding, from DESIGN §2 alone: basis index
 * i = Σ_t i_t 2^(n-t) over register sites t = 1..n, and a k-qubit gate's own
 * index r = Σ_l r_l 2^(k-l) over its local sites l = 1..k, local site l
 * being register site s+l-1. M := G_embedded · M. */
static inline void apply_embedded(double *M, int n, const qasm_gate *g)
{
	long N = 1L << n, d = 1L << g->k;
	double *col = malloc((size_t)N * sizeof *col);
	for (long c = 0; c < N; c++) {
		for (long i = 0; i < N; i++)
			col[i] = 0;
		for (long x = 0; x < N; x++) {
			double a = M[x * N + c];
			if (a == 0)
				continue;
			long r = 0, rest = x;
			for (int l = 1; l <= g->k; l++) {
				int pos = n - (g->site + l - 1);
				r |= ((x >> pos) & 1) << (g->k - l);
				rest &= ~(1L << pos);
			}
			for (long r2 = 0; r2 < d; r2++) {
				long y = rest;
				for (int l = 1; l <= g->k; l++)
					y |= ((r2 >> (g->k - l)) & 1) << (n - (g->site + l - 1));
				col[y] += g->U[r2 * d + r] * a;
			}
		}
		for (long i = 0; i < N; i++)
			M[i * N + c] = col[i];
	}
	free(col);
}

#endif
