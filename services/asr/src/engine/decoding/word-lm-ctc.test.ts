import { describe, expect, it } from "vitest";
import type { LanguageModel, Lexicon, LmScore } from "../lm/types.ts";
import { createVocabulary } from "../model/vocabulary.ts";
import { GreedyCtcDecoder, type AlignedToken, type CtcDecoder } from "./ctc.ts";
import { HotwordGraph } from "./hotwords.ts";
import { LexiconTrie } from "./lexicon-trie.ts";
import {
  WordLm,
  WordSearchOptionError,
  defaultWordSearchOptions,
  validateWordSearchOptions,
  type WordSearchOptions,
} from "./word-lm.ts";
import { WordLmCtcDecoder } from "./word-lm-ctc.ts";
import { assembleTranscript } from "./words.ts";

const TOKENS = ["▁", "'", ..."abcdefghijklmnopqrstuvwxyz", "<blk>"];
const vocabulary = createVocabulary(TOKENS, 28, "▁");
const V = TOKENS.length;
const BLANK = 28;

/**
 * A bigram over a handful of words, in the shape of an ARPA back-off model: state = id of the previous
 * word (0 = <s>); unseen bigrams back off to the unigram with the context's back-off weight.
 */
class BigramLm implements LanguageModel {
  readonly order = 2;
  readonly vocabularySize: number;
  readonly unkId: number;
  readonly startState = 0;
  readonly #ids = new Map<string, number>();
  readonly #unigram: number[] = [];
  readonly #backoff: number[] = [];
  readonly #bigram = new Map<string, number>();

  constructor(unigrams: Record<string, number>, bigrams: Record<string, number>, backoff = Math.log(0.4)) {
    for (const word of ["<s>", "</s>", ...Object.keys(unigrams)]) {
      this.#ids.set(word, this.#unigram.length);
      this.#unigram.push(Math.log(unigrams[word] ?? 1e-9));
      this.#backoff.push(backoff);
    }
    for (const [pair, p] of Object.entries(bigrams)) {
      const [a, b] = pair.split(" ");
      this.#bigram.set(`${this.#ids.get(a!)} ${this.#ids.get(b!)}`, Math.log(p));
    }
    this.vocabularySize = this.#unigram.length;
    this.unkId = this.#ids.get("<unk>") ?? -1;
  }

  wordId(word: string): number {
    return this.#ids.get(word) ?? this.unkId;
  }

  score(state: number, wordId: number): LmScore {
    const direct = this.#bigram.get(`${state} ${wordId}`);
    return {
      logProb: direct ?? this.#backoff[state]! + this.#unigram[wordId]!,
      state: wordId,
    };
  }

  endScore(state: number): number {
    return this.score(state, 1).logProb;
  }
}

function lexiconOf(words: string[]): Lexicon {
  return {
    words,
    spellings: words.map((w) => Int32Array.from([...w], (c) => vocabulary.idOfChar.get(c)!)),
  };
}

/** Log-probs where each frame puts `p` on one symbol ("_" = blank, " " = space) and spreads the rest. */
function frames(spec: Array<string | Record<string, number>>, p = 0.9): Float32Array {
  const out = new Float32Array(spec.length * V);
  spec.forEach((frame, t) => {
    const probs = new Float64Array(V);
    const entries = typeof frame === "string" ? { [frame]: p } : frame;
    let used = 0;
    for (const [symbol, prob] of Object.entries(entries)) {
      probs[idOf(symbol)] = prob;
      used += prob;
    }
    const rest = (1 - used) / (V - Object.keys(entries).length);
    for (let v = 0; v < V; v++) out[t * V + v] = Math.log(probs[v] || rest);
  });
  return out;
}

/** Frames spelling `text` one character a frame, a blank after each word. */
function spoken(text: string): Array<string | Record<string, number>> {
  const out: Array<string | Record<string, number>> = ["_"];
  for (const c of text) out.push(c, ...(c === " " ? [] : ["_"]));
  return out;
}

function idOf(symbol: string): number {
  if (symbol === "_") return BLANK;
  if (symbol === " ") return 0;
  return TOKENS.indexOf(symbol);
}

function decode(decoder: CtcDecoder, logProbs: Float32Array): AlignedToken[] {
  for (let t = 0; t < logProbs.length / V; t++) decoder.step(logProbs, t * V);
  return decoder.result();
}

