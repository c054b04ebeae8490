import { describe, expect, it } from "vitest";
import { EnergyGate } from "./energy-gate.ts";

const tone = (dbfs: number, length = 512): Float32Array => {
  // A sine's mean power is amplitude²/2.
  const amplitude = Math.sqrt(2 * 10 ** (dbfs / 10));
  return Float32Array.from({ length }, (_, i) => amplitude * Math.sin(i * 0.7));
};

describe("EnergyGate", () => {
  it("calls digital silence and signals below the floor quiet, and nothing at or above it", () => {
    const gate = new EnergyGate(-60);
    expect(gate.isQuiet(new Float32Array(512))).toBe(true);
    expect(gate.isQuiet(tone(-70))).toBe(true);
    expect(gate.isQuiet(tone(-61))).toBe(true);
    expect(gate.isQuiet(tone(-59))).toBe(false);
    expect(gate.isQuiet(tone(-20))).toBe(false);
  });

  it("lets every window through when disabled", () => {
    const gate = new EnergyGate(null);
    expect(gate.isQuiet(new Float32Array(512))).toBe(false);
  });
});
