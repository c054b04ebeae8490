import { createDatabase, migrateDatabase } from "@callscribe/db";
import { connectMessaging, ensureStreams } from "@callscribe/messaging";
import { createLogger, createMetricsRegistry, onShutdown, startOpsServer } from "@callscribe/runtime";
import { loadConfig } from "./config.ts";
import { startSummarizer } from "./summarizer.ts";
import { loadTaxonomyFile } from "./taxonomy-file.ts";

// Before config is read we do not know the level; errors there are fatal and always logged.
let logger = createLogger({ service: "summarizer" });

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger({ service: "summarizer", level: config.logLevel, logPii: config.logPii });
  const registry = createMetricsRegistry("summarizer");
  const taxonomy = await loadTaxonomyFile(config.taxonomyPath);

  const database = await createDatabase({
    url: config.databaseUrl,
    poolSize: config.databasePoolSize,
    logger,
  });
  if (config.migrate) await migrateDatabase(database);
  const messaging = await connectMessaging({ servers: config.natsServers, name: "summarizer", logger });
  await ensureStreams(messaging.jsm);

  const summarizer = await startSummarizer(config, { database, messaging, taxonomy, logger, registry });
  let databaseUp = true;
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: {
      nats: () => messaging.isConnected(),
      database: async () => {
        databaseUp = await database.ping().then(
          () => true,
          () => false,
        );
        return databaseUp;
      },
      consumers: () => summarizer.consumers.running(),
    },
  });
  logger.info(
    { opsPort: ops.port, webhooks: config.webhook.urls.length, rules: taxonomy.rules.length },
    "summarizer consuming calls and results",
  );

  onShutdown({
    logger,
    deadlineMs: config.shutdownDeadlineMs,
    steps: [
      {
        name: "stop consuming, finish the event in hand and the webhook attempts",
        run: () => summarizer.stop(),
      },
      { name: "drain NATS", run: () => messaging.drain() },
      { name: "close database", run: () => database.close() },
      { name: "close ops server", run: () => ops.close() },
    ],
  });
}

main().catch((err) => {
  logger.fatal({ err });
  process.exit(1);
});
