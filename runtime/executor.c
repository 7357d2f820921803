/* executor.c - the executor interface and the default executor: the
 * embedded simulator behind a cache of parsed programs keyed by their text
 * (FNV-1a hash, then a full comparison), so a stage that runs once per
 * inference is parsed once. The cache is a small LRU table behind a spin
 * lock (C11 atomics: libc only); entries in use are reference-counted and
 * never evicted, so runs on different threads share programs safely. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnnrt_impl.h"

#define CACHE_SIZE 32

typedef struct centry {
	uint64_t hash;
	size_t len;
	char *text;
	qnn_program *prog;
	uint64_t used; /* LRU clock */
	int refs;
} centry;

typedef struct pcache {
	atomic_flag lock;
	uint64_t clock;
	centry e[CACHE_SIZE];
} pcache;

static pcache default_cache = {ATOMIC_FLAG_INIT, 0, {{0, 0, NULL, NULL, 0, 0}}};

static void lock(pcache *c)
{
	while (atomic_flag_test_and_set_explicit(&c->lock, memory_order_acquire))
		;
}

static void unlock(pcache *c) { atomic_flag_clear_explicit(&c->lock, memory_order_release); }

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

/* Entry holding text, with a reference taken; NULL when absent. Locked. */
static centry *find(pcache *c, uint64_t h, const char *text, size_t len)
{
	for (int i = 0; i < CACHE_SIZE; i++) {
		centry *e = &c->e[i];
		if (e->prog && e->hash == h && e->len == len && !memcmp(e->text, text, len)) {
			e->refs++;
			e->used = ++c->clock;
			return e;
		}
	}
	return NULL;
}

/* Insert prog (owning a copy of text) unless a racing thread did; returns
 * the entry with a reference taken, or NULL when the table is full of
 * programs in use (the caller then runs its own copy uncached). Locked. */
static centry *insert(pcache *c, uint64_t h, const char *text, size_t len, qnn_program **prog)
{
	centry *e = find(c, h, text, len);
	if (e)
		return e; /* the caller frees its duplicate */
	centry *victim = NULL;
	for (int i = 0; i < CACHE_SIZE; i++) {
		centry *x = &c->e[i];
		if (x->refs == 0 && (!victim || !x->prog || (victim->prog && x->used < victim->used)))
			victim = x;
		if (victim && !victim->prog)
			break;
	}
	if (!victim)
		return NULL;
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	memcpy(copy, text, len);
	qnn_program_free(victim->prog);
	free(victim->text);
	victim->hash = h;
	victim->len = len;
	victim->text = copy;
	victim->prog = *prog;
	*prog = NULL;
	victim->refs = 1;
	victim->used = ++c->clock;
	return victim;
}

static int sim_run(void *impl, const char *text, size_t len, const double *inputs, int ninputs,
		   long shots, uint64_t seed, qnn_result *res)
{
	pcache *c = impl;
	uint64_t h = fnv1a(text, len);
	lock(c);
	centry *e = find(c, h, text, len);
	unlock(c);
	qnn_program *own = NULL;
	if (!e) {
		own = qnn_program_parse(text, len, "<qasm>", res->err, sizeof res->err);
		if (!own)
			return QNN_EPARSE;
		lock(c);
		e = insert(c, h, text, len, &own);
		unlock(c);
		if (e && own) { /* another thread cached it first */
			qnn_program_free(own);
			own = NULL;
		}
	}
	int r = qnn_program_run(e ? e->prog : own, inputs, ninputs, shots, seed, res);
	if (e) {
		lock(c);
		e->refs--;
		unlock(c);
	}
	qnn_program_free(own);
	return r;
}

static const qnn_executor default_executor = {"qnnrt-statevector", &default_cache, sim_run, NULL};

const qnn_executor *qnn_executor_default(void) { return &default_executor; }

void qnn_executor_default_clear(void)
{
	pcache *c = &default_cache;
	lock(c);
	for (int i = 0; i < CACHE_SIZE; i++) {
		centry *e = &c->e[i];
		if (e->prog && e->refs == 0) {
			qnn_program_free(e->prog);
			free(e->text);
			memset(e, 0, sizeof *e);
		}
	}
	unlock(c);
}

int qnn_execute(const qnn_executor *ex, const char *program, size_t len, const double *inputs,
		int ninputs, long shots, uint64_t seed, qnn_result *res)
{
	if (!res)
		return QNN_EARG;
	res->nqubits = res->nbits = res->is_real = 0;
	res->shots = 0;
	res->err[0] = 0;
	if (!ex)
		ex = qnn_executor_default();
	if (!ex->run)
		return qrt_err(res->err, sizeof res->err, QNN_EARG, "executor '%s' has no run function",
			       ex->name ? ex->name : "?");
	if (!program || shots < 0 || ninputs < 0 || (ninputs > 0 && !inputs))
		return qrt_err(res->err, sizeof res->err, QNN_EARG,
			       "qnn_execute: bad arguments (program %s, shots %ld, %d inputs%s)",
			       program ? "set" : "NULL", shots, ninputs,
			       ninputs > 0 && !inputs ? " but no values" : "");
	int r = ex->run(ex->impl, program, len, inputs, ninputs, shots, seed, res);
	if (r && !res->err[0])
		snprintf(res->err, sizeof res->err, "%s: %s", ex->name ? ex->name : "executor",
			 qnn_strerror(r));
	return r;
}
