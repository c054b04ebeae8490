import { stopwords } from "./stopwords.ts";
import { wordsOf } from "./transcript.ts";

const placeholder = /\[[A-Z ]+\]/g;
const isContent = (w: string) => w.length > 2 && !stopwords.has(w) && !/^\d+$/.test(w);

/** A light singular form so "pipes" and "pipe" count together. */
function stem(w: string): string {
  if (w.endsWith("ies") && w.length > 4) return `${w.slice(0, -3)}y`;
  if (w.endsWith("sses")) return w.slice(0, -2);
  if (w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us") && w.length > 3) return w.slice(0, -1);
  return w;
}

/**
 * The call's most telling words and two-word phrases: content words and bigrams ranked by count
 * (a bigram said twice outranks its words), ties by first mention. Works on redacted text, so
 * placeholders and what they hid never become keywords.
 */
export function extractKeywords(
  texts: readonly string[],
  limit = 8,
  boost: readonly string[] = [],
): string[] {
  const score = new Map<string, { n: number; first: number }>();
  let position = 0;
  const add = (key: string, weight: number) => {
    const s = score.get(key);
    if (s) s.n += weight;
    else score.set(key, { n: weight, first: position });
  };
  for (const text of texts) {
    const words = wordsOf(text.replace(placeholder, " | ")).map((w) => (isContent(w) ? stem(w) : ""));
    for (let i = 0; i < words.length; i++, position++) {
      const w = words[i]!;
      if (w === "") continue;
      add(w, 1);
      const next = words[i + 1];
      if (next !== undefined && next !== "") add(`${w} ${next}`, 0.75);
    }
  }
  for (const phrase of boost) {
    const key = wordsOf(phrase)
      .map((w) => (isContent(w) ? stem(w) : w))
      .join(" ");
    if (key !== "" && score.has(key)) score.get(key)!.n += 2;
  }
  const ranked = [...score.entries()]
    .filter(([key, s]) => s.n >= (key.includes(" ") ? 1.5 : 1))
    .sort((a, b) => b[1].n - a[1].n || a[1].first - b[1].first)
    .map(([key]) => key);
  // A phrase already kept covers its words.
  const out: string[] = [];
  for (const key of ranked) {
    if (out.length >= limit) break;
    if (out.some((k) => k.split(" ").includes(key) || key.split(" ").every((w) => k.includes(w)))) continue;
    out.push(key);
  }
  return out;
}
