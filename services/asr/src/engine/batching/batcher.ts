import type { Logger } from "pino";
import {
  allocateState,
  type CacheAwareSpec,
  type ForwardResult,
  type ModelStateSpec,
  type SampleBatch,
  type StateValue,
} from "../model/acoustic-model.ts";
import type { FeatureStream, FrameBuffer } from "../features/fbank.ts";
import type { EngineMetrics } from "../metrics.ts";

/**
 * Frames [from, to) of one utterance: its computed features (`frames`), or, for a model that takes samples,
 * the audio they are computed from (`audio`). The owner keeps those frames (or their samples) until the
 * promise settles.
 */
export interface ChunkRequest {
  frames?: FrameBuffer;
  audio?: Pick<FeatureStream, "copyFrameSamples">;
  from: number;
  to: number;
  /** Work in chunk units, for the queue bound. */
  weight: number;
  /** Per-utterance normalisation applied while packing (models with normalize_type per_feature). */
  normalize?: { mean: Float64Array; invStd: Float64Array };
  /** Frames [from, validTo) come from the buffer (or audio) and [validTo, to) are zeros (a stream's last window). */
  validTo?: number;
  /**
   * A cache-aware model's state for this stream, one value per state tensor: read for the pass, and each
   * value replaced by (or overwritten with) the next state when the pass succeeds (the owner keeps one
   * window in flight).
   */
  state?: StateValue[];
}

/** The log-probs of one request: `frames` valid output frames of `vocab` values, frame-major. */
export interface ChunkResult {
  logProbs: Float32Array;
  frames: number;
  vocab: number;
}

/** What the batcher runs: AcousticModel, or a small in-memory model in unit tests. */
export interface ForwardModel {
  readonly spec: {
    readonly features: { readonly dim: number; readonly frameShift: number; readonly frameLength: number };
    readonly cacheAware?: CacheAwareSpec | null;
  };
  /** Passes the model takes at once (default 1); each pass's arguments stay untouched until it is answered. */
  readonly concurrentPasses?: number;
  /** Whether passes take audio, through forwardSamples, instead of features. */
  readonly takesSamples?: boolean;
  forward(
    features: Float32Array,
    batch: number,
    frames: number,
    lengths: BigInt64Array,
    states?: readonly StateValue[],
  ): Promise<ForwardResult>;
  forwardSamples?(
    audio: SampleBatch,
    batch: number,
    frames: number,
    lengths: BigInt64Array,
    states?: readonly StateValue[],
  ): Promise<ForwardResult>;
}

/** Least share of real (not padding) frames in a batch; see #takeBatch. */
const MIN_PADDING_EFFICIENCY = 0.8;

interface Pending {
  request: ChunkRequest;
  enqueuedAt: number;
  resolve: (result: ChunkResult) => void;
  reject: (err: unknown) => void;
}

export interface BatcherOptions {
  model: ForwardModel;
  maxBatch: number;
  maxWaitMs: number;
  logger: Logger;
  metrics?: EngineMetrics;
  /** Keep the [batch, frames] shape of every forward pass (for the engine-overhead benchmark). */
  recordShapes?: boolean;
}

/** The packed inputs of one pass, reused by later passes once it is answered. */
interface PassBuffers {
  input: Float32Array;
  /** A model that takes samples: each item's, and how many of its frames they make. */
  samples: Float32Array;
  validFrames: Int32Array;
  lengths: BigInt64Array;
  /** Stacked state inputs of a cache-aware model. */
  states: StateValue[];
}

/**
 * One queue per model replica. Chunks from every stream wait here until `maxBatch` of them are queued or
 * the oldest has waited `maxWaitMs`; then they are padded to the longest, run in ONE forward pass with
 * their true lengths (the model masks padding, so each result equals a pass on the chunk alone) and
 * scattered back. As many passes are in flight as the model takes at once: one when onnxruntime runs on
 * this thread, two when it runs on an inference thread, so that the next pass is packed and waiting while
 * the thread runs one.
 */
export class DynamicBatcher {
  readonly #model: ForwardModel;
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;
  readonly #logger: Logger;
  readonly #metrics: EngineMetrics | undefined;
  readonly #queue: Pending[] = [];
  #queuedWeight = 0;
  /** Passes started and not yet answered. */
  #inFlight = 0;
  readonly #maxInFlight: number;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Buffers of passes answered, for the next ones. */
  readonly #freeBuffers: PassBuffers[] = [];
  batches = 0;
  items = 0;
  /** Time from the start of each forward pass to its answer, summed over passes (which may overlap), in ms. */
  forwardMs = 0;
  readonly shapes: Array<{ batch: number; frames: number; lengths: number[] }> = [];
  readonly #recordShapes: boolean;

  constructor(options: BatcherOptions) {
    this.#model = options.model;
    this.#maxBatch = Math.max(1, Math.floor(options.maxBatch));
    this.#maxWaitMs = Math.max(0, options.maxWaitMs);
    this.#maxInFlight = Math.max(1, Math.floor(options.model.concurrentPasses ?? 1));
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#recordShapes = options.recordShapes ?? false;
  }

