/* optim.c - optimisers (SGD with momentum / Nesterov, Adam, AdamW) and
 * learning-rate schedules (constant, cosine with warmup, one-cycle) for the
 * training engine. The formulas and references are in train.h; the updates
 * follow PyTorch's so that hyper-parameters carry over. */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

struct optim {
	optim_opts o;
	int n;
	int64_t *sizes;
	float **m, **v;  /* momentum / first moment, second moment (Adam) */
	int64_t t;       /* steps taken */
};

void optim_defaults(optim_opts *o, optim_kind kind)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->eps = 1e-8;
	if (kind == OPTIM_SGD) {
		o->lr = 0.01;
		o->momentum = 0.9;
	} else {
		o->lr = 1e-3;
	}
}

int optim_check(const optim_opts *o, char *err, size_t errlen)
{
	const char *bad = NULL;
	double v = 0;
	if (!(o->lr > 0) || !isfinite(o->lr))
		bad = "learning rate", v = o->lr;
	else if (!(o->weight_decay >= 0) || !isfinite(o->weight_decay))
		bad = "weight decay", v = o->weight_decay;
	else if (o->kind == OPTIM_SGD && !(o->momentum >= 0 && o->momentum < 1))
		bad = "momentum", v = o->momentum;
	else if (o->kind == OPTIM_SGD && o->nesterov && !(o->momentum > 0))
		bad = "momentum (Nesterov needs > 0)", v = o->momentum;
	else if (o->kind == OPTIM_ADAM && !(o->beta1 >= 0 && o->beta1 < 1))
		bad = "beta1", v = o->beta1;
	else if (o->kind == OPTIM_ADAM && !(o->beta2 >= 0 && o->beta2 < 1))
		bad = "beta2", v = o->beta2;
	else if (o->kind == OPTIM_ADAM && (!(o->eps > 0) || !isfinite(o->eps)))
		bad = "eps", v = o->eps;
	if (!bad)
		return 0;
	if (errlen)
		snprintf(err, errlen, "optimiser: bad %s %g", bad, v);
	return -1;
}

void sched_defaults(sched_opts *s, sched_kind kind)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->pct_start = 0.3;
	s->div_factor = 25;
	s->final_div = 1e4;
}

/* Cosine interpolation from a (at f = 0) to b (at f = 1). */
static double cos_interp(double a, double b, double f)
{
	return b + (a - b) * 0.5 * (1 + cos(M_PI * f));
}

double sched_lr(const sched_opts *s, double lr, int64_t step, int64_t total)
{
	if (total < 1)
		total = 1;
	if (step >= total)
		step = total - 1;
	if (step < 0)
		step = 0;
	if (s->kind == SCHED_ONECYCLE) {
		/* OneCycleLR phase ends: pct_start·total − 1 and total − 1. */
		double init = lr / s->div_factor, fin = init / s->final_div;
		double up = s->pct_start * (double)total - 1, end = (double)total - 1, t = (double)step;
		if (t <= up)
			return up > 0 ? cos_interp(init, lr, t / up) : lr;
		return end > up ? cos_interp(lr, fin, (t - up) / (end - up)) : lr;
	}
	if (step < s->warmup)
		return lr * (double)(step + 1) / (double)s->warmup;
	if (s->kind == SCHED_CONSTANT)
		return lr;
	int64_t span = total - s->warmup;
	double f = span > 1 ? (double)(step - s->warmup) / (double)(span - 1) : 0;
	return cos_interp(lr, lr * s->min_ratio, f);
}

optim *optim_new(const optim_opts *o, int nparams, const int64_t *sizes)
{
	optim *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->o = *o;
	p->n = nparams;
	p->sizes = calloc((size_t)nparams + 1, sizeof *p->sizes);
	p->m = calloc((size_t)nparams + 1, sizeof *p->m);
	p->v = calloc((size_t)nparams + 1, sizeof *p->v);
	if (!p->sizes || !p->m || !p->v) {
		optim_free(p);
		return NULL;
	}
	int need_m = o->kind == OPTIM_ADAM || o->momentum > 0, need_v = o->kind == OPTIM_ADAM;
	for (int i = 0; i < nparams; i++) {
		size_t n = (size_t)(sizes[i] > 0 ? sizes[i] : 1);
		p->sizes[i] = sizes[i];
		if ((need_m && !(p->m[i] = calloc(n, sizeof(float)))) ||
		    (need_v && !(p->v[i] = calloc(n, sizeof(float))))) {
			optim_free(p);
			return NULL;
		}
	}
	return p;
}

