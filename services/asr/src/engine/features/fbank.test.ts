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

describe("FeatureStream keeping samples for the inference thread", () => {
  /**
   * Streams `samples` without computing frames and, every `window` frames as they become ready (the rest
   * after finish), copies each window's samples and computes it with computeFrames into [dim, frames].
   * Returns frame-major features to compare with computeFbank.
   */
  function windowed(extractor: FbankExtractor, samples: Float32Array, chunk: number, window: number) {
    const { dim, frameShift, frameLength } = extractor.config;
    const stream = new FeatureStream(extractor, { computeFrames: false });
    const out = new Float32Array(frameCount(extractor.config, samples.length) * dim);
    const scratch = new Float32Array((window - 1) * frameShift + frameLength);
    const layout = new Float32Array(dim * window);
    let position = 0;
    const take = (to: number) => {
      const frames = to - position;
      stream.copyFrameSamples(position, to, scratch, 0);
      extractor.computeFrames(scratch, 0, frames, layout, 0, window);
      for (let t = 0; t < frames; t++)
        for (let d = 0; d < dim; d++) out[(position + t) * dim + d] = layout[d * window + t]!;
      position = to;
      stream.discardBefore(position);
    };
    for (let offset = 0; offset < samples.length; offset += chunk) {
      stream.accept(samples.subarray(offset, Math.min(samples.length, offset + chunk)));
      while (stream.framesReady - position >= window) take(position + window);
    }
    stream.finish();
    while (position < stream.framesReady) take(Math.min(stream.framesReady, position + window));
    expect(stream.frames.end).toBe(0);
    return out;
  }

  it.each([
    ["centred frames", config, 8000 * 3 + 37, 160, 24],
    ["centred frames, one sample at a time", config, 2000 + 11, 1, 7],
    ["snipped edges", { ...config, snipEdges: true }, 8000 * 2 + 5, 333, 24],
    ["DC offset removed", { ...config, removeDcOffset: true }, 8000 + 91, 160, 16],
    ["a signal shorter than a frame", config, 150, 160, 24],
  ])("gives exactly the whole-signal features: %s", (_name, cfg, length, chunk, window) => {
    const extractor = new FbankExtractor(cfg);
    const audio = noise(length, 7);
    const whole = computeFbank(extractor, audio);
    expect(whole.frames).toBeGreaterThan(0);
    const out = windowed(extractor, audio, chunk, window);
    expect(out).toEqual(whole.data);
  });

  it("refuses frames it no longer keeps or does not have yet", () => {
    const extractor = new FbankExtractor(config);
    const stream = new FeatureStream(extractor, { computeFrames: false });
    stream.accept(noise(8000));
    const dest = new Float32Array(8000);
    stream.discardBefore(40);
    expect(() => stream.copyFrameSamples(39, 50, dest, 0)).toThrow(RangeError);
    expect(() => stream.copyFrameSamples(40, stream.framesReady + 1, dest, 0)).toThrow(RangeError);
    expect(() => new FeatureStream(extractor).copyFrameSamples(0, 1, dest, 0)).toThrow(/computes frames/);
  });
});
