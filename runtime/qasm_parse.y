/* qasm_parse.y - the OpenQASM 3 grammar (the subset qnnc emits and the
 * common statements around it; see qasm.c for what each one means). A
 * pure bison parser over the reentrant scanner in qasm_lex.l; actions call
 * the qasm_* builders of qasm.c, which check meaning, expand gates and
 * record the first error as "source:line:col: message". */

%define api.pure full
%define api.prefix {qasmp}
%define parse.error custom
%define parse.lac full
%locations
%lex-param {void *scanner}
%parse-param {qrd_state *st} {void *scanner}

%code requires {
#include "qasm.h"
}

%union {
	double num;
	char *str;
	int ival;
	const qx *expr;
	qrd_xlist *xl;
	qrd_arg *arg;
	qrd_mod *mod;
	qrd_id *id;
}

%code provides {
int qasmplex(QASMPSTYPE *lval, QASMPLTYPE *lloc, void *scanner);
}

%code {
#include <stdio.h>
#include <string.h>

static qrd_loc L(QASMPLTYPE l)
{
	qrd_loc r = {l.first_line, l.first_column};
	return r;
}

#define CHECK(x)                 \
	do {                     \
		if ((x) < 0)     \
			YYABORT; \
	} while (0)
#define CHECKP(x)                \
	do {                     \
		if (!(x))        \
			YYABORT; \
	} while (0)

static void qasmperror(QASMPLTYPE *loc, qrd_state *st, void *scanner, const char *msg);
}

%token OPENQASM INCLUDE QUBIT BIT QREG CREG INPUT CONST GATE MEASURE BARRIER RESET
%token CTRL NEGCTRL INV POW FLOAT ANGLE ARROW POWOP LEXERR
%token <str> IDENT STRING UNSUPPORTED
%token <num> INTNUM REALNUM
%token <ival> PHYSQ

%type <expr> expr opt_size
%type <xl> exprs cparams
%type <arg> qarg qargs opt_qargs carg
%type <mod> mod mods
%type <id> idlist gparams

%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS
%right POWOP

%%

program:
	  %empty
	| program stmt
	;

stmt:
	  OPENQASM INTNUM ';'           { CHECK(qrd_version(st, $2, 1, L(@1))); }
	| OPENQASM REALNUM ';'          { CHECK(qrd_version(st, $2, 0, L(@1))); }
	| INCLUDE STRING ';'            { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_include(st, $2, L(@2))); }
	| QUBIT opt_size IDENT ';'      { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_decl_qubits(st, $3, L(@3), $2, L(@2))); }
	| QREG IDENT '[' expr ']' ';'   { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_decl_qubits(st, $2, L(@2), $4, L(@4))); }
	| BIT opt_size IDENT ';'        { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_decl_bits(st, $3, L(@3), $2, L(@2))); }
	| BIT opt_size IDENT '=' MEASURE qarg ';'
					{
						CHECK(qrd_stmt(st, L(@1)));
						CHECK(qrd_decl_bits(st, $3, L(@3), $2, L(@2)));
						qrd_arg *c = qrd_alloc(st, sizeof *c);
						CHECKP(c);
						c->kind = QA_NAME;
						c->name = $3;
						c->loc = L(@3);
						CHECK(qrd_measure(st, $6, c, L(@5)));
					}
	| CREG IDENT '[' expr ']' ';'   { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_decl_bits(st, $2, L(@2), $4, L(@4))); }
	| INPUT type IDENT ';'          { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_decl_input(st, $3, L(@3))); }
	| CONST type IDENT '=' expr ';' { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_decl_const(st, $3, L(@3), $5)); }
	| GATE IDENT gparams idlist '{'
					{
						CHECK(qrd_stmt(st, L(@1)));
						CHECK(qrd_gate_begin(st, $2, L(@2), $3, $4));
					}
	  gbody '}'                     { CHECK(qrd_gate_end(st)); }
	| gcall
	| MEASURE qarg ARROW carg ';'   { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_measure(st, $2, $4, L(@1))); }
	| MEASURE qarg ';'              { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_measure(st, $2, NULL, L(@1))); }
	| carg '=' MEASURE qarg ';'     { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_measure(st, $4, $1, L(@3))); }
	| RESET qargs ';'               { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_reset(st, $2, L(@1))); }
	| BARRIER opt_qargs ';'         { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_barrier(st, $2)); }
	| UNSUPPORTED                   {
						qrd_error(st, L(@1), "'%s' is not supported by this OpenQASM reader", $1);
						YYABORT;
					}
	| ';'
	;

opt_size:
	  %empty                        { $$ = NULL; }
	| '[' expr ']'                  { $$ = $2; @$ = @2; }
	;

type:
	  FLOAT
	| FLOAT '[' expr ']'            { CHECK(qrd_check_type_width(st, $3, L(@3))); }
	| ANGLE
	| ANGLE '[' expr ']'            { CHECK(qrd_check_type_width(st, $3, L(@3))); }
	;

