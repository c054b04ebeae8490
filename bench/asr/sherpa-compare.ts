/**
 * Callscribe's engine against sherpa-onnx-node on the same model file and the same audio, in one run:
 *   npx tsx bench/asr/sherpa-compare.ts [--precision int8|fp32] [--threads 2] [--limit n]
 * Audio: the held-out real Asterisk prompts (8 kHz telephone speech), each decoded as one file.
 * Callscribe: recognize() one file at a time on an engine with max batch 1, then every file at once
 * on an engine with max batch 32. sherpa-onnx: OfflineRecognizer.decode() one file at a time, then
 * decodeAsync() on every file at once (its worker threads). Prints throughput (audio s / wall s) and
 * whether the transcripts are identical, listing the ones that differ.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pcm16ToFloat32 } from "@callscribe/audio";
import { pino } from "pino";
import { loadRecognizer } from "../../services/asr/src/asr.ts";
import { loadConfig } from "../../services/asr/src/config.ts";
import { createRecognizerEngine, type RecognizerEngine } from "../../services/asr/src/engine/index.ts";
import { heldOutRecordings, type RecordedPrompt } from "./streams-speech.ts";

interface SherpaStream {
  acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void;
}
interface SherpaRecognizer {
  createStream(): SherpaStream;
  decode(stream: SherpaStream): void;
  decodeAsync(stream: SherpaStream): Promise<{ text: string }>;
  getResult(stream: SherpaStream): { text: string };
}
interface SherpaModule {
  OfflineRecognizer: new (config: unknown) => SherpaRecognizer;
}

const normalise = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();

function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const ref = normalise(reference.replace(/[^a-zA-Z' ]+/g, " "))
    .split(" ")
    .filter(Boolean);
  const hyp = normalise(hypothesis).split(" ").filter(Boolean);
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const cur = [i];
    for (let j = 1; j <= hyp.length; j++)
      cur.push(Math.min(prev[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1), prev[j]! + 1, cur[j - 1]! + 1));
    prev = cur;
  }
  return { errors: prev[hyp.length]!, words: ref.length };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function callscribeTexts(
  engine: RecognizerEngine,
  prompts: RecordedPrompt[],
  concurrent: boolean,
): Promise<string[]> {
  const one = async (p: RecordedPrompt) =>
    (await engine.recognize(p.pcm, { sampleRate: 8000, decoder: "greedy" }))
      .filter((e) => e.kind === "final")
      .map((e) => e.text)
      .join(" ");
  if (concurrent) return Promise.all(prompts.map(one));
  const texts: string[] = [];
  for (const p of prompts) texts.push(await one(p));
  return texts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      precision: { type: "string" },
      threads: { type: "string", default: "2" },
      limit: { type: "string" },
    },
  });
  const threads = Number(values.threads);
  const config = loadConfig({
    ...(values.precision ? { ASR_PRECISION: values.precision } : {}),
    ASR_INTRA_OP_THREADS: String(threads),
    ASR_WORKER: "false",
  });
  const manifest = JSON.parse(readFileSync(join(config.model.dir, "manifest.json"), "utf8")) as {
    files: Record<string, string>;
    sampleRate: number;
    vocabulary?: { file?: string };
  };
  const modelFile = join(config.model.dir, manifest.files[config.model.precision]!);
  const tokensFile = join(config.model.dir, manifest.vocabulary?.file ?? "tokens.txt");
  let prompts = heldOutRecordings();
  if (values.limit) prompts = prompts.slice(0, Number(values.limit));
  const audioSeconds = prompts.reduce((s, p) => s + p.pcm.length / 8000, 0);

  console.log(`# Callscribe engine vs sherpa-onnx-node, ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(`model: ${modelFile} (${config.model.precision}), ${threads} intra-op threads each`);
  console.log(`audio: ${prompts.length} held-out real prompts, ${audioSeconds.toFixed(1)} s\n`);

  const logger = pino({ level: "warn" });
  const loaded = await loadRecognizer({ ...config, engine: { ...config.engine, maxBatch: 1 } }, { logger });
  const batched = createRecognizerEngine({
    model: loaded.model,
    vad: loaded.vad,
    options: { ...config.engine, maxBatch: 32 },
    logger,
  });

  const sherpa = createRequire(import.meta.url)("sherpa-onnx-node") as SherpaModule;
  const recognizer = new sherpa.OfflineRecognizer({
    featConfig: { sampleRate: manifest.sampleRate, featureDim: 80 },
    modelConfig: {
      nemoCtc: { model: modelFile },
      tokens: tokensFile,
      numThreads: threads,
      provider: "cpu",
      debug: 0,
    },
    decodingMethod: "greedy_search",
  });
  const sherpaOne = (p: RecordedPrompt) => {
    const stream = recognizer.createStream();
    stream.acceptWaveform({ samples: pcm16ToFloat32(p.pcm), sampleRate: 8000 });
    recognizer.decode(stream);
    return recognizer.getResult(stream).text;
  };
  const sherpaAll = () =>
    Promise.all(
      prompts.map(async (p) => {
        const stream = recognizer.createStream();
        stream.acceptWaveform({ samples: pcm16ToFloat32(p.pcm), sampleRate: 8000 });
        return (await recognizer.decodeAsync(stream)).text;
      }),
    );

  // Warm-up: first runs allocate arenas and fill caches.
  const warm = prompts.slice(0, 3);
  await callscribeTexts(loaded.engine, warm, false);
  await callscribeTexts(batched, warm, true);
  warm.forEach(sherpaOne);

  const runs = [
    {
      name: "Callscribe recognize(), batch 1, one file at a time",
      ...(await timed(() => callscribeTexts(loaded.engine, prompts, false))),
    },
    {
      name: "Callscribe recognize(), max batch 32, all files at once",
      ...(await timed(() => callscribeTexts(batched, prompts, true))),
    },
    {
      name: "sherpa-onnx decode(), one file at a time",
      ...(await timed(async () => prompts.map(sherpaOne))),
    },
    { name: "sherpa-onnx decodeAsync(), all files at once", ...(await timed(sherpaAll)) },
  ];
  const batchStats = batched.stats();

  console.log("| decoder | wall s | audio s / wall s | WER vs reference |");
  console.log("|---|---|---|---|");
  for (const run of runs) {
    let errors = 0;
    let words = 0;
    run.value.forEach((text, i) => {
      const e = wordErrors(prompts[i]!.text, text);
      errors += e.errors;
      words += e.words;
    });
    console.log(
      `| ${run.name} | ${run.seconds.toFixed(2)} | ${(audioSeconds / run.seconds).toFixed(1)} | ${((100 * errors) / words).toFixed(1)}% |`,
    );
  }
  console.log(
    `\nbatched engine: ${batchStats.batches} forward passes, mean batch ${batchStats.meanBatchSize.toFixed(1)}`,
  );

  const ours = runs[0]!.value;
  const oursBatched = runs[1]!.value;
  const theirs = runs[2]!.value;
  const differing = prompts
    .map((p, i) => ({ p, ours: ours[i]!, theirs: theirs[i]! }))
    .filter((d) => normalise(d.ours) !== normalise(d.theirs));
  const batchDiffers = ours.filter((t, i) => normalise(t) !== normalise(oursBatched[i]!)).length;
  console.log(
    `\nidentical transcripts (Callscribe batch 1 vs sherpa-onnx): ${prompts.length - differing.length} of ${prompts.length}`,
  );
  console.log(
    `identical transcripts (Callscribe batch 1 vs batched): ${prompts.length - batchDiffers} of ${prompts.length}`,
  );
  for (const d of differing) {
    console.log(
      `  ${d.p.name}\n    reference:  ${normalise(d.p.text)}\n    callscribe: ${normalise(d.ours)}\n    sherpa:     ${normalise(d.theirs)}`,
    );
  }
  await batched.close();
  await loaded.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
