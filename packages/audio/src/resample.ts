import { AudioFormatError } from "./errors.ts";
import { requireSampleRate } from "./pcm.ts";

// Passband to 85 % of the lower Nyquist frequency (3.4 kHz at 8 kHz: the whole telephone band) and
// stopband from the Nyquist frequency itself, so whatever could alias is 80 dB down.
const PASSBAND_EDGE = 0.85;
const STOPBAND_ATTENUATION_DB = 80;
// Odd ratios such as 44101 -> 8000 would need a phase per output position; refuse rather than use
// hundreds of megabytes.
const MAX_COEFFICIENTS = 1 << 22;
const MAX_CACHED_FILTERS = 16;

/** Band-limited interpolation between two rates whose ratio reduces to up/down (L/M). */
interface PolyphaseFilter {
  up: number;
  down: number;
  /** Taps on each side of the output instant, in input samples. */
  halfLength: number;
  tapsPerPhase: number;
  /** `up` rows of `tapsPerPhase` taps; row p serves outputs that fall p/up past an input sample. */
  coefficients: Float32Array;
}

/** Where the next output falls in the input: `phase / up` samples past input sample `base`. */
interface OutputPosition {
  base: number;
  phase: number;
}

const filterCache = new Map<string, PolyphaseFilter>();

/**
 * Resamples a whole signal at once. Int16 input is read as PCM16 (full scale 32768); the output is
 * float with full scale 1. Silence is assumed before and after, so the output has
 * ceil(length * toRate / fromRate) samples aligned with the input.
 */
export function resample(input: Float32Array | Int16Array, fromRate: number, toRate: number): Float32Array {
  const filter = polyphaseFilter(fromRate, toRate);
  const lead = filter.halfLength - 1;
  const padded = new Float32Array(lead + input.length + filter.halfLength);
  copyAsFloat(input, padded, lead);
  const output = new Float32Array(outputLength(input.length, filter));
  renderOutputs(filter, padded, -lead, { base: 0, phase: 0 }, output);
  return output;
}

/**
 * Resamples a stream chunk by chunk. The concatenated outputs of push() and the final flush() equal
 * resample() of the concatenated input, sample for sample. Output lags input by the filter's half
 * length (about 4 ms at 8 kHz); flush() emits the tail and readies the resampler for a new stream.
 */
