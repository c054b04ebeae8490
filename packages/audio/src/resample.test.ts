import { describe, expect, it } from "vitest";
import { AudioFormatError } from "./errors.ts";
import { StreamingResampler, resample } from "./resample.ts";

function tone(frequency: number, sampleRate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: Math.round(sampleRate * seconds) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate),
  );
}

/** RMS of the middle of a signal, away from the ramps the zero padding causes at both ends. */
function middleRms(signal: Float32Array): number {
  const middle = signal.subarray(Math.floor(signal.length / 4), Math.floor((3 * signal.length) / 4));
  return Math.sqrt(middle.reduce((sum, x) => sum + x * x, 0) / middle.length);
}

const decibels = (ratio: number) => 20 * Math.log10(ratio);

/**
 * Magnitude spectrum of `size` samples from the middle of a signal, Blackman-Harris windowed (sidelobes
 * near -92 dB), by the Goertzel recurrence at bins from `fromHz` to `toHz`.
 */
function spectrum(signal: Float32Array, sampleRate: number, size: number, fromHz: number, toHz: number) {
  const start = Math.floor((signal.length - size) / 2);
  const windowed = Float64Array.from({ length: size }, (_, i) => {
    const x = (2 * Math.PI * i) / (size - 1);
    const window = 0.35875 - 0.48829 * Math.cos(x) + 0.14128 * Math.cos(2 * x) - 0.01168 * Math.cos(3 * x);
    return signal[start + i]! * window;
  });
  const bins: { hz: number; magnitude: number }[] = [];
  const binHz = sampleRate / size;
  for (let bin = Math.ceil(fromHz / binHz); bin * binHz <= toHz && bin <= size / 2; bin++) {
    const coefficient = 2 * Math.cos((2 * Math.PI * bin) / size);
    let previous = 0;
    let beforePrevious = 0;
    for (const x of windowed) {
      const current = x + coefficient * previous - beforePrevious;
      beforePrevious = previous;
      previous = current;
    }
    const power =
      previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
    bins.push({ hz: bin * binHz, magnitude: Math.sqrt(Math.max(0, power)) });
  }
  return bins;
}

const strongest = (bins: { hz: number; magnitude: number }[]) =>
  bins.reduce((best, bin) => (bin.magnitude > best.magnitude ? bin : best));

function chunked(
  resampler: StreamingResampler,
  input: Float32Array | Int16Array,
  sizes: number[],
): Float32Array {
  const parts: Float32Array[] = [];
  for (let offset = 0, i = 0; offset < input.length; i++) {
    const size = sizes[i % sizes.length]!;
    parts.push(resampler.push(input.subarray(offset, offset + size)));
    offset += size;
  }
  parts.push(resampler.flush());
  const output = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}

describe("resample 8 kHz to 16 kHz", () => {
  const input = tone(1000, 8000, 1);
  const output = resample(input, 8000, 16000);

  it("doubles the sample count", () => {
    expect(output.length).toBe(16000);
  });

  it("keeps a 1 kHz tone's level within 0.5 dB", () => {
    expect(Math.abs(decibels(middleRms(output) / middleRms(input)))).toBeLessThan(0.5);
  });

  it("puts nothing above 4 kHz higher than -50 dB below the tone", () => {
    const peak = strongest(spectrum(output, 16000, 8192, 900, 1100));
    expect(peak.hz).toBeCloseTo(1000, -1);
    const above = strongest(spectrum(output, 16000, 8192, 4000, 8000));
    expect(decibels(above.magnitude / peak.magnitude)).toBeLessThan(-50);
  });
});

