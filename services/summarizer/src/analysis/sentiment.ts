import vader from "vader-sentiment";
import type { SentimentTrend } from "@callscribe/db";
import type { Leg, TranscriptUtterance } from "./transcript.ts";

/** VADER's compound score of a text: -1 (most negative) to 1 (most positive), 0 neutral. */
export function textSentiment(text: string): number {
  if (text.trim() === "") return 0;
  return vader.SentimentIntensityAnalyzer.polarity_scores(text).compound;
}

export interface ScoredUtterance {
  leg: Leg;
  startMs: number;
  endMs: number;
  sentiment: number;
}

export interface SentimentFigures {
  overall: number;
  caller: number | null;
  agent: number | null;
  /** Mean per quarter of the call's duration, by utterance start; an empty quarter carries the last value. */
  trend: SentimentTrend;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Mean of the scores weighted by utterance length, so a long complaint outweighs "okay". */
function weightedMean(items: readonly ScoredUtterance[]): number | null {
  let sum = 0;
  let weight = 0;
  for (const u of items) {
    const w = Math.max(1, u.endMs - u.startMs);
    sum += u.sentiment * w;
    weight += w;
  }
  return weight === 0 ? null : round3(sum / weight);
}

export function aggregateSentiment(scored: readonly ScoredUtterance[], durationMs: number): SentimentFigures {
  const quarterMs = Math.max(1, durationMs) / 4;
  const trend: number[] = [];
  let carry = 0;
  for (let q = 0; q < 4; q++) {
    const inQuarter = scored.filter((u) => {
      const idx = Math.min(3, Math.floor(u.startMs / quarterMs));
      return idx === q;
    });
    const mean = weightedMean(inQuarter);
    carry = mean ?? carry;
    trend.push(carry);
  }
  return {
    overall: weightedMean(scored) ?? 0,
    caller: weightedMean(scored.filter((u) => u.leg === "caller")),
    agent: weightedMean(scored.filter((u) => u.leg === "agent")),
    trend: trend as SentimentTrend,
  };
}

export function scoreUtterances(utterances: readonly TranscriptUtterance[]): ScoredUtterance[] {
  return utterances.map((u) => ({
    leg: u.leg,
    startMs: u.startMs,
    endMs: u.endMs,
    sentiment: round3(textSentiment(u.text)),
  }));
}