export class StreamingResampler {
  readonly #filter: PolyphaseFilter;
  #buffer: Float32Array;
  /** Input index (counting from the stream's first sample) of #buffer[0]; negative for the lead-in. */
  #bufferStart = 0;
  #bufferLength = 0;
  #received = 0;
  #produced = 0;
  readonly #next: OutputPosition = { base: 0, phase: 0 };

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    this.#filter = polyphaseFilter(fromRate, toRate);
    this.#buffer = new Float32Array(4 * this.#filter.tapsPerPhase);
    this.reset();
  }

  push(chunk: Float32Array | Int16Array): Float32Array {
    this.#append(chunk, chunk.length);
    this.#received += chunk.length;
    const { up, down, halfLength } = this.#filter;
    // Output n needs input up to floor(n * down / up) + halfLength.
    const ready = this.#received > halfLength ? Math.ceil(((this.#received - halfLength) * up) / down) : 0;
    return this.#render(ready - this.#produced);
  }

  flush(): Float32Array {
    this.#append(null, this.#filter.halfLength);
    const tail = this.#render(outputLength(this.#received, this.#filter) - this.#produced);
    this.reset();
    return tail;
  }

  /** Forgets the stream so far, as if newly constructed. */
  reset(): void {
    const lead = this.#filter.halfLength - 1;
    this.#buffer.fill(0, 0, lead);
    this.#bufferStart = -lead;
    this.#bufferLength = lead;
    this.#received = 0;
    this.#produced = 0;
    this.#next.base = 0;
    this.#next.phase = 0;
  }

  /** Appends `length` samples of `chunk`, or of silence when chunk is null. */
  #append(chunk: Float32Array | Int16Array | null, length: number): void {
    const firstNeeded = this.#next.base - (this.#filter.halfLength - 1);
    const unneeded = Math.min(firstNeeded - this.#bufferStart, this.#bufferLength);
    if (unneeded > 0) {
      this.#buffer.copyWithin(0, unneeded, this.#bufferLength);
      this.#bufferStart += unneeded;
      this.#bufferLength -= unneeded;
    }
    const needed = this.#bufferLength + length;
    if (needed > this.#buffer.length) {
      const grown = new Float32Array(Math.max(needed, 2 * this.#buffer.length));
      grown.set(this.#buffer.subarray(0, this.#bufferLength));
      this.#buffer = grown;
    }
    if (chunk) copyAsFloat(chunk, this.#buffer, this.#bufferLength);
    else this.#buffer.fill(0, this.#bufferLength, needed);
    this.#bufferLength = needed;
  }

  #render(count: number): Float32Array {
    const output = new Float32Array(Math.max(0, count));
    renderOutputs(this.#filter, this.#buffer, this.#bufferStart, this.#next, output);
    this.#produced += output.length;
    return output;
  }
}

/** Fills `output` from `input`, whose first element is input sample `inputStart`; advances `next`. */
function renderOutputs(
  filter: PolyphaseFilter,
  input: Float32Array,
  inputStart: number,
  next: OutputPosition,
  output: Float32Array,
): void {
  const { up, down, tapsPerPhase, coefficients } = filter;
  const reach = filter.halfLength - 1 + inputStart;
  for (let n = 0; n < output.length; n++) {
    const first = next.base - reach;
    const row = next.phase * tapsPerPhase;
    let sum = 0;
    for (let tap = 0; tap < tapsPerPhase; tap++) sum += coefficients[row + tap]! * input[first + tap]!;
    output[n] = sum;
    const phase = next.phase + down;
    next.base += Math.floor(phase / up);
    next.phase = phase % up;
  }
}

function outputLength(inputLength: number, filter: PolyphaseFilter): number {
  return Math.ceil((inputLength * filter.up) / filter.down);
}

function copyAsFloat(source: Float32Array | Int16Array, target: Float32Array, offset: number): void {
  if (source instanceof Float32Array) {
    target.set(source, offset);
    return;
  }
  for (let i = 0; i < source.length; i++) target[offset + i] = source[i]! / 32768;
}

function polyphaseFilter(fromRate: number, toRate: number): PolyphaseFilter {
  requireSampleRate(fromRate);
  requireSampleRate(toRate);
  const divisor = greatestCommonDivisor(fromRate, toRate);
  const up = toRate / divisor;
  const down = fromRate / divisor;
  const key = `${up}/${down}`;
  let filter = filterCache.get(key);
  if (!filter) {
    filter = designFilter(up, down, fromRate, toRate);
    if (filterCache.size >= MAX_CACHED_FILTERS) filterCache.delete(filterCache.keys().next().value!);
    filterCache.set(key, filter);
  }
  return filter;
}

function designFilter(up: number, down: number, fromRate: number, toRate: number): PolyphaseFilter {
  if (up === 1 && down === 1) {
    return { up, down, halfLength: 1, tapsPerPhase: 2, coefficients: Float32Array.of(1, 0) };
  }
  // Frequencies in cycles per input sample.
  const nyquist = 0.5 * Math.min(1, up / down);
  const transition = (1 - PASSBAND_EDGE) * nyquist;
  const cutoff = nyquist - transition / 2;
  // Kaiser's estimates of the window length and shape for the wanted attenuation and transition.
  const length = Math.ceil((STOPBAND_ATTENUATION_DB - 7.95) / (14.36 * transition)) + 1;
  const beta = 0.1102 * (STOPBAND_ATTENUATION_DB - 8.7);
  const halfLength = Math.ceil(length / 2);
  const tapsPerPhase = 2 * halfLength;
  if (up * tapsPerPhase > MAX_COEFFICIENTS) {
    throw new AudioFormatError(
      "unsupported-ratio",
      `resampling ${fromRate} Hz to ${toRate} Hz needs ${up} filter phases of ${tapsPerPhase} taps, ` +
        `too many to hold; convert the audio to a common rate first, e.g. \`sox in.wav -r 16000 out.wav\``,
    );
  }
  const coefficients = new Float32Array(up * tapsPerPhase);
  const windowScale = 1 / besselI0(beta);
  for (let phase = 0; phase < up; phase++) {
    const row = coefficients.subarray(phase * tapsPerPhase, (phase + 1) * tapsPerPhase);
    let sum = 0;
    for (let tap = 0; tap < tapsPerPhase; tap++) {
      // Distance from the output instant to this tap's input sample.
      const distance = phase / up + halfLength - 1 - tap;
      const edge = distance / halfLength;
      const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - edge * edge))) * windowScale;
      row[tap] = 2 * cutoff * sinc(2 * cutoff * distance) * window;
      sum += row[tap]!;
    }
    // Unity gain at DC in every phase, so no phase-dependent ripple on steady signals.
    for (let tap = 0; tap < tapsPerPhase; tap++) row[tap] = row[tap]! / sum;
  }
  return { up, down, halfLength, tapsPerPhase, coefficients };
}

function sinc(x: number): number {
  return x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
}

/** Modified Bessel function of the first kind, order zero, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; term > 1e-12 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
