/* qasm_fixtures.c - writes the programs that tests/npm/crosscheck.mjs hands to
 * third-party npm tools: random circuits of real orthogonal k-qubit gates
 * (k = 1..4) emitted by backend/qasm.c in every form (plain, with state
 * preparation, the signed read-out stage form, the isa form), each as
 * OpenQASM 3 and as OpenQASM 2 with bound angles, plus the final state
 * vector our runtime's simulator computes for the OpenQASM 3 text; and the
 * stage programs qnnc wrote for a real model (the MNIST fixture's
 * disentanglers), with their states.
 *
 * Usage: qasm_fixtures DIR [STAGE.qasm ...]. DIR must exist. Writes
 * DIR/<name>.qasm, DIR/<name>.qasm2 and DIR/fixtures.json:
 *
 *   {"fixtures": [{"name": "c00-plain", "nqubits": 3, "ngates": 4, "ninputs": 0,
 *                  "qasm3": "c00-plain.qasm", "qasm2": "c00-plain.qasm2",
 *                  "re": [...], "im": [...], "readout": [...]}, ...]}
 *
 * re/im: amplitudes of the state before measurement, index bit j = q[j]
 * (DESIGN §2), from qnn_program_run on the .qasm file with the same angle
 * values the .qasm2 file has inlined. "readout" (stage form only): Q x^, the
 * data vector the read-out recovers as amp(0, j) + amp(1, j). "stage": true
 * marks the programs qnnc wrote (below).
 *
 * Before writing a random circuit's state, the tool checks it against the
 * state expected from DESIGN §2 and §6 alone (gates embedded by hand), so the
 * npm check compares a third-party simulator with a state that is already
 * known right.
 *
 * Each STAGE.qasm is a file name in DIR: a stage program `qnnc --emit=qasm`
 * wrote (OUT.stageN.qasm, portable or --isa) with its OUT.stageN.qasm2
 * beside it (--emit=qasm2: the angles bound to the input x = (1, ..., 1)).
 * The .qasm2 must start with the state preparation circuit of
 * runtime/qnnrt.h statement by statement; its angles, simulated here,
 * must prepare [u ; r] / √2 with u the normalised all-ones input and |r| = 1.
 * The .qasm run with those angles must give the .qasm2's state, and that
 * state must satisfy amp(0, j) − amp(1, j) = (Q r)_j = u_j, i.e. r = Qᵀu
 * (DESIGN §6); the fixture's state is that run's, its readout
 * amp(0, j) + amp(1, j) = (Q u)_j. (That Q is the Circuit node's operator
 * is tests/unit/test_mnist_stages.c's check.)
 *
 * Exit 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../backend/qasm.h"
#include "../../runtime/qnnrt.h"
#include "../unit/haar.h"

#define FIX_MAX_GATES 4
#define FIX_MAX_K 4
/* Agreement required between our simulator and the hand embedding. */
#define FIX_TOL 1e-9

typedef struct {
	const char *name;
	int stateprep, readout, isa;
} fix_variant;

static const fix_variant fix_variants[] = {
	{"plain", 0, 0, 0},
	{"prep", 1, 0, 0},
	{"readout", 1, 1, 0},
	{"isa", 1, 0, 1},
	{"isa-readout", 1, 1, 1},
};

static int fix_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fix_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "qasm_fixtures: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

/* x := G x for gate g on an n-qubit register, from DESIGN §2 alone: register
 * site t (1 = most significant) is bit n - t of the basis index, and the
 * gate's own index is Σ_l r_l 2^(k-l) over its local sites l = 1..k (local
 * site l = register site s+l-1). transpose applies Gᵀ instead. */
