/* sim.c - the statevector simulator: real (one float64 array) or complex
 * (separate real and imaginary arrays) states, dense k-qubit gates with
 * optional controls applied in one pass, measurement, seeded sampling and
 * the xoshiro256** generator.
 *
 * A gate on targets T with controls C touches, for every "base" index b
 * whose T and C bits are zero, the 2^k amplitudes b | cval | off[r] with
 * off[r] = sum_j r_j 2^T[j]. Base indices are enumerated as runs: the free
 * bits below the lowest fixed bit (or between the bottom fixed bits and
 * the next one) vary fastest, so a run is R indices at a constant stride
 * (1 when bit 0 is free) and the 1- and 2-qubit kernels stream through it
 * in vectorisable loops. k >= 3 gathers blocks of QB base indices into a
 * 2^k x QB panel and multiplies by the matrix (a small GEMM, sim_gemm.inc,
 * 4-wide AVX2 when the CPU has it), which makes the 6-qubit gate
 * compute-bound instead of matrix-load-bound. No kernel reorders a sum,
 * so every path rounds the same way.
 *
 * Sampling draws a multinomial histogram when there are more shots than
 * outcomes (conditional binomials, binomial.c), else one uniform per shot:
 * a binary search in the prefix sums, or for states beyond 2^20 amplitudes
 * sorted uniforms (a radix sort of 53-bit integers, in chunks) and one
 * sweep of the cumulative distribution per chunk. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qnnrt_impl.h"

/* ------------------------------------------------------------ state */

qnn_state *qnn_state_new(int n, int is_complex)
{
	if (n < 0 || n > QNN_SIM_MAX_QUBITS)
		return NULL;
	qnn_state *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	size_t dim = (size_t)1 << n;
	s->n = n;
	s->cplx = is_complex != 0;
	/* calloc: large zeroed blocks come from fresh pages, nothing to write */
	s->re = calloc(dim, sizeof(double));
	if (s->cplx)
		s->im = calloc(dim, sizeof(double));
	if (!s->re || (s->cplx && !s->im)) {
		qnn_state_free(s);
		return NULL;
	}
	s->re[0] = 1;
	return s;
}

void qnn_state_free(qnn_state *s)
{
	if (!s)
		return;
	free(s->re);
	free(s->im);
	free(s);
}

int qnn_state_nqubits(const qnn_state *s) { return s ? s->n : -1; }
int qnn_state_is_complex(const qnn_state *s) { return s ? s->cplx : 0; }
double *qnn_state_real(qnn_state *s) { return s ? s->re : NULL; }
double *qnn_state_imag(qnn_state *s) { return s ? s->im : NULL; }

void qnn_state_set_basis(qnn_state *s, uint64_t index)
{
	if (!s)
		return;
	size_t dim = (size_t)1 << s->n;
	memset(s->re, 0, dim * sizeof(double));
	if (s->im)
		memset(s->im, 0, dim * sizeof(double));
	s->re[index & (dim - 1)] = 1;
}

/* ------------------------------------------------------------ base-index runs */

typedef struct qsim_iter {
	int nfix;
	int fix[64];    /* fixed (target or control) bit positions, ascending */
	size_t stride;  /* between consecutive base indices of a run */
	size_t R;       /* run length */
	int lr;         /* log2 R */
	size_t nruns;
} qsim_iter;

static void iter_init(qsim_iter *it, int n, uint64_t fixmask)
{
	it->nfix = 0;
	for (int b = 0; b < n; b++)
		if (fixmask >> b & 1)
			it->fix[it->nfix++] = b;
	int z = 0; /* fixed bits 0..z-1 */
	while (z < n && (fixmask >> z & 1))
		z++;
	int p = z; /* next fixed bit above z, or n */
	while (p < n && !(fixmask >> p & 1))
		p++;
	it->stride = (size_t)1 << z;
	it->lr = p - z;
	it->R = (size_t)1 << it->lr;
	it->nruns = ((size_t)1 << (n - it->nfix)) >> it->lr;
}

