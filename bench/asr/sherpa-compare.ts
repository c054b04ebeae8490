/**
 * Callscribe's engine against sherpa-onnx-node on the same model file and the same audio, in one run:
 *   npx tsx bench/asr/sherpa-compare.ts [--precision int8|fp32] [--threads 2] [--limit n] [--model dir]
 * Audio: the held-out real Asterisk prompts (8 kHz telephone speech), each decoded as one stream.
 * Streaming, the same file (the model's cache-aware graph), 240 ms windows, no VAD on either side:
 *   Callscribe: the engine's streaming path (features, dynamic batcher, cache-aware windows, greedy CTC)
 *   one prompt at a time with max batch 1, then every prompt at once with max batch 32;
 *   sherpa-onnx: OnlineRecognizer (nemoCtc) decode() one stream at a time, then decodeStreams() over
 *   every stream that is ready, until none is. Its online recognizer does not set up NeMo features for
 *   nemoCtc (it keeps its default Kaldi-style fbank), so its transcripts are not the model's.
 * Whole files, the same network: sherpa-onnx OfflineRecognizer (which does set up NeMo features) on the
 * whole-utterance graph (model.onnx / model.int8.onnx), decode() one file at a time, then decodeAsync() on
 * every file at once: its transcripts are what Callscribe's must equal.
 * Then the service path for reference: recognize() (Silero VAD endpointing + streaming), max batch 1 one
 * file at a time and max batch 32 all at once. Prints throughput (audio s per wall s and per CPU s of this
 * process, all threads) and whether the
 * transcripts are identical, listing the ones that differ.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { pcm16ToFloat32 } from "@callscribe/audio";
import { pino } from "pino";
import { loadRecognizer } from "../../services/asr/src/asr.ts";
import { loadConfig } from "../../services/asr/src/config.ts";
import { DynamicBatcher } from "../../services/asr/src/engine/batching/batcher.ts";
import { GreedyCtcDecoder } from "../../services/asr/src/engine/decoding/ctc.ts";
import { assembleTranscript } from "../../services/asr/src/engine/decoding/words.ts";
import { FbankExtractor } from "../../services/asr/src/engine/features/fbank.ts";
import { createRecognizerEngine, type RecognizerEngine } from "../../services/asr/src/engine/index.ts";
import type { AcousticModel } from "../../services/asr/src/engine/model/acoustic-model.ts";
import { CachedUtteranceRecognizer } from "../../services/asr/src/engine/streaming/cached-utterance.ts";
import { heldOutRecordings, type RecordedPrompt } from "./streams-speech.ts";

interface SherpaStream {
  acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void;
  inputFinished(): void;
}
interface SherpaRecognizer {
  createStream(): SherpaStream;
  isReady(stream: SherpaStream): boolean;
  decode(stream: SherpaStream): void;
  decodeStreams(streams: SherpaStream[]): void;
  getResult(stream: SherpaStream): { text: string };
}
interface SherpaOfflineRecognizer {
  createStream(): { acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void };
  decode(stream: unknown): void;
  decodeAsync(stream: unknown): Promise<{ text: string }>;
  getResult(stream: unknown): { text: string };
}
interface SherpaModule {
  OnlineRecognizer: new (config: unknown) => SherpaRecognizer;
  OfflineRecognizer: new (config: unknown) => SherpaOfflineRecognizer;
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

/** Wall time and this process's CPU time (every thread: the event loop and onnxruntime's pools). */
async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const value = await run();
  const used = process.cpuUsage(cpu);
  return {
    value,
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
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

/** The engine's streaming path on whole prompts (no VAD): one cache-aware utterance per prompt. */
async function streamedTexts(
  model: AcousticModel,
  batcher: DynamicBatcher,
  prompts: RecordedPrompt[],
  concurrent: boolean,
): Promise<string[]> {
  const { vocabulary } = model.spec;
  const extractor = new FbankExtractor(model.spec.features);
  const one = async (p: RecordedPrompt) => {
    const utterance = new CachedUtteranceRecognizer({
      spec: model.spec,
      extractor,
      sink: batcher,
      createDecoder: () => new GreedyCtcDecoder(vocabulary.tokens.length, vocabulary.blankId),
      chunkFrames: 24,
    });
    utterance.acceptSamples(pcm16ToFloat32(p.pcm));
    await utterance.finish();
    return assembleTranscript(utterance.result().tokens, vocabulary, () => 1, 20, 0).text;
  };
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
      model: { type: "string" },
    },
  });
  const threads = Number(values.threads);
  const config = loadConfig({
    ...(values.precision ? { ASR_PRECISION: values.precision } : {}),
    ...(values.model ? { ASR_MODEL_DIR: values.model } : {}),
    ASR_INTRA_OP_THREADS: String(threads),
    ASR_WORKER: "false",
  });
  const manifest = JSON.parse(readFileSync(join(config.model.dir, "manifest.json"), "utf8")) as {
    files: Record<string, string>;
    streaming: { files: Record<string, string> };
    sampleRate: number;
    vocabulary?: { file?: string };
  };
  const modelFile = join(config.model.dir, manifest.streaming.files[config.model.precision]!);
  const wholeFile = join(config.model.dir, manifest.files[config.model.precision]!);
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

  const model = loaded.model as AcousticModel;
  const single = new DynamicBatcher({ model, maxBatch: 1, maxWaitMs: 0, logger });
  const shared = new DynamicBatcher({ model, maxBatch: 32, maxWaitMs: 0, logger });

  const sherpa = createRequire(import.meta.url)("sherpa-onnx-node") as SherpaModule;
  // The same settings for both recognizers: sherpa-onnx's NeMo CTC model config on one file or the other.
  const recognizerConfig = (model: string) => ({
    featConfig: { sampleRate: manifest.sampleRate, featureDim: 80 },
    modelConfig: { nemoCtc: { model }, tokens: tokensFile, numThreads: threads, provider: "cpu", debug: 0 },
    decodingMethod: "greedy_search",
  });
  const recognizer = new sherpa.OnlineRecognizer(recognizerConfig(modelFile));
  const offline = new sherpa.OfflineRecognizer(recognizerConfig(wholeFile));
  const offlineOne = (p: RecordedPrompt) => {
    const stream = offline.createStream();
    stream.acceptWaveform({ samples: pcm16ToFloat32(p.pcm), sampleRate: 8000 });
    offline.decode(stream);
    return offline.getResult(stream).text;
  };
  const offlineAll = () =>
    Promise.all(
      prompts.map(async (p) => {
        const stream = offline.createStream();
        stream.acceptWaveform({ samples: pcm16ToFloat32(p.pcm), sampleRate: 8000 });
        return (await offline.decodeAsync(stream)).text;
      }),
    );
  const sherpaStream = (p: RecordedPrompt) => {
    const stream = recognizer.createStream();
    stream.acceptWaveform({ samples: pcm16ToFloat32(p.pcm), sampleRate: 8000 });
    stream.inputFinished();
    return stream;
  };
  const sherpaOne = (p: RecordedPrompt) => {
    const stream = sherpaStream(p);
    while (recognizer.isReady(stream)) recognizer.decode(stream);
    return recognizer.getResult(stream).text;
  };
  const sherpaAll = () => {
    const streams = prompts.map(sherpaStream);
    for (;;) {
      const ready = streams.filter((st) => recognizer.isReady(st));
      if (ready.length === 0) break;
      for (let i = 0; i < ready.length; i += 32) recognizer.decodeStreams(ready.slice(i, i + 32));
    }
    return streams.map((st) => recognizer.getResult(st).text);
  };

  // Warm-up: first runs allocate arenas and fill caches.
  const warm = prompts.slice(0, 3);
  await callscribeTexts(loaded.engine, warm, false);
  await callscribeTexts(batched, warm, true);
  await streamedTexts(model, single, warm, false);
  await streamedTexts(model, shared, warm, true);
  warm.forEach(sherpaOne);
  warm.forEach(offlineOne);

  const runs = [
    {
      name: "Callscribe streaming, batch 1, one prompt at a time",
      ...(await timed(() => streamedTexts(model, single, prompts, false))),
    },
    {
      name: "Callscribe streaming, max batch 32, all prompts at once",
      ...(await timed(() => streamedTexts(model, shared, prompts, true))),
    },
    {
      name: "sherpa-onnx OnlineRecognizer decode(), one stream at a time",
      ...(await timed(async () => prompts.map(sherpaOne))),
    },
    {
      name: "sherpa-onnx OnlineRecognizer decodeStreams(), all streams at once",
      ...(await timed(async () => sherpaAll())),
    },
    {
      name: `sherpa-onnx OfflineRecognizer decode() on ${basename(wholeFile)}, one file at a time`,
      ...(await timed(async () => prompts.map(offlineOne))),
    },
    {
      name: `sherpa-onnx OfflineRecognizer decodeAsync() on ${basename(wholeFile)}, all files at once`,
      ...(await timed(offlineAll)),
    },
    {
      name: "Callscribe recognize() (VAD + streaming), batch 1, one file at a time",
      ...(await timed(() => callscribeTexts(loaded.engine, prompts, false))),
    },
    {
      name: "Callscribe recognize() (VAD + streaming), max batch 32, all files at once",
      ...(await timed(() => callscribeTexts(batched, prompts, true))),
    },
  ];
  const batchStats = batched.stats();

  console.log("| decoder | wall s | audio s / wall s | CPU s | audio s / CPU s | WER vs reference |");
  console.log("|---|---|---|---|---|---|");
  for (const run of runs) {
    let errors = 0;
    let words = 0;
    run.value.forEach((text, i) => {
      const e = wordErrors(prompts[i]!.text, text);
      errors += e.errors;
      words += e.words;
    });
    console.log(
      `| ${run.name} | ${run.seconds.toFixed(2)} | ${(audioSeconds / run.seconds).toFixed(1)} | ${run.cpuSeconds.toFixed(2)} | ${(audioSeconds / run.cpuSeconds).toFixed(1)} | ${((100 * errors) / words).toFixed(1)}% |`,
    );
  }
  console.log(
    `\nstreaming, max batch 32: ${shared.batches} forward passes, mean batch ${(shared.items / shared.batches).toFixed(1)}; ` +
      `recognize(), max batch 32: ${batchStats.batches} forward passes, mean batch ${batchStats.meanBatchSize.toFixed(1)}`,
  );

  const ours = runs[0]!.value;
  const oursBatched = runs[1]!.value;
  const online = runs[2]!.value;
  const theirs = runs[4]!.value;
  const same = (a: string[], b: string[]) => a.filter((t, i) => normalise(t) === normalise(b[i]!)).length;
  const differing = prompts
    .map((p, i) => ({ p, ours: ours[i]!, theirs: theirs[i]! }))
    .filter((d) => normalise(d.ours) !== normalise(d.theirs));
  const n = prompts.length;
  console.log(
    `\nidentical transcripts (Callscribe streaming batch 1 vs sherpa-onnx OfflineRecognizer): ${n - differing.length} of ${n}`,
  );
  console.log(
    `identical transcripts (Callscribe streaming batch 1 vs batched): ${same(ours, oursBatched)} of ${n}`,
  );
  console.log(
    `identical transcripts (sherpa-onnx OnlineRecognizer one at a time vs decodeStreams): ${same(online, runs[3]!.value)} of ${n}`,
  );
  console.log(
    `identical transcripts (sherpa-onnx OnlineRecognizer vs its OfflineRecognizer): ${same(online, theirs)} of ${n}`,
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
