import { describe, expect, it } from "vitest";
import { RealFft } from "./fft.ts";

function naivePower(x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      re += x[t]! * Math.cos((-2 * Math.PI * k * t) / n);
      im += x[t]! * Math.sin((-2 * Math.PI * k * t) / n);
    }
    out[k] = re * re + im * im;
  }
  return out;
}

describe("RealFft", () => {
  for (const size of [4, 8, 16, 256, 512, 1024]) {
    it(`matches a direct DFT at size ${size}`, () => {
      const fft = new RealFft(size);
      const x = new Float64Array(size);
      let seed = 7;
      for (let i = 0; i < size; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        x[i] = seed / 2 ** 30 - 1;
      }
      const out = new Float64Array(size / 2 + 1);
      fft.powerSpectrum(x, out);
      const want = naivePower(x);
      for (let k = 0; k <= size / 2; k++) expect(out[k]).toBeCloseTo(want[k]!, 6);
    });
  }

  it("puts a pure tone in its bin", () => {
    const fft = new RealFft(256);
    const x = Float64Array.from({ length: 256 }, (_, i) => Math.cos((2 * Math.PI * 10 * i) / 256));
    const out = new Float64Array(129);
    fft.powerSpectrum(x, out);
    expect(out[10]).toBeCloseTo(128 * 128, 6);
    expect(out[11]).toBeLessThan(1e-12);
  });

  it("refuses sizes that are not powers of two", () => {
    expect(() => new RealFft(200)).toThrow(/power of two/);
  });
});
