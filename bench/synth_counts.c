/* synth_counts.c - the gate-synthesis table: for k = 1..6 qubits, the CX
 * count, one-qubit count and depth of passes/synth.c on Haar-random
 * orthogonal gates of det +1 and det -1, next to Qiskit's QSD for general
 * unitaries and two lower bounds. Every circuit is multiplied back here
 * (syn_circuit_matrix, independently of syn_synth's own check) and the
 * largest |circuit − gate| is reported.
 *   synth_counts [--tsv] [samples] [seed]
 * --tsv: one tab-separated row per (k, det) under a header line, for
 * scripts/results_synth.sh. Exit status 1 if a synthesis fails. */
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

/* Haar orthogonal (QR of a Gaussian, R's diagonal positive) with det `det`
 * (a fixed reflection maps the Haar measure of one component onto the other). */
static int haar(double *Q, int n, int det)
{
	double *G = malloc((size_t)2 * n * n * sizeof *G);
	int sign, rc;
	if (!G)
		return -1;
	for (int i = 0; i < n * n; i++)
		G[i] = sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand());
	rc = la_qr(G, n, n, Q, G + n * n);
	sign = rc ? 1 : la_det_sign(Q, n);
	free(G);
	if (sign != det)
		for (int i = 0; i < n; i++)
			Q[i * n] = -Q[i * n];
	return rc;
}

typedef struct row {
	int k, det, samples, cxmin, cxmax, bound;
	double cx, oneq, p, depth, cxdepth, err;
} row;

/* `samples` gates of k qubits and determinant det through syn_synth. */
static int measure(int k, int det, int samples, row *r)
{
	int n = 1 << k;
	double *U = malloc((size_t)2 * n * n * sizeof *U);
	syn_circuit c;
	syn_circuit_init(&c, k);
	memset(r, 0, sizeof *r);
	r->k = k;
	r->det = det;
	r->samples = samples;
	r->cxmin = 1 << 30;
	r->bound = syn_cx_bound(k, det);
	int rc = 0;
	for (int s = 0; s < samples && !rc; s++) {
		syn_stats st;
		if (!U || haar(U, n, det) || syn_synth(U, k, &c)) {
			fprintf(stderr, "synth_counts: k=%d det %+d: %s\n", k, det, la_last_error());
			rc = -1;
			break;
		}
		syn_circuit_stats(&c, &st);
		r->cx += st.cx;
		r->oneq += st.oneq;
		r->depth += st.depth;
		r->cxdepth += st.cx_depth;
		r->cxmin = st.cx < r->cxmin ? st.cx : r->cxmin;
		r->cxmax = st.cx > r->cxmax ? st.cx : r->cxmax;
		for (int i = 0; i < c.n; i++)
			r->p += c.ops[i].gate == SYN_P;
		double *G = U + n * n, e = syn_circuit_matrix(&c, k, G);
		for (int i = 0; i < n * n; i++)
			e = fmax(e, fabs(G[i] - U[i]));
		r->err = fmax(r->err, fmax(e, c.error));
	}
	r->cx /= samples;
	r->oneq /= samples;
	r->p /= samples;
	r->depth /= samples;
	r->cxdepth /= samples;
	syn_circuit_free(&c);
	free(U);
	return rc;
}

int main(int argc, char **argv)
{
	int tsv = 0, pos = 0, samples = 3;
	rng = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tsv")) {
			tsv = 1;
		} else if (pos == 0 && atoi(argv[i]) > 0) {
			samples = atoi(argv[i]);
			pos++;
		} else if (pos == 1) {
			rng = strtoull(argv[i], NULL, 10);
			pos++;
		} else {
			fprintf(stderr, "usage: synth_counts [--tsv] [samples ≥ 1] [seed]\n");
			return 2;
		}
	}
	if (tsv)
		printf("k\tdet\tsamples\tcx\tcx_min\tcx_max\tcx_bound\toneq\tp\tdepth\tcx_depth\t"
		       "max_err\tqiskit_cx\tlb_unitary\tlb_real\n");
	else
		printf("k  det   CX  (max)   1q    p  depth  CXdepth  max err    Qiskit  LB(U)  "
		       "LB(real)\n");
	for (int k = 1; k <= 6; k++)
		for (int det = 1; det >= -1; det -= 2) {
			row r;
			if (measure(k, det, samples, &r))
				return 1;
			/* Parameter counts: dim U(2^k) minus free local phases over 4 per CX
			 * (Shende, Markov, Bullock 2004), and dim SO(2^k) minus k over 2 per CX
			 * for real gates (k real rotations first, then two more per CX). */
			long d = 1L << k, lbu = k > 1 ? ((d * d) - 3 * k - 1 + 3) / 4 : 0;
			long lbr = k > 1 ? (d * (d - 1) / 2 - k + 1) / 2 : 0;
			if (tsv)
				printf("%d\t%d\t%d\t%.2f\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.3e\t%d\t%ld\t%ld\n",
				       k, det, samples, r.cx, r.cxmin, r.cxmax, r.bound, r.oneq, r.p, r.depth,
				       r.cxdepth, r.err, qiskit_cx[k], lbu, lbr);
			else
				printf("%d  %+d  %5.0f %5d %5.0f %4.0f %6.0f %8.0f  %8.1e  %6d %6ld %8ld\n", k,
				       det, r.cx, r.cxmax, r.oneq, r.p, r.depth, r.cxdepth, r.err, qiskit_cx[k],
				       lbu, lbr);
		}
	la_release();
	return 0;
}
