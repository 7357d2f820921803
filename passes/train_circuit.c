/* train_circuit.c - forward and backward of Circuit (semantics in
 * ir/ops.def, kernels in op_circuit.c / circuit.h) for the training
 * engine, and the orthogonality constraint of its gates.
 *
 * Step t (t = 0 .. T-1) applies A_t = G_j (transpose = 0, j = t) or
 * A_t = G_jᵀ (transpose = 1, j = T-1-t):
 *   x_0 = pad(X row, 2^q),  x_{t+1} = A_t x_t,  Y row = x_T[0 .. rows) + B.
 * Backward, with dx_T = pad(dY) and for t = T-1 .. 0:
 *   x_t = A_t⁻¹ x_{t+1},  dA_t = Σ dx_{t+1} x_tᵀ  (dG_j = dA_t, or dA_tᵀ),
 *   dx_t = A_tᵀ dx_{t+1};   dX += dx_0[0 .. cols),  dB += Σ_rows dY.
 * The sums run over the batch and the qubits the gate does not touch
 * (circuit_gate_grad). Everything is computed in double from the float
 * weights.
 *
 * Memory: the forward pass keeps only x_T; the backward pass recomputes
 * each x_t from x_{t+1} instead of storing T states of batch × 2^q. It
 * uses the exact inverses of the gates (LU in double, la_solve) rather
 * than their transposes: the gates are orthogonal only to float rounding
 * (~1e-7), and with the inverses the recomputed inputs, hence the
 * gradient, are exact to double rounding for any invertible gate.
 *
 * Constraint: after every optimiser step (train_project) each gate block
 * of a trainable G is replaced by the nearest orthogonal matrix in
 * Frobenius norm (dis_procrustes, in double: the polar factor; for gates of
 * k ≥ DIS_SO_MIN_K qubits the nearest special orthogonal one, because the
 * disentangler keeps those in SO(2^k) and a det −1 gate costs more CX in
 * synthesis, passes/synth.h), so the gates stay
 * orthogonal to float rounding; train_write_back stores the polar factor
 * of every gate that changed as f64, which is orthogonal to double
 * rounding (op_circuit.c checks 1e-6).
 */
#include "train_internal.h"

#include "dis.h"

#include "circuit.h"
#include "la.h"

#include <stdlib.h>
#include <string.h>

typedef struct circ_state {
	circuit_desc c;
	int64_t D;                /* 2^q */
	int64_t np;               /* numel(G) */
	double *G, *Ginv, *dG;    /* [np]: gates (this pass), inverses, gradient */
	double *s;                /* x_T of the last forward pass, batch × D */
	double *u, *du;           /* backward: x_t and dx_t */
	int64_t cap_s, cap_u, cap_du; /* rows the buffers hold */
	double *work;             /* circuit_work_size(q) */
	double *pa, *pq;          /* one gate block: polar input and factor */
} circ_state;

static void circ_release(tr_node *t)
{
	circ_state *s = t->state;
	if (!s)
		return;
	circuit_desc_free(&s->c);
	free(s->G);
	free(s->Ginv);
	free(s->dG);
	free(s->s);
	free(s->u);
	free(s->du);
	free(s->work);
	free(s->pa);
	free(s->pq);
	free(s);
	t->state = NULL;
}

/* *buf with room for rows × D doubles (contents not kept). 0 or -1. */
static int grow_rows(double **buf, int64_t *cap, int64_t rows, int64_t D)
{
	if (*cap >= rows && *buf)
		return 0;
	free(*buf);
	*buf = malloc((size_t)((rows ? rows : 1) * D) * sizeof **buf);
	*cap = *buf ? rows : 0;
	return *buf ? 0 : -1;
}

