import { describe, expect, it } from "vitest";
import { AudioFormatError } from "./errors.ts";
import {
  deinterleave,
  float32ToPcm16,
  interleave,
  mixToMono,
  pcm16FromBytes,
  pcm16ToBytes,
  pcm16ToFloat32,
} from "./pcm.ts";

function reasonOf(action: () => unknown): string {
  try {
    action();
  } catch (err) {
    if (err instanceof AudioFormatError) return err.reason;
    throw err;
  }
  throw new Error("expected an AudioFormatError, nothing was thrown");
}

describe("PCM16 bytes", () => {
  it("reads little-endian samples", () => {
    const samples = pcm16FromBytes(Uint8Array.of(0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f));
    expect(Array.from(samples)).toEqual([1, -1, -32768, 32767]);
  });

  it("writes little-endian samples that read back the same", () => {
    const samples = Int16Array.of(0, 1, -1, 258, -32768, 32767);
    const bytes = pcm16ToBytes(samples);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 1, 0, 0xff, 0xff, 0x02, 0x01]);
    expect(pcm16FromBytes(bytes)).toEqual(samples);
  });

  it("reads from a view into a larger buffer", () => {
    const backing = Uint8Array.of(9, 0x34, 0x12, 9);
    expect(Array.from(pcm16FromBytes(backing.subarray(1, 3)))).toEqual([0x1234]);
  });

  it("rejects an odd byte count with reason odd-byte-count", () => {
    expect(reasonOf(() => pcm16FromBytes(new Uint8Array(3)))).toBe("odd-byte-count");
  });
});

describe("PCM16 and float", () => {
  it("round-trips every 16-bit value through float", () => {
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    expect(float32ToPcm16(pcm16ToFloat32(all))).toEqual(all);
  });

  it("scales full scale to -1 and rounds to the nearest step", () => {
    expect(Array.from(pcm16ToFloat32(Int16Array.of(-32768, 16384)))).toEqual([-1, 0.5]);
    const steps = float32ToPcm16(Float32Array.of(0.4 / 32768, 0.6 / 32768, -0.6 / 32768));
    expect(Array.from(steps)).toEqual([0, 1, -1]);
  });

  it("clips out-of-range floats and turns NaN into silence", () => {
    const clipped = float32ToPcm16(Float32Array.of(1, 1.5, -1, -7, Number.NaN, Number.POSITIVE_INFINITY));
    expect(Array.from(clipped)).toEqual([32767, 32767, -32768, -32768, 0, 32767]);
  });

  it("writes into a preallocated output", () => {
    const output = new Float32Array(3);
    expect(pcm16ToFloat32(Int16Array.of(16384), output)).toBe(output);
    expect(() => float32ToPcm16(new Float32Array(4), new Int16Array(3))).toThrow(RangeError);
  });
});

describe("channels", () => {
  it("deinterleaves frames into one array per channel and back", () => {
    const interleaved = Int16Array.of(1, -1, 2, -2, 3, -3);
    const [left, right] = deinterleave(interleaved, 2);
    expect(Array.from(left!)).toEqual([1, 2, 3]);
    expect(Array.from(right!)).toEqual([-1, -2, -3]);
    expect(interleave([left!, right!])).toEqual(interleaved);
  });

  it("rejects an incomplete last frame", () => {
    expect(reasonOf(() => deinterleave(new Int16Array(5), 2))).toBe("bad-block-align");
    expect(reasonOf(() => deinterleave(new Int16Array(4), 0))).toBe("bad-channel-count");
  });

  it("mixes channels to mono by averaging", () => {
    const mono = mixToMono([Int16Array.of(100, 32767, -32768), Int16Array.of(200, 32767, -32767)]);
    expect(Array.from(mono)).toEqual([150, 32767, -32767]);
  });

  it("refuses channels of different lengths", () => {
    expect(reasonOf(() => interleave([new Int16Array(3), new Int16Array(2)]))).toBe(
      "channel-length-mismatch",
    );
    expect(reasonOf(() => mixToMono([]))).toBe("bad-channel-count");
  });
});
