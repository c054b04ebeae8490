import type { Logger } from "pino";
import type { CallStore } from "./call-store.ts";
import type { SummarizerMetrics } from "./metrics.ts";
import type { TicketWriter } from "./ticket-writer.ts";

export interface TimeoutSweepOptions {
  store: CallStore;
  writer: TicketWriter;
  logger: Logger;
  metrics: SummarizerMetrics;
  intervalMs: number;
  /** A call that ended this long ago with a leg still not done gets an incomplete ticket. */
  incompleteAfterMs: number;
  /** A call that never ended and sent no event for this long gets an incomplete ticket. */
  idleCallTimeoutMs: number;
}

/**
 * Every interval: writes the tickets of ended calls that are complete but have none (a restart
 * between the last event and the ticket), and incomplete tickets for calls past their timeouts.
 */
export function startTimeoutSweep(options: TimeoutSweepOptions): { stop(): Promise<void> } {
  const { store, writer, metrics } = options;
  const log = options.logger.child({ component: "timeout-sweep" });
  let running: Promise<void> = Promise.resolve();

  async function sweep(): Promise<void> {
    for (const callId of await store.endedCallsWithoutTicket()) {
      const result = await writer.write({ callId });
      if (result.outcome === "written") {
        metrics.tickets.inc({ complete: "true" });
        log.info({ callId }, "ticket written");
      }
    }
    const now = Date.now();
    const overdue = await store.overdueCalls(
      new Date(now - options.incompleteAfterMs),
      new Date(now - options.idleCallTimeoutMs),
    );
    for (const call of overdue) {
      const reason = call.ended
        ? `not every leg finished within ${Math.round(options.incompleteAfterMs / 1000)} s of the call's end`
        : `the call never ended and sent nothing for ${Math.round(options.idleCallTimeoutMs / 1000)} s`;
      const result = await writer.write({ callId: call.id, incompleteReason: reason });
      if (result.outcome === "written") {
        metrics.tickets.inc({ complete: String(!result.incomplete) });
        log.warn({ callId: call.id, reason }, "incomplete ticket written after timeout");
      }
    }
  }

  const timer = setInterval(() => {
    running = running
      .then(sweep)
      .catch((err: unknown) => log.error({ err }, "timeout sweep failed; retrying"));
  }, options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
