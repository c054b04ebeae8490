import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { StreamingResampler, pcm16ToFloat32 } from "@callscribe/audio";
import { FailedPreconditionError, InvalidArgumentError, ResourceExhaustedError } from "@callscribe/errors";
import { BeamCtcDecoder, GreedyCtcDecoder, type CtcDecoder } from "../decoding/ctc.ts";
import { HotwordGraph } from "../decoding/hotwords.ts";
import type { LexiconTrie } from "../decoding/lexicon-trie.ts";
import type { WordLm, WordSearchOptions } from "../decoding/word-lm.ts";
import { WordLmCtcDecoder } from "../decoding/word-lm-ctc.ts";
import { assembleTranscript } from "../decoding/words.ts";
import type { FbankExtractor } from "../features/fbank.ts";
import type { AcousticModelSpec } from "../model/acoustic-model.ts";
import type { Decoder, RecognitionEvent, RecognitionStream, StreamOptions } from "../types.ts";
import { UtteranceEndpointer, defaultEndpointerConfig } from "../vad/endpointer.ts";
import { VadState, type VadWindow } from "../vad/silero.ts";
import { AudioBuffer } from "./audio-buffer.ts";
import { CachedUtteranceRecognizer } from "./cached-utterance.ts";
import type { UtteranceRecognition } from "./utterance-base.ts";
import {
  UtteranceRecognizer,
  type ChunkSink,
  type UtteranceOptions,
  type UtteranceUpdate,
} from "./utterance.ts";

/** A cache-aware model streams with its states; any other re-runs the receptive field around each chunk. */
function createUtteranceRecognizer(options: UtteranceOptions): UtteranceRecognition {
  return options.spec.cacheAware ? new CachedUtteranceRecognizer(options) : new UtteranceRecognizer(options);
}

/** What a stream needs from its engine; passed in so the stream stays testable on its own. */
export interface StreamContext {
  spec: AcousticModelSpec;
  extractor: FbankExtractor;
  sink: ChunkSink;
  chunkFrames: number;
  /** Chunk of a stream without partial results: larger, since nothing is shown before the final. */
  finalsOnlyChunkFrames: number;
  beamWidth: number;
  /** Decoder of streams that name none. */
  defaultDecoder: Decoder;
  /** The LM search's shared model and knobs; null without a language model. */
  wordSearch: { lm: WordLm; options: WordSearchOptions } | null;
  maxBacklogMs: number;
  vadWindowSamples: number;
  logger: Logger;
  /** Asks for the stream's next VAD window to be run (the engine batches windows across streams). */
  requestVad(stream: EngineStream): void;
  /** The stream is finished or cancelled: its slot is free. */
  release(stream: EngineStream): void;
  /** Keep committed log-probs of each utterance (tests). */
  captureLogProbs?: boolean;
  /** The model computes features from audio (AcousticModel.takesSamples). */
  modelTakesSamples?: boolean;
}

interface Utterance {
  index: number;
  recognizer: UtteranceRecognition;
  startSample: number;
  fedUntil: number;
  endSample: number;
  seq: number;
  ended: boolean;
  finalReady: boolean;
}

const MAX_HOTWORDS = 1000;
const MAX_UTTERANCE_MS = 120_000;

