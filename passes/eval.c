/* eval.c - top-1 accuracy of a classifier on a dataset split with the
 * reference interpreter (see eval.h). The input layout is worked out once
 * from the graph's declared input; each batch is then converted by
 * ds_batch straight into the input tensor and the logits are reduced to
 * an argmax per image. */
#include "eval.h"
#include "passes.h"
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How the images are fed: input rank and dims (dims[0] is set per batch),
 * dtype, and the batch size the graph fixes (0: free). */
typedef struct eval_layout {
	ir_dtype dtype;
	int rank;
	int64_t dims[IR_MAX_RANK];
	int64_t fixed_batch;
} eval_layout;

/* Match the graph's one input against the dataset's c×h×w images. */
static int eval_input_layout(ir_graph *g, const ds_set *d, eval_layout *L)
{
	if (g->ninputs != 1)
		return ir_error(g, NULL, "--eval: the model has %d inputs; it needs exactly one (the images)",
				g->ninputs);
	const ir_value *v = g->inputs[0];
	const ir_shape *s = &v->shape;
	char ss[256];
	L->dtype = v->dtype == IR_UNDEF ? IR_F32 : v->dtype;
	if (L->dtype != IR_F32 && L->dtype != IR_F64)
		return ir_error(g, NULL, "--eval: model input '%s' is %s; images are fed as f32 (or f64)",
				v->name, ir_dtype_name(v->dtype));
	int64_t c = d->c, h = d->h, w = d->w;
	/* An input of unknown rank gets the natural NCHW layout. */
	L->rank = s->rank < 0 ? 4 : s->rank;
	int ok = 0;
	if (L->rank == 4) {
		int64_t want[3] = {c, h, w};
		ok = 1;
		for (int k = 0; k < 3 && s->rank == 4; k++)
			ok &= s->d[k + 1].v < 0 || s->d[k + 1].v == want[k];
		L->dims[1] = c, L->dims[2] = h, L->dims[3] = w;
	} else if (L->rank == 3 && c == 1) {
		ok = (s->d[1].v < 0 || s->d[1].v == h) && (s->d[2].v < 0 || s->d[2].v == w);
		L->dims[1] = h, L->dims[2] = w;
	} else if (L->rank == 2) {
		ok = s->d[1].v < 0 || s->d[1].v == c * h * w;
		L->dims[1] = c * h * w;
	}
	/* A flattened input with an unknown feature size would be bound to
	 * whatever we feed; that is fine, the first layer then checks it. */
	if (!ok) {
		char alt[64] = "";
		if (c == 1)
			snprintf(alt, sizeof alt, ", [N,%lld,%lld]", (long long)h, (long long)w);
		return ir_error(g, NULL,
				"--eval: model input '%s' has shape %s, but the %s images are %lld×%lld×%lld "
				"(c×h×w); the input must be [N,%lld,%lld,%lld]%s or [N,%lld]",
				v->name, s->rank < 0 ? "?" : ir_shape_str(s, ss, sizeof ss),
				ds_kind_name(d->kind), (long long)c, (long long)h, (long long)w, (long long)c,
				(long long)h, (long long)w, alt, (long long)(c * h * w));
	}
	L->fixed_batch = s->rank > 0 && s->d[0].v >= 0 ? s->d[0].v : 0;
	if (s->rank > 0 && s->d[0].v == 0)
		return ir_error(g, NULL, "--eval: model input '%s' has shape %s: a batch of 0 images",
				v->name, ir_shape_str(s, ss, sizeof ss));
	return 0;
}

/* Static checks of the output where its type is known; the run checks
 * the actual tensor again. */
