/** Opaque LM state; equal numbers mean equal futures. Natural-log scores. */
export type LmState = number;

export interface LmScore {
  logProb: number;
  state: LmState;
}

/** A word n-gram model, loaded once and shared read-only by every stream (never copied per stream). */
export interface LanguageModel {
  readonly order: number;
  readonly vocabularySize: number;
  /** Id of a word; the <unk> id when it is not in the vocabulary; -1 if the model has no <unk>. */
  wordId(word: string): number;
  readonly unkId: number;
  /** State after <s>. */
  readonly startState: LmState;
  /** ln P(word | state) with back-off, and the state after it. */
  score(state: LmState, wordId: number): LmScore;
  /** ln P(</s> | state). */
  endScore(state: LmState): number;
}

/** Words the decoder may spell, each a sequence of the acoustic model's token ids. */
export interface Lexicon {
  readonly words: readonly string[];
  readonly spellings: readonly Int32Array[];
}
