import { and, eq, inArray, sql } from "drizzle-orm";
import { outbox, webhookAttempts, webhookDeliveries, type Db, type WebhookDelivery } from "@callscribe/db";
import type { Logger } from "pino";
import type { SummarizerMetrics } from "../metrics.ts";
import { retryDelayMs, type BackoffPolicy } from "./backoff.ts";
import { signWebhook, WebhookHeader } from "./signature.ts";

export interface WebhookDispatcherOptions {
  db: Db;
  urls: string[];
  secret: string;
  timeoutMs: number;
  /** After this many failed attempts a delivery is dead (shown on the dashboard, never retried). */
  maxAttempts: number;
  backoff: BackoffPolicy;
  pollMs: number;
  /** Deliveries attempted at once. */
  batch: number;
  logger: Logger;
  metrics: SummarizerMetrics;
  random?: () => number;
  now?: () => number;
}

export interface WebhookDispatcher {
  /** One pass: fans new outbox rows out to the URLs, then attempts the deliveries that are due. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

interface AttemptResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;

/**
 * The transactional outbox's delivery side: each outbox row becomes one delivery per configured
 * URL; each delivery is POSTed, signed, until a 2xx, with exponential backoff and jitter, every
 * attempt recorded. Deliveries are claimed with a lease (FOR UPDATE SKIP LOCKED), so replicas
 * share the work and a replica that dies mid-attempt leaves it to another.
 */
export function startWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { db, metrics } = options;
  const log = options.logger.child({ component: "webhooks" });
  const random = options.random ?? Math.random;
  const leaseMs = options.timeoutMs + 30_000;

  async function fanOut(): Promise<void> {
    await db.transaction(async (tx) => {
      const fresh = rowsOf<{ id: number; call_id: string; kind: string; ticket_version: number }>(
        await tx.execute(sql`
          select o.id, o.call_id, o.kind, o.ticket_version from ${outbox} o
          where o.status = 'pending'
            and not exists (select 1 from ${webhookDeliveries} d where d.outbox_id = o.id)
          order by o.id limit ${options.batch}
          for update skip locked`),
      );
      if (fresh.length === 0) return;
      await tx
        .insert(webhookDeliveries)
        .values(
          fresh.flatMap((o) =>
            options.urls.map((url) => ({
              outboxId: Number(o.id),
              callId: o.call_id,
              url,
              idempotencyKey: `${o.call_id}.${o.kind}.v${o.ticket_version}`,
            })),
          ),
        )
        .onConflictDoNothing();
    });
  }

  async function claimDue(): Promise<(WebhookDelivery & { body: string; kind: string })[]> {
    const claimed = rowsOf<{ id: string | number }>(
      await db.execute(sql`
        update ${webhookDeliveries} set next_attempt_at = now() + ${`${leaseMs} milliseconds`}::interval
        where id in (
          select id from ${webhookDeliveries}
          where status = 'pending' and next_attempt_at <= now()
          order by next_attempt_at limit ${options.batch}
          for update skip locked)
        returning id`),
    ).map((r) => Number(r.id));
    if (claimed.length === 0) return [];
    const rows = await db
      .select({ delivery: webhookDeliveries, payload: outbox.payload, kind: outbox.kind })
      .from(webhookDeliveries)
      .innerJoin(outbox, eq(outbox.id, webhookDeliveries.outboxId))
      .where(inArray(webhookDeliveries.id, claimed));
    return rows.map((r) => ({
      ...r.delivery,
      kind: r.kind,
      body: JSON.stringify({ event: r.kind, idempotencyKey: r.delivery.idempotencyKey, ticket: r.payload }),
    }));
  }

  async function attempt(d: {
    url: string;
    body: string;
    kind: string;
    idempotencyKey: string;
  }): Promise<AttemptResult> {
    const started = performance.now();
    const timestamp = Math.floor((options.now?.() ?? Date.now()) / 1000);
    try {
      const response = await fetch(d.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [WebhookHeader.signature]: signWebhook(options.secret, timestamp, d.body),
          [WebhookHeader.timestamp]: String(timestamp),
          [WebhookHeader.idempotencyKey]: d.idempotencyKey,
          [WebhookHeader.event]: d.kind,
        },
        body: d.body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      const delivered = response.status >= 200 && response.status < 300;
      return {
        delivered,
        statusCode: response.status,
        error: delivered ? null : `HTTP ${response.status}`,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      return {
        delivered: false,
        statusCode: null,
        error: timedOut ? `no answer within ${options.timeoutMs} ms` : `request failed: ${cause}`,
        durationMs: Math.round(performance.now() - started),
      };
    }
  }

  async function record(d: WebhookDelivery, result: AttemptResult, attemptedAt: Date): Promise<void> {
    const number = d.attempts + 1;
    const dead = !result.delivered && number >= options.maxAttempts;
    const outcome = result.delivered ? "delivered" : dead ? "dead" : "retry";
    await db.transaction(async (tx) => {
      await tx
        .insert(webhookAttempts)
        .values({ deliveryId: d.id, attempt: number, attemptedAt, ...result })
        .onConflictDoNothing();
      const nextAttemptAt = new Date(Date.now() + retryDelayMs(number, options.backoff, random()));
      await tx
        .update(webhookDeliveries)
        .set({
          attempts: number,
          status: result.delivered ? "delivered" : dead ? "dead" : "pending",
          lastStatusCode: result.statusCode,
          lastError: result.error,
          nextAttemptAt,
          deliveredAt: result.delivered ? attemptedAt : null,
          deadAt: dead ? new Date() : null,
        })
        .where(eq(webhookDeliveries.id, d.id));
      // The outbox row is settled once every URL has it, or failed once one gave up.
      await tx.execute(sql`
        update ${outbox} o set
          status = case when exists (select 1 from ${webhookDeliveries} x where x.outbox_id = o.id and x.status = 'dead')
                        then 'failed'::outbox_status else 'delivered'::outbox_status end,
          delivered_at = case when exists (select 1 from ${webhookDeliveries} x where x.outbox_id = o.id and x.status = 'dead')
                        then null else now() end,
          attempts = (select coalesce(sum(x.attempts), 0) from ${webhookDeliveries} x where x.outbox_id = o.id)
        where o.id = ${d.outboxId}
          and not exists (select 1 from ${webhookDeliveries} x where x.outbox_id = o.id and x.status = 'pending')`);
    });
    metrics.webhookAttempts.inc({ outcome });
    const fields = { callId: d.callId, deliveryId: d.id, attempt: number, status: result.statusCode };
    if (outcome === "dead")
      log.error({ ...fields, error: result.error }, "webhook delivery dead after its last attempt");
    else if (outcome === "retry")
      log.warn({ ...fields, error: result.error }, "webhook attempt failed; will retry");
    else log.info(fields, "webhook delivered");
  }

  async function runOnce(): Promise<number> {
    await fanOut();
    const due = await claimDue();
    await Promise.all(
      due.map(async (d) => {
        const attemptedAt = new Date();
        await record(d, await attempt(d), attemptedAt);
      }),
    );
    const [pending] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, "pending")));
    metrics.webhookPending.set(pending?.n ?? 0);
    return due.length;
  }

  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      let worked = 0;
      try {
        worked = await runOnce();
      } catch (err) {
        log.error({ err }, "webhook pass failed; retrying");
      }
      if (worked === 0 && !stopped) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, options.pollMs);
        });
      }
    }
  })();
  return {
    runOnce,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
