/* op_conv.c - the 'conv' op family (see ir/ops.def): N-d Conv, plus the
 * sliding-window geometry (op_conv.h) that the pooling ops share.
 *
 * Conv: X [N, C, D1..Dn], W [M, C/group, k1..kn], optional B [M];
 *   Y[b, m, o] = B[m] + sum_{c, k} X[b, g*C/group + c, o*s - lo + k*d] W[m, c, k]
 * with g = m / (M/group) and zero outside the input. Computed per batch
 * item and group as one matrix product W_g (M/group × C/group·K) times the
 * im2col matrix (C/group·K × output positions), through cblas_[sd]gemm.
 */
#include "op_conv.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------- geometry */

static const char *const conv_pad_names[] = {"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"};

int conv_win_parse(ir_graph *g, ir_node *n, conv_win *w, int nsp, int with_ceil)
{
	static const struct {
		const char *name;
		int per_dim; /* values per spatial dim */
		int64_t min;
	} lists[] = {
		{"kernel_shape", 1, 1},
		{"strides", 1, 1},
		{"dilations", 1, 1},
		{"pads", 2, 0},
	};
	memset(w, 0, sizeof *w);
	const char *from = NULL; /* what fixed nsp, for messages */
	if (nsp >= 0)
		from = "the input";
	const ir_attr *a = ir_attr_find(n, "auto_pad");
	if (a) {
		if (a->kind != IR_ATTR_STRING)
			return ir_error(g, n, "attribute auto_pad must be a string");
		int k = 0;
		while (k < 4 && strcmp(a->s, conv_pad_names[k]))
			k++;
		if (k == 4 && *a->s) /* an empty string is the default */
			return ir_error(g, n, "unknown auto_pad '%s' (expected NOTSET, VALID, "
					      "SAME_UPPER or SAME_LOWER)", a->s);
		w->auto_pad = k == 4 ? CONV_NOTSET : k;
	}
	int64_t *dst[4] = {w->kernel, w->stride, w->dil, w->pads};
	int have[4] = {0};
	for (int i = 0; i < 4; i++) {
		a = ir_attr_find(n, lists[i].name);
		if (!a)
			continue;
		if (a->kind != IR_ATTR_INTS)
			return ir_error(g, n, "attribute %s must be a list of ints", lists[i].name);
		if (a->n == 0) /* some exporters write empty lists for the default */
			continue;
		if (a->n % lists[i].per_dim)
			return ir_error(g, n, "pads has %d values, expected two per spatial dim (all "
					      "begins, then all ends)", a->n);
		int len = a->n / lists[i].per_dim;
		if (nsp < 0) {
			if (len > IR_MAX_RANK - 2)
				return ir_error(g, n, "%s has %d spatial dims, at most %d are supported",
						lists[i].name, len, IR_MAX_RANK - 2);
			nsp = len;
			from = lists[i].name;
		} else if (len != nsp) {
			return ir_error(g, n, "%s has %d values, expected %d (%d spatial dims, from %s)",
					lists[i].name, a->n, nsp * lists[i].per_dim, nsp, from);
		}
		for (int j = 0; j < a->n; j++)
			if (a->is[j] < lists[i].min)
				return ir_error(g, n, "%s[%d] = %lld, must be %s", lists[i].name, j,
						(long long)a->is[j], lists[i].min ? "positive" : "non-negative");
		memcpy(dst[i], a->is, sizeof(int64_t) * (size_t)a->n);
		have[i] = 1;
	}
	w->nsp = nsp;
	w->has_kernel = have[0];
	for (int d = 0; d < nsp; d++) {
		if (!have[1])
			w->stride[d] = 1;
		if (!have[2])
			w->dil[d] = 1;
	}
	if (w->auto_pad != CONV_NOTSET)
		for (int d = 0; d < 2 * nsp; d++)
			if (w->pads[d])
				return ir_error(g, n, "pads cannot be combined with auto_pad=%s",
						conv_pad_names[w->auto_pad]);
	if (with_ceil) {
		int64_t c = ir_attr_int(n, "ceil_mode", 0);
		if (c != 0 && c != 1)
			return ir_error(g, n, "ceil_mode must be 0 or 1, got %lld", (long long)c);
		w->ceil_mode = (int)c;
	}
	return 0;
}

