/* test_synth.c - gate synthesis (passes/synth.c): every synthesised gate
 * multiplies back to its matrix, CX counts stay at their pinned bounds, the
 * bit order is the one DESIGN §2 fixes, bad input is refused. */
#include <stdint.h>

#include "../../passes/la.h"
#include "../../passes/synth.h"
#include "haar.h"
#include "test.h"

/* Qiskit's QSD (block-ZXZ, Krol & Al-Ars 2024) for general unitaries. */
static const int qiskit_cx[7] = {0, 0, 3, 19, 95, 423, 1783};

static int last_p_gates; /* p gates in the last circuit check_gate made */

/* Synthesise U, check it multiplies back, return the stats (cx = -1 on
 * failure, with the reason printed). */
static syn_stats check_gate(const double *U, int k, const char *what)
{
	syn_circuit c;
	syn_stats s = {-1, 0, 0, 0};
	int n = 1 << k;
	double *M = malloc((size_t)n * n * sizeof *M);
	syn_circuit_init(&c, k);
	if (!M || syn_synth(U, k, &c)) {
		fprintf(stderr, "%s (k=%d): %s\n", what, k, la_last_error());
		goto out;
	}
	double im = syn_circuit_matrix(&c, k, M), err = 0;
	for (int i = 0; i < n * n; i++)
		err = fmax(err, fabs(M[i] - U[i]));
	if (!(err < 1e-10) || !(im < 1e-10)) {
		fprintf(stderr, "%s (k=%d): error %.3g, imaginary part %.3g\n", what, k, err, im);
		goto out;
	}
	for (int i = 0; i < c.n; i++) {
		const syn_op *op = &c.ops[i];
		int two = op->gate == SYN_CX;
		if (op->q0 < 0 || op->q0 >= k || (two && (op->q1 < 0 || op->q1 >= k || op->q1 == op->q0)) ||
		    (!two && op->q1 != -1)) {
			fprintf(stderr, "%s (k=%d): op %d has bad qubits\n", what, k, i);
			goto out;
		}
	}
	syn_circuit_stats(&c, &s);
	last_p_gates = 0;
	for (int i = 0; i < c.n; i++)
		last_p_gates += c.ops[i].gate == SYN_P;
out:
	syn_circuit_free(&c);
	free(M);
	return s;
}

static void random_gates(int k, int count)
{
	int n = 1 << k;
	double *U = malloc((size_t)n * n * sizeof *U);
	ASSERT(U);
	for (int det = 1; det >= -1; det -= 2)
		for (int t = 0; t < count; t++) {
			rng_state = 1000u * (unsigned)k + 10u * (unsigned)t + (det > 0);
			if (haar(U, n, det)) {
				free(U);
				ASSERT(0);
			}
			syn_stats s = check_gate(U, k, det > 0 ? "Haar det +1" : "Haar det -1");
			int bound = syn_cx_bound(k, det);
			if (s.cx < 0 || s.cx > bound || (k >= 2 && det > 0 && s.cx > qiskit_cx[k]) ||
			    (k >= 5 && s.cx > qiskit_cx[k])) {
				fprintf(stderr, "k=%d det %d: %d CX (bound %d, Qiskit %d)\n", k, det,
					s.cx, bound, qiskit_cx[k]);
				free(U);
				ASSERT(0);
			}
			/* Real gates only, except det -1 from three qubits up. */
			if ((last_p_gates > 0) != (det < 0 && k >= 3)) {
				free(U);
				ASSERT(0);
			}
		}
	free(U);
}

static void test_random_k1(void) { random_gates(1, 8); }
static void test_random_k2(void) { random_gates(2, 8); }
static void test_random_k3(void) { random_gates(3, 6); }
static void test_random_k4(void) { random_gates(4, 4); }
static void test_random_k5(void) { random_gates(5, 3); }
static void test_random_k6(void) { random_gates(6, 2); }

/* The pinned counts: CX of the generic case and what Qiskit needs. */
static void test_bounds(void)
{
	static const int so[7] = {0, 0, 2, 17, 85, 373, 1557};
	static const int o[7] = {0, 0, 3, 21, 96, 399, 1614};
	for (int k = 1; k <= 6; k++) {
		ASSERT(syn_cx_bound(k, 1) == so[k]);
		ASSERT(syn_cx_bound(k, -1) == o[k]);
		if (k >= 3)
			ASSERT(so[k] < qiskit_cx[k]);
	}
}

static void identity(double *U, int n)
{
	for (int i = 0; i < n * n; i++)
		U[i] = i / n == i % n;
}

