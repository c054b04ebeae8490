/**
 * Redaction recall and precision on bench/summarizer/pii-cases.json (spoken-form PII; regenerate
 * with pii-cases.ts). A PII span is recalled when every character of it is redacted; a redacted
 * span is precise when it overlaps a true PII span.
 *
 *   npx tsx bench/summarizer/redaction.ts [--misses]
 */
import { readFileSync } from "node:fs";
import { findPii } from "../../services/summarizer/src/analysis/index.ts";
import type { PiiCase } from "./pii-cases.ts";

const cases = JSON.parse(readFileSync(new URL("pii-cases.json", import.meta.url), "utf8")) as PiiCase[];
const showMisses = process.argv.includes("--misses");
const byKind = new Map<string, { gold: number; recalled: number }>();
let predicted = 0;
let precise = 0;
for (const c of cases) {
  const spans = findPii(c.text, c.context ?? "");
  const goldSpans = c.pii.map((p) => {
    const start = c.text.indexOf(p);
    return { start, end: start + p.length };
  });
  for (const g of goldSpans) {
    const k = byKind.get(c.kind) ?? { gold: 0, recalled: 0 };
    k.gold++;
    let covered = true;
    for (let i = g.start; i < g.end; i++) {
      if (c.text[i] === " ") continue;
      if (!spans.some((s) => s.start <= i && i < s.end)) covered = false;
    }
    if (covered) k.recalled++;
    else if (showMisses) console.log(`miss  ${c.kind}: ${c.text}`);
    byKind.set(c.kind, k);
  }
  for (const s of spans) {
    predicted++;
    if (goldSpans.some((g) => s.start < g.end && g.start < s.end)) precise++;
    else if (showMisses) console.log(`false ${c.kind}: ${c.text} -> "${c.text.slice(s.start, s.end)}"`);
  }
}
const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;
console.log("| kind | cases | recall |");
console.log("| --- | ---: | ---: |");
let gold = 0;
let recalled = 0;
for (const [kind, k] of byKind) {
  gold += k.gold;
  recalled += k.recalled;
  console.log(`| ${kind} | ${k.gold} | ${pct(k.recalled, k.gold)} |`);
}
console.log(`| all PII | ${gold} | ${pct(recalled, gold)} |`);
console.log(
  `\nprecision: ${pct(precise, predicted)} (${precise} of ${predicted} redacted spans overlap PII; ${cases.filter((c) => c.kind === "none").length} sentences with non-PII numbers included)`,
);
