/* train.h - the training engine behind healing (DESIGN.md §3b): reverse-mode
 * gradients over an IR graph in float32, the optimisers and learning-rate
 * schedules (optim.c), and the epoch loop over an image dataset.
 *
 * Model. train_new takes an inferred graph with one float32 input (the
 * images, batch as the leading dim) and one output (the logits [N, classes],
 * size-1 axes in between allowed). The loss is the softmax cross-entropy of
 * the logits, averaged over the batch. A trailing Softmax or LogSoftmax over
 * the class axis is skipped and the loss taken on its input: the same loss
 * (CE of softmax(z) = CE of log_softmax(z)) and the same argmax.
 *
 * Parameters are the constant float32 inputs of the trainable slots: Gemm
 * B and C, MatMul's constant operand, the constant operand of Add / Sub /
 * Mul / Div (unless it is a scalar: x/255 is not a weight), Conv W and B,
 * BatchNormalization scale and B (the statistics stay frozen), MpoLinear
 * bias and cores, Circuit gates G (f64 in the graph) and B. The engine
 * trains its own float copy; train_write_back stores it into the graph's
 * constants (ir_value->konst), so the C backend then emits the healed
 * weights. A constant used by several nodes is one parameter (its
 * gradients add up).
 *
 * Constraints. Circuit gates must stay orthogonal: after every optimiser
 * step train_project replaces each gate block by its polar factor (the
 * nearest orthogonal matrix, computed in double), and train_write_back
 * stores the polar factor of every changed gate as f64 (gates that did not
 * move keep their f64 values bit for bit).
 *
 * Ops with float activations and a gradient: Gemm, MatMul, Add, Sub, Mul,
 * Div, Relu, LeakyRelu, Sigmoid, Tanh, Conv, MaxPool, AveragePool,
 * GlobalAveragePool, GlobalMaxPool, BatchNormalization (inference form),
 * Softmax, LogSoftmax, MpoLinear, Circuit, and the data movement Identity,
 * Dropout (inference: the identity), Flatten, Reshape, Squeeze, Unsqueeze,
 * Transpose. Nodes whose outputs are all integers or bools (Shape, Gather
 * on shapes, Concat of shape vectors ...) run in the reference interpreter
 * on every forward pass and carry no gradient, so exported "view(N, -1)"
 * chains work. Nodes that only read constants are evaluated once, at
 * train_new (fold the graph first, so that those are not parameters). Any
 * other op on the path to the logits is refused, naming the node.
 *
 * Speed and determinism: the batch is the leading dim of every activation;
 * Gemm, MatMul, Conv (im2col, one product per image) and MpoLinear run
 * through la_sgemm (OpenBLAS, all its threads), Circuit in double through
 * la_gemm, everything else in plain sequential loops. The result is bit-identical from run to run for
 * the same seed and the same BLAS thread count (la_set_threads).
 *
 * Errors go through ir_error on the graph and return -1 (or NULL).
 */
#ifndef QNNC_TRAIN_H
#define QNNC_TRAIN_H

#include <stdint.h>

#include "../frontend/dataset.h"
#include "../ir/ir.h"

/* ---------------------------------------------------------- optim.c */

/* SGD (PyTorch's torch.optim.SGD, dampening 0):
 *   g += wd·w;  v = μ v + g (v = g on the first step);
 *   w -= lr · (nesterov ? g + μ v : v).
 * Adam (Kingma & Ba, ICLR 2015, as torch.optim.Adam computes it):
 *   g += wd·w (coupled, Adam) or w *= 1 − lr·wd (decoupled, AdamW:
 *   Loshchilov & Hutter, ICLR 2019);  m = β1 m + (1 − β1) g;
 *   v = β2 v + (1 − β2) g²;  w -= lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε).
 * State is float32 like the weights; every update is a plain loop, so the
 * step is deterministic. */
typedef enum optim_kind { OPTIM_SGD, OPTIM_ADAM } optim_kind;