static void test_identity(void)
{
	double U[64 * 64];
	for (int k = 1; k <= 6; k++) {
		identity(U, 1 << k);
		syn_stats s = check_gate(U, k, "identity");
		ASSERT(s.cx == 0 && s.oneq == 0);
		for (int i = 0; i < 1 << k; i++) /* -I: one Ry(2π) */
			U[i * ((1 << k) + 1)] = -1;
		s = check_gate(U, k, "minus identity");
		ASSERT(s.cx == 0 && s.oneq == 1);
	}
}

/* Random permutation matrices (both parities) and signed permutations. */
static void test_permutations(void)
{
	double U[64 * 64];
	int perm[64];
	for (int k = 1; k <= 6; k++) {
		int n = 1 << k;
		for (int t = 0; t < 4; t++) {
			rng_state = 77u + 13u * (unsigned)k + (unsigned)t;
			for (int i = 0; i < n; i++)
				perm[i] = i;
			for (int i = n - 1; i > 0; i--) {
				int j = (int)(urand() * (i + 1));
				int x = perm[i];
				perm[i] = perm[j];
				perm[j] = x;
			}
			memset(U, 0, sizeof(double) * (size_t)n * n);
			for (int i = 0; i < n; i++)
				U[perm[i] * n + i] = (t >= 2 && urand() < 0.5) ? -1 : 1;
			syn_stats s = check_gate(U, k, "permutation");
			ASSERT(s.cx >= 0 && s.cx <= syn_cx_bound(k, -1));
		}
	}
}

/* CX on two qubits either way round costs one CX; CX (and CZ) inside
 * bigger registers, and the Hadamard transform, multiply back. */
static void test_cx_gates(void)
{
	double U[64 * 64];
	for (int ctl = 0; ctl < 2; ctl++) {
		memset(U, 0, 16 * sizeof *U);
		for (int i = 0; i < 4; i++) {
			int j = i ^ (((i >> ctl) & 1) << (1 - ctl));
			U[j * 4 + i] = 1;
		}
		syn_stats s = check_gate(U, 2, "CX");
		ASSERT(s.cx == 1);
	}
	for (int k = 3; k <= 5; k++) {
		int n = 1 << k;
		memset(U, 0, (size_t)n * n * sizeof *U);
		for (int i = 0; i < n; i++) /* CX(k-1 -> 0) */
			U[(i ^ (((i >> (k - 1)) & 1))) * n + i] = 1;
		ASSERT(check_gate(U, k, "CX in register").cx >= 0);
		memset(U, 0, (size_t)n * n * sizeof *U);
		for (int i = 0; i < n; i++) /* CCZ on the top three qubits: det -1 only for k = 3 */
			U[i * n + i] = ((i >> (k - 3)) & 7) == 7 ? -1 : 1;
		ASSERT(check_gate(U, k, "CCZ").cx >= 0);
		for (int i = 0; i < n; i++) /* H^{⊗k} */
			for (int j = 0; j < n; j++)
				U[i * n + j] = ((__builtin_popcount((unsigned)(i & j)) & 1) ? -1 : 1) /
					       sqrt((double)n);
		ASSERT(check_gate(U, k, "Hadamard transform").cx >= 0);
	}
}

static void kron(const double *A, int na, const double *B, int nb, double *K)
{
	int n = na * nb;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			K[i * n + j] = A[(i / nb) * na + j / nb] * B[(i % nb) * nb + j % nb];
}

/* Kronecker products: local 2-qubit gates need no CX; products of a big
 * and a small factor (degenerate demultiplexers) multiply back. */
static void test_kronecker(void)
{
	double A[32 * 32], B[32 * 32], U[64 * 64];
	for (int t = 0; t < 4; t++) {
		rng_state = 500u + (unsigned)t;
		ASSERT(!haar(A, 2, t & 1 ? -1 : 1) && !haar(B, 2, t & 2 ? -1 : 1));
		kron(A, 2, B, 2, U);
		syn_stats s = check_gate(U, 2, "kron 1+1");
		ASSERT(s.cx == 0);
	}
	for (int ka = 1; ka <= 5; ka++)
		for (int kb = 1; ka + kb <= 6; kb++) {
			rng_state = 900u + 10u * (unsigned)ka + (unsigned)kb;
			int da = 1, db = ka == kb ? -1 : 1;
			ASSERT(!haar(A, 1 << ka, da) && !haar(B, 1 << kb, db));
			kron(A, 1 << ka, B, 1 << kb, U);
			syn_stats s = check_gate(U, ka + kb, "kron");
			ASSERT(s.cx >= 0 && s.cx <= syn_cx_bound(ka, da) + syn_cx_bound(kb, db));
			identity(A, 1 << ka);
			kron(A, 1 << ka, B, 1 << kb, U); /* I ⊗ B: B alone */
			s = check_gate(U, ka + kb, "I kron B");
			ASSERT(s.cx >= 0 && s.cx <= syn_cx_bound(kb, db));
			kron(B, 1 << kb, A, 1 << ka, U); /* B ⊗ I */
			s = check_gate(U, ka + kb, "B kron I");
			ASSERT(s.cx >= 0 && s.cx <= syn_cx_bound(kb, db));
		}
}

