/* test_qnnrt.c - libqnnrt's simulator, executors and state preparation
 * (runtime/sim.c, program.c, executor.c, stateprep.c): every standard
 * gate against a hand-written matrix, gate identities, the bit order,
 * real and complex paths, dense k-qubit gates against a naive full-matrix
 * product, seeded sampling, shot-by-shot runs, the executor interface and
 * the Mottonen state preparation. */
#include <complex.h>
#include <stdint.h>

#include "../../runtime/qnnrt.h"
#include "../../runtime/qnnrt_impl.h"
#include "test.h"

typedef double complex cplx;

#define HDR "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n"

static qnn_program *parse(const char *src)
{
	char err[256];
	qnn_program *p = qnn_program_parse(src, strlen(src), "t.qasm", err, sizeof err);
	if (!p)
		fprintf(stderr, "parse: %s\n", err);
	return p;
}

/* Unitary of a program without inputs: column c is the image of |c>. */
static int prog_unitary(const char *src, cplx *u)
{
	qnn_program *p = parse(src);
	if (!p)
		return -1;
	int n = qnn_program_nqubits(p), D = 1 << n;
	qnn_state *s = qnn_state_new(n, 1);
	for (int c = 0; c < D; c++) {
		qnn_state_set_basis(s, (uint64_t)c);
		if (qnn_program_apply(p, NULL, 0, s, NULL, 0))
			return -1;
		for (int r = 0; r < D; r++)
			u[r * D + c] = qnn_state_real(s)[r] + I * qnn_state_imag(s)[r];
	}
	qnn_state_free(s);
	qnn_program_free(p);
	return D;
}

static double mat_diff(const cplx *a, const cplx *b, int D)
{
	double d = 0;
	for (int i = 0; i < D * D; i++)
		d = fmax(d, cabs(a[i] - b[i]));
	return d;
}

static double src_diff(const char *a, const char *b)
{
	cplx ua[64], ub[64];
	int D = prog_unitary(a, ua);
	if (D < 0 || prog_unitary(b, ub) != D)
		return 1e9;
	return mat_diff(ua, ub, D);
}

/* ------------------------------------------------------------ standard gates */

static const double TH = 0.3, PH = 0.7, LA = -1.1, GA = 0.4;

static void u_of(double t, double f, double l, cplx *m)
{
	double c = cos(t / 2), s = sin(t / 2);
	m[0] = c;
	m[1] = -cexp(I * l) * s;
	m[2] = cexp(I * f) * s;
	m[3] = cexp(I * (f + l)) * c;
}

/* Control on the first qubit (bit 0), 1-qubit u on the second (bit 1). */
static void controlled(const cplx *u, cplx *m)
{
	for (int i = 0; i < 16; i++)
		m[i] = 0;
	m[0 * 4 + 0] = m[2 * 4 + 2] = 1; /* control 0: |00>, |10> (index b0 + 2 b1) */
	m[1 * 4 + 1] = u[0];
	m[1 * 4 + 3] = u[1];
	m[3 * 4 + 1] = u[2];
	m[3 * 4 + 3] = u[3];
}

