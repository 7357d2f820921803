/* ir.h - the qnnc intermediate representation: dtypes, tensors, values,
 * nodes, graphs, the arena, diagnostics, and the exported functions of
 * every file in ir/ (one banner per file).
 *
 * Memory: every graph owns one arena; names, nodes, values and attribute
 * arrays live there and are freed with the graph. Tensors own a 64-byte
 * aligned buffer and are freed with the graph too (the arena tracks them).
 * Nothing is freed node by node.
 *
 * Errors: user errors (bad model, bad attribute) are recorded with
 * ir_error(), which formats "file: node 'name' (Op): message" into the
 * graph's diagnostic buffer and returns -1; callers propagate -1.
 * Broken invariants use IR_ASSERT, which aborts with file:line.
 */
#ifndef QNNC_IR_H
#define QNNC_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IR_MAX_RANK 8

#define IR_ASSERT(c) \
	((c) ? (void)0 : ir_assert_fail(#c, __FILE__, __LINE__))
#define IR_UNREACHABLE() ir_assert_fail("unreachable", __FILE__, __LINE__)
_Noreturn void ir_assert_fail(const char *what, const char *file, int line);

/* Dtype codes equal ONNX TensorProto.DataType so the frontend maps 1:1. */
typedef enum ir_dtype {
	IR_UNDEF = 0,
	IR_F32 = 1,
	IR_U8 = 2,
	IR_I8 = 3,
	IR_U16 = 4,
	IR_I16 = 5,
	IR_I32 = 6,
	IR_I64 = 7,
	IR_BOOL = 9, /* stored as one byte, 0 or 1 */
	IR_F64 = 11,
	IR_U32 = 12,
	IR_U64 = 13,
} ir_dtype;

/* ----------------------------------------------------------- ir.c */

/* Arena: bump allocator for IR objects and strings. */
typedef struct ir_arena ir_arena;
ir_arena *ir_arena_new(void);
void ir_arena_free(ir_arena *a);
void *ir_alloc(ir_arena *a, size_t size);             /* zeroed, 16-aligned */
char *ir_strdup(ir_arena *a, const char *s);
char *ir_strndup(ir_arena *a, const char *s, size_t n);

int ir_dtype_supported(int code);       /* 1 for the dtypes above */
size_t ir_dtype_size(ir_dtype t);
const char *ir_dtype_name(ir_dtype t);  /* "f32", "i64", "bool", ... */
ir_dtype ir_dtype_from_name(const char *s); /* IR_UNDEF if unknown */
const char *ir_dtype_onnx_name(ir_dtype t); /* "float", "int64", ... */
const char *ir_dtype_c_type(ir_dtype t);    /* "float", "int64_t", "uint8_t" (bool) */
int ir_dtype_is_float(ir_dtype t);
int ir_dtype_is_signed(ir_dtype t);     /* signed integers */
int ir_dtype_is_int(ir_dtype t);        /* any integer, not bool */

/* A dense tensor: row-major, dims[0..rank), 64-byte aligned data.
 * rank 0 is a scalar with numel 1. A tensor may have numel 0. */
typedef struct ir_tensor {
	ir_dtype dtype;
	int rank;
	int64_t dims[IR_MAX_RANK];
	int64_t numel;
	void *data;
} ir_tensor;

/* Allocate a zeroed tensor. Fails (NULL) only on overflow or OOM. The
 * tensor is owned by the arena when a is non-NULL, else by the caller
 * (release with ir_tensor_free). */
ir_tensor *ir_tensor_new(ir_arena *a, ir_dtype t, int rank, const int64_t *dims);
ir_tensor *ir_tensor_clone(ir_arena *a, const ir_tensor *t);
void ir_tensor_free(ir_tensor *t); /* only for tensors made with a == NULL */
/* numel of dims with overflow check: -1 on overflow or negative dim. */
int64_t ir_numel(int rank, const int64_t *dims);
/* Element i converted to double / int64 / stored from double / int64. */
double ir_tensor_get_f64(const ir_tensor *t, int64_t i);
int64_t ir_tensor_get_i64(const ir_tensor *t, int64_t i);
void ir_tensor_set_f64(ir_tensor *t, int64_t i, double v);
void ir_tensor_set_i64(ir_tensor *t, int64_t i, int64_t v);

/* A dimension: v >= 0 is known; v < 0 is unknown, optionally named by sym
 * (an ONNX dim_param such as "N"). */
typedef struct ir_dim {
	int64_t v;
	const char *sym;
} ir_dim;

/* rank < 0 means the rank itself is unknown. */
typedef struct ir_shape {
	int rank;
	ir_dim d[IR_MAX_RANK];
} ir_shape;

int ir_shape_known(const ir_shape *s);           /* rank and all dims known */
int ir_shape_equal(const ir_shape *a, const ir_shape *b);
void ir_shape_from_dims(ir_shape *s, int rank, const int64_t *dims);
int64_t ir_shape_numel(const ir_shape *s);       /* -1 if not known */
/* Writes e.g. "[N,1,28,28]" into buf; returns buf. */
char *ir_shape_str(const ir_shape *s, char *buf, size_t n);

struct ir_node;

typedef struct ir_value {
	const char *name;
	ir_dtype dtype;        /* IR_UNDEF until inferred */
	ir_shape shape;
	ir_tensor *konst;      /* constant data (initializer, folded), or NULL */
	struct ir_node *def;   /* producing node, NULL for inputs and constants */
	int id;                /* index in graph->values */
	int is_input;          /* graph input */
	int is_output;         /* graph output */
} ir_value;

typedef enum ir_attr_kind {
	IR_ATTR_FLOAT,
	IR_ATTR_INT,
	IR_ATTR_STRING,
	IR_ATTR_TENSOR,
	IR_ATTR_FLOATS,
	IR_ATTR_INTS,
	IR_ATTR_STRINGS,
	IR_ATTR_OTHER, /* graphs, sparse tensors, types: kept by kind only */
} ir_attr_kind;

typedef struct ir_attr {
	const char *name;
	ir_attr_kind kind;
	double f;
	int64_t i;
	const char *s;
	ir_tensor *t;
	int n;              /* element count of floats / ints / strings */
	double *fs;
	int64_t *is;
	const char **ss;
	const char *other;  /* for IR_ATTR_OTHER: the ONNX kind name */
} ir_attr;

typedef enum ir_op {
#define OP(id, family, minin, maxin, minout, maxout, doc) IR_OP_##id,
#include "ops.def"
#undef OP
	IR_OP_COUNT
} ir_op;

typedef struct ir_op_info {
	const char *name;
	const char *family;
	int min_in, max_in;   /* max_in < 0: variadic */
	int min_out, max_out;
	const char *doc;
	const char *domain;   /* "" for ai.onnx, "qnnc" for ours */
} ir_op_info;

extern const ir_op_info ir_ops[IR_OP_COUNT];
/* Op by ONNX name within its domain ("" and "ai.onnx" are the same;
 * "qnnc" for ours); returns IR_OP_COUNT if unknown. */
ir_op ir_op_lookup(const char *domain, const char *name);

typedef struct ir_node {
	ir_op op;
	const char *name;     /* never NULL; frontend invents "Op_3" if empty */
	const char *domain;   /* "" for ai.onnx */
	int opset;            /* version of the node's domain in the model */
	int nin;
	ir_value **in;        /* entries may be NULL: omitted optional input */
	int nout;
	ir_value **out;       /* entries may be NULL: omitted optional output */
	int nattr;
	ir_attr *attrs;
	int id;               /* index in graph->nodes */
	void *aux;            /* op-family private data, arena-allocated */
} ir_node;

typedef struct ir_opset {
	const char *domain;
	int64_t version;
} ir_opset;

typedef struct ir_map ir_map; /* string -> pointer hash map */

typedef struct ir_graph {
	ir_arena *arena;
	const char *name;
	const char *source;     /* file the graph came from, for diagnostics */
	const char *producer;
	int64_t ir_version;
	int nopsets;
	ir_opset *opsets;
	int nvalues, cap_values;
	ir_value **values;
	int nnodes, cap_nodes;
	ir_node **nodes;        /* topological order after the frontend */
	int ninputs;
	ir_value **inputs;
	int noutputs;
	ir_value **outputs;
	ir_map *names;          /* value name -> ir_value* */
	char err[2048];         /* first error message */
	int nerrors;
} ir_graph;

ir_graph *ir_graph_new(const char *source);
void ir_graph_free(ir_graph *g);
/* Find a value by name, NULL if absent. */
ir_value *ir_value_find(ir_graph *g, const char *name);
/* Create a value with a unique name (name may be NULL: "%tN" is invented);
 * if name is taken, a suffix is appended. */
ir_value *ir_value_new(ir_graph *g, const char *name);
/* Append a node; in/out arrays are copied into the arena; sets out[i]->def. */
ir_node *ir_node_new(ir_graph *g, ir_op op, const char *name, int nin,
		     ir_value *const *in, int nout, ir_value *const *out);
void ir_graph_add_input(ir_graph *g, ir_value *v);
void ir_graph_add_output(ir_graph *g, ir_value *v);
/* Remove nodes whose flag is set (dead[i] for node i), renumber ids.
 * Also drops values that are no longer referenced and not graph I/O. */
void ir_graph_remove_nodes(ir_graph *g, const char *dead);
/* Version of an opset domain ("" and "ai.onnx" are the same), 0 if absent. */
int64_t ir_graph_opset(const ir_graph *g, const char *domain);

/* Diagnostics: "source: node 'name' (Op): message" (node may be NULL:
 * "source: message"). Keeps the first message, counts all; returns -1. */
int ir_error(ir_graph *g, const ir_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Attributes; the defaults are returned when the attribute is absent. */
const ir_attr *ir_attr_find(const ir_node *n, const char *name);
int64_t ir_attr_int(const ir_node *n, const char *name, int64_t dflt);
double ir_attr_float(const ir_node *n, const char *name, double dflt);
const char *ir_attr_string(const ir_node *n, const char *name, const char *dflt);
/* Returns the count (or -1 if absent); *out points into the node. */
int ir_attr_ints(const ir_node *n, const char *name, const int64_t **out);
int ir_attr_floats(const ir_node *n, const char *name, const double **out);
/* Append or replace an attribute (copied into the arena). */
ir_attr *ir_attr_set(ir_graph *g, ir_node *n, const ir_attr *a);

/* String map (open addressing), arena-backed keys. */
ir_map *ir_map_new(void);
void ir_map_free(ir_map *m);
void *ir_map_get(const ir_map *m, const char *key);
void ir_map_put(ir_map *m, const char *key, void *val);  /* key not copied */

/* ---------------------------------------------------------- print.c */

/* Print the textual IR (see ir/print.c for the grammar). With
 * elide_data, constants larger than 16 elements print as "...". */
void ir_print(FILE *f, const ir_graph *g, int elide_data);

/* ---------------------------------------------------------- parse.y */

/* Parse textual IR; on error returns NULL and writes "file:line:col:
 * message" into err. */
ir_graph *ir_parse(const char *text, const char *source, char *err, size_t errlen);

/* --------------------------------------------------------- verify.c */

/* Structural checks: unique names, every value defined once and before
 * use, node arities within ops.def, no cycles, outputs defined, known
 * shapes consistent with constant data. Returns 0 or -1 with ir_error. */
int ir_verify(ir_graph *g);

/* Node arity against ops.def: present inputs/outputs (trailing omitted
 * optionals do not count) within range, required ones not omitted. */
int ir_check_arity(ir_graph *g, const ir_node *n);

#endif
