/* train_conv.c - forward and backward kernels of the training engine for
 * Conv and the pooling ops, over any number of spatial dims (geometry from
 * op_conv.h, so the windows are exactly the interpreter's).
 *
 * Conv as matrix products, image by image: for image b and group g the
 * im2col matrix X_col [C/G·kn, pn] holds the input under every window,
 * Y_g = W_g X_col + B (W_g is M/G × C/G·kn), and
 *   dW_g += dY_g X_colᵀ,   dB += Σ dY,   dX_col = W_gᵀ dY_g,
 * dX += col2im(dX_col) (the adjoint of im2col: window entries add back to
 * the pixel they came from). One image's X_col stays in cache (100-300 KB
 * for the CIFAR example), where a matrix for the whole batch would stream
 * from memory, and Y_g lands in NCHW order with no copy. X_col is rebuilt
 * in the backward pass rather than kept, which costs one cached sweep and
 * saves a copy of every convolution input blown up kn times. A pointwise
 * convolution (1×1, stride 1, no padding) uses X itself.
 *
 * Pooling: the windows of one plane are tabulated once per forward pass
 * (offsets into the plane of the positions inside the input). MaxPool
 * keeps the winning offset of every output (first maximum in window order,
 * as the interpreter) and routes dY there; AveragePool spreads dY/divisor
 * over the window (the divisor counts the padding with count_include_pad).
 */
#include "train_internal.h"

#include "la.h"
#include "op_conv.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Conv */

/* col[(c·kn + k)·pn + o] = x[c, o·s − lo + k·d] (0 outside the input) for
 * the cg channels of one image starting at x. With add, the adjoint:
 * x[...] += col[...] (x is then the gradient). The last spatial dim is
 * the inner loop, clipped to the positions inside the input. */
static void im2col(float *x, int64_t cg, const conv_plan *p, float *col, int add)
{
	int last = p->nsp - 1;
	int64_t ol = p->out[last], nprefix = ol ? p->pn / ol : 0;
	int64_t s = p->s[last], inl = p->in[last];
	for (int64_t c = 0; c < cg; c++) {
		float *xc = x + c * p->inplane;
		int64_t kk[IR_MAX_RANK] = {0};
		for (int64_t ki = 0; ki < p->kn; ki++) {
			int64_t koff = kk[last] * p->d[last] - p->lo[last];
			/* j with 0 <= j·s + koff < inl */
			int64_t jlo = koff >= 0 ? 0 : (-koff + s - 1) / s;
			int64_t jhi = inl - koff <= 0 ? 0 : (inl - koff + s - 1) / s;
			if (jhi > ol)
				jhi = ol;
			if (jlo > jhi)
				jlo = jhi;
			float *row = col + (c * p->kn + ki) * p->pn;
			int64_t o[IR_MAX_RANK] = {0};
			for (int64_t q = 0; q < nprefix; q++) {
				float *r = row + q * ol;
				int64_t base = 0;
				int ok = 1;
				for (int dd = 0; dd < last; dd++) {
					int64_t i = o[dd] * p->s[dd] - p->lo[dd] + kk[dd] * p->d[dd];
					ok &= i >= 0 && i < p->in[dd];
					base = base * p->in[dd] + i;
				}
				float *src = xc + base * inl + koff;
				if (add) {
					if (ok)
						for (int64_t j = jlo; j < jhi; j++)
							src[j * s] += r[j];
				} else if (!ok) {
					memset(r, 0, (size_t)ol * sizeof *r);
				} else {
					for (int64_t j = 0; j < jlo; j++)
						r[j] = 0;
					if (s == 1)
						memcpy(r + jlo, src + jlo, (size_t)(jhi - jlo) * sizeof *r);
					else
						for (int64_t j = jlo; j < jhi; j++)
							r[j] = src[j * s];
					for (int64_t j = jhi; j < ol; j++)
						r[j] = 0;
				}
				for (int dd = last - 1; dd >= 0 && ++o[dd] == p->out[dd]; dd--)
					o[dd] = 0;
			}
			for (int dd = last; dd >= 0 && ++kk[dd] == p->k[dd]; dd--)
				kk[dd] = 0;
		}
	}
}