static void test_stdgates(void)
{
	const double r = 1 / sqrt(2);
	const cplx w = cexp(I * M_PI / 4);
	struct {
		const char *name;
		int np, nq;
		cplx m[4];
	} one[] = {
		{"x", 0, 1, {0, 1, 1, 0}},
		{"y", 0, 1, {0, -I, I, 0}},
		{"z", 0, 1, {1, 0, 0, -1}},
		{"h", 0, 1, {r, r, r, -r}},
		{"s", 0, 1, {1, 0, 0, I}},
		{"sdg", 0, 1, {1, 0, 0, -I}},
		{"t", 0, 1, {1, 0, 0, w}},
		{"tdg", 0, 1, {1, 0, 0, conj(w)}},
		{"sx", 0, 1, {(1 + I) / 2, (1 - I) / 2, (1 - I) / 2, (1 + I) / 2}},
		{"id", 0, 1, {1, 0, 0, 1}},
		{"rx", 1, 1, {cos(TH / 2), -I * sin(TH / 2), -I * sin(TH / 2), cos(TH / 2)}},
		{"ry", 1, 1, {cos(TH / 2), -sin(TH / 2), sin(TH / 2), cos(TH / 2)}},
		{"rz", 1, 1, {cexp(-I * TH / 2), 0, 0, cexp(I * TH / 2)}},
		{"p", 1, 1, {1, 0, 0, cexp(I * TH)}},
		{"phase", 1, 1, {1, 0, 0, cexp(I * TH)}},
		{"u1", 1, 1, {1, 0, 0, cexp(I * TH)}},
		{"U", 3, 1, {0}},
		{"u2", 2, 1, {0}},
		{"u3", 3, 1, {0}},
	};
	u_of(TH, PH, LA, one[16].m);
	u_of(M_PI / 2, TH, PH, one[17].m); /* u2(φ=TH, λ=PH) */
	for (int i = 0; i < 4; i++)
		one[17].m[i] *= cexp(-I * (TH + PH) / 2);
	u_of(TH, PH, LA, one[18].m);
	for (int i = 0; i < 4; i++)
		one[18].m[i] *= cexp(-I * (PH + LA) / 2);
	const char *args[] = {"", "(0.3)", "(0.3, 0.7)", "(0.3, 0.7, -1.1)", "(0.3, 0.7, -1.1, 0.4)"};
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
		char src[200];
		snprintf(src, sizeof src, HDR "qubit q;\n%s%s q;\n", one[i].name, args[one[i].np]);
		cplx u[4];
		ASSERT(prog_unitary(src, u) == 2);
		if (mat_diff(u, one[i].m, 2) > 1e-15)
			fprintf(stderr, "gate %s differs by %g\n", one[i].name, mat_diff(u, one[i].m, 2));
		ASSERT(mat_diff(u, one[i].m, 2) <= 1e-15);
	}
	/* controlled gates: first qubit controls */
	struct {
		const char *name;
		int np, base; /* index into one[] of the target gate */
	} two[] = {{"cx", 0, 0}, {"CX", 0, 0},     {"cy", 0, 1},  {"cz", 0, 2},  {"ch", 0, 3},
		   {"cp", 1, 13}, {"cphase", 1, 14}, {"crx", 1, 10}, {"cry", 1, 11}, {"crz", 1, 12}};
	for (size_t i = 0; i < sizeof two / sizeof two[0]; i++) {
		char src[200];
		snprintf(src, sizeof src, HDR "qubit[2] q;\n%s%s q[0], q[1];\n", two[i].name, args[two[i].np]);
		cplx u[16], want[16];
		controlled(one[two[i].base].m, want);
		ASSERT(prog_unitary(src, u) == 4);
		if (mat_diff(u, want, 4) > 1e-15)
			fprintf(stderr, "gate %s differs by %g\n", two[i].name, mat_diff(u, want, 4));
		ASSERT(mat_diff(u, want, 4) <= 1e-15);
	}
	cplx u[64], want[64], ug[4];
	u_of(TH, PH, LA, ug);
	for (int i = 0; i < 4; i++)
		ug[i] *= cexp(I * GA);
	controlled(ug, want);
	ASSERT(prog_unitary(HDR "qubit[2] q;\ncu(0.3, 0.7, -1.1, 0.4) q[0], q[1];\n", u) == 4);
	ASSERT(mat_diff(u, want, 4) <= 1e-15);
	/* swap exchanges |01> and |10> */
	memset(want, 0, sizeof want);
	want[0] = want[1 * 4 + 2] = want[2 * 4 + 1] = want[15] = 1;
	ASSERT(prog_unitary(HDR "qubit[2] q;\nswap q[0], q[1];\n", u) == 4);
	ASSERT(mat_diff(u, want, 4) == 0);
	/* ccx flips bit 2 when bits 0 and 1 are set: 3 <-> 7 */
	memset(want, 0, sizeof want);
	for (int c = 0; c < 8; c++)
		want[(c == 3 ? 7 : c == 7 ? 3 : c) * 8 + c] = 1;
	ASSERT(prog_unitary(HDR "qubit[3] q;\nccx q[0], q[1], q[2];\n", u) == 8);
	ASSERT(mat_diff(u, want, 8) == 0);
	/* cswap swaps bits 1 and 2 when bit 0 is set: 3 <-> 5 */
	memset(want, 0, sizeof want);
	for (int c = 0; c < 8; c++)
		want[(c == 3 ? 5 : c == 5 ? 3 : c) * 8 + c] = 1;
	ASSERT(prog_unitary(HDR "qubit[3] q;\ncswap q[0], q[1], q[2];\n", u) == 8);
	ASSERT(mat_diff(u, want, 8) == 0);
	/* gphase */
	ASSERT(prog_unitary(HDR "qubit q;\ngphase(0.3);\n", u) == 2);
	ASSERT(cabs(u[0] - cexp(0.3 * I)) < 1e-16 && cabs(u[3] - cexp(0.3 * I)) < 1e-16);
}

static void test_identities(void)
{
	ASSERT(src_diff(HDR "qubit q;\nh q;\nz q;\nh q;\n", HDR "qubit q;\nx q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\ns q;\ns q;\n", HDR "qubit q;\nz q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nt q;\nt q;\n", HDR "qubit q;\ns q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nsx q;\nsx q;\n", HDR "qubit q;\nx q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nx q;\nz q;\n", HDR "qubit q;\ngphase(pi/2);\ny q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit[2] q;\nh q[1];\ncz q[0], q[1];\nh q[1];\n", HDR "qubit[2] q;\ncx q[0], q[1];\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit[2] q;\ncx q[0], q[1];\ncx q[1], q[0];\ncx q[0], q[1];\n", HDR "qubit[2] q;\nswap q[0], q[1];\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nrz(0.8) q;\n", HDR "qubit q;\ngphase(-0.4);\np(0.8) q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nu3(0.3, 0.7, -1.1) q;\n", HDR "qubit q;\ngphase(0.2);\nU(0.3, 0.7, -1.1) q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nu2(0.7, -1.1) q;\n", HDR "qubit q;\nu3(pi/2, 0.7, -1.1) q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nU(pi, 0, pi) q;\n", HDR "qubit q;\nx q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nU(pi/2, 0, pi) q;\n", HDR "qubit q;\nh q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\nrx(0.5) q;\n", HDR "qubit q;\nU(0.5, -pi/2, pi/2) q;\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit[2] q;\ncu(0.3, 0.7, -1.1, 0.4) q[0], q[1];\n",
			HDR "qubit[2] q;\np(0.4) q[0];\nctrl @ U(0.3, 0.7, -1.1) q[0], q[1];\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit[2] q;\ncrz(0.6) q[0], q[1];\n", HDR "qubit[2] q;\nctrl @ rz(0.6) q[0], q[1];\n") < 1e-15);
	ASSERT(src_diff(HDR "qubit q;\ninv @ u3(0.3, 0.7, -1.1) q;\n", HDR "qubit q;\nu3(-0.3, 1.1, -0.7) q;\n") < 1e-15);
	/* ccx truth table through programs */
	for (int in = 0; in < 8; in++) {
		char src[256];
		snprintf(src, sizeof src, HDR "qubit[3] q;\n%s%s%sccx q[0], q[1], q[2];\n", in & 1 ? "x q[0];\n" : "",
			 in & 2 ? "x q[1];\n" : "", in & 4 ? "x q[2];\n" : "");
		qnn_program *p = parse(src);
		ASSERT(p);
		double re[8];
		qnn_result res = {NULL, 0, re, NULL, 8, 0, 0, 0, 0, {0}};
		ASSERT(qnn_program_run(p, NULL, 0, 0, 0, &res) == 0);
		ASSERT(res.is_real);
		int out = (in & 3) == 3 ? in ^ 4 : in;
		ASSERT(re[out] == 1);
		qnn_program_free(p);
	}
}

