import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  analyzeCall,
  parseTaxonomy,
  type TicketAnalysis,
} from "../../services/summarizer/src/analysis/index.ts";
import type { TranscriptUtterance } from "../../services/summarizer/src/analysis/index.ts";

const taxonomy = parseTaxonomy(
  readFileSync(new URL("../../services/summarizer/taxonomy/public-service.yaml", import.meta.url), "utf8"),
  "public-service.yaml",
);

interface Fixture {
  startedAt: string;
  durationMs: number;
  utterances: TranscriptUtterance[];
}

function analyze(name: string): TicketAnalysis {
  const fixture = JSON.parse(
    readFileSync(new URL(`fixtures/calls/${name}.json`, import.meta.url), "utf8"),
  ) as Fixture;
  return analyzeCall(
    {
      startedAt: new Date(fixture.startedAt),
      durationMs: fixture.durationMs,
      utterances: fixture.utterances,
    },
    { taxonomy },
  );
}

const lines = (a: TicketAnalysis) => a.transcript.map((l) => `${l.leg}: ${l.text}`);

describe("tickets of reference hotline calls", () => {
  it("a burst water main: category, urgency, redacted address and phone, crew and call-back promises", () => {
    const a = analyze("water-main-break");
    expect([a.category, a.subcategory, a.urgency]).toEqual(["water", "main-break", "high"]);
    expect(lines(a)).toContain("caller: it's [ADDRESS]");
    expect(lines(a)).toContain("caller: [PHONE]");
    expect(a.transcriptText).not.toMatch(/twelve|oak|four one five/);
    expect(a.actionItems).toEqual([
      {
        text: "A crew will be there within two hours to shut off the main",
        leg: "agent",
        atMs: 30_500,
        dueText: "within two hours",
        dueAt: "2026-03-02T11:15:30.500Z",
      },
      {
        text: "I'll call you back tomorrow morning to confirm the repair",
        leg: "agent",
        atMs: 30_500,
        dueText: "tomorrow morning",
        dueAt: "2026-03-03T09:00:00.000Z",
      },
    ]);
    expect(a.talk).toEqual({
      callerMs: 22_000,
      agentMs: 24_000,
      nonTalkMs: 14_000,
      overlapMs: 0,
      interruptionsByCaller: 0,
      interruptionsByAgent: 0,
      callerWordsPerMinute: 101, // 37 words in 22 s
      agentWordsPerMinute: 153,
    });
    expect(a.summary).toMatch(/^Caller: Hi, the water main on our street burst.*Agent: A crew will be there/);
    expect(a.keywords).toContain("water main");
  });

  it("a missed collection: spoken account number redacted, due Friday, the caller's overlap is an interruption", () => {
    const a = analyze("missed-collection");
    expect([a.category, a.subcategory, a.urgency]).toEqual(["waste", "missed-collection", "normal"]);
    expect(lines(a)).toContain("caller: yes it's [ACCOUNT]");
    expect(a.actionItems).toEqual([
      {
        text: "We'll send the truck back to collect it by Friday",
        leg: "agent",
        atMs: 18_500,
        dueText: "by Friday",
        dueAt: "2026-03-06T17:00:00.000Z",
      },
    ]);
    expect(a.talk).toMatchObject({
      callerMs: 15_500,
      agentMs: 17_000,
      nonTalkMs: 13_500,
      overlapMs: 1_000,
      interruptionsByCaller: 1,
      interruptionsByAgent: 0,
    });
    expect(a.interruptions).toBe(1);
  });

  it("a double charge: date of birth and email redacted, two promises in one sentence, agent interrupts", () => {
    const a = analyze("double-charge");
    expect([a.category, a.subcategory]).toEqual(["billing", "overcharge"]);
    expect(lines(a)).toContain("caller: [DATE OF BIRTH]");
    expect(lines(a)).toContain("caller: it's [EMAIL]");
    expect(a.transcriptText).not.toMatch(/maria|lopez|eighty/);
    expect(a.actionItems.map((i) => [i.text, i.dueText, i.dueAt])).toEqual([
      [
        "I'll refund the second payment to your card within three business days",
        "within three business days",
        "2026-03-09T16:30:39.500Z",
      ],
      ["I'll email you a corrected bill on Monday", "on Monday", "2026-03-09T17:00:00.000Z"],
    ]);
    expect(a.talk).toMatchObject({
      callerMs: 29_000,
      agentMs: 29_000,
      nonTalkMs: 33_000,
      overlapMs: 1_000,
      interruptionsByCaller: 0,
      interruptionsByAgent: 1,
    });
    // The complaint opens the call negative; it ends settled.
    expect(a.sentimentTrend[0]).toBeLessThan(0);
    expect(a.sentimentTrend[3]).toBeGreaterThan(0);
  });

  it("a noisy neighbour: an officer tonight; a one-word 'okay' inside the agent's turn is no interruption", () => {
    const a = analyze("noisy-neighbour");
    expect([a.category, a.subcategory]).toEqual(["noise", "neighbour"]);
    expect(a.actionItems).toEqual([
      {
        text: "An officer will visit the address tonight",
        leg: "agent",
        atMs: 12_500,
        dueText: "tonight",
        dueAt: "2026-03-07T23:00:00.000Z",
      },
    ]);
    expect(a.talk).toMatchObject({
      callerMs: 14_000,
      agentMs: 12_000,
      nonTalkMs: 15_000,
      overlapMs: 1_000,
      interruptionsByCaller: 0,
      interruptionsByAgent: 0,
    });
  });

  it("a rude inspector: staff complaint at high urgency, spoken phone number with 'double' redacted", () => {
    const a = analyze("rude-inspector");
    expect([a.category, a.subcategory, a.urgency]).toEqual(["staff", "conduct", "high"]);
    expect(lines(a)).toContain("caller: [PHONE]");
    expect(a.actionItems.map((i) => [i.text, i.dueAt])).toEqual([
      ["I've logged a formal complaint", null],
      ["My supervisor will call you on Wednesday at three pm", "2026-03-11T15:00:00.000Z"],
    ]);
    expect(a.talk).toMatchObject({ callerMs: 20_500, agentMs: 15_000, nonTalkMs: 14_500, overlapMs: 0 });
    expect(a.sentimentCaller).toBeLessThan(0);
  });

  it("leaves language, dialect and emotion null when the utterances carry none, and aggregates them when they do", () => {
    const bare = analyze("noisy-neighbour");
    expect([bare.language, bare.dialect, bare.dialectConfidence, bare.emotionMix, bare.emotionPeak]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    const tagged = analyzeCall(
      {
        startedAt: new Date("2026-03-07T22:10:00Z"),
        durationMs: 10_000,
        utterances: [
          {
            leg: "caller",
            seq: 0,
            startMs: 0,
            endMs: 3000,
            text: "the music is so loud",
            language: "en",
            dialect: "en-GB",
            dialectConfidence: 0.8,
            emotion: { label: "angry", scores: { angry: 0.9 }, arousal: 0.9, valence: -0.7 },
          },
          {
            leg: "agent",
            seq: 0,
            startMs: 3500,
            endMs: 6000,
            text: "an officer will come",
            language: "en",
            dialect: "en-GB",
            dialectConfidence: 0.6,
            emotion: { label: "neutral", scores: { neutral: 0.8 }, arousal: 0.2, valence: 0 },
          },
          {
            leg: "caller",
            seq: 1,
            startMs: 6500,
            endMs: 9000,
            text: "gracias",
            language: "es",
            languageConfidence: 0.7,
          },
        ],
      },
      { taxonomy },
    );
    expect(tagged.language).toBe("en");
    expect(tagged.languages).toEqual([
      { language: "en", share: 0.667, confidence: null },
      { language: "es", share: 0.333, confidence: 0.7 },
    ]);
    expect([tagged.dialect, tagged.dialectConfidence]).toEqual(["en-GB", 0.7]);
    expect(tagged.emotionMix).toEqual({ angry: 0.5, neutral: 0.5 });
    expect(tagged.emotionPeak).toEqual({
      label: "angry",
      leg: "caller",
      startMs: 0,
      score: 0.9,
      arousal: 0.9,
    });
  });
});
