/* train_ops.c - forward and backward kernels of the training engine for the
 * elementwise, unary, data-movement, linear, normalisation and softmax ops
 * (Conv and pooling are in train_conv.c, MpoLinear in train_mpo.c).
 *
 * Gradients (dy = dL/dy; every line is added into the input's gradient):
 *   Add  y = a + b:  da += Σ dy,  db += Σ dy    (Σ over the dims the
 *   Sub  y = a − b:  da += Σ dy,  db −= Σ dy     operand was broadcast on)
 *   Mul  y = a b:    da += Σ dy b,  db += Σ dy a
 *   Div  y = a / b:  da += Σ dy / b,  db −= Σ dy y / b
 *   Relu dx += dy [y > 0];  LeakyRelu dx += dy (x < 0 ? α : 1)
 *   Sigmoid dx += dy y (1 − y);  Tanh dx += dy (1 − y²)
 *   Gemm y = α A'B' + β C:  dA' += α dy B'ᵀ,  dB' += α A'ᵀ dy,  dC += β Σ dy
 *   MatMul y = A B (batched): dA += dy Bᵀ,  dB += Aᵀ dy (Σ over broadcast)
 *   BatchNormalization y = s (x − μ)/√(σ² + ε) + B with μ, σ² frozen:
 *     dx += dy s/√(σ² + ε),  ds += Σ dy (x − μ)/√(σ² + ε),  dB += Σ dy
 *   Softmax dx += y (dy − Σ dy y);  LogSoftmax dx += dy − eʸ Σ dy
 *   Transpose dx += dy permuted back; views (Reshape ...) share dx.
 */
#include "train_internal.h"

#include "la.h"
#include "ops.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------- broadcasting */

void tr_bcast_strides(const tr_val *v, int rank, const int64_t *dims, int64_t *st)
{
	ir_tensor t = {.dtype = IR_F32, .rank = v->rank};
	memcpy(t.dims, v->dims, sizeof t.dims);
	op_broadcast_strides(&t, rank, dims, st);
}

/* A walk over a (coalesced) index space for up to three operands: runs
 * of `inner` elements at strides is[k], starting at off[k]. */
typedef struct bc_walk {
	int r;                       /* outer dims */
	int64_t n[IR_MAX_RANK];      /* outer extents */
	int64_t st[3][IR_MAX_RANK];  /* outer strides */
	int64_t idx[IR_MAX_RANK];
	int64_t off[3], is[3], inner, runs;
	int nops;
} bc_walk;

/* Drop size-1 dims and merge neighbours that are contiguous for every
 * operand, so a bias add [b, N] + [N] is one walk of b runs of N. */
static void bc_init(bc_walk *w, int rank, const int64_t *dims, int nops,
		    const int64_t *const *strides)
{
	int64_t n[IR_MAX_RANK + 1], st[3][IR_MAX_RANK + 1];
	int r = 0;
	memset(w, 0, sizeof *w);
	w->nops = nops;
	for (int d = 0; d < rank; d++) {
		if (dims[d] == 1)
			continue;
		int merge = r > 0;
		for (int k = 0; merge && k < nops; k++)
			merge = st[k][r - 1] == strides[k][d] * dims[d];
		if (merge) {
			n[r - 1] *= dims[d];
			for (int k = 0; k < nops; k++)
				st[k][r - 1] = strides[k][d];
			continue;
		}
		n[r] = dims[d];
		for (int k = 0; k < nops; k++)
			st[k][r] = strides[k][d];
		r++;
	}
	int64_t total = 1;
	for (int d = 0; d < rank; d++)
		total *= dims[d];
	if (r == 0) { /* a single element */
		n[0] = 1;
		for (int k = 0; k < nops; k++)
			st[k][0] = 0;
		r = 1;
	}
	w->inner = total ? n[r - 1] : 0;
	for (int k = 0; k < nops; k++)
		w->is[k] = st[k][r - 1];
	w->r = r - 1;
	w->runs = total ? 1 : 0;
	for (int d = 0; d < w->r; d++) {
		w->n[d] = n[d];
		w->runs *= n[d];
		for (int k = 0; k < nops; k++)
			w->st[k][d] = st[k][d];
	}
}

