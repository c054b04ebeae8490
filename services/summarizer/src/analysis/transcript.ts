import type { Leg } from "@callscribe/db";

export type { Leg };

/** An utterance's emotion as the emotion service labels it. */
export interface EmotionLabel {
  label: string;
  scores: Record<string, number>;
  arousal: number;
  valence: number;
}

/** One final utterance of a call, the input of every analysis. Times are ms from the call's start. */
export interface TranscriptUtterance {
  leg: Leg;
  seq: number;
  startMs: number;
  endMs: number;
  text: string;
  language?: string | null;
  languageConfidence?: number | null;
  dialect?: string | null;
  dialectConfidence?: number | null;
  emotion?: EmotionLabel | null;
}

export interface CallTranscript {
  startedAt: Date;
  /** Length of the call; when unknown, the end of its last utterance. */
  durationMs: number;
  utterances: TranscriptUtterance[];
}

/** Utterances in spoken order, both legs interleaved. */
export function inSpokenOrder(utterances: readonly TranscriptUtterance[]): TranscriptUtterance[] {
  return [...utterances].sort(
    (a, b) => a.startMs - b.startMs || a.endMs - b.endMs || a.leg.localeCompare(b.leg) || a.seq - b.seq,
  );
}

/** Lower-case words (letters, digits, apostrophes) of a text. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
}
