import type { FbankConfig } from "../features/fbank.ts";
import type { AsrModel, ModelInfo } from "../types.ts";
import { ThreadSession, type InferenceRunner, type PreparedOutputs } from "../inference/inference-thread.ts";
import { FRAME_MASK_INPUT, SAMPLES_INPUT } from "./feature-front-end.ts";
import { ort } from "@callscribe/onnx";
import type { Vocabulary } from "./vocabulary.ts";
import type { ModelDecoding } from "../lm/model-decoding.ts";
import type { LanguageModel, Lexicon } from "../lm/types.ts";

/** Everything the engine needs to know about a loaded CTC model, validated against its session. */
export interface AcousticModelSpec {
  name: string;
  version: string;
  language: string;
  sampleRate: number;
  features: FbankConfig;
  /** Per-utterance feature normalisation done in TypeScript ("" when the graph normalises). */
  normalize: "" | "per_feature";
  featureInput: string;
  lengthInput: string;
  logProbOutput: string;
  /** Output with the valid output length of each batch item, when the graph has one. */
  lengthOutput: string | null;
  vocabulary: Vocabulary;
  subsampling: number;
  /** One-sided receptive field in input frames; null when unknown (published models). */
  receptiveField: { left: number; right: number } | null;
  /** Set when the session is a cache-aware streaming graph: windows carry state from one to the next. */
  cacheAware: CacheAwareSpec | null;
  /** The folder's word LM and lexicon (manifest `decoding`), when it declares them. */
  decoding?: ModelDecoding | null;
}

/** One state tensor of a cache-aware graph: batch first, then a fixed per-stream shape. */
export interface ModelStateSpec {
  input: string;
  output: string;
  dtype: "float32" | "int64";
  itemShape: number[];
  /** Elements per stream. */
  itemSize: number;
}

export interface CacheAwareSpec {
  states: ModelStateSpec[];
  /** Frames a window reads beyond the frames it advances by. */
  lookaheadFrames: number;
  /** Window length fixed by the graph (frames), or null when any multiple of the subsampling works. */
  windowFrames: number | null;
}

/** Input frames of the cache-aware window that advances by `chunkFrames` (rounded up to whole output frames). */
export function cacheAwareWindow(
  spec: AcousticModelSpec,
  chunkFrames: number,
): { chunk: number; window: number } {
  const cacheAware = spec.cacheAware;
  if (!cacheAware) throw new TypeError(`model ${spec.name} is not a cache-aware graph`);
  // A graph with a fixed window advances by its window minus the look-ahead.
  const chunk = cacheAware.windowFrames
    ? cacheAware.windowFrames - cacheAware.lookaheadFrames
    : Math.ceil(Math.max(1, chunkFrames) / spec.subsampling) * spec.subsampling;
  return { chunk, window: chunk + cacheAware.lookaheadFrames };
}

/** Feature frames in `ms` of audio (at least one). */
export function framesIn(spec: AcousticModelSpec, ms: number): number {
  return Math.max(1, Math.round((ms * spec.sampleRate) / 1000 / spec.features.frameShift));
}

/** The values of one state tensor: one stream's slice, or a batch's. */
export type StateValue = Float32Array | BigInt64Array;

/** Zeroed room for `streams` streams' values of one state tensor. */
export function allocateState(spec: ModelStateSpec, streams: number): StateValue {
  const size = streams * spec.itemSize;
  return spec.dtype === "int64" ? new BigInt64Array(size) : new Float32Array(size);
}

/** Fresh (zero) states: the start of an utterance. */
export function initialStates(spec: CacheAwareSpec): StateValue[] {
  return spec.states.map((s) => allocateState(s, 1));
}

/** The first `batch` streams of a batched state buffer, as the tensor the graph takes or gives. */
function stateTensor(spec: ModelStateSpec, buffer: StateValue, batch: number): ort.Tensor {
  const value = buffer.subarray(0, batch * spec.itemSize);
  const dims = [batch, ...spec.itemShape];
  return value instanceof BigInt64Array
    ? new ort.Tensor("int64", value, dims)
    : new ort.Tensor("float32", value, dims);
}

