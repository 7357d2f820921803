/* cgen_matmul.c - C emission for the 'matmul' op family (see ir/ops.def):
 * Gemm and MatMul.
 *
 * Speed comes from the loop shapes, not from flags: gcc -O2 (gcc >= 12,
 * "very cheap" vectoriser cost model) vectorises a loop only when its trip
 * count is a compile-time constant the vector width divides, and never
 * reorders a float reduction. So every hot loop here is an axpy over
 * contiguous outputs with literal bounds.
 *
 * Constant B (nn.Linear as Gemm, or MatMul + Add): B' (alpha folded in) is
 * emitted re-laid-out in panels of P columns, W[p][k][0..P), zero-padded
 * past N, and the row-independent part of beta*C likewise. For each panel
 * and row, P accumulators live in registers while k runs over K:
 *   acc[0..P) += A'[i,k] * W[p][k][0..P)
 * written as P/8 loops of 8 that gcc vectorises and then unrolls
 * completely (acc in 8 SSE or 4 AVX registers instead of memory).
 * Runtime B: Y rows are accumulated axpy-style from rows of B (B not
 * transposed) or as dot products (transposed B, integers).
 * Integers accumulate in uint64_t and narrow on store: numpy's wrapping.
 * With qnnc --cblas, float products call cblas_[sd]gemm instead, except
 * a single row times constant weights (the panels win there).
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <string.h>

/* ------------------------------------------------------------ matmul */

/* One product Y (m×n, row-major) = alpha A' B' + beta C. */
typedef struct mm_desc {
	ir_dtype t;
	int64_t m, k, n;
	int ta;               /* A' = Aᵀ (A stored k×m) */
	const ir_tensor *b;   /* constant B, or NULL */
	int tb;               /* B' = Bᵀ (B stored n×k) */
	double alpha, beta;
	int has_c;            /* Gemm's C is present and beta != 0 */
	int64_t sc0, sc1;     /* C's element strides along the rows / columns of Y */
	const ir_tensor *c;   /* C's data when constant */
	int blas;             /* call cblas_[sd]gemm (qnnc --cblas) */
} mm_desc;

/* The C expression for A'[i, k]; ao is a batch offset ("0" for none). */
static void a_expr(const mm_desc *d, const char *ao, const char *i, const char *k, char *buf, size_t len)
{
	char base[640] = "";
	if (strcmp(ao, "0"))
		snprintf(base, sizeof base, "%s + ", ao);
	if (d->ta)
		snprintf(buf, len, "x0[%s%s * %" PRId64 " + %s]", base, k, d->m, i);
	else
		snprintf(buf, len, "x0[%s%s * %" PRId64 " + %s]", base, i, d->k, k);
}

/* C's element for row i, column j (code text), times beta for floats;
 * "" when C is absent. */
static void c_expr(const mm_desc *d, const char *i, const char *j, char *buf, size_t len)
{
	char lit[64], idx[1024];
	buf[0] = 0;
	if (!d->has_c)
		return;
	if (d->sc0 && d->sc1)
		snprintf(idx, sizeof idx, "%s * %" PRId64 " + %s", i, d->sc0, j);
	else if (d->sc0)
		snprintf(idx, sizeof idx, "%s * %" PRId64, i, d->sc0);
	else
		snprintf(idx, sizeof idx, "%s", d->sc1 ? j : "0");
	if (d->beta == 1.0 || !ir_dtype_is_float(d->t))
		snprintf(buf, len, "x2[%s]", idx);
	else
		snprintf(buf, len, "%s * x2[%s]", cg_literal(d->t, d->beta, lit, sizeof lit), idx);
}

/* Columns per panel: 32 floats (8 SSE registers of accumulators), 16
 * doubles; narrower for small N to waste less padding. */
static int64_t panel_width(const mm_desc *d)
{
	int64_t p = d->t == IR_F32 ? 32 : 16;
	int64_t need = (d->n + 7) / 8 * 8;
	return need < p ? need : p;
}

