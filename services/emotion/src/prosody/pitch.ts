/**
 * Pitch of one frame by normalised cross-correlation (the NCCF of RAPT/YIN-style trackers), on audio
 * at 8 kHz. Returns the fundamental in Hz, or 0 for an unvoiced frame.
 *
 * The shortest lag whose correlation is within `octaveTolerance` of the best is taken: multiples of the
 * period correlate almost as well as the period itself, so the best alone jumps an octave down.
 */
export interface PitchRange {
  sampleRate: number;
  minHz: number;
  maxHz: number;
  voicingThreshold: number;
}

export const defaultPitchRange: PitchRange = {
  sampleRate: 8000,
  minHz: 60,
  maxHz: 400,
  voicingThreshold: 0.55,
};

export class PitchTracker {
  readonly #minLag: number;
  readonly #maxLag: number;
  readonly #nccf: Float32Array;

  constructor(readonly range: PitchRange = defaultPitchRange) {
    this.#minLag = Math.floor(range.sampleRate / range.maxHz);
    this.#maxLag = Math.ceil(range.sampleRate / range.minHz);
    this.#nccf = new Float32Array(this.#maxLag + 1);
  }

  /** Samples the frame needs: a window plus the longest lag. */
  get span(): number {
    return this.#maxLag * 2;
  }

  /** `audio[start .. start + span)` must exist. */
  pitchAt(audio: Float32Array, start: number, octaveTolerance = 0.85): number {
    const window = this.#maxLag;
    let e0 = 0;
    for (let i = 0; i < window; i++) e0 += audio[start + i]! * audio[start + i]!;
    if (e0 <= 1e-9) return 0;
    let best = 0;
    const nccf = this.#nccf;
    // Energy of the lagged window, updated incrementally as the lag grows.
    let eLag = 0;
    for (let i = 0; i < window; i++)
      eLag += audio[start + this.#minLag + i]! * audio[start + this.#minLag + i]!;
    for (let lag = this.#minLag; lag <= this.#maxLag; lag++) {
      let cross = 0;
      const base = start + lag;
      for (let i = 0; i < window; i++) cross += audio[start + i]! * audio[base + i]!;
      const value = eLag > 1e-9 ? cross / Math.sqrt(e0 * eLag) : 0;
      nccf[lag] = value;
      if (value > best) best = value;
      const out = audio[base]!;
      const into = audio[base + window] ?? 0;
      eLag += into * into - out * out;
    }
    if (best < this.range.voicingThreshold) return 0;
    for (let lag = this.#minLag + 1; lag < this.#maxLag; lag++) {
      const v = nccf[lag]!;
      if (v >= octaveTolerance * best && v >= nccf[lag - 1]! && v >= nccf[lag + 1]!) {
        // Parabolic interpolation around the peak for a sub-sample period.
        const a = nccf[lag - 1]!;
        const c = nccf[lag + 1]!;
        const denominator = a - 2 * v + c;
        const shift = denominator < 0 ? (0.5 * (a - c)) / denominator : 0;
        return this.range.sampleRate / (lag + shift);
      }
    }
    return 0;
  }
}
