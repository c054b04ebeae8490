import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GrpcStatus,
  InvalidArgumentError,
  ResourceExhaustedError,
  FailedPreconditionError,
} from "@callscribe/errors";
import {
  createRecognizerEngine,
  loadAsrModel,
  loadVad,
  type AsrModel,
  type VadModel,
} from "../../../services/asr/src/engine/index.ts";
import type { SileroVad } from "../../../services/asr/src/engine/vad/silero.ts";
import { fixtureItems, fixturePcm, modelDir, silentLogger } from "./support.ts";

let model: AsrModel;
let vad: VadModel;
let speech: Int16Array;

beforeAll(async () => {
  model = await loadAsrModel({ dir: modelDir, provider: "cpu", precision: "fp32", logger: silentLogger });
  vad = await loadVad({ provider: "cpu", logger: silentLogger });
  // About 10 s of real speech: the held-out prompts back to back.
  const parts = await Promise.all(fixtureItems().map((i) => fixturePcm(i.file)));
  speech = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    speech.set(p, at);
    at += p.length;
  }
});

afterAll(async () => {
  await model?.close();
  await vad?.close();
});

const options = { maxBatch: 32, maxWaitMs: 10, maxStreams: 2, maxQueuedChunks: 1000, chunkMs: 240 };

describe("recognizer capacity", () => {
  it("refuses a stream beyond maxStreams with RESOURCE_EXHAUSTED and takes one again when a slot frees", async () => {
    const engine = createRecognizerEngine({ model, vad, logger: silentLogger, options });
    try {
      const a = engine.openStream({ sampleRate: 8000, interimResults: false });
      engine.openStream({ sampleRate: 16000, interimResults: true });
      let refused: unknown;
      try {
        engine.openStream({ sampleRate: 8000, interimResults: false });
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(ResourceExhaustedError);
      expect((refused as ResourceExhaustedError).grpcCode).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect((refused as Error).message).toMatch(/maxStreams 2/);
      expect(engine.stats().openStreams).toBe(2);
      a.cancel();
      expect(engine.stats().openStreams).toBe(1);
      expect(() => engine.openStream({ sampleRate: 8000, interimResults: false })).not.toThrow();
    } finally {
      await engine.close();
    }
  });

  it("refuses new streams while the queued chunks are at maxQueuedChunks", async () => {
    // A long batching wait lets work pile up behind one stream's request.
    const engine = createRecognizerEngine({
      model,
      vad,
      logger: silentLogger,
      options: { ...options, maxStreams: 10, maxQueuedChunks: 8, maxBatch: 64, maxWaitMs: 60_000 },
    });
    try {
      const busy = engine.openStream({ sampleRate: 8000, interimResults: true });
      busy.pushAudio(speech);
      for (let i = 0; i < 2000 && engine.stats().queuedChunks < 8; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect(engine.stats().queuedChunks).toBeGreaterThanOrEqual(8);
      expect(() => engine.openStream({ sampleRate: 8000, interimResults: true })).toThrow(
        ResourceExhaustedError,
      );
      expect(() => engine.openStream({ sampleRate: 8000, interimResults: true })).toThrow(
        /chunks are waiting for the model \(maxQueuedChunks 8\)/,
      );
      // The backlog was that stream's: once it is gone, streams are welcome again.
      busy.cancel();
      expect(engine.stats().queuedChunks).toBeLessThan(8);
      expect(() => engine.openStream({ sampleRate: 8000, interimResults: true })).not.toThrow();
    } finally {
      await engine.close();
    }
  });

  it("reports batch sizes, forward latency, queued chunks and refusals as Prometheus metrics", async () => {
    const registry = new Registry();
    const engine = createRecognizerEngine({
      model,
      vad,
      logger: silentLogger,
      registry,
      options: { ...options, maxStreams: 1 },
    });
    try {
      await engine.recognize(speech, { sampleRate: 8000 });
      engine.openStream({ sampleRate: 8000, interimResults: false });
      expect(() => engine.openStream({ sampleRate: 8000, interimResults: false })).toThrow(
        ResourceExhaustedError,
      );
      const text = await registry.metrics();
      expect(text).toMatch(new RegExp(`asr_engine_batch_size_count ${engine.stats().batches}\\b`));
      expect(text).toMatch(/asr_engine_forward_seconds_count [1-9]/);
      expect(text).toMatch(/asr_engine_vad_batch_size_count [1-9]/);
      expect(text).toMatch(/asr_engine_queued_chunks 0/);
      expect(text).toMatch(/asr_engine_open_streams 1/);
      expect(text).toMatch(/asr_engine_refused_streams_total\{reason="max_streams"\} 1/);
    } finally {
      await engine.close();
    }
  });

  it("puts at most vadMaxBatch streams' windows into one Silero pass", async () => {
    const silero = vad as SileroVad;
    const batchesWith = async (vadMaxBatch: number | undefined): Promise<number[]> => {
      const engine = createRecognizerEngine({
        model,
        vad,
        logger: silentLogger,
        options: { ...options, maxStreams: 4, vadEnergyFloorDbfs: null, vadMaxBatch },
      });
      silero.recordedBatches = [];
      try {
        await Promise.all(
          [0, 1, 2, 3].map(() => engine.recognize(speech.subarray(0, 8000 * 2), { sampleRate: 8000 })),
        );
        return silero.recordedBatches;
      } finally {
        silero.recordedBatches = null;
        await engine.close();
      }
    };
    // Four streams fed at once share Silero passes by default, and do not when the bound is 1.
    expect(Math.max(...(await batchesWith(undefined)))).toBe(4);
    const single = await batchesWith(1);
    expect(single.length).toBeGreaterThanOrEqual(4 * 31);
    expect(new Set(single)).toEqual(new Set([1]));
    expect(Math.max(...(await batchesWith(3)))).toBe(3);
    expect(() =>
      createRecognizerEngine({ model, vad, logger: silentLogger, options: { ...options, vadMaxBatch: 0 } }),
    ).toThrow(/vadMaxBatch 0 must be at least 1/);
  });

  it("refuses audio from a stream whose backlog passed maxStreamBacklogMs", async () => {
    const engine = createRecognizerEngine({
      model,
      vad,
      logger: silentLogger,
      options: { ...options, maxStreamBacklogMs: 2000 },
    });
    try {
      const stream = engine.openStream({ sampleRate: 8000, interimResults: false });
      stream.pushAudio(speech.subarray(0, 8000 * 3));
      expect(() => stream.pushAudio(speech.subarray(0, 160))).toThrow(ResourceExhaustedError);
    } finally {
      await engine.close();
    }
  });

  it("answers bad requests with INVALID_ARGUMENT or FAILED_PRECONDITION naming the problem", async () => {
    const engine = createRecognizerEngine({ model, vad, logger: silentLogger, options });
    try {
      expect(() => engine.openStream({ sampleRate: 44100 as 8000, interimResults: false })).toThrow(
        /sample rate 44100 Hz is not supported/,
      );
      expect(() =>
        engine.openStream({
          sampleRate: 8000,
          interimResults: false,
          hotwords: [{ phrase: "refund", boost: 0 }],
        }),
      ).toThrow(InvalidArgumentError);
      expect(() =>
        engine.openStream({ sampleRate: 8000, interimResults: false, endpointing: { maxUtteranceMs: 10 } }),
      ).toThrow(/endpointing\.maxUtteranceMs 10/);
      expect(engine.stats().openStreams).toBe(0);
      const stream = engine.openStream({ sampleRate: 8000, interimResults: false });
      expect(() => stream.pushAudio(new Float32Array(10) as unknown as Int16Array)).toThrow(
        InvalidArgumentError,
      );
      await stream.finish();
      expect(() => stream.pushAudio(new Int16Array(10))).toThrow(FailedPreconditionError);
      await expect(
        engine.recognize(new Uint8Array(4) as unknown as Int16Array, { sampleRate: 8000 }),
      ).rejects.toThrow(InvalidArgumentError);
    } finally {
      await engine.close();
    }
  });
});
