/* cgen_circuit.c - C emission for the 'circuit' op family (see ir/ops.def):
 * Circuit, Y = (C or Cᵀ) pad(X) truncated + B along the last axis, either
 * as gates applied in C (classical) or as a quantum stage of the hybrid
 * program (DESIGN.md §6). backend/stage.h checks the node and makes the
 * stage program.
 *
 * Classical. The gates of Q (C: G_0 first; Cᵀ: G_lastᵀ first) go into one
 * static const double table in application order, so the code only ever
 * applies g, never gᵀ. A tile of bt vectors is held in double in the
 * node's scratch as S[i, lane] (i < 2^q, lane < bt: X transposed and
 * zero-padded). A k-qubit gate on sites s..s+k-1 splits i into (h, a, m)
 * with 2^s, 2^k and 2^(q-s-k) values, and with the lanes last each h is a
 * contiguous 2^k × M block (M = 2^(q-s-k) bt): block ← g block, one small
 * product per h, whose inner loops over M have literal bounds that gcc -O2
 * vectorises. One kernel per distinct (k, M) of the node. Then Y[lane, i]
 * = S[i, lane] + B[i] for i < rows, converted to X's dtype.
 *
 * Quantum. The program text (what stage_program returns: the driver's
 * OUT.stageN.qasm) and r = Qᵀu are static tables; per vector the node pads
 * x to 2^q doubles and calls qnn_stage_run with the context's executor,
 * read-out mode and shots, and a seed mixed from ctx->seed and the run
 * counter ctx->calls, then truncates and adds B. The stage's workspace
 * (x, y and QNN_STAGE_WORK(q) doubles) is the node's scratch.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"

#define CGC_SCRATCH_BUDGET ((int64_t)1 << 20) /* bytes of a classical tile */
#define CGC_MAX_LITERAL 4000 /* C99 guarantees string literals of 4095 chars */
/* runtime/qnnrt.h's QNN_STAGE_WORK(q), restated: the compiler libraries do
 * not include the runtime; the generated code checks the two agree. */
#define CGC_STAGE_WORK(q) (3 * ((int64_t)2 << (q)))

typedef struct cgc_plan {
	int q, rows, cols;
	int64_t D;     /* 2^q */
	int64_t batch; /* vectors */
	int64_t bt;    /* vectors per tile (classical) */
	int quantum;
} cgc_plan;

int cgen_circuit_quantum(const cgen_options *o, const ir_node *n)
{
	return n->op == IR_OP_Circuit && !o->classical_circuits && ir_attr_int(n, "stage", -1) >= 0;
}

/* The sizes, from attributes and shapes alone (no diagnostics: the
 * scratch query must not report; cgen_circuit checks first). -1 when they
 * are not usable. */
static int cgc_make(const cgen_options *o, const ir_node *n, cgc_plan *p)
{
	p->q = (int)ir_attr_int(n, "qubits", 0);
	p->rows = (int)ir_attr_int(n, "rows", 0);
	p->cols = (int)ir_attr_int(n, "cols", 0);
	p->quantum = cgen_circuit_quantum(o, n);
	if (p->q < 1 || p->q > 30 || p->cols < 1 || p->rows < 1 || !n->in[0] || !n->out[0])
		return -1;
	p->D = (int64_t)1 << p->q;
	int64_t nx = ir_shape_numel(&n->in[0]->shape);
	if (nx < 0)
		return -1;
	p->batch = nx / p->cols;
	if (p->quantum) {
		p->bt = 1;
		return 2 * p->D + CGC_STAGE_WORK(p->q) > INT_MAX ? -1 : 0;
	}
	int64_t per = 2 * p->D * (int64_t)sizeof(double);
	p->bt = p->batch < 1 ? 1 : p->batch;
	if (p->bt * per > CGC_SCRATCH_BUDGET) {
		int64_t b = 1; /* a power of two keeps M = 2^j bt vectorisable */
		while (2 * b * per <= CGC_SCRATCH_BUDGET)
			b *= 2;
		p->bt = b;
	}
	return 2 * p->D * p->bt > INT_MAX ? -1 : 0;
}