typedef struct optim_opts {
	optim_kind kind;
	double lr;            /* base (peak) learning rate */
	double momentum;      /* SGD μ (0: plain SGD) */
	int nesterov;         /* SGD: Nesterov momentum (needs μ > 0) */
	double beta1, beta2;  /* Adam */
	double eps;           /* Adam */
	double weight_decay;  /* L2 (SGD, Adam) or decoupled (AdamW) */
	int decoupled;        /* Adam: AdamW-style weight decay */
} optim_opts;

/* Defaults of PyTorch: SGD lr 0.01, momentum 0.9; Adam lr 1e-3, betas
 * (0.9, 0.999), eps 1e-8; no weight decay. */
void optim_defaults(optim_opts *o, optim_kind kind);
/* Range checks (lr > 0, 0 ≤ μ < 1, 0 ≤ β < 1, eps > 0, wd ≥ 0, all
 * finite). Returns 0, or -1 with a message in err. */
int optim_check(const optim_opts *o, char *err, size_t errlen);

/* Learning rate at step t (0-based) of total steps:
 *   CONSTANT: lr (after the warmup);
 *   COSINE: linear warmup from lr/warmup to lr over `warmup` steps, then
 *     lr_min + (lr − lr_min)(1 + cos(π s/S))/2 over the remaining S steps,
 *     lr_min = lr·min_ratio (Loshchilov & Hutter, "SGDR", ICLR 2017);
 *   ONECYCLE: as torch.optim.lr_scheduler.OneCycleLR (cos annealing):
 *     from lr/div_factor up to lr over pct_start·total steps, then down to
 *     lr/(div_factor·final_div) (Smith & Topin, "Super-convergence", 2017).
 * warmup applies to CONSTANT too. */
typedef enum sched_kind { SCHED_CONSTANT, SCHED_COSINE, SCHED_ONECYCLE } sched_kind;

typedef struct sched_opts {
	sched_kind kind;
	int64_t warmup;       /* steps of linear warmup (CONSTANT, COSINE) */
	double min_ratio;     /* COSINE: final lr / lr (default 0) */
	double pct_start;     /* ONECYCLE: rising fraction (default 0.3) */
	double div_factor;    /* ONECYCLE: initial lr = lr / div_factor (25) */
	double final_div;     /* ONECYCLE: final lr = initial / final_div (1e4) */
} sched_opts;

void sched_defaults(sched_opts *s, sched_kind kind);
double sched_lr(const sched_opts *s, double lr, int64_t step, int64_t total);

/* Optimiser state for nparams float tensors of the given sizes. */
typedef struct optim optim;
optim *optim_new(const optim_opts *o, int nparams, const int64_t *sizes);
void optim_free(optim *o);
/* One step on every tensor: w[i] (sizes[i] floats) moves along g[i]
 * (may be modified: weight decay is added to it) with learning rate lr. */
void optim_step(optim *o, float *const *w, float *const *g, double lr);
/* Steps taken so far. */
int64_t optim_steps(const optim *o);

/* ---------------------------------------------------------- train.c */

typedef enum train_scope {
	TRAIN_ALL,    /* every parameter */
	TRAIN_LAYER,  /* only the rewritten layers: MpoLinear cores and bias,
	                 Circuit gates and bias */
	TRAIN_NONE,   /* nothing (select with train_set_trainable) */
} train_scope;

typedef struct train_opts {
	train_scope scope;
	int keep_softmax;     /* do not skip a trailing Softmax / LogSoftmax */
	int input_grad;       /* also compute the gradient of the input (tests) */
} train_opts;

typedef struct train_param {
	const char *name;     /* the constant's value name */
	ir_value *value;
	const ir_node *node;  /* the first node that uses it as a parameter */
	int64_t numel;
	float *w;             /* the weights being trained (the engine's copy) */
	float *g;             /* gradient of the last train_backward */
	int trainable;
} train_param;

typedef struct train_model train_model;

/* Build the engine for g (inferred, not modified until train_write_back).
 * o may be NULL (TRAIN_ALL). NULL with ir_error(g) when the graph cannot be
 * trained: inputs or outputs other than one each, non-float32 data, an
 * unsupported op on the path to the logits. */
train_model *train_new(ir_graph *g, const train_opts *o);
void train_free(train_model *m);

int train_nparams(const train_model *m);
train_param *train_param_at(train_model *m, int i);
/* Trainable parameters and their total element count. */
int64_t train_ntrainable(const train_model *m, int *count);
/* Set the trainable flag of the parameters named name, or of all
 * parameters of the node named name. Returns how many matched (0: none). */
