/* train_mpo.c - forward and backward of MpoLinear (Y = X Wᵀ + B, W an MPO;
 * layout in op_mpolayer.c and mpo.h) for the training engine: the
 * gradients of the cores, the bias and the input.
 *
 * Core k (0-based) is C_k[a, p, b] with p = i_k·din_k + j_k (output digit
 * i_k, input digit j_k) and P_k = dout_k·din_k. Contracting the cores from
 * the right gives R_k[a, (p_k .. p_{S-1})] = Σ_b C_k[a, p_k, b] R_{k+1}[b, ...]
 * (R_S = 1), so R_0 is the padded operator Wp in site-interleaved order
 * (p_0 most significant). W[i, j] = Wp[rowoff(i) + coloff(j)] with
 *   rowoff(i) = Σ_k i_k din_k Q_k,  coloff(j) = Σ_k j_k Q_k,  Q_k = Π_{l>k} P_l.
 * The forward pass forms the dense N×K block of W from the cores (cost
 * about χ·2^(n+m) multiply-adds, against 2·batch·N·K for the product) and
 * runs one sgemm; the R_k are kept for the backward pass:
 *   dX += dY W,  dB += Σ dY,  dW = dYᵀ X (scattered into dWp, zero in the
 *   padding: padded rows are cut from Y and padded columns meet zeros),
 *   G_0 = dWp,  dC_k[(a p), b] = Σ_r G_k[(a p), r] R_{k+1}[b, r],
 *   G_{k+1}[b, r'] = Σ_{a, p} C_k[a, p, b] G_k[(a p), r'],
 * where G_k[a, p, rest] = Σ_l L_k[l, a] dWp[l, p, rest] is dWp contracted
 * with the cores left of k (L_k). Every step is one sgemm; G_k shrinks
 * by P_k per site, so the sweep costs about as much as forming W.
 */
#include "train_internal.h"

#include "la.h"

#include <stdlib.h>
#include <string.h>

#define MPO_SITES 64

typedef struct mpo_state {
	int S;
	int64_t N, K, T;
	int64_t bl[MPO_SITES], br[MPO_SITES], P[MPO_SITES], Q[MPO_SITES + 1];
	int64_t *rowoff, *coloff;
	float *R;                    /* all R_k, k = 0 .. S-1, one buffer */
	int64_t roff[MPO_SITES + 1]; /* offset of R_k in R */
	float *W;                    /* N×K */
} mpo_state;

static void mpo_release(tr_node *t)
{
	mpo_state *s = t->state;
	if (!s)
		return;
	free(s->rowoff);
	free(s->coloff);
	free(s->R);
	free(s->W);
	free(s);
	t->state = NULL;
}

static int mpo_check(train_model *m, tr_node *t)
{
	ir_graph *g = tr_graph(m);
	int S = t->nin - 2;
	if (S < 1 || S > MPO_SITES)
		return ir_error(g, t->n, "%d cores (1..%d supported in training)", S, MPO_SITES);
	mpo_state *s = calloc(1, sizeof *s);
	if (!s)
		return ir_error(g, t->n, "out of memory");
	t->state = s;
	s->S = S;
	s->N = ir_attr_int(t->n, "rows", 1);
	s->K = ir_attr_int(t->n, "cols", 1);
	int64_t dout[MPO_SITES], din[MPO_SITES];
	for (int k = 0; k < S; k++) {
		const tr_val *c = t->in[2 + k];
		if (c->kind == TV_ACT)
			return ir_error(g, t->n, "core %d must be a constant", k);
		if (c->rank != 4)
			return ir_error(g, t->n, "core %d has rank %d, expected 4", k, c->rank);
		s->bl[k] = c->dims[0];
		dout[k] = c->dims[1];
		din[k] = c->dims[2];
		s->br[k] = c->dims[3];
		s->P[k] = dout[k] * din[k];
		if ((k > 0 && s->bl[k] != s->br[k - 1]) || (k == 0 && s->bl[0] != 1) ||
		    (k == S - 1 && s->br[k] != 1))
			return ir_error(g, t->n, "the bonds of the cores do not chain (core %d)", k);
	}
	s->Q[S] = 1;
	for (int k = S - 1; k >= 0; k--)
		s->Q[k] = s->Q[k + 1] * s->P[k];
	s->T = s->Q[0];
	int64_t pout = 1, pin = 1;
	for (int k = 0; k < S; k++) {
		pout *= dout[k];
		pin *= din[k];
	}
	if (pout < s->N || pin < s->K)
		return ir_error(g, t->n, "the cores span %lld×%lld, smaller than rows × cols = %lld×%lld",
				(long long)pout, (long long)pin, (long long)s->N, (long long)s->K);
	s->rowoff = malloc((size_t)s->N * sizeof *s->rowoff);
	s->coloff = malloc((size_t)s->K * sizeof *s->coloff);
	s->W = malloc((size_t)(s->N * s->K) * sizeof *s->W);
	int64_t rtotal = 0;
	for (int k = 0; k < S; k++) {
		s->roff[k] = rtotal;
		rtotal += s->bl[k] * s->Q[k];
	}
	s->R = malloc((size_t)rtotal * sizeof *s->R);
	if (!s->rowoff || !s->coloff || !s->W || !s->R)
		return ir_error(g, t->n, "out of memory (an MPO of %lld×%lld)", (long long)pout,
				(long long)pin);
	/* Digits most significant first: i = Σ i_k Π_{l>k} dout_l. */
	for (int64_t i = 0; i < s->N; i++) {
		int64_t rem = i, off = 0;
		for (int k = S - 1; k >= 0; k--) {
			off += (rem % dout[k]) * din[k] * s->Q[k + 1];
			rem /= dout[k];
		}
		s->rowoff[i] = off;
	}
	for (int64_t j = 0; j < s->K; j++) {
		int64_t rem = j, off = 0;
		for (int k = S - 1; k >= 0; k--) {
			off += (rem % din[k]) * s->Q[k + 1];
			rem /= din[k];
		}
		s->coloff[j] = off;
	}
	return 0;
}

