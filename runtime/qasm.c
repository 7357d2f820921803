/* qasm.c - the meaning of OpenQASM 3 statements: what the grammar's
 * actions call. Declarations go into one symbol table; gate definitions
 * are kept as bodies of calls on formal qubits; every top-level gate call
 * is broadcast over registers and expanded at once, through the gate
 * definitions and the modifiers, into the flat list of base-gate
 * operations of the program (qnnrt_impl.h). Angles are expressions folded
 * as they are built, so only input-dependent ones are evaluated per run.
 *
 * Modifiers compose: controls accumulate (leftmost first), inv flips the
 * direction, pow(k) with an integer k repeats |k| times (inverted when
 * k < 0). A gate body under inv runs backwards with every operation
 * inverted; under ctrl, a gphase in it becomes a phase on the controls.
 *
 * Also here: the arena, the base-gate table and its matrices, and the
 * program accessors. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qasm.h"

#define QX_MAX_SIZE 2000       /* nodes in one expression tree */
#define QASM_MAX_OPS (1L << 22)
#define QASM_MAX_QUBITS (1 << 20)
#define QASM_MAX_REP 1000000   /* pow(k) @ */
#define QASM_MAX_DEPTH 200     /* gate definitions calling each other */
#define QASM_MAX_FORMALS 64
#define QSYM_BUCKETS 4096

/* ------------------------------------------------------------ arena */

typedef struct qrt_block {
	struct qrt_block *next;
	size_t used, cap;
	max_align_t data[]; /* used as bytes */
} qrt_block;

struct qrt_arena {
	qrt_block *head;
};

qrt_arena *qrt_arena_new(void) { return calloc(1, sizeof(qrt_arena)); }

