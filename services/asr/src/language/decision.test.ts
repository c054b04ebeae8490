import { describe, expect, it } from "vitest";
import { LanguageEvidence, decideLanguage, speechSpan } from "./decision.ts";
import type { LanguageLabel } from "./manifest.ts";

const labels: LanguageLabel[] = ["es-ES", "es-419", "fr-FR", "fr-CA", "it"].map((tag) => ({
  tag,
  language: tag.split("-")[0]!,
  realSpeakers: [],
  synthetic: true,
}));

/** Log-posteriors from probabilities in label order. */
const logp = (...p: number[]) => Float32Array.from(p, Math.log);

describe("decideLanguage", () => {
  it("sums a language's variants before choosing, then names the likeliest variant", () => {
    // fr-FR alone (0.3) beats each Spanish variant, but Spanish together (0.5) wins.
    const tag = decideLanguage(logp(0.25, 0.25, 0.3, 0.1, 0.1), labels, 0.45);
    expect(tag.language).toBe("es");
    expect(["es-ES", "es-419"]).toContain(tag.dialect);
    expect(tag.confidence).toBeCloseTo(0.5, 5);
  });

  it("says und when no language reaches the threshold", () => {
    expect(decideLanguage(logp(0.2, 0.2, 0.2, 0.2, 0.2), labels, 0.5)).toEqual({
      language: "und",
      dialect: "und",
      confidence: expect.closeTo(0.4, 5),
    });
  });
});

describe("LanguageEvidence", () => {
  it("is und before any utterance", () => {
    expect(new LanguageEvidence(labels, 0.5).decide()).toEqual({
      language: "und",
      dialect: "und",
      confidence: 0,
    });
  });

  it("lets utterances that agree outvote one odd one, and grows more certain as they come", () => {
    const evidence = new LanguageEvidence(labels, 0.5);
    evidence.add(logp(0.05, 0.05, 0.05, 0.05, 0.8)); // one utterance heard as Italian
    expect(evidence.decide().language).toBe("it");
    const italian = evidence.decide().confidence;
    const confidences: number[] = [];
    for (let i = 0; i < 4; i++) {
      evidence.add(logp(0.1, 0.6, 0.1, 0.1, 0.1));
      confidences.push(evidence.decide().confidence);
    }
    const tag = evidence.decide();
    expect(tag).toMatchObject({ language: "es", dialect: "es-419" });
    expect(evidence.utterances).toBe(5);
    expect(confidences[3]!).toBeGreaterThan(confidences[1]!);
    expect(italian).toBeGreaterThan(0.5);
  });

  it("refuses log-probabilities of another width", () => {
    expect(() => new LanguageEvidence(labels, 0.5).add(new Float32Array(4))).toThrow(RangeError);
  });
});

describe("speechSpan", () => {
  it("cuts the silence around speech, keeping 100 ms either side", () => {
    const rate = 8000;
    const x = new Float32Array(3 * rate);
    for (let i = rate; i < 2 * rate; i++) x[i] = 0.5 * Math.sin(i * 0.3);
    const span = speechSpan(x, rate);
    expect(span.length).toBeGreaterThan(rate + 0.15 * rate);
    expect(span.length).toBeLessThan(rate + 0.25 * rate);
  });
});