/** Validates stream options; InvalidArgumentError naming the field otherwise. */
export function validateStreamOptions(options: StreamOptions): void {
  if (options.sampleRate !== 8000 && options.sampleRate !== 16000) {
    throw new InvalidArgumentError(
      `sample rate ${String(options.sampleRate)} Hz is not supported; send 8000 or 16000 Hz audio`,
    );
  }
  if (
    options.decoder !== undefined &&
    options.decoder !== "greedy" &&
    options.decoder !== "beam" &&
    options.decoder !== "lm"
  ) {
    throw new InvalidArgumentError(
      `decoder ${JSON.stringify(options.decoder)} is not one of greedy, beam, lm`,
    );
  }
  const hotwords = options.hotwords ?? [];
  if (hotwords.length > MAX_HOTWORDS)
    throw new InvalidArgumentError(`${hotwords.length} hotwords; at most ${MAX_HOTWORDS}`);
  hotwords.forEach((h, i) => {
    if (typeof h.phrase !== "string" || h.phrase.trim() === "")
      throw new InvalidArgumentError(`hotwords[${i}].phrase is empty`);
    if (!Number.isFinite(h.boost) || h.boost <= 0 || h.boost > 20) {
      throw new InvalidArgumentError(
        `hotwords[${i}].boost ${h.boost} must be a number above 0 and at most 20`,
      );
    }
  });
  const e = options.endpointing ?? {};
  const check = (name: string, value: number | undefined, min: number, max: number): void => {
    if (value !== undefined && !(Number.isFinite(value) && value >= min && value <= max)) {
      throw new InvalidArgumentError(`endpointing.${name} ${value} must be between ${min} and ${max} ms`);
    }
  };
  check("trailingSilenceMs", e.trailingSilenceMs, 50, 10_000);
  check("maxUtteranceMs", e.maxUtteranceMs, 1_000, MAX_UTTERANCE_MS);
  check("minSpeechMs", e.minSpeechMs, 0, 5_000);
}

/**
 * One recognition stream: audio → (resampler) → Silero VAD windows → endpointer → one
 * UtteranceRecognizer per utterance → ordered partial and final events.
 */
export class EngineStream implements RecognitionStream {
  readonly id: string;
  readonly options: StreamOptions;
  readonly #ctx: StreamContext;
  readonly #rate: number;
  readonly #resampler: StreamingResampler | null;
  readonly #audio = new AudioBuffer();
  readonly vadState = new VadState();
  readonly #endpointer: UtteranceEndpointer;
  readonly #window: number;
  readonly #hotwords: HotwordGraph | null;
  readonly #decoder: Decoder;
  /** Words of the hotwords that the lexicon lacks (LM search only). */
  readonly #hotwordWords: LexiconTrie | null = null;
  /** Start of the next VAD window, in model-rate samples from the stream start. */
  #vadNext = 0;
  /** A window was taken for the VAD and its probability has not come back yet. */
  #vadInFlight = false;
  #tailWindow: Float32Array | null = null;
  #current: Utterance | null = null;
  readonly #pending: Utterance[] = [];
  #utterances = 0;
  #nextSeq = 0;
  readonly #listeners: Array<(event: RecognitionEvent) => void> = [];
  #finishing = false;
  #endOfAudio = false;
  #closed = false;
  #cancelled = false;
  #failure: unknown = null;
  #finishWaiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  #progressWaiters: Array<() => void> = [];
  #scratch = new Float32Array(0);
  /** Committed log-probs of each finished utterance, with StreamContext.captureLogProbs (tests). */
  readonly capturedUtterances: Array<{
    startSample: number;
    endSample: number;
    data: Float32Array;
    frames: number;
    vocab: number;
  }> = [];

  constructor(ctx: StreamContext, options: StreamOptions) {
    validateStreamOptions(options);
    this.id = randomUUID();
    this.options = options;
    this.#ctx = ctx;
    this.#rate = ctx.spec.sampleRate;
    this.#resampler =
      options.sampleRate === this.#rate ? null : new StreamingResampler(options.sampleRate, this.#rate);
    this.#window = ctx.vadWindowSamples;
    const e = options.endpointing ?? {};
    this.#endpointer = new UtteranceEndpointer({
      ...defaultEndpointerConfig,
      windowMs: (this.#window / this.#rate) * 1000,
      trailingSilenceMs: e.trailingSilenceMs ?? defaultEndpointerConfig.trailingSilenceMs,
      maxUtteranceMs: e.maxUtteranceMs ?? defaultEndpointerConfig.maxUtteranceMs,
      minSpeechMs: e.minSpeechMs ?? defaultEndpointerConfig.minSpeechMs,
    });
    const hotwords = options.hotwords ?? [];
    this.#hotwords = hotwords.length > 0 ? HotwordGraph.build(hotwords, ctx.spec.vocabulary) : null;
    const decoder = options.decoder ?? ctx.defaultDecoder;
    if (decoder === "lm" && !ctx.wordSearch)
      throw new InvalidArgumentError(
        'decoder "lm" needs a language model and the served model has none; ask for greedy or beam',
      );
    // Hotwords live in the beam searches; greedy decoding cannot apply them.
    this.#decoder = decoder === "greedy" && this.#hotwords ? "beam" : decoder;
    if (this.#decoder === "lm" && this.#hotwords && ctx.wordSearch)
      this.#hotwordWords = ctx.wordSearch.lm.hotwordWords(hotwords, ctx.spec.vocabulary);
  }

