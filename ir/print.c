/* print.c - the textual IR printer. ir_parse (parse.y) reads the same
 * format back: ir_print(ir_parse(ir_print(g))) is byte-identical to
 * ir_print(g) for every graph whose text parses.
 *
 * Example:
 *
 *	graph @torch_jit {
 *		ir_version 8
 *		producer "pytorch 2.1"
 *		opset 13
 *		opset "com.microsoft" 1
 *
 *		input %x : f32[N,784]
 *
 *		const %fc.weight = f32[2,3] {0x1p+0, -0x1.8p+1, inf, nan, -0x0p+0, 0x1p-149}
 *		const %shape = i64[2] {-1, 3}
 *
 *		%"onnx::Gemm 5" : f32[N,10] = Gemm(%x, %fc.weight, _) {alpha = 0x1p+0, transB = 1} @/fc/Gemm
 *		%y, _ = Dropout(%"onnx::Gemm 5") @drop opset 12
 *		%s : i64[2] = Shape(%y) @shape
 *		known %s = i64[2] {-1, 10}
 *
 *		output %y
 *	}
 *
 * Grammar (whitespace, including newlines, separates tokens and is
 * otherwise insignificant; '#' starts a comment to the end of the line):
 *
 *	graph    := 'graph' NODENAME? '{' header* stmt* '}'   (name: main)
 *	header   := 'ir_version' INT | 'producer' STRING
 *	          | 'opset' INT                 (default domain "")
 *	          | 'opset' STRING INT          (named domain)
 *	stmt     := 'input' VALNAME (':' type)? ('=' tensor)?
 *	          | 'const' VALNAME (':' type)? '=' tensor
 *	          | 'value' VALNAME (':' type)?   (declared, not defined)
 *	          | (out (',' out)* '=')? call attrs? NODENAME?
 *	                 ('domain' STRING)? ('opset' INT)?
 *	          | 'known' VALNAME '=' tensor      (data of a node output)
 *	          | 'output' VALNAME
 *	out      := '_' | VALNAME (':' type)?
 *	call     := opname '(' (arg (',' arg)*)? ')'
 *	opname   := IDENT | STRING
 *	arg      := '_' | VALNAME
 *	type     := dtype '[' '*' ']' | dtype '[' (dim (',' dim)*)? ']'
 *	dtype    := 'f32' | 'f64' | 'i8' | ... | 'bool' | 'undef'
 *	dim      := INT | '?' | sym | sym '=' INT
 *	sym      := IDENT | STRING
 *	tensor   := dtype '[' (INT (',' INT)*)? ']' '{' (num (',' num)*)? '}'  (not undef)
 *	          | dtype '[' ... ']' '{' '...' '}'   (elided; refused by the parser)
 *	attrs    := '{' attr (',' attr)* '}'
 *	attr     := (IDENT | STRING) '=' aval
 *	aval     := FLOAT | INT | STRING | tensor | 'other' STRING
 *	          | '[' (FLOAT | INT) (',' ...)* ']' | '[' STRING (',' STRING)* ']'
 *	          | 'floats' '[' ']' | 'ints' '[' ']' | 'strings' '[' ']'
 *	num      := INT | FLOAT
 *
 *	VALNAME  := '%' PLAIN | '%' STRING      (graph values)
 *	NODENAME := '@' PLAIN | '@' STRING      (node and graph names)
 *	PLAIN    := [A-Za-z0-9_./-]+
 *	IDENT    := [A-Za-z_][A-Za-z0-9_]*  (not a keyword, 'inf', 'nan', '_')
 *	STRING   := '"' ... '"' with \" \\ \n \t \r \xHH escapes; other bytes raw
 *	INT      := [+-]?[0-9]+
 *	FLOAT    := C99 hex float (0x1.8p+1) | decimal with '.' or exponent
 *	          | [+-]?inf | [+-]?nan | nan(0xBITS) (a NaN with that bit pattern)
 *
 * Meaning. Inputs, constants, nodes and outputs keep their order. A value
 * without ': type' has an unknown dtype and rank, except that a value with
 * data takes the tensor's dtype and dims; the printer writes the type only
 * when it says more than that. 'undef' is the unknown dtype, '[*]' the
 * unknown rank, '?' an unknown dim, 'N' an unknown dim named N, 'N=3' a
 * known dim that remembers its name. Floats are written as hex floats so
 * they read back bit-exactly (f32 data through double is exact). A node
 * without '@name' gets an invented name; 'opset' on a node is printed
 * only when it differs from the graph's opset for the node's domain.
 * Names may be used before their definition (the verifier, not the parser,
 * rejects nodes out of order); a name never defined is an error.
 * 'value' declares a value nobody defines (printed for dangling values so
 * that even a broken graph dumps and reads back). Tensor data is row-major,
 * eight numbers per line; with elide_data a tensor of more than 16
 * elements prints '{...}', which the parser refuses.
 */
