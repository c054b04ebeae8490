import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Interpolation, selectNgrams } from "../../../models/recipes/lm/interpolate.ts";
import { kneserNeyTrigram } from "../../../models/recipes/lm/kneser-ney.ts";
import { readArpaTables } from "../../../services/asr/src/engine/lm/arpa.ts";
import { readLmBinary } from "../../../services/asr/src/engine/lm/binary.ts";
import { NgramModel } from "../../../services/asr/src/engine/lm/ngram-model.ts";

const MODEL_LM = join(import.meta.dirname, "../../../models/asr-en-telephony/lm.bin");

/** Σ over the vocabulary (without <s>) of P(w | history). */
function mass(lm: NgramModel, history: string[]): number {
  let sum = 0;
  lm.tables.words.forEach((w) => {
    if (w !== "<s>") sum += Math.exp(lm.scoreWords(history, w));
  });
  return sum;
}

const SENTENCES = [
  "my meter is broken",
  "my bill is too high",
  "the meter is leaking",
  "i want to pay my bill",
  "i want to report a leak",
  "the street light is broken",
];

describe("the LM recipe", () => {
  it("counts a Kneser-Ney trigram whose every distribution sums to 1", () => {
    const lm = new NgramModel(kneserNeyTrigram(SENTENCES));
    for (const history of [[], ["<s>"], ["my"], ["i", "want"], ["is", "broken"], ["meter", "bill"]])
      expect(mass(lm, history), history.join(" ")).toBeCloseTo(1, 6);
    // Seen continuations outrank unseen ones.
    expect(lm.scoreWords(["i", "want"], "to")).toBeGreaterThan(lm.scoreWords(["i", "want"], "meter"));
  });

  it("interpolates two models into one normalised back-off model with λ·P1 + (1−λ)·P2 on listed n-grams", () => {
    const domain = kneserNeyTrigram(SENTENCES);
    const general = readArpaTables(join(import.meta.dirname, "fixtures", "tiny.arpa"));
    const words = [...new Set([...domain.words, ...general.words])];
    const finalId = new Map(words.map((w, i) => [w, i]));
    const toFinal = (t: typeof domain): Int32Array => Int32Array.from(t.words, (w) => finalId.get(w) ?? -1);
    const fromFinal = (t: typeof domain): Int32Array => Int32Array.from(words, (w) => t.words.indexOf(w));
    const candidates = selectNgrams(domain, general, toFinal(domain), toFinal(general), {
      bigrams: 10,
      trigrams: 10,
    });
    const mixture = new Interpolation(
      words,
      domain,
      general,
      fromFinal(domain),
      fromFinal(general),
      candidates,
    );
    const lambda = 0.6;
    const mixed = new NgramModel(mixture.tablesAt(lambda));
    const d = new NgramModel(domain);
    const g = new NgramModel(general);
    for (const history of [[], ["<s>"], ["the"], ["the", "meter"], ["my", "meter"]])
      expect(mass(mixed, history), history.join(" ")).toBeCloseTo(1, 5);
    // "<s> the meter" is listed in both: its probability is the mixture of theirs.
    const expected = Math.log(
      lambda * Math.exp(d.scoreWords(["<s>", "the"], "meter")) +
        (1 - lambda) * Math.exp(g.scoreWords(["<s>", "the"], "meter")),
    );
    expect(mixed.scoreWords(["<s>", "the"], "meter")).toBeCloseTo(expected, 5);
  });

  it("ships a model folder LM whose distributions sum to 1", () => {
    const lm = readLmBinary(MODEL_LM);
    expect(lm.order).toBe(3);
    for (const history of [[], ["<s>"], ["i", "want"], ["please", "hold"]])
      expect(mass(lm, history)).toBeCloseTo(1, 3);
  });
});
