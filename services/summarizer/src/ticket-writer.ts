import { asc, eq } from "drizzle-orm";
import { calls, outbox, tickets, utterances, type Db, type Leg, type NewTicket } from "@callscribe/db";
import { analyzeCall, type AnalysisOptions } from "./analysis/index.ts";
import { legsComplete } from "./call-store.ts";

export type TicketOutcome = "written" | "exists" | "not-ready" | "unknown-call";

export interface WriteRequest {
  callId: string;
  /** Write even though legs are missing (the timeout passed); the ticket is marked incomplete. */
  incompleteReason?: string;
}

export interface WrittenTicket {
  outcome: TicketOutcome;
  /** Time from the call's end to the ticket's commit, when both are known. */
  endToTicketMs?: number;
  incomplete?: boolean;
}

/** The body the hotline's webhook receives for a new ticket: no unredacted text, no SIP addresses. */
export type TicketPayload = Omit<
  NewTicket,
  "redactedText" | "createdAt" | "updatedAt" | "startedAt" | "endedAt"
> & {
  startedAt: string;
  endedAt: string | null;
};

/**
 * Builds a call's ticket and its outbox row in one transaction. The call row is locked first, so a
 * consumer and the timeout sweep racing on one call write one ticket; a second write finds it.
 */
export class TicketWriter {
  constructor(
    private readonly db: Db,
    private readonly analysis: AnalysisOptions,
  ) {}

  async write(request: WriteRequest): Promise<WrittenTicket> {
    return this.db.transaction(async (tx) => {
      const [call] = await tx.select().from(calls).where(eq(calls.id, request.callId)).for("update");
      if (!call) return { outcome: "unknown-call" as const };
      const [existing] = await tx
        .select({ id: tickets.callId })
        .from(tickets)
        .where(eq(tickets.callId, call.id));
      if (existing) return { outcome: "exists" as const };

      const rows = await tx
        .select()
        .from(utterances)
        .where(eq(utterances.callId, call.id))
        .orderBy(asc(utterances.startMs), asc(utterances.leg), asc(utterances.seq));
      const counts: Partial<Record<Leg, number>> = {};
      for (const r of rows) counts[r.leg] = (counts[r.leg] ?? 0) + 1;
      const complete = call.endedAt !== null && legsComplete(call, counts);
      if (!complete && request.incompleteReason === undefined) return { outcome: "not-ready" as const };

      const lastUtteranceEnd = rows.reduce((m, r) => Math.max(m, r.endMs), 0);
      const durationMs =
        call.endedAt !== null
          ? Math.max(lastUtteranceEnd, call.endedAt.getTime() - call.startedAt.getTime())
          : lastUtteranceEnd;
      const analysis = analyzeCall(
        {
          startedAt: call.startedAt,
          durationMs,
          utterances: rows.map((r) => ({
            leg: r.leg,
            seq: r.seq,
            startMs: r.startMs,
            endMs: r.endMs,
            text: r.text,
            language: r.language,
            languageConfidence: r.languageConfidence,
            dialect: r.dialect,
            dialectConfidence: r.dialectConfidence,
            emotion: r.emotion,
          })),
        },
        this.analysis,
      );
      const ticket = {
        callId: call.id,
        startedAt: call.startedAt,
        endedAt: call.endedAt,
        durationMs,
        agentId: call.agentId,
        category: analysis.category,
        subcategory: analysis.subcategory,
        urgency: analysis.urgency,
        incomplete: !complete,
        incompleteReason: complete ? null : (request.incompleteReason ?? null),
        summary: analysis.summary,
        language: analysis.language,
        languages: analysis.languages,
        dialect: analysis.dialect,
        dialectConfidence: analysis.dialectConfidence,
        sentimentOverall: analysis.sentimentOverall,
        sentimentCaller: analysis.sentimentCaller,
        sentimentAgent: analysis.sentimentAgent,
        sentimentTrend: analysis.sentimentTrend,
        emotionMix: analysis.emotionMix,
        emotionPeak: analysis.emotionPeak,
        talkTime: analysis.talk,
        interruptions: analysis.interruptions,
        actionItems: analysis.actionItems,
        keywords: analysis.keywords,
        redactedTranscript: analysis.transcript,
        redactedText: analysis.transcriptText,
        asrModel: call.asrModel,
        asrModelVersion: call.asrModelVersion,
      } satisfies NewTicket;
      const inserted = await tx
        .insert(tickets)
        .values(ticket)
        .onConflictDoNothing()
        .returning({ createdAt: tickets.createdAt, version: tickets.version });
      if (inserted.length === 0) return { outcome: "exists" as const };
      const { redactedText: _text, ...rest } = ticket;
      const payload: TicketPayload = {
        ...rest,
        status: "new",
        version: inserted[0]!.version,
        startedAt: call.startedAt.toISOString(),
        endedAt: call.endedAt?.toISOString() ?? null,
      };
      await tx
        .insert(outbox)
        .values({
          callId: call.id,
          kind: "ticket.created",
          ticketVersion: inserted[0]!.version,
          payload: payload as unknown as Record<string, unknown>,
        })
        .onConflictDoNothing();
      return {
        outcome: "written" as const,
        incomplete: !complete,
        endToTicketMs: call.endedAt !== null ? Date.now() - call.endedAt.getTime() : undefined,
      };
    });
  }
}