static int circ_check(train_model *m, tr_node *t)
{
	ir_graph *g = tr_graph(m);
	const tr_val *G = t->in[1];
	if (G->kind == TV_ACT || G->kind == TV_INT)
		return ir_error(g, t->n, "G (the gates) must be a constant to train");
	circ_state *s = calloc(1, sizeof *s);
	if (!s)
		return ir_error(g, t->n, "out of memory");
	t->state = s;
	if (circuit_desc_get(g, t->n, &s->c))
		return -1;
	s->D = (int64_t)1 << s->c.q;
	s->np = s->c.off[s->c.ngates];
	if (G->kind == TV_CONST && (!G->t || G->t->dtype != IR_F64 || G->t->numel != s->np))
		return ir_error(g, t->n, "G must be an f64 vector of %lld elements", (long long)s->np);
	size_t np = (size_t)(s->np ? s->np : 1), blk = (size_t)1 << (2 * CIRCUIT_MAX_K);
	s->G = malloc(np * sizeof *s->G);
	s->Ginv = malloc(np * sizeof *s->Ginv);
	s->dG = malloc(np * sizeof *s->dG);
	s->work = malloc(circuit_work_size(s->c.q) * sizeof *s->work);
	s->pa = malloc(blk * sizeof *s->pa);
	s->pq = malloc(blk * sizeof *s->pq);
	if (!s->G || !s->Ginv || !s->dG || !s->work || !s->pa || !s->pq)
		return ir_error(g, t->n, "out of memory (a circuit on %d qubits)", s->c.q);
	return 0;
}

/* The gates of this pass in double: the engine's float copy, or the f64
 * constant when G is not a parameter. */
static void load_gates(circ_state *s, const tr_val *G)
{
	if (G->kind == TV_PARAM)
		for (int64_t e = 0; e < s->np; e++)
			s->G[e] = G->x[e];
	else
		memcpy(s->G, G->t->data, (size_t)s->np * sizeof *s->G);
}

static int circ_forward(train_model *m, tr_node *t)
{
	circ_state *s = t->state;
	const circuit_desc *c = &s->c;
	const tr_val *X = t->in[0], *B = t->nin > 2 ? t->in[2] : NULL;
	tr_val *Y = t->out[0];
	int64_t D = s->D, batch = X->numel / c->cols;
	if (grow_rows(&s->s, &s->cap_s, batch, D))
		return ir_error(tr_graph(m), t->n, "out of memory (%lld states of 2^%d amplitudes)",
				(long long)batch, c->q);
	load_gates(s, t->in[1]);
	for (int64_t r = 0; r < batch; r++) {
		double *row = s->s + r * D;
		for (int64_t j = 0; j < c->cols; j++)
			row[j] = X->x[r * c->cols + j];
		memset(row + c->cols, 0, (size_t)(D - c->cols) * sizeof *row);
	}
	for (int i = 0; i < c->ngates; i++) {
		int j = c->transpose ? c->ngates - 1 - i : i;
		circuit_gate_apply(c->q, c->sites[j], c->ks[j], s->G + c->off[j], c->transpose, s->s,
				   batch, s->work);
	}
	for (int64_t r = 0; r < batch; r++)
		for (int64_t i = 0; i < c->rows; i++)
			Y->x[r * c->rows + i] = (float)(s->s[r * D + i] + (B ? (double)B->x[i] : 0.0));
	return 0;
}

static int circ_backward(train_model *m, tr_node *t)
{
	circ_state *s = t->state;
	const circuit_desc *c = &s->c;
	const tr_val *X = t->in[0], *G = t->in[1], *B = t->nin > 2 ? t->in[2] : NULL, *Y = t->out[0];
	ir_graph *g = tr_graph(m);
	int64_t D = s->D, batch = X->numel / c->cols;
	if (B && B->dx)
		for (int64_t i = 0; i < c->rows; i++) {
			double acc = 0;
			for (int64_t r = 0; r < batch; r++)
				acc += Y->dx[r * c->rows + i];
			B->dx[i] += (float)acc;
		}
	int needg = G->dx != NULL;
	if (!needg && !X->dx)
		return 0;
	if (grow_rows(&s->du, &s->cap_du, batch, D) ||
	    (needg && grow_rows(&s->u, &s->cap_u, batch, D)))
		return ir_error(g, t->n, "out of memory (%lld states of 2^%d amplitudes)",
				(long long)batch, c->q);
	for (int64_t r = 0; r < batch; r++) {
		double *row = s->du + r * D;
		for (int64_t i = 0; i < c->rows; i++)
			row[i] = Y->dx[r * c->rows + i];
		memset(row + c->rows, 0, (size_t)(D - c->rows) * sizeof *row);
	}
	if (needg) {
		memcpy(s->u, s->s, (size_t)(batch * D) * sizeof *s->u);
		memset(s->dG, 0, (size_t)s->np * sizeof *s->dG);
		for (int j = 0; j < c->ngates; j++) {
			int64_t d = (int64_t)1 << c->ks[j];
			double *inv = s->Ginv + c->off[j];
			memset(inv, 0, (size_t)(d * d) * sizeof *inv);
			for (int64_t a = 0; a < d; a++)
				inv[a * d + a] = 1;
			if (la_solve(s->G + c->off[j], d, inv, d, inv))
				return ir_error(g, t->n, "gate %d is singular, cannot back-propagate: %s",
						j, la_last_error());
		}
	}
	for (int step = c->ngates - 1; step >= 0; step--) {
		int j = c->transpose ? c->ngates - 1 - step : step, site = c->sites[j], k = c->ks[j];
		if (needg) {
			/* u: x_{step+1} -> x_step; then dG with du = dx_{step+1} */
			circuit_gate_apply(c->q, site, k, s->Ginv + c->off[j], c->transpose, s->u, batch,
					   s->work);
			if (c->transpose)
				circuit_gate_grad(c->q, site, k, s->du, s->u, batch, s->dG + c->off[j],
						  s->work);
			else
				circuit_gate_grad(c->q, site, k, s->u, s->du, batch, s->dG + c->off[j],
						  s->work);
		}
		circuit_gate_apply(c->q, site, k, s->G + c->off[j], !c->transpose, s->du, batch,
				   s->work);
	}
	if (needg)
		for (int64_t e = 0; e < s->np; e++)
			G->dx[e] += (float)s->dG[e];
	if (X->dx)
		for (int64_t r = 0; r < batch; r++)
			for (int64_t j = 0; j < c->cols; j++)
				X->dx[r * c->cols + j] += (float)s->du[r * D + j];
	return 0;
}

