/* cgen_util.c - helpers the C backend's family emitters share: code-text
 * pieces (indentation, affine index terms, vectoriser-friendly loop
 * splits), integer-type facts and conversions as C source, and the loop-nest
 * printer over strided operands. Declared in cgen_internal.h.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "ops.h"

/* --------------------------------------------------------- code text */

void cg_tabs(cgen *cg, int n)
{
	static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
	cg_printf(cg, "%.*s", n < (int)sizeof tabs - 1 ? n : (int)sizeof tabs - 1, tabs);
}

void cg_void_params(cgen *cg, const ir_node *n)
{
	for (int i = 0; i < n->nin; i++)
		if (n->in[i])
			cg_printf(cg, "\t(void)x%d;\n", i);
	for (int j = 0; j < n->nout; j++)
		if (n->out[j])
			cg_printf(cg, "\t(void)y%d;\n", j);
}

void cg_affine(char *buf, size_t len, const char *v, int64_t s, const char *k, int64_t d, int64_t off)
{
	size_t n = 0;
	if (s == 1)
		n += (size_t)snprintf(buf + n, len - n, "%s", v);
	else
		n += (size_t)snprintf(buf + n, len - n, "%s * %" PRId64, v, s);
	if (k && d == 1)
		n += (size_t)snprintf(buf + n, len - n, " + %s", k);
	else if (k)
		n += (size_t)snprintf(buf + n, len - n, " + %s * %" PRId64, k, d);
	if (off > 0)
		snprintf(buf + n, len - n, " + %" PRId64, off);
	else if (off < 0)
		snprintf(buf + n, len - n, " - %" PRId64, -off);
}

/* gcc -O3 otherwise unrolls short constant loops completely first (or
 * vectorises the enclosing loop instead), leaving scalar code several
 * times slower than -O2's. The vectorised loop is still unrolled
 * afterwards. Known to gcc >= 8 and clang. */
void cg_keep_loop(cgen *cg, const char *ind)
{
	cg_printf(cg, "%s#pragma GCC unroll 1\n", ind);
}

/* Trip counts that 8 and 4 divide keep gcc -O2 vectorising with 4- or
 * 8-lane vectors alike; at most 3 iterations stay scalar. */
void cg_for_split(cgen *cg, const char *ind, const char *var, int64_t lo, int64_t hi, const char *body)
{
	int64_t cut[4] = {lo, lo + (hi - lo) / 8 * 8, lo + (hi - lo) / 4 * 4, hi};
	for (int i = 0; i < 3; i++) {
		if (cut[i + 1] <= cut[i])
			continue;
		if (i < 2)
			cg_keep_loop(cg, ind);
		cg_printf(cg, "%sfor (int %s = %" PRId64 "; %s < %" PRId64 "; %s++)\n%s\t%s\n", ind, var, cut[i], var,
			  cut[i + 1], var, ind, body);
	}
}

/* ---------------------------------------------------- integer types */

int cg_fits_int(cgen *cg, ir_node *n)
{
	for (int i = 0; i < n->nin + n->nout; i++) {
		const ir_value *v = i < n->nin ? n->in[i] : n->out[i - n->nin];
		if (v && cg_numel(v) > INT_MAX)
			return ir_error(cg->g, n, "value '%s' has %" PRId64 " elements; the C backend "
					"indexes with int (at most %d)", v->name, cg_numel(v), INT_MAX);
	}
	return 0;
}

const char *cg_wide_unsigned(ir_dtype t)
{
	return t == IR_I64 || t == IR_U64 ? "uint64_t" : "uint32_t";
}

void cg_int_limits(ir_dtype t, const char **lo, const char **hi)
{
	switch (t) {
	case IR_BOOL: *lo = "0"; *hi = "1"; return;
	case IR_I8: *lo = "INT8_MIN"; *hi = "INT8_MAX"; return;
	case IR_I16: *lo = "INT16_MIN"; *hi = "INT16_MAX"; return;
	case IR_I32: *lo = "INT32_MIN"; *hi = "INT32_MAX"; return;
	case IR_I64: *lo = "INT64_MIN"; *hi = "INT64_MAX"; return;
	case IR_U8: *lo = "0"; *hi = "UINT8_MAX"; return;
	case IR_U16: *lo = "0"; *hi = "UINT16_MAX"; return;
	case IR_U32: *lo = "0"; *hi = "UINT32_MAX"; return;
	case IR_U64: *lo = "0"; *hi = "UINT64_MAX"; return;
	default: IR_UNREACHABLE();
	}
}

