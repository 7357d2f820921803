/* cgen.c - the C backend driver: storage planning and the model's entry
 * points. Per-node code comes from backend/cgen_<family>.c.
 *
 * Storage: graph inputs and outputs are the caller's pointers; constants
 * are static const arrays; every other value lives in the context's
 * workspace at an offset chosen by liveness (first-fit over the intervals
 * [defining node, last use]), so buffers are reused and nothing is
 * allocated at run time. Pure views (Reshape, Flatten, Squeeze,
 * Unsqueeze, Identity, inference Dropout) emit no code: their output
 * shares its input's storage.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const cgen_fn family_emit[IR_OP_COUNT] = {
#define OP(id, family, minin, maxin, minout, maxout, doc) cgen_##family,
#include "../ir/ops.def"
#undef OP
};

/* Families with per-node scratch memory (see cgen_internal.h). */
static int64_t (*const family_scratch[IR_OP_COUNT])(const ir_node *n) = {
	[IR_OP_MpoLinear] = cgen_mpolayer_scratch,
};

/* ------------------------------------------------------------ helpers */

int64_t cg_scratch_bytes(const cgen_options *o, const ir_node *n)
{
	if (n->op == IR_OP_Circuit)
		return cgen_circuit_scratch(o, n);
	return family_scratch[n->op] ? family_scratch[n->op](n) : 0;
}

void cg_printf(cgen *cg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(cg->c, fmt, ap);
	va_end(ap);
}

const char *cg_fn_name(const ir_node *n, char *buf, size_t len)
{
	snprintf(buf, len, "n%d", n->id);
	return buf;
}

void cg_begin_fn(cgen *cg, ir_node *n)
{
	char fn[32];
	int first = 1, quantum = cgen_circuit_quantum(cg->o, n);
	cg_printf(cg, "static %s %s(", quantum ? "int" : "void", cg_fn_name(n, fn, sizeof fn));
	for (int i = 0; i < n->nin; i++) {
		if (!n->in[i])
			continue;
		cg_printf(cg, "%sconst %s *restrict x%d", first ? "" : ", ", ir_dtype_c_type(n->in[i]->dtype), i);
		first = 0;
	}
	for (int j = 0; j < n->nout; j++) {
		if (!n->out[j])
			continue;
		cg_printf(cg, "%s%s *restrict y%d", first ? "" : ", ", ir_dtype_c_type(n->out[j]->dtype), j);
		first = 0;
	}
	if (cg_scratch_bytes(cg->o, n) > 0) {
		cg_printf(cg, "%svoid *restrict scratch", first ? "" : ", ");
		first = 0;
	}
	if (quantum) {
		cg_printf(cg, "%s%s_ctx *ctx", first ? "" : ", ", cg->o->name);
		first = 0;
	}
	if (first)
		cg_printf(cg, "void");
	cg_printf(cg, ")\n{\n");
}

const char *cg_literal(ir_dtype t, double v, char *buf, size_t len)
{
	if (ir_dtype_is_float(t)) {
		const char *suf = t == IR_F32 ? "f" : "";
		if (isnan(v))
			snprintf(buf, len, "%s", t == IR_F32 ? "NAN" : "(double)NAN");
		else if (isinf(v))
			snprintf(buf, len, "%s%s", v < 0 ? "-" : "", t == IR_F32 ? "INFINITY" : "(double)INFINITY");
		else if (v == 0)
			snprintf(buf, len, "%s0.0%s", signbit(v) ? "-" : "", suf);
		else if (t == IR_F32)
			snprintf(buf, len, "%af", (double)(float)v);
		else
			snprintf(buf, len, "%a", v);
		return buf;
	}
	switch (t) {
	case IR_I64:
		if (v <= -9223372036854775807.0)
			snprintf(buf, len, "INT64_MIN");
		else
			snprintf(buf, len, "INT64_C(%" PRId64 ")", (int64_t)v);
		break;
	case IR_U64: snprintf(buf, len, "UINT64_C(%" PRIu64 ")", (uint64_t)v); break;
	case IR_U32: snprintf(buf, len, "%" PRIu32 "u", (uint32_t)v); break;
	case IR_I32:
		if ((int32_t)v == INT32_MIN)
			snprintf(buf, len, "INT32_MIN");
		else
			snprintf(buf, len, "%" PRId32, (int32_t)v);
		break;
	default: snprintf(buf, len, "%lld", (long long)v); break;
	}
	return buf;
}

