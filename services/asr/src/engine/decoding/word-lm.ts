import type { LanguageModel, Lexicon } from "../lm/types.ts";
import type { Vocabulary } from "../model/vocabulary.ts";
import { tokenizePhrase } from "./hotwords.ts";
import { LexiconTrie } from "./lexicon-trie.ts";
import { LmScoreCache } from "./lm-score-cache.ts";
import type { Hotword } from "../types.ts";

/** Words outside the lexicon: `refuse` keeps to the lexicon; `allow` lets any spelling through as `<unk>` with a penalty. */
export type OovPolicy = "refuse" | "allow";

/** The search's knobs; every stream may have its own, over one shared WordLm. */
export interface WordSearchOptions {
  beamWidth: number;
  /** Weight of ln P_LM at each word end. */
  lmWeight: number;
  /** Added per word (insertion bonus; counters the LM's preference for fewer words). */
  wordBonus: number;
  oovPolicy: OovPolicy;
  /** Added per word outside the lexicon under `allow` (≤ 0). */
  oovPenalty: number;
  /** Tokens more than this far below the frame's best log-prob are not tried as extensions; default 5. */
  tokenPrune?: number;
  /** Prefixes scoring more than this below the frame's best prefix leave the beam; default 10. */
  beamThreshold?: number;
}

export const defaultWordSearchOptions: WordSearchOptions = {
  beamWidth: 32,
  lmWeight: 0.6,
  wordBonus: 0,
  oovPolicy: "refuse",
  oovPenalty: -10,
  tokenPrune: 5,
  beamThreshold: 10,
};

export class WordSearchOptionError extends RangeError {
  override readonly name = "WordSearchOptionError";
  readonly option: string;
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/** Refuses knob values the search cannot use; the error names the option and its range. */
export function validateWordSearchOptions(options: WordSearchOptions): void {
  const check = (name: keyof WordSearchOptions, ok: boolean, range: string): void => {
    if (!ok)
      throw new WordSearchOptionError(
        name,
        `word search option ${name} ${String(options[name])} is out of range: ${range}`,
      );
  };
  const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  check(
    "beamWidth",
    Number.isInteger(options.beamWidth) && options.beamWidth >= 1 && options.beamWidth <= 128,
    "use a whole number from 1 to 128",
  );
  check(
    "lmWeight",
    finite(options.lmWeight) && options.lmWeight >= 0 && options.lmWeight <= 5,
    "use 0 to 5 (typical 0.6 to 1.0)",
  );
  check("wordBonus", finite(options.wordBonus) && Math.abs(options.wordBonus) <= 20, "use -20 to 20");
  check("oovPolicy", options.oovPolicy === "refuse" || options.oovPolicy === "allow", "use refuse or allow");
  check(
    "oovPenalty",
    finite(options.oovPenalty) && options.oovPenalty <= 0 && options.oovPenalty >= -100,
    "use -100 to 0",
  );
  if (options.beamThreshold !== undefined)
    check(
      "beamThreshold",
      finite(options.beamThreshold) && options.beamThreshold > 0 && options.beamThreshold <= 1000,
      "use a value above 0 and at most 1000",
    );
  if (options.tokenPrune !== undefined)
    check(
      "tokenPrune",
      finite(options.tokenPrune) && options.tokenPrune > 0 && options.tokenPrune <= 100,
      "use a value above 0 and at most 100",
    );
}

/**
 * What every stream of one model shares for word-level decoding: the language model, the lexicon as a
 * trie over the model's tokens with the LM word id of each word, and the LM score cache. Built once per
 * (LM, lexicon) and never copied per stream.
 */
export class WordLm {
  readonly lm: LanguageModel;
  readonly lexicon: Lexicon;
  readonly trie: LexiconTrie;
  /** LM word id of each lexicon word (the LM's `<unk>` id for a word it does not know). */
  readonly lmIdOfWord: Int32Array;
  readonly cache: LmScoreCache;
  readonly separator: number;
  readonly blank: number;
  readonly vocab: number;
  /** Lexicon index of each word, for the hotword words a stream brings. */
  readonly #indexOfWord = new Map<string, number>();