/* Constant B: panels of packed weights (see the top of the file). */
static int emit_panel(cgen *cg, ir_node *n, const mm_desc *d)
{
	const char *T = ir_dtype_c_type(d->t);
	char fn[32], name[64], lit[64], ex[2048];
	int64_t P = panel_width(d), np = (d->n + P - 1) / P, last = d->n - (np - 1) * P;
	/* C folds into the packed bias when every row sees the same values. */
	int fold_c = d->has_c && d->c && (d->sc0 == 0 || d->m == 1);
	cg_fn_name(n, fn, sizeof fn);

	int64_t wdims[1] = {np * d->k * P};
	ir_tensor *w = ir_tensor_new(NULL, d->t, 1, wdims);
	int64_t bdims[1] = {np * P};
	ir_tensor *bias = fold_c ? ir_tensor_new(NULL, d->t, 1, bdims) : NULL;
	if (!w || (fold_c && !bias)) {
		ir_tensor_free(w);
		return ir_error(cg->g, n, "out of memory packing the weights");
	}
	for (int64_t p = 0; p < np; p++)
		for (int64_t k = 0; k < d->k; k++)
			for (int64_t j = 0; j < P && p * P + j < d->n; j++) {
				int64_t jj = p * P + j;
				double v = ir_tensor_get_f64(d->b, d->tb ? jj * d->k + k : k * d->n + jj);
				ir_tensor_set_f64(w, (p * d->k + k) * P + j, d->alpha * v);
			}
	cg_printf(cg, "/* B'%s packed in %" PRId64 " panels of %" PRId64 " columns: [panel][k][column] */\n",
		  d->alpha == 1.0 ? "" : " * alpha", np, P);
	snprintf(name, sizeof name, "%s_w", fn);
	cg_const_array(cg, name, w);
	ir_tensor_free(w);
	if (bias) {
		for (int64_t j = 0; j < d->n; j++)
			ir_tensor_set_f64(bias, j, d->beta * ir_tensor_get_f64(d->c, j * d->sc1));
		cg_printf(cg, "/* beta * C, padded to whole panels */\n");
		snprintf(name, sizeof name, "%s_b", fn);
		cg_const_array(cg, name, bias);
		ir_tensor_free(bias);
	}

	cg_begin_fn(cg, n);
	cg_printf(cg, "\t(void)x1;\n");
	if (d->has_c && fold_c)
		cg_printf(cg, "\t(void)x2;\n");
	else if (!d->has_c && n->nin > 2 && n->in[2])
		cg_printf(cg, "\t(void)x2;\n");
	cg_printf(cg, "\tfor (int p = 0; p < %" PRId64 "; p++) {\n", np);
	cg_printf(cg, "\t\tfor (int i = 0; i < %" PRId64 "; i++) {\n", d->m);
	cg_printf(cg, "\t\t\tconst %s *w = %s_w + p * %" PRId64 ";\n", T, fn, d->k * P);
	cg_printf(cg, "\t\t\t%s acc[%" PRId64 "];\n", T, P);
	if (fold_c)
		cg_printf(cg, "\t\t\tfor (int j = 0; j < %" PRId64 "; j++)\n\t\t\t\tacc[j] = %s_b[p * %" PRId64
			  " + j];\n", P, fn, P);
	else
		cg_printf(cg, "\t\t\tfor (int j = 0; j < %" PRId64 "; j++)\n\t\t\t\tacc[j] = %s;\n", P,
			  cg_literal(d->t, 0, lit, sizeof lit));
	cg_printf(cg, "\t\t\tfor (int k = 0; k < %" PRId64 "; k++) {\n", d->k);
	a_expr(d, "0", "i", "k", ex, sizeof ex);
	cg_printf(cg, "\t\t\t\tconst %s a = %s;\n", T, ex);
	for (int64_t j = 0; j < P; j += 8) {
		cg_keep_loop(cg, "\t\t\t\t");
		cg_printf(cg, "\t\t\t\tfor (int j = %" PRId64 "; j < %" PRId64 "; j++)\n\t\t\t\t\tacc[j] += a * w[j];\n",
			  j, j + 8);
	}
	cg_printf(cg, "\t\t\t\tw += %" PRId64 ";\n\t\t\t}\n", P);
	/* Store the panel's columns; the last panel may be partial. */
	cg_printf(cg, "\t\t\t%s *y = y0 + i * %" PRId64 " + p * %" PRId64 ";\n", T, d->n, P);
	char ce[2048] = "", jx[64];
	snprintf(jx, sizeof jx, "(p * %" PRId64 " + j)", P);
	if (!fold_c)
		c_expr(d, "i", jx, ce, sizeof ce);
	if (last == P)
		cg_printf(cg, "\t\t\tfor (int j = 0; j < %" PRId64 "; j++)\n", P);
	else
		cg_printf(cg, "\t\t\tfor (int j = 0; j < (p == %" PRId64 " ? %" PRId64 " : %" PRId64 "); j++)\n",
			  np - 1, last, P);
	cg_printf(cg, "\t\t\t\ty[j] = acc[j]%s%s;\n", ce[0] ? " + " : "", ce);
	cg_printf(cg, "\t\t}\n\t}\n}\n");
	return 0;
}

