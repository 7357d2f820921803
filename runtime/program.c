/* program.c - running a parsed program on the embedded simulator.
 *
 * Binding evaluates every angle for the given inputs, turns each
 * operation into a matrix on its targets plus a control mask, and fuses
 * gates: consecutive gates whose qubits fit in F qubits are multiplied
 * into one dense block (qsim-style greedy fusion; blocks on disjoint
 * qubits commute, so each qubit belongs to at most one open block, and a
 * block is emitted when a gate that does not fit touches it). A dense
 * 2^F-qubit pass costs about one memory sweep, like a 1-qubit gate, so at
 * large n this saves a sweep per fused gate; F grows with n because below
 * ~2^14 amplitudes the state sits in cache and flops dominate. Blocks are
 * multiplied with the simulator's own kernels, treating a D x D matrix as
 * a state whose row index is its high qubits. An uncontrolled gphase goes
 * into one global phase factor. The state is real exactly when every
 * emitted matrix is real, decided here, once per bind.
 *
 * Terminal measurements are sampled from the final state (qsim_sample);
 * a program that measures or resets a qubit and then uses it again runs
 * shot by shot with collapse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnnrt_impl.h"

enum { BG_GATE, BG_MEASURE, BG_RESET };

#define QRT_FUSE_MAX 4 /* qubits in a fused block */
#define QRT_FUSE_D (1 << QRT_FUSE_MAX)

/* An open fused block: matrix over q[0..nq) (bit j of its index is q[j]),
 * applied after everything emitted so far. */
typedef struct fblock {
	int nq;
	int q[QRT_FUSE_MAX];
	double re[QRT_FUSE_D * QRT_FUSE_D], im[QRT_FUSE_D * QRT_FUSE_D];
} fblock;

/* Block size for an n-qubit state (see the top of the file). */
static int fuse_width(int n) { return n < 4 ? 1 : n < 16 ? 2 : n < 20 ? 3 : QRT_FUSE_MAX; }

typedef struct bgate {
	int kind;
	int k;
	int t[QRT_FUSE_MAX];
	uint64_t cmask, cval;
	long moff;   /* re at mat[moff], im (when !real) right after */
	int real;
	int cbit;
} bgate;

typedef struct bound {
	bgate *g;
	long ng, capg;
	double *mat;
	long nmat, capmat;
	double ph_re, ph_im; /* global phase */
	int real;
	int F;               /* fusion width */
	fblock *blk;         /* open blocks, one slot per qubit */
	int *owner;          /* qubit -> slot in blk, or -1 */
} bound;

static void bound_free(bound *b)
{
	free(b->g);
	free(b->mat);
	free(b->blk);
	free(b->owner);
}

static int push_gate(bound *b, int k, const int *t, uint64_t cmask, uint64_t cval, const double *re,
		     const double *im)
{
	int D = 1 << k, real = 1;
	for (int i = 0; i < D * D; i++)
		if (im[i] != 0)
			real = 0;
	void *p = b->g;
	if (qrt_grow(&p, &b->capg, b->ng + 1, sizeof *b->g))
		return QNN_ENOMEM;
	b->g = p;
	p = b->mat;
	if (qrt_grow(&p, &b->capmat, b->nmat + 2L * D * D, sizeof *b->mat))
		return QNN_ENOMEM;
	b->mat = p;
	bgate *g = &b->g[b->ng++];
	memset(g, 0, sizeof *g);
	g->kind = BG_GATE;
	g->k = k;
	for (int j = 0; j < k; j++)
		g->t[j] = t[j];
	g->cmask = cmask;
	g->cval = cval;
	g->moff = b->nmat;
	g->real = real;
	memcpy(b->mat + b->nmat, re, (size_t)D * D * sizeof *re);
	b->nmat += D * D;
	if (!real) {
		memcpy(b->mat + b->nmat, im, (size_t)D * D * sizeof *im);
		b->nmat += D * D;
	}
	b->real &= real;
	return 0;
}

