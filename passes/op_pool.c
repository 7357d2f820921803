/* op_pool.c - the 'pool' op family (see ir/ops.def): MaxPool, AveragePool,
 * GlobalAveragePool, GlobalMaxPool over any number of spatial dims.
 *
 * A window of output o along a dim covers positions o*s - lo + k*d,
 * k < kernel (geometry in op_conv.h). Positions outside the input never
 * take part in a maximum. An average divides by the count of positions
 * inside the input, or with count_include_pad=1 by the count inside the
 * padded input [-lo, in + hi): a ceil_mode window that runs past the end
 * padding does not count the positions beyond it (as onnxruntime does and
 * the ONNX conformance data expect). MaxPool's Indices are flat indices
 * into X (batch and channel included), row-major, or column-major over the
 * spatial dims with storage_order=1; the first maximum in window order
 * wins. An empty window (all padding) gives the lowest value and index -1
 * for a maximum, NaN for an average without count_include_pad.
 */
#include "op_conv.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

static int is_global(const ir_node *n)
{
	return n->op == IR_OP_GlobalAveragePool || n->op == IR_OP_GlobalMaxPool;
}

static int pool_flag(ir_graph *g, ir_node *n, const char *name)
{
	int64_t v = ir_attr_int(n, name, 0);
	if (v != 0 && v != 1)
		return ir_error(g, n, "%s must be 0 or 1, got %lld", name, (long long)v);
	return 0;
}

int pool_check(ir_graph *g, ir_node *n)
{
	if (op_check_arity(g, n))
		return -1;
	if (is_global(n))
		return 0;
	conv_win w;
	if (conv_win_parse(g, n, &w, -1, 1))
		return -1;
	if (!w.has_kernel)
		return ir_error(g, n, "attribute kernel_shape is required");
	if (n->op == IR_OP_MaxPool)
		return pool_flag(g, n, "storage_order");
	return pool_flag(g, n, "count_include_pad");
}

int pool_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	const ir_value *x = in[0];
	const ir_shape *xs = &x->shape;
	unsigned mask = OP_FLOATS;
	if (n->op == IR_OP_MaxPool)
		mask |= (1u << IR_I8) | (1u << IR_U8);
	if (op_require_dtype(g, n, x, mask, "input X"))
		return -1;
	out[0]->dtype = x->dtype;
	ir_shape *y = &out[0]->shape;
	memset(y, 0, sizeof *y);
	y->rank = -1;
	int minrank = is_global(n) ? 2 : 3;
	if (xs->rank >= 0 && xs->rank < minrank) {
		char s[128];
		return ir_error(g, n, "X must have rank >= %d (N, C%s), got %s", minrank,
				minrank == 3 ? ", spatial dims..." : "", ir_shape_str(xs, s, sizeof s));
	}
	if (is_global(n)) {
		if (xs->rank < 0)
			return 0;
		*y = *xs;
		for (int d = 2; d < y->rank; d++)
			y->d[d] = (ir_dim){1, NULL};
		return 0;
	}
	conv_win w;
	if (conv_win_parse(g, n, &w, xs->rank >= 0 ? xs->rank - 2 : -1, 1))
		return -1;
	if (w.nsp < 0)
		return 0;
	y->rank = w.nsp + 2; /* kernel_shape is required, so the rank is known */
	for (int d = 0; d < y->rank; d++)
		y->d[d] = xs->rank >= 0 && d < 2 ? xs->d[d] : (ir_dim){-1, NULL};
	for (int d = 0; d < w.nsp; d++) {
		int64_t lo, hi;
		if (conv_win_dim(g, n, &w, d, xs->rank >= 0 ? xs->d[d + 2].v : -1, &y->d[d + 2].v,
				 &lo, &hi))
			return -1;
	}
	if (n->nout > 1 && out[1]) {
		out[1]->dtype = IR_I64;
		out[1]->shape = *y;
	}
	return 0;
}

/* ----------------------------------------------------------- windows */

