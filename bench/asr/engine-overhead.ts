/**
 * Engine overhead: the engine's throughput over bare onnxruntime forward passes on the same batches.
 *   npx tsx bench/asr/engine-overhead.ts [streams=64] [secondsPerStream=10] [rounds=3]
 * The engine runs saturating streams (VAD, features, batching, decoding, events) with maxBatch 32 and
 * records the [batch, frames] shape and lengths of every acoustic-model pass and the batch size of every
 * Silero VAD pass; then only session.run is replayed on those shapes: the acoustic model alone, and the
 * acoustic model plus the VAD (every onnxruntime pass the engine made). engine / bare = bare time / engine
 * time (100 % would mean the engine adds nothing). Engine run and replay alternate for several rounds
 * (the machine is shared with a training job); medians are reported, by wall time and by this process's
 * CPU time (all threads), which a concurrent job disturbs less.
 */
import { Recognizer } from "../../services/asr/src/engine/engine.ts";
import { SileroVad, VadState } from "../../services/asr/src/engine/vad/silero.ts";
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
} from "./engine-support.ts";

const { streams, seconds, rounds, chunkMs, signals, audioSeconds } = await streamingBenchSetup();
const vad = await loadBenchVad();
const rows: Array<Array<string | number>> = [];
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;

async function timed(work: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  return { wall: performance.now() - started, cpu: cpuMs(process.cpuUsage(cpu)) };
}

console.log(
  `engine overhead benchmark: ${streams} streams × ${seconds} s of held-out Asterisk prompts, maxBatch 32, maxWaitMs 10, ` +
    `chunk ${chunkMs} ms, VAD window 64 ms, engine as the service runs it (acoustic model on its inference thread, VAD on the event loop, ` +
    `1 intra-op thread), bare replays with ${bareThreadCounts.join(" and ")} intra-op threads (the faster counts), ${rounds} rounds`,
);
console.log(`machine: ${machine()}`);
for (const precision of ["fp32", "int8"] as const) {
  const model = await loadBenchModel(precision);
  const bare = await loadBareModels(precision);
  const results: Array<{
    engine: { wall: number; cpu: number };
    asr: { wall: number; cpu: number };
    vad: { wall: number; cpu: number };
    passes: number;
    mean: number;
  }> = [];
  for (let round = 0; round < rounds; round++) {
    const engine = new Recognizer(
      {
        model,
        vad,
        logger,
        options: { maxBatch: 32, maxWaitMs: 10, maxStreams: streams, maxQueuedChunks: 100_000, chunkMs },
      },
      { recordShapes: true },
    );
    vad.recordedBatches = [];
    const engineTime = await timed(async () => void (await driveStreams(engine, signals, chunkMs)));
    const shapes = engine.batcher.shapes.slice();
    const vadBatches = vad.recordedBatches;
    vad.recordedBatches = null;
    await engine.close();

    // Bare replay: the same shapes and lengths (and zero states for a cache-aware graph), nothing but session.run.
    const asr = await replayBare(bare, shapes);
    const window = SileroVad.windowSamples(8000, 64);
    const samples = Float32Array.from({ length: window }, (_, i) => 0.1 * Math.sin(i * 0.3));
    const states = Array.from({ length: Math.max(...vadBatches) }, () => new VadState());
    const probabilities = new Float32Array(states.length);
    const vadTime = await timed(async () => {
      for (const batch of vadBatches)
        await vad.run(
          states.slice(0, batch).map((state) => ({ samples, state })),
          8000,
          probabilities,
        );
    });
    results.push({
      engine: engineTime,
      asr,
      vad: vadTime,
      passes: shapes.length,
      mean: shapes.reduce((n, s) => n + s.batch, 0) / shapes.length,
    });
    console.log(
      `  ${precision} round ${round + 1}: engine ${(engineTime.wall / 1000).toFixed(1)} s (${(engineTime.cpu / 1000).toFixed(1)} s CPU), ` +
        `bare acoustic model ${(asr.wall / 1000).toFixed(1)} s (${(asr.cpu / 1000).toFixed(1)} s CPU, ${asr.threads} thread(s)), ` +
        `bare VAD ${(vadTime.wall / 1000).toFixed(1)} s (${(vadTime.cpu / 1000).toFixed(1)} s CPU, ${vadBatches.length} passes) (${machine()})`,
    );
  }
  await model.close();
  for (const m of bare) await m.close();
  const by = (f: (r: (typeof results)[0]) => number): string =>
    `${pct(median(results.map(f)))} (${results.map((r) => pct(f(r))).join(" / ")})`;
  rows.push([
    precision,
    median(results.map((r) => r.passes)),
    median(results.map((r) => r.mean)).toFixed(1),
    median(results.map((r) => audioSeconds / (r.engine.wall / 1000))).toFixed(1),
    median(results.map((r) => audioSeconds / (r.asr.wall / 1000))).toFixed(1),
    by((r) => r.asr.wall / r.engine.wall),
    by((r) => r.asr.cpu / r.engine.cpu),
    by((r) => (r.asr.wall + r.vad.wall) / r.engine.wall),
    by((r) => (r.asr.cpu + r.vad.cpu) / r.engine.cpu),
  ]);
}
await vad.close();
console.log();
console.log(
  table(
    [
      "model",
      "forward passes",
      "mean batch",
      "engine audio-s/s",
      "bare acoustic audio-s/s",
      "engine / bare acoustic (wall)",
      "engine / bare acoustic (CPU)",
      "engine / bare acoustic+VAD (wall)",
      "engine / bare acoustic+VAD (CPU)",
    ],
    rows,
  ),
);
console.log(`after: ${machine()}`);
