/**
 * Writes pii-cases.json: spoken-form PII as a recogniser writes it (lower case, no punctuation,
 * numbers as words), from templates and values drawn with a fixed seed, plus sentences with numbers
 * that are not PII. Each case lists the exact PII substrings.
 *
 *   npx tsx bench/summarizer/pii-cases.ts
 */
import { writeFileSync } from "node:fs";

export interface PiiCase {
  kind: "phone" | "account" | "card" | "id" | "email" | "address" | "date-of-birth" | "none";
  context?: string;
  text: string;
  pii: string[];
}

let seed = 20261206;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const digit = () => Math.floor(rand() * 10);
const words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/** Digits said one by one, with "oh" for zero sometimes and "double"/"triple" for repeats. */
function sayDigits(digits: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < digits.length;) {
    const d = digits[i]!;
    let run = 1;
    while (digits[i + run] === d && run < 3) run++;
    const word = d === 0 && rand() < 0.5 ? "oh" : words[d]!;
    if (run === 3 && rand() < 0.6) out.push(`triple ${word}`);
    else if (run >= 2 && rand() < 0.6) {
      out.push(`double ${word}`);
      run = 2;
    } else {
      out.push(word);
      run = 1;
    }
    i += run;
  }
  return out.join(" ");
}
const digitsOf = (n: number) => Array.from({ length: n }, digit);

const cases: PiiCase[] = [];
const add = (kind: PiiCase["kind"], before: string, pii: string, after = "", context?: string) =>
  cases.push({ kind, ...(context ? { context } : {}), text: `${before}${pii}${after}`.trim(), pii: [pii] });

const phoneLead = [
  "my number is ",
  "you can reach me on ",
  "call me back at ",
  "the best number is ",
  "my cell is ",
  "it's ",
  "my phone number is ",
];
for (let i = 0; i < 50; i++) {
  const d = i % 5 === 0 ? [0, 7, 7, ...digitsOf(8)] : [pick([2, 3, 4, 5, 6, 7, 8, 9]), ...digitsOf(9)];
  let said = sayDigits(d);
  if (i % 7 === 3) said = `${d.slice(0, 3).join("")}-${d.slice(3, 6).join("")}-${d.slice(6).join("")}`;
  if (i % 7 === 5)
    said = `${sayDigits(d.slice(0, 3))} dash ${sayDigits(d.slice(3, 6))} dash ${sayDigits(d.slice(6))}`;
  add("phone", pick(phoneLead), said, pick(["", " thanks", " any time after five", " that's my cell"]));
}
const accountLead = [
  "my account number is ",
  "the reference is ",
  "the case number is ",
  "customer id ",
  "my account is ",
  "it's account ",
  "the permit number is ",
  "my meter number is ",
];
for (let i = 0; i < 35; i++)
  add("account", pick(accountLead), sayDigits(digitsOf(6 + (i % 5))), pick(["", " I think", " yes"]));
for (let i = 0; i < 20; i++)
  add(
    "card",
    pick(["my card number is ", "the visa is ", "card number ", "it's the debit card "]),
    sayDigits([4, ...digitsOf(15)]),
    pick(["", " expiry next year"]),
  );
for (let i = 0; i < 15; i++)
  add(
    "id",
    pick([
      "my social security number is ",
      "my license number is ",
      "the passport number is ",
      "my member id is ",
    ]),
    sayDigits(digitsOf(9)),
  );

const first = ["john", "maria", "li", "ahmed", "sarah", "tom", "olga", "kevin", "priya", "dana"];
const last = ["smith", "lopez", "chen", "okafor", "brown", "novak", "patel", "murphy"];
const domains = ["gmail", "example", "yahoo", "outlook", "city", "mail"];
const tlds = ["com", "org", "net", "gov", "co dot uk", "io"];
for (let i = 0; i < 40; i++) {
  const f = pick(first);
  const l = pick(last);
  const local = [
    f,
    `${f} dot ${l}`,
    `${f} underscore ${l}`,
    f.split("").join(" "),
    `${f}${Math.floor(rand() * 90 + 10)}`,
    `${f[0]} ${l}`,
  ][i % 6]!;
  const email =
    i % 8 === 7 ? `${f}.${l}@${pick(domains)}.com` : `${local} at ${pick(domains)} dot ${pick(tlds)}`;
  add(
    "email",
    pick(["my email is ", "it's ", "send it to ", "you can email me at ", "the address is "]),
    email,
    pick(["", " thanks", " all lower case"]),
  );
}

