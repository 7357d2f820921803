/* synth_counts.c - the gate-synthesis table: for k = 1..6 qubits, the CX
 * count, one-qubit count and depth of passes/synth.c on Haar-random
 * orthogonal gates of det +1 and det -1, next to Qiskit's QSD for general
 * unitaries and two lower bounds. Usage: synth_counts [samples] [seed]. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../passes/la.h"
#include "../passes/synth.h"

/* Qiskit's qs_decomposition (block-ZXZ, Krol & Al-Ars 2024), general U. */
static const int qiskit_cx[7] = {0, 0, 3, 19, 95, 423, 1783};

static uint64_t rng;

static double urand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return ((double)((z ^ (z >> 31)) >> 11) + 0.5) / 9007199254740992.0;
}

/* Haar orthogonal (QR of a Gaussian, R's diagonal positive) with det `det`. */
static int haar(double *Q, int n, int det)
{
	double *G = malloc((size_t)2 * n * n * sizeof *G);
	int sign, rc;
	if (!G)
		return -1;
	for (int i = 0; i < n * n; i++)
		G[i] = sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand());
	rc = la_qr(G, n, n, Q, G + n * n);
	sign = rc ? 1 : syn_det_sign(Q, n);
	free(G);
	if (sign != det)
		for (int i = 0; i < n; i++)
			Q[i * n] = -Q[i * n];
	return rc;
}

int main(int argc, char **argv)
{
	int samples = argc > 1 ? atoi(argv[1]) : 3;
	rng = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	if (samples < 1)
		samples = 1;
	printf("k  det   CX  (max)   1q  depth  CXdepth  max err    Qiskit  LB(U)  LB(real)\n");
	for (int k = 1; k <= 6; k++)
		for (int det = 1; det >= -1; det -= 2) {
			int n = 1 << k, cxmax = 0;
			double cx = 0, oq = 0, dep = 0, cdep = 0, err = 0;
			double *U = malloc((size_t)n * n * sizeof *U);
			syn_circuit c;
			syn_circuit_init(&c, k);
			for (int s = 0; s < samples; s++) {
				syn_stats st;
				if (!U || haar(U, n, det) || syn_synth(U, k, &c)) {
					fprintf(stderr, "synth_counts: k=%d: %s\n", k, la_last_error());
					return 1;
				}
				syn_circuit_stats(&c, &st);
				cx += st.cx, oq += st.oneq, dep += st.depth, cdep += st.cx_depth;
				cxmax = st.cx > cxmax ? st.cx : cxmax;
				err = fmax(err, c.error);
			}
			syn_circuit_free(&c);
			free(U);
			/* Parameter counts: dim U(2^k) minus free local phases over 4 per CX
			 * (Shende et al.), and dim SO(2^k) - k over 2 per CX for real gates. */
			long d = 1L << k, lbu = ((d * d) - 3 * k - 1 + 3) / 4;
			long lbr = (d * (d - 1) / 2 - k + 1) / 2;
			printf("%d  %+d  %5.0f %5d %5.0f %6.0f %8.0f  %8.1e  %6d %6ld %8ld\n", k, det,
			       cx / samples, cxmax, oq / samples, dep / samples, cdep / samples, err,
			       qiskit_cx[k], k > 1 ? lbu : 0, k > 1 ? lbr : 0);
		}
	la_release();
	return 0;
}
