/** Spoken numbers as a recogniser writes them: "four one five", "double five", "nineteen eighty four". */

export const digitWords: Readonly<Record<string, number>> = {
  zero: 0,
  oh: 0,
  o: 0,
  nought: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};

const teens: Readonly<Record<string, number>> = {
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};

const tens: Readonly<Record<string, number>> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};

export const ordinalWords: Readonly<Record<string, number>> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
  twentieth: 20,
  thirtieth: 30,
};

export const monthWords: Readonly<Record<string, number>> = {
  january: 1,
  jan: 1,
  february: 2,
  feb: 2,
  march: 3,
  mar: 3,
  april: 4,
  apr: 4,
  may: 5,
  june: 6,
  jun: 6,
  july: 7,
  jul: 7,
  august: 8,
  aug: 8,
  september: 9,
  sept: 9,
  sep: 9,
  october: 10,
  oct: 10,
  november: 11,
  nov: 11,
  december: 12,
  dec: 12,
};

export const isDigitWord = (w: string) => w in digitWords || /^\d+$/.test(w);
export const isCardinalWord = (w: string) =>
  w in digitWords || w in teens || w in tens || w === "hundred" || w === "thousand" || /^\d+$/.test(w);
export const isOrdinalWord = (w: string) => w in ordinalWords || /^\d+(st|nd|rd|th)$/.test(w);

/**
 * Reads a run of digit words from `words[start]` on ("four one five", "double five", "415", "oh"),
 * allowing "double"/"triple" and a teen or tens word inside ("five fifty five" = 3 digits).
 * Returns the digits read and the index after the run.
 */
export function readDigitRun(words: readonly string[], start: number): { digits: string; end: number } {
  let digits = "";
  let i = start;
  while (i < words.length) {
    const w = words[i]!;
    const next = words[i + 1];
    if ((w === "double" || w === "triple") && next !== undefined && next in digitWords) {
      digits += String(digitWords[next]).repeat(w === "double" ? 2 : 3);
      i += 2;
    } else if (w in digitWords) {
      // A lone "o" is a digit only between other digit words ("four o five").
      const digitFollows =
        next !== undefined && (isDigitWord(next) || next === "double" || next === "triple");
      if ((w === "o" || w === "oh") && digits === "" && !digitFollows) break;
      digits += String(digitWords[w]);
      i++;
    } else if (/^\d+$/.test(w)) {
      digits += w;
      i++;
    } else if (w in teens) {
      digits += String(teens[w]);
      i++;
    } else if (w in tens) {
      const unit = next !== undefined ? digitWords[next] : undefined;
      if (unit !== undefined && unit > 0 && next !== "oh" && next !== "o") {
        digits += String(tens[w]! + unit);
        i += 2;
      } else {
        digits += String(tens[w]);
        i++;
      }
    } else if (w === "hundred" && digits !== "") {
      // "four hundred" in a digit string reads as 400 ("eight hundred five five five ...").
      digits += "00";
      i++;
    } else {
      break;
    }
  }
  return { digits, end: i };
}

/**
 * Reads a cardinal number said as words ("one twenty three" is read as 123, "fourteen hundred",
 * "two thousand and one", "nineteen eighty four"), or digits. Returns undefined when
 * `words[start]` does not start one.
 */
export function readCardinal(
  words: readonly string[],
  start: number,
): { value: number; end: number } | undefined {
  const first = words[start];
  if (first === undefined) return undefined;
  if (/^\d+$/.test(first)) return { value: Number(first), end: start + 1 };
  const groups: number[] = [];
  let i = start;
  let current: number | undefined;
  const flush = () => {
    if (current !== undefined) groups.push(current);
    current = undefined;
  };
  while (i < words.length) {
    const w = words[i]!;
    if (w in digitWords && w !== "o" && w !== "oh" && w !== "nought") {
      if (current !== undefined && current % 10 === 0 && current >= 20 && current < 100)
        current += digitWords[w]!;
      else {
        flush();
        current = digitWords[w]!;
      }
    } else if ((w === "oh" || w === "o") && current !== undefined) {
      flush();
      current = 0;
    } else if (w in teens) {
      flush();
      current = teens[w]!;
    } else if (w in tens) {
      flush();
      current = tens[w]!;
    } else if (w === "hundred" && current !== undefined && current < 100) {
      current *= 100;
      // "one hundred and five", "fourteen hundred twelve"
      const rest = readCardinal(words, words[i + 1] === "and" ? i + 2 : i + 1);
      if (rest !== undefined && rest.value < 100 && !/^\d/.test(words[i + 1] ?? "")) {
        current += rest.value;
        i = rest.end;
        continue;
      }
    } else if (w === "thousand" && current !== undefined && current < 1000) {
      current *= 1000;
      const rest = readCardinal(words, words[i + 1] === "and" ? i + 2 : i + 1);
      if (rest !== undefined && rest.value < 1000) {
        current += rest.value;
        i = rest.end;
        continue;
      }
    } else {
      break;
    }
    i++;
  }
  flush();
  if (groups.length === 0) return undefined;
  // Groups said one after another are concatenated: "one twenty three" = 1|23, "nineteen oh five" = 19|0|5.
  const text = groups.map(String).join("");
  return { value: Number(text), end: i };
}

/** A day of the month said as one number ("twelve", "twenty one", "3"), not reading on into a year. */
export function readDayNumber(
  words: readonly string[],
  start: number,
): { value: number; end: number } | undefined {
  const w = words[start];
  if (w === undefined) return undefined;
  if (/^\d{1,2}$/.test(w)) return { value: Number(w), end: start + 1 };
  if (w in digitWords && w !== "oh" && w !== "o" && w !== "zero" && w !== "nought")
    return { value: digitWords[w]!, end: start + 1 };
  if (w in teens) return { value: teens[w]!, end: start + 1 };
  if (w === "twenty" || w === "thirty") {
    const unit = words[start + 1] !== undefined ? digitWords[words[start + 1]!] : undefined;
    if (unit !== undefined && unit > 0 && words[start + 1] !== "oh" && words[start + 1] !== "o")
      return { value: tens[w]! + unit, end: start + 2 };
    return { value: tens[w]!, end: start + 1 };
  }
  return undefined;
}
