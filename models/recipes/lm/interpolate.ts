import { findChild, type NgramTables } from "../../../services/asr/src/engine/lm/ngram-model.ts";
import { buildTables, type NgramList } from "../../../services/asr/src/engine/lm/trie-builder.ts";

/** ln P(w | h) of a back-off model for word ids (h oldest first), as ARPA defines it; -Infinity for id -1. */
export class ConditionalScorer {
  readonly tables: NgramTables;
  constructor(tables: NgramTables) {
    this.tables = tables;
  }

  /** Node of the n-gram ids[from..to) at level to−from−1, or -1. */
  node(ids: ArrayLike<number>, from: number, to: number): number {
    const t = this.tables;
    let node = ids[from]!;
    if (node < 0) return -1;
    for (let k = 1; k < to - from; k++) {
      const w = ids[from + k]!;
      if (w < 0) return -1;
      node = findChild(t.firstChild[k - 1]!, t.lastWord[k]!, node, w);
      if (node < 0) return -1;
    }
    return node;
  }

  logProb(ids: ArrayLike<number>, from = 0, to = ids.length): number {
    const t = this.tables;
    if (ids[to - 1]! < 0) return -Infinity;
    let acc = 0;
    for (let start = Math.max(from, to - t.order); start < to; start++) {
      const n = to - start;
      const node = this.node(ids, start, to);
      if (node >= 0) return acc + t.logProb[n - 1]![node]!;
      // Back off: add the context's weight (0 when the context is not listed).
      const context = this.node(ids, start, to - 1);
      if (context >= 0) acc += t.backoff[n - 2]![context]!;
    }
    return acc; // unreachable for a word of the vocabulary: the unigram is always listed
  }
}

/** Every n-gram of `level` (0-based) as word ids, flattened, in trie order. */
export function ngramsOf(tables: NgramTables, level: number): Int32Array {
  const n = tables.logProb[level]!.length;
  const width = level + 1;
  const out = new Int32Array(n * width);
  if (level === 0) {
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }
  const parents = ngramsOf(tables, level - 1);
  const fc = tables.firstChild[level - 1]!;
  const last = tables.lastWord[level]!;
  for (let p = 0; p < fc.length - 1; p++) {
    for (let j = fc[p]!; j < fc[p + 1]!; j++) {
      out.set(parents.subarray(p * level, p * level + level), j * width);
      out[j * width + level] = last[j]!;
    }
  }
  return out;
}

export interface Candidates {
  /** Flattened word ids (final vocabulary) of the bigrams and trigrams to list. */
  bigrams: Int32Array;
  trigrams: Int32Array;
}

/**
 * The n-grams the mixture lists: all of the domain model's, and the general model's most important up to
 * the budgets, by P(h, w) · |ln P(w|h) − ln P_backoff(w|h)| (the weighted change pruning them would make,
 * after Stolcke), each trigram with its context bigram.
 */
