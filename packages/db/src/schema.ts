import { relations, sql, type SQL } from "drizzle-orm";
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  real,
  text,
  timestamp,
  unique,
  type PgColumn,
} from "drizzle-orm/pg-core";

export const callLegEnum = pgEnum("call_leg", ["caller", "agent"]);
export const callSourceEnum = pgEnum("call_source", ["sip", "siprec", "file", "grpc"]);
export const outboxKindEnum = pgEnum("outbox_kind", ["ticket.created", "ticket.updated"]);
export const outboxStatusEnum = pgEnum("outbox_status", ["pending", "delivered", "failed"]);

export type Leg = (typeof callLegEnum.enumValues)[number];
export type CallSource = (typeof callSourceEnum.enumValues)[number];
export type OutboxKind = (typeof outboxKindEnum.enumValues)[number];
export type OutboxStatus = (typeof outboxStatusEnum.enumValues)[number];

export interface Participant {
  leg: Leg;
  name?: string;
  aor?: string;
}

export interface RecognizedWord {
  word: string;
  startMs: number;
  endMs: number;
  confidence: number;
}

export interface UtteranceEmotion {
  label: string;
  scores: Record<string, number>;
  arousal: number;
  valence: number;
}

export interface TalkTime {
  callerMs: number;
  agentMs: number;
  silenceMs: number;
  overlapMs: number;
}

/** Sentiment per quarter of the call, first to last. */
export type SentimentTrend = [number, number, number, number];

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/**
 * The full-text document of an utterance. Searches must use this same expression, or Postgres
 * cannot use the GIN index built on it.
 */
export function transcriptVector(textColumn: PgColumn): SQL {
  return sql`to_tsvector('english', ${textColumn})`;
}

export const calls = pgTable(
  "calls",
  {
    id: text("id").primaryKey(),
    sipCallId: text("sip_call_id"),
    fromUri: text("from_uri"),
    toUri: text("to_uri"),
    agentId: text("agent_id"),
    participants: jsonb("participants").$type<Participant[]>().notNull().default([]),
    source: callSourceEnum("source").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    endReason: text("end_reason"),
    legs: jsonb("legs").$type<Leg[]>().notNull().default([]),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("calls_started_at_idx").on(t.startedAt)],
);

export const utterances = pgTable(
  "utterances",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    callId: text("call_id")
      .notNull()
      .references(() => calls.id, { onDelete: "cascade" }),
    leg: callLegEnum("leg").notNull(),
    seq: integer("seq").notNull(),
    startMs: integer("start_ms").notNull(),
    endMs: integer("end_ms").notNull(),
    text: text("text").notNull(),
    words: jsonb("words").$type<RecognizedWord[]>().notNull().default([]),
    confidence: real("confidence").notNull(),
    language: text("language"),
    dialect: text("dialect"),
    emotion: jsonb("emotion").$type<UtteranceEmotion>(),
    createdAt: createdAt(),
  },
  (t) => [
    // Redelivered results carry the same (call, leg, seq) and must not duplicate an utterance.
    unique("utterances_call_leg_seq_unique").on(t.callId, t.leg, t.seq),
    index("utterances_text_search_idx").using("gin", transcriptVector(t.text)),
  ],
);

export const tickets = pgTable("tickets", {
  callId: text("call_id")
    .primaryKey()
    .references(() => calls.id, { onDelete: "cascade" }),
  category: text("category").notNull(),
  summary: text("summary").notNull(),
  dialect: text("dialect"),
  sentimentOverall: real("sentiment_overall").notNull(),
  sentimentCaller: real("sentiment_caller"),
  sentimentAgent: real("sentiment_agent"),
  sentimentTrend: jsonb("sentiment_trend").$type<SentimentTrend>().notNull(),
  emotionMix: jsonb("emotion_mix").$type<Record<string, number>>().notNull().default({}),
  talkTime: jsonb("talk_time").$type<TalkTime>().notNull(),
  interruptions: integer("interruptions").notNull().default(0),
  actionItems: jsonb("action_items").$type<string[]>().notNull().default([]),
  keywords: jsonb("keywords").$type<string[]>().notNull().default([]),
  redactedTranscript: text("redacted_transcript").notNull(),
  version: integer("version").notNull().default(1),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    callId: text("call_id")
      .notNull()
      .references(() => calls.id, { onDelete: "cascade" }),
    kind: outboxKindEnum("kind").notNull(),
    /** The `tickets.version` this message announces. */
    ticketVersion: integer("ticket_version").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: outboxStatusEnum("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  },
  (t) => [
    // Re-writing the same ticket version (a redelivered result) must not queue a second webhook.
    unique("outbox_call_kind_version_unique").on(t.callId, t.kind, t.ticketVersion),
    index("outbox_status_next_attempt_idx").on(t.status, t.nextAttemptAt),
  ],
);

export const callsRelations = relations(calls, ({ many, one }) => ({
  utterances: many(utterances),
  ticket: one(tickets),
  outbox: many(outbox),
}));

export const utterancesRelations = relations(utterances, ({ one }) => ({
  call: one(calls, { fields: [utterances.callId], references: [calls.id] }),
}));

export const ticketsRelations = relations(tickets, ({ one }) => ({
  call: one(calls, { fields: [tickets.callId], references: [calls.id] }),
}));

export const outboxRelations = relations(outbox, ({ one }) => ({
  call: one(calls, { fields: [outbox.callId], references: [calls.id] }),
}));

export type Call = typeof calls.$inferSelect;
export type NewCall = typeof calls.$inferInsert;
export type Utterance = typeof utterances.$inferSelect;
export type NewUtterance = typeof utterances.$inferInsert;
export type Ticket = typeof tickets.$inferSelect;
export type NewTicket = typeof tickets.$inferInsert;
export type OutboxMessage = typeof outbox.$inferSelect;
export type NewOutboxMessage = typeof outbox.$inferInsert;
