import { randomBytes } from "node:crypto";
import {
  calls,
  createDatabase,
  migrateDatabase,
  outbox,
  tickets,
  utterances,
  webhookDeliveries,
  type Leg,
  type NewTicket,
  type TranscriptLine,
} from "@callscribe/db";
import pg from "pg";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startDashboard } from "../../services/dashboard/src/dashboard.ts";
import { createSqlRunner, type SqlRunner } from "../../services/dashboard/src/sql-runner.ts";
import { testPostgresAdminUrl } from "../support/infra.ts";

export const analystToken = "analyst-token-0123456789abcdef";
export const workOrderToken = "workorder-token-0123456789abcdef";

/** Midnight UTC `n` days before today, plus `hour` hours: the page shows the last 30 days by default. */
export function daysAgo(n: number, hour = 10): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - n, hour));
}

/** The day of `daysAgo(n)` as the page's date inputs and the API take it. */
export const isoDay = (d: Date) => d.toISOString().slice(0, 10);

interface Line {
  leg: Leg;
  text: string;
  sentiment: number;
  emotion: string | null;
}

export interface FixtureTicket {
  callId: string;
  startedAt: Date;
  agentId: string;
  category: string;
  subcategory: string | null;
  dialect: string | null;
  sentiment: number;
  status: "new" | "assigned" | "resolved";
  assignee: string | null;
  emotionMix: Record<string, number> | null;
  keywords: string[];
  summary: string;
  lines: Line[];
  /** Unredacted text of the call's utterances, kept in `utterances` only. */
  spoken?: string[];
}

const run = randomBytes(3).toString("hex");
const id = (name: string) => `dash-${run}-${name}`;

export const fixtures: FixtureTicket[] = [
  {
    callId: id("leak"),
    startedAt: daysAgo(1),
    agentId: "agent-17",
    category: "water",
    subcategory: "leak",
    dialect: "en-US",
    sentiment: -0.6,
    status: "new",
    assignee: null,
    emotionMix: { angry: 0.6, neutral: 0.4 },
    keywords: ["leak", "basement", "water"],
    summary: "Caller reports water leaking into the basement; agent promised a crew tomorrow morning.",
    lines: [
      { leg: "caller", text: "There is water leaking into my basement", sentiment: -0.7, emotion: "angry" },
      {
        leg: "agent",
        text: "I am sorry to hear that, can I have a phone number",
        sentiment: 0.1,
        emotion: "neutral",
      },
      { leg: "caller", text: "My number is [PHONE]", sentiment: 0, emotion: "angry" },
      { leg: "agent", text: "I will send a crew tomorrow morning", sentiment: 0.3, emotion: "neutral" },
    ],
    spoken: [
      "There is water leaking into my basement",
      "I am sorry to hear that, can I have a phone number",
      "My number is four one five five five five zero one nine nine",
      "I will send a crew tomorrow morning",
    ],
  },
  {
    callId: id("pothole"),
    startedAt: daysAgo(2, 9),
    agentId: "agent-17",
    category: "roads",
    subcategory: "pothole",
    dialect: "en-GB",
    sentiment: -0.1,
    status: "assigned",
    assignee: "crew-3",
    emotionMix: null,
    keywords: ["pothole", "road"],
    summary: "Caller reports a deep pothole on the high street.",
    lines: [
      { leg: "caller", text: "There is a deep pothole on the high street", sentiment: -0.2, emotion: null },
      { leg: "agent", text: "Thank you, we will inspect it this week", sentiment: 0.2, emotion: null },
    ],
  },
  {
    callId: id("bins"),
    startedAt: daysAgo(2, 15),
    agentId: "agent-22",
    category: "waste",
    subcategory: "missed collection",
    dialect: null,
    sentiment: 0.3,
    status: "resolved",
    assignee: "crew-9",
    emotionMix: { neutral: 1 },
    keywords: ["bins", "collection"],
    summary: "Caller's bins were not collected; agent booked a collection.",
    lines: [
      { leg: "caller", text: "My bins were not collected on Monday", sentiment: -0.1, emotion: "neutral" },
      { leg: "agent", text: "I have booked a collection for tomorrow", sentiment: 0.5, emotion: "neutral" },
    ],
  },
  {
    callId: id("bill"),
    startedAt: daysAgo(3),
    agentId: "agent-22",
    category: "billing",
    subcategory: null,
    dialect: "en-US",
    sentiment: -0.8,
    status: "new",
    assignee: null,
    emotionMix: { angry: 0.5, sad: 0.5 },
    keywords: ["bill", "refund", "water"],
    summary: "Caller disputes a water bill and wants a refund.",
    lines: [
      {
        leg: "caller",
        text: "This water bill is outrageous and I want a refund",
        sentiment: -0.9,
        emotion: "angry",
      },
      { leg: "agent", text: "I understand, I will escalate the refund", sentiment: 0.1, emotion: "sad" },
    ],
  },
  {
    callId: id("noise"),
    startedAt: daysAgo(5),
    agentId: "agent-31",
    category: "noise",
    subcategory: null,
    dialect: "es-MX",
    sentiment: 0.6,
    status: "new",
    assignee: null,
    emotionMix: { happy: 0.5, neutral: 0.5 },
    keywords: ["noise", "party"],
    summary: "Caller thanks the hotline after a noise complaint was handled.",
    lines: [
      {
        leg: "caller",
        text: "Thank you, the party next door finally stopped",
        sentiment: 0.7,
        emotion: "happy",
      },
      { leg: "agent", text: "Glad we could help", sentiment: 0.6, emotion: "neutral" },
    ],
  },
  {
    callId: id("old-leak"),
    startedAt: daysAgo(60),
    agentId: "agent-17",
    category: "water",
    subcategory: "leak",
    dialect: "en-US",
    sentiment: -0.9,
    status: "new",
    assignee: null,
    emotionMix: { angry: 1 },
    keywords: ["leak"],
    summary: "An old leak report from two months ago.",
    lines: [{ leg: "caller", text: "The old leak is back", sentiment: -0.9, emotion: "angry" }],
  },
];