static int push_other(bound *b, int kind, int q, int cbit)
{
	void *p = b->g;
	if (qrt_grow(&p, &b->capg, b->ng + 1, sizeof *b->g))
		return QNN_ENOMEM;
	b->g = p;
	bgate *g = &b->g[b->ng++];
	memset(g, 0, sizeof *g);
	g->kind = kind;
	g->k = 1;
	g->t[0] = q;
	g->cbit = cbit;
	return 0;
}

/* Emit the block holding qubit q, if any. */
static int flush(bound *b, int q)
{
	int i = b->owner[q];
	if (i < 0)
		return 0;
	fblock *f = &b->blk[i];
	for (int j = 0; j < f->nq; j++)
		b->owner[f->q[j]] = -1;
	return push_gate(b, f->nq, f->q, 0, 0, f->re, f->im);
}

/* Left-multiply block f by a gate given on global qubits t[0..k) with the
 * controls of cmask/cval (all inside the block): the block matrix is a
 * state of 2 nq qubits whose high half is the row index. */
static void block_apply(fblock *f, int k, const int *t, const double *re, const double *im,
			uint64_t cmask, uint64_t cval)
{
	int lt[QRT_FUSE_MAX];
	uint64_t lm = 0, lv = 0;
	for (int j = 0; j < f->nq; j++) {
		for (int i = 0; i < k; i++)
			if (t[i] == f->q[j])
				lt[i] = f->nq + j;
		if (cmask >> f->q[j] & 1) {
			lm |= (uint64_t)1 << (f->nq + j);
			if (cval >> f->q[j] & 1)
				lv |= (uint64_t)1 << (f->nq + j);
		}
	}
	qnn_state view = {2 * f->nq, 1, f->re, f->im};
	qsim_apply(&view, k, lt, re, im, lm, lv); /* k <= 4: no allocation */
}

/* A gate on targets t[0..k) with controls cmask/cval: fuse it, or emit it
 * (and the blocks it touches) when it does not fit. */
static int fuse_gate(bound *b, int n, int k, const int *t, uint64_t cmask, uint64_t cval,
		     const double *re, const double *im)
{
	uint64_t qs = cmask;
	for (int j = 0; j < k; j++)
		qs |= (uint64_t)1 << t[j];
	/* the qubits of the gate and of the blocks it touches */
	uint64_t all = qs;
	for (int q = 0; q < n; q++)
		if ((qs >> q & 1) && b->owner[q] >= 0) {
			const fblock *f = &b->blk[b->owner[q]];
			for (int j = 0; j < f->nq; j++)
				all |= (uint64_t)1 << f->q[j];
		}
	int width = 0;
	for (uint64_t x = all; x; x &= x - 1)
		width++;
	if (width > b->F) {
		for (int q = 0; q < n; q++)
			if ((qs >> q & 1) && flush(b, q))
				return QNN_ENOMEM;
		int nq = 0;
		for (uint64_t x = qs; x; x &= x - 1)
			nq++;
		if (nq > b->F) /* too wide to fuse at all */
			return push_gate(b, k, t, cmask, cval, re, im);
		all = qs;
	}
	/* all inside one open block: multiply in place */
	int low = 0;
	while (!(all >> low & 1))
		low++;
	int in = b->owner[low];
	if (in >= 0) {
		fblock *f = &b->blk[in];
		uint64_t fq = 0;
		for (int j = 0; j < f->nq; j++)
			fq |= (uint64_t)1 << f->q[j];
		if (fq == all) {
			block_apply(f, k, t, re, im, cmask, cval);
			return 0;
		}
	}
	/* one block over `all`: the touched blocks side by side, then the gate */
	fblock nb;
	nb.nq = 0;
	int old[QRT_FUSE_MAX], nold = 0;
	for (int q = 0; q < n; q++)
		if (all >> q & 1) {
			nb.q[nb.nq++] = q;
			int i = b->owner[q];
			int seen = 0;
			for (int j = 0; j < nold; j++)
				seen |= old[j] == i;
			if (i >= 0 && !seen)
				old[nold++] = i;
		}
	int D = 1 << nb.nq;
	memset(nb.re, 0, sizeof nb.re);
	memset(nb.im, 0, sizeof nb.im);
	for (int i = 0; i < D; i++)
		nb.re[i * D + i] = 1;
	for (int j = 0; j < nold; j++) {
		fblock *f = &b->blk[old[j]];
		block_apply(&nb, f->nq, f->q, f->re, f->im, 0, 0);
		for (int i = 0; i < f->nq; i++)
			b->owner[f->q[i]] = -1;
	}
	block_apply(&nb, k, t, re, im, cmask, cval);
	int slot = nb.q[0]; /* slots by lowest qubit: always free now */
	b->blk[slot] = nb;
	for (int i = 0; i < nb.nq; i++)
		b->owner[nb.q[i]] = slot;
	return 0;
}

