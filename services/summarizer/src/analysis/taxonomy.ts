import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import type { TicketUrgency } from "@callscribe/db";
import type { Leg, TranscriptUtterance } from "./transcript.ts";

/** A taxonomy file that cannot be used; the message names the rule and what to change. */
export class TaxonomyError extends Error {
  override readonly name = "TaxonomyError";
}

const urgencies = ["low", "normal", "high", "critical"] as const;
export const urgencyRank: Readonly<Record<TicketUrgency, number>> = {
  low: 0,
  normal: 1,
  high: 2,
  critical: 3,
};

const phraseList = z.array(z.string().trim().min(1, "is empty; remove it or write the words to match"));
const fraction = z.number().min(0, "must be from 0 to 1").max(1, "must be from 0 to 1");

const ruleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and dashes"),
    category: z.string(),
    subcategory: z.string().optional(),
    phrases: phraseList.min(1, "needs at least one phrase").optional(),
    all: phraseList.optional(),
    none: phraseList.optional(),
    party: z.enum(["caller", "agent", "any"]).default("any"),
    position: z
      .object({ from: fraction.default(0), to: fraction.default(1) })
      .strict()
      .refine((p) => p.from < p.to, "from must be before to (fractions of the call, 0 = start, 1 = end)")
      .optional(),
    sentiment: z
      .object({ below: z.number().min(-1).max(1).optional(), above: z.number().min(-1).max(1).optional() })
      .strict()
      .refine((s) => s.below !== undefined || s.above !== undefined, "give below or above (from -1 to 1)")
      .optional(),
    silence: z
      .object({ longestAtLeastMs: z.number().int().positive("must be a positive number of ms") })
      .strict()
      .optional(),
    weight: z.number().positive("must be above 0").default(1),
    urgency: z.enum(urgencies).optional(),
  })
  .strict()
  .refine((r) => r.phrases !== undefined || r.all !== undefined, {
    message: "matches nothing; give phrases (any of) or all (every one of)",
    path: ["phrases"],
  });

const categorySchema = z
  .object({
    label: z.string().min(1),
    urgency: z.enum(urgencies).default("normal"),
    subcategories: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and dashes"))
      .default([]),
  })
  .strict();

const fileSchema = z
  .object({
    version: z.literal(1, { errorMap: () => ({ message: "must be 1" }) }),
    fallback: z.object({ category: z.string(), subcategory: z.string().optional() }).strict(),
    categories: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), categorySchema),
    rules: z.array(z.unknown()),
  })
  .strict();

export type TaxonomyRuleSpec = z.infer<typeof ruleSchema>;

export interface CompiledRule extends TaxonomyRuleSpec {
  anyOf: RegExp[];
  allOf: RegExp[];
  noneOf: RegExp[];
}

export interface Taxonomy {
  fallback: { category: string; subcategory: string | null };
  categories: Record<string, { label: string; urgency: TicketUrgency; subcategories: string[] }>;
  rules: CompiledRule[];
}

/**
 * A phrase is words matched whole and case-insensitively across any spacing. `*` ends a word stem
 * ("pipe*" matches "pipes"), `(a|b)` gives alternatives, `?` makes the thing before it optional
 * ("bins?", "(is )?"), ` ?` an optional space ("street ?light"), `[cs]` one of some letters.
 */
export function phrasePattern(phrase: string): RegExp {
  const bad = /[^a-z0-9' *|()?+[\]-]/i.exec(phrase);
  if (bad) throw new PhraseError(`"${phrase}" has "${bad[0]}"; use only words, *, (a|b), ?, + and [ab]`);
  const body = phrase
    .toLowerCase()
    .trim()
    .replace(/ \?/g, "\u0000")
    .replace(/\*/g, "[a-z0-9']*")
    .replace(/ +/g, "\\s+")
    .replace(/\u0000/g, "\\s*");
  try {
    return new RegExp(`(?<![a-z0-9'])(?:${body})(?![a-z0-9'])`, "i");
  } catch {
    throw new PhraseError(`"${phrase}" is not a well-formed pattern; check its brackets`);
  }
}

class PhraseError extends Error {
  override readonly name = "PhraseError";
}

function describeIssue(issue: z.ZodIssue): string {
  const where = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const known =
      "name, category, subcategory, phrases, all, none, party, position, sentiment, silence, weight, urgency";
    return `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}; the fields are ${known}`;
  }
  if (issue.code === "invalid_enum_value") return `${where} must be one of ${issue.options.join(", ")}`;
  if (issue.code === "invalid_type" && issue.received === "undefined") return `${where} is missing; add it`;
  return where === "" ? issue.message : `${where} ${issue.message}`;
}

