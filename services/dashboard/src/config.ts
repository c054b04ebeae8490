import { ConfigError, env, parseConfig, z, type Env, type ConfigIssue } from "@callscribe/config";

const MIN_TOKEN_LENGTH = 16;

const postgresUrl = (variable: string) =>
  env.url(["postgres", "postgresql"], `set ${variable} to postgres://user@host:5432/database`);

/** Comma-separated secret tokens; a token is at least MIN_TOKEN_LENGTH characters. */
function tokenList() {
  return env.list("").pipe(
    z
      .array(z.string())
      .min(1, "set it to one or more comma-separated secret tokens")
      .refine(
        (tokens) => tokens.every((t) => t.length >= MIN_TOKEN_LENGTH && !/\s/.test(t)),
        `each token must be at least ${MIN_TOKEN_LENGTH} characters without spaces (openssl rand -hex 24 makes one)`,
      ),
  );
}

const shape = {
  LOG_LEVEL: env.oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
  LOG_PII: env.bool(false),
  DASHBOARD_HOST: z.string().default("0.0.0.0"),
  DASHBOARD_PORT: env.port(8080),
  DASHBOARD_OPS_HOST: z.string().default("0.0.0.0"),
  DASHBOARD_OPS_PORT: env.port(9106),
  DATABASE_URL: postgresUrl("DATABASE_URL"),
  /**
   * Every query runs as this role (SET ROLE), so the database decides what the dashboard may read and
   * change: the analyst role reads tickets with redacted transcripts and never the utterances.
   */
  DASHBOARD_DB_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "must be a Postgres role name such as callscribe_analyst")
    .default("callscribe_analyst"),
  /** false when DATABASE_URL already logs in as the analyst role, or as a role without membership in it. */
  DASHBOARD_DB_SET_ROLE: env.bool(true),
  DASHBOARD_ANALYST_TOKENS: tokenList(),
  DASHBOARD_WORKORDER_TOKENS: tokenList(),
  DASHBOARD_DB_POOL_SIZE: env.int(10, 1, 200),
  DASHBOARD_STATEMENT_TIMEOUT_MS: env.int(10_000, 100, 600_000),
  DASHBOARD_WORK_MEM_MB: env.int(32, 1, 4096),
  DASHBOARD_SHUTDOWN_DEADLINE_MS: env.int(10_000, 100, 600_000),
};

export interface DashboardConfig {
  logLevel: string;
  logPii: boolean;
  http: { host: string; port: number };
  ops: { host: string; port: number };
  database: {
    url: string;
    /** The role every query takes (SET ROLE); undefined: the login role of `url`. */
    role: string | undefined;
    poolSize: number;
    statementTimeoutMs: number;
    workMemMb: number;
  };
  tokens: { analyst: string[]; workOrder: string[] };
  shutdownDeadlineMs: number;
}

export function loadConfig(source: Env = process.env): DashboardConfig {
  const c = parseConfig("dashboard", shape, source);
  const issues: ConfigIssue[] = [];
  const shared = c.DASHBOARD_ANALYST_TOKENS.filter((t) => c.DASHBOARD_WORKORDER_TOKENS.includes(t));
  if (shared.length > 0) {
    issues.push({
      variable: "DASHBOARD_WORKORDER_TOKENS",
      problem: "shares a token with DASHBOARD_ANALYST_TOKENS; give the work-order system its own token",
    });
  }
  if (issues.length > 0) throw new ConfigError("dashboard", issues);
  return {
    logLevel: c.LOG_LEVEL,
    logPii: c.LOG_PII,
    http: { host: c.DASHBOARD_HOST, port: c.DASHBOARD_PORT },
    ops: { host: c.DASHBOARD_OPS_HOST, port: c.DASHBOARD_OPS_PORT },
    database: {
      url: c.DATABASE_URL,
      role: c.DASHBOARD_DB_SET_ROLE ? c.DASHBOARD_DB_ROLE : undefined,
      poolSize: c.DASHBOARD_DB_POOL_SIZE,
      statementTimeoutMs: c.DASHBOARD_STATEMENT_TIMEOUT_MS,
      workMemMb: c.DASHBOARD_WORK_MEM_MB,
    },
    tokens: { analyst: c.DASHBOARD_ANALYST_TOKENS, workOrder: c.DASHBOARD_WORKORDER_TOKENS },
    shutdownDeadlineMs: c.DASHBOARD_SHUTDOWN_DEADLINE_MS,
  };
}
