import type {
  ActionItem,
  EmotionPeak,
  LanguageShare,
  SentimentTrend,
  TalkFigures,
  TicketUrgency,
  TranscriptLine,
} from "@callscribe/db";
import { findActionItems } from "./action-items.ts";
import { extractKeywords } from "./keywords.ts";
import { redactText } from "./redaction.ts";
import { aggregateSentiment, scoreUtterances } from "./sentiment.ts";
import { summarize, type RedactedUtterance } from "./summary.ts";
import { longestSilenceMs, talkFigures, type TalkOptions, defaultTalkOptions } from "./talk.ts";
import { categorize, urgencyRank, type Taxonomy } from "./taxonomy.ts";
import { inSpokenOrder, type CallTranscript } from "./transcript.ts";
import { emotionFigures, languageFigures } from "./voice.ts";

export interface AnalysisOptions {
  taxonomy: Taxonomy;
  /** The hotline's time zone as minutes east of UTC, for "tomorrow morning". */
  utcOffsetMinutes?: number;
  talk?: TalkOptions;
  keywordLimit?: number;
}

/** Everything the ticket says about a call, computed from its utterances alone. */
export interface TicketAnalysis {
  category: string;
  subcategory: string | null;
  urgency: TicketUrgency;
  matchedRules: string[];
  summary: string;
  actionItems: ActionItem[];
  keywords: string[];
  sentimentOverall: number;
  sentimentCaller: number | null;
  sentimentAgent: number | null;
  sentimentTrend: SentimentTrend;
  talk: TalkFigures;
  interruptions: number;
  language: string | null;
  languages: LanguageShare[];
  dialect: string | null;
  dialectConfidence: number | null;
  emotionMix: Record<string, number> | null;
  emotionPeak: EmotionPeak | null;
  transcript: TranscriptLine[];
  /** "caller: ...\nagent: ..." of the redacted transcript, for full-text search. */
  transcriptText: string;
}

/** A very unhappy caller raises the urgency one step, up to high. */
const DISTRESSED_CALLER = -0.5;

export function analyzeCall(call: CallTranscript, options: AnalysisOptions): TicketAnalysis {
  const utterances = inSpokenOrder(call.utterances).filter((u) => u.text.trim() !== "");
  const durationMs = Math.max(call.durationMs, ...utterances.map((u) => u.endMs), 0);

  // What the other party said just before is context for redaction ("and your date of birth?").
  const redacted: RedactedUtterance[] = utterances.map((u, i) => {
    const context = utterances
      .slice(Math.max(0, i - 2), i)
      .map((p) => p.text)
      .join(" ");
    return { ...u, redacted: redactText(u.text, context).text };
  });
  const redactedOf = new Map(redacted.map((r) => [r, r.redacted]));
  const scored = scoreUtterances(redacted);
  const withSentiment = redacted.map((u, i) => ({ ...u, sentiment: scored[i]!.sentiment }));
  const sentiment = aggregateSentiment(scored, durationMs);
  const talk = talkFigures(utterances, durationMs, options.talk ?? defaultTalkOptions);

  const categorization = categorize(options.taxonomy, {
    utterances: withSentiment,
    durationMs,
    longestSilenceMs: longestSilenceMs(utterances, durationMs),
  });
  let urgency = categorization.urgency;
  if ((sentiment.caller ?? 0) <= DISTRESSED_CALLER && urgencyRank[urgency] < urgencyRank.high) {
    urgency = urgency === "low" ? "normal" : "high";
  }

  const actionItems = findActionItems(
    redacted,
    call.startedAt,
    (u) => redactedOf.get(u as RedactedUtterance) ?? u.text,
    options.utcOffsetMinutes ?? 0,
  );
  const transcript: TranscriptLine[] = withSentiment.map((u) => ({
    leg: u.leg,
    seq: u.seq,
    startMs: u.startMs,
    endMs: u.endMs,
    text: u.redacted,
    sentiment: u.sentiment,
    emotion: u.emotion?.label ?? null,
    language: u.language ?? null,
  }));
  const language = languageFigures(utterances);
  const emotion = emotionFigures(utterances);
  return {
    category: categorization.category,
    subcategory: categorization.subcategory,
    urgency,
    matchedRules: categorization.matchedRules,
    summary: summarize(redacted, durationMs, actionItems, categorization.matchedText),
    actionItems,
    keywords: extractKeywords(
      redacted.map((u) => u.redacted),
      options.keywordLimit ?? 8,
      categorization.matchedText,
    ),
    sentimentOverall: sentiment.overall,
    sentimentCaller: sentiment.caller,
    sentimentAgent: sentiment.agent,
    sentimentTrend: sentiment.trend,
    talk,
    interruptions: talk.interruptionsByCaller + talk.interruptionsByAgent,
    ...language,
    emotionMix: emotion.mix,
    emotionPeak: emotion.peak,
    transcript,
    transcriptText: transcript.map((l) => `${l.leg}: ${l.text}`).join("\n"),
  };
}