int train_set_trainable(train_model *m, const char *name, int on);

/* Floats per sample of the input (c·h·w for images); classes of the loss. */
int64_t train_sample_size(const train_model *m);
int64_t train_classes(const train_model *m);

/* Forward pass on a batch x [b, sample] (b ≥ 1), saving what the backward
 * pass needs; x is read, not copied, so it must stay unchanged until
 * train_backward. Returns 0 or -1 with ir_error. */
int train_forward(train_model *m, const float *x, int64_t b);
/* The logits of the last forward pass, [b, classes] row-major. */
const float *train_logits(const train_model *m);
/* Softmax cross-entropy of the last forward pass against labels (b of
 * them, each < classes), averaged over the batch; also sets the gradient
 * of the logits for train_backward. *correct (may be NULL) gets the number
 * of argmax hits (first maximum wins). Labels out of range: -1 with
 * ir_error. */
int train_loss(train_model *m, const uint8_t *labels, double *loss, int64_t *correct);
/* Where a caller with its own loss writes dL/dlogits ([b, classes]). */
float *train_logits_grad(train_model *m);
/* Back-propagate the logits gradient: fills train_param.g of the trainable
 * parameters (overwritten, not accumulated) and, with input_grad, the
 * input gradient. 0 or -1. */
int train_backward(train_model *m);
/* dL/dx of the last backward pass ([b, sample]); NULL without input_grad. */
const float *train_input_grad(const train_model *m);

/* Map the trainable parameters back onto their constraint sets (Circuit
 * gates: the polar factor of each gate block). train_fit calls it after
 * every optimiser step; a caller running its own optim_step loop must
 * too. 0 or -1 with ir_error (a gate with non-finite entries). */
int train_project(train_model *m);

/* Copy the trained weights into the graph's constants (f64 Circuit gates:
 * their polar factors, see Constraints above). */
void train_write_back(train_model *m);

/* --------------------------------------------------- the epoch loop */

typedef struct train_epoch_stats {
	int epoch;            /* 1-based */
	double loss;          /* mean training loss over the epoch */
	double accuracy;      /* training accuracy (on the augmented batches) */
	double val_loss, val_accuracy; /* on the held-out set (-1 without one) */
	double lr;            /* learning rate of the last step */
	double seconds;       /* wall time of the epoch, validation excluded */
	double images_per_s;
} train_epoch_stats;

typedef void (*train_epoch_fn)(void *ctx, const train_epoch_stats *s);

typedef struct train_config {
	int epochs;
	int64_t batch;
	optim_opts optim;
	sched_opts sched;
	uint64_t seed;        /* shuffling and augmentation (one splitmix64 stream) */
	const ds_preprocess *pp; /* may be NULL */
	ds_augment aug;       /* {0}: none */
	int drop_last;        /* skip a short last batch (0: train it too) */
	int quiet;            /* no progress bar */
	const char *label;    /* progress bar label (NULL: "train") */
	train_epoch_fn on_epoch; /* may be NULL */
	void *ctx;
} train_config;

/* Defaults: 1 epoch, batch 128, Adam (optim_defaults), constant lr, seed 0,
 * no augmentation. */
void train_config_defaults(train_config *c);

/* Train on d for c->epochs epochs: each epoch draws a permutation of d
 * from the seeded stream, cuts it into mini-batches, and per batch runs
 * forward, loss, backward, one optimiser step at sched_lr and
 * train_project. With val (may be NULL), evaluates it after every epoch.
 * stats (may be NULL) receives c->epochs entries. Returns 0 or -1 with
 * ir_error. */
int train_fit(train_model *m, const ds_set *d, const ds_set *val, const train_config *c,
	      train_epoch_stats *stats);

/* Mean loss and accuracy of the current weights on all of d (batch ≤ 0:
 * 256). pred (may be NULL) gets d->n argmax predictions. 0 or -1. */
int train_evaluate(train_model *m, const ds_set *d, const ds_preprocess *pp, int64_t batch,
		   double *loss, double *accuracy, int32_t *pred);

#endif
