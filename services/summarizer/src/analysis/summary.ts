import type { ActionItem } from "@callscribe/db";
import { wordsOf, type TranscriptUtterance } from "./transcript.ts";

export interface RedactedUtterance extends TranscriptUtterance {
  /** The utterance with PII replaced; the summary quotes only this. */
  redacted: string;
}

const issueCue =
  /\b(?:problem|issue|broken|burst|leak\w*|flood\w*|no water|not working|complain\w*|calling (?:about|because|to)|i want|i need|i'd like|there's|there is|there are|since|can't|won't|hasn't|haven't|wasn't|overcharged|charged|missed|never)\b/i;
const actionCue =
  /\b(?:i've|i have|i'll|i will|we'll|we will|logged|scheduled|booked|created|raised|sent|sending|escalat\w*|arranged|dispatch\w*|refund\w*|credit\w*|waived)\b/i;
const outcomeCue =
  /\b(?:reference|ticket|case number|logged|scheduled|booked|resolved|sorted|fixed|on (?:its|their) way|crew|confirm\w*|credited|refunded|anything else)\b/i;
const pleasantry =
  /^(?:thank(?:s| you)[^.]*|(?:have a )?(?:good|nice|great) (?:day|evening|afternoon)|bye|goodbye|you're welcome)[.!]?$/i;

const sentenceOf = (text: string) => {
  const t = text.trim().replace(/\s+/g, " ");
  return (t.charAt(0).toUpperCase() + t.slice(1)).replace(/[.!?]*$/, "");
};

function pickIssue(utterances: readonly RedactedUtterance[], durationMs: number, phrases: readonly string[]) {
  let best: RedactedUtterance | undefined;
  let bestScore = 0;
  for (const u of utterances) {
    if (u.leg !== "caller" || u.startMs > durationMs * 0.6) continue;
    const words = wordsOf(u.redacted).length;
    if (words < 4) continue;
    const lower = u.redacted.toLowerCase();
    const score =
      (phrases.some((p) => lower.includes(p)) ? 3 : 0) +
      (issueCue.test(u.redacted) ? 2 : 0) +
      Math.min(words, 25) / 25;
    if (score > bestScore) {
      bestScore = score;
      best = u;
    }
  }
  return best;
}

/**
 * An extractive summary in three parts, each quoting one redacted utterance: the caller's issue,
 * what the agent did or promised, and how the call ended.
 */
export function summarize(
  utterances: readonly RedactedUtterance[],
  durationMs: number,
  actionItems: readonly ActionItem[],
  categoryPhrases: readonly string[],
): string {
  const parts: string[] = [];
  const issue = pickIssue(utterances, durationMs, categoryPhrases);
  if (issue) parts.push(`Caller: ${sentenceOf(issue.redacted)}.`);

  const agent = utterances.filter((u) => u.leg === "agent" && wordsOf(u.redacted).length >= 3);
  const action = actionItems[0]?.text ?? agent.find((u) => actionCue.test(u.redacted))?.redacted;
  if (action !== undefined) parts.push(`Agent: ${sentenceOf(action)}.`);

  const late = utterances.filter(
    (u) => u.startMs >= durationMs * 0.5 && !pleasantry.test(u.redacted.trim()) && u.redacted !== action,
  );
  const outcome =
    [...late]
      .reverse()
      .find((u) => u.leg === "agent" && outcomeCue.test(u.redacted) && !/anything else/i.test(u.redacted)) ??
    [...late]
      .reverse()
      .find(
        (u) => u.leg === "agent" && wordsOf(u.redacted).length >= 4 && !/anything else/i.test(u.redacted),
      );
  if (outcome && outcome !== issue) parts.push(`Outcome: ${sentenceOf(outcome.redacted)}.`);
  return parts.join(" ");
}