/* q[j] is bit j of the basis index. */
static void test_bit_order(void)
{
	double re[4];
	qnn_result res = {NULL, 0, re, NULL, 4, 0, 0, 0, 0, {0}};
	const char *src0 = HDR "qubit[2] q;\nx q[0];\n", *src1 = HDR "qubit[2] q;\nx q[1];\n";
	ASSERT(qnn_execute(NULL, src0, strlen(src0), NULL, 0, 0, 0, &res) == 0);
	ASSERT(re[1] == 1 && re[0] == 0 && re[2] == 0 && re[3] == 0);
	ASSERT(qnn_execute(NULL, src1, strlen(src1), NULL, 0, 0, 0, &res) == 0);
	ASSERT(re[2] == 1 && re[0] == 0 && re[1] == 0 && re[3] == 0);
	/* registers concatenate in declaration order */
	const char *src2 = HDR "qubit a;\nqubit[2] b;\nx b[1];\n";
	double r8[8];
	res.amp_re = r8, res.amps_len = 8;
	ASSERT(qnn_execute(NULL, src2, strlen(src2), NULL, 0, 0, 0, &res) == 0);
	ASSERT(r8[4] == 1);
	/* dense matrices: the first listed qubit is the low bit of the index */
	qnn_state *s = qnn_state_new(3, 0);
	double cx[16] = {0};
	for (int c = 0; c < 4; c++)
		cx[(c == 1 ? 3 : c == 3 ? 1 : c) * 4 + c] = 1; /* control = first qubit */
	double x[4] = {0, 1, 1, 0};
	int q2 = 2, pair[2] = {2, 0};
	ASSERT(qnn_state_apply(s, 1, &q2, x, NULL) == 0); /* |100> = 4 */
	ASSERT(qnn_state_apply(s, 2, pair, cx, NULL) == 0);   /* control q[2], target q[0] */
	ASSERT(qnn_state_real(s)[5] == 1);
	/* counts: c[j] is bit j of the value */
	const char *src3 = HDR "qubit[3] q;\nbit[2] c;\nx q[2];\nc[1] = measure q[2];\nc[0] = measure q[0];\n";
	uint64_t counts[4];
	qnn_result rc = {counts, 4, NULL, NULL, 0, 0, 0, 0, 0, {0}};
	ASSERT(qnn_execute(NULL, src3, strlen(src3), NULL, 0, 100, 1, &rc) == 0);
	ASSERT(counts[2] == 100 && rc.shots == 100 && rc.nbits == 2 && rc.nqubits == 3);
	qnn_state_free(s);
}

/* ------------------------------------------------------------ dense gates */

static double urand(qnn_rng *r) { return 2 * qnn_rng_uniform(r) - 1; }

/* Naive y = F x with F the full 2^n matrix of the controlled gate. */
static void naive_apply(int n, int k, const int *t, const double *mr, const double *mi, int nc,
			const int *ctrl, const double *xr, const double *xi, double *yr, double *yi)
{
	size_t N = (size_t)1 << n, D = (size_t)1 << k;
	uint64_t cmask = 0, tmask = 0;
	for (int i = 0; i < nc; i++)
		cmask |= 1ULL << ctrl[i];
	for (int j = 0; j < k; j++)
		tmask |= 1ULL << t[j];
	memset(yr, 0, N * sizeof *yr);
	memset(yi, 0, N * sizeof *yi);
	for (size_t c = 0; c < N; c++) {
		if ((c & cmask) != cmask) {
			yr[c] += xr[c], yi[c] += xi[c];
			continue;
		}
		size_t cs = 0;
		for (int j = 0; j < k; j++)
			cs |= ((c >> t[j]) & 1) << j;
		for (size_t rs = 0; rs < D; rs++) {
			size_t r = c & ~tmask;
			for (int j = 0; j < k; j++)
				r |= ((rs >> j) & 1) << t[j];
			double ar = mr[rs * D + cs], ai = mi ? mi[rs * D + cs] : 0;
			yr[r] += ar * xr[c] - ai * xi[c];
			yi[r] += ar * xi[c] + ai * xr[c];
		}
	}
}

static void pick_qubits(qnn_rng *r, int n, int m, int *out)
{
	for (int i = 0; i < m; i++) {
		int q, dup;
		do {
			q = (int)(qnn_rng_next(r) % (uint64_t)n);
			dup = 0;
			for (int j = 0; j < i; j++)
				dup |= out[j] == q;
		} while (dup);
		out[i] = q;
	}
}