  constructor(lm: LanguageModel, lexicon: Lexicon, vocabulary: Vocabulary) {
    if (lexicon.words.length !== lexicon.spellings.length)
      throw new RangeError(
        `lexicon has ${lexicon.words.length} words but ${lexicon.spellings.length} spellings; rebuild the lexicon`,
      );
    this.lm = lm;
    this.lexicon = lexicon;
    this.separator = vocabulary.spaceId;
    this.blank = vocabulary.blankId;
    this.vocab = vocabulary.tokens.length;
    lexicon.spellings.forEach((spelling, i) => {
      for (const token of spelling) {
        if (!(token >= 0 && token < this.vocab) || token === this.blank || token === this.separator)
          throw new RangeError(
            `lexicon word ${i} (${JSON.stringify(lexicon.words[i])}) has token ${token}, which is not a letter of the model's ${this.vocab} tokens; rebuild the lexicon from the model's tokens.txt`,
          );
      }
    });
    this.lmIdOfWord = Int32Array.from(lexicon.words, (w) => lm.wordId(w));
    const unknown = this.lmIdOfWord.indexOf(-1);
    if (unknown >= 0)
      throw new RangeError(
        `lexicon word ${unknown} (${JSON.stringify(lexicon.words[unknown])}) is not in the LM, which has no <unk>; take it out of the lexicon or use an LM with <unk>`,
      );
    lexicon.words.forEach((w, i) => {
      if (!this.#indexOfWord.has(w)) this.#indexOfWord.set(w, i);
    });
    this.cache = new LmScoreCache(lm);
    // Look-ahead: a word's score after the sentence start, the one context every word can be scored in.
    const start = lm.startState;
    this.trie = LexiconTrie.build(lexicon.spellings, (w) => {
      const id = this.lmIdOfWord[w]!;
      return id >= 0 ? lm.score(start, id).logProb : 0;
    });
  }

  hasWord(word: string): boolean {
    return this.#indexOfWord.has(word);
  }

  /**
   * The words of the hotword phrases that the lexicon lacks, as a small trie of their own (one per
   * stream): the search lets them through as `<unk>` words, so that a boosted name can be recognised
   * even under the `refuse` policy. Null when every hotword is a lexicon word.
   */
  hotwordWords(hotwords: readonly Hotword[], vocabulary: Vocabulary): LexiconTrie | null {
    const extra: number[][] = [];
    const seen = new Set<string>();
    for (const hotword of hotwords) {
      let word: number[] = [];
      const flush = (): void => {
        const text = word.map((t) => vocabulary.surface[t]).join("");
        if (word.length > 0 && !this.hasWord(text) && !seen.has(text)) {
          seen.add(text);
          extra.push(word);
        }
        word = [];
      };
      for (const token of tokenizePhrase(hotword.phrase, vocabulary)) {
        if (token === this.separator) flush();
        else word.push(token);
      }
      flush();
    }
    return extra.length > 0 ? LexiconTrie.build(extra) : null;
  }
}

const shared = new WeakMap<LanguageModel, WeakMap<Lexicon, WordLm>>();

/** The WordLm of an LM and lexicon, built on first use and shared from then on. */
export function wordLmFor(lm: LanguageModel, lexicon: Lexicon, vocabulary: Vocabulary): WordLm {
  let byLexicon = shared.get(lm);
  if (!byLexicon) {
    byLexicon = new WeakMap();
    shared.set(lm, byLexicon);
  }
  let wordLm = byLexicon.get(lexicon);
  if (!wordLm) {
    wordLm = new WordLm(lm, lexicon, vocabulary);
    byLexicon.set(lexicon, wordLm);
  }
  return wordLm;
}