/* Spread compact counter c over the free bit positions. */
static inline size_t deposit(const qsim_iter *it, size_t c)
{
	for (int i = 0; i < it->nfix; i++) {
		int f = it->fix[i];
		c = ((c >> f) << (f + 1)) | (c & (((size_t)1 << f) - 1));
	}
	return c;
}

/* ------------------------------------------------------------ 1-qubit kernels */

static inline void k1r_run(double *x0, size_t o1, size_t R, size_t st, const double *m)
{
	double m00 = m[0], m01 = m[1], m10 = m[2], m11 = m[3];
	double *x1 = x0 + o1;
	for (size_t l = 0; l < R; l++) {
		double u = x0[l * st], v = x1[l * st];
		x0[l * st] = m00 * u + m01 * v;
		x1[l * st] = m10 * u + m11 * v;
	}
}

static void k1r(double *a, const qsim_iter *it, size_t cval, size_t o1, const double *m)
{
	for (size_t o = 0; o < it->nruns; o++) {
		double *x0 = a + (deposit(it, o << it->lr) | cval);
		if (it->stride == 1)
			k1r_run(x0, o1, it->R, 1, m);
		else
			k1r_run(x0, o1, it->R, it->stride, m);
	}
}

static inline void k1c_run(double *r0, double *i0, size_t o1, size_t R, size_t st,
			   const double *mr, const double *mi)
{
	double *r1 = r0 + o1, *i1 = i0 + o1;
	for (size_t l = 0; l < R; l++) {
		size_t j = l * st;
		double ur = r0[j], ui = i0[j], vr = r1[j], vi = i1[j];
		r0[j] = mr[0] * ur - mi[0] * ui + mr[1] * vr - mi[1] * vi;
		i0[j] = mr[0] * ui + mi[0] * ur + mr[1] * vi + mi[1] * vr;
		r1[j] = mr[2] * ur - mi[2] * ui + mr[3] * vr - mi[3] * vi;
		i1[j] = mr[2] * ui + mi[2] * ur + mr[3] * vi + mi[3] * vr;
	}
}

static void k1c(qnn_state *s, const qsim_iter *it, size_t cval, size_t o1, const double *mr,
		const double *mi)
{
	for (size_t o = 0; o < it->nruns; o++) {
		size_t b = deposit(it, o << it->lr) | cval;
		if (it->stride == 1)
			k1c_run(s->re + b, s->im + b, o1, it->R, 1, mr, mi);
		else
			k1c_run(s->re + b, s->im + b, o1, it->R, it->stride, mr, mi);
	}
}

/* ------------------------------------------------------------ 2-qubit kernels */

static inline void k2r_run(double *x, const size_t *off, size_t R, size_t st, const double *m)
{
	double *x1 = x + off[1], *x2 = x + off[2], *x3 = x + off[3];
	for (size_t l = 0; l < R; l++) {
		size_t j = l * st;
		double a0 = x[j], a1 = x1[j], a2 = x2[j], a3 = x3[j];
		x[j] = m[0] * a0 + m[1] * a1 + m[2] * a2 + m[3] * a3;
		x1[j] = m[4] * a0 + m[5] * a1 + m[6] * a2 + m[7] * a3;
		x2[j] = m[8] * a0 + m[9] * a1 + m[10] * a2 + m[11] * a3;
		x3[j] = m[12] * a0 + m[13] * a1 + m[14] * a2 + m[15] * a3;
	}
}

static void k2r(double *a, const qsim_iter *it, size_t cval, const size_t *off, const double *m)
{
	for (size_t o = 0; o < it->nruns; o++) {
		double *x = a + (deposit(it, o << it->lr) | cval);
		if (it->stride == 1)
			k2r_run(x, off, it->R, 1, m);
		else
			k2r_run(x, off, it->R, it->stride, m);
	}
}

