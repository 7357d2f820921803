/* cgen_conv.c - C emission for the 'conv' op family (see ir/ops.def):
 * N-d Conv with groups, strides, dilations, pads and auto_pad.
 *
 * Y[b, m, o] = B[m] + sum_{c, k} W[m, c, k] X[b, g Cg + c, o s - lo + k d]
 * (zero outside X; g = m / Mg). The geometry (passes/op_conv.h) is
 * resolved at compile time and baked into the code as literals.
 *
 * Loop order, per batch item: Y starts at the bias; then per input
 * channel c, per output channel m of c's group, per outer kernel tap (all
 * spatial dims but the last) and output row it reaches,
 *   yr[o] += sum_k w_k * xr[o s + k d]      (k along the last dim)
 * over the whole row, literal bounds, contiguous when s = 1: gcc -O2
 * vectorises it. Up to 8 taps of the last dim are fused into one
 * statement (the output row is read and written once per kernel row);
 * wider kernels run one axpy per tap. Padding never reaches these loops:
 * when windows cross the border, channel c is first copied into a zeroed
 * padded plane on the stack (small planes, where borders would cost the
 * most); planes over CONV_STACK_ELEMS elements instead split each row at
 * compile time into the interior (no tests) and the borders (each tap
 * tested). A 1x1 convolution with unit strides and no padding is a
 * matrix product over the flattened plane, Y[m, :] += W[m, c] X[c, :],
 * 8 input channels fused per pass (with qnnc --cblas, one cblas_[sd]gemm
 * per batch item and group; other convolutions keep the plain loops,
 * which need no im2col buffer).
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <string.h>

#include "../passes/op_conv.h"

/* Largest padded plane copied to the stack (elements). */
#define CONV_STACK_ELEMS 16384

/* First output index of the last dim whose window lies inside the input,
 * and one past the last; a <= b. */
static void interior(const conv_plan *p, int L, int64_t *a, int64_t *b)
{
	int64_t s = p->s[L], lo = p->lo[L];
	int64_t num = p->in[L] - 1 + lo - (p->k[L] - 1) * p->d[L];
	*a = (lo + s - 1) / s;
	*b = num < 0 ? 0 : num / s + 1;
	if (*a > p->out[L])
		*a = p->out[L];
	if (*b > p->out[L])
		*b = p->out[L];
	if (*b < *a)
		*b = *a;
}

/* One output row: yr[o] += sum_k wr[k] xr[o s + k d - lo] along dim L.
 * Outputs in [a, b) need no test; the others test every tap against the
 * input extent (only when rows index X itself, lo > 0 possible). */
static void emit_row(cgen *cg, const conv_plan *p, int L, ir_dtype t, int64_t lo, int64_t a, int64_t b,
		     const char *ind)
{
	const char *T = ir_dtype_c_type(t);
	int64_t K = p->k[L], s = p->s[L], dd = p->d[L];
	char lit[64], ix[128], body[4096], ind2[64];
	snprintf(ind2, sizeof ind2, "%s\t", ind);
	for (int side = 0; side < 2; side++) {
		int64_t from = side ? b : 0, to = side ? p->out[L] : a;
		if (from >= to)
			continue;
		cg_printf(cg, "%sfor (int o = %" PRId64 "; o < %" PRId64 "; o++) {\n", ind, from, to);
		cg_printf(cg, "%s%s acc = %s;\n", ind2, T, cg_literal(t, 0, lit, sizeof lit));
		cg_affine(ix, sizeof ix, "o", s, "k", dd, -lo);
		cg_printf(cg, "%sfor (int k = 0; k < %" PRId64 "; k++) {\n", ind2, K);
		cg_printf(cg, "%s\tconst int i = %s;\n", ind2, ix);
		cg_printf(cg, "%s\tif (i >= 0 && i < %" PRId64 ")\n%s\t\tacc += wr[k] * xr[i];\n", ind2, p->in[L],
			  ind2);
		cg_printf(cg, "%s}\n%syr[o] += acc;\n%s}\n", ind2, ind2, ind);
	}
	if (a >= b)
		return;
	if (K <= 8) { /* fused taps, weights w0.. declared by the caller */
		size_t n = (size_t)snprintf(body, sizeof body, "yr[o] +=");
		for (int64_t k = 0; k < K; k++) {
			cg_affine(ix, sizeof ix, "o", s, NULL, 0, k * dd - lo);
			n += (size_t)snprintf(body + n, sizeof body - n, "%s w%" PRId64 " * xr[%s]", k ? " +" : "", k, ix);
		}
		snprintf(body + n, sizeof body - n, ";");
		cg_for_split(cg, ind, "o", a, b, body);
		return;
	}
	cg_printf(cg, "%sfor (int k = 0; k < %" PRId64 "; k++) {\n", ind, K);
	cg_printf(cg, "%sconst %s w = wr[k];\n", ind2, T);
	cg_affine(ix, sizeof ix, "o", s, "k", dd, -lo);
	snprintf(body, sizeof body, "yr[o] += w * xr[%s];", ix);
	cg_for_split(cg, ind2, "o", a, b, body);
	cg_printf(cg, "%s}\n", ind);
}