static void bc_next(bc_walk *w)
{
	for (int d = w->r - 1; d >= 0; d--) {
		for (int k = 0; k < w->nops; k++)
			w->off[k] += w->st[k][d];
		if (++w->idx[d] < w->n[d])
			return;
		for (int k = 0; k < w->nops; k++)
			w->off[k] -= w->st[k][d] * w->n[d];
		w->idx[d] = 0;
	}
}

static void contiguous_strides(int rank, const int64_t *dims, int64_t *st)
{
	int64_t s = 1;
	for (int d = rank - 1; d >= 0; d--) {
		st[d] = s;
		s *= dims[d];
	}
}

/* The walk of a contiguous y (dims) against one operand at strides sa. */
static void pair_walk(bc_walk *w, int rank, const int64_t *dims, const int64_t *sa)
{
	int64_t sy[IR_MAX_RANK];
	contiguous_strides(rank, dims, sy);
	const int64_t *st[2] = {sy, sa};
	bc_init(w, rank, dims, 2, st);
}

void tr_bcast_copy(float *y, int rank, const int64_t *dims, const float *a, const int64_t *sa,
		   float alpha)
{
	bc_walk w;
	pair_walk(&w, rank, dims, sa);
	for (int64_t r = 0; r < w.runs; r++, bc_next(&w)) {
		float *yp = y + w.off[0];
		const float *ap = a + w.off[1];
		int64_t s = w.is[1];
		for (int64_t j = 0; j < w.inner; j++)
			yp[j] = alpha * ap[j * s];
	}
}

void tr_bcast_reduce(float *da, const int64_t *sa, int rank, const int64_t *dims,
		     const float *dy, float alpha)
{
	bc_walk w;
	pair_walk(&w, rank, dims, sa);
	for (int64_t r = 0; r < w.runs; r++, bc_next(&w)) {
		const float *g = dy + w.off[0];
		float *d = da + w.off[1];
		if (w.is[1] == 0) {
			float s = 0;
			for (int64_t j = 0; j < w.inner; j++)
				s += g[j];
			d[0] += alpha * s;
		} else if (w.is[1] == 1) {
			for (int64_t j = 0; j < w.inner; j++)
				d[j] += alpha * g[j];
		} else {
			for (int64_t j = 0; j < w.inner; j++)
				d[j * w.is[1]] += alpha * g[j];
		}
	}
}

/* --------------------------------------------------------- binary ops */

/* The three-operand walk of a binary node: y (contiguous), a, b. */
static void binary_walk(tr_node *t, bc_walk *w)
{
	const tr_val *y = t->out[0];
	int64_t sy[IR_MAX_RANK], sa[IR_MAX_RANK], sb[IR_MAX_RANK];
	contiguous_strides(y->rank, y->dims, sy);
	tr_bcast_strides(t->in[0], y->rank, y->dims, sa);
	tr_bcast_strides(t->in[1], y->rank, y->dims, sb);
	const int64_t *st[3] = {sy, sa, sb};
	bc_init(w, y->rank, y->dims, 3, st);
}

/* Inner loop y[j] = a[j sa] OP b[j sb], specialised for unit and zero
 * strides so the common cases vectorise. */
#define BIN_INNER(EXPR)                                                             \
	do {                                                                        \
		if (s1 == 1 && s2 == 1)                                             \
			for (int64_t j = 0; j < nn; j++) {                          \
				float a = ap[j], b = bp[j];                         \
				yp[j] = EXPR;                                       \
			}                                                           \
		else if (s1 == 1 && s2 == 0)                                        \
			for (int64_t j = 0; j < nn; j++) {                          \
				float a = ap[j], b = bp[0];                         \
				yp[j] = EXPR;                                       \
			}                                                           \
		else if (s1 == 0 && s2 == 1)                                        \
			for (int64_t j = 0; j < nn; j++) {                          \
				float a = ap[0], b = bp[j];                         \
				yp[j] = EXPR;                                       \
			}                                                           \
		else                                                                \
			for (int64_t j = 0; j < nn; j++) {                          \
				float a = ap[j * s1], b = bp[j * s2];               \
				yp[j] = EXPR;                                       \
			}                                                           \
	} while (0)

