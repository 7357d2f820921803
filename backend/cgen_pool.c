/* cgen_pool.c - C emission for the 'pool' op family (see ir/ops.def):
 * MaxPool (with the optional argmax Indices), AveragePool,
 * GlobalAveragePool, GlobalMaxPool.
 *
 * The window geometry (passes/op_conv.h: kernel, strides, dilations, pads,
 * auto_pad, ceil_mode) is resolved at compile time. Per spatial dim and
 * output index, the range of taps that fall inside the input is a small
 * static table (or literal bounds when every window is whole), so the
 * generated loops never test coordinates. AveragePool divides by the
 * number of taps inside the input (count_include_pad = 0) or inside the
 * explicitly padded input (= 1; the extra end that ceil_mode adds is never
 * counted), a product of per-dim counts.
 *
 * Indices (MaxPool's second output) hold the argmax as a flat index into
 * X: (b C + c) * plane + spatial offset, the spatial offset row-major
 * (storage_order 0) or column-major (1). Ties keep the first tap in
 * row-major window order. A window with no tap inside the input (possible
 * only with pads as large as the window) yields the lowest finite value
 * (AveragePool: 0 / 0) and index -1, as in the interpreter.
 *
 * Global pools reduce whole planes with 8 independent accumulators so the
 * loop vectorises without reassociation flags.
 */
#include "cgen_internal.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../passes/op_conv.h"

/* Append " + v * c" (or " + v", nothing for c = 0) to a sum being built. */
static void add_term(char *buf, size_t len, size_t *at, const char *v, int64_t c)
{
	if (c == 0 || *at >= len)
		return;
	const char *sep = *at ? " + " : "";
	if (c == 1)
		*at += (size_t)snprintf(buf + *at, len - *at, "%s%s", sep, v);
	else
		*at += (size_t)snprintf(buf + *at, len - *at, "%s%s * %" PRId64, sep, v, c);
}

/* The lowest value of dtype t as a C literal (MaxPool's start). */
static const char *lowest(ir_dtype t, char *buf, size_t len)
{
	switch (t) {
	case IR_I8: return "INT8_MIN";
	case IR_U8: return "0";
	case IR_I16: return "INT16_MIN";
	case IR_U16: return "0";
	case IR_I32: return "INT32_MIN";
	case IR_I64: return "INT64_MIN";
	case IR_U32: return "0u";
	case IR_U64: return "UINT64_C(0)";
	default: return cg_literal(t, -HUGE_VAL, buf, len);
	}
}

/* Print "static const int NAME[n] = {...};". */
static void int_table(cgen *cg, const char *name, const int64_t *v, int64_t n)
{
	cg_printf(cg, "static const int %s[%" PRId64 "] = {", name, n);
	for (int64_t i = 0; i < n; i++)
		cg_printf(cg, "%s%" PRId64 ",", i % 16 ? " " : "\n\t", v[i]);
	cg_printf(cg, "\n};\n");
}

