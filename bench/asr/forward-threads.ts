/**
 * onnxruntime alone on the streaming graph: one 240 ms window (24 frames) at batch 1 and 32, with 2 intra-op
 * threads that do not spin (the engine's default), 2 that spin, and 1.
 *   npx tsx bench/asr/forward-threads.ts [fp32|int8]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { machine, modelDir } from "./engine-support.ts";

const precision = process.argv[2] === "int8" ? "int8" : "fp32";
const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as {
  streaming: {
    files: Record<string, string>;
    inputs: Array<{ name: string; dtype: string; shape: Array<number | string> }>;
  };
};
const file = join(modelDir, manifest.streaming.files[precision]!);
console.log(`${file}; ${machine()}`);
const settings = [
  ["2 threads, no spinning", 2, "0"],
  ["2 threads, spinning", 2, "1"],
  ["1 thread", 1, "0"],
] as const;
for (const [name, threads, spin] of settings) {
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    extra: { session: { intra_op: { allow_spinning: spin } } },
  });
  for (const batch of [1, 32]) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of manifest.streaming.inputs) {
      const shape = input.shape.map((d, i) => (i === 0 ? batch : d === "T" ? 24 : (d as number)));
      const size = shape.reduce((a, b) => a * b, 1);
      feeds[input.name] =
        input.dtype === "int64"
          ? new ort.Tensor("int64", new BigInt64Array(size).fill(input.name === "length" ? 24n : 0n), shape)
          : new ort.Tensor(
              "float32",
              Float32Array.from({ length: size }, (_, i) => -9 + 3 * Math.sin(i * 0.37)),
              shape,
            );
    }
    for (let i = 0; i < 50; i++) await session.run(feeds);
    const reps = batch === 1 ? 2000 : 200;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < reps; i++) await session.run(feeds);
    const ms = (performance.now() - started) / reps;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000 / reps;
    console.log(
      `${precision} ${name}, batch ${batch}: ${ms.toFixed(3)} ms per pass, ${((batch * 0.24) / (ms / 1000)).toFixed(0)} audio s/s, ` +
        `${cpuMs.toFixed(3)} CPU ms per pass`,
    );
  }
  await session.release();
}
