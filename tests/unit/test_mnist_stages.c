/* test_mnist_stages.c - the quantum stages of the MNIST fixture
 * (examples/mnist-mlp, issue #7): the model goes through the driver's
 * passes (infer, fold, select auto, compress at bond 8, disentangle with
 * sides both), and every Circuit node's stage program must reproduce the
 * node's matrix action Q (circuit_apply_f64 on its gates, the kernel the
 * interpreter uses):
 *   - OpenQASM 3 (stage_program) → our reader → simulator, inputs bound to
 *     the preparation of w = [x̂ ; r] / √2: the whole state is
 *     amp(0, j) = ((Q x̂)_j + u_j) / 2, amp(1, j) = ((Q x̂)_j − u_j) / 2,
 *     so amp(0, j) + amp(1, j) = (Q x̂)_j (DESIGN §6), to 1e-10;
 *   - the isa form (stage_program with isa) gives the same amplitudes;
 *   - the OpenQASM 2 form (stage_program2, angles bound) parsed and run
 *     gives the same amplitudes;
 *   - qnn_stage_run (exact read-out) on both OpenQASM 3 texts gives Q x,
 *     to 1e-10 relative to |x|;
 *   - r = Qᵀu as stage_program returns it.
 * Two ansätze: brickwork of 2-qubit gates with one-body layers (the
 * driver's --gate-qubits=2 --depth=2 --one-body --residual-bond=2), and
 * 4-qubit gates. Few sweeps: the fit's quality does not matter here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../backend/stage.h"
#include "../../frontend/onnx.h"
#include "../../ir/ir.h"
#include "../../passes/circuit.h"
#include "../../passes/compress.h"
#include "../../passes/disentangle.h"
#include "../../passes/passes.h"
#include "../../runtime/qnnrt.h"
#include "test.h"

#ifndef QNNC_SOURCE_DIR
#define QNNC_SOURCE_DIR "."
#endif

#define TOL 1e-10
#define NX 5 /* inputs per stage: all ones, a basis vector, three random */

typedef struct mnist_cfg {
	const char *name;
	int k, depth, one_body, sweeps;
	dis_layout layout;
} mnist_cfg;

static uint64_t rng = 0x6d6e697374ull;

static double urand_pm(void)
{
	/* splitmix64, uniform in [-1, 1) */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 4503599627370496.0 - 1;
}

/* The MNIST MLP after the driver's passes up to disentangling, or NULL
 * (the message printed). */
static ir_graph *mnist_disentangled(const mnist_cfg *c)
{
	char path[1024], err[1024];
	snprintf(path, sizeof path, "%s/examples/mnist-mlp/model.onnx", QNNC_SOURCE_DIR);
	ir_graph *g = onnx_load(path, err, sizeof err);
	if (!g) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	select_opts so;
	select_result sel = {0};
	compress_result cres = {0};
	disentangle_result dres = {0};
	disentangle_opts o;
	select_defaults(&so);
	so.max_bond = 8;
	so.group = 1;
	compress_opts co = {8, 0, 1};
	disentangle_defaults(&o);
	o.dis.sides = DIS_BOTH;
	o.dis.ansatz.k = c->k;
	o.dis.ansatz.depth = c->depth;
	o.dis.ansatz.layout = c->layout;
	o.dis.ansatz.one_body = c->one_body;
	o.dis.residual_bond = 2;
	o.dis.max_sweeps = c->sweeps;
	o.quiet = 1;
	int ok = !pass_infer(g) && pass_fold(g, 0) >= 0 && !pass_infer(g);
	if (ok) {
		pass_dce(g);
		ok = !ir_verify(g) && pass_select(g, "auto", &so, &sel) == 1 &&
		     pass_compress(g, &sel, &co, &cres) >= 0 && !pass_infer(g) &&
		     pass_disentangle(g, &sel, &o, &dres) == 1 && !pass_infer(g) && !ir_verify(g);
	}
	if (!ok) {
		fprintf(stderr, "%s: %s\n", c->name, g->nerrors ? g->err : "fc2 not selected");
		ir_graph_free(g);
		g = NULL;
	}
	select_free(&sel);
	compress_free(&cres);
	disentangle_free(&dres);
	return g;
}

/* Parse text; NULL with the message printed. */
static qnn_program *parse(const char *text, size_t len, const char *what)
{
	char err[512];
	qnn_program *p = qnn_program_parse(text, len, what, err, sizeof err);
	if (!p)
		fprintf(stderr, "%s: %s\n", what, err);
	return p;
}

/* Run p on theta (ninputs values) into re/im (n amplitudes); 0 or -1. */
static int run(const qnn_program *p, const double *theta, int ninputs, double *re, double *im, size_t n)
{
	qnn_result res = {.amp_re = re, .amp_im = im, .amps_len = n};
	int rc = qnn_program_run(p, theta, ninputs, 0, 0, &res);
	if (rc)
		fprintf(stderr, "run: %s\n", res.err);
	return rc ? -1 : 0;
}

