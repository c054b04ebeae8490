import type { ExecutionProvider } from "@callscribe/onnx";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { LanguageModel, Lexicon } from "./lm/types.ts";

export type { Logger, Registry };

export type { ExecutionProvider };
export type Precision = "fp32" | "int8";

export interface ModelInfo {
  name: string;
  version: string;
  language: string;
  sampleRate: number;
  provider: ExecutionProvider;
  precision: Precision;
  /** True when chunked streaming reproduces a whole-utterance pass exactly (finite receptive field, no per-utterance normalisation). */
  streamingExact: boolean;
}

export interface AsrModel {
  readonly info: ModelInfo;
  /** Settles if the inference thread the model runs on fails; null when it runs on the calling thread. */
  readonly failed: Promise<Error> | null;
  close(): Promise<void>;
}

export interface LoadAsrModelOptions {
  dir: string;
  provider: ExecutionProvider;
  precision: Precision;
  deviceId?: number;
  /** Threads of the onnxruntime session; default 1 on an inference thread, 2 without. */
  intraOpThreads?: number;
  /** Sample rate of a published model folder without manifest.json; default 16000. */
  sampleRate?: number;
  /**
   * Which graph to run when the manifest declares a cache-aware streaming graph beside the whole-utterance
   * one: "streaming" (the default when declared) or "offline" (chunks re-run their receptive field).
   */
  graph?: "streaming" | "offline";
  /**
   * Run the session on an inference thread of its own (true, the default), so forward passes overlap the
   * event loop's work (features, VAD, decoding, I/O) instead of stopping it; or on the calling thread.
   */
  inferenceThread?: boolean;
  /**
   * The chunk lengths (ms) the engine streams a cache-aware graph with: a CPU model gets a session with
   * fixed shapes for one stream's window of each (window-sessions.ts). None when not given.
   */
  streamingChunkMs?: readonly number[];
  logger: Logger;
}

export interface VadModel {
  close(): Promise<void>;
}

export interface LoadVadOptions {
  provider: ExecutionProvider;
  logger: Logger;
  deviceId?: number;
  /**
   * Run the VAD on an inference thread of its own (true) or on the calling thread (false, the default).
   * Measured on 2 cores with the acoustic model on its own thread, the VAD on the event loop gives the
   * most throughput: on the model's thread it delays the model's passes, and on a third thread it
   * contends for the cores.
   */
  inferenceThread?: boolean;
  /**
   * On the CPU, run Silero's graph with its depthwise and STFT convolutions rewritten into operators
   * onnxruntime runs faster (model/conv1d-rewrite.ts); default true. Speech probabilities agree with the
   * graph as shipped to within float rounding.
   */
  rewriteConvolutions?: boolean;
}

export interface EngineOptions {
  /** Largest number of chunks in one forward pass; default 32. */
  maxBatch: number;
  /** Longest a chunk waits for others to join its batch; default 10. */
  maxWaitMs: number;
  /** Bound on open streams. */
  maxStreams: number;
  /** Bound on chunks waiting for the model, all streams together (counted in chunkMs units). */
  maxQueuedChunks: number;
  /** Partial-result cadence and the unit of work; default 240. */
  chunkMs: number;
  /** Audio one stream may have waiting for the VAD and the model before pushAudio refuses more; default 30000. */
  maxStreamBacklogMs?: number;
  /** Beam width of the prefix beam searches (with and without the LM); default 16. */
  beamWidth?: number;
  /**
   * Decoder of streams that do not name one: `lm` (the default when the engine has a language model),
   * `beam` or `greedy` (the default without one).
   */
  decoder?: Decoder;
  /** Weight of ln P_LM at each word end of the LM search; default 0.6. */
  lmWeight?: number;
  /** Score added per word by the LM search (insertion bonus); default 0. */
  wordBonus?: number;
  /** Words outside the lexicon: `refuse` (default) keeps to it, `allow` spells them as `<unk>` at `oovPenalty`. */
  oovPolicy?: "refuse" | "allow";
  /** Score added per word outside the lexicon under `allow` (≤ 0); default -10. */
  oovPenalty?: number;
  /**
   * Chunk of streams without interim results (recognize(), finals-only clients); default 4000. Each chunk
   * carries the receptive field's context on both sides, so larger chunks recompute less of it; an
   * utterance shorter than this is one forward pass at its end.
   */
  finalsOnlyChunkMs?: number;
  /**
   * Silero VAD window; default 64. 32 is Silero's finest: per second of audio it costs up to twice as much,
   * most at small batches (SileroVad.windowSamples).
   */
  vadWindowMs?: 32 | 64 | 96;
  /**
   * Windows whose mean power is below this (dBFS) are silence without a Silero pass; default -60, null
   * runs Silero on every window.
   */
  vadEnergyFloorDbfs?: number | null;
  /**
   * Largest number of streams' VAD windows in one Silero pass; default 256. Silero's cost per window keeps
   * falling up to a batch of about 64, so this is set apart from maxBatch.
   */
  vadMaxBatch?: number;
}