export interface ForwardResult {
  /** [batch, frames, vocab] log-probabilities. */
  logProbs: Float32Array;
  frames: number;
  vocab: number;
  /** Valid output frames per batch item. */
  lengths: Int32Array;
  /**
   * Next states of a cache-aware graph, batched like the inputs (one per spec.cacheAware.states). With
   * ownStates they are this pass's own buffers, the caller's to keep; otherwise they live in the model's
   * buffers, which the next pass overwrites, and callers copy what they keep.
   */
  states?: StateValue[];
  ownStates?: boolean;
}

/** The audio of a pass whose features the model computes (AcousticModel.forwardSamples). */
export interface SampleBatch {
  /** Item b's samples from [b·samplesPerItem], end to end as FeatureStream.copyFrameSamples gives them. */
  samples: Float32Array;
  samplesPerItem: number;
  /** Frames computed for each item; the rest of the pass's frames are zeros. */
  validFrames: Int32Array;
}

/**
 * Sessions of the graph with the feature front end (feature-front-end.ts): passes that take audio run on
 * them, `session` beside `AcousticModel.session` on its inference thread and `smallPassSession` beside
 * its small-pass session.
 */
export interface FrontEndSessions {
  session: InferenceRunner;
  smallPassSession: InferenceRunner | null;
}

export async function releaseFrontEnd(frontEnd: FrontEndSessions | null): Promise<void> {
  await frontEnd?.session.release();
  await frontEnd?.smallPassSession?.release();
}

/** Passes of at most this many streams run on the calling thread when the model has a session there. */
export const SMALL_PASS_BATCH = 2;

/** The sessions of one model (see AcousticModel). */
export interface ModelSessions {
  session: InferenceRunner;
  /** On the calling thread for small passes, beside `session` on an inference thread. */
  smallPassSession?: InferenceRunner | null;
  /** The graph with the feature front end, when the model has it (see takesSamples). */
  frontEnd?: FrontEndSessions | null;
  /**
   * For one stream's window of each of these lengths (input frames): sessions on the calling thread of the
   * graph the model's passes take (the front end's when it has one), with every input shape fixed
   * (window-sessions.ts).
   */
  windowSessions?: ReadonlyMap<number, InferenceRunner>;
}

/**
 * One ONNX CTC model on one execution provider. forward() and forwardSamples() are the only places its
 * sessions run; callers (the batcher) keep at most concurrentPasses calls in flight. The session runs on
 * an inference thread of its own or, when loaded without one, synchronously on the calling thread. A CPU
 * model on an inference thread also keeps a session on the calling thread for small passes: a pass of
 * one or two windows takes less than the round trip to the thread (bench/asr/pass-latency.ts), while
 * large passes gain from running beside the event loop.
 */
export class AcousticModel implements AsrModel {
  readonly info: ModelInfo;
  readonly spec: AcousticModelSpec;
  readonly session: InferenceRunner;
  /**
   * Settles if the inference thread this model's passes run on fails (null when they run on the calling
   * thread): from then on every pass fails.
   */
  get failed(): Promise<Error> | null {
    return this.session instanceof ThreadSession ? this.session.thread.failed : null;
  }

  /** A session on the calling thread for small passes, beside `session` on an inference thread. */
  readonly smallPassSession: InferenceRunner | null;

  /**
   * Passes worth having in flight at once: two when they run on an inference thread, so that the caller
   * prepares the next pass while the thread runs one; one on the calling thread, where a pass blocks it.
   */
  get concurrentPasses(): number {
    return this.session instanceof ThreadSession ? 2 : 1;
  }
  /**
   * Where a cache-aware graph's next states come back from the inference thread: sets of one buffer per
   * state, reused from pass to pass (each grown to the largest batch it served), one set per pass in flight.
   */
  readonly #freeStateSets: StateValue[][] = [];
  /** The graph with the feature front end, when the model has it (see takesSamples). */
  readonly frontEnd: FrontEndSessions | null;
  /** Sessions with fixed shapes for one stream's window, by its length in input frames. */
  readonly windowSessions: ReadonlyMap<number, InferenceRunner>;
  #closed = false;

