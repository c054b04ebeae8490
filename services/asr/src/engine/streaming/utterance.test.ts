import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { DynamicBatcher } from "../batching/batcher.ts";
import { GreedyCtcDecoder } from "../decoding/ctc.ts";
import { FbankExtractor, FrameBuffer, computeFbank } from "../features/fbank.ts";
import type { AcousticModelSpec } from "../model/acoustic-model.ts";
import { createVocabulary } from "../model/vocabulary.ts";
import { ToyCtcModel } from "../test-support/toy-model.ts";
import { UtteranceRecognizer, type UtteranceUpdate } from "./utterance.ts";
import { telephoneFbank } from "../test-support/telephone-fbank.ts";

const logger = pino({ level: "silent" });
const features = telephoneFbank;
const REACH = 21;
const VOCAB = 5;

function spec(overrides: Partial<AcousticModelSpec> = {}): AcousticModelSpec {
  return {
    name: "toy",
    version: "0",
    language: "en",
    sampleRate: 8000,
    features,
    normalize: "",
    featureInput: "audio_signal",
    lengthInput: "length",
    logProbOutput: "logprobs",
    lengthOutput: null,
    vocabulary: createVocabulary(["▁", "a", "b", "c", "<blk>"], 4, "▁"),
    subsampling: 2,
    receptiveField: { left: REACH, right: REACH },
    cacheAware: null,
    ...overrides,
  };
}

function audio(seconds: number): Float32Array {
  const x = new Float32Array(8000 * seconds + 123);
  for (let i = 0; i < x.length; i++)
    x[i] = 0.3 * Math.sin(i / 5 + Math.sin(i / 900) * 4) * Math.sin(i / 2000);
  return x;
}

/** The toy model run once on the whole utterance's features. */
async function wholePass(samples: Float32Array, s: AcousticModelSpec): Promise<Float32Array> {
  const extractor = new FbankExtractor(features);
  const { frames, data } = computeFbank(extractor, samples);
  const buffer = new FrameBuffer(80, frames + 1);
  for (let t = 0; t < frames; t++) buffer.data.set(data.subarray(t * 80, (t + 1) * 80), buffer.appendFrame());
  const batcher = new DynamicBatcher({
    model: new ToyCtcModel(80, VOCAB, REACH),
    maxBatch: 1,
    maxWaitMs: 0,
    logger,
  });
  const request = { frames: buffer, from: 0, to: frames, weight: 1 };
  if (s.normalize === "per_feature") {
    const mean = new Float64Array(80);
    const invStd = new Float64Array(80);
    for (let d = 0; d < 80; d++) {
      let sum = 0;
      for (let t = 0; t < frames; t++) sum += data[t * 80 + d]!;
      mean[d] = sum / frames;
      let sq = 0;
      for (let t = 0; t < frames; t++) sq += (data[t * 80 + d]! - mean[d]!) ** 2;
      invStd[d] = 1 / (Math.sqrt(sq / frames) + 1e-5);
    }
    Object.assign(request, { normalize: { mean, invStd } });
  }
  const [result] = await batcher.runBatch([request]);
  return result!.logProbs;
}

async function streamed(
  samples: Float32Array,
  s: AcousticModelSpec,
  chunkFrames: number,
  packet: number,
  interim: boolean,
) {
  const model = new ToyCtcModel(80, VOCAB, REACH);
  const batcher = new DynamicBatcher({ model, maxBatch: 8, maxWaitMs: 0, logger });
  const partials: UtteranceUpdate[] = [];
  const utterance = new UtteranceRecognizer({
    spec: s,
    extractor: new FbankExtractor(features),
    sink: batcher,
    createDecoder: () => new GreedyCtcDecoder(VOCAB, 4),
    chunkFrames,
    onPartial: interim ? (u) => partials.push(u) : undefined,
    captureLogProbs: true,
  });
  for (let offset = 0; offset < samples.length; offset += packet) {
    utterance.acceptSamples(samples.subarray(offset, Math.min(samples.length, offset + packet)));
    // Let chunk results come back between packets, as they do in real time.
    if ((offset / packet) % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await utterance.finish();
  return { captured: utterance.capturedLogProbs(), partials, calls: model.calls, result: utterance.result() };
}

describe("UtteranceRecognizer", () => {
  const samples = audio(3);

  it.each([
    [2, 160, true],
    [8, 80, true],
    [24, 160, true],
    [24, 1000, false],
    [100, 800, true],
  ])(
    "chunks of %i frames (packets of %i samples, partials %s) commit exactly the whole-utterance log-probs",
    async (chunkFrames, packet, interim) => {
      const whole = await wholePass(samples, spec());
      const { captured, partials, calls } = await streamed(samples, spec(), chunkFrames, packet, interim);
      expect(captured.frames).toBe(whole.length / VOCAB);
      expect(Array.from(captured.data)).toEqual(Array.from(whole));
      // Each request carries at most the left context, the new frames and the right context.
      for (const call of calls)
        expect(call.frames).toBeLessThanOrEqual(REACH + 1 + 2 * chunkFrames + REACH + 200);
      if (interim) expect(partials.length).toBeGreaterThanOrEqual(2);
      else expect(partials).toHaveLength(0);
    },
  );

  it("shows provisional frames in partials before their right context arrives", async () => {
    const { partials } = await streamed(samples, spec(), 8, 80, true);
    // The first partials cover frames whose right context is not there yet.
    expect(partials[0]!.frames).toBeGreaterThan(0);
    for (let i = 1; i < partials.length; i++)
      expect(partials[i]!.frames).toBeGreaterThanOrEqual(partials[i - 1]!.frames);
  });

  it("decodes a per-utterance-normalised model from one whole pass at the end", async () => {
    const s = spec({ normalize: "per_feature", receptiveField: null });
    const whole = await wholePass(samples, s);
    const { captured, partials } = await streamed(samples, s, 24, 800, true);
    expect(Array.from(captured.data)).toEqual(Array.from(whole));
    expect(partials.length).toBeGreaterThan(0);
  });
});
