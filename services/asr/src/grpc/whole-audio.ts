import { ResourceExhaustedError } from "@callscribe/errors";
import type { RecognitionEvent, RecognizerEngine, StreamOptions } from "../engine/index.ts";

/** Ends recognition early: the client cancelled or its deadline passed. */
export class RecognitionAbortedError extends Error {
  override readonly name = "RecognitionAbortedError";
}

const retryMs = 5;
const sliceSeconds = 1;

/**
 * Whole audio through one engine stream, like engine.recognize(), but abandoned the moment `signal`
 * aborts (a Recognize whose client cancelled or whose deadline passed frees its slot at once).
 * Audio goes in one-second slices; a slice the stream's full backlog refuses is pushed again once
 * the engine has caught up, so memory stays bounded whatever the length.
 */
export async function recognizeWholeAudio(
  engine: RecognizerEngine,
  pcm: Int16Array,
  options: Omit<StreamOptions, "interimResults">,
  signal: AbortSignal,
): Promise<RecognitionEvent[]> {
  const stream = engine.openStream({ ...options, interimResults: false });
  const finals: RecognitionEvent[] = [];
  stream.onEvent((event) => {
    if (event.kind === "final") finals.push(event);
  });
  const onAbort = () => stream.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const slice = options.sampleRate * sliceSeconds;
    for (let offset = 0; offset < pcm.length; offset += slice) {
      const part = pcm.subarray(offset, offset + slice);
      for (;;) {
        if (signal.aborted) throw new RecognitionAbortedError("recognition abandoned");
        try {
          stream.pushAudio(part);
          break;
        } catch (err) {
          if (!(err instanceof ResourceExhaustedError)) throw err;
          await new Promise((resolve) => setTimeout(resolve, retryMs));
        }
      }
    }
    if (signal.aborted) throw new RecognitionAbortedError("recognition abandoned");
    await stream.finish().catch((err: unknown) => {
      // A stream cancelled by the abort rejects finish(); report it as the abort.
      throw signal.aborted ? new RecognitionAbortedError("recognition abandoned", { cause: err }) : err;
    });
  } catch (err) {
    stream.cancel();
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return finals;
}