const houseNumbers = [
  "twelve",
  "forty two",
  "one twenty three",
  "fourteen hundred",
  "seven",
  "two oh five",
  "eighty eight",
  "three thousand and ten",
  "45",
  "9",
];
const streets = [
  "oak",
  "maple",
  "oak tree",
  "meadow",
  "church",
  "high",
  "station",
  "king george",
  "elm",
  "west park",
];
const suffixes = [
  "street",
  "road",
  "avenue",
  "lane",
  "drive",
  "close",
  "court",
  "way",
  "boulevard",
  "place",
  "crescent",
  "terrace",
];
for (let i = 0; i < 40; i++) {
  let address = `${pick(houseNumbers)} ${pick(streets)} ${pick(suffixes)}`;
  if (i % 6 === 2) address += ` apartment ${pick(["four", "twelve", "two"])} ${pick(["b", "c"])}`;
  add(
    "address",
    pick([
      "I live at ",
      "the address is ",
      "it's at ",
      "the leak is outside ",
      "we're at ",
      "my address is ",
    ]),
    address,
    pick(["", " near the school", " in the north end"]),
  );
}

const months = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const ordinals = [
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "ninth",
  "twelfth",
  "fifteenth",
  "twentieth",
  "twenty first",
  "thirtieth",
];
const years = [
  "nineteen eighty four",
  "nineteen fifty two",
  "two thousand and one",
  "nineteen ninety",
  "nineteen seventy six",
  "two thousand five",
  "nineteen sixty",
];
for (let i = 0; i < 35; i++) {
  // "the" before "fifth of may" is not PII; it stays outside the span.
  const the = i % 4 === 1 ? "the " : "";
  const date = [
    `${pick(months)} ${pick(ordinals)} ${pick(years)}`,
    `${pick(ordinals)} of ${pick(months)} ${pick(years)}`,
    `${pick(ordinals)} of ${pick(months)} ${pick(years)}`,
    `${pick(months)} ${pick(["three", "twelve", "twenty"])} ${pick(years)}`,
  ][i % 4]!;
  if (i % 3 === 0)
    add(
      "date-of-birth",
      the,
      date,
      "",
      pick(["and your date of birth please", "can I have your date of birth", "what's your birthday"]),
    );
  else
    add(
      "date-of-birth",
      pick(["my date of birth is ", "I was born on ", "born ", "my birthday is ", "date of birth "]) + the,
      date,
    );
}

for (const text of [
  "I waited two hours on the road",
  "it's been three weeks since they came",
  "we paid twenty dollars for the permit",
  "there are five of us in the house",
  "the crew said they'd come at three pm",
  "the bin was missed on the twelfth",
  "we've lived here since nineteen ninety",
  "it happened about four or five times",
  "the water was off for twenty four hours",
  "number twelve bus goes past the house",
  "I called two days ago",
  "the bill went up by forty percent",
  "it costs one hundred and fifty dollars",
  "there's a pothole on maple street",
  "the street light on church road is out",
  "we're at the corner of oak and elm",
  "I'm seventy two years old",
  "the meeting is on march third",
  "it's about a mile down the road",
  "two of the lights are out",
  "one of your crew came by",
  "I've called three or four times already",
  "we were told ten to twelve working days",
  "the truck comes every second tuesday",
  "my son is eleven",
  "it's the third time this year",
  "about six inches of water in the basement",
  "we have two bins and a recycling box",
  "since the first of the month",
  "the fine was two hundred pounds",
  "at nine in the morning",
  "my email isn't working",
  "I'm at home all day",
  "we met at the office",
  "he was born here",
  "the road was closed for four days",
  "we moved in nineteen ninety eight",
  "it's on the fourth floor",
  "I have one question",
  "press one for billing",
])
  cases.push({ kind: "none", text, pii: [] });

writeFileSync(new URL("pii-cases.json", import.meta.url), `${JSON.stringify(cases, null, 1)}\n`);
console.log(
  `${cases.filter((c) => c.kind !== "none").length} PII cases, ${cases.filter((c) => c.kind === "none").length} without PII`,
);
