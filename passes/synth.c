/* synth.c - gate synthesis: real orthogonal k-qubit gate -> {ry, x, z, cx}
 * circuit (API, bit order and gate set in synth.h; DESIGN §5).
 *
 * k = 1. U = Ry(θ) for det +1, U = Ry(θ)·Z for det -1.
 *
 * k = 2, det +1. SO(4) = SU(2)·SU(2)/±1 (the quaternion split behind the
 * magic basis: Vatan & Williams, "Optimal quantum circuits for general
 * two-qubit gates", PRA 69, 032315 (2004), §IV). With J = [[0,-1],[1,0]],
 * e1 = J⊗I, e2 = X⊗J and f1 = I⊗J, f2 = J⊗X span two commuting quaternion
 * algebras inside the real 4×4 matrices (first factor = qubit 1), so
 * U = L(p) R(q) with unit quaternions p, q read off the rank-one matrix
 * C_ab = <e_a f_b, U>/4 = p_a q_b. Euler angles p = e^{a e1} e^{b e2} e^{c e1}
 * (likewise q with f) and e^{θ J} = Ry(2θ) give
 *   U = [Ry(2a)⊗Ry(2a'+π/2)] CX [Ry(2b')⊗Ry(2b)] CX [Ry(2c)⊗Ry(2c'-π/2)],
 * CX with control 0 and target 1, because CX conjugates J_0 to X_1 J_0 and
 * J_1 to Z_0 J_1, and Ry_0(π/2) turns Z_0 into X_0. Six Ry, two CX, real.
 * k = 2, det -1: U = (U·CX)·CX, three CX (CX has det -1, local gates +1).
 *
 * k ≥ 3: quantum Shannon decomposition (Shende, Bullock, Markov,
 * "Synthesis of quantum logic circuits", IEEE TCAD 25 (2006), §4), kept
 * real. The cosine-sine decomposition (LAPACK dorcsd) splits on the top
 * qubit m = k-1:
 *   U = (U1 ⊕ U2) · CS · (V1 ⊕ V2),   CS = multiplexed Ry on m.
 * Each block-diagonal half is demultiplexed with a real Schur form instead
 * of the complex eigendecomposition of the paper: W = U1 U2ᵀ = Q T Qᵀ with T
 * 2×2 rotations R(φ_j) on pairs of Schur vectors (±1 eigenvalues paired up,
 * possible when det U1 = det U2). With A = Q (pairs on qubit 0), D = ⊕_j
 * R(φ_j/2), B = Dᵀ Aᵀ U1:
 *   U1 ⊕ U2 = (I⊗A) · (D ⊕ Dᵀ) · (I⊗B),
 * and D ⊕ Dᵀ is a multiplexed Ry on qubit 0 whose angle is odd in m,
 * ±φ_j: only Walsh terms containing m occur, so it costs 2^{k-2}+2 CX
 * (enter m, Gray walk over the others, leave m) where a general multiplexor
 * costs 2^{k-1}; the last CX of the walk acts below m and is multiplied
 * into the neighbouring leaf A (2^{k-2}+1 emitted). The CS multiplexor ends
 * with a CZ(k-2, m) multiplied into U2 (Shende et al., appendix A1:
 * 2^{k-1}-1 emitted); X and Z conjugations mixed leave Ry(-π) where bit
 * k-2 of the control value is set, folded into the angles. Determinants: the CSD's sign
 * freedoms (θ_c -> -θ_c, θ_c + π with a column of U1/U2 and a row of V1/V2
 * negated) give all four blocks one determinant s, and the demultiplexer
 * gives det A = s, det B = +1; s = -1 for k = 3, where the CX multiplied
 * into A has det -1 on two qubits, so every leaf lands in SO(4) (2 CX).
 *   CX(2) = 2, CX(k) = 4 CX(k-1) + 2^k + 1: 17, 85, 373, 1557 for k = 3..6
 * (Qiskit's block-ZXZ QSD for general unitaries: 19, 95, 423, 1783).
 *
 * k ≥ 3, det -1: every one- and two-qubit real gate has det +1 on three or
 * more qubits, so no real circuit reaches det -1. We write U = U'·C where C
 * is a circuit of p and CX gates whose matrix is Perm·C^{k-1}Z: the phase
 * polynomial of C^{k-1}Z (all 2^k - 1 parities, angles ±π/2^{k-1}) with
 * the parities made by a Gray walk per target qubit and never undone
 * (2^k - k - 1 CX, the fewest that can make 2^k - 1 - k new parities); the
 * leftover permutation Perm is real and goes into U' = U·Cᵀ ∈ SO(2^k).
 *
 * Before any of this, structure is looked for: a qubit the gate leaves
 * alone is dropped, and a tensor product across a cut is synthesised factor
 * by factor (identity gates cost nothing, A⊗B costs CX(A) + CX(B)). After
 * it, a peephole pass merges runs of one-qubit gates per qubit into one Ry
 * (or Z, X, Z·Ry) and cancels adjacent equal CX.
 *
 * The CSD and the Schur form come from la.c (la_csd, la_schur).
 */
