import { InvalidArgumentError, UnavailableError } from "@callscribe/errors";
import {
  CallEnded,
  CallStarted,
  DtmfEvent,
  encodeEvent,
  SubjectTokenError,
  subjects,
  assertToken,
  type Leg,
} from "@callscribe/messaging";
import type { Logger } from "pino";
import type { DtmfDigit } from "./dtmf.ts";
import { LegReceiver, type LegFrame } from "./leg-receiver.ts";
import { createMediaMetrics, type MediaMetrics } from "./metrics.ts";
import { PortPool, type RtpSocketPair } from "./port-pool.ts";
import { AsyncJetStreamPublisher } from "./jetstream-publish.ts";
import { CallPublisher, createPublishBatcher, type BufferTally, type PublishContext } from "./publisher.ts";
import type {
  CallInfo,
  EndReason,
  LegMediaSpec,
  LegStats,
  MediaCall,
  MediaEndReason,
  MediaGateway,
  MediaGatewayOptions,
  ReservedPort,
} from "./types.ts";

const TICK_MS = 10;
const HOUSEKEEPING_MS = 1000;

interface Settings {
  frameMs: number;
  mediaTimeoutMs: number;
  jitterDelayMs: number;
  maxBufferedFramesPerCall: number;
  maxBufferedFramesTotal: number;
  concealment: "silence" | "repeat";
  publishTimeoutMs: number;
  publishWindow: number;
  publishBatchMs: number;
  statsIntervalMs: number;
  endFlushTimeoutMs: number;
}

class PortReservation implements ReservedPort {
  /** The call receiving on it, once started. */
  callId: string | undefined;
  private released = false;

  constructor(
    readonly pair: RtpSocketPair,
    private readonly pool: PortPool,
    private readonly forget: (port: number) => void,
  ) {}

  get port(): number {
    return this.pair.port;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.forget(this.pair.port);
    this.pool.release(this.pair);
  }
}