int64_t cgen_circuit_scratch(const cgen_options *o, const ir_node *n)
{
	cgc_plan p;
	if (cgc_make(o, n, &p) || p.batch == 0)
		return 0;
	if (p.quantum)
		return (2 * p.D + CGC_STAGE_WORK(p.q)) * (int64_t)sizeof(double);
	return 2 * p.D * p.bt * (int64_t)sizeof(double);
}

/* Shape checks the emitters rely on: X [..., cols], Y [..., rows] with the
 * same leading dims, B [rows], X, B and Y of one float dtype. */
static int cgc_check_shapes(cgen *cg, ir_node *n, const stage_circuit *sc)
{
	const ir_value *x = n->in[0], *y = n->out[0], *b = n->nin > 2 ? n->in[2] : NULL;
	if (!x || !y)
		return ir_error(cg->g, n, "Circuit needs X and Y");
	if (x->dtype != IR_F32 && x->dtype != IR_F64)
		return ir_error(cg->g, n, "X must be f32 or f64, not %s", ir_dtype_name(x->dtype));
	int r = x->shape.rank;
	int64_t rows = sc->d.rows, cols = sc->d.cols;
	if (r < 1 || x->shape.d[r - 1].v != cols || y->dtype != x->dtype || y->shape.rank != r ||
	    y->shape.d[r - 1].v != rows)
		return ir_error(cg->g, n, "X must be [..., %lld] and Y [..., %lld] of one dtype", (long long)cols,
				(long long)rows);
	for (int i = 0; i + 1 < r; i++)
		if (y->shape.d[i].v != x->shape.d[i].v)
			return ir_error(cg->g, n, "Y's leading dims differ from X's");
	if (b && (b->dtype != x->dtype || cg_numel(b) != rows))
		return ir_error(cg->g, n, "B must be %lld values of X's dtype", (long long)rows);
	return 0;
}

/* ------------------------------------------------------------ classical */

/* The kernel for k-qubit gates on blocks of 2^k × M: for h < nh,
 * s[h][a][m] ← Σ_b g[a][b] s[h][b][m]; t holds one block. */
static void cgc_kernel(cgen *cg, const char *fn, int k, int64_t M)
{
	int64_t d = (int64_t)1 << k;
	cg_printf(cg, "static void %s_k%dm%" PRId64 "(double *restrict s, double *restrict t, "
		  "const double *restrict g, int nh)\n{\n", fn, k, M);
	cg_printf(cg, "\tfor (int h = 0; h < nh; h++) {\n\t\tdouble *restrict p = s + h * %" PRId64 ";\n", d * M);
	if (M == 1) {
		cg_printf(cg, "\t\tfor (int b = 0; b < %" PRId64 "; b++)\n\t\t\tt[b] = p[b];\n", d);
		cg_printf(cg, "\t\tfor (int a = 0; a < %" PRId64 "; a++) {\n\t\t\tdouble acc = 0.0;\n"
			  "\t\t\tfor (int b = 0; b < %" PRId64 "; b++)\n\t\t\t\tacc += g[a * %" PRId64 " + b] * t[b];\n"
			  "\t\t\tp[a] = acc;\n\t\t}\n\t}\n}\n\n", d, d, d);
		return;
	}
	cg_printf(cg, "\t\tmemcpy(t, p, sizeof(double) * %" PRId64 ");\n", d * M);
	cg_printf(cg, "\t\tfor (int a = 0; a < %" PRId64 "; a++) {\n", d);
	cg_printf(cg, "\t\t\tdouble *restrict pa = p + a * %" PRId64 ";\n", M);
	cg_printf(cg, "\t\t\tconst double *restrict ga = g + a * %" PRId64 ";\n", d);
	cg_for_split(cg, "\t\t\t", "m", 0, M, "pa[m] = ga[0] * t[m];");
	cg_printf(cg, "\t\t\tfor (int b = 1; b < %" PRId64 "; b++) {\n\t\t\t\tconst double w = ga[b];\n"
		  "\t\t\t\tconst double *restrict tb = t + b * %" PRId64 ";\n", d, M);
	cg_for_split(cg, "\t\t\t\t", "m", 0, M, "pa[m] += w * tb[m];");
	cg_printf(cg, "\t\t\t}\n\t\t}\n\t}\n}\n\n");
}

