/** The classes of emotion2vec-style models (emotion2vec_plus), in their published order. */
export const EMOTION2VEC_CLASSES = [
  "angry",
  "disgusted",
  "fearful",
  "happy",
  "neutral",
  "other",
  "sad",
  "surprised",
  "unknown",
] as const;

/** The prosody model's coarse labels: bands of arousal, not emotions. */
export const AROUSAL_LABELS = ["calm", "neutral", "agitated"] as const;

/** A segment with too little voiced speech to measure gets this label and arousal 0. */
export const UNMEASURED_LABEL = "unknown";

/**
 * Where each emotion2vec class sits on the arousal and valence axes (Russell's circumplex, as placed in
 * the affective-computing literature), so a classifier's probabilities give an arousal and a valence.
 */
export const CIRCUMPLEX: Record<string, { arousal: number; valence: number }> = {
  angry: { arousal: 0.8, valence: -0.6 },
  disgusted: { arousal: 0.3, valence: -0.6 },
  fearful: { arousal: 0.6, valence: -0.6 },
  happy: { arousal: 0.5, valence: 0.8 },
  neutral: { arousal: 0, valence: 0 },
  other: { arousal: 0, valence: 0 },
  sad: { arousal: -0.5, valence: -0.7 },
  surprised: { arousal: 0.7, valence: 0.2 },
  unknown: { arousal: 0, valence: 0 },
};
