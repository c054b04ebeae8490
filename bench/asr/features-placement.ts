/**
 * Where a streaming model's log-mel features are computed, side by side in one run:
 *   npx tsx bench/asr/features-placement.ts [streams=64] [secondsPerStream=10] [rounds=5]
 * The engine as the service runs it (batched, acoustic model on its inference thread), once with the
 * features computed by onnxruntime in each pass, by the feature front end at the head of the graph (the
 * default), and once in TypeScript on the event loop as audio arrives. Same audio, chunking and saturating client as engine-batching.ts; after one uncounted run of
 * each, the two alternate for several rounds and the medians are reported, with how busy the event loop
 * and the process were.
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
  streamingBenchSetup,
  table,
} from "./engine-support.ts";

const { streams, seconds, rounds, chunkMs, signals, audioSeconds } = await streamingBenchSetup();
const vad = await loadBenchVad();
const placements = [
  { name: "in the pass (feature front end)", featuresOnEventLoop: false },
  { name: "event loop", featuresOnEventLoop: true },
] as const;
type Run = { rate: number; eventLoop: number; cores: number };

console.log(
  `features placement benchmark: ${streams} streams × ${seconds} s of held-out Asterisk prompts, chunk ${chunkMs} ms, ` +
    `maxBatch 32, vadMaxBatch 256, maxWaitMs 10, acoustic model on its inference thread, ${rounds} alternating rounds`,
);
console.log(`machine: ${machine()}`);
const rows: Array<Array<string | number>> = [];
for (const precision of ["fp32", "int8"] as const) {
  const model = await loadBenchModel(precision);
  const drive = async (featuresOnEventLoop: boolean): Promise<Run> => {
    const engine = new Recognizer(
      {
        model,
        vad,
        logger,
        options: {
          maxBatch: 32,
          vadMaxBatch: 256,
          maxWaitMs: 10,
          maxStreams: streams,
          maxQueuedChunks: 100_000,
          chunkMs,
        },
      },
      { featuresOnEventLoop },
    );
    const { wallMs, eventLoop, cores } = await driveStreamsMeasured(engine, signals, chunkMs);
    await engine.close();
    return { rate: audioSeconds / (wallMs / 1000), eventLoop, cores };
  };
  for (const p of placements) await drive(p.featuresOnEventLoop);
  const runs = new Map<string, Run[]>(placements.map((p) => [p.name, []]));
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? placements : [...placements].reverse();
    const rate = new Map<string, number>();
    for (const p of order) {
      const run = await drive(p.featuresOnEventLoop);
      runs.get(p.name)!.push(run);
      rate.set(p.name, run.rate);
      console.log(
        `  ${precision} round ${round + 1} ${p.name}: ${run.rate.toFixed(1)} audio-s/s (${machine()})`,
      );
    }
    ratios.push(rate.get(placements[0].name)! / rate.get(placements[1].name)!);
  }
  for (const p of placements) {
    const r = runs.get(p.name)!;
    rows.push([
      precision,
      p.name,
      streams,
      audioSeconds,
      median(r.map((x) => x.rate)).toFixed(1),
      r.map((x) => x.rate.toFixed(1)).join(" / "),
      `${(100 * median(r.map((x) => x.eventLoop))).toFixed(0)} %`,
      median(r.map((x) => x.cores)).toFixed(2),
      p.featuresOnEventLoop ? "" : ratioCell(ratios),
    ]);
  }
  await model.close();
}
await vad.close();
console.log();
console.log(
  table(
    [
      "model",
      "features computed on",
      "streams",
      "audio s",
      "audio-s/s (median)",
      "each round",
      "event loop busy",
      "CPU cores busy",
      "in the pass / event loop",
    ],
    rows,
  ),
);
console.log(`after: ${machine()}`);
