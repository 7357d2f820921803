/* ops.h - the op-family interface shared by shape inference, constant
 * folding and the reference interpreter, plus helpers every family uses.
 *
 * Each family file passes/op_<family>.c implements, for all ops listed
 * with that family in ir/ops.def:
 *
 *   int <family>_check(ir_graph *g, ir_node *n);
 *       Validate attributes and input count/dtypes that are known. Called
 *       once per node before inference. Errors via ir_error(g, n, ...).
 *
 *   int <family>_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out);
 *       Set out[i]->dtype and out[i]->shape from in[] (entries may be NULL
 *       for omitted optional inputs; out entries may be NULL for omitted
 *       optional outputs). in[i]->konst is non-NULL when the input's data
 *       is known (always at run time; for constants at compile time). When
 *       a shape depends on data that is not known, the affected dims (or
 *       the rank) are set unknown (-1). Never read n->in / n->out here:
 *       the interpreter passes temporaries.
 *
 *   int <family>_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out);
 *       Compute. out[i] are allocated (zeroed) by the caller with the dtype
 *       and shape that infer produced. in entries may be NULL.
 *
 * All three return 0 or -1 (after ir_error).
 */
#ifndef QNNC_OPS_H
#define QNNC_OPS_H

#include "../ir/ir.h"

typedef int (*op_check_fn)(ir_graph *g, ir_node *n);
typedef int (*op_infer_fn)(ir_graph *g, ir_node *n, ir_value **in, ir_value **out);
typedef int (*op_run_fn)(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out);

typedef struct op_impl {
	op_check_fn check;
	op_infer_fn infer;
	op_run_fn run;
} op_impl;

/* Indexed by ir_op; generated from ops.def in ops.c. */
extern const op_impl op_impls[IR_OP_COUNT];

#define OP_FAMILY(f)                                                         \
	int f##_check(ir_graph *g, ir_node *n);                              \
	int f##_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out); \
	int f##_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out);
OP_FAMILY(elementwise)
OP_FAMILY(unary)
OP_FAMILY(matmul)
OP_FAMILY(conv)
OP_FAMILY(pool)
OP_FAMILY(norm)
OP_FAMILY(softmax)
OP_FAMILY(reduce)
OP_FAMILY(shape)
OP_FAMILY(mpolayer)
#undef OP_FAMILY

/* X-macro over every supported dtype: X(IR_F32, float), ... */
#define OP_DTYPES(X)                                                       \
	X(IR_F32, float) X(IR_F64, double) X(IR_I8, int8_t) X(IR_I16, int16_t) \
	X(IR_I32, int32_t) X(IR_I64, int64_t) X(IR_U8, uint8_t)              \
	X(IR_U16, uint16_t) X(IR_U32, uint32_t) X(IR_U64, uint64_t)          \
	X(IR_BOOL, uint8_t)

/* ---------------------------------------------------------- ops.c */

/* Arity check against ops.def (number of inputs / outputs present). */
int op_check_arity(ir_graph *g, ir_node *n);

/* Normalise axis in [-rank, rank) to [0, rank); error if out of range. */
int op_axis(ir_graph *g, ir_node *n, int64_t axis, int rank, int *out);

/* Multidirectional broadcasting of k shapes (numpy rules). Unknown dims
 * broadcast against 1 or an equal symbol; otherwise the result is unknown. */
int op_broadcast(ir_graph *g, ir_node *n, int k, const ir_shape *const *in, ir_shape *out);

/* Element strides of tensor t viewed with the (broadcast) output rank and
 * dims: stride 0 along broadcast dims. strides has rank entries. */
void op_broadcast_strides(const ir_tensor *t, int rank, const int64_t *dims, int64_t *strides);

/* Read a 1-D integer tensor (int32/int64) into out (at most max). Returns
 * the count or -1 (with ir_error) if it is not an integer vector. */
int op_read_ints(ir_graph *g, ir_node *n, const ir_tensor *t, int64_t *out, int max);

/* Set v's dtype and shape to those of a concrete tensor. */
void op_value_from_tensor(ir_value *v, const ir_tensor *t);

/* Copy a known shape into dims; returns 0, or -1 if not fully known. */
int op_shape_dims(const ir_shape *s, int64_t *dims);

/* Require in[i] to have dtype in the given mask (bit (1 << dtype)). */
int op_require_dtype(ir_graph *g, ir_node *n, const ir_value *v, unsigned mask, const char *what);
#define OP_FLOATS ((1u << IR_F32) | (1u << IR_F64))
#define OP_INTS                                                         \
	((1u << IR_I8) | (1u << IR_I16) | (1u << IR_I32) | (1u << IR_I64) | \
	 (1u << IR_U8) | (1u << IR_U16) | (1u << IR_U32) | (1u << IR_U64))
#define OP_NUMERIC (OP_FLOATS | OP_INTS)
#define OP_ANY (OP_NUMERIC | (1u << IR_BOOL))

#endif
