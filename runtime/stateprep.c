/* stateprep.c - angles for real-amplitude state preparation by uniformly
 * controlled Ry rotations (Mottonen et al., QIC 5 (2005) 467; circuit in
 * qnnrt.h).
 *
 * Stage t rotates q[t] by alpha_j when the higher qubits q[t+1..n-1] read
 * j: alpha_j = 2 atan2(|v on block (j,1)|, |v on block (j,0)|), blocks of
 * 2^t consecutive entries; at t = 0 the blocks are single entries and
 * atan2 of the signed values carries every sign, so Ry alone reaches any
 * real vector. The uniformly controlled rotation is L = 2^k Ry and L CX
 * in Gray-code order: the rotation seen by pattern j is
 * sum_i (-1)^{popcount(j & g(i))} theta_i with g(i) = i ^ (i >> 1), so
 * theta_i = W[g(i)] / L with W the Walsh-Hadamard transform of alpha.
 * Writing alpha_j at position G^T j = j ^ (j << 1) (mod L) first makes the
 * in-place transform come out in circuit order: no scratch memory, the
 * only output is theta. */
#include <math.h>

#include "qnnrt_impl.h"

/* Sum of squares of v[lo, lo + len). */
static double sumsq(const double *v, size_t lo, size_t len)
{
	double s = 0;
	for (size_t i = lo; i < lo + len; i++)
		s += v[i] * v[i];
	return s;
}

int qnn_stateprep_angles(const double *v, int n, double *theta)
{
	if (!v || !theta || n < 1 || n > 30)
		return QNN_EARG;
	size_t N = (size_t)1 << n;
	double tot = 0;
	for (size_t i = 0; i < N; i++) {
		if (!isfinite(v[i]))
			return QNN_EINPUT;
		tot += v[i] * v[i];
	}
	if (!(tot > 0) || !isfinite(tot))
		return QNN_EINPUT;
	for (int t = 0; t < n; t++) {
		size_t L = (size_t)1 << (n - 1 - t), B = (size_t)1 << t;
		double *slot = theta + (L - 1);
		for (size_t j = 0; j < L; j++) {
			double a;
			if (t == 0)
				a = 2 * atan2(v[2 * j + 1], v[2 * j]);
			else
				a = 2 * atan2(sqrt(sumsq(v, (2 * j + 1) * B, B)), sqrt(sumsq(v, 2 * j * B, B)));
			slot[(j ^ (j << 1)) & (L - 1)] = a;
		}
		for (size_t h = 1; h < L; h *= 2)
			for (size_t i = 0; i < L; i += 2 * h)
				for (size_t k = i; k < i + h; k++) {
					double x = slot[k], y = slot[k + h];
					slot[k] = x + y;
					slot[k + h] = x - y;
				}
		for (size_t i = 0; i < L; i++)
			slot[i] /= (double)L;
	}
	return 0;
}

long qnn_stateprep_gates(int n, qnn_prep_gate *gates)
{
	if (n < 1 || n > 30)
		return QNN_EARG;
	long m = 0;
	for (int t = n - 1; t >= 0; t--) {
		int k = n - 1 - t;
		long L = 1L << k;
		for (long i = 0; i < L; i++) {
			if (gates)
				gates[m] = (qnn_prep_gate){t, -1, (int)(L - 1 + i)};
			m++;
			if (L == 1)
				continue;
			int b = k - 1;
			if (i < L - 1)
				for (b = 0; !((i + 1) >> b & 1); b++)
					;
			if (gates)
				gates[m] = (qnn_prep_gate){t, t + 1 + b, -1};
			m++;
		}
	}
	return m;
}
