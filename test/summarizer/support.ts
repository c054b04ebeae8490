import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createDatabase, migrateDatabase, type Database } from "@callscribe/db";
import {
  CallEnded,
  CallStarted,
  LegDone,
  UtteranceResult,
  encodeEvent,
  subjects,
  type Leg,
  type Messaging,
} from "@callscribe/messaging";
import { parseTaxonomy } from "../../services/summarizer/src/analysis/index.ts";
import type { SummarizerConfig } from "../../services/summarizer/src/config.ts";
import { startSummarizer, type Summarizer } from "../../services/summarizer/src/summarizer.ts";
import { testPostgresAdminUrl } from "../support/infra.ts";

export const taxonomy = parseTaxonomy(
  readFileSync(new URL("../../services/summarizer/taxonomy/public-service.yaml", import.meta.url), "utf8"),
);

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresAdminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A migrated database of its own for one test file; `drop()` removes it. */
export async function createTestDatabase(
  prefix: string,
): Promise<{ database: Database; url: string; drop(): Promise<void> }> {
  const name = `callscribe_${prefix}_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(testPostgresAdminUrl);
  url.pathname = `/${name}`;
  const database = await createDatabase({ url: url.toString() });
  await migrateDatabase(database);
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close();
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

export type TestConfig = Pick<SummarizerConfig, "consumer" | "timeouts" | "webhook" | "utcOffsetMinutes">;

export function testConfig(durableName: string, overrides: Partial<TestConfig> = {}): TestConfig {
  return {
    consumer: {
      durableName,
      deliverPolicy: "new",
      unknownCallRetryMs: 200,
      maxUnknownCallDeliveries: 5,
      ackWaitMs: 5_000,
      maxInFlight: 16,
    },
    timeouts: { incompleteAfterMs: 60_000, idleCallTimeoutMs: 3_600_000, sweepIntervalMs: 200 },
    webhook: {
      urls: [],
      secret: "",
      timeoutMs: 1_000,
      maxAttempts: 5,
      backoff: { baseMs: 50, maxMs: 200 },
      pollMs: 50,
    },
    utcOffsetMinutes: 0,
    ...overrides,
  };
}

export function start(config: TestConfig, database: Database, messaging: Messaging): Promise<Summarizer> {
  return startSummarizer(config, {
    database,
    messaging,
    taxonomy,
    logger: pino({ level: "silent" }),
    registry: new Registry(),
  });
}

export interface ScriptedUtterance {
  leg: Leg;
  seq: number;
  startMs: number;
  endMs: number;
  text: string;
}

/** Publishes a call's events as ingest and asr would; the parts can be sent separately. */
export function callEvents(messaging: Messaging, callId: string, lines: ScriptedUtterance[]) {
  const startedAt = new Date("2026-03-02T09:15:00.000Z");
  const js = messaging.js;
  return {
    started: () =>
      js.publish(
        subjects.callStarted(callId),
        encodeEvent(CallStarted, {
          callId,
          startedAt: startedAt.toISOString(),
          source: "sip",
          agentId: "agent-7",
          from: "sip:+14155550192@pbx.example.org",
          participants: [],
          legs: [
            { leg: "caller", sampleRate: 8000, codec: "PCMU" },
            { leg: "agent", sampleRate: 8000, codec: "PCMU" },
          ],
          metadata: {},
        }),
      ),
    utterance: (u: ScriptedUtterance) =>
      js.publish(
        subjects.utterance(callId, u.leg),
        encodeEvent(UtteranceResult, {
          callId,
          utteranceId: `${callId}-${u.leg}-${u.seq}`,
          words: [],
          confidence: 0.9,
          language: "en",
          dialect: "",
          emotion: null,
          ...u,
        }),
      ),
    legDone: (leg: Leg) =>
      js.publish(
        subjects.legDone(callId, leg),
        encodeEvent(LegDone, {
          callId,
          leg,
          utterances: lines.filter((l) => l.leg === leg).length,
          audioMs: 60_000,
          model: { name: "asr-en-telephony", version: "3" },
        }),
      ),
    ended: () =>
      js.publish(
        subjects.callEnded(callId),
        encodeEvent(CallEnded, {
          callId,
          endedAt: new Date(startedAt.getTime() + 60_000).toISOString(),
          reason: "bye",
          lastSeq: {},
          stats: {},
        }),
      ),
    async all() {
      await this.started();
      for (const l of lines) await this.utterance(l);
      await this.legDone("caller");
      await this.legDone("agent");
      await this.ended();
    },
  };
}

export const waterCall: ScriptedUtterance[] = [
  { leg: "agent", seq: 0, startMs: 0, endMs: 3000, text: "city services hotline, how can I help you" },
  {
    leg: "caller",
    seq: 0,
    startMs: 3500,
    endMs: 11000,
    text: "the water main on our street burst and the street is flooding",
  },
  { leg: "agent", seq: 1, startMs: 11500, endMs: 14000, text: "what's your phone number" },
  {
    leg: "caller",
    seq: 1,
    startMs: 14500,
    endMs: 20000,
    text: "four one five five five five zero one nine two",
  },
  { leg: "agent", seq: 2, startMs: 20500, endMs: 30000, text: "a crew will be there within two hours" },
];

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