int conv_win_dim(ir_graph *g, ir_node *n, const conv_win *w, int d, int64_t in, int64_t *out,
		 int64_t *lo, int64_t *hi)
{
	int64_t k = w->kernel[d], s = w->stride[d], ek = (k - 1) * w->dil[d] + 1;
	*lo = w->pads[d];
	*hi = w->pads[w->nsp + d];
	*out = -1;
	if (in < 0 || k < 1)
		return 0;
	if (w->auto_pad == CONV_SAME_UPPER || w->auto_pad == CONV_SAME_LOWER) {
		*out = (in + s - 1) / s;
		int64_t total = (*out - 1) * s + ek - in;
		if (total < 0)
			total = 0;
		*lo = w->auto_pad == CONV_SAME_UPPER ? total / 2 : total - total / 2;
		*hi = total - *lo;
		return 0;
	}
	int64_t span = in + *lo + *hi - ek;
	if (span < 0)
		return ir_error(g, n, "the window along spatial dim %d (kernel %lld, dilation %lld: "
				      "%lld positions) is larger than the padded input (%lld)",
				d, (long long)k, (long long)w->dil[d], (long long)ek,
				(long long)(in + *lo + *hi));
	*out = w->ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
	/* The last window must start inside the input or the begin padding. */
	if (w->ceil_mode && (*out - 1) * s >= in + *lo)
		*out = (in + *lo + s - 1) / s;
	return 0;
}

/* --------------------------------------------------------------- Conv */

/* Two dims that must be equal: an error only when both are known. */
static int dims_agree(ir_dim a, ir_dim b)
{
	return a.v < 0 || b.v < 0 || a.v == b.v;
}

int conv_check(ir_graph *g, ir_node *n)
{
	conv_win w;
	if (op_check_arity(g, n) || conv_win_parse(g, n, &w, -1, 0))
		return -1;
	int64_t group;
	if (op_attr_int(g, n, "group", 1, &group))
		return -1;
	if (group < 1)
		return ir_error(g, n, "group must be a positive int");
	return 0;
}

int conv_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	const ir_value *x = in[0], *wv = in[1], *b = n->nin > 2 ? in[2] : NULL;
	const ir_shape *xs = &x->shape, *ws = &wv->shape;
	int64_t group = ir_attr_int(n, "group", 1);
	char s1[128], s2[128];
	if (group < 1)
		return ir_error(g, n, "group must be a positive int");
	static const char *const what[3] = {"input X", "input W", "input B"};
	for (int i = 0; i < 3; i++) {
		const ir_value *v = i < n->nin ? in[i] : NULL;
		if (op_require_dtype(g, n, v, OP_FLOATS, what[i]))
			return -1;
		if (v && v->dtype != x->dtype)
			return ir_error(g, n, "%s is %s but X is %s", what[i], ir_dtype_name(v->dtype),
					ir_dtype_name(x->dtype));
	}
	out[0]->dtype = x->dtype;
	ir_shape *y = &out[0]->shape;
	memset(y, 0, sizeof *y);
	y->rank = -1;
	if ((xs->rank >= 0 && xs->rank < 3) || (ws->rank >= 0 && ws->rank < 3))
		return ir_error(g, n, "X and W must have rank >= 3 (N, C, spatial dims...), got X %s "
				      "and W %s", ir_shape_str(xs, s1, sizeof s1),
				ir_shape_str(ws, s2, sizeof s2));
	if (xs->rank >= 0 && ws->rank >= 0 && xs->rank != ws->rank)
		return ir_error(g, n, "X %s and W %s must have the same rank",
				ir_shape_str(xs, s1, sizeof s1), ir_shape_str(ws, s2, sizeof s2));
	int rank = xs->rank >= 0 ? xs->rank : ws->rank;
	conv_win w;
	if (conv_win_parse(g, n, &w, rank >= 0 ? rank - 2 : -1, 0))
		return -1;
	if (w.nsp < 0)
		return 0; /* rank unknown */
	rank = w.nsp + 2;
	ir_dim unk = {-1, NULL};
	ir_dim c = xs->rank >= 0 ? xs->d[1] : unk, cg = ws->rank >= 0 ? ws->d[1] : unk;
	ir_dim m = ws->rank >= 0 ? ws->d[0] : unk;
	if (c.v >= 0 && cg.v >= 0 && c.v != cg.v * group)
		return ir_error(g, n, "X %s has %lld channels but W %s expects %lld (W dim 1 = %lld "
				      "times group %lld)", ir_shape_str(xs, s1, sizeof s1),
				(long long)c.v, ir_shape_str(ws, s2, sizeof s2),
				(long long)(cg.v * group), (long long)cg.v, (long long)group);
	if (c.v >= 0 && c.v % group)
		return ir_error(g, n, "group %lld does not divide the %lld input channels",
				(long long)group, (long long)c.v);
	if (m.v >= 0 && m.v % group)
		return ir_error(g, n, "group %lld does not divide the %lld output channels (W dim 0)",
				(long long)group, (long long)m.v);
	if (b && b->shape.rank >= 0 &&
	    (b->shape.rank != 1 || !dims_agree(b->shape.d[0], m)))
		return ir_error(g, n, "B %s must be a vector with one value per output channel "
				      "(W %s)", ir_shape_str(&b->shape, s1, sizeof s1),
				ir_shape_str(ws, s2, sizeof s2));
	for (int d = 0; d < w.nsp; d++) {
		int64_t kw = ws->rank >= 0 ? ws->d[d + 2].v : -1;
		if (kw == 0)
			return ir_error(g, n, "W %s has an empty kernel", ir_shape_str(ws, s1, sizeof s1));
		if (w.has_kernel && kw >= 0 && kw != w.kernel[d])
			return ir_error(g, n, "kernel_shape[%d] = %lld does not match W %s", d,
					(long long)w.kernel[d], ir_shape_str(ws, s1, sizeof s1));
		if (!w.has_kernel)
			w.kernel[d] = kw; /* unknown (-1) makes the output dim unknown */
	}
	y->rank = rank;
	y->d[0] = xs->rank >= 0 ? xs->d[0] : unk;
	y->d[1] = m;
	for (int d = 0; d < w.nsp; d++) {
		int64_t lo, hi;
		if (conv_win_dim(g, n, &w, d, xs->rank >= 0 ? xs->d[d + 2].v : -1, &y->d[d + 2].v,
				 &lo, &hi))
			return -1;
	}
	return 0;
}

