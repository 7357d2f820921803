/* op_circuit.c - the 'circuit' op family (see ir/ops.def): Circuit, a
 * circuit of real orthogonal gates applied along the last axis, and the
 * gate kernels of circuit.h that the training engine and the backends
 * share.
 *
 *   x = pad(X row, 2^q);  x ← C x (transpose = 0) or Cᵀ x (transpose = 1);
 *   Y row = x[0 .. rows) + B,    C = G_last ⋯ G_0.
 *
 * A gate on sites s .. s+k-1 splits the state index into (hi, a, lo) with
 * 2^s, 2^k and 2^(q-s-k) values (dis.h's convention: the first site is the
 * most significant bit of a), so over a batch the state is nb = batch·2^s
 * blocks of 2^k × 2^(q-s-k), and the gate multiplies every block from the
 * left (circuit_gate_apply). 1- and 2-qubit gates run as plain loops;
 * larger ones as one gemm per block when the block is large, else the
 * 2^k-vectors of a chunk of blocks are gathered into a matrix for one gemm
 * (the last sites, where blocks are thin). The gradient of a gate is the
 * partial trace over (hi, lo) of the output gradient against the input,
 * on the same three paths (circuit_gate_grad).
 *
 * The interpreter computes in double whatever the dtype, a chunk of rows
 * at a time (at most CIRC_RUN_BUDGET doubles of state), and checks that
 * every gate is orthogonal (|GᵀG − I| ≤ 1e-6): at check time for a constant
 * G, at run time for any other G.
 */
#include "ops.h"

#include "circuit.h"
#include "la.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CIRC_CHUNK 4096              /* doubles per gather buffer */
#define CIRC_BLOCK_MIN 1024          /* a 2^k × lo block of at least this many is one gemm */
#define CIRC_RUN_BUDGET (1 << 22)    /* doubles of state the interpreter holds per chunk */

/* ------------------------------------------------------------ kernels */

int64_t circuit_gate_offsets(const int *ks, int ngates, int64_t *off)
{
	int64_t total = 0;
	for (int j = 0; j < ngates; j++) {
		if (off)
			off[j] = total;
		total += (int64_t)1 << (2 * ks[j]);
	}
	if (off)
		off[ngates] = total;
	return total;
}

size_t circuit_work_size(int q)
{
	size_t a = (size_t)1 << q, b = 2 * CIRC_CHUNK;
	return a > b ? a : b;
}

double circuit_orth_defect(int k, const double *g)
{
	int64_t d = (int64_t)1 << k;
	double P[1 << (2 * CIRCUIT_MAX_K)], err = 0;
	IR_ASSERT(k >= 1 && k <= CIRCUIT_MAX_K);
	for (int64_t e = 0; e < d * d; e++)
		if (!isfinite(g[e]))
			return NAN;
	la_gemm(1, 0, d, d, d, 1.0, g, g, 0.0, P);
	for (int64_t a = 0; a < d; a++)
		for (int64_t b = 0; b < d; b++) {
			double e = fabs(P[a * d + b] - (a == b));
			if (!(e <= err))
				err = e;
		}
	return err;
}

/* out[i·d + a] = x[the a-th amplitude of vector v0 + i], vectors v = (block,
 * l) in order, amplitudes lo apart. */
static void gather(const double *x, int64_t d, int64_t lo, int64_t v0, int64_t cnt, double *out)
{
	int64_t b = v0 / lo, l = v0 % lo;
	for (int64_t i = 0; i < cnt; i++) {
		const double *p = x + b * d * lo + l;
		for (int64_t a = 0; a < d; a++)
			out[i * d + a] = p[a * lo];
		if (++l == lo) {
			l = 0;
			b++;
		}
	}
}

static void scatter(double *x, int64_t d, int64_t lo, int64_t v0, int64_t cnt, const double *in)
{
	int64_t b = v0 / lo, l = v0 % lo;
	for (int64_t i = 0; i < cnt; i++) {
		double *p = x + b * d * lo + l;
		for (int64_t a = 0; a < d; a++)
			p[a * lo] = in[i * d + a];
		if (++l == lo) {
			l = 0;
			b++;
		}
	}
}