export const byName = (name: string) => fixtures.find((f) => f.callId === id(name))!;

export const deadDelivery = {
  url: "https://workorders.example.org/hooks/callscribe",
  attempts: 8,
  lastError: "HTTP 503 from the receiver",
};

function transcript(f: FixtureTicket): TranscriptLine[] {
  return f.lines.map((l, seq) => ({
    leg: l.leg,
    seq,
    startMs: seq * 4000,
    endMs: seq * 4000 + 3000,
    text: l.text,
    sentiment: l.sentiment,
    emotion: l.emotion,
    language: f.dialect?.slice(0, 2) ?? null,
  }));
}

function ticketRow(f: FixtureTicket): NewTicket {
  const lines = transcript(f);
  const mean = (leg: Leg) => {
    const s = lines.filter((l) => l.leg === leg).map((l) => l.sentiment);
    return s.length === 0 ? null : s.reduce((a, b) => a + b, 0) / s.length;
  };
  const peak = f.emotionMix === null ? null : Object.entries(f.emotionMix).sort((a, b) => b[1] - a[1])[0]![0];
  return {
    callId: f.callId,
    startedAt: f.startedAt,
    endedAt: new Date(f.startedAt.getTime() + lines.length * 4000),
    durationMs: lines.length * 4000,
    agentId: f.agentId,
    category: f.category,
    subcategory: f.subcategory,
    urgency: f.sentiment < -0.5 ? "high" : "normal",
    status: f.status,
    assignee: f.assignee,
    summary: f.summary,
    language: f.dialect?.slice(0, 2) ?? null,
    dialect: f.dialect,
    dialectConfidence: f.dialect === null ? null : 0.8,
    sentimentOverall: f.sentiment,
    sentimentCaller: mean("caller"),
    sentimentAgent: mean("agent"),
    sentimentTrend: [f.sentiment, f.sentiment, f.sentiment, f.sentiment],
    emotionMix: f.emotionMix,
    emotionPeak: peak === null ? null : { label: peak, leg: "caller", startMs: 0, score: 0.9, arousal: 0.7 },
    talkTime: {
      callerMs: 6000,
      agentMs: 5000,
      nonTalkMs: 1000,
      overlapMs: 0,
      interruptionsByCaller: 1,
      interruptionsByAgent: 0,
      callerWordsPerMinute: 150,
      agentWordsPerMinute: 140,
    },
    interruptions: 1,
    actionItems: [],
    keywords: f.keywords,
    redactedTranscript: lines,
    redactedText: lines.map((l) => `${l.leg}: ${l.text}`).join("\n"),
    asrModel: "asr-en-telephony",
    asrModelVersion: "1",
  };
}

export interface SeededDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new database with the migrations applied and the fixtures written through the schema's tables. */
export async function seededDatabase(prefix: string): Promise<SeededDatabase> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: testPostgresAdminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const u = new URL(testPostgresAdminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();

  const database = await createDatabase({ url });
  try {
    await migrateDatabase(database);
    const { db } = database;
    for (const f of fixtures) {
      await db.insert(calls).values({
        id: f.callId,
        agentId: f.agentId,
        fromUri: "sip:+14155550199@pbx.example.org",
        source: "sip",
        startedAt: f.startedAt,
        legs: ["caller", "agent"],
      });
      if (f.spoken !== undefined) {
        await db.insert(utterances).values(
          f.spoken.map((text, seq) => ({
            callId: f.callId,
            leg: f.lines[seq]!.leg,
            seq,
            startMs: seq * 4000,
            endMs: seq * 4000 + 3000,
            text,
            confidence: 0.9,
          })),
        );
      }
      await db.insert(tickets).values(ticketRow(f));
    }
    const bill = byName("bill");
    const [message] = await db
      .insert(outbox)
      .values({
        callId: bill.callId,
        kind: "ticket.created",
        ticketVersion: 1,
        payload: { callId: bill.callId },
      })
      .returning({ id: outbox.id });
    await db.insert(webhookDeliveries).values({
      outboxId: message!.id,
      callId: bill.callId,
      url: deadDelivery.url,
      idempotencyKey: `${bill.callId}:1`,
      status: "dead",
      attempts: deadDelivery.attempts,
      lastStatusCode: 503,
      lastError: deadDelivery.lastError,
      deadAt: daysAgo(0, 0),
    });
  } finally {
    await database.close();
  }
  return { url, drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export interface TestDashboard {
  baseUrl: string;
  /** The connection the dashboard uses: the analyst role. */
  db: SqlRunner;
  close(): Promise<void>;
}

/** The dashboard's HTTP server on a free port, over `url` as the analyst role, as main.ts builds it. */
export async function startTestDashboard(url: string): Promise<TestDashboard> {
  const logger = pino({ level: "silent" });
  const db = createSqlRunner({
    url,
    role: "callscribe_analyst",
    poolSize: 4,
    statementTimeoutMs: 10_000,
    workMemMb: 32,
    applicationName: "callscribe-dashboard-test",
    onIdleError: () => undefined,
  });
  const server = await startDashboard(
    { host: "127.0.0.1", port: 0 },
    {
      db,
      tokens: { analyst: [analystToken], workOrder: [workOrderToken] },
      logger,
      registry: new Registry(),
    },
  );
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    db,
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}
