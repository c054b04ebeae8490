/**
 * WER and CER of the ASR engine's decoders, through the same engine the service runs (VAD, streaming
 * windows, decoder), on the held-out Asterisk prompts, the training prompts, or any folder of WAVs:
 *
 *   npx tsx --initial-old-space-size=128 models/recipes/asr/eval_decoding.ts
 *     [--set heldout|train|dev] [--wav-dir dir --transcripts file] [--limit n]
 *     [--decoders greedy,lm] [--precisions fp32,int8] [--model-dir dir] [--arpa file]
 *     [--lm-weight 0.8] [--word-bonus 1] [--beam-width 8] [--oov-policy refuse] [--oov-penalty -10]
 *     [--show n] [--json out.json]
 *
 * Knob flags take comma-separated lists; every combination is decoded (a grid for tuning: tune on
 * --set dev, report on --set heldout; dev = every fifth training prompt from the third, which an LM
 * built without their texts lets stand in for unseen prompts). --arpa decodes with that ARPA LM (its words, spelled in the
 * model's tokens, are the lexicon) instead of the model folder's LM. --transcripts: one `name<TAB>text`
 * or `name: text` line per WAV of --wav-dir (name without .wav). References and hypotheses are
 * normalised by the recipe's textnorm.py, as eval.py does; prompts and the held-out split come from
 * corpus.py (split_prompts), so the held-out list is the one the model was never trained on.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseWav } from "@callscribe/audio";
import { createLogger } from "@callscribe/runtime";
import {
  createRecognizerEngine,
  loadAsrModel,
  loadVad,
  type AsrModel,
  type Decoder,
  type EngineOptions,
  type WordLanguageModel,
} from "../../../services/asr/src/engine/index.ts";
import { readArpa } from "../../../services/asr/src/engine/lm/index.ts";
import type { AcousticModel } from "../../../services/asr/src/engine/model/acoustic-model.ts";
import type { Vocabulary } from "../../../services/asr/src/engine/model/vocabulary.ts";
import { defaultWordSearchOptions } from "../../../services/asr/src/engine/decoding/word-lm.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = resolve(here, "../../..");
const python = "/usr/bin/python3";

interface Item {
  name: string;
  text: string;
  path: string;
}

interface Score {
  wer: number;
  cer: number;
  utterances: number;
  words: number;
}

function promptItems(set: "heldout" | "train" | "dev"): Item[] {
  if (set === "dev") return promptItems("train").filter((_, i) => i % 5 === 2);
  const script = `import json, sys\nsys.path.insert(0, ${JSON.stringify(here)})\nfrom corpus import split_prompts\ntrain, held = split_prompts()\njson.dump([{"name": n, "text": t, "path": p} for n, t, p in (held if sys.argv[1] == "heldout" else train)], sys.stdout)`;
  return JSON.parse(execFileSync(python, ["-c", script, set], { maxBuffer: 64 << 20 }).toString()) as Item[];
}

/** textnorm.normalize over lines, in one Python process. */
function normalizeAll(texts: string[]): string[] {
  if (texts.length === 0) return [];
  const script = `import sys\nsys.path.insert(0, ${JSON.stringify(here)})\nfrom textnorm import normalize\nfor line in sys.stdin.read().split("\\n"):\n    print(normalize(line))`;
  const out = execFileSync(python, ["-c", script], {
    input: texts.map((t) => t.replace(/\n/g, " ")).join("\n"),
    maxBuffer: 64 << 20,
  }).toString();
  return out.split("\n").slice(0, texts.length);
}

function folderItems(dir: string, transcripts: string): Item[] {
  const items: Item[] = [];
  readFileSync(transcripts, "utf8")
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === "" || line.startsWith("#")) return;
      const match = /^([^\t:]+?)(?:\t|: )(.*)$/.exec(line);
      if (!match)
        throw new Error(`${transcripts} line ${index + 1}: expected "name<TAB>text" or "name: text"`);
      const name = match[1]!.trim().replace(/\.wav$/i, "");
      items.push({ name, text: match[2]!, path: join(dir, `${name}.wav`) });
    });
  const norm = normalizeAll(items.map((i) => i.text));
  return items.map((item, i) => ({ ...item, text: norm[i]! }));
}

