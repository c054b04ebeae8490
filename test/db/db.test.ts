import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { and, asc, count, eq, lte, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  calls,
  createDatabase,
  DatabaseUnavailableError,
  migrateDatabase,
  outbox,
  tickets,
  ticketMatches,
  utteranceMatches,
  utterances,
  type Database,
  type Db,
  type NewCall,
  type NewTicket,
  type NewUtterance,
} from "@callscribe/db";

const repoRoot = new URL("../../", import.meta.url);
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const runId = randomBytes(4).toString("hex");
const testDatabaseName = `callscribe_test_${runId}`;
const cliDatabaseName = `callscribe_test_${runId}_cli`;

function urlFor(database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE "${testDatabaseName}"`);
  await admin(`CREATE DATABASE "${cliDatabaseName}"`);
});

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS "${testDatabaseName}" WITH (FORCE)`);
  await admin(`DROP DATABASE IF EXISTS "${cliDatabaseName}" WITH (FORCE)`);
});

function newCall(overrides: Partial<NewCall> = {}): NewCall {
  return {
    id: `call-${randomUUID()}`,
    sipCallId: "a84b4c76e66710@pbx.example.org",
    fromUri: "sip:+15550100@pbx.example.org",
    toUri: "sip:hotline@callscribe.example.org",
    agentId: "agent-17",
    participants: [
      { leg: "caller", name: "Caller", aor: "sip:+15550100@pbx.example.org" },
      { leg: "agent", name: "Dana", aor: "sip:dana@pbx.example.org" },
    ],
    source: "siprec",
    startedAt: new Date("2026-03-02T09:15:00.000Z"),
    legs: ["caller", "agent"],
    metadata: { queue: "billing" },
    ...overrides,
  };
}

function newUtterance(callId: string, overrides: Partial<NewUtterance> = {}): NewUtterance {
  return {
    callId,
    leg: "caller",
    seq: 0,
    startMs: 1200,
    endMs: 3400,
    text: "I want a refund for my broken router",
    words: [
      { word: "I", startMs: 1200, endMs: 1300, confidence: 0.98 },
      { word: "want", startMs: 1300, endMs: 1550, confidence: 0.95 },
    ],
    confidence: 0.93,
    language: "en",
    dialect: "en-US",
    emotion: { label: "angry", scores: { angry: 0.7, neutral: 0.3 }, arousal: 0.8, valence: -0.6 },
    ...overrides,
  };
}

function newTicket(callId: string, overrides: Partial<NewTicket> = {}): NewTicket {
  return {
    callId,
    startedAt: new Date("2026-03-02T09:15:00.000Z"),
    agentId: "agent-17",
    category: "billing",
    subcategory: "refund",
    summary: "Caller asks for a refund for a broken router.",
    dialect: "en-US",
    sentimentOverall: -0.25,
    sentimentCaller: -0.5,
    sentimentAgent: 0.25,
    sentimentTrend: [-0.5, -0.25, 0, 0.25],
    emotionMix: { angry: 0.5, neutral: 0.5 },
    talkTime: {
      callerMs: 42_000,
      agentMs: 31_000,
      nonTalkMs: 7_000,
      overlapMs: 1_500,
      interruptionsByCaller: 2,
      interruptionsByAgent: 1,
      callerWordsPerMinute: 150,
      agentWordsPerMinute: 140,
    },
    interruptions: 3,
    actionItems: [
      {
        text: "I'll send a replacement router tomorrow",
        leg: "agent",
        atMs: 50_000,
        dueText: "tomorrow",
        dueAt: "2026-03-03T09:00:00.000Z",
      },
    ],
    keywords: ["refund", "router"],
    redactedTranscript: [
      {
        leg: "caller",
        seq: 0,
        startMs: 1200,
        endMs: 3400,
        text: "I want a refund for my broken router",
        sentiment: -0.3,
        emotion: null,
        language: "en",
      },
    ],
    redactedText: "caller: I want a refund for my broken router",
    ...overrides,
  };
}

