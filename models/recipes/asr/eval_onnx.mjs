// Run an exported asr-en-telephony ONNX model with onnxruntime-node on precomputed
// features and greedy-decode it; optionally benchmark batch 1 / batch 16 speed.
//
// usage: node eval_onnx.mjs --model model.onnx --tokens tokens.txt --feats feats.f32 --index index.json
//            --out hyps.json [--bench 1] [--threads 2]
// feats.f32: concatenated little-endian float32 matrices, each [80, T] (mel-major),
// index.json: {"items": [{"id": "...", "frames": T, "samples": S}], "sampleRate": 8000}
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const require = createRequire(path.join(repoRoot, 'package.json'));
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  ort = require(process.env.ORT_NODE_PATH || 'onnxruntime-node');
}

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, arr) => (a.startsWith('--') ? [...acc, [a.slice(2), arr[i + 1]]] : acc), []),
);
const DIM = 80;
const tokens = [];
for (const line of readFileSync(args.tokens, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const i = line.lastIndexOf(' ');
  tokens[Number(line.slice(i + 1))] = line.slice(0, i);
}
const blank = tokens.indexOf('<blk>');
const index = JSON.parse(readFileSync(args.index, 'utf8'));
const buf = readFileSync(args.feats);
const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
let off = 0;
const items = index.items.map((it) => {
  const f = all.subarray(off, off + DIM * it.frames);
  off += DIM * it.frames;
  return { ...it, feats: f };
});
const threads = Number(args.threads || 2);
const session = await ort.InferenceSession.create(args.model, {
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});

function makeBatch(batch) {
  const T = Math.max(...batch.map((b) => b.frames));
  const data = new Float32Array(batch.length * DIM * T);
  batch.forEach((b, n) => {
    for (let d = 0; d < DIM; d++) {
      data.set(b.feats.subarray(d * b.frames, (d + 1) * b.frames), n * DIM * T + d * T);
    }
  });
  const feeds = {
    audio_signal: new ort.Tensor('float32', data, [batch.length, DIM, T]),
    length: new ort.Tensor('int64', BigInt64Array.from(batch.map((b) => BigInt(b.frames))), [batch.length]),
  };
  // A cache-aware streaming graph: one window over the whole utterance from zero states is its whole pass.
  session.inputNames.forEach((name, i) => {
    if (name in feeds) return;
    const meta = session.inputMetadata[i];
    const shape = [batch.length, ...meta.shape.slice(1)];
    const size = shape.reduce((a, b) => a * b, 1);
    feeds[name] = meta.type === 'int64'
      ? new ort.Tensor('int64', new BigInt64Array(size), shape)
      : new ort.Tensor('float32', new Float32Array(size), shape);
  });
  return feeds;
}

async function run(batch) {
  const out = await session.run(makeBatch(batch));
  const lp = out[session.outputNames[0]];
  const lens = out[session.outputNames[1]].data;
  const [N, Tp, V] = lp.dims;
  return batch.map((b, n) => {
    const L = Number(lens[n]);
    const rows = lp.data.subarray(n * Tp * V, n * Tp * V + L * V);
    let prev = -1;
    let text = '';
    for (let t = 0; t < L; t++) {
      let best = 0;
      let bv = -Infinity;
      for (let v = 0; v < V; v++) {
        const x = rows[t * V + v];
        if (x > bv) { bv = x; best = v; }
      }
      if (best !== prev && best !== blank) text += tokens[best] === '\u2581' ? ' ' : tokens[best];
      prev = best;
    }
    return { id: b.id, hyp: text.replace(/\s+/g, ' ').trim(), logprobs: rows };
  });
}

const hyps = [];
for (const it of items) {
  const [r] = await run([it]);
  hyps.push({ id: r.id, hyp: r.hyp });
}
const result = { model: path.basename(args.model), hyps };

// batch consistency: a sequence's output in a padded batch equals its output alone
{
  const sorted = [...items].sort((a, b) => a.frames - b.frames);
  const pick = [sorted[0], sorted[Math.floor(sorted.length / 2)], sorted[sorted.length - 1]];
  const batched = await run(pick);
  let maxDiff = 0;
  for (let i = 0; i < pick.length; i++) {
    const [alone] = await run([pick[i]]);
    for (let k = 0; k < alone.logprobs.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(alone.logprobs[k] - batched[i].logprobs[k]));
    }
  }
  result.batchConsistencyMaxAbsDiff = maxDiff;
}

if (args.bench && args.bench !== '0') {
  const audioSec = items.reduce((s, it) => s + it.samples / index.sampleRate, 0);
  await run([items[0]]); // warm-up
  let t0 = process.hrtime.bigint();
  for (const it of items) await run([it]);
  const b1 = Number(process.hrtime.bigint() - t0) / 1e9;
  const sorted = [...items].sort((a, b) => a.frames - b.frames);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < sorted.length; i += 16) await run(sorted.slice(i, i + 16));
  const b16 = Number(process.hrtime.bigint() - t0) / 1e9;
  result.speed = {
    audioSeconds: audioSec,
    threads,
    batch1: { wallSeconds: b1, audioSecondsPerSecond: audioSec / b1 },
    batch16: { wallSeconds: b16, audioSecondsPerSecond: audioSec / b16 },
  };
}
writeFileSync(args.out, JSON.stringify(result, null, 1));
console.log(JSON.stringify({ model: result.model, n: hyps.length, batchConsistencyMaxAbsDiff: result.batchConsistencyMaxAbsDiff, speed: result.speed }));
