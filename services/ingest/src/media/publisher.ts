import type { MsgHdrs } from "@nats-io/transport-node";
import { frameHeaders, frameMsgId, subjects, type Leg } from "@callscribe/messaging";
import type { Logger } from "pino";
import type { AsyncJetStreamPublisher } from "./jetstream-publish.ts";
import type { MediaMetrics } from "./metrics.ts";

interface Entry {
  subject: string;
  data: Uint8Array;
  /** Frame headers are built when the entry is sent: a queued frame then costs little more than its PCM. */
  meta: { captureMs: number; sampleRate: 8000 | 16000; last: boolean } | undefined;
  msgID: string;
  /** Frame sequence, -1 for events. */
  seq: number;
  /** performance.now() when the packet that completed the frame arrived. */
  arrivedAt: number;
  acked: boolean;
  /** Counted in the shared frame buffer tally. */
  frame: boolean;
  /** Seconds of audio in a frame, 0 for events. */
  seconds: number;
}

/** Frames buffered over every call, shared by the calls of one gateway. */
export interface BufferTally {
  frames: number;
  /**
   * Hard bound over all calls. Above it, a call whose own backlog is at or above the average ends as on a
   * full buffer: an overloaded process sheds its most backlogged calls instead of all of them.
   */
  hardLimit: number;
  /** Calls publishing frames (for the average). */
  calls: number;
}

export interface PublishContext {
  jetstream: AsyncJetStreamPublisher;
  isConnected: () => boolean;
  window: number;
  /** Runs `pump` once after the current batch of I/O callbacks (see PublishBatcher). */
  defer: (stream: { pump(): void }) => void;
  metrics: MediaMetrics;
  tally: BufferTally;
  logger: Logger;
}

const RETRY_DELAY_MS = 250;

/**
 * Publishes are sent in batches, `batchMs` apart (or after the current event-loop turn when 0), so the
 * NATS client writes the frames of many packets with one syscall instead of one per frame.
 */
export function createPublishBatcher(batchMs: number): (stream: { pump(): void }) => void {
  let due = new Set<{ pump(): void }>();
  let scheduled = false;
  const run = () => {
    scheduled = false;
    const now = due;
    due = new Set();
    for (const stream of now) stream.pump();
  };
  return (stream) => {
    due.add(stream);
    if (!scheduled) {
      scheduled = true;
      if (batchMs > 0) setTimeout(run, batchMs);
      else setImmediate(run);
    }
  };
}

/**
 * One ordered stream of publishes (a leg's frames, or a call's events). Up to `window` publishes are in
 * flight at once, so the receive path never waits for an ack; the server stores them in the order the
 * connection carried them. After a failure or timeout the stream waits for its in-flight publishes to
 * settle and resends from the first unacknowledged entry one at a time, with the same message ids (the
 * stream's duplicate window drops what had been stored), until one succeeds.
 */
