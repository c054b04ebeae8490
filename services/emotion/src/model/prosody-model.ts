import { scoreArousal, type ArousalParameters } from "../prosody/arousal.ts";
import { SpeakerBaseline } from "../prosody/baseline.ts";
import { measureProsody } from "../prosody/features.ts";
import { PitchTracker } from "../prosody/pitch.ts";
import type { ProsodyManifest } from "./manifest.ts";
import type { EmotionModel, EmotionScore, SegmentInput, SpeakerState } from "./types.ts";

class ProsodySpeaker implements SpeakerState {
  readonly kind = "prosody";
  readonly baseline = new SpeakerBaseline();
}

/**
 * The default model: arousal from pitch level and range, energy and speaking rate, each against the
 * same speaker's baseline earlier in the call. Signal processing in TypeScript rather than a graph:
 * the baseline is state carried between segments, and pitch picking is branchy per-frame logic.
 * Valence is not measured (0).
 */
export function createProsodyModel(manifest: ProsodyManifest): EmotionModel {
  const tracker = new PitchTracker({ sampleRate: 8000, ...manifest.pitch });
  const params: ArousalParameters = {
    scales: manifest.scales,
    weights: manifest.weights,
    arousalScale: manifest.arousalScale,
    reference: manifest.reference,
    minBaselineS: manifest.minBaselineS,
    bands: manifest.bands,
  };
  return {
    info: {
      name: manifest.name,
      version: manifest.version,
      task: "prosody-arousal",
      labels: manifest.labels,
      provider: "cpu",
    },
    newSpeaker: () => new ProsodySpeaker(),
    classify(batch: readonly SegmentInput[]): Promise<EmotionScore[]> {
      return Promise.resolve(
        batch.map(({ samples, speaker }) => {
          const state = speaker instanceof ProsodySpeaker ? speaker : null;
          const features = measureProsody(samples, tracker);
          const score = scoreArousal(features, state?.baseline ?? null, params);
          // The segment joins the baseline only after it has been scored against it.
          state?.baseline.add(features);
          return { label: score.label, scores: score.scores, arousal: score.arousal, valence: 0 };
        }),
      );
    },
    close: () => Promise.resolve(),
  };
}
