/* cc_harness.h - for unit tests of whole graphs through the C backend:
 * emit the graph's C, build it with the strict flags (cc -std=c99 -Wall
 * -Wextra -Wpedantic -Werror -O2, plus QNNC_TEST_CFLAGS such as
 * -fsanitize=address,undefined; clang -Weverything too when installed),
 * run it on given inputs and compare its outputs with the reference
 * interpreter's. */
#ifndef QNNC_CC_HARNESS_H
#define QNNC_CC_HARNESS_H

#include "../../backend/cgen.h"
#include "../../ir/ir.h"
#include "../../passes/passes.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CCH_FLAGS "-std=c99 -Wall -Wextra -Wpedantic -Werror -O2"
#define CCH_CLANG_FLAGS                                                                       \
	"-std=c99 -Weverything -Werror -Wno-padded -Wno-declaration-after-statement "         \
	"-Wno-unknown-warning-option -Wno-unsafe-buffer-usage -Wno-unused-macros"

static char cch_dir[256];
static int cch_clang;

/* Create the work directory; 0 if cc is available, else 77 (then cch_dir
 * is empty). */
static int cch_init(const char *tag)
{
	if (system("cc --version >/dev/null 2>&1"))
		return 77;
	cch_clang = !system("clang --version >/dev/null 2>&1");
	snprintf(cch_dir, sizeof cch_dir, "/tmp/qnnc-test-%s-XXXXXX", tag);
	if (mkdtemp(cch_dir))
		return 0;
	cch_dir[0] = 0;
	return 77;
}

/* Remove the work directory (keep it after a failure for inspection). */
static void cch_cleanup(int failed)
{
	char cmd[512];
	if (!cch_dir[0])
		return;
	if (failed) {
		fprintf(stderr, "generated files kept in %s\n", cch_dir);
		return;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", cch_dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", cch_dir);
}

static void cch_elem(FILE *f, const ir_tensor *t, int64_t i)
{
	if (ir_dtype_is_float(t->dtype))
		fprintf(f, "%a%s", ir_tensor_get_f64(t, i), t->dtype == IR_F32 ? "f" : "");
	else
		fprintf(f, "%lld", (long long)ir_tensor_get_i64(t, i));
}

/* Run g (inferred, all shapes known) in C and in the interpreter on
 * inputs; every element must agree within atol + rtol max|want| (max over
 * the output tensor: rounding in a long contraction scales with the
 * output's norm, not with each element). 0 when they do. */
