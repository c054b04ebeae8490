import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";

export interface Messaging {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** True while the connection is up; a readiness check. */
  isConnected(): boolean;
  /** Drains subscriptions and flushes pending publishes, then closes. */
  drain(): Promise<void>;
}

export class NatsUnavailableError extends Error {
  override readonly name = "NatsUnavailableError";
}

/** Connects with endless reconnects (a NATS restart must not kill a service) and logs state changes. */
export async function connectMessaging(options: {
  servers: string[];
  name: string;
  logger: Logger;
}): Promise<Messaging> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name,
      maxReconnectAttempts: -1,
      // Async stack traces cost a capture per request; the hot paths (frame publishes) cannot afford it.
      noAsyncTraces: true,
      reconnectTimeWait: 1000,
      pingInterval: 10_000,
    });
  } catch (cause) {
    throw new NatsUnavailableError(
      `cannot reach NATS at ${options.servers.join(", ")}; check NATS_URL and that nats-server runs with -js`,
      { cause },
    );
  }
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") connected = false;
      if (s.type === "reconnect") connected = true;
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") {
        options.logger.warn({ nats: s.type }, "nats connection state changed");
      }
    }
  })();
  const jsm = await jetstreamManager(nc).catch((cause: unknown) => {
    throw new NatsUnavailableError("NATS answers but JetStream is not enabled; start nats-server with -js", {
      cause,
    });
  });
  return {
    nc,
    js: jetstream(nc),
    jsm,
    isConnected: () => connected && !nc.isClosed(),
    drain: async () => {
      if (!nc.isClosed()) await nc.drain();
    },
  };
}