  onEvent(listener: (event: RecognitionEvent) => void): void {
    this.#listeners.push(listener);
  }

  pushAudio(pcm: Int16Array): void {
    if (!(pcm instanceof Int16Array))
      throw new InvalidArgumentError("audio must be 16-bit linear PCM samples (Int16Array)");
    if (this.#cancelled) throw new FailedPreconditionError(`stream ${this.id} was cancelled`);
    if (this.#finishing)
      throw new FailedPreconditionError(
        `stream ${this.id} is finished; audio after finish() is not accepted`,
      );
    if (this.#failure) throw this.#failure;
    if (pcm.length === 0) return;
    const backlogMs = this.backlogMs;
    if (backlogMs > this.#ctx.maxBacklogMs) {
      throw new ResourceExhaustedError(
        `stream ${this.id} has ${Math.round(backlogMs)} ms of audio waiting for recognition (limit ${this.#ctx.maxBacklogMs} ms); ` +
          "the recognizer is overloaded: send audio no faster than real time or open fewer streams",
      );
    }
    let samples: Float32Array;
    if (this.#resampler) samples = this.#resampler.push(pcm);
    else {
      if (this.#scratch.length < pcm.length) this.#scratch = new Float32Array(Math.max(pcm.length, 1024));
      samples = pcm16ToFloat32(pcm, this.#scratch.subarray(0, pcm.length));
    }
    this.#audio.append(samples);
    this.#maybeRequestVad();
  }

  /** Audio waiting for the VAD or the acoustic model, in milliseconds. */
  get backlogMs(): number {
    let frames = 0;
    for (const u of this.#pending) frames += u.recognizer.backlogFrames;
    const hopSamples = this.#ctx.spec.features.frameShift;
    return ((this.#audio.end - this.#vadNext + frames * hopSamples) / this.#rate) * 1000;
  }

  /** Chunk units not yet handed to the batcher. */
  get backlogChunks(): number {
    let chunks = 0;
    for (const u of this.#pending) chunks += u.recognizer.backlogChunks;
    return chunks;
  }

  /** Resolves once the backlog is at most `ms` (recognize() uses it to feed a long file). */
  async whenBacklogBelow(ms: number): Promise<void> {
    while (this.backlogMs > ms && !this.#closed && !this.#failure) {
      await new Promise<void>((resolve) => this.#progressWaiters.push(resolve));
    }
    if (this.#failure) throw this.#failure;
  }

  finish(): Promise<void> {
    if (this.#cancelled)
      return Promise.reject(new FailedPreconditionError(`stream ${this.id} was cancelled`));
    if (!this.#finishing) {
      this.#finishing = true;
      if (this.#resampler) this.#audio.append(this.#resampler.flush());
      const rest = this.#audio.end - this.#vadNext;
      const fullWindows = Math.floor(rest / this.#window);
      const tail = rest - fullWindows * this.#window;
      if (tail > 0) {
        // The last partial window goes through the VAD zero-padded; only its real samples are recognised.
        this.#tailWindow = new Float32Array(this.#window);
        this.#tailWindow.set(this.#audio.view(this.#audio.end - tail, this.#audio.end));
      }
      this.#maybeRequestVad();
      this.#maybeEndOfAudio();
    }
    if (this.#closed) return this.#failure ? Promise.reject(this.#failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.#finishWaiters.push({ resolve, reject }));
  }

  cancel(): void {
    if (this.#cancelled || this.#closed) return;
    this.#cancelled = true;
    this.#listeners.length = 0;
    this.#close(null);
  }

  /** Ends the stream because the engine failed it (the VAD pass broke); finish() rejects with `err`. */
  cancelWithError(err: unknown): void {
    this.#close(err);
  }

  // --- VAD ----------------------------------------------------------------------------------

  /** The window the engine should run next for this stream (called by the engine's VAD round). */
  takeVadWindow(): VadWindow {
    this.#vadInFlight = true;
    const available = this.#audio.end - this.#vadNext;
    const samples =
      available >= this.#window
        ? this.#audio.view(this.#vadNext, this.#vadNext + this.#window)
        : this.#tailWindow!;
    return { samples, state: this.vadState };
  }

  /** The VAD's probability for the window last taken. */
  acceptVadResult(probability: number): void {
    this.#vadInFlight = false;
    if (this.#closed) return;
    const total = this.#audio.end;
    const windowStart = this.#vadNext;
    const isTail = total - windowStart < this.#window;
    this.#vadNext = isTail ? total : windowStart + this.#window;
    if (isTail) this.#tailWindow = null;
    try {
      for (const event of this.#endpointer.push(probability)) this.#onEndpoint(event.kind, event.window);
      this.#feedCommitted();
      this.#discardOldAudio();
    } catch (err) {
      this.#close(err);
      return;
    }
    this.#notifyProgress();
    this.#maybeRequestVad();
    this.#maybeEndOfAudio();
  }

  /** A window beyond the one in flight (if any) is ready. */
  get hasVadWork(): boolean {
    if (this.#closed) return false;
    const next = this.#vadNext + (this.#vadInFlight ? this.#window : 0);
    return (
      this.#audio.end - next >= this.#window ||
      (this.#tailWindow !== null && !this.#vadInFlight) ||
      (this.#tailWindow !== null && this.#audio.end - next > 0)
    );
  }

  /** The engine keeps a set of streams with VAD work, so asking twice is harmless. */
  #maybeRequestVad(): void {
    if (this.hasVadWork) this.#ctx.requestVad(this);
  }

  // --- utterances -----------------------------------------------------------------------------

  #sampleOf(window: number): number {
    return Math.min(window * this.#window, this.#audio.end);
  }

  #onEndpoint(kind: "start" | "end", window: number): void {
    if (kind === "start") {
      const start = Math.max(this.#sampleOf(window), this.#audio.start);
      const index = this.#utterances++;
      const utterance: Utterance = {
        index,
        recognizer: null as unknown as UtteranceRecognition,
        startSample: start,
        fedUntil: start,
        endSample: start,
        seq: -1,
        ended: false,
        finalReady: false,
      };
      utterance.recognizer = createUtteranceRecognizer({
        spec: this.#ctx.spec,
        extractor: this.#ctx.extractor,
        sink: this.#ctx.sink,
        createDecoder: () => this.#createDecoder(),
        chunkFrames: this.options.interimResults
          ? this.#ctx.chunkFrames
          : Math.max(this.#ctx.chunkFrames, this.#ctx.finalsOnlyChunkFrames),
        onPartial: this.options.interimResults ? (update) => this.#onPartial(utterance, update) : undefined,
        onProgress: () => this.#notifyProgress(),
        captureLogProbs: this.#ctx.captureLogProbs,
        modelTakesSamples: this.#ctx.modelTakesSamples,
      });
      this.#current = utterance;
      this.#pending.push(utterance);
      return;
    }
    const utterance = this.#current;
    if (!utterance) return;
    const end = Math.max(this.#sampleOf(window), utterance.fedUntil);
    this.#feed(utterance, end);
    utterance.endSample = end;
    utterance.ended = true;
    this.#current = null;
    utterance.recognizer.finish().then(
      () => {
        utterance.finalReady = true;
        this.#flushFinals();
      },
      (err: unknown) => this.#close(err),
    );
  }

  #createDecoder(): CtcDecoder {
    const { vocabulary } = this.#ctx.spec;
    const size = vocabulary.tokens.length;
    if (this.#decoder === "greedy") return new GreedyCtcDecoder(size, vocabulary.blankId);
    const search = this.#ctx.wordSearch;
    if (this.#decoder === "lm" && search) {
      const hotwords = this.#hotwords ? { graph: this.#hotwords, words: this.#hotwordWords } : null;
      return new WordLmCtcDecoder(search.lm, search.options, hotwords);
    }
    return new BeamCtcDecoder(size, vocabulary.blankId, {
      beamWidth: this.#ctx.beamWidth,
      hotwords: this.#hotwords,
    });
  }

  #feedCommitted(): void {
    const utterance = this.#current;
    if (!utterance) return;
    this.#feed(utterance, this.#sampleOf(this.#endpointer.committedEnd));
  }

  #feed(utterance: Utterance, to: number): void {
    if (to <= utterance.fedUntil) return;
    utterance.recognizer.acceptSamples(this.#audio.view(utterance.fedUntil, to));
    utterance.fedUntil = to;
    utterance.endSample = to;
  }

  #discardOldAudio(): void {
    const lookback = this.#vadNext - this.#endpointer.lookbackWindows * this.#window;
    const keep = this.#current ? Math.min(this.#current.fedUntil, lookback) : lookback;
    this.#audio.discardBefore(Math.min(keep, this.#vadNext));
  }

  #maybeEndOfAudio(): void {
    if (!this.#finishing || this.#endOfAudio || this.#closed || this.hasVadWork || this.#vadInFlight) return;
    this.#endOfAudio = true;
    try {
      for (const event of this.#endpointer.finish()) this.#onEndpoint(event.kind, event.window);
    } catch (err) {
      this.#close(err);
      return;
    }
    this.#flushFinals();
  }

  // --- events -------------------------------------------------------------------------------

  #ms(sample: number): number {
    return Math.round((sample / this.#rate) * 1000);
  }

  #frameMs(): number {
    const { subsampling, features } = this.#ctx.spec;
    return ((subsampling * features.frameShift) / this.#rate) * 1000;
  }

  #onPartial(utterance: Utterance, update: UtteranceUpdate): void {
    if (this.#closed || utterance.ended || this.#pending[0] !== utterance) return;
    const startMs = this.#ms(utterance.startSample);
    const transcript = assembleTranscript(
      update.tokens,
      this.#ctx.spec.vocabulary,
      update.frameConfidence,
      this.#frameMs(),
      startMs,
    );
    if (transcript.text === "" && utterance.seq < 0) return;
    if (utterance.seq < 0) utterance.seq = this.#nextSeq++;
    this.#emit({
      kind: "partial",
      utteranceId: `${this.id}-${utterance.seq}`,
      seq: utterance.seq,
      text: transcript.text,
      words: transcript.words,
      startMs,
      endMs: Math.max(startMs, this.#ms(utterance.fedUntil)),
      confidence: transcript.confidence,
      language: this.#ctx.spec.language,
      dialect: "",
      endOfUtterance: false,
    });
  }

  #flushFinals(): void {
    while (!this.#closed && this.#pending[0]?.finalReady) {
      const utterance = this.#pending.shift()!;
      const result = utterance.recognizer.result();
      const startMs = this.#ms(utterance.startSample);
      const transcript = assembleTranscript(
        result.tokens,
        this.#ctx.spec.vocabulary,
        result.frameConfidence,
        this.#frameMs(),
        startMs,
      );
      if (this.#ctx.captureLogProbs) {
        this.capturedUtterances.push({
          startSample: utterance.startSample,
          endSample: utterance.endSample,
          ...utterance.recognizer.capturedLogProbs(),
        });
      }
      if (transcript.text === "" && utterance.seq < 0) continue;
      if (utterance.seq < 0) utterance.seq = this.#nextSeq++;
      this.#emit({
        kind: "final",
        utteranceId: `${this.id}-${utterance.seq}`,
        seq: utterance.seq,
        text: transcript.text,
        words: transcript.words,
        startMs,
        endMs: this.#ms(utterance.endSample),
        confidence: transcript.confidence,
        language: this.#ctx.spec.language,
        dialect: "",
        endOfUtterance: true,
      });
    }
    if (this.#endOfAudio && this.#pending.length === 0 && !this.#closed) this.#close(null);
  }

  #emit(event: RecognitionEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#ctx.logger.error({ err, stream: this.id }, "recognition event listener threw");
      }
    }
  }

  #notifyProgress(): void {
    for (const resolve of this.#progressWaiters.splice(0)) resolve();
  }

  #close(err: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    if (err) {
      this.#failure = err;
      this.#ctx.logger.error({ err, stream: this.id }, "recognition stream failed");
    }
    this.#ctx.release(this);
    this.#notifyProgress();
    for (const w of this.#finishWaiters.splice(0)) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}
