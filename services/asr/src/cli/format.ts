import type { RecognitionEvent, WordTiming } from "../engine/index.ts";

/** Leg names by channel: a stereo call recording has the caller on the left and the agent on the right. */
export const legNamesByChannelCount: Record<number, string[]> = {
  1: ["mono"],
  2: ["caller", "agent"],
};

export interface TranscribedUtterance {
  seq: number;
  startMs: number;
  endMs: number;
  text: string;
  confidence: number;
  words: WordTiming[];
}

export interface TranscribedLeg {
  leg: string;
  channel: number;
  utterances: TranscribedUtterance[];
}

export interface FileTranscript {
  file: string;
  durationMs: number;
  sampleRate: number;
  channels: number;
  model: { name: string; version: string; precision: string };
  legs: TranscribedLeg[];
}

export function toUtterances(events: RecognitionEvent[]): TranscribedUtterance[] {
  return events
    .filter((e) => e.kind === "final")
    .map((e) => ({
      seq: e.seq,
      startMs: Math.round(e.startMs),
      endMs: Math.round(e.endMs),
      text: e.text,
      confidence: e.confidence,
      words: e.words.map((w) => ({ ...w, startMs: Math.round(w.startMs), endMs: Math.round(w.endMs) })),
    }));
}

/** `mm:ss.cc`, or `h:mm:ss.cc` past an hour. */
export function formatTimestamp(ms: number): string {
  const centis = Math.max(0, Math.round(ms / 10));
  const cs = centis % 100;
  const totalSeconds = Math.floor(centis / 100);
  const s = totalSeconds % 60;
  const m = Math.floor(totalSeconds / 60) % 60;
  const h = Math.floor(totalSeconds / 3600);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${h > 0 ? `${h}:` : ""}${two(m)}:${two(s)}.${two(cs)}`;
}

/** One line per utterance, both legs interleaved by start time: `[00:01.20-00:03.40] caller: text`. */
export function formatText(transcript: FileTranscript): string {
  const lines = transcript.legs
    .flatMap((leg) => leg.utterances.map((u) => ({ leg: leg.leg, u })))
    .sort((a, b) => a.u.startMs - b.u.startMs || a.leg.localeCompare(b.leg))
    .map(({ leg, u }) => `[${formatTimestamp(u.startMs)}-${formatTimestamp(u.endMs)}] ${leg}: ${u.text}`);
  return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}
