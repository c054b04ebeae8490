import type { CtcDecoder } from "../decoding/ctc.ts";
import { FeatureStream } from "../features/fbank.ts";
import type { ChunkSink, UtteranceOptions, UtteranceUpdate } from "./utterance.ts";

/**
 * What every way of recognising one utterance shares: features accumulate as audio arrives, chunks go to
 * the sink, committed output frames go to the CTC decoder (with their confidence, and a copy of their
 * log-probs for tests), finish() resolves once every frame is decoded. Subclasses decide which frames
 * go to the model when (pump) and which of the answer is final.
 */
export abstract class UtteranceRecognition {
  readonly features: FeatureStream;
  protected readonly sink: ChunkSink;
  protected readonly onPartial: UtteranceOptions["onPartial"];
  protected readonly onProgress: UtteranceOptions["onProgress"];
  protected readonly createDecoder: () => CtcDecoder;
  protected decoder: CtcDecoder;
  protected finishing = false;
  protected failure: unknown = null;
  #done = false;
  #waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  #confidence = new Float32Array(256);
  readonly #capture: number[] | null;
  #vocab = 0;

  constructor(options: UtteranceOptions) {
    this.sink = options.sink;
    this.onPartial = options.onPartial;
    this.onProgress = options.onProgress;
    this.createDecoder = options.createDecoder;
    this.decoder = options.createDecoder();
    this.features = new FeatureStream(options.extractor, { computeFrames: !options.modelTakesSamples });
    this.#capture = options.captureLogProbs ? [] : null;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Chunks of features not yet sent to the model (the engine's queue bound counts them). */
  abstract get backlogChunks(): number;

  /** Input frames the model has not answered for yet. */
  abstract get backlogFrames(): number;

  /** Committed log-prob rows (with captureLogProbs), frame-major [frames × vocab]. */
  capturedLogProbs(): { data: Float32Array; frames: number; vocab: number } {
    const data = Float32Array.from(this.#capture ?? []);
    return { data, frames: this.#vocab ? data.length / this.#vocab : 0, vocab: this.#vocab };
  }

  acceptSamples(samples: Float32Array): void {
    if (this.finishing) throw new Error(`${this.constructor.name}.acceptSamples after finish`);
    if (this.features.accept(samples) > 0) this.pump();
  }

  /** The utterance's audio has ended; resolves when every frame is decoded. */
  finish(): Promise<void> {
    if (!this.finishing) {
      this.finishing = true;
      this.features.finish();
      this.pump();
    }
    if (this.#done) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Best tokens of the finished utterance. */
  result(): UtteranceUpdate {
    return {
      tokens: this.decoder.result(),
      frameConfidence: this.frameConfidence,
      frames: this.decoder.frames,
    };
  }

  /** Sends what is ready to the sink (or completes the utterance). */
  protected abstract pump(): void;

  /** Best-token posterior of output frame f. */
  protected readonly frameConfidence = (frame: number): number => this.#confidence[frame] ?? 0;

  /** Records the confidence of output frame `frame` from log-prob row `row`. */
  protected noteConfidence(frame: number, logProbs: Float32Array, row: number, vocab: number): void {
    if (frame >= this.#confidence.length) {
      const grown = new Float32Array(Math.max(frame + 1, this.#confidence.length * 2));
      grown.set(this.#confidence);
      this.#confidence = grown;
    }
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) if (logProbs[row * vocab + v]! > max) max = logProbs[row * vocab + v]!;
    this.#confidence[frame] = Math.exp(max);
  }

  /** Log-prob row `row` is final: to the decoder (and the capture). */
  protected commitRow(logProbs: Float32Array, row: number, vocab: number): void {
    this.#vocab = vocab;
    this.decoder.step(logProbs, row * vocab);
    if (this.#capture) for (let v = 0; v < vocab; v++) this.#capture.push(logProbs[row * vocab + v]!);
  }

  protected complete(): void {
    if (this.#done) return;
    this.#done = true;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  protected fail(err: unknown): void {
    this.failure = err;
    this.#done = true;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}
