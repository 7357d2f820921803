/* report.c - the compilation report (--emit=report): one JSON object with
 * fixed key order, written by a small streaming JSON writer (no
 * dependency). Same inputs and flags give byte-identical reports. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "../ir/ir.h"

/* ------------------------------------------------------ JSON writer */

void json_init(json_writer *w, FILE *f)
{
	memset(w, 0, sizeof *w);
	w->f = f;
}

static void indent(json_writer *w, int depth)
{
	fputc('\n', w->f);
	for (int i = 0; i < depth; i++)
		fputs("  ", w->f);
}

/* Separator and indentation before a value. */
static void begin_value(json_writer *w)
{
	if (w->depth == 0)
		return;
	int d = w->depth - 1;
	if (w->kind[d] == '{') {
		IR_ASSERT(w->want_value);
		w->want_value = 0;
		return;
	}
	if (w->count[d]++)
		fputc(',', w->f);
	if (w->inl[d])
		fputs(w->count[d] > 1 ? " " : "", w->f);
	else
		indent(w, w->depth);
}

static void open_container(json_writer *w, char kind, int inl)
{
	IR_ASSERT(w->depth < JSON_MAX_DEPTH);
	IR_ASSERT(w->depth == 0 || !w->inl[w->depth - 1]); /* scalars only in one-line arrays */
	begin_value(w);
	fputc(kind, w->f);
	w->kind[w->depth] = kind;
	w->inl[w->depth] = (char)inl;
	w->count[w->depth] = 0;
	w->depth++;
}

void json_object(json_writer *w) { open_container(w, '{', 0); }
void json_array(json_writer *w, int inline_) { open_container(w, '[', inline_); }

void json_end(json_writer *w)
{
	IR_ASSERT(w->depth > 0 && !w->want_value);
	int d = --w->depth;
	if (w->count[d] && !w->inl[d])
		indent(w, d);
	fputc(w->kind[d] == '{' ? '}' : ']', w->f);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] < 0xC2 ? 0 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : s[0] < 0xF5 ? 4 : 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* overlong 3/4-byte forms, surrogates, above U+10FFFF */
	if ((n == 3 && s[0] == 0xE0 && s[1] < 0xA0) || (n == 3 && s[0] == 0xED && s[1] >= 0xA0) ||
	    (n == 4 && s[0] == 0xF0 && s[1] < 0x90) || (n == 4 && s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return n;
}

static void put_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c < 0x20 || c == 0x7F) {
			fprintf(f, "\\u%04x", c);
		} else if (c >= 0x80) {
			int n = utf8_len(s);
			if (!n) {
				fputs("\\ufffd", f);
				s++;
				continue;
			}
			fwrite(s, 1, (size_t)n, f);
			s += n;
			continue;
		} else {
			fputc(c, f);
		}
		s++;
	}
	fputc('"', f);
}

void json_key(json_writer *w, const char *key)
{
	IR_ASSERT(w->depth > 0 && w->kind[w->depth - 1] == '{' && !w->want_value);
	if (w->count[w->depth - 1]++)
		fputc(',', w->f);
	indent(w, w->depth);
	put_string(w->f, key);
	fputs(": ", w->f);
	w->want_value = 1;
}

void json_string(json_writer *w, const char *s)
{
	begin_value(w);
	if (s)
		put_string(w->f, s);
	else
		fputs("null", w->f);
}

void json_double(json_writer *w, double v)
{
	begin_value(w);
	if (isfinite(v))
		fprintf(w->f, "%.17g", v);
	else
		fputs("null", w->f);
}

void json_int(json_writer *w, int64_t v)
{
	begin_value(w);
	fprintf(w->f, "%" PRId64, v);
}

void json_bool(json_writer *w, int v)
{
	begin_value(w);
	fputs(v ? "true" : "false", w->f);
}

void json_null(json_writer *w)
{
	begin_value(w);
	fputs("null", w->f);
}

int json_finish(json_writer *w)
{
	IR_ASSERT(w->depth == 0);
	fputc('\n', w->f);
	return ferror(w->f) ? -1 : 0;
}

/* ----------------------------------------------------------- report */

static void ints(json_writer *w, const char *key, const int *v, int n)
{
	json_key(w, key);
	if (!v) {
		json_null(w);
		return;
	}
	json_array(w, 1);
	for (int i = 0; i < n; i++)
		json_int(w, v[i]);
	json_end(w);
}

static void doubles(json_writer *w, const char *key, const double *v, int n)
{
	json_key(w, key);
	if (!v) {
		json_null(w);
		return;
	}
	json_array(w, 1);
	for (int i = 0; i < n; i++)
		json_double(w, v[i]);
	json_end(w);
}

