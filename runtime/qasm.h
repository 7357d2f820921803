/* qasm.h - the OpenQASM 3 reader's internals (prefix qrd_): the state shared by the
 * scanner (qasm_lex.l), the grammar (qasm_parse.y) and the builder
 * functions in qasm.c that the grammar actions call. Not installed. */
#ifndef QNNRT_QASM_H
#define QNNRT_QASM_H

#include "qnnrt_impl.h"

typedef struct qrd_loc {
	int line, col;
} qrd_loc;

/* Lists built by the grammar (prepended, so reversed; builders reverse). */
typedef struct qrd_xlist {
	const qx *e;
	qrd_loc loc;
	struct qrd_xlist *next;
} qrd_xlist;

enum { QA_NAME, QA_INDEX, QA_PHYS };
typedef struct qrd_arg {
	int kind;
	const char *name;
	const qx *index; /* QA_INDEX */
	int phys;        /* QA_PHYS: $k */
	qrd_loc loc, iloc;
	struct qrd_arg *next;
} qrd_arg;

enum { QM_CTRL, QM_NEGCTRL, QM_INV, QM_POW };
typedef struct qrd_mod {
	int kind;
	const qx *arg; /* ctrl(n), negctrl(n), pow(k); NULL for plain ctrl */
	qrd_loc loc;
	struct qrd_mod *next;
} qrd_mod;

typedef struct qrd_id {
	const char *name;
	qrd_loc loc;
	struct qrd_id *next;
} qrd_id;

struct qgate;
struct qsym;

typedef struct qrd_state {
	qnn_program *p;
	qrt_arena *a;       /* == p->arena */
	const char *source;
	/* scanner */
	int line, col;
	char tok[48];       /* text of the last token, for syntax errors */
	/* errors: the first one wins */
	char msg[320];
	int failed;
	/* header */
	int version;        /* 2 or 3, 0 before OPENQASM */
	int nstmts;
	int stdgates;       /* stdgates.inc or qelib1.inc included */
	/* symbols */
	struct qsym **buckets;
	/* gate definition in progress */
	struct qgate *cur;
	const qrd_id *cur_params, *cur_qubits;
	struct qcall *body;
	int nbody, capbody;
	/* registers */
	int nqubits, nbits;
	int uses_phys, uses_decl;
	int maxphys;
	/* outputs, moved into the program at the end */
	qop *ops;
	long nops, capops;
	int *qubits;
	long nq, capq;
	qpar *pars;
	long npar, cappar;
	const char **inputs;
	int ninputs, capinputs;
	unsigned char *qstate; /* per qubit: 0 fresh, 1 used, 2 measured */
	int capqstate;
	int depth;             /* gate expansion nesting */
} qrd_state;

/* Errors: record "source:line:col: message" (first one wins); return -1. */
int qrd_error(qrd_state *st, qrd_loc loc, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* qasm_parse.y: run the scanner and parser over text; 0 or -1. */
int qrd_parse_text(qrd_state *st, const char *text, size_t len);

/* Builders called by the grammar; each returns 0 / non-NULL, or -1 /
 * NULL after recording an error. */
char *qrd_strdup(qrd_state *st, const char *s, size_t n);
void *qrd_alloc(qrd_state *st, size_t n);
int qrd_version(qrd_state *st, double v, int is_int, qrd_loc loc);
int qrd_include(qrd_state *st, const char *file, qrd_loc loc);
int qrd_decl_qubits(qrd_state *st, const char *name, qrd_loc nloc, const qx *size, qrd_loc sloc);
int qrd_decl_bits(qrd_state *st, const char *name, qrd_loc nloc, const qx *size, qrd_loc sloc);
int qrd_decl_input(qrd_state *st, const char *name, qrd_loc nloc);
int qrd_decl_const(qrd_state *st, const char *name, qrd_loc nloc, const qx *val);
int qrd_check_type_width(qrd_state *st, const qx *w, qrd_loc loc);
int qrd_gate_begin(qrd_state *st, const char *name, qrd_loc nloc, qrd_id *params, qrd_id *qubits);
int qrd_gate_end(qrd_state *st);
int qrd_call(qrd_state *st, qrd_mod *mods, const char *name, qrd_loc nloc, qrd_xlist *params,
	      qrd_arg *qargs);
int qrd_measure(qrd_state *st, qrd_arg *q, qrd_arg *c, qrd_loc loc);
int qrd_reset(qrd_state *st, qrd_arg *qargs, qrd_loc loc);
int qrd_barrier(qrd_state *st, qrd_arg *qargs);
int qrd_stmt(qrd_state *st, qrd_loc loc); /* counts statements */

const qx *qrd_num(qrd_state *st, double v, qrd_loc loc);
const qx *qrd_ident(qrd_state *st, const char *name, qrd_loc loc);
const qx *qrd_unary(qrd_state *st, int op, const qx *a, qrd_loc loc);
const qx *qrd_binary(qrd_state *st, int op, const qx *a, const qx *b, qrd_loc loc);
const qx *qrd_func(qrd_state *st, const char *name, qrd_xlist *args, qrd_loc loc);

#endif
