import type { Database } from "@callscribe/db";
import type { Messaging } from "@callscribe/messaging";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Taxonomy } from "./analysis/index.ts";
import { CallStore } from "./call-store.ts";
import type { SummarizerConfig } from "./config.ts";
import { startEventConsumers, type EventConsumers } from "./event-consumer.ts";
import { createSummarizerMetrics } from "./metrics.ts";
import { TicketWriter } from "./ticket-writer.ts";
import { startTimeoutSweep } from "./timeout-sweep.ts";
import { startWebhookDispatcher, type WebhookDispatcher } from "./webhook/webhook-dispatcher.ts";

export interface Summarizer {
  consumers: EventConsumers;
  webhooks: WebhookDispatcher | undefined;
  /** Stops taking events, then the sweep and the webhook worker, each finishing what it holds. */
  stop(): Promise<void>;
}

/** Wires the consumers, the timeout sweep and the webhook worker over one database and NATS. */
export async function startSummarizer(
  config: Pick<SummarizerConfig, "consumer" | "timeouts" | "webhook" | "utcOffsetMinutes">,
  deps: { database: Database; messaging: Messaging; taxonomy: Taxonomy; logger: Logger; registry: Registry },
): Promise<Summarizer> {
  const metrics = createSummarizerMetrics(deps.registry);
  const db = deps.database.db;
  const store = new CallStore(db);
  const writer = new TicketWriter(db, { taxonomy: deps.taxonomy, utcOffsetMinutes: config.utcOffsetMinutes });
  const consumers = await startEventConsumers({
    messaging: deps.messaging,
    store,
    writer,
    logger: deps.logger,
    metrics,
    ...config.consumer,
  });
  const sweep = startTimeoutSweep({
    store,
    writer,
    logger: deps.logger,
    metrics,
    intervalMs: config.timeouts.sweepIntervalMs,
    incompleteAfterMs: config.timeouts.incompleteAfterMs,
    idleCallTimeoutMs: config.timeouts.idleCallTimeoutMs,
  });
  const webhooks =
    config.webhook.urls.length > 0
      ? startWebhookDispatcher({ db, logger: deps.logger, metrics, batch: 32, ...config.webhook })
      : undefined;
  return {
    consumers,
    webhooks,
    async stop() {
      await consumers.stop();
      await sweep.stop();
      await webhooks?.stop();
    },
  };
}
