import { and, asc, eq, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import {
  calls,
  parkedEvents,
  tickets,
  utterances,
  type Call,
  type Db,
  type Leg,
  type NewParkedEvent,
} from "@callscribe/db";
import type { CallEnded, CallStarted, LegDone, UtteranceResult } from "@callscribe/messaging";

/** A foreign key failed: the call an event belongs to has no row yet (its call.started is still on the way). */
const FOREIGN_KEY_VIOLATION = "23503";

function sqlState(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ("code" in e && typeof e.code === "string") return e.code;
  }
  return undefined;
}

/** Fields the language service adds to utterance events; read when present. */
type UtteranceWithConfidence = UtteranceResult & {
  languageConfidence?: number | null;
  dialectConfidence?: number | null;
};

/** What the summarizer keeps of a call while it is in progress, in Postgres. Every write is idempotent. */
export class CallStore {
  constructor(private readonly db: Db) {}

  async recordCallStarted(event: CallStarted): Promise<void> {
    await this.db
      .insert(calls)
      .values({
        id: event.callId,
        sipCallId: event.sipCallId,
        fromUri: event.from,
        toUri: event.to,
        agentId: event.agentId,
        participants: event.participants,
        source: event.source,
        startedAt: new Date(event.startedAt),
        legs: event.legs.map((l) => l.leg),
        metadata: event.metadata,
      })
      .onConflictDoNothing();
  }

  /** "unknown" when the call is not known yet; "complete" when every leg has its done marker too. */
  async recordCallEnded(event: CallEnded): Promise<Progress> {
    const rows = await this.db
      .update(calls)
      .set({ endedAt: new Date(event.endedAt), endReason: event.reason, lastEventAt: sql`now()` })
      .where(eq(calls.id, event.callId))
      .returning({ legs: calls.legs, legsDone: calls.legsDone, endedAt: calls.endedAt });
    return progressOf(rows[0]);
  }

  /**
   * "unknown" when the call is not known yet, else whether it has ended (only then can this
   * utterance complete it). A redelivered utterance is a no-op.
   */
  async recordUtterance(event: UtteranceWithConfidence): Promise<"unknown" | "ended" | "in-progress"> {
    const insert = this.db
      .insert(utterances)
      .values({
        callId: event.callId,
        leg: event.leg,
        seq: event.seq,
        startMs: Math.round(event.startMs),
        endMs: Math.round(event.endMs),
        text: event.text,
        words: event.words,
        confidence: event.confidence,
        language: event.language === "" ? null : event.language,
        languageConfidence: event.languageConfidence ?? null,
        dialect: event.dialect === "" ? null : event.dialect,
        dialectConfidence: event.dialectConfidence ?? null,
        emotion: event.emotion,
      })
      .onConflictDoNothing();
    try {
      // One statement, one round trip: the insert, and the call's last-event time.
      const result = await this.db.execute<{ ended: boolean }>(sql`
        with stored as ${insert}
        update ${calls} set last_event_at = now() where ${calls.id} = ${event.callId}
        returning ${calls.endedAt} is not null as ended`);
      const [row] = (result as unknown as { rows: { ended: boolean }[] }).rows;
      if (!row) return "unknown";
      return row.ended ? "ended" : "in-progress";
    } catch (err) {
      if (sqlState(err) === FOREIGN_KEY_VIOLATION) return "unknown";
      throw err;
    }
  }

  /** "unknown" when the call is not known yet; "complete" when it has ended and every leg is done. */
  async recordLegDone(event: LegDone): Promise<Progress> {
    const done = { [event.leg]: { utterances: event.utterances, audioMs: event.audioMs } };
    const rows = await this.db
      .update(calls)
      .set({
        legsDone: sql`${calls.legsDone} || ${JSON.stringify(done)}::jsonb`,
        asrModel: event.model?.name ?? sql`${calls.asrModel}`,
        asrModelVersion: event.model?.version ?? sql`${calls.asrModelVersion}`,
        lastEventAt: sql`now()`,
      })
      .where(eq(calls.id, event.callId))
      .returning({ legs: calls.legs, legsDone: calls.legsDone, endedAt: calls.endedAt });
    return progressOf(rows[0]);
  }