#include "synth.h"

#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ir/ir.h"
#include "la.h"

#define PI 3.14159265358979323846

/* Orthogonality an input must have, and the check of the result. */
#define SYN_ORTH_TOL 1e-8
#define SYN_CHECK_TOL 1e-10

/* ============================================================== circuit */

const char *syn_gate_name(syn_gate g)
{
	static const char *const names[SYN_GATE_COUNT] = {"ry", "x", "z", "p", "cx"};
	return (unsigned)g < SYN_GATE_COUNT ? names[g] : "?";
}

void syn_circuit_init(syn_circuit *c, int k)
{
	memset(c, 0, sizeof *c);
	c->k = k;
}

void syn_circuit_free(syn_circuit *c)
{
	free(c->ops);
	memset(c, 0, sizeof *c);
}

static int push(syn_circuit *c, syn_gate g, int q0, int q1, double angle)
{
	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 64;
		syn_op *ops = realloc(c->ops, (size_t)cap * sizeof *ops);
		if (!ops) {
			la_set_error("syn: out of memory (%d gates)", cap);
			return -1;
		}
		c->ops = ops;
		c->cap = cap;
	}
	c->ops[c->n++] = (syn_op){g, q0, q1, angle};
	return 0;
}

static int push_ry(syn_circuit *c, int q, double a) { return push(c, SYN_RY, q, -1, a); }
static int push_cx(syn_circuit *c, int ctl, int tgt) { return push(c, SYN_CX, ctl, tgt, 0); }

/* ====================================================== small matrices */

/* B = A·P for the n-qubit permutation P = CX(ctl -> tgt): column j of B
 * is column (j with bit tgt flipped when bit ctl is set) of A. */
static void mul_cx_right(const double *A, int nq, int ctl, int tgt, double *B)
{
	int n = 1 << nq;
	for (int j = 0; j < n; j++) {
		int src = j ^ (((j >> ctl) & 1) << tgt);
		for (int i = 0; i < n; i++)
			B[i * n + j] = A[i * n + src];
	}
}

/* Gray code and the bit it flips at step i (i ≥ 1). */
static unsigned gray(unsigned i) { return i ^ (i >> 1); }
static int gray_flip(unsigned i) { return __builtin_ctz(i); }

/* Walsh angles of a Gray-code multiplexor: theta[c] = Σ_i (-1)^{|gray(i)&c|}
 * alpha[i] for c, i < N. */
static void walsh_angles(const double *theta, int N, double *alpha)
{
	for (int i = 0; i < N; i++) {
		double s = 0;
		for (int c = 0; c < N; c++)
			s += (__builtin_popcount(gray((unsigned)i) & (unsigned)c) & 1) ? -theta[c]
										: theta[c];
		alpha[i] = s / N;
	}
}

/* ========================================================= k = 1 and 2 */

static int synth_1q(const double *U, int q, syn_circuit *c)
{
	/* U and U·Z share their first column, the rotation's. */
	double det = U[0] * U[3] - U[1] * U[2];
	if (det < 0 && push(c, SYN_Z, q, -1, 0))
		return -1;
	return push_ry(c, q, 2 * atan2(U[2], U[0]));
}

static void kron2(const double *A, const double *B, double *K)
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			K[i * 4 + j] = A[(i >> 1) * 2 + (j >> 1)] * B[(i & 1) * 2 + (j & 1)];
}

/* Euler angles of the unit quaternion p = e^{a u} e^{b v} e^{c u}, uv = w:
 * p = cos b cos(a+c) + cos b sin(a+c) u + sin b cos(a-c) v + sin b sin(a-c) w. */
static void quat_euler(const double *p, double *a, double *b, double *c)
{
	double s = atan2(p[1], p[0]), d = atan2(p[3], p[2]);
	*b = atan2(hypot(p[2], p[3]), hypot(p[0], p[1]));
	*a = (s + d) / 2;
	*c = (s - d) / 2;
}

