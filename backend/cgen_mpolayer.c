/* cgen_mpolayer.c - C emission for the 'mpolayer' op family (see
 * ir/ops.def): MpoLinear, Y = X Wᵀ + B with W an MPO (passes/op_mpolayer.c
 * has the maths and the core layout).
 *
 * The batch is contracted site by site, as passes/mpo.c does, on a state
 * held in the node's scratch region of the workspace (two ping-pong
 * buffers sized at compile time; no malloc, reentrant with one context
 * per thread). Before site k the state is
 *
 *   S_k[a, j, z],  a < χ_k, j < din_k,  z < Z_k = (din_{k+1} .. din_S, lane, dout_1 .. dout_{k-1})
 *
 * (row-major; lane = the vector within the batch tile), and site k computes
 *
 *   S_{k+1}[b, z, i] = Σ_{a,j} core_k[a, i, j, b] S_k[a, j, z]
 *
 * putting the new output digit i last, which keeps the next site's (a, j)
 * leading and every Z_k large (2^(n_in + n_out) / (din_k dout_k) / 2^(bits
 * not yet seen) per lane), unlike a layout with the batch last. S_1 is X
 * transposed (column j, then lane) zero-padded to 2^n_in rows; after the
 * last site the state is (lane, dout_1 .. dout_S), Y zero-padded to
 * 2^n_out columns, which is truncated to N and gets B added.
 *
 * The kernel is the dense Gemm emitter's (cgen_matmul.c): for each (b, i)
 * and each panel of P consecutive z (P = 32 floats or 16 doubles, smaller
 * when Z_k is), P accumulators stay in registers while (a, j) runs, as
 * P/8 literal loops of 8 that gcc -O2 vectorises and unrolls; the panel is
 * then stored once (with stride dout_k). The batch tile is the whole batch
 * while the scratch stays under 1 MiB.
 */
#include "cgen_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <string.h>

/* Defined in cgen_matmul.c (shared by the matmul/conv/pool/norm emitters). */
void cg_keep_loop(cgen *cg, const char *ind);

#define MPL_MAX_SITES 64
#define MPL_SCRATCH_BUDGET ((int64_t)1 << 20) /* bytes, before the tile is cut */

typedef struct mpl_plan {
	int S;                     /* sites */
	int64_t N, K, Np, Kp;      /* rows, cols, padded */
	int64_t batch, bt;         /* vectors, vectors per tile */
	int64_t dout[MPL_MAX_SITES], din[MPL_MAX_SITES], bond[MPL_MAX_SITES + 1];
	int64_t Z[MPL_MAX_SITES];  /* Z_k with bt lanes */
	int64_t buf;               /* elements per state buffer (64-byte multiple) */
	size_t esize;              /* element size */
} mpl_plan;

/* The plan from the node's shapes (verified by infer). Returns 0, or -1
 * when the sizes do not fit the generated code's int indices. */
static int mpl_make(const ir_node *n, mpl_plan *p)
{
	const ir_value *x = n->in[0];
	p->S = n->nin - 2;
	p->N = ir_attr_int(n, "rows", 1);
	p->K = ir_attr_int(n, "cols", 1);
	p->esize = ir_dtype_size(x->dtype);
	p->batch = ir_shape_numel(&x->shape) / p->K;
	p->Np = p->Kp = 1;
	for (int k = 0; k < p->S; k++) {
		const ir_shape *s = &n->in[2 + k]->shape;
		p->bond[k] = s->d[0].v;
		p->dout[k] = s->d[1].v;
		p->din[k] = s->d[2].v;
		p->bond[k + 1] = s->d[3].v;
		p->Np *= p->dout[k];
		p->Kp *= p->din[k];
		if (p->Np > INT_MAX || p->Kp > INT_MAX || p->bond[k + 1] > INT_MAX)
			return -1; /* before anything overflows */
	}
	/* Per lane: Z_k without lanes and the largest state. */
	int64_t z1[MPL_MAX_SITES], state = 0, pre = 1;
	for (int k = 0; k < p->S; k++) {
		int64_t rest = 1;
		for (int l = k + 1; l < p->S; l++)
			rest *= p->din[l];
		z1[k] = rest * pre;
		pre *= p->dout[k];
		double before = (double)p->bond[k] * (double)p->din[k] * (double)z1[k];
		double after = (double)p->bond[k + 1] * (double)p->dout[k] * (double)z1[k];
		if (before > INT_MAX / 4 || after > INT_MAX / 4)
			return -1;
		state = (int64_t)before > state ? (int64_t)before : state;
		state = (int64_t)after > state ? (int64_t)after : state;
	}
	int64_t per = 2 * state * (int64_t)p->esize;
	p->bt = p->batch < 1 ? 1 : p->batch;
	if (p->bt * per > MPL_SCRATCH_BUDGET)
		p->bt = MPL_SCRATCH_BUDGET / per > 1 ? MPL_SCRATCH_BUDGET / per : 1;
	if (p->bt * 2 * state > INT_MAX / 2)
		return -1;
	int64_t align = 64 / (int64_t)p->esize;
	p->buf = (state * p->bt + align - 1) / align * align;
	for (int k = 0; k < p->S; k++)
		p->Z[k] = z1[k] * p->bt;
	return 0;
}