int conv_plan_make(ir_graph *g, ir_node *n, int rank, const int64_t *xdims,
		   const int64_t *wdims, conv_plan *p)
{
	conv_win win;
	memset(p, 0, sizeof *p);
	p->nsp = rank - 2;
	p->kn = p->pn = p->inplane = 1;
	p->pointwise = 1;
	if (conv_win_parse(g, n, &win, p->nsp, 0))
		return -1;
	for (int d = 0; d < p->nsp; d++) {
		int64_t hi;
		win.kernel[d] = wdims[d + 2];
		if (conv_win_dim(g, n, &win, d, xdims[d + 2], &p->out[d], &p->lo[d], &hi))
			return -1;
		p->in[d] = xdims[d + 2];
		p->k[d] = wdims[d + 2];
		p->s[d] = win.stride[d];
		p->d[d] = win.dil[d];
		p->kn *= p->k[d];
		p->pn *= p->out[d];
		p->inplane *= p->in[d];
		p->pointwise &= p->k[d] == 1 && p->s[d] == 1 && p->lo[d] == 0 && hi == 0;
	}
	return 0;
}

/* conv_im2col_*: col[(c*kn + k) * pn + o] = x[c, o*s - lo + k*d] (0 outside
 * the input) for the cg channels of one group of one batch item. The last
 * spatial dim is the inner loop; the dims before it are walked with an
 * odometer. conv_group_*: y (mg × pn) = w (mg × cg·kn) times that matrix,
 * or times x itself when col is NULL (pointwise convolution). */
