import { relations, sql, type SQL } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  customType,
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
export const ticketStatusEnum = pgEnum("ticket_status", ["new", "assigned", "resolved"]);
export const ticketUrgencyEnum = pgEnum("ticket_urgency", ["low", "normal", "high", "critical"]);
export const webhookDeliveryStatusEnum = pgEnum("webhook_delivery_status", ["pending", "delivered", "dead"]);

export type Leg = (typeof callLegEnum.enumValues)[number];
export type CallSource = (typeof callSourceEnum.enumValues)[number];
export type OutboxKind = (typeof outboxKindEnum.enumValues)[number];
export type OutboxStatus = (typeof outboxStatusEnum.enumValues)[number];
export type TicketStatus = (typeof ticketStatusEnum.enumValues)[number];
export type TicketUrgency = (typeof ticketUrgencyEnum.enumValues)[number];
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatusEnum.enumValues)[number];

export interface LegCompletion {
  utterances: number;
  audioMs: number;
}

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

/** Who spoke how much. Times in ms of the call; words per minute of each party's own talk time. */
export interface TalkFigures {
  callerMs: number;
  agentMs: number;
  /** Time of the call in which neither party spoke. */
  nonTalkMs: number;
  /** Time in which both spoke at once. */
  overlapMs: number;
  /** One party started speaking while the other was speaking and the other stopped soon after. */
  interruptionsByCaller: number;
  interruptionsByAgent: number;
  callerWordsPerMinute: number;
  agentWordsPerMinute: number;
}

/** @deprecated the name of TalkFigures before it held interruptions and pace. */
export type TalkTime = TalkFigures;

/** A follow-up the agent promised, with the due time when one was said. */
export interface ActionItem {
  /** The promise as said (redacted). */
  text: string;
  leg: Leg;
  /** Where in the call it was said. */
  atMs: number;
  /** The words that said when ("tomorrow morning", "by Friday"), or null. */
  dueText: string | null;
  /** That time resolved against the call's start (ISO 8601, UTC), or null when none was said. */
  dueAt: string | null;
}

/** One utterance of the redacted transcript, with what the ticket page draws from it. */
export interface TranscriptLine {
  leg: Leg;
  seq: number;
  startMs: number;
  endMs: number;
  text: string;
  /** Text sentiment, -1 (negative) to 1 (positive). */
  sentiment: number;
  /** Emotion label of the utterance when the emotion service gave one. */
  emotion: string | null;
  language: string | null;
}

/** A language heard on the call and its share of the utterances. */
export interface LanguageShare {
  language: string;
  share: number;
  /** Mean language-ID confidence over its utterances, or null when the recogniser gave none. */
  confidence: number | null;
}

/** The strongest emotion of the call. */
export interface EmotionPeak {
  label: string;
  leg: Leg;
  startMs: number;
  score: number;
  arousal: number;
}

/** Sentiment per quarter of the call, first to last. */
export type SentimentTrend = [number, number, number, number];

/** Postgres `tsvector`, which drizzle has no column builder for. */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

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
    /** Legs whose recognition finished, with the utterance count their leg-done marker announced. */
    legsDone: jsonb("legs_done").$type<Partial<Record<Leg, LegCompletion>>>().notNull().default({}),
    /** The ASR model that recognised the call, when its leg-done markers named one. */
    asrModel: text("asr_model"),
    asrModelVersion: text("asr_model_version"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    /** When the last event of the call arrived; a call silent for too long gets an incomplete ticket. */
    lastEventAt: timestamp("last_event_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("calls_started_at_idx").on(t.startedAt),
    index("calls_ended_at_idx").on(t.endedAt),
    index("calls_last_event_at_idx").on(t.lastEventAt),
  ],
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
    languageConfidence: real("language_confidence"),
    dialect: text("dialect"),
    dialectConfidence: real("dialect_confidence"),
    emotion: jsonb("emotion").$type<UtteranceEmotion>(),
    createdAt: createdAt(),
  },
  (t) => [
    // Redelivered results carry the same (call, leg, seq) and must not duplicate an utterance.
    unique("utterances_call_leg_seq_unique").on(t.callId, t.leg, t.seq),
    index("utterances_text_search_idx").using("gin", transcriptVector(t.text)),
  ],
);