#include "ir.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Words the lexer takes as keywords or literals: never print them bare. */
static const char *const reserved[] = {
	"graph", "ir_version", "producer", "opset", "input", "const", "value",
	"output", "known", "domain", "other", "inf", "nan", "_",
};

static int is_ident(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (!strcmp(s, reserved[i]))
			return 0;
	return 1;
}

static int is_plain(const char *s)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./-", *p))
			return 0;
	return 1;
}

static void print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			/* UTF-8 and other high bytes go out raw: names stay readable. */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* sigil is '%' for values, '@' for nodes and graphs. */
static void print_name(FILE *f, int sigil, const char *s)
{
	fputc(sigil, f);
	if (is_plain(s))
		fputs(s, f);
	else
		print_string(f, s);
}

static void print_ident(FILE *f, const char *s)
{
	if (is_ident(s))
		fputs(s, f);
	else
		print_string(f, s);
}

static void print_f64(FILE *f, double x)
{
	uint64_t b;
	memcpy(&b, &x, sizeof b);
	/* NaN-ness from the bits: signalling NaNs must not go through the FPU. */
	if ((b & ~(UINT64_C(1) << 63)) > UINT64_C(0x7ff0000000000000)) {
		if ((b & ~(UINT64_C(1) << 63)) == UINT64_C(0x7ff8000000000000))
			fputs(b >> 63 ? "-nan" : "nan", f);
		else
			fprintf(f, "nan(0x%016" PRIx64 ")", b);
	} else if (isinf(x)) {
		fputs(x < 0 ? "-inf" : "inf", f);
	} else {
		fprintf(f, "%a", x);
	}
}

static void print_f32(FILE *f, const float *p)
{
	uint32_t b;
	float x;
	memcpy(&b, p, sizeof b);
	memcpy(&x, p, sizeof x);
	if ((b & ~(UINT32_C(1) << 31)) > UINT32_C(0x7f800000)) {
		if ((b & ~(UINT32_C(1) << 31)) == UINT32_C(0x7fc00000))
			fputs(b >> 31 ? "-nan" : "nan", f);
		else
			fprintf(f, "nan(0x%08" PRIx32 ")", b);
	} else {
		print_f64(f, x); /* every float is exact as a double */
	}
}

static void print_shape(FILE *f, const ir_shape *s)
{
	if (s->rank < 0) {
		fputs("[*]", f);
		return;
	}
	fputc('[', f);
	for (int i = 0; i < s->rank && i < IR_MAX_RANK; i++) {
		const ir_dim *d = &s->d[i];
		if (i)
			fputc(',', f);
		if (d->sym)
			print_ident(f, d->sym);
		if (d->v >= 0)
			fprintf(f, d->sym ? "=%" PRId64 : "%" PRId64, d->v);
		else if (!d->sym)
			fputc('?', f);
	}
	fputc(']', f);
}

static void print_type(FILE *f, const ir_value *v)
{
	fputs(" : ", f);
	fputs(ir_dtype_name(v->dtype), f);
	print_shape(f, &v->shape);
}

/* The parser gives a value without ': type' this type. */
static int type_is_default(const ir_value *v)
{
	const ir_tensor *t = v->konst;
	if (!t)
		return v->dtype == IR_UNDEF && v->shape.rank < 0;
	if (v->dtype != t->dtype || v->shape.rank != t->rank)
		return 0;
	for (int i = 0; i < t->rank && i < IR_MAX_RANK; i++)
		if (v->shape.d[i].v != t->dims[i] || v->shape.d[i].sym)
			return 0;
	return 1;
}