/**
 * Parses and checks a taxonomy (YAML or JSON). Any problem refuses the whole file with a
 * TaxonomyError naming the rule and the fix: a hotline must not run on half its rules.
 */
export function parseTaxonomy(source: string, fileName = "taxonomy"): Taxonomy {
  let raw: unknown;
  try {
    raw = parseYaml(source);
  } catch (err) {
    const line = err instanceof YAMLParseError ? ` at line ${err.linePos?.[0]?.line ?? "?"}` : "";
    throw new TaxonomyError(`${fileName}: not valid YAML${line}: ${(err as Error).message.split("\n")[0]}`, {
      cause: err,
    });
  }
  const file = fileSchema.safeParse(raw);
  if (!file.success) {
    const issue = file.error.issues[0]!;
    throw new TaxonomyError(`${fileName}: ${describeIssue(issue)}`);
  }
  const { categories, fallback } = file.data;
  const known = Object.keys(categories);
  const checkCategory = (what: string, category: string, subcategory: string | undefined) => {
    const def = categories[category];
    if (!def) {
      throw new TaxonomyError(
        `${what}: category "${category}" is not defined; define it under categories or use one of ${known.join(", ")}`,
      );
    }
    if (subcategory !== undefined && !def.subcategories.includes(subcategory)) {
      throw new TaxonomyError(
        `${what}: subcategory "${subcategory}" is not listed under categories.${category}.subcategories; ` +
          `add it there or use one of ${def.subcategories.join(", ") || "(none listed)"}`,
      );
    }
  };
  checkCategory(`${fileName}: fallback`, fallback.category, fallback.subcategory);

  const names = new Set<string>();
  const rules: CompiledRule[] = file.data.rules.map((entry, index) => {
    const name =
      typeof entry === "object" && entry !== null && typeof (entry as { name?: unknown }).name === "string"
        ? (entry as { name: string }).name
        : undefined;
    const what = `${fileName}: rule ${name === undefined ? `#${index + 1} (no name)` : `"${name}"`} (rules[${index}])`;
    const parsed = ruleSchema.safeParse(entry);
    if (!parsed.success) throw new TaxonomyError(`${what}: ${describeIssue(parsed.error.issues[0]!)}`);
    const rule = parsed.data;
    if (names.has(rule.name))
      throw new TaxonomyError(`${what}: another rule has this name; give each rule its own`);
    names.add(rule.name);
    checkCategory(what, rule.category, rule.subcategory);
    const compile = (field: string, list: string[] | undefined) =>
      (list ?? []).map((phrase, i) => {
        try {
          return phrasePattern(phrase);
        } catch (err) {
          if (err instanceof PhraseError) throw new TaxonomyError(`${what}: ${field}[${i}] ${err.message}`);
          throw err;
        }
      });
    return {
      ...rule,
      anyOf: compile("phrases", rule.phrases),
      allOf: compile("all", rule.all),
      noneOf: compile("none", rule.none),
    };
  });
  if (rules.length === 0) throw new TaxonomyError(`${fileName}: rules is empty; add at least one rule`);

  return {
    fallback: { category: fallback.category, subcategory: fallback.subcategory ?? null },
    categories: Object.fromEntries(
      Object.entries(categories).map(([id, c]) => [
        id,
        { label: c.label, urgency: c.urgency, subcategories: c.subcategories },
      ]),
    ),
    rules,
  };
}