/* 1x1 convolution, plain C: per output channel m, the plane accumulates
 * 8 input channels per pass,
 *   yp[o] += w0 xc[o] + w1 xc[o + plane] + ... + w7 xc[o + 7 plane],
 * so the output is read and written once per 8 products and stays in L1
 * while the input planes stream. */
static int emit_pointwise(cgen *cg, ir_node *n, const conv_plan *p, int64_t nb, int64_t c, int64_t m,
			  int64_t group)
{
	ir_dtype t = n->out[0]->dtype;
	const char *T = ir_dtype_c_type(t);
	int has_b = n->nin > 2 && n->in[2];
	int64_t cgr = c / group, mg = m / group, op = p->pn;
	char lit[64], body[1024];
	cg_begin_fn(cg, n);
	cg_printf(cg, "\tfor (int b = 0; b < %" PRId64 "; b++)\n", nb);
	cg_printf(cg, "\t\tfor (int m = 0; m < %" PRId64 "; m++) {\n", m);
	cg_printf(cg, "\t\t\t%s *yp = y0 + (b * %" PRId64 " + m) * %" PRId64 ";\n", T, m, op);
	cg_printf(cg, "\t\t\tconst %s *wm = x1 + m * %" PRId64 ";\n", T, cgr);
	if (group == 1)
		cg_printf(cg, "\t\t\tconst %s *xg = x0 + b * %" PRId64 ";\n", T, c * op);
	else
		cg_printf(cg, "\t\t\tconst %s *xg = x0 + (b * %" PRId64 " + m / %" PRId64 " * %" PRId64 ") * %" PRId64
			      ";\n", T, c, mg, cgr, op);
	if (has_b) {
		cg_printf(cg, "\t\t\tconst %s bias = x2[m];\n", T);
		cg_for_split(cg, "\t\t\t", "o", 0, op, "yp[o] = bias;");
	} else {
		snprintf(body, sizeof body, "yp[o] = %s;", cg_literal(t, 0, lit, sizeof lit));
		cg_for_split(cg, "\t\t\t", "o", 0, op, body);
	}
	/* full blocks of 8 channels in a loop, then the rest */
	for (int part = 0; part < 2; part++) {
		int64_t width = part ? cgr % 8 : 8, from = part ? cgr / 8 * 8 : 0;
		const char *ind = part ? "\t\t\t" : "\t\t\t\t";
		if (part ? width == 0 : cgr < 8)
			continue;
		if (part)
			cg_printf(cg, "\t\t\t{\n\t\t\t\tconst int c = %" PRId64 ";\n", from);
		else
			cg_printf(cg, "\t\t\tfor (int c = 0; c < %" PRId64 "; c += 8) {\n", cgr / 8 * 8);
		ind = "\t\t\t\t";
		cg_printf(cg, "%sconst %s *xc = xg + c * %" PRId64 ";\n", ind, T, op);
		size_t len = (size_t)snprintf(body, sizeof body, "yp[o] +=");
		for (int64_t k = 0; k < width; k++) {
			cg_printf(cg, "%sconst %s w%" PRId64 " = wm[c + %" PRId64 "];\n", ind, T, k, k);
			if (k)
				len += (size_t)snprintf(body + len, sizeof body - len, " + w%" PRId64 " * xc[o + %" PRId64 "]",
							k, k * op);
			else
				len += (size_t)snprintf(body + len, sizeof body - len, " w0 * xc[o]");
		}
		snprintf(body + len, sizeof body - len, ";");
		cg_for_split(cg, ind, "o", 0, op, body);
		cg_printf(cg, "\t\t\t}\n");
	}
	cg_printf(cg, "\t\t}\n}\n");
	return 0;
}