static int binary_forward(train_model *m, tr_node *t)
{
	bc_walk w;
	binary_walk(t, &w);
	float *y = t->out[0]->x;
	const float *A = t->in[0]->x, *B = t->in[1]->x;
	ir_op op = t->n->op;
	for (int64_t r = 0; r < w.runs; r++, bc_next(&w)) {
		float *yp = y + w.off[0];
		const float *ap = A + w.off[1], *bp = B + w.off[2];
		int64_t s1 = w.is[1], s2 = w.is[2], nn = w.inner;
		switch (op) {
		case IR_OP_Add: BIN_INNER(a + b); break;
		case IR_OP_Sub: BIN_INNER(a - b); break;
		case IR_OP_Mul: BIN_INNER(a * b); break;
		default: BIN_INNER(a / b); break;
		}
	}
	return 0;
}

static int binary_backward(train_model *m, tr_node *t)
{
	bc_walk w;
	binary_walk(t, &w);
	const float *dy = t->out[0]->dx, *y = t->out[0]->x;
	const float *A = t->in[0]->x, *B = t->in[1]->x;
	float *dA = t->in[0]->dx, *dB = t->in[1]->dx;
	ir_op op = t->n->op;
	for (int64_t r = 0; r < w.runs; r++, bc_next(&w)) {
		const float *g = dy + w.off[0], *yp = y + w.off[0];
		const float *ap = A + w.off[1], *bp = B + w.off[2];
		int64_t s1 = w.is[1], s2 = w.is[2];
		for (int k = 0; k < 2; k++) {
			float *d = k ? dB : dA;
			int64_t s = k ? s2 : s1;
			if (!d)
				continue;
			d += w.off[1 + k];
			/* A broadcast run (s = 0) sums into one element. */
			float acc = 0;
			for (int64_t j = 0; j < w.inner; j++) {
				float v;
				switch (op) {
				case IR_OP_Add: v = g[j]; break;
				case IR_OP_Sub: v = k ? -g[j] : g[j]; break;
				case IR_OP_Mul: v = g[j] * (k ? ap[j * s1] : bp[j * s2]); break;
				default: v = k ? -g[j] * yp[j] / bp[j * s2] : g[j] / bp[j * s2]; break;
				}
				if (s)
					d[j * s] += v;
				else
					acc += v;
			}
			if (!s)
				d[0] += acc;
		}
	}
	return 0;
}

/* ---------------------------------------------------------- unary ops */

static float sigmoidf(float x)
{
	if (x >= 0)
		return 1.0f / (1.0f + expf(-x));
	float e = expf(x);
	return e / (1.0f + e);
}

/* The loops are written branch-free over restrict pointers so that they
 * vectorise: a data-dependent branch on the sign of a pre-activation is
 * mispredicted half the time. */
static int unary_forward(train_model *m, tr_node *t)
{
	const float *restrict x = t->in[0]->x;
	float *restrict y = t->out[0]->x;
	int64_t n = t->out[0]->numel;
	switch (t->n->op) {
	case IR_OP_Relu:
		for (int64_t i = 0; i < n; i++)
			y[i] = x[i] > 0 ? x[i] : 0.0f;
		break;
	case IR_OP_LeakyRelu: {
		float a = (float)ir_attr_float(t->n, "alpha", 0.01);
		for (int64_t i = 0; i < n; i++) {
			float slope = x[i] < 0 ? a : 1.0f;
			y[i] = slope * x[i];
		}
		break;
	}
	case IR_OP_Sigmoid:
		for (int64_t i = 0; i < n; i++)
			y[i] = sigmoidf(x[i]);
		break;
	case IR_OP_Tanh:
		for (int64_t i = 0; i < n; i++)
			y[i] = tanhf(x[i]);
		break;
	default: IR_UNREACHABLE();
	}
	return 0;
}

