/* parse.y - the textual IR parser (format and grammar documented in
 * print.c). A pure bison parser over the reentrant scanner in lex.l; the
 * actions build the graph through the ir.h API only. On any error the
 * first message ("source:line:col: message") is kept, the graph is freed
 * and NULL returned. */

%define api.pure full
%define api.prefix {irp}
%define parse.error custom
%locations
%lex-param {void *scanner}
%parse-param {irp_state *st} {void *scanner}

%code requires {
#include "ir.h"

/* A literal from the scanner: integers keep sign and magnitude so that
 * u64 and i64 both read exactly; a NaN may carry an exact bit pattern. */
enum { IRP_INT, IRP_FLOAT, IRP_STR };
typedef struct irp_num {
	int kind;
	int neg;
	uint64_t mag;     /* integer magnitude, or NaN bits when nanbits */
	int nanbits;
	double f;
	const char *s;    /* IRP_STR (list items) */
} irp_num;

typedef struct irp_type {
	ir_dtype dtype;
	ir_shape shape;
} irp_type;

typedef struct irp_loc {
	int line, col;
} irp_loc;

typedef struct irp_state {
	ir_graph *g;
	ir_arena *scratch;     /* token strings, types: freed after parsing */
	int line, col;         /* scanner position */
	char tok[40];          /* text of the last token, for syntax errors */
	char msg[512];         /* first error */
	int failed;
	/* Per value (by id): defined yet, and where first used / defined. */
	struct irp_vinfo { int defined; irp_loc use, def; } *vi;
	int capvi;
	/* Shape being read (types never nest). */
	ir_shape shp;
	/* Tensor literal being read. */
	ir_dtype tdtype;
	int trank;
	int64_t tdims[IR_MAX_RANK];
	int64_t tnumel, tcount;
	const char *tname;
	irp_loc tloc;
	unsigned char *tbuf;
	size_t tcap;
	/* List attribute being read. */
	irp_num *items;
	int nitems, capitems;
	/* Node being read. */
	ir_value **outs, **ins;
	int nouts, capouts, nins, capins;
	ir_attr *attrs;
	int nattrs, capattrs;
	const char *opname, *nname, *ndomain;
	irp_loc oploc;
	int has_opset;
	int64_t nopset;
} irp_state;
}

