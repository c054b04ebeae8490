import { describe, expect, it } from "vitest";
import { LegAudioWindow } from "./audio-window.ts";

const ramp = (from: number, n: number) => Int16Array.from({ length: n }, (_, i) => from + i);

describe("LegAudioWindow", () => {
  it("returns an utterance's samples by leg time, across the ring's wrap", () => {
    const window = new LegAudioWindow(1000, 1); // 1000 samples
    for (let start = 0; start < 2500; start += 300) window.push(ramp(start, 300));
    expect(Array.from(window.slice(1800, 1805, 10_000)!)).toEqual([1800, 1801, 1802, 1803, 1804]);
    expect(window.slice(2000, 2700, 10_000)!.length).toBe(700);
    expect(window.slice(2000, 2700, 10_000)![0]).toBe(2000);
  });

  it("keeps only the last `maxMs` of a long utterance and only what it still holds", () => {
    const window = new LegAudioWindow(1000, 1);
    window.push(ramp(0, 1500));
    expect(Array.from(window.slice(0, 1500, 3)!)).toEqual([1497, 1498, 1499]);
    // 0-500 was overwritten: what is left starts at 500.
    expect(window.slice(0, 1500, 10_000)![0]).toBe(500);
    expect(window.slice(0, 400, 10_000)).toBeNull();
  });

  it("takes a chunk longer than the ring whole, keeping its end", () => {
    const window = new LegAudioWindow(100, 1);
    window.push(ramp(0, 250));
    expect(Array.from(window.slice(2480, 2500, 10_000)!)).toEqual([248, 249]);
  });
});