/* U ∈ SO(4) on qubits 0, 1: six Ry and two CX (see the top comment). */
static int synth_so4(const double *U, syn_circuit *c)
{
	static const double Id[4] = {1, 0, 0, 1}, J[4] = {0, -1, 1, 0}, X[4] = {0, 1, 1, 0};
	double e[4][16], f[4][16], C[4][4], p[4], q[4];
	kron2(Id, Id, e[0]);
	kron2(J, Id, e[1]);
	kron2(X, J, e[2]);
	kron2(Id, Id, f[0]);
	kron2(Id, J, f[1]);
	kron2(J, X, f[2]);
	la_gemm(0, 0, 4, 4, 4, 1.0, e[1], e[2], 0.0, e[3]);
	la_gemm(0, 0, 4, 4, 4, 1.0, f[1], f[2], 0.0, f[3]);
	int best = 0;
	double bestn = -1;
	for (int b = 0; b < 4; b++) {
		double ef[16], nb = 0;
		for (int a = 0; a < 4; a++) {
			la_gemm(0, 0, 4, 4, 4, 1.0, e[a], f[b], 0.0, ef);
			double s = 0;
			for (int i = 0; i < 16; i++)
				s += ef[i] * U[i];
			C[a][b] = s / 4;
			nb += C[a][b] * C[a][b];
		}
		if (nb > bestn) {
			bestn = nb;
			best = b;
		}
	}
	/* C = p qᵀ: p is the largest column normalised, q = Cᵀ p. */
	double np = sqrt(bestn);
	for (int a = 0; a < 4; a++)
		p[a] = C[a][best] / np;
	for (int b = 0; b < 4; b++) {
		q[b] = 0;
		for (int a = 0; a < 4; a++)
			q[b] += C[a][b] * p[a];
	}
	double a1, b1, c1, a0, b0, c0;
	quat_euler(p, &a1, &b1, &c1);
	quat_euler(q, &a0, &b0, &c0);
	if (push_ry(c, 1, 2 * c1) || push_ry(c, 0, 2 * c0 - PI / 2) || push_cx(c, 0, 1) ||
	    push_ry(c, 1, 2 * b0) || push_ry(c, 0, 2 * b1) || push_cx(c, 0, 1) ||
	    push_ry(c, 1, 2 * a1) || push_ry(c, 0, 2 * a0 + PI / 2))
		return -1;
	return 0;
}

/* ============================================================ k ≥ 3 */

/* Gray-walk multiplexed Ry on target t, controls ctl[0..nc) (bit b of a
 * control value is qubit ctl[b]): Ry(α_0), CX, Ry(α_1), ..., Ry(α_{N-1}).
 * The closing flip of bit nc-1 is the caller's. */
static int emit_walk(syn_circuit *c, int t, const int *ctl, int nc, const double *alpha)
{
	int N = 1 << nc;
	for (int i = 0; i < N; i++) {
		if (i > 0 && push_cx(c, ctl[gray_flip((unsigned)i)], t))
			return -1;
		if (push_ry(c, t, alpha[i]))
			return -1;
	}
	return 0;
}

/* Demultiplex X1 ⊕ X2 (blocks on kb qubits, det X1 = det X2):
 * X1 = A D B, X2 = A Dᵀ B with D = ⊕_j R(φ_j/2) on qubit-0 pairs, det A =
 * sA, det B = det X1 / sA. phi has 2^{kb-1} entries. Returns 0 or -1. */
static int demux(const double *X1, const double *X2, int kb, int sA, double *A, double *B,
		 double *phi)
{
	int h = 1 << kb, np = 0, rc = -1;
	double *W = malloc((size_t)4 * h * h * sizeof *W);
	int *plus = malloc((size_t)2 * h * sizeof *plus), nplus = 0, nminus = 0;
	if (!W || !plus) {
		la_set_error("syn: out of memory");
		goto out;
	}
	double *T = W + (size_t)h * h, *Q = T + (size_t)h * h, *tmp = Q + (size_t)h * h;
	int *minus = plus + h;
	la_gemm(0, 1, h, h, h, 1.0, X1, X2, 0.0, W);
	if (la_schur(W, h, T, Q))
		goto out;
	/* Rotation blocks go straight into A's column pairs; lone ±1
	 * eigenvalues are paired (R(0) and R(π)). */
	for (int i = 0; i < h;) {
		if (i + 1 < h && T[(i + 1) * h + i] != 0) {
			double s = (T[(i + 1) * h + i] - T[i * h + i + 1]) / 2;
			double co = (T[i * h + i] + T[(i + 1) * h + i + 1]) / 2;
			for (int r = 0; r < h; r++) {
				A[r * h + 2 * np] = Q[r * h + i];
				A[r * h + 2 * np + 1] = Q[r * h + i + 1];
			}
			phi[np++] = atan2(s, co);
			i += 2;
		} else {
			if (T[i * h + i] >= 0)
				plus[nplus++] = i;
			else
				minus[nminus++] = i;
			i++;
		}
	}
	if (nplus % 2 || nminus % 2) {
		la_set_error("syn: demultiplexer blocks differ in determinant");
		goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		int *list = pass ? minus : plus, cnt = pass ? nminus : nplus;
		for (int l = 0; l < cnt; l += 2) {
			for (int r = 0; r < h; r++) {
				A[r * h + 2 * np] = Q[r * h + list[l]];
				A[r * h + 2 * np + 1] = Q[r * h + list[l + 1]];
			}
			phi[np++] = pass ? PI : 0;
		}
	}
	IR_ASSERT(2 * np == h);
	if (la_det_sign(A, h) != sA) {
		/* Flipping one vector of a pair reverses its rotation. */
		for (int r = 0; r < h; r++)
			A[r * h] = -A[r * h];
		phi[0] = -phi[0];
	}
	/* B = Dᵀ Aᵀ X1. */
	la_gemm(1, 0, h, h, h, 1.0, A, X1, 0.0, tmp);
	for (int j = 0; j < np; j++) {
		double co = cos(phi[j] / 2), s = sin(phi[j] / 2);
		for (int l = 0; l < h; l++) {
			double x0 = tmp[2 * j * h + l], x1 = tmp[(2 * j + 1) * h + l];
			B[2 * j * h + l] = co * x0 + s * x1;
			B[(2 * j + 1) * h + l] = -s * x0 + co * x1;
		}
	}
	rc = 0;
out:
	free(W);
	free(plus);
	return rc;
}