/* Inputs that stress the factorisations: gates within ε of the identity, of
 * a signed permutation, of a product; rotations with one repeated angle
 * (clustered Schur blocks); multiplexors with nearly equal halves (a
 * demultiplexer with W ≈ I). Every one must still multiply back. */
static void test_hard_inputs(void)
{
	static double A[64 * 64], B[64 * 64], P[64 * 64], U[64 * 64];
	static const double eps[] = {1e-3, 1e-7, 1e-11, 0};
	for (int k = 1; k <= 6; k++) {
		int n = 1 << k, h = n / 2;
		for (int e = 0; e < 4; e++) {
			rng_state = 7000u + 10u * (unsigned)k + (unsigned)e;
			for (int i = 0; i < n * n; i++)
				A[i] = (i / n == i % n) + eps[e] * gauss();
			ASSERT(!la_polar(A, n, n, U));
			ASSERT(check_gate(U, k, "near identity").cx >= 0);
			memset(P, 0, (size_t)n * n * sizeof *P);
			for (int i = 0; i < n; i++) /* a signed cyclic shift */
				P[((i * 5 + 3) % n) * n + i] = urand() < 0.5 ? -1 : 1;
			la_gemm(0, 0, n, n, n, 1.0, P, U, 0.0, B);
			ASSERT(check_gate(B, k, "near permutation").cx >= 0);
			ASSERT(!haar(A, n, 1));
			double phase = 3 * urand();
			memset(P, 0, (size_t)n * n * sizeof *P);
			for (int j = 0; j < h; j++) {
				double a = phase + eps[e] * gauss();
				P[2 * j * n + 2 * j] = P[(2 * j + 1) * n + 2 * j + 1] = cos(a);
				P[(2 * j + 1) * n + 2 * j] = sin(a);
				P[2 * j * n + 2 * j + 1] = -sin(a);
			}
			if (k == 1)
				identity(P, n);
			la_gemm(0, 0, n, n, n, 1.0, A, P, 0.0, B);
			la_gemm(0, 1, n, n, n, 1.0, B, A, 0.0, U);
			ASSERT(check_gate(U, k, "clustered spectrum").cx >= 0);
			if (k < 2)
				continue;
			ASSERT(!haar(A, h, 1));
			for (int i = 0; i < h * h; i++)
				B[i] = (i / h == i % h) + eps[e] * gauss();
			ASSERT(!la_polar(B, h, h, P));
			la_gemm(0, 0, h, h, h, 1.0, A, P, 0.0, B);
			memset(U, 0, (size_t)n * n * sizeof *U);
			for (int i = 0; i < h; i++)
				for (int j = 0; j < h; j++) {
					U[i * n + j] = A[i * h + j];
					U[(i + h) * n + j + h] = B[i * h + j];
				}
			ASSERT(check_gate(U, k, "multiplexor, equal halves").cx >= 0);
			ASSERT(!haar(A, 2, -1) && !haar(B, h, 1));
			kron(A, 2, B, h, P);
			for (int i = 0; i < n * n; i++)
				P[i] += eps[e] * gauss();
			ASSERT(!la_polar(P, n, n, U));
			ASSERT(check_gate(U, k, "near product").cx >= 0);
		}
	}
}

/* Stats on a hand-made circuit: cx, one-qubit count, depths. */
static void test_stats(void)
{
	syn_circuit c;
	syn_stats s;
	syn_circuit_init(&c, 3);
	c.ops = malloc(5 * sizeof *c.ops);
	ASSERT(c.ops);
	c.cap = 5;
	c.n = 5;
	c.ops[0] = (syn_op){SYN_RY, 0, -1, 0.3};
	c.ops[1] = (syn_op){SYN_RY, 2, -1, 0.3};
	c.ops[2] = (syn_op){SYN_CX, 0, 1, 0};
	c.ops[3] = (syn_op){SYN_CX, 1, 2, 0};
	c.ops[4] = (syn_op){SYN_Z, 0, -1, 0};
	syn_circuit_stats(&c, &s);
	ASSERT(s.cx == 2 && s.oneq == 3 && s.depth == 3 && s.cx_depth == 2);
	syn_circuit_free(&c);
}

