import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FrameBuffer } from "../features/fbank.ts";
import { ToyCtcModel } from "../test-support/toy-model.ts";
import { DynamicBatcher, type ChunkRequest, type ChunkResult } from "./batcher.ts";

const logger = pino({ level: "silent" });
const DIM = 8;

function chunk(frames: number, seed: number, weight = 1): ChunkRequest {
  const buffer = new FrameBuffer(DIM, 4);
  for (let t = 0; t < frames; t++) {
    const at = buffer.appendFrame();
    for (let d = 0; d < DIM; d++) buffer.data[at + d] = Math.sin(seed * 13 + t * 0.7 + d);
  }
  return { frames: buffer, from: 0, to: frames, weight };
}

/** Each result equals the one its chunk gets in a pass of its own. */
async function expectEachAsAlone(requests: ChunkRequest[], results: ChunkResult[]): Promise<void> {
  const alone = new DynamicBatcher({ model: new ToyCtcModel(DIM, 5, 3), maxBatch: 1, maxWaitMs: 0, logger });
  for (const [i, request] of requests.entries()) {
    const [single] = await alone.runBatch([request]);
    expect(results[i]!.frames).toBe(Math.floor((request.to - request.from) / 2));
    expect(Array.from(results[i]!.logProbs)).toEqual(Array.from(single!.logProbs));
  }
}

describe("DynamicBatcher", () => {
  it("pads a batch to its longest chunk and scatters results equal to running each chunk alone", async () => {
    const model = new ToyCtcModel(DIM, 5, 3);
    const batched = new DynamicBatcher({ model, maxBatch: 8, maxWaitMs: 5, logger });
    const requests = [chunk(40, 1), chunk(17, 2), chunk(64, 3), chunk(9, 4)];
    const together = await batched.runBatch(requests);
    expect(model.calls).toEqual([{ batch: 4, frames: 64 }]);
    await expectEachAsAlone(requests, together);
  });

  it("runs as soon as maxBatch chunks wait, and the rest after maxWaitMs", async () => {
    const model = new ToyCtcModel(DIM, 5, 3);
    const batcher = new DynamicBatcher({ model, maxBatch: 2, maxWaitMs: 20, logger });
    await Promise.all([1, 2, 3, 4, 5].map((i) => batcher.submit(chunk(10, i))));
    expect(model.calls.map((c) => c.batch)).toEqual([2, 2, 1]);
    expect(batcher.batches).toBe(3);
    expect(batcher.items).toBe(5);
  });

  it.each([1, 2])(
    "keeps up to %i passes in flight, as the model takes, each answered as if its chunks ran alone",
    async (concurrentPasses) => {
      const model = new ToyCtcModel(DIM, 5, 3, concurrentPasses);
      const batcher = new DynamicBatcher({ model, maxBatch: 2, maxWaitMs: 20, logger });
      // A first pass leaves its buffers for the next: passes in flight together must not share them.
      await batcher.runBatch([chunk(40, 9)]);
      const requests = [30, 31, 32, 33, 34, 35].map((frames, i) => chunk(frames, i));
      const results = await Promise.all(requests.map((r) => batcher.submit(r)));
      expect(model.calls.map((c) => c.batch)).toEqual([1, 2, 2, 2]);
      expect(model.peakInFlight).toBe(concurrentPasses);
      await expectEachAsAlone(requests, results);
    },
  );

  it("groups chunks of similar length so padding stays a small share of a batch", async () => {
    const model = new ToyCtcModel(DIM, 5, 3);
    const batcher = new DynamicBatcher({ model, maxBatch: 8, maxWaitMs: 20, logger });
    await Promise.all([10, 100, 12, 95, 11].map((frames, i) => batcher.submit(chunk(frames, i))));
    // The oldest chunk leads; the long ones would make the batch mostly padding, so they go next.
    expect(model.calls).toEqual([
      { batch: 3, frames: 12 },
      { batch: 2, frames: 100 },
    ]);
  });

  it("counts queued work in chunk units until a pass takes it", async () => {
    const model = new ToyCtcModel(DIM, 5, 3);
    const batcher = new DynamicBatcher({ model, maxBatch: 4, maxWaitMs: 1000, logger });
    const done = [batcher.submit(chunk(10, 1, 3)), batcher.submit(chunk(10, 2, 2))];
    expect(batcher.queuedChunks).toBe(5);
    const more = [batcher.submit(chunk(10, 3)), batcher.submit(chunk(10, 4))];
    // The fourth chunk filled the batch: it left the queue at once.
    expect(batcher.queuedChunks).toBe(0);
    await Promise.all([...done, ...more]);
    expect(model.calls).toEqual([{ batch: 4, frames: 10 }]);
  });

  it("rejects queued chunks when closed", async () => {
    const batcher = new DynamicBatcher({
      model: new ToyCtcModel(DIM, 5, 3),
      maxBatch: 4,
      maxWaitMs: 1000,
      logger,
    });
    const pending = batcher.submit(chunk(10, 1));
    batcher.close();
    await expect(pending).rejects.toThrow(/closing/);
    await expect(batcher.submit(chunk(10, 2))).rejects.toThrow(/closed/);
  });
});