/** The SQLSTATE of a failed query, from the driver error drizzle wraps. */
function sqlState(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ("code" in e && typeof e.code === "string") return e.code;
  }
  return undefined;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the query to fail");
}

const UNIQUE_VIOLATION = "23505";

async function appliedMigrations(db: Db): Promise<number> {
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  // Both drivers return { rows }, but the result type common to them is unknown.
  return (rows as unknown as { rows: { n: number }[] }).rows[0]?.n ?? -1;
}

const backends = [
  { kind: "postgres", open: () => createDatabase({ url: urlFor(testDatabaseName) }) },
  { kind: "pglite", open: () => createDatabase() },
] as const;

describe.each(backends)("on $kind", ({ kind, open }) => {
  let database: Database;
  let db: Db;

  beforeAll(async () => {
    database = await open();
    db = database.db;
    await migrateDatabase(database);
  });

  afterAll(async () => {
    await database?.close();
  });

  it("opens the backend it was asked for and answers ping", async () => {
    expect(database.kind).toBe(kind);
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it("records every migration once, and applying them again is a no-op", async () => {
    const journal = JSON.parse(
      await readFile(new URL("migrations/meta/_journal.json", repoRoot), "utf8"),
    ) as {
      entries: unknown[];
    };
    expect(await appliedMigrations(db)).toBe(journal.entries.length);

    const call = newCall();
    await db.insert(calls).values(call);
    await migrateDatabase(database);

    expect(await appliedMigrations(db)).toBe(journal.entries.length);
    expect(await db.select({ id: calls.id }).from(calls).where(eq(calls.id, call.id))).toEqual([
      { id: call.id },
    ]);
  });

  it("round-trips a call with its utterance, ticket and outbox message", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    await db.insert(utterances).values(newUtterance(call.id));
    await db.insert(tickets).values(newTicket(call.id));
    await db.insert(outbox).values({
      callId: call.id,
      kind: "ticket.created",
      ticketVersion: 1,
      payload: { callId: call.id, version: 1, category: "billing" },
    });

    const stored = await db.query.calls.findFirst({
      where: eq(calls.id, call.id),
      with: { utterances: true, ticket: true, outbox: true },
    });

    expect(stored).toMatchObject({ ...call, endedAt: null, endReason: null });
    expect(stored?.createdAt).toBeInstanceOf(Date);
    expect(stored?.utterances).toHaveLength(1);
    expect(stored?.utterances[0]).toMatchObject({
      ...newUtterance(call.id),
      confidence: expect.closeTo(0.93, 5),
    });
    expect(stored?.ticket).toMatchObject({ ...newTicket(call.id), version: 1 });
    expect(stored?.outbox).toEqual([
      expect.objectContaining({
        kind: "ticket.created",
        ticketVersion: 1,
        payload: { callId: call.id, version: 1, category: "billing" },
        status: "pending",
        attempts: 0,
        lastError: null,
        deliveredAt: null,
      }),
    ]);

    const endedAt = new Date("2026-03-02T09:21:30.000Z");
    await db.update(calls).set({ endedAt, endReason: "caller-hangup" }).where(eq(calls.id, call.id));
    const [ended] = await db.select().from(calls).where(eq(calls.id, call.id));
    expect(ended).toMatchObject({ endedAt, endReason: "caller-hangup" });
  });

  it("keeps one utterance per (call, leg, seq)", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    const first = newUtterance(call.id, { seq: 4 });

    await db.insert(utterances).values(first).onConflictDoNothing();
    await db
      .insert(utterances)
      .values({ ...first, text: "redelivered" })
      .onConflictDoNothing();
    await db.insert(utterances).values(newUtterance(call.id, { leg: "agent", seq: 4, text: "other leg" }));

    const rows = await db
      .select({ leg: utterances.leg, seq: utterances.seq, text: utterances.text })
      .from(utterances)
      .where(eq(utterances.callId, call.id))
      .orderBy(asc(utterances.leg));
    expect(rows).toEqual([
      { leg: "caller", seq: 4, text: first.text },
      { leg: "agent", seq: 4, text: "other leg" },
    ]);
    expect(sqlState(await rejection(db.insert(utterances).values(first)))).toBe(UNIQUE_VIOLATION);
  });

  it("keeps one ticket per call: a second insert conflicts, an upsert replaces it", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    await db.insert(tickets).values(newTicket(call.id));

    expect(sqlState(await rejection(db.insert(tickets).values(newTicket(call.id))))).toBe(UNIQUE_VIOLATION);

    const revised = newTicket(call.id, { category: "technical", keywords: ["router"], version: 2 });
    await db
      .insert(tickets)
      .values(revised)
      .onConflictDoUpdate({
        target: tickets.callId,
        set: { category: revised.category, keywords: revised.keywords, version: sql`${tickets.version} + 1` },
      });

    const rows = await db.select().from(tickets).where(eq(tickets.callId, call.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ category: "technical", keywords: ["router"], version: 2 });
  });

  it("queues one outbox message per ticket version, however often it is written", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    const message = (ticketVersion: number) => ({
      callId: call.id,
      kind: "ticket.updated" as const,
      ticketVersion,
      payload: { callId: call.id, version: ticketVersion },
    });

    await db.insert(outbox).values(message(2)).onConflictDoNothing();
    await db.insert(outbox).values(message(2)).onConflictDoNothing();
    await db.insert(outbox).values(message(3)).onConflictDoNothing();

    const due = await db
      .select({ ticketVersion: outbox.ticketVersion })
      .from(outbox)
      .where(
        // The database's clock, as a delivery worker would use: a client Date has only millisecond
        // precision and can fall just before a row stamped in the same millisecond.
        and(eq(outbox.callId, call.id), eq(outbox.status, "pending"), lte(outbox.nextAttemptAt, sql`now()`)),
      )
      .orderBy(asc(outbox.ticketVersion));
    expect(due).toEqual([{ ticketVersion: 2 }, { ticketVersion: 3 }]);
  });

  it("finds tickets by a word of their redacted transcript, through the stored vector's index", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    await db
      .insert(tickets)
      .values(
        newTicket(call.id, {
          redactedText: "caller: the water main on my street burst\nagent: a crew comes today",
        }),
      );
    const search = (query: string) =>
      db
        .select({ callId: tickets.callId })
        .from(tickets)
        .where(and(eq(tickets.callId, call.id), ticketMatches(query)));

    expect(await search("bursting")).toEqual([{ callId: call.id }]);
    expect(await search("crews")).toEqual([{ callId: call.id }]);
    expect(await search("router")).toEqual([]);
    const plan = await db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return tx.execute(
        sql`explain select ${tickets.callId} from ${tickets} where ${ticketMatches("water")}`,
      );
    });
    expect(JSON.stringify(plan)).toContain("tickets_transcript_search_idx");
  });

  it("gives the analyst role tickets but not the unredacted utterances or parked events", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    await db.insert(utterances).values(newUtterance(call.id));
    await db.insert(tickets).values(newTicket(call.id));
    const asAnalyst = (statement: ReturnType<typeof sql>) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`set local role callscribe_analyst`);
        return tx.execute(statement);
      });

    const rows = await asAnalyst(sql`select category from tickets where call_id = ${call.id}`);
    expect(JSON.stringify(rows)).toContain("billing");
    await asAnalyst(
      sql`update tickets set status = 'assigned', assignee = 'crew-4' where call_id = ${call.id}`,
    );
    const [updated] = await db.select().from(tickets).where(eq(tickets.callId, call.id));
    expect(updated).toMatchObject({ status: "assigned", assignee: "crew-4" });

    for (const statement of [
      sql`select text from utterances`,
      sql`select reason from parked_events`,
      sql`select from_uri from calls`,
      sql`update tickets set summary = 'changed'`,
    ]) {
      expect(sqlState(await rejection(asAnalyst(statement)))).toBe("42501");
    }
  });

  it("finds utterances by a word of their text, through the full-text index", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    await db
      .insert(utterances)
      .values([
        newUtterance(call.id, { seq: 0, text: "I want a refund for my broken router" }),
        newUtterance(call.id, { seq: 1, text: "Thanks for calling, have a good day" }),
      ]);

    const search = (query: string) =>
      db
        .select({ seq: utterances.seq })
        .from(utterances)
        .where(and(eq(utterances.callId, call.id), utteranceMatches(query)))
        .orderBy(asc(utterances.seq));

    expect(await search("router")).toEqual([{ seq: 0 }]);
    expect(await search("refunds")).toEqual([{ seq: 0 }]);
    expect(await search("called")).toEqual([{ seq: 1 }]);
    expect(await search("voucher")).toEqual([]);

    const plan = await db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return tx.execute(
        sql`explain select ${utterances.id} from ${utterances} where ${utteranceMatches("router")}`,
      );
    });
    expect(JSON.stringify(plan)).toContain("utterances_text_search_idx");
  });

  it("removes a call's utterances, ticket and outbox messages with the call", async () => {
    const call = newCall();
    await db.insert(calls).values(call);
    await db.insert(utterances).values(newUtterance(call.id));
    await db.insert(tickets).values(newTicket(call.id));
    await db
      .insert(outbox)
      .values({ callId: call.id, kind: "ticket.created", ticketVersion: 1, payload: {} });

    await db.delete(calls).where(eq(calls.id, call.id));

    for (const table of [utterances, tickets, outbox]) {
      const [row] = await db.select({ n: count() }).from(table).where(eq(table.callId, call.id));
      expect(row?.n).toBe(0);
    }
  });
});