class OrderedPublisher {
  private queue: Entry[] = [];
  private head = 0;
  private sendIndex = 0;
  private inFlight = 0;
  private recovering = false;
  private rewindPending = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private highestAckedSeq = -1;
  private closed = false;
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly ctx: PublishContext) {}

  get length(): number {
    return this.queue.length - this.head;
  }

  add(entry: Entry): void {
    if (this.closed) return;
    this.queue.push(entry);
    if (entry.frame) this.ctx.tally.frames++;
    this.ctx.defer(this);
  }

  /** Resolves when everything added so far is acknowledged (or the stream was abandoned). */
  drained(): Promise<void> {
    if (this.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops retrying; returns how many entries were never acknowledged. */
  abandon(): number {
    const left = this.length;
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i]!.frame) this.ctx.tally.frames--;
    this.queue = [];
    this.head = 0;
    this.sendIndex = 0;
    this.wakeDrainWaiters();
    return left;
  }

  pump(): void {
    if (this.closed || this.rewindPending) return;
    const limit = this.recovering ? 1 : this.ctx.window;
    // A failure reported synchronously by send() sets rewindPending: stop and let settled() rewind.
    while (
      !this.rewindPending &&
      !this.closed &&
      this.inFlight < limit &&
      this.sendIndex < this.queue.length
    ) {
      if (!this.ctx.isConnected()) {
        this.scheduleRetry();
        return;
      }
      const entry = this.queue[this.sendIndex++]!;
      if (entry.acked) continue;
      this.send(entry);
    }
  }

  private send(entry: Entry): void {
    this.inFlight++;
    const headers: MsgHdrs | undefined = entry.meta && frameHeaders({ seq: entry.seq, ...entry.meta });
    this.ctx.jetstream.publish(entry.subject, entry.data, entry.msgID, headers, (err, ack) => {
      if (!err) {
        if (!entry.acked) {
          entry.acked = true;
          if (entry.seq >= 0) {
            if (entry.seq < this.highestAckedSeq && !ack?.duplicate) this.ctx.metrics.framesOutOfOrder.inc();
            if (entry.seq > this.highestAckedSeq) this.highestAckedSeq = entry.seq;
          }
        }
        this.settled(true);
        return;
      }
      this.ctx.metrics.publishRetries.inc();
      if (!this.recovering && !this.closed) {
        this.ctx.logger.warn({ err, subject: entry.subject }, "JetStream publish failed; resending in order");
      }
      this.recovering = true;
      this.rewindPending = true;
      this.settled(false);
    });
  }

  private settled(ok: boolean): void {
    this.inFlight--;
    if (this.closed) return;
    this.popAcked();
    if (this.rewindPending) {
      // Wait until everything in flight has settled, then resend from the oldest unacknowledged entry.
      if (this.inFlight > 0) return;
      this.rewindPending = false;
      this.sendIndex = this.head;
      if (!ok) {
        this.scheduleRetry();
        return;
      }
    } else if (ok) {
      this.recovering = false;
    }
    this.pump();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, RETRY_DELAY_MS);
  }

  private popAcked(): void {
    const now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head]!.acked) {
      const entry = this.queue[this.head++]!;
      if (entry.frame) {
        this.ctx.tally.frames--;
        this.ctx.metrics.framesPublished.inc();
        this.ctx.metrics.audioPublished.inc(entry.seconds);
        this.ctx.metrics.publishLatency.observe((now - entry.arrivedAt) / 1000);
      }
    }
    if (this.sendIndex < this.head) this.sendIndex = this.head;
    if (this.head > 256 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.sendIndex -= this.head;
      this.head = 0;
    }
    if (this.length === 0) this.wakeDrainWaiters();
  }

  private wakeDrainWaiters(): void {
    if (this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** Publishes one call's frames (per leg, in order) and events, with a bound on what may wait for acks. */
export class CallPublisher {
  private readonly legs = new Map<Leg, { stream: OrderedPublisher; nextSeq: number; subject: string }>();
  private readonly events: OrderedPublisher;
  private eventCount = 0;

  constructor(
    private readonly callId: string,
    private readonly ctx: PublishContext,
    private readonly maxBufferedFrames: number,
  ) {
    this.events = new OrderedPublisher(ctx);
  }

  /** Frames of this call not yet acknowledged. */
  buffered(): number {
    let n = 0;
    for (const state of this.legs.values()) n += state.stream.length;
    return n;
  }

  /**
   * Queues a frame; false (and nothing queued) when the call's buffer is full, unless `force` (the
   * leg's last frame, so consumers always see where a leg ends).
   */
  addFrame(
    leg: Leg,
    frame: { pcm: Int16Array; captureMs: number; sampleRate: 8000 | 16000; last: boolean; arrivedAt: number },
    force = false,
  ): boolean {
    if (!force) {
      const own = this.buffered();
      if (own >= this.maxBufferedFrames) return false;
      const tally = this.ctx.tally;
      if (tally.frames >= tally.hardLimit && own * tally.calls >= tally.frames) return false;
    }
    let state = this.legs.get(leg);
    if (!state) {
      state = {
        stream: new OrderedPublisher(this.ctx),
        nextSeq: 0,
        subject: subjects.audio(this.callId, leg),
      };
      this.legs.set(leg, state);
    }
    const seq = state.nextSeq++;
    state.stream.add({
      subject: state.subject,
      data: new Uint8Array(frame.pcm.buffer, frame.pcm.byteOffset, frame.pcm.byteLength),
      meta: { captureMs: frame.captureMs, sampleRate: frame.sampleRate, last: frame.last },
      msgID: frameMsgId(this.callId, leg, seq),
      seq,
      arrivedAt: frame.arrivedAt,
      acked: false,
      frame: true,
      seconds: frame.pcm.length / frame.sampleRate,
    });
    return true;
  }

  /** Sequence number of the leg's last queued frame, -1 if none. */
  lastSeq(leg: Leg): number {
    return (this.legs.get(leg)?.nextSeq ?? 0) - 1;
  }

  /** Queues a CALLS event; `key` makes its message id, so a retried publish is deduplicated. */
  addEvent(subject: string, data: Uint8Array, key: string): void {
    this.eventCount++;
    this.events.add({
      subject,
      data,
      meta: undefined,
      msgID: `e.${this.callId}.${key}`,
      seq: -1,
      arrivedAt: performance.now(),
      acked: false,
      frame: false,
      seconds: 0,
    });
  }

  nextEventNumber(): number {
    return this.eventCount;
  }

  /** Waits until every frame is acknowledged, then until the events are. */
  async framesDrained(): Promise<void> {
    await Promise.all([...this.legs.values()].map(({ stream }) => stream.drained()));
  }

  eventsDrained(): Promise<void> {
    return this.events.drained();
  }

  /** Gives up on whatever is still unpublished; returns how many messages that was. */
  abandon(): number {
    let n = this.events.abandon();
    for (const { stream } of this.legs.values()) n += stream.abandon();
    return n;
  }
}