static int eval_output_check(ir_graph *g)
{
	if (g->noutputs != 1)
		return ir_error(g, NULL, "--eval: the model has %d outputs; it needs exactly one (the logits)",
				g->noutputs);
	const ir_value *v = g->outputs[0];
	char ss[256];
	if (v->dtype != IR_UNDEF && !ir_dtype_is_float(v->dtype))
		return ir_error(g, NULL, "--eval: model output '%s' is %s; it must hold float scores (logits)",
				v->name, ir_dtype_name(v->dtype));
	if (v->shape.rank >= 0 && v->shape.rank < 2)
		return ir_error(g, NULL, "--eval: model output '%s' has shape %s; it must be [N, classes]",
				v->name, ir_shape_str(&v->shape, ss, sizeof ss));
	if (v->shape.rank >= 2) {
		int64_t k = v->shape.d[v->shape.rank - 1].v;
		if (k >= 0 && k < 2)
			return ir_error(g, NULL, "--eval: model output '%s' has shape %s: fewer than 2 classes",
					v->name, ir_shape_str(&v->shape, ss, sizeof ss));
	}
	return 0;
}

/* Check one batch's output: [b, 1, ..., 1, classes], float, classes ≥ 2.
 * Returns the class count or -1. */
static int64_t eval_output_classes(ir_graph *g, const ir_tensor *t, int64_t b)
{
	const char *name = g->outputs[0]->name;
	char ss[256];
	ir_shape s;
	ir_shape_from_dims(&s, t->rank, t->dims);
	if (t->dtype != IR_F32 && t->dtype != IR_F64)
		return ir_error(g, NULL, "--eval: model output '%s' is %s; it must hold float scores (logits)",
				name, ir_dtype_name(t->dtype));
	int ok = t->rank >= 2 && t->dims[0] == b;
	for (int k = 1; ok && k < t->rank - 1; k++)
		ok = t->dims[k] == 1;
	if (!ok)
		return ir_error(g, NULL, "--eval: model output '%s' has shape %s for a batch of %lld images; "
				"it must be [%lld, classes] (does the model fix the batch size?)",
				name, ir_shape_str(&s, ss, sizeof ss), (long long)b, (long long)b);
	int64_t k = t->dims[t->rank - 1];
	if (k < 2)
		return ir_error(g, NULL, "--eval: model output '%s' has shape %s: fewer than 2 classes", name,
				ir_shape_str(&s, ss, sizeof ss));
	return k;
}

/* First index of the largest non-NaN score, -1 if all are NaN. */
static int32_t eval_argmax(const ir_tensor *t, int64_t row, int64_t k)
{
	int32_t best = -1;
	double bv = 0;
	for (int64_t j = 0; j < k; j++) {
		double x = t->dtype == IR_F32 ? (double)((const float *)t->data)[row * k + j]
					      : ((const double *)t->data)[row * k + j];
		if (!isnan(x) && (best < 0 || x > bv)) {
			best = (int32_t)j;
			bv = x;
		}
	}
	return best;
}

