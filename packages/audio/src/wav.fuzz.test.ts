import { describe, expect, it } from "vitest";
import { AudioFormatError, type AudioFormatReason } from "./errors.ts";
import { encodeAlaw } from "./g711.ts";
import { encodeWav, parseWav } from "./wav.ts";

const CASES = 20_000;
const SEED = 0x5eed_ca11;

/** mulberry32: small, fast and seeded, so a failing case can be replayed from its number. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function header(format: number, channels: number, bits: number, extensible: boolean): Uint8Array {
  const bytes = new Uint8Array(extensible ? 68 : 44);
  const view = new DataView(bytes.buffer);
  const blockAlign = (channels * bits) / 8;
  const fmtSize = extensible ? 40 : 16;
  bytes.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  view.setUint32(4, bytes.length - 8, true);
  bytes.set([0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74, 0x20], 8); // WAVEfmt
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, extensible ? 0xfffe : format, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, 8000, true);
  view.setUint32(28, 8000 * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bits, true);
  if (extensible) {
    view.setUint16(36, 22, true);
    bytes.set([format, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71], 44);
  }
  bytes.set([0x64, 0x61, 0x74, 0x61], 20 + fmtSize); // data; size left 0 for the mutator to find
  return bytes;
}

function seedFiles(random: () => number): Uint8Array[] {
  const noise = (length: number) => Uint8Array.from({ length }, () => Math.floor(random() * 256));
  const withData = (head: Uint8Array, data: Uint8Array) => {
    const bytes = new Uint8Array(head.length + data.length);
    bytes.set(head);
    bytes.set(data, head.length);
    new DataView(bytes.buffer).setUint32(head.length - 4, data.length, true);
    return bytes;
  };
  return [
    encodeWav([Int16Array.from({ length: 40 }, (_, i) => i * 97)], 8000),
    encodeWav([new Int16Array(12), Int16Array.from({ length: 12 }, (_, i) => -i)], 16000),
    withData(header(1, 1, 8, false), noise(32)),
    withData(header(1, 2, 24, false), noise(48)),
    withData(header(3, 1, 32, false), noise(32)),
    withData(header(3, 1, 64, true), noise(32)),
    withData(header(6, 1, 8, false), encodeAlaw(Int16Array.from({ length: 20 }, (_, i) => i * 1500))),
    withData(header(7, 2, 8, true), noise(20)),
    withData(header(1, 8, 32, true), noise(64)),
  ];
}

const INTERESTING_SIZES = [
  0, 1, 2, 3, 15, 16, 17, 39, 40, 0x7fff0000, 0x7ffff000, 0x7fffffff, 0x80000000, 0xffffffff,
];

function mutant(random: () => number, seeds: Uint8Array[]): Uint8Array {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const bytes = pick(seeds).slice();
  const view = new DataView(bytes.buffer);
  switch (Math.floor(random() * 6)) {
    case 0: // flip a few bytes anywhere
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      return bytes;
    case 1: // set a header field (size, rate, channels, block align) to an edge value
      view.setUint32(4 * Math.floor(random() * 11), pick(INTERESTING_SIZES), true);
      return bytes;
    case 2: // 16-bit header fields: format, channels, block align, bits
      view.setUint16(
        2 * (10 + Math.floor(random() * 8)),
        pick([0, 1, 2, 3, 6, 7, 8, 9, 24, 0xfffe, 0xffff]),
        true,
      );
      return bytes;
    case 3: // cut anywhere
      return bytes.subarray(0, Math.floor(random() * bytes.length));
    case 4: // random chunks after a valid RIFF/WAVE header
      return Uint8Array.from({ length: 12 + Math.floor(random() * 120) }, (_, i) =>
        i < 12 ? bytes[i]! : Math.floor(random() * 256),
      );
    default: // noise
      return Uint8Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256));
  }
}

const KNOWN_REASONS = new Set<AudioFormatReason>([
  "truncated",
  "bad-header",
  "unsupported-encoding",
  "bad-sample-rate",
  "bad-channel-count",
  "bad-block-align",
]);

describe("parseWav on damaged input", () => {
  it(`throws nothing but AudioFormatError with a WAV reason for ${CASES} mutated files`, () => {
    const random = randomSource(SEED);
    const seeds = seedFiles(random);
    const outcomes = new Map<string, number>();
    for (let n = 0; n < CASES; n++) {
      const input = mutant(random, seeds);
      let outcome = "parsed";
      try {
        const audio = parseWav(input);
        const frames = audio.samples[0]?.length;
        if (audio.samples.length !== audio.channels || audio.samples.some((c) => c.length !== frames)) {
          throw new Error(`case ${n}: channels of unequal length`);
        }
      } catch (err) {
        if (!(err instanceof AudioFormatError) || !KNOWN_REASONS.has(err.reason) || err.message === "") {
          throw new Error(
            `case ${n} (seed ${SEED}) threw ${String(err)} for ${Buffer.from(input).toString("hex")}`,
            {
              cause: err,
            },
          );
        }
        outcome = err.reason;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // The mutations must reach both the decoders and every kind of rejection, or the test proves little.
    expect([...outcomes.keys()].sort()).toEqual([...KNOWN_REASONS, "parsed"].sort());
  });
});
