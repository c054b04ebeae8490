import { findChild, type NgramTables } from "./ngram-model.ts";

/** The n-grams of one order as read from a file: words flattened (order words per n-gram). */
export interface NgramList {
  readonly words: Int32Array;
  readonly logProb: Float32Array;
  /** Absent for the highest order. */
  readonly backoff: Float32Array | null;
}

/** Why n-gram `index` of `level` cannot be placed; the reader maps it to a line or an offset. */
export class TrieBuildError extends Error {
  override readonly name = "TrieBuildError";
  readonly level: number;
  readonly index: number;
  constructor(level: number, index: number, message: string) {
    super(message);
    this.level = level;
    this.index = index;
  }
}

/**
 * Builds the forward trie of NgramTables from per-order n-gram lists in any order. Every n-gram's prefix
 * must be present one order lower (ARPA's rule); a missing prefix or a duplicate is a TrieBuildError.
 * Unigrams are given as probabilities and back-offs by word id. When `placement` is given, it receives for
 * each order above 1 the list index of the n-gram at each trie position. A reader that knows each
 * n-gram's prefix node faster than a search of the trie can give `parentsOf`: for a level ≥ 2 and the
 * placement of the level below, the node of each n-gram's first words there (-1 where there is none).
 */
export function buildTables(
  words: readonly string[],
  unigramLogProb: Float32Array,
  unigramBackoff: Float32Array,
  higher: readonly NgramList[],
  placement?: Uint32Array[],
  parentsOf?: (level: number, belowPlacement: Uint32Array) => Int32Array,
): NgramTables {
  const order = higher.length + 1;
  const lastWord: (Int32Array | null)[] = [null];
  const logProb: Float32Array[] = [unigramLogProb];
  const backoff: Float32Array[] = order > 1 ? [unigramBackoff] : [];
  const firstChild: Uint32Array[] = [];
  const suffixState: Int32Array[] = [new Int32Array(0)];
  const levelBase = [1];
  const perms: Uint32Array[] = [];
  for (let level = 1; level < order; level++) {
    const list = higher[level - 1]!;
    const n = list.logProb.length;
    const parentCount = logProb[level - 1]!.length;
    const given = level >= 2 && parentsOf ? parentsOf(level, perms[level - 2]!) : null;
    const parent = given ?? new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const p = given ? given[i]! : findNode(lastWord, firstChild, list.words, i * (level + 1), level);
      if (p < 0)
        throw new TrieBuildError(level, i, `its first ${level} word(s) are not among the ${level}-grams`);
      parent[i] = p;
    }
    // Counting sort by parent; then each parent's children by word.
    const fc = new Uint32Array(parentCount + 1);
    for (let i = 0; i < n; i++) fc[parent[i]! + 1]!++;
    for (let i = 0; i < parentCount; i++) fc[i + 1]! += fc[i]!;
    const fill = fc.slice(0, parentCount);
    const perm = new Uint32Array(n);
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const at = fill[parent[i]!]!++;
      perm[at] = i;
      ids[at] = list.words[i * (level + 1) + level]!;
    }
    for (let p = 0; p < parentCount; p++) sortRange(ids, perm, fc[p]!, fc[p + 1]!, level);
    const probs = new Float32Array(n);
    const bos = level < order - 1 ? new Float32Array(n) : null;
    for (let j = 0; j < n; j++) {
      const i = perm[j]!;
      probs[j] = list.logProb[i]!;
      if (bos) bos[j] = list.backoff ? list.backoff[i]! : 0;
    }
    perms.push(perm);
    placement?.push(perm);
    firstChild.push(fc);
    lastWord.push(ids);
    logProb.push(probs);
    if (bos) backoff.push(bos);
    if (level < order - 1) levelBase.push(levelBase[level - 1]! + parentCount);
    suffixState.push(
      level >= 2 && level < order - 1
        ? suffixLinks(level, parent, perm, ids, lastWord, firstChild, suffixState, levelBase)
        : new Int32Array(0),
    );
  }
  return { order, words, lastWord, logProb, backoff, firstChild, suffixState };
}

/** Node of the first `level` words of n-gram at `offset`, in level−1, or -1. */
function findNode(
  lastWord: readonly (Int32Array | null)[],
  firstChild: readonly Uint32Array[],
  words: Int32Array,
  offset: number,
  level: number,
): number {
  let node = words[offset]!;
  for (let k = 1; k < level; k++) {
    node = findChild(firstChild[k - 1]!, lastWord[k]!, node, words[offset + k]!);
    if (node < 0) return -1;
  }
  return node;
}

/** Sorts ids[from..to) ascending, carrying perm along; refuses equal words (a duplicate n-gram). */
function sortRange(ids: Int32Array, perm: Uint32Array, from: number, to: number, level: number): void {
  let sorted = true;
  for (let j = from + 1; j < to; j++) {
    if (ids[j - 1]! >= ids[j]!) {
      sorted = false;
      break;
    }
  }
  if (!sorted) {
    const pairs: [number, number][] = [];
    for (let j = from; j < to; j++) pairs.push([ids[j]!, perm[j]!]);
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let j = from; j < to; j++) {
      const [w, p] = pairs[j - from]!;
      ids[j] = w;
      perm[j] = p;
      if (j > from && ids[j - 1] === w)
        throw new TrieBuildError(level, p, `it repeats an earlier ${level + 1}-gram`);
    }
  }
}

/** Suffix state of every node of `level` (2 .. order−2): the longest context node its suffix reaches. */
function suffixLinks(
  level: number,
  parent: Int32Array,
  perm: Uint32Array,
  ids: Int32Array,
  lastWord: readonly (Int32Array | null)[],
  firstChild: readonly Uint32Array[],
  suffixState: readonly Int32Array[],
  levelBase: readonly number[],
): Int32Array {
  const n = ids.length;
  const out = new Int32Array(n);
  const parentLevel = level - 1;
  for (let j = 0; j < n; j++) {
    const p = parent[perm[j]!]!;
    // Suffix of the parent, then the same last word below it; back off to shorter suffixes if absent.
    let s = parentLevel === 1 ? 1 + lastWord[1]![p]! : suffixState[parentLevel]![p]!;
    const word = ids[j]!;
    for (;;) {
      if (s === 0) {
        out[j] = 1 + word;
        break;
      }
      let lv = levelBase.length - 1;
      while (s < levelBase[lv]!) lv--;
      const node = s - levelBase[lv]!;
      const child = findChild(firstChild[lv]!, lastWord[lv + 1]!, node, word);
      if (child >= 0) {
        out[j] = levelBase[lv + 1]! + child;
        break;
      }
      s = lv === 0 ? 0 : lv === 1 ? 1 + lastWord[1]![node]! : suffixState[lv]![node]!;
    }
  }
  return out;
}
