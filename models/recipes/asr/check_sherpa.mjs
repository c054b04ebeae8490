// Optional cross-check: decode the held-out real prompts with sherpa-onnx-node (its own fbank for NeMo CTC
// models) and compare with the onnxruntime-node results of eval.py (work/eval/hyps_real_fp32.json: the graph
// Callscribe runs, on this recipe's Python features). By default sherpa's OfflineRecognizer decodes model.onnx,
// the whole-utterance graph of the same network (its OnlineRecognizer does not set up NeMo features: it uses its
// default Kaldi-style fbank, so it hears a NeMo model differently). A streaming file given as the argument goes
// through the OnlineRecognizer.
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
const model = process.argv[2] || path.join(modelDir, 'model.onnx');
const online = path.basename(model).includes('streaming');
const config = {
  featConfig: { sampleRate: 8000, featureDim: 80 },
  modelConfig: { nemoCtc: { model }, tokens: path.join(modelDir, 'tokens.txt'), numThreads: 1, provider: 'cpu', debug: 0 },
  decodingMethod: 'greedy_search',
};
const rec = online ? new sherpa.OnlineRecognizer(config) : new sherpa.OfflineRecognizer(config);
const hypsFile = path.basename(model).includes('int8') ? 'int8' : 'fp32';
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
