import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LmFileError } from "../../../services/asr/src/engine/lm/errors.ts";
import { readArpa, readArpaTables, writeArpa } from "../../../services/asr/src/engine/lm/arpa.ts";
import type { LanguageModel, LmState } from "../../../services/asr/src/engine/lm/types.ts";

const TINY = join(import.meta.dirname, "fixtures", "tiny.arpa");
const ln = (log10: number): number => log10 * Math.LN10;

/** ln P of each word of `sentence` after <s>, and of </s>, with the state carried between them. */
function sentenceScores(lm: LanguageModel, sentence: string): number[] {
  let state: LmState = lm.startState;
  const scores: number[] = [];
  for (const word of sentence.split(" ")) {
    const result = lm.score(state, lm.wordId(word));
    scores.push(result.logProb);
    state = result.state;
  }
  scores.push(lm.endScore(state));
  return scores;
}

function scratch(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "arpa-")), name);
  writeFileSync(file, text);
  return file;
}

describe("readArpa", () => {
  const lm = readArpa(TINY);

  it("reads the header, vocabulary and <unk>", () => {
    expect(lm.order).toBe(3);
    expect(lm.vocabularySize).toBe(5);
    expect(lm.unkId).toBe(0);
    expect(lm.wordId("meter")).toBe(4);
    expect(lm.wordId("gas")).toBe(lm.unkId);
  });

  it("scores listed n-grams exactly, as natural logs", () => {
    // <s> the meter </s>: bigram, trigram, trigram.
    const scores = sentenceScores(lm, "the meter");
    expect(scores[0]).toBeCloseTo(ln(-0.3), 6);
    expect(scores[1]).toBeCloseTo(ln(-0.05), 6);
    expect(scores[2]).toBeCloseTo(ln(-0.1), 6);
  });

  it("backs off through every shorter context", () => {
    // <s> the the: no "<s> the the", no "the the": bo(<s> the) + bo(the) + P(the).
    const [, theThe] = sentenceScores(lm, "the the");
    expect(theThe).toBeCloseTo(ln(-0.1 - 0.3 - 0.4), 6);
    // </s> after "<s> the": bo(<s> the) + bo(the) + P(</s>).
    const [, end] = sentenceScores(lm, "the");
    expect(end).toBeCloseTo(ln(-0.1 - 0.3 - 0.6), 6);
    // An unknown word is <unk>; after it, the context is <unk> with back-off 0.
    const [unk, afterUnk] = sentenceScores(lm, "gas");
    expect(unk).toBeCloseTo(ln(-0.5 - 1.0), 6);
    expect(afterUnk).toBeCloseTo(ln(-0.6), 6);
  });

  it("gives contexts with the same future the same state", () => {
    const afterSMeter = lm.score(lm.startState, lm.wordId("meter")).state;
    const afterMeter = lm.score(0, lm.wordId("meter")).state;
    expect(afterSMeter).toBe(afterMeter);
    expect(lm.endScore(afterSMeter)).toBeCloseTo(ln(-0.5), 6);
    const afterTheMeter = lm.score(lm.score(0, lm.wordId("the")).state, lm.wordId("meter")).state;
    expect(afterTheMeter).not.toBe(afterMeter);
    expect(lm.endScore(afterTheMeter)).toBeCloseTo(ln(-0.1), 6);
  });

  it("writes ARPA that reads back to the same scores", () => {
    const copy = scratch("copy.arpa", "");
    writeArpa(readArpaTables(TINY), copy);
    const again = readArpa(copy);
    for (const sentence of ["the meter", "the the", "gas meter the", "meter"])
      expect(sentenceScores(again, sentence)).toEqual(
        sentenceScores(lm, sentence).map((x) => expect.closeTo(x, 5)),
      );
  });
});

describe("readArpa refuses bad files, naming the line", () => {
  const text = readFileSync(TINY, "utf8");
  const refusal = (name: string, body: string): LmFileError => {
    const file = scratch(name, body);
    try {
      readArpa(file);
    } catch (err) {
      expect(err).toBeInstanceOf(LmFileError);
      expect((err as LmFileError).message).toContain(file);
      return err as LmFileError;
    }
    throw new Error(`${name} was accepted`);
  };

  it("a truncated file", () => {
    const cut = text.slice(0, text.indexOf("-0.1\tthe meter"));
    const err = refusal("cut.arpa", cut);
    expect(err.message).toMatch(/has 1 entries, \\data\\ declares 2/);
    expect(err.line).toBe(cut.split("\n").length - 1);
  });

  it("a malformed probability", () => {
    const err = refusal("nan.arpa", text.replace("-0.2\tthe meter", "x0.2\tthe meter"));
    expect(err.line).toBe(15);
    expect(err.message).toMatch(/probability "x0.2" is not a log10 probability/);
  });

  it("an n-gram of a word that is not a unigram", () => {
    const err = refusal("word.arpa", text.replace("-0.5\tmeter </s>", "-0.5\tmeter gas"));
    expect(err.line).toBe(16);
    expect(err.message).toMatch(/word "gas" is not among the unigrams/);
  });

  it("a trigram whose context is missing", () => {
    const err = refusal("context.arpa", text.replace("-0.1\tthe meter </s>", "-0.1\tmeter the </s>"));
    expect(err.line).toBe(21);
    expect(err.message).toMatch(/first 2 word\(s\) are not among the 2-grams/);
  });

  it("a duplicate n-gram", () => {
    const err = refusal("dup.arpa", text.replace("-0.9\t<s> meter", "-0.9\t<s> the"));
    expect(err.message).toMatch(/repeats an earlier 2-gram/);
    expect(err.line).toBe(17);
  });

  it("a file that is not ARPA", () => {
    expect(refusal("text.arpa", "hello world\n").message).toMatch(/no \\data\\ header/);
  });
});