static int emit_global(cgen *cg, ir_node *n)
{
	const ir_value *x = n->in[0];
	ir_dtype t = x->dtype;
	const char *T = ir_dtype_c_type(t);
	int is_max = n->op == IR_OP_GlobalMaxPool;
	int64_t np = x->shape.d[0].v * (x->shape.rank > 1 ? x->shape.d[1].v : 1), ip = 1;
	char lit[64], init[64], body[256];
	for (int d = 2; d < x->shape.rank; d++)
		ip *= x->shape.d[d].v;
	snprintf(init, sizeof init, "%s", is_max ? lowest(t, lit, sizeof lit) : cg_literal(t, 0, lit, sizeof lit));
	cg_begin_fn(cg, n);
	if (np == 0 || ip == 0) {
		/* empty planes: the mean is 0/0, the max the lowest value */
		cg_printf(cg, "\t(void)x0;\n");
		snprintf(body, sizeof body, "y0[p] = %s;", is_max ? init : (t == IR_F32 ? "NAN" : "(double)NAN"));
		cg_for_split(cg, "\t", "p", 0, np, body);
		cg_printf(cg, "%s}\n", np ? "" : "\t(void)y0;\n");
		return 0;
	}
	cg_printf(cg, "\tfor (int p = 0; p < %" PRId64 "; p++) {\n", np);
	cg_printf(cg, "\t\tconst %s *xp = x0 + p * %" PRId64 ";\n", T, ip);
	const char *upd = is_max ? "acc[j] = xp[i + j] > acc[j] ? xp[i + j] : acc[j];" : "acc[j] += xp[i + j];";
	int64_t main = ip / 8 * 8;
	cg_printf(cg, "\t\t%s r;\n", T);
	if (main >= 16) {
		cg_printf(cg, "\t\t%s acc[8];\n\t\tfor (int j = 0; j < 8; j++)\n\t\t\tacc[j] = %s;\n", T, init);
		cg_printf(cg, "\t\tfor (int i = 0; i < %" PRId64 "; i += 8)\n", main);
		cg_printf(cg, "\t\t\tfor (int j = 0; j < 8; j++)\n\t\t\t\t%s\n", upd);
		if (is_max) {
			cg_printf(cg, "\t\tr = acc[0];\n\t\tfor (int j = 1; j < 8; j++)\n\t\t\tr = acc[j] > r ? acc[j] : r;\n");
		} else {
			cg_printf(cg, "\t\tr = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + "
				      "(acc[6] + acc[7]));\n");
		}
	} else {
		main = 0;
		cg_printf(cg, "\t\tr = %s;\n", init);
	}
	if (main < ip) {
		cg_printf(cg, "\t\tfor (int i = %" PRId64 "; i < %" PRId64 "; i++)\n", main, ip);
		cg_printf(cg, "\t\t\t%s\n", is_max ? "r = xp[i] > r ? xp[i] : r;" : "r += xp[i];");
	}
	if (is_max)
		cg_printf(cg, "\t\ty0[p] = r;\n\t}\n}\n");
	else
		cg_printf(cg, "\t\ty0[p] = r / %s;\n\t}\n}\n", cg_literal(t, (double)ip, lit, sizeof lit));
	return 0;
}

/* Per-dim window tables. */
typedef struct pool_dim {
	int64_t in, out, k, s, d, lo, hi;
	int64_t *kb, *ke, *cnt; /* per output index: taps [kb, ke) inside X; divisor */
	int whole;              /* every window has all K taps inside X */
	int uniform;            /* cnt is the same for every output index */
} pool_dim;

/* Geometry and tables of every spatial dim; *empty tells whether some
 * window has no tap inside X. */
static int pool_plan(cgen *cg, ir_node *n, const conv_win *w, int nsp, int incl, pool_dim *pd, int *empty)
{
	const ir_value *x = n->in[0], *y = n->out[0];
	*empty = 0;
	for (int d = 0; d < nsp; d++) {
		pool_dim *q = &pd[d];
		q->in = x->shape.d[d + 2].v;
		q->k = w->kernel[d];
		q->s = w->stride[d];
		q->d = w->dil[d];
		if (conv_win_dim(cg->g, n, w, d, q->in, &q->out, &q->lo, &q->hi))
			return -1;
		IR_ASSERT(q->out == y->shape.d[d + 2].v);
		q->kb = calloc((size_t)q->out + 1, sizeof *q->kb);
		q->ke = calloc((size_t)q->out + 1, sizeof *q->ke);
		q->cnt = calloc((size_t)q->out + 1, sizeof *q->cnt);
		if (!q->kb || !q->ke || !q->cnt)
			return ir_error(cg->g, n, "out of memory");
		q->whole = q->uniform = 1;
		for (int64_t o = 0; o < q->out; o++) {
			int64_t kb = q->k, ke = 0, padded = 0;
			for (int64_t k = 0; k < q->k; k++) {
				int64_t i = o * q->s + k * q->d - q->lo;
				if (i >= 0 && i < q->in) {
					kb = k < kb ? k : kb;
					ke = k + 1;
				}
				/* the end pad counts, the extension of ceil_mode does not */
				padded += i < q->in + q->hi;
			}
			if (ke <= kb) {
				kb = ke = 0;
				*empty = 1;
			}
			q->kb[o] = kb;
			q->ke[o] = ke;
			q->cnt[o] = incl ? padded : ke - kb;
			q->whole &= kb == 0 && ke == q->k;
			q->uniform &= q->cnt[o] == q->cnt[0];
		}
	}
	return 0;
}

