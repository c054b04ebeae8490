import { describe, expect, it } from "vitest";
import { DtmfDetector, encodeTelephoneEvent, parseTelephoneEvent } from "./dtmf.ts";

const ev = (event: number, duration: number, end = false) => ({ event, end, volume: 10, duration });

describe("telephone-event payload", () => {
  it("round-trips event, end bit, volume and duration", () => {
    const e = { event: 11, end: true, volume: 63, duration: 65535 };
    expect(parseTelephoneEvent(encodeTelephoneEvent(e))).toEqual(e);
    expect(parseTelephoneEvent(Uint8Array.of(1, 2, 3))).toBeUndefined();
  });
});

describe("DtmfDetector", () => {
  it("reports one digit per key press, ignoring the repeated end packets", () => {
    const d = new DtmfDetector(8000);
    const digits = [
      ...d.push(1000, ev(5, 160)),
      ...d.push(1000, ev(5, 320)),
      ...d.push(1000, ev(5, 800, true)),
      ...d.push(1000, ev(5, 800, true)),
      ...d.push(1000, ev(5, 800, true)),
      ...d.push(9000, ev(11, 160)),
      ...d.push(9000, ev(11, 400, true)),
      ...d.push(9000, ev(11, 400, true)),
    ];
    expect(digits).toEqual([
      { digit: "5", timestamp: 1000, durationMs: 100, endMissing: false },
      { digit: "#", timestamp: 9000, durationMs: 50, endMissing: false },
    ]);
  });

  it("closes an event whose end packets were all lost when the next one starts, and at flush", () => {
    const d = new DtmfDetector(8000);
    expect(d.push(1000, ev(1, 160))).toEqual([]);
    expect(d.push(1000, ev(1, 480))).toEqual([]);
    expect(d.push(5000, ev(2, 160, true))).toEqual([
      { digit: "1", timestamp: 1000, durationMs: 60, endMissing: true },
      { digit: "2", timestamp: 5000, durationMs: 20, endMissing: false },
    ]);
    expect(d.push(7000, ev(0, 80))).toEqual([]);
    expect(d.flush()).toEqual({ digit: "0", timestamp: 7000, durationMs: 10, endMissing: true });
    expect(d.flush()).toBeUndefined();
  });

  it("maps 10-15 to * # A B C D and ignores events that are not digits", () => {
    const d = new DtmfDetector(8000);
    const got = [10, 12, 13, 14, 15].flatMap((e, i) => d.push(i * 1000, ev(e, 80, true)).map((x) => x.digit));
    expect(got).toEqual(["*", "A", "B", "C", "D"]);
    expect(d.push(99, ev(16, 80, true))).toEqual([]);
    expect(d.nonDigitEvents).toBe(1);
  });
});
