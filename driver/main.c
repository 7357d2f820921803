/* main.c - the qnnc command: option parsing and the pass pipeline, read
 * top to bottom (as in QBE's main.c).
 *
 *   qnnc [options] MODEL.onnx -o OUT       compile
 *   qnnc [options] --matrix W.npy -o OUT   compile one weight matrix (y = W x)
 *   qnnc run MODEL.onnx --input FILE.pb ... [--output-dir DIR]
 *
 * Exit status: 0 success, 1 user error (bad model, bad input), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../frontend/onnx.h"
#include "../ir/ir.h"
#include "../passes/passes.h"
#include "driver.h"

static const char *progname = "qnnc";

_Noreturn void drv_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", progname);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", progname);
	exit(2);
}

void drv_print_help(void)
{
	printf("Usage: qnnc [OPTIONS] MODEL.onnx -o OUT   compile a model\n"
	       "       qnnc [OPTIONS] --matrix W.npy -o OUT  compile one weight matrix as an MPO (y = W x)\n"
	       "       qnnc run MODEL.onnx --input FILE.pb ... [--output-dir DIR]\n"
	       "                                          execute a model with the reference interpreter\n"
	       "\n"
	       "qnnc compiles trained neural networks (ONNX) into standalone C, and rewrites\n"
	       "selected linear layers into hybrid quantum-classical programs.\n"
	       "\n"
	       "Compile options:\n"
	       "  -o, --output OUT       write OUT.c and OUT.h (OUT.ir, OUT.json, OUT.onnx,\n"
	       "                         OUT.stageN.qasm, OUT.stageN.qasm2 with --emit)\n"
	       "      --name NAME        C entry-point prefix (default: derived from OUT)\n"
	       "      --emit=KINDS       comma-separated: c, ir, report, onnx, qasm (one OpenQASM 3\n"
	       "                         program per quantum stage), qasm2 (OpenQASM 2 with the\n"
	       "                         inputs bound to the all-ones vector) (default: c;\n"
	       "                         c,qasm,report with --sides)\n"
	       "      --dim SYM=N        value of a symbolic input dimension (default 1)\n"
	       "      --const-input NAME=FILE.pb\n"
	       "                         freeze a graph input to the tensor in FILE.pb\n"
	       "      --cblas            generated Gemm/MatMul/1x1 Conv call cblas_sgemm\n"
	       "                         (link the program with -lopenblas)\n"
	       "      --dump-after=PASS  print the textual IR after PASS (load, infer, fold, dce,\n"
	       "                         compress, disentangle, heal, specialise, all)\n"
	       "\n"
	       "MPO compression:\n"
	       "      --layers=SPEC      linear layers to rewrite as MPOs: auto, or node or weight\n"
	       "                         names separated by commas (default: none)\n"
	       "      --bond=CHI         largest bond dimension kept (default: no limit)\n"
	       "      --cutoff=EPS       drop the smallest singular values of each bond while their\n"
	       "                         share of the squared norm stays <= EPS, in [0, 1) (default 0)\n"
	       "      --group=G          qubits per MPO site, 1..16 (default 1)\n"
	       "      --matrix W.npy     compile one matrix (.npy, 1-D or 2-D) instead of a model:\n"
	       "                         input x [batch, K], output y [batch, N] (--dim batch=B)\n"
	       "\n"
	       "Disentangling (each selected layer W becomes U M' V^T: circuits of real\n"
	       "orthogonal gates U, V run as quantum stages, the residual MPO M' classically):\n"
	       "      --sides=SIDES      left (U, output side), right (V, input side) or both;\n"
	       "                         turns disentangling on (needs --layers or --matrix)\n"
	       "      --method=M         variational (alternating sweeps) or gradient\n"
	       "                         (Riemannian Adam on gates and M') (default variational)\n"
	       "      --gate-qubits=K    qubits per gate, 1..6 (default 2)\n"
	       "      --depth=D          gate layers per side (default 4)\n"
	       "      --ansatz=A         brick (brickwork) or stair (staircase) (default brick)\n"
	       "      --one-body         1-qubit gate layers between the layers\n"
	       "      --residual-bond=X  bond dimension of M' (default 2)\n"
	       "      --sweeps=N         sweeps (variational, default 50) or steps (gradient,\n"
	       "                         default 500)\n"
	       "      --tol=T            stop when the overlap (variational) or the loss\n"
	       "                         (gradient) improves by less than T (default 1e-6)\n"
	       "      --restarts=R       variational: R restarts from randomly kicked gates,\n"
	       "                         the best kept (default 0; drawn from --seed)\n"
	       "      --calib=DATASET    gradient: fit (W - U M' V^T) X on the layer's real\n"
	       "                         inputs X from the first training images (--preprocess)\n"
	       "      --calib-limit=N    calibration images (default 512)\n"
	       "      --readout=R        the program's default read-out: exact (simulator\n"
	       "                         amplitudes), shots, or classical (the C applies the\n"
	       "                         gates itself; no runtime needed) (default exact)\n"
	       "      --shots=S          shots per stage for --readout=shots (default 1000)\n"
	       "      --isa              stage programs on physical qubits, rz/sx/x/cx only\n"
	       "\n"
	       "Evaluation:\n"
	       "      --eval=DATASET     top-1 accuracy on the test split before and after the\n"
	       "                         rewrites: mnist:DIR (IDX files, gzipped or not) or\n"
	       "                         cifar10:DIR (binary batches)\n"
	       "      --preprocess=SPEC  the model's input normalisation after scaling pixels to\n"
	       "                         [0,1]: mean:M,std:S (x-M)/S or scale:A,shift:B x*A+B;\n"
	       "                         one value or one per channel separated by '/'\n"
	       "                         (needed by --eval, --heal and --calib unless the\n"
	       "                         model takes raw [0,1] pixels)\n"
	       "\n"
	       "Healing (fine-tuning after compression and disentangling):\n"
	       "      --heal=DATASET     train on the training split with the rewritten layers in\n"
	       "                         place; the healed weights go into the output\n"
	       "      --train=WHAT       layer: only the rewritten layers (MPO cores, gates, M');\n"
	       "                         all: every weight\n"
	       "                         (default layer)\n"
	       "      --epochs=N         passes over the training split (default 1)\n"
	       "      --batch=B          images per step (default 128)\n"
	       "      --optimizer=OPT    adam or sgd (momentum 0.9) (default adam)\n"
	       "      --lr=LR            peak learning rate (default adam 0.001, sgd 0.01;\n"
	       "                         ten times that with --train=layer)\n"
	       "      --schedule=S       cosine, onecycle or constant (default cosine)\n"
	       "      --weight-decay=WD  L2 weight decay (default 0)\n"
	       "      --augment          random crop (4 pixels padding) and horizontal flip (CIFAR)\n"
	       "      --seed=S           shuffling, augmentation and --restarts seed (default 0)\n"
	       "      --heal-limit=N     train on the first N images of the split only\n"
	       "      --holdout=N        hold the last N training images out; report their\n"
	       "                         accuracy after every epoch\n"
	       "      --threads=N        BLAS threads, 0: one per core (default 1); results are\n"
	       "                         bit-identical for a seed at a fixed thread count\n"
	       "\n"
	       "  -v, --verbose          report what each pass did\n"
	       "  -q, --quiet            print nothing but errors\n"
	       "      --help             show this help and exit\n"
	       "      --version          show the version and exit\n"
	       "\n"
	       "Run options:\n"
	       "      --input FILE.pb    a TensorProto file per graph input, in graph order\n"
	       "      --output-dir DIR   where output_0.pb, ... are written (default: .)\n"
	       "\n"
	       "Exit status: 0 on success, 1 on a user error (the message names the file\n"
	       "and the node), 2 on bad usage.\n");
}

/* --------------------------------------------------------------- run */