export interface Hotword {
  phrase: string;
  /** Log-score added per matched token of the phrase (sherpa-onnx calls it the context score; 1.5–3 is typical). */
  boost: number;
}

export interface EndpointingOptions {
  /** Silence after speech that ends an utterance; default 600. */
  trailingSilenceMs?: number;
  /** An utterance is cut here even if the speaker goes on; default 20000. */
  maxUtteranceMs?: number;
  /** Speech shorter than this does not open an utterance; default 200. */
  minSpeechMs?: number;
}

/** `greedy`: best token per frame; `beam`: prefix beam search over tokens; `lm`: word search with the language model. */
export type Decoder = "greedy" | "beam" | "lm";

export interface StreamOptions {
  sampleRate: 8000 | 16000;
  interimResults: boolean;
  hotwords?: Hotword[];
  endpointing?: EndpointingOptions;
  /** Default: the engine's decoder. Hotwords with `greedy` decode with `beam` (greedy cannot boost). */
  decoder?: Decoder;
  labels?: Record<string, string>;
}

export interface WordTiming {
  word: string;
  startMs: number;
  endMs: number;
  confidence: number;
}

export interface RecognitionEvent {
  kind: "partial" | "final";
  utteranceId: string;
  /** Utterance index in the stream, from 0. */
  seq: number;
  text: string;
  words: WordTiming[];
  startMs: number;
  /** From stream start. */
  endMs: number;
  confidence: number;
  language: string;
  dialect: string;
  endOfUtterance: boolean;
}

export interface RecognitionStream {
  readonly id: string;
  /** Any number of samples at the stream's sample rate; InvalidArgumentError for bad input. Never blocks; audio is queued (bounded). */
  pushAudio(pcm: Int16Array): void;
  /** Events in order: partials (if enabled) and finals. */
  onEvent(listener: (event: RecognitionEvent) => void): void;
  /** The end of the audio: closes the open utterance; resolves after every final event was emitted. */
  finish(): Promise<void>;
  /** Abandons the stream (client cancelled); frees its slot at once. */
  cancel(): void;
}

export interface EngineStats {
  openStreams: number;
  queuedChunks: number;
  batches: number;
  meanBatchSize: number;
}

export interface RecognizerEngine {
  /** ResourceExhaustedError when maxStreams or the batcher queue bound is reached. */
  openStream(options: StreamOptions): RecognitionStream;
  /** Whole audio: the same streaming path run as fast as possible; returns the final events. */
  recognize(pcm: Int16Array, options: Omit<StreamOptions, "interimResults">): Promise<RecognitionEvent[]>;
  readonly model: ModelInfo;
  /** The decoder of streams that do not name one. */
  readonly decoder: Decoder;
  stats(): EngineStats;
  close(): Promise<void>;
}

/** A word language model and the lexicon the decoder spells its words with. */
export interface WordLanguageModel {
  lm: LanguageModel;
  lexicon: Lexicon;
}

export interface EngineDeps {
  model: AsrModel;
  vad: VadModel;
  /** Decode with this LM and lexicon instead of the model folder's (a deployment's own, or none: null). */
  language?: WordLanguageModel | null;
  options: EngineOptions;
  logger: Logger;
  registry?: Registry;
}