/* "o + " for a non-zero offset expression o, else "". */
static const char *plus(const char *o, char *buf, size_t len)
{
	if (!strcmp(o, "0"))
		return "";
	snprintf(buf, len, "%s + ", o);
	return buf;
}

/* Integer Y element from the wrapped product acc and C: exact wrapping for
 * alpha = beta = 1, else through double, as the interpreter does. */
static void int_result(const mm_desc *d, const char *acc, const char *ce, char *buf, size_t len)
{
	const char *T = ir_dtype_c_type(d->t);
	char lit[64], v[4096];
	if (d->alpha != 1.0)
		snprintf(v, sizeof v, "(%s)(%s * (double)(%s)%s)", T, cg_literal(IR_F64, d->alpha, lit, sizeof lit),
			 T, acc);
	else
		snprintf(v, sizeof v, "(%s)%s", T, acc);
	if (!ce[0])
		snprintf(buf, len, "%s", v);
	else if (d->beta == 1.0)
		snprintf(buf, len, "(%s)((uint64_t)%s + (uint64_t)%s)", T, v, ce);
	else
		snprintf(buf, len, "(%s)((double)%s + %s * (double)%s)", T, v,
			 cg_literal(IR_F64, d->beta, lit, sizeof lit), ce);
}

/* With --cblas: Y = beta C (broadcast) or nothing, then one
 * cblas_[sd]gemm that adds alpha A'B'. */
static void emit_blas(cgen *cg, const mm_desc *d, const char *ind, const char *ao, const char *bo,
		      const char *yo)
{
	char lit[64], ce[2048], body[8192], py[640], ind2[32];
	snprintf(ind2, sizeof ind2, "%s\t", ind);
	c_expr(d, "i", "j", ce, sizeof ce);
	if (ce[0]) {
		cg_printf(cg, "%sfor (int i = 0; i < %" PRId64 "; i++) {\n", ind, d->m);
		snprintf(body, sizeof body, "y0[%si * %" PRId64 " + j] = %s;", plus(yo, py, sizeof py), d->n, ce);
		cg_for_split(cg, ind2, "j", 0, d->n, body);
		cg_printf(cg, "%s}\n", ind);
	}
	cg_printf(cg, "%scblas_%cgemm(CblasRowMajor, %s, %s, %" PRId64 ", %" PRId64 ", %" PRId64 ", %s, ", ind,
		  d->t == IR_F32 ? 's' : 'd', d->ta ? "CblasTrans" : "CblasNoTrans",
		  d->tb ? "CblasTrans" : "CblasNoTrans", d->m, d->n, d->k, cg_literal(d->t, d->alpha, lit, sizeof lit));
	cg_printf(cg, "x0%s%s, %" PRId64 ", ", strcmp(ao, "0") ? " + " : "", strcmp(ao, "0") ? ao : "",
		  d->ta ? d->m : d->k);
	cg_printf(cg, "x1%s%s, %" PRId64 ", ", strcmp(bo, "0") ? " + " : "", strcmp(bo, "0") ? bo : "",
		  d->tb ? d->k : d->n);
	cg_printf(cg, "%s, y0%s%s, %" PRId64 ");\n", cg_literal(d->t, ce[0] ? 1.0 : 0.0, lit, sizeof lit),
		  strcmp(yo, "0") ? " + " : "", strcmp(yo, "0") ? yo : "", d->n);
}

