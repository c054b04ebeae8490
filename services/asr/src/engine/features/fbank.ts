import { RealFft } from "./fft.ts";
import { createMelBank, type MelBank } from "./mel.ts";

/** Log-mel filterbank settings in samples, resolved from a manifest's `features` block. */
export interface FbankConfig {
  sampleRate: number;
  dim: number;
  frameLength: number;
  frameShift: number;
  nFft: number;
  window: "hann-periodic" | "hann-symmetric" | "hamming" | "povey" | "rectangular";
  preemphasis: number;
  removeDcOffset: boolean;
  melLowHz: number;
  melHighHz: number;
  melScale: "slaney" | "htk";
  melNorm: "slaney" | "none";
  logFloor: number;
  snipEdges: boolean;
  /** Multiplies samples in [-1, 1) before framing (32768 for extractors that expect PCM16 values). */
  sampleScale: number;
}

/** Kaldi's frame count for `samples` samples. */
export function frameCount(config: FbankConfig, samples: number): number {
  if (config.snipEdges)
    return samples < config.frameLength
      ? 0
      : 1 + Math.floor((samples - config.frameLength) / config.frameShift);
  return Math.floor((samples + Math.floor(config.frameShift / 2)) / config.frameShift);
}

/** First sample of frame `frame` (negative for centred frames at the start: those samples are reflected). */
export function frameStart(config: FbankConfig, frame: number): number {
  if (config.snipEdges) return frame * config.frameShift;
  return frame * config.frameShift + Math.floor(config.frameShift / 2) - Math.floor(config.frameLength / 2);
}

/** The mel filterbank these settings describe. */
export function melBankFor(config: FbankConfig): MelBank {
  return createMelBank({
    sampleRate: config.sampleRate,
    nFft: config.nFft,
    bins: config.dim,
    lowHz: config.melLowHz,
    highHz: config.melHighHz,
    scale: config.melScale,
    norm: config.melNorm,
  });
}

/** The analysis window these settings describe, as the extractor applies it. */
export function windowFunction(config: FbankConfig): Float64Array {
  const n = config.frameLength;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (config.window) {
      case "hann-periodic":
        w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
        break;
      case "hann-symmetric":
        w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
        break;
      case "hamming":
        w[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (n - 1));
        break;
      case "povey":
        w[i] = Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)), 0.85);
        break;
      case "rectangular":
        w[i] = 1;
        break;
    }
  }
  // The reference computes the periodic Hann window in float32.
  if (config.window === "hann-periodic") for (let i = 0; i < n; i++) w[i] = Math.fround(w[i]!);
  return w;
}

/**
 * Computes one frame at a time from any sample source. Scratch buffers are allocated once; the
 * whole-utterance function and the streaming extractor share this code, so they agree exactly.
 */
export class FbankExtractor {
  readonly config: FbankConfig;
  readonly #fft: RealFft;
  readonly #window: Float64Array;
  /** The mel filters packed end to end: filter b weights bins melFirstBin[b]… with melWeights[melStart[b]…melStart[b+1]). */
  readonly #melWeights: Float64Array;
  readonly #melStart: Int32Array;
  readonly #melFirstBin: Int32Array;
  readonly #frame: Float64Array;
  readonly #power: Float64Array;

