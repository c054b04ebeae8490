import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { asc, eq } from "drizzle-orm";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calls, outbox, webhookAttempts, webhookDeliveries, type Database } from "@callscribe/db";
import { createSummarizerMetrics } from "../../services/summarizer/src/metrics.ts";
import { verifyWebhook, WebhookHeader } from "../../services/summarizer/src/webhook/signature.ts";
import {
  startWebhookDispatcher,
  type WebhookDispatcherOptions,
} from "../../services/summarizer/src/webhook/webhook-dispatcher.ts";
import { uniqueCallId } from "../support/infra.ts";
import { createTestDatabase, until } from "./support.ts";

const secret = "a-secret-the-hotline-shares";
let database: Database;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ database, drop } = await createTestDatabase("webhook"));
});
afterAll(async () => {
  await drop?.();
});

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** A hotline endpoint that answers each request with the next status of `script` (then the last). */
async function hotline(
  script: (number | "hang")[],
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      const next = script[Math.min(received.length - 1, script.length - 1)]!;
      if (next !== "hang") res.writeHead(next).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tickets`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function queueTicket(): Promise<{ callId: string; outboxId: number }> {
  const callId = uniqueCallId("hook");
  await database.db
    .insert(calls)
    .values({ id: callId, source: "sip", startedAt: new Date("2026-03-02T09:15:00Z") });
  const [row] = await database.db
    .insert(outbox)
    .values({ callId, kind: "ticket.created", ticketVersion: 1, payload: { callId, category: "water" } })
    .returning({ id: outbox.id });
  return { callId, outboxId: row!.id };
}

function dispatcher(urls: string[], overrides: Partial<WebhookDispatcherOptions> = {}) {
  return startWebhookDispatcher({
    db: database.db,
    urls,
    secret,
    timeoutMs: 1_000,
    maxAttempts: 5,
    backoff: { baseMs: 20, maxMs: 100 },
    pollMs: 20,
    batch: 8,
    logger: pino({ level: "silent" }),
    metrics: createSummarizerMetrics(new Registry()),
    ...overrides,
  });
}

async function deliveryOf(outboxId: number) {
  const [delivery] = await database.db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.outboxId, outboxId));
  return delivery;
}

const attemptsOf = (deliveryId: number) =>
  database.db
    .select({
      attempt: webhookAttempts.attempt,
      statusCode: webhookAttempts.statusCode,
      error: webhookAttempts.error,
      delivered: webhookAttempts.delivered,
    })
    .from(webhookAttempts)
    .where(eq(webhookAttempts.deliveryId, deliveryId))
    .orderBy(asc(webhookAttempts.attempt));

describe("hotline webhook delivery", () => {
  it("retries 5xx and 4xx answers until a 2xx, signing every attempt with the same idempotency key", async () => {
    const endpoint = await hotline([503, 429, 200]);
    const { callId, outboxId } = await queueTicket();
    const worker = dispatcher([endpoint.url]);
    try {
      const delivery = await until("delivered", async () => {
        const d = await deliveryOf(outboxId);
        return d?.status === "delivered" ? d : undefined;
      });
      expect(await attemptsOf(delivery.id)).toEqual([
        { attempt: 1, statusCode: 503, error: "HTTP 503", delivered: false },
        { attempt: 2, statusCode: 429, error: "HTTP 429", delivered: false },
        { attempt: 3, statusCode: 200, error: null, delivered: true },
      ]);
      expect(endpoint.received).toHaveLength(3);
      for (const { headers, body } of endpoint.received) {
        expect(headers[WebhookHeader.idempotencyKey.toLowerCase()]).toBe(`${callId}.ticket.created.v1`);
        const signature = String(headers[WebhookHeader.signature.toLowerCase()]);
        const timestamp = String(headers[WebhookHeader.timestamp.toLowerCase()]);
        expect(verifyWebhook(secret, { signature, timestamp }, body, Math.floor(Date.now() / 1000))).toBe(
          true,
        );
        expect(
          verifyWebhook(
            "another-secret-entirely",
            { signature, timestamp },
            body,
            Math.floor(Date.now() / 1000),
          ),
        ).toBe(false);
        expect(JSON.parse(body)).toEqual({
          event: "ticket.created",
          idempotencyKey: `${callId}.ticket.created.v1`,
          ticket: { callId, category: "water" },
        });
      }
      const [message] = await database.db.select().from(outbox).where(eq(outbox.id, outboxId));
      expect(message).toMatchObject({ status: "delivered", attempts: 3 });
    } finally {
      await worker.stop();
      await endpoint.close();
    }
  });

  it("retries an endpoint that does not answer in time", async () => {
    const endpoint = await hotline(["hang", 204]);
    const { outboxId } = await queueTicket();
    const worker = dispatcher([endpoint.url], { timeoutMs: 200 });
    try {
      const delivery = await until("delivered", async () => {
        const d = await deliveryOf(outboxId);
        return d?.status === "delivered" ? d : undefined;
      });
      expect(await attemptsOf(delivery.id)).toEqual([
        { attempt: 1, statusCode: null, error: "no answer within 200 ms", delivered: false },
        { attempt: 2, statusCode: 204, error: null, delivered: true },
      ]);
    } finally {
      await worker.stop();
      await endpoint.close();
    }
  });

  it("parks a delivery as dead after the last attempt and marks its outbox row failed", async () => {
    const endpoint = await hotline([500]);
    const { outboxId } = await queueTicket();
    const worker = dispatcher([endpoint.url], { maxAttempts: 3 });
    try {
      const delivery = await until("dead", async () => {
        const d = await deliveryOf(outboxId);
        return d?.status === "dead" ? d : undefined;
      });
      expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 500, lastError: "HTTP 500" });
      expect(delivery.deadAt).toBeInstanceOf(Date);
      expect((await attemptsOf(delivery.id)).map((a) => a.statusCode)).toEqual([500, 500, 500]);
      const [message] = await database.db.select().from(outbox).where(eq(outbox.id, outboxId));
      expect(message?.status).toBe("failed");
      // Dead stays dead: no fourth request.
      await new Promise((r) => setTimeout(r, 300));
      expect(endpoint.received).toHaveLength(3);
    } finally {
      await worker.stop();
      await endpoint.close();
    }
  });

  it("records a refused connection as a failed attempt and delivers to each URL separately", async () => {
    const up = await hotline([200]);
    const down = await hotline([200]);
    await down.close();
    const { outboxId } = await queueTicket();
    const worker = dispatcher([up.url, down.url], { maxAttempts: 2 });
    try {
      await until("both settled", async () => {
        const rows = await database.db
          .select()
          .from(webhookDeliveries)
          .where(eq(webhookDeliveries.outboxId, outboxId));
        return rows.length === 2 && rows.every((r) => r.status !== "pending") ? rows : undefined;
      });
      const rows = await database.db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.outboxId, outboxId));
      const byUrl = Object.fromEntries(rows.map((r) => [r.url, r]));
      expect(byUrl[up.url]).toMatchObject({ status: "delivered", attempts: 1 });
      expect(byUrl[down.url]).toMatchObject({ status: "dead", attempts: 2, lastStatusCode: null });
      expect(byUrl[down.url]?.lastError).toMatch(/^request failed: .*ECONNREFUSED/);
    } finally {
      await worker.stop();
      await up.close();
    }
  });
});
