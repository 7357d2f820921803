/* conform.c - runs the ONNX backend node tests (one folder per test:
 * model.onnx + test_data_set_N/{input_K,output_K}.pb) through qnnc and
 * compares with the stored outputs (rtol 1e-3, atol 1e-7, exact for
 * integers and bools, the ONNX backend-test defaults).
 *
 *   conform --qnnc PATH --data DIR [--mode interp|c] [--filter SUBSTR] [--work DIR]
 *   conform --qnnc PATH --model M.onnx --sets DIR [--mode interp|c]
 *
 * Modes: interp runs `qnnc run`; c compiles the model with qnnc, builds it
 * with a generated harness and runs the binary. Prints one line per case
 * and a final "N passed, N failed, N skipped" line; exits 1 if any failed.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../frontend/onnx.h"
#include "conform_c.h"

/* Cases that cannot be compared: random outputs or non-tensor I/O. (The
 * zero-ratio training dropouts are deterministic and do run.) */
static const struct {
	const char *prefix, *why;
} skips[] = {
	{"test_training_dropout_default_mask", "training-mode dropout is random"},
	{"test_training_dropout_default", "training-mode dropout is random"},
	{"test_training_dropout_mask", "training-mode dropout is random"},
	{"test_training_dropout", "training-mode dropout is random"},
	{"test_identity_opt", "optional-typed input/output (not a tensor)"},
	{"test_identity_sequence", "sequence-typed input/output (not a tensor)"},
};

static const char *skip_reason(const char *name)
{
	for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++)
		if (!strcmp(name, skips[i].prefix))
			return skips[i].why;
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