/* 1- and 2-qubit gates: plain loops over the blocks (d = 2 or 4 is too
 * small for gemm to pay off), the gate transposed up front if needed; runs
 * of 16 amplitudes at a time when the stride allows (loops of a constant
 * trip count, which gcc vectorises at -O2). SMALL_GATE(D) defines
 * small_apply_D and small_grad_D. */
#define SMALL_RUN 16
#define SMALL_GATE(D)                                                                         \
	static void small_apply_##D(double *x, int64_t nb, int64_t lo, const double *g, int tr) \
	{                                                                                     \
		double m[D * D];                                                              \
		for (int a = 0; a < D; a++)                                                   \
			for (int b = 0; b < D; b++)                                           \
				m[a * D + b] = tr ? g[b * D + a] : g[a * D + b];              \
		for (int64_t blk = 0; blk < nb; blk++) {                                      \
			double *p = x + blk * D * lo;                                         \
			if (lo % SMALL_RUN == 0) {                                            \
				for (int64_t l = 0; l < lo; l += SMALL_RUN) {                 \
					double w[D][SMALL_RUN] = {{0}};                       \
					for (int a = 0; a < D; a++)                           \
						for (int b = 0; b < D; b++)                   \
							for (int j = 0; j < SMALL_RUN; j++)   \
								w[a][j] += m[a * D + b] *     \
									   p[b * lo + l + j]; \
					for (int a = 0; a < D; a++)                           \
						memcpy(p + a * lo + l, w[a], sizeof w[a]);    \
				}                                                             \
				continue;                                                     \
			}                                                                     \
			for (int64_t l = 0; l < lo; l++) {                                    \
				double v[D], w[D];                                            \
				for (int b = 0; b < D; b++)                                   \
					v[b] = p[b * lo + l];                                 \
				for (int a = 0; a < D; a++) {                                 \
					w[a] = 0;                                             \
					for (int b = 0; b < D; b++)                           \
						w[a] += m[a * D + b] * v[b];                  \
				}                                                             \
				for (int a = 0; a < D; a++)                                   \
					p[a * lo + l] = w[a];                                 \
			}                                                                     \
		}                                                                             \
	}                                                                                     \
	static void small_grad_##D(const double *x, const double *dy, int64_t nb, int64_t lo,  \
				   double *dg)                                                \
	{                                                                                     \
		double acc[D * D] = {0};                                                      \
		for (int64_t blk = 0; blk < nb; blk++) {                                      \
			const double *px = x + blk * D * lo, *py = dy + blk * D * lo;         \
			for (int64_t l = 0; l < lo; l++)                                      \
				for (int a = 0; a < D; a++)                                   \
					for (int b = 0; b < D; b++)                           \
						acc[a * D + b] += py[a * lo + l] * px[b * lo + l]; \
		}                                                                             \
		for (int e = 0; e < D * D; e++)                                               \
			dg[e] += acc[e];                                                      \
	}
SMALL_GATE(2)
SMALL_GATE(4)
#undef SMALL_GATE
#undef SMALL_RUN

