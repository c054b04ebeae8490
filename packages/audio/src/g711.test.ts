import { describe, expect, it } from "vitest";
import { soxReference } from "./__fixtures__/sox.ts";
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from "./g711.ts";
import { pcm16FromBytes, pcm16ToBytes } from "./pcm.ts";

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, code) => code);

/** Every sample near zero, where the steps are finest, then every 7th across the range. */
function sweepSamples(): Int16Array {
  const values: number[] = [];
  for (let x = -32768; x <= 32767; x++) if (Math.abs(x) <= 1024 || x % 7 === 0) values.push(x);
  return Int16Array.from(values);
}

const RAW_PCM16 = ["-t", "raw", "-e", "signed", "-b", "16", "-r", "8000", "-c", "1"];
const rawG711 = (encoding: "mu-law" | "a-law") => [
  "-t",
  "raw",
  "-e",
  encoding,
  "-b",
  "8",
  "-r",
  "8000",
  "-c",
  "1",
];

describe("G.711 mu-law", () => {
  it("decodes the ITU-T G.711 reference codes", () => {
    const decoded = decodeMulaw(Uint8Array.of(0xff, 0x7f, 0x80, 0x00, 0xfe, 0x7e, 0xef));
    expect(Array.from(decoded)).toEqual([0, 0, 32124, -32124, 8, -8, 132]);
  });

  it("encodes silence as 0xff and full scale to the outermost codes", () => {
    const encoded = encodeMulaw(Int16Array.of(0, 32124, -32124, 32767, -32768, 8, -8));
    expect(Array.from(encoded)).toEqual([0xff, 0x80, 0x00, 0x80, 0x00, 0xfe, 0x7e]);
  });

  it("is symmetric: flipping the sign bit negates the value", () => {
    const decoded = decodeMulaw(ALL_CODES);
    for (let code = 0; code < 128; code++) expect(decoded[code]).toBe(-decoded[code | 0x80]! || 0);
  });

  it("re-encodes every decoded code to itself, except negative zero 0x7f which becomes 0xff", () => {
    const reencoded = encodeMulaw(decodeMulaw(ALL_CODES));
    const expected = ALL_CODES.map((code) => (code === 0x7f ? 0xff : code));
    expect(Array.from(reencoded)).toEqual(Array.from(expected));
  });

  it("matches sox when encoding", async () => {
    const samples = sweepSamples();
    const reference = await soxReference(
      "sweep.ul",
      ["-D", ...RAW_PCM16, "sweep.s16", ...rawG711("mu-law"), "sweep.ul"],
      {
        "sweep.s16": pcm16ToBytes(samples),
      },
    );
    expect(Array.from(encodeMulaw(samples))).toEqual(Array.from(reference));
  });

  it("matches sox when decoding every code", async () => {
    const reference = await soxReference(
      "codes-ul.s16",
      [...rawG711("mu-law"), "codes.ul", ...RAW_PCM16, "codes-ul.s16"],
      {
        "codes.ul": ALL_CODES,
      },
    );
    expect(Array.from(decodeMulaw(ALL_CODES))).toEqual(Array.from(pcm16FromBytes(reference)));
  });
});

describe("G.711 A-law", () => {
  it("decodes the ITU-T G.711 reference codes", () => {
    const decoded = decodeAlaw(Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a, 0xd4, 0x54));
    expect(Array.from(decoded)).toEqual([8, -8, 32256, -32256, 24, -24]);
  });

  it("encodes silence as 0xd5 and full scale to the outermost codes", () => {
    const encoded = encodeAlaw(Int16Array.of(0, 32256, -32256, 32767, -32768, -1));
    expect(Array.from(encoded)).toEqual([0xd5, 0xaa, 0x2a, 0xaa, 0x2a, 0xd5]);
  });

  it("is symmetric: flipping the sign bit negates the value", () => {
    const decoded = decodeAlaw(ALL_CODES);
    for (let code = 0; code < 128; code++) expect(decoded[code]).toBe(-decoded[code | 0x80]!);
  });

  it("re-encodes every decoded code to itself", () => {
    expect(Array.from(encodeAlaw(decodeAlaw(ALL_CODES)))).toEqual(Array.from(ALL_CODES));
  });

  it("matches sox when encoding", async () => {
    const samples = sweepSamples();
    const reference = await soxReference(
      "sweep.al",
      ["-D", ...RAW_PCM16, "sweep.s16", ...rawG711("a-law"), "sweep.al"],
      {
        "sweep.s16": pcm16ToBytes(samples),
      },
    );
    expect(Array.from(encodeAlaw(samples))).toEqual(Array.from(reference));
  });

  it("matches sox when decoding every code", async () => {
    const reference = await soxReference(
      "codes-al.s16",
      [...rawG711("a-law"), "codes.al", ...RAW_PCM16, "codes-al.s16"],
      {
        "codes.al": ALL_CODES,
      },
    );
    expect(Array.from(decodeAlaw(ALL_CODES))).toEqual(Array.from(pcm16FromBytes(reference)));
  });
});

describe("G.711 buffers", () => {
  it("writes into a preallocated output and returns it", () => {
    const output = new Int16Array(4);
    expect(decodeAlaw(Uint8Array.of(0xd5, 0x55), output)).toBe(output);
    expect(Array.from(output)).toEqual([8, -8, 0, 0]);
    const codes = new Uint8Array(2);
    expect(encodeMulaw(Int16Array.of(0, 32124), codes)).toBe(codes);
    expect(Array.from(codes)).toEqual([0xff, 0x80]);
  });

  it("refuses an output too small for the input", () => {
    expect(() => encodeAlaw(new Int16Array(3), new Uint8Array(2))).toThrow(RangeError);
    expect(() => decodeMulaw(new Uint8Array(3), new Int16Array(2))).toThrow(RangeError);
  });
});
