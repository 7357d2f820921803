// ort_bench.js - batch-1 inference time of onnxruntime-node (CPU EP, one
// thread) for bench/run.sh:  node ort_bench.js MODEL INPUT.bin DIMS ITERS
// prints "ort_us <microseconds per inference>" (best of 5 repetitions).
'use strict';
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
	const [model, input, dims, iters] = process.argv.slice(2);
	const shape = dims.split(',').map(Number);
	const buf = fs.readFileSync(input);
	const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
	const sess = await ort.InferenceSession.create(model, {
		intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
	});
	const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', data, shape) };
	for (let i = 0; i < 100; i++) await sess.run(feeds);
	let best = Infinity;
	for (let rep = 0; rep < 5; rep++) {
		const t0 = process.hrtime.bigint();
		for (let i = 0; i < Number(iters); i++) await sess.run(feeds);
		const t = Number(process.hrtime.bigint() - t0) / 1e3 / Number(iters);
		best = Math.min(best, t);
	}
	console.log(`ort_us ${best.toFixed(3)}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