gparams:
	  %empty                        { $$ = NULL; }
	| '(' ')'                       { $$ = NULL; }
	| '(' idlist ')'                { $$ = $2; }
	;

idlist:
	  IDENT                         {
						$$ = qrd_alloc(st, sizeof *$$);
						CHECKP($$);
						$$->name = $1;
						$$->loc = L(@1);
					}
	| idlist ',' IDENT              {
						$$ = qrd_alloc(st, sizeof *$$);
						CHECKP($$);
						$$->name = $3;
						$$->loc = L(@3);
						$$->next = $1;
					}
	;

gbody:
	  %empty
	| gbody gcall
	| gbody BARRIER opt_qargs ';'   { CHECK(qrd_barrier(st, $3)); }
	| gbody ';'
	;

gcall:
	  IDENT cparams opt_qargs ';'   { CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_call(st, NULL, $1, L(@1), $2, $3)); }
	| mods IDENT cparams opt_qargs ';'
					{ CHECK(qrd_stmt(st, L(@1))); CHECK(qrd_call(st, $1, $2, L(@2), $3, $4)); }
	;

mods:
	  mod '@'                       { $$ = $1; }
	| mods mod '@'                  { $$ = $2; $$->next = $1; }
	;

mod:
	  CTRL                          { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->kind = QM_CTRL; $$->loc = L(@1); }
	| CTRL '(' expr ')'             { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->kind = QM_CTRL; $$->arg = $3; $$->loc = L(@3); }
	| NEGCTRL                       { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->kind = QM_NEGCTRL; $$->loc = L(@1); }
	| NEGCTRL '(' expr ')'          { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->kind = QM_NEGCTRL; $$->arg = $3; $$->loc = L(@3); }
	| INV                           { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->kind = QM_INV; $$->loc = L(@1); }
	| POW '(' expr ')'              { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->kind = QM_POW; $$->arg = $3; $$->loc = L(@3); }
	;

cparams:
	  %empty                        { $$ = NULL; }
	| '(' ')'                       { $$ = NULL; }
	| '(' exprs ')'                 { $$ = $2; }
	;

exprs:
	  expr                          { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->e = $1; $$->loc = L(@1); }
	| exprs ',' expr                { $$ = qrd_alloc(st, sizeof *$$); CHECKP($$); $$->e = $3; $$->loc = L(@3); $$->next = $1; }
	;

opt_qargs:
	  %empty                        { $$ = NULL; }
	| qargs                         { $$ = $1; }
	;

qargs:
	  qarg                          { $$ = $1; }
	| qargs ',' qarg                { $$ = $3; $$->next = $1; }
	;

qarg:
	  IDENT                         {
						$$ = qrd_alloc(st, sizeof *$$);
						CHECKP($$);
						$$->kind = QA_NAME;
						$$->name = $1;
						$$->loc = L(@1);
					}
	| IDENT '[' expr ']'            {
						$$ = qrd_alloc(st, sizeof *$$);
						CHECKP($$);
						$$->kind = QA_INDEX;
						$$->name = $1;
						$$->index = $3;
						$$->loc = L(@1);
						$$->iloc = L(@3);
					}
	| PHYSQ                         {
						$$ = qrd_alloc(st, sizeof *$$);
						CHECKP($$);
						$$->kind = QA_PHYS;
						$$->phys = $1;
						$$->loc = L(@1);
					}
	;

carg:
	  IDENT                         {
						$$ = qrd_alloc(st, sizeof *$$);
						CHECKP($$);
						$$->kind = QA_NAME;
						$$->name = $1;
						$$->loc = L(@1);
					}
	| IDENT '[' expr ']'            {
						$$ = qrd_alloc(st, sizeof *$$);
						CHECKP($$);
						$$->kind = QA_INDEX;
						$$->name = $1;
						$$->index = $3;
						$$->loc = L(@1);
						$$->iloc = L(@3);
					}
	;

expr:
	  INTNUM                        { CHECKP($$ = qrd_num(st, $1, L(@1))); }
	| REALNUM                       { CHECKP($$ = qrd_num(st, $1, L(@1))); }
	| IDENT                         { CHECKP($$ = qrd_ident(st, $1, L(@1))); }
	| IDENT '(' exprs ')'           { CHECKP($$ = qrd_func(st, $1, $3, L(@1))); }
	| POW '(' exprs ')'             { CHECKP($$ = qrd_func(st, "pow", $3, L(@1))); }
	| '(' expr ')'                  { $$ = $2; }
	| '-' expr %prec UMINUS         { CHECKP($$ = qrd_unary(st, QX_NEG, $2, L(@1))); }
	| '+' expr %prec UMINUS         { $$ = $2; }
	| expr '+' expr                 { CHECKP($$ = qrd_binary(st, QX_ADD, $1, $3, L(@2))); }
	| expr '-' expr                 { CHECKP($$ = qrd_binary(st, QX_SUB, $1, $3, L(@2))); }
	| expr '*' expr                 { CHECKP($$ = qrd_binary(st, QX_MUL, $1, $3, L(@2))); }
	| expr '/' expr                 { CHECKP($$ = qrd_binary(st, QX_DIV, $1, $3, L(@2))); }
	| expr '%' expr                 { CHECKP($$ = qrd_binary(st, QX_MOD, $1, $3, L(@2))); }
	| expr POWOP expr               { CHECKP($$ = qrd_binary(st, QX_POW, $1, $3, L(@2))); }
	;