export function createMediaGateway(options: MediaGatewayOptions): MediaGateway {
  const settings = resolveSettings(options);
  const { messaging, logger } = options;
  const metrics = createMediaMetrics(options.registry);
  const pool = new PortPool({ host: options.host, portMin: options.portMin, portMax: options.portMax });
  const reservations = new Map<number, PortReservation>();
  const calls = new Map<string, Call>();
  const starting = new Set<string>();
  // The per-call bound times the number of calls may not fit in memory; twice the total at which new
  // calls are refused is the hard limit (about 150 MB of 20 ms narrowband frames at the default).
  const tally: BufferTally = { frames: 0, hardLimit: 2 * settings.maxBufferedFramesTotal, calls: 0 };
  let closed = false;

  const jetstream = new AsyncJetStreamPublisher(messaging.nc, settings.publishTimeoutMs);
  const publishContext: PublishContext = {
    jetstream,
    isConnected: () => messaging.isConnected(),
    window: settings.publishWindow,
    defer: createPublishBatcher(settings.publishBatchMs),
    metrics,
    tally,
    logger,
  };

  // Media timeouts are checked at least twice per timeout period.
  const housekeepingMs = Math.min(HOUSEKEEPING_MS, settings.mediaTimeoutMs / 2);
  let lastHousekeeping = Date.now();
  let lastStatsLog = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const call of calls.values()) call.poll(now);
    if (now - lastHousekeeping < housekeepingMs) return;
    lastHousekeeping = now;
    const logStats = settings.statsIntervalMs > 0 && now - lastStatsLog >= settings.statsIntervalMs;
    if (logStats) lastStatsLog = now;
    for (const call of calls.values()) call.housekeeping(now, logStats);
    metrics.bufferedFrames.set(tally.frames);
    metrics.activeCalls.set(countActive());
  }, TICK_MS);
  ticker.unref();

  const gateway: MediaGateway = {
    async reservePort() {
      if (closed) throw new UnavailableError("the media gateway is shutting down; no new ports");
      const pair = await pool.reserve();
      const reservation = new PortReservation(pair, pool, (port) => reservations.delete(port));
      // Until a call starts on it, an error event on the socket must not crash the process.
      pair.rtp.on("error", () => undefined);
      pair.rtcp.on("error", () => undefined);
      reservations.set(pair.port, reservation);
      return reservation;
    },

    async startCall(info, legs) {
      if (closed) throw new UnavailableError("the media gateway is shutting down; no new calls");
      try {
        assertToken("call id", info.callId);
      } catch (err) {
        if (err instanceof SubjectTokenError) throw new InvalidArgumentError(err.message, { cause: err });
        throw err;
      }
      if (calls.has(info.callId) || starting.has(info.callId)) {
        throw new InvalidArgumentError(`call ${info.callId} has already started`);
      }
      const seen = new Set<Leg>();
      const resolved = legs.map((spec) => {
        if (seen.has(spec.leg))
          throw new InvalidArgumentError(`leg ${spec.leg} is listed twice for one call`);
        seen.add(spec.leg);
        const reservation = reservations.get(spec.port.port);
        if (!reservation || reservation !== spec.port) {
          throw new InvalidArgumentError(
            `port ${spec.port.port} was not reserved from this gateway, or is released`,
          );
        }
        if (reservation.callId) {
          throw new InvalidArgumentError(`port ${spec.port.port} already carries call ${reservation.callId}`);
        }
        return { spec, reservation };
      });
      if (!messaging.isConnected()) {
        throw new UnavailableError("NATS is disconnected; cannot record a call now, retry later");
      }
      // Claimed before the await below, so a concurrent startCall cannot take the same ports or id.
      for (const { reservation } of resolved) reservation.callId = info.callId;
      starting.add(info.callId);
      const started = {
        callId: info.callId,
        startedAt: new Date().toISOString(),
        source: info.source,
        sipCallId: info.sipCallId,
        from: info.from,
        to: info.to,
        participants: info.participants,
        legs: legs.map((l) => ({ leg: l.leg, sampleRate: l.codec.sampleRate, codec: l.codec.name })),
        metadata: info.metadata,
        ...(info.agentId === undefined ? {} : { agentId: info.agentId }),
      };
      try {
        await messaging.js.publish(subjects.callStarted(info.callId), encodeEvent(CallStarted, started), {
          msgID: `e.${info.callId}.started`,
          timeout: settings.publishTimeoutMs,
        });
      } catch (cause) {
        for (const { reservation } of resolved) reservation.callId = undefined;
        throw new UnavailableError(
          "JetStream did not accept call.started; NATS or the CALLS stream is down",
          {
            cause,
          },
        );
      } finally {
        starting.delete(info.callId);
      }
      const call = new Call(info, resolved, {
        settings,
        tally,
        metrics,
        logger: logger.child({ callId: info.callId }),
        publisher: new CallPublisher(info.callId, publishContext, settings.maxBufferedFramesPerCall),
        onGone: () => {
          calls.delete(info.callId);
          metrics.activeCalls.set(countActive());
        },
      });
      calls.set(info.callId, call);
      metrics.activeCalls.set(countActive());
      call.logger.info(
        {
          source: info.source,
          legs: legs.map((l) => ({
            leg: l.leg,
            codec: l.codec.name,
            port: l.port.port,
            direction: l.direction,
          })),
          pii: { from: info.from, to: info.to, sipCallId: info.sipCallId },
        },
        "call media started",
      );
      return call;
    },

    canAcceptCalls() {
      return !closed && messaging.isConnected() && tally.frames < settings.maxBufferedFramesTotal;
    },

    activeCalls: () => countActive(),

    async close() {
      closed = true;
      await Promise.all([...calls.values()].map((call) => call.end("shutdown")));
      clearInterval(ticker);
      jetstream.close();
      for (const reservation of [...reservations.values()]) reservation.release();
    },
  };

  function countActive(): number {
    let n = 0;
    for (const call of calls.values()) if (!call.ending) n++;
    tally.calls = n;
    return n;
  }

  return gateway;
}

interface CallDeps {
  settings: Settings;
  tally: BufferTally;
  metrics: MediaMetrics;
  logger: Logger;
  publisher: CallPublisher;
  onGone: () => void;
}

