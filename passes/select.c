/* select.c - bottleneck selection (--layers=auto|NAME,...): find the
 * graph's linear layers and choose the ones to compress.
 *
 * A linear layer y = W x + b (DESIGN.md §2) is eligible when the compressor
 * can take it as it stands:
 *   Gemm(A, B, C)  transA = 0, B a constant 2-D float matrix, C absent or a
 *                  constant that is the same for every row (shape [], [1],
 *                  [N], [1,1] or [1,N]);
 *   MatMul(X, B)   B a constant 2-D float matrix; its Add(·, b) is fused
 *                  when the MatMul result feeds only that Add, is not a
 *                  graph output, and b is a constant [.., 1, N] (or one
 *                  value) that leaves the shape unchanged;
 *   MpoLinear      a layer compressed before (a model written back with
 *                  --emit=onnx), with constant cores of X's float dtype and
 *                  one qubit per site (group 1): compress keeps it as it is
 *                  unless --bond / --cutoff truncate it, and the disentangle
 *                  pass takes it as it stands.
 *
 * The auto rule picks the eligible layers whose sides are both ≥ min_dim
 * (64) and whose aspect ratio max(N,K)/min(N,K) is ≤ max_aspect (4): small
 * layers have little to gain and long thin ones have low-rank unfoldings
 * that an MPO does not capture better than the dense matrix. With more than
 * two eligible layers it also skips the layers that read the model input
 * directly (through reshapes only: the raw features are the least
 * compressible and errors there propagate through everything) and the
 * last one (the classifier, whose outputs are the logits). On the MNIST
 * MLP (784→256→256→10) this picks fc2, the 256×256 hidden layer; on the
 * CIFAR CNN's head (1024→256→256→10) fc1 and fc2. For the report, each
 * selected layer's reason gives the parameter count an MPO would have at
 * the requested bond (an upper bound: the exact bonds depend on the
 * singular values).
 */
#include "compress.h"

#include <stdlib.h>
#include <string.h>

void select_defaults(select_opts *o)
{
	memset(o, 0, sizeof *o);
	o->min_dim = 64;
	o->max_aspect = 4;
	o->group = 1;
}

void select_free(select_result *r)
{
	free(r->layer);
	memset(r, 0, sizeof *r);
}

static int is_float(ir_dtype t) { return t == IR_F32 || t == IR_F64; }

/* The constant C of a Gemm (or b of an Add) is one value per output
 * column when its shape is [1, .., 1, N] or all ones, with rank at most
 * max_rank. */
static int row_bias(const ir_tensor *c, int64_t N, int max_rank)
{
	if (c->rank > max_rank)
		return 0;
	for (int d = 0; d < c->rank - 1; d++)
		if (c->dims[d] != 1)
			return 0;
	return c->rank == 0 || c->dims[c->rank - 1] == 1 || c->dims[c->rank - 1] == N;
}

/* Number of nodes reading v. */
static int consumers(const ir_graph *g, const ir_value *v, ir_node **last)
{
	int c = 0;
	for (int k = 0; k < g->nnodes; k++)
		for (int j = 0; j < g->nodes[k]->nin; j++)
			if (g->nodes[k]->in[j] == v) {
				c++;
				*last = g->nodes[k];
				break;
			}
	return c;
}

static void describe_gemm(ir_node *n, select_layer *L)
{
	const ir_value *a = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL;
	int tb = ir_attr_int(n, "transB", 0) != 0;
	L->op = "Gemm";
	L->weight = b->name;
	if (b->shape.rank == 2) {
		L->rows = b->shape.d[tb ? 0 : 1].v > 0 ? b->shape.d[tb ? 0 : 1].v : 0;
		L->cols = b->shape.d[tb ? 1 : 0].v > 0 ? b->shape.d[tb ? 1 : 0].v : 0;
	}
	if (ir_attr_int(n, "transA", 0) != 0)
		snprintf(L->reason, sizeof L->reason, "not compressible: transA=1 (the input is transposed)");
	else if (!b->konst)
		snprintf(L->reason, sizeof L->reason, "not compressible: the weight B is not a constant");
	else if (!is_float(b->dtype) || b->dtype != a->dtype)
		snprintf(L->reason, sizeof L->reason, "not compressible: dtype %s (f32 or f64 only)",
			 ir_dtype_name(b->dtype));
	else if (c && ir_attr_float(n, "beta", 1.0) != 0 && !c->konst)
		snprintf(L->reason, sizeof L->reason, "not compressible: the bias C is not a constant");
	else if (c && ir_attr_float(n, "beta", 1.0) != 0 && !row_bias(c->konst, L->rows, 2))
		snprintf(L->reason, sizeof L->reason,
			 "not compressible: the bias C differs between rows (not one value per output)");
	else
		L->eligible = 1;
}

