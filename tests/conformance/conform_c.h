/* conform_c.h - shared between the conformance runner's files. */
#ifndef QNNC_CONFORM_C_H
#define QNNC_CONFORM_C_H

#include <stddef.h>

#include "../../ir/ir.h"

/* Run a shell command with output to log; returns its exit status. */
int conform_sh(const char *cmd, const char *log);
void conform_first_line(const char *log, char *msg, size_t n);
/* Compare with the backend-test tolerances; message on mismatch. */
int conform_compare(const ir_tensor *got, const ir_tensor *exp, char *msg, size_t n);
int conform_count(const char *set, const char *kind);

/* Mode c: compile model with qnnc, build it with a generated harness,
 * run it on set's inputs and compare with its outputs. */
int conform_run_c(const char *qnnc, const char *cc, const char *model, const char *set,
		  const char *work, char *msg, size_t n);

#endif
