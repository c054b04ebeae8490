import { describe, expect, it } from "vitest";
import { UtteranceEndpointer, defaultEndpointerConfig, type EndpointEvent } from "./endpointer.ts";

// 32 ms windows (256 samples at 8 kHz): 200 ms of speech is 7 windows, 600 ms of silence 19.
const config = { ...defaultEndpointerConfig, windowMs: 32 };

function run(
  endpointer: UtteranceEndpointer,
  probabilities: number[],
): Array<EndpointEvent & { at: number }> {
  const events: Array<EndpointEvent & { at: number }> = [];
  for (const p of probabilities) {
    const at = endpointer.windows;
    for (const e of endpointer.push(p)) events.push({ ...e, at });
  }
  return events;
}

const speech = (n: number): number[] => Array<number>(n).fill(0.9);
const silence = (n: number): number[] => Array<number>(n).fill(0.05);

describe("UtteranceEndpointer", () => {
  it("opens after minSpeech with pre-roll and closes after the trailing silence, keeping a pad", () => {
    const e = new UtteranceEndpointer(config);
    const events = run(e, [...silence(20), ...speech(30), ...silence(25)]);
    // Onset at window 20; 7 windows of speech confirm it at window 26; pre-roll 300 ms = 10 windows.
    expect(events[0]).toEqual({ kind: "start", window: 10, at: 26 });
    // Silence from window 50; 19 windows later (window 68) the utterance ends 200 ms (7 windows) after speech.
    expect(events[1]).toEqual({ kind: "end", window: 57, forced: false, at: 68 });
    expect(events).toHaveLength(2);
  });

  it("ignores speech shorter than minSpeech", () => {
    const e = new UtteranceEndpointer(config);
    expect(run(e, [...silence(5), ...speech(6), ...silence(30)])).toEqual([]);
  });

  it("keeps an utterance through pauses shorter than the trailing silence", () => {
    const e = new UtteranceEndpointer(config);
    const events = run(e, [...speech(10), ...silence(15), ...speech(10), ...silence(30)]);
    expect(events.map((x) => x.kind)).toEqual(["start", "end"]);
    expect(events[1]!.window).toBe(35 + 7);
  });

  it("uses hysteresis: probabilities between the thresholds neither start a silence nor end one", () => {
    const e = new UtteranceEndpointer(config);
    const events = run(e, [...speech(10), ...Array<number>(40).fill(0.4), ...silence(30)]);
    expect(events.map((x) => x.kind)).toEqual(["start", "end"]);
    expect(events[1]!.window).toBe(50 + 7);
  });

  it("force-cuts at maxUtteranceMs and goes on with the next utterance at the cut", () => {
    const e = new UtteranceEndpointer({ ...config, maxUtteranceMs: 3200 }); // 100 windows
    const events = run(e, speech(250));
    expect(events).toEqual([
      { kind: "start", window: 0, at: 6 },
      { kind: "end", window: 100, forced: true, at: 99 },
      { kind: "start", window: 100, at: 99 },
      { kind: "end", window: 200, forced: true, at: 199 },
      { kind: "start", window: 200, at: 199 },
    ]);
    expect(e.finish()).toEqual([{ kind: "end", window: 250, forced: false }]);
  });

  it("never reaches back into the previous utterance with its pre-roll", () => {
    // A 600 ms pre-roll would reach 19 windows back from the onset at window 29, past the end at 17.
    const e = new UtteranceEndpointer({ ...config, prerollMs: 600 });
    const events = run(e, [...speech(10), ...silence(19), ...speech(10)]);
    const end = events.find((x) => x.kind === "end")!;
    const second = events.filter((x) => x.kind === "start")[1]!;
    expect(end.window).toBe(17);
    expect(second.window).toBe(17);
  });

  it("at the end of the audio closes the open utterance at its committed end", () => {
    const e = new UtteranceEndpointer(config);
    run(e, [...speech(20), ...silence(10)]);
    expect(e.committedEnd).toBe(27);
    expect(e.finish()).toEqual([{ kind: "end", window: 27, forced: false }]);
  });
});