export function selectNgrams(
  domain: NgramTables,
  general: NgramTables,
  toFinalDomain: Int32Array,
  toFinalGeneral: Int32Array,
  budget: { bigrams: number; trigrams: number },
): Candidates {
  const g = new ConditionalScorer(general);
  const keys2 = new Set<number>();
  const keys3 = new Set<number>();
  const key2 = (a: number, b: number): number => a * 2 ** 20 + b;
  const key3 = (a: number, b: number, c: number): number => (a * 2 ** 20 + b) * 2 ** 20 + c;
  const mapAll = (flat: Int32Array, map: Int32Array): Int32Array => flat.map((id) => map[id]!);
  const d2 = mapAll(ngramsOf(domain, 1), toFinalDomain);
  const d3 = mapAll(ngramsOf(domain, 2), toFinalDomain);
  for (let i = 0; i < d2.length; i += 2) keys2.add(key2(d2[i]!, d2[i + 1]!));
  for (let i = 0; i < d3.length; i += 3) keys3.add(key3(d3[i]!, d3[i + 1]!, d3[i + 2]!));

  const startId = general.words.indexOf("<s>");
  const pick = (level: number, count: number, add: (ids: Int32Array, at: number) => void): void => {
    const flat = ngramsOf(general, level);
    const width = level + 1;
    const n = flat.length / width;
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let inVocab = true;
      for (let k = 0; k < width; k++) if (toFinalGeneral[flat[i * width + k]!]! < 0) inVocab = false;
      if (!inVocab) {
        scores[i] = -1;
        continue;
      }
      const at = i * width;
      const p = general.logProb[level]![i]!;
      // History probability: P(h1) P(h2 | h1) … from the general model; a sentence start counts as
      // P(<s>) = 1/20 (its unigram is a placeholder of 10^-99).
      let history = flat[at] === startId ? Math.log(1 / 20) : g.logProb(flat, at, at + 1);
      for (let k = 2; k < width; k++) history += g.logProb(flat, at, at + k);
      const context = g.node(flat, at, at + width - 1);
      const backedOff = general.backoff[level - 1]![context]! + g.logProb(flat, at + 1, at + width);
      scores[i] = Math.exp(history + p) * Math.abs(p - backedOff);
    }
    const sorted = Float64Array.from(scores).sort().reverse();
    const threshold = count < n ? Math.max(sorted[count]!, 0) : 0;
    for (let i = 0; i < n; i++) if (scores[i]! > threshold) add(flat, i * width);
  };
  pick(1, budget.bigrams, (f, at) => keys2.add(key2(toFinalGeneral[f[at]!]!, toFinalGeneral[f[at + 1]!]!)));
  pick(2, budget.trigrams, (f, at) =>
    keys3.add(key3(toFinalGeneral[f[at]!]!, toFinalGeneral[f[at + 1]!]!, toFinalGeneral[f[at + 2]!]!)),
  );
  const trigrams = new Int32Array(keys3.size * 3);
  let i = 0;
  for (const key of keys3) {
    const c = key % 2 ** 20;
    const ab = (key - c) / 2 ** 20;
    const b = ab % 2 ** 20;
    const a = (ab - b) / 2 ** 20;
    trigrams.set([a, b, c], 3 * i++);
    keys2.add(ab); // the trigram's context must be listed
  }
  const bigrams = new Int32Array(keys2.size * 2);
  i = 0;
  for (const key of keys2) {
    const b = key % 2 ** 20;
    bigrams.set([(key - b) / 2 ** 20, b], 2 * i++);
  }
  return { bigrams, trigrams };
}

/**
 * Linear interpolation λ·P_domain + (1−λ)·P_general of two back-off models as one back-off trigram over
 * `words`: listed n-grams get the mixed probability, unigrams are renormalised over the vocabulary, and
 * every context's back-off weight is recomputed so that each conditional distribution sums to 1.
 */
export class Interpolation {
  readonly words: readonly string[];
  readonly #domainLogProb: Float64Array[];
  readonly #generalLogProb: Float64Array[];
  readonly #skeleton: NgramTables;
  readonly #placement: Uint32Array[];

