/* passes.h - the compiler passes that run on the IR and the reference
 * interpreter. One banner per file. */
#ifndef QNNC_PASSES_H
#define QNNC_PASSES_H

#include "../ir/ir.h"

/* ---------------------------------------------------------- infer.c */

/* Check every node's attributes and infer dtypes and shapes in
 * topological order. Returns 0 or -1 with ir_error. */
int pass_infer(ir_graph *g);

/* ----------------------------------------------------------- fold.c */

/* Constant folding: every node whose inputs are all constant is executed
 * with the interpreter and its outputs become constants (this folds shape
 * subgraphs such as Shape -> Gather -> Concat -> Reshape). Nodes whose
 * outputs would exceed max_bytes (0: no limit) are left alone. Then dead
 * nodes are removed. Returns the number of folded nodes or -1. */
int pass_fold(ir_graph *g, size_t max_bytes);

/* Remove nodes whose outputs reach no graph output. */
void pass_dce(ir_graph *g);

/* --------------------------------------------------------- interp.c */

/* Execute the graph. inputs[i] binds g->inputs[i] (dtype must match; shape
 * must match where the graph's is known). outputs[i] receive new tensors
 * owned by the caller (ir_tensor_free). Returns 0 or -1 with ir_error. */
int interp_run(ir_graph *g, ir_tensor *const *inputs, ir_tensor **outputs);

/* Execute one node on concrete tensors: infer the output shapes, allocate
 * the outputs (caller-owned) and run. Used by the interpreter and folding. */
int interp_node(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out);

#endif
