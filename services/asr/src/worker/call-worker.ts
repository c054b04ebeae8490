import {
  CallEnded,
  CallStarted,
  decodeEvent,
  ensureStreams,
  parseCallSubject,
  subjects,
  type Leg,
  type Messaging,
} from "@callscribe/messaging";
import { ResourceExhaustedError } from "@callscribe/errors";
import { AckPolicy, DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { RecognizerEngine } from "../engine/index.ts";
import { ClaimStore, type CallClaim } from "./claims.ts";
import { AUDIO_PULL_EXPIRES_MS, LegAbortedError, transcribeLeg, type LegContext } from "./leg.ts";
import { createWorkerMetrics } from "./metrics.ts";

export interface CallWorkerOptions {
  messaging: Messaging;
  engine: RecognizerEngine;
  logger: Logger;
  registry: Registry;
  replicaId: string;
  claimsBucket: string;
  claimTtlMs: number;
  /** Durable consumer of call.*.started shared by all replicas. */
  callsConsumer: string;
  callsSubject: string;
  maxCalls: number;
  legIdleTimeoutMs?: number;
  /** The emotion service for each final utterance (ASR_EMOTION_ADDRESS); absent, emotion is null. */
  emotion?: LegContext["emotion"];
  /** Language identification of each leg (absent: utterances keep the engine's language). */
  language?: LegContext["language"];
}

export interface CallWorker {
  activeCalls(): number;
  /** Stops taking new calls; the ones held go on. */
  stopIntake(): Promise<void>;
  /** Abandons every held call: claims released and call.started handed back for another replica. */
  handBack(): Promise<void>;
}

interface CallSession {
  callId: string;
  /**
   * The latest delivery of the call's call.started: a NATS outage longer than the ack wait redelivers it
   * while the call runs here, and from then on that delivery is the one to mark, ack or nak.
   */
  delivery: JsMsg;
  abort: AbortController;
  handingBack: boolean;
  done: Promise<void>;
}

const nanos = (ms: number) => ms * 1_000_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The JetStream side of the replica. Each call.started goes to one replica through a shared durable
 * consumer; the replica claims the call in KV and holds the message unacknowledged (marking it in
 * progress as it renews the claim) until every leg is done. If the replica dies, the message is
 * redelivered after the ack wait (the claim TTL) to another replica, which claims the call once the
 * dead one's lease has aged out and replays the audio from the start; RESULTS drops the republished
 * utterances by message id.
 */
export async function startCallWorker(options: CallWorkerOptions): Promise<CallWorker> {
  const { messaging, logger } = options;
  const log = logger.child({ component: "worker", replica: options.replicaId });
  const metrics = createWorkerMetrics(options.registry);
  await ensureStreams(messaging.jsm);
  const claims = await ClaimStore.open({
    js: messaging.js,
    bucket: options.claimsBucket,
    ttlMs: options.claimTtlMs,
    replicaId: options.replicaId,
  });
  await ensureCallsConsumer(messaging, options);
  const consumer = await messaging.js.consumers.get("CALLS", options.callsConsumer);

  const legContext: LegContext = {
    messaging,
    engine: options.engine,
    logger: log,
    metrics,
    idleTimeoutMs: options.legIdleTimeoutMs ?? 10 * 60_000,
    emotion: options.emotion,
    language: options.language,
  };
  const sessions = new Map<string, CallSession>();
  /** Messages pulled and not yet settled: counts toward maxCalls before the claim is even tried. */
  let reserved = 0;
  let intake = true;
  const retryDelayMs = Math.max(250, Math.round(options.claimTtlMs / 2));

  const handle = async (msg: JsMsg): Promise<void> => {
    let started: CallStarted;
    try {
      started = decodeEvent(CallStarted, msg.data, "call.started");
      const fromSubject = parseCallSubject(msg.subject)?.callId;
      if (fromSubject !== started.callId)
        throw new Error(`call id ${started.callId} does not match subject ${msg.subject}`);
    } catch (err) {
      // Redelivering a malformed event cannot help.
      log.error({ err, subject: msg.subject }, "dropping a malformed call.started");
      msg.term("malformed call.started");
      return;
    }
    const callId = started.callId;
    if (!intake) {
      msg.nak();
      return;
    }
    const running = sessions.get(callId);
    if (running) {
      running.delivery = msg;
      log.info({ callId }, "call.started redelivered while this replica runs the call; carrying on");
      return;
    }
    const pendingLegs: CallStarted["legs"] = [];
    for (const leg of started.legs) if (!(await legIsDone(messaging, callId, leg.leg))) pendingLegs.push(leg);
    if (pendingLegs.length === 0) {
      // Finished before (its ack was lost): nothing to redo.
      msg.ack();
      return;
    }
    const claim = await claims.tryClaim(callId);
    if (!claim) {
      // Another replica holds it, or held it until recently: look again when its lease may have aged out.
      msg.nak(retryDelayMs);
      return;
    }
    if (!intake) {
      await claims.release(claim);
      msg.nak();
      return;
    }
    const redelivered = msg.info.deliveryCount > 1;
    if (redelivered) metrics.takeovers.inc();
    log.info({ callId, legs: pendingLegs.map((l) => l.leg), takeover: redelivered }, "call claimed");
    await runCall(
      msg,
      claim,
      pendingLegs.map((l) => l.leg),
    );
  };

  const runCall = async (msg: JsMsg, claim: CallClaim, legs: Leg[]): Promise<void> => {
    const callId = claim.callId;
    const abort = new AbortController();
    let resolveDone!: () => void;
    const session: CallSession = {
      callId,
      delivery: msg,
      abort,
      handingBack: false,
      done: new Promise<void>((resolve) => (resolveDone = resolve)),
    };
    sessions.set(callId, session);
    metrics.activeCalls.set(sessions.size);
    let lost = false;
    const renew = setInterval(
      () => {
        try {
          session.delivery.working();
        } catch (err) {
          // The connection is gone; the renewal below fails too and says so.
          log.debug({ err, callId }, "could not mark call.started in progress");
        }
        claims.renew(claim).then(
          (held) => {
            if (held || abort.signal.aborted) return;
            lost = true;
            log.warn({ callId }, "claim lost to another replica; abandoning the call");
            abort.abort();
          },
          (err: unknown) => log.warn({ err, callId }, "claim renewal failed; retrying"),
        );
      },
      Math.max(100, Math.floor(options.claimTtlMs / 3)),
    );
    const ended = waitForCallEnded(messaging, callId, abort.signal, log);
    try {
      await Promise.all(
        legs.map((leg) =>
          transcribeLeg(legContext, {
            callId,
            leg,
            lastSeq: ended.then((e) => e?.lastSeq[leg]),
            signal: abort.signal,
          }),
        ),
      );
      clearInterval(renew);
      await claims.release(claim);
      session.delivery.ack();
      metrics.calls.inc({ outcome: "done" });
      log.info({ callId }, "call done");
    } catch (err) {
      clearInterval(renew);
      abort.abort();
      if (lost) {
        metrics.calls.inc({ outcome: "lost-claim" });
      } else {
        await claims
          .release(claim)
          .catch((releaseErr: unknown) => log.warn({ err: releaseErr, callId }, "claim not released"));
        if (session.handingBack) {
          session.delivery.nak();
          metrics.calls.inc({ outcome: "handed-back" });
          log.info({ callId }, "call handed back");
        } else if (err instanceof ResourceExhaustedError) {
          // The engine is full (gRPC streams take slots too): leave the call to another replica.
          session.delivery.nak(retryDelayMs);
          metrics.calls.inc({ outcome: "busy" });
          log.warn({ callId, reason: err.message }, "engine full; call handed back");
        } else {
          session.delivery.nak(retryDelayMs);
          metrics.calls.inc({ outcome: "failed" });
          if (!(err instanceof LegAbortedError))
            log.error({ err, callId }, "call failed; it will be retried");
        }
      }
    } finally {
      abort.abort(); // stops the call.ended watcher
      sessions.delete(callId);
      metrics.activeCalls.set(sessions.size);
      resolveDone();
    }
  };

  const intakeLoop = (async () => {
    while (intake) {
      if (reserved >= options.maxCalls) {
        await sleep(100);
        continue;
      }
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: 1000 });
      } catch (err) {
        if (!intake || messaging.nc.isClosed()) break;
        log.warn({ err }, "could not pull call.started; retrying");
        await sleep(1000);
        continue;
      }
      if (!msg) continue;
      if (!intake) {
        msg.nak();
        break;
      }
      reserved++;
      const pulled = msg;
      void handle(pulled)
        .catch((err: unknown) => {
          log.error({ err, subject: pulled.subject }, "call.started not handled; it will be retried");
          try {
            pulled.nak(retryDelayMs);
          } catch {
            // The connection is gone; the ack wait brings the message back.
          }
        })
        .finally(() => reserved--);
    }
  })();

  log.info({ consumer: options.callsConsumer, maxCalls: options.maxCalls }, "call worker started");

  return {
    activeCalls: () => sessions.size,
    stopIntake: async () => {
      intake = false;
      await intakeLoop;
    },
    handBack: async () => {
      intake = false;
      const live = [...sessions.values()];
      for (const session of live) {
        session.handingBack = true;
        session.abort.abort();
      }
      await Promise.all(live.map((s) => s.done));
      await intakeLoop;
    },
  };
}

