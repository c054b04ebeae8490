import {
  digitWords,
  isCardinalWord,
  isDigitWord,
  isOrdinalWord,
  monthWords,
  readCardinal,
  readDayNumber,
  readDigitRun,
} from "./spoken-numbers.ts";
import { stopwords } from "./stopwords.ts";

export type PiiKind = "phone" | "card" | "account" | "number" | "email" | "address" | "date-of-birth";

/** A stretch of PII in a text: character offsets [start, end). */
export interface PiiSpan {
  kind: PiiKind;
  start: number;
  end: number;
}

export interface Redaction {
  text: string;
  spans: PiiSpan[];
}

export const piiPlaceholder: Readonly<Record<PiiKind, string>> = {
  phone: "[PHONE]",
  card: "[CARD]",
  account: "[ACCOUNT]",
  number: "[NUMBER]",
  email: "[EMAIL]",
  address: "[ADDRESS]",
  "date-of-birth": "[DATE OF BIRTH]",
};

interface Token {
  word: string;
  start: number;
  end: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(/[A-Za-z0-9]+(?:'[A-Za-z]+)?|@/g)) {
    tokens.push({ word: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length });
  }
  return tokens;
}

const tlds = new Set(
  "com org net gov edu io co uk us ca au de fr es it nl ie nz in info biz me mil int eu ch se no dk be at pl mx br".split(
    " ",
  ),
);
const emailConnectors = new Set(["dot", "period", "underscore", "dash", "hyphen", "minus", "plus"]);
const streetSuffixes = new Set(
  (
    "street st avenue ave road rd boulevard blvd lane ln drive dr court ct way place pl terrace crescent " +
    "highway hwy parkway pkwy close circle square trail row alley grove gardens mews walk esplanade"
  ).split(" "),
);
const unitWords = new Set(["apartment", "apt", "unit", "suite", "flat", "floor"]);
const quantityUnits = new Set(
  (
    "dollars dollar cents cent pounds euros bucks percent minutes minute hours hour days day weeks week " +
    "months month years year gallons liters litres feet foot meters metres miles kilometers times people " +
    "households homes houses calls o'clock am pm a.m p.m"
  ).split(" "),
);
const phoneCues = new Set(["phone", "cell", "mobile", "callback", "landline", "telephone", "fax", "reach"]);
const accountCues = new Set([
  "account",
  "reference",
  "case",
  "id",
  "identification",
  "license",
  "licence",
  "social",
  "ssn",
  "security",
  "policy",
  "permit",
  "customer",
  "member",
  "passport",
  "meter",
  "insurance",
  "pin",
  "routing",
]);
const cardCues = new Set(["card", "visa", "mastercard", "amex", "debit", "credit"]);
const birthCues = new Set(["born", "birth", "birthday", "dob", "birthdate"]);
const addressCues = [
  "live at",
  "live on",
  "address is",
  "living at",
  "located at",
  "lives at",
  "property at",
];

/**
 * Finds PII said aloud in a recogniser's text: digit-word numbers (phone, card, account, ID), emails
 * ("john at example dot com"), street addresses and dates of birth, and their written forms.
 * `context` is what was said just before (the other party's question), for cues like "date of birth".
 */
export function findPii(text: string, context = ""): PiiSpan[] {
  const tokens = tokenize(text);
  const words = tokens.map((t) => t.word);
  const contextWords = tokenize(context).map((t) => t.word);
  const taken = new Array<boolean>(tokens.length).fill(false);
  const spans: PiiSpan[] = [];
  const claim = (kind: PiiKind, from: number, to: number) => {
    if (to <= from) return;
    for (let k = from; k < to; k++) taken[k] = true;
    spans.push({ kind, start: tokens[from]!.start, end: tokens[to - 1]!.end });
  };

  for (const m of text.matchAll(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g)) {
    const from = tokens.findIndex((t) => t.start >= m.index);
    const to = tokens.findIndex((t) => t.end > m.index + m[0].length);
    if (from >= 0) claim("email", from, to < 0 ? tokens.length : to);
  }
  findSpokenEmails(words, taken, claim);
  findDatesOfBirth(words, contextWords, taken, claim);
  findAddresses(words, taken, claim);
  findNumbers(words, contextWords, taken, claim);
  return mergeSpans(spans);
}

type Claim = (kind: PiiKind, from: number, to: number) => void;

function findSpokenEmails(words: string[], taken: boolean[], claim: Claim): void {
  for (let at = 1; at < words.length - 2; at++) {
    if (words[at] !== "at" || taken[at]) continue;
    // Domain: token (dot token)+, ending in a known top-level domain.
    let end = at + 2;
    let lastTld = -1;
    while (end + 1 < words.length && (words[end] === "dot" || words[end] === "period")) {
      if (tlds.has(words[end + 1]!)) lastTld = end + 2;
      end += 2;
    }
    if (lastTld < 0) continue;
    // Local part: a name, spelled letters, or names joined by "dot", "underscore" and the like.
    let start = at;
    while (start > 0) {
      const w = words[start - 1]!;
      const before = words[start - 2];
      if (emailConnectors.has(w) && before !== undefined && !stopwords.has(before)) start -= 1;
      else if (w.length === 1 || /\d/.test(w)) start -= 1;
      else if (!stopwords.has(w) && !emailConnectors.has(words[start]!) && start === at) start -= 1;
      else if (!stopwords.has(w) && emailConnectors.has(words[start]!)) start -= 1;
      else break;
    }
    claim("email", start, lastTld);
    at = lastTld - 1;
  }
}

/** A date said as words or digits from `i`: returns where it ends, or undefined. */
function readSpokenDate(words: string[], i: number): number | undefined {
  let k = i;
  if (words[k] === "the") k++;
  const w = words[k];
  if (w === undefined) return undefined;
  const year = (j: number): number => {
    const skip = words[j] === "of" || words[j] === "in" ? j + 1 : j;
    const y = readCardinal(words, skip);
    if (y !== undefined && ((y.value >= 1900 && y.value <= 2099) || (y.value >= 0 && y.value < 100)))
      return y.end;
    return j;
  };
  if (w in monthWords) {
    // "march third nineteen eighty four", "march the third", "march three", "march nineteen eighty four"
    let j = k + 1;
    if (words[j] === "the") j++;
    const ordinal = readOrdinal(words, j);
    if (ordinal !== undefined) j = ordinal;
    else {
      const day = readDayNumber(words, j);
      if (day !== undefined && day.value >= 1 && day.value <= 31) j = day.end;
    }
    const end = year(j);
    return end > k + 1 ? end : undefined;
  }
  const ordinal = readOrdinal(words, k);
  const day = ordinal === undefined ? readDayNumber(words, k) : undefined;
  if (ordinal !== undefined || (day !== undefined && day.value <= 31)) {
    // "third of march nineteen eighty four", "the twelfth of may", "twenty first of june"
    let j = ordinal ?? day!.end;
    if (words[j] === "of") j++;
    if (words[j] !== undefined && words[j]! in monthWords) return year(j + 1);
  }
  // "oh three oh four eighty four", "zero three slash one two slash ..."
  const run = readDigitRunAcrossSlashes(words, k);
  if (run.digits.length >= 6 && run.digits.length <= 8) return run.end;
  return undefined;
}

/** The index after an ordinal at `i` ("third", "21st", "twenty first"), or undefined. */
function readOrdinal(words: string[], i: number): number | undefined {
  const w = words[i];
  if (w === undefined) return undefined;
  if (isOrdinalWord(w)) return i + 1;
  if ((w === "twenty" || w === "thirty") && isOrdinalWord(words[i + 1] ?? "")) return i + 2;
  return undefined;
}

function readDigitRunAcrossSlashes(words: string[], i: number): { digits: string; end: number } {
  let digits = "";
  let end = i;
  for (;;) {
    const run = readDigitRun(words, end);
    if (run.end === end) break;
    digits += run.digits;
    end = run.end;
    if (words[end] !== "slash" && words[end] !== "dash") break;
    end++;
  }
  return { digits, end: digits === "" ? i : end };
}

function findDatesOfBirth(words: string[], context: string[], taken: boolean[], claim: Claim): void {
  const cueInContext = context.slice(-12).some((w) => birthCues.has(w));
  let lastCue = cueInContext ? -1 : Number.NEGATIVE_INFINITY;
  for (let i = 0; i < words.length; i++) {
    if (birthCues.has(words[i]!)) {
      lastCue = i;
      continue;
    }
    if (i - lastCue > 8 || taken[i]) continue;
    const end = readSpokenDate(words, i);
    if (end !== undefined && end > i) {
      claim("date-of-birth", words[i] === "the" ? i + 1 : i, end);
      i = end - 1;
    }
  }
}

function findAddresses(words: string[], taken: boolean[], claim: Claim): void {
  const joined = ` ${words.join(" ")} `;
  const cueEnds = new Set<number>();
  for (const cue of addressCues) {
    for (let at = joined.indexOf(` ${cue} `); at >= 0; at = joined.indexOf(` ${cue} `, at + 1)) {
      cueEnds.add(
        joined
          .slice(0, at + cue.length + 1)
          .trim()
          .split(" ").length,
      );
    }
  }
  for (let i = 0; i < words.length; i++) {
    if (taken[i] || !isCardinalWord(words[i]!)) continue;
    const number = readHouseNumber(words, i);
    if (number === undefined) continue;
    let j = number;
    // An optional letter ("twelve b"), then up to four words of street name, then the suffix.
    if (words[j]?.length === 1 && !(words[j]! in digitWords) && words[j] !== "a") j++;
    let suffix = -1;
    for (let n = 0; n < 5 && j + n < words.length; n++) {
      const w = words[j + n]!;
      if (n > 0 && streetSuffixes.has(w)) {
        suffix = j + n;
        break;
      }
      if (stopwords.has(w) && w !== "the") break;
      if (quantityUnits.has(w)) break;
    }
    let end: number;
    if (suffix >= 0) end = suffix + 1;
    else if (cueEnds.has(i)) {
      // "I live at forty two maple": the words after the number up to a pause word.
      end = number;
      while (end < words.length && end < number + 3 && !stopwords.has(words[end]!)) end++;
      if (end === number) continue;
    } else continue;
    // "... street, apartment four b"
    if (words[end] !== undefined && unitWords.has(words[end]!)) {
      const unit = readDigitRun(words, end + 1);
      end = unit.end > end + 1 ? unit.end : end + 1;
      if (words[end]?.length === 1 && words[end] !== "a" && words[end] !== "i") end++;
    }
    claim("address", i, end);
    i = end - 1;
  }
}

/** "twelve", "one twenty three", "fourteen hundred", "4 5 1": the index after it, or undefined. */
function readHouseNumber(words: string[], i: number): number | undefined {
  const run = readDigitRun(words, i);
  const cardinal = readCardinal(words, i);
  const end = Math.max(run.end, cardinal?.end ?? i);
  return end > i ? end : undefined;
}

function findNumbers(words: string[], context: string[], taken: boolean[], claim: Claim): void {
  for (let i = 0; i < words.length; i++) {
    if (taken[i]) continue;
    const w = words[i]!;
    if (!isDigitWord(w) && !isCardinalWord(w) && w !== "double" && w !== "triple") continue;
    // Runs split by "dash" or a pause word the recogniser wrote ("four one five dash five five five ...").
    let digits = "";
    let end = i;
    let singleDigitWords = 0;
    for (;;) {
      const run = readDigitRun(words, end);
      if (run.end === end) break;
      for (let k = end; k < run.end; k++)
        if (words[k]! in digitWords || /^\d+$/.test(words[k]!)) singleDigitWords++;
      digits += run.digits;
      end = run.end;
      const after = words[end + 1] ?? "";
      if (
        (words[end] === "dash" || words[end] === "hyphen") &&
        (isDigitWord(after) || after === "double" || after === "triple")
      )
        end++;
      else break;
    }
    if (end === i) continue;
    const next = words[end];
    const looksLikeQuantity = next !== undefined && quantityUnits.has(next);
    const numeric = /^\d{4,}$/.test(w) || singleDigitWords >= 3;
    if (digits.length < 4 || looksLikeQuantity || !numeric) {
      i = end - 1;
      continue;
    }
    const before = [...context.slice(-6), ...words.slice(Math.max(0, i - 8), i)];
    const cue = (set: Set<string>) => before.some((b) => set.has(b));
    let kind: PiiKind;
    if (cue(cardCues) || (digits.length >= 13 && digits.length <= 19 && !cue(accountCues))) kind = "card";
    else if (cue(birthCues)) kind = "date-of-birth";
    else if (cue(phoneCues) || (before.includes("number") && before.includes("call"))) kind = "phone";
    else if (cue(accountCues)) kind = "account";
    else if (digits.length >= 7 && digits.length <= 11) kind = "phone";
    else kind = "number";
    claim(kind, i, end);
    i = end - 1;
  }
}

function mergeSpans(spans: PiiSpan[]): PiiSpan[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: PiiSpan[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** The text with each PII span replaced by its placeholder ("[PHONE]"). */
export function redactText(text: string, context = ""): Redaction {
  const spans = findPii(text, context);
  let out = "";
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + piiPlaceholder[s.kind];
    at = s.end;
  }
  return { text: out + text.slice(at), spans };
}
