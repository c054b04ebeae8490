import type { RecognitionResult } from "@callscribe/proto";
import type { RecognitionEvent } from "../engine/index.ts";

// uint32 fields: times are whole milliseconds from the start of the stream, never negative.
const ms = (value: number) => Math.max(0, Math.round(value));

/** One engine event as a proto RecognitionResult; words only when the client asked for them. */
export function toRecognitionResult(event: RecognitionEvent, wordTimeOffsets: boolean): RecognitionResult {
  return {
    utteranceId: event.utteranceId,
    transcript: event.text,
    isFinal: event.kind === "final",
    confidence: event.confidence,
    words: wordTimeOffsets
      ? event.words.map((w) => ({
          word: w.word,
          startMs: ms(w.startMs),
          endMs: ms(w.endMs),
          confidence: w.confidence,
        }))
      : [],
    startMs: ms(event.startMs),
    endMs: ms(event.endMs),
    language: event.language,
    dialect: event.dialect,
    endOfUtterance: event.endOfUtterance,
  };
}
