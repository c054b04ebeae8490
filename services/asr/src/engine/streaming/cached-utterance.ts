import type { ChunkResult } from "../batching/batcher.ts";
import type { CtcDecoder } from "../decoding/ctc.ts";
import { FeatureStream } from "../features/fbank.ts";
import { initialStates, type CacheAwareSpec, type StateValue } from "../model/acoustic-model.ts";
import type { ChunkSink, UtteranceOptions, UtteranceUpdate } from "./utterance.ts";

/**
 * Recognition of one utterance with a cache-aware streaming graph. The audio is cut into windows of
 * `chunk` new frames (plus the graph's look-ahead); each window goes to the batcher with the state the
 * previous one returned, and every output frame it gives is final, so it goes straight to the CTC decoder.
 * Each frame passes through the model once, whatever the chunk size. The last window is zero-padded and
 * only its real frames' outputs are kept; chained windows from zero states equal one pass over the
 * whole utterance.
 */
export class CachedUtteranceRecognizer {
  readonly features: FeatureStream;
  readonly #spec: CacheAwareSpec;
  readonly #sub: number;
  readonly #sink: ChunkSink;
  readonly #chunk: number;
  readonly #window: number;
  readonly #onPartial: UtteranceOptions["onPartial"];
  readonly #onProgress: UtteranceOptions["onProgress"];
  readonly #decoder: CtcDecoder;
  #state: readonly StateValue[];
  /** First input frame of the next window. */
  #position = 0;
  #inFlight = false;
  #finishing = false;
  #done = false;
  #failure: unknown = null;
  #confidence = new Float32Array(256);
  #waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  readonly #capture: number[] | null;
  #vocab = 0;

  constructor(options: UtteranceOptions) {
    const cacheAware = options.spec.cacheAware;
    if (!cacheAware) throw new TypeError("CachedUtteranceRecognizer needs a cache-aware model");
    this.#spec = cacheAware;
    this.#sub = options.spec.subsampling;
    this.#sink = options.sink;
    // A graph with a fixed window advances by its window minus the look-ahead; otherwise by the chunk
    // setting, rounded up to whole output frames.
    this.#chunk = cacheAware.windowFrames
      ? cacheAware.windowFrames - cacheAware.lookaheadFrames
      : Math.max(1, Math.ceil(options.chunkFrames / this.#sub)) * this.#sub;
    this.#window = this.#chunk + cacheAware.lookaheadFrames;
    this.#onPartial = options.onPartial;
    this.#onProgress = options.onProgress;
    this.#decoder = options.createDecoder();
    this.features = new FeatureStream(options.extractor);
    this.#state = initialStates(cacheAware);
    this.#capture = options.captureLogProbs ? [] : null;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Whole windows of features not yet sent to the model. */
  get backlogChunks(): number {
    if (this.#done) return 0;
    const ahead = this.features.frames.end - this.#position - (this.#inFlight ? this.#chunk : 0);
    return Math.max(0, Math.floor((ahead - this.#spec.lookaheadFrames) / this.#chunk));
  }

  /** Input frames the model has not answered for yet (queued or in flight). */
  get backlogFrames(): number {
    if (this.#done) return 0;
    return Math.max(0, this.features.frames.end - this.#position);
  }

  capturedLogProbs(): { data: Float32Array; frames: number; vocab: number } {
    const data = Float32Array.from(this.#capture ?? []);
    return { data, frames: this.#vocab ? data.length / this.#vocab : 0, vocab: this.#vocab };
  }

  acceptSamples(samples: Float32Array): void {
    if (this.#finishing) throw new Error("CachedUtteranceRecognizer.acceptSamples after finish");
    if (this.features.accept(samples) > 0) this.#pump();
  }

  finish(): Promise<void> {
    if (!this.#finishing) {
      this.#finishing = true;
      this.features.finish();
      this.#pump();
    }
    if (this.#done) return this.#failure ? Promise.reject(this.#failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  result(): UtteranceUpdate {
    return {
      tokens: this.#decoder.result(),
      frameConfidence: (f) => this.#confidence[f] ?? 0,
      frames: this.#decoder.frames,
    };
  }

  #pump(): void {
    if (this.#inFlight || this.#done || this.#failure) return;
    const available = this.features.frames.end;
    if (available - this.#position >= this.#window) {
      this.#submit(available);
      return;
    }
    if (!this.#finishing) return;
    // The end: the frames left (fewer than a window) make whole output frames, or nothing is left.
    if (Math.floor((available - this.#position) / this.#sub) > 0) this.#submit(available);
    else this.#complete();
  }

  #submit(available: number): void {
    const from = this.#position;
    const validTo = Math.min(from + this.#window, available);
    // A graph with a free window length takes the last window only as long as its real frames need.
    const to = this.#spec.windowFrames
      ? from + this.#window
      : Math.min(from + this.#window, roundUp(validTo - from, this.#sub) + from + this.#spec.lookaheadFrames);
    // Output frames this window answers for: all of its chunk, or at the end those of the real frames.
    const keep = Math.min(this.#chunk, validTo - from) / this.#sub;
    this.#inFlight = true;
    this.#sink
      .submit({
        frames: this.features.frames,
        from,
        to,
        validTo,
        weight: 1,
        state: this.#state,
      })
      .then(
        (result) => {
          this.#inFlight = false;
          try {
            this.#accept(result, from, Math.floor(keep));
          } catch (err) {
            this.#fail(err);
            return;
          }
          this.#pump();
          this.#onProgress?.();
        },
        (err: unknown) => {
          this.#inFlight = false;
          this.#fail(err);
        },
      );
  }

  #accept(result: ChunkResult, from: number, keep: number): void {
    if (!result.state) throw new Error("the model returned no next state for a cache-aware window");
    const { vocab } = result;
    this.#vocab = vocab;
    const rows = Math.min(keep, result.frames);
    const firstOut = from / this.#sub;
    this.#ensureConfidence(firstOut + rows);
    for (let row = 0; row < rows; row++) {
      this.#confidence[firstOut + row] = Math.exp(maxOf(result.logProbs, row * vocab, vocab));
      this.#decoder.step(result.logProbs, row * vocab);
      if (this.#capture)
        for (let v = 0; v < vocab; v++) this.#capture.push(result.logProbs[row * vocab + v]!);
    }
    this.#state = result.state;
    this.#position = from + this.#chunk;
    this.features.frames.discardBefore(Math.min(this.#position, this.features.frames.end));
    if (this.#position >= this.features.frames.end && this.#finishing) {
      this.#complete();
      return;
    }
    if (this.#onPartial && !this.#finishing) {
      this.#onPartial({
        tokens: this.#decoder.peek(result.logProbs, rows * vocab, 0),
        frameConfidence: (f) => this.#confidence[f] ?? 0,
        frames: firstOut + rows,
      });
    }
  }

  #ensureConfidence(frames: number): void {
    if (frames <= this.#confidence.length) return;
    const grown = new Float32Array(Math.max(frames, this.#confidence.length * 2));
    grown.set(this.#confidence);
    this.#confidence = grown;
  }

  #complete(): void {
    if (this.#done) return;
    this.#done = true;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #fail(err: unknown): void {
    this.#failure = err;
    this.#done = true;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}

function maxOf(row: Float32Array, offset: number, length: number): number {
  let max = -Infinity;
  for (let v = 0; v < length; v++) if (row[offset + v]! > max) max = row[offset + v]!;
  return max;
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}
