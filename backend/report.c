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

void json_kstring(json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void json_kdouble(json_writer *w, const char *key, double v)
{
	json_key(w, key);
	json_double(w, v);
}

void json_kint(json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

void json_kbool(json_writer *w, const char *key, int v)
{
	json_key(w, key);
	json_bool(w, v);
}

int json_finish(json_writer *w)
{
	IR_ASSERT(w->depth == 0);
	fputc('\n', w->f);
	return ferror(w->f) ? -1 : 0;
}

/* ----------------------------------------------------------- report */

/* "key": [v0, v1, ...] from iv (ints) or dv (doubles); null when both are NULL. */
static void numbers(json_writer *w, const char *key, const int *iv, const double *dv, int n)
{
	json_key(w, key);
	if (!iv && !dv) {
		json_null(w);
		return;
	}
	json_array(w, 1);
	for (int i = 0; i < n; i++) {
		if (iv)
			json_int(w, iv[i]);
		else
			json_double(w, dv[i]);
	}
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
	json_kstring(w, "layers", r->layers);
	json_kstring(w, "rule", s->rule);
	json_key(w, "candidates");
	json_array(w, 0);
	for (int i = 0; i < s->n; i++) {
		const select_layer *L = &s->layer[i];
		json_object(w);
		json_kstring(w, "name", L->name);
		json_kstring(w, "op", L->op);
		json_kstring(w, "weight", L->weight);
		json_kint(w, "rows", L->rows);
		json_kint(w, "cols", L->cols);
		json_kbool(w, "eligible", L->eligible);
		json_kbool(w, "selected", L->selected);
		json_kstring(w, "reason", L->reason);
		json_end(w);
	}
	json_end(w);
	json_end(w);
}

static void write_layer(json_writer *w, const compress_layer *L)
{
	int nb = L->nsites - 1;
	json_object(w);
	json_kstring(w, "name", L->name);
	json_kstring(w, "op", L->op);
	json_kstring(w, "weight", L->weight);
	json_kstring(w, "reason", L->reason);
	json_kint(w, "rows", L->rows);
	json_kint(w, "cols", L->cols);
	json_kint(w, "qubits_out", L->n_out);
	json_kint(w, "qubits_in", L->n_in);
	json_kint(w, "group", L->group);
	json_kint(w, "sites", L->nsites);
	json_kbool(w, "bias", L->has_bias);
	json_kint(w, "params_dense", L->params_dense);
	json_kint(w, "params_mpo", L->params_mpo);
	json_kdouble(w, "compression_ratio",
		     L->params_mpo > 0 ? (double)L->params_dense / (double)L->params_mpo : NAN);
	numbers(w, "bond_before", L->bond_full, NULL, L->nsites + 1);
	numbers(w, "bond", L->bond, NULL, L->nsites + 1);
	numbers(w, "entropy_before", NULL, L->entropy_full, nb);
	numbers(w, "entropy", NULL, L->entropy, nb);
	numbers(w, "discarded", NULL, L->discarded, nb);
	json_kdouble(w, "discarded_total", L->discarded_total);
	json_kdouble(w, "norm", L->norm);
	json_kdouble(w, "rel_error", L->rel_error);
	json_kstring(w, "rel_error_method", L->rel_error_exact ? "exact" : "estimated: sqrt(discarded_total)");
	json_kstring(w, "note", L->note);
	json_kdouble(w, "seconds", L->seconds);
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
	json_kdouble(w, "cutoff", c->opts.cutoff);
	json_kint(w, "group", c->opts.group);
	json_end(w);
	json_key(w, "layers");
	json_array(w, 0);
	int64_t dense = 0, mpo = 0;
	double seconds = 0;
	for (int i = 0; i < c->n; i++) {
		write_layer(w, &c->layer[i]);
		dense += c->layer[i].params_dense;
		mpo += c->layer[i].params_mpo;
		seconds += c->layer[i].seconds;
	}
	json_end(w);
	json_key(w, "total");
	json_object(w);
	json_kint(w, "params_dense", dense);
	json_kint(w, "params_mpo", mpo);
	json_kdouble(w, "seconds", seconds);
	json_end(w);
	json_end(w);
}

static void write_eval_side(json_writer *w, const char *key, const report_eval *e, int i)
{
	json_key(w, key);
	json_object(w);
	json_kdouble(w, "accuracy", e->accuracy[i]);
	json_key(w, "correct");
	json_int(w, e->correct[i]);
	json_key(w, "n");
	json_int(w, e->n);
	json_kdouble(w, "seconds", e->seconds[i]);
	json_end(w);
}

static void write_eval(json_writer *w, const report_eval *e)
{
	if (!e)
		return;
	json_key(w, "eval");
	json_object(w);
	json_kstring(w, "dataset", e->dataset);
	json_kstring(w, "preprocess", e->preprocess);
	write_eval_side(w, "original", e, 0);
	if (e->have_after) {
		write_eval_side(w, "compressed", e, 1);
		json_kdouble(w, "agreement", e->n ? (double)e->agree / (double)e->n : 0);
	}
	if (e->have_dis) {
		write_eval_side(w, "disentangled", e, 3);
		json_kdouble(w, "agreement_disentangled", e->n ? (double)e->agree_dis / (double)e->n : 0);
	}
	if (e->have_healed) {
		write_eval_side(w, "healed", e, 2);
		json_kdouble(w, "agreement_healed", e->n ? (double)e->agree_healed / (double)e->n : 0);
	}
	json_end(w);
}

/* A held-out value the engine reports as -1 when there is none. */
static void opt_double(json_writer *w, const char *key, double v)
{
	json_key(w, key);
	if (v < 0)
		json_null(w);
	else
		json_double(w, v);
}

static void write_heal(json_writer *w, const report_heal *h)
{
	if (!h)
		return;
	json_key(w, "heal");
	json_object(w);
	json_kstring(w, "dataset", h->dataset);
	json_kstring(w, "preprocess", h->preprocess);
	json_key(w, "recipe");
	json_object(w);
	json_kstring(w, "train", h->train);
	json_kint(w, "epochs", h->epochs);
	json_kint(w, "batch", h->batch);
	json_kstring(w, "optimizer", h->optimizer);
	json_kdouble(w, "lr", h->lr);
	if (!strcmp(h->optimizer, "sgd"))
		json_kdouble(w, "momentum", h->momentum);
	json_kdouble(w, "weight_decay", h->weight_decay);
	json_kstring(w, "schedule", h->schedule);
	json_key(w, "augment");
	if (h->augment)
		json_string(w, "crop4+flip");
	else
		json_null(w);
	/* seeds above INT64_MAX are refused by the driver */
	json_kint(w, "seed", (int64_t)h->seed);
	json_kint(w, "blas_threads", h->threads);
	json_key(w, "limit");
	if (h->limit > 0)
		json_int(w, h->limit);
	else
		json_null(w);
	json_end(w);
	json_kint(w, "train_images", h->train_images);
	json_kint(w, "holdout_images", h->holdout_images);
	json_kint(w, "params_trainable", h->params_trainable);
	json_kint(w, "params_total", h->params_total);
	json_kint(w, "tensors_trainable", h->ntensors_trainable);
	json_key(w, "epochs");
	json_array(w, 0);
	for (int i = 0; h->epoch && i < h->epochs; i++) {
		const train_epoch_stats *e = &h->epoch[i];
		json_object(w);
		json_kint(w, "epoch", e->epoch);
		json_kdouble(w, "loss", e->loss);
		json_kdouble(w, "accuracy", e->accuracy);
		opt_double(w, "holdout_loss", e->val_loss);
		opt_double(w, "holdout_accuracy", e->val_accuracy);
		json_kdouble(w, "lr", e->lr);
		json_kdouble(w, "seconds", e->seconds);
		json_kdouble(w, "images_per_s", e->images_per_s);
		json_end(w);
	}
	json_end(w);
	json_key(w, "test");
	json_object(w);
	json_kint(w, "n", h->test_n);
	json_key(w, "before");
	json_object(w);
	json_kdouble(w, "accuracy", h->test_accuracy[0]);
	json_kdouble(w, "loss", h->test_loss[0]);
	json_end(w);
	json_key(w, "after");
	json_object(w);
	json_kdouble(w, "accuracy", h->test_accuracy[1]);
	json_kdouble(w, "loss", h->test_loss[1]);
	json_end(w);
	json_end(w);
	json_kdouble(w, "seconds", h->seconds);
	json_end(w);
}

/* A stage number, null when the side is absent. */
static void opt_int(json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	if (v < 0)
		json_null(w);
	else
		json_int(w, v);
}

static void write_dis_layer(json_writer *w, const disentangle_layer *L)
{
	const dis_result *r = &L->r;
	json_object(w);
	json_kstring(w, "name", L->name);
	json_kint(w, "rows", L->rows);
	json_kint(w, "cols", L->cols);
	json_kint(w, "qubits_out", L->n);
	json_kint(w, "qubits_in", L->m);
	json_kbool(w, "bias", L->has_bias);
	opt_int(w, "stage_v", L->stage_v);
	opt_int(w, "stage_u", L->stage_u);
	json_kint(w, "gates_u", L->gates_u);
	json_kint(w, "gates_v", L->gates_v);
	json_key(w, "params");
	json_object(w);
	json_kint(w, "dense", L->params_dense);
	json_kint(w, "mpo", L->params_mpo);
	json_kint(w, "circuit_u", r->params_u);
	json_kint(w, "circuit_v", r->params_v);
	json_kint(w, "residual", r->params_residual);
	json_kint(w, "total", r->params_u + r->params_v + r->params_residual);
	json_end(w);
	json_kdouble(w, "overlap", r->overlap);
	json_kdouble(w, "error", r->error);
	json_kdouble(w, "overlap_trunc", r->overlap_trunc);
	json_kdouble(w, "error_trunc", r->error_trunc);
	json_kdouble(w, "loss", r->loss);
	numbers(w, "residual_bond", r->residual ? r->residual->bond : NULL, NULL,
		r->residual ? r->residual->nsites + 1 : 0);
	numbers(w, "entropy_before", NULL, r->entropy_before, r->nbonds);
	numbers(w, "entropy_after", NULL, r->entropy_after, r->nbonds);
	json_kint(w, "sweeps", r->nsweeps);
	json_kint(w, "anneal_sweeps", r->anneal_sweeps);
	json_kint(w, "restart_sweeps", r->restart_sweeps);
	json_kint(w, "best_restart", r->best_restart);
	json_kbool(w, "converged", r->converged);
	json_kdouble(w, "seconds", r->seconds);
	json_kdouble(w, "seconds_per_sweep", r->seconds_per_sweep);
	json_kint(w, "calib_rows", L->calib_rows);
	json_kstring(w, "engine", L->engine);
	json_kstring(w, "note", L->note);
	json_key(w, "history");
	json_array(w, 0);
	for (int i = 0; i < r->nhist; i++) {
		const dis_step *h = &r->hist[i];
		json_object(w);
		json_kint(w, "sweep", i);
		json_kdouble(w, "overlap", h->overlap);
		json_kdouble(w, "error", h->error);
		json_kdouble(w, "loss", h->loss);
		json_kdouble(w, "seconds", h->seconds);
		json_kdouble(w, "discarded", h->discarded);
		opt_int(w, "max_bond", h->max_bond > 0 ? h->max_bond : -1); /* none on the dense path */
		json_end(w);
	}
	json_end(w);
	json_end(w);
}

static void write_dis(json_writer *w, const report_dis *d)
{
	if (!d || !d->result)
		return;
	const disentangle_result *res = d->result;
	const dis_opts *o = &res->opts.dis;
	json_key(w, "disentangle");
	json_object(w);
	json_kstring(w, "method", disentangle_method_name(res->opts.method));
	json_kstring(w, "sides", disentangle_sides_name(o->sides));
	json_key(w, "ansatz");
	json_object(w);
	json_kstring(w, "layout", o->ansatz.layout == DIS_STAIR ? "stair" : "brick");
	json_kint(w, "gate_qubits", o->ansatz.k);
	json_kint(w, "depth", o->ansatz.depth);
	json_kbool(w, "one_body", o->ansatz.one_body);
	json_end(w);
	json_kint(w, "residual_bond", o->residual_bond);
	json_kint(w, "max_sweeps", o->max_sweeps);
	json_kdouble(w, "tol", o->tol);
	json_kint(w, "seed", (int64_t)res->opts.seed);
	json_kint(w, "restarts", o->restarts);
	json_kbool(w, "anneal", o->anneal);
	json_kint(w, "fit_sweeps", o->fit_sweeps);
	json_key(w, "calib");
	if (d->calib) {
		json_object(w);
		json_kstring(w, "dataset", d->calib);
		json_kstring(w, "preprocess", d->preprocess);
		json_kint(w, "limit", d->calib_limit);
		json_end(w);
	} else {
		json_null(w);
	}
	json_kstring(w, "readout", d->readout);
	json_kint(w, "shots", d->shots);
	json_kbool(w, "isa", d->isa);
	json_key(w, "layers");
	json_array(w, 0);
	int64_t dense = 0, mpo = 0, circ = 0, resid = 0;
	for (int i = 0; i < res->n; i++) {
		const disentangle_layer *L = &res->layer[i];
		write_dis_layer(w, L);
		dense += L->params_dense;
		mpo += L->params_mpo;
		circ += L->r.params_u + L->r.params_v;
		resid += L->r.params_residual;
	}
	json_end(w);
	json_key(w, "stages");
	json_array(w, 0);
	for (int i = 0; i < d->nstages; i++) {
		const report_stage *st = &d->stage[i];
		json_object(w);
		json_kint(w, "stage", st->stage);
		json_kstring(w, "node", st->node);
		json_kint(w, "qubits", st->qubits);
		json_kint(w, "program_qubits", st->qubits + 1);
		json_kint(w, "gates", st->gates);
		json_kint(w, "cx", st->stats.cx);
		json_kint(w, "one_qubit", st->stats.oneq);
		json_kint(w, "prep_cx", st->stats.prep_cx);
		json_kint(w, "prep_one_qubit", st->stats.prep_oneq);
		json_kint(w, "depth", st->stats.depth);
		json_kint(w, "circuit_depth", st->stats.circuit_depth);
		json_kint(w, "inputs", st->stats.ninputs);
		json_kstring(w, "file", st->file);
		json_end(w);
	}
	json_end(w);
	json_key(w, "total");
	json_object(w);
	json_kint(w, "params_dense", dense);
	json_kint(w, "params_mpo", mpo);
	json_kint(w, "params_circuits", circ);
	json_kint(w, "params_residual", resid);
	json_end(w);
	json_end(w);
}

int report_write(FILE *f, const report_info *r)
{
	json_writer w;
	json_init(&w, f);
	json_object(&w);
	json_kstring(&w, "qnnc_version", QNNC_VERSION);
	json_key(&w, "input");
	json_object(&w);
	json_kstring(&w, "kind", r->matrix ? "matrix" : "onnx");
	json_kstring(&w, "path", r->matrix ? r->matrix : r->model);
	json_end(&w);
	json_key(&w, "flags");
	json_object(&w);
	for (int i = 0; i < r->nflags; i++)
		json_kstring(&w, r->flag_name[i], r->flag_value[i]);
	json_end(&w);
	write_selection(&w, r);
	write_compression(&w, r->compression);
	write_dis(&w, r->disentangle);
	write_eval(&w, r->eval);
	write_heal(&w, r->heal);
	json_end(&w);
	return json_finish(&w);
}