static int unary_backward(train_model *m, tr_node *t)
{
	const float *restrict x = t->in[0]->x, *restrict y = t->out[0]->x;
	const float *restrict dy = t->out[0]->dx;
	float *restrict dx = t->in[0]->dx;
	int64_t n = t->out[0]->numel;
	switch (t->n->op) {
	case IR_OP_Relu:
		for (int64_t i = 0; i < n; i++) {
			float keep = y[i] > 0 ? 1.0f : 0.0f;
			dx[i] += keep * dy[i];
		}
		break;
	case IR_OP_LeakyRelu: {
		float a = (float)ir_attr_float(t->n, "alpha", 0.01);
		for (int64_t i = 0; i < n; i++) {
			float slope = x[i] < 0 ? a : 1.0f;
			dx[i] += slope * dy[i];
		}
		break;
	}
	case IR_OP_Sigmoid:
		for (int64_t i = 0; i < n; i++)
			dx[i] += dy[i] * y[i] * (1.0f - y[i]);
		break;
	case IR_OP_Tanh:
		for (int64_t i = 0; i < n; i++)
			dx[i] += dy[i] * (1.0f - y[i] * y[i]);
		break;
	default: IR_UNREACHABLE();
	}
	return 0;
}

/* ------------------------------------------------------------ views */

static int view_forward(train_model *m, tr_node *t) { return 0; }

static int dropout_check(train_model *m, tr_node *t)
{
	const tr_val *mode = t->nin > 2 ? t->in[2] : NULL;
	if (!mode)
		return 0;
	if (mode->kind != TV_CONST || !mode->t || mode->t->numel != 1)
		return ir_error(tr_graph(m), t->n, "training_mode must be a constant; training runs "
						   "with dropout off");
	if (ir_tensor_get_f64(mode->t, 0) != 0)
		return ir_error(tr_graph(m), t->n, "training_mode is true; training runs with dropout "
						   "off (inference form)");
	return 0;
}

/* Transpose: y[i] = x[permuted i]; the walk pairs y (contiguous) with x
 * at the permuted strides. */
static void transpose_walk(tr_node *t, bc_walk *w)
{
	const tr_val *x = t->in[0], *y = t->out[0];
	int64_t sx[IR_MAX_RANK] = {0}, sp[IR_MAX_RANK], perm[IR_MAX_RANK];
	const int64_t *pa;
	int np = ir_attr_ints(t->n, "perm", &pa);
	for (int d = 0; d < y->rank; d++)
		perm[d] = np == y->rank ? pa[d] : y->rank - 1 - d;
	contiguous_strides(x->rank, x->dims, sx);
	for (int d = 0; d < y->rank; d++)
		sp[d] = sx[perm[d]];
	pair_walk(w, y->rank, y->dims, sp);
}

static int transpose_forward(train_model *m, tr_node *t)
{
	bc_walk w;
	transpose_walk(t, &w);
	float *y = t->out[0]->x;
	const float *x = t->in[0]->x;
	for (int64_t r = 0; r < w.runs; r++, bc_next(&w))
		for (int64_t j = 0; j < w.inner; j++)
			y[w.off[0] + j] = x[w.off[1] + j * w.is[1]];
	return 0;
}

static int transpose_backward(train_model *m, tr_node *t)
{
	bc_walk w;
	transpose_walk(t, &w);
	const float *dy = t->out[0]->dx;
	float *dx = t->in[0]->dx;
	for (int64_t r = 0; r < w.runs; r++, bc_next(&w))
		for (int64_t j = 0; j < w.inner; j++)
			dx[w.off[1] + j * w.is[1]] += dy[w.off[0] + j];
	return 0;
}

/* ---------------------------------------------------------------- Gemm */

static int gemm_forward(train_model *m, tr_node *t)
{
	const tr_val *A = t->in[0], *B = t->in[1], *C = t->nin > 2 ? t->in[2] : NULL;
	tr_val *y = t->out[0];
	int ta = ir_attr_int(t->n, "transA", 0) != 0, tb = ir_attr_int(t->n, "transB", 0) != 0;
	float alpha = (float)ir_attr_float(t->n, "alpha", 1.0);
	float beta = (float)ir_attr_float(t->n, "beta", 1.0);
	int64_t M = y->dims[0], N = y->dims[1], K = ta ? A->dims[0] : A->dims[1];
	float b0 = 0;
	if (C && beta != 0) {
		int64_t sc[IR_MAX_RANK];
		tr_bcast_strides(C, 2, y->dims, sc);
		tr_bcast_copy(y->x, 2, y->dims, C->x, sc, beta);
		b0 = 1;
	}
	la_sgemm(ta, tb, M, N, K, alpha, A->x, B->x, b0, y->x);
	return 0;
}