export interface CategoryInput {
  utterances: readonly (TranscriptUtterance & { sentiment: number })[];
  durationMs: number;
  longestSilenceMs: number;
}

export interface Categorization {
  category: string;
  subcategory: string | null;
  /** Highest of the category's urgency and that of every rule that matched. */
  urgency: TicketUrgency;
  matchedRules: string[];
  /** Phrases that matched, for keywords and the summary. */
  matchedText: string[];
}

function ruleMatches(rule: CompiledRule, input: CategoryInput): { hits: number; text: string[] } {
  if (rule.silence && input.longestSilenceMs < rule.silence.longestAtLeastMs) return { hits: 0, text: [] };
  const inScope = input.utterances.filter((u) => {
    if (rule.party !== "any" && u.leg !== (rule.party as Leg)) return false;
    if (rule.position) {
      const at = input.durationMs > 0 ? u.startMs / input.durationMs : 0;
      if (at < rule.position.from || at > rule.position.to) return false;
    }
    if (rule.sentiment?.below !== undefined && !(u.sentiment < rule.sentiment.below)) return false;
    if (rule.sentiment?.above !== undefined && !(u.sentiment > rule.sentiment.above)) return false;
    return true;
  });
  const scopeText = inScope.map((u) => u.text).join(" \n ");
  if (rule.noneOf.some((p) => p.test(scopeText))) return { hits: 0, text: [] };
  if (!rule.allOf.every((p) => p.test(scopeText))) return { hits: 0, text: [] };
  const text: string[] = [];
  let hits = 0;
  if (rule.anyOf.length === 0) {
    hits = inScope.length > 0 ? 1 : 0;
  } else {
    for (const u of inScope) {
      const found = rule.anyOf.map((p) => p.exec(u.text)?.[0]).filter((m): m is string => m !== undefined);
      if (found.length > 0) {
        hits++;
        text.push(...found.map((m) => m.toLowerCase()));
      }
    }
  }
  return { hits, text };
}

/** Category and subcategory with the highest weighted count of matching utterances (at most 3 per rule). */
export function categorize(taxonomy: Taxonomy, input: CategoryInput): Categorization {
  const scores = new Map<string, number>();
  const subScores = new Map<string, number>();
  const matched: { rule: CompiledRule; score: number; text: string[] }[] = [];
  for (const rule of taxonomy.rules) {
    const { hits, text } = ruleMatches(rule, input);
    if (hits === 0) continue;
    const score = rule.weight * Math.min(hits, 3);
    matched.push({ rule, score, text });
    scores.set(rule.category, (scores.get(rule.category) ?? 0) + score);
    if (rule.subcategory !== undefined) {
      const key = `${rule.category}/${rule.subcategory}`;
      subScores.set(key, (subScores.get(key) ?? 0) + score);
    }
  }
  let category = taxonomy.fallback.category;
  let subcategory = taxonomy.fallback.subcategory;
  let best = 0;
  // Ties go to the category defined first in the file.
  for (const id of Object.keys(taxonomy.categories)) {
    const s = scores.get(id) ?? 0;
    if (s > best) {
      best = s;
      category = id;
      subcategory = null;
    }
  }
  if (best > 0) {
    let bestSub = 0;
    for (const sub of taxonomy.categories[category]!.subcategories) {
      const s = subScores.get(`${category}/${sub}`) ?? 0;
      if (s > bestSub) {
        bestSub = s;
        subcategory = sub;
      }
    }
  }
  let urgency = taxonomy.categories[category]!.urgency;
  for (const m of matched) {
    if (m.rule.urgency !== undefined && urgencyRank[m.rule.urgency] > urgencyRank[urgency])
      urgency = m.rule.urgency;
  }
  return {
    category,
    subcategory,
    urgency,
    matchedRules: matched.map((m) => m.rule.name),
    matchedText: [...new Set(matched.filter((m) => m.rule.category === category).flatMap((m) => m.text))],
  };
}