const char *cg_tensor_literal(const ir_tensor *t, int64_t i, char *buf, size_t len)
{
	if (t->dtype == IR_I64) {
		int64_t x = ((const int64_t *)t->data)[i];
		if (x == INT64_MIN)
			snprintf(buf, len, "INT64_MIN");
		else
			snprintf(buf, len, "INT64_C(%" PRId64 ")", x);
		return buf;
	}
	if (t->dtype == IR_U64) {
		snprintf(buf, len, "UINT64_C(%" PRIu64 ")", ((const uint64_t *)t->data)[i]);
		return buf;
	}
	return cg_literal(t->dtype, ir_tensor_get_f64(t, i), buf, len);
}

void cg_const_array(cgen *cg, const char *name, const ir_tensor *t)
{
	char lit[64];
	cg_printf(cg, "static const %s %s[%" PRId64 "] = {", ir_dtype_c_type(t->dtype), name,
		  t->numel ? t->numel : 1);
	for (int64_t i = 0; i < t->numel; i++)
		cg_printf(cg, "%s%s,", i % 8 ? " " : "\n\t", cg_tensor_literal(t, i, lit, sizeof lit));
	if (!t->numel)
		cg_printf(cg, "0");
	cg_printf(cg, "\n};\n");
}

int cg_dims(const ir_value *v, int64_t *dims)
{
	IR_ASSERT(ir_shape_known(&v->shape));
	for (int i = 0; i < v->shape.rank; i++)
		dims[i] = v->shape.d[i].v;
	return v->shape.rank;
}

int64_t cg_numel(const ir_value *v)
{
	int64_t n = ir_shape_numel(&v->shape);
	IR_ASSERT(n >= 0);
	return n;
}

/* ---------------------------------------------------------- storage */

enum { ST_NONE, ST_IN, ST_OUT, ST_CONST, ST_WORK };

typedef struct storage {
	int kind;
	int index;      /* input/output position */
	int root;       /* value id whose storage this value shares */
	int64_t offset; /* ST_WORK: byte offset */
	int64_t bytes;
	int start, end; /* ST_WORK roots: live interval in node indices */
} storage;

static int is_view(const ir_node *n)
{
	switch (n->op) {
	case IR_OP_Reshape: case IR_OP_Flatten: case IR_OP_Squeeze: case IR_OP_Unsqueeze:
	case IR_OP_Identity:
		return 1;
	case IR_OP_Dropout:
		return n->nout < 2 || !n->out[1];
	default:
		return 0;
	}
}

static int64_t align64(int64_t x) { return (x + 63) & ~(int64_t)63; }

/* Plan storage; returns the workspace size in bytes or -1. st has an entry
 * per value, then one per node for its scratch (st[nvalues + k]). */
