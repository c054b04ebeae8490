import { Counter, Gauge, type Registry } from "prom-client";

export interface SipMetrics {
  requests: Counter<"method">;
  responses: Counter<"status">;
  parseErrors: Counter<"reason">;
  callsRejected: Counter<"reason">;
  callsStarted: Counter<"source">;
  callsEnded: Counter<"reason">;
}

export function createSipMetrics(
  registry: Registry,
  gauges: { activeCalls: () => number; transactions: () => number },
): SipMetrics {
  const registers = [registry];
  new Gauge({
    name: "ingest_sip_calls_active",
    help: "Calls in setup or answered",
    registers,
    collect() {
      this.set(gauges.activeCalls());
    },
  });
  new Gauge({
    name: "ingest_sip_transactions",
    help: "Open SIP server and client transactions",
    registers,
    collect() {
      this.set(gauges.transactions());
    },
  });
  return {
    requests: new Counter({
      name: "ingest_sip_requests_total",
      help: "SIP requests received",
      labelNames: ["method"],
      registers,
    }),
    responses: new Counter({
      name: "ingest_sip_responses_sent_total",
      help: "SIP responses sent",
      labelNames: ["status"],
      registers,
    }),
    parseErrors: new Counter({
      name: "ingest_sip_parse_errors_total",
      help: "Datagrams or TCP frames that were not valid SIP",
      labelNames: ["reason"],
      registers,
    }),
    callsRejected: new Counter({
      name: "ingest_sip_calls_rejected_total",
      help: "INVITEs refused, by reason",
      labelNames: ["reason"],
      registers,
    }),
    callsStarted: new Counter({
      name: "ingest_sip_calls_started_total",
      help: "Calls answered",
      labelNames: ["source"],
      registers,
    }),
    callsEnded: new Counter({
      name: "ingest_sip_calls_ended_total",
      help: "Calls ended, by reason",
      labelNames: ["reason"],
      registers,
    }),
  };
}
