/* compress.h - bottleneck selection and MPO compression of linear layers
 * (DESIGN.md §2, §3): which layers to rewrite (select.c) and the rewrite
 * of each into an MpoLinear node with its report (compress.c). */
#ifndef QNNC_COMPRESS_H
#define QNNC_COMPRESS_H

#include <stdint.h>

#include "../ir/ir.h"

/* ---------------------------------------------------- op_mpolayer.c */

/* The MPO layout of an N×K layer with g qubit positions per site (mpo.h):
 * fills dout[k], din[k] (at most 64 sites) and the qubit counts, returns
 * the number of sites, or -1 for a bad N, K or g. */
int mpolayer_layout(int64_t N, int64_t K, int group, int *dout, int *din, int *n_out, int *n_in);

/* Upper bound on the parameters of that MPO with bonds at most max_bond
 * (0: the exact TT-SVD's, bond k ≤ the smaller side of the unfolding), or
 * -1 for a bad layout. */
double mpolayer_max_params(int64_t N, int64_t K, int group, int max_bond);

/* --------------------------------------------------------- select.c */

/* A linear layer y = W x + b found in the graph: Gemm, MatMul with an
 * optional bias Add fused, or an MpoLinear compressed before. W is rows ×
 * cols = N × K (DESIGN.md §2). */
typedef struct select_layer {
	ir_node *node;        /* the Gemm, MatMul or MpoLinear */
	ir_node *add;         /* the MatMul's bias Add fused into the layer, or NULL */
	const char *name;     /* node name */
	const char *op;       /* "Gemm", "MatMul", "MatMul+Add" or "MpoLinear" */
	const char *weight;   /* the weight value's name ("" if there is none, and
	                         for MpoLinear) */
	int64_t rows, cols;   /* N (out), K (in); 0 when unknown */
	int eligible;         /* constant 2-D float weight, a form compress takes */
	int selected;
	char reason[256];     /* why it is (not) selected, for the report */
} select_layer;

typedef struct select_opts {
	int64_t min_dim;      /* auto: both sides at least this (default 64) */
	double max_aspect;    /* auto: max(N,K)/min(N,K) at most this (default 4) */
	int max_bond;         /* the requested --bond (0: none) and --group, for */
	int group;            /* the parameter estimate in the reason */
} select_opts;

typedef struct select_result {
	int n;                /* every Gemm / MatMul of the graph, in node order */
	select_layer *layer;  /* malloc'd */
	int nselected;
	const char *rule;     /* the auto rule in words, or NULL for names */
} select_result;

/* Default options. */
void select_defaults(select_opts *o);

/* Find the graph's linear layers and select some: spec is "auto" or a
 * comma-separated list of node names or weight names. Fills r (release
 * with select_free, also after an error) and returns the number selected,
 * or -1 with ir_error (an unknown or ineligible name, listing the
 * candidates). The graph must be inferred. The graph is not modified. */
int pass_select(ir_graph *g, const char *spec, const select_opts *o, select_result *r);
void select_free(select_result *r);

/* ------------------------------------------------------- compress.c */

typedef struct compress_opts {
	int max_bond;         /* --bond: 0 for no limit */
	double cutoff;        /* --cutoff: relative discarded weight per bond, 0: none */
	int group;            /* --group: qubit positions per site (1..16) */
} compress_opts;

/* What compression did to one layer (the report's per-layer fields). */
typedef struct compress_layer {
	char *name, *op, *weight, *reason; /* copies */
	int64_t rows, cols;
	int n_out, n_in, group, nsites;
	int has_bias;
	int *bond_full;       /* [nsites+1]: bonds of the exact TT-SVD, or NULL
	                         when it was too large to form (see note) */
	int *bond;            /* [nsites+1]: after truncation */
	double *entropy_full; /* [nsites-1] before truncation, or NULL */
	double *entropy;      /* [nsites-1] after */
	double *discarded;    /* [nsites-1]: relative discarded weight ε per bond */
	double discarded_total; /* 1 − Π(1 − ε_b) = ‖W − W'‖²/‖W‖² of the sweep */
	double norm;          /* ‖W‖_F */
	double rel_error;     /* ‖W − W'‖_F / ‖W‖_F */
	int rel_error_exact;  /* 1: from the dense W' (N·K ≤ 2^24); 0: estimated
	                         as sqrt(discarded_total) */
	int64_t params_dense; /* N·K */
	int64_t params_mpo;   /* Σ core sizes */
	char *note;           /* e.g. why bond_full is missing, or NULL */
	double seconds;       /* wall-clock time of this layer's compression */
} compress_layer;

typedef struct compress_result {
	compress_opts opts;
	int n;
	compress_layer *layer; /* malloc'd */
} compress_result;

/* Compress every selected layer of r into an MpoLinear node (in place of
 * the Gemm, or of the MatMul and its Add) and record what was done in out
 * (release with compress_free, also after an error). A selected MpoLinear
 * stays as it is (its profile is recorded) unless o asks for truncation
 * (max_bond or cutoff), which then truncates its cores in place; its
 * group is its own. Shapes must be inferred; run pass_infer afterwards.
 * Returns the number of layers rewritten, or -1 with ir_error. */
int pass_compress(ir_graph *g, const select_result *r, const compress_opts *o, compress_result *out);
void compress_free(compress_result *r);

/* The MPO (in double) of an MpoLinear node n with constant cores, as
 * mpo.h lays it out (rows, cols, group from the attributes), or NULL with
 * ir_error (a core that is not constant or does not fit the layout, out of
 * memory). Release with mpo_free. */
struct mpo *compress_node_mpo(ir_graph *g, ir_node *n);

/* The graph of --matrix: input "x" of dtype f32, shape [batch, K] with a
 * symbolic batch ("batch", set by --dim batch=B), one MpoLinear node "W"
 * without bias computing y = W x for each row, output "y" [batch, N]. W
 * (N×K row-major) is compressed in double with o and recorded in out.
 * Returns NULL with err on failure. */
ir_graph *compress_matrix_graph(const char *source, const double *W, int64_t N, int64_t K,
				const compress_opts *o, compress_result *out, char *err, size_t errlen);

#endif