/* Runtime B (Gemm, or one 2-D slice of MatMul at batch offsets ao, bo, yo
 * given as code text, "0" for none). */
static void emit_product(cgen *cg, const mm_desc *d, const char *ind, const char *ao, const char *bo,
			 const char *yo)
{
	const char *T = ir_dtype_c_type(d->t);
	char lit[64], ex[2048], ce[2048], body[8192], pb[640], py[640], ind2[32], ind3[32];
	snprintf(ind2, sizeof ind2, "%s\t", ind);
	snprintf(ind3, sizeof ind3, "%s\t\t", ind);
	if (d->blas) {
		emit_blas(cg, d, ind, ao, bo, yo);
		return;
	}
	a_expr(d, ao, "i", "k", ex, sizeof ex);
	c_expr(d, "i", "j", ce, sizeof ce);
	if (ir_dtype_is_float(d->t) && !d->tb && d->n > 1) {
		/* axpy: Y row i += A'[i,k] * (row k of B) */
		cg_printf(cg, "%sfor (int i = 0; i < %" PRId64 "; i++) {\n", ind, d->m);
		cg_printf(cg, "%s%s *y = y0 + %si * %" PRId64 ";\n", ind2, T, plus(yo, py, sizeof py), d->n);
		snprintf(body, sizeof body, "y[j] = %s;", ce[0] ? ce : cg_literal(d->t, 0, lit, sizeof lit));
		cg_for_split(cg, ind2, "j", 0, d->n, body);
		cg_printf(cg, "%sfor (int k = 0; k < %" PRId64 "; k++) {\n", ind2, d->k);
		if (d->alpha == 1.0)
			cg_printf(cg, "%sconst %s a = %s;\n", ind3, T, ex);
		else
			cg_printf(cg, "%sconst %s a = %s * %s;\n", ind3, T, cg_literal(d->t, d->alpha, lit, sizeof lit),
				  ex);
		cg_printf(cg, "%sconst %s *b = x1 + %sk * %" PRId64 ";\n", ind3, T, plus(bo, pb, sizeof pb), d->n);
		cg_for_split(cg, ind3, "j", 0, d->n, "y[j] += a * b[j];");
		cg_printf(cg, "%s}\n%s}\n", ind2, ind);
		return;
	}
	/* dot products: transposed B, a single column, integers */
	char bx[2048];
	if (d->tb)
		snprintf(bx, sizeof bx, "x1[%sj * %" PRId64 " + k]", plus(bo, pb, sizeof pb), d->k);
	else
		snprintf(bx, sizeof bx, "x1[%sk * %" PRId64 " + j]", plus(bo, pb, sizeof pb), d->n);
	cg_printf(cg, "%sfor (int i = 0; i < %" PRId64 "; i++)\n", ind, d->m);
	cg_printf(cg, "%sfor (int j = 0; j < %" PRId64 "; j++) {\n", ind2, d->n);
	if (ir_dtype_is_float(d->t)) {
		cg_printf(cg, "%s%s acc = %s;\n", ind3, T, cg_literal(d->t, 0, lit, sizeof lit));
		cg_printf(cg, "%sfor (int k = 0; k < %" PRId64 "; k++)\n%s\tacc += %s * %s;\n", ind3, d->k, ind3, ex,
			  bx);
		char v[128];
		if (d->alpha == 1.0)
			snprintf(v, sizeof v, "acc");
		else
			snprintf(v, sizeof v, "%s * acc", cg_literal(d->t, d->alpha, lit, sizeof lit));
		snprintf(body, sizeof body, "%s%s%s", v, ce[0] ? " + " : "", ce);
	} else {
		cg_printf(cg, "%suint64_t acc = 0;\n", ind3);
		cg_printf(cg, "%sfor (int k = 0; k < %" PRId64 "; k++)\n%s\tacc += (uint64_t)%s * (uint64_t)%s;\n",
			  ind3, d->k, ind3, ex, bx);
		int_result(d, "acc", ce, body, sizeof body);
	}
	cg_printf(cg, "%sy0[%si * %" PRId64 " + j] = %s;\n", ind3, plus(yo, py, sizeof py), d->n, body);
	cg_printf(cg, "%s}\n", ind2);
}

