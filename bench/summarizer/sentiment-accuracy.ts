/**
 * Text sentiment accuracy on the labelled sentences the `sentiment` npm package ships (Amazon, IMDb,
 * Yelp; 1,000 each, half positive). The summarizer's scorer (VADER compound) is read as positive
 * when above 0 and negative otherwise; AFINN-165 through `sentiment` is shown beside it.
 *
 *   npx tsx bench/summarizer/sentiment-accuracy.ts
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { textSentiment } from "../../services/summarizer/src/analysis/index.ts";

const require = createRequire(import.meta.url);
const Sentiment = require("sentiment") as new () => { analyze(text: string): { score: number } };
const afinn = new Sentiment();
const fixtures = join(dirname(require.resolve("sentiment/package.json")), "test/fixtures");

const rows: string[] = [];
let total = { n: 0, vader: 0, afinn: 0 };
for (const source of ["amazon", "imdb", "yelp"]) {
  const items = JSON.parse(readFileSync(join(fixtures, `${source}.json`), "utf8")) as {
    text: string;
    class: 0 | 1;
  }[];
  let vader = 0;
  let afinnRight = 0;
  for (const { text, class: label } of items) {
    if ((textSentiment(text) > 0 ? 1 : 0) === label) vader++;
    if ((afinn.analyze(text).score > 0 ? 1 : 0) === label) afinnRight++;
  }
  total = { n: total.n + items.length, vader: total.vader + vader, afinn: total.afinn + afinnRight };
  const pct = (x: number) => `${((100 * x) / items.length).toFixed(1)}%`;
  rows.push(`| ${source} | ${items.length} | ${pct(vader)} | ${pct(afinnRight)} |`);
}
const pct = (x: number) => `${((100 * x) / total.n).toFixed(1)}%`;
console.log("| source | sentences | VADER (used) | AFINN-165 |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of rows) console.log(r);
console.log(`| all | ${total.n} | ${pct(total.vader)} | ${pct(total.afinn)} |`);
