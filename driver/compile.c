/* compile.c - qnnc [options] MODEL.onnx -o OUT (or --matrix W.npy -o OUT):
 * the pass pipeline, read top to bottom, and atomic writing of the outputs
 * (every file goes to a temporary name first; all are renamed only when
 * all were written).
 *
 * Pipeline: load, infer, fold → (--eval) → select and compress (--layers)
 * → (--eval) → disentangle (--sides) → (--eval) → heal (--heal) → (--eval)
 * → --emit=onnx → static shapes → C, IR, quantum stages (OUT.stageN.qasm,
 * .qasm2), report. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backend/cgen.h"
#include "../backend/report.h"
#include "../backend/stage.h"
#include "../frontend/npy.h"
#include "../frontend/onnx.h"
#include "../ir/ir.h"
#include "../passes/compress.h"
#include "../passes/disentangle.h"
#include "../passes/la.h"
#include "../passes/passes.h"
#include "../runtime/qnnrt.h"
#include "driver.h"

enum { EMIT_C = 1, EMIT_IR = 2, EMIT_REPORT = 4, EMIT_ONNX = 8, EMIT_QASM = 16, EMIT_QASM2 = 32 };
enum { READOUT_EXACT, READOUT_SHOTS, READOUT_CLASSICAL }; /* --readout; the first two are QNN_READOUT_* */
#define MAX_FLAGS 16

typedef struct options {
	const char *model, *out, *name, *dump_after;
	unsigned emit;
	const char *emit_arg;
	const char *matrix;          /* --matrix W.npy instead of a model */
	const char *layers;          /* --layers=auto|NAME,... */
	const char *bond_arg, *cutoff_arg, *group_arg;
	int bond, group;             /* 0: no bond limit */
	double cutoff;
	int verbose, quiet, use_cblas;
	int ndims;
	const char *dim_name[64];
	int64_t dim_value[64];
	int nconst;
	const char *const_name[64], *const_file[64];
	const char *eval, *preprocess; /* --eval=DATASET, --preprocess=SPEC */
	drv_heal_opts heal;          /* heal.spec: --heal=DATASET */
	const char *heal_flag[MAX_FLAGS]; /* the healing options given, as typed (report, checks) */
	const char *heal_value[MAX_FLAGS];
	int nheal_flags;
	int threads;                 /* --threads (BLAS) */
	const char *threads_arg;
	uint64_t seed;               /* --seed: healing and disentangling */
	const char *seed_arg;
	/* --sides turns disentangling on; the other disentangling options as
	 * parsed into dis, and as typed (report, checks) */
	const char *sides_arg;
	disentangle_opts dis;
	const char *calib;           /* --calib=DATASET */
	const char *dis_flag[MAX_FLAGS];
	const char *dis_value[MAX_FLAGS];
	int ndis_flags;
	int readout;                 /* READOUT_* */
	long shots;
	int isa;
	const char *readout_arg, *shots_arg;
} options;

static unsigned parse_emit(const char *s)
{
	unsigned m = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		if (!strcmp(tok, "c"))
			m |= EMIT_C;
		else if (!strcmp(tok, "ir"))
			m |= EMIT_IR;
		else if (!strcmp(tok, "report"))
			m |= EMIT_REPORT;
		else if (!strcmp(tok, "onnx"))
			m |= EMIT_ONNX;
		else if (!strcmp(tok, "qasm"))
			m |= EMIT_QASM;
		else if (!strcmp(tok, "qasm2"))
			m |= EMIT_QASM2;
		else
			drv_usage_error("unknown --emit kind '%s' (known: c, ir, report, onnx, qasm, qasm2)", tok);
	}
	return m;
}

/* An integer option value in lo..hi, else a usage error. */
static int int_arg(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s expects an integer in %ld..%ld, got '%%s'", opt, lo, hi);
		drv_usage_error(msg, s);
	}
	return (int)v;
}

/* A floating-point option value in (lo, hi] (lo itself when lo_ok), finite. */
static double double_arg(const char *opt, const char *s, double lo, int lo_ok, double hi)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v < lo || (v == lo && !lo_ok) || v > hi) {
		char msg[160];
		snprintf(msg, sizeof msg, "%s expects a number %s %g, got '%%s'", opt, lo_ok ? ">=" : ">", lo);
		drv_usage_error(msg, s);
	}
	return v;
}

/* Record flag = v (the last value given wins). */
static void remember(const char **flag, const char **value, int *n, const char *f, const char *v)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(flag[i], f)) {
			value[i] = v;
			return;
		}
	IR_ASSERT(*n < MAX_FLAGS);
	flag[*n] = f;
	value[(*n)++] = v;
}

/* The healing options: parsed into o->heal, remembered as typed. */
static void heal_arg(options *o, const char *flag, const char *v)
{
	drv_heal_opts *h = &o->heal;
	if (!strcmp(flag, "epochs")) {
		h->epochs = int_arg("--epochs", v, 1, 100000);
	} else if (!strcmp(flag, "batch")) {
		h->batch = int_arg("--batch", v, 1, 1 << 20);
	} else if (!strcmp(flag, "lr")) {
		h->optim.lr = double_arg("--lr", v, 0, 0, 1e6);
	} else if (!strcmp(flag, "weight-decay")) {
		h->optim.weight_decay = double_arg("--weight-decay", v, 0, 1, 1e6);
	} else if (!strcmp(flag, "train")) {
		if (!strcmp(v, "layer"))
			h->scope = TRAIN_LAYER;
		else if (!strcmp(v, "all"))
			h->scope = TRAIN_ALL;
		else
			drv_usage_error("--train expects layer or all, got '%s'", v);
	} else if (!strcmp(flag, "optimizer")) {
		if (strcmp(v, "adam") && strcmp(v, "sgd"))
			drv_usage_error("--optimizer expects adam or sgd, got '%s'", v);
	} else if (!strcmp(flag, "schedule")) {
		if (!strcmp(v, "cosine"))
			h->sched.kind = SCHED_COSINE;
		else if (!strcmp(v, "onecycle"))
			h->sched.kind = SCHED_ONECYCLE;
		else if (!strcmp(v, "constant"))
			h->sched.kind = SCHED_CONSTANT;
		else
			drv_usage_error("--schedule expects cosine, onecycle or constant, got '%s'", v);
	} else if (!strcmp(flag, "heal-limit")) {
		h->limit = int_arg("--heal-limit", v, 1, INT_MAX);
	} else if (!strcmp(flag, "holdout")) {
		h->holdout = int_arg("--holdout", v, 1, INT_MAX);
	} else if (!strcmp(flag, "augment")) {
		h->augment = 1;
	}
	remember(o->heal_flag, o->heal_value, &o->nheal_flags, flag, v);
}