/* Angles and matrices of one multiplexed half after demultiplexing: the
 * leaf A already carries the walk's last CX. */
typedef struct {
	double *A, *B, *alpha;
} half;

static int split_half(const double *X1, const double *X2, int k, int sA, half *hf, double *tmp)
{
	int kb = k - 1, h = 1 << kb, np = h / 2;
	double *phi = tmp + (size_t)h * h;
	if (demux(X1, X2, kb, sA, tmp, hf->B, phi))
		return -1;
	/* Walk over qubits 1..k-2 with m always in the parity: angle ±φ_j. */
	walsh_angles(phi, np, hf->alpha);
	mul_cx_right(tmp, kb, kb - 1, 0, hf->A);
	return 0;
}

/* The walk of a half's D ⊕ Dᵀ: CX(m -> 0), Gray walk on qubit 0 over
 * qubits 1..k-2, CX(m -> 0). */
static int emit_half(syn_circuit *c, int k, const half *hf)
{
	int ctl[SYN_MAX_QUBITS];
	for (int b = 0; b < k - 2; b++)
		ctl[b] = b + 1;
	if (push_cx(c, k - 1, 0) || emit_walk(c, 0, ctl, k - 2, hf->alpha) || push_cx(c, k - 1, 0))
		return -1;
	return 0;
}

static int qsd(const double *M, int k, syn_circuit *c);