  constructor(info: ModelInfo, spec: AcousticModelSpec, sessions: ModelSessions) {
    this.info = info;
    this.spec = spec;
    this.session = sessions.session;
    this.smallPassSession = sessions.smallPassSession ?? null;
    this.frontEnd = sessions.frontEnd ?? null;
    this.windowSessions = sessions.windowSessions ?? new Map();
  }

  /** The folder's word LM, shared read-only by every stream; null when the manifest declares none. */
  get languageModel(): LanguageModel | null {
    return this.spec.decoding?.languageModel ?? null;
  }

  /** The folder's lexicon (words spelled in this model's tokens); null when the manifest declares none. */
  get lexicon(): Lexicon | null {
    return this.spec.decoding?.lexicon ?? null;
  }

  /**
   * A model of this one's sessions with `windowSessions` in place of its own (none for an empty map), for
   * passes to compare or to keep; closing either closes the sessions of both.
   */
  withWindowSessionsOf(windowSessions: ReadonlyMap<number, InferenceRunner>): AcousticModel {
    return new AcousticModel(this.info, this.spec, {
      session: this.session,
      smallPassSession: this.smallPassSession,
      frontEnd: this.frontEnd,
      windowSessions,
    });
  }

  /**
   * Whether passes may take audio (forwardSamples) rather than features: the model has the feature front
   * end, which onnxruntime runs with the network. The loader gives it to cache-aware graphs that normalise
   * their features themselves (their windows need no statistics from TypeScript).
   */
  get takesSamples(): boolean {
    return this.frontEnd !== null;
  }