  constructor(
    words: readonly string[],
    domain: NgramTables,
    general: NgramTables,
    toDomain: Int32Array,
    toGeneral: Int32Array,
    candidates: Candidates,
  ) {
    this.words = words;
    const d = new ConditionalScorer(domain);
    const g = new ConditionalScorer(general);
    const score = (flat: Int32Array, width: number, scorer: ConditionalScorer, map: Int32Array): Float64Array => {
      const n = flat.length / width;
      const out = new Float64Array(n);
      const ids = new Int32Array(width);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < width; k++) ids[k] = map[flat[i * width + k]!]!;
        out[i] = scorer.logProb(ids);
      }
      return out;
    };
    const unigrams = Int32Array.from(words, (_, i) => i);
    this.#domainLogProb = [
      score(unigrams, 1, d, toDomain),
      score(candidates.bigrams, 2, d, toDomain),
      score(candidates.trigrams, 3, d, toDomain),
    ];
    this.#generalLogProb = [
      score(unigrams, 1, g, toGeneral),
      score(candidates.bigrams, 2, g, toGeneral),
      score(candidates.trigrams, 3, g, toGeneral),
    ];
    const n = words.length;
    this.#placement = [];
    this.#skeleton = buildTables(
      words,
      new Float32Array(n),
      new Float32Array(n),
      [
        { words: candidates.bigrams, logProb: new Float32Array(candidates.bigrams.length / 2), backoff: null },
        { words: candidates.trigrams, logProb: new Float32Array(candidates.trigrams.length / 3), backoff: null },
      ] satisfies NgramList[],
      this.#placement,
    );
  }

  /** The mixture at weight λ on the domain model (a fresh copy of the probability arrays). */
  tablesAt(lambda: number): NgramTables {
    const sk = this.#skeleton;
    const mix = (a: number, b: number): number => Math.log(lambda * Math.exp(a) + (1 - lambda) * Math.exp(b));
    const startId = this.words.indexOf("<s>");
    const uni = new Float32Array(this.words.length);
    let total = 0;
    for (let w = 0; w < uni.length; w++) {
      if (w === startId) continue;
      total += Math.exp(mix(this.#domainLogProb[0]![w]!, this.#generalLogProb[0]![w]!));
    }
    for (let w = 0; w < uni.length; w++)
      uni[w] =
        w === startId ? -99 * Math.LN10 : mix(this.#domainLogProb[0]![w]!, this.#generalLogProb[0]![w]!) - Math.log(total);
    const logProb: Float32Array[] = [uni];
    for (let level = 1; level <= 2; level++) {
      const perm = this.#placement[level - 1]!;
      const out = new Float32Array(perm.length);
      for (let j = 0; j < perm.length; j++)
        out[j] = mix(this.#domainLogProb[level]![perm[j]!]!, this.#generalLogProb[level]![perm[j]!]!);
      logProb.push(out);
    }
    const backoff = [new Float32Array(uni.length), new Float32Array(logProb[1]!.length)];
    const tables: NgramTables = { ...sk, logProb, backoff };
    // Unigram contexts: 1 − Σ listed P(w|v) over 1 − Σ P(w) of the same words.
    const fc0 = sk.firstChild[0]!;
    const last1 = sk.lastWord[1]!;
    for (let v = 0; v < uni.length; v++) {
      let num = 1;
      let den = 1;
      for (let j = fc0[v]!; j < fc0[v + 1]!; j++) {
        num -= Math.exp(logProb[1]![j]!);
        den -= Math.exp(uni[last1[j]!]!);
      }
      backoff[0]![v] = fc0[v + 1]! > fc0[v]! ? safeRatio(num, den) : 0;
    }
    // Bigram contexts u v: the lower order is the mixture's own P(w | v), listed or backed off.
    const fc1 = sk.firstChild[1]!;
    const last2 = sk.lastWord[2]!;
    for (let b = 0; b < logProb[1]!.length; b++) {
      if (fc1[b + 1]! === fc1[b]!) continue;
      const v = last1[b]!;
      let num = 1;
      let den = 1;
      for (let j = fc1[b]!; j < fc1[b + 1]!; j++) {
        const w = last2[j]!;
        num -= Math.exp(logProb[2]![j]!);
        const vw = findChild(fc0, last1, v, w);
        den -= Math.exp(vw >= 0 ? logProb[1]![vw]! : backoff[0]![v]! + uni[w]!);
      }
      backoff[1]![b] = safeRatio(num, den);
    }
    return tables;
  }
}

/** ln(num / den) with both kept above a floor (rounding can leave a listed mass of just over 1). */
function safeRatio(num: number, den: number): number {
  return Math.log(Math.max(num, 1e-7) / Math.max(den, 1e-7));
}