static int cch_check(const char *label, ir_graph *g, ir_tensor *const *inputs, double rtol, double atol)
{
	char path[512], cmd[2048];
	ir_tensor *ref[8] = {0};
	int rc = -1;
	if (g->noutputs > 8 || interp_run(g, inputs, ref)) {
		fprintf(stderr, "%s: interpreter: %s\n", label, g->err);
		return -1;
	}
	snprintf(path, sizeof path, "%s/model.c", cch_dir);
	FILE *c = fopen(path, "w");
	snprintf(path, sizeof path, "%s/model.h", cch_dir);
	FILE *h = fopen(path, "w");
	cgen_options o = {.name = "model"};
	int erc = c && h ? cgen_emit(g, &o, "model.h", c, h) : -1;
	if (c)
		fclose(c);
	if (h)
		fclose(h);
	if (erc) {
		fprintf(stderr, "%s: emit failed: %s\n", label, g->err);
		goto out;
	}
	snprintf(path, sizeof path, "%s/main.c", cch_dir);
	FILE *m = fopen(path, "w");
	if (!m)
		goto out;
	fprintf(m, "#include \"model.h\"\n#include <stdio.h>\n#include <stdlib.h>\n");
	for (int i = 0; i < g->ninputs; i++) {
		const ir_tensor *t = inputs[i];
		fprintf(m, "static const %s in%d[%lld] = {", ir_dtype_c_type(t->dtype), i,
			(long long)(t->numel ? t->numel : 1));
		for (int64_t e = 0; e < t->numel; e++) {
			cch_elem(m, t, e);
			fprintf(m, ",%s", e % 8 == 7 ? "\n" : " ");
		}
		fprintf(m, "%s};\n", t->numel ? "" : "0");
	}
	for (int j = 0; j < g->noutputs; j++)
		fprintf(m, "static %s out%d[%lld];\n", ir_dtype_c_type(g->outputs[j]->dtype), j,
			(long long)(ref[j]->numel ? ref[j]->numel : 1));
	/* the context on the heap, as a caller with a large workspace would */
	fprintf(m, "int main(void)\n{\n\tint i;\n\tmodel_ctx *ctx = malloc(sizeof *ctx);\n"
		   "\tif (!ctx)\n\t\treturn 2;\n\tmodel_init(ctx);\n\tif (model_run(ctx");
	for (int i = 0; i < g->ninputs; i++)
		fprintf(m, ", in%d", i);
	for (int j = 0; j < g->noutputs; j++)
		fprintf(m, ", out%d", j);
	fprintf(m, "))\n\t\treturn 1;\n\tfree(ctx);\n");
	for (int j = 0; j < g->noutputs; j++) {
		const char *fmt = ir_dtype_is_float(ref[j]->dtype) ? "%a\\n\", (double)" : "%lld\\n\", (long long)";
		fprintf(m, "\tfor (i = 0; i < %lld; i++)\n\t\tprintf(\"%sout%d[i]);\n", (long long)ref[j]->numel, fmt, j);
	}
	fprintf(m, "\treturn 0;\n}\n");
	fclose(m);
	const char *extra = getenv("QNNC_TEST_CFLAGS");
	snprintf(cmd, sizeof cmd, "cd '%s' && cc " CCH_FLAGS " %s model.c main.c -lm -o prog 2>cc.log", cch_dir,
		 extra ? extra : "");
	if (system(cmd)) {
		fprintf(stderr, "%s: generated code does not compile (see %s/cc.log)\n", label, cch_dir);
		goto out;
	}
	snprintf(cmd, sizeof cmd, "cd '%s' && clang " CCH_CLANG_FLAGS " -fsyntax-only model.c 2>clang.log", cch_dir);
	if (cch_clang && system(cmd)) {
		fprintf(stderr, "%s: clang -Weverything rejects the code (see %s/clang.log)\n", label, cch_dir);
		goto out;
	}
	snprintf(cmd, sizeof cmd, "'%s/prog'", cch_dir);
	FILE *p = popen(cmd, "r");
	if (!p)
		goto out;
	rc = 0;
	for (int j = 0; j < g->noutputs && !rc; j++) {
		double scale = 0;
		for (int64_t e = 0; e < ref[j]->numel; e++)
			scale = fmax(scale, fabs(ir_tensor_get_f64(ref[j], e)));
		for (int64_t e = 0; e < ref[j]->numel && !rc; e++) {
			char line[128];
			if (!fgets(line, sizeof line, p)) {
				fprintf(stderr, "%s: output %d is short\n", label, j);
				rc = -1;
				break;
			}
			double got = strtod(line, NULL), want = ir_tensor_get_f64(ref[j], e);
			if (!(fabs(got - want) <= atol + rtol * scale)) {
				fprintf(stderr, "%s: output %d element %lld: %.9g, expected %.9g (max |y| %g)\n",
					label, j, (long long)e, got, want, scale);
				rc = -1;
			}
		}
	}
	if (pclose(p) && !rc) {
		fprintf(stderr, "%s: the generated program failed\n", label);
		rc = -1;
	}
out:
	for (int j = 0; j < 8; j++)
		ir_tensor_free(ref[j]);
	return rc;
}

/* The main of a test that uses the harness: the work directory (cch_dir
 * stays empty without a C compiler, and callers skip their C checks), the
 * cases with one PASS/FAIL line each, a summary, the clean-up. Returns the
 * exit status. */
static int cch_main(const char *tag, const test_case *tests, int n)
{
	if (cch_init(tag))
		printf("(no C compiler: the generated-code checks are skipped)\n");
	int failed = 0;
	for (int i = 0; i < n; i++) {
		int before = test_failures;
		tests[i].fn();
		int ok = test_failures == before;
		failed += !ok;
		printf("%s %s\n", ok ? "PASS" : "FAIL", tests[i].name);
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", n - failed, failed);
	cch_cleanup(failed);
	return failed ? 1 : 0;
}

#endif