class Call implements MediaCall {
  readonly callId: string;
  readonly logger: Logger;
  private readonly legs = new Map<Leg, LegReceiver>();
  private readonly reservations: PortReservation[];
  private readonly listeners: ((reason: MediaEndReason) => void)[] = [];
  private mediaEndReason: MediaEndReason | undefined;
  ending: Promise<void> | undefined;
  private dtmfCount = 0;

  constructor(
    info: CallInfo,
    legs: { spec: LegMediaSpec; reservation: PortReservation }[],
    private readonly deps: CallDeps,
  ) {
    this.callId = info.callId;
    this.logger = deps.logger;
    this.reservations = legs.map((l) => l.reservation);
    for (const { spec, reservation } of legs) {
      this.legs.set(
        spec.leg,
        new LegReceiver({
          callId: info.callId,
          spec,
          sockets: reservation.pair,
          frameMs: deps.settings.frameMs,
          jitterDelayMs: deps.settings.jitterDelayMs,
          concealment: deps.settings.concealment,
          metrics: deps.metrics,
          logger: deps.logger,
          onFrame: (leg, frame) => this.publishFrame(leg, frame),
          onDtmf: (leg, digit, atMs) => this.publishDtmf(leg, digit, atMs),
          onOverflow: (leg) => this.overflow(leg),
        }),
      );
    }
  }

  update(specs: LegMediaSpec[]): void {
    if (this.ending) return;
    for (const spec of specs) {
      const leg = this.legs.get(spec.leg);
      if (!leg) {
        this.logger.warn({ leg: spec.leg }, "re-INVITE names a leg this call does not have; ignored");
        continue;
      }
      leg.update(spec);
    }
    this.logger.info(
      { legs: specs.map((s) => ({ leg: s.leg, codec: s.codec.name, direction: s.direction })) },
      "call media updated",
    );
  }

  onEndedByMedia(listener: (reason: MediaEndReason) => void): void {
    this.listeners.push(listener);
    const reason = this.mediaEndReason;
    if (reason) queueMicrotask(() => listener(reason));
  }

  stats(): Partial<Record<Leg, LegStats>> {
    const out: Partial<Record<Leg, LegStats>> = {};
    for (const [leg, receiver] of this.legs) out[leg] = receiver.stats();
    return out;
  }

  poll(now: number): void {
    if (this.ending) return;
    for (const leg of this.legs.values()) leg.poll(now);
  }

  housekeeping(now: number, logStats: boolean): void {
    if (this.ending) return;
    for (const leg of this.legs.values()) {
      leg.syncMetrics();
      if (logStats) leg.logStats("rtp receiver statistics");
    }
    let expecting = false;
    let lastMediaAt = 0;
    for (const leg of this.legs.values()) {
      if (!leg.expectsMedia) continue;
      expecting = true;
      lastMediaAt = Math.max(lastMediaAt, leg.lastMediaAt);
    }
    if (expecting && now - lastMediaAt >= this.deps.settings.mediaTimeoutMs) {
      this.logger.warn({ silentMs: now - lastMediaAt }, "no RTP on any leg; ending the call");
      this.endByMedia("media-timeout");
    }
  }

  end(reason: EndReason): Promise<void> {
    this.ending ??= this.finish(reason);
    return this.ending;
  }

  private endByMedia(reason: MediaEndReason): void {
    if (this.ending || this.mediaEndReason) return;
    this.mediaEndReason = reason;
    // Not from inside the receive path that noticed it: end() plays out the jitter buffers.
    queueMicrotask(() => {
      void this.end(reason);
      for (const listener of this.listeners) {
        try {
          listener(reason);
        } catch (err) {
          this.logger.error({ err }, "onEndedByMedia listener failed");
        }
      }
    });
  }

  private overflow(leg: Leg): void {
    if (this.mediaEndReason || this.ending) return;
    this.deps.metrics.bufferOverflows.inc();
    this.logger.error(
      {
        leg,
        buffered: this.deps.publisher.buffered(),
        limit: this.deps.settings.maxBufferedFramesPerCall,
        bufferedAllCalls: this.deps.tally.frames,
      },
      "publish buffer full (NATS unreachable or slow, or the process overloaded); ending the call",
    );
    this.endByMedia("error");
  }