void qrt_arena_free(qrt_arena *a)
{
	if (!a)
		return;
	for (qrt_block *b = a->head, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

void *qrt_alloc(qrt_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	qrt_block *b = a->head;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > 60000 ? size : 60000;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = (unsigned char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *qrt_strndup(qrt_arena *a, const char *s, size_t n)
{
	char *d = qrt_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

int qrt_grow(void **p, long *cap, long need, size_t elem)
{
	if (need <= *cap)
		return 0;
	long c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, (size_t)c * elem);
	if (!q)
		return QNN_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int qrt_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *qnn_strerror(int code)
{
	switch (code) {
	case QNN_OK: return "ok";
	case QNN_EPARSE: return "invalid program";
	case QNN_EINPUT: return "bad input values";
	case QNN_ENOMEM: return "out of memory";
	case QNN_ERANGE: return "out of range";
	case QNN_EUNSUPPORTED: return "not supported";
	case QNN_EARG: return "bad argument";
	case QNN_EEXEC: return "executor failed";
	default: return "unknown error";
	}
}

/* ------------------------------------------------------------ errors */

int qrd_error(qrd_state *st, qrd_loc loc, const char *fmt, ...)
{
	if (st->failed)
		return -1;
	st->failed = 1;
	int k = snprintf(st->msg, sizeof st->msg, "%s:%d:%d: ", st->source, loc.line, loc.col);
	if (k >= 0 && (size_t)k < sizeof st->msg) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(st->msg + k, sizeof st->msg - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void *qrd_alloc(qrd_state *st, size_t n)
{
	void *p = qrt_alloc(st->a, n);
	if (!p)
		qrd_error(st, (qrd_loc){st->line, st->col}, "out of memory");
	return p;
}

char *qrd_strdup(qrd_state *st, const char *s, size_t n)
{
	char *d = qrt_strndup(st->a, s, n);
	if (!d)
		qrd_error(st, (qrd_loc){st->line, st->col}, "out of memory");
	return d;
}

static int grow(qrd_state *st, void **p, long *cap, long need, size_t elem)
{
	if (qrt_grow(p, cap, need, elem))
		return qrd_error(st, (qrd_loc){st->line, st->col}, "out of memory");
	return 0;
}

/* The grammar builds lists by prepending: put them back in source order. */
#define DEFINE_REVERSE(name, T)                  \
	static T *name(T *l)                     \
	{                                        \
		T *r = NULL;                     \
		while (l) {                      \
			T *n = l->next;          \
			l->next = r;             \
			r = l;                   \
			l = n;                   \
		}                                \
		return r;                        \
	}
DEFINE_REVERSE(xl_reverse, qrd_xlist)
DEFINE_REVERSE(id_reverse, qrd_id)
DEFINE_REVERSE(arg_reverse, qrd_arg)
DEFINE_REVERSE(mod_reverse, qrd_mod)

/* ------------------------------------------------------------ expressions */

const char *const qx_fn_names[QF_COUNT] = {"sin", "cos", "tan", "exp", "ln", "sqrt",
					   "arccos", "arcsin", "arctan", "floor", "ceiling"};

static double fn_apply(int fn, double x)
{
	switch (fn) {
	case QF_SIN: return sin(x);
	case QF_COS: return cos(x);
	case QF_TAN: return tan(x);
	case QF_EXP: return exp(x);
	case QF_LN: return log(x);
	case QF_SQRT: return sqrt(x);
	case QF_ACOS: return acos(x);
	case QF_ASIN: return asin(x);
	case QF_ATAN: return atan(x);
	case QF_FLOOR: return floor(x);
	default: return ceil(x);
	}
}

static double op_apply(int op, double a, double b)
{
	switch (op) {
	case QX_NEG: return -a;
	case QX_ADD: return a + b;
	case QX_SUB: return a - b;
	case QX_MUL: return a * b;
	case QX_DIV: return a / b;
	case QX_POW: return pow(a, b);
	default: return fmod(a, b);
	}
}

double qx_eval(const qx *e, const double *in)
{
	switch (e->op) {
	case QX_NUM: return e->v;
	case QX_INPUT: return in[e->idx];
	case QX_PARAM: return NAN; /* never left after expansion */
	case QX_FN: return fn_apply(e->fn, qx_eval(e->a, in));
	case QX_NEG: return -qx_eval(e->a, in);
	default: return op_apply(e->op, qx_eval(e->a, in), qx_eval(e->b, in));
	}
}

static qx *qx_new(qrd_state *st, int op, const qx *a, const qx *b, qrd_loc loc)
{
	long size = 1 + (a ? a->size : 0) + (b ? b->size : 0);
	if (size > QX_MAX_SIZE) {
		qrd_error(st, loc, "expression too large (more than %d terms)", QX_MAX_SIZE);
		return NULL;
	}
	qx *e = qrd_alloc(st, sizeof *e);
	if (!e)
		return NULL;
	e->op = (uint8_t)op;
	e->a = a;
	e->b = b;
	e->size = (int)size;
	e->has_input = (a && a->has_input) || (b && b->has_input);
	e->has_param = (a && a->has_param) || (b && b->has_param);
	return e;
}

const qx *qrd_num(qrd_state *st, double v, qrd_loc loc)
{
	if (!isfinite(v)) {
		qrd_error(st, loc, "the value of this expression is not finite");
		return NULL;
	}
	qx *e = qx_new(st, QX_NUM, NULL, NULL, loc);
	if (e)
		e->v = v;
	return e;
}

const qx *qrd_unary(qrd_state *st, int op, const qx *a, qrd_loc loc)
{
	if (a->op == QX_NUM)
		return qrd_num(st, -a->v, loc);
	return qx_new(st, op, a, NULL, loc);
}

const qx *qrd_binary(qrd_state *st, int op, const qx *a, const qx *b, qrd_loc loc)
{
	if (a->op == QX_NUM && b->op == QX_NUM)
		return qrd_num(st, op_apply(op, a->v, b->v), loc);
	return qx_new(st, op, a, b, loc);
}

static const qx *mk_fn(qrd_state *st, int fn, const qx *a, qrd_loc loc)
{
	if (a->op == QX_NUM)
		return qrd_num(st, fn_apply(fn, a->v), loc);
	qx *e = qx_new(st, QX_FN, a, NULL, loc);
	if (e)
		e->fn = (uint8_t)fn;
	return e;
}

const qx *qrd_func(qrd_state *st, const char *name, qrd_xlist *args, qrd_loc loc)
{
	args = xl_reverse(args);
	int n = 0;
	for (qrd_xlist *l = args; l; l = l->next)
		n++;
	int fn = -1, binop = -1;
	for (int i = 0; i < QF_COUNT; i++)
		if (!strcmp(name, qx_fn_names[i]))
			fn = i;
	if (!strcmp(name, "log"))
		fn = QF_LN;
	if (!strcmp(name, "pow"))
		binop = QX_POW;
	if (!strcmp(name, "mod"))
		binop = QX_MOD;
	if (fn < 0 && binop < 0) {
		qrd_error(st, loc, "unknown function '%s'", name);
		return NULL;
	}
	int want = fn >= 0 ? 1 : 2;
	if (n != want) {
		qrd_error(st, loc, "function '%s' takes %d argument%s, got %d", name, want,
			   want == 1 ? "" : "s", n);
		return NULL;
	}
	if (fn >= 0)
		return mk_fn(st, fn, args->e, loc);
	return qrd_binary(st, binop, args->e, args->next->e, loc);
}

/* e with gate parameters replaced by args (folding again). */
static const qx *subst(qrd_state *st, const qx *e, const qx *const *args, qrd_loc loc)
{
	if (!e->has_param)
		return e;
	if (e->op == QX_PARAM)
		return args[e->idx];
	const qx *a = subst(st, e->a, args, loc);
	if (!a)
		return NULL;
	if (e->op == QX_FN)
		return mk_fn(st, e->fn, a, loc);
	if (e->op == QX_NEG)
		return qrd_unary(st, QX_NEG, a, loc);
	const qx *b = subst(st, e->b, args, loc);
	return b ? qrd_binary(st, e->op, a, b, loc) : NULL;
}

/* A constant integer (register size, index, ctrl count, pow exponent). */
static int const_int(qrd_state *st, const qx *e, qrd_loc loc, const char *what, long lo, long hi,
		     long *out)
{
	if (e->op != QX_NUM)
		return qrd_error(st, loc, "%s must be a constant", what);
	if (e->v != floor(e->v))
		return qrd_error(st, loc, "%s must be an integer, got %.17g", what, e->v);
	if (e->v < (double)lo || e->v > (double)hi)
		return qrd_error(st, loc, "%s %.17g is out of range [%ld, %ld]", what, e->v, lo, hi);
	*out = (long)e->v;
	return 0;
}

/* ------------------------------------------------------------ base gates */

const qg_info qg_infos[QG_NBASE] = {
	[QG_GPHASE] = {"gphase", 1, 0, 0}, [QG_U] = {"U", 3, 1, 0},
	[QG_UG] = {"cu", 4, 1, 0},         [QG_U2] = {"u2", 2, 1, 0},
	[QG_U3] = {"u3", 3, 1, 0},         [QG_ID] = {"id", 0, 1, 1},
	[QG_X] = {"x", 0, 1, 1},           [QG_Y] = {"y", 0, 1, 0},
	[QG_Z] = {"z", 0, 1, 1},           [QG_H] = {"h", 0, 1, 1},
	[QG_S] = {"s", 0, 1, 0},           [QG_SDG] = {"sdg", 0, 1, 0},
	[QG_T] = {"t", 0, 1, 0},           [QG_TDG] = {"tdg", 0, 1, 0},
	[QG_SX] = {"sx", 0, 1, 0},         [QG_RX] = {"rx", 1, 1, 0},
	[QG_RY] = {"ry", 1, 1, 1},         [QG_RZ] = {"rz", 1, 1, 0},
	[QG_P] = {"p", 1, 1, 0},           [QG_SWAP] = {"swap", 0, 2, 1},
};

static void cis(double x, double *re, double *im)
{
	*re = cos(x);
	*im = sin(x);
}

/* U(t, f, l) times e^{i g}. */
static void u_matrix(double t, double f, double l, double g, double *re, double *im)
{
	double c = cos(t / 2), s = sin(t / 2), zr, zi;
	cis(g, &zr, &zi);
	double e[4][2] = {{1, 0}, {0, 0}, {0, 0}, {0, 0}};
	cis(l, &e[1][0], &e[1][1]);
	cis(f, &e[2][0], &e[2][1]);
	cis(f + l, &e[3][0], &e[3][1]);
	double mag[4] = {c, -s, s, c};
	for (int i = 0; i < 4; i++) {
		double r = mag[i] * e[i][0], m = mag[i] * e[i][1];
		re[i] = zr * r - zi * m;
		im[i] = zr * m + zi * r;
	}
}

int qg_matrix(int kind, const double *p, int adj, double *re, double *im)
{
	int D = 1 << qg_infos[kind].ntargets;
	memset(re, 0, (size_t)D * D * sizeof *re);
	memset(im, 0, (size_t)D * D * sizeof *im);
	const double h = QRT_SQRT1_2;
	switch (kind) {
	case QG_GPHASE: cis(p[0], &re[0], &im[0]); break;
	case QG_U: u_matrix(p[0], p[1], p[2], 0, re, im); break;
	case QG_UG: u_matrix(p[0], p[1], p[2], p[3], re, im); break;
	case QG_U2: u_matrix(QRT_PI / 2, p[0], p[1], -(p[0] + p[1]) / 2, re, im); break;
	case QG_U3: u_matrix(p[0], p[1], p[2], -(p[1] + p[2]) / 2, re, im); break;
	case QG_ID: re[0] = re[3] = 1; break;
	case QG_X: re[1] = re[2] = 1; break;
	case QG_Y: im[1] = -1, im[2] = 1; break;
	case QG_Z: re[0] = 1, re[3] = -1; break;
	case QG_H: re[0] = re[1] = re[2] = h, re[3] = -h; break;
	case QG_S: re[0] = 1, im[3] = 1; break;
	case QG_SDG: re[0] = 1, im[3] = -1; break;
	case QG_T: re[0] = 1, re[3] = h, im[3] = h; break;
	case QG_TDG: re[0] = 1, re[3] = h, im[3] = -h; break;
	case QG_SX:
		re[0] = re[1] = re[2] = re[3] = 0.5;
		im[0] = im[3] = 0.5, im[1] = im[2] = -0.5;
		break;
	case QG_RX: re[0] = re[3] = cos(p[0] / 2), im[1] = im[2] = -sin(p[0] / 2); break;
	case QG_RY:
		re[0] = re[3] = cos(p[0] / 2);
		re[1] = -sin(p[0] / 2), re[2] = sin(p[0] / 2);
		break;
	case QG_RZ:
		cis(-p[0] / 2, &re[0], &im[0]);
		cis(p[0] / 2, &re[3], &im[3]);
		break;
	case QG_P: re[0] = 1, cis(p[0], &re[3], &im[3]); break;
	case QG_SWAP: re[0] = re[6] = re[9] = re[15] = 1; break;
	default: break;
	}
	if (adj) {
		for (int i = 0; i < D; i++) {
			im[i * D + i] = -im[i * D + i];
			for (int j = i + 1; j < D; j++) {
				double r = re[i * D + j], m = im[i * D + j];
				re[i * D + j] = re[j * D + i], im[i * D + j] = -im[j * D + i];
				re[j * D + i] = r, im[j * D + i] = -m;
			}
		}
	}
	for (int i = 0; i < D * D; i++)
		if (im[i] != 0)
			return 0;
	return 1;
}

/* A gate as the reader knows it: a base gate with built-in controls, or
 * a definition (kind < 0) whose body calls other gates on its formals. */
typedef struct qgate {
	const char *name;
	int kind;
	int nbctrl;        /* controls in the name: cx has 1 */
	int nparams, nqubits;
	int std;           /* 0 always known, 1 with stdgates.inc, 2 also in OpenQASM 2 */
	const struct qcall *body;
	int nbody;
	long nops;         /* operations one call expands to (saturating) */
} qgate;

/* One call in a gate body: its qubits are formal indices (the first nc
 * are the controls added by its modifiers). */
typedef struct qcall {
	const qgate *g;
	int nc;
	uint64_t neg;
	int adj;
	long rep;
	const qx **params;
	int *qargs;
	int nq;
	qrd_loc loc;
} qcall;

/* name, base gate, controls in the name, parameters, qubits, availability */
static const qgate builtins[] = {
	{"U", QG_U, 0, 3, 1, 0, NULL, 0, 1},
	{"gphase", QG_GPHASE, 0, 1, 0, 0, NULL, 0, 1},
	{"CX", QG_X, 1, 0, 2, 2, NULL, 0, 1},
	{"p", QG_P, 0, 1, 1, 1, NULL, 0, 1},
	{"phase", QG_P, 0, 1, 1, 1, NULL, 0, 1},
	{"x", QG_X, 0, 0, 1, 1, NULL, 0, 1},
	{"y", QG_Y, 0, 0, 1, 1, NULL, 0, 1},
	{"z", QG_Z, 0, 0, 1, 1, NULL, 0, 1},
	{"h", QG_H, 0, 0, 1, 1, NULL, 0, 1},
	{"s", QG_S, 0, 0, 1, 1, NULL, 0, 1},
	{"sdg", QG_SDG, 0, 0, 1, 1, NULL, 0, 1},
	{"t", QG_T, 0, 0, 1, 1, NULL, 0, 1},
	{"tdg", QG_TDG, 0, 0, 1, 1, NULL, 0, 1},
	{"sx", QG_SX, 0, 0, 1, 1, NULL, 0, 1},
	{"rx", QG_RX, 0, 1, 1, 1, NULL, 0, 1},
	{"ry", QG_RY, 0, 1, 1, 1, NULL, 0, 1},
	{"rz", QG_RZ, 0, 1, 1, 1, NULL, 0, 1},
	{"cx", QG_X, 1, 0, 2, 1, NULL, 0, 1},
	{"cy", QG_Y, 1, 0, 2, 1, NULL, 0, 1},
	{"cz", QG_Z, 1, 0, 2, 1, NULL, 0, 1},
	{"cp", QG_P, 1, 1, 2, 1, NULL, 0, 1},
	{"cphase", QG_P, 1, 1, 2, 1, NULL, 0, 1},
	{"crx", QG_RX, 1, 1, 2, 1, NULL, 0, 1},
	{"cry", QG_RY, 1, 1, 2, 1, NULL, 0, 1},
	{"crz", QG_RZ, 1, 1, 2, 1, NULL, 0, 1},
	{"ch", QG_H, 1, 0, 2, 1, NULL, 0, 1},
	{"swap", QG_SWAP, 0, 0, 2, 1, NULL, 0, 1},
	{"ccx", QG_X, 2, 0, 3, 1, NULL, 0, 1},
	{"cswap", QG_SWAP, 1, 0, 3, 1, NULL, 0, 1},
	{"cu", QG_UG, 1, 4, 2, 1, NULL, 0, 1},
	{"id", QG_ID, 0, 0, 1, 1, NULL, 0, 1},
	{"u1", QG_P, 0, 1, 1, 1, NULL, 0, 1},
	{"u2", QG_U2, 0, 2, 1, 1, NULL, 0, 1},
	{"u3", QG_U3, 0, 3, 1, 1, NULL, 0, 1},
};
#define NBUILTINS ((int)(sizeof builtins / sizeof builtins[0]))

static const qgate *builtin(const char *name)
{
	for (int i = 0; i < NBUILTINS; i++)
		if (!strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

static int builtin_visible(const qrd_state *st, const qgate *g)
{
	return g->std == 0 || st->stdgates || (g->std == 2 && st->version == 2);
}

/* ------------------------------------------------------------ symbols */

enum { QS_QREG, QS_CREG, QS_INPUT, QS_CONST, QS_GATE };
static const char *const sym_kinds[] = {"a qubit register", "a bit register", "an input",
					"a constant", "a gate"};

typedef struct qsym {
	const char *name;
	int kind;
	qrd_loc loc;
	int off, size, scalar; /* registers */
	int idx;               /* inputs */
	const qx *val;         /* constants */
	const qgate *gate;
	struct qsym *next;
} qsym;

static unsigned hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static qsym *lookup(const qrd_state *st, const char *name)
{
	for (qsym *s = st->buckets[hash_str(name) % QSYM_BUCKETS]; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static const char *const constants[] = {"pi", "\xcf\x80", "tau", "\xcf\x84", "euler",
					"\xe2\x84\x87", NULL};
static const double constant_values[] = {QRT_PI, QRT_PI, 2 * QRT_PI, 2 * QRT_PI, QRT_E, QRT_E};

static qsym *declare(qrd_state *st, const char *name, int kind, qrd_loc loc)
{
	qsym *old = lookup(st, name);
	if (old) {
		qrd_error(st, loc, "'%s' is already declared (%s, at %d:%d)", name,
			   sym_kinds[old->kind], old->loc.line, old->loc.col);
		return NULL;
	}
	const qgate *b = builtin(name);
	if (b && builtin_visible(st, b)) {
		qrd_error(st, loc, "'%s' is a built-in gate", name);
		return NULL;
	}
	for (int i = 0; constants[i]; i++)
		if (!strcmp(name, constants[i])) {
			qrd_error(st, loc, "'%s' is a built-in constant", name);
			return NULL;
		}
	qsym *s = qrd_alloc(st, sizeof *s);
	if (!s)
		return NULL;
	s->name = name;
	s->kind = kind;
	s->loc = loc;
	unsigned h = hash_str(name) % QSYM_BUCKETS;
	s->next = st->buckets[h];
	st->buckets[h] = s;
	return s;
}

const qx *qrd_ident(qrd_state *st, const char *name, qrd_loc loc)
{
	int i = 0;
	for (const qrd_id *f = st->cur ? st->cur_params : NULL; f; f = f->next, i++)
		if (!strcmp(f->name, name)) {
			qx *e = qx_new(st, QX_PARAM, NULL, NULL, loc);
			if (e) {
				e->idx = i;
				e->has_param = 1;
			}
			return e;
		}
	for (i = 0; constants[i]; i++)
		if (!strcmp(name, constants[i]))
			return qrd_num(st, constant_values[i], loc);
	qsym *s = lookup(st, name);
	if (!s) {
		qrd_error(st, loc, "unknown identifier '%s'", name);
		return NULL;
	}
	if (s->kind == QS_CONST)
		return s->val;
	if (s->kind != QS_INPUT) {
		qrd_error(st, loc, "'%s' is %s, not a value", name, sym_kinds[s->kind]);
		return NULL;
	}
	if (st->cur) {
		qrd_error(st, loc, "input '%s' cannot be used inside a gate definition", name);
		return NULL;
	}
	qx *e = qx_new(st, QX_INPUT, NULL, NULL, loc);
	if (e) {
		e->idx = s->idx;
		e->has_input = 1;
	}
	return e;
}

/* ------------------------------------------------------------ header and declarations */

int qrd_stmt(qrd_state *st, qrd_loc loc)
{
	(void)loc;
	st->nstmts++;
	return 0;
}

int qrd_version(qrd_state *st, double v, int is_int, qrd_loc loc)
{
	(void)is_int;
	if (st->nstmts > 0 || st->version)
		return qrd_error(st, loc, "OPENQASM must be the first statement");
	if (!(v >= 2 && v < 4))
		return qrd_error(st, loc, "unsupported OpenQASM version %g (2 and 3 are read)", v);
	st->version = (int)v;
	return 0;
}

int qrd_include(qrd_state *st, const char *file, qrd_loc loc)
{
	if (strcmp(file, "stdgates.inc") && strcmp(file, "qelib1.inc"))
		return qrd_error(st, loc, "cannot include \"%s\": only stdgates.inc (and qelib1.inc) are built in",
				  file);
	st->stdgates = 1;
	return 0;
}

static int ensure_qstate(qrd_state *st, long n)
{
	if (n <= st->capqstate)
		return 0;
	long cap = st->capqstate;
	void *p = st->qstate;
	if (grow(st, &p, &cap, n, 1))
		return -1;
	memset((unsigned char *)p + st->capqstate, 0, (size_t)(cap - st->capqstate));
	st->qstate = p;
	st->capqstate = (int)cap;
	return 0;
}

static int reg_size(qrd_state *st, const qx *size, qrd_loc sloc, long *n)
{
	*n = 1;
	return size ? const_int(st, size, sloc, "register size", 1, QASM_MAX_QUBITS, n) : 0;
}

int qrd_decl_qubits(qrd_state *st, const char *name, qrd_loc nloc, const qx *size, qrd_loc sloc)
{
	long n;
	if (reg_size(st, size, sloc, &n))
		return -1;
	if (st->uses_phys)
		return qrd_error(st, nloc, "cannot declare qubits in a program that uses physical qubits");
	if (st->nqubits + n > QASM_MAX_QUBITS)
		return qrd_error(st, sloc, "too many qubits (more than %d)", QASM_MAX_QUBITS);
	qsym *s = declare(st, name, QS_QREG, nloc);
	if (!s || ensure_qstate(st, st->nqubits + n))
		return -1;
	s->off = st->nqubits;
	s->size = (int)n;
	s->scalar = size == NULL;
	st->nqubits += (int)n;
	st->uses_decl = 1;
	return 0;
}

int qrd_decl_bits(qrd_state *st, const char *name, qrd_loc nloc, const qx *size, qrd_loc sloc)
{
	long n;
	if (reg_size(st, size, sloc, &n))
		return -1;
	if (st->nbits + n > QASM_MAX_QUBITS)
		return qrd_error(st, sloc, "too many bits (more than %d)", QASM_MAX_QUBITS);
	qsym *s = declare(st, name, QS_CREG, nloc);
	if (!s)
		return -1;
	s->off = st->nbits;
	s->size = (int)n;
	s->scalar = size == NULL;
	st->nbits += (int)n;
	return 0;
}

int qrd_check_type_width(qrd_state *st, const qx *w, qrd_loc loc)
{
	long n = 0;
	return const_int(st, w, loc, "type width", 1, 128, &n);
}

int qrd_decl_input(qrd_state *st, const char *name, qrd_loc nloc)
{
	qsym *s = declare(st, name, QS_INPUT, nloc);
	if (!s)
		return -1;
	long cap = st->capinputs;
	void *p = st->inputs;
	if (grow(st, &p, &cap, st->ninputs + 1L, sizeof *st->inputs))
		return -1;
	st->inputs = p;
	st->capinputs = (int)cap;
	s->idx = st->ninputs;
	st->inputs[st->ninputs++] = name;
	return 0;
}

int qrd_decl_const(qrd_state *st, const char *name, qrd_loc nloc, const qx *val)
{
	if (val->has_input)
		return qrd_error(st, nloc, "const '%s' must not depend on an input", name);
	qsym *s = declare(st, name, QS_CONST, nloc);
	if (!s)
		return -1;
	s->val = val;
	return 0;
}

/* ------------------------------------------------------------ gate definitions */

/* Operation counts saturate far above QASM_MAX_OPS instead of overflowing. */
static long sat_add(long a, long b) { return a + b > QASM_MAX_OPS * 2 ? QASM_MAX_OPS * 2 : a + b; }

static long sat_mul(long a, long b)
{
	return b != 0 && a > QASM_MAX_OPS * 2 / b ? QASM_MAX_OPS * 2 : a * b;
}

static int id_count_unique(qrd_state *st, const qrd_id *l, const qrd_id *other, const char *what)
{
	int n = 0;
	for (const qrd_id *a = l; a; a = a->next, n++) {
		for (const qrd_id *b = l; b != a; b = b->next)
			if (!strcmp(a->name, b->name))
				return qrd_error(st, a->loc, "duplicate %s '%s'", what, a->name);
		for (const qrd_id *b = other; b; b = b->next)
			if (!strcmp(a->name, b->name))
				return qrd_error(st, a->loc, "'%s' is both a parameter and a qubit", a->name);
	}
	if (n > QASM_MAX_FORMALS)
		return qrd_error(st, l->loc, "too many %ss (more than %d)", what, QASM_MAX_FORMALS);
	return n;
}

int qrd_gate_begin(qrd_state *st, const char *name, qrd_loc nloc, qrd_id *params, qrd_id *qubits)
{
	params = id_reverse(params);
	qubits = id_reverse(qubits);
	int np = id_count_unique(st, params, NULL, "parameter");
	int nq = np < 0 ? -1 : id_count_unique(st, qubits, params, "qubit");
	if (nq < 0)
		return -1;
	/* the symbol stays gate-less until the body ends: no recursion */
	if (!declare(st, name, QS_GATE, nloc))
		return -1;
	qgate *g = qrd_alloc(st, sizeof *g);
	if (!g)
		return -1;
	g->name = name;
	g->kind = -1;
	g->nparams = np;
	g->nqubits = nq;
	st->cur = g;
	st->cur_params = params;
	st->cur_qubits = qubits;
	st->nbody = 0;
	return 0;
}

int qrd_gate_end(qrd_state *st)
{
	qgate *g = st->cur;
	qcall *body = st->nbody ? qrd_alloc(st, (size_t)st->nbody * sizeof *body) : NULL;
	if (st->nbody && !body)
		return -1;
	if (st->nbody)
		memcpy(body, st->body, (size_t)st->nbody * sizeof *body);
	g->body = body;
	g->nbody = st->nbody;
	g->nops = 0;
	for (int i = 0; i < st->nbody; i++)
		g->nops = sat_add(g->nops, sat_mul(body[i].rep, body[i].g->nops));
	lookup(st, g->name)->gate = g;
	st->cur = NULL;
	st->cur_params = st->cur_qubits = NULL;
	return 0;
}

/* ------------------------------------------------------------ operations */

static int emit(qrd_state *st, int kind, int nt, int nc, const int *qs, uint64_t neg, int adj,
		const qx *const *args, int cbit, qrd_loc loc)
{
	if (st->nops >= QASM_MAX_OPS)
		return qrd_error(st, loc, "program expands to more than %ld operations", QASM_MAX_OPS);
	int np = kind < QG_NBASE ? qg_infos[kind].nparams : 0;
	void *p;
	p = st->ops;
	if (grow(st, &p, &st->capops, st->nops + 1, sizeof *st->ops))
		return -1;
	st->ops = p;
	/* + 1: the arrays exist once there is an operation, so that
	 * qubits + q is never arithmetic on NULL */
	p = st->qubits;
	if (grow(st, &p, &st->capq, st->nq + nt + nc + 1, sizeof *st->qubits))
		return -1;
	st->qubits = p;
	p = st->pars;
	if (grow(st, &p, &st->cappar, st->npar + np + 1, sizeof *st->pars))
		return -1;
	st->pars = p;
	qop *o = &st->ops[st->nops++];
	memset(o, 0, sizeof *o);
	o->kind = (uint8_t)kind;
	o->nt = (uint8_t)nt;
	o->nc = (uint8_t)nc;
	o->adj = (uint8_t)adj;
	o->q = (int32_t)st->nq;
	o->par = (int32_t)st->npar;
	o->cbit = cbit;
	o->line = loc.line;
	o->col = loc.col;
	o->negc = neg;
	for (int i = 0; i < nt + nc; i++)
		st->qubits[st->nq++] = qs[i];
	int constant = 1;
	for (int i = 0; i < np; i++) {
		qpar *pp = &st->pars[st->npar++];
		pp->e = args[i]->op == QX_NUM ? NULL : args[i];
		pp->v = args[i]->op == QX_NUM ? args[i]->v : 0;
		constant &= pp->e == NULL;
	}
	/* measurement bookkeeping: what needs shot-by-shot simulation */
	if (kind == QG_MEASURE) {
		st->qstate[qs[0]] = 2;
		return 0;
	}
	if (kind == QG_RESET) {
		o->trivial = st->qstate[qs[0]] == 0;
		if (!o->trivial)
			st->p->midcircuit = 1;
		st->qstate[qs[0]] = 1;
		return 0;
	}
	for (int i = 0; i < nt + nc; i++) {
		if (st->qstate[qs[i]] == 2)
			st->p->midcircuit = 1;
		else
			st->qstate[qs[i]] = 1;
	}
	st->p->ngates++;
	/* realness for any input: an uncontrolled gphase is a global phase */
	if (kind == QG_GPHASE && nc == 0)
		return 0;
	if (!qg_infos[kind].always_real) {
		double v[4] = {0, 0, 0, 0}, re[16], im[16];
		for (int i = 0; i < np; i++)
			v[i] = st->pars[o->par + i].v;
		if (!constant || !qg_matrix(kind, v, adj, re, im))
			st->p->is_real = 0;
	}
	return 0;
}

/* Expand gate g on qs = [nc controls, then g's qubits]. */
static int expand(qrd_state *st, const qgate *g, const qx *const *args, const int *qs, int nc,
		  uint64_t neg, int adj, qrd_loc loc)
{
	if (g->kind >= 0) {
		int nt = g->nqubits - g->nbctrl;
		if (nc + g->nbctrl > QRT_MAX_CTRL)
			return qrd_error(st, loc, "too many controls (more than %d)", QRT_MAX_CTRL);
		return emit(st, g->kind, nt, nc + g->nbctrl, qs, neg, adj, args, -1, loc);
	}
	if (++st->depth > QASM_MAX_DEPTH)
		return qrd_error(st, loc, "gate definitions nested more than %d deep", QASM_MAX_DEPTH);
	int r = 0;
	for (int k = 0; k < g->nbody && !r; k++) {
		const qcall *c = &g->body[adj ? g->nbody - 1 - k : k];
		const qx *cargs[QASM_MAX_FORMALS];
		for (int i = 0; i < c->g->nparams && !r; i++)
			if (!(cargs[i] = subst(st, c->params[i], args, loc)))
				r = -1;
		if (nc + c->nc > QRT_MAX_CTRL)
			r = qrd_error(st, loc, "too many controls (more than %d)", QRT_MAX_CTRL);
		if (r)
			break;
		int cq[QRT_MAX_CTRL + QASM_MAX_FORMALS];
		memcpy(cq, qs, (size_t)nc * sizeof *cq);
		for (int i = 0; i < c->nq; i++)
			cq[nc + i] = qs[nc + c->qargs[i]];
		for (long rep = 0; rep < c->rep && !r; rep++)
			r = expand(st, c->g, cargs, cq, nc + c->nc, neg | (c->neg << nc), adj ^ c->adj, loc);
	}
	st->depth--;
	return r;
}

/* A qubit or bit argument at top level: `count` consecutive indices from
 * base; reg when it names a whole register (broadcast). */
typedef struct qres {
	int base, count, reg;
	int off, scalar; /* the register's first index and kind (for messages) */
	const char *name;
} qres;

static int resolve(qrd_state *st, const qrd_arg *a, int bits, qres *r)
{
	r->reg = 0;
	r->count = 1;
	r->name = a->name;
	r->off = r->scalar = 0;
	if (a->kind == QA_PHYS) {
		if (bits)
			return qrd_error(st, a->loc, "a physical qubit is not a bit");
		if (st->uses_decl)
			return qrd_error(st, a->loc, "physical qubit $%d in a program that declares qubits",
					  a->phys);
		if (ensure_qstate(st, a->phys + 1L))
			return -1;
		st->uses_phys = 1;
		if (a->phys > st->maxphys)
			st->maxphys = a->phys;
		r->base = a->phys;
		return 0;
	}
	int want = bits ? QS_CREG : QS_QREG;
	qsym *s = lookup(st, a->name);
	if (!s)
		return qrd_error(st, a->loc, "unknown %s '%s'", bits ? "bit register" : "qubit", a->name);
	if (s->kind != want)
		return qrd_error(st, a->loc, "'%s' is %s, not %s", a->name, sym_kinds[s->kind],
				  sym_kinds[want]);
	r->off = s->off;
	r->scalar = s->scalar;
	if (a->kind == QA_NAME) {
		r->base = s->off;
		r->count = s->size;
		r->reg = !s->scalar;
		return 0;
	}
	if (s->scalar)
		return qrd_error(st, a->iloc, "'%s' is a single %s and cannot be indexed", a->name,
				  bits ? "bit" : "qubit");
	long i = 0;
	char what[80];
	snprintf(what, sizeof what, "index into '%s'", a->name);
	if (const_int(st, a->index, a->iloc, what, 0, s->size - 1L, &i))
		return -1;
	r->base = s->off + (int)i;
	return 0;
}

/* Shape of a gate call's modifiers. */
typedef struct qmods {
	int nc, adj;
	uint64_t neg;
	long rep;
} qmods;

static int eval_mods(qrd_state *st, qrd_mod *m, qmods *out)
{
	qrd_mod *r = mod_reverse(m);
	out->nc = 0, out->adj = 0, out->neg = 0, out->rep = 1;
	for (m = r; m; m = m->next) {
		long k = 1;
		switch (m->kind) {
		case QM_CTRL:
		case QM_NEGCTRL:
			if (m->arg && const_int(st, m->arg, m->loc, "control count", 1, QRT_MAX_CTRL, &k))
				return -1;
			if (out->nc + k > QRT_MAX_CTRL)
				return qrd_error(st, m->loc, "too many controls (more than %d)", QRT_MAX_CTRL);
			if (m->kind == QM_NEGCTRL)
				out->neg |= (((uint64_t)1 << k) - 1) << out->nc;
			out->nc += (int)k;
			break;
		case QM_INV:
			out->adj ^= 1;
			break;
		default:
			if (const_int(st, m->arg, m->loc, "pow @ exponent", -QASM_MAX_REP, QASM_MAX_REP, &k))
				return -1;
			if (k < 0)
				out->adj ^= 1, k = -k;
			if (out->rep * k > QASM_MAX_REP)
				return qrd_error(st, m->loc, "pow @ repeats more than %d times", QASM_MAX_REP);
			out->rep *= k;
			break;
		}
	}
	return 0;
}

static const qgate *find_gate(qrd_state *st, const char *name, qrd_loc loc)
{
	qsym *s = lookup(st, name);
	if (s && s->kind == QS_GATE && s->gate)
		return s->gate;
	if (s && s->kind == QS_GATE) {
		qrd_error(st, loc, "gate '%s' cannot call itself", name);
		return NULL;
	}
	if (s) {
		qrd_error(st, loc, "'%s' is %s, not a gate", name, sym_kinds[s->kind]);
		return NULL;
	}
	const qgate *b = builtin(name);
	if (b && builtin_visible(st, b))
		return b;
	if (b)
		qrd_error(st, loc, "unknown gate '%s' (missing include \"stdgates.inc\"?)", name);
	else
		qrd_error(st, loc, "unknown gate '%s'", name);
	return NULL;
}

int qrd_call(qrd_state *st, qrd_mod *mods, const char *name, qrd_loc nloc, qrd_xlist *params,
	      qrd_arg *qargs)
{
	const qgate *g = find_gate(st, name, nloc);
	qmods m;
	if (!g || eval_mods(st, mods, &m))
		return -1;
	params = xl_reverse(params);
	qargs = arg_reverse(qargs);
	int np = 0, nq = 0;
	for (qrd_xlist *l = params; l; l = l->next)
		np++;
	for (qrd_arg *a = qargs; a; a = a->next)
		nq++;
	if (np != g->nparams)
		return qrd_error(st, nloc, "gate '%s' takes %d parameter%s, got %d", name, g->nparams,
				  g->nparams == 1 ? "" : "s", np);
	if (nq != m.nc + g->nqubits) {
		if (m.nc)
			return qrd_error(st, nloc, "gate '%s' with %d control%s takes %d qubits, got %d",
					  name, m.nc, m.nc == 1 ? "" : "s", m.nc + g->nqubits, nq);
		return qrd_error(st, nloc, "gate '%s' takes %d qubit%s, got %d", name, g->nqubits,
				  g->nqubits == 1 ? "" : "s", nq);
	}
	const qx *args[QASM_MAX_FORMALS];
	int i = 0;
	for (qrd_xlist *l = params; l; l = l->next)
		args[i++] = l->e;

	if (st->cur) { /* inside a gate definition: record the call on formals */
		qcall c = {.g = g, .nc = m.nc, .neg = m.neg, .adj = m.adj, .rep = m.rep, .nq = nq, .loc = nloc};
		c.params = np ? qrd_alloc(st, (size_t)np * sizeof *c.params) : NULL;
		c.qargs = qrd_alloc(st, (size_t)nq * sizeof *c.qargs);
		if ((np && !c.params) || !c.qargs)
			return -1;
		if (np)
			memcpy(c.params, args, (size_t)np * sizeof *args);
		i = 0;
		for (qrd_arg *a = qargs; a; a = a->next, i++) {
			if (a->kind != QA_NAME)
				return qrd_error(st, a->loc, "gate bodies take qubit arguments by name only");
			int f = 0;
			const qrd_id *id = st->cur_qubits;
			for (; id && strcmp(id->name, a->name); id = id->next)
				f++;
			if (!id)
				return qrd_error(st, a->loc, "unknown qubit '%s' in gate '%s'", a->name,
						  st->cur->name);
			for (int j = 0; j < i; j++)
				if (c.qargs[j] == f)
					return qrd_error(st, a->loc, "qubit '%s' appears twice in this call",
							  a->name);
			c.qargs[i] = f;
		}
		long cap = st->capbody;
		void *p = st->body;
		if (grow(st, &p, &cap, st->nbody + 1L, sizeof c))
			return -1;
		st->body = p;
		st->capbody = (int)cap;
		st->body[st->nbody++] = c;
		return 0;
	}

	/* top level: resolve registers and broadcast */
	qres res[QRT_MAX_CTRL + QASM_MAX_FORMALS];
	int width = -1;
	const qrd_arg *wide = NULL;
	i = 0;
	for (qrd_arg *a = qargs; a; a = a->next, i++) {
		if (resolve(st, a, 0, &res[i]))
			return -1;
		if (!res[i].reg)
			continue;
		if (width < 0) {
			width = res[i].count;
			wide = a;
		} else if (res[i].count != width) {
			return qrd_error(st, a->loc, "register '%s' has %d qubits but '%s' has %d",
					  a->name, res[i].count, wide->name, width);
		}
	}
	if (width < 0)
		width = 1;
	/* refuse blow-ups before expanding anything */
	if (sat_add(st->nops, sat_mul(sat_mul(width, m.rep), g->nops)) > QASM_MAX_OPS)
		return qrd_error(st, nloc, "program expands to more than %ld operations", QASM_MAX_OPS);
	for (int j = 0; j < width; j++) {
		int qs[QRT_MAX_CTRL + QASM_MAX_FORMALS];
		for (int k = 0; k < nq; k++) {
			qs[k] = res[k].base + (res[k].reg ? j : 0);
			for (int l = 0; l < k; l++) {
				if (qs[l] != qs[k])
					continue;
				if (!res[k].name)
					return qrd_error(st, nloc, "gate '%s' uses qubit $%d twice", name, qs[k]);
				if (res[k].scalar)
					return qrd_error(st, nloc, "gate '%s' uses qubit %s twice", name, res[k].name);
				return qrd_error(st, nloc, "gate '%s' uses qubit %s[%d] twice", name,
						  res[k].name, qs[k] - res[k].off);
			}
		}
		for (long rep = 0; rep < m.rep; rep++)
			if (expand(st, g, args, qs, m.nc, m.neg, m.adj, nloc))
				return -1;
	}
	return 0;
}

int qrd_measure(qrd_state *st, qrd_arg *q, qrd_arg *c, qrd_loc loc)
{
	qres rq, rc = {0, 0, 0, 0, 0, NULL};
	if (resolve(st, q, 0, &rq) || (c && resolve(st, c, 1, &rc)))
		return -1;
	if (c && rq.count != rc.count)
		return qrd_error(st, loc, "measure: %d qubit%s into %d bit%s", rq.count,
				  rq.count == 1 ? "" : "s", rc.count, rc.count == 1 ? "" : "s");
	for (int j = 0; j < rq.count; j++) {
		int qs = rq.base + j;
		if (emit(st, QG_MEASURE, 1, 0, &qs, 0, 0, NULL, c ? rc.base + j : -1, loc))
			return -1;
	}
	return 0;
}

int qrd_reset(qrd_state *st, qrd_arg *qargs, qrd_loc loc)
{
	for (qrd_arg *a = arg_reverse(qargs); a; a = a->next) {
		qres r;
		if (resolve(st, a, 0, &r))
			return -1;
		for (int j = 0; j < r.count; j++) {
			int qs = r.base + j;
			if (emit(st, QG_RESET, 1, 0, &qs, 0, 0, NULL, -1, loc))
				return -1;
		}
	}
	return 0;
}

int qrd_barrier(qrd_state *st, qrd_arg *qargs)
{
	for (qrd_arg *a = qargs; a; a = a->next) {
		if (st->cur) {
			const qrd_id *id = st->cur_qubits;
			while (id && (a->kind != QA_NAME || strcmp(id->name, a->name)))
				id = id->next;
			if (!id)
				return qrd_error(st, a->loc, "barrier: '%s' is not a qubit of gate '%s'",
						  a->name ? a->name : "$", st->cur->name);
			continue;
		}
		qres r;
		if (resolve(st, a, 0, &r))
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ programs */


static int finish(qrd_state *st)
{
	qnn_program *p = st->p;
	p->nqubits = st->uses_phys ? st->maxphys + 1 : st->nqubits;
	p->nbits = st->nbits;
	p->ninputs = st->ninputs;
	p->nops = st->nops;
	p->ops = st->ops, st->ops = NULL;
	p->qubits = st->qubits, st->qubits = NULL;
	p->pars = st->pars, st->pars = NULL;
	p->input_names = st->inputs, st->inputs = NULL;
	if (p->ninputs) {
		int cap = 16;
		while (cap < 2 * p->ninputs)
			cap *= 2;
		p->input_hash = malloc((size_t)cap * sizeof *p->input_hash);
		if (!p->input_hash)
			return qrd_error(st, (qrd_loc){st->line, st->col}, "out of memory");
		p->input_hcap = cap;
		for (int i = 0; i < cap; i++)
			p->input_hash[i] = -1;
		for (int i = 0; i < p->ninputs; i++) {
			unsigned h = hash_str(p->input_names[i]) & (unsigned)(cap - 1);
			while (p->input_hash[h] >= 0)
				h = (h + 1) & (unsigned)(cap - 1);
			p->input_hash[h] = i;
		}
	}
	return 0;
}

qnn_program *qnn_program_parse(const char *text, size_t len, const char *source, char *err,
			       size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	if (!source)
		source = "<qasm>";
	if (!text && len) {
		qrt_err(err, errlen, 0, "%s: no program text", source);
		return NULL;
	}
	qnn_program *p = calloc(1, sizeof *p);
	qrd_state st;
	memset(&st, 0, sizeof st);
	if (p)
		p->arena = qrt_arena_new();
	if (p && p->arena)
		p->source = qrt_strndup(p->arena, source, strlen(source));
	st.buckets = calloc(QSYM_BUCKETS, sizeof *st.buckets);
	if (!p || !p->arena || !p->source || !st.buckets) {
		qrt_err(err, errlen, 0, "%s: out of memory", source);
		free(st.buckets);
		qnn_program_free(p);
		return NULL;
	}
	p->is_real = 1;
	st.p = p;
	st.a = p->arena;
	st.source = p->source;
	st.line = st.col = 1;
	if (qrd_parse_text(&st, text ? text : "", len) == 0)
		finish(&st);
	free(st.buckets);
	free(st.body);
	free(st.ops);
	free(st.qubits);
	free(st.pars);
	free(st.inputs);
	free(st.qstate);
	if (st.failed) {
		qrt_err(err, errlen, 0, "%s", st.msg);
		qnn_program_free(p);
		return NULL;
	}
	return p;
}

void qnn_program_free(qnn_program *p)
{
	if (!p)
		return;
	free(p->ops);
	free(p->qubits);
	free(p->pars);
	free(p->input_names);
	free(p->input_hash);
	qrt_arena_free(p->arena);
	free(p);
}

int qnn_program_nqubits(const qnn_program *p) { return p ? p->nqubits : -1; }
int qnn_program_nbits(const qnn_program *p) { return p ? p->nbits : -1; }
int qnn_program_ninputs(const qnn_program *p) { return p ? p->ninputs : -1; }
long qnn_program_ngates(const qnn_program *p) { return p ? p->ngates : -1; }
int qnn_program_is_real(const qnn_program *p) { return p ? p->is_real : 0; }

const char *qnn_program_input_name(const qnn_program *p, int i)
{
	return p && i >= 0 && i < p->ninputs ? p->input_names[i] : NULL;
}

int qnn_program_input_index(const qnn_program *p, const char *name)
{
	if (!p || !name || !p->ninputs)
		return -1;
	unsigned mask = (unsigned)(p->input_hcap - 1);
	for (unsigned h = hash_str(name) & mask;; h = (h + 1) & mask) {
		int i = p->input_hash[h];
		if (i < 0)
			return -1;
		if (!strcmp(p->input_names[i], name))
			return i;
	}
}
