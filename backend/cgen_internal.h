/* cgen_internal.h - shared by the C backend's files: the emitter state,
 * the per-family emit hooks and the printing helpers.
 *
 * Each family file backend/cgen_<family>.c implements
 *
 *   int cgen_<family>(cgen *cg, ir_node *n);
 *
 * which prints one complete static function for node n: any private
 * static tables first, then cg_begin_fn(cg, n), the body, and "}\n".
 * The function's parameters are, in order, one `const T *restrict xI`
 * for every present input I (I is the ONNX input index, omitted optional
 * inputs have no parameter) and one `T *restrict yJ` for every present
 * output J. All shapes are known (n->in[i]->shape, n->out[j]->shape);
 * constant inputs also have n->in[i]->konst, so emitters may bake small
 * constants (shapes, axes, bounds) into the code. Generated code is C99,
 * must compile warning-free with -Wall -Wextra -Wpedantic -Werror and
 * clang -Weverything (minus padding/declaration-after-statement noise),
 * uses no malloc and no stdio, and orders loops for contiguous access.
 *
 * Below, each .c file's exported helpers under its own banner.
 */
#ifndef QNNC_CGEN_INTERNAL_H
#define QNNC_CGEN_INTERNAL_H

#include <stdio.h>

#include "../ir/ir.h"
#include "cgen.h"

typedef struct cgen {
	ir_graph *g;
	const cgen_options *o;
	FILE *c;
	unsigned helpers; /* file-scope helpers already emitted (CG_HELPER_*) */
} cgen;

/* Static helper functions that several nodes share are printed once, in
 * the text of the first node that needs them (node texts are written in
 * node order); one bit each in cgen.helpers. */
enum { CG_HELPER_STAGE_SEED = 1 }; /* cgen_circuit.c's seed mixer */

typedef int (*cgen_fn)(cgen *cg, ir_node *n);

#define CG_FAMILY(f) int cgen_##f(cgen *cg, ir_node *n);
CG_FAMILY(elementwise)
CG_FAMILY(unary)
CG_FAMILY(matmul)
CG_FAMILY(conv)
CG_FAMILY(pool)
CG_FAMILY(norm)
CG_FAMILY(softmax)
CG_FAMILY(reduce)
CG_FAMILY(shape)
CG_FAMILY(mpolayer)
CG_FAMILY(circuit)
#undef CG_FAMILY

/* Scratch memory: a family whose nodes need temporary memory while they
 * run defines int64_t cgen_<family>_scratch(const ir_node *n) (bytes, 0
 * for none) and is listed in cgen.c's family_scratch table. The planner
 * reserves that much of the workspace for the node's own step (reused by
 * other values before and after), and cg_begin_fn then adds a parameter
 * `void *restrict scratch` (64-byte aligned within the workspace). No
 * heap, and reentrant with one context per thread. Circuit's scratch
 * depends on the options (classical or quantum), hence cg_scratch_bytes'
 * o. */
int64_t cg_scratch_bytes(const cgen_options *o, const ir_node *n);
int64_t cgen_mpolayer_scratch(const ir_node *n);
int64_t cgen_circuit_scratch(const cgen_options *o, const ir_node *n);

/* Quantum stages (cgen_circuit.c): 1 when node n runs as a quantum stage
 * under o (a Circuit with stage >= 0 and not o->classical_circuits). Its
 * function then returns int (0 or the stage's negative QNN_E* code) and
 * takes a last parameter `NAME_ctx *ctx` (cg_begin_fn prints both), and
 * NAME_run returns a nonzero result at once. */
int cgen_circuit_quantum(const cgen_options *o, const ir_node *n);

/* ---------------------------------------------------------- cgen.c */