/* The value of f as remembered, or NULL. */
static const char *recalled(const char *const *flag, const char *const *value, int n, const char *f)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(flag[i], f))
			return value[i];
	return NULL;
}

static const char *heal_value(const options *o, const char *flag)
{
	return recalled(o->heal_flag, o->heal_value, o->nheal_flags, flag);
}

/* The disentangling options: parsed into o->dis, remembered as typed. */
static void dis_arg(options *o, const char *flag, const char *v)
{
	disentangle_opts *d = &o->dis;
	if (!strcmp(flag, "method")) {
		if (!strcmp(v, "variational"))
			d->method = DISENTANGLE_VARIATIONAL;
		else if (!strcmp(v, "gradient"))
			d->method = DISENTANGLE_GRADIENT;
		else
			drv_usage_error("--method expects variational or gradient, got '%s'", v);
	} else if (!strcmp(flag, "gate-qubits")) {
		d->dis.ansatz.k = int_arg("--gate-qubits", v, 1, DIS_MAX_K);
	} else if (!strcmp(flag, "depth")) {
		d->dis.ansatz.depth = int_arg("--depth", v, 0, 1024);
	} else if (!strcmp(flag, "ansatz")) {
		if (!strcmp(v, "brick"))
			d->dis.ansatz.layout = DIS_BRICK;
		else if (!strcmp(v, "stair"))
			d->dis.ansatz.layout = DIS_STAIR;
		else
			drv_usage_error("--ansatz expects brick or stair, got '%s'", v);
	} else if (!strcmp(flag, "one-body")) {
		d->dis.ansatz.one_body = 1;
	} else if (!strcmp(flag, "residual-bond")) {
		d->dis.residual_bond = int_arg("--residual-bond", v, 1, 1 << 16);
	} else if (!strcmp(flag, "sweeps")) {
		d->dis.max_sweeps = int_arg("--sweeps", v, 0, 1000000);
	} else if (!strcmp(flag, "tol")) {
		d->dis.tol = double_arg("--tol", v, 0, 1, 1);
	} else if (!strcmp(flag, "restarts")) {
		d->dis.restarts = int_arg("--restarts", v, 0, 10000);
	} else if (!strcmp(flag, "calib")) {
		if (strncmp(v, "mnist:", 6) && strncmp(v, "cifar10:", 8))
			drv_usage_error("--calib expects mnist:DIR or cifar10:DIR, got '%s'", v);
		o->calib = v;
	} else if (!strcmp(flag, "calib-limit")) {
		d->calib_limit = int_arg("--calib-limit", v, 1, INT_MAX);
	}
	remember(o->dis_flag, o->dis_value, &o->ndis_flags, flag, v);
}

static const char *dis_value(const options *o, const char *flag)
{
	return recalled(o->dis_flag, o->dis_value, o->ndis_flags, flag);
}

/* The checks of the disentangling options that need all options. */
static void dis_finish(options *o)
{
	if (!o->sides_arg) {
		if (o->ndis_flags)
			drv_usage_error("--%s needs --sides (disentangling)", o->dis_flag[0]);
		/* without circuits there is no quantum stage to read out */
		const char *q = o->readout_arg ? "readout" : o->shots_arg ? "shots" : o->isa ? "isa" : NULL;
		if (q)
			drv_usage_error("--%s needs --sides (it applies to the quantum stages)", q);
		return;
	}
	if (!o->layers && !o->matrix)
		drv_usage_error("%s", "--sides needs --layers (the layers to disentangle) or --matrix");
	if (o->group != 1)
		drv_usage_error("--sides needs one qubit per MPO site; --group=%s does not apply", o->group_arg);
	if (o->calib && o->dis.method != DISENTANGLE_GRADIENT)
		drv_usage_error("%s", "--calib needs --method=gradient (the variational method fits W itself)");
	if (o->calib && o->matrix)
		drv_usage_error("%s", "--calib needs a model, not --matrix");
	if (dis_value(o, "calib-limit") && !o->calib)
		drv_usage_error("%s", "--calib-limit needs --calib");
	if (dis_value(o, "restarts") && o->dis.method != DISENTANGLE_VARIATIONAL)
		drv_usage_error("%s", "--restarts needs --method=variational");
	/* the gradient method counts steps, not sweeps: its own default */
	if (o->dis.method == DISENTANGLE_GRADIENT && !dis_value(o, "sweeps"))
		o->dis.dis.max_sweeps = 500;
	o->dis.seed = o->seed;
	o->dis.quiet = o->quiet;
}

