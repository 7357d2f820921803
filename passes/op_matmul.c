/* op_matmul.c - the 'matmul' op family (see ir/ops.def): Gemm and MatMul.
 *
 * Gemm:   Y = alpha * A' B' + beta * C, A' = transA ? Aᵀ : A (M×K),
 *         B' = transB ? Bᵀ : B (K×N), C unidirectionally broadcast to M×N.
 * MatMul: numpy.matmul: a 1-D A is [1,K] and a 1-D B is [K,1] with the
 *         added dim removed afterwards; leading (batch) dims broadcast.
 *
 * float32 / float64 go through cblas_sgemm / cblas_dgemm; the integer types
 * use a plain loop that wraps modulo 2^bits like numpy does.
 */
#include "ops.h"

#include <cblas.h>
#include <string.h>

#define MATMUL_DTYPES \
	(OP_FLOATS | (1u << IR_I32) | (1u << IR_I64) | (1u << IR_U32) | (1u << IR_U64))

static int64_t max1(int64_t v) { return v > 1 ? v : 1; }

int matmul_check(ir_graph *g, ir_node *n)
{
	if (op_check_arity(g, n))
		return -1;
	if (n->op == IR_OP_Gemm) {
		int64_t t;
		if (op_attr_int(g, n, "transA", 0, &t) || op_attr_int(g, n, "transB", 0, &t))
			return -1;
		/* C became optional in opset 11. */
		if (op_opset_before(n, 11) && (n->nin < 3 || !n->in[2]))
			return ir_error(g, n, "input C is required before opset 11 (model uses opset %d)",
					n->opset);
	}
	return 0;
}

static int same_dtype(ir_graph *g, ir_node *n, ir_value **in, int k)
{
	for (int i = 0; i < k; i++) {
		static const char *const what[3] = {"input A", "input B", "input C"};
		if (op_require_dtype(g, n, in[i], MATMUL_DTYPES, what[i]))
			return -1;
		if (in[i] && in[i]->dtype != in[0]->dtype)
			return ir_error(g, n, "inputs must share one dtype, got %s and %s",
					ir_dtype_name(in[0]->dtype), ir_dtype_name(in[i]->dtype));
	}
	return 0;
}

/* Two dims that must be equal: an error only when both are known. */
static int dims_agree(ir_dim a, ir_dim b)
{
	return a.v < 0 || b.v < 0 || a.v == b.v;
}

static int gemm_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	const ir_shape *a = &in[0]->shape, *b = &in[1]->shape;
	const ir_value *c = n->nin > 2 ? in[2] : NULL;
	int ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
	char s1[128], s2[128];
	if (same_dtype(g, n, in, c ? 3 : 2))
		return -1;
	out[0]->dtype = in[0]->dtype;
	if ((a->rank >= 0 && a->rank != 2) || (b->rank >= 0 && b->rank != 2))
		return ir_error(g, n, "A and B must be 2-D, got A %s and B %s",
				ir_shape_str(a, s1, sizeof s1), ir_shape_str(b, s2, sizeof s2));
	ir_dim unk = {-1, NULL};
	ir_dim m = a->rank == 2 ? a->d[ta] : unk, ka = a->rank == 2 ? a->d[!ta] : unk;
	ir_dim kb = b->rank == 2 ? b->d[tb] : unk, nn = b->rank == 2 ? b->d[!tb] : unk;
	if (!dims_agree(ka, kb))
		return ir_error(g, n, "inner dimensions differ: A %s%s and B %s%s",
				ir_shape_str(a, s1, sizeof s1), ta ? " (transposed)" : "",
				ir_shape_str(b, s2, sizeof s2), tb ? " (transposed)" : "");
	if (c && c->shape.rank >= 0) {
		const ir_shape *cs = &c->shape;
		ir_dim tgt[2] = {m, nn};
		int bad = cs->rank > 2;
		for (int i = 0; !bad && i < cs->rank; i++) {
			ir_dim d = cs->d[i], t = tgt[2 - cs->rank + i];
			bad = d.v >= 0 && d.v != 1 && t.v >= 0 && d.v != t.v;
		}
		if (bad) {
			ir_shape ys = {.rank = 2, .d = {m, nn}};
			char s3[128];
			return ir_error(g, n, "C %s cannot be broadcast to the output shape %s",
					ir_shape_str(cs, s1, sizeof s1), ir_shape_str(&ys, s3, sizeof s3));
		}
	}
	memset(&out[0]->shape, 0, sizeof out[0]->shape);
	out[0]->shape.rank = 2;
	out[0]->shape.d[0] = m;
	out[0]->shape.d[1] = nn;
	return 0;
}