void circuit_gate_apply(int q, int site, int k, const double *g, int transpose, double *x,
			int64_t batch, double *work)
{
	int64_t d = (int64_t)1 << k, lo = (int64_t)1 << (q - site - k), nb = batch << site;
	if (k <= 2) {
		(k == 1 ? small_apply_2 : small_apply_4)(x, nb, lo, g, transpose);
		return;
	}
	if (d * lo >= CIRC_BLOCK_MIN) {
		for (int64_t b = 0; b < nb; b++) {
			double *blk = x + b * d * lo;
			la_gemm(transpose, 0, d, lo, d, 1.0, g, blk, 0.0, work);
			memcpy(blk, work, (size_t)(d * lo) * sizeof *work);
		}
		return;
	}
	/* Vectors as rows: y = x gᵀ (transpose: x g). With lo = 1 they are
	 * already the rows of x. */
	int64_t per = CIRC_CHUNK / d, nv = nb * lo;
	double *in = work, *res = work + CIRC_CHUNK;
	for (int64_t v0 = 0; v0 < nv; v0 += per) {
		int64_t cnt = nv - v0 < per ? nv - v0 : per;
		if (lo == 1) {
			la_gemm(0, !transpose, cnt, d, d, 1.0, x + v0 * d, g, 0.0, res);
			memcpy(x + v0 * d, res, (size_t)(cnt * d) * sizeof *res);
			continue;
		}
		gather(x, d, lo, v0, cnt, in);
		la_gemm(0, !transpose, cnt, d, d, 1.0, in, g, 0.0, res);
		scatter(x, d, lo, v0, cnt, res);
	}
}

void circuit_gate_grad(int q, int site, int k, const double *x, const double *dy, int64_t batch,
		       double *dg, double *work)
{
	int64_t d = (int64_t)1 << k, lo = (int64_t)1 << (q - site - k), nb = batch << site;
	if (k <= 2) {
		(k == 1 ? small_grad_2 : small_grad_4)(x, dy, nb, lo, dg);
		return;
	}
	if (d * lo >= CIRC_BLOCK_MIN) {
		for (int64_t b = 0; b < nb; b++)
			la_gemm(0, 1, d, d, lo, 1.0, dy + b * d * lo, x + b * d * lo, 1.0, dg);
		return;
	}
	/* dg += DYᵀ X over the vectors as rows; chunks keep gemm's k in range. */
	int64_t per = lo == 1 ? (int64_t)1 << 20 : CIRC_CHUNK / d, nv = nb * lo;
	double *a = work, *b = work + CIRC_CHUNK;
	for (int64_t v0 = 0; v0 < nv; v0 += per) {
		int64_t cnt = nv - v0 < per ? nv - v0 : per;
		if (lo == 1) {
			la_gemm(1, 0, d, d, cnt, 1.0, dy + v0 * d, x + v0 * d, 1.0, dg);
			continue;
		}
		gather(dy, d, lo, v0, cnt, a);
		gather(x, d, lo, v0, cnt, b);
		la_gemm(1, 0, d, d, cnt, 1.0, a, b, 1.0, dg);
	}
}

/* The gates fit q qubits. 0, or -1 with la_set_error. */
static int gates_fit(const int *sites, const int *ks, int ngates, int q)
{
	if (q < 0 || q > CIRCUIT_MAX_QUBITS) {
		la_set_error("circuit: %d qubits (0..%d supported)", q, CIRCUIT_MAX_QUBITS);
		return -1;
	}
	for (int j = 0; j < ngates; j++)
		if (ks[j] < 1 || ks[j] > CIRCUIT_MAX_K || sites[j] < 0 || sites[j] + ks[j] > q) {
			la_set_error("circuit: gate %d (k = %d at site %d) does not fit %d qubits", j,
				     ks[j], sites[j], q);
			return -1;
		}
	return 0;
}

/* The circuit (or its transpose) on a batch, with the caller's workspace. */
static void apply_gates(const int *sites, const int *ks, const int64_t *off, int ngates,
			const double *G, int q, int transpose, double *x, int64_t batch, double *work)
{
	for (int i = 0; i < ngates; i++) {
		int j = transpose ? ngates - 1 - i : i;
		circuit_gate_apply(q, sites[j], ks[j], G + off[j], transpose, x, batch, work);
	}
}