static void test_dense(void)
{
	qnn_rng rng;
	qnn_rng_seed(&rng, 2024);
	static double mr[128 * 128], mi[128 * 128];
	double xr[256], xi[256], yr[256], yi[256];
	int cases = 0;
	for (int n = 5; n <= 8; n += 3)
		for (int k = 1; k <= 7 && k <= n; k++)
			for (int rep = 0; rep < 6; rep++) {
				int nc = k + 2 <= n ? rep % 3 : 0, cplx_state = rep & 1, cplx_mat = cplx_state && rep % 4 == 1;
				int t[8], q[10], ctrl[2], vals[2] = {1, 1};
				pick_qubits(&rng, n, k + nc, q);
				memcpy(t, q, (size_t)k * sizeof *t);
				memcpy(ctrl, q + k, (size_t)nc * sizeof *ctrl);
				if (rep == 0 && k <= n - 1) /* pin the lowest and highest qubits once */
					t[0] = 0, t[k - 1] = k > 1 ? n - 1 : 0;
				if (k > 1 && t[0] == t[k - 1])
					continue;
				int D = 1 << k, dup = 0;
				for (int a = 0; a < k; a++)
					for (int b = 0; b < a; b++)
						dup |= t[a] == t[b];
				for (int a = 0; a < nc; a++)
					for (int b = 0; b < k; b++)
						dup |= ctrl[a] == t[b];
				if (dup)
					continue;
				for (int i = 0; i < D * D; i++) {
					mr[i] = urand(&rng);
					mi[i] = cplx_mat ? urand(&rng) : 0;
				}
				qnn_state *s = qnn_state_new(n, cplx_state);
				size_t N = (size_t)1 << n;
				for (size_t i = 0; i < N; i++) {
					xr[i] = qnn_state_real(s)[i] = urand(&rng);
					xi[i] = cplx_state ? (qnn_state_imag(s)[i] = urand(&rng)) : 0;
				}
				ASSERT(qnn_state_apply_ctrl(s, k, t, mr, cplx_mat ? mi : NULL, nc, ctrl, vals) == 0);
				naive_apply(n, k, t, mr, cplx_mat ? mi : NULL, nc, ctrl, xr, xi, yr, yi);
				double d = 0;
				for (size_t i = 0; i < N; i++) {
					d = fmax(d, fabs(qnn_state_real(s)[i] - yr[i]));
					d = fmax(d, fabs((cplx_state ? qnn_state_imag(s)[i] : 0) - yi[i]));
				}
				if (d > 1e-12)
					fprintf(stderr, "n=%d k=%d nc=%d complex %d/%d: error %g\n", n, k, nc,
						cplx_state, cplx_mat, d);
				ASSERT(d <= 1e-12);
				qnn_state_free(s);
				cases++;
			}
	ASSERT(cases > 40);
	/* negative controls and a controlled phase (k = 0) */
	qnn_state *s = qnn_state_new(3, 1);
	double h[4] = {M_SQRT1_2, M_SQRT1_2, M_SQRT1_2, -M_SQRT1_2};
	int all[3] = {0, 1, 2};
	for (int j = 0; j < 3; j++)
		ASSERT(qnn_state_apply(s, 1, &all[j], h, NULL) == 0);
	double pr = 0, pi = 1;
	int c2[2] = {0, 2}, v2[2] = {0, 1};
	ASSERT(qnn_state_apply_ctrl(s, 0, NULL, &pr, &pi, 2, c2, v2) == 0); /* i on q0=0, q2=1 */
	for (int i = 0; i < 8; i++) {
		int hit = (i & 1) == 0 && (i & 4);
		ASSERT_NEAR(qnn_state_real(s)[i], hit ? 0 : 1 / sqrt(8), 1e-15);
		ASSERT_NEAR(qnn_state_imag(s)[i], hit ? 1 / sqrt(8) : 0, 1e-15);
	}
	/* argument checks */
	int bad[2] = {0, 0}, out[1] = {3};
	ASSERT(qnn_state_apply(s, 2, bad, h, NULL) == QNN_EARG);
	ASSERT(qnn_state_apply(s, 1, out, h, NULL) == QNN_EARG);
	ASSERT(qnn_state_apply(s, 0, NULL, h, NULL) == QNN_EARG);
	qnn_state_free(s);
	s = qnn_state_new(2, 0);
	double zi[4] = {0, 0, 0, 1e-3};
	ASSERT(qnn_state_apply(s, 1, all, h, zi) == QNN_EARG); /* complex matrix, real state */
	qnn_state_free(s);
	ASSERT(qnn_state_new(QNN_SIM_MAX_QUBITS + 1, 0) == NULL);
	ASSERT(qnn_state_new(-1, 0) == NULL);
}

/* The same real circuit on the real and on the complex state. */
static void test_real_complex(void)
{
	qnn_rng rng;
	qnn_rng_seed(&rng, 7);
	int n = 8;
	qnn_state *a = qnn_state_new(n, 0), *b = qnn_state_new(n, 1);
	size_t N = (size_t)1 << n;
	for (size_t i = 0; i < N; i++)
		qnn_state_real(a)[i] = qnn_state_real(b)[i] = urand(&rng);
	for (int g = 0; g < 60; g++) {
		int k = 1 + g % 4, nc = g % 3 == 0 ? 1 : 0, q[6];
		pick_qubits(&rng, n, k + nc, q);
		double m[256];
		for (int i = 0; i < (1 << (2 * k)); i++)
			m[i] = urand(&rng);
		ASSERT(qnn_state_apply_ctrl(a, k, q, m, NULL, nc, q + k, NULL) == 0);
		ASSERT(qnn_state_apply_ctrl(b, k, q, m, NULL, nc, q + k, NULL) == 0);
	}
	double scale = 0;
	for (size_t i = 0; i < N; i++)
		scale = fmax(scale, fabs(qnn_state_real(a)[i]));
	for (size_t i = 0; i < N; i++) {
		ASSERT_NEAR(qnn_state_real(a)[i], qnn_state_real(b)[i], 1e-12 * scale);
		ASSERT(qnn_state_imag(b)[i] == 0);
	}
	qnn_state_free(a);
	qnn_state_free(b);

	/* a program of real standard gates runs on the real state */
	const char *src = HDR "input float[64] a;\nqubit[5] q;\nh q;\nry(a) q[0];\ncx q[0], q[3];\ncz q[1], q[4];\n"
			      "swap q[2], q[0];\nx q[1];\nz q[3];\nccx q[0], q[1], q[2];\ncry(a / 3) q[4], q[1];\n"
			      "ch q[2], q[3];\ncswap q[4], q[0], q[1];\nU(a, 0, 0) q[2];\ns q[0];\nsdg q[0];\n";
	qnn_program *p = parse(src);
	ASSERT(p);
	ASSERT(!qnn_program_is_real(p)); /* U and s are not real for every input */
	double in = 0.77, re[32], im[32];
	qnn_result res = {NULL, 0, re, im, 32, 0, 0, 0, 0, {0}};
	ASSERT(qnn_program_run(p, &in, 1, 0, 0, &res) == 0);
	ASSERT(res.is_real); /* ... but this binding is: U(a,0,0) = ry(a), s sdg merge to I */
	qnn_state *c = qnn_state_new(5, 1);
	char err[256];
	ASSERT(qnn_program_apply(p, &in, 1, c, err, sizeof err) == 0);
	for (int i = 0; i < 32; i++) {
		ASSERT_NEAR(re[i], qnn_state_real(c)[i], 1e-15);
		ASSERT(im[i] == 0);
		ASSERT_NEAR(qnn_state_imag(c)[i], 0, 1e-15);
	}
	qnn_state_free(c);
	/* a real state refuses a complex program */
	const char *csrc = HDR "qubit q;\nrz(0.1) q;\n";
	qnn_program *pc = parse(csrc);
	qnn_state *rs = qnn_state_new(1, 0);
	ASSERT(qnn_program_apply(pc, NULL, 0, rs, err, sizeof err) == QNN_EARG);
	ASSERT_STR_CONTAINS(err, "complex");
	qnn_state_free(rs);
	qnn_program_free(pc);
	qnn_program_free(p);
}

