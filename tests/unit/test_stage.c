/* test_stage.c - quantum stages by signed read-out (runtime/stage.c,
 * qnn_stage_run) on programs from the emitter's read-out form
 * (backend/qasm.c): exact read-out gives y = Q x, signs included, for
 * Haar-random Q (portable and native-basis programs); shot read-out has
 * the predicted statistical error and is deterministic per seed; bad
 * arguments, a zero input and failing executors are handled. */
#include <stdint.h>

#include "../../backend/qasm.h"
#include "../../runtime/qnnrt.h"
#include "embed.h"
#include "haar.h"
#include "test.h"

/* A stage for gates on q data qubits: program text (heap), Q (heap,
 * 2^q × 2^q, from an independent embedding of the gates) and r = Q^T u. */
typedef struct {
	qnn_stage st;
	char *text;
	double *Q, *ref, *Us;
} tstage;

/* ng gates: one gate on the whole register when ng == 1, else random
 * k in 1..3 on random sites; det -1 too (p gates in the synthesis). */
static int make_stage(tstage *t, int q, int ng, int isa)
{
	long d = 1L << q;
	memset(t, 0, sizeof *t);
	qasm_gate g[4];
	t->Us = malloc((size_t)4 * 4096 * sizeof *t->Us);
	t->Q = calloc((size_t)(d * d), sizeof *t->Q);
	t->ref = malloc((size_t)d * sizeof *t->ref);
	if (!t->Us || !t->Q || !t->ref || ng > 4)
		return -1;
	for (long i = 0; i < d; i++)
		t->Q[i * d + i] = 1;
	for (int i = 0; i < ng; i++) {
		int k = ng == 1 ? q : 1 + (int)(urand() * 3);
		if (k > q)
			k = q;
		g[i].k = k;
		g[i].site = ng == 1 ? 1 : 1 + (int)(urand() * (q - k + 1));
		g[i].U = t->Us + (size_t)i * 4096;
		if (haar(t->Us + (size_t)i * 4096, 1 << k, urand() < 0.5 ? -1 : 1))
			return -1;
		apply_embedded(t->Q, q, &g[i]);
	}
	double u = 1 / sqrt((double)d);
	for (long j = 0; j < d; j++) {
		t->ref[j] = 0;
		for (long i = 0; i < d; i++)
			t->ref[j] += t->Q[i * d + j] * u;
	}
	FILE *f = tmpfile();
	if (!f)
		return -1;
	qasm_options o = {0, 0, NULL, 1, isa};
	char err[256];
	int rc = qasm_emit_circuit(f, g, ng, q, &o, err, sizeof err);
	long len = ftell(f);
	if (rc == 0 && len > 0 && (t->text = malloc((size_t)len + 1))) {
		rewind(f);
		if (fread(t->text, 1, (size_t)len, f) != (size_t)len)
			rc = -1;
		t->text[len] = '\0';
	} else {
		fprintf(stderr, "emit: %s\n", err);
		rc = -1;
	}
	fclose(f);
	t->st = (qnn_stage){t->text, (size_t)(len > 0 ? len : 0), q, t->ref};
	return rc;
}

static void free_stage(tstage *t)
{
	free(t->text);
	free(t->Q);
	free(t->ref);
	free(t->Us);
}

/* |y - Q x| and |x| for the stage's Q. */
static double err_qx(const tstage *t, const double *x, const double *y, double *nx)
{
	long d = 1L << t->st.nqubits;
	double e = 0, n = 0;
	for (long j = 0; j < d; j++) {
		double want = 0;
		for (long i = 0; i < d; i++)
			want += t->Q[j * d + i] * x[i];
		e += (y[j] - want) * (y[j] - want);
		n += x[j] * x[j];
	}
	*nx = sqrt(n);
	return sqrt(e);
}

/* Random x of random scale (10^-3 .. 10^3): the norm is kept classically. */
static void random_x(double *x, long d)
{
	double scale = pow(10, 6 * urand() - 3);
	for (long i = 0; i < d; i++)
		x[i] = scale * gauss();
}

