/* conform_c.c - conformance through generated C: compile the test's model
 * with qnnc, write a small harness that reads the inputs as raw binary
 * files and writes the outputs likewise, build both with
 * `cc -std=c99 -Wall -Wextra -Wpedantic -Werror -O2`, run, and compare.
 *
 * Models whose output shapes depend on the values of integer inputs
 * (Reshape's shape, Squeeze's axes given as graph inputs) cannot have
 * static buffers; for those the int64 inputs are frozen with qnnc's
 * --const-input, the same specialisation a user would do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../frontend/onnx.h"
#include "conform_c.h"

static int write_raw(const char *path, const ir_tensor *t)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = (size_t)t->numel * ir_dtype_size(t->dtype);
	int rc = fwrite(t->data, 1, n, f) == n ? 0 : -1;
	return fclose(f) ? -1 : rc;
}

static int read_raw(const char *path, ir_tensor *t)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t n = (size_t)t->numel * ir_dtype_size(t->dtype);
	int rc = fread(t->data, 1, n, f) == n ? 0 : -1;
	fclose(f);
	return rc;
}

int conform_run_c(const char *qnnc, const char *cc, const char *model, const char *set,
		  const char *work, char *msg, size_t n)
{
	int nin = conform_count(set, "input"), nout = conform_count(set, "output");
	ir_tensor *in[32] = {0}, *exp[32] = {0};
	int frozen[32] = {0};
	char p[4096], cmd[16384], log[4096], err[4096];
	int rc = -1;
	if (nin > 32 || nout > 32) {
		snprintf(msg, n, "too many inputs/outputs");
		return -1;
	}
	for (int i = 0; i < nin; i++) {
		snprintf(p, sizeof p, "%s/input_%d.pb", set, i);
		if (!(in[i] = onnx_read_tensor(p, NULL, err, sizeof err))) {
			snprintf(msg, n, "%s", err);
			goto done;
		}
	}
	for (int i = 0; i < nout; i++) {
		snprintf(p, sizeof p, "%s/output_%d.pb", set, i);
		if (!(exp[i] = onnx_read_tensor(p, NULL, err, sizeof err))) {
			snprintf(msg, n, "%s", err);
			goto done;
		}
	}

	/* Compile; on failure retry with the int64 inputs frozen. */
	snprintf(log, sizeof log, "%s/qnnc.log", work);
	for (int attempt = 0; attempt < 2; attempt++) {
		int k = snprintf(cmd, sizeof cmd, "'%s' -q '%s' -o '%s/model' --name model", qnnc, model, work);
		for (int i = 0; attempt && i < nin; i++) {
			if (in[i]->dtype != IR_I64)
				continue;
			char name[1024];
			/* The graph input's name is stored in the .pb file. */
			char *nm = NULL;
			snprintf(p, sizeof p, "%s/input_%d.pb", set, i);
			ir_tensor *t = onnx_read_tensor(p, &nm, err, sizeof err);
			ir_tensor_free(t);
			snprintf(name, sizeof name, "%s", nm ? nm : "");
			free(nm);
			k += snprintf(cmd + k, sizeof cmd - (size_t)k, " --const-input '%s=%s'", name, p);
			frozen[i] = 1;
		}
		if (!conform_sh(cmd, log))
			break;
		int any64 = 0;
		for (int i = 0; i < nin; i++)
			any64 |= in[i]->dtype == IR_I64;
		if (attempt || !any64) {
			conform_first_line(log, msg, n);
			goto done;
		}
	}

	/* The harness. */
	snprintf(p, sizeof p, "%s/harness.c", work);
	FILE *h = fopen(p, "w");
	if (!h) {
		snprintf(msg, n, "cannot write %s", p);
		goto done;
	}
	fprintf(h, "#include \"model.h\"\n#include <stdio.h>\n#include <stdint.h>\n\n");
	int live_inputs = 0;
	for (int i = 0; i < nin; i++)
		live_inputs += !frozen[i];
	if (live_inputs)
		fprintf(h, "static int rd(const char *p, void *d, size_t n)\n{\n\tFILE *f = fopen(p, \"rb\");\n"
			   "\tsize_t r;\n\tif (!f)\n\t\treturn 1;\n\tr = fread(d, 1, n, f);\n\tfclose(f);\n\treturn r != n;\n}\n\n");
	fprintf(h, "static int wr(const char *p, const void *d, size_t n)\n{\n\tFILE *f = fopen(p, \"wb\");\n"
		   "\tsize_t r;\n\tif (!f)\n\t\treturn 1;\n\tr = fwrite(d, 1, n, f);\n\treturn fclose(f) || r != n;\n}\n\n");
	for (int i = 0; i < nin; i++)
		if (!frozen[i])
			fprintf(h, "static %s in%d[%lld];\n", ir_dtype_c_type(in[i]->dtype), i,
				(long long)(in[i]->numel ? in[i]->numel : 1));
	for (int i = 0; i < nout; i++)
		fprintf(h, "static %s out%d[%lld];\n", ir_dtype_c_type(exp[i]->dtype), i,
			(long long)(exp[i]->numel ? exp[i]->numel : 1));
	fprintf(h, "static model_ctx ctx;\n\nint main(void)\n{\n\tint bad = 0;\n\tmodel_init(&ctx);\n");
	for (int i = 0; i < nin; i++)
		if (!frozen[i])
			fprintf(h, "\tbad |= rd(\"%s/in_%d.bin\", in%d, sizeof(in%d[0]) * %lld);\n", work, i, i, i,
				(long long)in[i]->numel);
	fprintf(h, "\tif (bad)\n\t\treturn 3;\n\tif (model_run(&ctx");
	for (int i = 0; i < nin; i++)
		if (!frozen[i])
			fprintf(h, ", in%d", i);
	for (int i = 0; i < nout; i++)
		fprintf(h, ", out%d", i);
	fprintf(h, "))\n\t\treturn 4;\n");
	for (int i = 0; i < nout; i++)
		fprintf(h, "\tbad |= wr(\"%s/out_%d.bin\", out%d, sizeof(out%d[0]) * %lld);\n", work, i, i, i,
			(long long)exp[i]->numel);
	fprintf(h, "\treturn bad;\n}\n");
	fclose(h);
	for (int i = 0; i < nin; i++) {
		snprintf(p, sizeof p, "%s/in_%d.bin", work, i);
		if (!frozen[i] && write_raw(p, in[i])) {
			snprintf(msg, n, "cannot write %s", p);
			goto done;
		}
	}
	snprintf(log, sizeof log, "%s/cc.log", work);
	snprintf(cmd, sizeof cmd,
		 "%s -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -I'%s' '%s/model.c' '%s/harness.c' -lm -o '%s/prog'",
		 cc, work, work, work, work);
	if (conform_sh(cmd, log)) {
		conform_first_line(log, msg, n);
		size_t l = strlen(msg);
		snprintf(msg + l, n - l, " (cc)");
		goto done;
	}
	snprintf(log, sizeof log, "%s/run.log", work);
	snprintf(cmd, sizeof cmd, "'%s/prog'", work);
	int st = conform_sh(cmd, log);
	if (st) {
		snprintf(msg, n, "generated program exited with status %d", st);
		goto done;
	}
	for (int i = 0; i < nout; i++) {
		ir_tensor *got = ir_tensor_new(NULL, exp[i]->dtype, exp[i]->rank, exp[i]->dims);
		snprintf(p, sizeof p, "%s/out_%d.bin", work, i);
		int bad = !got || read_raw(p, got);
		if (bad)
			snprintf(msg, n, "output %d: cannot read %s", i, p);
		else if (conform_compare(got, exp[i], msg, n))
			bad = 1;
		ir_tensor_free(got);
		if (bad)
			goto done;
	}
	rc = 0;
done:
	for (int i = 0; i < nin; i++)
		ir_tensor_free(in[i]);
	for (int i = 0; i < nout; i++)
		ir_tensor_free(exp[i]);
	return rc;
}