typedef struct pool_plan {
	int nsp;
	int64_t in[IR_MAX_RANK], out[IR_MAX_RANK], k[IR_MAX_RANK], d[IR_MAX_RANK];
	int64_t rs[IR_MAX_RANK], cs[IR_MAX_RANK]; /* row- / column-major strides */
	int64_t inplane, outplane, kn;
	/* per spatial dim, per output index: first position, valid k range
	 * [kmin, kend) inside the input, count inside the padded input */
	int64_t *start[IR_MAX_RANK], *kmin[IR_MAX_RANK], *kend[IR_MAX_RANK], *kpad[IR_MAX_RANK];
	int64_t *buf;
} pool_plan;

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Smallest k >= 0 with start + k*d >= lim (d > 0). */
static int64_t first_at_least(int64_t start, int64_t d, int64_t lim)
{
	return start >= lim ? 0 : (lim - start + d - 1) / d;
}

static int pool_plan_make(ir_graph *g, ir_node *n, const ir_tensor *x, pool_plan *p)
{
	conv_win w;
	memset(p, 0, sizeof *p);
	p->nsp = x->rank - 2;
	if (conv_win_parse(g, n, &w, p->nsp, 1))
		return -1;
	int64_t total = 0;
	p->inplane = p->outplane = p->kn = 1;
	int64_t lo[IR_MAX_RANK], hi[IR_MAX_RANK];
	for (int d = 0; d < p->nsp; d++) {
		if (conv_win_dim(g, n, &w, d, x->dims[d + 2], &p->out[d], &lo[d], &hi[d]))
			return -1;
		p->in[d] = x->dims[d + 2];
		p->k[d] = w.kernel[d];
		p->d[d] = w.dil[d];
		p->inplane *= p->in[d];
		p->outplane *= p->out[d];
		p->kn *= p->k[d];
		total += p->out[d];
	}
	for (int d = p->nsp - 1; d >= 0; d--)
		p->rs[d] = d == p->nsp - 1 ? 1 : p->rs[d + 1] * p->in[d + 1];
	for (int d = 0; d < p->nsp; d++)
		p->cs[d] = d ? p->cs[d - 1] * p->in[d - 1] : 1;
	p->buf = malloc((size_t)(4 * total + 1) * sizeof *p->buf);
	if (!p->buf)
		return ir_error(g, n, "out of memory");
	int64_t *b = p->buf;
	for (int d = 0; d < p->nsp; d++) {
		p->start[d] = b;
		p->kmin[d] = b + p->out[d];
		p->kend[d] = b + 2 * p->out[d];
		p->kpad[d] = b + 3 * p->out[d];
		b += 4 * p->out[d];
		for (int64_t o = 0; o < p->out[d]; o++) {
			int64_t st = o * w.stride[d] - lo[d];
			p->start[d][o] = st;
			p->kmin[d][o] = clamp(first_at_least(st, p->d[d], 0), 0, p->k[d]);
			p->kend[d][o] = clamp(first_at_least(st, p->d[d], p->in[d]), 0, p->k[d]);
			p->kpad[d][o] = clamp(first_at_least(st, p->d[d], p->in[d] + hi[d]), 0, p->k[d]);
		}
	}
	return 0;
}

/* Offsets (row-major into the plane, and column-major) of the window
 * elements of output position o that lie inside the input; returns their
 * count and, in *npad, the count inside the padded input. */
static int64_t pool_window(const pool_plan *p, const int64_t *o, int64_t *off, int64_t *coff,
			   int64_t *npad)
{
	int64_t k0[IR_MAX_RANK], k1[IR_MAX_RANK], k[IR_MAX_RANK];
	int empty = 0;
	*npad = 1;
	for (int d = 0; d < p->nsp; d++) {
		k0[d] = k[d] = p->kmin[d][o[d]];
		k1[d] = p->kend[d][o[d]];
		*npad *= p->kpad[d][o[d]];
		empty |= k1[d] <= k0[d];
	}
	if (empty)
		return 0;
	int64_t cnt = 0;
	for (;;) {
		int64_t r = 0, c = 0;
		for (int d = 0; d < p->nsp; d++) {
			int64_t pos = p->start[d][o[d]] + k[d] * p->d[d];
			r += pos * p->rs[d];
			c += pos * p->cs[d];
		}
		off[cnt] = r;
		coff[cnt++] = c;
		int d = p->nsp - 1;
		for (; d >= 0 && ++k[d] == k1[d]; d--)
			k[d] = k0[d];
		if (d < 0)
			return cnt;
	}
}

/* Reduce the window offsets of one output: max (with the winning offset
 * in *arg, -1 for an empty window) or mean. */