int circuit_apply_f64(const int *sites, const int *ks, int ngates, const double *G, int q,
		      int transpose, double *x, int64_t batch)
{
	if (gates_fit(sites, ks, ngates, q))
		return -1;
	int64_t *off = malloc((size_t)(ngates + 1) * sizeof *off);
	double *work = malloc(circuit_work_size(q) * sizeof *work);
	int rc = -1;
	if (off && work) {
		circuit_gate_offsets(ks, ngates, off);
		apply_gates(sites, ks, off, ngates, G, q, transpose, x, batch, work);
		rc = 0;
	} else {
		la_set_error("circuit: out of memory (%zu doubles of workspace)", circuit_work_size(q));
	}
	free(off);
	free(work);
	return rc;
}

/* --------------------------------------------------------- attributes */

static int req_int(ir_graph *g, ir_node *n, const char *name, int64_t *v)
{
	if (!ir_attr_find(n, name))
		return ir_error(g, n, "attribute '%s' is required", name);
	return op_attr_int(g, n, name, 0, v);
}

static int req_ints(ir_graph *g, ir_node *n, const char *name, const ir_attr **a)
{
	*a = ir_attr_find(n, name);
	if (!*a || (*a)->kind != IR_ATTR_INTS)
		return ir_error(g, n, "attribute '%s' is %s; it must be ints (one per gate)", name,
				*a ? "not ints" : "required");
	return 0;
}

void circuit_desc_free(circuit_desc *c)
{
	free(c->sites);
	free(c->ks);
	free(c->off);
	c->sites = c->ks = NULL;
	c->off = NULL;
}

int circuit_desc_get(ir_graph *g, ir_node *n, circuit_desc *c)
{
	int64_t q, rows, cols, tr, stage;
	const ir_attr *as, *ak;
	memset(c, 0, sizeof *c);
	if (req_int(g, n, "qubits", &q) || req_int(g, n, "rows", &rows) ||
	    req_int(g, n, "cols", &cols) || req_int(g, n, "transpose", &tr) ||
	    req_ints(g, n, "sites", &as) || req_ints(g, n, "ks", &ak) ||
	    op_attr_int(g, n, "stage", -1, &stage))
		return -1;
	if (q < 1 || q > CIRCUIT_MAX_QUBITS)
		return ir_error(g, n, "qubits must be in 1..%d, got %lld", CIRCUIT_MAX_QUBITS,
				(long long)q);
	int64_t D = (int64_t)1 << q;
	if (rows < 1 || rows > D || cols < 1 || cols > D)
		return ir_error(g, n, "rows and cols must be in 1..2^qubits = %lld, got %lld and %lld",
				(long long)D, (long long)rows, (long long)cols);
	if (tr != 0 && tr != 1)
		return ir_error(g, n, "transpose must be 0 or 1, got %lld", (long long)tr);
	if (stage < -1 || stage > INT32_MAX)
		return ir_error(g, n, "stage must be -1 (classical) or a stage number >= 0, got %lld",
				(long long)stage);
	if (as->n != ak->n)
		return ir_error(g, n, "sites has %d entries and ks %d; both need one per gate", as->n,
				ak->n);
	*c = (circuit_desc){.q = (int)q, .rows = rows, .cols = cols, .transpose = (int)tr,
			    .stage = (int)stage, .ngates = as->n};
	c->sites = malloc((size_t)(c->ngates + 1) * sizeof *c->sites);
	c->ks = malloc((size_t)(c->ngates + 1) * sizeof *c->ks);
	c->off = malloc((size_t)(c->ngates + 1) * sizeof *c->off);
	if (!c->sites || !c->ks || !c->off)
		return ir_error(g, n, "out of memory (%d gates)", c->ngates);
	for (int j = 0; j < c->ngates; j++) {
		int64_t s = as->is[j], k = ak->is[j];
		if (k < 1 || k > CIRCUIT_MAX_K)
			return ir_error(g, n, "gate %d: ks[%d] = %lld, a gate has 1..%d qubits", j, j,
					(long long)k, CIRCUIT_MAX_K);
		if (s < 0 || s + k > q)
			return ir_error(g, n, "gate %d: %lld qubits at site %lld do not fit the %lld "
					      "qubits (0 <= site, site + k <= qubits)", j, (long long)k,
					(long long)s, (long long)q);
		c->sites[j] = (int)s;
		c->ks[j] = (int)k;
	}
	circuit_gate_offsets(c->ks, c->ngates, c->off);
	return 0;
}