static int matmul2_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	const ir_shape *a = &in[0]->shape, *b = &in[1]->shape;
	char s1[128], s2[128];
	if (same_dtype(g, n, in, 2))
		return -1;
	out[0]->dtype = in[0]->dtype;
	ir_shape *y = &out[0]->shape;
	memset(y, 0, sizeof *y);
	if (a->rank == 0 || b->rank == 0)
		return ir_error(g, n, "operands must have rank >= 1, got A %s and B %s",
				ir_shape_str(a, s1, sizeof s1), ir_shape_str(b, s2, sizeof s2));
	if (a->rank < 0 || b->rank < 0) {
		y->rank = -1;
		return 0;
	}
	ir_dim ka = a->d[a->rank - 1], kb = b->d[b->rank == 1 ? 0 : b->rank - 2];
	if (!dims_agree(ka, kb))
		return ir_error(g, n, "inner dimensions differ: A %s and B %s",
				ir_shape_str(a, s1, sizeof s1), ir_shape_str(b, s2, sizeof s2));
	ir_shape ba = {.rank = a->rank > 2 ? a->rank - 2 : 0};
	ir_shape bb = {.rank = b->rank > 2 ? b->rank - 2 : 0};
	for (int i = 0; i < ba.rank; i++)
		ba.d[i] = a->d[i];
	for (int i = 0; i < bb.rank; i++)
		bb.d[i] = b->d[i];
	const ir_shape *bs[2] = {&ba, &bb};
	if (op_broadcast(g, n, 2, bs, y))
		return -1;
	if (a->rank >= 2)
		y->d[y->rank++] = a->d[a->rank - 2];
	if (b->rank >= 2)
		y->d[y->rank++] = b->d[b->rank - 1];
	return 0;
}

int matmul_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	return n->op == IR_OP_Gemm ? gemm_infer(g, n, in, out) : matmul2_infer(g, n, in, out);
}

/* ------------------------------------------------------------ kernels */

/* y (m×n, row stride ldy) = op(a) op(b) [+ y when acc]; op transposes when
 * the flag is set; lda / ldb are the row strides of a and b as stored.
 * Integer products wrap modulo 2^64 and are narrowed on store. */
#define MATMUL_INT_KERNEL(T, NAME)                                                      \
	static void NAME(int ta, int tb, int64_t m, int64_t n, int64_t k, const T *a,  \
			 int64_t lda, const T *b, int64_t ldb, T *y, int64_t ldy)       \
	{                                                                               \
		for (int64_t i = 0; i < m; i++)                                         \
			for (int64_t j = 0; j < n; j++) {                               \
				uint64_t acc = 0;                                       \
				for (int64_t p = 0; p < k; p++) {                       \
					T x = ta ? a[p * lda + i] : a[i * lda + p];     \
					T w = tb ? b[j * ldb + p] : b[p * ldb + j];     \
					acc += (uint64_t)x * (uint64_t)w;               \
				}                                                       \
				y[i * ldy + j] = (T)acc;                                \
			}                                                               \
	}
MATMUL_INT_KERNEL(int32_t, mm_i32)
MATMUL_INT_KERNEL(int64_t, mm_i64)
MATMUL_INT_KERNEL(uint32_t, mm_u32)
MATMUL_INT_KERNEL(uint64_t, mm_u64)
#undef MATMUL_INT_KERNEL

/* y = alpha op(a) op(b) + beta y for any supported dtype (alpha, beta
 * apply to the float types only; integers get alpha 1, beta 0). */
static void mm(ir_dtype t, int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
	       const void *a, int64_t lda, const void *b, int64_t ldb, double beta, void *y,
	       int64_t ldy)
{
	if (m == 0 || n == 0)
		return;
	if (k == 0) {
		/* BLAS rejects k = 0 with its leading-dimension checks */
		if (beta == 0.0 || !ir_dtype_is_float(t))
			for (int64_t i = 0; i < m; i++)
				memset((char *)y + (size_t)(i * ldy) * ir_dtype_size(t), 0,
				       (size_t)n * ir_dtype_size(t));
		return;
	}
	CBLAS_TRANSPOSE tra = ta ? CblasTrans : CblasNoTrans, trb = tb ? CblasTrans : CblasNoTrans;
	switch (t) {
	case IR_F32:
		cblas_sgemm(CblasRowMajor, tra, trb, (blasint)m, (blasint)n, (blasint)k, (float)alpha,
			    a, (blasint)max1(lda), b, (blasint)max1(ldb), (float)beta, y,
			    (blasint)max1(ldy));
		break;
	case IR_F64:
		cblas_dgemm(CblasRowMajor, tra, trb, (blasint)m, (blasint)n, (blasint)k, alpha, a,
			    (blasint)max1(lda), b, (blasint)max1(ldb), beta, y, (blasint)max1(ldy));
		break;
	case IR_I32: mm_i32(ta, tb, m, n, k, a, lda, b, ldb, y, ldy); break;
	case IR_I64: mm_i64(ta, tb, m, n, k, a, lda, b, ldb, y, ldy); break;
	case IR_U32: mm_u32(ta, tb, m, n, k, a, lda, b, ldb, y, ldy); break;
	case IR_U64: mm_u64(ta, tb, m, n, k, a, lda, b, ldb, y, ldy); break;
	default: IR_UNREACHABLE();
	}
}

