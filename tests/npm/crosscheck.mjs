/* crosscheck.mjs - independent checks of qnnc's OpenQASM output with two npm
 * packages that share no code with qnnc (issue #7):
 *
 *   1. qasm-ts (parser) accepts every emitted program: the OpenQASM 3 files
 *      with its version-3 parser, the OpenQASM 2 files with its version-2
 *      parser. Any exception fails, and qasm-ts must find as many gate
 *      calls in an OpenQASM 3 program as our runtime's parser does, and
 *      the same qubits (declared, or the physical qubits $k used) and
 *      inputs; an OpenQASM 2 program declares the qubits and no input.
 *   2. quantum-circuit (simulator) runs every OpenQASM 2 file; its state
 *      before measurement must equal the state our runtime's simulator
 *      computed for the OpenQASM 3 version (written by
 *      tests/tools/qasm_fixtures), amplitude by amplitude, to 1e-9.
 *      For the read-out stage form, amp(0, j) + amp(1, j) computed from
 *      quantum-circuit's state must also equal Q x^ (DESIGN §6).
 *
 * Bit order. quantum-circuit keeps the state as a sparse map from basis
 * index to amplitude (QuantumCircuit#state) in which wire w, i.e. q[w] of
 * the imported register, is bit w of the index (least significant first):
 * `x q[0];` on 3 qubits gives index 1, `x q[2];` index 4. That is our
 * convention (DESIGN §2), so indices are compared without mapping; the
 * check "bit_order" below pins it. Its helpers stateAsArray and
 * stateAsSimpleArray take a reverseBits flag (q[0] as the most significant
 * bit) and round to 14 digits, so we read QuantumCircuit#state directly.
 * Two more things to know: QuantumCircuit#numQubits counts the wires the
 * program touches, not the declared qreg, so absent high indices are zero;
 * and run() simulates measurements by collapsing the state, so the
 * trailing `measure` lines are removed before import (we compare the state
 * before measurement, as qnn_program_run returns it).
 *
 * Global phase: the OpenQASM 2 programs use ry, x, z, h, cx and u1, whose
 * quantum-circuit matrices equal qelib1.inc's and our runtime's exactly, and
 * the isa OpenQASM 3 programs carry their phase in gphase, so amplitudes are
 * compared directly, without normalising a phase. On a mismatch the message
 * says whether the states differ only by a global phase or by a reversed bit
 * order, to tell a convention problem from a wrong program.
 *
 * The fixtures (tests/tools/qasm_fixtures.c) are random circuits and the
 * stage programs qnnc compiled from the MNIST fixture (examples/mnist-mlp:
 * its disentanglers, 9 qubits and 511 inputs each, portable and --isa).
 *
 * Usage: node --no-warnings --experimental-loader ./hook.mjs crosscheck.mjs DIR
 * (DIR holds fixtures.json; see tests/npm/run_crosscheck.sh).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseString } from "qasm-ts";

const require = createRequire(import.meta.url);

/* qasm-ts 2.1.4's OpenQASM 3 parser accepts physical qubits ($k) as gate
 * operands but not as measure operands (`c[0] = measure $0;`, the form of
 * IBM's ISA programs and valid by the OpenQASM 3 grammar: measureExpression
 * takes a gateOperand): its expression parser has no case for `$`. Those
 * lines, and only in exactly this form, are blanked before parsing (line
 * numbers kept) and counted in the summary. */
const HW_MEASURE = /^\w+\[\d+\] = measure \$\d+;$/gm;
let hwMeasures = 0;

/* qasm-ts 2.1.4's OpenQASM 2 parser does not read qelib1.inc: it knows a
 * fixed list of gate names that lacks rx, ry and rz (and U, CX), and throws
 * BadGateError on them. Their qelib1.inc definitions, placed after the
 * include line, make it accept the standard programs we write. */
const QELIB1_MISSING =
	"gate rx(theta) a { u3(theta,-pi/2,pi/2) a; }\n" +
	"gate ry(theta) a { u3(theta,0,0) a; }\n" +
	"gate rz(phi) a { u1(phi) a; }\n";

const QuantumCircuit = require("quantum-circuit");
const TOL = 1e-9;

const dir = process.argv[2];
if (!dir) {
	console.error("usage: crosscheck.mjs FIXTURE_DIR");
	process.exit(2);
}

let failures = 0;
function fail(what, msg)
{
	failures++;
	console.error(`FAIL ${what}: ${msg}`);
}

/* Pinned versions (package.json): a stale node_modules is reported, not trusted. */
function checkVersions()
{
	const want = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")).dependencies;
	for (const [pkg, version] of Object.entries(want)) {
		const got = require(`${pkg}/package.json`).version;
		if (got !== version)
			fail("versions", `${pkg} ${got} installed, ${version} pinned: run npm ci in tests/npm`);
	}
}