void optim_free(optim *o)
{
	if (!o)
		return;
	for (int i = 0; o->m && i < o->n; i++) {
		free(o->m[i]);
		free(o->v[i]);
	}
	free(o->m);
	free(o->v);
	free(o->sizes);
	free(o);
}

int64_t optim_steps(const optim *o) { return o->t; }

/* The Adam update of n weights. With errno semantics gcc never vectorises
 * sqrtf (it keeps a scalar call path for negative input), which left this
 * loop at a fifth of a training step on the MNIST MLP; so SSE does four
 * lanes at a time. The lanes compute exactly the scalar formula (IEEE
 * sqrt, mul, add and div round the same in both), so the result does not
 * depend on n or on where the vector part stops. */
static void adam_update(float *restrict w, const float *restrict g, float *restrict m,
			float *restrict v, int64_t n, float b1, float b2, float eps, float step,
			float rbc2, float decay)
{
	float c1 = 1 - b1, c2 = 1 - b2;
	int64_t j = 0;
#ifdef __SSE__
	const __m128 B1 = _mm_set1_ps(b1), B2 = _mm_set1_ps(b2), C1 = _mm_set1_ps(c1);
	const __m128 C2 = _mm_set1_ps(c2), E = _mm_set1_ps(eps), S = _mm_set1_ps(step);
	const __m128 R = _mm_set1_ps(rbc2), D = _mm_set1_ps(decay);
	for (; j + 4 <= n; j += 4) {
		__m128 gj = _mm_loadu_ps(g + j);
		__m128 mj = _mm_add_ps(_mm_mul_ps(B1, _mm_loadu_ps(m + j)), _mm_mul_ps(C1, gj));
		__m128 vj = _mm_add_ps(_mm_mul_ps(B2, _mm_loadu_ps(v + j)),
				       _mm_mul_ps(_mm_mul_ps(C2, gj), gj));
		__m128 den = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vj), R), E);
		__m128 wj = _mm_sub_ps(_mm_mul_ps(_mm_loadu_ps(w + j), D),
				       _mm_div_ps(_mm_mul_ps(S, mj), den));
		_mm_storeu_ps(m + j, mj);
		_mm_storeu_ps(v + j, vj);
		_mm_storeu_ps(w + j, wj);
	}
#endif
	for (; j < n; j++) {
		float gj = g[j];
		m[j] = b1 * m[j] + c1 * gj;
		v[j] = b2 * v[j] + c2 * gj * gj;
		w[j] = w[j] * decay - step * m[j] / (sqrtf(v[j]) * rbc2 + eps);
	}
}

void optim_step(optim *p, float *const *w, float *const *g, double lr)
{
	const optim_opts *o = &p->o;
	p->t++;
	float wd = (float)o->weight_decay, flr = (float)lr;
	if (o->kind == OPTIM_SGD) {
		float mu = (float)o->momentum;
		for (int i = 0; i < p->n; i++) {
			float *restrict wi = w[i], *restrict gi = g[i], *restrict b = p->m[i];
			int64_t n = p->sizes[i];
			if (wd != 0)
				for (int64_t j = 0; j < n; j++)
					gi[j] += wd * wi[j];
			if (!b) {
				for (int64_t j = 0; j < n; j++)
					wi[j] -= flr * gi[j];
				continue;
			}
			if (p->t == 1)
				memcpy(b, gi, (size_t)n * sizeof *b);
			else
				for (int64_t j = 0; j < n; j++)
					b[j] = mu * b[j] + gi[j];
			if (o->nesterov)
				for (int64_t j = 0; j < n; j++)
					wi[j] -= flr * (gi[j] + mu * b[j]);
			else
				for (int64_t j = 0; j < n; j++)
					wi[j] -= flr * b[j];
		}
		return;
	}
	/* Adam: bias corrections in double, the update in float as torch. */
	double bc1 = 1 - pow(o->beta1, (double)p->t), bc2 = 1 - pow(o->beta2, (double)p->t);
	float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
	float step = (float)(lr / bc1), rbc2 = (float)(1 / sqrt(bc2));
	float decay = o->decoupled ? (float)(1 - lr * o->weight_decay) : 1.0f;
	for (int i = 0; i < p->n; i++) {
		float *restrict wi = w[i], *restrict gi = g[i];
		int64_t n = p->sizes[i];
		if (wd != 0 && !o->decoupled)
			for (int64_t j = 0; j < n; j++)
				gi[j] += wd * wi[j];
		adam_update(wi, gi, p->m[i], p->v[i], n, b1, b2, eps, step, rbc2, decay);
	}
}
