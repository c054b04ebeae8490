/**
 * Callscribe's engine against sherpa-onnx-node on the same model file and the same audio, in one run:
 *   node --initial-old-space-size=128 --import tsx bench/asr/sherpa-compare.ts [--precision int8|fp32] [--threads 2]
 *     [--rounds 5] [--limit n] [--model dir] [--streams 64] [--seconds 10]
 * (node's flag is the ASR service's heap setting, services/asr/src/node-flags.ts).
 * Audio: the held-out real Asterisk prompts (8 kHz telephone speech), each decoded as one stream.
 * After one uncounted round, every case runs once per round, the cases rotating, and the median round counts: one
 * pass over the prompts takes well under a second, so a single run is at the mercy of the machine. With node's
 * --expose-gc each case starts on a collected heap; the service never forces a collection, and Callscribe's
 * batch-1 rows came out slower that way (BENCHMARKS.md has runs both ways).
 * Streaming, the same file (the model's cache-aware graph), 240 ms windows, no VAD on either side:
 *   Callscribe: the engine's streaming path (features, dynamic batcher, cache-aware windows, greedy CTC)
 *   one prompt at a time with max batch 1, then every prompt at once with max batch 32;
 *   sherpa-onnx: OnlineRecognizer (nemoCtc) decode() one stream at a time, then decodeStreams() over
 *   every stream that is ready, until none is. Its online recognizer does not set up NeMo features for
 *   nemoCtc (it keeps its default Kaldi-style fbank), so its transcripts are not the model's.
 *   It runs a window only once the window is full, so it leaves each prompt's last part-window (up to
 *   240 ms) undecoded, where Callscribe decodes it: one more window for most prompts. So decode() also runs
 *   on each prompt followed by one window of zeros (its examples' tail padding), which decodes every frame;
 *   and both sides' model steps are counted, for the cost per window.
 * Full batches: the prompts are short and of very different lengths, so once most are done the last windows of
 * the long ones run one or a few at a time on both sides (the passes of the all-at-once rows are mostly
 * small). So both streaming paths also run on `streams` streams of `seconds` s each (held-out prompts back to
 * back, engine-support.ts heldOutStreams), all at once: Callscribe at max batch 32, sherpa-onnx decodeStreams()
 * 32 streams a call. These have no reference text; their transcripts are checked against sherpa-onnx's
 * OfflineRecognizer on the same streams.
 * Whole files, the same network: sherpa-onnx OfflineRecognizer (which does set up NeMo features) on the
 * whole-utterance graph (model.onnx / model.int8.onnx), decode() one file at a time, then decodeAsync() on
 * every file at once: its transcripts are what Callscribe's must equal.
 * Batch 1 then runs once more interleaved prompt by prompt (each prompt through Callscribe and one sherpa-onnx
 * decode() case in turn), for ratios that compare the same moments of a machine whose speed drifts.
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
import { heldOutStreams, median, ratioCell } from "./engine-support.ts";
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

/** Seconds of 8 kHz audio in these recordings. */
const secondsOf = (items: RecordedPrompt[]) => items.reduce((sum, p) => sum + p.pcm.length / 8000, 0);