static void fix_apply(double *x, double *tmp, int n, const qasm_gate *g, int transpose)
{
	long N = 1L << n, d = 1L << g->k;
	for (long i = 0; i < N; i++)
		tmp[i] = 0;
	for (long i = 0; i < N; i++) {
		long r = 0, rest = i;
		for (int l = 1; l <= g->k; l++) {
			int pos = n - (g->site + l - 1);
			r |= ((i >> pos) & 1) << (g->k - l);
			rest &= ~(1L << pos);
		}
		for (long r2 = 0; r2 < d; r2++) {
			long y = rest;
			for (int l = 1; l <= g->k; l++)
				y |= ((r2 >> (g->k - l)) & 1) << (n - (g->site + l - 1));
			tmp[y] += (transpose ? g->U[r * d + r2] : g->U[r2 * d + r]) * x[i];
		}
	}
	memcpy(x, tmp, (size_t)N * sizeof *x);
}

/* x := C x (transpose = 0) or Cᵀ x (1), C = G_{ng-1} ··· G_0. */
static void fix_circuit(double *x, double *tmp, int n, const qasm_gate *g, int ng, int transpose)
{
	for (int i = 0; i < ng; i++)
		fix_apply(x, tmp, n, &g[transpose ? ng - 1 - i : i], transpose);
}

/* Random unit vector. tiny: odd entries made ~1e-7 times smaller, so the
 * preparation's angles on q[0] (combinations of the pairs' angles) are
 * ~1e-7 and written in exponent form ("1.2e-07"), which readers must parse. */
static void fix_unit_gauss(double *v, long N, int tiny)
{
	double nv = 0;
	for (long i = 0; i < N; i++) {
		v[i] = gauss();
		if (tiny && i % 2)
			v[i] *= 1e-7;
		nv += v[i] * v[i];
	}
	nv = sqrt(nv);
	for (long i = 0; i < N; i++)
		v[i] /= nv;
}

static char *fix_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *text = NULL;
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);
		if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1))) {
			if (fread(text, 1, (size_t)n, f) == (size_t)n) {
				text[n] = '\0';
				*len = (size_t)n;
			} else {
				free(text);
				text = NULL;
			}
		}
	}
	fclose(f);
	return text;
}

static void fix_json_array(FILE *f, const char *key, const double *v, long n)
{
	fprintf(f, ",\n   \"%s\": [", key);
	for (long i = 0; i < n; i++)
		fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
	fputc(']', f);
}

