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
OP_FAMILY(circuit)
#undef OP_FAMILY

/* X-macro over every supported dtype: X(IR_F32, float), ... */
#define OP_DTYPES(X)                                                       \
	X(IR_F32, float) X(IR_F64, double) X(IR_I8, int8_t) X(IR_I16, int16_t) \
	X(IR_I32, int32_t) X(IR_I64, int64_t) X(IR_U8, uint8_t)              \
	X(IR_U16, uint16_t) X(IR_U32, uint32_t) X(IR_U64, uint64_t)          \
	X(IR_BOOL, uint8_t)

/* ------------------------------------------------- kernel helpers */

/* for (i = 0; i < n; i++) BODY, in blocks with a constant trip count:
 * gcc's default cost model at -O2 (very-cheap) only vectorises those. */
#define OP_BLK 16
#define OP_FOR(n, ...)                                                   \
	do {                                                             \
		int64_t base_ = 0;                                       \
		for (; base_ + OP_BLK <= (n); base_ += OP_BLK)           \
			for (int j_ = 0; j_ < OP_BLK; j_++) {            \
				int64_t i = base_ + j_;                  \
				__VA_ARGS__                              \
			}                                                \
		for (int64_t i = base_; i < (n); i++) {                  \
			__VA_ARGS__                                      \
		}                                                        \
	} while (0)

/* double -> integer: truncation toward zero, saturating at [lo, hi]
 * (at [0, hi] for op_f2u), NaN -> 0. (double)hi may round up to 2^N,
 * which is why the test is >=. */
static inline int64_t op_f2i(double v, int64_t lo, int64_t hi)
{
	if (v != v)
		return 0;
	if (v <= (double)lo)
		return lo;
	if (v >= (double)hi)
		return hi;
	return (int64_t)v;
}

static inline uint64_t op_f2u(double v, uint64_t hi)
{
	if (v != v || v <= 0)
		return 0;
	if (v >= (double)hi)
		return hi;
	return (uint64_t)v;
}

/* The same per dtype, op_d2_<suffix>(v) (i8 ... u64, and f32 / f64 as
 * plain conversions), for kernels generated over type lists. */
#define OP_D2I(S, T, LO, HI) \
	static inline T op_d2_##S(double v) { return (T)op_f2i(v, LO, HI); }
#define OP_D2U(S, T, HI) \
	static inline T op_d2_##S(double v) { return (T)op_f2u(v, HI); }
OP_D2I(i8, int8_t, INT8_MIN, INT8_MAX)
OP_D2I(i16, int16_t, INT16_MIN, INT16_MAX)
OP_D2I(i32, int32_t, INT32_MIN, INT32_MAX)
OP_D2I(i64, int64_t, INT64_MIN, INT64_MAX)
OP_D2U(u8, uint8_t, UINT8_MAX)
OP_D2U(u16, uint16_t, UINT16_MAX)
OP_D2U(u32, uint32_t, UINT32_MAX)
OP_D2U(u64, uint64_t, UINT64_MAX)
#undef OP_D2I
#undef OP_D2U
static inline float op_d2_f32(double v) { return (float)v; }
static inline double op_d2_f64(double v) { return v; }

/* Whether n's semantics are those of an opset before v (n->opset 0: the
 * graph declares none, so the newest). */
static inline int op_opset_before(const ir_node *n, int v) { return n->opset > 0 && n->opset < v; }

/* ---------------------------------------------------------- ops.c */

/* An int / float attribute with a default (*v = dflt when absent); error
 * if it is present with another kind. */
int op_attr_int(ir_graph *g, ir_node *n, const char *name, int64_t dflt, int64_t *v);
int op_attr_float(ir_graph *g, ir_node *n, const char *name, double dflt, double *v);

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

/* Row-major element strides of dense dims. */
void op_dense_strides(int rank, const int64_t *dims, int64_t *strides);

/* Simplify a strided walk over dims[0..rank) shared by k operands
 * (operand i's element strides at st[i * ld + d]): size-1 dims are
 * dropped and a dim is merged into the previous one when every operand is
 * contiguous across both (or broadcast along both). Writes the r dims
 * left to md[0..r) and operand i's strides to ms[i * ld + l]; returns r
 * (0: a single element), or -1 when some dim is 0 (nothing to walk). */
int op_merge_dims(int rank, const int64_t *dims, int k, const int64_t *st, int ld, int64_t *md, int64_t *ms);

/* Copy the strided view (dims, strides in elements, first element off) of
 * src into dense dst; elements are es bytes (1, 2, 4 or 8). Strides may be
 * zero (broadcast) or negative (reversed slice). rank <= 2 * IR_MAX_RANK. */
void op_strided_copy(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
		     const int64_t *strides, int64_t off);

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

/* ---------------------------------- family helpers the C emitter shares
 * (defined in the op_<family>.c named; backend/cgen_<family>.c calls them
 * on the static shapes so that both agree by construction). */

/* op_reduce.c: the reduced dims of an input of this rank as a bit mask,
 * from the axis / axes attribute or the axes input in[1]. Returns 0, 1
 * when the axes are not known yet (in[1] not constant), -1 on error. */
int reduce_axes_mask(ir_graph *g, ir_node *n, ir_value **in, int rank, unsigned *mask);
/* op_reduce.c: the input viewed as [kept dims..., reduced dims...], each
 * group in input order: dims vd and element strides vs (rank entries),
 * *count the number of elements reduced per output. Returns the number of
 * kept dims. */
int reduce_view(int rank, const int64_t *dims, unsigned mask, int64_t *vd, int64_t *vs, int64_t *count);

/* op_softmax.c: the input of this rank and dims viewed as [outer, len,
 * stride] (runs of len elements at stride stride). dims may be NULL to
 * check the axis only. */
int softmax_view(ir_graph *g, ir_node *n, int rank, const int64_t *dims, int64_t *outer, int64_t *len,
		 int64_t *stride);

/* op_shape.c: Shape's [start, end) window over the dims (opset 15),
 * clamped. */
void shape_window(const ir_node *n, int rank, int64_t *lo, int64_t *hi);
/* op_shape.c: Slice of an input with these dims: per dim the first
 * element, the step and the output length (ONNX clamping rules), from the
 * attributes (before opset 10) or the inputs in[1..4]. Returns 0, 1 when
 * a parameter is not known (not constant), -1 on error. */
int shape_slice_plan(ir_graph *g, ir_node *n, int rank, const int64_t *dims, ir_value **in,
		     int64_t *start, int64_t *step, int64_t *len);

#endif
