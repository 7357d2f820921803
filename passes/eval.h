/* eval.h - top-1 accuracy of a classifier graph on an image dataset
 * (--eval=DATASET, --preprocess): the graph runs in the reference
 * interpreter over the whole split in mini-batches, the prediction of an
 * image is the argmax of the output's last axis, and the result is the
 * fraction of images whose prediction equals the label.
 *
 * The model must have one float input and one output. The input takes the
 * images as [b, c, h, w], or flattened as [b, c·h·w] (also [b, h, w] when
 * c = 1); the output is [b, classes] (any size-1 axes in between are
 * allowed). A symbolic batch dimension (N) runs batches of the requested
 * size; a fixed one (B) runs batches of exactly B, the last one padded
 * with zero images whose outputs are ignored (B = 1: one image at a time).
 * Ties and NaN: the first maximal logit wins, NaN logits never do, and an
 * image whose logits are all NaN counts as wrong (prediction -1).
 * Everything is deterministic: same graph and data, same predictions.
 *
 * Progress: a bar on stderr (only on a terminal and when not quiet), with
 * the running accuracy; it is erased at the end, so the caller prints the
 * result. Errors go through ir_error on the graph evaluated and return -1.
 *
 * Usage in the driver (after load, infer and fold; d is the test split):
 *
 *	ds_preprocess pp = {0};
 *	if (o.preprocess && ds_preprocess_parse(o.preprocess, &pp, err, sizeof err))
 *		-> print "qnnc: --preprocess: <err>", exit 2
 *	ds_set *d = ds_load(o.eval, DS_TEST, err, sizeof err);   -> NULL: print err
 *	int32_t *p0 = malloc(d->n * sizeof *p0), *p1 = ...;
 *	eval_result r0, r1;
 *	if (eval_predict(g, d, &pp, 0, o.quiet, "original", p0, &r0))
 *		goto fail;                                       (g->err says why)
 *	... pass_select / pass_compress / pass_infer on g ...
 *	if (eval_predict(g, d, &pp, 0, o.quiet, "compressed", p1, &r1))
 *		goto fail;
 *	double agree = (double)eval_agreement(p0, p1, d->n) / (double)d->n;
 *	fprintf(stderr, "qnnc: %s: original %.2f%%, compressed %.2f%%\n", ...);
 *	-> report: "eval": {"dataset": o.eval, "original": {"accuracy": r0.accuracy,
 *	   "correct": r0.correct, "n": r0.n}, "compressed": {...}, "agreement": agree}
 *
 * eval_predict with p0/p1 = NULL is eval_accuracy; eval_compare runs two
 * graphs that are both in memory.
 */
#ifndef QNNC_EVAL_H
#define QNNC_EVAL_H

#include <stdint.h>

#include "../frontend/dataset.h"
#include "../ir/ir.h"

#define EVAL_DEFAULT_BATCH 100

typedef struct eval_result {
	int64_t n;            /* images evaluated */
	int64_t correct;      /* predictions equal to the label */
	double accuracy;      /* correct / n */
	double seconds;       /* wall time, preprocessing included */
	double images_per_s;
	int64_t batch;        /* batch size actually run */
	int64_t classes;      /* size of the output's last axis */
} eval_result;

/* Accuracy of g on all of d. pp may be NULL (pixels in [0, 1]); batch <= 0
 * means EVAL_DEFAULT_BATCH (ignored when the graph fixes the batch size);
 * label names the progress bar (NULL: "eval"). The graph is not modified
 * and needs no prior inference, though errors are clearer after it.
 * Returns 0 and fills res, or -1 with ir_error(g). */
int eval_accuracy(ir_graph *g, const ds_set *d, const ds_preprocess *pp, int batch, int quiet,
		  const char *label, eval_result *res);

/* Same, and pred (may be NULL; d->n entries) receives every image's
 * predicted class, -1 where all logits are NaN. */
int eval_predict(ir_graph *g, const ds_set *d, const ds_preprocess *pp, int batch, int quiet,
		 const char *label, int32_t *pred, eval_result *res);

/* Number of positions where a and b hold the same prediction. */
int64_t eval_agreement(const int32_t *a, const int32_t *b, int64_t n);

/* Two graphs (e.g. original and compressed) on the same images. */
typedef struct eval_comparison {
	eval_result a, b;
	int64_t agree;        /* images both graphs classify the same way */
	double agreement;     /* agree / n */
} eval_comparison;

/* Evaluate ga (bar label "original") then gb ("compressed") on d and count
 * the images with equal predictions. -1 with ir_error on the graph that
 * failed (ga->nerrors / gb->nerrors tell which). */
int eval_compare(ir_graph *ga, ir_graph *gb, const ds_set *d, const ds_preprocess *pp, int batch,
		 int quiet, eval_comparison *res);

#endif
