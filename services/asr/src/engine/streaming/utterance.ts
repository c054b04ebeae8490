import type { ChunkRequest, ChunkResult } from "../batching/batcher.ts";
import type { AlignedToken, CtcDecoder } from "../decoding/ctc.ts";
import type { FbankExtractor, FeatureStream } from "../features/fbank.ts";
import type { AcousticModelSpec } from "../model/acoustic-model.ts";
import { UtteranceRecognition } from "./utterance-base.ts";

/** Where chunks go: the engine's DynamicBatcher (or anything with the same submit). */
export interface ChunkSink {
  submit(request: ChunkRequest): Promise<ChunkResult>;
}

export interface UtteranceUpdate {
  tokens: AlignedToken[];
  /** Best-token posterior of output frame f (committed and provisional). */
  frameConfidence: (frame: number) => number;
  /** Output frames covered so far (committed + provisional). */
  frames: number;
}

export interface UtteranceOptions {
  spec: AcousticModelSpec;
  extractor: FbankExtractor;
  sink: ChunkSink;
  /** Makes a fresh decoder (a non-exact model decodes its final pass from scratch). */
  createDecoder: () => CtcDecoder;
  chunkFrames: number;
  /** Called after each chunk with the best transcript so far, committed and provisional. */
  onPartial?: (update: UtteranceUpdate) => void;
  /** Called after every chunk result (back-pressure for recognize()). */
  onProgress?: () => void;
  /** Keep every committed log-prob row (tests compare them with a whole pass). */
  captureLogProbs?: boolean;
  /**
   * The model computes the features from the audio (AcousticModel.takesSamples): keep samples, send
   * them, and compute no frames here. Cache-aware models only.
   */
  modelTakesSamples?: boolean;
}

/**
 * Recognition of one utterance as its audio arrives. Features accumulate; every `chunkFrames` new frames
 * one request goes to the batcher with the receptive field's context, and its output frames are either
 * committed (all their right context was in the request: they equal a whole-utterance pass and go to the
 * CTC decoder) or provisional (shown in the partial only). At the end, the true end of the audio lets
 * the last frames commit. For output frames [a, b) the model runs on input frames
 * [max(0, a − L), min(T, b + R)), L rounded up to the subsampling factor.
 *
 * Models without a known receptive field or with per-utterance normalisation cannot be chunked exactly:
 * partials re-run the utterance so far and the final is one pass over the whole utterance.
 */
export class UtteranceRecognizer extends UtteranceRecognition {
  readonly #spec: AcousticModelSpec;
  readonly #chunkFrames: number;
  readonly #exact: boolean;
  readonly #left: number;
  readonly #right: number;
  readonly #sub: number;
  /** Input frame up to which output is committed (a multiple of the subsampling factor). */
  #committed = 0;
  /** Frames available at the last submission. */
  #submittedEnd = 0;
  #inFlight = false;
  /** New frames covered by the request in flight. */
  #inFlightFrames = 0;

  constructor(options: UtteranceOptions) {
    super(options);
    if (options.modelTakesSamples)
      throw new TypeError("UtteranceRecognizer needs features; only cache-aware models take samples");
    this.#spec = options.spec;
    this.#chunkFrames = Math.max(options.spec.subsampling, options.chunkFrames);
    const rf = options.spec.receptiveField;
    this.#exact = rf !== null && options.spec.normalize === "";
    this.#sub = options.spec.subsampling;
    this.#left = rf ? Math.ceil(rf.left / this.#sub) * this.#sub : 0;
    this.#right = rf ? rf.right : 0;
  }