static int64_t plan(ir_graph *g, const cgen_options *o, storage *st)
{
	for (int k = 0; k < g->nnodes; k++) {
		storage *s = &st[g->nvalues + k];
		s->root = g->nvalues + k;
		s->bytes = is_view(g->nodes[k]) ? 0 : cg_scratch_bytes(o, g->nodes[k]);
		s->kind = s->bytes > 0 ? ST_WORK : ST_NONE;
		s->start = s->end = s->bytes > 0 ? k : -1; /* live during its node only */
	}
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		st[i].root = i;
		st[i].start = st[i].end = -1;
		st[i].kind = v->konst ? ST_CONST : ST_WORK;
		st[i].bytes = ir_shape_known(&v->shape) ? ir_shape_numel(&v->shape) * (int64_t)ir_dtype_size(v->dtype) : 0;
	}
	for (int i = 0; i < g->ninputs; i++) {
		st[g->inputs[i]->id].kind = ST_IN;
		st[g->inputs[i]->id].index = i;
	}
	for (int i = 0; i < g->noutputs; i++) {
		ir_value *v = g->outputs[i];
		if (st[v->id].kind == ST_WORK) {
			st[v->id].kind = ST_OUT;
			st[v->id].index = i;
		}
	}
	/* Views share their input's storage unless the output is the caller's. */
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		if (!is_view(n))
			continue;
		storage *o = &st[n->out[0]->id];
		if (o->kind != ST_WORK)
			continue;
		int r = st[n->in[0]->id].root;
		o->root = r;
		o->kind = st[r].kind;
		o->index = st[r].index;
	}
	/* Live intervals of workspace roots. */
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		for (int j = 0; j < n->nout; j++) {
			if (!n->out[j])
				continue;
			storage *r = &st[st[n->out[j]->id].root];
			if (r->kind == ST_WORK && r->start < 0)
				r->start = k;
			if (r->kind == ST_WORK && r->end < k)
				r->end = k;
		}
		for (int j = 0; j < n->nin; j++) {
			if (!n->in[j])
				continue;
			storage *r = &st[st[n->in[j]->id].root];
			if (r->kind == ST_WORK && r->end < k)
				r->end = k;
		}
	}
	/* First fit in order of definition. */
	int *order = malloc(((size_t)g->nvalues + (size_t)g->nnodes + 1) * sizeof *order);
	int nord = 0;
	int64_t total = 0;
	if (!order)
		return ir_error(g, NULL, "out of memory");
	for (int i = 0; i < g->nvalues + g->nnodes; i++)
		if (st[i].kind == ST_WORK && st[i].root == i && st[i].start >= 0)
			order[nord++] = i;
	for (int a = 0; a < nord; a++) {
		storage *s = &st[order[a]];
		int64_t off = 0;
		for (int again = 1; again;) {
			again = 0;
			for (int b = 0; b < a; b++) {
				storage *t = &st[order[b]];
				if (t->end < s->start || s->end < t->start)
					continue; /* lifetimes disjoint */
				if (off < t->offset + align64(t->bytes) && t->offset < off + align64(s->bytes)) {
					off = t->offset + align64(t->bytes);
					again = 1;
				}
			}
		}
		s->offset = off;
		if (off + align64(s->bytes) > total)
			total = off + align64(s->bytes);
	}
	free(order);
	return total;
}

/* The parameters xJ (J < 64) of an emitted function that are never read:
 * every occurrence of the identifier is the declaration or a "(void)xJ;".
 * One pass over the text, past numbers (the "x1" of 0x1.8p+1), string
 * and character literals and comments. */
static uint64_t params_unread(const char *text)
{
	int uses[64] = {0}, voids[64] = {0};
	for (const char *p = text; *p;) {
		if ((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')) {
			/* a preprocessing number: digits, letters, '.', e+ p- */
			for (p++; *p; p++)
				if ((*p == '+' || *p == '-') && strchr("eEpP", p[-1]))
					continue;
				else if (!(*p == '_' || *p == '.' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					   (*p >= '0' && *p <= '9')))
					break;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			char quote = *p++;
			while (*p && *p != quote)
				p += p[0] == '\\' && p[1] ? 2 : 1;
			p += *p != 0;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
			continue;
		}
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
			p++;
			continue;
		}
		const char *q = p;
		while (*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))
			q++;
		if (*p == 'x' && q - p >= 2 && q - p <= 3) {
			int j = 0, digits = 1;
			for (const char *d = p + 1; d < q; d++) {
				digits &= *d >= '0' && *d <= '9';
				j = j * 10 + (*d - '0');
			}
			if (digits && j < 64) {
				uses[j]++;
				if (p - text >= 6 && !strncmp(p - 6, "(void)", 6) && *q == ';')
					voids[j]++;
			}
		}
		p = q;
	}
	uint64_t m = 0;
	for (int j = 0; j < 64; j++)
		if (uses[j] && uses[j] == voids[j] + 1)
			m |= (uint64_t)1 << j;
	return m;
}

