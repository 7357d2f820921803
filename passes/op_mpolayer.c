/* op_mpolayer.c - the 'mpolayer' op family (see ir/ops.def): MpoLinear, a
 * linear layer whose weight is a matrix product operator (DESIGN.md §2).
 *
 *   Y[..., i] = Σ_j W[i, j] X[..., j] + B[i],    W (N×K) given by its cores:
 *   W[i, j] = Σ_a C_1[1, i_1, j_1, a_1] C_2[a_1, i_2, j_2, a_2] ... C_S[a_{S-1}, i_S, j_S, 1]
 *
 * Inputs: X [..., K], B [N] (may be omitted), then one core per site,
 * core k of shape (χ_{k-1}, d_out, d_in, χ_k), χ_0 = χ_S = 1, all of X's
 * float dtype. Attributes (ints): rows = N, cols = K, n_out, n_in = the
 * qubit counts ⌈log2 N⌉, ⌈log2 K⌉, group = qubit positions per site (1..16).
 * The layout is mpo.h's: i = Σ_k i_k 2^(n-k) with site 1 the most
 * significant bit(s), S = ⌈max(n_out, n_in, 1) / group⌉ sites, and site k
 * (0-based) carries d_out = 2^(number of positions k·g+1 .. k·g+g that are
 * ≤ n_out), likewise d_in with n_in; a side with no position left has a
 * dim-1 leg. K and N are zero-padded to 2^n_in and 2^n_out: X is padded
 * with zeros, Y is truncated to N.
 *
 * Run: the cores go into an mpo view (converted to double for f32) and
 * mpo_apply contracts the batch site by site, then B is added. The
 * interpreter thus computes in double whatever the dtype.
 */
#include "ops.h"

#include "compress.h"
#include "mpo.h"
#include "la.h"

#include <stdlib.h>

#define MPL_MAX_SITES 64

static int qubits(int64_t n)
{
	int q = 0;
	while (q < 62 && ((int64_t)1 << q) < n)
		q++;
	return q;
}

/* Leg dim of site k (0-based) for a side of nq qubits, g positions per site. */
static int leg_dim(int k, int group, int nq)
{
	int lo = k * group, hi = lo + group < nq ? lo + group : nq;
	return 1 << (hi > lo ? hi - lo : 0);
}

int mpolayer_layout(int64_t N, int64_t K, int group, int *dout, int *din, int *n_out, int *n_in)
{
	int S = mpo_nsites(N, K, group);
	if (S < 1 || S > MPL_MAX_SITES)
		return -1;
	*n_out = qubits(N);
	*n_in = qubits(K);
	for (int k = 0; k < S; k++) {
		dout[k] = leg_dim(k, group, *n_out);
		din[k] = leg_dim(k, group, *n_in);
	}
	return S;
}

double mpolayer_max_params(int64_t N, int64_t K, int group, int max_bond)
{
	int dout[MPL_MAX_SITES], din[MPL_MAX_SITES], no, ni;
	int S = mpolayer_layout(N, K, group, dout, din, &no, &ni);
	if (S < 0)
		return -1;
	double left = 1, right = 1, total = 0, prev = 1;
	for (int k = 0; k < S; k++)
		right *= (double)dout[k] * din[k];
	for (int k = 0; k < S; k++) {
		double d = (double)dout[k] * din[k];
		left *= d;
		right /= d;
		double next = left < right ? left : right;
		if (max_bond > 0 && next > max_bond)
			next = max_bond;
		total += prev * d * next;
		prev = next;
	}
	return total;
}

/* Reads an int attribute that must be present. */
static int req_int(ir_graph *g, ir_node *n, const char *name, int64_t *v)
{
	const ir_attr *a = ir_attr_find(n, name);
	if (!a)
		return ir_error(g, n, "attribute %s is required", name);
	if (a->kind != IR_ATTR_INT)
		return ir_error(g, n, "attribute %s must be an int", name);
	*v = a->i;
	return 0;
}

int mpolayer_check(ir_graph *g, ir_node *n)
{
	int64_t rows = 0, cols = 0, nout = 0, nin = 0, group = 0;
	if (op_check_arity(g, n) || req_int(g, n, "rows", &rows) || req_int(g, n, "cols", &cols) ||
	    req_int(g, n, "n_out", &nout) || req_int(g, n, "n_in", &nin) ||
	    req_int(g, n, "group", &group))
		return -1;
	if (rows < 1 || cols < 1 || rows > ((int64_t)1 << 40) || cols > ((int64_t)1 << 40))
		return ir_error(g, n, "rows and cols must be in 1..2^40, got %lld and %lld",
				(long long)rows, (long long)cols);
	if (group < 1 || group > 16)
		return ir_error(g, n, "group must be in 1..16, got %lld", (long long)group);
	if (nout != qubits(rows) || nin != qubits(cols))
		return ir_error(g, n, "n_out and n_in must be ceil(log2(rows)) = %d and ceil(log2(cols)) = %d, "
				      "got %lld and %lld", qubits(rows), qubits(cols), (long long)nout,
				(long long)nin);
	int S = mpo_nsites(rows, cols, (int)group);
	if (S < 1 || S > MPL_MAX_SITES)
		return ir_error(g, n, "a %lldx%lld MPO with group %lld has %d sites (at most %d)",
				(long long)rows, (long long)cols, (long long)group, S, MPL_MAX_SITES);
	if (n->nin != 2 + S)
		return ir_error(g, n, "expects X, B (may be omitted) and %d cores, got %d inputs", S,
				n->nin);
	for (int k = 0; k < S; k++)
		if (!n->in[2 + k])
			return ir_error(g, n, "core %d is missing", k);
	return 0;
}

