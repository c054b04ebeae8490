import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pcm16ToFloat32 } from "@callscribe/audio";
import {
  FbankExtractor,
  FeatureStream,
  computeFbank,
  melBankFor,
} from "../../../services/asr/src/engine/features/fbank.ts";
import {
  FRAME_MASK_INPUT,
  SAMPLES_INPUT,
  featureFrontEndModel,
} from "../../../services/asr/src/engine/model/feature-front-end.ts";
import { Manifest } from "../../../services/asr/src/engine/model/manifest.ts";
import { ort } from "@callscribe/onnx";
import { resolveFeatures } from "../../../services/asr/src/engine/model/load.ts";
import { fixturePcm, fixturesDir, modelDir } from "./support.ts";

interface FeatureReference {
  wav: string;
  file: string;
  shape: [number, number];
  tolerance: number;
  melFilterbank: { file: string; shape: [number, number] };
}

const reference = JSON.parse(
  readFileSync(join(fixturesDir, "features_ref.json"), "utf8"),
) as FeatureReference;
const manifest = Manifest.parse(JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")));
const config = resolveFeatures(manifest.features, manifest.sampleRate);

function f32(file: string): Float32Array {
  const bytes = readFileSync(join(fixturesDir, file));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe("log-mel features from the manifest", () => {
  it("match the recipe's Python reference within 1e-4", async () => {
    const samples = pcm16ToFloat32(await fixturePcm(reference.wav));
    const { frames, data } = computeFbank(new FbankExtractor(config), samples);
    expect([frames, config.dim]).toEqual(reference.shape);
    expect(maxAbsDiff(data, f32(reference.file))).toBeLessThanOrEqual(Math.min(1e-4, reference.tolerance));
  });

  it("match it too when streamed in 20 ms packets", async () => {
    const samples = pcm16ToFloat32(await fixturePcm(reference.wav));
    const stream = new FeatureStream(new FbankExtractor(config));
    for (let i = 0; i < samples.length; i += 160) stream.accept(samples.subarray(i, i + 160));
    stream.finish();
    const { frames } = stream;
    expect(frames.start).toBe(0);
    const data = frames.data.subarray(0, frames.end * frames.dim);
    expect(maxAbsDiff(data, f32(reference.file))).toBeLessThanOrEqual(1e-4);
  });

  it("match it within 1e-4 when onnxruntime computes them with the feature front end", async () => {
    const samples = pcm16ToFloat32(await fixturePcm(reference.wav));
    // Every frame's samples end to end, edges reflected, as the batcher packs a window's.
    const kept = new FeatureStream(new FbankExtractor(config), { computeFrames: false });
    kept.accept(samples);
    kept.finish();
    const frames = kept.framesReady;
    const perItem = (frames - 1) * config.frameShift + config.frameLength;
    const packed = new Float32Array(perItem);
    kept.copyFrameSamples(0, frames, packed, 0);
    const session = await ort.InferenceSession.create(featureFrontEndModel(config));
    const out = await session.run({
      [SAMPLES_INPUT]: new ort.Tensor("float32", packed, [1, 1, perItem]),
      [FRAME_MASK_INPUT]: new ort.Tensor("float32", new Float32Array(frames).fill(1), [1, 1, frames]),
    });
    await session.release();
    // [1, dim, frames] to the reference's frame-major layout.
    const layout = out.features!.data as Float32Array;
    const frameMajor = new Float32Array(frames * config.dim);
    for (let t = 0; t < frames; t++)
      for (let d = 0; d < config.dim; d++) frameMajor[t * config.dim + d] = layout[d * frames + t]!;
    expect([frames, config.dim]).toEqual(reference.shape);
    expect(maxAbsDiff(frameMajor, f32(reference.file))).toBeLessThanOrEqual(1e-4);
  });

  it("use the reference mel filterbank", () => {
    const [bins, mels] = reference.melFilterbank.shape;
    const want = f32(reference.melFilterbank.file);
    const bank = melBankFor(config);
    let max = 0;
    for (let k = 0; k < bins; k++) {
      for (let b = 0; b < mels; b++) {
        const j = k - bank.first[b]!;
        const weight = j >= 0 && j < bank.weights[b]!.length ? bank.weights[b]![j]! : 0;
        max = Math.max(max, Math.abs(weight - want[k * mels + b]!));
      }
    }
    expect(max).toBeLessThan(1e-6);
  });
});
