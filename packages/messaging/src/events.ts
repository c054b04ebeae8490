import { z } from "zod";

const leg = z.enum(["caller", "agent"]);

export const CallStarted = z.object({
  callId: z.string(),
  startedAt: z.string().datetime(),
  source: z.enum(["sip", "siprec", "file", "grpc"]),
  sipCallId: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  agentId: z.string().optional(),
  participants: z
    .array(z.object({ leg, name: z.string().optional(), aor: z.string().optional() }))
    .default([]),
  legs: z.array(
    z.object({ leg, sampleRate: z.union([z.literal(8000), z.literal(16000)]), codec: z.string() }),
  ),
  metadata: z.record(z.string()).default({}),
});

export const CallEnded = z.object({
  callId: z.string(),
  endedAt: z.string().datetime(),
  reason: z.enum(["bye", "cancel", "media-timeout", "error", "shutdown", "end-of-file"]),
  /** Last frame sequence published per leg, so consumers know when they have it all. */
  lastSeq: z.record(z.number().int()).default({}),
  stats: z.record(z.number()).default({}),
});

export const DtmfEvent = z.object({
  callId: z.string(),
  leg,
  digit: z.string().regex(/^[0-9*#A-D]$/),
  atMs: z.number().int(),
  durationMs: z.number().int(),
});

const word = z.object({ word: z.string(), startMs: z.number(), endMs: z.number(), confidence: z.number() });

export const UtteranceResult = z.object({
  callId: z.string(),
  leg,
  seq: z.number().int().nonnegative(),
  utteranceId: z.string(),
  text: z.string(),
  words: z.array(word),
  startMs: z.number(),
  endMs: z.number(),
  confidence: z.number(),
  language: z.string(),
  dialect: z.string().default(""),
  /** Probability of `language` from language identification over the leg so far; absent without it. */
  languageConfidence: z.number().min(0).max(1).optional(),
  emotion: z
    .object({ label: z.string(), scores: z.record(z.number()), arousal: z.number(), valence: z.number() })
    .nullable()
    .default(null),
});

export const LegDone = z.object({
  callId: z.string(),
  leg,
  utterances: z.number().int(),
  audioMs: z.number(),
  /** The acoustic model that recognised the leg; the ticket records it. */
  model: z.object({ name: z.string(), version: z.string() }).optional(),
});

export const PartialResult = z.object({
  callId: z.string(),
  leg,
  utteranceId: z.string(),
  text: z.string(),
  startMs: z.number(),
  endMs: z.number(),
});

export type CallStarted = z.infer<typeof CallStarted>;
export type CallEnded = z.infer<typeof CallEnded>;
export type DtmfEvent = z.infer<typeof DtmfEvent>;
export type UtteranceResult = z.infer<typeof UtteranceResult>;
export type LegDone = z.infer<typeof LegDone>;
export type PartialResult = z.infer<typeof PartialResult>;

export class MessageFormatError extends Error {
  override readonly name = "MessageFormatError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeEvent<T>(schema: z.ZodType<T>, value: T): Uint8Array {
  return encoder.encode(JSON.stringify(schema.parse(value)));
}

/** Parses and validates a JSON event; bad bytes, bad JSON or a wrong shape give a MessageFormatError. */
export function decodeEvent<T>(
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  data: Uint8Array,
  what: string,
): T {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (cause) {
    throw new MessageFormatError(`${what}: payload is not UTF-8 JSON`, { cause });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MessageFormatError(
      `${what}: ${issue?.path.join(".") || "(root)"} ${issue?.message ?? "is invalid"}`,
    );
  }
  return result.data;
}