/* The calls applying Q's gates to the tile, in application order. */
static void cgc_gates(cgen *cg, const char *fn, const stage_circuit *sc, const cgc_plan *p)
{
	const circuit_desc *d = &sc->d;
	int64_t off = 0;
	for (int i = 0; i < d->ngates; i++) {
		int j = d->transpose ? d->ngates - 1 - i : i, k = d->ks[j], site = d->sites[j];
		int64_t M = ((int64_t)1 << (p->q - site - k)) * p->bt;
		cg_printf(cg, "\t\t%s_k%dm%" PRId64 "(s, t, %s_g + %" PRId64 ", %" PRId64 ");\n", fn, k, M, fn, off,
			  (int64_t)1 << site);
		off += (int64_t)1 << (2 * k);
	}
}

static int cgc_classical(cgen *cg, ir_node *n, const stage_circuit *sc, const cgc_plan *p)
{
	char fn[32];
	const circuit_desc *dc = &sc->d;
	int ng = dc->ngates;
	cg_fn_name(n, fn, sizeof fn);
	cg_printf(cg, "/* %d gates on %d qubits (%s), %d -> %d columns; batch %" PRId64 " in tiles of %" PRId64
		  " */\n", ng, p->q, dc->transpose ? "Cᵀ: reversed, each transposed" : "C", p->cols, p->rows,
		  p->batch, p->bt);
	if (ng > 0 && p->batch > 0) {
		/* the gates of Q in application order */
		char lit[64];
		cg_printf(cg, "static const double %s_g[%" PRId64 "] = {", fn, dc->off[ng]);
		int64_t e = 0;
		for (int i = 0; i < ng; i++) {
			int j = dc->transpose ? ng - 1 - i : i;
			const double *m = sc->G + dc->off[j];
			int64_t d = (int64_t)1 << dc->ks[j];
			for (int64_t a = 0; a < d; a++)
				for (int64_t b = 0; b < d; b++, e++)
					cg_printf(cg, "%s%s,", e % 8 ? " " : "\n\t",
						  cg_literal(IR_F64, dc->transpose ? m[b * d + a] : m[a * d + b], lit,
							     sizeof lit));
		}
		cg_printf(cg, "\n};\n\n");
		/* one kernel per distinct (k, M): M depends on the last site */
		for (int i = 0; i < ng; i++) {
			int seen = 0;
			for (int j = 0; j < i && !seen; j++)
				seen = dc->ks[j] == dc->ks[i] && dc->sites[j] == dc->sites[i];
			if (!seen)
				cgc_kernel(cg, fn, dc->ks[i], ((int64_t)1 << (p->q - dc->sites[i] - dc->ks[i])) * p->bt);
		}
	}
	cg_begin_fn(cg, n);
	if (p->batch == 0) {
		cg_void_params(cg, n);
		cg_printf(cg, "}\n");
		return 0;
	}
	const char *T = ir_dtype_c_type(n->in[0]->dtype);
	const char *bias = n->nin > 2 && n->in[2] ? " + (double)x2[i]" : "";
	int64_t D = p->D, bt = p->bt;
	cg_printf(cg, "\tdouble *restrict s = (double *)scratch;\n");
	if (ng > 0)
		cg_printf(cg, "\tdouble *restrict t = s + %" PRId64 ";\n", D * bt);
	cg_printf(cg, "\t(void)x1; /* G is baked into the code */\n");
	int tiled = bt < p->batch, partial = p->batch % bt != 0;
	if (tiled)
		cg_printf(cg, "\tfor (int b0 = 0; b0 < %" PRId64 "; b0 += %" PRId64 ") {\n", p->batch, bt);
	else
		cg_printf(cg, "\t{\n");
	/* S: the tile transposed (column j, then lane), zero-padded */
	char xrow[64], yrow[64];
	if (bt == 1) {
		xrow[0] = yrow[0] = 0;
		if (tiled) {
			snprintf(xrow, sizeof xrow, "b0 * %d + ", p->cols);
			snprintf(yrow, sizeof yrow, "b0 * %d + ", p->rows);
		}
		cg_printf(cg, "\t\tfor (int j = 0; j < %d; j++)\n\t\t\ts[j] = (double)x0[%sj];\n", p->cols, xrow);
		if (p->cols < D)
			cg_printf(cg, "\t\tmemset(s + %d, 0, sizeof(double) * %" PRId64 ");\n", p->cols, D - p->cols);
	} else {
		char nb[32];
		if (partial)
			snprintf(nb, sizeof nb, "nb");
		else
			snprintf(nb, sizeof nb, "%" PRId64, bt);
		if (partial)
			cg_printf(cg, "\t\tconst int nb = %" PRId64 " - b0 < %" PRId64 " ? %" PRId64 " - b0 : %" PRId64
				  ";\n", p->batch, bt, p->batch, bt);
		if (p->cols < D || partial)
			cg_printf(cg, "\t\tmemset(s, 0, sizeof(double) * %" PRId64 ");\n", D * bt);
		snprintf(xrow, sizeof xrow, "%sl%s * %d + ", tiled ? "(b0 + " : "", tiled ? ")" : "", p->cols);
		cg_printf(cg, "\t\tfor (int l = 0; l < %s; l++)\n\t\t\tfor (int j = 0; j < %d; j++)\n"
			  "\t\t\t\ts[j * %" PRId64 " + l] = (double)x0[%sj];\n", nb, p->cols, bt, xrow);
		snprintf(yrow, sizeof yrow, "%sl%s * %d + ", tiled ? "(b0 + " : "", tiled ? ")" : "", p->rows);
		cgc_gates(cg, fn, sc, p);
		cg_printf(cg, "\t\tfor (int l = 0; l < %s; l++)\n\t\t\tfor (int i = 0; i < %d; i++)\n"
			  "\t\t\t\ty0[%si] = (%s)(s[i * %" PRId64 " + l]%s);\n\t}\n}\n",
			  nb, p->rows, yrow, T, bt, bias);
		return 0;
	}
	cgc_gates(cg, fn, sc, p);
	cg_printf(cg, "\t\tfor (int i = 0; i < %d; i++)\n\t\t\ty0[%si] = (%s)(s[i]%s);\n\t}\n}\n", p->rows, yrow,
		  T, bias);
	return 0;
}

