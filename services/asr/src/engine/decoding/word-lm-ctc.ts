import { extendGreedily, logAdd, tokensOf, type AlignedToken, type CtcDecoder } from "./ctc.ts";
import type { HotwordGraph, HotwordNode } from "./hotwords.ts";
import type { LexiconTrie } from "./lexicon-trie.ts";
import type { WordLm, WordSearchOptions } from "./word-lm.ts";

/** One prefix of the beam: a token sequence, where it stands in the lexicon and the LM, and its scores. */
interface WordPrefix {
  readonly id: number;
  /** parent id × vocab + token: equal keys are the same token sequence. */
  readonly key: number;
  readonly parent: WordPrefix | null;
  readonly token: number;
  readonly firstFrame: number;
  lastFrame: number;
  /** No word is open: at the start, or after a word separator. */
  readonly wordStart: boolean;
  /** Node of the open word in the lexicon trie; −1 when off it. */
  readonly node: number;
  /** Node of the open word in the stream's hotword-word trie; −1 when off it. */
  readonly extra: number;
  /** The open word is outside the lexicon (policy `allow`). */
  readonly oov: boolean;
  readonly lmState: number;
  /** Weighted LM scores, word bonuses and OOV penalties of the finished words. */
  readonly lmScore: number;
  /** Weighted look-ahead of the open word (replaced by its LM score when it ends). */
  readonly lookAhead: number;
  readonly hot: HotwordNode | null;
  readonly bonus: number;
  pBlank: number;
  pToken: number;
  /** rank() of the frame just computed, kept for sorting. */
  score: number;
  nextBlank: number;
  nextToken: number;
  generation: number;
}

/**
 * CTC prefix beam search over characters, constrained to the words of a lexicon trie and fused with a
 * word n-gram LM: a prefix scores acoustic + lmWeight·ln P_LM(words) + wordBonus·words (+ hotword
 * bonuses). A word ends at the separator token or at the end of the utterance; the LM is asked there,
 * through the shared score cache. Inside a word the trie's look-ahead stands in for the LM score to come.
 * Same interface as the other decoders, so streaming uses it unchanged: step() per committed frame,
 * peek() for partials, result() at the endpoint.
 */
export class WordLmCtcDecoder implements CtcDecoder {
  readonly #lm: WordLm;
  readonly #trie: LexiconTrie;
  readonly #extraTrie: LexiconTrie | null;
  readonly #vocab: number;
  readonly #blank: number;
  readonly #separator: number;
  readonly #width: number;
  readonly #prune: number;
  readonly #threshold: number;
  readonly #weight: number;
  readonly #wordBonus: number;
  readonly #allowOov: boolean;
  readonly #oovPenalty: number;
  readonly #unkId: number;
  readonly #hotwords: HotwordGraph | null;
  #beam: WordPrefix[];
  #nextId = 1;
  #frame = 0;
  readonly #candidates = new Map<number, WordPrefix>();
  #ranked: WordPrefix[] = [];
  readonly #active: Int32Array;
  /**
   * Letter extensions estimated below this are not made: the best prefix of the last frame plus this
   * frame's best log-prob, less the beam threshold (a child's look-ahead is never above its parent's).
   */
  #cut = -Infinity;
  /** Set by #endWord. */
  #wordScore = 0;
  #wordState = 0;

