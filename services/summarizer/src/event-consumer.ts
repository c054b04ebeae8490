import { AckPolicy, DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import {
  CallEnded,
  CallStarted,
  LegDone,
  MessageFormatError,
  UtteranceResult,
  decodeEvent,
  isLeg,
  parseCallSubject,
  type Messaging,
} from "@callscribe/messaging";
import type { Logger } from "pino";
import type { CallStore } from "./call-store.ts";
import type { SummarizerMetrics } from "./metrics.ts";
import type { TicketWriter } from "./ticket-writer.ts";

export type EventKind = "call.started" | "call.ended" | "utterance" | "leg.done" | "ignored";

/** What a subject says an event is; `reason` when it is no subject the summarizer knows. */
export function classifySubject(
  subject: string,
): { kind: EventKind; callId: string; leg?: string } | { reason: string } {
  const parts = parseCallSubject(subject);
  if (!parts) return { reason: `subject "${subject.slice(0, 80)}" does not carry a valid call id` };
  const { kind, callId, rest } = parts;
  if (kind === "call" && rest.length === 1 && (rest[0] === "started" || rest[0] === "ended"))
    return { kind: `call.${rest[0]}`, callId };
  // DTMF digits are call events the ticket does not use.
  if (kind === "call" && rest.length === 1 && rest[0] === "dtmf") return { kind: "ignored", callId };
  if (kind === "utterance" && rest.length === 1 && isLeg(rest[0]!))
    return { kind: "utterance", callId, leg: rest[0] };
  if (kind === "leg" && rest.length === 2 && isLeg(rest[0]!) && rest[1] === "done")
    return { kind: "leg.done", callId, leg: rest[0] };
  return { reason: `subject "${subject.slice(0, 80)}" is no event the summarizer reads` };
}

export interface EventConsumerOptions {
  messaging: Messaging;
  store: CallStore;
  writer: TicketWriter;
  logger: Logger;
  metrics: SummarizerMetrics;
  /** Durable consumers `<name>-calls` and `<name>-results`, shared by the replicas. */
  durableName: string;
  /** Where a newly created consumer starts: only new events, or everything the streams hold. */
  deliverPolicy: "new" | "all";
  /** An event of a call not seen yet is retried after this long... */
  unknownCallRetryMs: number;
  /** ...this many times, then parked. */
  maxUnknownCallDeliveries: number;
  ackWaitMs: number;
  /** Events handled at once (of different calls). */
  maxInFlight: number;
}

export interface EventConsumers {
  /** Stops pulling, finishes the message in hand, and returns. */
  stop(): Promise<void>;
  /** Both consumers are pulling. */
  running(): boolean;
}

const nanos = (ms: number) => ms * 1_000_000;

async function ensureConsumer(
  messaging: Messaging,
  stream: string,
  name: string,
  filter: string,
  options: EventConsumerOptions,
): Promise<void> {
  const existing = await messaging.jsm.consumers.info(stream, name).catch(() => undefined);
  if (existing) return;
  try {
    await messaging.jsm.consumers.add(stream, {
      durable_name: name,
      // One filter per consumer: nats-server before 2.10 has no filter_subjects.
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: options.deliverPolicy === "all" ? DeliverPolicy.All : DeliverPolicy.New,
      ack_wait: nanos(options.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: 1000,
    });
  } catch (err) {
    // Another replica created it at the same moment.
    if (!(await messaging.jsm.consumers.info(stream, name).catch(() => undefined))) throw err;
  }
}

function headersOf(msg: JsMsg): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!msg.headers) return out;
  for (const key of msg.headers.keys()) out[key] = msg.headers.values(key);
  return out;
}

function payloadOf(data: Uint8Array): { payload: string; encoding: string } {
  try {
    return {
      payload: new TextDecoder("utf-8", { fatal: true }).decode(data).replaceAll("\u0000", ""),
      encoding: "utf8",
    };
  } catch {
    return { payload: Buffer.from(data).toString("base64"), encoding: "base64" };
  }
}

/**
 * Reads CALLS (call.*.started, call.*.ended) and RESULTS (utterances, leg-done markers) through
 * durable consumers. Each event is stored idempotently and acknowledged after it is in Postgres;
 * the ticket is written, before the acknowledgement, by the event that completes the call. A
 * malformed event is parked with its reason and acknowledged, so it never blocks the stream.
 */