/* printf to the C file. */
void cg_printf(cgen *cg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "static void nK(const T *restrict x0, ..., T *restrict y0)\n{\n"
 * (plus ", void *restrict scratch" when the node has scratch; "static int"
 * and ", NAME_ctx *ctx" last for a quantum stage). */
void cg_begin_fn(cgen *cg, ir_node *n);
/* The C name of node n's function ("n12"). */
const char *cg_fn_name(const ir_node *n, char *buf, size_t len);
/* A C literal for v in dtype t that round-trips exactly: hex floats for
 * f32 ("0x1.8p+1f"), INFINITY / NAN for specials, integer suffixes. */
const char *cg_literal(ir_dtype t, double v, char *buf, size_t len);
/* Same for an element of a tensor (exact for 64-bit integers). */
const char *cg_tensor_literal(const ir_tensor *t, int64_t i, char *buf, size_t len);
/* Print a static const array named name with the tensor's data. */
void cg_const_array(cgen *cg, const char *name, const ir_tensor *t);
/* Known dims of a value (asserts they are known); returns rank. */
int cg_dims(const ir_value *v, int64_t *dims);
int64_t cg_numel(const ir_value *v);

/* ----------------------------------------------------- cgen_util.c */

/* Code text. */
/* Print n tabs (at most 24). */
void cg_tabs(cgen *cg, int n);
/* "(void)xI;" for every parameter: for bodies that touch none of them. */
void cg_void_params(cgen *cg, const ir_node *n);
/* "v * s + k * d + off" as code text with the trivial terms left out (no
 * k term when k is NULL). */
void cg_affine(char *buf, size_t len, const char *v, int64_t s, const char *k, int64_t d, int64_t off);
/* Print "#pragma GCC unroll 1" (at indentation ind) before a loop meant
 * for the vectoriser. */
void cg_keep_loop(cgen *cg, const char *ind);
/* for (int VAR = lo; VAR < hi; VAR++) BODY, split into parts whose trip
 * counts are a multiple of 8, then of 4, then the rest (the first two
 * behind cg_keep_loop). BODY is one statement; ind the indentation. */
void cg_for_split(cgen *cg, const char *ind, const char *var, int64_t lo, int64_t hi, const char *body);

/* Integer types. */
/* Generated code indexes with int: error (ir_error) if some input or
 * output of n has more than INT_MAX elements. */
int cg_fits_int(cgen *cg, ir_node *n);
/* The unsigned type in which integer arithmetic of t wraps without
 * promoting to (signed) int. */
const char *cg_wide_unsigned(ir_dtype t);
/* The <stdint.h> limits of an integer (or bool) dtype, as C source. */
void cg_int_limits(ir_dtype t, const char **lo, const char **hi);
/* The range of an integer dtype as doubles. */
void cg_int_range(ir_dtype t, double *lo, double *hi);
/* The C expression converting the double v (a plain identifier) to the
 * integer dtype t like passes/ops.h's op_f2i: truncation, saturating at
 * the type's range, NaN -> 0. */
void cg_d2i_expr(char *buf, size_t len, ir_dtype t, const char *v);

/* Loop nests. */
#define CG_NEST_MAXOPS 34 /* operands of one nest: an output + 33 inputs */
#define CG_IDXLEN 1024    /* room for one operand's index expression */
/* Element strides of v broadcast (numpy rules) to rank / dims. */
void cg_bcast_strides(const ir_value *v, int rank, const int64_t *dims, int64_t *st);
/* Open a loop nest over the dense space dims[0..rank) for k operands
 * (k <= CG_NEST_MAXOPS). Operand i reads element base[i] + off[i] +
 * sum_d i_d * st[i*rank + d] (base may be NULL); its index expression is
 * written to idx + i*idxlen (loop variables are var0, var1, ...). Prints
 * the loops at the given indentation and returns the indentation of the
 * body, or 0 when the space is empty (then nothing is printed). Close
 * with cg_nest_close. */
int cg_nest_open(cgen *cg, int indent, const char *var, int rank, const int64_t *dims, int k,
		 const int64_t *st, const int64_t *off, const char *const *base, char *idx, size_t idxlen);
void cg_nest_close(cgen *cg, int body);

#endif
