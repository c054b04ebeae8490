import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { categorize, parseTaxonomy, TaxonomyError } from "./taxonomy.ts";

const header = `version: 1
fallback: { category: general }
categories:
  water: { label: Water, subcategories: [leak] }
  general: { label: General }
rules:
`;

function refusal(yaml: string): string {
  try {
    parseTaxonomy(header + yaml, "hotline.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(TaxonomyError);
    return (err as Error).message;
  }
  throw new Error("the taxonomy loaded");
}

describe("parseTaxonomy", () => {
  it("loads the shipped public-service taxonomy", () => {
    const taxonomy = parseTaxonomy(
      readFileSync(new URL("../../taxonomy/public-service.yaml", import.meta.url), "utf8"),
    );
    expect(Object.keys(taxonomy.categories)).toEqual(
      expect.arrayContaining(["water", "roads", "waste", "noise", "billing", "permits", "staff"]),
    );
  });

  it("refuses a rule naming an undefined category, naming the rule and the fix", () => {
    expect(refusal(`  - { name: leaks, category: watr, phrases: [leak] }\n`)).toBe(
      'hotline.yaml: rule "leaks" (rules[0]): category "watr" is not defined; define it under categories or use one of water, general',
    );
  });

  it("refuses an unlisted subcategory, a misspelt field, a bad pattern and a rule that matches nothing", () => {
    expect(refusal(`  - { name: leaks, category: water, subcategory: drip, phrases: [leak] }\n`)).toMatch(
      /rule "leaks" .*subcategory "drip" is not listed under categories.water.subcategories; add it there or use one of leak/,
    );
    expect(refusal(`  - { name: leaks, category: water, phrase: [leak] }\n`)).toMatch(
      /rule "leaks" \(rules\[0\]\): unknown field "phrase"; the fields are name, category, subcategory, phrases/,
    );
    expect(refusal(`  - { name: leaks, category: water, phrases: ["leak (pipe"] }\n`)).toMatch(
      /rule "leaks" .*phrases\[0\] "leak \(pipe" is not a well-formed pattern; check its brackets/,
    );
    expect(refusal(`  - { name: leaks, category: water }\n`)).toMatch(
      /rule "leaks" .*matches nothing; give phrases/,
    );
    expect(
      refusal(`  - { name: late, category: water, phrases: [leak], position: { from: 0.8, to: 0.2 } }\n`),
    ).toMatch(/rule "late" .*position from must be before to/);
    expect(
      refusal(
        `  - { name: a, category: water, phrases: [x] }\n  - { name: a, category: water, phrases: [y] }\n`,
      ),
    ).toMatch(/rule "a" \(rules\[1\]\): another rule has this name/);
  });

  it("refuses a file that is not YAML, naming the line", () => {
    expect(() => parseTaxonomy("version: 1\ncategories: [\n", "bad.yaml")).toThrow(
      /bad.yaml: not valid YAML at line/,
    );
  });
});

describe("categorize", () => {
  const taxonomy = parseTaxonomy(
    `${header}  - { name: leak, category: water, subcategory: leak, phrases: ["leak*"], party: caller, position: { from: 0, to: 0.5 } }
  - { name: angry-water, category: water, phrases: [water], sentiment: { below: -0.3 }, urgency: high }
`,
  );
  const u = (leg: "caller" | "agent", startMs: number, text: string, sentiment = 0) => ({
    leg,
    seq: 0,
    startMs,
    endMs: startMs + 1000,
    text,
    sentiment,
  });

  it("matches by party and position, and falls back when no rule matches", () => {
    const early = categorize(taxonomy, {
      utterances: [u("caller", 0, "the pipe is leaking")],
      durationMs: 10_000,
      longestSilenceMs: 0,
    });
    expect([early.category, early.subcategory, early.urgency]).toEqual(["water", "leak", "normal"]);
    const byAgent = categorize(taxonomy, {
      utterances: [u("agent", 0, "is it leaking")],
      durationMs: 10_000,
      longestSilenceMs: 0,
    });
    expect([byAgent.category, byAgent.subcategory]).toEqual(["general", null]);
    const late = categorize(taxonomy, {
      utterances: [u("caller", 8000, "it leaks")],
      durationMs: 10_000,
      longestSilenceMs: 0,
    });
    expect(late.category).toBe("general");
  });

  it("matches on the utterance's sentiment and raises urgency", () => {
    const calm = categorize(taxonomy, {
      utterances: [u("caller", 0, "water", 0.2)],
      durationMs: 10_000,
      longestSilenceMs: 0,
    });
    expect(calm.category).toBe("general");
    const angry = categorize(taxonomy, {
      utterances: [u("caller", 0, "water", -0.6)],
      durationMs: 10_000,
      longestSilenceMs: 0,
    });
    expect([angry.category, angry.urgency]).toEqual(["water", "high"]);
  });
});