static int cmd_run(int argc, char **argv)
{
	enum { OPT_INPUT = 256, OPT_OUTDIR, OPT_HELP };
	static const struct option opts[] = {
		{"input", required_argument, 0, OPT_INPUT},
		{"output-dir", required_argument, 0, OPT_OUTDIR},
		{"help", no_argument, 0, OPT_HELP},
		{"quiet", no_argument, 0, 'q'},
		{0, 0, 0, 0},
	};
	const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
	int ninputs = 0, quiet = 0;
	const char *outdir = ".", *model = NULL;
	if (!inputs)
		return 1;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case OPT_INPUT: inputs[ninputs++] = optarg; break;
		case OPT_OUTDIR: outdir = optarg; break;
		case 'q': quiet = 1; break;
		case OPT_HELP: drv_print_help(); free(inputs); return 0;
		default: free(inputs); drv_usage_error("%s", "invalid option for 'run'");
		}
	}
	/* Files after the model name count as inputs too (--input a b c). */
	for (; optind < argc; optind++) {
		if (!model)
			model = argv[optind];
		else
			inputs[ninputs++] = argv[optind];
	}
	if (!model) {
		free(inputs);
		drv_usage_error("%s", "run: no model given");
	}

	char err[4096];
	int rc = 1;
	ir_tensor **in = calloc((size_t)ninputs + 1, sizeof *in);
	ir_tensor **out = NULL;
	ir_graph *g = onnx_load(model, err, sizeof err);
	if (!g) {
		fprintf(stderr, "%s\n", err);
		goto done;
	}
	if (pass_infer(g) < 0 || pass_fold(g, 0) < 0)
		goto graph_err;
	if (ninputs != g->ninputs) {
		fprintf(stderr, "%s: the model has %d input(s), %d --input file(s) given\n", model,
			g->ninputs, ninputs);
		goto done;
	}
	for (int i = 0; i < ninputs; i++) {
		in[i] = onnx_read_tensor(inputs[i], NULL, err, sizeof err);
		if (!in[i]) {
			fprintf(stderr, "%s\n", err);
			goto done;
		}
	}
	out = calloc((size_t)g->noutputs + 1, sizeof *out);
	if (interp_run(g, in, out))
		goto graph_err;
	if (mkdir(outdir, 0777) && errno != EEXIST) {
		fprintf(stderr, "qnnc: cannot create '%s': %s\n", outdir, strerror(errno));
		goto done;
	}
	for (int i = 0; i < g->noutputs; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/output_%d.pb", outdir, i);
		if (onnx_write_tensor(path, g->outputs[i]->name, out[i], err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			goto done;
		}
		if (!quiet) {
			char s[256];
			ir_shape sh;
			ir_shape_from_dims(&sh, out[i]->rank, out[i]->dims);
			printf("%s: %s %s -> %s\n", g->outputs[i]->name, ir_dtype_name(out[i]->dtype),
			       ir_shape_str(&sh, s, sizeof s), path);
		}
	}
	rc = 0;
	goto done;
graph_err:
	fprintf(stderr, "%s\n", g->err);
done:
	for (int i = 0; i < ninputs; i++)
		ir_tensor_free(in[i]);
	if (out && g)
		for (int i = 0; i < g->noutputs; i++)
			ir_tensor_free(out[i]);
	free(out);
	free(in);
	free(inputs);
	ir_graph_free(g);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		drv_print_help();
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("qnnc %s\n", QNNC_VERSION);
		return 0;
	}
	return drv_compile(argc, argv);
}
