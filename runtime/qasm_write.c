/* qasm_write.c - a parsed program written back as flat OpenQASM 3: one
 * qubit and one bit register, stdgates.inc names (cx, ccx, cu, ...) where
 * an operation has one, `ctrl @` / `negctrl @` / `inv @` for the rest,
 * angles as fully parenthesised expressions with %.17g numbers (exact
 * round trip). Used to inspect expansions, to hand a flat program to an
 * executor that cannot read gate definitions, and by the round-trip
 * tests. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qnnrt_impl.h"

typedef struct wbuf {
	char *buf;
	size_t len, pos; /* pos counts everything, written or not */
} wbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(wbuf *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *dst = w->pos < w->len ? w->buf + w->pos : NULL;
	int k = vsnprintf(dst, dst ? w->len - w->pos : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		w->pos += (size_t)k;
}

static void put_num(wbuf *w, double v)
{
	put(w, v < 0 || (v == 0 && 1 / v < 0) ? "(%.17g)" : "%.17g", v);
}

static void put_expr(wbuf *w, const qnn_program *p, const qx *e, const double *in)
{
	static const char *const ops[] = {[QX_ADD] = "+", [QX_SUB] = "-", [QX_MUL] = "*",
					  [QX_DIV] = "/", [QX_POW] = "**", [QX_MOD] = "%"};
	switch (e->op) {
	case QX_NUM:
		put_num(w, e->v);
		break;
	case QX_INPUT:
		if (in)
			put_num(w, in[e->idx]);
		else
			put(w, "%s", p->input_names[e->idx]);
		break;
	case QX_FN:
		put(w, "%s(", qx_fn_names[e->fn]);
		put_expr(w, p, e->a, in);
		put(w, ")");
		break;
	case QX_NEG:
		put(w, "-(");
		put_expr(w, p, e->a, in);
		put(w, ")");
		break;
	case QX_PARAM:
		put(w, "?"); /* never left after expansion */
		break;
	default:
		put(w, "(");
		put_expr(w, p, e->a, in);
		put(w, " %s ", ops[e->op]);
		put_expr(w, p, e->b, in);
		put(w, ")");
		break;
	}
}

/* stdgates.inc name of base gate kind with m (positive) controls, or NULL. */
static const char *std_name(int kind, int m)
{
	static const struct {
		int kind, m;
		const char *name;
	} t[] = {{QG_X, 1, "cx"},   {QG_X, 2, "ccx"},  {QG_Y, 1, "cy"},       {QG_Z, 1, "cz"},
		 {QG_H, 1, "ch"},   {QG_P, 1, "cp"},   {QG_RX, 1, "crx"},     {QG_RY, 1, "cry"},
		 {QG_RZ, 1, "crz"}, {QG_UG, 1, "cu"},  {QG_SWAP, 1, "cswap"}};
	if (m == 0)
		return kind == QG_UG ? NULL : qg_infos[kind].name;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].kind == kind && t[i].m == m)
			return t[i].name;
	return NULL;
}

static void put_op(wbuf *w, const qnn_program *p, const qop *o, const double *in)
{
	const int *qs = p->qubits + o->q;
	if (o->kind == QG_MEASURE) {
		if (o->cbit >= 0)
			put(w, "c[%d] = measure q[%d];\n", o->cbit, qs[0]);
		else
			put(w, "measure q[%d];\n", qs[0]);
		return;
	}
	if (o->kind == QG_RESET) {
		put(w, "reset q[%d];\n", qs[0]);
		return;
	}
	/* the name absorbs the last m controls when they are positive */
	int m = 0;
	const char *name = NULL;
	for (int k = 0; k <= o->nc && k <= 2; k++) {
		if (k > 0 && (o->negc >> (o->nc - k) & 1))
			break;
		const char *s = std_name(o->kind, k);
		if (s)
			m = k, name = s;
	}
	if (!name) /* unreachable: cu keeps its own positive control */
		name = qg_infos[o->kind].name;
	if (o->adj)
		put(w, "inv @ ");
	for (int i = 0; i < o->nc - m;) {
		int neg = (int)(o->negc >> i & 1), run = 1;
		while (i + run < o->nc - m && (int)(o->negc >> (i + run) & 1) == neg)
			run++;
		put(w, run > 1 ? "%s(%d) @ " : "%s @ ", neg ? "negctrl" : "ctrl", run);
		i += run;
	}
	put(w, "%s", name);
	int np = qg_infos[o->kind].nparams;
	if (np) {
		put(w, "(");
		for (int i = 0; i < np; i++) {
			const qpar *pp = &p->pars[o->par + i];
			if (i)
				put(w, ", ");
			if (pp->e)
				put_expr(w, p, pp->e, in);
			else
				put_num(w, pp->v);
		}
		put(w, ")");
	}
	for (int i = 0; i < o->nc + o->nt; i++)
		put(w, "%sq[%d]", i ? ", " : " ", qs[i]);
	put(w, ";\n");
}

long qnn_program_write(const qnn_program *p, const double *inputs, int ninputs, char *buf, size_t len)
{
	if (!p || (len && !buf))
		return QNN_EARG;
	if (inputs && ninputs != p->ninputs)
		return QNN_EINPUT;
	wbuf w = {buf, len, 0};
	if (len)
		buf[0] = 0;
	put(&w, "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n");
	for (int i = 0; !inputs && i < p->ninputs; i++)
		put(&w, "input float[64] %s;\n", p->input_names[i]);
	if (p->nqubits)
		put(&w, "qubit[%d] q;\n", p->nqubits);
	if (p->nbits)
		put(&w, "bit[%d] c;\n", p->nbits);
	for (long i = 0; i < p->nops; i++)
		put_op(&w, p, &p->ops[i], inputs);
	return (long)w.pos;
}
