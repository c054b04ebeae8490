/**
 * Waits until DATABASE_URL has every migration in migrations/ applied (by the migrate Job), then
 * exits 0; exits 1 after ten minutes (Kubernetes then restarts it). An init container of the
 * services that write, so they never run against an older schema.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { createDatabase } from "../client.ts";
import { migrationsFolder } from "../migrate.ts";
import { loadMigrateConfig } from "./config.ts";

const logger = pino({ name: "await-migrations" });

async function applied(url: string): Promise<number> {
  const database = await createDatabase({ url });
  try {
    const result = await database.db.execute(
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    return (result as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0;
  } finally {
    await database.close();
  }
}

async function main(): Promise<void> {
  const config = loadMigrateConfig();
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta/_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  const timeoutS = 600;
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const n = await applied(config.databaseUrl).catch(() => 0);
    if (n >= journal.entries.length) {
      logger.info({ migrations: n }, "schema is current");
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${n} of ${journal.entries.length} migrations applied after ${timeoutS} s; check the migrate Job`,
      );
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

main().catch((err: unknown) => {
  logger.fatal({ err }, "schema not current");
  process.exit(1);
});