static int conv_pass(train_model *m, tr_node *t, int back)
{
	const tr_val *X = t->in[0], *W = t->in[1], *B = t->nin > 2 ? t->in[2] : NULL;
	const tr_val *Y = t->out[0];
	conv_plan p;
	if (conv_plan_make(tr_graph(m), t->n, X->rank, X->dims, W->dims, &p))
		return -1;
	int64_t G = ir_attr_int(t->n, "group", 1), nb = X->dims[0], C = X->dims[1], cg = C / G;
	int64_t M = W->dims[0], mg = M / G, rows = cg * p.kn, pn = p.pn;
	if (nb == 0 || M == 0 || pn == 0)
		return 0;
	int need_col = !p.pointwise && rows > 0 && (!back || W->dx);
	float *col = need_col ? tr_scratch(m, t, 0, (size_t)(rows * pn)) : NULL;
	float *dcol = back && X->dx && !p.pointwise && rows ? tr_scratch(m, t, 1, (size_t)(rows * pn))
							   : NULL;
	if ((need_col && !col) || (back && X->dx && !p.pointwise && rows && !dcol))
		return -1;
	for (int64_t bi = 0; bi < nb; bi++)
		for (int64_t gi = 0; gi < G; gi++) {
			const float *wg = W->x + gi * mg * rows;
			int64_t xo = (bi * C + gi * cg) * p.inplane, yo = (bi * M + gi * mg) * pn;
			float *xcol = p.pointwise ? X->x + xo : col;
			if (!back) {
				float *y = Y->x + yo;
				if (need_col)
					im2col(X->x + xo, cg, &p, col, 0);
				if (B)
					for (int64_t mm = 0; mm < mg; mm++)
						for (int64_t o = 0; o < pn; o++)
							y[mm * pn + o] = B->x[gi * mg + mm];
				la_sgemm(0, 0, mg, pn, rows, 1, wg, xcol, B ? 1 : 0, y);
				continue;
			}
			const float *dy = Y->dx + yo;
			if (B && B->dx)
				for (int64_t mm = 0; mm < mg; mm++) {
					float s = 0;
					for (int64_t o = 0; o < pn; o++)
						s += dy[mm * pn + o];
					B->dx[gi * mg + mm] += s;
				}
			if (W->dx && rows) {
				if (need_col)
					im2col(X->x + xo, cg, &p, col, 0);
				la_sgemm(0, 1, mg, rows, pn, 1, dy, xcol, 1, W->dx + gi * mg * rows);
			}
			if (X->dx && rows) {
				if (p.pointwise) {
					la_sgemm(1, 0, rows, pn, mg, 1, wg, dy, 1, X->dx + xo);
				} else {
					la_sgemm(1, 0, rows, pn, mg, 1, wg, dy, 0, dcol);
					im2col(X->dx + xo, cg, &p, dcol, 1);
				}
			}
		}
	return 0;
}

static int conv_forward(train_model *m, tr_node *t) { return conv_pass(m, t, 0); }
static int conv_backward(train_model *m, tr_node *t) { return conv_pass(m, t, 1); }

/* ------------------------------------------------------------- pooling */

typedef struct pool_state {
	int64_t inplane, outplane, kn;
	int32_t *off;   /* [outplane·kn]: offsets in the input plane */
	int32_t *cnt;   /* [outplane]: positions inside the input */
	float *inv;     /* [outplane]: 1 / divisor (AveragePool) */
	int32_t *arg;   /* [numel Y]: winning offset (max pools), -1 for none */
	size_t cap_tab, cap_arg;
} pool_state;

static void pool_release(tr_node *t)
{
	pool_state *s = t->state;
	if (!s)
		return;
	free(s->off);
	free(s->cnt);
	free(s->inv);
	free(s->arg);
	free(s);
	t->state = NULL;
}

static pool_state *pool_get(train_model *m, tr_node *t)
{
	if (!t->state && !(t->state = calloc(1, sizeof(pool_state))))
		ir_error(tr_graph(m), t->n, "out of memory");
	return t->state;
}

