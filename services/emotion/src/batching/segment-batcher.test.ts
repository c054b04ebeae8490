import { ResourceExhaustedError } from "@callscribe/errors";
import { describe, expect, it } from "vitest";
import { createProsodyModel } from "../model/prosody-model.ts";
import { ProsodyManifest } from "../model/manifest.ts";
import { readFileSync } from "node:fs";
import { SegmentBatcher } from "./segment-batcher.ts";

const manifest = ProsodyManifest.parse(
  JSON.parse(
    readFileSync(new URL("../../../../models/emotion-prosody/manifest.json", import.meta.url), "utf8"),
  ),
);
const segment = () =>
  Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 150 * i) / 16000));

describe("SegmentBatcher", () => {
  it("batches segments of concurrent requests up to maxBatch and answers each its own", async () => {
    const model = createProsodyModel(manifest);
    const batches: number[] = [];
    const batcher = new SegmentBatcher(
      model,
      { maxBatch: 4, maxWaitMs: 50, maxQueued: 100 },
      { batch: (size) => batches.push(size) },
    );
    const results = await Promise.all(
      Array.from({ length: 6 }, () => batcher.submit({ samples: segment(), speaker: model.newSpeaker() })),
    );
    expect(batches).toEqual([4, 2]);
    expect(results).toHaveLength(6);
    for (const r of results) expect(r.scores.reduce((a, s) => a + s.score, 0)).toBeCloseTo(1, 6);
  });

  it("refuses beyond maxQueued with RESOURCE_EXHAUSTED, and after drain()", async () => {
    const model = createProsodyModel(manifest);
    const batcher = new SegmentBatcher(model, { maxBatch: 8, maxWaitMs: 50, maxQueued: 2 });
    const accepted = [1, 2].map(() => batcher.submit({ samples: segment(), speaker: model.newSpeaker() }));
    await expect(batcher.submit({ samples: segment(), speaker: model.newSpeaker() })).rejects.toBeInstanceOf(
      ResourceExhaustedError,
    );
    await Promise.all(accepted);
    await batcher.drain();
    await expect(batcher.submit({ samples: segment(), speaker: model.newSpeaker() })).rejects.toThrow(
      /shutting down/,
    );
  });
});