  constructor(config: FbankConfig) {
    if (config.nFft < config.frameLength) {
      throw new RangeError(`nFft ${config.nFft} is shorter than the ${config.frameLength}-sample frame`);
    }
    this.config = config;
    this.#fft = new RealFft(config.nFft);
    this.#window = windowFunction(config);
    const mel = melBankFor(config);
    this.#melStart = new Int32Array(config.dim + 1);
    mel.weights.forEach((w, b) => (this.#melStart[b + 1] = this.#melStart[b]! + w.length));
    this.#melWeights = new Float64Array(this.#melStart[config.dim]!);
    mel.weights.forEach((w, b) => this.#melWeights.set(w, this.#melStart[b]));
    this.#melFirstBin = mel.first;
    this.#frame = new Float64Array(config.nFft);
    this.#power = new Float64Array(config.nFft / 2 + 1);
  }

  /**
   * Frame `frame` of a signal of `total` samples (`total` = Infinity while the end is unknown), reading
   * sample i at samples[i - offset]. Writes `dim` log-mel values at output[outputOffset…].
   */
  computeFrame(
    samples: Float32Array,
    offset: number,
    total: number,
    frame: number,
    output: Float32Array,
    outputOffset: number,
  ): void {
    const start = frameStart(this.config, frame);
    if (start >= 0 && start + this.config.frameLength <= total) this.#loadContiguous(samples, start - offset);
    else this.#loadReflected(samples, offset, total, start);
    this.#logMel(output, outputOffset, 1);
  }

  /**
   * `frames` consecutive frames whose samples lie end to end in `samples` from `from` (frame t reads
   * frameLength samples from from + t·frameShift, edges already reflected, as FeatureStream.copyFrameSamples
   * gives them). Value d of frame t goes to output[outputOffset + d·stride + t]: the [dim, frames] layout
   * the acoustic model takes. The values equal computeFrame's for the same frames.
   */
  computeFrames(
    samples: Float32Array,
    from: number,
    frames: number,
    output: Float32Array,
    outputOffset: number,
    stride: number,
  ): void {
    for (let t = 0; t < frames; t++) {
      this.#loadContiguous(samples, from + t * this.config.frameShift);
      this.#logMel(output, outputOffset + t, stride);
    }
  }

  /** The frame from samples[from…], all inside the signal. */
  #loadContiguous(samples: Float32Array, from: number): void {
    const { frameLength, preemphasis, sampleScale, removeDcOffset } = this.config;
    const x = this.#frame;
    const window = this.#window;
    if (removeDcOffset) {
      for (let i = 0; i < frameLength; i++) x[i] = samples[from + i]! * sampleScale;
      this.#finishFrame();
      return;
    }
    // Pre-emphasis and window straight from the samples, y[i] = (s[i] − p·s[i−1])·w[i] with
    // y[0] = (s[0] − p·s[0])·w[0]: the same arithmetic as #finishFrame, in one pass.
    let previous = samples[from]! * sampleScale;
    for (let i = 0; i < frameLength; i++) {
      const current = samples[from + i]! * sampleScale;
      x[i] = (current - preemphasis * previous) * window[i]!;
      previous = current;
    }
  }

  /** A frame that reaches past an edge of the signal: Kaldi's reflection at both edges. */
  #loadReflected(samples: Float32Array, offset: number, total: number, start: number): void {
    const { frameLength, sampleScale } = this.config;
    const x = this.#frame;
    for (let i = 0; i < frameLength; i++) {
      const index = reflectIndex(start + i, total);
      x[i] = index < 0 ? 0 : samples[index - offset]! * sampleScale;
    }
    this.#finishFrame();
  }

  /** DC removal (when configured), then pre-emphasis and window, on the raw frame in #frame. */
  #finishFrame(): void {
    const { frameLength, preemphasis, removeDcOffset } = this.config;
    const x = this.#frame;
    const window = this.#window;
    if (removeDcOffset) {
      let sum = 0;
      for (let i = 0; i < frameLength; i++) sum += x[i]!;
      const mean = sum / frameLength;
      for (let i = 0; i < frameLength; i++) x[i] = x[i]! - mean;
    }
    // Pre-emphasis and window in one backward pass (x[i-1] is still unwindowed when x[i] is done).
    for (let i = frameLength - 1; i > 0; i--) x[i] = (x[i]! - preemphasis * x[i - 1]!) * window[i]!;
    x[0] = (x[0]! - preemphasis * x[0]!) * window[0]!;
  }

  /** Power spectrum, mel energies and their logs of the frame in #frame, value b at output[offset + b·stride]. */
  #logMel(output: Float32Array, outputOffset: number, stride: number): void {
    const x = this.#frame;
    x.fill(0, this.config.frameLength);
    this.#fft.powerSpectrum(x, this.#power);
    const power = this.#power;
    const weights = this.#melWeights;
    const bounds = this.#melStart;
    const firstBin = this.#melFirstBin;
    const floor = this.config.logFloor;
    const dim = firstBin.length;
    for (let b = 0; b < dim; b++) {
      const end = bounds[b + 1]!;
      let k = firstBin[b]!;
      let energy = 0;
      for (let j = bounds[b]!; j < end; j++, k++) energy += weights[j]! * power[k]!;
      output[outputOffset + b * stride] = Math.log(energy > floor ? energy : floor);
    }
  }
}

