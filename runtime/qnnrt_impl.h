/* qnnrt_impl.h - libqnnrt internals shared by its files (never installed,
 * never included by generated code): the arena, the parsed program
 * (expressions, flat operation list), the simulator entry points the
 * program runner uses, and one banner per file for what it exports. */
#ifndef QNNRT_IMPL_H
#define QNNRT_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "qnnrt.h"

#define QRT_PI 3.14159265358979323846
#define QRT_E 2.71828182845904523536
#define QRT_SQRT1_2 0.70710678118654752440

/* ----------------------------------------------------------- qasm.c: arena */

/* Bump allocator; qrt_alloc returns zeroed 16-aligned memory or NULL. */
typedef struct qrt_arena qrt_arena;
qrt_arena *qrt_arena_new(void);
void qrt_arena_free(qrt_arena *a);
void *qrt_alloc(qrt_arena *a, size_t size);
char *qrt_strndup(qrt_arena *a, const char *s, size_t n);
/* Grow *p (elements of size elem) to hold need, doubling; QNN_ENOMEM. */
int qrt_grow(void **p, long *cap, long need, size_t elem);

/* ----------------------------------------------------------- expressions */

/* An angle expression. Folded as it is built: a node whose operands are
 * all numbers is a number, so only input-dependent expressions survive
 * to run time. size counts the nodes of the tree it stands for (shared
 * subtrees counted each time), saturating, to refuse blow-ups. */
enum {
	QX_NUM,   /* v */
	QX_INPUT, /* input idx */
	QX_PARAM, /* parameter idx of the gate being defined */
	QX_NEG,
	QX_ADD,
	QX_SUB,
	QX_MUL,
	QX_DIV,
	QX_POW,
	QX_MOD,
	QX_FN /* fn(a) */
};
enum {
	QF_SIN, QF_COS, QF_TAN, QF_EXP, QF_LN, QF_SQRT, QF_ACOS, QF_ASIN, QF_ATAN,
	QF_FLOOR, QF_CEIL, QF_COUNT
};
typedef struct qx {
	uint8_t op, fn;
	uint8_t has_input, has_param;
	int idx;
	int size;
	double v;
	const struct qx *a, *b;
} qx;

extern const char *const qx_fn_names[QF_COUNT];
/* Value of e with inputs in[] (no QX_PARAM left). */
double qx_eval(const qx *e, const double *in);

/* ----------------------------------------------------------- operations */

/* Base gates. A standard gate is a base gate plus controls: cx is X with
 * one control, cu is UG with one. nparams/ntargets in qg_info. */
enum {
	QG_GPHASE, /* 0 targets: e^{i t} */
	QG_U,      /* U(t, f, l) */
	QG_UG,     /* e^{i g} U(t, f, l): the target of cu */
	QG_U2,     /* e^{-i(f+l)/2} U(pi/2, f, l) */
	QG_U3,     /* e^{-i(f+l)/2} U(t, f, l) */
	QG_ID, QG_X, QG_Y, QG_Z, QG_H, QG_S, QG_SDG, QG_T, QG_TDG, QG_SX,
	QG_RX, QG_RY, QG_RZ, QG_P,
	QG_SWAP,
	QG_NBASE,
	QG_MEASURE = QG_NBASE, /* target qubit -> cbit */
	QG_RESET
};
typedef struct qg_info {
	const char *name; /* as written when uncontrolled */
	int nparams, ntargets;
	int always_real;
} qg_info;
extern const qg_info qg_infos[QG_NBASE];

/* One operation after expansion. Qubits: prog->qubits[q .. q+nc) are the
 * controls (control i is negated when bit i of negc is set), then nt
 * targets. Parameters: prog->pars[par ..). */
typedef struct qop {
	uint8_t kind;
	uint8_t nt;
	uint8_t nc;
	uint8_t adj;     /* apply the inverse */
	uint8_t trivial; /* a reset of a qubit still in |0>: no-op */
	int32_t q;
	int32_t par;
	int32_t cbit; /* QG_MEASURE: classical bit, -1 when discarded */
	int32_t line, col;
	uint64_t negc;
} qop;

typedef struct qpar {
	double v;      /* the value when e == NULL */
	const qx *e;   /* input-dependent expression */
} qpar;

#define QRT_MAX_CTRL 62

struct qnn_program {
	qrt_arena *arena;
	const char *source;
	int nqubits, nbits, ninputs;
	const char **input_names;
	qop *ops;
	long nops, ngates;
	int *qubits;
	qpar *pars;
	int is_real;      /* every gate real for any input */
	int midcircuit;   /* a measured or reset qubit is used again */
	/* input name lookup: open addressing, capacity a power of two */
	int *input_hash;
	int input_hcap;
};

/* ----------------------------------------------------------- qasm.c: gate matrices */

/* Matrix of a base gate (2^nt x 2^nt, convention of qnnrt.h) for the
 * parameter values p, inverted when adj. im receives zeros when real;
 * returns 1 when the matrix is real. */
int qg_matrix(int kind, const double *p, int adj, double *re, double *im);

/* ----------------------------------------------------------- sim.c */

struct qnn_state {
	int n;
	int cplx;
	double *re, *im;
};

/* qnn_state_apply_ctrl with the controls as masks: acts where
 * (index & cmask) == cval. Arguments already checked; returns 0 or
 * QNN_ENOMEM (panels for k > 6 are allocated). */
int qsim_apply(qnn_state *s, int k, const int *t, const double *re, const double *im,
	       uint64_t cmask, uint64_t cval);
/* Draw shots basis indices from |amplitude|^2; emit(ctx, index, count)
 * for each index drawn. */
int qsim_sample(const qnn_state *s, long shots, uint64_t seed,
		void (*emit)(void *ctx, uint64_t idx, uint64_t mult), void *ctx);
/* binomial.c: an exact B(n, p) variate (p outside (0, 1) is clamped). */
uint64_t qsim_binomial(qnn_rng *rng, uint64_t n, double p);
/* Measure qubit q with uniform u in [0,1): collapse, renormalise, return
 * the outcome. */
int qsim_measure(qnn_state *s, int q, double u);
/* Multiply the whole state by (pr + i pi) (s complex unless pi == 0). */
void qsim_scale(qnn_state *s, double pr, double pi);

/* ----------------------------------------------------------- error helper */

/* snprintf into err (when errlen > 0); returns code. */
int qrt_err(char *err, size_t errlen, int code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

#endif