#define CONV_KERNELS(T, SFX, GEMM)                                                      \
	static void conv_im2col_##SFX(const T *x, int64_t cg, const conv_plan *p, T *col) \
	{                                                                               \
		int last = p->nsp - 1;                                                  \
		int64_t ol = p->out[last], nprefix = ol ? p->pn / ol : 0;               \
		for (int64_t c = 0; c < cg; c++) {                                      \
			const T *xc = x + c * p->inplane;                               \
			int64_t kk[IR_MAX_RANK] = {0};                                  \
			for (int64_t ki = 0; ki < p->kn; ki++) {                        \
				T *row = col + (c * p->kn + ki) * p->pn;                \
				int64_t o[IR_MAX_RANK] = {0};                           \
				int64_t koff = kk[last] * p->d[last] - p->lo[last];     \
				for (int64_t q = 0; q < nprefix; q++) {                 \
					T *r = row + q * ol;                            \
					int64_t base = 0;                               \
					int ok = 1;                                     \
					for (int dd = 0; dd < last; dd++) {             \
						int64_t i = o[dd] * p->s[dd] - p->lo[dd] + \
							    kk[dd] * p->d[dd];          \
						ok &= i >= 0 && i < p->in[dd];          \
						base = base * p->in[dd] + i;            \
					}                                               \
					base *= p->in[last];                            \
					for (int64_t j = 0; j < ol; j++) {              \
						int64_t i = j * p->s[last] + koff;      \
						r[j] = ok && i >= 0 && i < p->in[last]  \
							       ? xc[base + i]           \
							       : (T)0;                  \
					}                                               \
					for (int dd = last - 1; dd >= 0 && ++o[dd] == p->out[dd]; dd--) \
						o[dd] = 0;                              \
				}                                                       \
				for (int dd = last; dd >= 0 && ++kk[dd] == p->k[dd]; dd--) \
					kk[dd] = 0;                                     \
			}                                                               \
		}                                                                       \
	}                                                                               \
	static void conv_group_##SFX(const T *x, const T *w, T *y, T *col, int64_t cg,  \
				     int64_t mg, const conv_plan *p)                    \
	{                                                                               \
		blasint rows = (blasint)(cg * p->kn), pn = (blasint)p->pn;              \
		if (col)                                                                \
			conv_im2col_##SFX(x, cg, p, col);                               \
		GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)mg, pn, rows, 1, w, \
		     rows, col ? col : x, pn, 0, y, pn);                                \
	}
CONV_KERNELS(float, f32, cblas_sgemm)
CONV_KERNELS(double, f64, cblas_dgemm)
#undef CONV_KERNELS

int conv_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *x = in[0], *w = in[1], *b = n->nin > 2 ? in[2] : NULL;
	ir_tensor *y = out[0];
	conv_plan p;
	if (conv_plan_make(g, n, x->rank, x->dims, w->dims, &p))
		return -1;
	for (int d = 0; d < p.nsp; d++)
		IR_ASSERT(p.out[d] == y->dims[d + 2]);
	int64_t group = ir_attr_int(n, "group", 1);
	int64_t nb = x->dims[0], c = x->dims[1], cg = c / group, m = w->dims[0], mg = m / group;
	int64_t rows = cg * p.kn;
	size_t es = ir_dtype_size(y->dtype);
	void *col = NULL;
	if (!p.pointwise && rows * p.pn > 0) {
		if ((uint64_t)rows > SIZE_MAX / es / (uint64_t)p.pn ||
		    !(col = malloc((size_t)(rows * p.pn) * es)))
			return ir_error(g, n, "cannot allocate the im2col buffer (%lld x %lld)",
					(long long)rows, (long long)p.pn);
	}
	for (int64_t bi = 0; bi < nb && mg > 0 && p.pn > 0 && rows > 0; bi++)
		for (int64_t gi = 0; gi < group; gi++) {
			size_t xo = (size_t)((bi * c + gi * cg) * p.inplane);
			size_t wo = (size_t)(gi * mg * rows), yo = (size_t)((bi * m + gi * mg) * p.pn);
			if (y->dtype == IR_F32)
				conv_group_f32((const float *)x->data + xo, (const float *)w->data + wo,
					       (float *)y->data + yo, col, cg, mg, &p);
			else
				conv_group_f64((const double *)x->data + xo, (const double *)w->data + wo,
					       (double *)y->data + yo, col, cg, mg, &p);
		}
	free(col);
	if (b)
		for (int64_t bi = 0; bi < nb; bi++)
			for (int64_t mi = 0; mi < m; mi++) {
				int64_t o = (bi * m + mi) * p.pn;
				if (y->dtype == IR_F32) {
					float bv = ((const float *)b->data)[mi], *yp = (float *)y->data + o;
					for (int64_t j = 0; j < p.pn; j++)
						yp[j] += bv;
				} else {
					double bv = ((const double *)b->data)[mi], *yp = (double *)y->data + o;
					for (int64_t j = 0; j < p.pn; j++)
						yp[j] += bv;
				}
			}
	return 0;
}