export async function startEventConsumers(options: EventConsumerOptions): Promise<EventConsumers> {
  const { messaging, store, writer, metrics } = options;
  const log = options.logger.child({ component: "events" });
  const callsName = `${options.durableName}-calls`;
  const resultsName = `${options.durableName}-results`;
  await ensureConsumer(messaging, "CALLS", callsName, "call.>", options);
  await ensureConsumer(messaging, "RESULTS", resultsName, ">", options);

  const park = async (msg: JsMsg, kind: string, reason: string) => {
    await store.park({
      stream: msg.info.stream,
      streamSeq: msg.seq,
      subject: msg.subject,
      reason,
      headers: headersOf(msg),
      ...payloadOf(msg.data),
    });
    metrics.events.inc({ kind, outcome: "parked" });
    log.warn({ subject: msg.subject, streamSeq: msg.seq, reason }, "event parked");
    msg.ack();
  };

  const tryTicket = async (callId: string) => {
    const started = performance.now();
    const result = await writer.write({ callId });
    if (result.outcome !== "written") return;
    metrics.ticketBuild.observe((performance.now() - started) / 1000);
    metrics.tickets.inc({ complete: "true" });
    if (result.endToTicketMs !== undefined) metrics.endToTicket.observe(result.endToTicketMs / 1000);
    log.info({ callId }, "ticket written");
  };

  async function handle(msg: JsMsg): Promise<void> {
    const subject = classifySubject(msg.subject);
    if ("reason" in subject) return park(msg, "unknown", subject.reason);
    const { kind, callId } = subject;
    if (kind === "ignored") {
      msg.ack();
      return;
    }
    let known: boolean;
    try {
      switch (kind) {
        case "call.started": {
          const event = decodeEvent(CallStarted, msg.data, "call.started");
          if (event.callId !== callId)
            throw new MessageFormatError(
              `call.started: callId "${event.callId.slice(0, 40)}" differs from the subject's`,
            );
          await store.recordCallStarted(event);
          known = true;
          break;
        }
        case "call.ended": {
          const event = decodeEvent(CallEnded, msg.data, "call.ended");
          if (event.callId !== callId)
            throw new MessageFormatError(
              `call.ended: callId "${event.callId.slice(0, 40)}" differs from the subject's`,
            );
          const progress = await store.recordCallEnded(event);
          known = progress !== "unknown";
          if (progress === "complete") await tryTicket(callId);
          break;
        }
        case "utterance": {
          const event = decodeEvent(UtteranceResult, msg.data, "utterance");
          if (event.callId !== callId || event.leg !== subject.leg)
            throw new MessageFormatError("utterance: callId or leg differs from the subject's");
          const state = await store.recordUtterance(event);
          known = state !== "unknown";
          // A late utterance of an ended call may be the one the ticket waited for.
          if (state === "ended" && (await store.isReady(callId))) await tryTicket(callId);
          break;
        }
        case "leg.done": {
          const event = decodeEvent(LegDone, msg.data, "leg.done");
          if (event.callId !== callId || event.leg !== subject.leg)
            throw new MessageFormatError("leg.done: callId or leg differs from the subject's");
          const progress = await store.recordLegDone(event);
          known = progress !== "unknown";
          if (progress === "complete") await tryTicket(callId);
          break;
        }
      }
    } catch (err) {
      if (err instanceof MessageFormatError) return park(msg, kind, err.message);
      metrics.events.inc({ kind, outcome: "retried" });
      log.error(
        { err, subject: msg.subject, streamSeq: msg.seq },
        "event not stored; it will be redelivered",
      );
      msg.nak(options.unknownCallRetryMs);
      return;
    }
    if (!known) {
      if (msg.info.deliveryCount >= options.maxUnknownCallDeliveries) {
        return park(
          msg,
          kind,
          `no call.started arrived for this call after ${msg.info.deliveryCount} deliveries`,
        );
      }
      metrics.events.inc({ kind, outcome: "waiting-for-call" });
      msg.nak(options.unknownCallRetryMs);
      return;
    }
    metrics.events.inc({ kind, outcome: "stored" });
    msg.ack();
  }

  let stopping = false;
  const stoppers: (() => void)[] = [];
  // Events of one call are handled in stream order; different calls' events at the same time, so
  // one call's ticket never waits behind another's database round trips.
  const consumeInOrderPerCall = async (stream: string, name: string) => {
    const consumer = await messaging.js.consumers.get(stream, name);
    const chains = new Map<string, Promise<void>>();
    let active = 0;
    let slotFreed: (() => void) | undefined;
    const handleSafely = async (msg: JsMsg) => {
      try {
        await handle(msg);
      } catch (err) {
        // Parking itself failed (database down): leave the message for redelivery.
        log.error({ err, subject: msg.subject }, "event left for redelivery");
        msg.nak(options.unknownCallRetryMs);
      }
    };
    while (!stopping) {
      const messages = await consumer.consume({ max_messages: options.maxInFlight * 2 });
      stoppers.push(() => messages.stop());
      for await (const msg of messages) {
        while (active >= options.maxInFlight) await new Promise<void>((r) => (slotFreed = r));
        const key = parseCallSubject(msg.subject)?.callId ?? msg.subject;
        active++;
        const next: Promise<void> = (chains.get(key) ?? Promise.resolve())
          .then(() => handleSafely(msg))
          .finally(() => {
            active--;
            if (chains.get(key) === next) chains.delete(key);
            slotFreed?.();
            slotFreed = undefined;
          });
        chains.set(key, next);
        if (stopping) break;
      }
      await Promise.all(chains.values());
    }
  };
  const loops = [consumeInOrderPerCall("CALLS", callsName), consumeInOrderPerCall("RESULTS", resultsName)];
  const done = Promise.allSettled(loops);
  let failed = false;
  void done.then((results) => {
    for (const r of results) {
      if (r.status === "rejected" && !stopping) {
        failed = true;
        log.error({ err: r.reason }, "event consumer stopped");
      }
    }
  });
  log.info({ consumers: [callsName, resultsName] }, "consuming call events and results");
  return {
    running: () => !stopping && !failed,
    async stop() {
      stopping = true;
      for (const s of stoppers) s();
      await done;
    },
  };
}