/* ------------------------------------------------------------ quantum */

/* static const char NAME[] = the text: concatenated string literals, one
 * per line, while C99's 4095-character guarantee for a literal holds,
 * else a brace list of character codes (stage programs run to megabytes). */
static void cgc_text(cgen *cg, const char *name, const char *text, size_t len)
{
	cg_printf(cg, "static const char %s[] =", name);
	if (len <= CGC_MAX_LITERAL) {
		int open = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)text[i];
			if (!open)
				cg_printf(cg, "\n\t\"");
			open = 1;
			if (ch == '\n') {
				cg_printf(cg, "\\n\"");
				open = 0;
			} else if (ch == '"' || ch == '\\' || ch == '?') { /* '?': no trigraphs */
				cg_printf(cg, "\\%c", ch);
			} else if (ch < 32 || ch > 126) {
				cg_printf(cg, "\\%03o", ch);
			} else {
				cg_printf(cg, "%c", ch);
			}
		}
		cg_printf(cg, "%s;\n", open ? "\"" : len ? "" : " \"\"");
		return;
	}
	cg_printf(cg, " {");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 128)
			cg_printf(cg, "%s%d,", i % 20 ? " " : "\n\t", ch);
		else /* a negative value suits a signed and an unsigned char */
			cg_printf(cg, "%s(char)-%d,", i % 20 ? " " : "\n\t", 256 - ch);
	}
	cg_printf(cg, "\n};\n");
}

