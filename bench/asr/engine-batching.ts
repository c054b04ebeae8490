/**
 * Batched vs unbatched engine throughput at 64 streams of real recorded speech, in one run:
 *   npx tsx bench/asr/engine-batching.ts [streams=64] [secondsPerStream=10] [rounds=3]
 * Same audio, same chunking (240 ms), same saturating client (engine-support.ts driveStreams); only
 * maxBatch differs (32 vs 1). The machine is shared with a training job, so the two settings alternate
 * for several rounds and the medians are reported. Last, session.run alone is replayed on the batch shapes
 * each setting produced, to show what batching buys onnxruntime itself on this CPU.
 */
import { Recognizer } from "../../services/asr/src/engine/engine.ts";
import {
  driveStreams,
  loadBenchModel,
  loadBenchVad,
  logger,
  machine,
  median,
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
    `maxWaitMs 10, engine as the service runs it (acoustic model on its inference thread with 1 intra-op thread, VAD on the event loop), ` +
    `bare replays with ${bareThreadCounts.join(" and ")} intra-op threads (the faster counts), ${rounds} alternating rounds`,
);
console.log(`machine: ${machine()}`);
for (const precision of ["fp32", "int8"] as const) {
  const model = await loadBenchModel(precision);
  const bareModels = await loadBareModels(precision);
  const runs: Record<
    number,
    Array<{ rate: number; batches: number; mean: number; partials: number; finals: number }>
  > = { 32: [], 1: [] };
  const ratios: number[] = [];
  const shapes: Record<number, PassShape[]> = {};
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [32, 1] : [1, 32];
    const rate: Record<number, number> = {};
    for (const maxBatch of order) {
      const engine = new Recognizer(
        {
          model,
          vad,
          logger,
          options: { maxBatch, maxWaitMs: 10, maxStreams: streams, maxQueuedChunks: 100_000, chunkMs },
        },
        { recordShapes: true },
      );
      const { wallMs, partials, finals } = await driveStreams(engine, signals, chunkMs);
      const stats = engine.stats();
      shapes[maxBatch] = engine.batcher.shapes.slice();
      await engine.close();
      rate[maxBatch] = audioSeconds / (wallMs / 1000);
      runs[maxBatch]!.push({
        rate: rate[maxBatch]!,
        batches: stats.batches,
        mean: stats.meanBatchSize,
        partials,
        finals,
      });
      console.log(
        `  ${precision} round ${round + 1} maxBatch ${maxBatch}: ${rate[maxBatch]!.toFixed(1)} audio-s/s (${machine()})`,
      );
    }
    ratios.push(rate[32]! / rate[1]!);
  }
  // onnxruntime alone on the shapes each setting produced (last round): what batching buys the forward pass.
  const bare: Record<number, number> = {};
  for (const maxBatch of [32, 1])
    bare[maxBatch] = audioSeconds / ((await replayBare(bareModels, shapes[maxBatch]!)).wall / 1000);
  for (const maxBatch of [32, 1]) {
    const r = runs[maxBatch]!;
    rows.push([
      precision,
      maxBatch,
      streams,
      audioSeconds,
      median(r.map((x) => x.rate)).toFixed(1),
      r.map((x) => x.rate.toFixed(1)).join(" / "),
      median(r.map((x) => x.batches)),
      median(r.map((x) => x.mean)).toFixed(1),
      median(r.map((x) => x.partials)),
      median(r.map((x) => x.finals)),
      bare[maxBatch]!.toFixed(1),
      maxBatch === 32 ? `${median(ratios).toFixed(2)}x (${ratios.map((x) => x.toFixed(2)).join(" / ")})` : "",
      maxBatch === 32 ? `${(bare[32]! / bare[1]!).toFixed(2)}x` : "",
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
      "maxBatch",
      "streams",
      "audio s",
      "audio-s/s (median)",
      "each round",
      "forward passes",
      "mean batch",
      "partials",
      "finals",
      "bare forward audio-s/s",
      "batched / unbatched",
      "bare forward batched / unbatched",
    ],
    rows,
  ),
);
console.log(`after: ${machine()}`);