/* A C identifier for a graph input/output parameter. */
static void param_name(const char *prefix, int i, const char *name, char *buf, size_t n)
{
	size_t k = (size_t)snprintf(buf, n, "%s%d_", prefix, i);
	for (const char *p = name; *p && k + 1 < n && k < 48; p++)
		buf[k++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) ? *p : '_';
	buf[k] = 0;
}

/* The C expression for value v's storage inside NAME_run. */
static void value_expr(ir_graph *g, const storage *st, const ir_value *v, char *buf, size_t n)
{
	const storage *s = &st[v->id];
	const storage *r = &st[s->root];
	const ir_value *rv = g->values[s->root];
	const char *ct = ir_dtype_c_type(v->dtype);
	char pn[96];
	switch (r->kind) {
	case ST_IN:
		param_name("in", r->index, g->inputs[r->index]->name, pn, sizeof pn);
		if (rv->dtype == v->dtype)
			snprintf(buf, n, "%s", pn);
		else
			snprintf(buf, n, "(const %s *)(const void *)%s", ct, pn);
		break;
	case ST_OUT:
		param_name("out", r->index, g->outputs[r->index]->name, pn, sizeof pn);
		snprintf(buf, n, "%s", pn);
		break;
	case ST_CONST:
		if (rv->konst->numel)
			snprintf(buf, n, "c%d", s->root);
		else
			snprintf(buf, n, "(const %s *)0", ct);
		break;
	case ST_WORK:
		snprintf(buf, n, "(%s *)(void *)(ctx->work.bytes + %" PRId64 ")", ct, r->offset);
		break;
	default:
		IR_UNREACHABLE();
	}
}

/* The options of the quantum stages, and *quantum = 1 when the graph has
 * one. Stage numbers name the embedded programs (stageN_program, like the
 * driver's OUT.stageN.qasm), so they must be distinct. */
static int stages_check(ir_graph *g, const cgen_options *o, int *quantum)
{
	if (o->readout != 0 && o->readout != 1)
		return ir_error(g, NULL, "unknown read-out mode %d (0: exact, 1: shots)", o->readout);
	if (o->shots < 0)
		return ir_error(g, NULL, "%ld shots: expected a positive count", o->shots);
	*quantum = 0;
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		if (!cgen_circuit_quantum(o, n))
			continue;
		*quantum = 1;
		int64_t s = ir_attr_int(n, "stage", -1);
		for (int j = 0; j < k; j++)
			if (cgen_circuit_quantum(o, g->nodes[j]) && ir_attr_int(g->nodes[j], "stage", -1) == s)
				return ir_error(g, n, "quantum stage %lld is also node '%s'; stage numbers must be distinct",
						(long long)s, g->nodes[j]->name);
	}
	return 0;
}

static void header_doc_value(FILE *h, const ir_value *v, const char *param)
{
	char s[256];
	fprintf(h, " *   %-24s %s %s  (\"%s\")\n", param, ir_dtype_name(v->dtype), ir_shape_str(&v->shape, s, sizeof s),
		v->name);
}

