import { describe, expect, it } from "vitest";
import { FbankExtractor, FeatureStream, computeFbank, frameCount } from "./fbank.ts";
import { telephoneFbank } from "../test-support/telephone-fbank.ts";

const config = telephoneFbank;

function noise(length: number, seed = 1): Float32Array {
  const x = new Float32Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1664525 + 1013904223) % 2 ** 32;
    x[i] = (s / 2 ** 32 - 0.5) * 0.2 + 0.1 * Math.sin(i / 7);
  }
  return x;
}

function streamed(
  extractor: FbankExtractor,
  samples: Float32Array,
  chunk: (i: number) => number,
): Float32Array {
  const stream = new FeatureStream(extractor);
  for (let offset = 0, i = 0; offset < samples.length; i++) {
    const size = Math.min(chunk(i), samples.length - offset);
    stream.accept(samples.subarray(offset, offset + size));
    offset += size;
  }
  stream.finish();
  const { frames } = stream;
  const out = new Float32Array((frames.end - frames.start) * frames.dim);
  for (let f = frames.start; f < frames.end; f++)
    out.set(frames.data.subarray(frames.offsetOf(f), frames.offsetOf(f) + frames.dim), f * frames.dim);
  return out;
}

describe("frameCount", () => {
  it("counts Kaldi frames with and without snip_edges", () => {
    expect(frameCount(config, 8000)).toBe(100);
    expect(frameCount(config, 39)).toBe(0);
    expect(frameCount(config, 40)).toBe(1);
    expect(frameCount({ ...config, snipEdges: true }, 8000)).toBe(98);
    expect(frameCount({ ...config, snipEdges: true }, 199)).toBe(0);
  });
});

describe("FeatureStream", () => {
  const extractor = new FbankExtractor(config);
  const audio = noise(8000 * 3 + 37);
  const whole = computeFbank(extractor, audio);

  it.each([
    ["1 sample", () => 1],
    ["20 ms packets", () => 160],
    ["odd sizes", (i: number) => 1 + ((i * 97) % 613)],
    ["one block", () => 1_000_000],
  ])("equals the whole-signal features when fed %s at a time", (_name, chunk) => {
    const out = streamed(extractor, audio, chunk);
    expect(out.length).toBe(whole.data.length);
    let maxDiff = 0;
    for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i]! - whole.data[i]!));
    expect(maxDiff).toBe(0);
  });

  it("emits a frame only once all its samples have arrived, and the edge frames at finish", () => {
    const stream = new FeatureStream(extractor);
    expect(stream.accept(audio.subarray(0, 139))).toBe(0);
    expect(stream.accept(audio.subarray(139, 140))).toBe(1); // frame 0 covers samples -60..139
    expect(stream.accept(audio.subarray(140, 800))).toBe(8);
    expect(stream.finish()).toBe(frameCount(config, 800) - 9);
  });

  it("floors silence at the log floor", () => {
    const { data } = computeFbank(extractor, new Float32Array(800));
    expect(data[0]).toBeCloseTo(Math.log(config.logFloor), 6);
  });
});
