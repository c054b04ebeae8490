import type { Vocabulary } from "../model/vocabulary.ts";
import type { Hotword } from "../types.ts";

/**
 * Contextual biasing over token sequences, in the manner of sherpa-onnx's context graph: the phrases
 * form a trie with Aho–Corasick failure links; a hypothesis carries its node; each token that extends
 * a match earns the phrase's boost, a token that breaks the match gives back what the partial match had
 * earned (falling back to the longest suffix that still matches), and a completed phrase keeps its
 * bonus for good. At the end of an utterance an unfinished match is given back too.
 */
export interface HotwordNode {
  readonly token: number;
  readonly depth: number;
  /** Bonus earned by the match so far (sum of boosts along the path). */
  readonly score: number;
  readonly children: Map<number, HotwordNode>;
  fail: HotwordNode | null;
  /** A phrase ends here. */
  end: boolean;
}

export interface HotwordStep {
  node: HotwordNode;
  /** Score change for taking `token`: positive along a match, negative when a partial match fails. */
  delta: number;
}

export class HotwordGraph {
  readonly root: HotwordNode;
  readonly phrases: number;

  private constructor(root: HotwordNode, phrases: number) {
    this.root = root;
    this.phrases = phrases;
  }

  /** Phrases are lower-cased and mapped to tokens character by character; characters outside the vocabulary are skipped. */
  static build(hotwords: readonly Hotword[], vocabulary: Vocabulary): HotwordGraph {
    const root: HotwordNode = { token: -1, depth: 0, score: 0, children: new Map(), fail: null, end: false };
    let phrases = 0;
    for (const hotword of hotwords) {
      const tokens = tokenizePhrase(hotword.phrase, vocabulary);
      if (tokens.length === 0 || !(hotword.boost > 0)) continue;
      phrases++;
      let node = root;
      for (const token of tokens) {
        let child = node.children.get(token);
        const score = node.score + hotword.boost;
        if (!child) {
          child = { token, depth: node.depth + 1, score, children: new Map(), fail: null, end: false };
          node.children.set(token, child);
        } else if (score > child.score) {
          // Shared prefixes keep the larger boost.
          (child as { score: number }).score = score;
        }
        node = child;
      }
      node.end = true;
    }
    // Breadth-first failure links: the longest proper suffix of the path that is also a path.
    const queue: HotwordNode[] = [];
    for (const child of root.children.values()) {
      child.fail = root;
      queue.push(child);
    }
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      for (const [token, child] of node.children) {
        let fail = node.fail;
        while (fail && !fail.children.has(token)) fail = fail.fail;
        child.fail = fail ? fail.children.get(token)! : root;
        queue.push(child);
      }
    }
    return new HotwordGraph(root, phrases);
  }

  step(node: HotwordNode, token: number): HotwordStep {
    let from: HotwordNode | null = node;
    while (from && !from.children.has(token)) from = from.fail;
    const next = from ? from.children.get(token)! : this.root;
    const delta = next.score - node.score;
    // A completed phrase keeps its bonus: continue from the root so a later mismatch cannot take it back.
    return { node: next.end ? this.root : next, delta };
  }

  /** What an unfinished match gives back at the end of the utterance. */
  finalDelta(node: HotwordNode): number {
    return 0 - node.score;
  }
}

export function tokenizePhrase(phrase: string, vocabulary: Vocabulary): number[] {
  const tokens: number[] = [];
  const text = phrase.toLowerCase().replace(/\s+/g, " ").trim();
  for (const char of text) {
    if (char === " ") {
      if (tokens.length > 0 && tokens[tokens.length - 1] !== vocabulary.spaceId)
        tokens.push(vocabulary.spaceId);
      continue;
    }
    const id = vocabulary.idOfChar.get(char);
    if (id !== undefined) tokens.push(id);
  }
  while (tokens.length > 0 && tokens[tokens.length - 1] === vocabulary.spaceId) tokens.pop();
  return tokens;
}
