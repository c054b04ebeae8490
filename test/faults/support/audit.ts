import {
  CallEnded,
  CallStarted,
  LegDone,
  UtteranceResult,
  decodeEvent,
  parseFrameHeaders,
  subjects,
  type Leg,
  type Messaging,
} from "@callscribe/messaging";
import { DeliverPolicy, type JsMsg } from "@nats-io/jetstream";

/** Every message a stream holds on one subject, in stream order (none: an empty list). */
export async function readSubject(m: Messaging, stream: string, subject: string): Promise<JsMsg[]> {
  const info = await m.jsm.streams.info(stream, { subjects_filter: subject }).catch(() => undefined);
  const expected = info?.state.subjects?.[subject] ?? 0;
  if (expected === 0) return [];
  const consumer = await m.js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.All,
  });
  const out: JsMsg[] = [];
  while (out.length < expected) {
    const batch = await consumer.fetch({
      max_messages: Math.min(1000, expected - out.length),
      expires: 2000,
    });
    let got = 0;
    for await (const msg of batch) {
      got++;
      out.push(msg);
    }
    if (got === 0) break;
  }
  return out;
}

export async function callStartedByTag(m: Messaging, tag: string, timeoutMs = 20_000): Promise<CallStarted> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const consumer = await m.js.consumers.get("CALLS", {
      filter_subjects: "call.*.started",
      deliver_policy: DeliverPolicy.All,
    });
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    for await (const msg of batch) {
      const started = decodeEvent(CallStarted, msg.data, "call.started");
      if (started.agentId === tag) return started;
    }
    if (Date.now() > until) throw new Error(`no call.started with agent id ${tag}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function callEnded(m: Messaging, callId: string, timeoutMs = 30_000): Promise<CallEnded[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const msgs = await readSubject(m, "CALLS", subjects.callEnded(callId));
    if (msgs.length > 0 || Date.now() > until)
      return msgs.map((msg) => decodeEvent(CallEnded, msg.data, "call.ended"));
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What AUDIO holds for a leg, set against what ingest acknowledged (call.ended's lastSeq + 1 frames). */
export interface LegAudioAudit {
  leg: Leg;
  acknowledged: number;
  stored: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  samples: number;
}

export async function auditLegAudio(
  m: Messaging,
  callId: string,
  leg: Leg,
  lastSeq: number,
): Promise<LegAudioAudit> {
  const msgs = await readSubject(m, "AUDIO", subjects.audio(callId, leg));
  const seen = new Set<number>();
  let duplicated = 0;
  let outOfOrder = 0;
  let previous = -1;
  let samples = 0;
  for (const msg of msgs) {
    const seq = parseFrameHeaders(callId, msg.headers).seq;
    if (seen.has(seq)) duplicated++;
    else {
      seen.add(seq);
      samples += msg.data.length / 2;
    }
    if (seq < previous) outOfOrder++;
    previous = Math.max(previous, seq);
  }
  let lost = 0;
  for (let seq = 0; seq <= lastSeq; seq++) if (!seen.has(seq)) lost++;
  return { leg, acknowledged: lastSeq + 1, stored: msgs.length, lost, duplicated, outOfOrder, samples };
}

/** What RESULTS holds for a leg: utterances (duplicates counted by seq) and leg-done markers. */
export interface LegResultsAudit {
  leg: Leg;
  utterances: number;
  unique: number;
  duplicated: number;
  /** Utterance seqs missing below the highest stored one. */
  gaps: number;
  done: number;
  doneSays: number | undefined;
  words: number;
}

export async function auditLegResults(m: Messaging, callId: string, leg: Leg): Promise<LegResultsAudit> {
  const utterances = (await readSubject(m, "RESULTS", subjects.utterance(callId, leg))).map((msg) =>
    decodeEvent(UtteranceResult, msg.data, "utterance"),
  );
  const done = (await readSubject(m, "RESULTS", subjects.legDone(callId, leg))).map((msg) =>
    decodeEvent(LegDone, msg.data, "leg.done"),
  );
  const seqs = new Set(utterances.map((u) => u.seq));
  const highest = Math.max(-1, ...seqs);
  return {
    leg,
    utterances: utterances.length,
    unique: seqs.size,
    duplicated: utterances.length - seqs.size,
    gaps: highest + 1 - seqs.size,
    done: done.length,
    doneSays: done[0]?.utterances,
    words: utterances.reduce((n, u) => n + u.words.length, 0),
  };
}

export async function waitForLegsDone(
  m: Messaging,
  callId: string,
  legs: Leg[],
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const leg of legs) {
    while (!(await m.jsm.streams.getMessage("RESULTS", { last_by_subj: subjects.legDone(callId, leg) }))) {
      if (Date.now() > until) throw new Error(`leg ${leg} of ${callId} not done within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** When the first message on `subject` stored at or after `since` (ms since the epoch) was stored. */
export async function firstStoredAfter(
  m: Messaging,
  stream: string,
  subject: string,
  since: number,
): Promise<number | undefined> {
  const msgs = await readSubject(m, stream, subject);
  const times = msgs.map((msg) => msg.info.timestampNanos / 1_000_000).filter((t) => t >= since);
  return times.length > 0 ? Math.min(...times) : undefined;
}