/* Run an OpenQASM 2 text in quantum-circuit; returns n complex amplitudes
 * as [re[], im[]] indexed by our basis index (q[j] = bit j). */
function simulate(text, n)
{
	/* Measurements (all at the end) would collapse the state. */
	const lines = text.split("\n");
	let last = lines.length;
	while (last > 0 && /^\s*(measure\b.*)?$/.test(lines[last - 1]))
		last--;
	const body = lines.slice(0, last);
	if (body.some((l) => /^\s*measure\b/.test(l)))
		throw new Error("measurement before the end of the program");

	const qc = new QuantumCircuit();
	const errors = [];
	qc.importQASM(body.join("\n") + "\n", (errs) => errors.push(...errs));
	if (errors.length)
		throw new Error("import: " + JSON.stringify(errors));
	/* An unknown gate is only logged by run(), then skipped: refuse it here. */
	for (const row of qc.gates)
		for (const g of row)
			if (g && !qc.basicGates[g.name] && !(qc.customGates && qc.customGates[g.name]))
				throw new Error(`gate '${g.name}' unknown to quantum-circuit`);
	if (qc.numQubits > n)
		throw new Error(`${qc.numQubits} wires, expected at most ${n}`);
	const log = console.log;
	const logged = [];
	console.log = (...a) => logged.push(a.join(" "));
	try {
		qc.run();
	} finally {
		console.log = log;
	}
	if (logged.length)
		throw new Error("run: " + logged.join("; "));

	const N = 2 ** n;
	const re = new Float64Array(N), im = new Float64Array(N);
	for (const [key, a] of Object.entries(qc.state)) {
		const i = Number(key);
		if (!Number.isInteger(i) || i < 0 || i >= N)
			throw new Error(`state index ${key} outside 0..${N - 1}`);
		re[i] = a.re;
		im[i] = a.im;
	}
	return [re, im];
}

function reverseBits(i, n)
{
	let r = 0;
	for (let b = 0; b < n; b++)
		r |= ((i >> b) & 1) << (n - 1 - b);
	return r;
}

/* Largest |ours - theirs| with theirs indexed through map (identity: as is). */
function maxDiff(ore, oim, tre, tim, map = (i) => i)
{
	let d = 0;
	for (let i = 0; i < ore.length; i++)
		d = Math.max(d, Math.hypot(ore[i] - tre[map(i)], oim[i] - tim[map(i)]));
	return d;
}

/* Why two states differ: a global phase, or the bit order? */
function diagnose(n, ore, oim, tre, tim)
{
	let sr = 0, si = 0; /* <theirs|ours> */
	for (let i = 0; i < ore.length; i++) {
		sr += tre[i] * ore[i] + tim[i] * oim[i];
		si += tre[i] * oim[i] - tim[i] * ore[i];
	}
	if (Math.abs(Math.hypot(sr, si) - 1) < TOL)
		return `they differ by the global phase ${Math.atan2(si, sr)} rad`;
	if (maxDiff(ore, oim, tre, tim, (i) => reverseBits(i, n)) < TOL)
		return "they agree with the bit order reversed";
	return "not a global phase nor a bit reversal";
}

/* The bit order claim of the header, on a program we write by hand. */
function checkBitOrder()
{
	const text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nx q[0];\nx q[2];\n';
	const [re] = simulate(text, 3);
	if (re[5] !== 1 || re.reduce((s, v) => s + Math.abs(v), 0) !== 1)
		fail("bit_order", `x q[0]; x q[2]; should give index 5 (q[j] = bit j): ${Array.from(re)}`);
}

/* qasm-ts's syntax tree of a program and its gate calls. Its parser takes
 * time quadratic in the program's length (over a second for an isa stage
 * of the MNIST fixture), so a text met again (the OpenQASM 2 twins of the
 * isa programs are the portable ones') is parsed once; a failure is
 * remembered as well. */
const parses = new Map();
let parsedTexts = 0;
function qasmTs(text, version)
{
	const key = `${version}\n${text}`;
	if (!parses.has(key)) {
		let entry;
		try {
			if (version === 2)
				text = text.replace(/^include "qelib1.inc";\n/m, (m) => m + QELIB1_MISSING);
			else
				text = text.replace(HW_MEASURE, () => (hwMeasures++, ""));
			const ast = parseString(text, version);
			if (!Array.isArray(ast) || ast.length === 0)
				throw new Error("empty syntax tree");
			const calls = ast.filter((a) => a.constructor.name === "QuantumGateCall").length;
			entry = { ast, calls };
		} catch (e) {
			entry = { error: e };
		}
		parses.set(key, entry);
		parsedTexts++;
	}
	const entry = parses.get(key);
	if (entry.error)
		throw entry.error;
	return entry;
}

/* Qubits and inputs of a program as qasm-ts read it: OpenQASM 3 declares
 * `qubit[n] q;` or uses physical qubits $k (counted up to the largest);
 * OpenQASM 2 declares `qreg q[n];` and has no inputs. */
