// Optional cross-check: decode the held-out real prompts with sherpa-onnx-node (its own fbank for NeMo CTC
// models + the exported model.onnx) and compare with the onnxruntime-node results of eval.py
// (work/eval/hyps_real_fp32.json, which used this recipe's Python features).
// usage: node check_sherpa.mjs [model.onnx]   (sherpa-onnx-node from repo node_modules or $SHERPA_ONNX_NODE_PATH)
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const require = createRequire(path.join(root, 'package.json'));
let sherpa;
try { sherpa = require('sherpa-onnx-node'); } catch { sherpa = require(process.env.SHERPA_ONNX_NODE_PATH); }
const modelDir = path.join(root, 'models', 'asr-en-telephony');
const model = process.argv[2] || path.join(modelDir, 'model.onnx');
const rec = new sherpa.OfflineRecognizer({
  featConfig: { sampleRate: 8000, featureDim: 80 },
  modelConfig: { nemoCtc: { model }, tokens: path.join(modelDir, 'tokens.txt'), numThreads: 1, provider: 'cpu', debug: 0 },
  decodingMethod: 'greedy_search',
});
const names = readFileSync(path.join(here, 'heldout_real.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
const ref = JSON.parse(readFileSync(path.join(here, 'work', 'eval', `hyps_real_${path.basename(model) === 'model.onnx' ? 'fp32' : 'int8'}.json`), 'utf8'));
const ortHyp = Object.fromEntries(ref.hyps.map((h) => [h.id, h.hyp]));
let same = 0, n = 0;
const diffs = [];
for (const name of names) {
  const f = `/usr/share/asterisk/sounds/en/${name}.wav`;
  if (!existsSync(f)) continue;
  const wave = sherpa.readWave(f);
  const s = rec.createStream();
  s.acceptWaveform({ sampleRate: wave.sampleRate, samples: wave.samples });
  rec.decode(s);
  const text = rec.getResult(s).text.replace(/\s+/g, ' ').trim();
  n++;
  if (text === ortHyp[name]) same++; else diffs.push({ name, sherpa: text, ort: ortHyp[name] });
}
console.log(JSON.stringify({ model: path.basename(model), prompts: n, identicalTranscripts: same, differing: diffs.slice(0, 5) }, null, 1));