/* The checks of the header on Circuit node n (stage number want_stage). */
static void check_stage(ir_graph *g, ir_node *n, int64_t want_stage)
{
	stage_circuit sc;
	if (stage_circuit_of(g, n, &sc)) {
		fprintf(stderr, "%s\n", g->err);
		stage_circuit_free(&sc);
		ASSERT(0);
	}
	const circuit_desc *d = &sc.d;
	const int q = d->q;
	const size_t D = (size_t)1 << q, N = 2 * D;
	if (q != 8 || d->stage != want_stage || d->ngates <= 0) {
		fprintf(stderr, "%s: %d qubits, stage %d, %d gates\n", n->name, q, d->stage, d->ngates);
		stage_circuit_free(&sc);
		ASSERT(0);
	}

	char *text = NULL, *itext = NULL, *text2 = NULL;
	size_t len = 0, ilen = 0, len2 = 0;
	double *ref = NULL, *iref = NULL;
	qasm_stats st, ist, st2;
	qnn_program *p = NULL, *ip = NULL, *p2 = NULL;
	/* x, Q x̂, r, w, theta, amplitudes (3 programs), y, stage workspace */
	double *buf = calloc(16 * N + QNN_STAGE_WORK(q), sizeof *buf);
	if (!buf) {
		stage_circuit_free(&sc);
		ASSERT(buf);
	}
	double *x = buf, *qx = x + D, *r = qx + D, *y = r + D, *w = y + D, *theta = w + N, *re = theta + N,
	       *im = re + N, *ire = im + N, *iim = ire + N, *re2 = iim + N, *im2 = re2 + N, *want = im2 + N,
	       *work = want + N;
	double worst_amp = 0, worst_isa = 0, worst_q2 = 0, worst_run = 0;
	int bad = stage_program(g, n, 0, &text, &len, &ref, &st) ||
		  stage_program(g, n, 1, &itext, &ilen, &iref, &ist);
	if (bad)
		fprintf(stderr, "%s\n", g->err);
	if (!bad) {
		p = parse(text, len, "stage.qasm");
		ip = parse(itext, ilen, "stage-isa.qasm");
		bad = !p || !ip;
	}
	if (bad)
		goto out;

	/* The programs' shape: q + 1 qubits, 2^(q+1) - 1 inputs. */
	bad = qnn_program_nqubits(p) != q + 1 || qnn_program_nqubits(ip) != q + 1 ||
	      qnn_program_ninputs(p) != (int)N - 1 || qnn_program_ninputs(ip) != (int)N - 1 ||
	      st.ninputs != (int)N - 1 || ist.ninputs != (int)N - 1;
	if (bad) {
		fprintf(stderr, "%s: %d/%d qubits, %d/%d inputs\n", n->name, qnn_program_nqubits(p),
			qnn_program_nqubits(ip), qnn_program_ninputs(p), qnn_program_ninputs(ip));
		goto out;
	}

	/* r = Qᵀu, u_j = 1/√D: Qᵀ = Cᵀ, or C when the node applies Cᵀ */
	for (size_t j = 0; j < D; j++)
		r[j] = 1 / sqrt((double)D);
	bad = circuit_apply_f64(d->sites, d->ks, d->ngates, sc.G, q, !d->transpose, r, 1) ||
	      max_abs_diff(r, ref, D) > 1e-12 || max_abs_diff(r, iref, D) > 1e-12;
	if (bad) {
		fprintf(stderr, "%s: r = Q^T u differs from stage_program's\n", n->name);
		goto out;
	}

	qnn_stage stg = {text, len, q, ref}, istg = {itext, ilen, q, iref};
	for (int t = 0; t < NX && !bad; t++) {
		for (size_t j = 0; j < D; j++)
			x[j] = t == 0 ? 1 : t == 1 ? (j == D - 1 ? -3 : 0) : 2 * urand_pm() + (t == 4 ? 0.5 : 0);
		double xn = 0;
		for (size_t j = 0; j < D; j++)
			xn += x[j] * x[j];
		xn = sqrt(xn);
		/* the classical result: Q x̂ */
		for (size_t j = 0; j < D; j++)
			qx[j] = x[j] / xn;
		for (size_t j = 0; j < D; j++)
			w[j] = qx[j] / sqrt(2), w[D + j] = ref[j] / sqrt(2);
		bad = circuit_apply_f64(d->sites, d->ks, d->ngates, sc.G, q, d->transpose, qx, 1) ||
		      qnn_stateprep_angles(w, q + 1, theta);
		if (bad) {
			fprintf(stderr, "%s: classical result or angles failed\n", n->name);
			break;
		}
		/* OpenQASM 3, portable and isa, with the same angles */
		if ((bad = run(p, theta, (int)N - 1, re, im, N) || run(ip, theta, (int)N - 1, ire, iim, N)))
			break;
		for (size_t j = 0; j < D; j++) {
			double u = 1 / sqrt((double)D);
			want[j] = (qx[j] + u) / 2;
			want[D + j] = (qx[j] - u) / 2;
			worst_amp = fmax(worst_amp, fabs(re[j] + re[D + j] - qx[j]));
		}
		worst_amp = fmax(worst_amp, fmax(max_abs_diff(re, want, N), max_abs(im, N)));
		worst_isa = fmax(worst_isa, fmax(max_abs_diff(ire, re, N), max_abs_diff(iim, im, N)));

		/* OpenQASM 2 with these angles bound */
		free(text2);
		text2 = NULL;
		qnn_program_free(p2);
		p2 = NULL;
		bad = stage_program2(g, n, theta, &text2, &len2, &st2);
		if (bad)
			fprintf(stderr, "%s\n", g->err);
		if (bad || (bad = !(p2 = parse(text2, len2, "stage.qasm2"))))
			break;
		bad = qnn_program_nqubits(p2) != q + 1 || qnn_program_ninputs(p2) != 0 ||
		      strncmp(text2, "OPENQASM 2.0;", 13) || run(p2, NULL, 0, re2, im2, N);
		if (bad) {
			fprintf(stderr, "%s: OpenQASM 2 program: %d qubits, %d inputs\n", n->name,
				qnn_program_nqubits(p2), qnn_program_ninputs(p2));
			break;
		}
		worst_q2 = fmax(worst_q2, fmax(max_abs_diff(re2, re, N), max_abs_diff(im2, im, N)));

		/* the runtime's stage entry point on the unnormalised x */
		char err[256];
		for (int form = 0; form < 2 && !bad; form++) {
			int e = qnn_stage_run(form ? &istg : &stg, NULL, QNN_READOUT_EXACT, 0, 0, x, y, work, err,
					      sizeof err);
			if ((bad = e != 0)) {
				fprintf(stderr, "%s: qnn_stage_run: %s\n", n->name, err);
				break;
			}
			for (size_t j = 0; j < D; j++)
				worst_run = fmax(worst_run, fabs(y[j] - xn * qx[j]) / xn);
		}
	}
	printf("  %s (stage %lld, %d gates; %ld cx, %ld 1q; isa %ld cx, %ld 1q): read-out %.1e, isa %.1e, "
	       "qasm2 %.1e, qnn_stage_run %.1e\n",
	       n->name, (long long)want_stage, d->ngates, st.cx, st.oneq, ist.cx, ist.oneq, worst_amp, worst_isa,
	       worst_q2, worst_run);
out:
	qnn_program_free(p);
	qnn_program_free(ip);
	qnn_program_free(p2);
	free(text);
	free(itext);
	free(text2);
	free(ref);
	free(iref);
	free(buf);
	stage_circuit_free(&sc);
	ASSERT(!bad);
	ASSERT(worst_amp <= TOL);
	ASSERT(worst_isa <= TOL);
	ASSERT(worst_q2 <= TOL);
	ASSERT(worst_run <= TOL);
}

