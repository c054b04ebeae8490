import {
  createInbox,
  headers as natsHeaders,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";

export interface PubAckResult {
  duplicate: boolean;
}

export class JetStreamPublishError extends Error {
  override readonly name = "JetStreamPublishError";
}

type Callback = (err: Error | undefined, ack?: PubAckResult) => void;

const MSG_ID_HEADER = "Nats-Msg-Id";
const SWEEP_MS = 50;
const decoder = new TextDecoder();

/**
 * Asynchronous JetStream publishing, as nats.go's PublishAsync does it: each message is a core publish
 * with a reply subject under one inbox wildcard the publisher subscribes to, and the stream's PubAck
 * arrives there. Per message that costs a map entry, where `js.publish()` costs a request object, a
 * promise, a timer and two stack-capturing Error objects — a third of ingest's CPU at a few thousand
 * frames per second. Timeouts are swept in send order by one timer.
 */
export class AsyncJetStreamPublisher {
  private readonly prefix: string;
  private readonly subscription: Subscription;
  private readonly pending = new Map<number, { callback: Callback; deadline: number }>();
  private nextId = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.prefix = createInbox();
    this.subscription = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const id = Number(msg.subject.slice(this.prefix.length + 1));
        const entry = this.pending.get(id);
        if (!entry) return; // timed out already; the entry was resent under a new reply subject
        this.pending.delete(id);
        // No responders (no stream on the subject, JetStream down) come back as a 503 status message.
        if (msg.headers?.hasError) {
          entry.callback(
            new JetStreamPublishError(`JetStream answered ${msg.headers.code} ${msg.headers.description}`),
          );
          return;
        }
        const text = decoder.decode(msg.data);
        let ack: { error?: { code?: number; description?: string }; duplicate?: boolean; stream?: string };
        try {
          ack = JSON.parse(text) as typeof ack;
        } catch {
          entry.callback(new JetStreamPublishError(`JetStream sent an unreadable ack: ${text.slice(0, 80)}`));
          return;
        }
        if (ack.error) {
          entry.callback(
            new JetStreamPublishError(
              `JetStream refused the message: ${ack.error.code} ${ack.error.description}`,
            ),
          );
        } else if (!ack.stream) {
          entry.callback(new JetStreamPublishError("JetStream ack names no stream"));
        } else {
          entry.callback(undefined, { duplicate: ack.duplicate === true });
        }
      },
    });
    this.sweeper = setInterval(() => this.sweep(performance.now()), SWEEP_MS);
    this.sweeper.unref();
    void this.watchConnection();
  }

  /**
   * A publish in flight when the connection drops either reached the old server or was lost with the
   * socket; its ack will never come. Failing it at once, instead of at its timeout, lets the caller
   * rewind and resend it before anything newer: otherwise newer publishes sent after the reconnect
   * reach the new server first and the stream stores the leg's frames out of order.
   */
  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect" || status.type === "reconnect") {
        this.failAll(
          `NATS connection ${status.type === "disconnect" ? "lost" : "re-established"}; no ack will come`,
        );
      }
    }
  }

  private failAll(reason: string): void {
    if (this.pending.size === 0) return;
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const entry of left) entry.callback(new JetStreamPublishError(reason));
  }

  /** Publishes with a message id (for the stream's deduplication); `callback` runs once, with the ack or an error. */
  publish(
    subject: string,
    data: Uint8Array,
    msgID: string,
    hdrs: MsgHdrs | undefined,
    callback: Callback,
  ): void {
    const h = hdrs ?? natsHeaders();
    h.set(MSG_ID_HEADER, msgID);
    const id = this.nextId++;
    this.pending.set(id, { callback, deadline: performance.now() + this.timeoutMs });
    try {
      this.nc.publish(subject, data, { reply: `${this.prefix}.${id}`, headers: h });
    } catch (err) {
      this.pending.delete(id);
      callback(err instanceof Error ? err : new JetStreamPublishError(String(err)));
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.subscription.unsubscribe();
    this.failAll("publisher closed");
  }

  private sweep(now: number): void {
    // Entries are in send order with one timeout, so the expired ones are at the front.
    for (const [id, entry] of this.pending) {
      if (entry.deadline > now) break;
      this.pending.delete(id);
      entry.callback(new JetStreamPublishError(`no JetStream ack within ${this.timeoutMs} ms`));
    }
  }
}