/* Programs are run with gates fused into dense blocks (2, 3 and 4 qubits
 * at 10, 16 and 20 qubits): compare with the gates applied one by one. */
static void test_fusion(void)
{
	qnn_rng rng;
	qnn_rng_seed(&rng, 5);
	const double r = 1 / sqrt(2);
	for (int n = 10; n <= 20; n += n == 10 ? 6 : 4) {
		int ngates = n == 20 ? 16 : n == 16 ? 150 : 300; /* quick in a sanitizer build */
		size_t cap = 100 + 60 * (size_t)ngates, k = 0;
		char *src = malloc(cap);
		k += (size_t)snprintf(src, cap, HDR "qubit[%d] q;\n", n);
		qnn_state *ref = qnn_state_new(n, 1);
		for (int g = 0; g < ngates; g++) {
			int kind = (int)(qnn_rng_next(&rng) % 7), q[3];
			/* mostly neighbours, so that blocks form */
			q[0] = (int)(qnn_rng_next(&rng) % (uint64_t)(n - 2));
			q[1] = q[0] + 1, q[2] = q[0] + 2;
			if (qnn_rng_next(&rng) % 4 == 0)
				q[1] = (q[0] + 1 + (int)(qnn_rng_next(&rng) % (uint64_t)(n - 1))) % n;
			if (q[1] == q[2])
				q[2] = (q[2] + 1) % n;
			if (q[2] == q[0])
				q[2] = (q[2] + 1) % n;
			double a = 6 * qnn_rng_uniform(&rng), mr[4] = {0}, mi[4] = {0};
			switch (kind) {
			case 0: /* ry */
				mr[0] = mr[3] = cos(a / 2), mr[1] = -sin(a / 2), mr[2] = sin(a / 2);
				k += (size_t)snprintf(src + k, cap - k, "ry(%.17g) q[%d];\n", a, q[0]);
				break;
			case 1: /* rz */
				mr[0] = mr[3] = cos(a / 2), mi[0] = -sin(a / 2), mi[3] = sin(a / 2);
				k += (size_t)snprintf(src + k, cap - k, "rz(%.17g) q[%d];\n", a, q[0]);
				break;
			case 2: /* h */
				mr[0] = mr[1] = mr[2] = r, mr[3] = -r;
				k += (size_t)snprintf(src + k, cap - k, "h q[%d];\n", q[0]);
				break;
			case 3: /* cx */
				mr[1] = mr[2] = 1;
				k += (size_t)snprintf(src + k, cap - k, "cx q[%d], q[%d];\n", q[1], q[0]);
				break;
			case 4: /* crx */
				mr[0] = mr[3] = cos(a / 2), mi[1] = mi[2] = -sin(a / 2);
				k += (size_t)snprintf(src + k, cap - k, "crx(%.17g) q[%d], q[%d];\n", a, q[1], q[0]);
				break;
			case 5: /* ccx */
				mr[1] = mr[2] = 1;
				k += (size_t)snprintf(src + k, cap - k, "ccx q[%d], q[%d], q[%d];\n", q[1], q[2], q[0]);
				break;
			default: /* negctrl @ s */
				mr[0] = 1, mi[3] = 1;
				k += (size_t)snprintf(src + k, cap - k, "negctrl @ s q[%d], q[%d];\n", q[1], q[0]);
				break;
			}
			int nc = kind < 3 ? 0 : kind == 5 ? 2 : 1, vals[2] = {kind != 6, 1};
			ASSERT(qnn_state_apply_ctrl(ref, 1, &q[0], mr, mi, nc, q + 1, vals) == 0);
		}
		qnn_program *p = parse(src);
		ASSERT(p);
		qnn_state *got = qnn_state_new(n, 1);
		char err[256];
		ASSERT(qnn_program_apply(p, NULL, 0, got, err, sizeof err) == 0);
		double d = 0;
		for (size_t i = 0; i < (size_t)1 << n; i++) {
			d = fmax(d, fabs(qnn_state_real(got)[i] - qnn_state_real(ref)[i]));
			d = fmax(d, fabs(qnn_state_imag(got)[i] - qnn_state_imag(ref)[i]));
		}
		if (d > 1e-12)
			fprintf(stderr, "fusion at n=%d: error %g\n", n, d);
		ASSERT(d <= 1e-12);
		qnn_state_free(got);
		qnn_state_free(ref);
		qnn_program_free(p);
		free(src);
	}
}

/* ------------------------------------------------------------ sampling */

static void test_rng(void)
{
	qnn_rng r;
	qnn_rng_seed(&r, 42); /* reference values from an independent implementation */
	ASSERT(qnn_rng_next(&r) == UINT64_C(0x15780b2e0c2ec716));
	ASSERT(qnn_rng_next(&r) == UINT64_C(0x6104d9866d113a7e));
	ASSERT(qnn_rng_next(&r) == UINT64_C(0xae17533239e499a1));
	for (int i = 0; i < 1000; i++) {
		double u = qnn_rng_uniform(&r);
		ASSERT(u >= 0 && u < 1);
	}
}

static void check_freqs(const double *p, const uint64_t *counts, int N, long shots)
{
	uint64_t sum = 0;
	for (int i = 0; i < N; i++) {
		double f = (double)counts[i] / (double)shots;
		double se = sqrt(p[i] * (1 - p[i]) / (double)shots);
		if (fabs(f - p[i]) > 5 * se + 1.0 / (double)shots)
			fprintf(stderr, "outcome %d: frequency %g, probability %g\n", i, f, p[i]);
		ASSERT(fabs(f - p[i]) <= 5 * se + 1.0 / (double)shots);
		if (p[i] == 0)
			ASSERT(counts[i] == 0);
		sum += counts[i];
	}
	ASSERT(sum == (uint64_t)shots);
}