int mpolayer_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	int64_t N = ir_attr_int(n, "rows", 1), K = ir_attr_int(n, "cols", 1);
	int group = (int)ir_attr_int(n, "group", 1), nq = qubits(N), mq = qubits(K);
	int S = n->nin - 2;
	const ir_shape *xs = &in[0]->shape;
	char s1[128], s2[128];
	if (op_require_dtype(g, n, in[0], OP_FLOATS, "input X"))
		return -1;
	for (int i = 1; i < n->nin; i++) {
		if (!in[i] || in[i]->dtype == IR_UNDEF || in[0]->dtype == IR_UNDEF ||
		    in[i]->dtype == in[0]->dtype)
			continue;
		if (i == 1)
			return ir_error(g, n, "B has dtype %s, X has %s", ir_dtype_name(in[1]->dtype),
					ir_dtype_name(in[0]->dtype));
		return ir_error(g, n, "core %d has dtype %s, X has %s", i - 2,
				ir_dtype_name(in[i]->dtype), ir_dtype_name(in[0]->dtype));
	}
	if (xs->rank == 0)
		return ir_error(g, n, "X must have rank >= 1, got a scalar");
	if (xs->rank > 0 && xs->d[xs->rank - 1].v >= 0 && xs->d[xs->rank - 1].v != K)
		return ir_error(g, n, "X %s must have cols = %lld elements along its last axis",
				ir_shape_str(xs, s1, sizeof s1), (long long)K);
	if (in[1]) {
		const ir_shape *bs = &in[1]->shape;
		if (bs->rank >= 0 && (bs->rank != 1 || (bs->d[0].v >= 0 && bs->d[0].v != N)))
			return ir_error(g, n, "B %s must be a vector of rows = %lld elements",
					ir_shape_str(bs, s1, sizeof s1), (long long)N);
	}
	/* Cores: the legs of the layout and matching bonds, where known. */
	int64_t prev = 1;
	for (int k = 0; k < S; k++) {
		const ir_shape *cs = &in[2 + k]->shape;
		int64_t want[4] = {prev, leg_dim(k, group, nq), leg_dim(k, group, mq),
				   k == S - 1 ? 1 : -1};
		if (cs->rank < 0) {
			prev = -1;
			continue;
		}
		int bad = cs->rank != 4;
		for (int d = 0; !bad && d < 4; d++)
			bad = want[d] >= 0 && cs->d[d].v >= 0 && cs->d[d].v != want[d];
		bad = bad || (cs->d[3].v == 0 || cs->d[0].v == 0);
		if (bad) {
			ir_shape ws = {.rank = 4};
			for (int d = 0; d < 4; d++)
				ws.d[d].v = want[d];
			return ir_error(g, n, "core %d has shape %s, expected %s (bond, out, in, bond; "
					      "?: any)", k, ir_shape_str(cs, s1, sizeof s1),
					ir_shape_str(&ws, s2, sizeof s2));
		}
		prev = cs->d[3].v;
	}
	out[0]->dtype = in[0]->dtype;
	out[0]->shape = *xs;
	if (xs->rank > 0)
		out[0]->shape.d[xs->rank - 1] = (ir_dim){N, NULL};
	return 0;
}

int mpolayer_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	const ir_tensor *x = in[0], *b = in[1];
	ir_tensor *y = out[0];
	int S = n->nin - 2, f32 = x->dtype == IR_F32;
	int dout[MPL_MAX_SITES], din[MPL_MAX_SITES], bond[MPL_MAX_SITES + 1];
	double *core[MPL_MAX_SITES] = {0};
	mpo a = {.nsites = S, .rows = ir_attr_int(n, "rows", 1), .cols = ir_attr_int(n, "cols", 1),
		 .group = (int)ir_attr_int(n, "group", 1), .dout = dout, .din = din, .bond = bond,
		 .core = core, .center = -1};
	a.n_out = qubits(a.rows);
	a.n_in = qubits(a.cols);
	int64_t batch = x->numel / a.cols;
	double *X = f32 ? malloc((size_t)(x->numel ? x->numel : 1) * sizeof *X) : x->data;
	double *Y = f32 ? malloc((size_t)(y->numel ? y->numel : 1) * sizeof *Y) : y->data;
	int rc = -1;
	if (!X || !Y)
		goto oom;
	for (int k = 0; k < S; k++) {
		const ir_tensor *c = in[2 + k];
		bond[k] = (int)c->dims[0];
		dout[k] = (int)c->dims[1];
		din[k] = (int)c->dims[2];
		bond[k + 1] = (int)c->dims[3];
		if (!f32) {
			core[k] = c->data;
			continue;
		}
		if (!(core[k] = malloc((size_t)c->numel * sizeof(double))))
			goto oom;
		for (int64_t e = 0; e < c->numel; e++)
			core[k][e] = ((const float *)c->data)[e];
	}
	if (f32)
		for (int64_t e = 0; e < x->numel; e++)
			X[e] = ((const float *)x->data)[e];
	if (mpo_apply(&a, X, batch, Y)) {
		ir_error(g, n, "%s", la_last_error());
		goto done;
	}
	for (int64_t r = 0; r < batch; r++)
		for (int64_t i = 0; i < a.rows; i++) {
			double v = Y[r * a.rows + i] + (b ? ir_tensor_get_f64(b, i) : 0.0);
			if (f32)
				((float *)y->data)[r * a.rows + i] = (float)v;
			else
				Y[r * a.rows + i] = v;
		}
	rc = 0;
	goto done;
oom:
	ir_error(g, n, "out of memory");
done:
	if (f32) {
		for (int k = 0; k < S; k++)
			free(core[k]);
		free(X);
		free(Y);
	}
	return rc;
}
