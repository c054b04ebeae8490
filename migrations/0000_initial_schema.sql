CREATE TYPE "public"."call_source" AS ENUM('sip', 'siprec', 'file', 'grpc');--> statement-breakpoint
CREATE TYPE "public"."call_leg" AS ENUM('caller', 'agent');--> statement-breakpoint
CREATE TYPE "public"."outbox_kind" AS ENUM('ticket.created', 'ticket.updated');--> statement-breakpoint
CREATE TYPE "public"."outbox_status" AS ENUM('pending', 'delivered', 'failed');--> statement-breakpoint
CREATE TABLE "calls" (
	"id" text PRIMARY KEY NOT NULL,
	"sip_call_id" text,
	"from_uri" text,
	"to_uri" text,
	"agent_id" text,
	"participants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"source" "call_source" NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"legs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"call_id" text NOT NULL,
	"kind" "outbox_kind" NOT NULL,
	"ticket_version" integer NOT NULL,
	"payload" jsonb NOT NULL,
	"status" "outbox_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "outbox_call_kind_version_unique" UNIQUE("call_id","kind","ticket_version")
);
--> statement-breakpoint
CREATE TABLE "tickets" (
	"call_id" text PRIMARY KEY NOT NULL,
	"category" text NOT NULL,
	"summary" text NOT NULL,
	"dialect" text,
	"sentiment_overall" real NOT NULL,
	"sentiment_caller" real,
	"sentiment_agent" real,
	"sentiment_trend" jsonb NOT NULL,
	"emotion_mix" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"talk_time" jsonb NOT NULL,
	"interruptions" integer DEFAULT 0 NOT NULL,
	"action_items" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"keywords" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"redacted_transcript" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "utterances" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"call_id" text NOT NULL,
	"leg" "call_leg" NOT NULL,
	"seq" integer NOT NULL,
	"start_ms" integer NOT NULL,
	"end_ms" integer NOT NULL,
	"text" text NOT NULL,
	"words" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"confidence" real NOT NULL,
	"language" text,
	"dialect" text,
	"emotion" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "utterances_call_leg_seq_unique" UNIQUE("call_id","leg","seq")
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_call_id_calls_id_fk" FOREIGN KEY ("call_id") REFERENCES "public"."calls"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_call_id_calls_id_fk" FOREIGN KEY ("call_id") REFERENCES "public"."calls"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "utterances" ADD CONSTRAINT "utterances_call_id_calls_id_fk" FOREIGN KEY ("call_id") REFERENCES "public"."calls"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "calls_started_at_idx" ON "calls" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "outbox_status_next_attempt_idx" ON "outbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "utterances_text_search_idx" ON "utterances" USING gin (to_tsvector('english', "text"));