/* Defaults of the recipe and the checks that need all options. */
static void heal_finish(options *o)
{
	drv_heal_opts *h = &o->heal;
	if (!h->spec) {
		if (o->nheal_flags)
			drv_usage_error("--%s needs --heal", o->heal_flag[0]);
		return;
	}
	if (o->matrix)
		drv_usage_error("%s", "--heal needs a model, not --matrix");
	if (strncmp(h->spec, "mnist:", 6) && strncmp(h->spec, "cifar10:", 8))
		drv_usage_error("--heal expects mnist:DIR or cifar10:DIR, got '%s'", h->spec);
	/* --optimizer picks the defaults the other values override */
	const char *opt = heal_value(o, "optimizer");
	optim_opts given = h->optim;
	optim_defaults(&h->optim, opt && !strcmp(opt, "sgd") ? OPTIM_SGD : OPTIM_ADAM);
	if (heal_value(o, "lr"))
		h->optim.lr = given.lr;
	h->optim.weight_decay = given.weight_decay;
	sched_kind sk = heal_value(o, "schedule") ? h->sched.kind : SCHED_COSINE;
	sched_defaults(&h->sched, sk);
	if (!heal_value(o, "epochs"))
		h->epochs = 1;
	if (!heal_value(o, "batch"))
		h->batch = 128;
	if (!heal_value(o, "train"))
		h->scope = TRAIN_LAYER;
	/* A rewritten layer trained alone (a few hundred to a few thousand
	 * parameters, the rest frozen) wants ten times the step of whole-network
	 * fine-tuning: on the MNIST MLP, 2 epochs, adam 0.001 -> 0.01 lifts
	 * k=2 D=2 chi'=1 from 62.1% to 83.7% and plain chi=1 from 41.9% to
	 * 73.3%; sgd 0.01 -> 0.1 lifts chi=1 from 32.7% to 64.3%. */
	if (h->scope == TRAIN_LAYER && !heal_value(o, "lr"))
		h->optim.lr *= 10;
	h->preprocess = o->preprocess;
	h->threads = o->threads;
	h->quiet = o->quiet;
	h->seed = o->seed;
}