/* (double)MAX may round up to 2^N, which is why users test >= hi. */
void cg_int_range(ir_dtype t, double *lo, double *hi)
{
	int bits = (int)ir_dtype_size(t) * 8;
	if (ir_dtype_is_signed(t)) {
		*lo = -ldexp(1, bits - 1);
		*hi = ldexp(1, bits - 1) - 1;
	} else {
		*lo = 0;
		*hi = ldexp(1, bits) - 1;
	}
}

/* No out-of-range conversion is evaluated: C leaves it undefined. */
void cg_d2i_expr(char *buf, size_t len, ir_dtype t, const char *v)
{
	const char *T = ir_dtype_c_type(t), *lo, *hi;
	double dlo, dhi;
	char llo[64], lhi[64];
	cg_int_limits(t, &lo, &hi);
	cg_int_range(t, &dlo, &dhi);
	cg_literal(IR_F64, dlo, llo, sizeof llo);
	cg_literal(IR_F64, (double)dhi, lhi, sizeof lhi);
	snprintf(buf, len, "isnan(%s) ? (%s)0 : %s <= %s ? (%s)%s : %s >= %s ? (%s)%s : (%s)%s", v, T, v, llo, T,
		 lo, v, lhi, T, hi, T, v);
}

/* -------------------------------------------------------- loop nests */

void cg_bcast_strides(const ir_value *v, int rank, const int64_t *dims, int64_t *st)
{
	int64_t vd[IR_MAX_RANK], s = 1;
	int r = cg_dims(v, vd);
	IR_ASSERT(r <= rank);
	for (int d = rank - 1; d >= 0; d--) {
		int j = d - (rank - r);
		if (j < 0 || vd[j] == 1) {
			st[d] = 0;
			continue;
		}
		IR_ASSERT(vd[j] == dims[d]);
		st[d] = s;
		s *= vd[j];
	}
}

static void nest_term(char *buf, size_t len, size_t *k, const char *s)
{
	int w = snprintf(buf + *k, len - *k, "%s", s);
	IR_ASSERT(w >= 0 && (size_t)w < len - *k);
	*k += (size_t)w;
}

/* Dims merged by op_merge_dims (passes/ops.c): dense operands collapse to
 * one loop. */
int cg_nest_open(cgen *cg, int indent, const char *var, int rank, const int64_t *dims, int k,
		 const int64_t *st, const int64_t *off, const char *const *base, char *idx, size_t idxlen)
{
	int64_t md[2 * IR_MAX_RANK], ms[CG_NEST_MAXOPS * 2 * IR_MAX_RANK]; /* operand i at i * rank */
	IR_ASSERT(k <= CG_NEST_MAXOPS && rank <= 2 * IR_MAX_RANK);
	int r = op_merge_dims(rank, dims, k, st, rank, md, ms);
	if (r < 0)
		return 0;
	for (int l = 0; l < r; l++) {
		cg_tabs(cg, indent + l);
		cg_printf(cg, "for (int64_t %s%d = 0; %s%d < %" PRId64 "; %s%d++)%s\n", var, l, var, l, md[l],
			  var, l, l == r - 1 ? " {" : "");
	}
	if (r == 0) {
		cg_tabs(cg, indent);
		cg_printf(cg, "{\n");
	}
	for (int i = 0; i < k; i++) {
		char *b = idx + (size_t)i * idxlen, t[64];
		size_t len = 0;
		b[0] = 0;
		if (base && base[i])
			nest_term(b, idxlen, &len, base[i]);
		if (off[i]) {
			snprintf(t, sizeof t, "%s%" PRId64, len ? " + " : "", off[i]);
			nest_term(b, idxlen, &len, t);
		}
		for (int l = 0; l < r; l++) {
			int64_t s = ms[i * rank + l];
			if (!s)
				continue;
			const char *sign = s < 0 ? (len ? " - " : "0 - ") : (len ? " + " : "");
			int64_t a = s < 0 ? -s : s;
			if (a == 1)
				snprintf(t, sizeof t, "%s%s%d", sign, var, l);
			else
				snprintf(t, sizeof t, "%s%s%d * %" PRId64, sign, var, l, a);
			nest_term(b, idxlen, &len, t);
		}
		if (!len)
			nest_term(b, idxlen, &len, "0");
	}
	return indent + (r ? r : 1);
}

void cg_nest_close(cgen *cg, int body)
{
	cg_tabs(cg, body - 1);
	cg_printf(cg, "}\n");
}