static void test_exact(void)
{
	rng_state = 31337;
	for (int q = 1; q <= 6; q++)
		for (int ng = 1; ng <= 3; ng += 2)
			for (int isa = 0; isa <= 1; isa++) {
				if (ng == 3 && q < 3)
					continue;
				tstage t;
				int rc = make_stage(&t, q, ng, isa);
				ASSERT(rc == 0);
				long d = 1L << q;
				double *x = malloc((size_t)d * sizeof *x), *y = malloc((size_t)d * sizeof *y);
				double *work = malloc(QNN_STAGE_WORK(q) * sizeof *work);
				char err[256];
				double worst = 0;
				for (int trial = 0; trial < 3; trial++) {
					random_x(x, d);
					rc = qnn_stage_run(&t.st, NULL, QNN_READOUT_EXACT, 0, 1, x, y, work, err,
							   sizeof err);
					if (rc)
						fprintf(stderr, "q=%d ng=%d isa=%d: %s\n", q, ng, isa, err);
					ASSERT(rc == 0);
					double nx, e = err_qx(&t, x, y, &nx);
					worst = fmax(worst, e / nx);
				}
				ASSERT_NEAR(worst, 0, 1e-10);
				free(x);
				free(y);
				free(work);
				free_stage(&t);
			}
}

/* Shot read-out. With x^ = x/|x| and m = Q x^, one shot is a value v =
 * a 2^q + j with probability p(a,j) = (m_j + (-1)^a u_j)^2 / 4; the
 * estimate is m^_j = sqrt(d) (n(0,j) - n(1,j)) / S, a mean of S draws of
 * Z_j = sqrt(d) ([v = (0,j)] - [v = (1,j)]). E Z_j = sqrt(d) m_j u_j = m_j
 * and E Z_j^2 = d (p(0,j) + p(1,j)), so
 *   E |m^ - m|^2 = (1/S) sum_j (d (p(0,j) + p(1,j)) - m_j^2) = (d - 1) / S
 * (the p sum to 1, |m| = 1). The relative l2 error |y - Q x| / |x| is
 * thus sqrt(d/S) c in the mean square, c = sqrt((d - 1)/d); its mean is a
 * little lower (Jensen), within a factor 2 of that for d >= 4. */
static void test_shots(void)
{
	static const int qs[] = {2, 4};
	rng_state = 5150;
	for (int qi = 0; qi < 2; qi++) {
		int q = qs[qi];
		long d = 1L << q;
		tstage t;
		ASSERT(make_stage(&t, q, 1, 0) == 0);
		double *x = malloc((size_t)d * sizeof *x), *y = malloc((size_t)d * sizeof *y);
		double *work = malloc(QNN_STAGE_WORK(q) * sizeof *work);
		char err[256];
		const int T = 120;
		double mean[3];
		long S = 1000;
		for (int s = 0; s < 3; s++, S *= 10) {
			double sum = 0, sum2 = 0;
			for (int trial = 0; trial < T; trial++) {
				random_x(x, d);
				int rc = qnn_stage_run(&t.st, NULL, QNN_READOUT_SHOTS, S,
						       (uint64_t)(1000 * s + trial), x, y, work, err, sizeof err);
				if (rc)
					fprintf(stderr, "%s\n", err);
				ASSERT(rc == 0);
				double nx, e = err_qx(&t, x, y, &nx) / nx;
				sum += e;
				sum2 += e * e;
			}
			double c = sqrt((double)(d - 1) / (double)d), pred = c * sqrt((double)d / (double)S);
			mean[s] = sum / T;
			double ms = sum2 / T / (pred * pred);
			fprintf(stderr, "  q=%d S=%ld: mean rel. error %.4g, predicted rms %.4g, ms ratio %.3f\n",
				q, S, mean[s], pred, ms);
			ASSERT(mean[s] > pred / 2 && mean[s] < pred * 2);
			/* T (d - 1) squared deviations: a few percent of noise */
			ASSERT(ms > 0.75 && ms < 1.33);
		}
		for (int s = 0; s < 2; s++) {
			double ratio = mean[s] / mean[s + 1];
			ASSERT(ratio > sqrt(10) / 1.3 && ratio < sqrt(10) * 1.3);
		}
		free(x);
		free(y);
		free(work);
		free_stage(&t);
	}
}

static void test_deterministic(void)
{
	rng_state = 8;
	tstage t;
	ASSERT(make_stage(&t, 3, 1, 1) == 0);
	double x[8], y1[8], y2[8], y3[8], work[QNN_STAGE_WORK(3)];
	random_x(x, 8);
	char err[256];
	ASSERT(qnn_stage_run(&t.st, NULL, QNN_READOUT_SHOTS, 5000, 42, x, y1, work, err, sizeof err) == 0);
	ASSERT(qnn_stage_run(&t.st, NULL, QNN_READOUT_SHOTS, 5000, 42, x, y2, work, err, sizeof err) == 0);
	ASSERT(qnn_stage_run(&t.st, NULL, QNN_READOUT_SHOTS, 5000, 43, x, y3, work, err, sizeof err) == 0);
	ASSERT(memcmp(y1, y2, sizeof y1) == 0);
	ASSERT(memcmp(y1, y3, sizeof y1) != 0);
	free_stage(&t);
}