int circuit_check_gates(ir_graph *g, ir_node *n, const circuit_desc *c, const double *G)
{
	for (int j = 0; j < c->ngates; j++) {
		double e = circuit_orth_defect(c->ks[j], G + c->off[j]);
		int s = c->sites[j], k = c->ks[j];
		if (isnan(e))
			return ir_error(g, n, "gate %d (%d qubit%s at site %d) has a non-finite entry", j,
					k, k > 1 ? "s" : "", s);
		if (e > CIRCUIT_ORTH_TOL)
			return ir_error(g, n, "gate %d (%d qubit%s at site %d) is not orthogonal: "
					      "max |GᵀG - I| = %.3g > %g", j, k, k > 1 ? "s" : "", s, e,
					CIRCUIT_ORTH_TOL);
	}
	return 0;
}

/* ----------------------------------------------------- check and infer */

/* What is known of X, G and B (entries may be NULL or unknown). */
static int check_inputs(ir_graph *g, ir_node *n, const circuit_desc *c, ir_value *const *in,
			int nin)
{
	char s[128];
	const ir_value *x = in[0], *gv = nin > 1 ? in[1] : NULL, *b = nin > 2 ? in[2] : NULL;
	if (op_require_dtype(g, n, x, OP_FLOATS, "input X"))
		return -1;
	if (x && x->shape.rank == 0)
		return ir_error(g, n, "X must have rank >= 1, got a scalar");
	if (x && x->shape.rank > 0 && x->shape.d[x->shape.rank - 1].v >= 0 &&
	    x->shape.d[x->shape.rank - 1].v != c->cols)
		return ir_error(g, n, "X %s must have cols = %lld elements along its last axis",
				ir_shape_str(&x->shape, s, sizeof s), (long long)c->cols);
	if (!gv)
		return ir_error(g, n, "input G (the gate matrices) is missing");
	if (gv->dtype != IR_UNDEF && gv->dtype != IR_F64)
		return ir_error(g, n, "G must be f64 (the gate matrices), got %s",
				ir_dtype_name(gv->dtype));
	if (gv->shape.rank >= 0 && gv->shape.rank != 1)
		return ir_error(g, n, "G must be a vector, got shape %s",
				ir_shape_str(&gv->shape, s, sizeof s));
	int64_t want = c->off[c->ngates];
	if (gv->shape.rank == 1 && gv->shape.d[0].v >= 0 && gv->shape.d[0].v != want)
		return ir_error(g, n, "G has %lld elements; the %d gates need sum 4^k = %lld",
				(long long)gv->shape.d[0].v, c->ngates, (long long)want);
	if (!b)
		return 0;
	if (b->dtype != IR_UNDEF && x && x->dtype != IR_UNDEF && b->dtype != x->dtype)
		return ir_error(g, n, "B has dtype %s, X has %s", ir_dtype_name(b->dtype),
				ir_dtype_name(x->dtype));
	if (b->shape.rank >= 0 &&
	    (b->shape.rank != 1 || (b->shape.d[0].v >= 0 && b->shape.d[0].v != c->rows)))
		return ir_error(g, n, "B %s must be a vector of rows = %lld elements",
				ir_shape_str(&b->shape, s, sizeof s), (long long)c->rows);
	return 0;
}

/* A G tensor's layout (before its data is read). */
static int check_gate_tensor(ir_graph *g, ir_node *n, const circuit_desc *c, const ir_tensor *t)
{
	if (t->dtype != IR_F64 || t->rank != 1 || t->numel != c->off[c->ngates])
		return ir_error(g, n, "G must be an f64 vector of sum 4^k = %lld elements, got %s of "
				      "rank %d with %lld", (long long)c->off[c->ngates],
				ir_dtype_name(t->dtype), t->rank, (long long)t->numel);
	return 0;
}