static inline void k2c_run(double *re, double *im, const size_t *off, size_t R, size_t st,
			   const double *mr, const double *mi)
{
	for (size_t l = 0; l < R; l++) {
		size_t j = l * st;
		double ar[4], ai[4];
		for (int c = 0; c < 4; c++) {
			ar[c] = re[j + off[c]];
			ai[c] = im[j + off[c]];
		}
		for (int r = 0; r < 4; r++) {
			double yr = 0, yi = 0;
			for (int c = 0; c < 4; c++) {
				yr += mr[4 * r + c] * ar[c] - mi[4 * r + c] * ai[c];
				yi += mr[4 * r + c] * ai[c] + mi[4 * r + c] * ar[c];
			}
			re[j + off[r]] = yr;
			im[j + off[r]] = yi;
		}
	}
}

static void k2c(qnn_state *s, const qsim_iter *it, size_t cval, const size_t *off,
		const double *mr, const double *mi)
{
	for (size_t o = 0; o < it->nruns; o++) {
		size_t b = deposit(it, o << it->lr) | cval;
		if (it->stride == 1)
			k2c_run(s->re + b, s->im + b, off, it->R, 1, mr, mi);
		else
			k2c_run(s->re + b, s->im + b, off, it->R, it->stride, mr, mi);
	}
}

/* ------------------------------------------------------------ k-qubit kernels */

#define QB 8 /* base indices per panel */

/* The panel GEMMs, from sim_gemm.inc: with GCC/Clang vector extensions
 * (the auto-vectoriser turns these loops into shuffles), 2-wide on any
 * target and, on x86-64, 4-wide AVX2 chosen at run time. */
#if defined(__GNUC__)
typedef double v2d __attribute__((vector_size(16)));
#define GEMM_VT v2d
#define GEMM_VW 2
#define GEMM_RB 2
#define GEMM_ATTR
#define GEMM(name) name##_v2
#include "sim_gemm.inc"
#undef GEMM_VT
#undef GEMM_VW
#undef GEMM_RB
#undef GEMM_ATTR
#undef GEMM
#if defined(__x86_64__)
#define QSIM_AVX2 1
typedef double v4d __attribute__((vector_size(32)));
#define GEMM_VT v4d
#define GEMM_VW 4
#define GEMM_RB 4
#define GEMM_ATTR __attribute__((target("avx2")))
#define GEMM(name) name##_v4
#include "sim_gemm.inc"
#endif

static int have_avx2(void)
{
#if defined(QSIM_AVX2)
	return __builtin_cpu_supports("avx2"); /* a load and a test */
#else
	return 0;
#endif
}

static void gemm_r(int D, const double *M, const double *X, double *Y)
{
#if defined(QSIM_AVX2)
	if (have_avx2()) {
		gemm_r_v4(D, M, X, Y);
		return;
	}
#endif
	gemm_r_v2(D, M, X, Y);
}

static void gemm_c(int D, const double *Mr, const double *Mi, const double *Xr,
		   const double *Xi, double *Yr, double *Yi)
{
#if defined(QSIM_AVX2)
	if (have_avx2()) {
		gemm_c_v4(D, Mr, Mi, Xr, Xi, Yr, Yi);
		return;
	}
#endif
	gemm_c_v2(D, Mr, Mi, Xr, Xi, Yr, Yi);
}
#else
static void gemm_r(int D, const double *M, const double *X, double *Y)
{
	for (int r = 0; r < D; r++) {
		double a[QB] = {0};
		for (int m = 0; m < D; m++)
			for (int b = 0; b < QB; b++)
				a[b] += M[(size_t)r * D + m] * X[(size_t)m * QB + b];
		memcpy(Y + (size_t)r * QB, a, sizeof a);
	}
}

static void gemm_c(int D, const double *Mr, const double *Mi, const double *Xr,
		   const double *Xi, double *Yr, double *Yi)
{
	for (int r = 0; r < D; r++) {
		double ar[QB] = {0}, ai[QB] = {0};
		for (int m = 0; m < D; m++) {
			double cr = Mr[(size_t)r * D + m], ci = Mi[(size_t)r * D + m];
			for (int b = 0; b < QB; b++) {
				ar[b] += cr * Xr[(size_t)m * QB + b] - ci * Xi[(size_t)m * QB + b];
				ai[b] += cr * Xi[(size_t)m * QB + b] + ci * Xr[(size_t)m * QB + b];
			}
		}
		memcpy(Yr + (size_t)r * QB, ar, sizeof ar);
		memcpy(Yi + (size_t)r * QB, ai, sizeof ai);
	}
}
#endif