%code provides {
int irplex(IRPSTYPE *lval, IRPLTYPE *lloc, void *scanner);
/* Records "source:line:col: message" (first error wins); returns -1. */
int irp_error_at(irp_state *st, const IRPLTYPE *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
}

%code {
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* From the flex scanner (ir_lex.h is not included: it needs YYSTYPE). */
struct yy_buffer_state;
int irplex_init_extra(irp_state *extra, void **scanner);
int irplex_destroy(void *scanner);
struct yy_buffer_state *irp_scan_bytes(const char *bytes, int len, void *scanner);

static void irperror(IRPLTYPE *loc, irp_state *st, void *scanner, const char *msg);

#define FAIL(loc, ...)                                   \
	do {                                             \
		irp_error_at(st, &(loc), __VA_ARGS__);   \
		YYABORT;                                 \
	} while (0)
#define CHECK(x)               \
	do {                   \
		if ((x) < 0)   \
			YYABORT; \
	} while (0)

/* irp_state cannot hold an IRPLTYPE (declared before it): convert. */
static irp_loc at(const IRPLTYPE *l)
{
	irp_loc r = {l->first_line, l->first_column};
	return r;
}

static IRPLTYPE yyloc(irp_loc l)
{
	IRPLTYPE r = {l.line, l.col, l.line, l.col};
	return r;
}

/* Grow *p (elements of size elem) to hold need; abort on OOM like ir.c. */
static void *grow(void *p, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return p;
	int c = *cap ? *cap : 16;
	while (c < need && c <= INT_MAX / 2)
		c *= 2;
	void *q = c >= need ? realloc(p, (size_t)c * elem) : NULL;
	if (!q) {
		fprintf(stderr, "qnnc: out of memory\n");
		exit(1);
	}
	*cap = c;
	return q;
}

/* Name for messages: printable, truncated. */
static const char *shown(char *buf, size_t n, const char *s)
{
	size_t k = 0;
	for (; *s && k + 4 < n; s++)
		buf[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	if (*s && k + 4 >= n && n >= 4)
		buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
	buf[k] = 0;
	return buf;
}

/* A value name as the IR writes it: %x or %"odd name". */
static const char *shown_value(char *buf, size_t n, const char *s)
{
	char tmp[120];
	int plain = *s != 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_./-", *p)))
			plain = 0;
	snprintf(buf, n, plain ? "%%%s" : "%%\"%s\"", shown(tmp, sizeof tmp, s));
	return buf;
}

static int64_t num_i64(irp_state *st, const IRPLTYPE *loc, const irp_num *x, int64_t lo,
		       int64_t hi, const char *what, int *ok)
{
	*ok = 0;
	if (x->kind != IRP_INT)
		return irp_error_at(st, loc, "%s must be an integer", what);
	if (x->neg ? x->mag > (uint64_t)INT64_MAX + 1 : x->mag > (uint64_t)INT64_MAX)
		return irp_error_at(st, loc, "%s is out of range", what);
	int64_t v = x->neg ? (int64_t)(0 - x->mag) : (int64_t)x->mag;
	if (v < lo || v > hi)
		return irp_error_at(st, loc, "%s %" PRId64 " is out of range", what, v);
	*ok = 1;
	return v;
}

static double num_f64(const irp_num *x)
{
	if (x->kind == IRP_INT)
		return x->neg ? -(double)x->mag : (double)x->mag;
	if (x->nanbits) {
		double d;
		uint64_t b = x->mag ^ ((uint64_t)x->neg << 63);
		memcpy(&d, &b, sizeof d);
		return d;
	}
	return x->f;
}

/* Store literal x as one element of dtype dt at p. */
static int num_store(irp_state *st, const IRPLTYPE *loc, ir_dtype dt, const irp_num *x, void *p)
{
	/* Plain 'nan' is the canonical quiet NaN of the width, with the sign. */
	if (x->kind == IRP_FLOAT && !x->nanbits && isnan(x->f)) {
		irp_num c = *x;
		c.nanbits = 1;
		c.mag = dt == IR_F32 ? UINT64_C(0x7fc00000) : UINT64_C(0x7ff8000000000000);
		return num_store(st, loc, dt, &c, p);
	}
	if (dt == IR_F32) {
		float v;
		if (x->nanbits) {
			uint32_t b = (uint32_t)x->mag ^ ((uint32_t)x->neg << 31);
			memcpy(&v, &b, sizeof v);
			if (x->mag >> 32 || !isnan(v))
				return irp_error_at(st, loc, "nan(0x%" PRIx64 ") is not an f32 NaN", x->mag);
		} else {
			double d = num_f64(x);
			v = (float)d;
			if (isfinite(d) && !isfinite(v))
				return irp_error_at(st, loc, "%g is out of range for f32", d);
		}
		memcpy(p, &v, sizeof v);
		return 0;
	}
	if (dt == IR_F64) {
		double d = num_f64(x);
		if (x->nanbits && !isnan(d))
			return irp_error_at(st, loc, "nan(0x%" PRIx64 ") is not an f64 NaN", x->mag);
		memcpy(p, &d, sizeof d);
		return 0;
	}
	if (x->kind != IRP_INT)
		return irp_error_at(st, loc, "%s data must be integers", ir_dtype_name(dt));
	if (dt == IR_BOOL) {
		if (x->mag > 1 || (x->neg && x->mag))
			return irp_error_at(st, loc, "bool data must be 0 or 1");
		*(uint8_t *)p = (uint8_t)x->mag;
		return 0;
	}
	size_t size = ir_dtype_size(dt);
	unsigned bits = (unsigned)size * 8;
	int sgn = ir_dtype_is_signed(dt);
	uint64_t max = sgn ? (UINT64_C(1) << (bits - 1)) - 1 : bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	if (x->neg && x->mag ? !sgn || x->mag > max + 1 : x->mag > max)
		return irp_error_at(st, loc, "%s%" PRIu64 " is out of range for %s", x->neg ? "-" : "",
				    x->mag, ir_dtype_name(dt));
	uint64_t u = x->neg ? 0 - x->mag : x->mag;
	switch (size) {
	case 1: { uint8_t b = (uint8_t)u; memcpy(p, &b, 1); break; }
	case 2: { uint16_t b = (uint16_t)u; memcpy(p, &b, 2); break; }
	case 4: { uint32_t b = (uint32_t)u; memcpy(p, &b, 4); break; }
	default: memcpy(p, &u, 8); break;
	}
	return 0;
}

static int dtype_of(irp_state *st, const IRPLTYPE *loc, const char *s, int allow_undef, ir_dtype *out)
{
	*out = ir_dtype_from_name(s);
	if (*out != IR_UNDEF || (allow_undef && !strcmp(s, "undef")))
		return 0;
	char b[64];
	return irp_error_at(st, loc, "unknown dtype '%s'", shown(b, sizeof b, s));
}

static struct irp_vinfo *vinfo(irp_state *st, ir_value *v)
{
	st->vi = grow(st->vi, &st->capvi, v->id + 1, sizeof *st->vi);
	return &st->vi[v->id];
}

/* A use: forward references are allowed, undefined names are caught at
 * the end of the graph. */
static ir_value *use_value(irp_state *st, const IRPLTYPE *loc, const char *name)
{
	if (!*name) {
		irp_error_at(st, loc, "empty value name");
		return NULL;
	}
	ir_value *v = ir_value_find(st->g, name);
	if (!v) {
		v = ir_value_new(st->g, name);
		IR_ASSERT(!strcmp(v->name, name));
		struct irp_vinfo *vi = vinfo(st, v);
		vi->defined = 0;
		vi->use = at(loc);
	}
	return v;
}

static ir_value *define_value(irp_state *st, const IRPLTYPE *loc, const char *name)
{
	ir_value *v = use_value(st, loc, name);
	if (!v)
		return NULL;
	struct irp_vinfo *vi = vinfo(st, v);
	if (vi->defined) {
		char b[128];
		irp_error_at(st, loc, "duplicate definition of %s (first defined at %d:%d)",
			     shown_value(b, sizeof b, name), vi->def.line, vi->def.col);
		return NULL;
	}
	vi->defined = 1;
	vi->def = at(loc);
	return v;
}

static void set_type(irp_state *st, ir_value *v, const irp_type *t)
{
	v->dtype = t->dtype;
	v->shape = t->shape;
	for (int i = 0; i < t->shape.rank; i++)
		v->shape.d[i].sym = ir_strdup(st->g->arena, t->shape.d[i].sym);
}

/* A value with data and no ': type' takes the tensor's. */
static void set_konst(ir_value *v, ir_tensor *t, const irp_type *ty)
{
	v->konst = t;
	if (!ty) {
		v->dtype = t->dtype;
		ir_shape_from_dims(&v->shape, t->rank, t->dims);
	}
}

static int push_dim(irp_state *st, const IRPLTYPE *loc, ir_dim d)
{
	if (st->shp.rank >= IR_MAX_RANK)
		return irp_error_at(st, loc, "rank exceeds %d", IR_MAX_RANK);
	st->shp.d[st->shp.rank++] = d;
	return 0;
}

static int push_tdim(irp_state *st, const IRPLTYPE *loc, const irp_num *x)
{
	int ok;
	if (st->trank >= IR_MAX_RANK)
		return irp_error_at(st, loc, "rank exceeds %d", IR_MAX_RANK);
	int64_t v = num_i64(st, loc, x, 0, INT64_MAX, "tensor dim", &ok);
	if (!ok)
		return -1;
	st->tdims[st->trank++] = v;
	return 0;
}

static int tensor_begin(irp_state *st)
{
	IRPLTYPE loc = yyloc(st->tloc);
	if (dtype_of(st, &loc, st->tname, 0, &st->tdtype))
		return -1;
	st->tnumel = ir_numel(st->trank, st->tdims);
	if (st->tnumel < 0)
		return irp_error_at(st, &loc, "tensor has too many elements");
	st->tcount = 0;
	return 0;
}

static int tensor_push(irp_state *st, const IRPLTYPE *loc, const irp_num *x)
{
	char sh[128];
	if (st->tcount >= st->tnumel) {
		ir_shape s;
		ir_shape_from_dims(&s, st->trank, st->tdims);
		return irp_error_at(st, loc, "too many values: %s%s holds %" PRId64,
				    ir_dtype_name(st->tdtype), ir_shape_str(&s, sh, sizeof sh), st->tnumel);
	}
	size_t es = ir_dtype_size(st->tdtype);
	size_t need = (size_t)(st->tcount + 1) * es;
	if (need > st->tcap) {
		size_t c = st->tcap ? 2 * st->tcap : 256;
		unsigned char *q = realloc(st->tbuf, c);
		if (!q) {
			fprintf(stderr, "qnnc: out of memory\n");
			exit(1);
		}
		st->tbuf = q;
		st->tcap = c;
	}
	if (num_store(st, loc, st->tdtype, x, st->tbuf + (size_t)st->tcount * es))
		return -1;
	st->tcount++;
	return 0;
}

static ir_tensor *tensor_end(irp_state *st)
{
	IRPLTYPE loc = yyloc(st->tloc);
	char sh[128];
	ir_shape s;
	ir_shape_from_dims(&s, st->trank, st->tdims);
	if (st->tcount != st->tnumel) {
		irp_error_at(st, &loc, "data count mismatch: %s%s needs %" PRId64 " values, got %" PRId64,
			     ir_dtype_name(st->tdtype), ir_shape_str(&s, sh, sizeof sh), st->tnumel,
			     st->tcount);
		return NULL;
	}
	ir_tensor *t = ir_tensor_new(st->g->arena, st->tdtype, st->trank, st->tdims);
	if (!t) {
		irp_error_at(st, &loc, "cannot allocate tensor");
		return NULL;
	}
	if (st->tcount)
		memcpy(t->data, st->tbuf, (size_t)st->tcount * ir_dtype_size(st->tdtype));
	return t;
}

static ir_attr *new_attr(irp_state *st, ir_attr_kind kind)
{
	ir_attr *a = ir_alloc(st->scratch, sizeof *a);
	a->kind = kind;
	return a;
}

/* The list just read ([...]) as floats, ints or strings. */
static ir_attr *list_attr(irp_state *st, const IRPLTYPE *loc)
{
	int nstr = 0, nflt = 0;
	for (int i = 0; i < st->nitems; i++) {
		nstr += st->items[i].kind == IRP_STR;
		nflt += st->items[i].kind == IRP_FLOAT;
	}
	if (nstr && nstr != st->nitems) {
		irp_error_at(st, loc, "list mixes strings and numbers");
		return NULL;
	}
	ir_attr *a = new_attr(st, nstr ? IR_ATTR_STRINGS : nflt ? IR_ATTR_FLOATS : IR_ATTR_INTS);
	a->n = st->nitems;
	size_t n = (size_t)st->nitems;
	if (a->kind == IR_ATTR_STRINGS) {
		a->ss = ir_alloc(st->scratch, n * sizeof *a->ss);
		for (size_t i = 0; i < n; i++)
			a->ss[i] = st->items[i].s;
	} else if (a->kind == IR_ATTR_FLOATS) {
		a->fs = ir_alloc(st->scratch, n * sizeof *a->fs);
		for (size_t i = 0; i < n; i++)
			a->fs[i] = num_f64(&st->items[i]);
	} else {
		a->is = ir_alloc(st->scratch, n * sizeof *a->is);
		for (size_t i = 0; i < n; i++) {
			int ok;
			a->is[i] = num_i64(st, loc, &st->items[i], INT64_MIN, INT64_MAX, "list element", &ok);
			if (!ok)
				return NULL;
		}
	}
	st->nitems = 0;
	return a;
}

static int push_attr(irp_state *st, const IRPLTYPE *loc, const char *name, ir_attr *a)
{
	char b[64];
	for (int i = 0; i < st->nattrs; i++)
		if (!strcmp(st->attrs[i].name, name))
			return irp_error_at(st, loc, "duplicate attribute '%s'", shown(b, sizeof b, name));
	a->name = name;
	st->attrs = grow(st->attrs, &st->capattrs, st->nattrs + 1, sizeof *st->attrs);
	st->attrs[st->nattrs++] = *a;
	return 0;
}

static int push_out(irp_state *st, ir_value *v)
{
	st->outs = grow(st->outs, &st->capouts, st->nouts + 1, sizeof *st->outs);
	st->outs[st->nouts++] = v;
	return 0;
}

static int push_in(irp_state *st, ir_value *v)
{
	st->ins = grow(st->ins, &st->capins, st->nins + 1, sizeof *st->ins);
	st->ins[st->nins++] = v;
	return 0;
}

static int node_finish(irp_state *st)
{
	ir_graph *g = st->g;
	const char *dom = st->ndomain ? st->ndomain : "";
	ir_op op = ir_op_lookup(dom, st->opname);
	if (op == IR_OP_COUNT) {
		IRPLTYPE loc = yyloc(st->oploc);
		char b[64], d[64];
		return irp_error_at(st, &loc, "unknown op '%s' in domain '%s'", shown(b, sizeof b, st->opname),
				    *dom ? shown(d, sizeof d, dom) : "ai.onnx");
	}
	ir_node *n = ir_node_new(g, op, st->nname, st->nins, st->ins, st->nouts, st->outs);
	if (st->nname && !*st->nname)
		n->name = ""; /* ir_node_new would invent one; keep what was written */
	n->domain = ir_strdup(g->arena, dom);
	n->opset = st->has_opset ? (int)st->nopset : (int)ir_graph_opset(g, dom);
	for (int i = 0; i < st->nattrs; i++) {
		ir_attr *a = &st->attrs[i];
		if (a->kind == IR_ATTR_OTHER)
			a->other = ir_strdup(g->arena, a->other); /* ir_attr_set keeps the pointer */
		ir_attr_set(g, n, a);
	}
	st->nouts = st->nins = st->nattrs = 0;
	st->nname = st->ndomain = NULL;
	st->has_opset = 0;
	return 0;
}

static int add_opset(irp_state *st, const IRPLTYPE *loc, const char *domain, const irp_num *x)
{
	ir_graph *g = st->g;
	int ok;
	int64_t v = num_i64(st, loc, x, INT64_MIN, INT64_MAX, "opset version", &ok);
	if (!ok)
		return -1;
	ir_opset *o = ir_alloc(g->arena, (size_t)(g->nopsets + 1) * sizeof *o);
	if (g->nopsets)
		memcpy(o, g->opsets, (size_t)g->nopsets * sizeof *o);
	o[g->nopsets].domain = ir_strdup(g->arena, domain);
	o[g->nopsets].version = v;
	g->opsets = o;
	g->nopsets++;
	return 0;
}

/* Every name used must have been defined somewhere in the graph. */
static int check_defined(irp_state *st)
{
	for (int i = 0; i < st->g->nvalues; i++) {
		if (st->vi[i].defined)
			continue;
		IRPLTYPE loc = yyloc(st->vi[i].use);
		char b[128];
		return irp_error_at(st, &loc, "undefined value %s", shown_value(b, sizeof b, st->g->values[i]->name));
	}
	return 0;
}
}

%union {
	char *s;
	irp_num num;
	ir_value *v;
	irp_type *type;
	ir_tensor *t;
	ir_attr *attr;
	ir_dim dim;
}

%token <s> IDENT "identifier" STRING "string" VALNAME "value name" NODENAME "node name"
%token <num> INT "integer" FLOAT "float"
%token KW_GRAPH "'graph'" KW_IR_VERSION "'ir_version'" KW_PRODUCER "'producer'"
%token KW_OPSET "'opset'" KW_INPUT "'input'" KW_CONST "'const'" KW_VALUE "'value'"
%token KW_OUTPUT "'output'" KW_KNOWN "'known'" KW_DOMAIN "'domain'" KW_OTHER "'other'"
%token ELLIPSIS "'...'" LEXERR "bad token"

%type <s> sym opname
%type <num> num litem
%type <v> out arg
%type <type> type opt_type
%type <t> tensor opt_init
%type <attr> aval
%type <dim> dim

%%

top:
	KW_GRAPH gname '{' headers body '}' { CHECK(check_defined(st)); }
	;

gname:
	%empty
	| NODENAME { st->g->name = ir_strdup(st->g->arena, $1); }
	;

headers:
	%empty
	| headers header
	;

header:
	KW_IR_VERSION INT {
		int ok;
		st->g->ir_version = num_i64(st, &@2, &$2, INT64_MIN, INT64_MAX, "ir_version", &ok);
		if (!ok)
			YYABORT;
	}
	| KW_PRODUCER STRING { st->g->producer = ir_strdup(st->g->arena, $2); }
	| KW_OPSET INT { CHECK(add_opset(st, &@2, "", &$2)); }
	| KW_OPSET STRING INT { CHECK(add_opset(st, &@3, $2, &$3)); }
	;

body:
	%empty
	| body stmt
	;

stmt:
	KW_INPUT VALNAME opt_type opt_init {
		ir_value *v = define_value(st, &@2, $2);
		if (!v)
			YYABORT;
		if ($3)
			set_type(st, v, $3);
		if ($4)
			set_konst(v, $4, $3);
		ir_graph_add_input(st->g, v);
	}
	| KW_CONST VALNAME opt_type '=' tensor {
		ir_value *v = define_value(st, &@2, $2);
		if (!v)
			YYABORT;
		if ($3)
			set_type(st, v, $3);
		set_konst(v, $5, $3);
	}
	| KW_VALUE VALNAME opt_type {
		ir_value *v = define_value(st, &@2, $2);
		if (!v)
			YYABORT;
		if ($3)
			set_type(st, v, $3);
	}
	| KW_KNOWN VALNAME '=' tensor {
		ir_value *v = ir_value_find(st->g, $2);
		char b[128];
		if (!v || !st->vi[v->id].defined || !v->def)
			FAIL(@2, "'known' data for %s, which is not an output of a node above",
			     shown_value(b, sizeof b, $2));
		if (v->konst)
			FAIL(@2, "%s already has known data", shown_value(b, sizeof b, $2));
		v->konst = $4;
	}
	| KW_OUTPUT VALNAME {
		ir_value *v = use_value(st, &@2, $2);
		if (!v)
			YYABORT;
		ir_graph_add_output(st->g, v);
	}
	| outs '=' call trailer { CHECK(node_finish(st)); }
	| call trailer { CHECK(node_finish(st)); }
	;

opt_init:
	%empty { $$ = NULL; }
	| '=' tensor { $$ = $2; }
	;

opt_type:
	%empty { $$ = NULL; }
	| ':' type { $$ = $2; }
	;

type:
	IDENT '[' '*' ']' {
		$$ = ir_alloc(st->scratch, sizeof *$$);
		CHECK(dtype_of(st, &@1, $1, 1, &$$->dtype));
		$$->shape.rank = -1;
	}
	| IDENT '[' dims_opt ']' {
		$$ = ir_alloc(st->scratch, sizeof *$$);
		CHECK(dtype_of(st, &@1, $1, 1, &$$->dtype));
		$$->shape = st->shp;
	}
	;

dims_opt:
	%empty { st->shp.rank = 0; }
	| dims
	;

dims:
	dim { st->shp.rank = 0; CHECK(push_dim(st, &@1, $1)); }
	| dims ',' dim { CHECK(push_dim(st, &@3, $3)); }
	;

dim:
	INT {
		int ok;
		if ($1.neg && $1.mag)
			FAIL(@1, "negative dim: write ? for an unknown dim");
		$$.v = num_i64(st, &@1, &$1, 0, INT64_MAX, "dim", &ok);
		$$.sym = NULL;
		if (!ok)
			YYABORT;
	}
	| '?' { $$.v = -1; $$.sym = NULL; }
	| sym { $$.v = -1; $$.sym = $1; }
	| sym '=' INT {
		int ok;
		$$.v = num_i64(st, &@3, &$3, 0, INT64_MAX, "dim", &ok);
		$$.sym = $1;
		if (!ok)
			YYABORT;
	}
	;

sym:
	IDENT
	| STRING
	;

/* A tensor literal: dtype and dims, then the data row-major. */
tensor_head:
	IDENT '[' tdims_opt ']' { st->tname = $1; st->tloc = at(&@1); }
	;

tdims_opt:
	%empty { st->trank = 0; }
	| tdims
	;

tdims:
	INT { st->trank = 0; CHECK(push_tdim(st, &@1, &$1)); }
	| tdims ',' INT { CHECK(push_tdim(st, &@3, &$3)); }
	;

tensor_open:
	tensor_head '{' { CHECK(tensor_begin(st)); }
	;

tensor:
	tensor_open tdata '}' {
		$$ = tensor_end(st);
		if (!$$)
			YYABORT;
	}
	| tensor_open ELLIPSIS '}' {
		FAIL(@2, "tensor data was elided ('...'): print the IR without elision to read it back");
	}
	;

tdata:
	%empty
	| tnums
	;

tnums:
	num { CHECK(tensor_push(st, &@1, &$1)); }
	| tnums ',' num { CHECK(tensor_push(st, &@3, &$3)); }
	;

num:
	INT
	| FLOAT
	;

outs:
	out { st->nouts = 0; push_out(st, $1); }
	| outs ',' out { push_out(st, $3); }
	;

out:
	'_' { $$ = NULL; }
	| VALNAME opt_type {
		$$ = define_value(st, &@1, $1);
		if (!$$)
			YYABORT;
		if ($2)
			set_type(st, $$, $2);
	}
	;

call:
	opname '(' args_opt ')' { st->opname = $1; st->oploc = at(&@1); }
	;

opname:
	IDENT
	| STRING
	;

args_opt:
	%empty { st->nins = 0; }
	| args
	;

args:
	arg { st->nins = 0; push_in(st, $1); }
	| args ',' arg { push_in(st, $3); }
	;

arg:
	'_' { $$ = NULL; }
	| VALNAME {
		$$ = use_value(st, &@1, $1);
		if (!$$)
			YYABORT;
	}
	;

trailer:
	attrs_opt nname_opt domain_opt opset_opt
	;

attrs_opt:
	%empty { st->nattrs = 0; }
	| '{' attrs '}'
	;

attrs:
	attr
	| attrs ',' attr
	;

attr:
	sym '=' aval {
		CHECK(push_attr(st, &@1, $1, $3));
	}
	;

aval:
	INT { $$ = new_attr(st, IR_ATTR_INT); int ok; $$->i = num_i64(st, &@1, &$1, INT64_MIN, INT64_MAX, "attribute", &ok); if (!ok) YYABORT; }
	| FLOAT { $$ = new_attr(st, IR_ATTR_FLOAT); $$->f = num_f64(&$1); }
	| STRING { $$ = new_attr(st, IR_ATTR_STRING); $$->s = $1; }
	| tensor { $$ = new_attr(st, IR_ATTR_TENSOR); $$->t = $1; }
	| KW_OTHER STRING { $$ = new_attr(st, IR_ATTR_OTHER); $$->other = $2; }
	| '[' litems ']' {
		$$ = list_attr(st, &@1);
		if (!$$)
			YYABORT;
	}
	| '[' ']' { FAIL(@1, "an empty list needs its kind: ints[], floats[] or strings[]"); }
	| tensor_head {
		ir_attr_kind k = !strcmp(st->tname, "ints") ? IR_ATTR_INTS :
				 !strcmp(st->tname, "floats") ? IR_ATTR_FLOATS :
				 !strcmp(st->tname, "strings") ? IR_ATTR_STRINGS : IR_ATTR_OTHER;
		if (k == IR_ATTR_OTHER || st->trank)
			FAIL(@1, "expected a tensor ('%s[...] {...}') or an empty list (ints[], floats[], strings[])",
			     ir_dtype_from_name(st->tname) != IR_UNDEF ? st->tname : "f32");
		$$ = new_attr(st, k);
	}
	;

litems:
	litem { st->nitems = 0; st->items = grow(st->items, &st->capitems, 1, sizeof *st->items); st->items[st->nitems++] = $1; }
	| litems ',' litem {
		st->items = grow(st->items, &st->capitems, st->nitems + 1, sizeof *st->items);
		st->items[st->nitems++] = $3;
	}
	;

litem:
	INT
	| FLOAT
	| STRING { memset(&$$, 0, sizeof $$); $$.kind = IRP_STR; $$.s = $1; }
	;

nname_opt:
	%empty { st->nname = NULL; }
	| NODENAME { st->nname = $1; }
	;

domain_opt:
	%empty { st->ndomain = NULL; }
	| KW_DOMAIN STRING { st->ndomain = $2; }
	;

opset_opt:
	%empty { st->has_opset = 0; }
	| KW_OPSET INT {
		int ok;
		st->nopset = num_i64(st, &@2, &$2, INT_MIN, INT_MAX, "node opset", &ok);
		if (!ok)
			YYABORT;
		st->has_opset = 1;
	}
	;

%%

int irp_error_at(irp_state *st, const IRPLTYPE *loc, const char *fmt, ...)
{
	if (st->failed++)
		return -1;
	int k = snprintf(st->msg, sizeof st->msg, "%s:%d:%d: ", st->g->source, loc->first_line,
			 loc->first_column);
	if (k < 0)
		k = 0;
	if ((size_t)k < sizeof st->msg) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(st->msg + k, sizeof st->msg - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void irperror(IRPLTYPE *loc, irp_state *st, void *scanner, const char *msg)
{
	(void)scanner;
	irp_error_at(st, loc, "%s", msg);
}

/* Token names without the quotes bison keeps around string aliases. */
static void put_symbol(char *buf, size_t n, size_t *k, yysymbol_kind_t sym)
{
	const char *s = yysymbol_name(sym);
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '"') {
		s++;
		len -= 2;
	}
	int w = snprintf(buf + *k, *k < n ? n - *k : 0, "%.*s", (int)len, s);
	if (w > 0)
		*k += (size_t)w;
}

static int yyreport_syntax_error(const yypcontext_t *ctx, irp_state *st, void *scanner)
{
	(void)scanner;
	char buf[400], b[64];
	size_t k = 0;
	yysymbol_kind_t got = yypcontext_token(ctx);
	k += (size_t)snprintf(buf, sizeof buf, "syntax error: unexpected ");
	if (got == YYSYMBOL_YYEOF) {
		k += (size_t)snprintf(buf + k, sizeof buf - k, "end of input");
	} else {
		put_symbol(buf, sizeof buf, &k, got);
		int has_text = got == YYSYMBOL_IDENT || got == YYSYMBOL_STRING || got == YYSYMBOL_VALNAME ||
			       got == YYSYMBOL_NODENAME || got == YYSYMBOL_INT || got == YYSYMBOL_FLOAT;
		if (has_text && k < sizeof buf)
			k += (size_t)snprintf(buf + k, sizeof buf - k, " '%s'", shown(b, sizeof b, st->tok));
	}
	yysymbol_kind_t exp[6];
	int n = yypcontext_expected_tokens(ctx, exp, 6);
	if (n > 0 && n <= 5 && k < sizeof buf) {
		k += (size_t)snprintf(buf + k, sizeof buf - k, ", expected ");
		for (int i = 0; i < n && k < sizeof buf; i++) {
			if (i)
				k += (size_t)snprintf(buf + k, sizeof buf - k, i + 1 < n ? ", " : " or ");
			if (k < sizeof buf)
				put_symbol(buf, sizeof buf, &k, exp[i]);
		}
	}
	irp_error_at(st, yypcontext_location(ctx), "%s", buf);
	return 0;
}

ir_graph *ir_parse(const char *text, const char *source, char *err, size_t errlen)
{
	irp_state st;
	memset(&st, 0, sizeof st);
	if (err && errlen)
		err[0] = 0;
	st.g = ir_graph_new(source);
	st.scratch = ir_arena_new();
	st.line = st.col = 1;
	void *scanner = NULL;
	size_t len = text ? strlen(text) : 0;
	if (!text || len > INT_MAX) {
		snprintf(st.msg, sizeof st.msg, "%s: %s", st.g->source, text ? "text too large" : "no text");
		st.failed = 1;
	} else if (irplex_init_extra(&st, &scanner)) {
		snprintf(st.msg, sizeof st.msg, "%s: cannot start the scanner", st.g->source);
		st.failed = 1;
	} else {
		irp_scan_bytes(text, (int)len, scanner);
		if (irpparse(&st, scanner) && !st.failed)
			irp_error_at(&st, &(IRPLTYPE){st.line, st.col, st.line, st.col}, "parse failed");
		irplex_destroy(scanner);
	}
	free(st.vi);
	free(st.tbuf);
	free(st.items);
	free(st.outs);
	free(st.ins);
	free(st.attrs);
	ir_arena_free(st.scratch);
	if (st.failed) {
		if (err && errlen)
			snprintf(err, errlen, "%s", st.msg);
		ir_graph_free(st.g);
		return NULL;
	}
	return st.g;
}
