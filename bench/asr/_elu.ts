import { performance } from "node:perf_hooks";
import { Recognizer } from "../../services/asr/src/engine/engine.ts";
import { driveStreams, loadBenchModel, loadBenchVad, logger, streamingBenchSetup } from "./engine-support.ts";
const { streams, signals, chunkMs, audioSeconds } = await streamingBenchSetup();
const vad = process.env.VT ? ((await (await import("../../services/asr/src/engine/vad/silero.ts")).loadVad({ provider: "cpu", logger, inferenceThread: true })) as Awaited<ReturnType<typeof loadBenchVad>>) : await loadBenchVad();
const model = await loadBenchModel("int8");
for (let r = 0; r < 4; r++) for (const maxBatch of [32, 1]) {
  const engine = new Recognizer({ model, vad, logger, options: { maxBatch, maxWaitMs: 10, maxStreams: streams, maxQueuedChunks: 100000, chunkMs } });
  const elu0 = performance.eventLoopUtilization(); const cpu0 = process.cpuUsage(); const vr = vad.runs;
  const { wallMs } = await driveStreams(engine, signals, chunkMs);
  const elu = performance.eventLoopUtilization(elu0); const cpu = process.cpuUsage(cpu0);
  console.log(`maxBatch ${maxBatch}: ${((audioSeconds / wallMs) * 1000).toFixed(1)} audio-s/s, wall ${wallMs.toFixed(0)} ms, event loop utilization ${(elu.utilization * 100).toFixed(0)}%, process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (${((cpu.user + cpu.system) / 10 / wallMs).toFixed(0)}% of one core), silero passes ${vad.runs - vr}`);
  await engine.close();
}
process.exit(0);
