import type { HotwordGraph, HotwordNode } from "./hotwords.ts";

/** A token of the best path: where it was first emitted and the last frame of its run. */
export interface AlignedToken {
  id: number;
  firstFrame: number;
  lastFrame: number;
}

/**
 * Frame-synchronous CTC decoding: step() takes one output frame of log-probabilities at a time, so the
 * same decoder serves chunked streaming and whole utterances. peek() decodes provisional frames
 * (not yet final: their right context is missing) without changing the state, for partial results.
 */
export interface CtcDecoder {
  step(logProbs: Float32Array, offset: number): void;
  /** Best tokens so far, extended greedily over `frames` provisional rows at logProbs[offset + i*vocab]. */
  peek(logProbs: Float32Array, offset: number, frames: number): AlignedToken[];
  /** Best tokens after the last frame (removes unfinished hotword bonuses). */
  result(): AlignedToken[];
  readonly frames: number;
}

export class GreedyCtcDecoder implements CtcDecoder {
  readonly #vocab: number;
  readonly #blank: number;
  readonly #tokens: AlignedToken[] = [];
  #previous = -1;
  #frame = 0;

  constructor(vocab: number, blankId: number) {
    this.#vocab = vocab;
    this.#blank = blankId;
  }

  get frames(): number {
    return this.#frame;
  }