static int gemm_backward(train_model *m, tr_node *t)
{
	const tr_val *A = t->in[0], *B = t->in[1], *C = t->nin > 2 ? t->in[2] : NULL;
	const tr_val *y = t->out[0];
	int ta = ir_attr_int(t->n, "transA", 0) != 0, tb = ir_attr_int(t->n, "transB", 0) != 0;
	float alpha = (float)ir_attr_float(t->n, "alpha", 1.0);
	float beta = (float)ir_attr_float(t->n, "beta", 1.0);
	int64_t M = y->dims[0], N = y->dims[1], K = ta ? A->dims[0] : A->dims[1];
	const float *dy = y->dx;
	if (A->dx) {
		if (!ta)
			la_sgemm(0, !tb, M, K, N, alpha, dy, B->x, 1, A->dx);
		else
			la_sgemm(tb, 1, K, M, N, alpha, B->x, dy, 1, A->dx);
	}
	if (B->dx) {
		if (!tb)
			la_sgemm(!ta, 0, K, N, M, alpha, A->x, dy, 1, B->dx);
		else
			la_sgemm(1, ta, N, K, M, alpha, dy, A->x, 1, B->dx);
	}
	if (C && C->dx && beta != 0) {
		int64_t sc[IR_MAX_RANK];
		tr_bcast_strides(C, 2, y->dims, sc);
		tr_bcast_reduce(C->dx, sc, 2, y->dims, dy, beta);
	}
	return 0;
}

/* -------------------------------------------------------------- MatMul */

/* numpy matmul geometry: A [..., M, K] (1-D: [1, K]), B [..., K, N] (1-D:
 * [K, 1]); the batch dims broadcast. sa / sb are the matrix strides of A
 * and B along each output batch dim (0 where broadcast). */
typedef struct mm_geo {
	int64_t M, K, N;
	int br;
	int64_t bd[IR_MAX_RANK], sa[IR_MAX_RANK], sb[IR_MAX_RANK];
	int64_t batches;
	int flat; /* B has no batch dims: A's batch folds into M */
} mm_geo;

static void mm_geometry(const tr_val *a, const tr_val *b, mm_geo *g)
{
	int ra = a->rank, rb = b->rank;
	g->M = ra >= 2 ? a->dims[ra - 2] : 1;
	g->K = a->dims[ra - 1];
	g->N = rb >= 2 ? b->dims[rb - 1] : 1;
	int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
	g->br = ba > bb ? ba : bb;
	g->batches = 1;
	int64_t strA = 1, strB = 1;
	for (int d = g->br - 1; d >= 0; d--) {
		int da = d - (g->br - ba), db = d - (g->br - bb);
		int64_t ea = da >= 0 ? a->dims[da] : 1, eb = db >= 0 ? b->dims[db] : 1;
		g->bd[d] = ea > eb ? ea : eb;
		g->sa[d] = ea == 1 ? 0 : strA;
		g->sb[d] = eb == 1 ? 0 : strB;
		strA *= ea;
		strB *= eb;
		g->batches *= g->bd[d];
	}
	g->flat = bb == 0;
}

static int mm_pass(train_model *m, tr_node *t, int back)
{
	const tr_val *A = t->in[0], *B = t->in[1];
	const tr_val *y = t->out[0];
	mm_geo g;
	mm_geometry(A, B, &g);
	int64_t M = g.M, K = g.K, N = g.N;
	if (g.flat) {
		int64_t MM = M * g.batches;
		if (!back) {
			la_sgemm(0, 0, MM, N, K, 1, A->x, B->x, 0, y->x);
			return 0;
		}
		if (A->dx)
			la_sgemm(0, 1, MM, K, N, 1, y->dx, B->x, 1, A->dx);
		if (B->dx)
			la_sgemm(1, 0, K, N, MM, 1, A->x, y->dx, 1, B->dx);
		return 0;
	}
	int64_t idx[IR_MAX_RANK] = {0}, oa = 0, ob = 0;
	for (int64_t i = 0; i < g.batches; i++) {
		const float *a = A->x + oa * M * K, *b = B->x + ob * K * N;
		if (!back) {
			la_sgemm(0, 0, M, N, K, 1, a, b, 0, y->x + i * M * N);
		} else {
			const float *dy = y->dx + i * M * N;
			if (A->dx)
				la_sgemm(0, 1, M, K, N, 1, dy, b, 1, A->dx + oa * M * K);
			if (B->dx)
				la_sgemm(1, 0, K, N, M, 1, a, dy, 1, B->dx + ob * K * N);
		}
		for (int d = g.br - 1; d >= 0; d--) {
			oa += g.sa[d];
			ob += g.sb[d];
			if (++idx[d] < g.bd[d])
				break;
			oa -= g.sa[d] * g.bd[d];
			ob -= g.sb[d] * g.bd[d];
			idx[d] = 0;
		}
	}
	return 0;
}

