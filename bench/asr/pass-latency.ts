/**
 * A small pass of the streaming graph (240 ms windows with their states, batch 1 and 2), as the engine's
 * forward() makes it: on a session on the calling thread with one intra-op thread and with two, and on a
 * session on an inference thread (the round trip included). Decides which passes stay on the event loop
 * (SMALL_PASS_BATCH) and on how many threads they run there (smallPassPlacement).
 *   npx tsx bench/asr/pass-latency.ts [fp32|int8] [passes=1000]
 */
import { AcousticModel, allocateState } from "../../services/asr/src/engine/model/acoustic-model.ts";
import { loadBenchModel, machine, median } from "./engine-support.ts";

const precision = process.argv[2] === "int8" ? "int8" : "fp32";
const passes = Number(process.argv[3] ?? 1000);
const inline = await loadBenchModel(precision, { inferenceThread: false, intraOpThreads: 1 });
const inlineTwo = await loadBenchModel(precision, { inferenceThread: false, intraOpThreads: 2 });
const threaded = await loadBenchModel(precision, { intraOpThreads: 1 });
const { dim } = inline.spec.features;
const frames = 24;
const cacheAware = inline.spec.cacheAware!;
/** Inputs of a pass of `batch` windows: the same window and zero states for each. */
function passInputs(batch: number) {
  const features = Float32Array.from(
    { length: batch * dim * frames },
    (_, i) => -9.7 + 3.4 * Math.sin((i % (dim * frames)) * 0.37),
  );
  const lengths = new BigInt64Array(batch).fill(BigInt(frames));
  const states = cacheAware.states.map((st) => allocateState(st, batch));
  return { features, lengths, states };
}
console.log(
  `${precision} streaming graph, batch 1 and 2, ${frames} frames, ${passes} passes a round; ${machine()}`,
);
// The threaded model's own forward() keeps batch-1 passes here; this one has only its thread session.
const throughThread = new AcousticModel(threaded.info, threaded.spec, { session: threaded.session });
const settings = [
  ["calling thread, 1 intra-op thread", inline],
  ["calling thread, 2 intra-op threads", inlineTwo],
  ["inference thread, 1 intra-op thread", throughThread],
] as const;
const results: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const batch of [1, 2]) {
    const { features, lengths, states } = passInputs(batch);
    for (const [name, model] of settings) {
      const started = performance.now();
      for (let i = 0; i < passes; i++) await model.forward(features, batch, frames, lengths, states);
      (results[`batch ${batch}, ${name}`] ??= []).push((performance.now() - started) / passes);
    }
  }
}
for (const [name, ms] of Object.entries(results))
  console.log(
    `${name}: ${median(ms).toFixed(3)} ms per pass (rounds: ${ms.map((x) => x.toFixed(3)).join(" / ")})`,
  );
await inline.close();
await inlineTwo.close();
await threaded.close();
