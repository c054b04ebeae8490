import { readCardinal } from "./spoken-numbers.ts";

export interface DueTime {
  /** The words that said when. */
  text: string;
  /** Resolved against the call's start; null when the words name no point in time we can place. */
  at: Date | null;
}

const weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
/** Times a part of the day stands for, in the hotline's local time. */
const partOfDay: Readonly<Record<string, number>> = {
  morning: 9,
  noon: 12,
  midday: 12,
  lunchtime: 12,
  afternoon: 14,
  evening: 18,
  tonight: 23,
};
/** A day said without a time is due at the end of that working day. */
const END_OF_DAY = 17;

const weekdayAlt = weekdays.join("|");
const numberAlt =
  "(?:\\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty[- ]four|forty[- ]eight|seventy[- ]two|a couple of|a few)";
const clockAlt =
  "(?:(?:at|by|around|before|after)\\s+)?(?:\\d{1,2}(?::\\d{2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\\s+(?:thirty|fifteen|forty[- ]five|o'clock))?\\s*(?:a\\.?m\\.?|p\\.?m\\.?|in the morning|in the afternoon|in the evening|o'clock)";

const patterns: RegExp[] = [
  new RegExp(
    `\\b(?:within|in)\\s+(?:the\\s+next\\s+)?${numberAlt}\\s+(?:business\\s+|working\\s+)?(?:hours?|days?|weeks?)\\b`,
    "i",
  ),
  new RegExp(
    `\\b(?:by|before|until|on|this|next|coming)?\\s*(?:${weekdayAlt})(?:\\s+(?:morning|afternoon|evening|night))?(?:\\s+${clockAlt})?`,
    "i",
  ),
  new RegExp(
    `\\b(?:(?:tomorrow|today)(?:\\s+(?:morning|afternoon|evening|night))?|this\\s+(?:morning|afternoon|evening))(?:\\s+${clockAlt})?`,
    "i",
  ),
  /\b(?:tonight|by\s+(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|week)|end\s+of\s+(?:the\s+)?(?:day|week)|by\s+noon|before\s+noon|next\s+week|later\s+today)\b/i,
  new RegExp(`\\b${clockAlt}`, "i"),
];

function hourOf(clock: string): number | undefined {
  const m =
    /(\d{1,2})(?::(\d{2}))?|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b/i.exec(
      clock,
    );
  if (!m) return undefined;
  let hour = m[1] !== undefined ? Number(m[1]) : (readCardinal([m[3]!.toLowerCase()], 0)?.value ?? 0);
  let minutes = m[2] !== undefined ? Number(m[2]) : 0;
  if (/thirty/i.test(clock)) minutes = 30;
  else if (/fifteen/i.test(clock)) minutes = 15;
  else if (/forty[- ]five/i.test(clock)) minutes = 45;
  const pm = /p\.?m|afternoon|evening/i.test(clock);
  const am = /a\.?m|morning/i.test(clock);
  if (pm && hour < 12) hour += 12;
  if (am && hour === 12) hour = 0;
  // "at three" said on a hotline means working hours: 1-6 is the afternoon.
  if (!pm && !am && hour >= 1 && hour <= 6) hour += 12;
  return hour + minutes / 60;
}

/**
 * The first time expression in an utterance ("tomorrow morning", "by Friday", "within 48 hours",
 * "at three pm"), resolved against `reference` (when the call started) in a zone `offsetMinutes`
 * east of UTC.
 */
export function findDueTime(text: string, reference: Date, offsetMinutes = 0): DueTime | undefined {
  let best: RegExpExecArray | undefined;
  for (const p of patterns) {
    const m = p.exec(text);
    if (m && m[0].trim() !== "" && (best === undefined || m.index < best.index)) best = m;
  }
  if (!best) return undefined;
  const phrase = best[0].trim();
  const lower = phrase.toLowerCase();
  // Work in the hotline's local time as if it were UTC, then shift back.
  const local = new Date(reference.getTime() + offsetMinutes * 60_000);
  const at = (dayOffset: number, hour: number) => {
    const d = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + dayOffset));
    return new Date(d.getTime() + hour * 3_600_000 - offsetMinutes * 60_000);
  };
  const part = Object.keys(partOfDay).find((p) => new RegExp(`\\b${p}\\b`).test(lower));
  const clock = new RegExp(clockAlt, "i").exec(lower)?.[0];
  const hour = (fallback: number) =>
    (clock !== undefined ? hourOf(clock) : undefined) ?? (part !== undefined ? partOfDay[part]! : fallback);

  const within =
    /(?:within|in)\s+(?:the\s+next\s+)?(.+?)\s+(?:business\s+|working\s+)?(hours?|days?|weeks?)/.exec(lower);
  if (within) {
    const n = within[1]!;
    const count = /^\d+$/.test(n)
      ? Number(n)
      : n.startsWith("a couple")
        ? 2
        : n.startsWith("a few")
          ? 3
          : (readCardinal(n.split(/[- ]/), 0)?.value ?? 1);
    const unitMs = within[2]!.startsWith("hour")
      ? 3_600_000
      : within[2]!.startsWith("day")
        ? 86_400_000
        : 604_800_000;
    return { text: phrase, at: new Date(reference.getTime() + count * unitMs) };
  }
  const weekday = weekdays.findIndex((d) => lower.includes(d));
  if (weekday >= 0) {
    // "Friday" said on a Friday is today; "next Friday" is a week on.
    let days = (weekday - local.getUTCDay() + 7) % 7;
    if (days === 0 && /\bnext\b/.test(lower)) days = 7;
    return { text: phrase, at: at(days, hour(END_OF_DAY)) };
  }
  if (/tomorrow/.test(lower)) return { text: phrase, at: at(1, hour(END_OF_DAY)) };
  if (/next week/.test(lower))
    return { text: phrase, at: at((1 - local.getUTCDay() + 7) % 7 || 7, END_OF_DAY) };
  if (/end of (?:the )?week/.test(lower))
    return { text: phrase, at: at((5 - local.getUTCDay() + 7) % 7, END_OF_DAY) };
  if (/noon/.test(lower)) return { text: phrase, at: at(0, 12) };
  if (/today|tonight|this|end of (?:the )?day/.test(lower))
    return { text: phrase, at: at(0, hour(END_OF_DAY)) };
  if (clock !== undefined) {
    const h = hourOf(clock);
    if (h !== undefined) {
      const localHour = local.getUTCHours() + local.getUTCMinutes() / 60;
      return { text: phrase, at: at(h > localHour ? 0 : 1, h) };
    }
  }
  return { text: phrase, at: null };
}