int conform_sh(const char *cmd, const char *log)
{
	char buf[16384];
	snprintf(buf, sizeof buf, "%s >%s 2>&1", cmd, log);
	int st = system(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* First line of a log file into msg. */
void conform_first_line(const char *log, char *msg, size_t n)
{
	FILE *f = fopen(log, "r");
	msg[0] = 0;
	if (!f)
		return;
	if (fgets(msg, (int)n, f))
		msg[strcspn(msg, "\n")] = 0;
	fclose(f);
}

int conform_compare(const ir_tensor *got, const ir_tensor *exp, char *msg, size_t n)
{
	if (got->dtype != exp->dtype) {
		snprintf(msg, n, "dtype %s, expected %s", ir_dtype_name(got->dtype), ir_dtype_name(exp->dtype));
		return -1;
	}
	if (got->rank != exp->rank || memcmp(got->dims, exp->dims, (size_t)got->rank * sizeof got->dims[0])) {
		char a[256], b[256];
		ir_shape sa, sb;
		ir_shape_from_dims(&sa, got->rank, got->dims);
		ir_shape_from_dims(&sb, exp->rank, exp->dims);
		snprintf(msg, n, "shape %s, expected %s", ir_shape_str(&sa, a, sizeof a), ir_shape_str(&sb, b, sizeof b));
		return -1;
	}
	for (int64_t i = 0; i < got->numel; i++) {
		if (ir_dtype_is_float(got->dtype)) {
			double x = ir_tensor_get_f64(got, i), y = ir_tensor_get_f64(exp, i);
			if (isnan(x) && isnan(y))
				continue;
			if (x == y)
				continue; /* also equal infinities */
			if (!(fabs(x - y) <= 1e-7 + 1e-3 * fabs(y))) {
				snprintf(msg, n, "element %lld: %.9g, expected %.9g", (long long)i, x, y);
				return -1;
			}
		} else {
			size_t es = ir_dtype_size(got->dtype);
			if (memcmp((char *)got->data + i * (int64_t)es, (char *)exp->data + i * (int64_t)es, es)) {
				snprintf(msg, n, "element %lld: %lld, expected %lld", (long long)i,
					 (long long)ir_tensor_get_i64(got, i), (long long)ir_tensor_get_i64(exp, i));
				return -1;
			}
		}
	}
	return 0;
}

/* Count input_K.pb / output_K.pb files of a data set. */
int conform_count(const char *set, const char *kind)
{
	int k = 0;
	char p[4096];
	for (;; k++) {
		snprintf(p, sizeof p, "%s/%s_%d.pb", set, kind, k);
		if (!exists(p))
			return k;
	}
}

static int run_interp(const char *qnnc, const char *model, const char *set, const char *work, char *msg, size_t n)
{
	char cmd[16384], log[4096], p[4096];
	int nin = conform_count(set, "input"), nout = conform_count(set, "output");
	int k = snprintf(cmd, sizeof cmd, "'%s' run -q '%s' --output-dir '%s'", qnnc, model, work);
	for (int i = 0; i < nin; i++)
		k += snprintf(cmd + k, sizeof cmd - (size_t)k, " --input '%s/input_%d.pb'", set, i);
	snprintf(log, sizeof log, "%s/log.txt", work);
	if (conform_sh(cmd, log)) {
		conform_first_line(log, msg, n);
		return -1;
	}
	for (int i = 0; i < nout; i++) {
		char err[4096];
		snprintf(p, sizeof p, "%s/output_%d.pb", work, i);
		ir_tensor *got = onnx_read_tensor(p, NULL, err, sizeof err);
		snprintf(p, sizeof p, "%s/output_%d.pb", set, i);
		ir_tensor *exp = onnx_read_tensor(p, NULL, err, sizeof err);
		int bad = !got || !exp;
		if (bad)
			snprintf(msg, n, "output %d: %s", i, err);
		else if (conform_compare(got, exp, msg, n))
			bad = 1;
		ir_tensor_free(got);
		ir_tensor_free(exp);
		if (bad)
			return -1;
	}
	return 0;
}

/* Run one model on every test_data_set_* folder under sets. */
static int run_case(const char *qnnc, const char *cc, const char *mode, const char *model, const char *sets,
		    const char *work, char *msg, size_t n)
{
	int nsets = 0;
	for (int k = 0;; k++) {
		char set[4096], cw[4096];
		snprintf(set, sizeof set, "%s/test_data_set_%d", sets, k);
		if (!exists(set))
			break;
		snprintf(cw, sizeof cw, "%s/set%d", work, k);
		mkdir(cw, 0777);
		nsets++;
		char m[1024] = "";
		int r = !strcmp(mode, "interp") ? run_interp(qnnc, model, set, cw, m, sizeof m)
						: conform_run_c(qnnc, cc, model, set, cw, m, sizeof m);
		if (r) {
			snprintf(msg, n, "test_data_set_%d: %s", k, m);
			return -1;
		}
	}
	if (!nsets) {
		snprintf(msg, n, "no test_data_set_* folders in %s", sets);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *qnnc = NULL, *data = NULL, *mode = "interp", *filter = NULL, *work = NULL, *cc = "cc";
	const char *model = NULL, *sets = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--qnnc") && i + 1 < argc) qnnc = argv[++i];
		else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
		else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
		else if (!strcmp(argv[i], "--sets") && i + 1 < argc) sets = argv[++i];
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc) mode = argv[++i];
		else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
		else if (!strcmp(argv[i], "--work") && i + 1 < argc) work = argv[++i];
		else if (!strcmp(argv[i], "--cc") && i + 1 < argc) cc = argv[++i];
		else {
			fprintf(stderr, "usage: conform --qnnc PATH (--data DIR | --model M.onnx --sets DIR)\n"
					"               [--mode interp|c] [--filter S] [--work DIR] [--cc CC]\n");
			return 2;
		}
	}
	if (!qnnc || !(data || (model && sets)) || (strcmp(mode, "interp") && strcmp(mode, "c"))) {
		fprintf(stderr, "conform: --qnnc and --data (or --model and --sets) are required; --mode is interp or c\n");
		return 2;
	}
	char workbuf[4096];
	if (!work) {
		snprintf(workbuf, sizeof workbuf, "/tmp/qnnc-conform-%s-%ld", mode, (long)getpid());
		work = workbuf;
	}
	mkdir(work, 0777);
	if (model) {
		if (!exists(model)) {
			printf("SKIP: model not found at %s\n", model);
			return 77;
		}
		char msg[2048] = "";
		int r = run_case(qnnc, cc, mode, model, sets, work, msg, sizeof msg);
		printf("%s %s%s%s\n", r ? "FAIL" : "PASS", model, r ? ": " : "", msg);
		printf("%d passed, %d failed, 0 skipped\n", !r, !!r);
		return r ? 1 : 0;
	}
	DIR *d = opendir(data);
	if (!d) {
		printf("SKIP: ONNX node tests not found at %s (%s)\n", data, strerror(errno));
		return 77;
	}
	char **names = NULL;
	size_t nn = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "test_", 5))
			continue;
		if (filter && !strstr(e->d_name, filter))
			continue;
		names = realloc(names, (nn + 1) * sizeof *names);
		names[nn++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof *names, cmp_names);
	int passed = 0, failed = 0, skipped = 0;
	for (size_t i = 0; i < nn; i++) {
		const char *why = skip_reason(names[i]);
		if (why) {
			printf("SKIP %s (%s)\n", names[i], why);
			skipped++;
			continue;
		}
		char dir[4096], mpath[4096], cw[4096], msg[2048] = "";
		snprintf(dir, sizeof dir, "%s/%s", data, names[i]);
		snprintf(mpath, sizeof mpath, "%s/model.onnx", dir);
		snprintf(cw, sizeof cw, "%s/%s", work, names[i]);
		mkdir(cw, 0777);
		if (run_case(qnnc, cc, mode, mpath, dir, cw, msg, sizeof msg)) {
			printf("FAIL %s: %s\n", names[i], msg);
			failed++;
		} else {
			printf("PASS %s\n", names[i]);
			passed++;
		}
		fflush(stdout);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
