/**
 * Every subject Callscribe uses, in one place.
 *
 * JetStream AUDIO    audio.<callId>.<leg>          PCM16LE frames of one leg, 20-100 ms each, in order.
 *                                                  Headers: see FrameHeader in headers.ts.
 * JetStream CALLS    call.<callId>.started         CallStarted JSON (events.ts)
 *                    call.<callId>.ended           CallEnded JSON
 *                    call.<callId>.dtmf            DtmfEvent JSON (RFC 4733 digits, as call events)
 * JetStream RESULTS  utterance.<callId>.<leg>      UtteranceResult JSON (final utterances)
 *                    leg.<callId>.<leg>.done       LegDone JSON: no more utterances will follow for the leg
 * core NATS          partial.<callId>.<leg>        PartialResult JSON (interim text; not stored)
 * KV ASR_CLAIMS      <callId>                      the replica that holds the call (a lease with TTL)
 */
export type Leg = "caller" | "agent";
export const legs: readonly Leg[] = ["caller", "agent"];

// A subject token may not hold '.', '*', '>' or white space; call ids come from outside (SIP Call-ID).
const tokenPattern = /^[A-Za-z0-9_-]{1,128}$/;

export class SubjectTokenError extends Error {
  override readonly name = "SubjectTokenError";
}

export function assertToken(kind: string, value: string): string {
  if (!tokenPattern.test(value)) {
    throw new SubjectTokenError(
      `${kind} "${value.slice(0, 40)}" cannot be a subject token: use 1-128 letters, digits, '-' or '_'`,
    );
  }
  return value;
}

export function isLeg(value: string): value is Leg {
  return value === "caller" || value === "agent";
}

export const subjects = {
  audio: (callId: string, leg: Leg) => `audio.${assertToken("call id", callId)}.${leg}`,
  audioOfCall: (callId: string) => `audio.${assertToken("call id", callId)}.*`,
  callStarted: (callId: string) => `call.${assertToken("call id", callId)}.started`,
  callEnded: (callId: string) => `call.${assertToken("call id", callId)}.ended`,
  callDtmf: (callId: string) => `call.${assertToken("call id", callId)}.dtmf`,
  utterance: (callId: string, leg: Leg) => `utterance.${assertToken("call id", callId)}.${leg}`,
  legDone: (callId: string, leg: Leg) => `leg.${assertToken("call id", callId)}.${leg}.done`,
  partial: (callId: string, leg: Leg) => `partial.${assertToken("call id", callId)}.${leg}`,
} as const;

/** Splits `audio.<callId>.<leg>` and the like; returns undefined for a subject of another shape. */
export function parseCallSubject(
  subject: string,
): { kind: string; callId: string; rest: string[] } | undefined {
  const [kind, callId, ...rest] = subject.split(".");
  if (!kind || !callId || !tokenPattern.test(callId)) return undefined;
  return { kind, callId, rest };
}