  /** features: [batch, dim, frames] (the layout the graph takes), lengths in input frames. */
  async forward(
    features: Float32Array,
    batch: number,
    frames: number,
    lengths: BigInt64Array,
    states?: readonly StateValue[],
  ): Promise<ForwardResult> {
    const dim = this.spec.features.dim;
    const input = new ort.Tensor("float32", features.subarray(0, batch * dim * frames), [batch, dim, frames]);
    return this.#pass(this.#sessionFor(batch, frames, this), batch, lengths, states, {
      [this.spec.featureInput]: input,
    });
  }

  /**
   * A pass from audio (only when takesSamples): onnxruntime computes the features with the feature front
   * end, within 1e-4 of those FeatureStream computes as audio arrives. Item b's frames past
   * audio.validFrames[b] are zeros, as in a padded feature input.
   */
  async forwardSamples(
    audio: SampleBatch,
    batch: number,
    frames: number,
    lengths: BigInt64Array,
    states?: readonly StateValue[],
  ): Promise<ForwardResult> {
    const frontEnd = this.frontEnd;
    if (!frontEnd) throw new Error(`model ${this.spec.name} takes features, not samples`);
    const session = this.#sessionFor(batch, frames, frontEnd);
    const { samples, samplesPerItem, validFrames } = audio;
    const mask = new Float32Array(batch * frames);
    for (let b = 0; b < batch; b++) mask.fill(1, b * frames, b * frames + Math.min(validFrames[b]!, frames));
    return this.#pass(session, batch, lengths, states, {
      [SAMPLES_INPUT]: new ort.Tensor("float32", samples.subarray(0, batch * samplesPerItem), [
        batch,
        1,
        samplesPerItem,
      ]),
      [FRAME_MASK_INPUT]: new ort.Tensor("float32", mask, [batch, 1, frames]),
    });
  }

  /**
   * The session a pass of `batch` streams of `frames` input frames runs on, of the model's own graph or of
   * the front end's: one stream's window of a length with a window session runs there (of the graph passes
   * take by default), a small pass on the small-pass session, the rest on `session`.
   */
  #sessionFor(batch: number, frames: number, graph: FrontEndSessions): InferenceRunner {
    const window =
      batch === 1 && graph === (this.frontEnd ?? this) ? this.windowSessions.get(frames) : undefined;
    if (window) return window;
    return batch <= SMALL_PASS_BATCH && graph.smallPassSession ? graph.smallPassSession : graph.session;
  }

  /** One pass with the feature input (or the front end's audio inputs) in `input`. */
  async #pass(
    session: InferenceRunner,
    batch: number,
    lengths: BigInt64Array,
    states: readonly StateValue[] | undefined,
    input: Record<string, ort.Tensor>,
  ): Promise<ForwardResult> {
    if (this.#closed) throw new Error(`model ${this.spec.name} is closed`);
    const cacheAware = this.spec.cacheAware;
    const feeds: Record<string, ort.Tensor> = {
      ...input,
      [this.spec.lengthInput]: new ort.Tensor("int64", lengths.subarray(0, batch), [batch]),
    };
    if (cacheAware) {
      if (!states || states.length !== cacheAware.states.length)
        throw new Error(`model ${this.spec.name} is cache-aware: every forward pass needs its states`);
      cacheAware.states.forEach((s, i) => (feeds[s.input] = stateTensor(s, states[i]!, batch)));
    }
    // A pass on the calling thread needs no prepared outputs: onnxruntime-node copies every output into a
    // new buffer of its own whatever it is given. On an inference thread they are the buffers the outputs
    // come back in.
    const stateSet =
      cacheAware && session instanceof ThreadSession ? (this.#freeStateSets.pop() ?? []) : null;
    const fetches =
      cacheAware && stateSet ? this.#stateFetches(session, cacheAware, batch, stateSet) : undefined;
    let outputs;
    try {
      outputs = await session.run(feeds, fetches);
    } finally {
      // Free for the next pass once this one's caller has copied the states (before its next await).
      if (stateSet) this.#freeStateSets.push(stateSet);
    }
    const logProbs = outputs[this.spec.logProbOutput]!;
    const [, outFrames, vocab] = logProbs.dims as [number, number, number];
    const result = new Int32Array(batch);
    const lengthTensor = this.spec.lengthOutput ? outputs[this.spec.lengthOutput] : undefined;
    if (lengthTensor) {
      const data = lengthTensor.data as BigInt64Array;
      for (let b = 0; b < batch; b++) result[b] = Math.min(Number(data[b]), outFrames);
    } else {
      for (let b = 0; b < batch; b++)
        result[b] = Math.min(Math.floor(Number(lengths[b]) / this.spec.subsampling), outFrames);
    }
    const next = cacheAware?.states.map((s) => outputs[s.output]!.data as StateValue);
    return {
      logProbs: logProbs.data as Float32Array,
      frames: outFrames,
      vocab,
      lengths: result,
      states: next,
      ownStates: stateSet === null,
    };
  }

  /** Every output of the session, the next states prepared in `set` (grown where it is too small). */
  #stateFetches(
    session: InferenceRunner,
    cacheAware: CacheAwareSpec,
    batch: number,
    set: StateValue[],
  ): PreparedOutputs {
    const fetches: PreparedOutputs = {};
    for (const name of session.outputNames) fetches[name] = null;
    cacheAware.states.forEach((s, i) => {
      let buffer = set[i];
      if (!buffer || buffer.length < batch * s.itemSize)
        buffer = set[i] = allocateState(s, Math.max(batch, (2 * (buffer?.length ?? 0)) / s.itemSize));
      fetches[s.output] = stateTensor(s, buffer, batch);
    });
    return fetches;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.session.release();
    await this.smallPassSession?.release();
    await releaseFrontEnd(this.frontEnd);
    await releaseAll(this.windowSessions);
  }
}

export async function releaseAll(sessions: ReadonlyMap<number, InferenceRunner>): Promise<void> {
  for (const session of sessions.values()) await session.release();
}