/* Panels: X and Y for the real part, then the imaginary part. */
typedef struct kpanel {
	int D;
	const size_t *off;
	const double *mr, *mi; /* mi NULL: real matrix */
	double *re, *im;       /* state arrays; im NULL: apply to re only */
	double *xr, *yr, *xi, *yi;
	size_t idx[QB];
	int nb;
} kpanel;

static void panel_flush(kpanel *p)
{
	int D = p->D, nb = p->nb;
	for (int m = 0; m < D; m++)
		for (int b = 0; b < nb; b++)
			p->xr[(size_t)m * QB + b] = p->re[p->idx[b] + p->off[m]];
	if (p->mi) {
		for (int m = 0; m < D; m++)
			for (int b = 0; b < nb; b++)
				p->xi[(size_t)m * QB + b] = p->im[p->idx[b] + p->off[m]];
		gemm_c(D, p->mr, p->mi, p->xr, p->xi, p->yr, p->yi);
		for (int m = 0; m < D; m++)
			for (int b = 0; b < nb; b++) {
				p->re[p->idx[b] + p->off[m]] = p->yr[(size_t)m * QB + b];
				p->im[p->idx[b] + p->off[m]] = p->yi[(size_t)m * QB + b];
			}
	} else {
		gemm_r(D, p->mr, p->xr, p->yr);
		for (int m = 0; m < D; m++)
			for (int b = 0; b < nb; b++)
				p->re[p->idx[b] + p->off[m]] = p->yr[(size_t)m * QB + b];
	}
	p->nb = 0;
}

static void kk(kpanel *p, const qsim_iter *it, size_t cval)
{
	for (size_t o = 0; o < it->nruns; o++) {
		size_t b = deposit(it, o << it->lr) | cval;
		for (size_t l = 0; l < it->R; l++) {
			p->idx[p->nb++] = b + l * it->stride;
			if (p->nb == QB)
				panel_flush(p);
		}
	}
	if (p->nb)
		panel_flush(p);
}

/* ------------------------------------------------------------ dispatch */

/* Controlled scalar (k = 0). */
static void k0(qnn_state *s, const qsim_iter *it, size_t cval, double zr, double zi)
{
	for (size_t o = 0; o < it->nruns; o++) {
		size_t b = deposit(it, o << it->lr) | cval;
		for (size_t l = 0; l < it->R; l++) {
			size_t j = b + l * it->stride;
			if (s->cplx) {
				double r = s->re[j], i = s->im[j];
				s->re[j] = zr * r - zi * i;
				s->im[j] = zr * i + zi * r;
			} else {
				s->re[j] *= zr;
			}
		}
	}
}

