/**
 * Power spectrum of a real frame: the n real samples are packed into an n/2-point complex FFT, which
 * runs as radix-4 stages (one radix-2 stage first when log2(n/2) is odd), and split afterwards. A
 * 256-point frame costs a 128-point transform of four passes over the data instead of seven. Every
 * buffer is allocated once per instance; `powerSpectrum` allocates nothing.
 */
export class RealFft {
  readonly size: number;
  readonly #half: number;
  /** The packed complex signal, interleaved: re, im, re, im, … */
  readonly #z: Float64Array;
  readonly #bitReversed: Uint32Array;
  /** Whether the transform starts with a radix-2 stage (log2(half) odd). */
  readonly #radix2First: boolean;
  /**
   * Twiddles of the radix-4 stages, stage after stage: the stage that combines groups of span s keeps,
   * for j < s, W^j, W^2j, W^3j with W = e^{-2πi/4s}, as six numbers (re, im each).
   */
  readonly #twiddles: Float64Array;
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
    this.#z = new Float64Array(2 * half);
    this.#bitReversed = new Uint32Array(half);
    const bits = Math.log2(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#bitReversed[i] = r;
    }
    this.#radix2First = bits % 2 === 1;
    const twiddles: number[] = [];
    for (let span = this.#radix2First ? 2 : 1; span < half; span *= 4) {
      for (let j = 0; j < span; j++) {
        const angle = (-2 * Math.PI * j) / (4 * span);
        twiddles.push(Math.cos(angle), Math.sin(angle));
        twiddles.push(Math.cos(2 * angle), Math.sin(2 * angle));
        twiddles.push(Math.cos(3 * angle), Math.sin(3 * angle));
      }
    }
    this.#twiddles = Float64Array.from(twiddles);
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
    const z = this.#z;
    const reversed = this.#bitReversed;
    // Complex sample i is input[2i] + i·input[2i+1]; loaded in bit-reversed order.
    if (this.#radix2First) {
      // Fused with the span-1 radix-2 stage, whose twiddle is 1.
      for (let i = 0; i < half; i += 2) {
        const p = 2 * reversed[i]!;
        const q = 2 * reversed[i + 1]!;
        const ar = input[p]!;
        const ai = input[p + 1]!;
        const br = input[q]!;
        const bi = input[q + 1]!;
        z[2 * i] = ar + br;
        z[2 * i + 1] = ai + bi;
        z[2 * i + 2] = ar - br;
        z[2 * i + 3] = ai - bi;
      }
    } else {
      for (let i = 0; i < half; i++) {
        const p = 2 * reversed[i]!;
        z[2 * i] = input[p]!;
        z[2 * i + 1] = input[p + 1]!;
      }
    }
    this.#radix4Stages();
    this.#split(output);
  }

  /**
   * Each radix-4 stage does the work of two radix-2 stages (spans s and 2s) in one pass: for the four
   * points a, b, c, d at distance s with B = W^2j·b, C = W^j·c, D = W^3j·d it writes
   * a + B ± (C + D) to a and c, and (a − B) ∓ i(C − D) to b and d.
   */
  #radix4Stages(): void {
    const half = this.#half;
    const z = this.#z;
    const tw = this.#twiddles;
    let stageTwiddles = 0;
    for (let span = this.#radix2First ? 2 : 1; span < half; span *= 4) {
      const step = 2 * span;
      for (let start = 0; start < half; start += 4 * span) {
        for (let j = 0, t = stageTwiddles; j < span; j++, t += 6) {
          const ia = 2 * (start + j);
          const ib = ia + step;
          const ic = ib + step;
          const id = ic + step;
          const w1r = tw[t]!;
          const w1i = tw[t + 1]!;
          const w2r = tw[t + 2]!;
          const w2i = tw[t + 3]!;
          const w3r = tw[t + 4]!;
          const w3i = tw[t + 5]!;
          const ar = z[ia]!;
          const ai = z[ia + 1]!;
          const xr = z[ib]!;
          const xi = z[ib + 1]!;
          const yr = z[ic]!;
          const yi = z[ic + 1]!;
          const vr = z[id]!;
          const vi = z[id + 1]!;
          const bRe = w2r * xr - w2i * xi;
          const bIm = w2r * xi + w2i * xr;
          const cRe = w1r * yr - w1i * yi;
          const cIm = w1r * yi + w1i * yr;
          const dRe = w3r * vr - w3i * vi;
          const dIm = w3r * vi + w3i * vr;
          const sumRe = ar + bRe;
          const sumIm = ai + bIm;
          const difRe = ar - bRe;
          const difIm = ai - bIm;
          const cdSumRe = cRe + dRe;
          const cdSumIm = cIm + dIm;
          const cdDifRe = cRe - dRe;
          const cdDifIm = cIm - dIm;
          z[ia] = sumRe + cdSumRe;
          z[ia + 1] = sumIm + cdSumIm;
          z[ic] = sumRe - cdSumRe;
          z[ic + 1] = sumIm - cdSumIm;
          z[ib] = difRe + cdDifIm;
          z[ib + 1] = difIm - cdDifRe;
          z[id] = difRe - cdDifIm;
          z[id + 1] = difIm + cdDifRe;
        }
      }
      stageTwiddles += 6 * span;
    }
  }

  /**
   * Splits the packed transform Z into the power of the real signal's spectrum X, two bins at a time:
   * with E = Z[k] + conj(Z[half−k]) and O = −i·(Z[k] − conj(Z[half−k])), T = W^k·O (W = e^{−2πi/size}),
   * X[k] = (E + T)/2 and X[half−k] = conj(E − T)/2, so |X[k]|² = |E + T|²/4 and |X[half−k]|² = |E − T|²/4.
   */
  #split(output: Float64Array): void {
    const half = this.#half;
    const z = this.#z;
    const cos = this.#splitCos;
    const sin = this.#splitSin;
    for (let k = 0; k <= half / 2; k++) {
      const m = k === 0 ? 0 : half - k;
      const zr = z[2 * k]!;
      const zi = z[2 * k + 1]!;
      const yr = z[2 * m]!;
      const yi = z[2 * m + 1]!;
      const eRe = zr + yr;
      const eIm = zi - yi;
      const oRe = zi + yi;
      const oIm = yr - zr;
      const wr = cos[k]!;
      const wi = sin[k]!;
      const tRe = wr * oRe - wi * oIm;
      const tIm = wr * oIm + wi * oRe;
      const pRe = eRe + tRe;
      const pIm = eIm + tIm;
      output[k] = 0.25 * (pRe * pRe + pIm * pIm);
      if (k !== half - k) {
        const qRe = eRe - tRe;
        const qIm = eIm - tIm;
        output[half - k] = 0.25 * (qRe * qRe + qIm * qIm);
      }
    }
  }
}