  step(logProbs: Float32Array, offset: number): void {
    const best = argmax(logProbs, offset, this.#vocab);
    this.#previous = emitGreedy(this.#tokens, best, this.#previous, this.#blank, this.#frame);
    this.#frame++;
  }

  peek(logProbs: Float32Array, offset: number, frames: number): AlignedToken[] {
    const tokens = this.#tokens.map((t) => ({ ...t }));
    let previous = this.#previous;
    for (let i = 0; i < frames; i++) {
      const best = argmax(logProbs, offset + i * this.#vocab, this.#vocab);
      previous = emitGreedy(tokens, best, previous, this.#blank, this.#frame + i);
    }
    return tokens;
  }

  result(): AlignedToken[] {
    return this.#tokens.map((t) => ({ ...t }));
  }
}

function emitGreedy(
  tokens: AlignedToken[],
  best: number,
  previous: number,
  blank: number,
  frame: number,
): number {
  if (best !== blank) {
    if (best !== previous) tokens.push({ id: best, firstFrame: frame, lastFrame: frame });
    else tokens[tokens.length - 1]!.lastFrame = frame;
  }
  return best;
}

export function argmax(row: Float32Array, offset: number, length: number): number {
  let best = 0;
  let bestValue = row[offset]!;
  for (let v = 1; v < length; v++) {
    const value = row[offset + v]!;
    if (value > bestValue) {
      bestValue = value;
      best = v;
    }
  }
  return best;
}

export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** One prefix of the beam. Prefixes form a tree through `parent`; `key` identifies (parent, token). */
interface Prefix {
  readonly id: number;
  readonly key: number;
  readonly parent: Prefix | null;
  readonly token: number;
  readonly firstFrame: number;
  lastFrame: number;
  readonly hot: HotwordNode | null;
  /** Hotword bonus accumulated along the prefix. */
  readonly bonus: number;
  /** Log-probability of the prefix over paths ending in blank / in its last token. */
  pBlank: number;
  pToken: number;
  /** The same scores for the frame being computed. */
  nextBlank: number;
  nextToken: number;
  generation: number;
}

export interface BeamOptions {
  beamWidth: number;
  /** Tokens more than this far below the frame's best log-prob are not tried as extensions. */
  tokenPrune?: number;
  hotwords?: HotwordGraph | null;
}

/** CTC prefix beam search with optional hotword boosting. */
export class BeamCtcDecoder implements CtcDecoder {
  readonly #vocab: number;
  readonly #blank: number;
  readonly #width: number;
  readonly #prune: number;
  readonly #hotwords: HotwordGraph | null;
  #beam: Prefix[];
  #nextId = 1;
  #frame = 0;
  readonly #candidates = new Map<number, Prefix>();

  constructor(vocab: number, blankId: number, options: BeamOptions) {
    this.#vocab = vocab;
    this.#blank = blankId;
    this.#width = Math.max(1, Math.floor(options.beamWidth));
    this.#prune = options.tokenPrune ?? 10;
    this.#hotwords = options.hotwords && options.hotwords.phrases > 0 ? options.hotwords : null;
    const root: Prefix = {
      id: 0,
      key: -1,
      parent: null,
      token: -1,
      firstFrame: -1,
      lastFrame: -1,
      hot: this.#hotwords?.root ?? null,
      bonus: 0,
      pBlank: 0,
      pToken: -Infinity,
      nextBlank: -Infinity,
      nextToken: -Infinity,
      generation: -1,
    };
    this.#beam = [root];
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
    for (let v = 0; v < vocab; v++) best = Math.max(best, logProbs[offset + v]!);
    const floor = best - this.#prune;

    const touch = (prefix: Prefix): Prefix => {
      if (prefix.generation !== frame) {
        prefix.generation = frame;
        prefix.nextBlank = -Infinity;
        prefix.nextToken = -Infinity;
        candidates.set(prefix.key, prefix);
      }
      return prefix;
    };
    for (const prefix of this.#beam) touch(prefix);

    for (const prefix of this.#beam) {
      const total = logAdd(prefix.pBlank, prefix.pToken);
      // Blank: same prefix, now ending in blank.
      prefix.nextBlank = logAdd(prefix.nextBlank, total + logProbs[offset + blank]!);
      // The last token again without a blank between: same prefix.
      if (prefix.token >= 0) {
        const stay = prefix.pToken + logProbs[offset + prefix.token]!;
        if (stay > prefix.nextToken && stay > total + logProbs[offset + blank]!) prefix.lastFrame = frame;
        prefix.nextToken = logAdd(prefix.nextToken, stay);
      }
      for (let token = 0; token < vocab; token++) {
        if (token === blank) continue;
        const lp = logProbs[offset + token]!;
        if (lp < floor) continue;
        // Repeating the last token needs a blank between.
        const score = (token === prefix.token ? prefix.pBlank : total) + lp;
        if (score === -Infinity) continue;
        const key = prefix.id * vocab + token;
        let child = candidates.get(key);
        if (!child) child = touch(this.#extend(prefix, token, key, frame));
        child.nextToken = logAdd(child.nextToken, score);
      }
    }

    const ranked = [...candidates.values()];
    for (const prefix of ranked) {
      prefix.pBlank = prefix.nextBlank;
      prefix.pToken = prefix.nextToken;
    }
    ranked.sort((a, b) => rank(b) - rank(a));
    this.#beam = ranked.slice(0, this.#width);
    this.#frame++;
  }

  #extend(parent: Prefix, token: number, key: number, frame: number): Prefix {
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
      hot,
      bonus,
      pBlank: -Infinity,
      pToken: -Infinity,
      nextBlank: -Infinity,
      nextToken: -Infinity,
      generation: -1,
    };
  }

  peek(logProbs: Float32Array, offset: number, frames: number): AlignedToken[] {
    return extendGreedily(this.#best(false), logProbs, offset, frames, this.#vocab, this.#blank, this.#frame);
  }

  result(): AlignedToken[] {
    return tokensOf(this.#best(true));
  }

  #best(final: boolean): Prefix {
    let best = this.#beam[0]!;
    let bestScore = -Infinity;
    for (const prefix of this.#beam) {
      let score = rank(prefix);
      if (final && this.#hotwords && prefix.hot) score += this.#hotwords.finalDelta(prefix.hot);
      if (score > bestScore) {
        bestScore = score;
        best = prefix;
      }
    }
    return best;
  }
}

function rank(prefix: Prefix): number {
  return logAdd(prefix.pBlank, prefix.pToken) + prefix.bonus;
}

/** A node of a beam search's prefix tree: the token it adds, its frames, its parent and its scores. */
export interface TokenPath {
  readonly token: number;
  readonly firstFrame: number;
  readonly lastFrame: number;
  readonly parent: TokenPath | null;
  readonly pBlank: number;
  readonly pToken: number;
}

/** The tokens of a prefix, root first, each timed by the frames it ran over. */
export function tokensOf(prefix: TokenPath): AlignedToken[] {
  const tokens: AlignedToken[] = [];
  let nextFirst = Infinity;
  for (let p: TokenPath | null = prefix; p && p.token >= 0; p = p.parent) {
    // A prefix that stayed in the beam after a child branched off may have run on past the child's start.
    tokens.push({
      id: p.token,
      firstFrame: p.firstFrame,
      lastFrame: Math.max(p.firstFrame, Math.min(p.lastFrame, nextFirst - 1)),
    });
    nextFirst = p.firstFrame;
  }
  return tokens.reverse();
}

/** A prefix's tokens extended greedily over `frames` provisional rows at logProbs[offset + i*vocab], for partials. */
export function extendGreedily(
  prefix: TokenPath,
  logProbs: Float32Array,
  offset: number,
  frames: number,
  vocab: number,
  blank: number,
  frame: number,
): AlignedToken[] {
  const tokens = tokensOf(prefix);
  let previous = tokens.length > 0 ? tokens[tokens.length - 1]!.id : -1;
  // A prefix whose last path ended in blank may repeat its last token.
  if (prefix.pBlank > prefix.pToken) previous = -1;
  for (let i = 0; i < frames; i++) {
    const best = argmax(logProbs, offset + i * vocab, vocab);
    previous = emitGreedy(tokens, best, previous, blank, frame + i);
  }
  return tokens;
}