function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function score(refs: string[], hyps: string[]): Score {
  let we = 0;
  let wn = 0;
  let ce = 0;
  let cn = 0;
  refs.forEach((ref, i) => {
    const hyp = hyps[i]!;
    we += editDistance(ref.split(" ").filter(Boolean), hyp.split(" ").filter(Boolean));
    wn += ref.split(" ").filter(Boolean).length;
    ce += editDistance([...ref], [...hyp]);
    cn += ref.length;
  });
  const round = (x: number) => Math.round(x * 100) / 100;
  return { wer: round((100 * we) / wn), cer: round((100 * ce) / cn), utterances: refs.length, words: wn };
}

/** The ARPA's words that the model can spell, as a lexicon. */
function lexiconFromArpa(path: string, vocabulary: Vocabulary): WordLanguageModel {
  const lm = readArpa(path);
  const words: string[] = [];
  const spellings: Int32Array[] = [];
  for (const word of lm.tables.words) {
    if (word.startsWith("<")) continue;
    const ids = [...word].map((c) => vocabulary.idOfChar.get(c) ?? -1);
    if (ids.length === 0 || ids.some((id) => id < 0 || id === vocabulary.spaceId)) continue;
    words.push(word);
    spellings.push(Int32Array.from(ids));
  }
  return { lm, lexicon: { words, spellings } };
}

function list(value: string | undefined, fallback: string): string[] {
  return (value ?? fallback)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function numbers(value: string | undefined, name: string): (number | undefined)[] {
  if (value === undefined) return [undefined];
  return list(value, "").map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new Error(`--${name}: ${JSON.stringify(s)} is not a number`);
    return n;
  });
}