/* Bit order: qubit j is bit j of the index (DESIGN §2); site 1 is the top. */
static void test_bit_order(void)
{
	syn_circuit c;
	double M[16];
	syn_circuit_init(&c, 2);
	c.ops = malloc(2 * sizeof *c.ops);
	ASSERT(c.ops);
	c.cap = 2;
	c.n = 1;
	c.ops[0] = (syn_op){SYN_CX, 0, 1, 0}; /* control q0: swaps |01> = 1 and |11> = 3 */
	syn_circuit_matrix(&c, 2, M);
	ASSERT(M[3 * 4 + 1] == 1 && M[1 * 4 + 3] == 1 && M[0] == 1 && M[2 * 4 + 2] == 1);
	c.ops[0] = (syn_op){SYN_RY, 1, -1, 1.0}; /* Ry on q1 = Ry ⊗ I */
	syn_circuit_matrix(&c, 2, M);
	ASSERT_NEAR(M[2 * 4 + 0], sin(0.5), 1e-15);
	ASSERT_NEAR(M[1 * 4 + 0], 0, 1e-15);
	c.n = 2; /* time order: X on q0 first, then Ry on q1 */
	c.ops[0] = (syn_op){SYN_X, 0, -1, 0};
	c.ops[1] = (syn_op){SYN_RY, 1, -1, 1.0};
	syn_circuit_matrix(&c, 2, M);
	ASSERT_NEAR(M[3 * 4 + 0], sin(0.5), 1e-15); /* column |00> -> Ry|0> ⊗ |1> */
	syn_circuit_free(&c);
	ASSERT(syn_qubit_of_site(1, 3) == 2 && syn_qubit_of_site(3, 3) == 0);
	ASSERT(!strcmp(syn_gate_name(SYN_CX), "cx") && !strcmp(syn_gate_name(SYN_RY), "ry") &&
	       !strcmp(syn_gate_name(SYN_P), "p"));
}

/* Same input, same circuit, bit for bit. */
static void test_deterministic(void)
{
	double U[16 * 16];
	syn_circuit a, b;
	rng_state = 4242;
	ASSERT(!haar(U, 16, 1));
	syn_circuit_init(&a, 4);
	syn_circuit_init(&b, 4);
	ASSERT(!syn_synth(U, 4, &a) && !syn_synth(U, 4, &b));
	ASSERT(a.n == b.n);
	for (int i = 0; i < a.n; i++)
		ASSERT(a.ops[i].gate == b.ops[i].gate && a.ops[i].q0 == b.ops[i].q0 &&
		       a.ops[i].q1 == b.ops[i].q1 && a.ops[i].angle == b.ops[i].angle);
	/* A circuit can be reused for another gate. */
	ASSERT(!syn_synth(U, 4, &a) && a.n == b.n);
	syn_circuit_free(&a);
	syn_circuit_free(&b);
}

static void test_bad_input(void)
{
	double U[16];
	syn_circuit c;
	syn_circuit_init(&c, 2);
	identity(U, 4);
	U[5] = 1.01;
	ASSERT(syn_synth(U, 2, &c) == -1);
	ASSERT_STR_CONTAINS(la_last_error(), "not orthogonal");
	U[5] = NAN;
	ASSERT(syn_synth(U, 2, &c) == -1);
	ASSERT_STR_CONTAINS(la_last_error(), "not finite");
	identity(U, 4);
	ASSERT(syn_synth(U, 0, &c) == -1);
	ASSERT_STR_CONTAINS(la_last_error(), "outside");
	ASSERT(syn_synth(U, SYN_MAX_QUBITS + 1, &c) == -1);
	syn_circuit_free(&c);
}

TEST_MAIN({"bit_order", test_bit_order}, {"bounds", test_bounds}, {"random_k1", test_random_k1},
	  {"random_k2", test_random_k2}, {"random_k3", test_random_k3},
	  {"random_k4", test_random_k4}, {"random_k5", test_random_k5},
	  {"random_k6", test_random_k6}, {"identity", test_identity},
	  {"permutations", test_permutations}, {"cx_gates", test_cx_gates},
	  {"kronecker", test_kronecker},
	  {"hard_inputs", test_hard_inputs}, {"stats", test_stats}, {"deterministic", test_deterministic},
	  {"bad_input", test_bad_input})