/**
 * Where sample `index` of a signal of `total` samples is read from: Kaldi's reflection at both edges
 * (repeated for signals shorter than a frame); -1 when it stays outside (the sample counts as zero).
 */
function reflectIndex(index: number, total: number): number {
  for (let k = 0; k < 4 && (index < 0 || index >= total); k++) {
    if (index < 0) index = -index - 1;
    if (index >= total) index = 2 * total - 1 - index;
  }
  return index < 0 || index >= total ? -1 : index;
}

/** Frame-major features [frames × dim] of a whole signal in [-1, 1). */
export function computeFbank(
  extractor: FbankExtractor,
  samples: Float32Array,
): { frames: number; data: Float32Array } {
  const { dim } = extractor.config;
  const frames = frameCount(extractor.config, samples.length);
  const data = new Float32Array(frames * dim);
  for (let f = 0; f < frames; f++) extractor.computeFrame(samples, 0, samples.length, f, data, f * dim);
  return { frames, data };
}

/**
 * Growing frame-major feature matrix of which only a recent window is kept: `start` is the absolute
 * index of the first kept frame, `end` one past the last. Storage doubles when needed and is
 * compacted in place, so a long utterance does not allocate per frame.
 */
export class FrameBuffer {
  readonly dim: number;
  #data: Float32Array;
  #start = 0;
  #end = 0;
  /** Index in #data of frame #start. */
  #base = 0;

  constructor(dim: number, initialFrames = 512) {
    this.dim = dim;
    this.#data = new Float32Array(dim * initialFrames);
  }

  get start(): number {
    return this.#start;
  }

  get end(): number {
    return this.#end;
  }

