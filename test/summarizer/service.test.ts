import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calls, outbox, parkedEvents, tickets, utterances, type Database, type Ticket } from "@callscribe/db";
import { subjects, type Messaging } from "@callscribe/messaging";
import { connectTestStreams, uniqueCallId } from "../support/infra.ts";
import { callEvents, createTestDatabase, start, testConfig, until, waterCall } from "./support.ts";

let messaging: Messaging;
let database: Database;
let drop: () => Promise<void>;

beforeAll(async () => {
  messaging = await connectTestStreams("summarizer-test");
  ({ database, drop } = await createTestDatabase("summarizer"));
});

afterAll(async () => {
  await drop?.();
  await messaging?.drain();
});

const durable = () => uniqueCallId("sum");

async function ticketOf(callId: string): Promise<Ticket | undefined> {
  const [row] = await database.db.select().from(tickets).where(eq(tickets.callId, callId));
  return row;
}

async function countOf(table: typeof utterances | typeof outbox | typeof tickets, callId: string) {
  const [row] = await database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(table)
    .where(eq(table.callId, callId));
  return row?.n ?? 0;
}

describe("summarizer service", () => {
  it("turns a call's events into one ticket with its outbox row, however often they are redelivered", async () => {
    const name = durable();
    const summarizer = await start(testConfig(name), database, messaging);
    const callId = uniqueCallId("water");
    const events = callEvents(messaging, callId, waterCall);
    try {
      await events.all();
      const ticket = await until("the ticket", () => ticketOf(callId));
      expect(ticket).toMatchObject({
        category: "water",
        subcategory: "main-break",
        urgency: "high",
        status: "new",
        incomplete: false,
        agentId: "agent-7",
        startedAt: new Date("2026-03-02T09:15:00.000Z"),
        durationMs: 60_000,
        asrModel: "asr-en-telephony",
        asrModelVersion: "3",
        language: "en",
        dialect: null,
        emotionMix: null,
      });
      expect(ticket?.redactedText).toContain("caller: [PHONE]");
      expect(ticket?.redactedText).not.toContain("four one five");
      expect(ticket?.actionItems.map((a) => a.text)).toEqual(["A crew will be there within two hours"]);

      // The same events again (a redelivery after a lost ack publishes no new message id here, so
      // publish copies): nothing is duplicated.
      await events.all();
      await until("the copies consumed", async () => {
        const info = await messaging.jsm.consumers.info("RESULTS", `${name}-results`);
        return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
      });
      expect(await countOf(utterances, callId)).toBe(waterCall.length);
      expect(await countOf(tickets, callId)).toBe(1);
      expect(await countOf(outbox, callId)).toBe(1);
      const [message] = await database.db.select().from(outbox).where(eq(outbox.callId, callId));
      expect(message?.payload).toMatchObject({ callId, category: "water", status: "new" });
      expect(JSON.stringify(message?.payload)).not.toMatch(/four one five|\+1415/);
    } finally {
      await summarizer.stop();
    }
  });

  it("finishes a call across a restart without a second utterance or ticket", async () => {
    const name = durable();
    const callId = uniqueCallId("restart");
    const events = callEvents(messaging, callId, waterCall);
    const first = await start(testConfig(name), database, messaging);
    await events.started();
    for (const line of waterCall.slice(0, 3)) await events.utterance(line);
    await until("three utterances stored", async () =>
      (await countOf(utterances, callId)) === 3 ? true : undefined,
    );
    await first.stop();

    // Published while no summarizer runs; the durable consumer keeps them.
    for (const line of waterCall.slice(2)) await events.utterance(line);
    await events.legDone("caller");
    await events.legDone("agent");
    await events.ended();

    const second = await start(testConfig(name), database, messaging);
    try {
      const ticket = await until("the ticket", () => ticketOf(callId));
      expect(ticket?.incomplete).toBe(false);
      expect(await countOf(utterances, callId)).toBe(waterCall.length);
      expect(await countOf(tickets, callId)).toBe(1);
      expect(await countOf(outbox, callId)).toBe(1);
    } finally {
      await second.stop();
    }
  });

  it("writes an incomplete ticket when a leg never finishes within the timeout", async () => {
    const name = durable();
    const config = testConfig(name);
    config.timeouts.incompleteAfterMs = 1_000;
    const summarizer = await start(config, database, messaging);
    const callId = uniqueCallId("stuck");
    const events = callEvents(messaging, callId, waterCall);
    try {
      await events.started();
      for (const line of waterCall) await events.utterance(line);
      await events.legDone("caller");
      // The agent leg's marker never comes.
      await events.ended();
      const ticket = await until("the incomplete ticket", () => ticketOf(callId));
      expect(ticket).toMatchObject({
        incomplete: true,
        incompleteReason: "not every leg finished within 1 s of the call's end",
        category: "water",
      });
      expect(await countOf(outbox, callId)).toBe(1);
    } finally {
      await summarizer.stop();
    }
  });

  it("parks a malformed event with its reason and goes on with the stream", async () => {
    const name = durable();
    const summarizer = await start(testConfig(name), database, messaging);
    const callId = uniqueCallId("bad");
    const events = callEvents(messaging, callId, waterCall);
    try {
      await events.started();
      const bad = await messaging.js.publish(
        subjects.utterance(callId, "caller"),
        new TextEncoder().encode('{"callId":'),
      );
      const wrongShape = await messaging.js.publish(
        subjects.legDone(callId, "agent"),
        new TextEncoder().encode(JSON.stringify({ callId, leg: "agent", utterances: "three" })),
      );
      for (const line of waterCall) await events.utterance(line);
      await events.legDone("caller");
      await events.legDone("agent");
      await events.ended();

      await until("the ticket after the bad events", () => ticketOf(callId));
      const parked = await database.db
        .select({
          seq: parkedEvents.streamSeq,
          subject: parkedEvents.subject,
          reason: parkedEvents.reason,
          payload: parkedEvents.payload,
        })
        .from(parkedEvents)
        .where(sql`${parkedEvents.subject} like ${`%.${callId}.%`}`)
        .orderBy(parkedEvents.streamSeq);
      expect(parked).toEqual([
        {
          seq: bad.seq,
          subject: `utterance.${callId}.caller`,
          reason: "utterance: payload is not UTF-8 JSON",
          payload: '{"callId":',
        },
        {
          seq: wrongShape.seq,
          subject: `leg.${callId}.agent.done`,
          reason: "leg.done: utterances Expected number, received string",
          payload: JSON.stringify({ callId, leg: "agent", utterances: "three" }),
        },
      ]);
      const [call] = await database.db.select().from(calls).where(eq(calls.id, callId));
      expect(Object.keys(call?.legsDone ?? {}).sort()).toEqual(["agent", "caller"]);
    } finally {
      await summarizer.stop();
    }
  });
});