/* A plug-in executor that counts its calls and can fail. */
typedef struct {
	int calls;
	int fail;
} spy;

static int spy_run(void *impl, const char *prog, size_t len, const double *in, int nin, long shots,
		   uint64_t seed, qnn_result *res)
{
	spy *s = impl;
	s->calls++;
	if (s->fail) {
		snprintf(res->err, sizeof res->err, "device offline");
		return QNN_EEXEC;
	}
	return qnn_executor_default()->run(qnn_executor_default()->impl, prog, len, in, nin, shots,
					   seed, res);
}

static void test_arguments(void)
{
	rng_state = 77;
	tstage t;
	ASSERT(make_stage(&t, 2, 1, 0) == 0);
	double x[4] = {1, -2, 3, 0.5}, y[4], work[QNN_STAGE_WORK(2)];
	char err[256];
	spy s = {0, 0};
	qnn_executor ex = {"spy", &s, spy_run, NULL};

	/* through a plug-in executor */
	ASSERT(qnn_stage_run(&t.st, &ex, QNN_READOUT_EXACT, 0, 0, x, y, work, err, sizeof err) == 0);
	ASSERT(s.calls == 1);
	double nx;
	ASSERT_NEAR(err_qx(&t, x, y, &nx), 0, 1e-10);

	/* x = 0: y = 0, nothing runs */
	double z[4] = {0, 0, 0, 0};
	y[0] = 5;
	ASSERT(qnn_stage_run(&t.st, &ex, QNN_READOUT_SHOTS, 100, 0, z, y, work, err, sizeof err) == 0);
	ASSERT(s.calls == 1 && y[0] == 0 && y[3] == 0);

	/* executor failures come back with their message */
	s.fail = 1;
	ASSERT(qnn_stage_run(&t.st, &ex, QNN_READOUT_EXACT, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_EEXEC);
	ASSERT_STR_CONTAINS(err, "device offline");

	ASSERT(qnn_stage_run(NULL, NULL, QNN_READOUT_EXACT, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_EARG);
	ASSERT(qnn_stage_run(&t.st, NULL, QNN_READOUT_EXACT, 0, 0, x, y, NULL, err, sizeof err) ==
	       QNN_EARG);
	ASSERT(qnn_stage_run(&t.st, NULL, (qnn_readout)7, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_EARG);
	ASSERT_STR_CONTAINS(err, "read-out mode 7");
	ASSERT(qnn_stage_run(&t.st, NULL, QNN_READOUT_SHOTS, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_EARG);
	ASSERT_STR_CONTAINS(err, "0 shots");
	double xn[4] = {1, NAN, 0, 0};
	ASSERT(qnn_stage_run(&t.st, NULL, QNN_READOUT_EXACT, 0, 0, xn, y, work, err, sizeof err) ==
	       QNN_EINPUT);
	ASSERT_STR_CONTAINS(err, "not finite");

	qnn_stage bad = t.st;
	bad.nqubits = 0;
	ASSERT(qnn_stage_run(&bad, NULL, QNN_READOUT_EXACT, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_ERANGE);
	double r2[4] = {1, 1, 0, 0};
	bad = t.st;
	bad.ref = r2;
	ASSERT(qnn_stage_run(&bad, NULL, QNN_READOUT_EXACT, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_EINPUT);
	ASSERT_STR_CONTAINS(err, "reference vector has norm");
	/* a program for another register size: its input count differs */
	bad = t.st;
	bad.nqubits = 1;
	double r1[2] = {sqrt(0.5), sqrt(0.5)};
	bad.ref = r1;
	ASSERT(qnn_stage_run(&bad, NULL, QNN_READOUT_EXACT, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_ERANGE);
	ASSERT_STR_CONTAINS(err, "stage on 1 data qubits: <qasm>: the amplitude buffers have 4 entries, 8 needed");
	ASSERT(qnn_stage_run(&bad, NULL, QNN_READOUT_SHOTS, 10, 0, x, y, work, err, sizeof err) ==
	       QNN_ERANGE);
	ASSERT_STR_CONTAINS(err, "the counts buffer has 4 entries, 8 needed");
	bad = t.st;
	bad.len = 10;
	ASSERT(qnn_stage_run(&bad, NULL, QNN_READOUT_EXACT, 0, 0, x, y, work, err, sizeof err) ==
	       QNN_EPARSE);
	free_stage(&t);
}

TEST_MAIN({"exact", test_exact}, {"shots", test_shots}, {"deterministic", test_deterministic},
	  {"arguments", test_arguments})
