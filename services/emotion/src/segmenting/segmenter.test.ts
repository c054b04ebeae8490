import { describe, expect, it } from "vitest";
import { EnergySegmenter, type Segment } from "./segmenter.ts";

const RATE = 16000;
const tone = (ms: number, amplitude = 0.3) =>
  Float32Array.from(
    { length: (ms * RATE) / 1000 },
    (_, i) => amplitude * Math.sin((2 * Math.PI * 200 * i) / RATE),
  );
const quiet = (ms: number) => new Float32Array((ms * RATE) / 1000);

/** Feeds `parts` in 30 ms chunks (not a multiple of the 20 ms frame) and flushes. */
function segment(parts: Float32Array[], maxSegmentMs = 30_000): Segment[] {
  const segmenter = new EnergySegmenter({ sampleRate: RATE, maxSegmentMs });
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  const out: Segment[] = [];
  for (let i = 0; i < all.length; i += 480) out.push(...segmenter.push(all.subarray(i, i + 480)));
  out.push(...segmenter.flush());
  return out;
}

describe("EnergySegmenter", () => {
  it("cuts speech at pauses, with times in stream milliseconds", () => {
    const out = segment([quiet(1000), tone(2000), quiet(1000), tone(1500), quiet(300)]);
    expect(out.map((s) => [s.startMs, s.endMs])).toEqual([
      [800, 3000],
      [3800, 5500],
    ]);
    expect(out[0]!.samples.length).toBe((2200 * RATE) / 1000);
  });

  it("never lets a segment grow past the maximum: long speech is cut into pieces", () => {
    const out = segment([tone(7000)], 3000);
    expect(out.map((s) => s.endMs - s.startMs)).toEqual([3000, 3000, 1000]);
    expect(out.map((s) => s.startMs)).toEqual([0, 3000, 6000]);
  });

  it("drops clicks shorter than the minimum speech and ignores quiet noise", () => {
    const out = segment([quiet(500), tone(100), quiet(1000), tone(2000, 0.001), quiet(500)]);
    expect(out).toEqual([]);
  });
});
