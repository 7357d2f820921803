/* stage.c - one quantum stage by signed read-out (DESIGN.md §6, qnnrt.h):
 * y = Q x from a program that prepares [x/|x| ; Q^T u] / sqrt(2) on q + 1
 * qubits, applies Q to the data register and H to the ancilla. The
 * ancilla's interference with the known reference Q^T u turns the
 * amplitudes' signs into probabilities, so sampling recovers signed
 * values, not only magnitudes. */
#include <math.h>
#include <string.h>

#include "qnnrt_impl.h"

/* Largest data register: the preparation covers q + 1 <= 30 qubits. */
#define STAGE_MAX_QUBITS 29

/* |v| of n values, scaled so huge or tiny entries neither overflow nor
 * underflow; -1 when an entry is not finite. */
static double stage_norm(const double *v, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			return -1;
		double a = fabs(v[i]);
		if (a > m)
			m = a;
	}
	if (m == 0)
		return 0;
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		double t = v[i] / m;
		s += t * t;
	}
	return m * sqrt(s);
}

int qnn_stage_run(const qnn_stage *st, const qnn_executor *ex, qnn_readout mode, long shots,
		  uint64_t seed, const double *x, double *y, double *work, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!st || !st->program || !st->ref || !x || !y || !work)
		return qrt_err(err, errlen, QNN_EARG, "qnn_stage_run: NULL argument");
	if (st->nqubits < 1 || st->nqubits > STAGE_MAX_QUBITS)
		return qrt_err(err, errlen, QNN_ERANGE, "stage: %d data qubits, expected 1 to %d",
			       st->nqubits, STAGE_MAX_QUBITS);
	if (mode != QNN_READOUT_EXACT && mode != QNN_READOUT_SHOTS)
		return qrt_err(err, errlen, QNN_EARG, "stage: unknown read-out mode %d", (int)mode);
	if (mode == QNN_READOUT_SHOTS && shots < 1)
		return qrt_err(err, errlen, QNN_EARG, "stage: %ld shots, expected at least 1", shots);

	int q = st->nqubits;
	size_t d = (size_t)1 << q, D = 2 * d;
	double xn = stage_norm(x, d);
	if (xn < 0)
		return qrt_err(err, errlen, QNN_EINPUT, "stage: input value is not finite");
	double rn = stage_norm(st->ref, d);
	/* r = Q^T u is a unit vector; anything else is a compiler bug or a
	 * mismatched table, which would silently skew every output. */
	if (!(rn >= 0) || fabs(rn - 1) > 1e-6)
		return qrt_err(err, errlen, QNN_EINPUT,
			       "stage: reference vector has norm %g, expected 1 (r = Q^T u)", rn);
	if (xn == 0) {
		memset(y, 0, d * sizeof *y);
		return 0;
	}
	if (!isfinite(xn))
		return qrt_err(err, errlen, QNN_EINPUT, "stage: input norm overflows");

	/* Workspace: w [D], angles [D - 1] (+1 spare), amplitudes or counts [D]. */
	double *w = work, *theta = work + D, *out = work + 2 * D;
	for (size_t j = 0; j < d; j++) {
		w[j] = x[j] / xn;
		w[d + j] = st->ref[j] / rn;
	}
	int r = qnn_stateprep_angles(w, q + 1, theta);
	if (r)
		return qrt_err(err, errlen, r, "stage: state preparation failed: %s", qnn_strerror(r));

	qnn_result res;
	memset(&res, 0, sizeof res);
	/* Counts share the amplitudes' slot; only this function and the
	 * executor touch it, always as uint64_t. */
	uint64_t *counts = (uint64_t *)(void *)out;
	if (mode == QNN_READOUT_EXACT) {
		res.amp_re = out;
		res.amps_len = D;
	} else {
		res.counts = counts;
		res.counts_len = D;
	}
	r = qnn_execute(ex, st->program, st->len, theta, (int)(D - 1),
			mode == QNN_READOUT_SHOTS ? shots : 0, seed, &res);
	if (r)
		return qrt_err(err, errlen, r, "stage on %d data qubits: %s", q,
			       res.err[0] ? res.err : qnn_strerror(r));
	if (res.nqubits != q + 1 || (mode == QNN_READOUT_SHOTS && res.nbits != q + 1))
		return qrt_err(err, errlen, QNN_EINPUT,
			       "stage: program has %d qubits and %d bits, expected %d of each",
			       res.nqubits, res.nbits, q + 1);

	if (mode == QNN_READOUT_EXACT) {
		for (size_t j = 0; j < d; j++)
			y[j] = xn * (out[j] + out[d + j]);
	} else {
		uint64_t total = 0;
		for (size_t i = 0; i < D; i++)
			total += counts[i];
		if (total != (uint64_t)shots)
			return qrt_err(err, errlen, QNN_EEXEC, "stage: counts sum to %llu, asked %ld shots",
				       (unsigned long long)total, shots);
		/* p(0,j) - p(1,j) = 2 alpha beta (Q x^)_j u_j and 2 alpha beta = 1. */
		double scale = xn * sqrt((double)d) / (double)shots;
		for (size_t j = 0; j < d; j++)
			y[j] = scale * ((double)counts[j] - (double)counts[d + j]);
	}
	return 0;
}