int64_t cgen_mpolayer_scratch(const ir_node *n)
{
	mpl_plan p;
	if (mpl_make(n, &p) || p.batch == 0)
		return 0; /* cgen_mpolayer reports the error */
	return (int64_t)p.esize * 2 * p.buf;
}

static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t";

/* Nested loops "for (int v = 0; v < ext; v++)" from depth ind over the
 * variables of extent > 1 (the others are left out of idx() too), the
 * innermost opening a block; a bare block when there are none. Returns the
 * depth of the block's body; its "}" goes one level up. */
static int open_loops(cgen *cg, int ind, int nv, const char *const *v, const int64_t *ext)
{
	int any = 0;
	for (int i = 0; i < nv; i++) {
		if (ext[i] <= 1)
			continue;
		cg_printf(cg, "%s%.*sfor (int %s = 0; %s < %" PRId64 "; %s++)", any ? "\n" : "", ind++, tabs, v[i],
			  v[i], ext[i], v[i]);
		any = 1;
	}
	if (any)
		cg_printf(cg, " {\n");
	else
		cg_printf(cg, "%.*s{\n", ind++, tabs);
	return ind;
}

/* Row-major flat index "v0 * s0 + v1 * s1 + ..." of variables v with
 * extents ext, leaving out extent-1 variables and NULL names (a NULL name
 * still counts for the strides); "0" if nothing is left. */
static const char *idx(char *buf, size_t len, int nv, const char *const *v, const int64_t *ext)
{
	size_t k = 0;
	int64_t stride = 1, s[8];
	for (int i = nv - 1; i >= 0; i--) {
		s[i] = stride;
		stride *= ext[i];
	}
	buf[0] = 0;
	for (int i = 0; i < nv; i++) {
		if (ext[i] <= 1 || !v[i])
			continue;
		if (s[i] == 1)
			k += (size_t)snprintf(buf + k, len - k, "%s%s", k ? " + " : "", v[i]);
		else
			k += (size_t)snprintf(buf + k, len - k, "%s%s * %" PRId64, k ? " + " : "", v[i], s[i]);
	}
	if (!k)
		snprintf(buf, len, "0");
	return buf;
}