int cgen_emit(ir_graph *g, const cgen_options *o, const char *header_name, FILE *c, FILE *h)
{
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (!ir_shape_known(&v->shape) || v->dtype == IR_UNDEF) {
			char s[256];
			return ir_error(g, v->def, "value '%s' has shape %s; the C backend needs static shapes (use --dim)",
					v->name, ir_shape_str(&v->shape, s, sizeof s));
		}
	}
	int quantum = 0;
	if (stages_check(g, o, &quantum))
		return -1;
	storage *st = calloc((size_t)g->nvalues + (size_t)g->nnodes + 1, sizeof *st);
	if (!st)
		return ir_error(g, NULL, "out of memory");
	int64_t work = plan(g, o, st);
	if (work < 0) {
		free(st);
		return -1;
	}
	cgen cg = {g, o, c, 0};
	const char *N = o->name;

	/* ---- header */
	char guard[256];
	size_t k = 0;
	for (const char *p = N; *p && k + 3 < sizeof guard; p++)
		guard[k++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	guard[k] = 0;
	fprintf(h, "/* %s - generated by qnnc %s from %s. Do not edit.\n *\n", header_name, QNNC_VERSION, g->source);
	fprintf(h, " * int %s_run(%s_ctx *ctx, inputs..., outputs...)\n", N, N);
	fprintf(h, " *   runs the model; ctx may be NULL (then a static default context is used,\n"
		   " *   which is not thread-safe); returns 0 on success%s.\n *\n * Inputs:\n",
		quantum ? ",\n *   or the negative QNN_E* code of a failed quantum stage (message in\n"
			  " *   ctx->err; qnn_strerror names the code)" : "");
	char pn[96];
	for (int i = 0; i < g->ninputs; i++) {
		param_name("in", i, g->inputs[i]->name, pn, sizeof pn);
		header_doc_value(h, g->inputs[i], pn);
	}
	fprintf(h, " * Outputs:\n");
	for (int i = 0; i < g->noutputs; i++) {
		param_name("out", i, g->outputs[i]->name, pn, sizeof pn);
		header_doc_value(h, g->outputs[i], pn);
	}
	fprintf(h, " * Buffers are row-major (C order) and must not overlap.\n */\n");
	fprintf(h, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n", guard, guard);
	if (quantum)
		fprintf(h, "#include \"qnnrt.h\"\n\n");
	fprintf(h, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
	for (int i = 0; i < g->ninputs; i++)
		fprintf(h, "#define %s_IN%d_SIZE %" PRId64 "\n", guard, i, cg_numel(g->inputs[i]));
	for (int i = 0; i < g->noutputs; i++)
		fprintf(h, "#define %s_OUT%d_SIZE %" PRId64 "\n", guard, i, cg_numel(g->outputs[i]));
	fprintf(h, "#define %s_WORKSPACE_BYTES %" PRId64 "\n\n", guard, work);
	if (quantum) {
		fprintf(h, "/* Per-call state: how the quantum stages run, and the workspace for\n"
			   " * intermediate tensors. Large; allocate it statically or on the heap,\n"
			   " * one per thread. %s_init sets the defaults; change them after it. */\n", N);
		fprintf(h, "typedef struct %s_ctx {\n"
			   "\tconst qnn_executor *executor; /* runs the stage programs (NULL: the default) */\n"
			   "\tint readout;     /* QNN_READOUT_EXACT (simulators only) or QNN_READOUT_SHOTS */\n"
			   "\tlong shots;      /* samples per stage run with QNN_READOUT_SHOTS */\n"
			   "\tuint64_t seed;   /* stage run i samples with a seed mixed from seed and\n"
			   "\t                    calls = i; equal (seed, calls) give equal results */\n"
			   "\tuint64_t calls;  /* stage runs so far (one per stage per vector) */\n"
			   "\tchar err[256];   /* diagnostic of the last failed stage run */\n", N);
	} else {
		fprintf(h, "/* Per-call state: the workspace for intermediate tensors. Large;\n"
			   " * allocate it statically or on the heap, one per thread. */\n");
		fprintf(h, "typedef struct %s_ctx {\n", N);
	}
	fprintf(h, "\tunion {\n\t\tunsigned char bytes[%" PRId64 "];\n"
		   "\t\tdouble align_;\n\t} work;\n} %s_ctx;\n\n", work ? work : 1, N);
	fprintf(h, "/* Fill ctx with the defaults. */\nvoid %s_init(%s_ctx *ctx);\n\n", N, N);
	fprintf(h, "int %s_run(%s_ctx *ctx", N, N);
	for (int i = 0; i < g->ninputs; i++) {
		param_name("in", i, g->inputs[i]->name, pn, sizeof pn);
		fprintf(h, ",\n\tconst %s *%s", ir_dtype_c_type(g->inputs[i]->dtype), pn);
	}
	for (int i = 0; i < g->noutputs; i++) {
		param_name("out", i, g->outputs[i]->name, pn, sizeof pn);
		fprintf(h, ",\n\t%s *%s", ir_dtype_c_type(g->outputs[i]->dtype), pn);
	}
	fprintf(h, ");\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");

	/* ---- source */
	cg_printf(&cg, "/* Generated by qnnc %s from %s. Do not edit. */\n", QNNC_VERSION, g->source);
	cg_printf(&cg, "#include \"%s\"\n\n#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n", header_name);
	/* Node functions are emitted into memory first: an emitter that bakes
	 * a constant input into its own tables (a re-laid-out Gemm weight, BN
	 * parameters) leaves that parameter unread, and a constant that no
	 * function reads is then not emitted at all. */
	char **text = calloc((size_t)g->nnodes + 1, sizeof *text);
	uint64_t *unread = calloc((size_t)g->nnodes + 1, sizeof *unread);
	int rc = 0;
	for (int kk = 0; kk < g->nnodes && !rc; kk++) {
		ir_node *n = g->nodes[kk];
		if (is_view(n) && st[n->out[0]->id].root != n->out[0]->id)
			continue;
		size_t len = 0;
		FILE *mem = open_memstream(&text[kk], &len);
		if (!mem) {
			rc = ir_error(g, n, "out of memory");
			break;
		}
		cg.c = mem;
		cg_printf(&cg, "/* node '%s' (%s) */\n", n->name, ir_ops[n->op].name);
		rc = family_emit[n->op](&cg, n);
		cg_printf(&cg, "\n");
		fclose(mem);
		cg.c = c;
		unread[kk] = params_unread(text[kk]);
		for (int j = 0; j < n->nin && j < 64; j++)
			if (!n->in[j])
				unread[kk] &= ~((uint64_t)1 << j);
	}
	char *used = calloc((size_t)g->nvalues + 1, 1);
	for (int kk = 0; kk < g->nnodes; kk++) {
		ir_node *n = g->nodes[kk];
		/* a view without code reads only its data input */
		int skipped = is_view(n) && st[n->out[0]->id].root != n->out[0]->id;
		for (int j = 0; j < (skipped ? 1 : n->nin); j++)
			if (n->in[j] && !(j < 64 && (unread[kk] >> j & 1)))
				used[st[n->in[j]->id].root] = 1;
	}
	for (int i = 0; i < g->noutputs; i++)
		used[st[g->outputs[i]->id].root] = 1;
	for (int i = 0; i < g->nvalues && !rc; i++) {
		ir_value *v = g->values[i];
		if (!used[i] || st[i].kind != ST_CONST || st[i].root != i || !v->konst->numel)
			continue;
		char nm[32];
		snprintf(nm, sizeof nm, "c%d", i);
		cg_printf(&cg, "/* constant '%s' */\n", v->name);
		cg_const_array(&cg, nm, v->konst);
	}
	free(used);
	cg_printf(&cg, "\n");
	for (int kk = 0; kk < g->nnodes; kk++) {
		if (text[kk] && !rc)
			fputs(text[kk], c);
		free(text[kk]);
	}
	free(text);
	if (rc) {
		free(unread);
		free(st);
		return -1;
	}

	cg_printf(&cg, "static %s_ctx %s_default_ctx;\n", N, N);
	if (quantum) {
		cg_printf(&cg, "static int %s_default_ready;\n\n", N);
		cg_printf(&cg, "void %s_init(%s_ctx *ctx)\n{\n\tctx->executor = qnn_executor_default();\n"
			  "\tctx->readout = %s;\n\tctx->shots = %ld;\n\tctx->seed = 0;\n\tctx->calls = 0;\n"
			  "\tctx->err[0] = 0;\n}\n\n", N, N,
			  o->readout == 1 ? "QNN_READOUT_SHOTS" : "QNN_READOUT_EXACT", o->shots ? o->shots : 1000L);
	} else {
		cg_printf(&cg, "\nvoid %s_init(%s_ctx *ctx)\n{\n\t(void)ctx;\n}\n\n", N, N);
	}
	cg_printf(&cg, "int %s_run(%s_ctx *ctx", N, N);
	for (int i = 0; i < g->ninputs; i++) {
		param_name("in", i, g->inputs[i]->name, pn, sizeof pn);
		cg_printf(&cg, ",\n\tconst %s *%s", ir_dtype_c_type(g->inputs[i]->dtype), pn);
	}
	for (int i = 0; i < g->noutputs; i++) {
		param_name("out", i, g->outputs[i]->name, pn, sizeof pn);
		cg_printf(&cg, ",\n\t%s *%s", ir_dtype_c_type(g->outputs[i]->dtype), pn);
	}
	if (quantum)
		cg_printf(&cg, ")\n{\n\tint rc;\n\tif (!ctx) {\n\t\tctx = &%s_default_ctx;\n"
			  "\t\tif (!%s_default_ready) {\n\t\t\t%s_init(ctx);\n\t\t\t%s_default_ready = 1;\n"
			  "\t\t}\n\t}\n", N, N, N, N);
	else
		cg_printf(&cg, ")\n{\n\tif (!ctx)\n\t\tctx = &%s_default_ctx;\n\t(void)ctx;\n", N);
	for (int i = 0; i < g->ninputs; i++) { /* specialised models may not read every input */
		param_name("in", i, g->inputs[i]->name, pn, sizeof pn);
		cg_printf(&cg, "\t(void)%s;\n", pn);
	}
	for (int kk = 0; kk < g->nnodes; kk++) {
		ir_node *n = g->nodes[kk];
		if (is_view(n) && st[n->out[0]->id].root != n->out[0]->id)
			continue;
		char fn[32], ex[256];
		int first = 1, qn = cgen_circuit_quantum(o, n);
		cg_printf(&cg, "\t%s%s(", qn ? "rc = " : "", cg_fn_name(n, fn, sizeof fn));
		for (int i = 0; i < n->nin; i++) {
			if (!n->in[i])
				continue;
			if (i < 64 && (unread[kk] >> i & 1))
				snprintf(ex, sizeof ex, "0");
			else
				value_expr(g, st, n->in[i], ex, sizeof ex);
			cg_printf(&cg, "%s%s", first ? "" : ", ", ex);
			first = 0;
		}
		for (int j = 0; j < n->nout; j++) {
			if (!n->out[j])
				continue;
			value_expr(g, st, n->out[j], ex, sizeof ex);
			cg_printf(&cg, "%s%s", first ? "" : ", ", ex);
			first = 0;
		}
		if (st[g->nvalues + kk].kind == ST_WORK) {
			cg_printf(&cg, "%sctx->work.bytes + %" PRId64, first ? "" : ", ", st[g->nvalues + kk].offset);
			first = 0;
		}
		if (qn)
			cg_printf(&cg, "%sctx);\n\tif (rc)\n\t\treturn rc;\n", first ? "" : ", ");
		else
			cg_printf(&cg, ");\n");
	}
	/* Outputs that no node writes (constants, inputs, views of them). */
	for (int i = 0; i < g->noutputs; i++) {
		ir_value *v = g->outputs[i];
		if (st[v->id].kind == ST_OUT && st[v->id].root == v->id)
			continue;
		char ex[256];
		param_name("out", i, v->name, pn, sizeof pn);
		value_expr(g, st, v, ex, sizeof ex);
		if (st[v->id].bytes)
			cg_printf(&cg, "\tmemcpy(%s, %s, %" PRId64 ");\n", pn, ex, st[v->id].bytes);
	}
	cg_printf(&cg, "\treturn 0;\n}\n");
	free(unread);
	free(st);
	return 0;
}
