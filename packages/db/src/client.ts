import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePostgres } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { Pool } from "pg";
import { DatabaseConfigError, DatabaseUnavailableError } from "./errors.ts";
import * as schema from "./schema.ts";

export type Schema = typeof schema;

/** The drizzle API common to both backends, so callers write one code path. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type DatabaseKind = "postgres" | "pglite";

export interface Database {
  readonly db: Db;
  readonly kind: DatabaseKind;
  /** Resolves when the database answers a query; rejects with DatabaseUnavailableError. */
  ping(): Promise<void>;
  /** Closes the pool or the embedded store; later calls do nothing. */
  close(): Promise<void>;
}

/** The subset of a pino logger this package uses. */
export interface DatabaseLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DatabaseOptions {
  /** A postgres:// or postgresql:// URL. Without one, the embedded PGlite store is used. */
  url?: string;
  /** Folder PGlite keeps its files in; in memory when absent. Not used with `url`. */
  pgliteDir?: string;
  /** Connections the Postgres pool may open (pg's default: 10). Not used with PGlite. */
  poolSize?: number;
  logger?: DatabaseLogger;
}

const CONNECT_TIMEOUT_MS = 10_000;

export async function createDatabase(options: DatabaseOptions = {}): Promise<Database> {
  return options.url === undefined
    ? openPglite(options.pgliteDir, options.logger)
    : openPostgres(options.url, options.logger, options.poolSize);
}

async function openPostgres(
  url: string,
  logger: DatabaseLogger | undefined,
  poolSize: number | undefined,
): Promise<Database> {
  const target = describePostgresUrl(url);
  const pool = new Pool({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: poolSize,
  });
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on("error", (err) => logger?.error({ err, db: { kind: "postgres", target } }, "idle connection lost"));
  const db = drizzlePostgres({ client: pool, schema });
  const database = handle(db, "postgres", {
    description: `Postgres at ${target}`,
    hint: "check DATABASE_URL and that Postgres is running",
    end: () => pool.end(),
  });
  await openOrClose(database);
  logger?.info({ db: { kind: "postgres", target } }, "database connected");
  return database;
}

async function openPglite(dir: string | undefined, logger: DatabaseLogger | undefined): Promise<Database> {
  const where = dir === undefined ? "in memory" : `in ${dir}`;
  let client: PGlite;
  try {
    client = await PGlite.create(dir);
  } catch (cause) {
    throw new DatabaseUnavailableError(
      `cannot open the embedded PGlite database ${where}: ${reason(cause)}; check that the folder is ` +
        "writable and not in use by another process, or set DATABASE_URL to use a Postgres server",
      { cause },
    );
  }
  const db = drizzlePglite({ client, schema });
  const database = handle(db, "pglite", {
    description: `the embedded PGlite database ${where}`,
    hint: "restart the process, or set DATABASE_URL to use a Postgres server",
    end: () => client.close(),
  });
  await openOrClose(database);
  logger?.info({ db: { kind: "pglite", dir } }, "database opened");
  return database;
}

interface Backend {
  description: string;
  /** What to do when the backend does not answer. */
  hint: string;
  end: () => Promise<void>;
}

function handle(db: Db, kind: DatabaseKind, { description, hint, end }: Backend): Database {
  let closing: Promise<void> | undefined;
  return {
    db,
    kind,
    async ping() {
      try {
        await db.execute(sql`select 1`);
      } catch (cause) {
        throw new DatabaseUnavailableError(`cannot reach ${description}: ${reason(cause)}; ${hint}`, {
          cause,
        });
      }
    },
    close() {
      closing ??= end();
      return closing;
    },
  };
}

async function openOrClose(database: Database): Promise<void> {
  try {
    await database.ping();
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
}

/** host:port/database, never the credentials. */
function describePostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new DatabaseConfigError(
      "the database URL is not a valid URL; set DATABASE_URL to postgres://user:password@host:5432/database",
      { cause },
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new DatabaseConfigError(
      `the database URL has scheme "${parsed.protocol}"; set DATABASE_URL to a postgres:// URL, ` +
        "or leave it unset to use the embedded PGlite database",
    );
  }
  return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
}

function reason(err: unknown): string {
  // drizzle wraps driver errors; the driver's own message says what went wrong.
  const root = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (root instanceof AggregateError && root.errors[0] instanceof Error) return root.errors[0].message;
  return root instanceof Error && root.message !== "" ? root.message : String(root);
}