/* Y = beta * C (or 0) when the inner dimension is empty. */
static void emit_no_inner(cgen *cg, const mm_desc *d)
{
	char lit[64], ce[2048], v[8192], body[8192 + 64];
	c_expr(d, "i", "j", ce, sizeof ce);
	if (!ir_dtype_is_float(d->t))
		int_result(d, "0", ce, v, sizeof v);
	else
		snprintf(v, sizeof v, "%s", ce[0] ? ce : cg_literal(d->t, 0, lit, sizeof lit));
	snprintf(body, sizeof body, "y0[i * %" PRId64 " + j] = %s;", d->n, v);
	cg_printf(cg, "\tfor (int i = 0; i < %" PRId64 "; i++) {\n", d->m);
	cg_for_split(cg, "\t\t", "j", 0, d->n, body);
	cg_printf(cg, "\t}\n");
}

static void void_unused(cgen *cg, ir_node *n, int from)
{
	for (int i = from; i < n->nin; i++)
		if (n->in[i])
			cg_printf(cg, "\t(void)x%d;\n", i);
}

/* --cblas: BLAS for every float product but a single row times constant
 * weights, where the packed panels (no call, no repacking) are faster. */
static int want_blas(cgen *cg, mm_desc *d, int const_b)
{
	d->blas = cg->o->use_cblas && ir_dtype_is_float(d->t) && d->k > 0 && d->m * d->n > 0 &&
		  !(const_b && d->m == 1);
	if (d->blas)
		cg_printf(cg, "#include <cblas.h>\n");
	return d->blas;
}

static int emit_gemm(cgen *cg, ir_node *n)
{
	mm_desc d = {0};
	const ir_value *a = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL;
	d.t = n->out[0]->dtype;
	d.ta = ir_attr_int(n, "transA", 0) != 0;
	d.tb = ir_attr_int(n, "transB", 0) != 0;
	d.alpha = ir_attr_float(n, "alpha", 1.0);
	d.beta = ir_attr_float(n, "beta", 1.0);
	d.m = n->out[0]->shape.d[0].v;
	d.n = n->out[0]->shape.d[1].v;
	d.k = a->shape.d[!d.ta].v;
	d.has_c = c && d.beta != 0.0 && cg_numel(c) > 0;
	if (d.has_c) {
		/* unidirectional broadcast of C to [M, N] */
		int r = c->shape.rank;
		int64_t c0 = r == 2 ? c->shape.d[0].v : 1, c1 = r >= 1 ? c->shape.d[r - 1].v : 1;
		d.sc0 = c0 == 1 ? 0 : c1;
		d.sc1 = c1 == 1 ? 0 : 1;
		d.c = c->konst;
	}
	if (!want_blas(cg, &d, b->konst != NULL) && ir_dtype_is_float(d.t) && b->konst && d.k > 0 &&
	    d.m * d.n > 0) {
		d.b = b->konst;
		return emit_panel(cg, n, &d);
	}
	cg_begin_fn(cg, n);
	if (!d.has_c)
		void_unused(cg, n, 2);
	if (d.m * d.n == 0) {
		void_unused(cg, n, 0);
		cg_printf(cg, "\t(void)y0;\n}\n");
		return 0;
	}
	if (d.k == 0) {
		cg_printf(cg, "\t(void)x0;\n\t(void)x1;\n");
		emit_no_inner(cg, &d);
	} else {
		emit_product(cg, &d, "\t", "0", "0", "0");
	}
	cg_printf(cg, "}\n");
	return 0;
}

