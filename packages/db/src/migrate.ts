import { fileURLToPath } from "node:url";
import { migrate as migratePostgres } from "drizzle-orm/node-postgres/migrator";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { Database, Schema } from "./client.ts";

/** The repository's migrations/ folder, wherever the process was started from. */
export const migrationsFolder = fileURLToPath(new URL("../../../migrations/", import.meta.url));

/** Applies the migrations not yet applied, in one transaction; a no-op when all are. */
export async function migrateDatabase(database: Database): Promise<void> {
  const config = { migrationsFolder };
  // `kind` says which driver built `db`; the migrators differ only in the type they accept.
  if (database.kind === "pglite") {
    await migratePglite(database.db as PgliteDatabase<Schema>, config);
  } else {
    await migratePostgres(database.db as NodePgDatabase<Schema>, config);
  }
}