/**
 * One ticket per call, written with its outbox row in one transaction. Analysts read tickets (with
 * the redacted transcript), never `utterances`: see the roles in migrations/.
 */
export const tickets = pgTable(
  "tickets",
  {
    callId: text("call_id")
      .primaryKey()
      .references(() => calls.id, { onDelete: "cascade" }),
    /** The call's start, copied here so the dashboard filters tickets without a join. */
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    durationMs: integer("duration_ms").notNull().default(0),
    agentId: text("agent_id"),
    category: text("category").notNull(),
    subcategory: text("subcategory"),
    urgency: ticketUrgencyEnum("urgency").notNull().default("normal"),
    status: ticketStatusEnum("status").notNull().default("new"),
    assignee: text("assignee"),
    statusChangedAt: timestamp("status_changed_at", { withTimezone: true }),
    /** True when the ticket was built after a timeout, without every leg's results. */
    incomplete: boolean("incomplete").notNull().default(false),
    incompleteReason: text("incomplete_reason"),
    summary: text("summary").notNull(),
    /** Most frequent language of the call's utterances; null when the recogniser tagged none. */
    language: text("language"),
    languages: jsonb("languages").$type<LanguageShare[]>().notNull().default([]),
    dialect: text("dialect"),
    dialectConfidence: real("dialect_confidence"),
    sentimentOverall: real("sentiment_overall").notNull(),
    sentimentCaller: real("sentiment_caller"),
    sentimentAgent: real("sentiment_agent"),
    sentimentTrend: jsonb("sentiment_trend").$type<SentimentTrend>().notNull(),
    /** Share of the call's utterances per emotion label; null until an emotion service labels them. */
    emotionMix: jsonb("emotion_mix").$type<Record<string, number>>(),
    emotionPeak: jsonb("emotion_peak").$type<EmotionPeak>(),
    talkTime: jsonb("talk_time").$type<TalkFigures>().notNull(),
    interruptions: integer("interruptions").notNull().default(0),
    actionItems: jsonb("action_items").$type<ActionItem[]>().notNull().default([]),
    keywords: jsonb("keywords").$type<string[]>().notNull().default([]),
    /** The transcript by party with PII redacted as spoken; what analysts see. */
    redactedTranscript: jsonb("redacted_transcript").$type<TranscriptLine[]>().notNull().default([]),
    /** The redacted transcript as plain text ("caller: ...\nagent: ..."), the source of `transcriptSearch`. */
    redactedText: text("redacted_text").notNull().default(""),
    transcriptSearch: tsvector("transcript_search")
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english'::regconfig, "redacted_text")`),
    asrModel: text("asr_model"),
    asrModelVersion: text("asr_model_version"),
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("tickets_started_at_idx").on(t.startedAt.desc()),
    index("tickets_created_at_idx").on(t.createdAt.desc()),
    index("tickets_category_started_at_idx").on(t.category, t.startedAt.desc()),
    index("tickets_subcategory_started_at_idx").on(t.subcategory, t.startedAt.desc()),
    index("tickets_dialect_started_at_idx").on(t.dialect, t.startedAt.desc()),
    index("tickets_agent_started_at_idx").on(t.agentId, t.startedAt.desc()),
    index("tickets_status_started_at_idx").on(t.status, t.startedAt.desc()),
    index("tickets_sentiment_idx").on(t.sentimentOverall, t.startedAt.desc()),
    index("tickets_urgency_started_at_idx").on(t.urgency, t.startedAt.desc()),
    index("tickets_transcript_search_idx").using("gin", t.transcriptSearch),
    // Every column the dashboard's charts read or filter on besides the search, in the order its lists
    // sort by: charts over a date range are answered from this index without reading the wide rows.
    index("tickets_dashboard_idx").on(
      t.startedAt.desc(),
      t.callId.desc(),
      t.category,
      t.dialect,
      t.agentId,
      t.status,
      t.sentimentOverall,
      t.sentimentCaller,
      t.sentimentAgent,
      t.emotionMix,
      t.keywords,
    ),
  ],
);

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

