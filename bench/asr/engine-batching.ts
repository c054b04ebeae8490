/**
 * Batched vs unbatched engine throughput at 64 streams of real recorded speech, in one run:
 *   npx tsx bench/asr/engine-batching.ts [streams=64] [secondsPerStream=10] [rounds=3]
 * Same audio, same chunking (240 ms), same saturating client (engine-support.ts driveStreams); only the
 * batch bounds differ: batched (maxBatch 32, vadMaxBatch 256, the service's defaults), the acoustic model
 * unbatched (maxBatch 1, Silero still batched) and nothing batched (maxBatch 1, vadMaxBatch 1). After one
 * uncounted warm-up run of each, the settings rotate for several rounds and the medians are reported.
 * Last, session.run alone is replayed on the acoustic batch shapes each setting produced, to show what
 * batching buys onnxruntime itself on this CPU. Each setting also reports how busy the event loop was and
 * how many cores the process kept busy (event loop, inference thread and onnxruntime together).
 */
import { Recognizer } from "../../services/asr/src/engine/engine.ts";
import {
  driveStreamsMeasured,
  loadBenchModel,
  loadBenchVad,
  logger,
  machine,
  median,
  ratioCell,
  bareThreadCounts,
  loadBareModels,
  replayBare,
  streamingBenchSetup,
  table,
  type PassShape,
} from "./engine-support.ts";

const { streams, seconds, rounds, chunkMs, signals, audioSeconds } = await streamingBenchSetup();
const vad = await loadBenchVad();
const rows: Array<Array<string | number>> = [];

console.log(
  `engine batching benchmark: ${streams} streams × ${seconds} s of held-out Asterisk prompts, chunk ${chunkMs} ms, ` +
    `maxWaitMs 10, batched, acoustic model unbatched, nothing batched, engine as the service runs it (acoustic model on its inference thread with 1 intra-op thread, VAD on the event loop), ` +
    `bare replays with ${bareThreadCounts.join(" and ")} intra-op threads (the faster counts), ${rounds} alternating rounds`,
);
console.log(`machine: ${machine()}`);
/**
 * The settings compared: everything batched as the service runs it; the acoustic model alone unbatched
 * (Silero still batched across streams); nothing batched (every acoustic and every Silero pass holds one
 * stream's window).
 */
const settings = [
  { name: "batched", maxBatch: 32, vadMaxBatch: 256 },
  { name: "acoustic unbatched", maxBatch: 1, vadMaxBatch: 256 },
  { name: "unbatched", maxBatch: 1, vadMaxBatch: 1 },
] as const;
type SettingName = (typeof settings)[number]["name"];

for (const precision of ["fp32", "int8"] as const) {
  const model = await loadBenchModel(precision);
  const bareModels = await loadBareModels(precision);
  type Run = {
    rate: number;
    batches: number;
    mean: number;
    vadPasses: number;
    partials: number;
    finals: number;
    /** Share of the wall time the event loop was busy. */
    eventLoop: number;
    /** CPU time of the whole process (event loop, inference thread, onnxruntime's) over wall time. */
    cores: number;
  };
  const runs = new Map<SettingName, Run[]>(settings.map((s) => [s.name, []]));
  const ratios = new Map<SettingName, number[]>(settings.map((s) => [s.name, []]));
  const shapes = new Map<SettingName, PassShape[]>();
  const drive = async (setting: (typeof settings)[number]): Promise<Run> => {
    const engine = new Recognizer(
      {
        model,
        vad,
        logger,
        options: {
          maxBatch: setting.maxBatch,
          vadMaxBatch: setting.vadMaxBatch,
          maxWaitMs: 10,
          maxStreams: streams,
          maxQueuedChunks: 100_000,
          chunkMs,
        },
      },
      { recordShapes: true },
    );
    const vadRuns = vad.runs;
    const { wallMs, partials, finals, eventLoop, cores } = await driveStreamsMeasured(
      engine,
      signals,
      chunkMs,
    );
    const stats = engine.stats();
    shapes.set(setting.name, engine.batcher.shapes.slice());
    await engine.close();
    return {
      rate: audioSeconds / (wallMs / 1000),
      batches: stats.batches,
      mean: stats.meanBatchSize,
      vadPasses: vad.runs - vadRuns,
      partials,
      finals,
      eventLoop,
      cores,
    };
  };
  // One run of each setting first, not counted: the JIT and the allocator warm up on it.
  for (const setting of settings) await drive(setting);
  for (let round = 0; round < rounds; round++) {
    const order = settings.map((_, i) => settings[(i + round) % settings.length]!);
    const rate = new Map<SettingName, number>();
    for (const setting of order) {
      const run = await drive(setting);
      rate.set(setting.name, run.rate);
      runs.get(setting.name)!.push(run);
      console.log(
        `  ${precision} round ${round + 1} ${setting.name}: ${run.rate.toFixed(1)} audio-s/s (${machine()})`,
      );
    }
    for (const setting of settings)
      ratios.get(setting.name)!.push(rate.get("batched")! / rate.get(setting.name)!);
  }
  // onnxruntime alone on the acoustic passes each setting produced (last round): what batching buys the
  // forward pass.
  const bare = new Map<SettingName, number>();
  for (const setting of settings)
    bare.set(
      setting.name,
      audioSeconds / ((await replayBare(bareModels, shapes.get(setting.name)!)).wall / 1000),
    );
  for (const setting of settings) {
    const r = runs.get(setting.name)!;
    const ratio = ratios.get(setting.name)!;
    rows.push([
      precision,
      setting.name,
      setting.maxBatch,
      setting.vadMaxBatch,
      streams,
      audioSeconds,
      median(r.map((x) => x.rate)).toFixed(1),
      r.map((x) => x.rate.toFixed(1)).join(" / "),
      median(r.map((x) => x.batches)),
      median(r.map((x) => x.mean)).toFixed(1),
      median(r.map((x) => x.vadPasses)),
      median(r.map((x) => x.partials)),
      median(r.map((x) => x.finals)),
      `${(100 * median(r.map((x) => x.eventLoop))).toFixed(0)} %`,
      median(r.map((x) => x.cores)).toFixed(2),
      bare.get(setting.name)!.toFixed(1),
      setting.name === "batched" ? "" : ratioCell(ratio),
      setting.name === "batched" ? "" : `${(bare.get("batched")! / bare.get(setting.name)!).toFixed(2)}x`,
    ]);
  }
  await model.close();
  for (const m of bareModels) await m.close();
}
await vad.close();
console.log();
console.log(
  table(
    [
      "model",
      "setting",
      "maxBatch",
      "vadMaxBatch",
      "streams",
      "audio s",
      "audio-s/s (median)",
      "each round",
      "forward passes",
      "mean batch",
      "Silero passes",
      "partials",
      "finals",
      "event loop busy",
      "CPU cores busy",
      "bare forward audio-s/s",
      "batched / this",
      "bare forward batched / this",
    ],
    rows,
  ),
);
console.log(`after: ${machine()}`);
