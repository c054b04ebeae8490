import type { LanguageLabel } from "./manifest.ts";

/** BCP-47's "undetermined". */
export const UNDETERMINED = "und";

export interface LanguageTag {
  /** Primary language subtag (`es`), or `und`. */
  language: string;
  /** The most likely tag within that language (`es-419`, `it`), or `und`. */
  dialect: string;
  /** Probability of `language` (summed over its variants), 0 with no evidence. */
  confidence: number;
}

export const undetermined = (confidence = 0): LanguageTag => ({
  language: UNDETERMINED,
  dialect: UNDETERMINED,
  confidence,
});

/**
 * The tag of averaged log-posteriors: the language whose variants together are most probable, and its
 * most probable variant; `und` when that language's probability is below `undBelow`.
 */
export function decideLanguage(
  meanLogProbs: Float32Array | Float64Array,
  labels: readonly LanguageLabel[],
  undBelow: number,
): LanguageTag {
  let max = -Infinity;
  for (const v of meanLogProbs) max = Math.max(max, v);
  const p = Array.from(meanLogProbs, (v) => Math.exp(v - max));
  const total = p.reduce((a, b) => a + b, 0);
  const byLanguage = new Map<string, number>();
  labels.forEach((label, i) =>
    byLanguage.set(label.language, (byLanguage.get(label.language) ?? 0) + p[i]! / total),
  );
  let language = UNDETERMINED;
  let confidence = 0;
  for (const [lang, prob] of byLanguage) if (prob > confidence) [language, confidence] = [lang, prob];
  if (confidence < undBelow) return undetermined(confidence);
  let best = -1;
  labels.forEach((label, i) => {
    if (label.language === language && (best < 0 || p[i]! > p[best]!)) best = i;
  });
  return { language, dialect: labels[best]!.tag, confidence };
}

/**
 * Evidence about one speaker's language gathered over a call: log-posteriors of each classified
 * utterance, averaged (a normalised geometric mean of the posteriors), so each utterance refines the
 * tag and one odd utterance cannot flip a call the others agree on.
 */
export class LanguageEvidence {
  readonly #sum: Float64Array;
  #count = 0;

  constructor(
    readonly labels: readonly LanguageLabel[],
    readonly undBelow: number,
  ) {
    this.#sum = new Float64Array(labels.length);
  }

  get utterances(): number {
    return this.#count;
  }

  add(logProbs: Float32Array): void {
    if (logProbs.length !== this.labels.length)
      throw new RangeError(`${logProbs.length} log-probabilities for ${this.labels.length} labels`);
    for (let i = 0; i < logProbs.length; i++) this.#sum[i]! += logProbs[i]!;
    this.#count++;
  }

  decide(): LanguageTag {
    if (this.#count === 0) return undetermined();
    return decideLanguage(
      this.#sum.map((v) => v / this.#count),
      this.labels,
      this.undBelow,
    );
  }
}

// The recipe's `trim`, so the service classifies audio cut the way the model was trained on.
const ENVELOPE_WINDOW_S = 0.02;
const SPEECH_FRACTION_OF_PEAK = 0.04;
const SPEECH_MARGIN_S = 0.1;

/**
 * The part of an utterance that holds speech: where its smoothed envelope stands above a fraction of
 * its peak, widened by a margin. VAD segments carry leading and trailing silence the model never saw.
 */
export function speechSpan(samples: Float32Array, sampleRate: number): Float32Array {
  const win = Math.round(sampleRate * ENVELOPE_WINDOW_S);
  const margin = Math.round(sampleRate * SPEECH_MARGIN_S);
  if (samples.length < sampleRate / 20) return samples;
  const avg = new Float32Array(samples.length);
  let acc = 0;
  const half = Math.floor(win / 2);
  // Centred moving average, as numpy's convolve(mode="same") computes it.
  for (let i = -half; i < samples.length; i++) {
    const add = i + win - half - 1;
    if (add < samples.length && add >= 0) acc += Math.abs(samples[add]!);
    const drop = i - half - 1;
    if (drop >= 0) acc -= Math.abs(samples[drop]!);
    if (i >= 0) avg[i] = acc / win;
  }
  let peak = 1e-4;
  for (const v of avg) peak = Math.max(peak, v);
  const threshold = SPEECH_FRACTION_OF_PEAK * peak;
  let first = -1;
  let last = -1;
  for (let i = 0; i < avg.length; i++)
    if (avg[i]! > threshold) {
      if (first < 0) first = i;
      last = i;
    }
  if (first < 0) return samples;
  return samples.subarray(Math.max(0, first - margin), Math.min(samples.length, last + margin));
}
