/* driver.h - shared between the qnnc command's files. */
#ifndef QNNC_DRIVER_H
#define QNNC_DRIVER_H

#include "../backend/report.h"
#include "../frontend/dataset.h"
#include "../ir/ir.h"
#include "../passes/eval.h"
#include "../passes/train.h"

/* Print "qnnc: <fmt with arg>" and the --help hint, exit 2. */
_Noreturn void drv_usage_error(const char *fmt, const char *arg);

/* --help text. */
void drv_print_help(void);

/* The compile command: qnnc [options] MODEL.onnx -o OUT. */
int drv_compile(int argc, char **argv);

/* --------------------------------------------------------- evaluate.c */

typedef struct drv_eval {
	ds_set *data;
	ds_preprocess pp;
	int32_t *pred0, *pred1;  /* predictions before / after the rewrites */
	int quiet;
	report_eval rep;
} drv_eval;

/* Load the test split of spec ("mnist:DIR"), parse preprocess (may be
 * NULL) and evaluate g as loaded. -1 with ir_error(g). */
int drv_eval_begin(const char *spec, const char *preprocess, int quiet, ir_graph *g, drv_eval *ev);
/* Evaluate g again if layers were rewritten; print the summary line. */
int drv_eval_end(int rewritten, ir_graph *g, drv_eval *ev);
void drv_eval_free(drv_eval *ev);

/* ------------------------------------------------------------- heal.c */

/* --heal=DATASET and its recipe, as parsed by compile.c. */
typedef struct drv_heal_opts {
	const char *spec;            /* "mnist:DIR" / "cifar10:DIR" */
	const char *preprocess;      /* --preprocess, or NULL */
	train_scope scope;           /* --train=layer|all */
	int epochs;
	int64_t batch;
	optim_opts optim;            /* --optimizer, --lr, --weight-decay */
	sched_opts sched;            /* --schedule */
	int augment;                 /* --augment: crop (pad 4) + flip */
	uint64_t seed;
	int64_t limit;               /* --heal-limit: train on the first N images (0: all) */
	int64_t holdout;             /* --holdout: last N training images held out (0: none) */
	int threads;                 /* BLAS threads in effect while training */
	int quiet;
} drv_heal_opts;

typedef struct drv_heal {
	train_epoch_stats *stats;    /* epochs entries */
	report_heal rep;
} drv_heal;

/* Fine-tune g (compressed and inferred) on the training split, measure
 * the test split before and after, and write the weights back into g's
 * constants. Prints progress unless quiet. -1 with ir_error(g). */
int drv_heal_run(const drv_heal_opts *o, ir_graph *g, drv_heal *h);
/* --eval after healing: the healed model on ev's test split, as the
 * report's eval.healed; prints the summary line. -1 with ir_error(g). */
int drv_heal_eval(ir_graph *g, drv_eval *ev);
/* --eval after disentangling: the disentangled model (run classically by
 * the interpreter) as the report's eval.disentangled. */
int drv_dis_eval(ir_graph *g, drv_eval *ev);
void drv_heal_free(drv_heal *h);

#endif