  /** Chunk units waiting for a forward pass. */
  get queuedChunks(): number {
    return this.#queuedWeight;
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  submit(request: ChunkRequest): Promise<ChunkResult> {
    if (this.#closed) return Promise.reject(new Error("the batcher is closed"));
    return new Promise<ChunkResult>((resolve, reject) => {
      this.#queue.push({ request, enqueuedAt: performance.now(), resolve, reject });
      this.#queuedWeight += request.weight;
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#inFlight >= this.#maxInFlight || this.#queue.length === 0) return;
    if (this.#queue.length >= this.#maxBatch || this.#maxWaitMs === 0) {
      this.#clearTimer();
      this.#startBatch();
      return;
    }
    if (this.#timer) return;
    const waited = performance.now() - this.#queue[0]!.enqueuedAt;
    const remaining = Math.max(0, this.#maxWaitMs - waited);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#inFlight < this.#maxInFlight) this.#startBatch();
    }, remaining);
  }

  #clearTimer(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #startBatch(): void {
    const batch = this.#takeBatch();
    if (batch.length === 0) return;
    for (const item of batch) this.#queuedWeight -= item.request.weight;
    this.#inFlight++;
    void this.#run(batch).finally(() => {
      this.#inFlight--;
      this.#schedule();
    });
    // A second pass may start at once with what is left.
    this.#schedule();
  }

  /**
   * The oldest chunk and, in queue order, every other chunk that keeps the padded batch at least
   * MIN_PADDING_EFFICIENCY real frames: padding costs as much compute as audio, and chunks range from a
   * few dozen frames (an utterance's first) to hundreds (left + new + right context). A chunk left out
   * is older than the ones that come after it, so it leads one of the next batches.
   */
  #takeBatch(): Pending[] {
    const taken: Pending[] = [];
    const rest: Pending[] = [];
    let longest = 0;
    let frames = 0;
    // A cache-aware model's windows all have one length per stream setting; only equal ones share a pass
    // (padding would run into the caches).
    const exact = Boolean(this.#model.spec.cacheAware);
    for (const item of this.#queue) {
      const length = item.request.to - item.request.from;
      const padded = Math.max(longest, length) * (taken.length + 1);
      if (
        taken.length < this.#maxBatch &&
        (taken.length === 0 ||
          (exact ? length === longest : frames + length >= MIN_PADDING_EFFICIENCY * padded))
      ) {
        taken.push(item);
        longest = Math.max(longest, length);
        frames += length;
      } else {
        rest.push(item);
      }
    }
    this.#queue.length = 0;
    this.#queue.push(...rest);
    return taken;
  }

  async #run(batch: Pending[]): Promise<void> {
    try {
      const results = await this.runBatch(batch.map((p) => p.request));
      batch.forEach((item, i) => item.resolve(results[i]!));
    } catch (err) {
      this.#logger.error({ err, batch: batch.length }, "acoustic model forward pass failed");
      for (const item of batch) item.reject(err);
    }
  }