/* One fixture: emit both texts, run ours, check it, append to the manifest. */
static int fix_one(const char *dir, FILE *manifest, int first, int id, const fix_variant *var,
		   const qasm_gate *g, int ng, int q)
{
	int n = q + var->readout; /* qubits of the program */
	long N = 1L << n, D = 1L << q;
	char name[64], path3[4096], path2[4096], err[256];
	snprintf(name, sizeof name, "c%02d-%s", id, var->name);
	snprintf(path3, sizeof path3, "%s/%s.qasm", dir, name);
	snprintf(path2, sizeof path2, "%s/%s.qasm2", dir, name);

	double *buf = calloc((size_t)(6 * N), sizeof *buf);
	if (!buf)
		return fix_fail("%s: out of memory", name);
	double *want = buf, *tmp = buf + N, *theta = buf + 2 * N, *re = buf + 3 * N,
	       *im = buf + 4 * N, *qx = buf + 5 * N;
	int rc = -1;
	/* The isa variant draws the same input as its portable twin, so both
	 * have the same OpenQASM 2 text (simulated once by the npm check). */
	uint64_t saved = rng_state;
	rng_state = 0x5eed0000u + 2u * (uint64_t)id + (uint64_t)var->readout;
	/* The input state and the state expected after the gates. */
	if (!var->stateprep) {
		want[0] = 1;
		fix_circuit(want, tmp, n, g, ng, 0);
	} else if (!var->readout) {
		fix_unit_gauss(want, N, 1);
		if (qnn_stateprep_angles(want, n, theta))
			goto fail;
		fix_circuit(want, tmp, n, g, ng, 0);
	} else {
		/* DESIGN §6: w = [x^ ; r] / √2 with r = Qᵀu; after Q and H,
		 * amp(a, j) = ((Q x^)_j ± u_j) / 2. */
		double u = 1 / sqrt((double)D);
		fix_unit_gauss(qx, D, 0);
		for (long j = 0; j < D; j++)
			want[j] = qx[j] / sqrt(2), want[D + j] = u;
		fix_circuit(want + D, tmp, q, g, ng, 1);
		for (long j = 0; j < D; j++)
			want[D + j] /= sqrt(2);
		if (qnn_stateprep_angles(want, n, theta))
			goto fail;
		fix_circuit(qx, tmp, q, g, ng, 0);
		for (long j = 0; j < D; j++)
			want[j] = (qx[j] + u) / 2, want[D + j] = (qx[j] - u) / 2;
	}
	rng_state = saved;

	qasm_stats st;
	qasm_options o = {.stateprep = var->stateprep, .measure = 1, .stats = &st,
			  .readout = var->readout, .isa = var->isa};
	FILE *f = fopen(path3, "w");
	if (!f)
		goto io;
	int e = qasm_emit_circuit(f, g, ng, q, &o, err, sizeof err);
	if (fclose(f) || e)
		goto emit;
	/* qasm_emit_circuit2 ignores isa: the portable program, whose
	 * amplitudes the isa form must reproduce (gphase included). */
	if (!(f = fopen(path2, "w")))
		goto io;
	e = qasm_emit_circuit2(f, g, ng, q, &o, var->stateprep ? theta : NULL, err, sizeof err);
	if (fclose(f) || e)
		goto emit;

	size_t len = 0;
	char *text = fix_read(path3, &len);
	if (!text)
		goto io;
	qnn_program *p = qnn_program_parse(text, len, path3, err, sizeof err);
	free(text);
	if (!p) {
		fix_fail("%s", err);
		goto out;
	}
	int nin = var->stateprep ? (int)(N - 1) : 0;
	qnn_result res = {.amp_re = re, .amp_im = im, .amps_len = (size_t)N};
	if (qnn_program_nqubits(p) != n || qnn_program_ninputs(p) != nin) {
		fix_fail("%s: %d qubits and %d inputs, expected %d and %d", path3,
			 qnn_program_nqubits(p), qnn_program_ninputs(p), n, nin);
		qnn_program_free(p);
		goto out;
	}
	long ngates = qnn_program_ngates(p);
	e = qnn_program_run(p, theta, nin, 0, 0, &res);
	qnn_program_free(p);
	if (e) {
		fix_fail("%s: run failed: %s", path3, res.err);
		goto out;
	}
	double maxerr = 0;
	for (long i = 0; i < N; i++)
		maxerr = fmax(maxerr, fmax(fabs(re[i] - want[i]), fabs(im[i])));
	if (!(maxerr <= FIX_TOL)) {
		fix_fail("%s: our simulator is %.3g away from the expected state", path3, maxerr);
		goto out;
	}

	fprintf(manifest,
		"%s  {\"name\": \"%s\", \"nqubits\": %d, \"ngates\": %ld, \"ninputs\": %d, "
		"\"qasm3\": \"%s.qasm\", \"qasm2\": \"%s.qasm2\"",
		first ? "" : ",\n", name, n, ngates, nin, name, name);
	fix_json_array(manifest, "re", re, N);
	fix_json_array(manifest, "im", im, N);
	if (var->readout)
		fix_json_array(manifest, "readout", qx, D);
	fputc('}', manifest);
	rc = 0;
	goto out;
io:
	fix_fail("%s: %s", name, strerror(errno));
	goto out;
emit:
	fix_fail("%s: emit failed: %s", name, err);
	goto out;
fail:
	fix_fail("%s: qnn_stateprep_angles failed", name);
	rng_state = saved;
out:
	free(buf);
	return rc;
}

/* Largest data register of a stage file we check. */
#define FIX_MAX_STAGE_QUBITS 16