/* --cblas, 1x1 convolution: per batch item and group one product
 * Y[Mg, plane] = W[Mg, Cg] X[Cg, plane] added to the bias. */
static int emit_pointwise_blas(cgen *cg, ir_node *n, const conv_plan *p, int64_t nb, int64_t c, int64_t m,
			       int64_t group)
{
	ir_dtype t = n->out[0]->dtype;
	const char *T = ir_dtype_c_type(t);
	int has_b = n->nin > 2 && n->in[2];
	int64_t cgr = c / group, mg = m / group;
	char lit[64], one[64];
	cg_printf(cg, "#include <cblas.h>\n");
	cg_begin_fn(cg, n);
	cg_printf(cg, "\tfor (int b = 0; b < %" PRId64 "; b++) {\n", nb);
	cg_printf(cg, "\t\t%s *yb = y0 + b * %" PRId64 ";\n", T, m * p->pn);
	if (has_b) {
		cg_printf(cg, "\t\tfor (int m = 0; m < %" PRId64 "; m++) {\n", m);
		cg_printf(cg, "\t\t\t%s *yp = yb + m * %" PRId64 ";\n\t\t\tconst %s bias = x2[m];\n", T, p->pn, T);
		cg_for_split(cg, "\t\t\t", "o", 0, p->pn, "yp[o] = bias;");
		cg_printf(cg, "\t\t}\n");
	}
	cg_printf(cg, "\t\tfor (int g = 0; g < %" PRId64 "; g++)\n", group);
	cg_printf(cg, "\t\t\tcblas_%cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, %" PRId64 ", %" PRId64
		      ", %" PRId64 ", %s, x1 + g * %" PRId64 ", %" PRId64 ", x0 + (b * %" PRId64 " + g * %" PRId64
		      ") * %" PRId64 ", %" PRId64 ", %s, yb + g * %" PRId64 ", %" PRId64 ");\n",
		  t == IR_F32 ? 's' : 'd', mg, p->pn, cgr, cg_literal(t, 1.0, one, sizeof one), mg * cgr, cgr, c,
		  cgr, p->pn, p->pn, cg_literal(t, has_b ? 1.0 : 0.0, lit, sizeof lit), mg * p->pn, p->pn);
	cg_printf(cg, "\t}\n}\n");
	return 0;
}