#define POOL_MAX(T, NAME, LOWEST)                                                     \
	static T NAME(const T *x, const int64_t *off, int64_t cnt, int64_t *arg)      \
	{                                                                             \
		T best = LOWEST;                                                      \
		*arg = -1;                                                            \
		for (int64_t i = 0; i < cnt; i++)                                     \
			if (*arg < 0 || x[off[i]] > best) {                           \
				best = x[off[i]];                                     \
				*arg = i;                                             \
			}                                                             \
		return best;                                                          \
	}
POOL_MAX(float, pool_max_f32, -FLT_MAX)
POOL_MAX(double, pool_max_f64, -DBL_MAX)
POOL_MAX(int8_t, pool_max_i8, INT8_MIN)
POOL_MAX(uint8_t, pool_max_u8, 0)
#undef POOL_MAX

static double pool_sum(const ir_tensor *x, int64_t base, const int64_t *off, int64_t cnt)
{
	double s = 0;
	if (x->dtype == IR_F32)
		for (int64_t i = 0; i < cnt; i++)
			s += ((const float *)x->data)[base + off[i]];
	else
		for (int64_t i = 0; i < cnt; i++)
			s += ((const double *)x->data)[base + off[i]];
	return s;
}

static int window_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0], *ind = n->nout > 1 ? out[1] : NULL;
	pool_plan p;
	if (pool_plan_make(g, n, x, &p))
		return -1;
	int64_t *off = malloc((size_t)(2 * p.kn + 1) * sizeof *off);
	if (!off) {
		free(p.buf);
		return ir_error(g, n, "out of memory");
	}
	int64_t *coff = off + p.kn;
	int colmajor = ir_attr_int(n, "storage_order", 0) == 1;
	int incl = ir_attr_int(n, "count_include_pad", 0) == 1;
	int64_t planes = x->dims[0] * x->dims[1];
	for (int64_t pl = 0; pl < planes; pl++) {
		int64_t o[IR_MAX_RANK] = {0}, xb = pl * p.inplane;
		for (int64_t j = 0; j < p.outplane; j++) {
			int64_t npad, cnt = pool_window(&p, o, off, coff, &npad), arg = -1;
			int64_t yi = pl * p.outplane + j;
			if (n->op == IR_OP_AveragePool) {
				double s = pool_sum(x, xb, off, cnt), c = (double)(incl ? npad : cnt);
				ir_tensor_set_f64(y, yi, s / c); /* 0/0 (NaN) for an empty window */
			} else {
				switch (x->dtype) {
#define POOL_MAX_CASE(DT, T, FN)                                                      \
	case DT: ((T *)y->data)[yi] = FN((const T *)x->data + xb, off, cnt, &arg); break;
				POOL_MAX_CASE(IR_F32, float, pool_max_f32)
				POOL_MAX_CASE(IR_F64, double, pool_max_f64)
				POOL_MAX_CASE(IR_I8, int8_t, pool_max_i8)
				POOL_MAX_CASE(IR_U8, uint8_t, pool_max_u8)
#undef POOL_MAX_CASE
				default: IR_UNREACHABLE();
				}
				if (ind)
					((int64_t *)ind->data)[yi] =
						arg < 0 ? -1 : xb + (colmajor ? coff : off)[arg];
			}
			for (int d = p.nsp - 1; d >= 0 && ++o[d] == p.out[d]; d--)
				o[d] = 0;
		}
	}
	free(off);
	free(p.buf);
	return 0;
}

static void global_run(const ir_node *n, const ir_tensor *x, ir_tensor *y)
{
	int64_t planes = x->rank >= 2 ? x->dims[0] * x->dims[1] : 1;
	int64_t m = planes ? x->numel / planes : 0;
	for (int64_t pl = 0; pl < planes; pl++) {
		int64_t b = pl * m;
		if (n->op == IR_OP_GlobalAveragePool) {
			double s = 0;
			for (int64_t i = 0; i < m; i++)
				s += ir_tensor_get_f64(x, b + i);
			ir_tensor_set_f64(y, pl, s / (double)m);
			continue;
		}
		double best = m ? ir_tensor_get_f64(x, b) : -DBL_MAX;
		for (int64_t i = 1; i < m; i++) {
			double v = ir_tensor_get_f64(x, b + i);
			if (v > best)
				best = v;
		}
		ir_tensor_set_f64(y, pl, best);
	}
}

int pool_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	if (is_global(n)) {
		global_run(n, in[0], out[0]);
		return 0;
	}
	return window_run(g, n, in, out);
}