/* The body: per plane and output position, the taps of the window. */
static void emit_windows(cgen *cg, ir_node *n, const pool_dim *pd, int nsp, int empty, int64_t order)
{
	const ir_value *x = n->in[0];
	int is_max = n->op == IR_OP_MaxPool, with_idx = n->nout > 1 && n->out[1];
	ir_dtype t = x->dtype;
	const char *T = ir_dtype_c_type(t);
	int64_t ip = 1, op = 1, np = x->shape.d[0].v * x->shape.d[1].v;
	char fn[32], lit[64], ind[64] = "\t\t", ix[512] = "", yx[512] = "", ii[512] = "";
	size_t lx = 0, ly = 0, li = 0;
	cg_fn_name(n, fn, sizeof fn);
	for (int d = 0; d < nsp; d++) {
		ip *= pd[d].in;
		op *= pd[d].out;
	}
	cg_printf(cg, "\tfor (int p = 0; p < %" PRId64 "; p++) {\n", np);
	cg_printf(cg, "\t\tconst %s *xp = x0 + p * %" PRId64 ";\n", T, ip);
	for (int d = 0; d < nsp; d++) {
		cg_printf(cg, "%sfor (int o%d = 0; o%d < %" PRId64 "; o%d++) {\n", ind, d, d, pd[d].out, d);
		strcat(ind, "\t");
	}
	cg_printf(cg, "%s%s acc = %s;\n", ind, T, is_max ? lowest(t, lit, sizeof lit) : cg_literal(t, 0, lit, sizeof lit));
	if (with_idx)
		cg_printf(cg, "%sint at = -1;\n", ind);
	for (int d = 0; d < nsp; d++) {
		int64_t rs = 1, cs = 1, os = 1;
		for (int e = d + 1; e < nsp; e++) {
			rs *= pd[e].in;
			os *= pd[e].out;
		}
		for (int e = 0; e < d; e++)
			cs *= pd[e].in;
		if (pd[d].whole)
			cg_printf(cg, "%sfor (int k%d = 0; k%d < %" PRId64 "; k%d++) {\n", ind, d, d, pd[d].k, d);
		else
			cg_printf(cg, "%sfor (int k%d = %s_kb%d[o%d]; k%d < %s_ke%d[o%d]; k%d++) {\n", ind, d, fn, d, d, d,
				  fn, d, d, d);
		strcat(ind, "\t");
		char ov[16], kv[16], iv[16], e[128];
		snprintf(ov, sizeof ov, "o%d", d);
		snprintf(kv, sizeof kv, "k%d", d);
		snprintf(iv, sizeof iv, "i%d", d);
		cg_affine(e, sizeof e, ov, pd[d].s, kv, pd[d].d, -pd[d].lo);
		cg_printf(cg, "%sconst int i%d = %s;\n", ind, d, e);
		add_term(ix, sizeof ix, &lx, iv, rs);
		add_term(ii, sizeof ii, &li, iv, order ? cs : rs);
		add_term(yx, sizeof yx, &ly, ov, os);
	}
	cg_printf(cg, "%sconst %s v = xp[%s];\n", ind, T, ix);
	if (!is_max)
		cg_printf(cg, "%sacc += v;\n", ind);
	else if (with_idx)
		cg_printf(cg, "%sif (v > acc || at < 0) {\n%s\tacc = v;\n%s\tat = %s;\n%s}\n", ind, ind, ind, ii, ind);
	else
		cg_printf(cg, "%sif (v > acc)\n%s\tacc = v;\n", ind, ind);
	for (int d = nsp - 1; d >= 0; d--) {
		ind[strlen(ind) - 1] = 0;
		cg_printf(cg, "%s}\n", ind);
	}
	if (is_max && empty && ir_dtype_is_float(t)) {
		/* acc started at -inf (kept by windows of -inf); an empty window
		 * gives the lowest finite value */
		char cond[512] = "";
		size_t lc = 0;
		for (int d = 0; d < nsp; d++)
			if (!pd[d].whole)
				lc += (size_t)snprintf(cond + lc, sizeof cond - lc, "%s%s_kb%d[o%d] < %s_ke%d[o%d]",
						       lc ? " && " : "", fn, d, d, fn, d, d);
		cg_printf(cg, "%sy0[p * %" PRId64 " + %s] = %s ? acc : %s;\n", ind, op, yx, cond,
			  cg_literal(t, t == IR_F32 ? -FLT_MAX : -DBL_MAX, lit, sizeof lit));
	} else if (is_max) {
		cg_printf(cg, "%sy0[p * %" PRId64 " + %s] = acc;\n", ind, op, yx);
	} else {
		/* the mean (a division, as the interpreter does): the divisor is a
		 * product of per-dim counts, constant factors folded */
		char div[512] = "";
		size_t ldv = 0;
		int64_t cconst = 1;
		for (int d = 0; d < nsp; d++) {
			if (pd[d].uniform)
				cconst *= pd[d].out ? pd[d].cnt[0] : 1;
			else
				ldv += (size_t)snprintf(div + ldv, sizeof div - ldv, "%s%s_n%d[o%d]", ldv ? " * " : "", fn,
							d, d);
		}
		cg_literal(t, (double)cconst, lit, sizeof lit);
		if (!ldv)
			cg_printf(cg, "%sy0[p * %" PRId64 " + %s] = acc / %s;\n", ind, op, yx, lit);
		else
			cg_printf(cg, "%sy0[p * %" PRId64 " + %s] = acc / (%s%s(%s)(%s));\n", ind, op, yx,
				  cconst == 1 ? "" : lit, cconst == 1 ? "" : " * ", T, div);
	}
	if (with_idx)
		cg_printf(cg, "%sy1[p * %" PRId64 " + %s] = %s(int64_t)(p * %" PRId64 " + at);\n", ind, op, yx,
			  empty ? "at < 0 ? -1 : " : "", ip);
	for (int d = nsp - 1; d >= 0; d--) {
		ind[strlen(ind) - 1] = 0;
		cg_printf(cg, "%s}\n", ind);
	}
	cg_printf(cg, "\t}\n");
}

