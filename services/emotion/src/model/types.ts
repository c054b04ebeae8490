import type { ExecutionProvider } from "@callscribe/onnx";
import type { Logger } from "pino";

export type { ExecutionProvider };

export interface ClassScore {
  label: string;
  score: number;
}

/** What a model says about one segment. */
export interface EmotionScore {
  label: string;
  scores: ClassScore[];
  /** -1 (calm) .. 1 (excited). */
  arousal: number;
  /** -1 (negative) .. 1 (positive); 0 when the model cannot tell. */
  valence: number;
  /** The utterance embedding, when the model has one. */
  embedding?: Float32Array;
}

/**
 * What a model remembers of one speaker between segments (the prosody model's baseline). Opaque to
 * the service, which keeps one per stream or per speaker key.
 */
export interface SpeakerState {
  readonly kind: string;
}

export interface SegmentInput {
  /** 16 kHz samples in [-1, 1). */
  samples: Float32Array;
  speaker: SpeakerState;
}

export interface ModelInfo {
  name: string;
  version: string;
  task: "emotion2vec" | "prosody-arousal";
  labels: readonly string[];
  provider: ExecutionProvider;
}

/** A family member: the emotion2vec-style ONNX classifier or the prosody arousal model. */
export interface EmotionModel {
  readonly info: ModelInfo;
  newSpeaker(): SpeakerState;
  /** Scores a batch of segments in order; a speaker's state moves on with each of its segments. */
  classify(batch: readonly SegmentInput[]): Promise<EmotionScore[]>;
  close(): Promise<void>;
}

export interface LoadModelOptions {
  dir: string;
  provider: ExecutionProvider;
  deviceId?: number;
  intraOpThreads?: number;
  logger: Logger;
}
