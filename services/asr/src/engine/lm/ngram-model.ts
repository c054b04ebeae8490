import type { LanguageModel, LmScore, LmState } from "./types.ts";

/**
 * The n-grams of a back-off model as a forward trie in flat typed arrays, one level per order. Level k
 * (0-based) holds the (k+1)-grams sorted by (parent node, last word); node i of level k < order−1 has
 * its children at firstChild[k][i] .. firstChild[k][i+1]−1 of level k+1. Level 0 is indexed by word id.
 * Scores are natural logs.
 */
export interface NgramTables {
  readonly order: number;
  /** Vocabulary in id order. */
  readonly words: readonly string[];
  /** Last word of each n-gram; null for level 0 (the index is the word id). */
  readonly lastWord: readonly (Int32Array | null)[];
  readonly logProb: readonly Float32Array[];
  /** Back-off weight of each n-gram as a context; levels 0 .. order−2. */
  readonly backoff: readonly Float32Array[];
  /** Child ranges; levels 0 .. order−2, each of length count + 1. */
  readonly firstChild: readonly Uint32Array[];
  /**
   * State of each node's suffix (its words without the first): levels 2 .. order−2 only (orders of 4 and
   * more); level 1's suffix is the unigram of its last word. Empty arrays elsewhere.
   */
  readonly suffixState: readonly Int32Array[];
}

export const SENTENCE_START = "<s>";
export const SENTENCE_END = "</s>";
export const UNKNOWN_WORD = "<unk>";

export function ngramCounts(tables: NgramTables): number[] {
  return tables.logProb.map((p) => p.length);
}

/** An n-gram model without the <s> or </s> unigram, which every sentence score needs. */
export class MissingMarkerError extends Error {
  override readonly name = "MissingMarkerError";
  constructor(marker: string) {
    super(`the model has no ${marker} unigram; rebuild it with sentence markers`);
  }
}

/**
 * A LanguageModel over NgramTables. A state is a context node numbered across levels: 0 is the empty
 * context, 1 + i unigram i, then the bigram nodes, and so on up to order−1. A state is always the
 * shortest context with the same future (a node with no children and no back-off weight is replaced
 * by its suffix), so equal futures get equal numbers.
 */
export class NgramModel implements LanguageModel {
  readonly tables: NgramTables;
  readonly order: number;
  readonly vocabularySize: number;
  readonly unkId: number;
  readonly startId: number;
  readonly endId: number;
  readonly startState: LmState;
  readonly #ids: Map<string, number>;
  /** First state number of each level. */
  readonly #levelBase: number[];
  readonly #result: LmScore = { logProb: 0, state: 0 };