  private publishFrame(leg: Leg, frame: LegFrame): boolean {
    return this.deps.publisher.addFrame(leg, frame, frame.last);
  }

  private publishDtmf(leg: Leg, digit: DtmfDigit, atMs: number): void {
    const n = this.dtmfCount++;
    this.deps.metrics.dtmfEvents.inc();
    this.logger.info({ leg, atMs, durationMs: digit.durationMs, pii: { digit: digit.digit } }, "dtmf digit");
    const event = { callId: this.callId, leg, digit: digit.digit, atMs, durationMs: digit.durationMs };
    this.deps.publisher.addEvent(subjects.callDtmf(this.callId), encodeEvent(DtmfEvent, event), `dtmf.${n}`);
  }

  private async finish(reason: EndReason): Promise<void> {
    const { publisher, metrics, settings } = this.deps;
    for (const leg of this.legs.values()) leg.finish();
    for (const reservation of this.reservations) reservation.release();
    const deadline = Date.now() + settings.endFlushTimeoutMs;
    const flushed = await within(publisher.framesDrained(), deadline);
    const stats: Record<string, number> = {};
    const lastSeq: Record<string, number> = {};
    for (const [leg, receiver] of this.legs) {
      lastSeq[leg] = publisher.lastSeq(leg);
      for (const [key, value] of Object.entries(receiver.stats())) stats[`${leg}.${key}`] = value;
      receiver.logStats("rtp receiver statistics at call end");
    }
    const ended = { callId: this.callId, endedAt: new Date().toISOString(), reason, lastSeq, stats };
    publisher.addEvent(subjects.callEnded(this.callId), encodeEvent(CallEnded, ended), "ended");
    const delivered = flushed && (await within(publisher.eventsDrained(), deadline));
    if (!delivered) {
      const abandoned = publisher.abandon();
      metrics.framesAbandoned.inc(abandoned);
      this.logger.error(
        { abandoned, endFlushTimeoutMs: settings.endFlushTimeoutMs },
        "NATS did not take the call's last frames and call.ended in time; they are lost",
      );
    }
    metrics.callsEnded.inc({ reason });
    this.logger.info({ reason, lastSeq }, "call media ended");
    this.deps.onGone();
  }
}

/** Resolves true if `promise` settles before the deadline (Date.now() ms), false otherwise. */
async function within(promise: Promise<void>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function resolveSettings(o: MediaGatewayOptions): Settings {
  const frameMs = o.frameMs ?? 20;
  if (!Number.isInteger(frameMs) || frameMs < 20 || frameMs > 100) {
    throw new InvalidArgumentError(
      `frameMs ${frameMs} is outside 20..100; frames on NATS carry 20 to 100 ms`,
    );
  }
  const positive = (name: string, value: number) => {
    if (!Number.isFinite(value) || value <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number, got ${value}`);
    return value;
  };
  const perCall = positive("maxBufferedFramesPerCall", o.maxBufferedFramesPerCall);
  return {
    frameMs,
    mediaTimeoutMs: positive("mediaTimeoutMs", o.mediaTimeoutMs ?? 30_000),
    jitterDelayMs: o.jitterDelayMs === 0 ? 0 : positive("jitterDelayMs", o.jitterDelayMs ?? 60),
    maxBufferedFramesPerCall: perCall,
    maxBufferedFramesTotal: positive("maxBufferedFramesTotal", o.maxBufferedFramesTotal ?? 100_000),
    concealment: o.concealment ?? "silence",
    publishTimeoutMs: positive("publishTimeoutMs", o.publishTimeoutMs ?? 2000),
    publishWindow: positive("publishWindow", o.publishWindow ?? 32),
    publishBatchMs: o.publishBatchMs ?? 0,
    statsIntervalMs: o.statsIntervalMs ?? 60_000,
    endFlushTimeoutMs: positive("endFlushTimeoutMs", o.endFlushTimeoutMs ?? 30_000),
  };
}