static void parse_args(int argc, char **argv, options *o)
{
	enum { OPT_NAME = 256, OPT_EMIT, OPT_DUMP, OPT_HELP, OPT_VERSION, OPT_DIM, OPT_CONST, OPT_CBLAS,
	       OPT_EVAL, OPT_PREPROCESS,
	       OPT_LAYERS, OPT_BOND, OPT_CUTOFF, OPT_GROUP, OPT_MATRIX,
	       OPT_HEAL, OPT_HEAL_FLAG, OPT_THREADS, OPT_SEED, OPT_SIDES, OPT_DIS_FLAG, OPT_READOUT,
	       OPT_SHOTS, OPT_ISA };
	static const struct option opts[] = {
		{"output", required_argument, 0, 'o'},
		{"name", required_argument, 0, OPT_NAME},
		{"emit", required_argument, 0, OPT_EMIT},
		{"dump-after", required_argument, 0, OPT_DUMP},
		{"dim", required_argument, 0, OPT_DIM},
		{"eval", required_argument, 0, OPT_EVAL},
		{"preprocess", required_argument, 0, OPT_PREPROCESS},
		{"const-input", required_argument, 0, OPT_CONST},
		{"cblas", no_argument, 0, OPT_CBLAS},
		{"layers", required_argument, 0, OPT_LAYERS},
		{"bond", required_argument, 0, OPT_BOND},
		{"cutoff", required_argument, 0, OPT_CUTOFF},
		{"group", required_argument, 0, OPT_GROUP},
		{"matrix", required_argument, 0, OPT_MATRIX},
		{"heal", required_argument, 0, OPT_HEAL},
		{"epochs", required_argument, 0, OPT_HEAL_FLAG},
		{"lr", required_argument, 0, OPT_HEAL_FLAG},
		{"batch", required_argument, 0, OPT_HEAL_FLAG},
		{"train", required_argument, 0, OPT_HEAL_FLAG},
		{"seed", required_argument, 0, OPT_SEED},
		{"optimizer", required_argument, 0, OPT_HEAL_FLAG},
		{"schedule", required_argument, 0, OPT_HEAL_FLAG},
		{"weight-decay", required_argument, 0, OPT_HEAL_FLAG},
		{"augment", no_argument, 0, OPT_HEAL_FLAG},
		{"heal-limit", required_argument, 0, OPT_HEAL_FLAG},
		{"holdout", required_argument, 0, OPT_HEAL_FLAG},
		{"threads", required_argument, 0, OPT_THREADS},
		{"sides", required_argument, 0, OPT_SIDES},
		{"method", required_argument, 0, OPT_DIS_FLAG},
		{"gate-qubits", required_argument, 0, OPT_DIS_FLAG},
		{"depth", required_argument, 0, OPT_DIS_FLAG},
		{"ansatz", required_argument, 0, OPT_DIS_FLAG},
		{"one-body", no_argument, 0, OPT_DIS_FLAG},
		{"residual-bond", required_argument, 0, OPT_DIS_FLAG},
		{"sweeps", required_argument, 0, OPT_DIS_FLAG},
		{"tol", required_argument, 0, OPT_DIS_FLAG},
		{"restarts", required_argument, 0, OPT_DIS_FLAG},
		{"calib", required_argument, 0, OPT_DIS_FLAG},
		{"calib-limit", required_argument, 0, OPT_DIS_FLAG},
		{"readout", required_argument, 0, OPT_READOUT},
		{"shots", required_argument, 0, OPT_SHOTS},
		{"isa", no_argument, 0, OPT_ISA},
		{"verbose", no_argument, 0, 'v'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, OPT_HELP},
		{"version", no_argument, 0, OPT_VERSION},
		{0, 0, 0, 0},
	};
	memset(o, 0, sizeof *o);
	o->emit = EMIT_C;
	o->group = 1;
	opterr = 0;
	o->threads = 1;
	disentangle_defaults(&o->dis);
	o->shots = 1000;
	int c, li;
	while ((c = getopt_long(argc, argv, ":o:vq", opts, &li)) != -1) {
		switch (c) {
		case OPT_HEAL: o->heal.spec = optarg; break;
		case OPT_HEAL_FLAG: heal_arg(o, opts[li].name, optarg ? optarg : "1"); break;
		case OPT_DIS_FLAG: dis_arg(o, opts[li].name, optarg ? optarg : "1"); break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			unsigned long long s = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' || s > INT64_MAX)
				drv_usage_error("--seed expects an integer in 0..9223372036854775807, got '%s'", optarg);
			o->seed = s;
			o->seed_arg = optarg;
			break;
		}
		case OPT_SIDES:
			if (!strcmp(optarg, "left"))
				o->dis.dis.sides = DIS_LEFT;
			else if (!strcmp(optarg, "right"))
				o->dis.dis.sides = DIS_RIGHT;
			else if (!strcmp(optarg, "both"))
				o->dis.dis.sides = DIS_BOTH;
			else
				drv_usage_error("--sides expects left, right or both, got '%s'", optarg);
			o->sides_arg = optarg;
			break;
		case OPT_READOUT:
			if (!strcmp(optarg, "exact"))
				o->readout = READOUT_EXACT;
			else if (!strcmp(optarg, "shots"))
				o->readout = READOUT_SHOTS;
			else if (!strcmp(optarg, "classical"))
				o->readout = READOUT_CLASSICAL;
			else
				drv_usage_error("--readout expects exact, shots or classical, got '%s'", optarg);
			o->readout_arg = optarg;
			break;
		case OPT_SHOTS: o->shots = int_arg("--shots", optarg, 1, 1000000000); o->shots_arg = optarg; break;
		case OPT_ISA: o->isa = 1; break;
		case OPT_THREADS:
			o->threads = int_arg("--threads", optarg, 0, 1024);
			o->threads_arg = optarg;
			break;
		case 'o': o->out = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case OPT_EMIT: o->emit = parse_emit(optarg); o->emit_arg = optarg; break;
		case OPT_DUMP: o->dump_after = optarg; break;
		case OPT_CBLAS: o->use_cblas = 1; break;
		case OPT_LAYERS:
			if (!*optarg)
				drv_usage_error("%s", "--layers expects auto or a comma-separated list of layer names");
			o->layers = optarg;
			break;
		case OPT_BOND: o->bond = int_arg("--bond", optarg, 1, INT_MAX); o->bond_arg = optarg; break;
		case OPT_GROUP: o->group = int_arg("--group", optarg, 1, 16); o->group_arg = optarg; break;
		case OPT_CUTOFF: {
			char *end; /* an underflow to 0 or a denormal is fine */
			o->cutoff = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(o->cutoff) || o->cutoff < 0 || o->cutoff >= 1)
				drv_usage_error("--cutoff expects a relative discarded weight in [0, 1), got '%s'",
						optarg);
			o->cutoff_arg = optarg;
			break;
		}
		case OPT_MATRIX: o->matrix = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'q': o->quiet = 1; break;
		case OPT_HELP: drv_print_help(); exit(0);
		case OPT_VERSION: printf("qnnc %s\n", QNNC_VERSION); exit(0);
		case OPT_EVAL: o->eval = optarg; break;
		case OPT_PREPROCESS: o->preprocess = optarg; break;
		case OPT_DIM: {
			char *eq = strchr(optarg, '=');
			char *end;
			if (!eq || eq == optarg || o->ndims == 64)
				drv_usage_error("--dim expects SYMBOL=VALUE, got '%s'", optarg);
			errno = 0;
			long long v = strtoll(eq + 1, &end, 10);
			if (errno || *end || v < 0 || eq[1] == 0)
				drv_usage_error("--dim expects a non-negative integer value, got '%s'", optarg);
			*eq = 0;
			o->dim_name[o->ndims] = optarg;
			o->dim_value[o->ndims++] = v;
			break;
		}
		case OPT_CONST: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1] || o->nconst == 64)
				drv_usage_error("--const-input expects NAME=FILE.pb, got '%s'", optarg);
			*eq = 0;
			o->const_name[o->nconst] = optarg;
			o->const_file[o->nconst++] = eq + 1;
			break;
		}
		case ':': drv_usage_error("option '%s' needs an argument", argv[optind - 1]);
		default: drv_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc && !o->matrix)
		drv_usage_error("%s", "no model given");
	if (o->matrix && optind < argc)
		drv_usage_error("--matrix compiles one matrix; unexpected model '%s'", argv[optind]);
	if (!o->matrix)
		o->model = argv[optind++];
	if (optind < argc)
		drv_usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->out)
		drv_usage_error("%s", "no output given (-o OUT)");
	if (o->verbose && o->quiet)
		drv_usage_error("%s", "-v and -q exclude each other");
	if (o->matrix && o->layers)
		drv_usage_error("%s", "--matrix compresses the whole matrix; --layers does not apply");
	if (!o->matrix && !o->layers && (o->bond_arg || o->cutoff_arg || o->group_arg))
		drv_usage_error("%s", "--bond, --cutoff and --group need --layers (or --matrix)");
	if (o->preprocess && !o->eval && !o->heal.spec && !o->calib)
		drv_usage_error("%s", "--preprocess needs --eval, --heal or --calib");
	if (o->seed_arg && !o->heal.spec && !o->sides_arg)
		drv_usage_error("%s", "--seed needs --heal or --sides");
	if (o->shots_arg && o->readout == READOUT_CLASSICAL)
		drv_usage_error("%s", "--shots does not apply to --readout=classical (no quantum stage runs)");
	if (o->sides_arg && !o->emit_arg)
		o->emit = EMIT_C | EMIT_QASM | EMIT_REPORT;
	if (o->eval && o->matrix)
		drv_usage_error("%s", "--eval needs a model, not --matrix");
	if (o->eval && strncmp(o->eval, "mnist:", 6) && strncmp(o->eval, "cifar10:", 8))
		drv_usage_error("--eval expects mnist:DIR or cifar10:DIR, got '%s'", o->eval);
	heal_finish(o);
	dis_finish(o);
}

