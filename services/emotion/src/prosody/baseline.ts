import type { ProsodyFeatures } from "./features.ts";

export const PROSODY_MEASURES = ["energyDb", "pitchSt", "pitchRangeSt", "logRate"] as const;
export type ProsodyMeasure = (typeof PROSODY_MEASURES)[number];

/**
 * One speaker's running baseline: each measure's mean over the segments heard so far, weighted by
 * their voiced seconds. Constant size however long the call.
 */
export class SpeakerBaseline {
  readonly #sum = new Float64Array(PROSODY_MEASURES.length);
  readonly #weight = new Float64Array(PROSODY_MEASURES.length);
  #voicedS = 0;

  /** Seconds of voiced speech the baseline rests on. */
  get voicedS(): number {
    return this.#voicedS;
  }

  add(features: ProsodyFeatures): void {
    const w = features.voicedS;
    if (!(w > 0)) return;
    PROSODY_MEASURES.forEach((measure, i) => {
      const value = features[measure];
      if (Number.isFinite(value)) {
        this.#sum[i] = this.#sum[i]! + w * value;
        this.#weight[i] = this.#weight[i]! + w;
      }
    });
    this.#voicedS += w;
  }

  /** The measure's baseline; NaN when the speaker has not given it yet. */
  mean(measure: ProsodyMeasure): number {
    const i = PROSODY_MEASURES.indexOf(measure);
    return this.#weight[i]! > 0 ? this.#sum[i]! / this.#weight[i]! : NaN;
  }
}