describe("resample 8 kHz to 16 kHz and back", () => {
  const input = tone(1000, 8000, 1);
  const roundTrip = resample(resample(input, 8000, 16000), 16000, 8000);

  it("returns as many samples as it started with", () => {
    expect(roundTrip.length).toBe(input.length);
  });

  it("keeps a 1 kHz tone at 1 kHz", () => {
    const peak = strongest(spectrum(roundTrip, 8000, 4000, 0, 4000));
    expect(peak.hz).toBe(1000);
    for (const neighbour of spectrum(roundTrip, 8000, 4000, 900, 1100)) {
      if (Math.abs(neighbour.hz - 1000) >= 20) {
        expect(decibels(neighbour.magnitude / peak.magnitude)).toBeLessThan(-60);
      }
    }
  });

  it("keeps its level within 0.5 dB and its waveform in the passband", () => {
    expect(Math.abs(decibels(middleRms(roundTrip) / middleRms(input)))).toBeLessThan(0.5);
    const error = roundTrip.map((x, i) => x - input[i]!);
    expect(decibels(middleRms(error) / middleRms(input))).toBeLessThan(-60);
  });
});

describe("resample files users bring", () => {
  it.each([
    { fromRate: 44100, toRate: 8000, alias: 6000 },
    { fromRate: 48000, toRate: 16000, alias: 10000 },
    { fromRate: 16000, toRate: 8000, alias: 5000 },
  ])("$fromRate Hz to $toRate Hz keeps 1 kHz and removes $alias Hz", ({ fromRate, toRate, alias }) => {
    const speech = resample(tone(1000, fromRate, 0.5), fromRate, toRate);
    expect(speech.length).toBe(Math.ceil((0.5 * fromRate * toRate) / fromRate));
    expect(Math.abs(decibels(middleRms(speech) / (0.5 / Math.SQRT2)))).toBeLessThan(0.5);
    // Above the new Nyquist frequency it would fold back to an audible tone; the filter must remove it.
    const folded = resample(tone(alias, fromRate, 0.5), fromRate, toRate);
    expect(decibels(middleRms(folded) / (0.5 / Math.SQRT2))).toBeLessThan(-50);
  });

  it("passes a constant level through unchanged", () => {
    const level = resample(new Float32Array(4410).fill(0.25), 44100, 8000);
    for (const x of level.subarray(200, 600)) expect(x).toBeCloseTo(0.25, 5);
  });

  it("reads Int16 input as PCM16 and copies the signal when the rates are equal", () => {
    expect(Array.from(resample(Int16Array.of(16384, -32768, 0), 8000, 8000))).toEqual([0.5, -1, 0]);
  });

  it("refuses impossible rates and ratios it cannot hold", () => {
    const reasonFor = (fromRate: number, toRate: number) => {
      try {
        resample(new Float32Array(10), fromRate, toRate);
      } catch (err) {
        return err instanceof AudioFormatError ? err.reason : String(err);
      }
      return "accepted";
    };
    expect(reasonFor(0, 8000)).toBe("bad-sample-rate");
    expect(reasonFor(8000, 8000.5)).toBe("bad-sample-rate");
    expect(reasonFor(384_001, 8000)).toBe("bad-sample-rate");
    expect(reasonFor(383_999, 384_000)).toBe("unsupported-ratio");
  });
});

describe("StreamingResampler", () => {
  const speechLike = Int16Array.from({ length: 4000 }, (_, i) =>
    Math.round(12000 * Math.sin(i / 3) + 8000 * Math.sin(i / 17) + ((i * 7919) % 2001) - 1000),
  );

  it.each([
    [8000, 16000],
    [16000, 8000],
    [44100, 8000],
    [48000, 16000],
    [8000, 8000],
  ])("from %i Hz to %i Hz equals the one-shot result, whatever the chunk sizes", (fromRate, toRate) => {
    const oneShot = resample(speechLike, fromRate, toRate);
    const resampler = new StreamingResampler(fromRate, toRate);
    for (const sizes of [[160], [1, 0, 7, 320], [4000], [33, 1000, 2]]) {
      expect(chunked(resampler, speechLike, sizes)).toEqual(oneShot);
    }
  });

  it("emits output as input arrives, holding back only the filter's reach", () => {
    const resampler = new StreamingResampler(8000, 16000);
    let emitted = 0;
    for (let i = 0; i < 10; i++) emitted += resampler.push(new Float32Array(160)).length;
    expect(emitted).toBeGreaterThan(2 * 1600 - 2 * 64);
    expect(emitted + resampler.flush().length).toBe(3200);
  });
});
