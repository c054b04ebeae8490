import type { TalkFigures } from "@callscribe/db";
import { wordsOf, type Leg, type TranscriptUtterance } from "./transcript.ts";

export interface TalkOptions {
  /** Overlap shorter than this is turn-taking, not an interruption. */
  minInterruptionOverlapMs: number;
  /** An utterance of at most this many words inside the other's turn is a backchannel ("mm-hm", "okay"). */
  maxBackchannelWords: number;
}

export const defaultTalkOptions: TalkOptions = { minInterruptionOverlapMs: 300, maxBackchannelWords: 2 };

type Interval = [number, number];

/** Sorted, non-overlapping intervals covering the same time. */
function union(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: Interval[] = [];
  for (const [a, b] of sorted) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

const total = (intervals: readonly Interval[]) => intervals.reduce((s, [a, b]) => s + (b - a), 0);

function intersection(x: readonly Interval[], y: readonly Interval[]): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < x.length && j < y.length) {
    const a = Math.max(x[i]![0], y[j]![0]);
    const b = Math.min(x[i]![1], y[j]![1]);
    if (b > a) sum += b - a;
    if (x[i]![1] < y[j]![1]) i++;
    else j++;
  }
  return sum;
}

/**
 * Talk time per party, time neither spoke, time both spoke, interruptions and pace. An interruption
 * is an utterance that starts while the other party is speaking and overlaps it by at least the
 * minimum, unless it is a short backchannel wholly inside the other's turn.
 */
export function talkFigures(
  utterances: readonly TranscriptUtterance[],
  durationMs: number,
  options: TalkOptions = defaultTalkOptions,
): TalkFigures {
  const byLeg = (leg: Leg) => utterances.filter((u) => u.leg === leg);
  const spans = (leg: Leg) => union(byLeg(leg).map((u): Interval => [u.startMs, u.endMs]));
  const caller = spans("caller");
  const agent = spans("agent");
  const callerMs = total(caller);
  const agentMs = total(agent);
  const anyone = total(union([...caller, ...agent]));
  const end = Math.max(durationMs, ...utterances.map((u) => u.endMs), 0);

  const interruptionsBy = (leg: Leg) => {
    const other = byLeg(leg === "caller" ? "agent" : "caller");
    let n = 0;
    for (const u of byLeg(leg)) {
      const interrupted = other.find((o) => o.startMs < u.startMs && u.startMs < o.endMs);
      if (!interrupted) continue;
      const overlap = Math.min(u.endMs, interrupted.endMs) - u.startMs;
      const backchannel =
        u.endMs <= interrupted.endMs && wordsOf(u.text).length <= options.maxBackchannelWords;
      if (overlap >= options.minInterruptionOverlapMs && !backchannel) n++;
    }
    return n;
  };
  const wpm = (leg: Leg, ms: number) => {
    const words = byLeg(leg).reduce((s, u) => s + wordsOf(u.text).length, 0);
    return ms === 0 ? 0 : Math.round((words / ms) * 60_000);
  };

  return {
    callerMs,
    agentMs,
    nonTalkMs: Math.max(0, end - anyone),
    overlapMs: intersection(caller, agent),
    interruptionsByCaller: interruptionsBy("caller"),
    interruptionsByAgent: interruptionsBy("agent"),
    callerWordsPerMinute: wpm("caller", callerMs),
    agentWordsPerMinute: wpm("agent", agentMs),
  };
}

/** The longest stretch in which nobody spoke, start and end of the call included. */
export function longestSilenceMs(utterances: readonly TranscriptUtterance[], durationMs: number): number {
  const talk = union(utterances.map((u): Interval => [u.startMs, u.endMs]));
  let longest = 0;
  let at = 0;
  for (const [a, b] of talk) {
    longest = Math.max(longest, a - at);
    at = Math.max(at, b);
  }
  return Math.max(longest, durationMs - at);
}
