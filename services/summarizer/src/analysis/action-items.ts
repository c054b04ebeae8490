import type { ActionItem } from "@callscribe/db";
import { findDueTime } from "./due-time.ts";
import type { TranscriptUtterance } from "./transcript.ts";

/** How an agent's commitment starts: "I'll", "we will", "a crew will", "my supervisor will", "I've scheduled". */
const commitmentStart =
  "(?:i'll|i will|we'll|we will|i'm going to|i am going to|we're going to|we are going to|i can have|" +
  "(?:someone|somebody|they)(?: will|'ll)|(?:a|an|the|our|my) (?:crew|officer|inspector|technician|team|engineer|" +
  "driver|truck|supervisor|manager|colleague|plumber|contractor) will|you'll (?:get|receive|hear)|" +
  "you will (?:get|receive|hear)|i'm sending|we're sending|(?:i've|i have|we've|we have) " +
  "(?:scheduled|booked|arranged|logged|raised|escalated|sent|issued)|let me (?:send|schedule|book|arrange|escalate))";
const commitment = new RegExp(`\\b${commitmentStart}\\b`, "i");
/** Commitments that are pleasantries, not follow-ups. */
const notAFollowUp =
  /\b(?:i'll (?:be (?:right )?back|hold|wait|just|check that|see)|we'll see|i will (?:be right back|hold))\b/i;
const clauseBreak = new RegExp(
  `(?<=[.!?])\\s+|\\s+(?:and then|and so|and|so)\\s+(?=${commitmentStart}\\b)`,
  "i",
);

/** Sentences, and within one the clauses that each start a commitment ("... and I'll email you"). */
function clauses(text: string): string[] {
  return text
    .split(clauseBreak)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Follow-ups the agent promised: each agent sentence with a commitment, with the time it names
 * resolved against the call's start. `redact` turns the said text into what analysts may read.
 */
export function findActionItems(
  utterances: readonly TranscriptUtterance[],
  startedAt: Date,
  redact: (u: TranscriptUtterance) => string,
  offsetMinutes = 0,
): ActionItem[] {
  const items: ActionItem[] = [];
  for (const u of utterances) {
    if (u.leg !== "agent") continue;
    for (const sentence of clauses(redact(u))) {
      if (!commitment.test(sentence) || notAFollowUp.test(sentence)) continue;
      // "within two hours" counts from when it was said.
      const due = findDueTime(sentence, new Date(startedAt.getTime() + u.startMs), offsetMinutes);
      items.push({
        text: sentence.charAt(0).toUpperCase() + sentence.slice(1).replace(/[.!?]+$/, ""),
        leg: u.leg,
        atMs: u.startMs,
        dueText: due?.text ?? null,
        dueAt: due?.at?.toISOString() ?? null,
      });
    }
  }
  return items;
}
