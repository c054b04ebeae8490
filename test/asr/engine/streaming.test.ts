import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pcm16ToFloat32 } from "@callscribe/audio";
import { DynamicBatcher, type ChunkRequest } from "../../../services/asr/src/engine/batching/batcher.ts";
import { GreedyCtcDecoder } from "../../../services/asr/src/engine/decoding/ctc.ts";
import { assembleTranscript } from "../../../services/asr/src/engine/decoding/words.ts";
import { Recognizer } from "../../../services/asr/src/engine/engine.ts";
import {
  FbankExtractor,
  FeatureStream,
  FrameBuffer,
  computeFbank,
} from "../../../services/asr/src/engine/features/fbank.ts";
import {
  initialStates,
  type AcousticModel,
  type StateValue,
} from "../../../services/asr/src/engine/model/acoustic-model.ts";
import { CachedUtteranceRecognizer } from "../../../services/asr/src/engine/streaming/cached-utterance.ts";
import { loadAsrModel, loadVad } from "../../../services/asr/src/engine/index.ts";
import { UtteranceRecognizer } from "../../../services/asr/src/engine/streaming/utterance.ts";
import type { RecognitionEvent } from "../../../services/asr/src/engine/types.ts";
import type { SileroVad } from "../../../services/asr/src/engine/vad/silero.ts";
import { fixtureItems, fixturePcm, modelDir, silentLogger } from "./support.ts";

type Precision = "fp32" | "int8";
/** The whole-utterance graphs (chunks re-run their receptive field) and the cache-aware streaming graphs. */
const offline: Record<Precision, AcousticModel> = {} as never;
const streaming: Record<Precision, AcousticModel> = {} as never;
let vad: SileroVad;

beforeAll(async () => {
  for (const precision of ["fp32", "int8"] as const) {
    const load = (graph: "offline" | "streaming"): Promise<AcousticModel> =>
      loadAsrModel({
        dir: modelDir,
        provider: "cpu",
        precision,
        graph,
        // The chunk lengths the tests below stream with: a stream's windows run on window sessions.
        streamingChunkMs: [80, 240, 640],
        logger: silentLogger,
      }) as Promise<AcousticModel>;
    offline[precision] = await load("offline");
    streaming[precision] = await load("streaming");
  }
  vad = (await loadVad({ provider: "cpu", logger: silentLogger })) as SileroVad;
});

afterAll(async () => {
  for (const model of [...Object.values(offline), ...Object.values(streaming)]) await model?.close();
  await vad?.close();
});

function bufferOf(data: Float32Array, frames: number, dim: number): FrameBuffer {
  const buffer = new FrameBuffer(dim, frames + 2);
  for (let t = 0; t < frames; t++)
    buffer.data.set(data.subarray(t * dim, (t + 1) * dim), buffer.appendFrame());
  return buffer;
}

/**
 * Log-probs of one forward pass over the whole utterance: for a cache-aware graph, one window holding all
 * of it, from zero states.
 */