  /** Room for one more frame; the caller writes `dim` values at the returned offset of `data`. */
  appendFrame(): number {
    const used = this.#end - this.#start;
    const capacity = this.#data.length / this.dim;
    if (this.#base + used >= capacity) {
      if (used * 2 > capacity) {
        const grown = new Float32Array(this.#data.length * 2);
        grown.set(this.#data.subarray(this.#base * this.dim, (this.#base + used) * this.dim));
        this.#data = grown;
      } else {
        this.#data.copyWithin(0, this.#base * this.dim, (this.#base + used) * this.dim);
      }
      this.#base = 0;
    }
    const offset = (this.#base + used) * this.dim;
    this.#end++;
    return offset;
  }

  get data(): Float32Array {
    return this.#data;
  }

  /** Offset in `data` of absolute frame `frame` (which must be kept). */
  offsetOf(frame: number): number {
    if (frame < this.#start || frame > this.#end)
      throw new RangeError(`frame ${frame} is outside ${this.#start}..${this.#end}`);
    return (this.#base + frame - this.#start) * this.dim;
  }

  /** Forgets frames before `frame`. */
  discardBefore(frame: number): void {
    const target = Math.min(Math.max(frame, this.#start), this.#end);
    this.#base += target - this.#start;
    this.#start = target;
  }

  clear(): void {
    this.#start = 0;
    this.#end = 0;
    this.#base = 0;
  }
}

/**
 * Streaming log-mel: accepts audio in any chunking and counts a frame ready as soon as every sample it
 * covers has arrived; finish() adds the edge frames. Computing frames, it appends each to `frames` (they
 * equal computeFbank() of the concatenated audio). Keeping samples instead (`computeFrames: false`), it
 * leaves `frames` empty and keeps the samples of every frame from the one given to discardBefore() on, for
 * copyFrameSamples(): the model's feature front end then computes the frames in the pass.
 */
export class FeatureStream {
  readonly extractor: FbankExtractor;
  readonly frames: FrameBuffer;
  readonly computesFrames: boolean;
  #samples: Float32Array;
  /** Absolute index of #samples[0]. */
  #offset = 0;
  #length = 0;
  #received = 0;
  #nextFrame = 0;
  /** Without computing: the first frame whose samples are still needed. */
  #keepFrame = 0;
  #finished = false;

  constructor(extractor: FbankExtractor, options: { frames?: FrameBuffer; computeFrames?: boolean } = {}) {
    this.extractor = extractor;
    this.computesFrames = options.computeFrames ?? true;
    this.frames = options.frames ?? new FrameBuffer(extractor.config.dim, this.computesFrames ? 512 : 0);
    this.#samples = new Float32Array(4 * extractor.config.frameLength + 4096);
  }

  get samplesReceived(): number {
    return this.#received;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Frames ready: every sample they cover has arrived (or the audio has ended). */
  get framesReady(): number {
    return this.#nextFrame;
  }

  /** Appends samples in [-1, 1); returns how many frames became ready. */
  accept(chunk: Float32Array): number {
    if (this.#finished) throw new Error("FeatureStream.accept after finish");
    this.#append(chunk);
    const { frameLength } = this.extractor.config;
    let produced = 0;
    while (frameStart(this.extractor.config, this.#nextFrame) + frameLength <= this.#received) {
      this.#compute(Infinity);
      produced++;
    }
    this.#trim();
    return produced;
  }

  /** The audio has ended: the remaining (edge) frames are ready; returns how many. */
  finish(): number {
    if (this.#finished) return 0;
    this.#finished = true;
    const total = frameCount(this.extractor.config, this.#received);
    let produced = 0;
    while (this.#nextFrame < total) {
      this.#compute(this.#received);
      produced++;
    }
    return produced;
  }

  /** Frames before `frame` are no longer needed. */
  discardBefore(frame: number): void {
    if (this.computesFrames) this.frames.discardBefore(frame);
    else this.#keepFrame = Math.max(this.#keepFrame, Math.min(frame, this.#nextFrame));
  }

  /**
   * The samples frames [from, to) read, end to end (frame t's from (t − from)·frameShift), edges reflected
   * as computeFrame reflects them, into dest[destOffset…]: the audio input of a pass through the feature
   * front end (or of FbankExtractor.computeFrames). Only without computing frames, and only for ready frames
   * not discarded.
   */
  copyFrameSamples(from: number, to: number, dest: Float32Array, destOffset: number): void {
    if (this.computesFrames)
      throw new Error("FeatureStream.copyFrameSamples on a stream that computes frames");
    if (from < this.#keepFrame || to > this.#nextFrame || from >= to)
      throw new RangeError(`frames ${from}..${to} are outside ${this.#keepFrame}..${this.#nextFrame}`);
    const { frameShift, frameLength } = this.extractor.config;
    const start = frameStart(this.extractor.config, from);
    const count = (to - from - 1) * frameShift + frameLength;
    if (start >= this.#offset && start + count <= this.#received) {
      dest.set(this.#samples.subarray(start - this.#offset, start - this.#offset + count), destOffset);
      return;
    }
    const total = this.#finished ? this.#received : Infinity;
    for (let i = 0; i < count; i++) {
      const index = reflectIndex(start + i, total);
      dest[destOffset + i] = index < 0 ? 0 : this.#samples[index - this.#offset]!;
    }
  }

  #compute(total: number): void {
    if (this.computesFrames) {
      const at = this.frames.appendFrame();
      this.extractor.computeFrame(this.#samples, this.#offset, total, this.#nextFrame, this.frames.data, at);
    }
    this.#nextFrame++;
  }

  #append(chunk: Float32Array): void {
    const needed = this.#length + chunk.length;
    if (needed > this.#samples.length) {
      const grown = new Float32Array(Math.max(needed, 2 * this.#samples.length));
      grown.set(this.#samples.subarray(0, this.#length));
      this.#samples = grown;
    }
    this.#samples.set(chunk, this.#length);
    this.#length = needed;
    this.#received += chunk.length;
  }

  /**
   * Drops samples no future frame reads (keeps the start while centred frames still reflect into it).
   * Keeping samples, it also keeps those of the frames not discarded, and one frame's length before them,
   * where a last frame reflects.
   */
  #trim(): void {
    const { frameLength } = this.extractor.config;
    const firstFrame = this.computesFrames ? this.#nextFrame : this.#keepFrame;
    const keepFrom = Math.max(
      0,
      frameStart(this.extractor.config, firstFrame) - (this.computesFrames ? 0 : frameLength),
    );
    if (keepFrom <= this.#offset || keepFrom - this.#offset < this.#samples.length / 2) return;
    const drop = keepFrom - this.#offset;
    this.#samples.copyWithin(0, drop, this.#length);
    this.#length -= drop;
    this.#offset = keepFrom;
  }
}
