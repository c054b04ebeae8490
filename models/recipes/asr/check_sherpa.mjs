// Optional cross-check: decode the held-out real prompts with sherpa-onnx-node (its own fbank for NeMo CTC
// models) and compare with the onnxruntime-node results of eval.py (work/eval/hyps_real_fp32.json, which used
// this recipe's Python features). The streaming graph goes through sherpa's OnlineRecognizer, the whole-utterance
// graph through its OfflineRecognizer.
// usage: node check_sherpa.mjs [model file]   (sherpa-onnx-node from repo node_modules or $SHERPA_ONNX_NODE_PATH)
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
const streamingFile = path.join(modelDir, 'model.streaming.onnx');
const model = process.argv[2] || (existsSync(streamingFile) ? streamingFile : path.join(modelDir, 'model.onnx'));
const online = path.basename(model).includes('streaming');
const config = {
  featConfig: { sampleRate: 8000, featureDim: 80 },
  modelConfig: { nemoCtc: { model }, tokens: path.join(modelDir, 'tokens.txt'), numThreads: 1, provider: 'cpu', debug: 0 },
  decodingMethod: 'greedy_search',
};
const rec = online ? new sherpa.OnlineRecognizer(config) : new sherpa.OfflineRecognizer(config);
const hypsFile = {
  'model.streaming.onnx': 'fp32', 'model.streaming.int8.onnx': 'int8',
  'model.onnx': existsSync(streamingFile) ? 'wholeUtteranceFp32' : 'fp32',
  'model.int8.onnx': existsSync(streamingFile) ? 'wholeUtteranceInt8' : 'int8',
}[path.basename(model)];
const names = readFileSync(path.join(here, 'heldout_real.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
const ref = JSON.parse(readFileSync(path.join(here, 'work', 'eval', `hyps_real_${hypsFile}.json`), 'utf8'));
const ortHyp = Object.fromEntries(ref.hyps.map((h) => [h.id, h.hyp]));
let same = 0, n = 0;
const diffs = [];
for (const name of names) {
  const f = `/usr/share/asterisk/sounds/en/${name}.wav`;
  if (!existsSync(f)) continue;
  const wave = sherpa.readWave(f);
  const s = rec.createStream();
  s.acceptWaveform({ sampleRate: wave.sampleRate, samples: wave.samples });
  if (online) {
    s.inputFinished();
    while (rec.isReady(s)) rec.decode(s);
  } else {
    rec.decode(s);
  }
  const text = rec.getResult(s).text.replace(/\s+/g, ' ').trim();
  n++;
  if (text === ortHyp[name]) same++; else diffs.push({ name, sherpa: text, ort: ortHyp[name] });
}
console.log(JSON.stringify({ model: path.basename(model), recognizer: online ? 'OnlineRecognizer' : 'OfflineRecognizer', prompts: n, identicalTranscripts: same, differing: diffs.slice(0, 5) }, null, 1));
