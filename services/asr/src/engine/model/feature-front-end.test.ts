import { describe, expect, it } from "vitest";
import { FbankExtractor, type FbankConfig } from "../features/fbank.ts";
import { telephoneFbank } from "../test-support/telephone-fbank.ts";
import {
  FRAME_MASK_INPUT,
  SAMPLES_INPUT,
  featureFrontEndModel,
  withFeatureFrontEnd,
} from "./feature-front-end.ts";
import { encodeMessage, messageField, stringField, varintField } from "./protobuf-wire.ts";
import { ort } from "@callscribe/onnx";

/** A model that passes its input "features" [N, 80, T] through as "out", at `opset`. */
function identityModel(opset: number): Uint8Array {
  const value = (name: string) => [
    stringField(1, name),
    messageField(2, [
      messageField(1, [
        varintField(1, 1n),
        messageField(2, [
          messageField(1, [stringField(2, "N")]),
          messageField(1, [varintField(1, 80n)]),
          messageField(1, [stringField(2, "T")]),
        ]),
      ]),
    ]),
  ];
  const graph = [
    messageField(1, [
      stringField(1, "features"),
      stringField(2, "out"),
      stringField(3, "pass"),
      stringField(4, "Identity"),
    ]),
    stringField(2, "identity"),
    messageField(11, value("features")),
    messageField(12, value("out")),
  ];
  return encodeMessage([
    varintField(1, 8n),
    messageField(8, [varintField(2, BigInt(opset))]),
    messageField(7, graph),
  ]);
}

/** Speech-like test audio: a gliding tone with a slow envelope, over low noise. */
function signal(length: number, seed = 7): Float32Array {
  const x = new Float32Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1664525 + 1013904223) % 2 ** 32;
    const envelope = 0.5 + 0.5 * Math.sin(i / 900);
    x[i] = 0.4 * envelope * Math.sin(i * (0.05 + i * 2e-6)) + (s / 2 ** 32 - 0.5) * 0.01;
  }
  return x;
}

/** The extractor's features of `frames` frames read end to end from each item's samples, [batch, dim, frames]. */
function extracted(
  config: FbankConfig,
  samples: Float32Array,
  perItem: number,
  batch: number,
  valid: number[],
) {
  const extractor = new FbankExtractor(config);
  const frames = (perItem - config.frameLength) / config.frameShift + 1;
  const out = new Float32Array(batch * config.dim * frames);
  for (let b = 0; b < batch; b++)
    extractor.computeFrames(samples, b * perItem, valid[b]!, out, b * config.dim * frames, frames);
  return out;
}

async function frontEndFeatures(
  config: FbankConfig,
  samples: Float32Array,
  perItem: number,
  batch: number,
  valid: number[],
) {
  const session = await ort.InferenceSession.create(featureFrontEndModel(config));
  const frames = (perItem - config.frameLength) / config.frameShift + 1;
  const mask = new Float32Array(batch * frames);
  for (let b = 0; b < batch; b++) mask.fill(1, b * frames, b * frames + valid[b]!);
  const out = await session.run({
    [SAMPLES_INPUT]: new ort.Tensor("float32", samples, [batch, 1, perItem]),
    [FRAME_MASK_INPUT]: new ort.Tensor("float32", mask, [batch, 1, frames]),
  });
  await session.release();
  return { dims: out.features!.dims, data: out.features!.data as Float32Array };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe("the feature front end", () => {
  const frames = 24;
  const perItem = (frames - 1) * telephoneFbank.frameShift + telephoneFbank.frameLength;

  it("computes the extractor's log-mel features in onnxruntime within 1e-4, zeros past each item's valid frames", async () => {
    const batch = 3;
    const samples = signal(batch * perItem);
    const valid = [frames, 17, 1];
    const { dims, data } = await frontEndFeatures(telephoneFbank, samples, perItem, batch, valid);
    expect(dims).toEqual([batch, telephoneFbank.dim, frames]);
    const want = extracted(telephoneFbank, samples, perItem, batch, valid);
    expect(maxAbsDiff(data, want)).toBeLessThan(1e-4);
    // Item 1's frame 17 and on are padding.
    const at = (b: number, d: number, t: number) => data[(b * telephoneFbank.dim + d) * frames + t]!;
    expect(Math.abs(at(1, 5, 17))).toBe(0);
    expect(at(1, 5, 16)).not.toBe(0);
  });

  it("follows settings with DC removal, a Hamming window, no pre-emphasis and PCM16-scaled samples", async () => {
    const config: FbankConfig = {
      ...telephoneFbank,
      removeDcOffset: true,
      window: "hamming",
      preemphasis: 0,
      sampleScale: 32768,
      melScale: "htk",
      melNorm: "none",
    };
    const samples = signal(2 * perItem, 3);
    const { data } = await frontEndFeatures(config, samples, perItem, 2, [frames, frames]);
    expect(maxAbsDiff(data, extracted(config, samples, perItem, 2, [frames, frames]))).toBeLessThan(1e-4);
  });

  it("takes the place of a model's feature input, and refuses models it cannot front", async () => {
    const fronted = withFeatureFrontEnd(identityModel(13), "features", telephoneFbank);
    expect(fronted).not.toBeNull();
    const session = await ort.InferenceSession.create(fronted!);
    expect([...session.inputNames].sort()).toEqual([FRAME_MASK_INPUT, SAMPLES_INPUT]);
    const samples = signal(perItem);
    const out = await session.run({
      [SAMPLES_INPUT]: new ort.Tensor("float32", samples, [1, 1, perItem]),
      [FRAME_MASK_INPUT]: new ort.Tensor("float32", new Float32Array(frames).fill(1), [1, 1, frames]),
    });
    await session.release();
    const want = extracted(telephoneFbank, samples, perItem, 1, [frames]);
    expect(maxAbsDiff(out.out!.data as Float32Array, want)).toBeLessThan(1e-4);
    expect(withFeatureFrontEnd(identityModel(13), "no_such_input", telephoneFbank)).toBeNull();
    expect(withFeatureFrontEnd(identityModel(7), "features", telephoneFbank)).toBeNull();
    // A graph that already uses the front end's names is left alone.
    expect(withFeatureFrontEnd(fronted!, "features", telephoneFbank)).toBeNull();
  });
});