%%

static void qasmperror(QASMPLTYPE *loc, qrd_state *st, void *scanner, const char *msg)
{
	(void)scanner;
	if (!strcmp(msg, "memory exhausted"))
		msg = "nested too deeply (parser stack exhausted)";
	qrd_error(st, L(*loc), "%s", msg);
}

/* Token names as a reader wants them: "';'" -> ';', IDENT -> identifier. */
static const char *token_name(yysymbol_kind_t sym)
{
	switch (sym) {
	case YYSYMBOL_YYEOF: return "end of input";
	case YYSYMBOL_IDENT: return "identifier";
	case YYSYMBOL_STRING: return "string";
	case YYSYMBOL_INTNUM: return "integer";
	case YYSYMBOL_REALNUM: return "number";
	case YYSYMBOL_PHYSQ: return "physical qubit";
	case YYSYMBOL_ARROW: return "'->'";
	case YYSYMBOL_POWOP: return "'**'";
	case YYSYMBOL_OPENQASM: return "'OPENQASM'";
	case YYSYMBOL_INCLUDE: return "'include'";
	case YYSYMBOL_QUBIT: return "'qubit'";
	case YYSYMBOL_BIT: return "'bit'";
	case YYSYMBOL_QREG: return "'qreg'";
	case YYSYMBOL_CREG: return "'creg'";
	case YYSYMBOL_INPUT: return "'input'";
	case YYSYMBOL_CONST: return "'const'";
	case YYSYMBOL_GATE: return "'gate'";
	case YYSYMBOL_MEASURE: return "'measure'";
	case YYSYMBOL_BARRIER: return "'barrier'";
	case YYSYMBOL_RESET: return "'reset'";
	case YYSYMBOL_CTRL: return "'ctrl'";
	case YYSYMBOL_NEGCTRL: return "'negctrl'";
	case YYSYMBOL_INV: return "'inv'";
	case YYSYMBOL_POW: return "'pow'";
	case YYSYMBOL_FLOAT: return "'float'";
	case YYSYMBOL_ANGLE: return "'angle'";
	default: return yysymbol_name(sym);
	}
}

static int yyreport_syntax_error(const yypcontext_t *ctx, qrd_state *st, void *scanner)
{
	(void)scanner;
	if (st->failed) /* the scanner already said what is wrong */
		return 0;
	char buf[300];
	size_t k = 0;
	yysymbol_kind_t got = yypcontext_token(ctx);
	k += (size_t)snprintf(buf, sizeof buf, "syntax error: unexpected ");
	if (got == YYSYMBOL_YYEOF || got == YYSYMBOL_YYerror || got == YYSYMBOL_YYUNDEF)
		k += (size_t)snprintf(buf + k, sizeof buf - k, "%s", token_name(got));
	else
		k += (size_t)snprintf(buf + k, sizeof buf - k, "'%s'", st->tok);
	yysymbol_kind_t exp[6];
	int n = yypcontext_expected_tokens(ctx, exp, 6);
	if (n > 0 && n <= 5) {
		for (int i = 0; i < n && k < sizeof buf; i++)
			k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s",
					      i == 0 ? ", expected " : i + 1 < n ? ", " : " or ",
					      token_name(exp[i]));
	}
	QASMPLTYPE *loc = yypcontext_location(ctx);
	qrd_error(st, L(*loc), "%s", buf);
	return 0;
}

/* From the flex scanner (qasm_lex.h would need YYSTYPE first). */
struct yy_buffer_state;
int qasmplex_init_extra(qrd_state *extra, void **scanner);
int qasmplex_destroy(void *scanner);
struct yy_buffer_state *qasmp_scan_bytes(const char *bytes, int len, void *scanner);

/* Run the scanner and parser over text; 0 or -1 (error in st). */
int qrd_parse_text(qrd_state *st, const char *text, size_t len)
{
	void *scanner = NULL;
	if (len > 0x7fffffff)
		return qrd_error(st, (qrd_loc){1, 1}, "program text too large");
	if (qasmplex_init_extra(st, &scanner))
		return qrd_error(st, (qrd_loc){1, 1}, "out of memory");
	qasmp_scan_bytes(text, (int)len, scanner);
	int r = qasmpparse(st, scanner);
	qasmplex_destroy(scanner);
	if (r && !st->failed)
		qrd_error(st, (qrd_loc){st->line, st->col}, r == 2 ? "out of memory (nesting too deep?)" : "parse failed");
	return st->failed ? -1 : 0;
}
