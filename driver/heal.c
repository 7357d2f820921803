/* heal.c - --heal=DATASET for the compile command: fine-tune the compressed
 * (and disentangled) model on the dataset's training split with the
 * training engine (passes/train.h), measure the test split before and
 * after, and store the healed weights in the graph so that every later
 * output (C code, ONNX) carries them. With --eval, the disentangled and the
 * healed graphs are also evaluated by the reference interpreter, like the
 * original and the compressed one. */
#include <stdlib.h>
#include <string.h>

#include "../passes/la.h"
#include "../passes/progress.h"
#include "driver.h"

typedef struct epoch_ctx {
	const drv_heal_opts *o;
	drv_heal *h;
} epoch_ctx;

/* One line per epoch: the bar of train_fit is erased when it ends, and
 * logs want the numbers too. */
static void on_epoch(void *ctx, const train_epoch_stats *s)
{
	epoch_ctx *c = ctx;
	c->h->stats[s->epoch - 1] = *s;
	if (c->o->quiet)
		return;
	fprintf(stderr, "qnnc: heal epoch %d/%d: loss %.4f, accuracy %.2f%%", s->epoch, c->o->epochs, s->loss,
		100 * s->accuracy);
	if (s->val_accuracy >= 0)
		fprintf(stderr, ", held-out %.2f%% (loss %.4f)", 100 * s->val_accuracy, s->val_loss);
	fprintf(stderr, ", %.0f images/s, lr %.3g\n", s->images_per_s, s->lr);
}

int drv_heal_run(const drv_heal_opts *o, ir_graph *g, drv_heal *h)
{
	char err[4096];
	ds_preprocess pp = {0};
	ds_set *train = NULL, *hold = NULL, *test = NULL;
	train_model *m = NULL;
	int rc = -1;
	memset(h, 0, sizeof *h);
	report_heal *r = &h->rep;
	r->dataset = o->spec;
	r->preprocess = o->preprocess;
	r->train = o->scope == TRAIN_LAYER ? "layer" : "all";
	r->epochs = o->epochs;
	r->batch = o->batch;
	r->optimizer = o->optim.kind == OPTIM_SGD ? "sgd" : "adam";
	r->schedule = o->sched.kind == SCHED_COSINE ? "cosine" : o->sched.kind == SCHED_ONECYCLE ? "onecycle"
												 : "constant";
	r->lr = o->optim.lr;
	r->momentum = o->optim.momentum;
	r->weight_decay = o->optim.weight_decay;
	r->augment = o->augment;
	r->seed = o->seed;
	/* OpenBLAS splits products differently with more threads: pin the
	 * count so that a seed gives the same weights bit for bit. */
	r->threads = la_set_threads(o->threads);
	r->limit = o->limit;

	if (o->preprocess && ds_preprocess_parse(o->preprocess, &pp, err, sizeof err))
		return ir_error(g, NULL, "--preprocess: %s", err);
	if (!(train = ds_load(o->spec, DS_TRAIN, err, sizeof err)) ||
	    !(test = ds_load(o->spec, DS_TEST, err, sizeof err))) {
		ir_error(g, NULL, "--heal: %s", err);
		goto done;
	}
	if (o->preprocess && ds_preprocess_check(&pp, train->c, err, sizeof err)) {
		ir_error(g, NULL, "--preprocess: %s", err);
		goto done;
	}
	/* The first images of the split: the samples and their order do not
	 * depend on the seed, so a limited run is a prefix of the data. */
	if (o->limit > 0 && o->limit < train->n)
		train->n = o->limit;
	if (o->holdout > 0) {
		if (o->holdout >= train->n) {
			ir_error(g, NULL, "--holdout=%lld leaves no training images (%lld in the split)",
				 (long long)o->holdout, (long long)train->n);
			goto done;
		}
		if (!(hold = ds_holdout(train, o->holdout, err, sizeof err))) {
			ir_error(g, NULL, "--holdout: %s", err);
			goto done;
		}
	}
	r->train_images = train->n;
	r->holdout_images = hold ? hold->n : 0;

	train_opts to = {.scope = o->scope};
	if (!(m = train_new(g, &to)))
		goto done;
	r->params_trainable = train_ntrainable(m, &r->ntensors_trainable);
	for (int i = 0; i < train_nparams(m); i++)
		r->params_total += train_param_at(m, i)->numel;
	if (!r->ntensors_trainable) {
		ir_error(g, NULL, "--heal --train=%s: nothing to train (%s)", r->train,
			 o->scope == TRAIN_LAYER ? "no layer was rewritten; use --layers, or --train=all"
						 : "the model has no constant weights");
		goto done;
	}
	if (!(h->stats = calloc((size_t)o->epochs, sizeof *h->stats))) {
		ir_error(g, NULL, "--heal: out of memory");
		goto done;
	}
	r->epoch = h->stats;

	const ds_preprocess *ppp = o->preprocess ? &pp : NULL;
	r->test_n = test->n;
	if (train_evaluate(m, test, ppp, 0, &r->test_loss[0], &r->test_accuracy[0], NULL))
		goto done;
	if (!o->quiet)
		fprintf(stderr, "qnnc: heal: training %lld of %lld parameters (--train=%s) on %lld %s images, "
				"%d epoch%s; test accuracy before %.2f%%\n",
			(long long)r->params_trainable, (long long)r->params_total, r->train,
			(long long)train->n, ds_kind_name(train->kind), o->epochs, o->epochs == 1 ? "" : "s",
			100 * r->test_accuracy[0]);

	train_config c;
	train_config_defaults(&c);
	c.epochs = o->epochs;
	c.batch = o->batch;
	c.optim = o->optim;
	c.sched = o->sched;
	c.seed = o->seed;
	c.pp = ppp;
	if (o->augment)
		c.aug = (ds_augment){4, 1}; /* torchvision's CIFAR recipe */
	c.quiet = o->quiet;
	c.label = "heal";
	epoch_ctx ctx = {o, h};
	c.on_epoch = on_epoch;
	c.ctx = &ctx;
	double t0 = progress_now();
	if (train_fit(m, train, hold, &c, NULL))
		goto done;
	r->seconds = progress_now() - t0;
	if (train_evaluate(m, test, ppp, 0, &r->test_loss[1], &r->test_accuracy[1], NULL))
		goto done;
	train_write_back(m);
	if (!o->quiet)
		fprintf(stderr, "qnnc: heal: test accuracy %.2f%% -> %.2f%% (%lld images), %.1f s\n",
			100 * r->test_accuracy[0], 100 * r->test_accuracy[1], (long long)test->n, r->seconds);
	rc = 0;
done:
	train_free(m);
	ds_free(train);
	ds_free(hold);
	ds_free(test);
	return rc;
}