function text(tokens: AlignedToken[]): string {
  return assembleTranscript(tokens, vocabulary, () => 1, 20, 0).text;
}

const catLm = new BigramLm(
  { the: 0.3, cat: 0.1, cap: 0.1, sat: 0.1, on: 0.1, mat: 0.1, a: 0.1, "<unk>": 0.01 },
  { "<s> the": 0.8, "the cat": 0.5, "the cap": 0.05, "cat sat": 0.6, "cap sat": 0.001, "sat on": 0.7 },
);
const catLexicon = lexiconOf(["the", "cat", "cap", "sat", "on", "mat", "a"]);
const wordLm = new WordLm(catLm, catLexicon, vocabulary);

function search(
  options: Partial<WordSearchOptions> = {},
  hotwords: HotwordGraph | null = null,
): WordLmCtcDecoder {
  const words = hotwords ? wordLm.hotwordWords(hotwordList(hotwords), vocabulary) : null;
  return new WordLmCtcDecoder(
    wordLm,
    { ...defaultWordSearchOptions, ...options },
    hotwords ? { graph: hotwords, words } : null,
  );
}
const hotwordPhrases = new WeakMap<HotwordGraph, { phrase: string; boost: number }[]>();
function hotGraph(list: { phrase: string; boost: number }[]): HotwordGraph {
  const graph = HotwordGraph.build(list, vocabulary);
  hotwordPhrases.set(graph, list);
  return graph;
}
function hotwordList(graph: HotwordGraph): { phrase: string; boost: number }[] {
  return hotwordPhrases.get(graph)!;
}

describe("LexiconTrie", () => {
  it("finds every spelling and only those, with the best word score below each node", () => {
    const spellings = catLexicon.spellings;
    const trie = LexiconTrie.build(spellings, (w) => -w);
    expect(trie.words).toBe(7);
    const walk = (word: string): number => {
      let node = 0;
      for (const c of word) {
        node = trie.child(node, vocabulary.idOfChar.get(c)!);
        if (node < 0) return -1;
      }
      return node;
    };
    for (const [i, word] of catLexicon.words.entries()) expect(trie.wordAt[walk(word)]).toBe(i);
    expect(trie.wordAt[walk("ca")]).toBe(-1);
    expect(walk("cab")).toBe(-1);
    // "ca" leads to cat (word 1, score −1) and cap (word 2, score −2).
    expect(trie.lookAhead[walk("ca")]).toBe(-1);
  });
});

