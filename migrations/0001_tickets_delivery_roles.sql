CREATE TYPE "public"."ticket_status" AS ENUM('new', 'assigned', 'resolved');--> statement-breakpoint
CREATE TYPE "public"."ticket_urgency" AS ENUM('low', 'normal', 'high', 'critical');--> statement-breakpoint
CREATE TYPE "public"."webhook_delivery_status" AS ENUM('pending', 'delivered', 'dead');--> statement-breakpoint
CREATE TABLE "parked_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"stream" text NOT NULL,
	"stream_seq" bigint NOT NULL,
	"subject" text NOT NULL,
	"reason" text NOT NULL,
	"payload" text NOT NULL,
	"encoding" text DEFAULT 'utf8' NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"parked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "parked_events_stream_seq_unique" UNIQUE("stream","stream_seq")
);
--> statement-breakpoint
CREATE TABLE "webhook_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"attempted_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"status_code" integer,
	"error" text,
	"delivered" boolean NOT NULL,
	CONSTRAINT "webhook_attempts_delivery_attempt_unique" UNIQUE("delivery_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"outbox_id" bigint NOT NULL,
	"call_id" text NOT NULL,
	"url" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"status" "webhook_delivery_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"dead_at" timestamp with time zone,
	CONSTRAINT "webhook_deliveries_outbox_url_unique" UNIQUE("outbox_id","url")
);
--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "emotion_mix" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "emotion_mix" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "redacted_transcript" SET DATA TYPE jsonb USING jsonb_build_array(jsonb_build_object('leg', 'caller', 'seq', 0, 'startMs', 0, 'endMs', 0, 'text', "redacted_transcript", 'sentiment', 0, 'emotion', null, 'language', null));--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "redacted_transcript" SET DEFAULT '[]'::jsonb;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "legs_done" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "asr_model" text;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "asr_model_version" text;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "last_event_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
UPDATE "tickets" SET "started_at" = "calls"."started_at" FROM "calls" WHERE "calls"."id" = "tickets"."call_id";--> statement-breakpoint
ALTER TABLE "tickets" ALTER COLUMN "started_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "ended_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "duration_ms" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "agent_id" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "subcategory" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "urgency" "ticket_urgency" DEFAULT 'normal' NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "status" "ticket_status" DEFAULT 'new' NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "assignee" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "status_changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "incomplete" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "incomplete_reason" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "language" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "languages" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "dialect_confidence" real;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "emotion_peak" jsonb;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "redacted_text" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "transcript_search" "tsvector" GENERATED ALWAYS AS (to_tsvector('english'::regconfig, "redacted_text")) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "asr_model" text;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "asr_model_version" text;--> statement-breakpoint
ALTER TABLE "utterances" ADD COLUMN "language_confidence" real;--> statement-breakpoint
ALTER TABLE "utterances" ADD COLUMN "dialect_confidence" real;--> statement-breakpoint
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_webhook_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."webhook_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_outbox_id_outbox_id_fk" FOREIGN KEY ("outbox_id") REFERENCES "public"."outbox"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_call_id_calls_id_fk" FOREIGN KEY ("call_id") REFERENCES "public"."calls"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "parked_events_parked_at_idx" ON "parked_events" USING btree ("parked_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_status_next_attempt_idx" ON "webhook_deliveries" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_call_idx" ON "webhook_deliveries" USING btree ("call_id");--> statement-breakpoint
CREATE INDEX "calls_ended_at_idx" ON "calls" USING btree ("ended_at");--> statement-breakpoint
CREATE INDEX "calls_last_event_at_idx" ON "calls" USING btree ("last_event_at");--> statement-breakpoint
CREATE INDEX "tickets_started_at_idx" ON "tickets" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_created_at_idx" ON "tickets" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_category_started_at_idx" ON "tickets" USING btree ("category","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_subcategory_started_at_idx" ON "tickets" USING btree ("subcategory","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_dialect_started_at_idx" ON "tickets" USING btree ("dialect","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_agent_started_at_idx" ON "tickets" USING btree ("agent_id","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_status_started_at_idx" ON "tickets" USING btree ("status","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_sentiment_idx" ON "tickets" USING btree ("sentiment_overall","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_urgency_started_at_idx" ON "tickets" USING btree ("urgency","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_transcript_search_idx" ON "tickets" USING gin ("transcript_search");--> statement-breakpoint
-- Roles. Analysts (the dashboard) read tickets, whose transcript is redacted, never the unredacted
-- utterances or parked events, nor the call's SIP addresses; services that write get every table.
-- Roles belong to the cluster, so a second database (or a concurrent migration) finds them there.
DO $$ BEGIN CREATE ROLE callscribe_analyst NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;--> statement-breakpoint
DO $$ BEGIN CREATE ROLE callscribe_service NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;--> statement-breakpoint
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO callscribe_analyst, callscribe_service;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO callscribe_service;--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO callscribe_service;--> statement-breakpoint
GRANT SELECT ON "tickets", "outbox", "webhook_deliveries", "webhook_attempts" TO callscribe_analyst;--> statement-breakpoint
GRANT SELECT ("id", "agent_id", "source", "started_at", "ended_at", "end_reason", "legs", "legs_done", "asr_model", "asr_model_version", "last_event_at", "created_at", "updated_at") ON "calls" TO callscribe_analyst;--> statement-breakpoint
GRANT UPDATE ("status", "assignee", "status_changed_at", "version", "updated_at") ON "tickets" TO callscribe_analyst;--> statement-breakpoint
GRANT INSERT ON "outbox" TO callscribe_analyst;--> statement-breakpoint
GRANT USAGE ON SEQUENCE "outbox_id_seq" TO callscribe_analyst;--> statement-breakpoint
REVOKE ALL ON "utterances", "parked_events" FROM callscribe_analyst;