static void print_elem(FILE *f, const ir_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case IR_F32: print_f32(f, (const float *)t->data + i); break;
	case IR_F64: print_f64(f, ((const double *)t->data)[i]); break;
	case IR_U64: fprintf(f, "%" PRIu64, ((const uint64_t *)t->data)[i]); break;
	default: fprintf(f, "%" PRId64, ir_tensor_get_i64(t, i)); break;
	}
}

static void print_tensor(FILE *f, const ir_tensor *t, int elide)
{
	if (!t) {
		fputs("undef[] {}", f); /* broken attribute; the parser refuses it */
		return;
	}
	fputs(ir_dtype_name(t->dtype), f);
	fputc('[', f);
	for (int i = 0; i < t->rank && i < IR_MAX_RANK; i++)
		fprintf(f, i ? ",%" PRId64 : "%" PRId64, t->dims[i]);
	fputs("] {", f);
	if (elide && t->numel > 16) {
		fputs("...}", f);
		return;
	}
	if (!t->data || ir_dtype_size(t->dtype) == 0) {
		fputc('}', f);
		return;
	}
	/* Eight numbers per line keeps big constants diffable. */
	int wrap = t->numel > 8;
	for (int64_t i = 0; i < t->numel; i++) {
		if (wrap && i % 8 == 0)
			fputs(i ? ",\n\t\t" : "\n\t\t", f);
		else if (i)
			fputs(", ", f);
		print_elem(f, t, i);
	}
	fputs(wrap ? "\n\t}" : "}", f);
}

static void print_attr(FILE *f, const ir_attr *a, int elide)
{
	print_ident(f, a->name);
	fputs(" = ", f);
	switch (a->kind) {
	case IR_ATTR_FLOAT: print_f64(f, a->f); break;
	case IR_ATTR_INT: fprintf(f, "%" PRId64, a->i); break;
	case IR_ATTR_STRING: print_string(f, a->s); break;
	case IR_ATTR_TENSOR: print_tensor(f, a->t, elide); break;
	case IR_ATTR_FLOATS:
	case IR_ATTR_INTS:
	case IR_ATTR_STRINGS:
		if (a->n <= 0) {
			fputs(a->kind == IR_ATTR_FLOATS ? "floats[]" :
			      a->kind == IR_ATTR_INTS ? "ints[]" : "strings[]", f);
			break;
		}
		fputc('[', f);
		for (int i = 0; i < a->n; i++) {
			if (i)
				fputs(", ", f);
			if (a->kind == IR_ATTR_FLOATS)
				print_f64(f, a->fs ? a->fs[i] : 0);
			else if (a->kind == IR_ATTR_INTS)
				fprintf(f, "%" PRId64, a->is ? a->is[i] : 0);
			else
				print_string(f, a->ss ? a->ss[i] : "");
		}
		fputc(']', f);
		break;
	case IR_ATTR_OTHER:
		fputs("other ", f);
		print_string(f, a->other);
		break;
	default:
		fputs("other \"?\"", f);
	}
}

static void print_node(FILE *f, const ir_graph *g, const ir_node *n, int elide)
{
	fputc('\t', f);
	for (int i = 0; i < n->nout; i++) {
		const ir_value *v = n->out[i];
		if (i)
			fputs(", ", f);
		if (!v) {
			fputc('_', f);
			continue;
		}
		print_name(f, '%', v->name);
		if (v->dtype != IR_UNDEF || v->shape.rank >= 0)
			print_type(f, v);
	}
	if (n->nout > 0)
		fputs(" = ", f);
	print_ident(f, (unsigned)n->op < IR_OP_COUNT ? ir_ops[n->op].name : "?");
	fputc('(', f);
	for (int i = 0; i < n->nin; i++) {
		if (i)
			fputs(", ", f);
		if (n->in[i])
			print_name(f, '%', n->in[i]->name);
		else
			fputc('_', f);
	}
	fputc(')', f);
	if (n->nattr > 0) {
		fputs(" {", f);
		for (int i = 0; i < n->nattr; i++) {
			if (i)
				fputs(", ", f);
			print_attr(f, &n->attrs[i], elide);
		}
		fputc('}', f);
	}
	if (n->name) {
		fputc(' ', f);
		print_name(f, '@', n->name);
	}
	const char *dom = n->domain ? n->domain : "";
	if (*dom) {
		fputs(" domain ", f);
		print_string(f, dom);
	}
	if (n->opset != ir_graph_opset(g, dom))
		fprintf(f, " opset %d", n->opset);
	fputc('\n', f);
	/* Data a pass already computed for this node's outputs. */
	for (int i = 0; i < n->nout; i++) {
		const ir_value *v = n->out[i];
		if (v && v->konst) {
			fputs("\tknown ", f);
			print_name(f, '%', v->name);
			fputs(" = ", f);
			print_tensor(f, v->konst, elide);
			fputc('\n', f);
		}
	}
}