function cross<T extends Record<string, unknown>>(axes: { [K in keyof T]: T[K][] }): T[] {
  let rows: Partial<T>[] = [{}];
  for (const key of Object.keys(axes) as (keyof T)[])
    rows = rows.flatMap((row) => axes[key].map((value) => ({ ...row, [key]: value })));
  return rows as T[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      set: { type: "string" },
      "wav-dir": { type: "string" },
      transcripts: { type: "string" },
      limit: { type: "string" },
      decoders: { type: "string" },
      precisions: { type: "string" },
      "model-dir": { type: "string" },
      arpa: { type: "string" },
      "lm-weight": { type: "string" },
      "word-bonus": { type: "string" },
      "beam-width": { type: "string" },
      "oov-policy": { type: "string" },
      "oov-penalty": { type: "string" },
      show: { type: "string", default: "0" },
      json: { type: "string" },
      jobs: { type: "string", default: "8" },
    },
  });
  let items: Item[];
  let setName: string;
  if (values["wav-dir"] !== undefined) {
    if (values.transcripts === undefined) throw new Error("--wav-dir needs --transcripts");
    items = folderItems(resolve(values["wav-dir"]), resolve(values.transcripts));
    setName = values["wav-dir"];
  } else {
    const set = values.set ?? "heldout";
    if (set !== "heldout" && set !== "train" && set !== "dev")
      throw new Error("--set must be heldout, train or dev");
    items = promptItems(set);
    setName = `asterisk-${set}`;
  }
  if (values.limit !== undefined) items = items.slice(0, Number(values.limit));
  const audio = items.map((item) => {
    const wav = parseWav(readFileSync(item.path));
    if (wav.sampleRate !== 8000 && wav.sampleRate !== 16000)
      throw new Error(`${item.path}: ${wav.sampleRate} Hz; give 8 or 16 kHz WAVs`);
    return { pcm: wav.samples[0]!, sampleRate: wav.sampleRate as 8000 | 16000 };
  });
  const audioSeconds = audio.reduce((s, a) => s + a.pcm.length / a.sampleRate, 0);
  const logger = createLogger({ service: "eval-decoding", level: "warn", destination: process.stderr });
  const modelDir = resolve(repoRoot, values["model-dir"] ?? "models/asr-en-telephony");
  const decoders = list(values.decoders, "greedy,lm") as Decoder[];
  const jobs = Number(values.jobs);
  const vad = await loadVad({ provider: "cpu", logger });
  const rows: Array<Record<string, unknown>> = [];
  process.stdout.write(
    `set ${setName}: ${items.length} utterances, ${(audioSeconds / 60).toFixed(2)} min; ${cpus()[0]?.model ?? "?"}\n\n` +
      "| precision | decoder | lm weight | word bonus | beam | oov | WER % | CER % | CPU s |\n|---|---|---|---|---|---|---|---|---|\n",
  );
  for (const precision of list(values.precisions, "fp32,int8") as ("fp32" | "int8")[]) {
    const model: AsrModel = await loadAsrModel({ dir: modelDir, provider: "cpu", precision, logger });
    const vocabulary = (model as AcousticModel).spec.vocabulary;
    const language = values.arpa ? lexiconFromArpa(resolve(values.arpa), vocabulary) : undefined;
    const configs: Array<{ decoder: Decoder } & Partial<EngineOptions>> = [];
    for (const decoder of decoders) {
      if (decoder !== "lm") {
        configs.push({ decoder, beamWidth: numbers(values["beam-width"], "beam-width")[0] });
        continue;
      }
      configs.push(
        ...cross<{
          lmWeight: number | undefined;
          wordBonus: number | undefined;
          beamWidth: number | undefined;
          oovPolicy: "refuse" | "allow" | undefined;
          oovPenalty: number | undefined;
        }>({
          lmWeight: numbers(values["lm-weight"], "lm-weight"),
          wordBonus: numbers(values["word-bonus"], "word-bonus"),
          beamWidth: numbers(values["beam-width"], "beam-width"),
          oovPolicy: values["oov-policy"]
            ? (list(values["oov-policy"], "") as ("refuse" | "allow")[])
            : [undefined],
          oovPenalty: numbers(values["oov-penalty"], "oov-penalty"),
        }).map((knobs) => ({ decoder, ...knobs })),
      );
    }
    for (const config of configs) {
      const options = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
      const engine = createRecognizerEngine({
        model,
        vad,
        logger,
        options: { maxBatch: 32, maxWaitMs: 10, maxStreams: 256, maxQueuedChunks: 4096, chunkMs: 240, ...options },
        ...(language !== undefined ? { language } : {}),
      });
      const started = process.cpuUsage();
      const hyps: string[] = new Array<string>(items.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: jobs }, async () => {
          while (next < items.length) {
            const i = next++;
            const events = await engine.recognize(audio[i]!.pcm, { sampleRate: audio[i]!.sampleRate });
            hyps[i] = events.map((e) => e.text).join(" ");
          }
        }),
      );
      const cpu = process.cpuUsage(started);
      await engine.close();
      const normHyps = normalizeAll(hyps);
      const result = score(
        items.map((i) => i.text),
        normHyps,
      );
      const o = { ...defaultWordSearchOptions, ...options } as EngineOptions;
      const lm = config.decoder === "lm";
      const row = {
        set: setName,
        precision,
        decoder: config.decoder,
        lmWeight: lm ? o.lmWeight : null,
        wordBonus: lm ? o.wordBonus : null,
        beamWidth: config.decoder === "greedy" ? null : (o.beamWidth ?? 8),
        oovPolicy: lm ? (o.oovPolicy ?? "refuse") : null,
        oovPenalty: lm && o.oovPolicy === "allow" ? o.oovPenalty : null,
        ...result,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        examples: items.slice(0, Number(values.show)).map((item, i) => ({ ref: item.text, hyp: normHyps[i] })),
      };
      rows.push(row);
      const cell = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
      process.stdout.write(
        `| ${precision} | ${config.decoder} | ${cell(row.lmWeight)} | ${cell(row.wordBonus)} | ${cell(row.beamWidth)} | ${lm ? `${row.oovPolicy}${row.oovPenalty !== null ? ` ${row.oovPenalty}` : ""}` : "-"} | ${result.wer.toFixed(1)} | ${result.cer.toFixed(1)} | ${row.cpuSeconds.toFixed(1)} |\n`,
      );
      for (const e of row.examples) process.stdout.write(`    ref: ${e.ref}\n    hyp: ${e.hyp}\n`);
    }
    await model.close();
  }
  await vad.close();
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(rows, null, 1)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`eval_decoding: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
