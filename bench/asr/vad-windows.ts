/**
 * Silero VAD v4 alone: cost per window and per second of audio for each window length it takes at 8 kHz
 * (32, 64, 96 ms) and a range of batch sizes, through the engine's SileroVad on the calling thread.
 *   npx tsx bench/asr/vad-windows.ts
 */
import { SileroVad, VadState } from "../../services/asr/src/engine/vad/silero.ts";
import { loadBenchVad, machine, table } from "./engine-support.ts";

const vad = await loadBenchVad();
const probabilities = new Float32Array(256);
const rows: Array<Array<string | number>> = [];
console.log(`Silero VAD v4, 8 kHz; ${machine()}`);
for (const windowMs of [32, 64, 96] as const) {
  const size = SileroVad.windowSamples(8000, windowMs);
  const samples = Float32Array.from({ length: size }, (_, i) => 0.1 * Math.sin(i * 0.3));
  for (const batch of [1, 23, 64, 128]) {
    const windows = Array.from({ length: batch }, () => ({ samples, state: new VadState() }));
    const passes = Math.max(20, Math.floor(4000 / batch));
    for (let i = 0; i < 5; i++) await vad.run(windows, 8000, probabilities);
    const started = performance.now();
    for (let i = 0; i < passes; i++) await vad.run(windows, 8000, probabilities);
    const perWindowUs = ((performance.now() - started) * 1000) / (passes * batch);
    rows.push([windowMs, batch, perWindowUs.toFixed(1), ((perWindowUs * 1000) / windowMs / 1000).toFixed(2)]);
  }
}
console.log(table(["window ms", "batch", "µs per window", "ms per audio second"], rows));
await vad.close();