/* 'input', 'const' or 'value' statement. */
static void print_decl(FILE *f, const char *kw, const ir_value *v, int elide)
{
	fprintf(f, "\t%s ", kw);
	print_name(f, '%', v->name);
	if (!type_is_default(v))
		print_type(f, v);
	if (v->konst) {
		fputs(" = ", f);
		print_tensor(f, v->konst, elide);
	}
	fputc('\n', f);
}

/* Values are classified by where they appear, not by their flags, so
 * that a broken graph still prints everything it holds. */
enum { SEEN_INPUT = 1, SEEN_OUT = 2 };

void ir_print(FILE *f, const ir_graph *g, int elide_data)
{
	unsigned char *seen = calloc((size_t)g->nvalues + 1, 1);
	if (!seen) {
		fputs("# out of memory\n", f);
		return;
	}
#define MARK(v, bit)                                                           \
	do {                                                                   \
		if ((v) && (v)->id >= 0 && (v)->id < g->nvalues && g->values[(v)->id] == (v)) \
			seen[(v)->id] |= (bit);                                \
	} while (0)
	for (int i = 0; i < g->ninputs; i++)
		MARK(g->inputs[i], SEEN_INPUT);
	for (int i = 0; i < g->nnodes; i++)
		for (int j = 0; j < g->nodes[i]->nout; j++)
			MARK(g->nodes[i]->out[j], SEEN_OUT);
#undef MARK

	fputs("graph ", f);
	print_name(f, '@', g->name ? g->name : "main"); /* the parser's default */
	fputs(" {\n", f);
	fprintf(f, "\tir_version %" PRId64 "\n", g->ir_version);
	if (g->producer) {
		fputs("\tproducer ", f);
		print_string(f, g->producer);
		fputc('\n', f);
	}
	for (int i = 0; i < g->nopsets; i++) {
		const char *d = g->opsets[i].domain;
		fputs("\topset ", f);
		if (d && *d) {
			print_string(f, d);
			fputc(' ', f);
		}
		fprintf(f, "%" PRId64 "\n", g->opsets[i].version);
	}

	int blank = 1; /* one empty line before each non-empty section */
#define SECTION()                        \
	do {                             \
		if (blank) {             \
			fputc('\n', f);  \
			blank = 0;       \
		}                        \
	} while (0)
	for (int i = 0; i < g->ninputs; i++) {
		const ir_value *v = g->inputs[i];
		if (!v)
			continue;
		SECTION();
		print_decl(f, "input", v, elide_data);
	}
	blank = 1;
	for (int i = 0; i < g->nvalues; i++) {
		const ir_value *v = g->values[i];
		if (!v || seen[i])
			continue;
		SECTION();
		print_decl(f, v->konst ? "const" : "value", v, elide_data);
	}
	blank = 1;
	for (int i = 0; i < g->nnodes; i++) {
		SECTION();
		print_node(f, g, g->nodes[i], elide_data);
	}
	blank = 1;
	for (int i = 0; i < g->noutputs; i++) {
		SECTION();
		fputs("\toutput ", f);
		if (g->outputs[i])
			print_name(f, '%', g->outputs[i]->name);
		else
			fputc('_', f); /* broken graph; the parser refuses it */
		fputc('\n', f);
	}
#undef SECTION
	fputs("}\n", f);
	free(seen);
}
