/**
 * Silero VAD v4 alone: cost per window and per second of audio for each window length it takes at 8 kHz
 * (32, 64, 96 ms) and a range of batch sizes, through the engine's SileroVad on the calling thread, for
 * the graph as shipped and with its convolutions rewritten (the engine's default on the CPU), side by
 * side: the two alternate for every setting, twice, and the faster of each pair counts.
 *   npx tsx bench/asr/vad-windows.ts
 */
import { Recognizer } from "../../services/asr/src/engine/engine.ts";
import { loadVad, SileroVad, VadState } from "../../services/asr/src/engine/vad/silero.ts";
import { loadBenchModel, logger, machine, table } from "./engine-support.ts";
import { heldOutRecordings } from "./streams-speech.ts";

const shipped = await loadVad({ provider: "cpu", logger, rewriteConvolutions: false });
const rewritten = await loadVad({ provider: "cpu", logger });
if (!rewritten.convolutionsRewritten) throw new Error("the rewritten graph did not load");
const probabilities = new Float32Array(256);
const rows: Array<Array<string | number>> = [];
console.log(`Silero VAD v4, 8 kHz; ${machine()}`);

/** µs per window over `passes` passes, after five passes of warm-up. */
async function perWindow(
  vad: SileroVad,
  windows: Array<{ samples: Float32Array; state: VadState }>,
  passes: number,
): Promise<number> {
  for (let i = 0; i < 5; i++) await vad.run(windows, 8000, probabilities);
  const started = performance.now();
  for (let i = 0; i < passes; i++) await vad.run(windows, 8000, probabilities);
  return ((performance.now() - started) * 1000) / (passes * windows.length);
}

for (const windowMs of [32, 64, 96] as const) {
  const size = SileroVad.windowSamples(8000, windowMs);
  for (const batch of [1, 8, 23, 64, 128]) {
    // Speech-like noise, a different window per stream.
    const windows = Array.from({ length: batch }, (_, b) => ({
      samples: Float32Array.from(
        { length: size },
        (_, i) => 0.1 * Math.sin(i * (0.3 + b * 0.01)) * (1 + Math.sin(i * 0.011)),
      ),
      state: new VadState(),
    }));
    const passes = Math.max(20, Math.floor(4000 / batch));
    const times = { shipped: Infinity, rewritten: Infinity };
    for (let round = 0; round < 2; round++) {
      times.shipped = Math.min(times.shipped, await perWindow(shipped, windows, passes));
      times.rewritten = Math.min(times.rewritten, await perWindow(rewritten, windows, passes));
    }
    const perSecond = (us: number): string => ((us * 1000) / windowMs / 1000).toFixed(2);
    rows.push([
      windowMs,
      batch,
      times.shipped.toFixed(1),
      times.rewritten.toFixed(1),
      perSecond(times.shipped),
      perSecond(times.rewritten),
      `${(times.shipped / times.rewritten).toFixed(2)}x`,
    ]);
  }
}
console.log(
  table(
    [
      "window ms",
      "batch",
      "µs per window, as shipped",
      "µs per window, rewritten",
      "ms per audio s, as shipped",
      "ms per audio s, rewritten",
      "speed-up",
    ],
    rows,
  ),
);

// The engine's finals on every held-out prompt (all at once, max batch 32), with each graph.
const prompts = heldOutRecordings();
const model = await loadBenchModel("int8");
const finals = async (vad: SileroVad): Promise<string[]> => {
  const engine = new Recognizer({
    model,
    vad,
    logger,
    options: {
      maxBatch: 32,
      maxWaitMs: 10,
      maxStreams: prompts.length,
      maxQueuedChunks: 100_000,
      chunkMs: 240,
    },
  });
  try {
    return await Promise.all(
      prompts.map(async (p) =>
        (await engine.recognize(p.pcm, { sampleRate: 8000 }))
          .map((e) => (e.kind === "final" ? `${e.startMs}-${e.endMs} ${e.text}` : ""))
          .join(" | "),
      ),
    );
  } finally {
    await engine.close();
  }
};
const [a, b] = [await finals(shipped), await finals(rewritten)];
const same = a.filter((text, i) => text === b[i]).length;
const utterances = a.reduce((n, text) => n + text.split(" | ").filter(Boolean).length, 0);
console.log(
  `engine finals on the ${prompts.length} held-out prompts (${utterances} utterances with the graph as shipped): ` +
    `${same} of ${prompts.length} prompts have the same finals, text and times, with the rewritten graph`,
);
console.log(`after: ${machine()}`);
await model.close();
await shipped.close();
await rewritten.close();