  async park(event: NewParkedEvent): Promise<void> {
    await this.db.insert(parkedEvents).values(event).onConflictDoNothing();
  }

  /**
   * Whether the call has ended, every leg it announced is done, and every utterance the legs'
   * markers counted is stored, with no ticket yet.
   */
  async isReady(callId: string): Promise<boolean> {
    const [call] = await this.db
      .select({ call: calls, ticket: tickets.callId })
      .from(calls)
      .leftJoin(tickets, eq(tickets.callId, calls.id))
      .where(eq(calls.id, callId));
    if (!call || call.ticket !== null || call.call.endedAt === null) return false;
    const counts = await this.utteranceCounts(callId);
    return legsComplete(call.call, counts);
  }

  async utteranceCounts(callId: string): Promise<Partial<Record<Leg, number>>> {
    const rows = await this.db
      .select({ leg: utterances.leg, n: sql<number>`count(*)::int` })
      .from(utterances)
      .where(eq(utterances.callId, callId))
      .groupBy(utterances.leg);
    return Object.fromEntries(rows.map((r) => [r.leg, r.n]));
  }

  /** Calls without a ticket whose last event (their end, or any when they never ended) came before the given times. */
  async overdueCalls(
    endedBefore: Date,
    silentSince: Date,
    limit = 100,
  ): Promise<{ id: string; ended: boolean }[]> {
    const rows = await this.db
      .select({ id: calls.id, ended: sql<boolean>`${calls.endedAt} is not null` })
      .from(calls)
      .leftJoin(tickets, eq(tickets.callId, calls.id))
      .where(
        and(
          isNull(tickets.callId),
          // Measured on this side's clock from the last event received, not the call's own times
          // (a replayed or delayed call may have ended long ago).
          or(
            and(isNotNull(calls.endedAt), lt(calls.lastEventAt, endedBefore)),
            and(isNull(calls.endedAt), lt(calls.lastEventAt, silentSince)),
          ),
        ),
      )
      .orderBy(asc(calls.lastEventAt))
      .limit(limit);
    return rows;
  }

  /** Ended calls without a ticket (a restart may have stopped between the last event and the ticket). */
  async endedCallsWithoutTicket(limit = 100): Promise<string[]> {
    const rows = await this.db
      .select({ id: calls.id })
      .from(calls)
      .leftJoin(tickets, eq(tickets.callId, calls.id))
      .where(and(isNull(tickets.callId), sql`${calls.endedAt} is not null`))
      .orderBy(asc(calls.endedAt))
      .limit(limit);
    return rows.map((r) => r.id);
  }
}

export type Progress = "unknown" | "in-progress" | "complete";

/** Whether a call's row says it has ended with every leg's done marker (utterance counts aside). */
function progressOf(call: Pick<Call, "legs" | "legsDone" | "endedAt"> | undefined): Progress {
  if (!call) return "unknown";
  const legs = call.legs.length > 0 ? call.legs : (Object.keys(call.legsDone) as Leg[]);
  const done = legs.length > 0 && legs.every((leg) => call.legsDone[leg] !== undefined);
  return call.endedAt !== null && done ? "complete" : "in-progress";
}

/** Every announced leg has its done marker and all the utterances the marker counted. */
export function legsComplete(
  call: Pick<Call, "legs" | "legsDone">,
  counts: Partial<Record<Leg, number>>,
): boolean {
  const legs = call.legs.length > 0 ? call.legs : (Object.keys(call.legsDone) as Leg[]);
  if (legs.length === 0) return false;
  return legs.every((leg) => {
    const done = call.legsDone[leg];
    return done !== undefined && (counts[leg] ?? 0) >= done.utterances;
  });
}
