/* binomial.c - exact binomial variates, for drawing a whole histogram of
 * shots at once (qsim_sample): a multinomial (S; p_0 .. p_{d-1}) is the
 * sequence of conditional binomials c_i ~ B(S - c_0 - .. - c_{i-1},
 * p_i / (p_i + .. + p_{d-1})), so d draws replace S.
 *
 * B(n, p) with p <= 1/2 (p > 1/2 draws n - B(n, 1 - p)):
 *  - n p < 10: inversion by sequential search from 0 ("BINV",
 *    Kachitvichyanukul and Schmeiser, Binomial random variate generation,
 *    Comm. ACM 31 (1988) 216-222): P(0) = q^n, P(x) = P(x-1) (a/x - s)
 *    with s = p/q, a = (n+1) s; expected n p + 1 steps.
 *  - otherwise the transformed rejection with squeeze "BTRS" (Hörmann,
 *    The generation of binomial random variates, J. Statist. Comput.
 *    Simul. 46 (1993) 101-110): a hat of the form (2a/u_s + b) u + c, an
 *    acceptance squeeze, and the exact test against the probability
 *    function ratio, with log k! from a table below 16 and the Stirling
 *    series above (relative error < 1e-15 there); O(1) expected uniforms
 *    (about 1.15 pairs).
 * Both are exact up to the rounding of double arithmetic; uniforms are the
 * generator's 53-bit doubles. */
#include <math.h>

#include "qnnrt_impl.h"

/* log k! : a table for k < 16, the Stirling series beyond. */
static double log_factorial(double k)
{
	static const double table[16] = {
		0.0,
		0.0,
		0.69314718055994530942,
		1.79175946922805500081,
		3.17805383034794561964,
		4.78749174278204599425,
		6.57925121201010099506,
		8.52516136106541430017,
		10.60460290274525022842,
		12.80182748008146961121,
		15.10441257307551529523,
		17.50230784587388583929,
		19.98721449566188614952,
		22.55216385312342288557,
		25.19122118273868150009,
		27.89927138384089156609,
	};
	if (k < 16)
		return table[(int)k];
	double r = 1 / (k + 1), r2 = r * r;
	/* log Γ(k + 1) = (k + 1/2) log(k + 1) − (k + 1) + log √(2π)
	 *              + 1/(12 m) − 1/(360 m^3) + 1/(1260 m^5) − 1/(1680 m^7), m = k + 1 */
	return (k + 0.5) * log(k + 1) - (k + 1) + 0.91893853320467274178 +
	       r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 / 1680)));
}

static uint64_t binv(qnn_rng *rng, uint64_t n, double p)
{
	double q = 1 - p, s = p / q, a = (double)(n + 1) * s;
	for (;;) {
		double r = exp((double)n * log1p(-p)), u = qnn_rng_uniform(rng);
		uint64_t x = 0;
		while (u > r) {
			u -= r;
			x++;
			if (x > n) /* rounding left u above the whole mass: draw again */
				break;
			r *= a / (double)x - s;
			if (!(r > 0)) /* the rest of the mass underflows: draw again */
				break;
		}
		if (u <= r)
			return x;
	}
}

static uint64_t btrs(qnn_rng *rng, uint64_t n, double p)
{
	double dn = (double)n, q = 1 - p, spq = sqrt(dn * p * q);
	double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p, c = dn * p + 0.5;
	double vr = 0.92 - 4.2 / b, alpha = (2.83 + 5.1 / b) * spq, lpq = log(p / q);
	double m = floor((dn + 1) * p), h = log_factorial(m) + log_factorial(dn - m);
	for (;;) {
		double u = qnn_rng_uniform(rng) - 0.5, v = qnn_rng_uniform(rng);
		double us = 0.5 - fabs(u), k = floor((2 * a / us + b) * u + c);
		if (k < 0 || k > dn)
			continue;
		if (us >= 0.07 && v <= vr)
			return (uint64_t)k;
		v = log(v * alpha / (a / (us * us) + b));
		if (v <= h - log_factorial(k) - log_factorial(dn - k) + (k - m) * lpq)
			return (uint64_t)k;
	}
}

uint64_t qsim_binomial(qnn_rng *rng, uint64_t n, double p)
{
	if (n == 0 || !(p > 0))
		return 0;
	if (p >= 1)
		return n;
	if (p > 0.5)
		return n - qsim_binomial(rng, n, 1 - p);
	return (double)n * p < 10 ? binv(rng, n, p) : btrs(rng, n, p);
}
