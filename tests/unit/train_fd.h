/* train_fd.h - finite-difference checks of the training engine's
 * gradients, shared by the training and Circuit tests: the loss
 * L = Σ r·logits of a forward pass, and central differences (ε = 1e-3, the
 * step that float rounding really took) on the entries of one tensor
 * against its analytic gradient. */
#ifndef QNNC_TEST_TRAIN_FD_H
#define QNNC_TEST_TRAIN_FD_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "../../passes/train.h"

/* L = Σ r·logits of a forward pass on x (b rows); NaN if it fails. */
static double loss_at(train_model *m, const float *x, int64_t b, const float *r, int64_t n)
{
	if (train_forward(m, x, b))
		return NAN;
	const float *y = train_logits(m);
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += (double)r[i] * y[i];
	return s;
}

/* Compare grad (n entries) with central differences of L in w, perturbed
 * in place and restored: every entry, or at most `most` spread over the
 * tensor (most > 0). Matches when the largest error is within 5e-3 of the
 * largest gradient (at least 1e-3); a tensor whose gradient is all zero
 * passes only if allow_zero (and its differences are zero too). Prints the
 * worst entry on a mismatch; returns 1 if it matches. */
static int fd_check(train_model *m, float *w, const float *grad, int64_t n, const float *x, int64_t b,
		    const float *r, int64_t ny, int64_t most, int allow_zero, const char *what,
		    const char *label)
{
	const double eps = 1e-3;
	double gmax = 0, emax = 0, fd_worst = 0;
	int64_t worst = -1, stride = most > 0 && n > most ? n / most + 1 : 1;
	for (int64_t i = 0; i < n; i++)
		gmax = fmax(gmax, fabs(grad[i]));
	for (int64_t i = 0; i < n && !isnan(emax); i += stride) {
		float keep = w[i];
		w[i] = (float)(keep + eps);
		double lp = loss_at(m, x, b, r, ny);
		w[i] = (float)(keep - eps);
		double lm = loss_at(m, x, b, r, ny);
		w[i] = keep;
		double h = (double)(float)(keep + eps) - (double)(float)(keep - eps);
		double fd = (lp - lm) / h, e = fabs(fd - grad[i]);
		if (isnan(e) || e > emax) { /* a NaN stays the worst */
			emax = e;
			worst = i;
			fd_worst = fd;
		}
	}
	double tol = 5e-3 * fmax(gmax, 1e-3);
	if (!(emax <= tol) || !(gmax > 0 || (allow_zero && emax == 0))) {
		fprintf(stderr, "  %s: d/d%s[%lld]: fd %.6g, backward %.6g (max |grad| %.3g, tol %.2g)\n", label,
			what, (long long)worst, fd_worst, worst >= 0 ? grad[worst] : 0.0, gmax, tol);
		return 0;
	}
	return 1;
}

#endif
