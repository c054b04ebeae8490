import { createLogger, createMetricsRegistry, onShutdown, startOpsServer } from "@callscribe/runtime";
import { sql } from "drizzle-orm";
import { loadConfig } from "./config.ts";
import { startDashboard } from "./dashboard.ts";
import { createSqlRunner } from "./sql-runner.ts";

// Before config is read we do not know the level; errors there are fatal and always logged.
let logger = createLogger({ service: "dashboard" });

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger({ service: "dashboard", level: config.logLevel, logPii: config.logPii });
  const registry = createMetricsRegistry("dashboard");

  const db = createSqlRunner({
    url: config.database.url,
    role: config.database.role,
    poolSize: config.database.poolSize,
    statementTimeoutMs: config.database.statementTimeoutMs,
    workMemMb: config.database.workMemMb,
    applicationName: "callscribe-dashboard",
    onIdleError: (err) => logger.error({ err }, "idle database connection lost"),
  });
  // Fails here, before listening, when Postgres is down or the role is missing or not granted.
  await db.rows(sql`select 1`);

  const server = await startDashboard(config.http, { db, tokens: config.tokens, logger, registry });
  let draining = false;
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: {
      serving: () => !draining,
      database: async () => {
        await db.rows(sql`select 1`);
        return true;
      },
    },
  });
  logger.info({ port: server.port, opsPort: ops.port, role: config.database.role }, "dashboard listening");

  onShutdown({
    logger,
    deadlineMs: config.shutdownDeadlineMs,
    steps: [
      { name: "report not ready", run: () => void (draining = true) },
      { name: "finish requests", run: () => server.close() },
      { name: "close database pool", run: () => db.close() },
      { name: "close ops server", run: () => ops.close() },
    ],
  });
}

main().catch((err) => {
  logger.fatal({ err });
  process.exit(1);
});
