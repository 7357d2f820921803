/* evaluate.c - --eval=DATASET and --preprocess for the compile command:
 * top-1 accuracy of the model as loaded and after the rewrite passes, on
 * the dataset's test split, with the agreement of their predictions. */
#include <stdlib.h>
#include <string.h>

#include "driver.h"

int drv_eval_begin(const char *spec, const char *preprocess, int quiet, ir_graph *g, drv_eval *ev)
{
	char err[4096];
	memset(ev, 0, sizeof *ev);
	ev->quiet = quiet;
	ev->rep.dataset = spec;
	ev->rep.preprocess = preprocess;
	if (preprocess && ds_preprocess_parse(preprocess, &ev->pp, err, sizeof err))
		return ir_error(g, NULL, "--preprocess: %s", err);
	ev->data = ds_load(spec, DS_TEST, err, sizeof err);
	if (!ev->data)
		return ir_error(g, NULL, "--eval: %s", err);
	if (preprocess && ds_preprocess_check(&ev->pp, ev->data->c, err, sizeof err))
		return ir_error(g, NULL, "--preprocess: %s", err);
	ev->pred0 = malloc((size_t)ev->data->n * sizeof *ev->pred0);
	ev->pred1 = malloc((size_t)ev->data->n * sizeof *ev->pred1);
	if (!ev->pred0 || !ev->pred1)
		return ir_error(g, NULL, "--eval: out of memory");
	eval_result r;
	if (eval_predict(g, ev->data, preprocess ? &ev->pp : NULL, 0, quiet, "original", ev->pred0, &r))
		return -1;
	ev->rep.n = r.n;
	ev->rep.correct[0] = r.correct;
	ev->rep.accuracy[0] = r.accuracy;
	ev->rep.seconds[0] = r.seconds;
	return 0;
}

int drv_eval_end(int rewritten, ir_graph *g, drv_eval *ev)
{
	if (rewritten) {
		eval_result r;
		if (eval_predict(g, ev->data, ev->rep.preprocess ? &ev->pp : NULL, 0, ev->quiet, "compressed",
				 ev->pred1, &r))
			return -1;
		ev->rep.have_after = 1;
		ev->rep.correct[1] = r.correct;
		ev->rep.accuracy[1] = r.accuracy;
		ev->rep.seconds[1] = r.seconds;
		ev->rep.agree = eval_agreement(ev->pred0, ev->pred1, r.n);
	}
	if (!ev->quiet) {
		fprintf(stderr, "qnnc: %s: original %.2f%% (%lld/%lld)", ev->rep.dataset, 100 * ev->rep.accuracy[0],
			(long long)ev->rep.correct[0], (long long)ev->rep.n);
		if (ev->rep.have_after)
			fprintf(stderr, ", compressed %.2f%% (%lld/%lld), same predictions on %.2f%%",
				100 * ev->rep.accuracy[1], (long long)ev->rep.correct[1], (long long)ev->rep.n,
				ev->rep.n ? 100.0 * (double)ev->rep.agree / (double)ev->rep.n : 0.0);
		fprintf(stderr, "\n");
	}
	return 0;
}

void drv_eval_free(drv_eval *ev)
{
	ds_free(ev->data);
	free(ev->pred0);
	free(ev->pred1);
	memset(ev, 0, sizeof *ev);
}