static int bind(const qnn_program *p, const double *in, int nin, bound *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	b->ph_re = 1;
	b->real = 1;
	if (nin != p->ninputs || (nin > 0 && !in))
		return qrt_err(err, errlen, QNN_EINPUT, "%s: the program has %d input%s, got %d",
			       p->source, p->ninputs, p->ninputs == 1 ? "" : "s", nin);
	for (int i = 0; i < nin; i++)
		if (!isfinite(in[i]))
			return qrt_err(err, errlen, QNN_EINPUT, "%s: input '%s' is not finite (%s)",
				       p->source, p->input_names[i], isnan(in[i]) ? "NaN" : "infinite");
	int n = p->nqubits;
	b->F = fuse_width(n);
	b->blk = malloc((size_t)(n ? n : 1) * sizeof *b->blk);
	b->owner = malloc((size_t)(n ? n : 1) * sizeof *b->owner);
	if (!b->blk || !b->owner)
		goto oom;
	for (int q = 0; q < n; q++)
		b->owner[q] = -1;
	for (long i = 0; i < p->nops; i++) {
		const qop *o = &p->ops[i];
		const int *qs = p->qubits + o->q;
		if (o->kind == QG_MEASURE || o->kind == QG_RESET) {
			if (o->kind == QG_RESET && o->trivial)
				continue;
			if (flush(b, qs[0]) || push_other(b, o->kind == QG_MEASURE ? BG_MEASURE : BG_RESET,
							   qs[0], o->cbit))
				goto oom;
			continue;
		}
		double v[4] = {0, 0, 0, 0}, re[16], im[16];
		for (int j = 0; j < qg_infos[o->kind].nparams; j++) {
			const qpar *pp = &p->pars[o->par + j];
			v[j] = pp->e ? qx_eval(pp->e, in) : pp->v;
			if (!isfinite(v[j]))
				return qrt_err(err, errlen, QNN_EINPUT,
					       "%s:%d:%d: gate parameter %d is not finite (%s) for these inputs",
					       p->source, o->line, o->col, j + 1, isnan(v[j]) ? "NaN" : "infinite");
		}
		qg_matrix(o->kind, v, o->adj, re, im);
		if (o->kind == QG_GPHASE && o->nc == 0) {
			double r = b->ph_re * re[0] - b->ph_im * im[0];
			b->ph_im = b->ph_re * im[0] + b->ph_im * re[0];
			b->ph_re = r;
			continue;
		}
		const int *t = qs + o->nc;
		uint64_t cmask = 0, cval = 0;
		for (int j = 0; j < o->nc; j++) {
			cmask |= (uint64_t)1 << qs[j];
			if (!(o->negc >> j & 1))
				cval |= (uint64_t)1 << qs[j];
		}
		if (fuse_gate(b, n, o->nt, t, cmask, cval, re, im))
			goto oom;
	}
	for (int q = 0; q < n; q++)
		if (flush(b, q))
			goto oom;
	return 0;
oom:
	return qrt_err(err, errlen, QNN_ENOMEM, "%s: out of memory", p->source);
}

static int apply_gates(const bound *b, qnn_state *s)
{
	for (long i = 0; i < b->ng; i++) {
		const bgate *g = &b->g[i];
		if (g->kind != BG_GATE)
			continue;
		const double *re = b->mat + g->moff;
		const double *im = g->real ? NULL : re + (1 << (2 * g->k));
		int r = qsim_apply(s, g->k, g->t, re, im, g->cmask, g->cval);
		if (r)
			return r;
	}
	return 0;
}