/** Creates the shared durable consumer unless it exists; its ack wait is the claim TTL. */
async function ensureCallsConsumer(messaging: Messaging, options: CallWorkerOptions): Promise<void> {
  const existing = await messaging.jsm.consumers.info("CALLS", options.callsConsumer).catch(() => undefined);
  if (existing) return;
  try {
    await messaging.jsm.consumers.add("CALLS", {
      durable_name: options.callsConsumer,
      filter_subject: options.callsSubject,
      ack_policy: AckPolicy.Explicit,
      // A new deployment takes calls from now on; a call in progress survives a restart because
      // the consumer already exists then.
      deliver_policy: DeliverPolicy.New,
      ack_wait: nanos(options.claimTtlMs),
      max_deliver: -1,
    });
  } catch (err) {
    // Another replica created it at the same moment.
    if (!(await messaging.jsm.consumers.info("CALLS", options.callsConsumer).catch(() => undefined)))
      throw err;
  }
}

async function legIsDone(messaging: Messaging, callId: string, leg: Leg): Promise<boolean> {
  const marker = await messaging.jsm.streams.getMessage("RESULTS", {
    last_by_subj: subjects.legDone(callId, leg),
  });
  return marker !== null;
}

/** The call's call.ended event, or undefined if the signal aborts first or the event is unreadable. */
async function waitForCallEnded(
  messaging: Messaging,
  callId: string,
  signal: AbortSignal,
  log: Logger,
): Promise<CallEnded | undefined> {
  const consumer = await messaging.js.consumers.get("CALLS", {
    filter_subjects: subjects.callEnded(callId),
    deliver_policy: DeliverPolicy.All,
  });
  // Short pulls, so a NATS restart is noticed and the reader recreated within seconds.
  const messages = await consumer.consume({ max_messages: 1, expires: AUDIO_PULL_EXPIRES_MS });
  const stop = () => messages.stop();
  signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const msg of messages) {
      try {
        return decodeEvent(CallEnded, msg.data, "call.ended");
      } catch (err) {
        log.warn({ err, callId }, "unreadable call.ended; the legs' last-frame flags decide");
        return undefined;
      }
    }
    return undefined;
  } finally {
    signal.removeEventListener("abort", stop);
    messages.stop();
  }
}