/* Smallest k ≥ 0 with start + k·d ≥ lim (d > 0). */
static int64_t first_at_least(int64_t start, int64_t d, int64_t lim)
{
	return start >= lim ? 0 : (lim - start + d - 1) / d;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Tabulate the windows of one plane (op_pool.c's geometry). */
static int pool_table(train_model *m, tr_node *t, pool_state *s)
{
	ir_graph *g = tr_graph(m);
	const tr_val *X = t->in[0];
	int nsp = X->rank - 2;
	conv_win w;
	if (conv_win_parse(g, t->n, &w, nsp, 1))
		return -1;
	int64_t out[IR_MAX_RANK], start[IR_MAX_RANK][2], lo, hi[IR_MAX_RANK], in[IR_MAX_RANK];
	s->inplane = s->outplane = s->kn = 1;
	for (int d = 0; d < nsp; d++) {
		if (conv_win_dim(g, t->n, &w, d, X->dims[d + 2], &out[d], &lo, &hi[d]))
			return -1;
		start[d][0] = -lo;
		start[d][1] = w.stride[d];
		in[d] = X->dims[d + 2];
		s->inplane *= in[d];
		s->outplane *= out[d];
		s->kn *= w.kernel[d];
	}
	if (s->inplane > INT32_MAX)
		return ir_error(g, t->n, "a plane of %lld positions is too large for training",
				(long long)s->inplane);
	size_t need = (size_t)(s->outplane * s->kn);
	if (s->cap_tab < need || !s->cnt) {
		free(s->off);
		free(s->cnt);
		free(s->inv);
		s->off = malloc((need ? need : 1) * sizeof *s->off);
		s->cnt = malloc((size_t)(s->outplane ? s->outplane : 1) * sizeof *s->cnt);
		s->inv = malloc((size_t)(s->outplane ? s->outplane : 1) * sizeof *s->inv);
		s->cap_tab = s->off && s->cnt && s->inv ? need : 0;
		if (!s->cap_tab)
			return ir_error(g, t->n, "out of memory");
	}
	int incl = ir_attr_int(t->n, "count_include_pad", 0) == 1;
	int64_t o[IR_MAX_RANK] = {0};
	for (int64_t j = 0; j < s->outplane; j++) {
		int64_t k0[IR_MAX_RANK], k1[IR_MAX_RANK], k[IR_MAX_RANK], st[IR_MAX_RANK], npad = 1;
		int empty = 0;
		for (int d = 0; d < nsp; d++) {
			st[d] = o[d] * start[d][1] + start[d][0];
			k0[d] = k[d] = clamp64(first_at_least(st[d], w.dil[d], 0), 0, w.kernel[d]);
			k1[d] = clamp64(first_at_least(st[d], w.dil[d], in[d]), 0, w.kernel[d]);
			npad *= clamp64(first_at_least(st[d], w.dil[d], in[d] + hi[d]), 0, w.kernel[d]);
			empty |= k1[d] <= k0[d];
		}
		int32_t c = 0, *off = s->off + j * s->kn;
		while (!empty) {
			int64_t r = 0;
			for (int d = 0; d < nsp; d++)
				r = r * in[d] + st[d] + k[d] * w.dil[d];
			off[c++] = (int32_t)r;
			int d = nsp - 1;
			for (; d >= 0 && ++k[d] == k1[d]; d--)
				k[d] = k0[d];
			if (d < 0)
				break;
		}
		s->cnt[j] = c;
		/* 0/0 for an empty average window, as the interpreter */
		s->inv[j] = (float)(1.0 / (double)(incl ? npad : c));
		for (int d = nsp - 1; d >= 0 && ++o[d] == out[d]; d--)
			o[d] = 0;
	}
	return 0;
}

static int pool_forward(train_model *m, tr_node *t)
{
	const tr_val *X = t->in[0], *Y = t->out[0];
	pool_state *s = pool_get(m, t);
	if (!s)
		return -1;
	int global = t->n->op == IR_OP_GlobalAveragePool || t->n->op == IR_OP_GlobalMaxPool;
	int maxp = t->n->op == IR_OP_MaxPool || t->n->op == IR_OP_GlobalMaxPool;
	int64_t planes = X->dims[0] * X->dims[1];
	if (global) {
		s->inplane = planes ? X->numel / planes : 0;
		s->outplane = 1;
	} else if (pool_table(m, t, s)) {
		return -1;
	}
	if (maxp && s->cap_arg < (size_t)Y->numel) {
		free(s->arg);
		s->arg = malloc((size_t)(Y->numel ? Y->numel : 1) * sizeof *s->arg);
		s->cap_arg = s->arg ? (size_t)Y->numel : 0;
		if (!s->arg)
			return ir_error(tr_graph(m), t->n, "out of memory");
	}
	for (int64_t pl = 0; pl < planes; pl++) {
		const float *x = X->x + pl * s->inplane;
		float *y = Y->x + pl * s->outplane;
		if (global) {
			if (!maxp) {
				double sum = 0;
				for (int64_t i = 0; i < s->inplane; i++)
					sum += x[i];
				y[0] = (float)(sum / (double)s->inplane);
				continue;
			}
			int32_t arg = s->inplane ? 0 : -1;
			for (int64_t i = 1; i < s->inplane; i++)
				if (x[i] > x[arg])
					arg = (int32_t)i;
			y[0] = arg >= 0 ? x[arg] : -FLT_MAX;
			s->arg[pl] = arg;
			continue;
		}
		for (int64_t j = 0; j < s->outplane; j++) {
			const int32_t *off = s->off + j * s->kn;
			int32_t c = s->cnt[j];
			if (maxp) {
				/* first maximum wins; selects, not branches */
				int32_t arg = c ? off[0] : -1;
				float best = c ? x[off[0]] : -FLT_MAX;
				for (int32_t i = 1; i < c; i++) {
					float v = x[off[i]];
					int better = v > best;
					best = better ? v : best;
					arg = better ? off[i] : arg;
				}
				y[j] = best;
				s->arg[pl * s->outplane + j] = arg;
			} else {
				float sum = 0;
				for (int32_t i = 0; i < c; i++)
					sum += x[off[i]];
				y[j] = sum * s->inv[j];
			}
		}
	}
	return 0;
}

static int pool_backward(train_model *m, tr_node *t)
{
	const tr_val *X = t->in[0], *Y = t->out[0];
	pool_state *s = t->state;
	int global = t->n->op == IR_OP_GlobalAveragePool || t->n->op == IR_OP_GlobalMaxPool;
	int maxp = t->n->op == IR_OP_MaxPool || t->n->op == IR_OP_GlobalMaxPool;
	int64_t planes = X->dims[0] * X->dims[1];
	for (int64_t pl = 0; pl < planes; pl++) {
		float *dx = X->dx + pl * s->inplane;
		const float *dy = Y->dx + pl * s->outplane;
		if (maxp) {
			const int32_t *arg = s->arg + pl * s->outplane;
			for (int64_t j = 0; j < s->outplane; j++)
				if (arg[j] >= 0)
					dx[arg[j]] += dy[j];
			continue;
		}
		if (global) {
			float v = (float)(dy[0] / (double)s->inplane);
			for (int64_t i = 0; i < s->inplane; i++)
				dx[i] += v;
			continue;
		}
		for (int64_t j = 0; j < s->outplane; j++) {
			const int32_t *off = s->off + j * s->kn;
			float v = dy[j] * s->inv[j];
			for (int32_t i = 0; i < s->cnt[j]; i++)
				dx[off[i]] += v;
		}
	}
	return 0;
}

const tr_kernel tr_kernels_conv[] = {
	{IR_OP_Conv, 6u, 0, NULL, conv_forward, conv_backward, NULL},
	{IR_OP_MaxPool, 0u, 0, NULL, pool_forward, pool_backward, pool_release},
	{IR_OP_AveragePool, 0u, 0, NULL, pool_forward, pool_backward, pool_release},
	{IR_OP_GlobalAveragePool, 0u, 0, NULL, pool_forward, pool_backward, pool_release},
	{IR_OP_GlobalMaxPool, 0u, 0, NULL, pool_forward, pool_backward, pool_release},
};
const int tr_nkernels_conv = (int)(sizeof tr_kernels_conv / sizeof tr_kernels_conv[0]);