static void test_sampling(void)
{
	qnn_rng rng;
	qnn_rng_seed(&rng, 99);
	int n = 6, N = 1 << n;
	qnn_state *s = qnn_state_new(n, 1);
	double p[64], tot = 0;
	for (int i = 0; i < N; i++) {
		/* a few exact zeros, which must never be drawn */
		double a = i % 7 == 3 ? 0 : urand(&rng), b = i % 7 == 3 ? 0 : urand(&rng);
		qnn_state_real(s)[i] = a, qnn_state_imag(s)[i] = b;
		p[i] = a * a + b * b, tot += p[i];
	}
	for (int i = 0; i < N; i++)
		p[i] /= tot; /* the sampler normalises */
	uint64_t c1[64] = {0}, c2[64] = {0}, c3[64] = {0};
	long shots = 100000;
	ASSERT(qnn_state_sample(s, shots, 5, c1) == 0);
	ASSERT(qnn_state_sample(s, shots, 5, c2) == 0);
	ASSERT(qnn_state_sample(s, shots, 6, c3) == 0);
	ASSERT(!memcmp(c1, c2, sizeof c1));
	ASSERT(memcmp(c1, c3, sizeof c1));
	check_freqs(p, c1, N, shots);
	check_freqs(p, c3, N, shots);
	qnn_state_free(s);
	/* more shots than one sorting chunk */
	s = qnn_state_new(2, 0);
	double h[4] = {0.6, -0.8, 0.8, 0.6};
	int q0 = 0;
	ASSERT(qnn_state_apply(s, 1, &q0, h, NULL) == 0);
	uint64_t c4[4] = {0};
	ASSERT(qnn_state_sample(s, 2500000, 1, c4) == 0);
	double p4[4] = {0.36, 0.64, 0, 0};
	check_freqs(p4, c4, 4, 2500000);
	qnn_state_free(s);
	/* fewer shots than outcomes: one uniform per shot (the other path) */
	s = qnn_state_new(12, 0);
	static const int where[4] = {0, 100, 2000, 4095};
	double *re = qnn_state_real(s), p12[4096] = {0}, amp[4] = {0.2, 0.4, 0.5, 0};
	amp[3] = sqrt(1 - 0.04 - 0.16 - 0.25);
	re[0] = 0;
	for (int i = 0; i < 4; i++)
		re[where[i]] = amp[i], p12[where[i]] = amp[i] * amp[i];
	static uint64_t c12[4096], d12[4096];
	ASSERT(qnn_state_sample(s, 4000, 3, c12) == 0 && qnn_state_sample(s, 4000, 3, d12) == 0);
	ASSERT(!memcmp(c12, d12, sizeof c12));
	check_freqs(p12, c12, 4096, 4000);
	qnn_state_free(s);

	/* through a program: measured bits only, in the register's order */
	const char *src = HDR "input float[64] th;\nqubit[3] q;\nbit[2] c;\nry(th) q[0];\nh q[2];\nh q[1];\n"
			      "c[1] = measure q[0];\nc[0] = measure q[2];\n";
	double th = 1.1, s2 = sin(th / 2) * sin(th / 2);
	uint64_t counts[4];
	qnn_result res = {counts, 4, NULL, NULL, 0, 0, 0, 0, 0, {0}};
	ASSERT(qnn_execute(NULL, src, strlen(src), &th, 1, shots, 11, &res) == 0);
	double pm[4] = {(1 - s2) / 2, (1 - s2) / 2, s2 / 2, s2 / 2};
	check_freqs(pm, counts, 4, shots);
	ASSERT(res.shots == shots && res.is_real);
}

/* log of the B(n, p) probability of k (lgamma: an independent route from
 * binomial.c's table and Stirling series). */
static double log_pmf(double n, double p, double k)
{
	return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * log(p) + (n - k) * log1p(-p);
}

/* qsim_binomial: mean and variance of 20,000 draws within 6 standard
 * errors for both algorithms (inversion below n p = 10, BTRS above, and
 * p > 1/2 by symmetry), and the histogram against the exact probability
 * function (a chi-square bound) for one case of each. */
static void test_binomial(void)
{
	static const struct {
		uint64_t n;
		double p;
	} cs[] = {{20, 0.3}, {1000, 0.004}, {50, 0.93}, {1000, 0.5}, {123456, 0.37}, {1000000000, 2e-3},
		  {1000000, 0.999}, {12, 0.5}, {40, 0.26}};
	qnn_rng rng;
	qnn_rng_seed(&rng, 2024);
	enum { R = 20000 };
	for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
		double n = (double)cs[c].n, p = cs[c].p, mu = n * p, var = n * p * (1 - p);
		double s1 = 0, s2 = 0;
		for (int r = 0; r < R; r++) {
			uint64_t k = qsim_binomial(&rng, cs[c].n, p);
			ASSERT(k <= cs[c].n);
			double d = (double)k - mu;
			s1 += d;
			s2 += d * d;
		}
		double mean = s1 / R, v = s2 / R - mean * mean;
		if (fabs(mean) > 6 * sqrt(var / R) || fabs(v - var) > 6 * var * sqrt(2.0 / R) + 0.5)
			fprintf(stderr, "B(%g, %g): mean %g (want %g), variance %g (want %g)\n", n, p,
				mu + mean, mu, v, var);
		ASSERT(fabs(mean) <= 6 * sqrt(var / R));
		ASSERT(fabs(v - var) <= 6 * var * sqrt(2.0 / R) + 0.5);
	}
	/* histograms: B(30, 0.2) (inversion) and B(60, 0.3) (BTRS), 200,000
	 * draws; bins with fewer than 20 expected draws are merged. */
	for (int c = 0; c < 2; c++) {
		uint64_t n = c ? 60 : 30;
		double p = c ? 0.3 : 0.2, hist[61] = {0};
		long draws = 200000;
		for (long r = 0; r < draws; r++)
			hist[qsim_binomial(&rng, n, p)]++;
		double chi2 = 0, o = 0, e = 0;
		int dof = -1;
		for (uint64_t k = 0; k <= n; k++) {
			o += hist[k];
			e += draws * exp(log_pmf((double)n, p, (double)k));
			if (e >= 20 || k == n) {
				chi2 += (o - e) * (o - e) / e;
				dof++;
				o = e = 0;
			}
		}
		if (chi2 > dof + 6 * sqrt(2.0 * dof))
			fprintf(stderr, "B(%llu, %g): chi-square %g with %d degrees of freedom\n",
				(unsigned long long)n, p, chi2, dof);
		ASSERT(dof >= 8 && chi2 <= dof + 6 * sqrt(2.0 * dof));
	}
	ASSERT(qsim_binomial(&rng, 0, 0.5) == 0 && qsim_binomial(&rng, 7, 0) == 0);
	ASSERT(qsim_binomial(&rng, 7, 1) == 7 && qsim_binomial(&rng, 7, NAN) == 0);
}