/* M ∈ SO(2^k), k ≥ 3. */
static int qsd_split(const double *M, int k, syn_circuit *c)
{
	int n = 1 << k, h = n / 2, hh = h * h, rc = -1;
	int s = k == 3 ? -1 : 1; /* det of CX on k-1 qubits */
	size_t sz = (size_t)8 * hh + 4 * h + (size_t)hh + h;
	double *buf = calloc(sz, sizeof *buf);
	if (!buf) {
		la_set_error("syn: out of memory");
		return -1;
	}
	double *U1 = buf, *U2 = U1 + hh, *V1 = U2 + hh, *V2 = V1 + hh;
	half hu = {V2 + hh, V2 + 2 * hh, NULL}, hv = {V2 + 3 * hh, V2 + 4 * hh, NULL};
	double *th = V2 + 5 * hh, *acs = th + h;
	hu.alpha = acs + h;
	hv.alpha = hu.alpha + h / 2;
	double *tmp = hv.alpha + h / 2; /* hh + h/2 */
	if (la_csd(M, n, U1, U2, V1, V2, th))
		goto out;
	/* All four blocks to det s (see the top comment for the moves). */
	if (la_det_sign(U1, h) != s) {
		for (int r = 0; r < h; r++) {
			U1[r * h] = -U1[r * h];
			U2[r * h] = -U2[r * h];
		}
		th[0] += PI;
	}
	if (la_det_sign(U2, h) != s) {
		for (int r = 0; r < h; r++)
			U2[r * h] = -U2[r * h];
		for (int l = 0; l < h; l++)
			V2[l] = -V2[l];
		th[0] = -th[0];
	}
	if (la_det_sign(V1, h) != s) {
		for (int l = 0; l < h; l++) {
			V1[l] = -V1[l];
			V2[l] = -V2[l];
		}
		th[0] += PI;
	}
	if (la_det_sign(V2, h) != s) {
		la_set_error("syn: cosine-sine factors have inconsistent determinants");
		goto out;
	}
	/* CS: walk on m over qubits 0..k-2, closed by CZ(k-2, m) folded into
	 * U2; the X/Z mix leaves Ry(-π) where bit k-2 is set. */
	for (int cv = 0; cv < h; cv++)
		tmp[cv] = 2 * th[cv] + ((cv >> (k - 2)) & 1 ? PI : 0);
	walsh_angles(tmp, h, acs);
	for (int r = 0; r < h; r++)
		for (int l = h / 2; l < h; l++)
			U2[r * h + l] = -U2[r * h + l];
	if (split_half(V1, V2, k, s, &hv, tmp) || split_half(U1, U2, k, s, &hu, tmp))
		goto out;
	int ctl[SYN_MAX_QUBITS];
	for (int b = 0; b < k - 1; b++)
		ctl[b] = b;
	if (qsd(hv.B, k - 1, c) || emit_half(c, k, &hv) || qsd(hv.A, k - 1, c) ||
	    emit_walk(c, k - 1, ctl, k - 1, acs) || qsd(hu.B, k - 1, c) || emit_half(c, k, &hu) ||
	    qsd(hu.A, k - 1, c))
		goto out;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* M ∈ SO(2^k), k ≥ 2. */
static int qsd(const double *M, int k, syn_circuit *c)
{
	return k == 2 ? synth_so4(M, c) : qsd_split(M, k, c);
}

/* The phase polynomial of C^{k-1}Z = diag(1, ..., 1, -1): parity S gets
 * the angle π (-1)^{|S|+1} / 2^{k-1}. Target t walks over the parities
 * {t} ∪ S, S ⊆ {0..t-1}, and keeps its last one. */
static int emit_ccz_walk(syn_circuit *c, int k)
{
	double unit = PI / (double)(1u << (k - 1));
	for (int t = k - 1; t >= 0; t--) {
		unsigned N = 1u << t;
		for (unsigned i = 0; i < N; i++) {
			if (i > 0 && push_cx(c, gray_flip(i), t))
				return -1;
			int size = 1 + __builtin_popcount(gray(i));
			if (push(c, SYN_P, t, -1, size % 2 ? unit : -unit))
				return -1;
		}
	}
	return 0;
}

/* ============================================================ peephole */

/* The row-major 2×2 matrix of a real one-qubit op (ry, x, z). */
static void op_2x2(const syn_op *op, double *g)
{
	double co = cos(op->angle / 2), s = sin(op->angle / 2);
	if (op->gate == SYN_RY)
		g[0] = co, g[1] = -s, g[2] = s, g[3] = co;
	else if (op->gate == SYN_X)
		g[0] = 0, g[1] = 1, g[2] = 1, g[3] = 0;
	else
		g[0] = 1, g[1] = 0, g[2] = 0, g[3] = -1;
}

static int near(double a, double b) { return fabs(a - b) < 1e-14; }

/* Emit the real 2×2 orthogonal m as nothing, z, x, ry or z + ry. */
static int emit_2x2(syn_circuit *c, int q, const double *m)
{
	double det = m[0] * m[3] - m[1] * m[2];
	if (det > 0) {
		if (near(m[0], 1) && near(m[2], 0))
			return 0;
		return push_ry(c, q, 2 * atan2(m[2], m[0]));
	}
	if (near(m[0], 1) && near(m[2], 0))
		return push(c, SYN_Z, q, -1, 0);
	if (near(m[0], 0) && near(m[2], 1))
		return push(c, SYN_X, q, -1, 0);
	if (push(c, SYN_Z, q, -1, 0))
		return -1;
	return push_ry(c, q, 2 * atan2(m[2], m[0]));
}

/* One pass: merge runs of real one-qubit gates per qubit, then cancel
 * CX pairs with nothing between them on their qubits. Sets *changed. */
static int peephole_pass(syn_circuit *c, int *changed)
{
	syn_circuit out;
	double pend[SYN_MAX_QUBITS][4];
	int npend[SYN_MAX_QUBITS], last[SYN_MAX_QUBITS];
	syn_circuit_init(&out, c->k);
	for (int q = 0; q < c->k; q++) {
		pend[q][0] = pend[q][3] = 1;
		pend[q][1] = pend[q][2] = 0;
		npend[q] = 0;
	}
	for (int i = 0; i <= c->n; i++) {
		const syn_op *op = i < c->n ? &c->ops[i] : NULL;
		if (op && op->gate != SYN_P && op->gate != SYN_CX) {
			double g[4], r[4], *m = pend[op->q0];
			op_2x2(op, g);
			r[0] = g[0] * m[0] + g[1] * m[2];
			r[1] = g[0] * m[1] + g[1] * m[3];
			r[2] = g[2] * m[0] + g[3] * m[2];
			r[3] = g[2] * m[1] + g[3] * m[3];
			memcpy(m, r, sizeof r);
			npend[op->q0]++;
			continue;
		}
		/* Flush the pending gates on the qubits this op touches (all at the end). */
		for (int q = 0; q < c->k; q++) {
			if (op && q != op->q0 && q != op->q1)
				continue;
			int before = out.n;
			if (emit_2x2(&out, q, pend[q])) {
				syn_circuit_free(&out);
				return -1;
			}
			if (out.n - before != npend[q])
				*changed = 1;
			pend[q][0] = pend[q][3] = 1;
			pend[q][1] = pend[q][2] = 0;
			npend[q] = 0;
		}
		if (op && push(&out, op->gate, op->q0, op->q1, op->angle)) {
			syn_circuit_free(&out);
			return -1;
		}
	}
	/* CX cancellation on the merged list. */
	for (int q = 0; q < c->k; q++)
		last[q] = -1;
	int w = 0;
	for (int i = 0; i < out.n; i++) {
		syn_op op = out.ops[i];
		if (op.gate == SYN_CX && last[op.q0] >= 0 && last[op.q0] == last[op.q1]) {
			syn_op *prev = &out.ops[last[op.q0]];
			if (prev->gate == SYN_CX && prev->q0 == op.q0 && prev->q1 == op.q1) {
				/* Drop both; nothing may cancel across the gap. */
				prev->gate = SYN_GATE_COUNT;
				last[op.q0] = last[op.q1] = -1;
				*changed = 1;
				continue;
			}
		}
		out.ops[w] = op;
		last[op.q0] = w;
		if (op.q1 >= 0)
			last[op.q1] = w;
		w++;
	}
	int v = 0;
	for (int i = 0; i < w; i++)
		if (out.ops[i].gate != SYN_GATE_COUNT)
			out.ops[v++] = out.ops[i];
	out.n = v;
	free(c->ops);
	c->ops = out.ops;
	c->n = out.n;
	c->cap = out.cap;
	return 0;
}

static int peephole(syn_circuit *c)
{
	for (int round = 0; round < 16; round++) {
		int changed = 0;
		if (peephole_pass(c, &changed))
			return -1;
		if (!changed)
			break;
	}
	return 0;
}

/* ============================================================== public */

double syn_circuit_matrix(const syn_circuit *c, int k, double *out)
{
	int n = 1 << k;
	double complex *M = malloc((size_t)n * n * sizeof *M);
	double imag = 0;
	if (!M)
		return INFINITY;
	for (int i = 0; i < n * n; i++)
		M[i] = (i / n == i % n) ? 1 : 0;
	for (int o = 0; o < c->n; o++) {
		const syn_op *op = &c->ops[o];
		int q = op->q0;
		if (op->gate == SYN_CX) {
			int cb = 1 << op->q0, tb = 1 << op->q1;
			for (int r = 0; r < n; r++)
				if ((r & cb) && !(r & tb))
					for (int j = 0; j < n; j++) {
						double complex t = M[r * n + j];
						M[r * n + j] = M[(r | tb) * n + j];
						M[(r | tb) * n + j] = t;
					}
			continue;
		}
		if (op->gate == SYN_P) {
			double complex ph = cexp(I * op->angle);
			for (int r = 0; r < n; r++)
				if (r >> q & 1)
					for (int j = 0; j < n; j++)
						M[r * n + j] *= ph;
			continue;
		}
		double g[4];
		op_2x2(op, g);
		for (int r = 0; r < n; r++)
			if (!(r >> q & 1)) {
				int r1 = r | 1 << q;
				for (int j = 0; j < n; j++) {
					double complex a = M[r * n + j], b = M[r1 * n + j];
					M[r * n + j] = g[0] * a + g[1] * b;
					M[r1 * n + j] = g[2] * a + g[3] * b;
				}
			}
	}
	for (int i = 0; i < n * n; i++) {
		out[i] = creal(M[i]);
		if (fabs(cimag(M[i])) > imag)
			imag = fabs(cimag(M[i]));
	}
	free(M);
	return imag;
}

void syn_circuit_stats(const syn_circuit *c, syn_stats *s)
{
	int lv[SYN_MAX_QUBITS] = {0}, lc[SYN_MAX_QUBITS] = {0};
	memset(s, 0, sizeof *s);
	for (int i = 0; i < c->n; i++) {
		const syn_op *op = &c->ops[i];
		if (op->gate == SYN_CX) {
			int a = op->q0, b = op->q1;
			int l = 1 + (lv[a] > lv[b] ? lv[a] : lv[b]);
			int m = 1 + (lc[a] > lc[b] ? lc[a] : lc[b]);
			lv[a] = lv[b] = l;
			lc[a] = lc[b] = m;
			s->cx++;
		} else {
			lv[op->q0]++;
			s->oneq++;
		}
	}
	for (int q = 0; q < c->k; q++) {
		if (lv[q] > s->depth)
			s->depth = lv[q];
		if (lc[q] > s->cx_depth)
			s->cx_depth = lc[q];
	}
}

int syn_cx_bound(int k, int det)
{
	if (k <= 1)
		return 0;
	if (k == 2)
		return det < 0 ? 3 : 2;
	int cx = 17;
	for (int j = 4; j <= k; j++)
		cx = 4 * cx + (1 << j) + 1;
	return det < 0 ? cx + (1 << k) - k - 1 : cx;
}

/* k = 2, det -1: U = (U·P)·P with P = CX either way round; keep the
 * shorter circuit (a CX input then costs one CX). */
static int synth_o4_minus(const double *U, syn_circuit *c)
{
	double V[16];
	syn_circuit alt;
	syn_circuit_init(&alt, 2);
	mul_cx_right(U, 2, 0, 1, V);
	if (push_cx(c, 0, 1) || synth_so4(V, c) || peephole(c))
		goto fail;
	mul_cx_right(U, 2, 1, 0, V);
	if (push_cx(&alt, 1, 0) || synth_so4(V, &alt) || peephole(&alt))
		goto fail;
	syn_stats a, b;
	syn_circuit_stats(c, &a);
	syn_circuit_stats(&alt, &b);
	if (b.cx < a.cx || (b.cx == a.cx && b.oneq < a.oneq)) {
		syn_circuit t = *c;
		*c = alt;
		alt = t;
	}
	syn_circuit_free(&alt);
	return 0;
fail:
	syn_circuit_free(&alt);
	return -1;
}

/* ========================================================= structure */

static int synth_gate(const double *U, int k, syn_circuit *c);

/* Synthesise the kq-qubit gate G into c with its qubit j on qubit map[j]. */
static int synth_mapped(const double *G, int kq, const int *map, syn_circuit *c)
{
	syn_circuit t;
	syn_circuit_init(&t, kq);
	int rc = synth_gate(G, kq, &t);
	for (int i = 0; !rc && i < t.n; i++) {
		syn_op op = t.ops[i];
		rc = push(c, op.gate, map[op.q0], op.q1 >= 0 ? map[op.q1] : -1, op.angle);
	}
	syn_circuit_free(&t);
	return rc;
}

#define SYN_STRUCT_TOL 1e-13

/* If U leaves qubit j alone (U = I_j ⊗ A), synthesise A on the others and
 * set *done. Identity gates and gates on fewer qubits cost nothing extra. */
static int try_idle(const double *U, int k, syn_circuit *c, int *done)
{
	int n = 1 << k, h = n / 2;
	*done = 0;
	for (int j = k - 1; j >= 0; j--) {
		int bit = 1 << j, ok = 1;
		for (int r = 0; ok && r < n; r++)
			for (int l = 0; ok && l < n; l++) {
				double v = U[r * n + l];
				if ((r ^ l) & bit)
					ok = fabs(v) <= SYN_STRUCT_TOL;
				else if (r & bit)
					ok = fabs(v - U[(r ^ bit) * n + (l ^ bit)]) <= SYN_STRUCT_TOL;
			}
		/* One qubit: only +I is nothing (-I is Ry(2π)). */
		if (!ok || (k == 1 && U[0] < 0))
			continue;
		*done = 1;
		if (k == 1)
			return 0;
		/* A's index is U's with bit j cut out. */
		double *A = malloc((size_t)h * h * sizeof *A);
		int map[SYN_MAX_QUBITS];
		if (!A) {
			la_set_error("syn: out of memory");
			return -1;
		}
		for (int r = 0; r < h; r++)
			for (int l = 0; l < h; l++) {
				int R = (r >> j << (j + 1)) | (r & (bit - 1));
				int L = (l >> j << (j + 1)) | (l & (bit - 1));
				A[r * h + l] = U[R * n + L];
			}
		for (int q = 0; q < k - 1; q++)
			map[q] = q < j ? q : q + 1;
		int rc = synth_mapped(A, k - 1, map, c);
		free(A);
		return rc;
	}
	return 0;
}

/* If U = A ⊗ B with A on the top ka qubits and B on the low kb, for some
 * cut, synthesise the factors apart and set *done. The rearrangement
 * R[(a a')][(b b')] = U[a nb + b][a' nb + b'] of a product has rank one. */
static int try_product(const double *U, int k, syn_circuit *c, int *done)
{
	int n = 1 << k, rc = 0;
	*done = 0;
	for (int kb = 1; kb < k && !*done; kb++) {
		int ka = k - kb, na = 1 << ka, nb = 1 << kb;
		int ra = 0, rb = 0;
		double big = -1;
		for (int i = 0; i < n * n; i++)
			if (fabs(U[i]) > big) {
				big = fabs(U[i]);
				int r = i / n, l = i % n;
				ra = (r / nb) * na + l / nb;
				rb = (r % nb) * nb + l % nb;
			}
		/* A = R[:, rb], B = R[ra, :] / R[ra][rb], scaled to be orthogonal. */
		double *A = malloc((size_t)(na * na + nb * nb) * sizeof *A), *B, pivot, norm = 0;
		if (!A) {
			la_set_error("syn: out of memory");
			return -1;
		}
		B = A + na * na;
		for (int a = 0; a < na * na; a++) {
			int r = (a / na) * nb + rb / nb, l = (a % na) * nb + rb % nb;
			A[a] = U[r * n + l];
			norm += A[a] * A[a];
		}
		pivot = A[ra];
		for (int b = 0; b < nb * nb; b++) {
			int r = (ra / na) * nb + b / nb, l = (ra % na) * nb + b % nb;
			B[b] = U[r * n + l] / pivot;
		}
		double scale = sqrt(na / norm);
		int ok = 1;
		for (int a = 0; a < na * na; a++)
			A[a] *= scale;
		for (int b = 0; b < nb * nb; b++)
			B[b] /= scale;
		for (int i = 0; ok && i < n * n; i++) {
			int r = i / n, l = i % n;
			double v = A[(r / nb) * na + l / nb] * B[(r % nb) * nb + l % nb];
			ok = fabs(v - U[i]) <= SYN_STRUCT_TOL;
		}
		if (ok) {
			int mapa[SYN_MAX_QUBITS], mapb[SYN_MAX_QUBITS];
			for (int q = 0; q < ka; q++)
				mapa[q] = q + kb;
			for (int q = 0; q < kb; q++)
				mapb[q] = q;
			*done = 1;
			rc = synth_mapped(B, kb, mapb, c) || synth_mapped(A, ka, mapa, c) ? -1 : 0;
		}
		free(A);
	}
	return rc;
}

/* The dispatcher: structure first, then by size and determinant. */
static int synth_gate(const double *U, int k, syn_circuit *c)
{
	int n = 1 << k, done = 0;
	if (try_idle(U, k, c, &done) || done)
		return done ? 0 : -1;
	if (k >= 2 && (try_product(U, k, c, &done) || done))
		return done ? 0 : -1;
	int det = la_det_sign(U, n);
	if (k == 1)
		return synth_1q(U, 0, c);
	if (k == 2)
		return det > 0 ? synth_so4(U, c) : synth_o4_minus(U, c);
	if (det > 0)
		return qsd(U, k, c);
	/* U = (U Cᵀ) C with C the circuit of Perm·C^{k-1}Z. */
	double *G = malloc((size_t)2 * n * n * sizeof *G);
	syn_circuit w;
	int rc = -1;
	syn_circuit_init(&w, k);
	if (!G) {
		la_set_error("syn: out of memory");
		goto out;
	}
	if (emit_ccz_walk(&w, k))
		goto out;
	double im = syn_circuit_matrix(&w, k, G);
	IR_ASSERT(im < 1e-12);
	la_gemm(0, 1, n, n, n, 1.0, U, G, 0.0, G + (size_t)n * n);
	for (int i = 0; i < w.n; i++)
		if (push(c, w.ops[i].gate, w.ops[i].q0, w.ops[i].q1, w.ops[i].angle))
			goto out;
	rc = qsd(G + (size_t)n * n, k, c);
out:
	syn_circuit_free(&w);
	free(G);
	return rc;
}

int syn_synth(const double *U, int k, syn_circuit *c)
{
	c->k = k;
	c->n = 0;
	c->error = 0;
	if (k < 1 || k > SYN_MAX_QUBITS) {
		la_set_error("syn: a %d-qubit gate is outside 1..%d qubits", k, SYN_MAX_QUBITS);
		return -1;
	}
	int n = 1 << k, rc = -1;
	for (int i = 0; i < n * n; i++)
		if (!isfinite(U[i])) {
			la_set_error("syn: gate entry (%d,%d) is not finite", i / n, i % n);
			return -1;
		}
	double *G = malloc((size_t)n * n * sizeof *G), defect = 0;
	if (!G) {
		la_set_error("syn: out of memory");
		return -1;
	}
	la_gemm(1, 0, n, n, n, 1.0, U, U, 0.0, G);
	for (int i = 0; i < n * n; i++)
		defect = fmax(defect, fabs(G[i] - (i / n == i % n)));
	if (!(defect <= SYN_ORTH_TOL)) {
		la_set_error("syn: the %d-qubit gate is not orthogonal (max |UᵀU - I| = %.3g)", k,
			     defect);
		goto out;
	}
	if (synth_gate(U, k, c))
		goto out;
	if (peephole(c))
		goto out;
	double im = syn_circuit_matrix(c, k, G), err = im;
	for (int i = 0; i < n * n; i++)
		err = fmax(err, fabs(G[i] - U[i]));
	c->error = err;
	if (!(err <= SYN_CHECK_TOL + 10 * defect)) {
		la_set_error("syn: the synthesised %d-qubit circuit misses its gate by %.3g", k, err);
		goto out;
	}
	rc = 0;
out:
	free(G);
	return rc;
}