/** Frames per streaming window (240 ms), on both sides. */
const WINDOW_FRAMES = 24;

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
  extractor = new FbankExtractor(model.spec.features),
): Promise<string[]> {
  const { vocabulary } = model.spec;
  const one = async (p: RecordedPrompt) => {
    const utterance = new CachedUtteranceRecognizer({
      spec: model.spec,
      extractor,
      sink: batcher,
      createDecoder: () => new GreedyCtcDecoder(vocabulary.tokens.length, vocabulary.blankId),
      chunkFrames: WINDOW_FRAMES,
      // As the engine runs it: a model with the feature front end takes the windows' audio.
      modelTakesSamples: model.takesSamples,
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
      rounds: { type: "string", default: "5" },
      streams: { type: "string", default: "64" },
      seconds: { type: "string", default: "10" },
      limit: { type: "string" },
      model: { type: "string" },
    },
  });
  const threads = Number(values.threads);
  const rounds = Number(values.rounds);
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
    features: { hopSamples: number };
    vocabulary?: { file?: string };
  };
  const modelFile = join(config.model.dir, manifest.streaming.files[config.model.precision]!);
  const wholeFile = join(config.model.dir, manifest.files[config.model.precision]!);
  const tokensFile = join(config.model.dir, manifest.vocabulary?.file ?? "tokens.txt");
  let prompts = heldOutRecordings();
  if (values.limit) prompts = prompts.slice(0, Number(values.limit));
  const audioSeconds = secondsOf(prompts);
  const streamCount = Number(values.streams);
  const streamSeconds = Number(values.seconds);
  const longStreams: RecordedPrompt[] = (await heldOutStreams(streamCount, streamSeconds)).map((pcm, i) => ({
    name: `stream ${i}`,
    text: "",
    pcm,
  }));

  console.log(`# Callscribe engine vs sherpa-onnx-node, ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(`model: ${modelFile} (${config.model.precision}), ${threads} intra-op threads each`);
  console.log(
    `audio: ${prompts.length} held-out real prompts, ${audioSeconds.toFixed(1)} s; full batches: ${streamCount} streams × ${streamSeconds} s\n`,
  );

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
  const full = new DynamicBatcher({ model, maxBatch: 32, maxWaitMs: 0, logger });

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
  const sherpaStream = (p: RecordedPrompt, tail: Float32Array | null) => {
    const stream = recognizer.createStream();
    stream.acceptWaveform({ samples: pcm16ToFloat32(p.pcm), sampleRate: 8000 });
    if (tail) stream.acceptWaveform({ samples: tail, sampleRate: 8000 });
    stream.inputFinished();
    return stream;
  };
  // Model steps (one window of one stream) each sherpa-onnx case ran, counted as they are called.
  let sherpaSteps = 0;
  const tailPadding = new Float32Array(WINDOW_FRAMES * manifest.features.hopSamples);
  const sherpaOne = (p: RecordedPrompt, padded = false) => {
    const stream = sherpaStream(p, padded ? tailPadding : null);
    while (recognizer.isReady(stream)) {
      recognizer.decode(stream);
      sherpaSteps++;
    }
    return recognizer.getResult(stream).text;
  };
  const sherpaAll = (items: RecordedPrompt[]) => {
    const streams = items.map((p) => sherpaStream(p, null));
    for (;;) {
      const ready = streams.filter((st) => recognizer.isReady(st));
      if (ready.length === 0) break;
      for (let i = 0; i < ready.length; i += 32) recognizer.decodeStreams(ready.slice(i, i + 32));
      sherpaSteps += ready.length;
    }
    return streams.map((st) => recognizer.getResult(st).text);
  };

  interface Case {
    /** For the ratios and transcript checks below. */
    id: string;
    name: string;
    run: () => Promise<string[]>;
    /** Model steps (windows of one stream) run so far by what this case drives, or null where not counted. */
    steps: () => number | null;
    /** What it decodes: the prompts (the default), or the equal-length streams. */
    audio?: RecordedPrompt[];
  }
  const cases: Case[] = [
    {
      id: "oursOne",
      name: "Callscribe streaming, batch 1, one prompt at a time",
      run: () => streamedTexts(model, single, prompts, false),
      steps: () => single.items,
    },
    {
      id: "oursAll",
      name: "Callscribe streaming, max batch 32, all prompts at once",
      run: () => streamedTexts(model, shared, prompts, true),
      steps: () => shared.items,
    },
    {
      id: "theirsOne",
      name: "sherpa-onnx OnlineRecognizer decode(), one stream at a time",
      run: async () => prompts.map((p) => sherpaOne(p)),
      steps: () => sherpaSteps,
    },
    {
      id: "theirsOnePadded",
      name: "sherpa-onnx OnlineRecognizer decode(), one stream at a time, one window of zeros after each prompt",
      run: async () => prompts.map((p) => sherpaOne(p, true)),
      steps: () => sherpaSteps,
    },
    {
      id: "theirsAll",
      name: "sherpa-onnx OnlineRecognizer decodeStreams(), all streams at once",
      run: async () => sherpaAll(prompts),
      steps: () => sherpaSteps,
    },
    {
      id: "oursFull",
      name: `Callscribe streaming, max batch 32, ${streamCount} streams × ${streamSeconds} s at once`,
      run: () => streamedTexts(model, full, longStreams, true),
      steps: () => full.items,
      audio: longStreams,
    },
    {
      id: "theirsFull",
      name: `sherpa-onnx OnlineRecognizer decodeStreams(), ${streamCount} streams × ${streamSeconds} s at once`,
      run: async () => sherpaAll(longStreams),
      steps: () => sherpaSteps,
      audio: longStreams,
    },
    {
      id: "offlineOne",
      name: `sherpa-onnx OfflineRecognizer decode() on ${basename(wholeFile)}, one file at a time`,
      run: async () => prompts.map(offlineOne),
      steps: () => null,
    },
    {
      id: "offlineAll",
      name: `sherpa-onnx OfflineRecognizer decodeAsync() on ${basename(wholeFile)}, all files at once`,
      run: offlineAll,
      steps: () => null,
    },
    {
      id: "recognizeOne",
      name: "Callscribe recognize() (VAD + streaming), batch 1, one file at a time",
      run: () => callscribeTexts(loaded.engine, prompts, false),
      steps: () => null,
    },
    {
      id: "recognizeAll",
      name: "Callscribe recognize() (VAD + streaming), max batch 32, all files at once",
      run: () => callscribeTexts(batched, prompts, true),
      steps: () => null,
    },
  ];
  const measured = cases.map(() => ({
    seconds: [] as number[],
    cpuSeconds: [] as number[],
    steps: 0,
    texts: [] as string[],
  }));
  // Round 0 is the warm-up, not counted: first runs allocate arenas, fill caches and compile.
  for (let round = 0; round <= rounds; round++) {
    // Rotate the order, so that no case always runs first or right after the same other case.
    for (let k = 0; k < cases.length; k++) {
      const i = (k + round) % cases.length;
      const before = cases[i]!.steps();
      // Each case starts on a collected heap, not on the garbage of the one before (with --expose-gc).
      (globalThis as { gc?: () => void }).gc?.();
      const { value, seconds, cpuSeconds } = await timed(cases[i]!.run);
      const after = cases[i]!.steps();
      if (round === 0) continue;
      measured[i]!.seconds.push(seconds);
      measured[i]!.cpuSeconds.push(cpuSeconds);
      measured[i]!.steps = before === null || after === null ? 0 : after - before;
      measured[i]!.texts = value;
    }
  }
  const runs = cases.map((c, i) => ({
    id: c.id,
    name: c.name,
    audio: c.audio ?? prompts,
    value: measured[i]!.texts,
    seconds: median(measured[i]!.seconds),
    cpuSeconds: median(measured[i]!.cpuSeconds),
    steps: measured[i]!.steps,
    spread: `${Math.min(...measured[i]!.seconds).toFixed(2)}-${Math.max(...measured[i]!.seconds).toFixed(2)}`,
  }));
  const byId = (id: string) => runs.find((r) => r.id === id)!;
  const batchStats = batched.stats();

  console.log(`medians of ${rounds} rounds; wall s of each round from fastest to slowest in brackets\n`);
  console.log(
    "| decoder | wall s | audio s / wall s | CPU s | audio s / CPU s | model steps | ms per step | WER vs reference |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const run of runs) {
    let errors = 0;
    let words = 0;
    run.value.forEach((text, i) => {
      const e = wordErrors(run.audio[i]!.text, text);
      errors += e.errors;
      words += e.words;
    });
    const decoded = secondsOf(run.audio);
    console.log(
      `| ${run.name} | ${run.seconds.toFixed(3)} (${run.spread}) | ${(decoded / run.seconds).toFixed(1)} | ${run.cpuSeconds.toFixed(2)} | ${(decoded / run.cpuSeconds).toFixed(1)} | ${run.steps || "-"} | ${run.steps ? ((1000 * run.seconds) / run.steps).toFixed(3) : "-"} | ${words ? `${((100 * errors) / words).toFixed(1)}%` : "-"} |`,
    );
  }
  console.log(
    `\nstreaming, max batch 32: ${shared.batches} forward passes, mean batch ${(shared.items / shared.batches).toFixed(1)}; ` +
      `full batches, max batch 32: ${full.batches} forward passes, mean batch ${(full.items / full.batches).toFixed(1)}; ` +
      `recognize(), max batch 32: ${batchStats.batches} forward passes, mean batch ${batchStats.meanBatchSize.toFixed(1)}`,
  );

  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  console.log(
    `\nCallscribe streaming batch 1 / sherpa-onnx decode(): ${ratio(byId("theirsOne").seconds, byId("oursOne").seconds)} in audio s per wall s, ` +
      `${ratio(byId("theirsOne").seconds / byId("theirsOne").steps, byId("oursOne").seconds / byId("oursOne").steps)} per model step; ` +
      `against sherpa-onnx decode() with the tail window: ${ratio(byId("theirsOnePadded").seconds, byId("oursOne").seconds)} in audio s per wall s`,
  );
  console.log(
    `Callscribe streaming max batch 32 / sherpa-onnx decodeStreams(): ${ratio(byId("theirsAll").seconds, byId("oursAll").seconds)} in audio s per wall s on the prompts, ` +
      `${ratio(byId("theirsFull").seconds, byId("oursFull").seconds)} on full batches (${ratio(byId("theirsFull").seconds / byId("theirsFull").steps, byId("oursFull").seconds / byId("oursFull").steps)} per model step)`,
  );
  // Batch 1 once more, interleaved prompt by prompt: a round's rows above run seconds apart, and this
  // machine's speed drifts over seconds; here each prompt runs through Callscribe and a sherpa-onnx case in
  // turn, so that each round's ratio compares the same moments.
  const extractor = new FbankExtractor(model.spec.features);
  const interleaved = await interleavedBatchOne(
    prompts,
    rounds,
    (p) => streamedTexts(model, single, [p], false, extractor).then(() => undefined),
    (p) => void sherpaOne(p),
    (p) => void sherpaOne(p, true),
  );
  console.log(
    `\nbatch 1 interleaved prompt by prompt (${rounds} rounds; median of the rounds' ratios, each round's in brackets):\n` +
      `  Callscribe streaming / sherpa-onnx decode(): ${interleaved.plain}\n` +
      `  Callscribe streaming / sherpa-onnx decode() with the tail window: ${interleaved.padded}`,
  );
  const ours = byId("oursOne").value;
  const oursBatched = byId("oursAll").value;
  const online = byId("theirsOne").value;
  const theirs = byId("offlineOne").value;
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
    `identical transcripts (sherpa-onnx OnlineRecognizer one at a time vs decodeStreams): ${same(online, byId("theirsAll").value)} of ${n}`,
  );
  console.log(
    `identical transcripts (sherpa-onnx OnlineRecognizer vs its OfflineRecognizer): ${same(online, theirs)} of ${n}`,
  );
  const longOffline = longStreams.map(offlineOne);
  console.log(
    `identical transcripts (Callscribe streaming, full batches, vs sherpa-onnx OfflineRecognizer on the same streams): ${same(byId("oursFull").value, longOffline)} of ${longStreams.length}`,
  );
  for (const d of differing) {
    console.log(
      `  ${d.p.name}\n    reference:  ${normalise(d.p.text)}\n    callscribe: ${normalise(d.ours)}\n    sherpa:     ${normalise(d.theirs)}`,
    );
  }
  await batched.close();
  await loaded.close();
}

/**
 * Callscribe's batch-1 streaming against each of sherpa-onnx's decode() cases (without and with the tail
 * window), two at a time: each prompt through both before the next, the order flipping from prompt to prompt.
 * Only two take turns, so that each starts as often after the other (a case run right after one on the same
 * library and model finds the caches warm). Per round, the ratios of audio s per wall s (theirs' seconds
 * over ours).
 */
async function interleavedBatchOne(
  prompts: RecordedPrompt[],
  rounds: number,
  ours: (p: RecordedPrompt) => Promise<void>,
  theirs: (p: RecordedPrompt) => void,
  theirsPadded: (p: RecordedPrompt) => void,
): Promise<{ plain: string; padded: string }> {
  const ratios = { plain: [] as number[], padded: [] as number[] };
  // Round 0 warms up.
  for (let round = 0; round <= rounds; round++) {
    for (const [key, other] of [
      ["plain", theirs],
      ["padded", theirsPadded],
    ] as const) {
      const runs = [ours, async (p: RecordedPrompt) => other(p)];
      const seconds = [0, 0];
      for (const [i, p] of prompts.entries()) {
        for (let k = 0; k < 2; k++) {
          const which = (i + round + k) % 2;
          const started = process.hrtime.bigint();
          await runs[which]!(p);
          seconds[which]! += Number(process.hrtime.bigint() - started) / 1e9;
        }
      }
      if (round > 0) ratios[key].push(seconds[1]! / seconds[0]!);
    }
  }
  return { plain: ratioCell(ratios.plain), padded: ratioCell(ratios.padded) };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
