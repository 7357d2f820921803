/* report.h - the compilation report (--emit=report, OUT.json) and the small
 * JSON writer it is built with. Later sections (healing, disentangling,
 * circuits) add a field to report_info and a writer function in report.c. */
#ifndef QNNC_REPORT_H
#define QNNC_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../passes/compress.h"

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
/* Finish the document (a newline); returns 0, or -1 on a write error. */
int json_finish(json_writer *w);

/* ----------------------------------------------------------- report */

typedef struct report_info {
	const char *model;          /* MODEL.onnx, or NULL */
	const char *matrix;         /* W.npy for --matrix, or NULL */
	int nflags;                 /* the command's options as given */
	const char *const *flag_name;
	const char *const *flag_value;
	const char *layers;         /* --layers spec, or NULL */
	const select_result *selection;    /* NULL: no selection ran */
	const compress_result *compression; /* NULL: nothing compressed */
} report_info;

/* Write the report as one JSON object: qnnc_version, input, flags,
 * selection, compression. Returns 0 or -1 (write error). */
int report_write(FILE *f, const report_info *r);

#endif