/* Measure or reset, then use the qubit again: shot by shot. */
static void test_midcircuit(void)
{
	const char *src = HDR "qubit[2] q;\nbit[3] c;\nh q[0];\nc[0] = measure q[0];\nreset q[0];\nx q[0];\n"
			      "c[1] = measure q[0];\ncx q[0], q[1];\nh q[0];\nc[2] = measure q[0];\n";
	uint64_t counts[8];
	qnn_result res = {counts, 8, NULL, NULL, 0, 0, 0, 0, 0, {0}};
	long shots = 20000;
	ASSERT(qnn_execute(NULL, src, strlen(src), NULL, 0, shots, 3, &res) == 0);
	double p[8] = {0, 0, 0.25, 0.25, 0, 0, 0.25, 0.25};
	check_freqs(p, counts, 8, shots);
	double re[4];
	res.amp_re = re, res.amps_len = 4;
	ASSERT(qnn_execute(NULL, src, strlen(src), NULL, 0, shots, 3, &res) == QNN_EUNSUPPORTED);
	ASSERT_STR_CONTAINS(res.err, "no amplitudes");
}

/* ------------------------------------------------------------ executors */

typedef struct fake_device {
	int calls;
	long last_shots;
} fake_device;

/* A plug-in: answers every measured value 0, refuses amplitudes. */
static int fake_run(void *impl, const char *program, size_t len, const double *inputs, int ninputs,
		    long shots, uint64_t seed, qnn_result *res)
{
	fake_device *d = impl;
	(void)inputs, (void)ninputs, (void)seed;
	d->calls++;
	d->last_shots = shots;
	if (res->amp_re) {
		snprintf(res->err, sizeof res->err, "fake: no amplitudes");
		return QNN_EUNSUPPORTED;
	}
	char err[200];
	qnn_program *p = qnn_program_parse(program, len, "fake", err, sizeof err);
	if (!p) {
		snprintf(res->err, sizeof res->err, "%s", err);
		return QNN_EPARSE;
	}
	res->nqubits = qnn_program_nqubits(p);
	res->nbits = qnn_program_nbits(p);
	qnn_program_free(p);
	if (res->counts) {
		memset(res->counts, 0, res->counts_len * sizeof *res->counts);
		res->counts[0] = (uint64_t)shots;
	}
	res->shots = shots;
	return 0;
}

static void test_executors(void)
{
	const qnn_executor *ex = qnn_executor_default();
	ASSERT(ex && ex->run && ex->name);
	const char *src = HDR "input float[64] a;\nqubit q;\nry(a) q;\n";
	double re[2];
	qnn_result res = {NULL, 0, re, NULL, 2, 0, 0, 0, 0, {0}};
	for (int i = 0; i < 5; i++) { /* parsed once, bound per run */
		double a = 0.2 * i;
		ASSERT(qnn_execute(ex, src, strlen(src), &a, 1, 0, 0, &res) == 0);
		ASSERT_NEAR(re[0], cos(a / 2), 1e-15);
		ASSERT_NEAR(re[1], sin(a / 2), 1e-15);
	}
	/* many different programs: the cache evicts, results stay right */
	for (int i = 0; i < 70; i++) {
		char text[200];
		snprintf(text, sizeof text, HDR "qubit q;\nry(%d * 0.01) q;\n", i);
		ASSERT(qnn_execute(NULL, text, strlen(text), NULL, 0, 0, 0, &res) == 0);
		ASSERT_NEAR(re[1], sin(i * 0.005), 1e-15);
	}
	qnn_executor_default_clear();
	ASSERT(qnn_execute(ex, src, strlen(src), (double[]){1}, 1, 0, 0, &res) == 0);
	/* errors come back as codes with a message */
	const char *bad = HDR "qubit q;\nfoo q;\n";
	ASSERT(qnn_execute(ex, bad, strlen(bad), NULL, 0, 0, 0, &res) == QNN_EPARSE);
	ASSERT_STR_CONTAINS(res.err, ":4:1: unknown gate 'foo'");
	ASSERT(qnn_execute(ex, src, strlen(src), NULL, 0, 0, 0, &res) == QNN_EINPUT);
	ASSERT_STR_CONTAINS(res.err, "the program has 1 input, got 0");
	double nan = NAN;
	ASSERT(qnn_execute(ex, src, strlen(src), &nan, 1, 0, 0, &res) == QNN_EINPUT);
	ASSERT(qnn_execute(ex, src, strlen(src), (double[]){1}, 1, -1, 0, &res) == QNN_EARG);
	ASSERT(qnn_execute(ex, NULL, 0, NULL, 0, 0, 0, &res) == QNN_EARG);
	ASSERT(qnn_execute(ex, src, strlen(src), (double[]){1}, 1, 0, 0, NULL) == QNN_EARG);
	res.amps_len = 1;
	ASSERT(qnn_execute(ex, src, strlen(src), (double[]){1}, 1, 0, 0, &res) == QNN_ERANGE);
	ASSERT_STR_CONTAINS(res.err, "amplitude buffers have 1 entries, 2 needed");
	res.amps_len = 2;
	uint64_t counts[2];
	const char *msrc = HDR "qubit[2] q;\nbit[2] c;\nc = measure q;\n";
	qnn_result rc = {counts, 2, NULL, NULL, 0, 0, 0, 0, 0, {0}};
	ASSERT(qnn_execute(ex, msrc, strlen(msrc), NULL, 0, 10, 0, &rc) == QNN_ERANGE);
	ASSERT_STR_CONTAINS(rc.err, "counts buffer has 2 entries, 4 needed");
	/* a complex final state needs amp_im */
	const char *gsrc = HDR "qubit q;\ngphase(pi / 2);\n";
	ASSERT(qnn_execute(ex, gsrc, strlen(gsrc), NULL, 0, 0, 0, &res) == QNN_ERANGE);
	double im[2];
	res.amp_im = im;
	ASSERT(qnn_execute(ex, gsrc, strlen(gsrc), NULL, 0, 0, 0, &res) == 0);
	ASSERT_NEAR(re[0], 0, 1e-16);
	ASSERT_NEAR(im[0], 1, 1e-16);
	/* too many qubits for the simulator: refused before allocating */
	const char *huge = HDR "qubit[60] q;\nh q;\n";
	ASSERT(qnn_execute(ex, huge, strlen(huge), NULL, 0, 0, 0, &res) == QNN_ERANGE);
	ASSERT_STR_CONTAINS(res.err, "the simulator takes at most");

	/* a plug-in executor */
	fake_device dev = {0, 0};
	qnn_executor fake = {"fake", &dev, fake_run, NULL};
	rc.counts_len = 2;
	const char *one = HDR "qubit q;\nbit c;\nh q;\nc = measure q;\n";
	ASSERT(qnn_execute(&fake, one, strlen(one), NULL, 0, 123, 9, &rc) == 0);
	ASSERT(dev.calls == 1 && dev.last_shots == 123 && rc.counts[0] == 123 && rc.nbits == 1);
	ASSERT(qnn_execute(&fake, one, strlen(one), NULL, 0, 1, 9, &res) == QNN_EUNSUPPORTED);
	ASSERT_STR_CONTAINS(res.err, "fake: no amplitudes");
	qnn_executor broken = {"broken", NULL, NULL, NULL};
	ASSERT(qnn_execute(&broken, one, strlen(one), NULL, 0, 1, 9, &rc) == QNN_EARG);
	ASSERT(!strcmp(qnn_strerror(QNN_EPARSE), "invalid program"));
}