static int check_size(const qnn_program *p, char *err, size_t errlen)
{
	if (p->nqubits > QNN_SIM_MAX_QUBITS)
		return qrt_err(err, errlen, QNN_ERANGE,
			       "%s: the program has %d qubits; the simulator takes at most %d", p->source,
			       p->nqubits, QNN_SIM_MAX_QUBITS);
	return 0;
}

int qnn_program_apply(const qnn_program *p, const double *inputs, int ninputs, qnn_state *s,
		      char *err, size_t errlen)
{
	if (!p || !s)
		return qrt_err(err, errlen, QNN_EARG, "qnn_program_apply: NULL argument");
	if (s->n < p->nqubits)
		return qrt_err(err, errlen, QNN_EARG, "%s: the program has %d qubits, the state %d",
			       p->source, p->nqubits, s->n);
	if (p->midcircuit)
		return qrt_err(err, errlen, QNN_EUNSUPPORTED,
			       "%s: the program measures or resets qubits before using them again",
			       p->source);
	bound b;
	int r = bind(p, inputs, ninputs, &b, err, errlen);
	if (!r && !s->cplx && (!b.real || b.ph_im != 0))
		r = qrt_err(err, errlen, QNN_EARG, "%s: the program is complex; use a complex state",
			    p->source);
	if (!r)
		r = apply_gates(&b, s);
	if (!r && (b.ph_re != 1 || b.ph_im != 0))
		qsim_scale(s, b.ph_re, b.ph_im);
	if (r == QNN_ENOMEM)
		qrt_err(err, errlen, r, "%s: out of memory", p->source);
	bound_free(&b);
	return r;
}

/* ------------------------------------------------------------ sampling */

typedef struct bitmap {
	uint64_t *counts;
	const int *src; /* classical bit -> measured qubit, -1 */
	int nbits;
	int identity;
} bitmap;

static void emit_counts(void *ctx, uint64_t idx, uint64_t mult)
{
	const bitmap *m = ctx;
	uint64_t v = 0;
	if (m->identity) {
		v = idx;
	} else {
		for (int c = 0; c < m->nbits; c++)
			if (m->src[c] >= 0)
				v |= (idx >> m->src[c] & 1) << c;
	}
	m->counts[v] += mult;
}

static int sample_terminal(const qnn_program *p, const bound *b, const qnn_state *s, long shots,
			   uint64_t seed, uint64_t *counts)
{
	int *src = malloc((size_t)(p->nbits ? p->nbits : 1) * sizeof *src);
	if (!src)
		return QNN_ENOMEM;
	for (int c = 0; c < p->nbits; c++)
		src[c] = -1;
	for (long i = 0; i < b->ng; i++)
		if (b->g[i].kind == BG_MEASURE && b->g[i].cbit >= 0)
			src[b->g[i].cbit] = b->g[i].t[0];
	bitmap m = {counts, src, p->nbits, p->nbits == s->n};
	for (int c = 0; c < p->nbits && m.identity; c++)
		m.identity = src[c] == c;
	int r = qsim_sample(s, shots, seed, emit_counts, &m);
	free(src);
	return r;
}

/* Shot by shot, collapsing at each measurement and reset. */
static int sample_trajectories(const qnn_program *p, const bound *b, qnn_state *s, long shots,
			       uint64_t seed, uint64_t *counts)
{
	static const double xr[4] = {0, 1, 1, 0};
	qnn_rng rng;
	qnn_rng_seed(&rng, seed);
	for (long shot = 0; shot < shots; shot++) {
		qnn_state_set_basis(s, 0);
		uint64_t v = 0;
		for (long i = 0; i < b->ng; i++) {
			const bgate *g = &b->g[i];
			if (g->kind == BG_GATE) {
				const double *re = b->mat + g->moff;
				int r = qsim_apply(s, g->k, g->t, re, g->real ? NULL : re + (1 << (2 * g->k)),
						   g->cmask, g->cval);
				if (r)
					return r;
				continue;
			}
			int out = qsim_measure(s, g->t[0], qnn_rng_uniform(&rng));
			if (g->kind == BG_RESET) {
				if (out)
					qsim_apply(s, 1, g->t, xr, NULL, 0, 0);
			} else if (g->cbit >= 0) {
				v = (v & ~((uint64_t)1 << g->cbit)) | (uint64_t)out << g->cbit;
			}
		}
		counts[v]++;
	}
	(void)p;
	return 0;
}