/* A C identifier from OUT's last path component ("out/mnist-8" -> "mnist_8"). */
static char *derive_name(const char *out)
{
	const char *base = strrchr(out, '/');
	base = base ? base + 1 : out;
	size_t n = strlen(base);
	char *s = malloc(n + 2);
	size_t k = 0;
	if (!n || isdigit((unsigned char)base[0]))
		s[k++] = '_';
	for (size_t i = 0; i < n; i++)
		s[k++] = isalnum((unsigned char)base[i]) ? base[i] : '_';
	s[k] = 0;
	return s;
}

static int valid_ident(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static void dump(const options *o, ir_graph *g, const char *pass)
{
	if (o->dump_after && (!strcmp(o->dump_after, pass) || !strcmp(o->dump_after, "all"))) {
		fprintf(stderr, "; IR after %s\n", pass);
		ir_print(stderr, g, 1);
	}
}

/* Freeze the --const-input graph inputs to their values. */
static int freeze_inputs(const options *o, ir_graph *g)
{
	char err[4096];
	for (int i = 0; i < o->nconst; i++) {
		ir_value *v = ir_value_find(g, o->const_name[i]);
		if (!v || !v->is_input)
			return ir_error(g, NULL, "--const-input: '%s' is not a graph input", o->const_name[i]);
		ir_tensor *t = onnx_read_tensor(o->const_file[i], NULL, err, sizeof err);
		if (!t)
			return ir_error(g, NULL, "--const-input: %s", err);
		v->konst = ir_tensor_clone(g->arena, t);
		ir_tensor_free(t);
		if (v->dtype != v->konst->dtype) {
			ir_error(g, NULL, "--const-input: '%s' expects %s, file has %s", v->name,
				 ir_dtype_name(v->dtype), ir_dtype_name(v->konst->dtype));
			return -1;
		}
		ir_shape_from_dims(&v->shape, v->konst->rank, v->konst->dims);
		v->is_input = 0;
		int k = 0;
		for (int j = 0; j < g->ninputs; j++)
			if (g->inputs[j] != v)
				g->inputs[k++] = g->inputs[j];
		g->ninputs = k;
	}
	return 0;
}

/* Give every symbolic input dim its --dim value (default 1): the C
 * backend needs static shapes. Runs after the passes that keep the batch
 * symbolic (evaluation runs whole batches). */
static int resolve_dims(const options *o, ir_graph *g)
{
	for (int i = 0; i < g->ninputs; i++) {
		ir_shape *s = &g->inputs[i]->shape;
		if (s->rank < 0)
			return ir_error(g, NULL, "graph input '%s' has unknown rank; the C backend needs static shapes",
					g->inputs[i]->name);
		for (int d = 0; d < s->rank; d++) {
			if (s->d[d].v >= 0)
				continue;
			int64_t val = 1;
			int found = 0;
			for (int k = 0; k < o->ndims; k++)
				if (s->d[d].sym && !strcmp(s->d[d].sym, o->dim_name[k])) {
					val = o->dim_value[k];
					found = 1;
				}
			if (!found && o->verbose)
				fprintf(stderr, "qnnc: input '%s' dim %d (%s) set to 1 (use --dim %s=VALUE)\n",
					g->inputs[i]->name, d, s->d[d].sym ? s->d[d].sym : "?",
					s->d[d].sym ? s->d[d].sym : "SYM");
			s->d[d].v = val;
			s->d[d].sym = NULL;
		}
	}
	return 0;
}

/* --matrix: the graph x -> MpoLinear(W) -> y, compressed as it is built. */
static ir_graph *load_matrix(const options *o, compress_result *cres, char *err, size_t len)
{
	int64_t N, K;
	double *W = npy_read_matrix(o->matrix, &N, &K, err, len);
	if (!W)
		return NULL;
	compress_opts co = {o->bond, o->cutoff, o->group};
	ir_graph *g = compress_matrix_graph(o->matrix, W, N, K, &co, cres, err, len);
	free(W);
	return g;
}

/* -v: one line per compressed layer. */
static void print_compression(const options *o, const compress_result *c)
{
	if (!o->verbose)
		return;
	for (int i = 0; i < c->n; i++) {
		const compress_layer *L = &c->layer[i];
		fprintf(stderr, "qnnc: compressed '%s' (%lldx%lld, %d sites): bonds", L->name, (long long)L->rows,
			(long long)L->cols, L->nsites);
		for (int k = 0; k <= L->nsites; k++)
			fprintf(stderr, "%s%d", k ? "," : " ", L->bond[k]);
		fprintf(stderr, "; %lld of %lld parameters; relative error %.3g (%s)\n", (long long)L->params_mpo,
			(long long)L->params_dense, L->rel_error, L->rel_error_exact ? "exact" : "estimated");
	}
}

/* -v: one line per disentangled layer. */
static void print_disentangle(const options *o, const disentangle_result *d)
{
	if (!o->verbose)
		return;
	for (int i = 0; i < d->n; i++) {
		const disentangle_layer *L = &d->layer[i];
		const dis_result *r = &L->r;
		fprintf(stderr, "qnnc: disentangled '%s' (%lldx%lld, %d+%d qubits, %s): overlap %.6f "
			"(truncation %.6f), error %.4g (%.4g); gates %d U + %d V; M' bonds",
			L->name, (long long)L->rows, (long long)L->cols, L->n, L->m,
			disentangle_sides_name(d->opts.dis.sides), r->overlap, r->overlap_trunc, r->error,
			r->error_trunc, L->gates_u, L->gates_v);
		for (int k = 0; r->residual && k <= r->residual->nsites; k++)
			fprintf(stderr, "%s%d", k ? "," : " ", r->residual->bond[k]);
		fprintf(stderr, "; %d %s%s in %.2f s\n", r->nsweeps,
			d->opts.method == DISENTANGLE_GRADIENT ? "steps" : "sweeps",
			r->converged ? " (converged)" : "", r->seconds);
	}
}

/* The report's "flags": the options that shape the output, as given. */
static int report_flags(const options *o, const char **name, const char **value, char *dims, size_t len)
{
	int n = 0;
	size_t k = 0;
#define FLAG(nm, v) do { if (v) { name[n] = nm; value[n++] = v; } } while (0)
	FLAG("layers", o->layers);
	FLAG("bond", o->bond_arg);
	FLAG("cutoff", o->cutoff_arg);
	FLAG("group", o->group_arg);
	FLAG("emit", o->emit_arg);
	FLAG("name", o->name);
	dims[0] = 0;
	for (int i = 0; i < o->ndims && k + 1 < len; i++)
		k += (size_t)snprintf(dims + k, len - k, "%s%s=%lld", i ? "," : "", o->dim_name[i],
				      (long long)o->dim_value[i]);
	FLAG("dim", o->ndims ? dims : NULL);
	FLAG("cblas", o->use_cblas ? "1" : NULL);
	FLAG("sides", o->sides_arg);
	for (int i = 0; i < o->ndis_flags; i++)
		FLAG(o->dis_flag[i], o->dis_value[i]);
	FLAG("seed", o->seed_arg);
	FLAG("readout", o->readout_arg);
	FLAG("shots", o->shots_arg);
	FLAG("isa", o->isa ? "1" : NULL);
	FLAG("heal", o->heal.spec);
	for (int i = 0; i < o->nheal_flags; i++)
		FLAG(o->heal_flag[i], o->heal_value[i]);
	FLAG("threads", o->threads_arg);
#undef FLAG
	return n;
}

/* The output files: each written to a temporary name, all renamed at the end. */
typedef struct outfile {
	char *final, *tmp;
	FILE *f;
} outfile;

typedef struct outs {
	outfile *of;
	int n, cap;
} outs;

/* Open OUT<ext> (as its temporary); NULL after printing why. */
static FILE *open_out(outs *os, const char *out, const char *ext)
{
	if (os->n == os->cap) {
		int cap = os->cap ? 2 * os->cap : 8;
		outfile *t = realloc(os->of, (size_t)cap * sizeof *t);
		if (!t) {
			fprintf(stderr, "qnnc: out of memory\n");
			return NULL;
		}
		os->of = t;
		os->cap = cap;
	}
	outfile *of = &os->of[os->n];
	size_t n = strlen(out) + strlen(ext) + 32;
	of->final = malloc(n);
	of->tmp = malloc(n);
	of->f = NULL;
	if (!of->final || !of->tmp) {
		free(of->final);
		free(of->tmp);
		fprintf(stderr, "qnnc: out of memory\n");
		return NULL;
	}
	os->n++;
	snprintf(of->final, n, "%s%s", out, ext);
	snprintf(of->tmp, n, "%s%s.tmp%ld", out, ext, (long)getpid());
	of->f = fopen(of->tmp, "w");
	if (!of->f)
		fprintf(stderr, "qnnc: cannot write '%s': %s\n", of->tmp, strerror(errno));
	return of->f;
}

/* Close all; rename all if ok, else remove the temporaries. */
static int finish_outs(outs *os, int ok)
{
	outfile *ofs = os->of;
	int n = os->n;
	for (int i = 0; i < n; i++) {
		if (ofs[i].f && (ferror(ofs[i].f) | fclose(ofs[i].f))) {
			fprintf(stderr, "qnnc: error writing '%s'\n", ofs[i].final);
			ok = 0;
		}
		ofs[i].f = NULL;
	}
	for (int i = 0; i < n; i++) {
		if (ok && rename(ofs[i].tmp, ofs[i].final)) {
			fprintf(stderr, "qnnc: cannot create '%s': %s\n", ofs[i].final, strerror(errno));
			ok = 0;
		}
	}
	for (int i = 0; i < n; i++) {
		if (!ok)
			remove(ofs[i].tmp);
		free(ofs[i].final);
		free(ofs[i].tmp);
	}
	free(os->of);
	memset(os, 0, sizeof *os);
	return ok ? 0 : 1;
}

/* Write text to f, with the comment lines of note (may be NULL) after its
 * first line (the OPENQASM header must come first). */
static void write_text(FILE *f, const char *text, size_t len, const char *note)
{
	const char *nl = note ? memchr(text, '\n', len) : NULL;
	size_t head = nl ? (size_t)(nl - text) + 1 : 0;
	fwrite(text, 1, head, f);
	if (nl)
		fputs(note, f);
	fwrite(text + head, 1, len - head, f);
}

/* The OpenQASM 2 of a stage with its angles bound to the all-ones input. */
static int stage_qasm2(ir_graph *g, ir_node *n, int q, const double *ref, FILE *f)
{
	size_t d = (size_t)1 << q;
	double *w = malloc(2 * d * sizeof *w), *theta = malloc(2 * d * sizeof *theta);
	char *text = NULL, note[1024];
	size_t len = 0;
	int rc = -1;
	if (!w || !theta) {
		ir_error(g, n, "out of memory");
		goto done;
	}
	/* w = [x̂ ; r] / √2 for x = (1, .., 1): the stage's read-out form (spec §2) */
	for (size_t j = 0; j < d; j++) {
		w[j] = 1 / sqrt((double)d) / sqrt(2.0);
		w[d + j] = ref[j] / sqrt(2.0);
	}
	if (qnn_stateprep_angles(w, q + 1, theta)) {
		ir_error(g, n, "cannot compute the state preparation angles of %d qubits", q + 1);
		goto done;
	}
	if (stage_program2(g, n, theta, &text, &len, NULL))
		goto done;
	snprintf(note, sizeof note,
		 "// Quantum stage %lld (node '%s') for tools that cannot take inputs: the state\n"
		 "// preparation angles are bound to the input x = (1, ..., 1) (normalised), so this\n"
		 "// program computes that one vector; the OpenQASM 3 program (.qasm) takes x as inputs.\n",
		 (long long)ir_attr_int(n, "stage", -1), n->name);
	write_text(f, text, len, note);
	rc = 0;
done:
	free(text);
	free(w);
	free(theta);
	return rc;
}

/* Every quantum stage (a Circuit node with stage >= 0) in graph order: its
 * program for the report, written to OUT.stageN.qasm / .qasm2 as asked. */
static int emit_stages(const options *o, ir_graph *g, outs *os, report_stage **stages, int *nstages)
{
	int ns = 0;
	*stages = NULL;
	*nstages = 0;
	for (int i = 0; i < g->nnodes; i++)
		ns += g->nodes[i]->op == IR_OP_Circuit && ir_attr_int(g->nodes[i], "stage", -1) >= 0;
	if (!ns) {
		if ((o->emit & (EMIT_QASM | EMIT_QASM2)) && o->emit_arg && !o->quiet)
			fprintf(stderr, "qnnc: warning: --emit=%s: the program has no quantum stage, no "
				"OpenQASM written\n", o->emit_arg);
		return 0;
	}
	report_stage *st = calloc((size_t)ns, sizeof *st);
	if (!st)
		return ir_error(g, NULL, "out of memory");
	*stages = st;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		int64_t s = n->op == IR_OP_Circuit ? ir_attr_int(n, "stage", -1) : -1;
		if (s < 0)
			continue;
		report_stage *rs = &st[(*nstages)++];
		char *text = NULL, ext[64];
		size_t len = 0;
		double *ref = NULL;
		const int64_t *ks;
		if (stage_program(g, n, o->isa, &text, &len, &ref, &rs->stats))
			return -1;
		rs->stage = (int)s;
		rs->node = n->name;
		rs->qubits = (int)ir_attr_int(n, "qubits", 0);
		rs->gates = ir_attr_ints(n, "ks", &ks);
		int bad = 0;
		if (o->emit & EMIT_QASM) {
			snprintf(ext, sizeof ext, ".stage%lld.qasm", (long long)s);
			FILE *f = open_out(os, o->out, ext);
			if (f) {
				fwrite(text, 1, len, f);
				rs->file = os->of[os->n - 1].final;
			}
			bad = !f;
		}
		if (!bad && (o->emit & EMIT_QASM2)) {
			snprintf(ext, sizeof ext, ".stage%lld.qasm2", (long long)s);
			FILE *f = open_out(os, o->out, ext);
			bad = !f || stage_qasm2(g, n, rs->qubits, ref, f);
			if (f && bad && g->nerrors)
				fprintf(stderr, "%s\n", g->err);
		}
		free(text);
		free(ref);
		if (bad)
			return 1; /* the message is out */
	}
	return 0;
}

