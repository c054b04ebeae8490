import { describe, expect, it } from "vitest";
import { formatText, formatTimestamp, type FileTranscript } from "./format.ts";

describe("formatTimestamp", () => {
  it("writes minutes, seconds and centiseconds, and hours past the hour", () => {
    expect(formatTimestamp(1200)).toBe("00:01.20");
    expect(formatTimestamp(63_404)).toBe("01:03.40");
    expect(formatTimestamp(3_723_450)).toBe("1:02:03.45");
  });
});

describe("formatText", () => {
  it("interleaves the legs by start time", () => {
    const utterance = (startMs: number, endMs: number, text: string) => ({
      seq: 0,
      startMs,
      endMs,
      text,
      confidence: 1,
      words: [],
    });
    const transcript: FileTranscript = {
      file: "call.wav",
      durationMs: 5000,
      sampleRate: 8000,
      channels: 2,
      model: { name: "m", version: "1", precision: "int8" },
      legs: [
        {
          leg: "caller",
          channel: 0,
          utterances: [utterance(1200, 3400, "hello"), utterance(4000, 4500, "bye")],
        },
        { leg: "agent", channel: 1, utterances: [utterance(3500, 3900, "hi")] },
      ],
    };
    expect(formatText(transcript)).toBe(
      "[00:01.20-00:03.40] caller: hello\n[00:03.50-00:03.90] agent: hi\n[00:04.00-00:04.50] caller: bye\n",
    );
  });
});
