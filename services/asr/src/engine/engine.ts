import { FailedPreconditionError, InvalidArgumentError, ResourceExhaustedError } from "@callscribe/errors";
import { DynamicBatcher } from "./batching/batcher.ts";
import { defaultWordSearchOptions } from "./decoding/word-lm.ts";
import { wordSearchOf, type WordSearch } from "./decoding/word-search.ts";
import { FbankExtractor } from "./features/fbank.ts";
import { createEngineMetrics, type EngineMetrics } from "./metrics.ts";
import { AcousticModel, framesIn } from "./model/acoustic-model.ts";
import { EngineStream } from "./streaming/stream.ts";
import type {
  Decoder,
  EngineDeps,
  EngineOptions,
  EngineStats,
  Logger,
  ModelInfo,
  RecognitionEvent,
  RecognizerEngine,
  StreamOptions,
} from "./types.ts";
import { EnergyGate } from "./vad/energy-gate.ts";
import { SileroVad, type VadState, type VadWindow } from "./vad/silero.ts";

export const defaultEngineOptions: EngineOptions = {
  maxBatch: 32,
  maxWaitMs: 10,
  maxStreams: 256,
  maxQueuedChunks: 1024,
  chunkMs: 240,
  maxStreamBacklogMs: 30_000,
  beamWidth: defaultWordSearchOptions.beamWidth,
  vadWindowMs: 64,
  vadEnergyFloorDbfs: -60,
  vadMaxBatch: 256,
  finalsOnlyChunkMs: 4000,
};

function finalsOnlyChunkMs(options: EngineOptions): number {
  return options.finalsOnlyChunkMs ?? 4000;
}

/**
 * The chunk lengths (ms) an engine with these options streams with: for streams with interim results and
 * for those without (EngineStream), for the model's window sessions (LoadAsrModelOptions.streamingChunkMs).
 */
export function engineChunkMs(options: EngineOptions): number[] {
  return [options.chunkMs, Math.max(options.chunkMs, finalsOnlyChunkMs(options))];
}

export interface EngineInternals {
  /** Record the [batch, frames] shape of every forward pass (engine-overhead benchmark). */
  recordShapes?: boolean;
  /** Keep committed log-probs per utterance on each stream (tests). */
  captureLogProbs?: boolean;
  /** Compute features on the event loop even where the model takes samples (features-placement benchmark). */
  featuresOnEventLoop?: boolean;
}

/**
 * The recognizer of one replica: every stream's VAD windows are batched into shared Silero passes and
 * every stream's chunks into shared acoustic-model passes (DynamicBatcher). Streams are refused with
 * RESOURCE_EXHAUSTED at `maxStreams` or when the queued work reaches `maxQueuedChunks`.
 */
export class Recognizer implements RecognizerEngine {
  readonly model: ModelInfo;
  readonly decoder: Decoder;
  readonly batcher: DynamicBatcher;
  readonly options: EngineOptions;
  readonly #acoustic: AcousticModel;
  readonly #vad: SileroVad;
  readonly #logger: Logger;
  readonly #metrics: EngineMetrics;
  readonly #extractor: FbankExtractor;
  /** The LM search's shared model and knobs; null without a language model. */
  readonly #wordSearch: WordSearch | null;
  readonly #streams = new Set<EngineStream>();
  readonly #vadQueue = new Set<EngineStream>();
  readonly #internals: EngineInternals;
  #vadRunning = false;
  #closed = false;
  /** Most streams' VAD windows in one Silero pass. */
  readonly #vadMaxBatch: number;
  readonly #probabilities: Float32Array;
  readonly #gate: EnergyGate;
  /** Silero's state after a long digital silence, computed on the first VAD round. */
  #silence: Promise<VadState> | null = null;