int cgen_pool(cgen *cg, ir_node *n)
{
	if (cg_fits_int(cg, n))
		return -1;
	if (n->op == IR_OP_GlobalAveragePool || n->op == IR_OP_GlobalMaxPool)
		return emit_global(cg, n);
	const ir_value *x = n->in[0];
	int is_max = n->op == IR_OP_MaxPool, nsp = x->shape.rank - 2;
	int64_t incl = is_max ? 0 : ir_attr_int(n, "count_include_pad", 0);
	int64_t order = is_max ? ir_attr_int(n, "storage_order", 0) : 0;
	conv_win w;
	if (conv_win_parse(cg->g, n, &w, nsp, 1))
		return -1;
	if (!w.has_kernel)
		return ir_error(cg->g, n, "attribute kernel_shape is required");
	if (order != 0 && order != 1)
		return ir_error(cg->g, n, "storage_order must be 0 or 1, got %" PRId64, order);
	pool_dim pd[IR_MAX_RANK];
	int empty;
	memset(pd, 0, sizeof pd);
	int rc = pool_plan(cg, n, &w, nsp, incl != 0, pd, &empty);
	if (!rc && cg_numel(n->out[0]) > 0) {
		char fn[32], name[64];
		cg_fn_name(n, fn, sizeof fn);
		for (int d = 0; d < nsp; d++) {
			if (!pd[d].whole) {
				snprintf(name, sizeof name, "%s_kb%d", fn, d);
				int_table(cg, name, pd[d].kb, pd[d].out);
				snprintf(name, sizeof name, "%s_ke%d", fn, d);
				int_table(cg, name, pd[d].ke, pd[d].out);
			}
			if (!is_max && !pd[d].uniform) {
				snprintf(name, sizeof name, "%s_n%d", fn, d);
				int_table(cg, name, pd[d].cnt, pd[d].out);
			}
		}
		cg_begin_fn(cg, n);
		emit_windows(cg, n, pd, nsp, empty, order);
		cg_printf(cg, "}\n");
	} else if (!rc) {
		cg_begin_fn(cg, n);
		cg_printf(cg, "\t(void)x0;\n\t(void)y0;\n%s}\n", n->nout > 1 && n->out[1] ? "\t(void)y1;\n" : "");
	}
	for (int d = 0; d < nsp; d++) {
		free(pd[d].kb);
		free(pd[d].ke);
		free(pd[d].cnt);
	}
	return rc;
}