  constructor(tables: NgramTables) {
    this.tables = tables;
    this.order = tables.order;
    this.vocabularySize = tables.words.length;
    this.#ids = new Map();
    tables.words.forEach((word, id) => {
      if (!this.#ids.has(word)) this.#ids.set(word, id);
    });
    this.unkId = this.#ids.get(UNKNOWN_WORD) ?? -1;
    const start = this.#ids.get(SENTENCE_START);
    const end = this.#ids.get(SENTENCE_END);
    if (start === undefined || end === undefined)
      throw new MissingMarkerError(start === undefined ? SENTENCE_START : SENTENCE_END);
    this.startId = start;
    this.endId = end;
    this.#levelBase = [];
    let base = 1;
    for (let k = 0; k < this.order - 1; k++) {
      this.#levelBase.push(base);
      base += tables.logProb[k]!.length;
    }
    this.startState = this.order === 1 ? 0 : this.#shortest(0, start);
  }

  /** Number of distinct states (context nodes plus the empty context). */
  get stateCount(): number {
    const last = this.order - 2;
    return last < 0 ? 1 : this.#levelBase[last]! + this.tables.logProb[last]!.length;
  }

  wordId(word: string): number {
    return this.#ids.get(word) ?? this.unkId;
  }

  /** Id of a word, or -1 when it is not in the vocabulary (no <unk> fallback). */
  exactWordId(word: string): number {
    return this.#ids.get(word) ?? -1;
  }

  score(state: LmState, wordId: number): LmScore {
    const logProb = this.#score(state, wordId);
    return { logProb, state: this.#result.state };
  }

  endScore(state: LmState): number {
    return this.#score(state, this.endId);
  }

  /** ln P(word | words) for a whole history (oldest first), as ARPA defines it. */
  scoreWords(history: readonly string[], word: string): number {
    let state: LmState = 0;
    for (const w of history) state = this.score(state, this.#idOf(w)).state;
    return this.score(state, this.#idOf(word)).logProb;
  }

  #idOf(word: string): number {
    const id = this.wordId(word);
    if (id < 0)
      throw new RangeError(
        `word ${JSON.stringify(word)} is not in the vocabulary and the model has no <unk>`,
      );
    return id;
  }

  #score(state: LmState, word: number): number {
    if (!(word >= 0 && word < this.vocabularySize))
      throw new RangeError(`word id ${word} is outside the vocabulary (0 .. ${this.vocabularySize - 1})`);
    const t = this.tables;
    let acc = 0;
    let s = state;
    for (;;) {
      if (s === 0) {
        this.#result.state = this.#shortest(0, word);
        return acc + t.logProb[0]![word]!;
      }
      const level = this.#levelOf(s);
      const node = s - this.#levelBase[level]!;
      const child = this.#findChild(level, node, word);
      if (child >= 0) {
        if (level + 1 < this.order - 1) this.#result.state = this.#shortest(level + 1, child);
        else this.#result.state = this.#extend(this.#suffixOf(level, node), word);
        return acc + t.logProb[level + 1]![child]!;
      }
      acc += t.backoff[level]![node]!;
      s = this.#suffixOf(level, node);
    }
  }

  /** The state after `word` from context state `s`: the longest context node ending in it. */
  #extend(s: LmState, word: number): LmState {
    for (;;) {
      if (s === 0) return this.#shortest(0, word);
      const level = this.#levelOf(s);
      const node = s - this.#levelBase[level]!;
      const child = this.#findChild(level, node, word);
      if (child >= 0 && level + 1 < this.order - 1) return this.#shortest(level + 1, child);
      s = this.#suffixOf(level, node);
    }
  }

  /** State of node `index` of `level`, shortened while it has no children and no back-off weight. */
  #shortest(level: number, index: number): LmState {
    if (this.order === 1) return 0;
    const t = this.tables;
    for (;;) {
      const fc = t.firstChild[level]!;
      if (fc[index + 1]! > fc[index]! || t.backoff[level]![index] !== 0)
        return this.#levelBase[level]! + index;
      const suffix = this.#suffixOf(level, index);
      if (suffix === 0) return 0;
      level = this.#levelOf(suffix);
      index = suffix - this.#levelBase[level]!;
    }
  }

  #suffixOf(level: number, node: number): LmState {
    if (level === 0) return 0;
    if (level === 1) return 1 + this.tables.lastWord[1]![node]!;
    return this.tables.suffixState[level]![node]!;
  }

  #levelOf(state: LmState): number {
    const bases = this.#levelBase;
    let level = bases.length - 1;
    while (state < bases[level]!) level--;
    return level;
  }

  /** Index in level+1 of the child of node `node` (of `level`) for `word`, or -1. */
  #findChild(level: number, node: number, word: number): number {
    return findChild(this.tables.firstChild[level]!, this.tables.lastWord[level + 1]!, node, word);
  }

  /** Node index of an n-gram given by word ids (level = ids.length − 1), or -1. */
  findNgram(ids: readonly number[]): number {
    if (ids.length === 0 || ids.length > this.order) return -1;
    let node = ids[0]!;
    if (!(node >= 0 && node < this.vocabularySize)) return -1;
    for (let k = 1; k < ids.length; k++) {
      node = this.#findChild(k - 1, node, ids[k]!);
      if (node < 0) return -1;
    }
    return node;
  }
}

/** Index among `ids` of the child of `node` for `word` (a binary search of its children's range), or -1. */
export function findChild(fc: Uint32Array, ids: Int32Array, node: number, word: number): number {
  let lo = fc[node]!;
  let hi = fc[node + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const w = ids[mid]!;
    if (w < word) lo = mid + 1;
    else if (w > word) hi = mid - 1;
    else return mid;
  }
  return -1;
}