static void describe_mpolayer(ir_node *n, select_layer *L)
{
	const ir_value *x = n->in[0];
	int64_t group = ir_attr_int(n, "group", 1);
	L->op = "MpoLinear";
	L->weight = "";
	L->rows = ir_attr_int(n, "rows", 0) > 0 ? ir_attr_int(n, "rows", 0) : 0;
	L->cols = ir_attr_int(n, "cols", 0) > 0 ? ir_attr_int(n, "cols", 0) : 0;
	if (group != 1) {
		snprintf(L->reason, sizeof L->reason,
			 "not compressible: an MpoLinear with %lld qubits per site (group 1 only)", (long long)group);
		return;
	}
	if (!is_float(x->dtype)) {
		snprintf(L->reason, sizeof L->reason, "not compressible: dtype %s (f32 or f64 only)",
			 ir_dtype_name(x->dtype));
		return;
	}
	for (int k = 2; k < n->nin; k++)
		if (!n->in[k] || !n->in[k]->konst || n->in[k]->dtype != x->dtype) {
			snprintf(L->reason, sizeof L->reason,
				 "not compressible: MpoLinear core %d is not a constant of the input's dtype", k - 2);
			return;
		}
	if (n->nin > 1 && n->in[1] && !n->in[1]->konst) {
		snprintf(L->reason, sizeof L->reason, "not compressible: the bias is not a constant");
		return;
	}
	L->eligible = 1;
}

static void describe_matmul(ir_graph *g, ir_node *n, select_layer *L)
{
	const ir_value *a = n->in[0], *b = n->in[1], *y = n->out[0];
	L->op = "MatMul";
	L->weight = b->name;
	if (b->shape.rank == 2) {
		L->rows = b->shape.d[1].v > 0 ? b->shape.d[1].v : 0;
		L->cols = b->shape.d[0].v > 0 ? b->shape.d[0].v : 0;
	}
	if (!b->konst) {
		snprintf(L->reason, sizeof L->reason, a->konst
			 ? "not compressible: the constant is the left operand (W·X form)"
			 : "not compressible: the weight B is not a constant");
		if (!a->konst)
			L->weight = "";
		return;
	}
	if (b->konst->rank != 2) {
		snprintf(L->reason, sizeof L->reason, "not compressible: the weight has rank %d, not 2",
			 b->konst->rank);
		return;
	}
	if (!is_float(b->dtype) || b->dtype != a->dtype) {
		snprintf(L->reason, sizeof L->reason, "not compressible: dtype %s (f32 or f64 only)",
			 ir_dtype_name(b->dtype));
		return;
	}
	L->eligible = 1;
	/* A bias Add that can be fused. */
	ir_node *use = NULL;
	if (y->is_output || consumers(g, y, &use) != 1 || use->op != IR_OP_Add)
		return;
	const ir_value *bias = use->in[0] == y ? use->in[1] : use->in[0];
	if (use->in[0] == use->in[1] || !bias || !bias->konst || bias->dtype != y->dtype ||
	    !row_bias(bias->konst, L->rows, y->shape.rank) ||
	    !ir_shape_equal(&use->out[0]->shape, &y->shape))
		return;
	L->add = use;
	L->op = "MatMul+Add";
}

/* x reaches a graph input through data movement only. */
static int reads_raw_input(const ir_value *x)
{
	for (int depth = 0; x && depth < 64; depth++) {
		if (x->is_input)
			return 1;
		const ir_node *d = x->def;
		if (!d)
			return 0;
		switch (d->op) {
		case IR_OP_Reshape: case IR_OP_Flatten: case IR_OP_Squeeze: case IR_OP_Unsqueeze:
		case IR_OP_Identity: case IR_OP_Transpose: case IR_OP_Cast: case IR_OP_Dropout:
			x = d->in[0];
			break;
		default:
			return 0;
		}
	}
	return 0;
}

static void list_candidates(const select_result *r, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; i < r->n && k + 1 < len; i++) {
		const select_layer *L = &r->layer[i];
		if (!L->eligible)
			continue;
		if (!*L->weight)
			k += (size_t)snprintf(buf + k, len - k, "%s'%s' (%s, %lldx%lld)", k ? ", " : "", L->name,
					      L->op, (long long)L->rows, (long long)L->cols);
		else
			k += (size_t)snprintf(buf + k, len - k, "%s'%s' (weight '%s', %lldx%lld)", k ? ", " : "",
					      L->name, L->weight, (long long)L->rows, (long long)L->cols);
		if (k >= len)
			k = len - 1;
	}
	if (!k)
		snprintf(buf, len, "none: the model has no Gemm / MatMul with a constant weight, nor an MpoLinear");
}

