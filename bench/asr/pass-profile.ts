/**
 * Where a forward pass of the streaming graph spends its time, by operator: onnxruntime's own profiler over
 * a number of passes of one batch size (240 ms windows, zero states), one intra-op thread, on the calling thread.
 *   npx tsx bench/asr/pass-profile.ts [fp32|int8] [batch=32] [passes=100] [graph.onnx]
 * (the last argument profiles another file with the same inputs instead of the committed graph).
 * Prints kernel time per pass for each operator type, largest first. The profiler's own cost per node
 * inflates small passes; compare operators within one run, not the total with other benchmarks.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { machine, modelDir } from "./engine-support.ts";

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

const precision = process.argv[2] === "int8" ? "int8" : "fp32";
const batch = Number(process.argv[3] ?? 32);
const passes = Number(process.argv[4] ?? 100);
const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as {
  streaming: { files: Record<string, string> };
};
const file = process.argv[5] ?? join(modelDir, manifest.streaming.files[precision]!);
const dir = mkdtempSync(join(tmpdir(), "pass-profile-"));
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  enableProfiling: true,
  profileFilePrefix: join(dir, "profile"),
});
const frames = 24;
const feeds = {
  audio_signal: new ort.Tensor(
    "float32",
    Float32Array.from({ length: batch * 80 * frames }, (_, i) => -9.7 + 3.4 * Math.sin(i * 0.37)),
    [batch, 80, frames],
  ),
  length: new ort.Tensor("int64", new BigInt64Array(batch).fill(BigInt(frames)), [batch]),
  cache_last_channel: new ort.Tensor("float32", new Float32Array(batch * 5 * 80), [batch, 1, 5, 80]),
  cache_last_time: new ort.Tensor("float32", new Float32Array(batch * 84 * 192), [batch, 1, 84, 192]),
  cache_last_channel_len: new ort.Tensor("int64", new BigInt64Array(batch), [batch]),
};
for (let i = 0; i < passes; i++) await session.run(feeds);
session.endProfiling();
const [profileFile] = readdirSync(dir);
const events = JSON.parse(readFileSync(join(dir, profileFile!), "utf8")) as ProfileEvent[];
await session.release();
rmSync(dir, { recursive: true, force: true });

const byOp = new Map<string, number>();
for (const e of events) {
  if (e.cat !== "Node" || !e.name?.endsWith("_kernel_time")) continue;
  const op = e.args?.op_name ?? "?";
  byOp.set(op, (byOp.get(op) ?? 0) + (e.dur ?? 0) / passes);
}
const total = [...byOp.values()].reduce((a, b) => a + b, 0);
console.log(`${file}, batch ${batch}, ${passes} passes; ${machine()}`);
console.log(
  `kernel time per pass: ${total.toFixed(0)} µs (${events.filter((e) => e.name === "model_run").length} runs)`,
);
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]))
  console.log(`  ${op.padEnd(20)} ${us.toFixed(0).padStart(6)} µs  ${((100 * us) / total).toFixed(1)} %`);
