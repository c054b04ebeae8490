/**
 * What word-level decoding costs: LM load time and resident memory, and decoder CPU per stream:
 *   npx tsx --initial-old-space-size=128 bench/asr/decode-cpu.ts [--precision int8|fp32]
 *     [--lm model|<file.arpa>|<file.lm.bin>|<file.bin>] [--widths 8,16,32] [--lm-weight 0.8] [--word-bonus 0]
 * `--lm model` (the default) uses the model folder's LM and lexicon; a file is read as ARPA, CMU Sphinx
 * trie (.lm.bin) or the compact binary (.bin), its words spelled in the model's tokens as the lexicon.
 * The held-out Asterisk prompts go once through the engine to capture their log-probs; each decoder then
 * decodes all of them frame by frame as streaming does (a partial peek every 12 frames), timed by
 * process CPU. "streams per core" = audio seconds decoded per CPU second: how many real-time streams'
 * decoding one core keeps up with (the acoustic model and VAD not included; streams-concurrency.ts
 * measures the whole server).
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  BeamCtcDecoder,
  GreedyCtcDecoder,
  type CtcDecoder,
} from "../../services/asr/src/engine/decoding/ctc.ts";
import { WordLm, defaultWordSearchOptions } from "../../services/asr/src/engine/decoding/word-lm.ts";
import { WordLmCtcDecoder } from "../../services/asr/src/engine/decoding/word-lm-ctc.ts";
import { Recognizer } from "../../services/asr/src/engine/engine.ts";
import { loadAsrModel, loadVad } from "../../services/asr/src/engine/index.ts";
import {
  readArpa,
  readLmBinary,
  readSphinxTrie,
  type LanguageModel,
  type Lexicon,
} from "../../services/asr/src/engine/lm/index.ts";
import type { AcousticModel } from "../../services/asr/src/engine/model/acoustic-model.ts";
import type { Vocabulary } from "../../services/asr/src/engine/model/vocabulary.ts";
import type { SileroVad } from "../../services/asr/src/engine/vad/silero.ts";
import { logger, modelDir } from "./engine-support.ts";
import { heldOutRecordings } from "./streams-speech.ts";

const { values } = parseArgs({
  options: {
    precision: { type: "string", default: "int8" },
    lm: { type: "string", default: "model" },
    widths: { type: "string", default: "8,16,32" },
    "lm-weight": { type: "string" },
    "word-bonus": { type: "string" },
  },
});
const precision = values.precision === "fp32" ? "fp32" : "int8";
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

function lmFile(path: string): LanguageModel & { tables: { words: readonly string[] } } {
  if (path.endsWith(".arpa")) return readArpa(path);
  if (path.endsWith(".lm.bin") || path.endsWith(".DMP")) return readSphinxTrie(path);
  return readLmBinary(path);
}

function lexiconOf(words: readonly string[], vocabulary: Vocabulary): Lexicon {
  const kept: string[] = [];
  const spellings: Int32Array[] = [];
  for (const word of words) {
    if (word.startsWith("<")) continue;
    const ids = [...word].map((c) => vocabulary.idOfChar.get(c) ?? -1);
    if (ids.length === 0 || ids.some((id) => id < 0 || id === vocabulary.spaceId)) continue;
    kept.push(word);
    spellings.push(Int32Array.from(ids));
  }
  return { words: kept, spellings };
}

const rssStart = process.memoryUsage().rss;
let started = performance.now();
const model = (await loadAsrModel({ dir: modelDir, provider: "cpu", precision, logger })) as AcousticModel;
const modelLoadMs = performance.now() - started;
const rssModel = process.memoryUsage().rss;
const vocabulary = model.spec.vocabulary;

let lm: LanguageModel | null;
let lexicon: Lexicon | null;
let lmLoadMs = 0;
let lmSource: string;
if (values.lm === "model") {
  lm = model.languageModel;
  lexicon = model.lexicon;
  // The folder's LM is read with the model: read its file again alone for its own time and memory.
  const declared = (
    JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as {
      decoding?: { lm?: { path?: string } };
    }
  ).decoding?.lm?.path;
  if (declared) {
    const before = process.memoryUsage().rss;
    started = performance.now();
    const again = lmFile(join(modelDir, declared));
    lmLoadMs = performance.now() - started;
    lmSource = `model folder ${declared}, read again alone (+${mb(process.memoryUsage().rss - before)} MB RSS, ${again.vocabularySize} words)`;
  } else {
    lmSource = "model folder";
  }
} else {
  const path = resolve(values.lm);
  started = performance.now();
  const file = lmFile(path);
  lmLoadMs = performance.now() - started;
  lm = file;
  lexicon = lexiconOf(file.tables.words, vocabulary);
  lmSource = path;
}
const rssLm = process.memoryUsage().rss;
if (!lm || !lexicon) throw new Error("no LM: the model folder declares none; pass --lm <file>");
started = performance.now();
const wordLm = new WordLm(lm, lexicon, vocabulary);
const searchBuildMs = performance.now() - started;
const rssSearch = process.memoryUsage().rss;

// The held-out prompts' log-probs, as the engine commits them.
const vad = await loadVad({ provider: "cpu", logger });
const engine = new Recognizer(
  {
    model,
    vad: vad as SileroVad,
    logger,
    language: null,
    options: { maxBatch: 32, maxWaitMs: 10, maxStreams: 256, maxQueuedChunks: 4096, chunkMs: 240 },
  },
  { captureLogProbs: true },
);
const utterances: Array<{ data: Float32Array; frames: number }> = [];
let audioSeconds = 0;
for (const prompt of heldOutRecordings()) {
  const stream = engine.openStream({ sampleRate: 8000, interimResults: false });
  stream.pushAudio(prompt.pcm);
  await stream.finish();
  audioSeconds += prompt.pcm.length / 8000;
  for (const u of stream.capturedUtterances) utterances.push({ data: u.data, frames: u.frames });
}
await engine.close();
const vocab = vocabulary.tokens.length;

function decodeAll(make: () => CtcDecoder): number {
  const before = process.cpuUsage();
  for (const u of utterances) {
    const decoder = make();
    for (let t = 0; t < u.frames; t++) {
      decoder.step(u.data, t * vocab);
      // A partial every chunk (240 ms = 12 output frames).
      if (t % 12 === 11) decoder.peek(u.data, (t + 1) * vocab, 0);
    }
    decoder.result();
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

const weight = values["lm-weight"] !== undefined ? Number(values["lm-weight"]) : undefined;
const bonus = values["word-bonus"] !== undefined ? Number(values["word-bonus"]) : undefined;
const rows: Array<[string, () => CtcDecoder]> = [
  ["greedy", () => new GreedyCtcDecoder(vocab, vocabulary.blankId)],
  ["beam 8 (no LM)", () => new BeamCtcDecoder(vocab, vocabulary.blankId, { beamWidth: 8 })],
  ...values.widths.split(",").map((w): [string, () => CtcDecoder] => [
    `lm, beam ${w}`,
    () =>
      new WordLmCtcDecoder(wordLm, {
        ...defaultWordSearchOptions,
        beamWidth: Number(w),
        ...(weight !== undefined ? { lmWeight: weight } : {}),
        ...(bonus !== undefined ? { wordBonus: bonus } : {}),
      }),
  ]),
];

process.stdout.write(
  `${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      " ",
    )}; ${precision}; ${utterances.length} utterances, ${audioSeconds.toFixed(0)} s of held-out prompts\n\n`,
);
process.stdout.write(
  `| what | time | RSS after (MB) |\n|---|---|---|\n` +
    `| process start | - | ${mb(rssStart)} |\n` +
    `| acoustic model (${precision})${values.lm === "model" ? " with the folder's LM and lexicon" : ""} | ${(modelLoadMs / 1000).toFixed(2)} s | ${mb(rssModel)} |\n` +
    `| LM: ${lmSource} (order ${lm.order}, ${lm.vocabularySize} words) | ${(lmLoadMs / 1000).toFixed(2)} s | ${mb(rssLm)} |\n` +
    `| lexicon trie, ${wordLm.lexicon.words.length} words, ${wordLm.trie.nodes} nodes | ${(searchBuildMs / 1000).toFixed(2)} s | ${mb(rssSearch)} |\n\n`,
);
process.stdout.write("| decoder | CPU s | CPU ms per audio s | streams per core |\n|---|---|---|---|\n");
for (const [name, make] of rows) {
  decodeAll(make); // warm-up
  const cpu = decodeAll(make);
  const perSecond = (cpu * 1000) / audioSeconds;
  process.stdout.write(
    `| ${name} | ${cpu.toFixed(2)} | ${perSecond.toFixed(2)} | ${Math.floor(1000 / perSecond)} |\n`,
  );
}
await vad.close();
await model.close();
