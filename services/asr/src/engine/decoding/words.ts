import type { Vocabulary } from "../model/vocabulary.ts";
import type { WordTiming } from "../types.ts";
import type { AlignedToken } from "./ctc.ts";

export interface Transcript {
  text: string;
  words: WordTiming[];
  /** Mean of the word confidences; 0 without words. */
  confidence: number;
}

/**
 * Words from CTC tokens: split at the space token, timed by the frames their tokens were emitted on
 * (frame × subsampling × hop = `frameMs`), confident as the mean best-token posterior over those frames.
 */
export function assembleTranscript(
  tokens: readonly AlignedToken[],
  vocabulary: Vocabulary,
  frameConfidence: (frame: number) => number,
  frameMs: number,
  offsetMs: number,
): Transcript {
  const words: WordTiming[] = [];
  let chars = "";
  let first = -1;
  let last = -1;
  const close = (): void => {
    if (chars.length > 0) {
      let sum = 0;
      for (let f = first; f <= last; f++) sum += frameConfidence(f);
      words.push({
        word: chars,
        startMs: offsetMs + first * frameMs,
        endMs: offsetMs + (last + 1) * frameMs,
        confidence: sum / (last - first + 1),
      });
    }
    chars = "";
    first = -1;
  };
  for (const token of tokens) {
    const surface = vocabulary.surface[token.id] ?? "";
    if (surface.trim() === "") {
      close();
      continue;
    }
    if (surface.startsWith(" ")) close();
    if (first < 0) first = token.firstFrame;
    chars += surface.trim();
    last = token.lastFrame;
  }
  close();
  const confidence = words.length > 0 ? words.reduce((sum, w) => sum + w.confidence, 0) / words.length : 0;
  return { text: words.map((w) => w.word).join(" "), words, confidence };
}
