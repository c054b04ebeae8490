import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ffmpegAvailable,
  ffmpegRoundTrip,
  fixtureDir,
  sha256,
  speechSignal,
  synthSignal,
} from "../../../../test/fixtures/ingest/media/g722-vectors.ts";
import { G722Decoder, G722Encoder } from "./g722.ts";

const index = JSON.parse(readFileSync(join(fixtureDir, "g722-vectors.json"), "utf8")) as Record<
  string,
  { samples: number; decodedSha256: string }
>;
const bitstream = (name: string) => new Uint8Array(readFileSync(join(fixtureDir, `${name}.g722`)));

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe("G.722 against ffmpeg's committed vectors", () => {
  it("encodes the synthetic signal to ffmpeg's bitstream, octet for octet", () => {
    const ours = new G722Encoder().encode(synthSignal());
    expect(ours.length).toBe(8000);
    expect(firstDifference(ours, bitstream("synth"))).toBe(-1);
  });

  it.each(["synth", "speech"])("decodes ffmpeg's %s bitstream to ffmpeg's samples", async (name) => {
    const decoded = new G722Decoder().decode(bitstream(name));
    expect(decoded.length).toBe(index[name]!.samples);
    expect(await sha256(decoded)).toBe(index[name]!.decodedSha256);
  });

  it("gives the same samples whether a bitstream is decoded whole or in 20 ms packets", () => {
    const bytes = bitstream("speech");
    const whole = new G722Decoder().decode(bytes);
    const decoder = new G722Decoder();
    const out = new Int16Array(bytes.length * 2);
    for (let i = 0; i < bytes.length; i += 160)
      decoder.decodeInto(bytes.subarray(i, i + 160), out.subarray(i * 2));
    expect(firstDifference(out, whole)).toBe(-1);
  });

  it("carries an odd sample over to the next call, and flush() repeats a last odd one as ffmpeg does", () => {
    const pcm = synthSignal(1001);
    const split = new G722Encoder();
    const parts = [split.encode(pcm.subarray(0, 333)), split.encode(pcm.subarray(333)), split.flush()];
    const joined = Uint8Array.from(parts.flatMap((p) => [...p]));
    const whole = new G722Encoder();
    const direct = Uint8Array.from([...whole.encode(pcm), ...whole.flush()]);
    expect(joined.length).toBe(501);
    expect(firstDifference(joined, direct)).toBe(-1);
  });

  it("decodes what it encodes to audio close to the input (a codec sanity check on two tones)", () => {
    const pcm = new Int16Array(16000);
    for (let i = 0; i < pcm.length; i++) {
      pcm[i] = Math.round(
        6000 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 3000 * Math.sin((2 * Math.PI * 1900 * i) / 16000),
      );
    }
    const decoded = new G722Decoder().decode(new G722Encoder().encode(pcm));
    // The QMF pair delays the signal by 22 samples; compare the aligned signals' energy ratio.
    let signal = 0;
    let error = 0;
    for (let i = 22; i < pcm.length; i++) {
      signal += pcm[i - 22]! ** 2;
      error += (pcm[i - 22]! - decoded[i]!) ** 2;
    }
    expect(10 * Math.log10(signal / error)).toBeGreaterThan(20);
  });
});

// Regenerates the references with the ffmpeg on this machine, so the test also checks against the
// tool itself (and notices if the committed vectors no longer match it).
describe.runIf(ffmpegAvailable())("G.722 against ffmpeg run now", () => {
  const inputs: [string, Int16Array | undefined][] = [
    ["synth", synthSignal()],
    ["speech", speechSignal()],
  ];
  it.each(inputs)("matches ffmpeg's encoder and decoder on the %s signal", async (name, pcm) => {
    if (!pcm) throw new Error(`no ${name} input: install asterisk-core-sounds-en-wav`);
    const reference = ffmpegRoundTrip(pcm);
    const ours = new G722Encoder().encode(pcm);
    expect(firstDifference(ours, reference.bitstream)).toBe(-1);
    const decoded = new G722Decoder().decode(reference.bitstream);
    expect(firstDifference(decoded, reference.decoded)).toBe(-1);
    expect(firstDifference(reference.bitstream, bitstream(name))).toBe(-1);
    expect(await sha256(reference.decoded)).toBe(index[name]!.decodedSha256);
  });
});