  /** Pads, runs one forward pass and splits the output; exposed for the batched-vs-unbatched tests. */
  async runBatch(requests: readonly ChunkRequest[]): Promise<ChunkResult[]> {
    const buffers = this.#freeBuffers.pop() ?? {
      input: new Float32Array(0),
      samples: new Float32Array(0),
      validFrames: new Int32Array(0),
      lengths: new BigInt64Array(0),
      states: [],
    };
    try {
      return await this.#runPass(requests, buffers);
    } finally {
      this.#freeBuffers.push(buffers);
    }
  }

  async #runPass(requests: readonly ChunkRequest[], buffers: PassBuffers): Promise<ChunkResult[]> {
    const batch = requests.length;
    let maxFrames = 0;
    for (const r of requests) maxFrames = Math.max(maxFrames, r.to - r.from);
    if (buffers.lengths.length < batch) buffers.lengths = new BigInt64Array(Math.max(batch, this.#maxBatch));
    const { lengths } = buffers;
    requests.forEach((r, b) => (lengths[b] = BigInt(r.to - r.from)));
    // A model that takes samples takes features too (a pass whose requests carry frames).
    const audio =
      this.#model.takesSamples === true && requests.every((r) => r.audio)
        ? this.#packSamples(requests, maxFrames, buffers)
        : null;
    if (!audio) this.#packFeatures(requests, maxFrames, buffers);
    if (this.#recordShapes)
      this.shapes.push({ batch, frames: maxFrames, lengths: requests.map((r) => r.to - r.from) });
    const states = this.#stackStates(requests, buffers);
    const started = performance.now();
    let out: ForwardResult;
    try {
      out = audio
        ? await this.#model.forwardSamples!(audio, batch, maxFrames, lengths, states)
        : await this.#model.forward(buffers.input, batch, maxFrames, lengths, states);
    } finally {
      const elapsed = performance.now() - started;
      this.forwardMs += elapsed;
      this.#metrics?.forwardSeconds.observe(elapsed / 1000);
    }
    this.batches++;
    this.items += batch;
    this.#metrics?.batchSize.observe(batch);
    const stride = out.frames * out.vocab;
    const stateSpecs = this.#model.spec.cacheAware?.states;
    if (stateSpecs) {
      const next = out.states;
      if (!next) throw new Error("the model returned no next state for a cache-aware window");
      // States the pass gave for keeps become each stream's own (one pass's output, viewed); others are
      // copied out before the model's next pass overwrites them.
      requests.forEach((r, b) =>
        stateSpecs.forEach((st, i) => {
          const value = next[i]!.subarray(b * st.itemSize, (b + 1) * st.itemSize);
          if (out.ownStates) r.state![i] = value;
          else (r.state![i] as Float32Array).set(value as Float32Array);
        }),
      );
    }
    return requests.map((_, b) => ({
      logProbs: out.logProbs.subarray(b * stride, b * stride + out.lengths[b]! * out.vocab),
      frames: out.lengths[b]!,
      vocab: out.vocab,
    }));
  }

  /** Features [batch, dim, maxFrames], zero-padded: each request's frames, normalised if it asks. */
  #packFeatures(requests: readonly ChunkRequest[], maxFrames: number, buffers: PassBuffers): void {
    const dim = this.#model.spec.features.dim;
    const size = requests.length * dim * maxFrames;
    if (buffers.input.length < size) buffers.input = new Float32Array(Math.ceil(size * 1.25));
    const { input } = buffers;
    // Zero padding: masked by the model, but zeros keep padded lanes numerically quiet.
    input.fill(0, 0, size);
    requests.forEach((r, b) => {
      if (!r.frames) throw new Error(`chunk ${b} carries no features`);
      const data = r.frames.data;
      const base = b * dim * maxFrames;
      const copied = (r.validTo ?? r.to) - r.from;
      for (let t = 0; t < copied; t++) {
        const src = r.frames.offsetOf(r.from + t);
        if (r.normalize) {
          const { mean, invStd } = r.normalize;
          for (let d = 0; d < dim; d++)
            input[base + d * maxFrames + t] = (data[src + d]! - mean[d]!) * invStd[d]!;
        } else {
          for (let d = 0; d < dim; d++) input[base + d * maxFrames + t] = data[src + d]!;
        }
      }
    });
  }

  /** Each request's samples of its frames [from, validTo), for a model that computes the features. */
  #packSamples(requests: readonly ChunkRequest[], maxFrames: number, buffers: PassBuffers): SampleBatch {
    const { frameShift, frameLength } = this.#model.spec.features;
    const perItem = (maxFrames - 1) * frameShift + frameLength;
    const batch = requests.length;
    if (buffers.samples.length < batch * perItem)
      buffers.samples = new Float32Array(Math.ceil(batch * perItem * 1.25));
    if (buffers.validFrames.length < batch)
      buffers.validFrames = new Int32Array(Math.max(batch, this.#maxBatch));
    const { samples, validFrames } = buffers;
    requests.forEach((r, b) => {
      if (!r.audio)
        throw new Error(`chunk ${b} carries no audio, and the model computes its features from audio`);
      const valid = (r.validTo ?? r.to) - r.from;
      validFrames[b] = valid;
      if (valid > 0) r.audio.copyFrameSamples(r.from, r.from + valid, samples, b * perItem);
    });
    return { samples, samplesPerItem: perItem, validFrames };
  }

  /** One batched tensor per state: each request's slice in batch order. */
  #stackStates(requests: readonly ChunkRequest[], buffers: PassBuffers): StateValue[] | undefined {
    const specs = this.#model.spec.cacheAware?.states;
    if (!specs) return undefined;
    const batch = requests.length;
    // One stream's pass takes its state as it is.
    if (batch === 1) return specs.map((st, i) => stateOf(requests[0]!, 0, st, i));
    return specs.map((st, i) => {
      let buffer = buffers.states[i];
      if (!buffer || buffer.length < batch * st.itemSize)
        buffer = buffers.states[i] = allocateState(st, Math.max(batch, this.#maxBatch));
      requests.forEach((r, b) =>
        (buffer as Float32Array).set(stateOf(r, b, st, i) as Float32Array, b * st.itemSize),
      );
      return buffer;
    });
  }

  /** Rejects what is queued; a pass already running finishes. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    const pending = this.#queue.splice(0);
    this.#queuedWeight = 0;
    for (const item of pending) item.reject(new Error("the recognizer engine is closing"));
  }
}

/** Request b's value of state tensor i, checked against the tensor's size. */
function stateOf(request: ChunkRequest, b: number, spec: ModelStateSpec, i: number): StateValue {
  const value = request.state?.[i];
  if (!value || value.length !== spec.itemSize)
    throw new Error(`chunk ${b} carries no ${spec.input} state of ${spec.itemSize} values`);
  return value;
}