/* Parse the program file `file` of dir into *pp (NULL after a failure). */
static int fix_load(const char *dir, const char *file, qnn_program **pp)
{
	char path[4096], err[512];
	size_t len = 0;
	snprintf(path, sizeof path, "%s/%s", dir, file);
	*pp = NULL;
	char *text = fix_read(path, &len);
	if (!text)
		return fix_fail("%s: %s", path, strerror(errno));
	*pp = qnn_program_parse(text, len, path, err, sizeof err);
	free(text);
	return *pp ? 0 : fix_fail("%s", err);
}

/* Run p on nin input values; the state before measurement into re/im. */
static int fix_run(const qnn_program *p, const char *file, const double *theta, int nin, double *re,
		   double *im, long N)
{
	qnn_result res = {.amp_re = re, .amp_im = im, .amps_len = (size_t)N};
	if (qnn_program_run(p, theta, nin, 0, 0, &res))
		return fix_fail("%s: run failed: %s", file, res.err);
	return 0;
}

/* The next statement of an OpenQASM 2 text from *pos (comment and blank
 * lines skipped) into line; 0 at the end. */
static int fix_next_line(const char *text, size_t *pos, char *line, size_t cap)
{
	while (text[*pos]) {
		const char *s = text + *pos, *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		*pos += n + (e != NULL);
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		if (!n || !strncmp(s, "//", 2))
			continue;
		if (n >= cap)
			n = cap - 1;
		memcpy(line, s, n);
		line[n] = '\0';
		return 1;
	}
	return 0;
}

/* The preparation angles bound in an OpenQASM 2 stage text: after
 * `creg c[n];` it must start with qnn_stateprep_gates' circuit exactly
 * (`ry(<number>) q[t];`, `cx q[c], q[t];`), whose angles go to theta. */
static int fix_bound_angles(const char *file, const char *text, int n, double *theta)
{
	long ng = qnn_stateprep_gates(n, NULL);
	qnn_prep_gate *g = ng > 0 ? malloc((size_t)ng * sizeof *g) : NULL;
	char line[256], want[64];
	size_t pos = 0;
	int rc = -1;
	if (!g)
		return fix_fail("%s: no state preparation of %d qubits", file, n);
	qnn_stateprep_gates(n, g);
	snprintf(want, sizeof want, "creg c[%d];", n);
	while (fix_next_line(text, &pos, line, sizeof line) && strcmp(line, want))
		;
	if (strcmp(line, want)) {
		fix_fail("%s: no '%s' line", file, want);
		goto out;
	}
	for (long i = 0; i < ng; i++) {
		int a = -1, b = -1, end = 0;
		double v = 0;
		if (!fix_next_line(text, &pos, line, sizeof line))
			line[0] = '\0';
		if (g[i].control < 0) {
			char *e;
			if (!strncmp(line, "ry(", 3) && (v = strtod(line + 3, &e), e != line + 3) &&
			    sscanf(e, ") q[%d];%n", &a, &end) == 1 && !e[end] && a == g[i].target && isfinite(v)) {
				theta[g[i].angle] = v;
				continue;
			}
			snprintf(want, sizeof want, "ry(<angle %d>) q[%d];", g[i].angle, g[i].target);
		} else {
			if (sscanf(line, "cx q[%d], q[%d];%n", &a, &b, &end) == 2 && !line[end] &&
			    a == g[i].control && b == g[i].target)
				continue;
			snprintf(want, sizeof want, "cx q[%d], q[%d];", g[i].control, g[i].target);
		}
		fix_fail("%s: state preparation statement %ld is '%s', expected '%s'", file, i + 1, line, want);
		goto out;
	}
	rc = 0;
out:
	free(g);
	return rc;
}

/* The state qnn_stateprep_gates' circuit prepares from theta (2^n values
 * into w), simulated here: ry(t) = [[cos t/2, -sin t/2], [sin t/2, cos t/2]]
 * and cx on the bits q[j] = bit j of the index. */