/* Evaluate g into slot i of the report (2: healed, 3: disentangled) and
 * print the summary line. pred1 holds the compressed predictions only for
 * their agreement, computed by now: each later model reuses it. */
static int eval_slot(ir_graph *g, drv_eval *ev, int i, const char *what)
{
	eval_result r;
	report_eval *e = &ev->rep;
	if (eval_predict(g, ev->data, e->preprocess ? &ev->pp : NULL, 0, ev->quiet, what, ev->pred1, &r))
		return -1;
	int64_t agree = eval_agreement(ev->pred0, ev->pred1, r.n);
	e->correct[i] = r.correct;
	e->accuracy[i] = r.accuracy;
	e->seconds[i] = r.seconds;
	if (i == 2) {
		e->have_healed = 1;
		e->agree_healed = agree;
	} else {
		e->have_dis = 1;
		e->agree_dis = agree;
	}
	if (!ev->quiet)
		fprintf(stderr, "qnnc: %s: %s %.2f%% (%lld/%lld), same predictions as the original on %.2f%%\n",
			e->dataset, what, 100 * r.accuracy, (long long)r.correct, (long long)r.n,
			r.n ? 100.0 * (double)agree / (double)r.n : 0.0);
	return 0;
}

int drv_heal_eval(ir_graph *g, drv_eval *ev) { return eval_slot(g, ev, 2, "healed"); }

int drv_dis_eval(ir_graph *g, drv_eval *ev) { return eval_slot(g, ev, 3, "disentangled"); }

void drv_heal_free(drv_heal *h)
{
	free(h->stats);
	memset(h, 0, sizeof *h);
}