int qsim_apply(qnn_state *s, int k, const int *t, const double *re, const double *im,
	       uint64_t cmask, uint64_t cval)
{
	uint64_t fix = cmask;
	for (int j = 0; j < k; j++)
		fix |= (uint64_t)1 << t[j];
	qsim_iter it;
	iter_init(&it, s->n, fix);
	if (k == 0) {
		k0(s, &it, cval, re[0], im ? im[0] : 0);
		return 0;
	}
	int D = 1 << k;
	size_t offb[1 << QNN_MAX_GATE_QUBITS];
	size_t *off = offb;
	for (int r = 0; r < D; r++) {
		size_t o = 0;
		for (int j = 0; j < k; j++)
			if (r >> j & 1)
				o |= (size_t)1 << t[j];
		off[r] = o;
	}
	if (k == 1) {
		if (im) {
			k1c(s, &it, cval, off[1], re, im);
		} else {
			k1r(s->re, &it, cval, off[1], re);
			if (s->cplx)
				k1r(s->im, &it, cval, off[1], re);
		}
		return 0;
	}
	if (k == 2) {
		if (im) {
			k2c(s, &it, cval, off, re, im);
		} else {
			k2r(s->re, &it, cval, off, re);
			if (s->cplx)
				k2r(s->im, &it, cval, off, re);
		}
		return 0;
	}
	/* Panels on the stack up to 6 qubits (4 x 64 x 8 doubles = 16 KiB). */
	double stackbuf[4 * 64 * QB];
	double *buf = stackbuf;
	size_t need = 4 * (size_t)D * QB;
	if (need > sizeof stackbuf / sizeof stackbuf[0]) {
		buf = malloc(need * sizeof(double));
		if (!buf)
			return QNN_ENOMEM;
	}
	memset(buf, 0, need * sizeof(double)); /* padding columns stay finite */
	kpanel p = {.D = D, .off = off, .mr = re, .mi = im, .re = s->re,
		    .im = s->im, .xr = buf, .yr = buf + (size_t)D * QB,
		    .xi = buf + 2 * (size_t)D * QB, .yi = buf + 3 * (size_t)D * QB, .nb = 0};
	if (im) {
		kk(&p, &it, cval);
	} else {
		p.im = NULL;
		kk(&p, &it, cval);
		if (s->cplx) {
			p.re = s->im;
			kk(&p, &it, cval);
		}
	}
	if (buf != stackbuf)
		free(buf);
	return 0;
}

static int check_qubits(const qnn_state *s, int k, const int *qubits, int nctrl, const int *ctrls,
			uint64_t *used)
{
	*used = 0;
	for (int j = 0; j < k + nctrl; j++) {
		int q = j < k ? qubits[j] : ctrls[j - k];
		if (q < 0 || q >= s->n || (*used >> q & 1))
			return QNN_EARG;
		*used |= (uint64_t)1 << q;
	}
	return 0;
}

int qnn_state_apply_ctrl(qnn_state *s, int k, const int *qubits, const double *re,
			 const double *im, int nctrl, const int *ctrls, const int *ctrl_vals)
{
	if (!s || !re || k < 0 || k > QNN_MAX_GATE_QUBITS || nctrl < 0 || nctrl > 64 ||
	    (k > 0 && !qubits) || (nctrl > 0 && !ctrls) || k + nctrl > s->n)
		return QNN_EARG;
	if (im && !s->cplx) {
		int D = 1 << k;
		for (int i = 0; i < D * D; i++)
			if (im[i] != 0)
				return QNN_EARG;
		im = NULL;
	}
	uint64_t used;
	if (check_qubits(s, k, qubits, nctrl, ctrls, &used))
		return QNN_EARG;
	uint64_t cmask = 0, cval = 0;
	for (int i = 0; i < nctrl; i++) {
		cmask |= (uint64_t)1 << ctrls[i];
		if (!ctrl_vals || ctrl_vals[i])
			cval |= (uint64_t)1 << ctrls[i];
	}
	return qsim_apply(s, k, qubits, re, im, cmask, cval);
}

int qnn_state_apply(qnn_state *s, int k, const int *qubits, const double *re, const double *im)
{
	if (k < 1)
		return QNN_EARG;
	return qnn_state_apply_ctrl(s, k, qubits, re, im, 0, NULL, NULL);
}

void qsim_scale(qnn_state *s, double pr, double pi)
{
	size_t dim = (size_t)1 << s->n;
	if (!s->cplx) {
		for (size_t i = 0; i < dim; i++)
			s->re[i] *= pr;
		return;
	}
	for (size_t i = 0; i < dim; i++) {
		double r = s->re[i], m = s->im[i];
		s->re[i] = pr * r - pi * m;
		s->im[i] = pr * m + pi * r;
	}
}

/* ------------------------------------------------------------ measurement */

static double prob(const qnn_state *s, size_t i)
{
	double r = s->re[i];
	if (!s->cplx)
		return r * r;
	double m = s->im[i];
	return r * r + m * m;
}

