/* onnx.h - the ONNX frontend: model files to IR, TensorProto files to and
 * from tensors. All errors come back as messages that name the file (and
 * the node, where there is one); nothing here aborts on bad input. */
#ifndef QNNC_ONNX_H
#define QNNC_ONNX_H

#include "../ir/ir.h"

/* Load an .onnx model into a new graph. On failure returns NULL and writes
 * a diagnostic ("path: node 'n' (Op): what") into err. External data is
 * resolved relative to the model's folder and refused if it escapes it.
 * The graph is in topological order; shapes and dtypes of graph inputs,
 * outputs and value_info are filled in where the model declares them. */
ir_graph *onnx_load(const char *path, char *err, size_t errlen);

/* Same, from bytes in memory; base_dir is where external data lives
 * (NULL: external data refused). source names the model in diagnostics. */
ir_graph *onnx_load_bytes(const void *buf, size_t len, const char *source,
			  const char *base_dir, char *err, size_t errlen);

/* Read one TensorProto file (e.g. test_data_set_0/input_0.pb). The tensor
 * is owned by the caller (ir_tensor_free). *name (may be NULL) receives a
 * malloc'd copy of the tensor's name, or NULL if it has none. */
ir_tensor *onnx_read_tensor(const char *path, char **name, char *err, size_t errlen);

/* Write a tensor as a TensorProto file (raw_data, little endian), via a
 * temporary file and rename. Returns 0 or -1 with err. */
int onnx_write_tensor(const char *path, const char *name, const ir_tensor *t,
		      char *err, size_t errlen);

/* ----------------------------------------------------- onnx_save.c */

/* Write g as an ONNX model (--emit=onnx): ir_version max(g's, 7), g's
 * opsets (plus "qnnc" 1 when qnnc ops are used, explained in the model's
 * doc string), producer "qnnc", constants as raw_data initializers, graph
 * inputs/outputs and intermediate values with their known dtype and shape.
 * Attributes of kind IR_ATTR_OTHER cannot be written (error naming the
 * node). onnx_save writes via a temporary file and rename; onnx_save_file
 * writes into an open file (flushed, not closed). Return 0 or -1 with err. */
int onnx_save(const ir_graph *g, const char *path, char *err, size_t errlen);
int onnx_save_file(const ir_graph *g, FILE *f, char *err, size_t errlen);

#endif