static int emit_matmul(cgen *cg, ir_node *n)
{
	const ir_value *a = n->in[0], *b = n->in[1], *y = n->out[0];
	int ra = a->shape.rank, rb = b->shape.rank, ry = y->shape.rank;
	mm_desc d = {0};
	d.t = y->dtype;
	d.alpha = d.beta = 1.0;
	d.m = ra == 1 ? 1 : a->shape.d[ra - 2].v;
	d.k = a->shape.d[ra - 1].v;
	d.n = rb == 1 ? 1 : b->shape.d[rb - 1].v;
	int brank = ry - (ra > 1) - (rb > 1);
	int64_t nb = 1, nba = 1, nbb = 1;
	for (int i = 0; i < brank; i++)
		nb *= y->shape.d[i].v;
	for (int i = 0; i < ra - 2; i++)
		nba *= a->shape.d[i].v;
	for (int i = 0; i < rb - 2; i++)
		nbb *= b->shape.d[i].v;
	/* One B shared by every batch and A not broadcast: one tall product
	 * (with packed weights when B is constant). */
	int tall = rb >= 2 && nbb == 1 && nba == nb;
	mm_desc dt = d;
	dt.m *= nb;
	if (tall && want_blas(cg, &dt, b->konst != NULL)) {
		cg_begin_fn(cg, n);
		emit_blas(cg, &dt, "\t", "0", "0", "0");
		cg_printf(cg, "}\n");
		return 0;
	}
	if (tall && ir_dtype_is_float(d.t) && b->konst && d.k > 0 && dt.m * d.n > 0) {
		dt.b = b->konst;
		return emit_panel(cg, n, &dt);
	}
	want_blas(cg, &d, 0);
	cg_begin_fn(cg, n);
	if (nb * d.m * d.n == 0) {
		cg_printf(cg, "\t(void)x0;\n\t(void)x1;\n\t(void)y0;\n}\n");
		return 0;
	}
	if (d.k == 0) {
		cg_printf(cg, "\t(void)x0;\n\t(void)x1;\n");
		d.m *= nb;
		emit_no_inner(cg, &d);
		cg_printf(cg, "}\n");
		return 0;
	}
	/* Batch loops with the broadcast strides of A's and B's batch parts. */
	int64_t sa[IR_MAX_RANK] = {0}, sb[IR_MAX_RANK] = {0};
	int64_t ea = d.m * d.k, eb = d.k * d.n;
	for (int i = brank - 1, ia = ra - 3, ib = rb - 3; i >= 0; i--, ia--, ib--) {
		if (ia >= 0 && a->shape.d[ia].v != 1)
			sa[i] = ea;
		if (ib >= 0 && b->shape.d[ib].v != 1)
			sb[i] = eb;
		if (ia >= 0)
			ea *= a->shape.d[ia].v;
		if (ib >= 0)
			eb *= b->shape.d[ib].v;
	}
	char ao[512] = "0", bo[512] = "0", yo[512] = "0", ind[IR_MAX_RANK + 2] = "\t";
	size_t la = 0, lb = 0, ly = 0;
	int open = 0;
	for (int i = 0; i < brank; i++) {
		int64_t ext = y->shape.d[i].v;
		if (ext == 1)
			continue;
		cg_printf(cg, "%sfor (int b%d = 0; b%d < %" PRId64 "; b%d++) {\n", ind, i, i, ext, i);
		strcat(ind, "\t");
		open++;
		/* Y's batch dims are row-major and never broadcast */
		int64_t ys = d.m * d.n;
		for (int j = i + 1; j < brank; j++)
			ys *= y->shape.d[j].v;
		if (sa[i])
			la += (size_t)snprintf(ao + la, sizeof ao - la, "%sb%d * %" PRId64, la ? " + " : "", i, sa[i]);
		if (sb[i])
			lb += (size_t)snprintf(bo + lb, sizeof bo - lb, "%sb%d * %" PRId64, lb ? " + " : "", i, sb[i]);
		ly += (size_t)snprintf(yo + ly, sizeof yo - ly, "%sb%d * %" PRId64, ly ? " + " : "", i, ys);
	}
	emit_product(cg, &d, ind, ao, bo, yo);
	while (open--) {
		ind[strlen(ind) - 1] = 0;
		cg_printf(cg, "%s}\n", ind);
	}
	cg_printf(cg, "}\n");
	return 0;
}

int cgen_matmul(cgen *cg, ir_node *n)
{
	if (cg_fits_int(cg, n))
		return -1;
	return n->op == IR_OP_Gemm ? emit_gemm(cg, n) : emit_matmul(cg, n);
}