/* Site k: S_k (buffer in) -> S_{k+1} (buffer out), see the top comment. */
static void emit_site(cgen *cg, const ir_node *n, const mpl_plan *p, int k, const char *in, const char *out)
{
	ir_dtype t = n->in[0]->dtype;
	const char *T = ir_dtype_c_type(t);
	int64_t A = p->bond[k], J = p->din[k], I = p->dout[k], B = p->bond[k + 1], Z = p->Z[k];
	int64_t P = t == IR_F32 ? 32 : 16;
	while (Z % P) /* Z_k is a power of two times the tile */
		P /= 2;
	char e1[256], e2[256], lit[64];
	cg_printf(cg, "\t\t/* site %d: core (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "), %" PRId64
		  " columns in panels of %" PRId64 " */\n", k + 1, A, I, J, B, Z, P);
	const char *lv[3] = {"b", "i", "z0"}, *av[2] = {"a", "j"};
	int64_t le[3] = {B, I, Z / P}, ae[2] = {A, J};
	int ind = open_loops(cg, 2, 3, lv, le);
	cg_printf(cg, "%.*s%s acc[%" PRId64 "];\n", ind, tabs, T, P);
	cg_printf(cg, "%.*sfor (int q = 0; q < %" PRId64 "; q++)\n%.*sacc[q] = %s;\n", ind, tabs, P, ind + 1, tabs,
		  cg_literal(t, 0, lit, sizeof lit));
	int ind2 = open_loops(cg, ind, 2, av, ae);
	const char *cv[4] = {"a", "i", "j", "b"}, *vv[3] = {"a", "j", NULL};
	int64_t ce[4] = {A, I, J, B}, ve[3] = {A, J, Z};
	cg_printf(cg, "%.*sconst %s w = x%d[%s];\n", ind2, tabs, T, 2 + k, idx(e1, sizeof e1, 4, cv, ce));
	idx(e2, sizeof e2, 3, vv, ve);
	if (Z > P && !strcmp(e2, "0")) /* + z0 P */
		snprintf(e2, sizeof e2, "z0 * %" PRId64, P);
	else if (Z > P)
		snprintf(e2 + strlen(e2), sizeof e2 - strlen(e2), " + z0 * %" PRId64, P);
	cg_printf(cg, "%.*sconst %s *restrict v = %s + %s;\n", ind2, tabs, T, in, e2);
	for (int64_t q = 0; q < P; q += 8) {
		cg_keep_loop(cg, tabs + sizeof tabs - 1 - ind2);
		cg_printf(cg, "%.*sfor (int q = %" PRId64 "; q < %" PRId64 "; q++)\n%.*sacc[q] += w * v[q];\n", ind2,
			  tabs, q, q + 8 < P ? q + 8 : P, ind2 + 1, tabs);
	}
	cg_printf(cg, "%.*s}\n", ind2 - 1, tabs);
	/* S_{k+1}[b, z, i] with z = z0 P + q: b Z I + z I + i */
	char zt[64], bt[64] = "", it[32] = "";
	if (Z > P)
		snprintf(zt, sizeof zt, I > 1 ? "(z0 * %" PRId64 " + q)" : "z0 * %" PRId64 " + q", P);
	else
		snprintf(zt, sizeof zt, "q");
	if (B > 1)
		snprintf(bt, sizeof bt, "b * %" PRId64 " + ", Z * I);
	if (I > 1)
		snprintf(it, sizeof it, " * %" PRId64 " + i", I);
	cg_printf(cg, "%.*sfor (int q = 0; q < %" PRId64 "; q++)\n%.*s%s[%s%s%s] = acc[q];\n", ind, tabs, P, ind + 1,
		  tabs, out, bt, zt, it);
	cg_printf(cg, "%.*s}\n", ind - 1, tabs);
}

