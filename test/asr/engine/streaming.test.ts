import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pcm16ToFloat32 } from "@callscribe/audio";
import { DynamicBatcher, type ChunkRequest } from "../../../services/asr/src/engine/batching/batcher.ts";
import { GreedyCtcDecoder } from "../../../services/asr/src/engine/decoding/ctc.ts";
import { assembleTranscript } from "../../../services/asr/src/engine/decoding/words.ts";
import { Recognizer } from "../../../services/asr/src/engine/engine.ts";
import {
  FbankExtractor,
  FrameBuffer,
  computeFbank,
} from "../../../services/asr/src/engine/features/fbank.ts";
import type { AcousticModel } from "../../../services/asr/src/engine/model/acoustic-model.ts";
import { loadAsrModel, loadVad } from "../../../services/asr/src/engine/index.ts";
import { UtteranceRecognizer } from "../../../services/asr/src/engine/streaming/utterance.ts";
import type { RecognitionEvent } from "../../../services/asr/src/engine/types.ts";
import type { SileroVad } from "../../../services/asr/src/engine/vad/silero.ts";
import { fixtureItems, fixturePcm, modelDir, silentLogger } from "./support.ts";

const models: Record<"fp32" | "int8", AcousticModel> = {} as never;
let vad: SileroVad;

beforeAll(async () => {
  models.fp32 = (await loadAsrModel({
    dir: modelDir,
    provider: "cpu",
    precision: "fp32",
    logger: silentLogger,
  })) as AcousticModel;
  models.int8 = (await loadAsrModel({
    dir: modelDir,
    provider: "cpu",
    precision: "int8",
    logger: silentLogger,
  })) as AcousticModel;
  vad = (await loadVad({ provider: "cpu", logger: silentLogger })) as SileroVad;
});

afterAll(async () => {
  await models.fp32?.close();
  await models.int8?.close();
  await vad?.close();
});

function bufferOf(data: Float32Array, frames: number, dim: number): FrameBuffer {
  const buffer = new FrameBuffer(dim, frames + 1);
  for (let t = 0; t < frames; t++)
    buffer.data.set(data.subarray(t * dim, (t + 1) * dim), buffer.appendFrame());
  return buffer;
}

/** Log-probs of one forward pass over the whole utterance. */
async function wholePass(model: AcousticModel, samples: Float32Array): Promise<Float32Array> {
  const { frames, data } = computeFbank(new FbankExtractor(model.spec.features), samples);
  const batcher = new DynamicBatcher({ model, maxBatch: 1, maxWaitMs: 0, logger: silentLogger });
  const [result] = await batcher.runBatch([
    { frames: bufferOf(data, frames, model.spec.features.dim), from: 0, to: frames, weight: 1 },
  ]);
  return result!.logProbs;
}

/**
 * Largest difference between two log-prob matrices, absolute near 0 and relative beyond |x| = 1. Float32
 * spacing at a log-prob of -32 is 3.8e-6, so different GEMM blockings for different batch sizes or lengths
 * legitimately differ there by a few units in the last place (1.5e-5 absolute at -35 has been seen); a
 * scaled bound keeps "within 1e-5" equally strict in ulps for likely and unlikely tokens. A padding or
 * context error shows up as differences of 1e-2 and more.
 */
function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++)
    max = Math.max(max, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(a[i]!)));
  return max;
}

function greedyText(model: AcousticModel, logProbs: Float32Array): string {
  const vocab = model.spec.vocabulary.tokens.length;
  const decoder = new GreedyCtcDecoder(vocab, model.spec.vocabulary.blankId);
  for (let t = 0; t < logProbs.length / vocab; t++) decoder.step(logProbs, t * vocab);
  return assembleTranscript(decoder.result(), model.spec.vocabulary, () => 1, 20, 0).text;
}

