/* disentangle.h - the disentangle pass (DESIGN.md §4): every selected
 * layer, already an MpoLinear node (one qubit per site), is approximated as
 * W ≈ U M' Vᵀ with passes/dis.h and rewritten into up to three nodes, in
 * graph order (the contract of the Circuit op, ir/ops.def):
 *
 *   <layer>/V  Circuit(X, <layer>.V.gates)      qubits m, cols K, rows 2^m,
 *                                               transpose 1, stage s
 *   <layer>/M  MpoLinear(·, B?, <layer>.M.core<k>) rows 2^n (N and the bias
 *                                               when there is no U), cols 2^m
 *                                               (K when there is no V)
 *   <layer>/U  Circuit(·, <layer>.U.gates, B)   qubits n, cols 2^n, rows N,
 *                                               transpose 0, stage s+1
 *
 * (N×K the layer, n = ⌈log2 N⌉, m = ⌈log2 K⌉; V is omitted for sides=left,
 * U for sides=right.) The last node produces the layer's output value and
 * carries its bias. Stage numbers count every quantum stage of the graph in
 * graph order, from 0.
 *
 * W is the layer's N×K block: when N or K is not a power of two, the
 * padding rows and columns an MPO may hold (truncation or training leaks
 * weight there) never reach the output, so they are projected out first
 * (through the dense matrix, up to 2^24 elements; larger layers keep the
 * padding and say so in the note).
 *
 * Calibration (gradient method): the layer's real input activations come
 * from running the interpreter on the first calib_limit images of a
 * dataset, every selected layer's input at once, before any rewrite.
 */
#ifndef QNNC_DISENTANGLE_H
#define QNNC_DISENTANGLE_H

#include <stdint.h>

#include "../frontend/dataset.h"
#include "../ir/ir.h"
#include "compress.h"
#include "dis.h"

typedef enum disentangle_method { DISENTANGLE_VARIATIONAL, DISENTANGLE_GRADIENT } disentangle_method;

typedef struct disentangle_opts {
	dis_opts dis;               /* sides, ansatz, χ', sweeps, tol, restarts ... (dis_defaults) */
	disentangle_method method;
	uint64_t seed;              /* random source of the restarts */
	const ds_set *calib;        /* calibration images (gradient only), or NULL */
	const ds_preprocess *pp;    /* their preprocessing, or NULL */
	int64_t calib_limit;        /* images used (default 512) */
	int quiet;                  /* no progress bar (it is drawn on a terminal only) */
	int64_t dense_max;          /* layers of at most this many entries run on the
	                               dense engine (variational: dis_dense_explicit, the
	                               same method and update order; gradient: the same
	                               steps with dense gradients); for small layers
	                               Uᵀ W V is dense anyway and the dense engine is
	                               several times faster. 0: always MPOs (a calibrated
	                               loss is dense anyway). Default 2^20. */
} disentangle_opts;

/* One rewritten layer. */
typedef struct disentangle_layer {
	char *name;                 /* the layer, i.e. the MpoLinear node it was */
	int64_t rows, cols;         /* N, K */
	int n, m;                   /* qubits of U and V */
	int has_bias;
	int stage_v, stage_u;       /* quantum stage numbers, -1 for a side not present */
	int gates_u, gates_v;
	int64_t params_dense;       /* N·K */
	int64_t params_mpo;         /* the MpoLinear's cores */
	int64_t calib_rows;         /* calibration inputs used (0: none) */
	const char *engine;         /* "dense" (dis_dense_explicit: W held as a matrix,
	                               opts.dense_max) or "mpo" (environments on MPOs) */
	dis_result r;               /* overlap, errors, entropies, history, params,
	                               times, the circuits and M' (r.residual) */
	char *note;                 /* e.g. padding kept, or NULL */
} disentangle_layer;

typedef struct disentangle_result {
	disentangle_opts opts;
	int n;
	disentangle_layer *layer;   /* malloc'd, graph order */
} disentangle_result;

/* Defaults: dis_defaults, variational, seed 0, no calibration, limit 512. */
void disentangle_defaults(disentangle_opts *o);

/* Rewrite every layer selected in sel (found by name: pass_compress has
 * made each an MpoLinear node) as above, and record what was done in out
 * (release with disentangle_free, also after an error). The graph must be
 * inferred; run pass_infer afterwards. Returns the number of layers
 * rewritten, or -1 with ir_error (a layer that is not an MpoLinear with one
 * qubit per site, a side of 0 or more than 30 qubits, bad options, a
 * failure of the numerics). */
int pass_disentangle(ir_graph *g, const select_result *sel, const disentangle_opts *o,
		     disentangle_result *out);
void disentangle_free(disentangle_result *r);

/* Names for the report and diagnostics. */
const char *disentangle_sides_name(int sides);          /* "left", "right", "both" */
const char *disentangle_method_name(disentangle_method m); /* "variational", "gradient" */

#endif