int eval_predict(ir_graph *g, const ds_set *d, const ds_preprocess *pp, int batch, int quiet,
		 const char *label, int32_t *pred, eval_result *res)
{
	memset(res, 0, sizeof *res);
	char err[512];
	if (!d || d->n <= 0)
		return ir_error(g, NULL, "--eval: the dataset has no images");
	if (ds_preprocess_check(pp, d->c, err, sizeof err))
		return ir_error(g, NULL, "--eval: %s", err);
	eval_layout L;
	if (eval_input_layout(g, d, &L) || eval_output_check(g))
		return -1;
	int64_t B = L.fixed_batch ? L.fixed_batch : batch > 0 ? batch : EVAL_DEFAULT_BATCH;
	if (!L.fixed_batch && B > d->n)
		B = d->n;
	const int64_t chw = d->c * d->h * d->w;

	/* Full batches use x; a short last batch (free batch size) uses xl. */
	ir_tensor *x = NULL, *xl = NULL, *out = NULL;
	float *stage = NULL; /* ds_batch output when the input is float64 */
	int64_t correct = 0, classes = 0;
	int rc = -1;
	progress bar;
	progress_start(&bar, stderr, label ? label : "eval", d->n, quiet);
	double t0 = progress_now();
	L.dims[0] = B;
	x = ir_tensor_new(NULL, L.dtype, L.rank, L.dims);
	if (L.dtype == IR_F64)
		stage = malloc((size_t)(B * chw) * sizeof *stage);
	if (!x || (L.dtype == IR_F64 && !stage)) {
		ir_error(g, NULL, "--eval: cannot allocate a batch of %lld images", (long long)B);
		goto done;
	}

	for (int64_t first = 0; first < d->n; first += B) {
		int64_t b = d->n - first < B ? d->n - first : B; /* images in this batch */
		ir_tensor *in = x;
		if (b < B && !L.fixed_batch) {
			L.dims[0] = b;
			in = xl = ir_tensor_new(NULL, L.dtype, L.rank, L.dims);
			if (!xl) {
				ir_error(g, NULL, "--eval: cannot allocate a batch of %lld images", (long long)b);
				goto done;
			}
		}
		float *dst = L.dtype == IR_F32 ? in->data : stage;
		if (ds_batch(d, NULL, first, b, pp, NULL, NULL, dst, NULL, err, sizeof err)) {
			ir_error(g, NULL, "--eval: %s", err);
			goto done;
		}
		int64_t run = in->dims[0];
		if (L.dtype == IR_F32)
			memset(dst + b * chw, 0, (size_t)((run - b) * chw) * sizeof *dst);
		else
			for (int64_t i = 0; i < run * chw; i++)
				((double *)in->data)[i] = i < b * chw ? (double)stage[i] : 0.0;
		if (interp_run(g, &in, &out))
			goto done;
		int64_t k = eval_output_classes(g, out, run);
		if (k < 0)
			goto done;
		classes = k;
		for (int64_t i = 0; i < b; i++) {
			int32_t p = eval_argmax(out, i, k);
			correct += p == (int32_t)d->labels[first + i];
			if (pred)
				pred[first + i] = p;
		}
		ir_tensor_free(out);
		out = NULL;
		progress_update(&bar, first + b, "acc %.2f%%", 100.0 * (double)correct / (double)(first + b));
	}
	res->n = d->n;
	res->correct = correct;
	res->accuracy = (double)correct / (double)d->n;
	res->seconds = progress_now() - t0;
	res->images_per_s = res->seconds > 0 ? (double)d->n / res->seconds : 0.0;
	res->batch = B;
	res->classes = classes;
	rc = 0;
done:
	progress_finish(&bar, 0, NULL);
	ir_tensor_free(out);
	ir_tensor_free(x);
	ir_tensor_free(xl);
	free(stage);
	return rc;
}

int eval_accuracy(ir_graph *g, const ds_set *d, const ds_preprocess *pp, int batch, int quiet,
		  const char *label, eval_result *res)
{
	return eval_predict(g, d, pp, batch, quiet, label, NULL, res);
}

int64_t eval_agreement(const int32_t *a, const int32_t *b, int64_t n)
{
	int64_t same = 0;
	for (int64_t i = 0; i < n; i++)
		same += a[i] == b[i];
	return same;
}

int eval_compare(ir_graph *ga, ir_graph *gb, const ds_set *d, const ds_preprocess *pp, int batch,
		 int quiet, eval_comparison *res)
{
	memset(res, 0, sizeof *res);
	if (!d || d->n <= 0)
		return ir_error(ga, NULL, "--eval: the dataset has no images");
	int32_t *pa = malloc((size_t)d->n * sizeof *pa), *pb = malloc((size_t)d->n * sizeof *pb);
	int rc = -1;
	if (!pa || !pb)
		ir_error(ga, NULL, "--eval: out of memory");
	else if (!eval_predict(ga, d, pp, batch, quiet, "original", pa, &res->a) &&
		 !eval_predict(gb, d, pp, batch, quiet, "compressed", pb, &res->b)) {
		res->agree = eval_agreement(pa, pb, d->n);
		res->agreement = (double)res->agree / (double)d->n;
		rc = 0;
	}
	free(pa);
	free(pb);
	return rc;
}
