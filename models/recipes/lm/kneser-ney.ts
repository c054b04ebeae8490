import { buildTables, type NgramList } from "../../../services/asr/src/engine/lm/trie-builder.ts";
import type { NgramTables } from "../../../services/asr/src/engine/lm/ngram-model.ts";

/**
 * An interpolated Kneser-Ney trigram from sentences (one discount per order, D = n1 / (n1 + 2 n2) of that
 * order's counts), as back-off tables: each listed n-gram carries its interpolated probability and each
 * context the weight of its lower order, so the back-off model equals the interpolated one.
 * Lower orders count distinct left contexts, except n-grams that start with <s>, which have none.
 */
export function kneserNeyTrigram(sentences: readonly string[]): NgramTables {
  const vocab = new Map<string, number>([
    ["<unk>", 0],
    ["<s>", 1],
    ["</s>", 2],
  ]);
  const id = (w: string): number => {
    let i = vocab.get(w);
    if (i === undefined) {
      i = vocab.size;
      vocab.set(w, i);
    }
    return i;
  };
  // Keys pack word ids: ids < 2^21, so a trigram fits 63 bits; use base-V arithmetic in a float (exact below 2^53).
  const c3 = new Map<number, number>();
  for (const s of sentences) {
    const ids = [1, ...s.split(" ").filter(Boolean).map(id), 2];
    for (let i = 2; i < ids.length; i++) {
      const key = (ids[i - 2]! * 2 ** 20 + ids[i - 1]!) * 2 ** 20 + ids[i]!;
      c3.set(key, (c3.get(key) ?? 0) + 1);
    }
  }
  const V = vocab.size;
  if (V >= 2 ** 20) throw new Error(`vocabulary of ${V} words is too large for this counter`);
  const split3 = (key: number): [number, number, number] => {
    const w = key % 2 ** 20;
    const uv = (key - w) / 2 ** 20;
    const v = uv % 2 ** 20;
    return [(uv - v) / 2 ** 20, v, w];
  };
  // Adjusted bigram counts: distinct left words (each trigram u v w gives v w one), raw counts for <s> w.
  const a2 = new Map<number, number>();
  for (const key of c3.keys()) {
    const [, v, w] = split3(key);
    const k2 = v * 2 ** 20 + w;
    a2.set(k2, (a2.get(k2) ?? 0) + 1);
  }
  // Raw counts of <s> w (every sentence start), from the trigram <s> w1 w2's first two words.
  const startCounts = new Map<number, number>();
  for (const [key, count] of c3) {
    const [u, v] = split3(key);
    if (u === 1) startCounts.set(v, (startCounts.get(v) ?? 0) + count);
  }
  for (const [v, count] of startCounts) a2.set(1 * 2 ** 20 + v, count);
  // Adjusted unigram counts: distinct left words of each word.
  const a1 = new Float64Array(V);
  for (const key of a2.keys()) a1[key % 2 ** 20]! += 1;

  const discount = (counts: Iterable<number>): number => {
    let n1 = 0;
    let n2 = 0;
    for (const c of counts) {
      if (c === 1) n1++;
      else if (c === 2) n2++;
    }
    return n1 + 2 * n2 > 0 ? Math.min(0.95, Math.max(0.05, n1 / (n1 + 2 * n2))) : 0.5;
  };
  const D3 = discount(c3.values());
  const D2 = discount(a2.values());
  const D1 = discount(a1);

  // Unigrams: discounted continuation counts, the discounted mass spread evenly (gives <unk> its share).
  const total1 = a1.reduce((s, c) => s + c, 0);
  const types1 = a1.reduce((s, c) => s + (c > 0 ? 1 : 0), 0);
  const p1 = new Float64Array(V);
  for (let w = 0; w < V; w++) {
    if (w === 1) continue;
    p1[w] = Math.max(a1[w]! - D1, 0) / total1 + (D1 * types1) / total1 / (V - 1);
  }
  // Bigram contexts.
  const sum2 = new Float64Array(V);
  const types2 = new Float64Array(V);
  for (const [key, a] of a2) {
    const v = Math.floor(key / 2 ** 20);
    sum2[v]! += a;
    types2[v]! += 1;
  }
  const gamma2 = (v: number): number => (sum2[v]! > 0 ? (D2 * types2[v]!) / sum2[v]! : 1);
  const p2 = (v: number, w: number): number => {
    const a = a2.get(v * 2 ** 20 + w) ?? 0;
    return sum2[v]! > 0 ? Math.max(a - D2, 0) / sum2[v]! + gamma2(v) * p1[w]! : p1[w]!;
  };
  // Trigram contexts.
  const sum3 = new Map<number, number>();
  const types3 = new Map<number, number>();
  for (const [key, c] of c3) {
    const uv = Math.floor(key / 2 ** 20);
    sum3.set(uv, (sum3.get(uv) ?? 0) + c);
    types3.set(uv, (types3.get(uv) ?? 0) + 1);
  }

  const words = [...vocab.keys()];
  const uniProb = new Float32Array(V);
  const uniBackoff = new Float32Array(V);
  for (let w = 0; w < V; w++) {
    uniProb[w] = w === 1 ? -99 * Math.LN10 : Math.log(p1[w]!);
    uniBackoff[w] = sum2[w]! > 0 ? Math.log(gamma2(w)) : 0;
  }
  const bigrams = [...a2.keys()];
  const big: NgramList = {
    words: new Int32Array(bigrams.length * 2),
    logProb: new Float32Array(bigrams.length),
    backoff: new Float32Array(bigrams.length),
  };
  bigrams.forEach((key, i) => {
    const w = key % 2 ** 20;
    const v = (key - w) / 2 ** 20;
    big.words[2 * i] = v;
    big.words[2 * i + 1] = w;
    big.logProb[i] = Math.log(p2(v, w));
    const s = sum3.get(key);
    big.backoff![i] = s ? Math.log((D3 * types3.get(key)!) / s) : 0;
  });
  const trigramKeys = [...c3.keys()];
  const tri: NgramList = {
    words: new Int32Array(trigramKeys.length * 3),
    logProb: new Float32Array(trigramKeys.length),
    backoff: null,
  };
  trigramKeys.forEach((key, i) => {
    const [u, v, w] = split3(key);
    const uv = u * 2 ** 20 + v;
    const s = sum3.get(uv)!;
    tri.words.set([u, v, w], 3 * i);
    tri.logProb[i] = Math.log(Math.max(c3.get(key)! - D3, 0) / s + ((D3 * types3.get(uv)!) / s) * p2(v, w));
  });
  return buildTables(words, uniProb, uniBackoff, [big, tri]);
}