static void fix_prep_state(int n, const double *theta, double *w)
{
	long N = 1L << n, ng = qnn_stateprep_gates(n, NULL);
	qnn_prep_gate *g = malloc((size_t)ng * sizeof *g);
	if (!g)
		return;
	qnn_stateprep_gates(n, g);
	memset(w, 0, (size_t)N * sizeof *w);
	w[0] = 1;
	for (long i = 0; i < ng; i++) {
		long t = 1L << g[i].target;
		if (g[i].control < 0) {
			double c = cos(theta[g[i].angle] / 2), s = sin(theta[g[i].angle] / 2);
			for (long x = 0; x < N; x++)
				if (!(x & t)) {
					double a0 = w[x], a1 = w[x | t];
					w[x] = c * a0 - s * a1;
					w[x | t] = s * a0 + c * a1;
				}
		} else {
			long cb = 1L << g[i].control;
			for (long x = 0; x < N; x++)
				if ((x & cb) && !(x & t)) {
					double a = w[x];
					w[x] = w[x | t];
					w[x | t] = a;
				}
		}
	}
	free(g);
}

/* One stage program qnnc wrote and its .qasm2 (see the top comment). */
static int fix_stage(const char *dir, const char *file, FILE *manifest, int first)
{
	qnn_program *p = NULL, *p2 = NULL;
	double *buf = NULL;
	char *text2 = NULL, file2[4096], path2[4096];
	int rc = -1;
	size_t flen = strlen(file), len2 = 0;
	if (flen < 6 || strcmp(file + flen - 5, ".qasm") || strchr(file, '"') || strchr(file, '\\'))
		return fix_fail("%s: expected the name of an OUT.stageN.qasm file", file);
	snprintf(file2, sizeof file2, "%s2", file);
	snprintf(path2, sizeof path2, "%s/%s", dir, file2);
	if (fix_load(dir, file, &p) || fix_load(dir, file2, &p2))
		goto out;
	if (!(text2 = fix_read(path2, &len2))) {
		fix_fail("%s: %s", path2, strerror(errno));
		goto out;
	}
	int n = qnn_program_nqubits(p), q = n - 1;
	long N = 1L << (n > 0 ? n : 0), D = N / 2;
	int nin = (int)N - 1;
	if (q < 1 || q > FIX_MAX_STAGE_QUBITS || qnn_program_ninputs(p) != nin ||
	    qnn_program_nqubits(p2) != n || qnn_program_ninputs(p2) != 0) {
		fix_fail("%s: %d qubits and %d inputs, %s: %d and %d; expected a stage of 1..%d data qubits and "
			 "its bound twin", file, n, qnn_program_ninputs(p), file2, qnn_program_nqubits(p2),
			 qnn_program_ninputs(p2), FIX_MAX_STAGE_QUBITS);
		goto out;
	}
	buf = calloc((size_t)(7 * N), sizeof *buf);
	if (!buf) {
		fix_fail("%s: out of memory", file);
		goto out;
	}
	double *theta = buf, *w = theta + N, *re = w + N, *im = re + N, *re2 = im + N, *im2 = re2 + N,
	       *qu = im2 + N;
	const double s2 = sqrt(2.0), u = 1 / sqrt((double)D);

	/* The .qasm2 prepares w = [u ; r] / √2, u the normalised all-ones
	 * input, r a unit vector. */
	if (fix_bound_angles(file2, text2, n, theta))
		goto out;
	fix_prep_state(n, theta, w);
	double eu = 0, rn = 0;
	for (long j = 0; j < D; j++) {
		eu = fmax(eu, fabs(w[j] * s2 - u));
		rn += 2 * w[D + j] * w[D + j];
	}
	if (!(eu <= FIX_TOL && fabs(rn - 1) <= FIX_TOL)) {
		fix_fail("%s: the bound angles prepare [x ; r] / sqrt(2) with x %.3g from the all-ones input, "
			 "|r|^2 = %.17g", file2, eu, rn);
		goto out;
	}
	/* The .qasm with those angles is the .qasm2 ... */
	if (fix_run(p, file, theta, nin, re, im, N) || fix_run(p2, file2, NULL, 0, re2, im2, N))
		goto out;
	double e2 = 0, er = 0;
	for (long i = 0; i < N; i++)
		e2 = fmax(e2, fmax(fabs(re2[i] - re[i]), fabs(im2[i] - im[i])));
	/* ... and r = Qᵀu: amp(0, j) − amp(1, j) = (Q r)_j = u (DESIGN §6) */
	for (long j = 0; j < D; j++) {
		qu[j] = re[j] + re[D + j];
		er = fmax(er, fmax(fabs(re[j] - re[D + j] - u), fmax(fabs(im[j]), fabs(im[D + j]))));
	}
	if (!(e2 <= FIX_TOL)) {
		fix_fail("%s: its state is %.3g away from %s's with the same angles", file2, e2, file);
		goto out;
	}
	if (!(er <= FIX_TOL)) {
		fix_fail("%s: amp(0, j) - amp(1, j) is %.3g away from 1/sqrt(%ld): r is not Q^T u", file, er, D);
		goto out;
	}

	fprintf(manifest,
		"%s  {\"name\": \"%.*s\", \"stage\": true, \"nqubits\": %d, \"ngates\": %ld, \"ninputs\": %d, "
		"\"qasm3\": \"%s\", \"qasm2\": \"%s\"",
		first ? "" : ",\n", (int)(flen - 5), file, n, qnn_program_ngates(p), nin, file, file2);
	fix_json_array(manifest, "re", re, N);
	fix_json_array(manifest, "im", im, N);
	fix_json_array(manifest, "readout", qu, D);
	fputc('}', manifest);
	printf("qasm_fixtures: %s: %d qubits, %d inputs, %ld gates; %s has its angles bound to the all-ones "
	       "input\n", file, n, nin, qnn_program_ngates(p), file2);
	rc = 0;
out:
	qnn_program_free(p);
	qnn_program_free(p2);
	free(text2);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: qasm_fixtures DIR [STAGE.qasm ...]\n");
		return 1;
	}
	const char *dir = argv[1];
	char path[4096];
	snprintf(path, sizeof path, "%s/fixtures.json", dir);
	FILE *manifest = fopen(path, "w");
	if (!manifest) {
		fix_fail("%s: %s", path, strerror(errno));
		return 1;
	}
	fprintf(manifest, "{\"fixtures\": [\n");
	rng_state = 20240607;
	double *Us = malloc(((size_t)FIX_MAX_GATES << (2 * FIX_MAX_K)) * sizeof *Us);
	qasm_gate g[FIX_MAX_GATES];
	int rc = Us ? 0 : fix_fail("out of memory");
	int count = 0;
	/* Register sizes 3..8; the stage forms (one qubit more) stop at 6 data
	 * qubits to keep the npm simulator's time low. */
	for (int id = 0; id < 6 && !rc; id++) {
		int q = 3 + id, ng = 2 + id % 2;
		for (int i = 0; i < ng; i++) {
			int k = 1 + (int)(urand() * FIX_MAX_K);
			if (k > q)
				k = q;
			g[i].k = k;
			g[i].site = 1 + (int)(urand() * (q - k + 1));
			double *U = Us + ((size_t)i << (2 * FIX_MAX_K));
			g[i].U = U;
			/* det -1 too: for k >= 3 its synthesis has complex gates inside */
			if (haar(U, 1 << k, urand() < 0.5 ? -1 : 1))
				rc = fix_fail("haar failed");
		}
		for (size_t v = 0; v < sizeof fix_variants / sizeof *fix_variants && !rc; v++) {
			if (fix_variants[v].readout && q > 6)
				continue;
			rc = fix_one(dir, manifest, count == 0, id, &fix_variants[v], g, ng, q);
			count++;
		}
	}
	for (int i = 2; i < argc && !rc; i++, count++)
		rc = fix_stage(dir, argv[i], manifest, count == 0);
	fprintf(manifest, "\n]}\n");
	if (fclose(manifest) && !rc)
		rc = fix_fail("%s: %s", path, strerror(errno));
	free(Us);
	if (!rc)
		printf("qasm_fixtures: %d programs in %s\n", count, dir);
	return rc ? 1 : 0;
}