int cgen_mpolayer(cgen *cg, ir_node *n)
{
	mpl_plan p;
	if (cg_fits_int(cg, n))
		return -1;
	if (mpl_make(n, &p))
		return ir_error(cg->g, n, "the MPO's intermediate states are too large for the C backend "
					  "(int indices); lower the bond dimension");
	const char *T = ir_dtype_c_type(n->in[0]->dtype);
	int has_b = n->in[1] != NULL;
	cg_printf(cg, "/* %" PRId64 "x%" PRId64 " MPO, %d sites, bonds", p.N, p.K, p.S);
	for (int k = 0; k <= p.S; k++)
		cg_printf(cg, "%s%" PRId64, k ? "," : " ", p.bond[k]);
	cg_printf(cg, "; batch %" PRId64 " in tiles of %" PRId64 " */\n", p.batch, p.bt);
	cg_begin_fn(cg, n);
	if (p.batch == 0) {
		for (int i = 0; i < n->nin; i++)
			if (n->in[i])
				cg_printf(cg, "\t(void)x%d;\n", i);
		cg_printf(cg, "\t(void)y0;\n}\n");
		return 0;
	}
	cg_printf(cg, "\t%s *restrict s0 = (%s *)scratch;\n", T, T);
	cg_printf(cg, "\t%s *restrict s1 = s0 + %" PRId64 ";\n", T, p.buf);
	/* The tile loop; b0 and nb are literals when there is one tile / no
	 * partial tile. */
	int tiled = p.bt < p.batch, partial = p.batch % p.bt != 0;
	char nb[32];
	if (tiled)
		cg_printf(cg, "\tfor (int b0 = 0; b0 < %" PRId64 "; b0 += %" PRId64 ") {\n", p.batch, p.bt);
	else
		cg_printf(cg, "\t{\n");
	if (partial) {
		cg_printf(cg, "\t\tconst int nb = %" PRId64 " - b0 < %" PRId64 " ? %" PRId64 " - b0 : %" PRId64 ";\n",
			  p.batch, p.bt, p.batch, p.bt);
		snprintf(nb, sizeof nb, "nb");
	} else {
		snprintf(nb, sizeof nb, "%" PRId64, p.bt);
	}
	/* S_1: the tile transposed (column j, then lane), zero-padded. */
	char off[96];
	if (p.bt == 1) {
		if (tiled)
			snprintf(off, sizeof off, " + b0 * %" PRId64, p.K);
		else
			off[0] = 0;
		cg_printf(cg, "\t\tmemcpy(s0, x0%s, %" PRId64 ");\n", off, p.K * (int64_t)p.esize);
		if (p.Kp > p.K)
			cg_printf(cg, "\t\tmemset(s0 + %" PRId64 ", 0, %" PRId64 ");\n", p.K,
				  (p.Kp - p.K) * (int64_t)p.esize);
	} else {
		if (p.Kp > p.K || partial)
			cg_printf(cg, "\t\tmemset(s0, 0, %" PRId64 ");\n", p.Kp * p.bt * (int64_t)p.esize);
		cg_printf(cg, "\t\tfor (int l = 0; l < %s; l++)\n\t\t\tfor (int j = 0; j < %" PRId64 "; j++)\n"
			  "\t\t\t\ts0[j * %" PRId64 " + l] = x0[%sl%s * %" PRId64 " + j];\n",
			  nb, p.K, p.bt, tiled ? "(b0 + " : "", tiled ? ")" : "", p.K);
	}
	static const char *const buf[2] = {"s0", "s1"};
	for (int k = 0; k < p.S; k++)
		emit_site(cg, n, &p, k, buf[k % 2], buf[(k + 1) % 2]);
	/* The state is (lane, dout_1 .. dout_S): Y padded to 2^n_out columns. */
	char body[256];
	snprintf(body, sizeof body, "y[i] = s[i]%s;", has_b ? " + x1[i]" : "");
	cg_printf(cg, "\t\t/* Y: the state truncated to %" PRId64 " columns%s */\n", p.N, has_b ? ", plus B" : "");
	if (p.bt > 1) {
		cg_printf(cg, "\t\tfor (int l = 0; l < %s; l++) {\n", nb);
		cg_printf(cg, "\t\t\t%s *restrict y = y0 + %sl%s * %" PRId64 ";\n", T, tiled ? "(b0 + " : "",
			  tiled ? ")" : "", p.N);
		cg_printf(cg, "\t\t\tconst %s *restrict s = %s + l * %" PRId64 ";\n", T, buf[p.S % 2], p.Np);
	} else {
		cg_printf(cg, "\t\t{\n");
		if (tiled)
			snprintf(off, sizeof off, " + b0 * %" PRId64, p.N);
		else
			off[0] = 0;
		cg_printf(cg, "\t\t\t%s *restrict y = y0%s;\n", T, off);
		cg_printf(cg, "\t\t\tconst %s *restrict s = %s;\n", T, buf[p.S % 2]);
	}
	cg_for_split(cg, "\t\t\t", "i", 0, p.N, body);
	cg_printf(cg, "\t\t}\n\t}\n}\n");
	return 0;
}
