import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";

const dialect = new PgDialect();

/** Runs drizzle `sql` queries, every value a bound parameter, and returns their rows. */
export interface SqlRunner {
  rows<Row>(query: SQL): Promise<Row[]>;
  /** Runs `work` in one transaction on one connection; rolled back when it throws. */
  transaction<T>(work: (tx: Pick<SqlRunner, "rows">) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SqlRunnerOptions {
  url: string;
  /** Every connection takes this role before its first query (`SET ROLE`); the login role when undefined. */
  role?: string;
  poolSize: number;
  statementTimeoutMs: number;
  /** Memory per sort or hash of a query, in MB. */
  workMemMb: number;
  applicationName: string;
  onIdleError: (err: Error) => void;
}

/**
 * A pg pool whose connections are set up once before use: UTC (time buckets are UTC days), the
 * planner settings below and, for analysts, the database role whose grants decide what they may read. A connection whose setup
 * fails is discarded, so no query ever runs with the login role's rights by mistake.
 */
export function createSqlRunner(options: SqlRunnerOptions): SqlRunner {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 10_000,
    statement_timeout: options.statementTimeoutMs,
    application_name: options.applicationName,
  });
  pool.on("error", options.onIdleError);
  const prepared = new WeakSet<pg.PoolClient>();
  // Charts aggregate tens of thousands of index entries: compiling them (JIT) costs more than it
  // saves at that size, and hash aggregates should stay in memory rather than spill to disk.
  const session = `set time zone 'UTC'; set jit = off; set work_mem = '${options.workMemMb}MB'`;
  const setup = options.role === undefined ? session : `${session}; set role "${options.role}"`;

  async function checkout(): Promise<pg.PoolClient> {
    const client = await pool.connect();
    if (prepared.has(client)) return client;
    try {
      await client.query(setup);
    } catch (err) {
      client.release(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    prepared.add(client);
    return client;
  }

  const run = async <Row>(client: pg.PoolClient, query: SQL): Promise<Row[]> => {
    const { sql: text, params } = dialect.sqlToQuery(query);
    const result = await client.query(text, params);
    return result.rows as Row[];
  };

  return {
    async rows<Row>(query: SQL): Promise<Row[]> {
      const client = await checkout();
      try {
        return await run<Row>(client, query);
      } finally {
        client.release();
      }
    },
    async transaction<T>(work: (tx: Pick<SqlRunner, "rows">) => Promise<T>): Promise<T> {
      const client = await checkout();
      try {
        await client.query("begin");
        const result = await work({ rows: <Row>(q: SQL) => run<Row>(client, q) });
        await client.query("commit");
        return result;
      } catch (err) {
        await client.query("rollback").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
