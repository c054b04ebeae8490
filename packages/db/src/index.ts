export {
  calls,
  utterances,
  tickets,
  outbox,
  callLegEnum,
  callSourceEnum,
  outboxKindEnum,
  outboxStatusEnum,
} from "./schema.ts";
export type {
  Call,
  NewCall,
  Utterance,
  NewUtterance,
  Ticket,
  NewTicket,
  OutboxMessage,
  NewOutboxMessage,
  Leg,
  CallSource,
  OutboxKind,
  OutboxStatus,
  Participant,
  RecognizedWord,
  UtteranceEmotion,
  TalkTime,
  SentimentTrend,
} from "./schema.ts";
export { utteranceMatches } from "./search.ts";
export { createDatabase } from "./client.ts";
export type { Database, DatabaseKind, DatabaseLogger, DatabaseOptions, Db, Schema } from "./client.ts";
export { migrateDatabase } from "./migrate.ts";
export { DatabaseConfigError, DatabaseUnavailableError } from "./errors.ts";
