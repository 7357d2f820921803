/* cgen.h - the C backend: one standalone C99 file (+ header) per model. */
#ifndef QNNC_CGEN_H
#define QNNC_CGEN_H

#include <stdio.h>

#include "../ir/ir.h"

typedef struct cgen_options {
	const char *name;  /* entry-point prefix, a C identifier */
	int use_cblas;     /* call cblas_sgemm for Gemm/MatMul/Conv */
} cgen_options;

/* Emit the C source to c and the header to h (header_name is what the
 * source #includes). The graph must be inferred, folded, with all shapes
 * known. Returns 0 or -1 with ir_error. */
int cgen_emit(ir_graph *g, const cgen_options *o, const char *header_name, FILE *c, FILE *h);

#endif