int qsim_measure(qnn_state *s, int q, double u)
{
	size_t dim = (size_t)1 << s->n, h = (size_t)1 << q;
	double p[2] = {0, 0};
	for (size_t hi = 0; hi < dim; hi += 2 * h)
		for (size_t b = 0; b < 2; b++)
			for (size_t lo = 0; lo < h; lo++)
				p[b] += prob(s, hi + b * h + lo);
	double tot = p[0] + p[1];
	int out = tot > 0 && u * tot >= p[0] && p[1] > 0;
	double keep = p[out] > 0 ? 1 / sqrt(p[out]) : 0;
	for (size_t hi = 0; hi < dim; hi += 2 * h)
		for (size_t b = 0; b < 2; b++)
			for (size_t lo = 0; lo < h; lo++) {
				size_t i = hi + b * h + lo;
				double f = (int)b == out ? keep : 0;
				s->re[i] *= f;
				if (s->cplx)
					s->im[i] *= f;
			}
	return out;
}

/* ------------------------------------------------------------ random numbers */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void qnn_rng_seed(qnn_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t qnn_rng_next(qnn_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double qnn_rng_uniform(qnn_rng *r) { return (double)(qnn_rng_next(r) >> 11) * 0x1p-53; }

/* ------------------------------------------------------------ sampling */

/* LSD radix sort of 53-bit keys, 4 passes of 14 bits (tmp: scratch). */
static void radix53(uint64_t *a, uint64_t *tmp, size_t n)
{
	enum { BITS = 14, NB = 1 << BITS };
	static_assert(4 * BITS >= 53, "radix passes cover 53 bits");
	size_t *cnt = malloc(NB * sizeof *cnt);
	if (!cnt) { /* cannot happen in practice (128 KiB); fall back to insertion */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && a[j - 1] > a[j]; j--) {
				uint64_t t = a[j];
				a[j] = a[j - 1];
				a[j - 1] = t;
			}
		return;
	}
	for (int pass = 0; pass < 4; pass++) {
		int sh = pass * BITS;
		memset(cnt, 0, NB * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[(a[i] >> sh) & (NB - 1)]++;
		size_t sum = 0;
		for (size_t d = 0; d < NB; d++) {
			size_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i] >> sh) & (NB - 1)]++] = a[i];
		uint64_t *t = a;
		a = tmp;
		tmp = t;
	}
	free(cnt); /* 4 passes: the sorted keys are back in the caller's a */
}

/* States up to this many amplitudes are sampled by binary search. */
#ifndef QSIM_SEARCH_MAX_DIM
#define QSIM_SEARCH_MAX_DIM ((size_t)1 << 20)
#endif

/* Bin of the uniform u in [0, total): the smallest i with u < c[i+1],
 * capped at last (c[i] = prefix sums of the probabilities in index order),
 * which is where the sorted scan below lands, bit for bit. */
