import { AROUSAL_LABELS, UNMEASURED_LABEL } from "../classes.ts";
import { PROSODY_MEASURES, type ProsodyMeasure, type SpeakerBaseline } from "./baseline.ts";
import type { ProsodyFeatures } from "./features.ts";

export interface ArousalParameters {
  /** A typical within-speaker spread of each measure (from the recipe's calibration). */
  scales: Record<ProsodyMeasure, number>;
  weights: Record<ProsodyMeasure, number>;
  /** The weighted deviation that maps to arousal tanh(1) ≈ 0.76 (from the recipe's calibration). */
  arousalScale: number;
  /** Population values used before the speaker has a baseline; only scale-free measures belong here. */
  reference: Partial<Record<ProsodyMeasure, number>>;
  /** Voiced seconds the speaker's baseline needs before it replaces the population reference. */
  minBaselineS: number;
  /** Arousal at or below `calm` is calm, at or above `agitated` agitated. */
  bands: { calm: number; agitated: number };
}

export interface ArousalScore {
  label: string;
  scores: { label: string; score: number }[];
  arousal: number;
  /** Deviation of each measure from the baseline in scale units (NaN where it was not measured). */
  deviations: Record<ProsodyMeasure, number>;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * Arousal from how far a segment's prosody sits from the speaker's baseline: a weighted mean of the
 * measures' deviations in units of their within-speaker spread, scaled and squashed into -1..1. Louder, higher,
 * wider-ranging and faster speech than the speaker's own raises it.
 */
export function scoreArousal(
  features: ProsodyFeatures,
  baseline: SpeakerBaseline | null,
  params: ArousalParameters,
): ArousalScore {
  const useBaseline = baseline !== null && baseline.voicedS >= params.minBaselineS;
  let sum = 0;
  let weights = 0;
  const deviations = {} as Record<ProsodyMeasure, number>;
  for (const measure of PROSODY_MEASURES) {
    deviations[measure] = NaN;
    const value = features[measure];
    const reference = useBaseline ? baseline.mean(measure) : (params.reference[measure] ?? NaN);
    if (!Number.isFinite(value) || !Number.isFinite(reference)) continue;
    const z = clamp((value - reference) / params.scales[measure], -4, 4);
    deviations[measure] = z;
    sum += params.weights[measure] * z;
    weights += params.weights[measure];
  }
  if (weights === 0) {
    return {
      label: UNMEASURED_LABEL,
      scores: [{ label: UNMEASURED_LABEL, score: 1 }],
      arousal: 0,
      deviations,
    };
  }
  const arousal = Math.tanh(sum / weights / params.arousalScale);
  return { ...bandScores(arousal, params.bands), arousal, deviations };
}

/** Scores of the three bands (softmax, equal at each band edge), and the most probable. */
function bandScores(arousal: number, bands: { calm: number; agitated: number }) {
  const sharpness = 10;
  const logits = [sharpness * (bands.calm - arousal), 0, sharpness * (arousal - bands.agitated)];
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const scores = AROUSAL_LABELS.map((label, i) => ({ label, score: exps[i]! / total }));
  const best = scores.reduce((a, b) => (b.score > a.score ? b : a));
  return { label: best.label, scores };
}
