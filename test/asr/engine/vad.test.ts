import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecognizerEngine, loadAsrModel, loadVad } from "../../../services/asr/src/engine/index.ts";
import { SileroVad, VadState } from "../../../services/asr/src/engine/vad/silero.ts";
import { fixtureItems, fixturePcm, modelDir, silentLogger } from "./support.ts";

const STREAMS = 5;
let speech: Float32Array;
let prompts: Int16Array[];
const loaded: SileroVad[] = [];

async function load(options: {
  rewriteConvolutions?: boolean;
  inferenceThread?: boolean;
}): Promise<SileroVad> {
  const vad = (await loadVad({ provider: "cpu", logger: silentLogger, ...options })) as SileroVad;
  loaded.push(vad);
  return vad;
}

/**
 * Speech probabilities of STREAMS streams, each reading the prompts from its own offset, window after
 * window, all streams in one Silero pass per window: [window][stream].
 */
async function probabilities(vad: SileroVad, rate: 8000 | 16000, windowSamples: number): Promise<number[][]> {
  const signal = rate === 8000 ? speech : upsample(speech);
  const states = Array.from({ length: STREAMS }, () => new VadState());
  const out = new Float32Array(STREAMS);
  const result: number[][] = [];
  const windows = Math.floor(signal.length / windowSamples) - STREAMS;
  for (let w = 0; w < windows; w++) {
    await vad.run(
      states.map((state, s) => ({
        samples: signal.subarray((w + s) * windowSamples, (w + s + 1) * windowSamples),
        state,
      })),
      rate,
      out,
    );
    result.push([...out]);
  }
  return result;
}

function upsample(x: Float32Array): Float32Array {
  const y = new Float32Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    y[2 * i] = x[i]!;
    y[2 * i + 1] = (x[i]! + (x[i + 1] ?? x[i]!)) / 2;
  }
  return y;
}

function maxDifference(a: number[][], b: number[][]): number {
  expect(b.length).toBe(a.length);
  return Math.max(...a.flatMap((row, w) => row.map((p, s) => Math.abs(p - b[w]![s]!))));
}

beforeAll(async () => {
  prompts = await Promise.all(fixtureItems().map((i) => fixturePcm(i.file)));
  const pcm = prompts.flatMap((p) => [...p]);
  speech = Float32Array.from(pcm, (v) => v / 32768);
});

afterAll(async () => {
  for (const vad of loaded) await vad.close();
});

describe("Silero VAD with its convolutions rewritten", () => {
  it("runs by default on the CPU, and gives the probabilities of the graph as shipped", async () => {
    const rewritten = await load({});
    const shipped = await load({ rewriteConvolutions: false });
    expect(rewritten.convolutionsRewritten).toBe(true);
    expect(shipped.convolutionsRewritten).toBe(false);
    for (const [rate, windowMs] of [
      [8000, 32],
      [8000, 64],
      [8000, 96],
      [16000, 64],
    ] as const) {
      const windowSamples = SileroVad.windowSamples(rate, windowMs);
      const expected = await probabilities(shipped, rate, windowSamples);
      const actual = await probabilities(rewritten, rate, windowSamples);
      // Real speech: some windows are speech and some are not.
      const all = expected.flat();
      expect(all.some((p) => p > 0.9) && all.some((p) => p < 0.1)).toBe(true);
      expect(maxDifference(expected, actual)).toBeLessThan(1e-4);
    }
  });

  it("runs the same on an inference thread, where the rewritten graph is sent as bytes", async () => {
    const threaded = await load({ inferenceThread: true });
    const inline = await load({});
    expect(threaded.convolutionsRewritten).toBe(true);
    const windowSamples = SileroVad.windowSamples(8000, 64);
    expect(
      maxDifference(
        await probabilities(inline, 8000, windowSamples),
        await probabilities(threaded, 8000, windowSamples),
      ),
    ).toBe(0);
  });
});

describe("the engine with Silero's convolutions rewritten", () => {
  it("cuts and recognises the same utterances as with the graph as shipped", async () => {
    const model = await loadAsrModel({
      dir: modelDir,
      provider: "cpu",
      precision: "int8",
      logger: silentLogger,
    });
    try {
      // The prompts with a second of silence after each: one utterance per prompt.
      const pcm = Int16Array.from(prompts.flatMap((p) => [...p, ...new Array<number>(8000).fill(0)]));
      const utterances = async (vad: SileroVad): Promise<string[]> => {
        const engine = createRecognizerEngine({
          model,
          vad,
          logger: silentLogger,
          options: { maxBatch: 32, maxWaitMs: 10, maxStreams: 4, maxQueuedChunks: 1000, chunkMs: 240 },
        });
        try {
          const finals = await engine.recognize(pcm, { sampleRate: 8000 });
          return finals.map((f) => (f.kind === "final" ? `${f.startMs}-${f.endMs} ${f.text}` : ""));
        } finally {
          await engine.close();
        }
      };
      const shipped = await utterances(await load({ rewriteConvolutions: false }));
      expect(shipped.length).toBeGreaterThanOrEqual(prompts.length);
      expect(await utterances(await load({}))).toEqual(shipped);
    } finally {
      await model.close();
    }
  });
});
