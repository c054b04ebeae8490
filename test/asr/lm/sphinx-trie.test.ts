import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LmFileError } from "../../../services/asr/src/engine/lm/errors.ts";
import { NgramModel } from "../../../services/asr/src/engine/lm/ngram-model.ts";
import { readSphinxTrie, readSphinxTrieTables } from "../../../services/asr/src/engine/lm/sphinx-trie.ts";

/** Debian's pocketsphinx-en-us; python3-sphinxbase scores n-grams with Sphinx's own code. */
const EN_US = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
const PYTHON = "/usr/bin/python3";
const hasModel = existsSync(EN_US);
const hasSphinxbase =
  hasModel && existsSync("/usr/lib/python3/dist-packages/sphinxbase/sphinxbase.py") && existsSync(PYTHON);

/** A deterministic pseudo-random sequence (xorshift), so the sample is the same on every run. */
function sampler(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

describe.skipIf(!hasModel)("the Sphinx trie reader on Debian's en-us.lm.bin (pocketsphinx-en-us)", () => {
  const { tables, info } = readSphinxTrieTables(EN_US);
  const lm = new NgramModel(tables);

  it("holds the file's n-grams: its header counts, less 6 bigrams no unigram points to", () => {
    expect(info.declaredCounts).toEqual([72547, 2051547, 1669625]);
    expect(info.counts).toEqual([72547, 2051541, 1669625]);
    expect(lm.order).toBe(3);
    expect(lm.vocabularySize).toBe(72547);
    expect(info.unigramMass).toBeCloseTo(1, 4);
    expect(lm.wordId("telephone")).toBeGreaterThan(0);
  });

  it("scores known n-grams as Sphinx does", () => {
    // Values printed by python3-sphinxbase's NGramModel.prob (log base 1.0001) for the same n-grams.
    const ln = (sphinx: number): number => sphinx * Math.log(1.0001);
    expect(lm.scoreWords([], "the")).toBeCloseTo(ln(-31995), 3);
    expect(lm.scoreWords(["of"], "the")).toBeCloseTo(ln(-16085), 3);
    expect(lm.scoreWords(["one", "of"], "the")).toBeCloseTo(ln(-7041), 3);
    expect(lm.scoreWords(["<s>"], "hello")).toBeCloseTo(ln(-63638), 3);
  });

  it.skipIf(!hasSphinxbase)(
    "agrees with Sphinx's own library on a sample of bigrams, trigrams and back-offs",
    () => {
      const next = sampler(20261206);
      const words = tables.words;
      const ngrams: string[][] = [];
      const bigramOf = (j: number): [number, number] => {
        // The unigram whose child range holds bigram j.
        const fc = tables.firstChild[0]!;
        let lo = 0;
        let hi = words.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (fc[mid]! <= j) lo = mid;
          else hi = mid - 1;
        }
        return [lo, tables.lastWord[1]![j]!];
      };
      for (let i = 0; i < 150; i++) {
        // A listed bigram, a listed trigram, and a random (mostly unseen, backed-off) trigram.
        const [a, b] = bigramOf(next(tables.logProb[1]!.length));
        ngrams.push([words[a]!, words[b]!]);
        const t = next(tables.logProb[2]!.length);
        const fc1 = tables.firstChild[1]!;
        let lo = 0;
        let hi = fc1.length - 2;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (fc1[mid]! <= t) lo = mid;
          else hi = mid - 1;
        }
        const [x, y] = bigramOf(lo);
        ngrams.push([words[x]!, words[y]!, words[tables.lastWord[2]![t]!]!]);
        ngrams.push([words[next(words.length)]!, words[b]!, words[next(words.length)]!]);
      }
      const sentence = ngrams.filter((ws) => !ws.slice(1).includes("<s>"));
      const reference = JSON.parse(
        execFileSync(PYTHON, [join(import.meta.dirname, "sphinxbase_probs.py"), EN_US], {
          input: JSON.stringify(sentence),
          stdio: ["pipe", "pipe", "ignore"],
          maxBuffer: 1 << 24,
        }).toString(),
      ) as number[];
      expect(reference).toHaveLength(sentence.length);
      sentence.forEach((ws, i) => {
        const ours = lm.scoreWords(ws.slice(0, -1), ws.at(-1)!);
        // Sphinx answers whole units of ln(1.0001) ≈ 1e-4, truncated.
        expect(Math.abs(ours - reference[i]!), ws.join(" ")).toBeLessThan(3e-4);
      });
    },
  );

  it("refuses a truncated copy with the offset where it ends", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sphinx-")), "cut.lm.bin");
    writeFileSync(file, readFileSync(EN_US).subarray(0, 5_000_000));
    expect(() => readSphinxTrie(file)).toThrow(LmFileError);
    expect(() => readSphinxTrie(file)).toThrow(
      /cut\.lm\.bin at byte 5000000: the file ends .* inside the 2-grams, .*truncated/,
    );
  });
});
