import { pino } from "pino";
import { createDatabase } from "../client.ts";
import { migrateDatabase, migrationsFolder } from "../migrate.ts";
import { loadMigrateConfig } from "./config.ts";

const logger = pino({ name: "migrate" });

async function main(): Promise<void> {
  const config = loadMigrateConfig();
  const database = await createDatabase({ url: config.databaseUrl, logger });
  try {
    await migrateDatabase(database);
    logger.info({ migrationsFolder }, "migrations applied");
  } finally {
    await database.close();
  }
}

main().catch((err: unknown) => {
  logger.fatal({ err }, "migration failed");
  process.exit(1);
});