static void write_selection(json_writer *w, const report_info *r)
{
	const select_result *s = r->selection;
	json_key(w, "selection");
	if (!s) {
		json_null(w);
		return;
	}
	json_object(w);
	json_key(w, "layers");
	json_string(w, r->layers);
	json_key(w, "rule");
	json_string(w, s->rule);
	json_key(w, "candidates");
	json_array(w, 0);
	for (int i = 0; i < s->n; i++) {
		const select_layer *L = &s->layer[i];
		json_object(w);
		json_key(w, "name");
		json_string(w, L->name);
		json_key(w, "op");
		json_string(w, L->op);
		json_key(w, "weight");
		json_string(w, L->weight);
		json_key(w, "rows");
		json_int(w, L->rows);
		json_key(w, "cols");
		json_int(w, L->cols);
		json_key(w, "eligible");
		json_bool(w, L->eligible);
		json_key(w, "selected");
		json_bool(w, L->selected);
		json_key(w, "reason");
		json_string(w, L->reason);
		json_end(w);
	}
	json_end(w);
	json_end(w);
}

static void write_layer(json_writer *w, const compress_layer *L)
{
	int nb = L->nsites - 1;
	json_object(w);
	json_key(w, "name");
	json_string(w, L->name);
	json_key(w, "op");
	json_string(w, L->op);
	json_key(w, "weight");
	json_string(w, L->weight);
	json_key(w, "reason");
	json_string(w, L->reason);
	json_key(w, "rows");
	json_int(w, L->rows);
	json_key(w, "cols");
	json_int(w, L->cols);
	json_key(w, "qubits_out");
	json_int(w, L->n_out);
	json_key(w, "qubits_in");
	json_int(w, L->n_in);
	json_key(w, "group");
	json_int(w, L->group);
	json_key(w, "sites");
	json_int(w, L->nsites);
	json_key(w, "bias");
	json_bool(w, L->has_bias);
	json_key(w, "params_dense");
	json_int(w, L->params_dense);
	json_key(w, "params_mpo");
	json_int(w, L->params_mpo);
	json_key(w, "compression_ratio");
	json_double(w, L->params_mpo > 0 ? (double)L->params_dense / (double)L->params_mpo : NAN);
	ints(w, "bond_before", L->bond_full, L->nsites + 1);
	ints(w, "bond", L->bond, L->nsites + 1);
	doubles(w, "entropy_before", L->entropy_full, nb);
	doubles(w, "entropy", L->entropy, nb);
	doubles(w, "discarded", L->discarded, nb);
	json_key(w, "discarded_total");
	json_double(w, L->discarded_total);
	json_key(w, "norm");
	json_double(w, L->norm);
	json_key(w, "rel_error");
	json_double(w, L->rel_error);
	json_key(w, "rel_error_method");
	json_string(w, L->rel_error_exact ? "exact" : "estimated: sqrt(discarded_total)");
	json_key(w, "note");
	json_string(w, L->note);
	json_end(w);
}

static void write_compression(json_writer *w, const compress_result *c)
{
	json_key(w, "compression");
	if (!c) {
		json_null(w);
		return;
	}
	json_object(w);
	json_key(w, "policy");
	json_object(w);
	json_key(w, "max_bond");
	if (c->opts.max_bond > 0)
		json_int(w, c->opts.max_bond);
	else
		json_null(w);
	json_key(w, "cutoff");
	json_double(w, c->opts.cutoff);
	json_key(w, "group");
	json_int(w, c->opts.group);
	json_end(w);
	json_key(w, "layers");
	json_array(w, 0);
	int64_t dense = 0, mpo = 0;
	for (int i = 0; i < c->n; i++) {
		write_layer(w, &c->layer[i]);
		dense += c->layer[i].params_dense;
		mpo += c->layer[i].params_mpo;
	}
	json_end(w);
	json_key(w, "total");
	json_object(w);
	json_key(w, "params_dense");
	json_int(w, dense);
	json_key(w, "params_mpo");
	json_int(w, mpo);
	json_end(w);
	json_end(w);
}

int report_write(FILE *f, const report_info *r)
{
	json_writer w;
	json_init(&w, f);
	json_object(&w);
	json_key(&w, "qnnc_version");
	json_string(&w, QNNC_VERSION);
	json_key(&w, "input");
	json_object(&w);
	json_key(&w, "kind");
	json_string(&w, r->matrix ? "matrix" : "onnx");
	json_key(&w, "path");
	json_string(&w, r->matrix ? r->matrix : r->model);
	json_end(&w);
	json_key(&w, "flags");
	json_object(&w);
	for (int i = 0; i < r->nflags; i++) {
		json_key(&w, r->flag_name[i]);
		json_string(&w, r->flag_value[i]);
	}
	json_end(&w);
	write_selection(&w, r);
	write_compression(&w, r->compression);
	json_end(&w);
	return json_finish(&w);
}