static int matmul_forward(train_model *m, tr_node *t) { return mm_pass(m, t, 0); }
static int matmul_backward(train_model *m, tr_node *t) { return mm_pass(m, t, 1); }

/* ------------------------------------------------- BatchNormalization */

static int bn_check(train_model *m, tr_node *t)
{
	if (ir_attr_int(t->n, "training_mode", 0) != 0)
		return ir_error(tr_graph(m), t->n, "training_mode=1 (batch statistics) is not supported; "
						   "healing keeps the running statistics frozen");
	for (int i = 3; i < 5; i++)
		if (t->in[i]->kind == TV_ACT)
			return ir_error(tr_graph(m), t->n, "%s must be a constant (frozen statistics)",
					i == 3 ? "input_mean" : "input_var");
	return 0;
}

static int bn_pass(train_model *m, tr_node *t, int back)
{
	const tr_val *x = t->in[0], *s = t->in[1], *B = t->in[2], *mu = t->in[3], *var = t->in[4];
	const tr_val *y = t->out[0];
	double eps = ir_attr_float(t->n, "epsilon", 1e-5);
	int64_t nb = x->dims[0], C = x->dims[1], plane = C ? x->numel / (nb * C) : 0;
	if (nb == 0)
		return 0;
	for (int64_t c = 0; c < C; c++) {
		double inv = 1.0 / sqrt((double)var->x[c] + eps);
		float a = (float)(s->x[c] * inv), mean = mu->x[c];
		float shift = (float)(B->x[c] - s->x[c] * inv * mean);
		double ds = 0, db = 0;
		for (int64_t b = 0; b < nb; b++) {
			int64_t o = (b * C + c) * plane;
			const float *xp = x->x + o;
			if (!back) {
				float *yp = y->x + o;
				for (int64_t j = 0; j < plane; j++)
					yp[j] = a * xp[j] + shift;
				continue;
			}
			const float *g = y->dx + o;
			if (x->dx)
				for (int64_t j = 0; j < plane; j++)
					x->dx[o + j] += a * g[j];
			float ps = 0, pb = 0;
			for (int64_t j = 0; j < plane; j++) {
				ps += g[j] * (xp[j] - mean);
				pb += g[j];
			}
			ds += ps;
			db += pb;
		}
		if (back && s->dx)
			s->dx[c] += (float)(ds * inv);
		if (back && B->dx)
			B->dx[c] += (float)db;
	}
	return 0;
}

static int bn_forward(train_model *m, tr_node *t) { return bn_pass(m, t, 0); }
static int bn_backward(train_model *m, tr_node *t) { return bn_pass(m, t, 1); }

/* ------------------------------------------------------------ Softmax */

/* The [outer, len, stride] view of op_softmax.c: one axis from opset 13,
 * the 2-D coercion at 'axis' before. */
static int sm_view(train_model *m, tr_node *t, int64_t *outer, int64_t *len, int64_t *stride)
{
	const tr_val *x = t->in[0];
	int legacy = t->n->opset > 0 && t->n->opset < 13, axis;
	*outer = *len = *stride = 1;
	if (x->rank == 0)
		return 0;
	if (op_axis(tr_graph(m), t->n, ir_attr_int(t->n, "axis", legacy ? 1 : -1), x->rank, &axis))
		return -1;
	for (int i = 0; i < axis; i++)
		*outer *= x->dims[i];
	if (legacy) {
		for (int i = axis; i < x->rank; i++)
			*len *= x->dims[i];
	} else {
		*len = x->dims[axis];
		for (int i = axis + 1; i < x->rank; i++)
			*stride *= x->dims[i];
	}
	return 0;
}