/* Every Circuit node of the disentangled model: /fc2/Gemm/V (stage 0,
 * Vᵀ) then /fc2/Gemm/U (stage 1, U), each checked. */
static void run_cfg(const mnist_cfg *c)
{
	ir_graph *g = mnist_disentangled(c);
	ASSERT(g);
	int64_t stage = 0;
	int before = test_failures;
	static const char *const names[2] = {"/fc2/Gemm/V", "/fc2/Gemm/U"};
	for (int i = 0; i < g->nnodes && test_failures == before; i++) {
		ir_node *n = g->nodes[i];
		if (n->op != IR_OP_Circuit)
			continue;
		if (stage >= 2 || strcmp(n->name, names[stage]) || ir_attr_int(n, "transpose", -1) != (stage == 0)) {
			fprintf(stderr, "%s: unexpected Circuit node '%s'\n", c->name, n->name);
			test_failures++;
			break;
		}
		check_stage(g, n, stage++);
	}
	ir_graph_free(g);
	qnn_executor_default_clear();
	ASSERT(test_failures > before || stage == 2); /* a failed stage has said why */
}

static void test_brick2(void)
{
	/* the npm cross-check's flags: --gate-qubits=2 --depth=2 --one-body */
	static const mnist_cfg c = {"brick k=2", 2, 2, 1, 3, DIS_BRICK};
	run_cfg(&c);
}

static void test_brick4(void)
{
	static const mnist_cfg c = {"brick k=4", 4, 2, 0, 1, DIS_BRICK};
	run_cfg(&c);
}

TEST_MAIN({"brick2", test_brick2}, {"brick4", test_brick4})
