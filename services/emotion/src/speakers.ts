import type { EmotionModel, SpeakerState } from "./model/types.ts";

/**
 * Speaker states of Classify requests that name their speaker (the ASR worker sends one per call
 * leg), so the prosody model compares each utterance with the same speaker's earlier ones. Bounded:
 * the least recently heard speaker is forgotten first, and none outlives `idleMs` of silence.
 */
export class SpeakerRegistry {
  readonly #states = new Map<string, { state: SpeakerState; lastMs: number }>();

  constructor(
    readonly model: EmotionModel,
    readonly options: { maxSpeakers: number; idleMs: number },
  ) {}

  get size(): number {
    return this.#states.size;
  }

  get(key: string | undefined, nowMs = Date.now()): SpeakerState {
    if (key === undefined) return this.model.newSpeaker();
    const entry = this.#states.get(key);
    // Re-inserting keeps the Map in order of last use, oldest first.
    if (entry) this.#states.delete(key);
    const state =
      entry && nowMs - entry.lastMs <= this.options.idleMs ? entry.state : this.model.newSpeaker();
    this.#states.set(key, { state, lastMs: nowMs });
    for (const [oldest, { lastMs }] of this.#states) {
      if (this.#states.size <= this.options.maxSpeakers && nowMs - lastMs <= this.options.idleMs) break;
      this.#states.delete(oldest);
    }
    return state;
  }
}
