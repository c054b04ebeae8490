import type { LanguageModel, LmState } from "../lm/types.ts";

/**
 * A direct-mapped cache of LanguageModel.score in typed arrays, shared by every stream of one model
 * (the event loop runs one search step at a time): most word ends of a beam ask for the same few
 * (state, word) pairs again and again, and an n-gram lookup costs far more than this probe.
 */
export class LmScoreCache {
  readonly lm: LanguageModel;
  readonly #mask: number;
  readonly #states: Float64Array;
  readonly #words: Int32Array;
  readonly #logProbs: Float64Array;
  readonly #next: Float64Array;
  /** The last result, read by the caller right after score(): no object per lookup. */
  logProb = 0;
  state: LmState = 0;

  constructor(lm: LanguageModel, sizeLog2 = 16) {
    this.lm = lm;
    const size = 1 << sizeLog2;
    this.#mask = size - 1;
    this.#states = new Float64Array(size).fill(-1);
    this.#words = new Int32Array(size).fill(-1);
    this.#logProbs = new Float64Array(size);
    this.#next = new Float64Array(size);
  }

  /** Looks up ln P(word | state) and the next state into `logProb` and `state`. */
  score(state: LmState, word: number): void {
    const slot = (Math.imul(state | 0, 0x9e3779b1) ^ Math.imul(word + 0x7f4a7c15, 0x85ebca6b)) & this.#mask;
    if (this.#states[slot] === state && this.#words[slot] === word) {
      this.logProb = this.#logProbs[slot]!;
      this.state = this.#next[slot]!;
      return;
    }
    const result = this.lm.score(state, word);
    this.#states[slot] = state;
    this.#words[slot] = word;
    this.#logProbs[slot] = result.logProb;
    this.#next[slot] = result.state;
    this.logProb = result.logProb;
    this.state = result.state;
  }
}
