/* op_conv.h - sliding-window geometry shared by Conv (op_conv.c) and the
 * pooling ops (op_pool.c): the attributes kernel_shape, strides,
 * dilations, pads, auto_pad (and ceil_mode for pooling), their checks and
 * the output extent / effective pads of every spatial dim.
 *
 * Output extent of one spatial dim (ek = (kernel - 1) * dilation + 1):
 *   NOTSET, VALID (pads 0):  floor((in + lo + hi - ek) / stride) + 1, or with
 *       ceil_mode the ceiling, less one when that last window would start
 *       in the end padding (it must start inside the input or the begin pad);
 *   SAME_UPPER / SAME_LOWER: ceil(in / stride), total pad
 *       max(0, (out - 1) * stride + ek - in), the odd unit at the end
 *       (UPPER) or at the beginning (LOWER).
 */
#ifndef QNNC_OP_CONV_H
#define QNNC_OP_CONV_H

#include "ops.h"

enum { CONV_NOTSET, CONV_VALID, CONV_SAME_UPPER, CONV_SAME_LOWER };

typedef struct conv_win {
	int nsp;        /* spatial rank, -1 until known */
	int auto_pad;   /* CONV_NOTSET ... */
	int ceil_mode;
	int has_kernel; /* kernel_shape was given */
	int64_t kernel[IR_MAX_RANK];
	int64_t stride[IR_MAX_RANK];
	int64_t dil[IR_MAX_RANK];
	int64_t pads[2 * IR_MAX_RANK]; /* begins, then ends (ONNX order) */
} conv_win;

/* Read and check the window attributes of n (ceil_mode too when
 * with_ceil). nsp is the spatial rank when known (else -1): attribute
 * lengths must agree with it and with each other. */
int conv_win_parse(ir_graph *g, ir_node *n, conv_win *w, int nsp, int with_ceil);

/* Output extent of spatial dim d for an input extent in, and the begin /
 * end pads the window really uses. in < 0 (unknown) gives *out = -1. */
int conv_win_dim(ir_graph *g, ir_node *n, const conv_win *w, int d, int64_t in, int64_t *out,
		 int64_t *lo, int64_t *hi);

/* The geometry of one Conv on concrete shapes (X dims, W dims), for the
 * interpreter and the C emitter. */
typedef struct conv_plan {
	int nsp;
	int pointwise; /* kernels 1, strides 1, no pads: X is its own im2col matrix */
	int64_t in[IR_MAX_RANK], out[IR_MAX_RANK], k[IR_MAX_RANK];
	int64_t s[IR_MAX_RANK], d[IR_MAX_RANK], lo[IR_MAX_RANK];
	int64_t kn, pn, inplane; /* kernel positions, output positions, input plane */
} conv_plan;

int conv_plan_make(ir_graph *g, ir_node *n, int rank, const int64_t *xdims,
		   const int64_t *wdims, conv_plan *p);

#endif