describe("createDatabase", () => {
  it("rejects with DatabaseUnavailableError naming DATABASE_URL when Postgres is not listening", async () => {
    const err = await rejection(createDatabase({ url: "postgres://postgres@127.0.0.1:1/callscribe" }));
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect(err).toMatchObject({ name: "DatabaseUnavailableError", cause: expect.any(Error) });
    expect((err as Error).message).toMatch(
      /127\.0\.0\.1:1\/callscribe.*check DATABASE_URL and that Postgres is running/,
    );
  });

  it("keeps a PGlite database in pgliteDir across restarts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "callscribe-pglite-"));
    try {
      const first = await createDatabase({ pgliteDir: dir });
      await migrateDatabase(first);
      const call = newCall();
      await first.db.insert(calls).values(call);
      await first.close();

      const second = await createDatabase({ pgliteDir: dir });
      try {
        await migrateDatabase(second);
        const rows = await second.db.select({ id: calls.id }).from(calls);
        expect(rows).toEqual([{ id: call.id }]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run migrate", () => {
  const run = promisify(execFile);
  const migrate = (env: NodeJS.ProcessEnv) =>
    run(process.execPath, ["--import", "tsx", "packages/db/src/cli/migrate.ts"], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });

  it("applies the migrations to DATABASE_URL and exits 0", async () => {
    const { stdout } = await migrate({ DATABASE_URL: urlFor(cliDatabaseName) });
    expect(stdout).toContain("migrations applied");

    const database = await createDatabase({ url: urlFor(cliDatabaseName) });
    try {
      const tables = await database.db.execute(
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      expect(JSON.stringify(tables)).toMatch(/calls.*outbox.*tickets.*utterances/);
    } finally {
      await database.close();
    }
  });

  it("exits 1 naming DATABASE_URL when it is malformed", async () => {
    const err = await rejection(migrate({ DATABASE_URL: "mysql://root:secret@db/callscribe" }));
    expect(err).toMatchObject({ code: 1 });
    const output = String((err as { stdout: string }).stdout);
    expect(output).toContain("DATABASE_URL");
    expect(output).not.toContain("secret");
  });
});