int drv_compile(int argc, char **argv)
{
	options o;
	parse_args(argc, argv, &o);
	char *name = o.name ? strdup(o.name) : derive_name(o.out);
	if (!valid_ident(name)) {
		fprintf(stderr, "qnnc: --name '%s' is not a C identifier\n", name);
		free(name);
		return 2;
	}

	/* --threads=0: OpenBLAS's own count, made concrete so that it can be
	 * restored after compression and recorded. --matrix compresses as it
	 * loads: one thread from here on, like pass_compress below. */
	if (!o.threads)
		o.threads = o.heal.threads = la_set_threads(0);
	la_set_threads(1);

	char err[4096];
	select_result sel = {0};
	compress_result cres = {0};
	disentangle_result dres = {0};
	report_stage *stages = NULL;
	int nstages = 0;
	ds_set *calib = NULL;
	ds_preprocess calib_pp = {0};
	drv_eval ev = {0};
	drv_heal heal = {0};
	outs os = {0};
	int have_sel = 0, have_cres = o.matrix != NULL, have_dres = 0;
	ir_graph *g = o.matrix ? load_matrix(&o, &cres, err, sizeof err) : onnx_load(o.model, err, sizeof err);
	if (!g) {
		fprintf(stderr, "%s\n", err);
		compress_free(&cres);
		free(name);
		return 1;
	}
	int rc = 1;
	la_set_threads(o.threads);
	dump(&o, g, "load");
	if (freeze_inputs(&o, g) || pass_infer(g))
		goto fail;
	dump(&o, g, "infer");
	/* Folding fixes shapes that depended on constant data; infer again
	 * so every value downstream is typed. */
	int folded = pass_fold(g, 0);
	if (folded < 0 || pass_infer(g))
		goto fail;
	dump(&o, g, "fold");
	pass_dce(g);
	dump(&o, g, "dce");
	if (ir_verify(g))
		goto fail;
	if (o.verbose)
		fprintf(stderr, "qnnc: %s: %d nodes after folding %d\n", g->source, g->nnodes, folded);

	/* --eval: accuracy of the model as loaded, on the test split. */
	if (o.eval && drv_eval_begin(o.eval, o.preprocess, o.quiet, g, &ev))
		goto fail;

	if (o.layers) {
		select_opts so;
		select_defaults(&so);
		so.max_bond = o.bond;
		so.group = o.group;
		have_sel = 1;
		if (pass_select(g, o.layers, &so, &sel) < 0)
			goto fail;
		for (int i = 0; o.verbose && i < sel.n; i++)
			fprintf(stderr, "qnnc: layer '%s' (%s %lldx%lld): %s\n", sel.layer[i].name, sel.layer[i].op,
				(long long)sel.layer[i].rows, (long long)sel.layer[i].cols, sel.layer[i].reason);
		if (!sel.nselected && !o.quiet)
			fprintf(stderr, "qnnc: warning: --layers=%s selected no layer (-v or the report say why)\n",
				o.layers);
		compress_opts co = {o.bond, o.cutoff, o.group};
		have_cres = 1;
		/* One BLAS thread: the same MPO on every machine. */
		la_set_threads(1);
		if (pass_compress(g, &sel, &co, &cres) < 0 || pass_infer(g))
			goto fail;
		la_set_threads(o.threads);
		dump(&o, g, "compress");
		if (ir_verify(g))
			goto fail;
	}
	print_compression(&o, &cres);
	if (o.eval && drv_eval_end(have_cres && cres.n > 0, g, &ev))
		goto fail;

	/* --sides: each compressed layer becomes U M' Vᵀ (circuits and a
	 * residual MPO); then the disentangled model is evaluated classically. */
	if (o.sides_arg) {
		if (o.matrix) { /* the one layer of --matrix */
			select_opts so;
			select_defaults(&so);
			if (pass_select(g, "W", &so, &sel) < 0)
				goto fail;
		}
		if (o.calib) {
			if (o.preprocess && ds_preprocess_parse(o.preprocess, &calib_pp, err, sizeof err)) {
				ir_error(g, NULL, "--preprocess: %s", err);
				goto fail;
			}
			if (!(calib = ds_load(o.calib, DS_TRAIN, err, sizeof err))) {
				ir_error(g, NULL, "--calib: %s", err);
				goto fail;
			}
			o.dis.calib = calib;
			o.dis.pp = o.preprocess ? &calib_pp : NULL;
		}
		have_dres = 1;
		/* One BLAS thread, as for compression: the same circuits everywhere. */
		la_set_threads(1);
		if (pass_disentangle(g, &sel, &o.dis, &dres) < 0 || pass_infer(g))
			goto fail;
		la_set_threads(o.threads);
		dump(&o, g, "disentangle");
		if (ir_verify(g))
			goto fail;
		print_disentangle(&o, &dres);
		if (o.eval && dres.n > 0 && drv_dis_eval(g, &ev))
			goto fail;
	}

	/* --heal: fine-tune with the rewritten layers in place; the healed
	 * weights replace the graph's constants. */
	if (o.heal.spec && (drv_heal_run(&o.heal, g, &heal) || (o.eval && drv_heal_eval(g, &ev))))
		goto fail;
	dump(&o, g, "heal");

	/* --emit=onnx: the transformed (healed) model, batch still symbolic,
	 * so other tools can run it. */
	if (o.emit & EMIT_ONNX) {
		FILE *f = open_out(&os, o.out, ".onnx");
		if (!f)
			goto fail_files;
		if (onnx_save_file(g, f, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			goto fail_files;
		}
	}

	/* Static shapes for the C backend, then fold what they fix. */
	if (resolve_dims(&o, g) || pass_infer(g) || pass_fold(g, 0) < 0 || pass_infer(g))
		goto fail;
	pass_dce(g);
	dump(&o, g, "specialise");
	if (ir_verify(g))
		goto fail;

	if (o.emit & EMIT_C) {
		size_t n = strlen(o.out) + 3;
		char *hname = malloc(n);
		const char *base = strrchr(o.out, '/');
		snprintf(hname, n, "%s.h", base ? base + 1 : o.out);
		cgen_options co = {.name = name, .use_cblas = o.use_cblas,
				   .classical_circuits = o.readout == READOUT_CLASSICAL,
				   .readout = o.readout == READOUT_SHOTS, /* QNN_READOUT_SHOTS, else _EXACT */
				   .shots = o.shots, .isa = o.isa};
		FILE *fc = open_out(&os, o.out, ".c"), *fh = fc ? open_out(&os, o.out, ".h") : NULL;
		int bad = !fh || cgen_emit(g, &co, hname, fc, fh);
		free(hname);
		if (bad)
			goto fail;
	}
	if (o.emit & EMIT_IR) {
		FILE *f = open_out(&os, o.out, ".ir");
		if (!f)
			goto fail_files;
		ir_print(f, g, 0);
	}
	if (o.emit & (EMIT_QASM | EMIT_QASM2 | EMIT_REPORT)) {
		int e = emit_stages(&o, g, &os, &stages, &nstages);
		if (e < 0)
			goto fail;
		if (e)
			goto fail_files;
	}
	if (o.emit & EMIT_REPORT) {
		const char *fname[64], *fvalue[64];
		char dims[1024];
		report_dis rd = {.result = &dres, .calib = o.calib, .preprocess = o.calib ? o.preprocess : NULL,
				 .calib_limit = o.dis.calib_limit,
				 .readout = o.readout == READOUT_SHOTS ? "shots"
					    : o.readout == READOUT_CLASSICAL ? "classical" : "exact",
				 .shots = o.shots, .isa = o.isa, .nstages = nstages, .stage = stages};
		report_info ri = {.model = o.model, .matrix = o.matrix,
				  .nflags = report_flags(&o, fname, fvalue, dims, sizeof dims),
				  .flag_name = fname, .flag_value = fvalue, .layers = o.layers,
				  .selection = have_sel ? &sel : NULL, .compression = have_cres ? &cres : NULL,
				  .eval = o.eval ? &ev.rep : NULL, .heal = o.heal.spec ? &heal.rep : NULL,
				  .disentangle = have_dres ? &rd : NULL};
		FILE *f = open_out(&os, o.out, ".json");
		if (!f)
			goto fail_files;
		report_write(f, &ri); /* write errors surface in finish_outs */
	}
	rc = finish_outs(&os, 1);
	if (!rc && !o.quiet && o.verbose)
		fprintf(stderr, "qnnc: wrote %s.*\n", o.out);
	goto done;
fail:
	if (g->nerrors)
		fprintf(stderr, "%s\n", g->err);
fail_files:
	finish_outs(&os, 0);
	rc = 1;
done:
	free(stages);
	ds_free(calib);
	drv_eval_free(&ev);
	drv_heal_free(&heal);
	select_free(&sel);
	compress_free(&cres);
	disentangle_free(&dres);
	ir_graph_free(g);
	free(name);
	return rc;
}