static int sm_pass(train_model *m, tr_node *t, int back)
{
	int64_t outer, len, s;
	int logsm = t->n->op == IR_OP_LogSoftmax;
	if (sm_view(m, t, &outer, &len, &s))
		return -1;
	const float *x = t->in[0]->x, *y = t->out[0]->x;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t j = 0; j < s; j++) {
			int64_t off = o * len * s + j;
			if (!back) {
				const float *xp = x + off;
				float *yp = t->out[0]->x + off;
				double mx = -INFINITY, sum = 0;
				for (int64_t i = 0; i < len; i++)
					if (xp[i * s] > mx)
						mx = xp[i * s];
				if (!isfinite(mx))
					mx = 0;
				for (int64_t i = 0; i < len; i++)
					sum += exp((double)xp[i * s] - mx);
				double ls = log(sum);
				for (int64_t i = 0; i < len; i++) {
					double d = (double)xp[i * s] - mx;
					yp[i * s] = (float)(logsm ? d - ls : exp(d) / sum);
				}
				continue;
			}
			const float *yp = y + off, *g = t->out[0]->dx + off;
			float *dx = t->in[0]->dx + off;
			double dot = 0;
			for (int64_t i = 0; i < len; i++)
				dot += logsm ? (double)g[i * s] : (double)g[i * s] * yp[i * s];
			for (int64_t i = 0; i < len; i++)
				dx[i * s] += logsm ? (float)(g[i * s] - exp((double)yp[i * s]) * dot)
						   : (float)(yp[i * s] * (g[i * s] - dot));
		}
	return 0;
}

static int softmax_forward(train_model *m, tr_node *t) { return sm_pass(m, t, 0); }
static int softmax_backward(train_model *m, tr_node *t) { return sm_pass(m, t, 1); }

/* --------------------------------------------------------------- table */

#define BINARY(op) {IR_OP_##op, 3u, 0, NULL, binary_forward, binary_backward, NULL}
#define UNARY(op) {IR_OP_##op, 0u, 0, NULL, unary_forward, unary_backward, NULL}
#define VIEW(op, chk) {IR_OP_##op, 0u, 1, chk, view_forward, NULL, NULL}

const tr_kernel tr_kernels_ops[] = {
	BINARY(Add), BINARY(Sub), BINARY(Mul), BINARY(Div),
	UNARY(Relu), UNARY(LeakyRelu), UNARY(Sigmoid), UNARY(Tanh),
	VIEW(Identity, NULL), VIEW(Dropout, dropout_check), VIEW(Flatten, NULL),
	VIEW(Reshape, NULL), VIEW(Squeeze, NULL), VIEW(Unsqueeze, NULL),
	{IR_OP_Transpose, 0u, 0, NULL, transpose_forward, transpose_backward, NULL},
	{IR_OP_Gemm, 7u, 0, NULL, gemm_forward, gemm_backward, NULL},
	{IR_OP_MatMul, 3u, 0, NULL, matmul_forward, matmul_backward, NULL},
	{IR_OP_BatchNormalization, 6u, 0, bn_check, bn_forward, bn_backward, NULL},
	{IR_OP_Softmax, 0u, 0, NULL, softmax_forward, softmax_backward, NULL},
	{IR_OP_LogSoftmax, 0u, 0, NULL, softmax_forward, softmax_backward, NULL},
};
const int tr_nkernels_ops = (int)(sizeof tr_kernels_ops / sizeof tr_kernels_ops[0]);

const tr_kernel *tr_kernel_find(ir_op op)
{
	static const struct {
		const tr_kernel *k;
		const int *n;
	} tables[] = {
		{tr_kernels_ops, &tr_nkernels_ops},
		{tr_kernels_conv, &tr_nkernels_conv},
		{tr_kernels_mpo, &tr_nkernels_mpo},
		{tr_kernels_circuit, &tr_nkernels_circuit},
	};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		for (int j = 0; j < *tables[i].n; j++)
			if (tables[i].k[j].op == op)
				return &tables[i].k[j];
	return NULL;
}
