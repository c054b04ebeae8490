import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { latencyBuckets } from "@callscribe/runtime";

export function createSummarizerMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: "summarizer_events_total",
      help: "JetStream events handled, by kind and outcome (stored, retried, parked)",
      labelNames: ["kind", "outcome"] as const,
      registers: [registry],
    }),
    tickets: new Counter({
      name: "summarizer_tickets_total",
      help: "Tickets written, by completeness",
      labelNames: ["complete"] as const,
      registers: [registry],
    }),
    endToTicket: new Histogram({
      name: "summarizer_call_end_to_ticket_seconds",
      help: "From the call's end to its ticket's commit",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    ticketBuild: new Histogram({
      name: "summarizer_ticket_build_seconds",
      help: "Time to analyse a call and commit its ticket",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: "summarizer_webhook_attempts_total",
      help: "Webhook delivery attempts, by outcome (delivered, retry, dead)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    webhookPending: new Gauge({
      name: "summarizer_webhook_deliveries_pending",
      help: "Webhook deliveries waiting for a (next) attempt",
      registers: [registry],
    }),
  };
}

export type SummarizerMetrics = ReturnType<typeof createSummarizerMetrics>;
