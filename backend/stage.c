/* stage.c - quantum stages: a Circuit node checked with constant gates,
 * its stage program (OpenQASM 3 or 2) and r = Qᵀu (see stage.h). The gate
 * list handed to the OpenQASM emitter is Q's in application order: G_0 ..
 * G_last for Q = C, G_lastᵀ .. G_0ᵀ for Q = Cᵀ; dis site s (0-based) is
 * register site s + 1 of the q-qubit data register (qasm.h maps sites to
 * qubits). */
#include "stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"
#include "ops.h"

int stage_circuit_of(ir_graph *g, ir_node *n, stage_circuit *sc)
{
	memset(sc, 0, sizeof *sc);
	if (n->op != IR_OP_Circuit)
		return ir_error(g, n, "not a Circuit node");
	if (circuit_check(g, n))
		return -1;
	if (n->nin < 2 || !n->in[1] || !n->in[1]->konst)
		return ir_error(g, n, "input G (the gate matrices) must be a constant");
	if (circuit_desc_get(g, n, &sc->d))
		return -1;
	sc->G = n->in[1]->konst->data;
	return 0;
}

void stage_circuit_free(stage_circuit *sc) { circuit_desc_free(&sc->d); }

/* Q's gates in application order for the OpenQASM emitter; *tr receives
 * the transposed matrices (heap, free it; NULL when not transposed). */
static int stage_gates(ir_graph *g, ir_node *n, const stage_circuit *sc, qasm_gate **out, double **tr)
{
	const circuit_desc *d = &sc->d;
	int ng = d->ngates;
	qasm_gate *qg = malloc((size_t)(ng ? ng : 1) * sizeof *qg);
	double *t = d->transpose ? malloc((size_t)(d->off[ng] ? d->off[ng] : 1) * sizeof *t) : NULL;
	if (!qg || (d->transpose && !t)) {
		free(qg);
		free(t);
		return ir_error(g, n, "out of memory");
	}
	for (int i = 0; i < ng; i++) {
		int j = d->transpose ? ng - 1 - i : i;
		int64_t dd = (int64_t)1 << d->ks[j];
		const double *m = sc->G + d->off[j];
		qg[i].k = d->ks[j];
		qg[i].site = d->sites[j] + 1;
		qg[i].U = m;
		if (d->transpose) {
			double *mt = t + d->off[j];
			for (int64_t a = 0; a < dd; a++)
				for (int64_t b = 0; b < dd; b++)
					mt[a * dd + b] = m[b * dd + a];
			qg[i].U = mt;
		}
	}
	*out = qg;
	*tr = t;
	return 0;
}

/* Emit the stage program of n into a heap string (form 3: OpenQASM 3 with
 * isa; form 2: OpenQASM 2 with theta bound). */
static int stage_emit(ir_graph *g, ir_node *n, const stage_circuit *sc, int form, int isa, const double *theta,
		      char **text, size_t *len, qasm_stats *st)
{
	qasm_gate *qg = NULL;
	double *tr = NULL;
	char err[512];
	*text = NULL;
	*len = 0;
	if (sc->d.q + 1 > QASM_MAX_STATEPREP_QUBITS)
		return ir_error(g, n, "a quantum stage has at most %d data qubits (state preparation over q + 1), "
				      "not %d; compile it classically", QASM_MAX_STATEPREP_QUBITS - 1, sc->d.q);
	if (stage_gates(g, n, sc, &qg, &tr))
		return -1;
	qasm_stats stats;
	qasm_options o = {.stateprep = 1, .measure = 1, .stats = &stats, .readout = 1, .isa = isa};
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	int rc = -1;
	if (!f) {
		ir_error(g, n, "out of memory");
		goto out;
	}
	int erc = form == 3 ? qasm_emit_circuit(f, qg, sc->d.ngates, sc->d.q, &o, err, sizeof err)
			    : qasm_emit_circuit2(f, qg, sc->d.ngates, sc->d.q, &o, theta, err, sizeof err);
	if (fclose(f) && !erc) {
		snprintf(err, sizeof err, "write error");
		erc = -1;
	}
	if (erc) {
		ir_error(g, n, "stage %d: OpenQASM %d emission failed: %s", sc->d.stage, form, err);
		free(buf);
		goto out;
	}
	*text = buf;
	*len = blen;
	if (st)
		*st = stats;
	rc = 0;
out:
	free(qg);
	free(tr);
	return rc;
}

int stage_program(ir_graph *g, ir_node *n, int isa, char **text, size_t *len, double **ref, qasm_stats *st)
{
	stage_circuit sc;
	*text = NULL;
	*len = 0;
	*ref = NULL;
	int rc = -1;
	double *r = NULL;
	if (stage_circuit_of(g, n, &sc))
		goto out;
	const circuit_desc *d = &sc.d;
	int64_t dim = (int64_t)1 << d->q;
	r = malloc((size_t)dim * sizeof *r);
	if (!r) {
		ir_error(g, n, "out of memory");
		goto out;
	}
	for (int64_t j = 0; j < dim; j++)
		r[j] = 1 / sqrt((double)dim);
	/* Qᵀ = Cᵀ, or C when the node applies Cᵀ */
	if (circuit_apply_f64(d->sites, d->ks, d->ngates, sc.G, d->q, !d->transpose, r, 1)) {
		ir_error(g, n, "applying the circuit: %s", la_last_error());
		goto out;
	}
	if (stage_emit(g, n, &sc, 3, isa, NULL, text, len, st))
		goto out;
	*ref = r;
	r = NULL;
	rc = 0;
out:
	free(r);
	stage_circuit_free(&sc);
	return rc;
}

int stage_program2(ir_graph *g, ir_node *n, const double *theta, char **text, size_t *len, qasm_stats *st)
{
	stage_circuit sc;
	*text = NULL;
	*len = 0;
	int rc = -1;
	if (stage_circuit_of(g, n, &sc))
		goto out;
	if (!theta) {
		ir_error(g, n, "stage_program2: no angles");
		goto out;
	}
	rc = stage_emit(g, n, &sc, 2, 0, theta, text, len, st);
out:
	stage_circuit_free(&sc);
	return rc;
}