  constructor(
    lm: WordLm,
    options: WordSearchOptions,
    hotwords: { graph: HotwordGraph; words: LexiconTrie | null } | null = null,
  ) {
    this.#lm = lm;
    this.#trie = lm.trie;
    this.#vocab = lm.vocab;
    this.#blank = lm.blank;
    this.#separator = lm.separator;
    this.#width = Math.max(1, Math.floor(options.beamWidth));
    this.#prune = options.tokenPrune ?? 5;
    this.#threshold = options.beamThreshold ?? 10;
    this.#weight = options.lmWeight;
    this.#wordBonus = options.wordBonus;
    this.#allowOov = options.oovPolicy === "allow";
    this.#oovPenalty = options.oovPenalty;
    this.#unkId = lm.lm.unkId;
    this.#hotwords = hotwords && hotwords.graph.phrases > 0 ? hotwords.graph : null;
    this.#extraTrie = this.#hotwords ? (hotwords?.words ?? null) : null;
    this.#active = new Int32Array(this.#vocab);
    this.#beam = [
      {
        id: 0,
        key: -1,
        parent: null,
        token: -1,
        firstFrame: -1,
        lastFrame: -1,
        wordStart: true,
        node: 0,
        extra: this.#extraTrie ? 0 : -1,
        oov: false,
        lmState: lm.lm.startState,
        lmScore: 0,
        lookAhead: 0,
        hot: this.#hotwords?.root ?? null,
        bonus: 0,
        pBlank: 0,
        pToken: -Infinity,
        score: 0,
        nextBlank: -Infinity,
        nextToken: -Infinity,
        generation: -1,
      },
    ];
  }

  get frames(): number {
    return this.#frame;
  }

  step(logProbs: Float32Array, offset: number): void {
    const vocab = this.#vocab;
    const blank = this.#blank;
    const frame = this.#frame;
    const candidates = this.#candidates;
    candidates.clear();
    let best = -Infinity;
    for (let v = 0; v < vocab; v++) if (logProbs[offset + v]! > best) best = logProbs[offset + v]!;
    const floor = best - this.#prune;
    // Hotword bonuses can lift a child above its parent: no early cut with hotwords.
    this.#cut = this.#hotwords ? -Infinity : this.#beam[0]!.score + best - this.#threshold;
    const active = this.#active;
    let activeCount = 0;
    for (let v = 0; v < vocab; v++)
      if (v !== blank && logProbs[offset + v]! >= floor) active[activeCount++] = v;
    const lpBlank = logProbs[offset + blank]!;

    for (const prefix of this.#beam) {
      prefix.generation = frame;
      prefix.nextBlank = -Infinity;
      prefix.nextToken = -Infinity;
      candidates.set(prefix.key, prefix);
    }
    for (const prefix of this.#beam) {
      const total = logAdd(prefix.pBlank, prefix.pToken);
      prefix.nextBlank = logAdd(prefix.nextBlank, total + lpBlank);
      if (prefix.token >= 0) {
        const stay = prefix.pToken + logProbs[offset + prefix.token]!;
        if (stay > prefix.nextToken && stay > total + lpBlank) prefix.lastFrame = frame;
        prefix.nextToken = logAdd(prefix.nextToken, stay);
      }
      for (let a = 0; a < activeCount; a++) {
        const token = active[a]!;
        this.#tryToken(prefix, token, logProbs[offset + token]!, total, frame);
      }
      // Tokens that continue a hotword match are tried even below the pruning floor: the boost is
      // there to lift words the acoustics alone rank low.
      if (prefix.hot) {
        for (const token of prefix.hot.children.keys()) {
          const lp = logProbs[offset + token]!;
          if (lp < floor) this.#tryToken(prefix, token, lp, total, frame);
        }
      }
    }

    const ranked = this.#ranked;
    ranked.length = 0;
    for (const prefix of candidates.values()) {
      prefix.pBlank = prefix.nextBlank;
      prefix.pToken = prefix.nextToken;
      prefix.score = rank(prefix);
      ranked.push(prefix);
    }
    ranked.sort(byScore);
    let keep = Math.min(ranked.length, this.#width);
    const cut = ranked[0]!.score - this.#threshold;
    while (keep > 1 && !(ranked[keep - 1]!.score >= cut)) keep--;
    ranked.length = keep;
    // The old beam array becomes the next frame's ranking scratch.
    this.#ranked = this.#beam;
    this.#beam = ranked;
    this.#frame++;
  }

  /** Extends `prefix` by `token` (log-prob `lp` on this frame; `total` = the prefix's own score). */
  #tryToken(prefix: WordPrefix, token: number, lp: number, total: number, frame: number): void {
    if (token === this.#separator && prefix.wordStart) {
      // A separator where no word is open adds no word: it counts as blank. (After a separator its
      // repeat without a blank between is already the stay.)
      const from = prefix.token === this.#separator ? prefix.pBlank : total;
      prefix.nextBlank = logAdd(prefix.nextBlank, from + lp);
      return;
    }
    const score = (token === prefix.token ? prefix.pBlank : total) + lp;
    if (score === -Infinity) return;
    if (token !== this.#separator && score + prefix.lmScore + prefix.lookAhead < this.#cut) return;
    const key = prefix.id * this.#vocab + token;
    let child = this.#candidates.get(key);
    if (!child) {
      const made = this.#extend(prefix, token, key, frame);
      if (!made) return;
      made.generation = frame;
      this.#candidates.set(key, made);
      child = made;
    }
    child.nextToken = logAdd(child.nextToken, score);
  }

  /** The prefix `parent` + `token`, or null when the lexicon and the OOV policy rule it out. */
  #extend(parent: WordPrefix, token: number, key: number, frame: number): WordPrefix | null {
    let wordStart = false;
    let node = -1;
    let extra = -1;
    let oov = parent.oov;
    let lmState = parent.lmState;
    let lmScore = parent.lmScore;
    let lookAhead = 0;
    if (token === this.#separator) {
      if (!this.#endWord(parent)) return null;
      wordStart = true;
      node = 0;
      extra = this.#extraTrie ? 0 : -1;
      oov = false;
      lmState = this.#wordState;
      lmScore += this.#wordScore;
    } else {
      if (!oov) {
        const from = parent.wordStart ? 0 : parent.node;
        node = from >= 0 ? this.#trie.child(from, token) : -1;
        if (this.#extraTrie) {
          const fromExtra = parent.wordStart ? 0 : parent.extra;
          extra = fromExtra >= 0 ? this.#extraTrie.child(fromExtra, token) : -1;
        }
        if (node < 0 && extra < 0) {
          if (!this.#allowOov) return null;
          oov = true;
          lmScore += this.#oovPenalty;
        }
      }
      if (node >= 0) lookAhead = this.#weight * this.#trie.lookAhead[node]!;
    }
    let hot: HotwordNode | null = null;
    let bonus = parent.bonus;
    if (this.#hotwords && parent.hot) {
      const step = this.#hotwords.step(parent.hot, token);
      hot = step.node;
      bonus += step.delta;
    }
    return {
      id: this.#nextId++,
      key,
      parent,
      token,
      firstFrame: frame,
      lastFrame: frame,
      wordStart,
      node,
      extra,
      oov,
      lmState,
      lmScore,
      lookAhead,
      hot,
      bonus,
      pBlank: -Infinity,
      pToken: -Infinity,
      score: -Infinity,
      nextBlank: -Infinity,
      nextToken: -Infinity,
      generation: -1,
    };
  }

  /**
   * Ends the open word of `prefix`: sets #wordScore (weighted LM score + bonus) and #wordState, or
   * returns false when the word is not allowed (not a whole lexicon word, and the policy refuses others).
   */
  #endWord(prefix: WordPrefix): boolean {
    const cache = this.#lm.cache;
    let word = -1;
    let penalty = 0;
    if (prefix.node >= 0 && this.#trie.wordAt[prefix.node]! >= 0) {
      word = this.#lm.lmIdOfWord[this.#trie.wordAt[prefix.node]!]!;
    } else if (prefix.extra >= 0 && this.#extraTrie!.wordAt[prefix.extra]! >= 0) {
      word = this.#unkId;
    } else if (prefix.oov) {
      word = this.#unkId;
    } else if (this.#allowOov) {
      // A lexicon prefix that is no whole word: outside the lexicon after all.
      word = this.#unkId;
      penalty = this.#oovPenalty;
    } else {
      return false;
    }
    if (word >= 0) {
      cache.score(prefix.lmState, word);
      this.#wordScore = this.#weight * cache.logProb + this.#wordBonus + penalty;
      this.#wordState = cache.state;
    } else {
      // An LM without <unk>: the word adds only its bonus and leaves the context as it was.
      this.#wordScore = this.#wordBonus + penalty;
      this.#wordState = prefix.lmState;
    }
    return true;
  }

  peek(logProbs: Float32Array, offset: number, frames: number): AlignedToken[] {
    return extendGreedily(this.#bestLive(), logProbs, offset, frames, this.#vocab, this.#blank, this.#frame);
  }

  /**
   * The best prefix once the utterance has ended: its open word ends (or the prefix is dropped if that
   * word is not allowed), the LM scores the sentence end, and unfinished hotword matches give back
   * their bonus.
   */
  result(): AlignedToken[] {
    let best: WordPrefix | null = null;
    let bestScore = -Infinity;
    for (const prefix of this.#beam) {
      let score = acoustic(prefix) + prefix.lmScore + prefix.bonus;
      let state = prefix.lmState;
      if (!prefix.wordStart) {
        if (!this.#endWord(prefix)) continue;
        score += this.#wordScore;
        state = this.#wordState;
      }
      score += this.#weight * this.#lm.lm.endScore(state);
      if (this.#hotwords && prefix.hot) score += this.#hotwords.finalDelta(prefix.hot);
      if (score > bestScore) {
        bestScore = score;
        best = prefix;
      }
    }
    if (best) return tokensOf(best);
    // No prefix ends in an allowed word: the live best up to its last finished word.
    let finished: WordPrefix = this.#bestLive();
    while (!finished.wordStart && finished.parent) finished = finished.parent;
    return tokensOf(finished);
  }

  #bestLive(): WordPrefix {
    let best = this.#beam[0]!;
    for (const prefix of this.#beam) if (rank(prefix) > rank(best)) best = prefix;
    return best;
  }
}

function byScore(a: WordPrefix, b: WordPrefix): number {
  return b.score - a.score;
}

function acoustic(prefix: WordPrefix): number {
  return logAdd(prefix.pBlank, prefix.pToken);
}

function rank(prefix: WordPrefix): number {
  return acoustic(prefix) + prefix.lmScore + prefix.lookAhead + prefix.bonus;
}
