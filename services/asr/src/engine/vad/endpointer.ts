/**
 * Turns per-window speech probabilities into utterances. Pure logic: windows are counted from 0, an
 * utterance is the window range [start, end).
 *
 * - Onset: a window at or above `threshold` opens a candidate; it becomes an utterance once speech has
 *   lasted `minSpeechMs` without dropping below `negThreshold` (hysteresis). The utterance starts
 *   `prerollMs` before the onset so the first phoneme is not clipped.
 * - Trailing silence: below `negThreshold` starts a silence; back at `threshold` cancels it; a silence
 *   of `trailingSilenceMs` ends the utterance `trailingPadMs` after the last speech.
 * - `maxUtteranceMs` force-cuts an utterance; if speech goes on, the next one starts at the cut.
 */
export interface EndpointerConfig {
  windowMs: number;
  threshold: number;
  negThreshold: number;
  minSpeechMs: number;
  trailingSilenceMs: number;
  maxUtteranceMs: number;
  prerollMs: number;
  trailingPadMs: number;
}

export const defaultEndpointerConfig = {
  threshold: 0.5,
  negThreshold: 0.35,
  minSpeechMs: 200,
  trailingSilenceMs: 600,
  maxUtteranceMs: 20_000,
  prerollMs: 300,
  trailingPadMs: 200,
} as const;

export type EndpointEvent =
  { kind: "start"; window: number } | { kind: "end"; window: number; forced: boolean };

export class UtteranceEndpointer {
  readonly config: EndpointerConfig;
  readonly #minSpeech: number;
  readonly #trailing: number;
  readonly #maxLength: number;
  readonly #preroll: number;
  readonly #pad: number;
  /** Windows seen so far. */
  #windows = 0;
  #candidate = -1;
  #start = -1;
  #silenceStart = -1;
  /** End of the previous utterance: the next pre-roll never reaches back into it. */
  #lastEnd = 0;

  constructor(config: EndpointerConfig) {
    this.config = config;
    const windows = (ms: number): number => Math.max(0, Math.ceil(ms / config.windowMs - 1e-9));
    this.#minSpeech = Math.max(1, windows(config.minSpeechMs));
    this.#trailing = Math.max(1, windows(config.trailingSilenceMs));
    this.#maxLength = Math.max(this.#minSpeech + 1, Math.floor(config.maxUtteranceMs / config.windowMs));
    this.#preroll = windows(config.prerollMs);
    this.#pad = Math.min(windows(config.trailingPadMs), this.#trailing);
  }

  get windows(): number {
    return this.#windows;
  }

  get inUtterance(): boolean {
    return this.#start >= 0;
  }

  /** First window of the open utterance, or -1. */
  get utteranceStart(): number {
    return this.#start;
  }

  /** Windows before this belong to the open utterance whatever comes next. */
  get committedEnd(): number {
    if (this.#start < 0) return this.#lastEnd;
    return this.#silenceStart < 0 ? this.#windows : Math.min(this.#silenceStart + this.#pad, this.#windows);
  }

  /** Windows the caller must keep for a future pre-roll. */
  get lookbackWindows(): number {
    return this.#preroll + this.#minSpeech + 1;
  }

  push(probability: number): EndpointEvent[] {
    const w = this.#windows++;
    const { threshold, negThreshold } = this.config;
    const events: EndpointEvent[] = [];
    if (this.#start < 0) {
      if (this.#candidate < 0) {
        if (probability >= threshold) this.#candidate = w;
      } else if (probability < negThreshold) {
        this.#candidate = -1;
      }
      if (this.#candidate >= 0 && w + 1 - this.#candidate >= this.#minSpeech) {
        this.#open(Math.max(this.#lastEnd, this.#candidate - this.#preroll), events);
      }
      return events;
    }
    if (probability < negThreshold) {
      if (this.#silenceStart < 0) this.#silenceStart = w;
    } else if (probability >= threshold) {
      this.#silenceStart = -1;
    }
    if (this.#silenceStart >= 0 && w + 1 - this.#silenceStart >= this.#trailing) {
      this.#close(Math.min(this.#silenceStart + this.#pad, w + 1), false, events);
    } else if (w + 1 - this.#start >= this.#maxLength) {
      const inSpeech = this.#silenceStart < 0;
      this.#close(inSpeech ? w + 1 : Math.min(this.#silenceStart + this.#pad, w + 1), true, events);
      // The speaker goes on: the next utterance starts right at the cut, no pre-roll.
      if (inSpeech) this.#open(w + 1, events);
    }
    return events;
  }

  /** The audio has ended: closes an open utterance at its committed end. */
  finish(): EndpointEvent[] {
    const events: EndpointEvent[] = [];
    if (this.#start >= 0) this.#close(this.committedEnd, false, events);
    this.#candidate = -1;
    return events;
  }

  #open(start: number, events: EndpointEvent[]): void {
    this.#start = start;
    this.#candidate = -1;
    this.#silenceStart = -1;
    events.push({ kind: "start", window: start });
  }

  #close(end: number, forced: boolean, events: EndpointEvent[]): void {
    this.#start = -1;
    this.#silenceStart = -1;
    this.#lastEnd = end;
    events.push({ kind: "end", window: end, forced });
  }
}