/* ------------------------------------------------------------ state preparation */

static void test_stateprep(void)
{
	qnn_rng rng;
	qnn_rng_seed(&rng, 31);
	for (int n = 1; n <= 8; n++)
		for (int kind = 0; kind < 4; kind++) {
			int N = 1 << n;
			double v[256], theta[255];
			for (int i = 0; i < N; i++) {
				switch (kind) {
				case 0: v[i] = urand(&rng); break;                            /* mixed signs */
				case 1: v[i] = qnn_rng_uniform(&rng) < 0.4 ? 0 : urand(&rng); break; /* zeros */
				case 2: v[i] = i == N - 1 ? -2 : 0; break;                    /* a basis vector */
				default: v[i] = -1 - qnn_rng_uniform(&rng); break;            /* all negative */
				}
			}
			if (kind == 1)
				v[N / 2] = 0.5; /* not all zero */
			ASSERT(qnn_stateprep_angles(v, n, theta) == 0);
			/* the documented circuit, as a program with the angles as inputs */
			qnn_prep_gate g[512];
			long m = qnn_stateprep_gates(n, g);
			ASSERT(m == 2 * N - 3);
			ASSERT(qnn_stateprep_gates(n, NULL) == m);
			size_t cap = 64 + 48 * (size_t)m + 32 * (size_t)N;
			char *src = malloc(cap);
			size_t k = (size_t)snprintf(src, cap, HDR "qubit[%d] q;\n", n);
			for (int i = 0; i < N - 1; i++)
				k += (size_t)snprintf(src + k, cap - k, "input float[64] theta%d;\n", i);
			int nry = 0, ncx = 0;
			for (long i = 0; i < m; i++) {
				if (g[i].control < 0)
					k += (size_t)snprintf(src + k, cap - k, "ry(theta%d) q[%d];\n", g[i].angle, g[i].target), nry++;
				else
					k += (size_t)snprintf(src + k, cap - k, "cx q[%d], q[%d];\n", g[i].control, g[i].target), ncx++;
			}
			ASSERT(nry == N - 1 && ncx == N - 2);
			double re[256];
			qnn_result res = {NULL, 0, re, NULL, 256, 0, 0, 0, 0, {0}};
			ASSERT(qnn_execute(NULL, src, k, theta, N - 1, 0, 0, &res) == 0);
			ASSERT(res.is_real);
			double norm = 0, d = 0;
			for (int i = 0; i < N; i++)
				norm += v[i] * v[i];
			norm = sqrt(norm);
			for (int i = 0; i < N; i++)
				d = fmax(d, fabs(re[i] - v[i] / norm));
			if (d > 1e-12)
				fprintf(stderr, "stateprep n=%d kind %d: error %g\n", n, kind, d);
			ASSERT(d <= 1e-12);
			free(src);
		}
	double z[4] = {0, 0, 0, 0}, th[3];
	ASSERT(qnn_stateprep_angles(z, 2, th) == QNN_EINPUT);
	ASSERT(qnn_stateprep_angles(z, 0, th) == QNN_EARG);
	ASSERT(qnn_stateprep_gates(0, NULL) < 0);
}

TEST_MAIN({"stdgates", test_stdgates}, {"identities", test_identities}, {"bit_order", test_bit_order},
	  {"dense", test_dense}, {"real_complex", test_real_complex}, {"fusion", test_fusion}, {"rng", test_rng},
	  {"binomial", test_binomial}, {"sampling", test_sampling}, {"midcircuit", test_midcircuit}, {"executors", test_executors},
	  {"stateprep", test_stateprep})
