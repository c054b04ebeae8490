import type { ChunkResult } from "../batching/batcher.ts";
import {
  cacheAwareWindow,
  initialStates,
  type CacheAwareSpec,
  type StateValue,
} from "../model/acoustic-model.ts";
import { UtteranceRecognition } from "./utterance-base.ts";
import type { UtteranceOptions } from "./utterance.ts";

/**
 * Recognition of one utterance with a cache-aware streaming graph. The audio is cut into windows of
 * `chunk` new frames (plus the graph's look-ahead); each window goes to the batcher with the state the
 * previous one returned, and every output frame it gives is final, so it goes straight to the CTC decoder.
 * Each frame passes through the model once, whatever the chunk size. The last window holds only the real
 * frames (zero-padded to whole output frames, or to the window a fixed-window graph needs) and only their
 * outputs are kept; chained windows from zero states equal one pass over the whole utterance. When no output
 * frame reads input past its own frames (look-ahead 0 and a right receptive field inside one output frame),
 * the last window is zero-padded to the full window instead: its real frames' outputs are the same, and a
 * window of the common length shares a batched pass with other streams' windows rather than running alone.
 */
export class CachedUtteranceRecognizer extends UtteranceRecognition {
  readonly #spec: CacheAwareSpec;
  readonly #sub: number;
  readonly #chunk: number;
  readonly #window: number;
  /** Whether the last window is padded to the full window (see the class comment). */
  readonly #padLastWindow: boolean;
  /** The graph's state after the last window answered; each pass replaces its values. */
  readonly #state: StateValue[];
  /** First input frame of the next window. */
  #position = 0;
  #inFlight = false;

  constructor(options: UtteranceOptions) {
    super(options);
    const cacheAware = options.spec.cacheAware;
    if (!cacheAware) throw new TypeError("CachedUtteranceRecognizer needs a cache-aware model");
    this.#spec = cacheAware;
    this.#sub = options.spec.subsampling;
    const { chunk, window } = cacheAwareWindow(options.spec, options.chunkFrames);
    this.#chunk = chunk;
    this.#window = window;
    const field = options.spec.receptiveField;
    this.#padLastWindow =
      cacheAware.windowFrames !== null ||
      (cacheAware.lookaheadFrames === 0 && field !== null && field.right < this.#sub);
    this.#state = initialStates(cacheAware);
  }

  /** Whole windows of features not yet sent to the model. */
  get backlogChunks(): number {
    if (this.done) return 0;
    const ahead = this.features.framesReady - this.#position - (this.#inFlight ? this.#chunk : 0);
    return Math.max(0, Math.floor((ahead - this.#spec.lookaheadFrames) / this.#chunk));
  }

  /** Input frames the model has not answered for yet (queued or in flight). */
  get backlogFrames(): number {
    if (this.done) return 0;
    return Math.max(0, this.features.framesReady - this.#position);
  }

  protected pump(): void {
    if (this.#inFlight || this.done || this.failure) return;
    const available = this.features.framesReady;
    if (available - this.#position >= this.#window) {
      this.#submit(available);
      return;
    }
    if (!this.finishing) return;
    // The end: the frames left (fewer than a window) make whole output frames, or nothing is left.
    if (Math.floor((available - this.#position) / this.#sub) > 0) this.#submit(available);
    else this.complete();
  }

  #submit(available: number): void {
    const from = this.#position;
    const validTo = Math.min(from + this.#window, available);
    // Otherwise the last window is only as long as its real frames need.
    const to = this.#padLastWindow
      ? from + this.#window
      : Math.min(from + this.#window, from + roundUp(validTo - from, this.#sub) + this.#spec.lookaheadFrames);
    // Output frames this window answers for: all of its chunk, or at the end those of the real frames.
    const keep = Math.floor(Math.min(this.#chunk, validTo - from) / this.#sub);
    this.#inFlight = true;
    const source = this.features.computesFrames ? { frames: this.features.frames } : { audio: this.features };
    this.sink.submit({ ...source, from, to, validTo, weight: 1, state: this.#state }).then(
      (result) => {
        this.#inFlight = false;
        try {
          this.#accept(result, from, keep);
        } catch (err) {
          this.fail(err);
          return;
        }
        this.pump();
        this.onProgress?.();
      },
      (err: unknown) => {
        this.#inFlight = false;
        this.fail(err);
      },
    );
  }

  #accept(result: ChunkResult, from: number, keep: number): void {
    const { vocab } = result;
    const rows = Math.min(keep, result.frames);
    const firstOut = from / this.#sub;
    for (let row = 0; row < rows; row++) {
      this.noteConfidence(firstOut + row, result.logProbs, row, vocab);
      this.commitRow(result.logProbs, row, vocab);
    }
    this.#position = from + this.#chunk;
    this.features.discardBefore(Math.min(this.#position, this.features.framesReady));
    if (this.finishing && this.#position >= this.features.framesReady) {
      this.complete();
      return;
    }
    if (this.onPartial && !this.finishing) {
      this.onPartial({
        tokens: this.decoder.peek(result.logProbs, rows * vocab, 0),
        frameConfidence: this.frameConfidence,
        frames: firstOut + rows,
      });
    }
  }
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}