static int cgc_quantum(cgen *cg, ir_node *n, const stage_circuit *sc, const cgc_plan *p)
{
	char name[64], lit[64];
	int S = sc->d.stage;
	if (p->batch == 0) {
		cg_begin_fn(cg, n);
		cg_void_params(cg, n);
		cg_printf(cg, "\t(void)ctx;\n\treturn 0;\n}\n");
		return 0;
	}
	char *text;
	size_t len;
	double *ref;
	qasm_stats qs;
	if (stage_program(cg->g, n, cg->o->isa, &text, &len, &ref, &qs))
		return -1;
	cg_printf(cg, "/* Quantum stage %d (%s): %d data qubits and an ancilla, %ld cx and %ld one-qubit gates "
		  "(state preparation %ld and %ld); the program is the driver's OUT.stage%d.qasm. */\n",
		  S, sc->d.transpose ? "Cᵀ" : "C", p->q, qs.cx, qs.oneq, qs.prep_cx, qs.prep_oneq, S);
	snprintf(name, sizeof name, "stage%d_program", S);
	cgc_text(cg, name, text, len);
	cg_printf(cg, "/* r = Qᵀu, u_j = 2^(-%d/2) */\nstatic const double stage%d_ref[%" PRId64 "] = {", p->q, S, p->D);
	for (int64_t i = 0; i < p->D; i++)
		cg_printf(cg, "%s%s,", i % 8 ? " " : "\n\t", cg_literal(IR_F64, ref[i], lit, sizeof lit));
	cg_printf(cg, "\n};\nstatic const qnn_stage stage%d = {stage%d_program, %zu, %d, stage%d_ref};\n", S, S, len,
		  p->q, S);
	free(text);
	free(ref);
	cg_printf(cg, "/* the scratch below holds runtime/qnnrt.h's stage workspace */\n"
		  "typedef char stage%d_work_fits[QNN_STAGE_WORK(%d) <= %" PRId64 " ? 1 : -1];\n\n", S, p->q,
		  CGC_STAGE_WORK(p->q));
	if (!(cg->helpers & CG_HELPER_STAGE_SEED)) {
		cg->helpers |= CG_HELPER_STAGE_SEED;
		cg_printf(cg, "/* splitmix64: stage_mix(stage_mix(ctx->seed) + ctx->calls) seeds each stage run. */\n"
			  "static uint64_t stage_mix(uint64_t z)\n{\n\tz += UINT64_C(0x9e3779b97f4a7c15);\n"
			  "\tz = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);\n"
			  "\tz = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);\n\treturn z ^ (z >> 31);\n}\n\n");
	}
	const char *T = ir_dtype_c_type(n->in[0]->dtype);
	cg_begin_fn(cg, n);
	cg_printf(cg, "\tdouble *restrict xs = (double *)scratch;\n\tdouble *restrict ys = xs + %" PRId64 ";\n"
		  "\tdouble *restrict work = ys + %" PRId64 ";\n\t(void)x1; /* in stage%d_program */\n", p->D, p->D, S);
	cg_printf(cg, "\tfor (int b = 0; b < %" PRId64 "; b++) {\n", p->batch);
	cg_printf(cg, "\t\tfor (int j = 0; j < %d; j++)\n\t\t\txs[j] = (double)x0[b * %d + j];\n", p->cols, p->cols);
	if (p->cols < p->D)
		cg_printf(cg, "\t\tmemset(xs + %d, 0, sizeof(double) * %" PRId64 ");\n", p->cols, p->D - p->cols);
	cg_printf(cg, "\t\tconst uint64_t seed = stage_mix(stage_mix(ctx->seed) + ctx->calls++);\n"
		  "\t\tconst int rc = qnn_stage_run(&stage%d, ctx->executor, (qnn_readout)ctx->readout, ctx->shots,\n"
		  "\t\t\t\t\t     seed, xs, ys, work, ctx->err, sizeof ctx->err);\n"
		  "\t\tif (rc)\n\t\t\treturn rc;\n", S);
	cg_printf(cg, "\t\tfor (int i = 0; i < %d; i++)\n\t\t\ty0[b * %d + i] = (%s)(ys[i]%s);\n\t}\n\treturn 0;\n}\n",
		  p->rows, p->rows, T, n->nin > 2 && n->in[2] ? " + (double)x2[i]" : "");
	return 0;
}

int cgen_circuit(cgen *cg, ir_node *n)
{
	stage_circuit sc;
	cgc_plan p;
	int rc = -1;
	if (stage_circuit_of(cg->g, n, &sc) || cgc_check_shapes(cg, n, &sc) || cg_fits_int(cg, n))
		goto out;
	if (cgc_make(cg->o, n, &p)) {
		ir_error(cg->g, n, "%d qubits: the node's %s buffers exceed the C backend's int indices", sc.d.q,
			 p.quantum ? "quantum stage" : "state");
		goto out;
	}
	rc = p.quantum ? cgc_quantum(cg, n, &sc, &p) : cgc_classical(cg, n, &sc, &p);
out:
	stage_circuit_free(&sc);
	return rc;
}
