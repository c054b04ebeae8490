/**
 * One stream's 240 ms window from its audio, as the engine's forwardSamples() makes it at batch 1, on the
 * window session (every input shape fixed, window-sessions.ts) against the small-pass session it would
 * otherwise run on (the same graph with the feature front end, shapes free). Both on the calling thread,
 * one intra-op thread. Blocks of passes alternate, the order flipping each round; the per-round ratio is
 * what counts.
 *   npx tsx bench/asr/window-sessions.ts [fp32|int8] [passes=1000] [rounds=10]
 */
import { pcm16ToFloat32 } from "@callscribe/audio";
import { allocateState } from "../../services/asr/src/engine/model/acoustic-model.ts";
import { loadBenchModel, machine, median } from "./engine-support.ts";
import { heldOutRecordings } from "./streams-speech.ts";

const precision = process.argv[2] === "int8" ? "int8" : "fp32";
const passes = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 10);
const model = await loadBenchModel(precision, { streamingChunkMs: [240] });
const general = model.withWindowSessionsOf(new Map());
const { features, cacheAware } = model.spec;
const frames = 24;
if (!model.windowSessions.has(frames)) throw new Error(`no window session for ${frames} frames`);
const perItem = (frames - 1) * features.frameShift + features.frameLength;
// Real speech: the first window of the longest held-out prompt, and the states after it.
const prompt = heldOutRecordings().reduce((a, b) => (b.pcm.length > a.pcm.length ? b : a));
const samples = pcm16ToFloat32(prompt.pcm).slice(0, perItem);
const audio = { samples, samplesPerItem: perItem, validFrames: Int32Array.of(frames) };
const lengths = BigInt64Array.of(BigInt(frames));
const first = await general.forwardSamples(
  audio,
  1,
  frames,
  lengths,
  cacheAware!.states.map((s) => allocateState(s, 1)),
);
const states = first.states!.map((s) => s.slice());

console.log(
  `${precision} streaming graph with the feature front end, one stream's ${frames}-frame window, ${passes} passes a block; ${machine()}`,
);
const perPass: Record<string, number[]> = { window: [], general: [] };
const ratios: number[] = [];
for (let round = 0; round <= rounds; round++) {
  const order = round % 2 === 0 ? (["window", "general"] as const) : (["general", "window"] as const);
  const ms: Record<string, number> = {};
  for (const name of order) {
    const m = name === "window" ? model : general;
    const started = performance.now();
    for (let i = 0; i < passes; i++) await m.forwardSamples(audio, 1, frames, lengths, states);
    ms[name] = (performance.now() - started) / passes;
  }
  // Round 0 warms both up.
  if (round === 0) continue;
  perPass.window!.push(ms.window!);
  perPass.general!.push(ms.general!);
  ratios.push(ms.general! / ms.window!);
}
console.log(
  `window session: ${median(perPass.window!).toFixed(3)} ms per pass (rounds: ${perPass.window!.map((x) => x.toFixed(3)).join(" / ")})`,
);
console.log(
  `small-pass session: ${median(perPass.general!).toFixed(3)} ms per pass (rounds: ${perPass.general!.map((x) => x.toFixed(3)).join(" / ")})`,
);
console.log(
  `small-pass / window session: ${median(ratios).toFixed(3)}x (rounds: ${ratios.map((x) => x.toFixed(2)).join(" / ")})`,
);
await model.close();