async function wholePass(model: AcousticModel, samples: Float32Array): Promise<Float32Array> {
  const { frames, data } = computeFbank(new FbankExtractor(model.spec.features), samples);
  const batcher = new DynamicBatcher({ model, maxBatch: 1, maxWaitMs: 0, logger: silentLogger });
  const cacheAware = model.spec.cacheAware;
  const to = cacheAware ? Math.ceil(frames / 2) * 2 : frames;
  const [result] = await batcher.runBatch([
    {
      frames: bufferOf(data, frames, model.spec.features.dim),
      from: 0,
      to,
      validTo: frames,
      weight: 1,
      state: cacheAware ? initialStates(cacheAware) : undefined,
    },
  ]);
  const vocab = model.spec.vocabulary.tokens.length;
  return result!.logProbs.subarray(0, Math.floor(frames / 2) * vocab);
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

/**
 * One real prompt through an utterance recognizer in 20 ms pieces (yielding now and then, as a live stream
 * would): the whole-utterance log-probs, the streamed ones, and every partial's token ids.
 */
async function streamPrompt(
  model: AcousticModel,
  Recognition: typeof UtteranceRecognizer | typeof CachedUtteranceRecognizer,
  chunkMs: number,
  fromAudio = model.takesSamples,
): Promise<{ whole: Float32Array; streamed: Float32Array; frames: number; partials: string[] }> {
  const item = fixtureItems().find((i) => i.file.startsWith("real_"))!;
  const samples = pcm16ToFloat32(await fixturePcm(item.file));
  const whole = await wholePass(model, samples);
  const batcher = new DynamicBatcher({ model, maxBatch: 8, maxWaitMs: 0, logger: silentLogger });
  const vocab = model.spec.vocabulary.tokens.length;
  const partials: string[] = [];
  const utterance = new Recognition({
    spec: model.spec,
    extractor: new FbankExtractor(model.spec.features),
    sink: batcher,
    createDecoder: () => new GreedyCtcDecoder(vocab, model.spec.vocabulary.blankId),
    chunkFrames: chunkMs / 10,
    onPartial: (update) => partials.push(update.tokens.map((t) => t.id).join(",")),
    captureLogProbs: true,
    // As the engine does: a model with the feature front end takes the windows' audio.
    modelTakesSamples: fromAudio,
  });
  // Paced like live audio: the next packet comes once the model has answered for every whole window
  // so far (passes run on the model's inference thread, so results never arrive within the same tick).
  const window = chunkMs / 10 + (model.spec.cacheAware?.lookaheadFrames ?? 0);
  for (let offset = 0; offset < samples.length; offset += 160) {
    utterance.acceptSamples(samples.subarray(offset, offset + 160));
    while (utterance.backlogFrames >= window) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await utterance.finish();
  const streamed = utterance.capturedLogProbs();
  return { whole, streamed: streamed.data, frames: streamed.frames, partials };
}

describe.each(["fp32", "int8"] as const)(
  "chunked streaming with the %s whole-utterance graph",
  (precision) => {
    it.each([80, 240, 640])(
      "commits the whole-utterance log-probs (within 1e-5, scaled) with %i ms chunks",
      async (chunkMs) => {
        const model = offline[precision];
        const { whole, streamed, partials } = await streamPrompt(model, UtteranceRecognizer, chunkMs);
        expect(maxDiff(streamed, whole)).toBeLessThanOrEqual(1e-5);
        expect(greedyText(model, streamed)).toBe(greedyText(model, whole));
        expect(partials.length).toBeGreaterThan(0);
      },
    );

    it("gives each chunk of a padded batch the log-probs it gets alone (within 1e-5, scaled)", async () => {
      const model = offline[precision];
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
  },
);

describe.each(["fp32", "int8"] as const)("cache-aware streaming with the %s streaming graph", (precision) => {
  it.each([80, 240, 640])(
    "chains %i ms windows to the log-probs of one whole-utterance pass (within 1e-5, scaled)",
    async (chunkMs) => {
      const model = streaming[precision];
      expect(model.takesSamples).toBe(true);
      expect([...model.windowSessions.keys()]).toEqual([8, 24, 64]);
      // The fp32 windows take their audio (onnxruntime computes their features with the feature front end),
      // the whole pass takes the extractor's features of the whole signal. The int8 graph quantises
      // activations in fixed steps, which a feature difference far under 1e-4 can cross, so its windows
      // take the extractor's features here; from audio it is checked by the tests below.
      const vocab = model.spec.vocabulary.tokens.length;
      const { whole, streamed, frames, partials } = await streamPrompt(
        model,
        CachedUtteranceRecognizer,
        chunkMs,
        precision === "fp32",
      );
      expect(frames).toBe(whole.length / vocab);
      expect(maxDiff(streamed, whole)).toBeLessThanOrEqual(1e-5);
      expect(greedyText(model, streamed)).toBe(greedyText(model, whole));
      // One partial per window but the last; each extends the one before (nothing is provisional).
      expect(partials.length).toBe(Math.ceil(frames / (chunkMs / 20)) - 1);
      for (let i = 1; i < partials.length; i++) expect(partials[i]!.startsWith(partials[i - 1]!)).toBe(true);
    },
  );

  it("gives every stream of a batched pass the log-probs and states it gets alone", async () => {
    const model = streaming[precision];
    const dim = model.spec.features.dim;
    const cacheAware = model.spec.cacheAware!;
    const streams = await Promise.all(
      fixtureItems()
        .slice(0, 4)
        .map(async (item) => {
          const { frames, data } = computeFbank(
            new FbankExtractor(model.spec.features),
            pcm16ToFloat32(await fixturePcm(item.file)),
          );
          return bufferOf(data, frames, dim);
        }),
    );
    const alone = new DynamicBatcher({ model, maxBatch: 1, maxWaitMs: 0, logger: silentLogger });
    // Each stream's first window alone gives it a state; its second window, alone and in one batch, each
    // from its own copy of that state (a pass writes the next state over the one it read).
    const second: ChunkRequest[] = [];
    const secondAlone: ChunkRequest[] = [];
    const afterFirst: StateValue[][] = [];
    for (const buffer of streams) {
      const state = initialStates(cacheAware);
      await alone.runBatch([{ frames: buffer, from: 0, to: 24, weight: 1, state }]);
      afterFirst.push(state.map((v) => v.slice()));
      second.push({ frames: buffer, from: 24, to: 48, weight: 1, state });
      secondAlone.push({ frames: buffer, from: 24, to: 48, weight: 1, state: state.map((v) => v.slice()) });
    }
    const batched = await new DynamicBatcher({
      model,
      maxBatch: 8,
      maxWaitMs: 0,
      logger: silentLogger,
    }).runBatch(second);
    for (const [i, request] of secondAlone.entries()) {
      const [single] = await alone.runBatch([request]);
      expect(batched[i]!.frames).toBe(12);
      expect(maxDiff(batched[i]!.logProbs, single!.logProbs)).toBeLessThanOrEqual(1e-5);
      second[i]!.state!.forEach((value, s) => {
        const reference = request.state![s]!;
        if (value instanceof BigInt64Array) {
          expect(Array.from(value).join()).toBe(Array.from(reference as BigInt64Array).join());
        } else {
          expect(maxDiff(value, reference as Float32Array)).toBeLessThanOrEqual(1e-5);
          // The pass did move the state on.
          expect(maxDiff(value, afterFirst[i]![s] as Float32Array)).toBeGreaterThan(0);
        }
      });
    }
  });

  it("carries a state given by a pass of two streams into the next pass of one", async () => {
    const model = streaming[precision];
    const cacheAware = model.spec.cacheAware!;
    const extractor = new FbankExtractor(model.spec.features);
    const audio = await Promise.all(
      fixtureItems()
        .slice(0, 2)
        .map(async (item) => {
          const stream = new FeatureStream(extractor, { computeFrames: false });
          stream.accept(pcm16ToFloat32(await fixturePcm(item.file)));
          stream.finish();
          return stream;
        }),
    );
    const window = (k: number, w: number, state: StateValue[]): ChunkRequest => ({
      audio: audio[k]!,
      from: 24 * w,
      to: 24 * w + 24,
      validTo: 24 * w + 24,
      weight: 1,
      state,
    });
    const batcher = new DynamicBatcher({ model, maxBatch: 8, maxWaitMs: 0, logger: silentLogger });
    // The second stream's first window in a pass of two (its next state is a part of that pass's output),
    // then its second window alone; against both windows alone.
    const shared = [initialStates(cacheAware), initialStates(cacheAware)];
    await batcher.runBatch([window(0, 0, shared[0]!), window(1, 0, shared[1]!)]);
    const [afterShared] = await batcher.runBatch([window(1, 1, shared[1]!)]);
    const alone = initialStates(cacheAware);
    await batcher.runBatch([window(1, 0, alone)]);
    const [afterAlone] = await batcher.runBatch([window(1, 1, alone)]);
    expect(afterShared!.frames).toBe(12);
    expect(maxDiff(afterShared!.logProbs, afterAlone!.logProbs)).toBeLessThanOrEqual(1e-5);
  });

  it("gives a batch from its audio the log-probs and states of the same windows from the extractor's features", async () => {
    const model = streaming[precision];
    expect(model.takesSamples).toBe(true);
    const extractor = new FbankExtractor(model.spec.features);
    const cacheAware = model.spec.cacheAware!;
    // For each of four prompts, its first window and its last (part-)window, whose end frames reflect
    // the end of the audio: once from features computed as the audio arrived, once from the audio.
    const fromFeatures: ChunkRequest[] = [];
    const fromAudio: ChunkRequest[] = [];
    for (const item of fixtureItems().slice(0, 4)) {
      const samples = pcm16ToFloat32(await fixturePcm(item.file));
      const computed = new FeatureStream(extractor);
      const kept = new FeatureStream(extractor, { computeFrames: false });
      for (const stream of [computed, kept]) {
        stream.accept(samples);
        stream.finish();
      }
      const frames = kept.framesReady;
      const last = Math.floor((frames - 7) / 2) * 2;
      for (const [from, validTo] of [
        [0, 24],
        [last, frames],
      ] as const) {
        const window = { from, to: from + 24, validTo, weight: 1 };
        fromFeatures.push({ ...window, frames: computed.frames, state: initialStates(cacheAware) });
        fromAudio.push({ ...window, audio: kept, state: initialStates(cacheAware) });
      }
    }
    const batcher = new DynamicBatcher({ model, maxBatch: 8, maxWaitMs: 0, logger: silentLogger });
    const want = await batcher.runBatch(fromFeatures);
    const got = await batcher.runBatch(fromAudio);
    const vocab = model.spec.vocabulary.tokens.length;
    let frames = 0;
    let sameBest = 0;
    for (const [i, result] of got.entries()) {
      expect(result.frames).toBe(want[i]!.frames);
      if (precision === "fp32") {
        expect(maxDiff(result.logProbs, want[i]!.logProbs)).toBeLessThanOrEqual(1e-4);
        fromAudio[i]!.state!.forEach((value, s) => {
          const reference = fromFeatures[i]!.state![s]!;
          if (value instanceof BigInt64Array)
            expect(Array.from(value).join()).toBe(Array.from(reference as BigInt64Array).join());
          else expect(maxDiff(value, reference as Float32Array)).toBeLessThanOrEqual(1e-4);
        });
      }
      for (let t = 0; t < result.frames; t++, frames++) {
        const best = (p: Float32Array) => {
          let at = 0;
          for (let v = 1; v < vocab; v++) if (p[t * vocab + v]! > p[t * vocab + at]!) at = v;
          return at;
        };
        if (best(result.logProbs) === best(want[i]!.logProbs)) sameBest++;
      }
    }
    // The most likely token of every output frame is the same, in int8 too.
    expect(frames).toBeGreaterThan(0);
    expect(sameBest).toBe(frames);
  });

  it("the fp32 streaming graph gives the whole-utterance graph's log-probs (within 1e-4, scaled)", async () => {
    const samples = pcm16ToFloat32(await fixturePcm(fixtureItems()[0]!.file));
    const a = await wholePass(streaming.fp32, samples);
    const b = await wholePass(offline.fp32, samples);
    expect(maxDiff(a, b)).toBeLessThanOrEqual(1e-4);
  });
});

describe("a recognition stream", () => {
  it.each(["streaming", "offline"] as const)(
    "with the %s graph, emits partials then a final whose log-probs equal a whole pass over the utterance's audio",
    async (graph) => {
      const model = graph === "streaming" ? streaming.fp32 : offline.fp32;
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
        // Greedy: the finals are compared with the greedy transcript of a whole pass (the LM search has its own test).
        const stream = engine.openStream({ sampleRate: 8000, interimResults: true, decoder: "greedy" });
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
    },
  );
});