describe("WordLmCtcDecoder", () => {
  it("prefers the word sequence the LM finds likely over an acoustically closer wrong word", () => {
    // The third letter of the second word leans to p ("the cap sat"), the LM to "the cat sat".
    const spec = spoken("the cat sat");
    spec[spec.indexOf("t", 6)] = { p: 0.5, t: 0.4 };
    const lp = frames(spec);
    expect(text(decode(new GreedyCtcDecoder(V, BLANK), lp))).toBe("the cap sat");
    expect(text(decode(search({ lmWeight: 0 }), lp))).toBe("the cap sat");
    expect(text(decode(search(), lp))).toBe("the cat sat");
  });

  it("keeps to the lexicon under the refuse policy: a misspelling becomes the nearest allowed word", () => {
    // "thw": w is the most likely third letter, e second.
    const spec = spoken("the cat");
    spec[5] = { w: 0.5, e: 0.4 };
    const lp = frames(spec);
    expect(text(decode(new GreedyCtcDecoder(V, BLANK), lp))).toBe("thw cat");
    expect(text(decode(search({ oovPolicy: "refuse" }), lp))).toBe("the cat");
  });

  it("lets a word outside the lexicon through under allow, at the OOV penalty", () => {
    const lp = frames(spoken("the zorp"), 0.98);
    expect(text(decode(search({ oovPolicy: "refuse" }), lp))).not.toContain("zorp");
    expect(text(decode(search({ oovPolicy: "allow", oovPenalty: -2 }), lp))).toBe("the zorp");
    // A penalty larger than what the acoustics gain keeps the words in the lexicon.
    const close = frames(spoken("the cat").map((f) => (f === "a" ? { a: 0.5, o: 0.45 } : f)));
    expect(text(decode(search({ oovPolicy: "allow", oovPenalty: -30 }), close))).toBe("the cat");
  });

  it("applies hotwords inside the search, including hotword words the lexicon lacks", () => {
    // "the cap": acoustics and LM both lean away from cap only slightly less than a boost can turn.
    const spec = spoken("the cap");
    spec[spec.lastIndexOf("p")] = { t: 0.5, p: 0.45 };
    const lp = frames(spec);
    expect(text(decode(search(), lp))).toBe("the cat");
    expect(text(decode(search({}, hotGraph([{ phrase: "cap", boost: 5 }])), lp))).toBe("the cap");
    // "waldo" is in no lexicon: refused without the hotword, recognised with it.
    const waldo = frames(spoken("the waldo"), 0.95);
    expect(text(decode(search(), waldo))).not.toContain("waldo");
    expect(text(decode(search({}, hotGraph([{ phrase: "waldo", boost: 3 }])), waldo))).toBe("the waldo");
  });

  it("tries a hotword's next token even where the acoustics rank it below the pruning floor", () => {
    // p is 7 nats below t on the last letter's frame: outside the default pruning floor of 5.
    const spec = spoken("the cap");
    spec[spec.lastIndexOf("p")] = { t: 0.9, p: 0.9 * Math.exp(-7) };
    const lp = frames(spec);
    expect(text(decode(search(), lp))).toBe("the cat");
    expect(text(decode(search({}, hotGraph([{ phrase: "cap", boost: 4 }])), lp))).toBe("the cap");
  });

  it("gives each word monotonic times from its frames", () => {
    const lp = frames(spoken("the cat sat on a mat"));
    const t = assembleTranscript(decode(search(), lp), vocabulary, () => 0.8, 20, 100);
    expect(t.text).toBe("the cat sat on a mat");
    for (const [i, w] of t.words.entries()) {
      expect(w.endMs).toBeGreaterThan(w.startMs);
      if (i > 0) expect(w.startMs).toBeGreaterThanOrEqual(t.words[i - 1]!.endMs);
      expect(w.confidence).toBeGreaterThanOrEqual(0);
      expect(w.confidence).toBeLessThanOrEqual(1);
    }
  });

  it("decodes the same frame by frame with peeks in between as in one go", () => {
    const spec = spoken("the cat sat on the mat");
    spec[6] = { p: 0.5, t: 0.4 };
    const lp = frames(spec);
    const whole = decode(search(), lp);
    const streamed = search();
    const partials: string[] = [];
    for (let t = 0; t < lp.length / V; t++) {
      streamed.step(lp, t * V);
      partials.push(text(streamed.peek(lp, (t + 1) * V, 0)));
    }
    expect(streamed.result()).toEqual(whole);
    expect(partials.at(-1)).toBe("the cat sat on the mat");
  });
});

describe("validateWordSearchOptions", () => {
  it("refuses bad knob values, naming the option and its range", () => {
    const bad: Array<[Partial<WordSearchOptions>, string]> = [
      [{ beamWidth: 0 }, "beamWidth"],
      [{ beamWidth: 2.5 }, "beamWidth"],
      [{ lmWeight: -1 }, "lmWeight"],
      [{ lmWeight: Number.NaN }, "lmWeight"],
      [{ wordBonus: 50 }, "wordBonus"],
      [{ oovPolicy: "maybe" as "allow" }, "oovPolicy"],
      [{ oovPenalty: 3 }, "oovPenalty"],
    ];
    for (const [patch, name] of bad) {
      let error: unknown;
      try {
        validateWordSearchOptions({ ...defaultWordSearchOptions, ...patch });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(WordSearchOptionError);
      expect((error as WordSearchOptionError).option).toBe(name);
      expect((error as Error).message).toContain(name);
    }
    expect(() => validateWordSearchOptions(defaultWordSearchOptions)).not.toThrow();
  });

  it("refuses a lexicon spelled with tokens that are not letters of the model, or with words an LM without <unk> lacks", () => {
    const broken: Lexicon = { words: ["a b"], spellings: [Int32Array.from([2, 0, 3])] };
    expect(() => new WordLm(catLm, broken, vocabulary)).toThrow(/lexicon word 0 .*token 0/);
    const noUnk = new BigramLm({ the: 0.5, cat: 0.5 }, {});
    expect(() => new WordLm(noUnk, lexiconOf(["the", "dog"]), vocabulary)).toThrow(
      /lexicon word 1 \("dog"\) is not in the LM, which has no <unk>/,
    );
  });
});