function shapeOf(ast, version)
{
	let qubits = 0, physical = 0, inputs = 0;
	for (const a of ast) {
		const kind = a.constructor.name;
		if (version === 2 && kind === "QReg")
			qubits += a.size;
		else if (kind === "QuantumDeclaration")
			qubits += a.size.value;
		else if (kind === "IODeclaration" && a.modifier === "input")
			inputs++;
		else if (kind === "QuantumGateCall")
			for (const q of a.qubits)
				if (q.constructor.name === "HardwareQubit")
					physical = Math.max(physical, q.number + 1);
	}
	return { qubits: qubits || physical, inputs };
}

function main()
{
	checkVersions();
	checkBitOrder();
	const manifest = JSON.parse(readFileSync(join(dir, "fixtures.json"), "utf8"));
	const fixtures = manifest.fixtures;
	if (!Array.isArray(fixtures) || fixtures.length === 0) {
		fail("fixtures", "no fixtures in fixtures.json");
		return;
	}
	/* The isa fixtures share their OpenQASM 2 text with the portable ones. */
	const runs = new Map();
	let parsed = 0, simulated = 0, compared = 0, worst = 0;
	let slowest = { s: 0, file: "" };
	for (const fx of fixtures) {
		const n = fx.nqubits;
		for (const [file, version] of [[fx.qasm3, 3], [fx.qasm2, 2]]) {
			if (!file)
				continue;
			try {
				const { ast, calls } = qasmTs(readFileSync(join(dir, file), "utf8"), version);
				/* Every gate statement read as a gate call: as many as
				 * our own parser counts (qnn_program_ngates). */
				if (version === 3 && calls !== fx.ngates)
					throw new Error(`${calls} gate calls in qasm-ts's syntax tree, ` +
							`our parser counts ${fx.ngates}`);
				const shape = shapeOf(ast, version), inputs = version === 3 ? fx.ninputs : 0;
				if (shape.qubits !== n || shape.inputs !== inputs)
					throw new Error(`${shape.qubits} qubits and ${shape.inputs} inputs in ` +
							`qasm-ts's syntax tree, expected ${n} and ${inputs}`);
				parsed++;
			} catch (e) {
				/* qasm-ts sometimes throws the error class itself */
				const what = typeof e === "function" ? e.name : `${e.name || "error"}: ${e.message || e}`;
				fail(`${file} (qasm-ts, OpenQASM ${version})`, what);
			}
		}
		if (!fx.qasm2)
			continue;
		let tre, tim;
		try {
			const text = readFileSync(join(dir, fx.qasm2), "utf8");
			if (!runs.has(text)) {
				const t0 = Date.now();
				runs.set(text, simulate(text, n));
				simulated++;
				const s = (Date.now() - t0) / 1000;
				if (s > slowest.s)
					slowest = { s, file: fx.qasm2 };
			}
			[tre, tim] = runs.get(text);
		} catch (e) {
			fail(`${fx.qasm2} (quantum-circuit)`, e.message || String(e));
			continue;
		}
		compared++;
		const d = maxDiff(fx.re, fx.im, tre, tim);
		worst = Math.max(worst, d);
		if (!(d <= TOL))
			fail(`${fx.qasm2} (quantum-circuit)`,
			     `state differs from ours by ${d.toExponential(3)}; ${diagnose(n, fx.re, fx.im, tre, tim)}`);
		if (fx.readout) {
			/* ancilla q[n-1] = most significant bit: amp(a, j) at a 2^(n-1) + j */
			const D = 2 ** (n - 1);
			let e = 0;
			for (let j = 0; j < D; j++)
				e = Math.max(e, Math.abs(tre[j] + tre[D + j] - fx.readout[j]),
					     Math.abs(tim[j] + tim[D + j]));
			if (!(e <= TOL))
				fail(`${fx.qasm2} (read-out)`, `amp(0,j) + amp(1,j) is ${e.toExponential(3)} away from Q x^`);
		}
	}
	console.log(`crosscheck: ${parsed} programs accepted by qasm-ts (${parsedTexts} distinct texts ` +
		    `parsed, ${hwMeasures} measurements of physical qubits left out); ${simulated} ` +
		    `OpenQASM 2 programs simulated by quantum-circuit, ${compared} of our states compared ` +
		    `(largest amplitude difference ${worst.toExponential(2)}; slowest simulation ` +
		    `${slowest.file}, ${slowest.s.toFixed(1)} s)`);
	const stages = fixtures.filter((fx) => fx.stage);
	if (stages.length)
		console.log(`crosscheck: qnnc's stage programs checked: ${stages.map((fx) => fx.name).join(", ")}`);
}

try {
	main();
} catch (e) {
	fail("crosscheck", e.stack || String(e));
}
if (failures) {
	console.error(`crosscheck: ${failures} failure(s)`);
	process.exit(1);
}
