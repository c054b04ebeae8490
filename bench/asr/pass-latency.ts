/**
 * One batch-1 pass of the streaming graph (a 240 ms window with its states), as the engine's forward()
 * makes it: on a session on the calling thread, and on a session on an inference thread (the round trip
 * included). Decides which passes stay on the event loop (SMALL_PASS_BATCH).
 *   npx tsx bench/asr/pass-latency.ts [fp32|int8] [passes=1000]
 */
import { AcousticModel, initialStates } from "../../services/asr/src/engine/model/acoustic-model.ts";
import { loadBenchModel, machine, median } from "./engine-support.ts";

const precision = process.argv[2] === "int8" ? "int8" : "fp32";
const passes = Number(process.argv[3] ?? 1000);
const inline = await loadBenchModel(precision, { inferenceThread: false, intraOpThreads: 1 });
const threaded = await loadBenchModel(precision, { intraOpThreads: 1 });
const { dim } = inline.spec.features;
const frames = 24;
const features = Float32Array.from({ length: dim * frames }, (_, i) => -9.7 + 3.4 * Math.sin(i * 0.37));
const lengths = BigInt64Array.of(BigInt(frames));
const states = initialStates(inline.spec.cacheAware!);
console.log(
  `${precision} streaming graph, batch 1, ${frames} frames, 1 intra-op thread, ${passes} passes a round; ${machine()}`,
);
// The threaded model's own forward() keeps batch-1 passes here; this one has only its thread session.
const throughThread = new AcousticModel(threaded.info, threaded.spec, threaded.session);
const settings = [
  ["calling thread", inline],
  ["inference thread", throughThread],
] as const;
const results: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, model] of settings) {
    const started = performance.now();
    for (let i = 0; i < passes; i++) await model.forward(features, 1, frames, lengths, states);
    (results[name] ??= []).push((performance.now() - started) / passes);
  }
}
for (const [name, ms] of Object.entries(results))
  console.log(
    `${name}: ${median(ms).toFixed(3)} ms per pass (rounds: ${ms.map((x) => x.toFixed(3)).join(" / ")})`,
  );
await inline.close();
await threaded.close();