/* The parameter of G when this node owns it (the first node using it),
 * so that a G shared by several nodes is projected and stored once. */
static train_param *owned_gates(train_model *m, tr_node *t)
{
	const tr_val *G = t->in[1];
	if (G->kind != TV_PARAM)
		return NULL;
	train_param *p = train_param_at(m, G->param);
	return p && p->node == t->n ? p : NULL;
}

static int circ_project(train_model *m, tr_node *t)
{
	circ_state *s = t->state;
	const circuit_desc *c = &s->c;
	train_param *p = owned_gates(m, t);
	if (!p || !p->trainable)
		return 0;
	for (int j = 0; j < c->ngates; j++) {
		int64_t d = (int64_t)1 << c->ks[j];
		float *w = p->w + c->off[j];
		for (int64_t e = 0; e < d * d; e++)
			s->pa[e] = w[e];
		if (dis_procrustes(s->pa, d, c->ks[j] >= DIS_SO_MIN_K, s->pq))
			return ir_error(tr_graph(m), t->n, "gate %d cannot be made orthogonal after the "
					"optimiser step: %s", j, la_last_error());
		for (int64_t e = 0; e < d * d; e++)
			w[e] = (float)s->pq[e];
	}
	return 0;
}

static void circ_write_back(train_model *m, tr_node *t)
{
	circ_state *s = t->state;
	const circuit_desc *c = &s->c;
	train_param *p = owned_gates(m, t);
	if (!p || p->value->konst->dtype != IR_F64)
		return;
	double *kd = p->value->konst->data;
	for (int j = 0; j < c->ngates; j++) {
		int64_t d = (int64_t)1 << c->ks[j], changed = 0;
		const float *w = p->w + c->off[j];
		double *dst = kd + c->off[j];
		for (int64_t e = 0; e < d * d; e++) {
			changed |= (float)dst[e] != w[e];
			s->pa[e] = w[e];
		}
		if (!changed) /* keep the f64 gate bit for bit */
			continue;
		/* A gate that cannot be factored (non-finite) is stored as trained:
		 * the op's check then names it. */
		if (dis_procrustes(s->pa, d, c->ks[j] >= DIS_SO_MIN_K, s->pq))
			memcpy(dst, s->pa, (size_t)(d * d) * sizeof *dst);
		else
			memcpy(dst, s->pq, (size_t)(d * d) * sizeof *dst);
	}
}

/* Slots 1 (G, f64 in the graph) and 2 (B) may be parameters. */
const tr_kernel tr_kernels_circuit[] = {
	{IR_OP_Circuit, 0x6u, 0, circ_check, circ_forward, circ_backward, circ_release},
};
const int tr_nkernels_circuit = (int)(sizeof tr_kernels_circuit / sizeof tr_kernels_circuit[0]);
const tr_extra tr_extras_circuit[] = {
	{IR_OP_Circuit, 0x2u, circ_project, circ_write_back},
};
const int tr_nextras_circuit = (int)(sizeof tr_extras_circuit / sizeof tr_extras_circuit[0]);