/* ------------------------------------------------------------ runs */

int qnn_program_run(const qnn_program *p, const double *inputs, int ninputs, long shots,
		    uint64_t seed, qnn_result *res)
{
	if (!res)
		return QNN_EARG;
	char *err = res->err;
	size_t errlen = sizeof res->err;
	err[0] = 0;
	res->shots = 0;
	res->is_real = 0;
	if (!p)
		return qrt_err(err, errlen, QNN_EARG, "qnn_program_run: no program");
	res->nqubits = p->nqubits;
	res->nbits = p->nbits;
	if (shots < 0)
		return qrt_err(err, errlen, QNN_EARG, "%s: negative shot count %ld", p->source, shots);
	int r = check_size(p, err, errlen);
	if (r)
		return r;
	int want_counts = res->counts && shots > 0;
	size_t dim = (size_t)1 << p->nqubits;
	if (want_counts) {
		if (p->nbits > QNN_MAX_BITS)
			return qrt_err(err, errlen, QNN_ERANGE,
				       "%s: %d classical bits; histograms take at most %d", p->source,
				       p->nbits, QNN_MAX_BITS);
		if (res->counts_len < (size_t)1 << p->nbits)
			return qrt_err(err, errlen, QNN_ERANGE,
				       "%s: the counts buffer has %zu entries, %zu needed", p->source,
				       res->counts_len, (size_t)1 << p->nbits);
	}
	if (res->amp_re) {
		if (res->amps_len < dim)
			return qrt_err(err, errlen, QNN_ERANGE,
				       "%s: the amplitude buffers have %zu entries, %zu needed", p->source,
				       res->amps_len, dim);
		if (p->midcircuit)
			return qrt_err(err, errlen, QNN_EUNSUPPORTED,
				       "%s: no amplitudes for a program that measures or resets qubits "
				       "before using them again",
				       p->source);
	}
	bound b;
	r = bind(p, inputs, ninputs, &b, err, errlen);
	if (r) {
		bound_free(&b);
		return r;
	}
	qnn_state *s = qnn_state_new(p->nqubits, !b.real);
	if (!s) {
		bound_free(&b);
		return qrt_err(err, errlen, QNN_ENOMEM, "%s: no memory for a %d-qubit state", p->source,
			       p->nqubits);
	}
	res->is_real = !s->cplx;
	if (p->midcircuit) {
		if (want_counts) {
			memset(res->counts, 0, res->counts_len * sizeof *res->counts);
			r = sample_trajectories(p, &b, s, shots, seed, res->counts);
		}
	} else {
		r = apply_gates(&b, s);
		if (!r && res->amp_re) {
			double pr = b.ph_re, pi = b.ph_im, worst = 0;
			for (size_t i = 0; i < dim; i++) {
				double a = s->re[i], c = s->cplx ? s->im[i] : 0;
				double ar = pr * a - pi * c, ai = pr * c + pi * a;
				res->amp_re[i] = ar;
				if (res->amp_im)
					res->amp_im[i] = ai;
				else if (fabs(ai) > worst)
					worst = fabs(ai);
			}
			if (worst > 1e-10)
				r = qrt_err(err, errlen, QNN_ERANGE,
					    "%s: the final state is complex (imaginary part %.3g); "
					    "pass amp_im",
					    p->source, worst);
		}
		if (!r && want_counts) {
			memset(res->counts, 0, res->counts_len * sizeof *res->counts);
			r = sample_terminal(p, &b, s, shots, seed, res->counts);
		}
	}
	if (r == QNN_ENOMEM)
		qrt_err(err, errlen, r, "%s: out of memory", p->source);
	else if (r && !err[0])
		qrt_err(err, errlen, r, "%s: %s", p->source, qnn_strerror(r));
	if (!r && want_counts)
		res->shots = shots;
	qnn_state_free(s);
	bound_free(&b);
	return r;
}
