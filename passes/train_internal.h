/* train_internal.h - what the training engine (train.c) shares with its
 * per-op kernels (train_ops.c, train_conv.c, train_mpo.c, train_circuit.c):
 * the value and node records of the tape and the kernel table.
 *
 * Every value the forward pass touches has a tr_val: constants point at
 * their tensor, parameters at the engine's copy, activations at a buffer
 * the engine sizes for the batch. A kernel's forward reads in[i]->x and
 * writes out[i]->x (dims already set by shape inference for this batch);
 * its backward reads out[0]->dx and ADDS into in[i]->dx wherever that is
 * non-NULL (the input needs a gradient). Gradient buffers are zeroed
 * before each backward pass, so kernels never overwrite.
 *
 * A new op plugs in with one tr_kernel entry in a kernel file's table:
 * which inputs are parameters, forward, backward, and a gradient check in
 * tests/unit/test_train_grad.c. Constrained parameters (Circuit's
 * orthogonal gates) add a projection after each optimiser step and their
 * own write-back.
 */
#ifndef QNNC_TRAIN_INTERNAL_H
#define QNNC_TRAIN_INTERNAL_H

#include "train.h"

#include <stddef.h>

enum {
	TV_CONST,     /* constant data (float or not), never changes */
	TV_PARAM,     /* float constant in a parameter slot: train_param.w */
	TV_ACT,       /* float activation, recomputed per batch */
	TV_INT,       /* non-float value computed per batch by the interpreter */
};

typedef struct tr_val {
	ir_value *v;
	int kind;
	int rank;
	int64_t dims[IR_MAX_RANK];
	int64_t numel;
	float *x;             /* data (float kinds) */
	float *dx;            /* gradient, NULL when none is needed */
	int needs_grad;
	int param;            /* index in the parameter list, or -1 */
	struct tr_val *alias; /* shares x and dx with this value (views) */
	ir_tensor *t;         /* TV_CONST: the data; TV_INT: this batch's tensor */
	int own_t;            /* t was made by the engine */
	float *buf, *gbuf;    /* owned storage of x and dx */
	size_t cap, gcap;     /* their capacity in floats */
} tr_val;

struct tr_kernel;

typedef struct tr_node {
	ir_node *n;
	const struct tr_kernel *k; /* NULL: run by the interpreter (no gradient) */
	int nin, nout;
	tr_val **in, **out;   /* NULL entries for omitted optional ones */
	const struct tr_extra *x; /* NULL for most ops */
	int backward;         /* some input needs a gradient */
	void *state;          /* kernel-private, freed by k->release */
} tr_node;

typedef struct tr_kernel {
	ir_op op;
	unsigned params;      /* bit i: input i is a parameter when constant float */
	int view;             /* output 0 is input 0 reshaped: shares x and dx */
	/* Build time: refuse what the kernel does not do (may be NULL). */
	int (*check)(train_model *m, tr_node *t);
	int (*forward)(train_model *m, tr_node *t);
	int (*backward)(train_model *m, tr_node *t);
	void (*release)(tr_node *t); /* free t->state (may be NULL) */
} tr_kernel;

/* What a few kernels add to tr_kernel (a separate table, so the kernel
 * tables keep their short initialisers): parameters that are f64 in the
 * graph and constrained parameters. */
typedef struct tr_extra {
	ir_op op;
	unsigned f64params;   /* bit i: input i may also be an f64 constant; the
	                         engine trains a float copy, write_back stores it */
	/* After every optimiser step (train_project): map the node's trainable
	 * parameters back onto their constraint set. 0 or -1 with ir_error. */
	int (*project)(train_model *m, tr_node *t);
	/* train_write_back of the node's parameters that are not f32 in the
	 * graph (the engine copies the f32 ones itself). */
	void (*write_back)(train_model *m, tr_node *t);
} tr_extra;

/* The kernel for op, or NULL when training does not support it. */
const tr_kernel *tr_kernel_find(ir_op op);

/* Engine services for the kernels (train.c). */
ir_graph *tr_graph(train_model *m);
/* A grow-only scratch buffer of at least n floats; slot 0..3 are
 * independent. NULL (after ir_error on t's node) when out of memory. */
float *tr_scratch(train_model *m, tr_node *t, int slot, size_t n);

/* The kernel files' tables (joined by tr_kernel_find). */
extern const tr_kernel tr_kernels_ops[];
extern const int tr_nkernels_ops;
extern const tr_kernel tr_kernels_conv[];
extern const int tr_nkernels_conv;
extern const tr_kernel tr_kernels_mpo[];
extern const int tr_nkernels_mpo;
extern const tr_kernel tr_kernels_circuit[];
extern const int tr_nkernels_circuit;
extern const tr_extra tr_extras_circuit[];
extern const int tr_nextras_circuit;

/* Broadcast helpers (train_ops.c), shared by the binary ops and Gemm's C:
 * y[i] (rank, dims) += alpha · a[broadcast i] ... see the definitions. */
void tr_bcast_strides(const tr_val *v, int rank, const int64_t *dims, int64_t *st);
/* y (dims, contiguous) = alpha · a broadcast (strides sa). */
void tr_bcast_copy(float *y, int rank, const int64_t *dims, const float *a, const int64_t *sa,
		   float alpha);
/* da (strides sa) += alpha · dy summed over the broadcast dims. */
void tr_bcast_reduce(float *da, const int64_t *sa, int rank, const int64_t *dims,
		     const float *dy, float alpha);

#endif