describe.each(["fp32", "int8"] as const)("chunked streaming with the %s model", (precision) => {
  it.each([80, 240, 640])(
    "commits the whole-utterance log-probs (within 1e-5, scaled) with %i ms chunks",
    async (chunkMs) => {
      const model = models[precision];
      const item = fixtureItems().find((i) => i.file.startsWith("real_"))!;
      const samples = pcm16ToFloat32(await fixturePcm(item.file));
      const whole = await wholePass(model, samples);
      const batcher = new DynamicBatcher({ model, maxBatch: 8, maxWaitMs: 0, logger: silentLogger });
      const vocab = model.spec.vocabulary.tokens.length;
      let partials = 0;
      const utterance = new UtteranceRecognizer({
        spec: model.spec,
        extractor: new FbankExtractor(model.spec.features),
        sink: batcher,
        createDecoder: () => new GreedyCtcDecoder(vocab, model.spec.vocabulary.blankId),
        chunkFrames: chunkMs / 10,
        onPartial: () => partials++,
        captureLogProbs: true,
      });
      for (let offset = 0; offset < samples.length; offset += 160) {
        utterance.acceptSamples(samples.subarray(offset, offset + 160));
        if ((offset / 160) % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await utterance.finish();
      const streamed = utterance.capturedLogProbs();
      expect(maxDiff(streamed.data, whole)).toBeLessThanOrEqual(1e-5);
      expect(greedyText(model, streamed.data)).toBe(greedyText(model, whole));
      expect(partials).toBeGreaterThan(0);
    },
  );

  it("gives each chunk of a padded batch the log-probs it gets alone (within 1e-5, scaled)", async () => {
    const model = models[precision];
    const samples = pcm16ToFloat32(await fixturePcm(fixtureItems()[0]!.file));
    const { frames, data } = computeFbank(new FbankExtractor(model.spec.features), samples);
    const buffer = bufferOf(data, frames, model.spec.features.dim);
    const requests: ChunkRequest[] = [
      { frames: buffer, from: 0, to: Math.min(frames, 363), weight: 1 },
      { frames: buffer, from: 40, to: Math.min(frames, 101), weight: 1 },
      { frames: buffer, from: 10, to: frames, weight: 1 },
      { frames: buffer, from: 100, to: Math.min(frames, 150), weight: 1 },
    ];
    const batched = await new DynamicBatcher({
      model,
      maxBatch: 8,
      maxWaitMs: 0,
      logger: silentLogger,
    }).runBatch(requests);
    const alone = new DynamicBatcher({ model, maxBatch: 1, maxWaitMs: 0, logger: silentLogger });
    for (const [i, request] of requests.entries()) {
      const [single] = await alone.runBatch([request]);
      expect(batched[i]!.frames).toBe(Math.floor((request.to - request.from) / 2));
      expect(maxDiff(batched[i]!.logProbs, single!.logProbs)).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe("a recognition stream", () => {
  it("emits partials then a final whose log-probs equal a whole pass over the utterance's audio", async () => {
    const model = models.fp32;
    const engine = new Recognizer(
      {
        model,
        vad,
        logger: silentLogger,
        options: { maxBatch: 16, maxWaitMs: 5, maxStreams: 4, maxQueuedChunks: 100, chunkMs: 240 },
      },
      { captureLogProbs: true },
    );
    try {
      const item = fixtureItems().find((i) => i.file.startsWith("real_"))!;
      const pcm = await fixturePcm(item.file);
      const stream = engine.openStream({ sampleRate: 8000, interimResults: true });
      const events: RecognitionEvent[] = [];
      stream.onEvent((e) => events.push(e));
      for (let offset = 0; offset < pcm.length; offset += 160) {
        stream.pushAudio(pcm.subarray(offset, offset + 160));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await stream.finish();
      // The VAD found the prompt; each utterance committed exactly the log-probs of a whole pass over its audio.
      expect(stream.capturedUtterances.length).toBeGreaterThanOrEqual(1);
      const texts: string[] = [];
      for (const utterance of stream.capturedUtterances) {
        const audio = pcm16ToFloat32(pcm.subarray(utterance.startSample, utterance.endSample));
        expect(maxDiff(utterance.data, await wholePass(model, audio))).toBeLessThanOrEqual(1e-5);
        texts.push(greedyText(model, utterance.data));
      }
      // One final per utterance that said something, in order, with the whole-pass transcript.
      const finals = events.filter((e) => e.kind === "final");
      expect(finals.map((e) => e.text)).toEqual(texts.filter((t) => t !== ""));
      expect(finals.map((e) => e.seq)).toEqual(finals.map((_, i) => i));
      for (const final of finals) {
        expect(final.endOfUtterance).toBe(true);
        const at = events.indexOf(final);
        // Partials of an utterance come before its final, never after.
        expect(events.slice(at + 1).some((e) => e.seq === final.seq)).toBe(false);
        for (const word of final.words) {
          expect(word.startMs).toBeGreaterThanOrEqual(final.startMs);
          expect(word.endMs).toBeLessThanOrEqual(final.endMs + 20);
          expect(word.confidence).toBeGreaterThan(0);
          expect(word.confidence).toBeLessThanOrEqual(1);
        }
      }
      expect(engine.stats().openStreams).toBe(0);
    } finally {
      await engine.close();
    }
  });
});