/** One delivery of one outbox message to one webhook URL, retried until delivered or dead. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    outboxId: bigint("outbox_id", { mode: "number" })
      .notNull()
      .references(() => outbox.id, { onDelete: "cascade" }),
    callId: text("call_id")
      .notNull()
      .references(() => calls.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** Sent as the Idempotency-Key header on every attempt, so the receiver can drop repeats. */
    idempotencyKey: text("idempotency_key").notNull(),
    status: webhookDeliveryStatusEnum("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    deadAt: timestamp("dead_at", { withTimezone: true }),
  },
  (t) => [
    unique("webhook_deliveries_outbox_url_unique").on(t.outboxId, t.url),
    index("webhook_deliveries_status_next_attempt_idx").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_call_idx").on(t.callId),
  ],
);

/** Every attempt of a webhook delivery, successful or not. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: bigint("delivery_id", { mode: "number" })
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull(),
    durationMs: integer("duration_ms").notNull(),
    /** HTTP status of the answer; null when none came (timeout, refused connection). */
    statusCode: integer("status_code"),
    error: text("error"),
    delivered: boolean("delivered").notNull(),
  },
  (t) => [unique("webhook_attempts_delivery_attempt_unique").on(t.deliveryId, t.attempt)],
);

/** A JetStream message the summarizer could not use, kept with the reason instead of blocking the stream. */
export const parkedEvents = pgTable(
  "parked_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    stream: text("stream").notNull(),
    streamSeq: bigint("stream_seq", { mode: "number" }).notNull(),
    subject: text("subject").notNull(),
    reason: text("reason").notNull(),
    /** The message as received (UTF-8 where it decodes, else base64 with `encoding` = base64). */
    payload: text("payload").notNull(),
    encoding: text("encoding").notNull().default("utf8"),
    headers: jsonb("headers").$type<Record<string, string[]>>().notNull().default({}),
    parkedAt: timestamp("parked_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // A redelivered bad message is parked once.
    unique("parked_events_stream_seq_unique").on(t.stream, t.streamSeq),
    index("parked_events_parked_at_idx").on(t.parkedAt),
  ],
);

export const callsRelations = relations(calls, ({ many, one }) => ({
  utterances: many(utterances),
  ticket: one(tickets),
  outbox: many(outbox),
  webhookDeliveries: many(webhookDeliveries),
}));

export const utterancesRelations = relations(utterances, ({ one }) => ({
  call: one(calls, { fields: [utterances.callId], references: [calls.id] }),
}));

export const ticketsRelations = relations(tickets, ({ one }) => ({
  call: one(calls, { fields: [tickets.callId], references: [calls.id] }),
}));

export const outboxRelations = relations(outbox, ({ one, many }) => ({
  call: one(calls, { fields: [outbox.callId], references: [calls.id] }),
  deliveries: many(webhookDeliveries),
}));

export const webhookDeliveriesRelations = relations(webhookDeliveries, ({ one, many }) => ({
  call: one(calls, { fields: [webhookDeliveries.callId], references: [calls.id] }),
  outbox: one(outbox, { fields: [webhookDeliveries.outboxId], references: [outbox.id] }),
  attempts: many(webhookAttempts),
}));

export const webhookAttemptsRelations = relations(webhookAttempts, ({ one }) => ({
  delivery: one(webhookDeliveries, {
    fields: [webhookAttempts.deliveryId],
    references: [webhookDeliveries.id],
  }),
}));

export type Call = typeof calls.$inferSelect;
export type NewCall = typeof calls.$inferInsert;
export type Utterance = typeof utterances.$inferSelect;
export type NewUtterance = typeof utterances.$inferInsert;
export type Ticket = typeof tickets.$inferSelect;
export type NewTicket = typeof tickets.$inferInsert;
export type OutboxMessage = typeof outbox.$inferSelect;
export type NewOutboxMessage = typeof outbox.$inferInsert;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;
export type WebhookAttempt = typeof webhookAttempts.$inferSelect;
export type NewWebhookAttempt = typeof webhookAttempts.$inferInsert;
export type ParkedEvent = typeof parkedEvents.$inferSelect;
export type NewParkedEvent = typeof parkedEvents.$inferInsert;