static void select_auto(const select_opts *o, select_result *r)
{
	int ne = 0, e = 0;
	for (int i = 0; i < r->n; i++)
		ne += r->layer[i].eligible;
	for (int i = 0; i < r->n; i++) {
		select_layer *L = &r->layer[i];
		if (!L->eligible)
			continue;
		int64_t lo = L->rows < L->cols ? L->rows : L->cols, hi = L->rows < L->cols ? L->cols : L->rows;
		double aspect = lo > 0 ? (double)hi / (double)lo : 0;
		int last = e++ == ne - 1;
		if (ne > 2 && reads_raw_input(L->node->in[0]))
			snprintf(L->reason, sizeof L->reason,
				 "auto: skipped, it reads the model input directly (first of %d linear layers)", ne);
		else if (ne > 2 && last)
			snprintf(L->reason, sizeof L->reason,
				 "auto: skipped, the last of %d linear layers (the classifier)", ne);
		else if (lo < o->min_dim)
			snprintf(L->reason, sizeof L->reason, "auto: skipped, %lldx%lld is below the %lldx%lld minimum",
				 (long long)L->rows, (long long)L->cols, (long long)o->min_dim, (long long)o->min_dim);
		else if (aspect > o->max_aspect)
			snprintf(L->reason, sizeof L->reason, "auto: skipped, aspect ratio %.3g exceeds %g",
				 aspect, o->max_aspect);
		else {
			L->selected = 1;
			double est = mpolayer_max_params(L->rows, L->cols, o->group, o->max_bond);
			int64_t dense = L->rows * L->cols;
			int n = snprintf(L->reason, sizeof L->reason, "auto: a %lldx%lld hidden layer", (long long)L->rows,
					 (long long)L->cols);
			if (est > 0 && o->max_bond > 0)
				snprintf(L->reason + n, sizeof L->reason - (size_t)n,
					 "; at bond <= %d the MPO has at most %.0f parameters (dense %lld)%s",
					 o->max_bond, est, (long long)dense,
					 est >= (double)dense ? ", no saving at this bond" : "");
		}
	}
	r->rule = "auto: every Gemm or MatMul(+Add) with a constant weight (or MpoLinear) whose sides are both at least "
		  "min_dim and whose aspect ratio is at most max_aspect; with more than 2 such layers, the "
		  "ones reading the model input directly and the last one (the classifier) are skipped";
}

int pass_select(ir_graph *g, const char *spec, const select_opts *o, select_result *r)
{
	memset(r, 0, sizeof *r);
	r->layer = calloc((size_t)g->nnodes + 1, sizeof *r->layer);
	if (!r->layer)
		return ir_error(g, NULL, "out of memory");
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		if (n->op != IR_OP_Gemm && n->op != IR_OP_MatMul && n->op != IR_OP_MpoLinear)
			continue;
		select_layer *L = &r->layer[r->n++];
		L->node = n;
		L->name = n->name;
		if (n->op == IR_OP_Gemm)
			describe_gemm(n, L);
		else if (n->op == IR_OP_MpoLinear)
			describe_mpolayer(n, L);
		else
			describe_matmul(g, n, L);
		if (L->eligible && (L->rows < 1 || L->cols < 1)) {
			L->eligible = 0;
			snprintf(L->reason, sizeof L->reason, "not compressible: the weight is empty");
		}
	}
	if (!strcmp(spec, "auto")) {
		select_auto(o, r);
	} else {
		char cand[2048];
		const char *p = spec;
		for (;;) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			int found = 0;
			if (!len)
				return ir_error(g, NULL, "--layers: empty layer name in '%s'", spec);
			for (int i = 0; i < r->n; i++) {
				select_layer *L = &r->layer[i];
				int by_node = strlen(L->name) == len && !strncmp(L->name, p, len);
				int by_weight = strlen(L->weight) == len && !strncmp(L->weight, p, len);
				if (!by_node && !by_weight)
					continue;
				if (!L->eligible)
					return ir_error(g, L->node, "--layers: cannot compress this layer: %s",
							L->reason + strlen("not compressible: "));
				found = 1;
				L->selected = 1;
				snprintf(L->reason, sizeof L->reason, "named by --layers (%s name)",
					 by_node ? "node" : "weight");
			}
			if (!found) {
				list_candidates(r, cand, sizeof cand);
				return ir_error(g, NULL, "--layers: no linear layer is named '%.*s'; candidates: %s",
						(int)len, p, cand);
			}
			if (!end)
				break;
			p = end + 1;
		}
		for (int i = 0; i < r->n; i++)
			if (r->layer[i].eligible && !r->layer[i].selected)
				snprintf(r->layer[i].reason, sizeof r->layer[i].reason, "not named by --layers");
	}
	for (int i = 0; i < r->n; i++)
		r->nselected += r->layer[i].selected;
	return r->nselected;
}