int circuit_check(ir_graph *g, ir_node *n)
{
	circuit_desc c;
	if (op_check_arity(g, n))
		return -1;
	int rc = circuit_desc_get(g, n, &c);
	if (!rc)
		rc = check_inputs(g, n, &c, n->in, n->nin);
	const ir_tensor *G = n->in[1] ? n->in[1]->konst : NULL;
	if (!rc && G)
		rc = check_gate_tensor(g, n, &c, G) || circuit_check_gates(g, n, &c, G->data) ? -1 : 0;
	circuit_desc_free(&c);
	return rc;
}

int circuit_infer(ir_graph *g, ir_node *n, ir_value **in, ir_value **out)
{
	circuit_desc c;
	int rc = circuit_desc_get(g, n, &c);
	if (!rc)
		rc = check_inputs(g, n, &c, in, n->nin);
	if (!rc) {
		const ir_shape *xs = &in[0]->shape;
		out[0]->dtype = in[0]->dtype;
		out[0]->shape = *xs;
		if (xs->rank > 0)
			out[0]->shape.d[xs->rank - 1] = (ir_dim){c.rows, NULL};
	}
	circuit_desc_free(&c);
	return rc;
}

/* ---------------------------------------------------------------- run */

int circuit_run(ir_graph *g, ir_node *n, ir_tensor **in, ir_tensor **out)
{
	circuit_desc c;
	const ir_tensor *x = in[0], *G = in[1], *b = n->nin > 2 ? in[2] : NULL;
	ir_tensor *y = out[0];
	double *s = NULL, *work = NULL;
	int rc = -1;
	if (circuit_desc_get(g, n, &c) || check_gate_tensor(g, n, &c, G))
		goto done;
	/* circuit_check has seen the graph's constant already. */
	if (!(n->in[1] && n->in[1]->konst == G) && circuit_check_gates(g, n, &c, G->data))
		goto done;
	int64_t D = (int64_t)1 << c.q, batch = x->numel / c.cols;
	int64_t R = CIRC_RUN_BUDGET >> c.q;
	if (R < 1)
		R = 1;
	if (R > batch)
		R = batch;
	if (batch == 0) {
		rc = 0;
		goto done;
	}
	s = malloc((size_t)(R * D) * sizeof *s);
	work = malloc(circuit_work_size(c.q) * sizeof *work);
	if (!s || !work) {
		ir_error(g, n, "out of memory (a state of 2^%d amplitudes per row)", c.q);
		goto done;
	}
	int f32 = x->dtype == IR_F32;
	const float *xf = x->data, *bf = b ? b->data : NULL;
	const double *xd = x->data, *bd = b ? b->data : NULL;
	for (int64_t r0 = 0; r0 < batch; r0 += R) {
		int64_t cnt = batch - r0 < R ? batch - r0 : R;
		for (int64_t r = 0; r < cnt; r++) {
			double *row = s + r * D;
			int64_t at = (r0 + r) * c.cols;
			for (int64_t j = 0; j < c.cols; j++)
				row[j] = f32 ? xf[at + j] : xd[at + j];
			memset(row + c.cols, 0, (size_t)(D - c.cols) * sizeof *row);
		}
		apply_gates(c.sites, c.ks, c.off, c.ngates, G->data, c.q, c.transpose, s, cnt, work);
		for (int64_t r = 0; r < cnt; r++) {
			const double *row = s + r * D;
			int64_t at = (r0 + r) * c.rows;
			for (int64_t i = 0; i < c.rows; i++) {
				if (f32)
					((float *)y->data)[at + i] = (float)(row[i] + (bf ? bf[i] : 0.0));
				else
					((double *)y->data)[at + i] = row[i] + (bd ? bd[i] : 0.0);
			}
		}
	}
	rc = 0;
done:
	circuit_desc_free(&c);
	free(s);
	free(work);
	return rc;
}
