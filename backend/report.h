/* report.h - the compilation report (--emit=report, OUT.json) and the small
 * JSON writer it is built with. Later sections (healing, disentangling,
 * circuits) add a field to report_info and a writer function in report.c. */
#ifndef QNNC_REPORT_H
#define QNNC_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../passes/compress.h"
#include "../passes/disentangle.h"
#include "../passes/train.h"
#include "qasm.h"

/* ------------------------------------------------------ JSON writer */

/* Streaming writer: keys and values in call order (so the output is as
 * deterministic as the calls), two-space indentation, arrays of scalars on
 * one line when opened with json_array(w, 1). Strings are escaped (control
 * characters as \u00XX, invalid UTF-8 bytes as U+FFFD); doubles print with
 * %.17g (round-trip exact), NaN and infinities as null. Misuse (a value
 * where a key is due, unbalanced ends) is an internal error (IR_ASSERT). */
#define JSON_MAX_DEPTH 32

typedef struct json_writer {
	FILE *f;
	int depth;
	int count[JSON_MAX_DEPTH];  /* elements written at each depth */
	char kind[JSON_MAX_DEPTH];  /* '{' or '[' */
	char inl[JSON_MAX_DEPTH];   /* array on one line */
	int want_value;             /* a key was written */
} json_writer;

void json_init(json_writer *w, FILE *f);
void json_object(json_writer *w);          /* { */
void json_array(json_writer *w, int inline_); /* [ */
void json_end(json_writer *w);             /* } or ] */
void json_key(json_writer *w, const char *key);
void json_string(json_writer *w, const char *s); /* NULL: null */
void json_double(json_writer *w, double v);
void json_int(json_writer *w, int64_t v);
void json_bool(json_writer *w, int v);
void json_null(json_writer *w);
/* A key and its value in one call. */
void json_kstring(json_writer *w, const char *key, const char *s);
void json_kdouble(json_writer *w, const char *key, double v);
void json_kint(json_writer *w, const char *key, int64_t v);
void json_kbool(json_writer *w, const char *key, int v);
/* Finish the document (a newline); returns 0, or -1 on a write error. */
int json_finish(json_writer *w);

/* ----------------------------------------------------------- report */

/* Accuracy on a dataset (--eval): the model as loaded ([0]), after
 * compression ([1], when have_after), after healing ([2], when
 * have_healed) and after disentangling ([3], when have_dis; computed
 * classically by the interpreter). */
typedef struct report_eval {
	const char *dataset, *preprocess;
	int64_t n;
	int64_t correct[4];
	double accuracy[4], seconds[4];
	int have_after, have_healed, have_dis;
	int64_t agree;              /* images [0] and [1] classify the same way */
	int64_t agree_healed;       /* images [0] and [2] classify the same way */
	int64_t agree_dis;          /* images [0] and [3] classify the same way */
} report_eval;

/* Healing (--heal): the recipe, one entry per epoch, and the test split
 * before and after (the training engine's float32 forward pass). */
typedef struct report_heal {
	const char *dataset, *preprocess;
	const char *train;          /* "layer" or "all" */
	int epochs;
	int64_t batch;
	const char *optimizer, *schedule;
	double lr, momentum, weight_decay; /* momentum: SGD only */
	int augment;
	uint64_t seed;
	int threads;                /* BLAS threads while training */
	int64_t limit;              /* --heal-limit (0: none) */
	int64_t train_images, holdout_images;
	int64_t params_trainable, params_total;
	int ntensors_trainable;
	const train_epoch_stats *epoch; /* epochs entries */
	int64_t test_n;
	double test_loss[2], test_accuracy[2]; /* before, after */
	double seconds;             /* training wall time */
} report_heal;

/* One quantum stage of the hybrid program (a Circuit node with a stage). */
typedef struct report_stage {
	int stage;
	const char *node;           /* the Circuit node */
	int qubits;                 /* data qubits; the program has one more (the read-out ancilla) */
	int gates;                  /* gates of the circuit */
	qasm_stats stats;           /* counts of the emitted program */
	const char *file;           /* OUT.stageN.qasm, or NULL when not written */
} report_stage;

/* Disentangling (--sides): the pass's result and the options of the
 * hybrid program. */
typedef struct report_dis {
	const disentangle_result *result;
	const char *calib, *preprocess; /* --calib dataset, or NULL */
	int64_t calib_limit;
	const char *readout;        /* "exact", "shots" or "classical" */
	long shots;
	int isa;
	int nstages;
	const report_stage *stage;
} report_dis;

typedef struct report_info {
	const char *model;          /* MODEL.onnx, or NULL */
	const char *matrix;         /* W.npy for --matrix, or NULL */
	int nflags;                 /* the command's options as given */
	const char *const *flag_name;
	const char *const *flag_value;
	const char *layers;         /* --layers spec, or NULL */
	const select_result *selection;    /* NULL: no selection ran */
	const compress_result *compression; /* NULL: nothing compressed */
	const report_eval *eval;    /* NULL: no --eval */
	const report_heal *heal;    /* NULL: no --heal */
	const report_dis *disentangle; /* NULL: no --sides */
} report_info;

/* Write the report as one JSON object: qnnc_version, input, flags,
 * selection, compression, disentangle (with --sides), eval (with --eval),
 * heal (with --heal).
 * Returns 0 or -1 (write error). */
int report_write(FILE *f, const report_info *r);

#endif