  constructor(deps: EngineDeps, internals: EngineInternals = {}) {
    if (!(deps.model instanceof AcousticModel))
      throw new TypeError("createRecognizerEngine needs a model from loadAsrModel()");
    if (!(deps.vad instanceof SileroVad))
      throw new TypeError("createRecognizerEngine needs a VAD from loadVad()");
    this.options = { ...defaultEngineOptions, ...stripUndefined(deps.options) };
    validateEngineOptions(this.options);
    this.#vadMaxBatch = this.options.vadMaxBatch ?? 256;
    this.#probabilities = new Float32Array(this.#vadMaxBatch);
    this.#acoustic = deps.model;
    this.#vad = deps.vad;
    this.#gate = new EnergyGate(this.options.vadEnergyFloorDbfs ?? null);
    this.#logger = deps.logger;
    this.#internals = internals;
    this.model = deps.model.info;
    this.#wordSearch = wordSearchOf(deps.model, deps.language, this.options);
    this.decoder = this.options.decoder ?? (this.#wordSearch ? "lm" : "greedy");
    this.#metrics = createEngineMetrics(deps.registry, () => this.queuedChunks());
    this.#extractor = new FbankExtractor(deps.model.spec.features);
    this.batcher = new DynamicBatcher({
      model: deps.model,
      maxBatch: this.options.maxBatch,
      maxWaitMs: this.options.maxWaitMs,
      logger: deps.logger,
      metrics: this.#metrics,
      recordShapes: internals.recordShapes,
    });
  }

  openStream(options: StreamOptions): EngineStream {
    if (this.#closed)
      throw new FailedPreconditionError(
        "the recognizer is shutting down; open the stream on another replica",
      );
    if (this.#streams.size >= this.options.maxStreams) {
      this.#metrics.refusedStreams.inc({ reason: "max_streams" });
      throw new ResourceExhaustedError(
        `this replica already serves ${this.#streams.size} streams (maxStreams ${this.options.maxStreams}); retry later or on another replica`,
      );
    }
    const queued = this.queuedChunks();
    if (queued >= this.options.maxQueuedChunks) {
      this.#metrics.refusedStreams.inc({ reason: "queue_full" });
      throw new ResourceExhaustedError(
        `the recognizer is behind: ${queued} chunks are waiting for the model (maxQueuedChunks ${this.options.maxQueuedChunks}); retry later or on another replica`,
      );
    }
    const { spec } = this.#acoustic;
    const stream = new EngineStream(
      {
        spec,
        extractor: this.#extractor,
        sink: this.batcher,
        chunkFrames: framesIn(spec, this.options.chunkMs),
        finalsOnlyChunkFrames: framesIn(spec, finalsOnlyChunkMs(this.options)),
        beamWidth: this.options.beamWidth ?? defaultWordSearchOptions.beamWidth,
        defaultDecoder: this.decoder,
        wordSearch: this.#wordSearch,
        maxBacklogMs: this.options.maxStreamBacklogMs ?? 30_000,
        vadWindowSamples: SileroVad.windowSamples(spec.sampleRate, this.options.vadWindowMs ?? 64),
        logger: this.#logger,
        requestVad: (s) => this.#requestVad(s),
        release: (s) => this.#release(s),
        captureLogProbs: this.#internals.captureLogProbs,
        modelTakesSamples: this.#acoustic.takesSamples && !this.#internals.featuresOnEventLoop,
      },
      options,
    );
    this.#streams.add(stream);
    this.#metrics.openStreams.set(this.#streams.size);
    return stream;
  }

  async recognize(
    pcm: Int16Array,
    options: Omit<StreamOptions, "interimResults">,
  ): Promise<RecognitionEvent[]> {
    if (!(pcm instanceof Int16Array))
      throw new InvalidArgumentError("audio must be 16-bit linear PCM samples (Int16Array)");
    const stream = this.openStream({ ...options, interimResults: false });
    const finals: RecognitionEvent[] = [];
    stream.onEvent((event) => {
      if (event.kind === "final") finals.push(event);
    });
    // Feed in slices, keeping the backlog bounded: memory stays flat for long files while enough work
    // is queued to keep the batcher full.
    const slice = options.sampleRate * 4;
    const limitMs = (this.options.maxStreamBacklogMs ?? 30_000) / 2;
    try {
      for (let offset = 0; offset < pcm.length; offset += slice) {
        await stream.whenBacklogBelow(limitMs);
        stream.pushAudio(pcm.subarray(offset, offset + slice));
      }
      await stream.finish();
    } catch (err) {
      stream.cancel();
      throw err;
    }
    return finals;
  }

  queuedChunks(): number {
    let waiting = this.batcher.queuedChunks;
    for (const stream of this.#streams) waiting += stream.backlogChunks;
    return waiting;
  }

  stats(): EngineStats {
    return {
      openStreams: this.#streams.size,
      queuedChunks: this.queuedChunks(),
      batches: this.batcher.batches,
      meanBatchSize: this.batcher.batches > 0 ? this.batcher.items / this.batcher.batches : 0,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of [...this.#streams]) stream.cancel();
    this.batcher.close();
  }

  #release(stream: EngineStream): void {
    this.#streams.delete(stream);
    this.#vadQueue.delete(stream);
    this.#metrics.openStreams.set(this.#streams.size);
  }

  #requestVad(stream: EngineStream): void {
    this.#vadQueue.add(stream);
    if (!this.#vadRunning) {
      this.#vadRunning = true;
      setImmediate(() => void this.#vadRound());
    }
  }

  #silenceState(rate: 8000 | 16000): Promise<VadState> {
    this.#silence ??= this.#vad.silenceState(
      rate,
      SileroVad.windowSamples(rate, this.options.vadWindowMs ?? 64),
    );
    return this.#silence;
  }

  /** One Silero pass over the next window of every stream that has one. */
  async #vadRound(): Promise<void> {
    try {
      while (this.#vadQueue.size > 0) {
        const streams: EngineStream[] = [];
        for (const stream of this.#vadQueue) {
          this.#vadQueue.delete(stream);
          if (stream.hasVadWork) streams.push(stream);
          if (streams.length >= this.#vadMaxBatch) break;
        }
        if (streams.length === 0) continue;
        // Quiet windows are answered at once, leaving the state Silero reaches in silence; the others go
        // through Silero in one pass.
        const rate = this.#acoustic.spec.sampleRate as 8000 | 16000;
        const silence = this.#gate.floor > 0 ? await this.#silenceState(rate) : null;
        const loud: EngineStream[] = [];
        const windows: VadWindow[] = [];
        for (const stream of streams) {
          const window = stream.takeVadWindow();
          if (silence && this.#gate.isQuiet(window.samples)) {
            this.#metrics.vadQuietWindows.inc();
            window.state.h.set(silence.h);
            window.state.c.set(silence.c);
            stream.acceptVadResult(0);
          } else {
            loud.push(stream);
            windows.push(window);
          }
        }
        if (loud.length === 0) continue;
        try {
          await this.#vad.run(windows, rate, this.#probabilities);
        } catch (err) {
          this.#logger.error({ err, batch: loud.length }, "VAD forward pass failed");
          for (const stream of loud) stream.cancelWithError(err);
          continue;
        }
        this.#metrics.vadBatchSize.observe(loud.length);
        loud.forEach((stream, i) => stream.acceptVadResult(this.#probabilities[i]!));
      }
    } finally {
      this.#vadRunning = false;
      if (this.#vadQueue.size > 0) this.#requestVad([...this.#vadQueue][0]!);
    }
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateEngineOptions(o: EngineOptions): void {
  const positive = (name: string, value: number | undefined, min = 1): void => {
    if (value !== undefined && !(Number.isFinite(value) && value >= min))
      throw new RangeError(`engine option ${name} ${value} must be at least ${min}`);
  };
  positive("maxBatch", o.maxBatch);
  positive("maxWaitMs", o.maxWaitMs, 0);
  positive("maxStreams", o.maxStreams);
  positive("maxQueuedChunks", o.maxQueuedChunks);
  positive("chunkMs", o.chunkMs, 10);
  positive("maxStreamBacklogMs", o.maxStreamBacklogMs, 1000);
  positive("beamWidth", o.beamWidth);
  positive("finalsOnlyChunkMs", o.finalsOnlyChunkMs, 10);
  positive("vadMaxBatch", o.vadMaxBatch);
  if (o.vadEnergyFloorDbfs !== undefined && o.vadEnergyFloorDbfs !== null && !(o.vadEnergyFloorDbfs < 0))
    throw new RangeError(`engine option vadEnergyFloorDbfs ${o.vadEnergyFloorDbfs} must be below 0 dBFS`);
  if (o.vadWindowMs !== undefined && ![32, 64, 96].includes(o.vadWindowMs))
    throw new RangeError(`engine option vadWindowMs ${o.vadWindowMs} must be 32, 64 or 96`);
}

export function createRecognizerEngine(deps: EngineDeps): RecognizerEngine {
  return new Recognizer(deps);
}
