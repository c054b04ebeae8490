import { connectMessaging, ensureStreams } from "@callscribe/messaging";
import { createLogger, createMetricsRegistry, onShutdown, startOpsServer } from "@callscribe/runtime";
import { loadConfig } from "./config.ts";
import { createIngest } from "./ingest.ts";

// Before config is read we do not know the level; errors there are fatal and always logged.
let logger = createLogger({ service: "ingest" });

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger({ service: "ingest", level: config.logLevel, logPii: config.logPii });
  const registry = createMetricsRegistry("ingest");

  const messaging = await connectMessaging({ servers: config.natsServers, name: "ingest", logger });
  await ensureStreams(messaging.jsm);

  const ingest = await createIngest(config, { messaging, logger, registry });
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: { nats: () => messaging.isConnected(), calls: () => ingest.ready() },
  });
  logger.info(
    { sipPort: ingest.sipPort, udp: config.sip.udp, tcp: config.sip.tcp, opsPort: ops.port },
    "ingest listening for SIP",
  );

  onShutdown({
    logger,
    deadlineMs: config.shutdownDeadlineMs,
    steps: [
      // New INVITEs and OPTIONS get 503 from here, so an SBC routes to another recorder.
      { name: "stop taking calls", run: () => ingest.stopAcceptingCalls() },
      { name: "end live calls with BYE", run: () => ingest.endAllCalls() },
      { name: "close SIP and media", run: () => ingest.close() },
      { name: "drain NATS", run: () => messaging.drain() },
      { name: "close ops server", run: () => ops.close() },
    ],
  });
}

main().catch((err) => {
  logger.fatal({ err });
  process.exit(1);
});