int cgen_conv(cgen *cg, ir_node *n)
{
	const ir_value *x = n->in[0], *wv = n->in[1], *y = n->out[0];
	int has_b = n->nin > 2 && n->in[2];
	ir_dtype t = y->dtype;
	const char *T = ir_dtype_c_type(t);
	char lit[64], body[256];
	int64_t xd[IR_MAX_RANK], wd[IR_MAX_RANK];
	conv_plan p;
	int rank = cg_dims(x, xd);
	cg_dims(wv, wd);
	if (cg_fits_int(cg, n) || conv_plan_make(cg->g, n, rank, xd, wd, &p))
		return -1;
	int pointwise = p.pointwise, inside = 1;
	int64_t pe[IR_MAX_RANK], padn = 1; /* padded extents, plane */
	for (int d = 0; d < p.nsp; d++) {
		IR_ASSERT(p.out[d] == y->shape.d[d + 2].v);
		/* one past the last input index any window reads */
		int64_t end = (p.out[d] - 1) * p.s[d] + (p.k[d] - 1) * p.d[d] + 1 - p.lo[d];
		inside &= p.lo[d] == 0 && end <= p.in[d];
		pe[d] = p.lo[d] + (end > p.in[d] ? end : p.in[d]);
		padn *= pe[d];
	}
	int64_t group = ir_attr_int(n, "group", 1);
	int64_t nb = x->shape.d[0].v, c = x->shape.d[1].v, cgr = c / group, m = y->shape.d[1].v, mg = m / group;
	if (pointwise) { /* one flat spatial dim */
		p.nsp = 1;
		p.in[0] = p.out[0] = pe[0] = p.inplane;
		p.k[0] = p.s[0] = p.d[0] = 1;
		p.lo[0] = 0;
	}
	int L = p.nsp - 1;
	int pad = !inside && padn <= CONV_STACK_ELEMS && p.pn > 0;
	if (pointwise && nb * m * p.pn > 0 && cgr > 0)
		return cg->o->use_cblas ? emit_pointwise_blas(cg, n, &p, nb, c, m, group)
					: emit_pointwise(cg, n, &p, nb, c, m, group);

	cg_begin_fn(cg, n);
	if (nb * m * p.pn == 0) {
		cg_printf(cg, "\t(void)x0;\n\t(void)x1;\n%s\t(void)y0;\n}\n", has_b ? "\t(void)x2;\n" : "");
		return 0;
	}
	int useful = cgr * p.kn > 0; /* else Y is just the bias */
	if (!useful)
		cg_printf(cg, "\t(void)x0;\n\t(void)x1;\n");
	if (pad && useful) {
		cg_printf(cg, "\t%s pad[%" PRId64 "]; /* channel c, zero-padded */\n", T, padn);
		cg_printf(cg, "\tmemset(pad, 0, sizeof pad);\n");
	}
	cg_printf(cg, "\tfor (int b = 0; b < %" PRId64 "; b++) {\n", nb);
	cg_printf(cg, "\t\t%s *yb = y0 + b * %" PRId64 ";\n", T, m * p.pn);
	cg_printf(cg, "\t\tfor (int m = 0; m < %" PRId64 "; m++) {\n", m);
	cg_printf(cg, "\t\t\t%s *yp = yb + m * %" PRId64 ";\n", T, p.pn);
	if (has_b) {
		cg_printf(cg, "\t\t\tconst %s bias = x2[m];\n", T);
		snprintf(body, sizeof body, "yp[o] = bias;");
	} else {
		snprintf(body, sizeof body, "yp[o] = %s;", cg_literal(t, 0, lit, sizeof lit));
	}
	cg_for_split(cg, "\t\t\t", "o", 0, p.pn, body);
	cg_printf(cg, "\t\t}\n");
	if (!useful) {
		cg_printf(cg, "\t}\n}\n");
		return 0;
	}
	cg_printf(cg, "\t\tfor (int c = 0; c < %" PRId64 "; c++) {\n", c);
	cg_printf(cg, "\t\t\tconst %s *xc = x0 + (b * %" PRId64 " + c) * %" PRId64 ";\n", T, c, p.inplane);
	if (pad) {
		/* copy the rows of X into the padded plane */
		char ind[64] = "\t\t\t", src[512] = "", dst[512] = "";
		size_t ls = 0, ld = 0;
		int64_t off = 0;
		for (int d = 0; d < L; d++) {
			int64_t is = 1, ps = 1;
			for (int e = d + 1; e < p.nsp; e++) {
				is *= p.in[e];
				ps *= pe[e];
			}
			off += p.lo[d] * ps;
			cg_printf(cg, "%sfor (int i%d = 0; i%d < %" PRId64 "; i%d++)\n", ind, d, d, p.in[d], d);
			strcat(ind, "\t");
			ls += (size_t)snprintf(src + ls, sizeof src - ls, " + i%d * %" PRId64, d, is);
			ld += (size_t)snprintf(dst + ld, sizeof dst - ld, " + i%d * %" PRId64, d, ps);
		}
		off += p.lo[L];
		cg_printf(cg, "%smemcpy(pad + %" PRId64 "%s, xc%s, %" PRId64 " * sizeof *pad);\n", ind, off, dst, src,
			  p.in[L]);
	}
	if (group == 1)
		cg_printf(cg, "\t\t\tfor (int m = 0; m < %" PRId64 "; m++) {\n", m);
	else
		cg_printf(cg, "\t\t\tfor (int m = c / %" PRId64 " * %" PRId64 "; m < (c / %" PRId64 " + 1) * %" PRId64
			      "; m++) {\n", cgr, mg, cgr, mg);
	if (group == 1)
		cg_printf(cg, "\t\t\t\tconst %s *wc = x1 + (m * %" PRId64 " + c) * %" PRId64 ";\n", T, cgr, p.kn);
	else
		cg_printf(cg, "\t\t\t\tconst %s *wc = x1 + (m * %" PRId64 " + c %% %" PRId64 ") * %" PRId64 ";\n", T,
			  cgr, cgr, p.kn);
	cg_printf(cg, "\t\t\t\t%s *yp = yb + m * %" PRId64 ";\n", T, p.pn);
	/* Outer spatial dims: the taps outside (so that the weights of a
	 * kernel row are loaded once), the output rows inside. */
	char ind[64] = "\t\t\t\t", xo[512] = "", yo[512] = "", wo[512] = "";
	size_t lx = 0, ly = 0, lw = 0;
	int64_t is[IR_MAX_RANK], os[IR_MAX_RANK], ks[IR_MAX_RANK];
	for (int d = 0; d < L; d++) {
		is[d] = os[d] = ks[d] = 1;
		for (int e = d + 1; e < p.nsp; e++) {
			is[d] *= pad ? pe[e] : p.in[e];
			os[d] *= p.out[e];
			ks[d] *= p.k[e];
		}
		cg_printf(cg, "%sfor (int k%d = 0; k%d < %" PRId64 "; k%d++) {\n", ind, d, d, p.k[d], d);
		strcat(ind, "\t");
		lw += (size_t)snprintf(wo + lw, sizeof wo - lw, " + k%d * %" PRId64, d, ks[d]);
	}
	cg_printf(cg, "%sconst %s *wr = wc%s;\n", ind, T, wo);
	int64_t a = 0, b = p.out[L];
	if (!pad && !inside)
		interior(&p, L, &a, &b);
	if (p.k[L] <= 8 && a < b)
		for (int64_t k = 0; k < p.k[L]; k++)
			cg_printf(cg, "%sconst %s w%" PRId64 " = wr[%" PRId64 "];\n", ind, T, k, k);
	for (int d = 0; d < L; d++) {
		char ix[128], ov[16], kv[16];
		cg_printf(cg, "%sfor (int o%d = 0; o%d < %" PRId64 "; o%d++) {\n", ind, d, d, p.out[d], d);
		strcat(ind, "\t");
		snprintf(ov, sizeof ov, "o%d", d);
		snprintf(kv, sizeof kv, "k%d", d);
		cg_affine(ix, sizeof ix, ov, p.s[d], kv, p.d[d], pad ? 0 : -p.lo[d]);
		cg_printf(cg, "%sconst int i%d = %s;\n", ind, d, ix);
		/* a test only where the taps can leave X */
		if (!pad && !inside &&
		    (p.lo[d] > 0 || (p.out[d] - 1) * p.s[d] + (p.k[d] - 1) * p.d[d] - p.lo[d] >= p.in[d]))
			cg_printf(cg, "%sif (i%d < 0 || i%d >= %" PRId64 ")\n%s\tcontinue;\n", ind, d, d, p.in[d], ind);
		lx += (size_t)snprintf(xo + lx, sizeof xo - lx, " + i%d * %" PRId64, d, is[d]);
		ly += (size_t)snprintf(yo + ly, sizeof yo - ly, " + o%d * %" PRId64, d, os[d]);
	}
	cg_printf(cg, "%sconst %s *xr = %s%s;\n", ind, T, pad ? "pad" : "xc", xo);
	cg_printf(cg, "%s%s *yr = yp%s;\n", ind, T, yo);
	emit_row(cg, &p, L, t, pad || inside ? 0 : p.lo[L], a, b, ind);
	for (int d = 0; d < 2 * L; d++) {
		ind[strlen(ind) - 1] = 0;
		cg_printf(cg, "%s}\n", ind);
	}
	cg_printf(cg, "\t\t\t}\n\t\t}\n\t}\n}\n");
	return 0;
}
