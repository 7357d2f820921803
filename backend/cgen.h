/* cgen.h - the C backend: one standalone C99 file (+ header) per model. */
#ifndef QNNC_CGEN_H
#define QNNC_CGEN_H

#include <stdio.h>

#include "../ir/ir.h"

typedef struct cgen_options {
	const char *name;  /* entry-point prefix, a C identifier */
	int use_cblas;     /* call cblas_sgemm for Gemm/MatMul/Conv */
	/* Circuit nodes (DESIGN.md §6). Zero-initialised fields give quantum
	 * stages for the nodes with a stage, exact read-out, the portable gate
	 * set. */
	int classical_circuits; /* 1: every Circuit node runs as gates in C (no runtime) */
	int readout;       /* default read-out compiled into _init: QNN_READOUT_EXACT (0)
	                      or QNN_READOUT_SHOTS (1) of runtime/qnnrt.h */
	long shots;        /* default shots (0: 1000) */
	int isa;           /* stage programs in the rz/sx/x/cx basis on physical qubits */
} cgen_options;

/* Emit the C source to c and the header to h (header_name is what the
 * source #includes). The graph must be inferred, folded, with all shapes
 * known. With a quantum stage the code includes "qnnrt.h" and links
 * libqnnrt; each stage's program text is embedded, byte for byte what
 * stage_program (backend/stage.h) returns. Returns 0 or -1 with ir_error. */
int cgen_emit(ir_graph *g, const cgen_options *o, const char *header_name, FILE *c, FILE *h);

#endif