static void *elem(const ir_tensor *t, int64_t i)
{
	return (char *)t->data + (size_t)i * ir_dtype_size(t->dtype);
}

static int gemm_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *a = in[0], *b = in[1], *c = n->nin > 2 ? in[2] : NULL;
	ir_tensor *y = out[0];
	int ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
	double alpha = ir_attr_float(n, "alpha", 1.0), beta = ir_attr_float(n, "beta", 1.0);
	int64_t m = y->dims[0], nn = y->dims[1], k = a->dims[!ta];
	int isf = ir_dtype_is_float(y->dtype);
	if (c && beta == 0.0)
		c = NULL;
	int64_t dims[2] = {m, nn}, st[2] = {0, 0};
	if (c)
		op_broadcast_strides(c, 2, dims, st);
	if (isf && c) /* BLAS adds alpha A'B' to the broadcast beta C */
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < nn; j++)
				ir_tensor_set_f64(y, i * nn + j,
						  beta * ir_tensor_get_f64(c, i * st[0] + j * st[1]));
	mm(y->dtype, ta, tb, m, nn, k, alpha, a->data, a->dims[1], b->data, b->dims[1],
	   c ? 1.0 : 0.0, y->data, nn);
	if (isf)
		return 0;
	/* integers: exact (wrapping) when alpha and beta are 1, else via double */
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < nn; j++) {
			int64_t o = i * nn + j, ci = i * st[0] + j * st[1];
			if (alpha != 1.0)
				ir_tensor_set_f64(y, o, alpha * ir_tensor_get_f64(y, o));
			if (c && beta == 1.0)
				ir_tensor_set_i64(y, o, (int64_t)((uint64_t)ir_tensor_get_i64(y, o) +
								  (uint64_t)ir_tensor_get_i64(c, ci)));
			else if (c)
				ir_tensor_set_f64(y, o, ir_tensor_get_f64(y, o) +
							beta * ir_tensor_get_f64(c, ci));
		}
	(void)g;
	return 0;
}

static int matmul2_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *a = in[0], *b = in[1];
	ir_tensor *y = out[0];
	int a1 = a->rank == 1, b1 = b->rank == 1;
	int64_t m = a1 ? 1 : a->dims[a->rank - 2], k = a->dims[a->rank - 1];
	int64_t nn = b1 ? 1 : b->dims[b->rank - 1];
	int brank = y->rank - !a1 - !b1;
	int64_t bdims[IR_MAX_RANK], nbatch = 1;
	for (int i = 0; i < brank; i++)
		nbatch *= bdims[i] = y->dims[i];
	/* Batch parts of A and B viewed as tensors, for their broadcast strides. */
	ir_tensor va = {.rank = a->rank > 2 ? a->rank - 2 : 0};
	ir_tensor vb = {.rank = b->rank > 2 ? b->rank - 2 : 0};
	memcpy(va.dims, a->dims, sizeof(int64_t) * (size_t)va.rank);
	memcpy(vb.dims, b->dims, sizeof(int64_t) * (size_t)vb.rank);
	int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK];
	op_broadcast_strides(&va, brank, bdims, sa);
	op_broadcast_strides(&vb, brank, bdims, sb);
	int b_shared = 1, a_full = a->rank - 2 == brank;
	for (int i = 0; i < brank; i++) {
		b_shared &= sb[i] == 0;
		a_full &= a->dims[i] == bdims[i];
	}
	if (b_shared && a_full) {
		/* One B for every batch and A contiguous: a single tall product. */
		mm(y->dtype, 0, 0, nbatch * m, nn, k, 1.0, a->data, k, b->data, nn, 0.0, y->data, nn);
		return 0;
	}
	int64_t idx[IR_MAX_RANK] = {0};
	for (int64_t bi = 0; bi < nbatch; bi++) {
		int64_t oa = 0, ob = 0;
		for (int i = 0; i < brank; i++) {
			oa += idx[i] * sa[i];
			ob += idx[i] * sb[i];
		}
		mm(y->dtype, 0, 0, m, nn, k, 1.0, elem(a, oa * m * k), k, elem(b, ob * k * nn), nn, 0.0,
		   elem(y, bi * m * nn), nn);
		for (int i = brank - 1; i >= 0 && ++idx[i] == bdims[i]; i--)
			idx[i] = 0;
	}
	(void)g;
	(void)n;
	return 0;
}

int matmul_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	return n->op == IR_OP_Gemm ? gemm_run(g, n, in, out) : matmul2_run(g, n, in, out);
}