static size_t bin_of(const double *c, size_t last, double u)
{
	size_t lo = 0, hi = last; /* answer in [lo, hi] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c[mid + 1] <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* More shots than outcomes: the whole histogram as a multinomial, one
 * conditional binomial per outcome (binomial.c), c_i ~ B(S − Σ_{j<i} c_j,
 * p_i / Σ_{j>=i} p_j), with the tail sums Σ_{j>=i} p_j summed from the end
 * so that small tails keep their relative accuracy. O(dim) draws. */
static int sample_multinomial(const qnn_state *s, size_t last, long shots, uint64_t seed,
			      void (*emit)(void *ctx, uint64_t idx, uint64_t mult), void *ctx)
{
	double *tail = malloc((last + 2) * sizeof *tail);
	if (!tail)
		return QNN_ENOMEM;
	tail[last + 1] = 0;
	for (size_t i = last + 1; i-- > 0;)
		tail[i] = tail[i + 1] + prob(s, i);
	qnn_rng rng;
	qnn_rng_seed(&rng, seed);
	uint64_t left = (uint64_t)shots;
	for (size_t i = 0; i <= last && left; i++) {
		double p = prob(s, i);
		uint64_t k = i == last ? left : qsim_binomial(&rng, left, tail[i] > 0 ? p / tail[i] : 0);
		if (k)
			emit(ctx, i, k);
		left -= k;
	}
	free(tail);
	return 0;
}

/* Draw shots basis indices; emit(ctx, index, multiplicity) in ascending
 * index order within each chunk. Each shot is a 53-bit uniform u mapped to
 * the bin with cum_i <= u·total < cum_i + p_i (cumulative sums in index
 * order, the last nonzero bin taking the rest). Two equivalent ways, chosen
 * by size, give identical counts: for states up to 2^20 amplitudes a
 * binary search in the prefix sums (O(shots log dim)); beyond, sorting the
 * uniforms and one scan of the state (O(shots + dim), no prefix array of
 * the state's size). With more shots than outcomes (states up to 2^20
 * amplitudes) the counts are drawn as a multinomial instead, the same
 * distribution in O(dim). */
int qsim_sample(const qnn_state *s, long shots, uint64_t seed,
		void (*emit)(void *ctx, uint64_t idx, uint64_t mult), void *ctx)
{
	size_t dim = (size_t)1 << s->n;
	double total = 0;
	size_t last = 0; /* last index with nonzero probability */
	for (size_t i = 0; i < dim; i++) {
		double p = prob(s, i);
		total += p;
		if (p > 0)
			last = i;
	}
	if (!(total > 0) || !isfinite(total))
		return QNN_EARG;
	if (dim <= QSIM_SEARCH_MAX_DIM && (uint64_t)shots > (uint64_t)last + 1)
		return sample_multinomial(s, last, shots, seed, emit, ctx);
	size_t chunk = (size_t)shots < ((size_t)1 << 20) ? (size_t)shots : (size_t)1 << 20;
	int by_search = dim <= QSIM_SEARCH_MAX_DIM;
	uint64_t *keys = by_search ? NULL : malloc(2 * (chunk ? chunk : 1) * sizeof *keys);
	double *c = by_search ? malloc((last + 2) * sizeof *c) : NULL;
	uint64_t *mult = by_search ? calloc(last + 1, sizeof *mult) : NULL;
	if (by_search ? !c || !mult : !keys) {
		free(keys);
		free(c);
		free(mult);
		return QNN_ENOMEM;
	}
	if (by_search) {
		c[0] = 0;
		for (size_t i = 0; i <= last; i++)
			c[i + 1] = c[i] + prob(s, i);
	}
	qnn_rng rng;
	qnn_rng_seed(&rng, seed);
	for (long done = 0; done < shots;) {
		size_t m = (size_t)(shots - done) < chunk ? (size_t)(shots - done) : chunk;
		if (by_search) {
			for (size_t j = 0; j < m; j++)
				mult[bin_of(c, last, (double)(qnn_rng_next(&rng) >> 11) * 0x1p-53 * total)]++;
			for (size_t i = 0; i <= last; i++)
				if (mult[i]) {
					emit(ctx, i, mult[i]);
					mult[i] = 0;
				}
			done += (long)m;
			continue;
		}
		for (size_t j = 0; j < m; j++)
			keys[j] = qnn_rng_next(&rng) >> 11;
		radix53(keys, keys + chunk, m);
		double cum = 0;
		size_t i = 0, j = 0;
		while (j < m) {
			double u = (double)keys[j] * 0x1p-53 * total;
			while (i < last && cum + prob(s, i) <= u)
				cum += prob(s, i++);
			uint64_t mlt = 0;
			/* every following uniform below the bin's upper edge */
			double edge = cum + prob(s, i);
			while (j < m && (i == last || (double)keys[j] * 0x1p-53 * total < edge)) {
				mlt++;
				j++;
			}
			emit(ctx, i, mlt);
		}
		done += (long)m;
	}
	free(keys);
	free(c);
	free(mult);
	return 0;
}

static void add_count(void *ctx, uint64_t idx, uint64_t mult) { ((uint64_t *)ctx)[idx] += mult; }

int qnn_state_sample(const qnn_state *s, long shots, uint64_t seed, uint64_t *counts)
{
	if (!s || shots < 0 || (!counts && shots > 0))
		return QNN_EARG;
	if (shots == 0)
		return 0;
	return qsim_sample(s, shots, seed, add_count, counts);
}