static int mpo_forward(train_model *m, tr_node *t)
{
	mpo_state *s = t->state;
	const tr_val *X = t->in[0], *B = t->in[1];
	tr_val *Y = t->out[0];
	int S = s->S;
	/* R_{S-1} is core S-1 itself (br = 1); then leftwards. */
	memcpy(s->R + s->roff[S - 1], t->in[1 + S]->x, (size_t)(s->bl[S - 1] * s->Q[S - 1]) * sizeof(float));
	for (int k = S - 2; k >= 0; k--)
		la_sgemm(0, 0, s->bl[k] * s->P[k], s->Q[k + 1], s->br[k], 1, t->in[2 + k]->x,
			 s->R + s->roff[k + 1], 0, s->R + s->roff[k]);
	const float *Wp = s->R; /* R_0, bl = 1 */
	for (int64_t i = 0; i < s->N; i++) {
		float *w = s->W + i * s->K;
		const float *src = Wp + s->rowoff[i];
		for (int64_t j = 0; j < s->K; j++)
			w[j] = src[s->coloff[j]];
	}
	int64_t rows = s->K ? X->numel / s->K : 0;
	if (B)
		for (int64_t r = 0; r < rows; r++)
			memcpy(Y->x + r * s->N, B->x, (size_t)s->N * sizeof(float));
	la_sgemm(0, 1, rows, s->N, s->K, 1, X->x, s->W, B ? 1 : 0, Y->x);
	return 0;
}

static int mpo_backward(train_model *m, tr_node *t)
{
	mpo_state *s = t->state;
	const tr_val *X = t->in[0], *B = t->in[1], *Y = t->out[0];
	int S = s->S, last = -1;
	int64_t rows = s->K ? X->numel / s->K : 0, N = s->N, K = s->K;
	if (X->dx)
		la_sgemm(0, 0, rows, K, N, 1, Y->dx, s->W, 1, X->dx);
	if (B && B->dx)
		for (int64_t r = 0; r < rows; r++)
			for (int64_t i = 0; i < N; i++)
				B->dx[i] += Y->dx[r * N + i];
	for (int k = 0; k < S; k++)
		if (t->in[2 + k]->dx)
			last = k;
	if (last < 0)
		return 0;
	int64_t gmax = 0;
	for (int k = 0; k < S; k++)
		if (s->bl[k] * s->Q[k] > gmax)
			gmax = s->bl[k] * s->Q[k];
	float *dW = tr_scratch(m, t, 0, (size_t)(N * K));
	float *ga = tr_scratch(m, t, 1, (size_t)gmax), *gb = tr_scratch(m, t, 2, (size_t)gmax);
	if (!dW || !ga || !gb)
		return -1;
	la_sgemm(1, 0, N, K, rows, 1, Y->dx, X->x, 0, dW);
	memset(ga, 0, (size_t)s->T * sizeof *ga);
	for (int64_t i = 0; i < N; i++) {
		float *dst = ga + s->rowoff[i];
		const float *src = dW + i * K;
		for (int64_t j = 0; j < K; j++)
			dst[s->coloff[j]] = src[j];
	}
	for (int k = 0; k <= last; k++) {
		const tr_val *c = t->in[2 + k];
		int64_t ap = s->bl[k] * s->P[k];
		if (c->dx) {
			if (k == S - 1) /* R_S = 1 */
				for (int64_t e = 0; e < ap; e++)
					c->dx[e] += ga[e];
			else
				la_sgemm(0, 1, ap, s->br[k], s->Q[k + 1], 1, ga, s->R + s->roff[k + 1], 1,
					 c->dx);
		}
		if (k < last) {
			la_sgemm(1, 0, s->br[k], s->Q[k + 1], ap, 1, c->x, ga, 0, gb);
			float *tmp = ga;
			ga = gb;
			gb = tmp;
		}
	}
	return 0;
}

/* Every input but X (slot 0) may be a parameter: bias and cores. */
const tr_kernel tr_kernels_mpo[] = {
	{IR_OP_MpoLinear, ~1u, 0, mpo_check, mpo_forward, mpo_backward, mpo_release},
};
const int tr_nkernels_mpo = (int)(sizeof tr_kernels_mpo / sizeof tr_kernels_mpo[0]);
