/**
 * Power spectrum of a real frame with a radix-2 FFT: the n real samples are packed into an n/2-point
 * complex FFT and split afterwards, so a 256-point frame costs a 128-point transform. Every buffer is
 * allocated once per instance; `powerSpectrum` allocates nothing.
 */
export class RealFft {
  readonly size: number;
  readonly #half: number;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  readonly #bitReversed: Uint32Array;
  /** Twiddles of the half-size complex FFT, stage by stage: the stage of span s keeps e^{-iπj/s}, j < s, from index s - 1. */
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  /** Twiddles of the split step: cos/sin(-2πk/size). */
  readonly #splitCos: Float64Array;
  readonly #splitSin: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`FFT size ${size} is not a power of two of at least 4`);
    }
    this.size = size;
    const half = size / 2;
    this.#half = half;
    this.#re = new Float64Array(half);
    this.#im = new Float64Array(half);
    this.#bitReversed = new Uint32Array(half);
    const bits = Math.log2(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#bitReversed[i] = r;
    }
    this.#cos = new Float64Array(half);
    this.#sin = new Float64Array(half);
    for (let span = 1; span < half; span *= 2) {
      for (let j = 0; j < span; j++) {
        this.#cos[span - 1 + j] = Math.cos((-Math.PI * j) / span);
        this.#sin[span - 1 + j] = Math.sin((-Math.PI * j) / span);
      }
    }
    this.#splitCos = new Float64Array(half + 1);
    this.#splitSin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.#splitCos[k] = Math.cos((-2 * Math.PI * k) / size);
      this.#splitSin[k] = Math.sin((-2 * Math.PI * k) / size);
    }
  }

  /** |X[k]|² for k = 0..size/2 of the real signal `input` (length `size`) into `output` (length size/2+1). */
  powerSpectrum(input: Float64Array, output: Float64Array): void {
    const half = this.#half;
    const re = this.#re;
    const im = this.#im;
    for (let i = 0; i < half; i++) {
      const j = this.#bitReversed[i]!;
      re[j] = input[2 * i]!;
      im[j] = input[2 * i + 1]!;
    }
    this.#complexInPlace();
    // Split the packed transform Z into the spectrum X of the real signal:
    // X[k] = (Z[k] + conj(Z[half-k])) / 2 - i/2 · W^k · (Z[k] - conj(Z[half-k])), W = e^{-2πi/size}.
    for (let k = 0; k <= half; k++) {
      const a = k === half ? 0 : k;
      const b = k === 0 ? 0 : half - k;
      const zr = re[a]!;
      const zi = im[a]!;
      const cr = re[b]!;
      const ci = -im[b]!;
      const evenR = 0.5 * (zr + cr);
      const evenI = 0.5 * (zi + ci);
      const diffR = zr - cr;
      const diffI = zi - ci;
      // odd = -i/2 · diff
      const oddR = 0.5 * diffI;
      const oddI = -0.5 * diffR;
      const wr = this.#splitCos[k]!;
      const wi = this.#splitSin[k]!;
      const xr = evenR + wr * oddR - wi * oddI;
      const xi = evenI + wr * oddI + wi * oddR;
      output[k] = xr * xr + xi * xi;
    }
  }

  #complexInPlace(): void {
    const n = this.#half;
    const re = this.#re;
    const im = this.#im;
    const cos = this.#cos;
    const sin = this.#sin;
    // Span 1: the twiddle is 1.
    for (let p = 0; p < n; p += 2) {
      const tr = re[p + 1]!;
      const ti = im[p + 1]!;
      re[p + 1] = re[p]! - tr;
      im[p + 1] = im[p]! - ti;
      re[p] = re[p]! + tr;
      im[p] = im[p]! + ti;
    }
    for (let span = 2; span < n; span *= 2) {
      for (let start = 0; start < n; start += 2 * span) {
        for (let j = 0; j < span; j++) {
          const wr = cos[span - 1 + j]!;
          const wi = sin[span - 1 + j]!;
          const p = start + j;
          const q = p + span;
          const tr = wr * re[q]! - wi * im[q]!;
          const ti = wr * im[q]! + wi * re[q]!;
          re[q] = re[p]! - tr;
          im[q] = im[p]! - ti;
          re[p] = re[p]! + tr;
          im[p] = im[p]! + ti;
        }
      }
    }
  }
}