  /** Chunks of features not yet sent to the model (the engine's queue bound counts them). */
  get backlogChunks(): number {
    if (this.done) return 0;
    // Whole chunks only: the part-chunk every live utterance holds between submissions is not a backlog.
    return Math.floor((this.features.frames.end - this.#submittedEnd) / this.#chunkFrames);
  }

  /**
   * Input frames the model has not answered for yet: not yet submitted, plus the new frames of the request
   * in flight. (Frames waiting only for their right context are not backlog: more audio releases them.)
   */
  get backlogFrames(): number {
    if (this.done) return 0;
    return this.features.frames.end - this.#submittedEnd + this.#inFlightFrames;
  }

  protected pump(): void {
    if (this.#inFlight || this.done || this.failure) return;
    const available = this.features.frames.end;
    const fresh = available - this.#submittedEnd;
    if (this.finishing) {
      if (this.#exact ? Math.floor(available / this.#sub) > this.#committed / this.#sub : true) {
        this.#submit(available, true);
      } else {
        this.complete();
      }
      return;
    }
    if (fresh < this.#chunkFrames) return;
    // A non-exact model re-runs the whole utterance for each partial: space partials out as it grows
    // (at most one per quarter of the utterance so far), so the cost stays near-linear in its length.
    if (!this.#exact && fresh < available / 4) return;
    if (this.#exact) {
      const commitTo = this.#commitBoundary(available);
      // Without partials a request that commits nothing is wasted work.
      if (!this.onPartial && commitTo - this.#committed < this.#chunkFrames) return;
    }
    this.#submit(available, false);
  }

  #commitBoundary(available: number): number {
    const bound = Math.floor((available - this.#right) / this.#sub) * this.#sub;
    return Math.max(this.#committed, bound);
  }

  #submit(available: number, final: boolean): void {
    const from = this.#exact ? Math.max(0, this.#committed - this.#left) : 0;
    const commitTo = !this.#exact
      ? final
        ? available
        : 0
      : final
        ? available
        : this.#commitBoundary(available);
    const request: ChunkRequest = {
      frames: this.features.frames,
      from,
      to: available,
      weight: Math.max(1, Math.ceil((available - this.#submittedEnd) / this.#chunkFrames)),
    };
    if (this.#spec.normalize === "per_feature") request.normalize = perFeatureStats(this.features, available);
    this.#inFlight = true;
    this.#inFlightFrames = available - this.#submittedEnd;
    this.#submittedEnd = available;
    this.sink.submit(request).then(
      (result) => {
        this.#inFlight = false;
        this.#inFlightFrames = 0;
        try {
          this.#accept(result, from, commitTo, final);
        } catch (err) {
          this.fail(err);
          return;
        }
        if (final) this.complete();
        else this.pump();
        this.onProgress?.();
      },
      (err: unknown) => {
        this.#inFlight = false;
        this.#inFlightFrames = 0;
        this.fail(err);
      },
    );
  }

  #accept(result: ChunkResult, from: number, commitTo: number, final: boolean): void {
    const { vocab } = result;
    const firstOut = from / this.#sub;
    if (!this.#exact && final) this.decoder = this.createDecoder();
    // Output rows are indexed from the request's first frame; committed rows start at #committed.
    const commitRows = Math.min(result.frames, Math.floor(commitTo / this.#sub) - firstOut);
    const startRow = this.#exact ? this.#committed / this.#sub - firstOut : 0;
    for (let row = 0; row < result.frames; row++)
      this.noteConfidence(firstOut + row, result.logProbs, row, vocab);
    if (this.#exact || final) {
      for (let row = startRow; row < commitRows; row++) this.commitRow(result.logProbs, row, vocab);
      if (this.#exact) {
        this.#committed = Math.max(this.#committed, (firstOut + Math.max(commitRows, startRow)) * this.#sub);
        if (final) this.#committed = this.features.frames.end;
        // Frames older than the left context of the next request are never read again.
        this.features.frames.discardBefore(Math.max(0, this.#committed - this.#left));
      }
    }
    if (!final && this.onPartial) {
      const provisionalFrom = this.#exact || final ? Math.max(commitRows, startRow) : 0;
      const partialDecoder = this.#exact ? this.decoder : this.createDecoder();
      const tokens = partialDecoder.peek(
        result.logProbs,
        provisionalFrom * vocab,
        result.frames - provisionalFrom,
      );
      this.onPartial({
        tokens,
        frameConfidence: this.frameConfidence,
        frames: firstOut + result.frames,
      });
    }
  }
}

/** NeMo's per_feature normalisation over frames [0, frames): population variance, 1e-5 added to the std. */
function perFeatureStats(
  features: FeatureStream,
  frames: number,
): { mean: Float64Array; invStd: Float64Array } {
  const buffer = features.frames;
  const dim = buffer.dim;
  const mean = new Float64Array(dim);
  const invStd = new Float64Array(dim);
  const from = buffer.start;
  const count = frames - from;
  for (let t = from; t < frames; t++) {
    const o = buffer.offsetOf(t);
    for (let d = 0; d < dim; d++) mean[d] = mean[d]! + buffer.data[o + d]!;
  }
  for (let d = 0; d < dim; d++) mean[d] = mean[d]! / Math.max(1, count);
  for (let t = from; t < frames; t++) {
    const o = buffer.offsetOf(t);
    for (let d = 0; d < dim; d++) {
      const diff = buffer.data[o + d]! - mean[d]!;
      invStd[d] = invStd[d]! + diff * diff;
    }
  }
  for (let d = 0; d < dim; d++) invStd[d] = 1 / (Math.sqrt(invStd[d]! / Math.max(1, count)) + 1e-5);
  return { mean, invStd };
}
