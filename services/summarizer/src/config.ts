import { fileURLToPath } from "node:url";
import { ConfigError, env, parseConfig, z, type Env } from "@callscribe/config";

const defaultTaxonomy = fileURLToPath(new URL("../taxonomy/public-service.yaml", import.meta.url));

const shape = {
  NATS_URL: env.list("nats://127.0.0.1:4222"),
  LOG_LEVEL: env.oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
  LOG_PII: env.bool(false),
  DATABASE_URL: env
    .url(["postgres", "postgresql"], "set it to postgres://user:password@host:5432/database")
    .optional(),
  SUMMARIZER_MIGRATE: env.bool(false),
  SUMMARIZER_OPS_HOST: z.string().default("0.0.0.0"),
  SUMMARIZER_OPS_PORT: env.port(9103),
  SUMMARIZER_CONSUMER: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '-' or '_'")
    .default("summarizer"),
  SUMMARIZER_DELIVER_POLICY: env.oneOf(["new", "all"], "all"),
  SUMMARIZER_TAXONOMY: z.string().min(1).default(defaultTaxonomy),
  SUMMARIZER_UTC_OFFSET_MINUTES: env.int(0, -720, 840),
  SUMMARIZER_INCOMPLETE_AFTER_MS: env.int(120_000, 1_000, 86_400_000),
  SUMMARIZER_IDLE_CALL_TIMEOUT_MS: env.int(3_600_000, 10_000, 7 * 86_400_000),
  SUMMARIZER_SWEEP_INTERVAL_MS: env.int(5_000, 100, 600_000),
  SUMMARIZER_UNKNOWN_CALL_RETRY_MS: env.int(1_000, 10, 60_000),
  SUMMARIZER_UNKNOWN_CALL_MAX_DELIVERIES: env.int(60, 1, 100_000),
  SUMMARIZER_ACK_WAIT_MS: env.int(30_000, 1_000, 600_000),
  SUMMARIZER_MAX_IN_FLIGHT: env.int(32, 1, 1_000),
  SUMMARIZER_DB_POOL_SIZE: env.int(16, 1, 200),
  SUMMARIZER_WEBHOOK_URLS: env.list(""),
  SUMMARIZER_WEBHOOK_SECRET: env.optionalString(),
  SUMMARIZER_WEBHOOK_TIMEOUT_MS: env.int(10_000, 100, 120_000),
  SUMMARIZER_WEBHOOK_MAX_ATTEMPTS: env.int(10, 1, 1_000),
  SUMMARIZER_WEBHOOK_BACKOFF_BASE_MS: env.int(1_000, 10, 3_600_000),
  SUMMARIZER_WEBHOOK_BACKOFF_MAX_MS: env.int(600_000, 10, 86_400_000),
  SUMMARIZER_WEBHOOK_POLL_MS: env.int(1_000, 10, 60_000),
  SUMMARIZER_SHUTDOWN_DEADLINE_MS: env.int(10_000, 100, 600_000),
};

export interface SummarizerConfig {
  natsServers: string[];
  logLevel: string;
  logPii: boolean;
  databaseUrl: string | undefined;
  migrate: boolean;
  ops: { host: string; port: number };
  consumer: {
    durableName: string;
    deliverPolicy: "new" | "all";
    unknownCallRetryMs: number;
    maxUnknownCallDeliveries: number;
    ackWaitMs: number;
    maxInFlight: number;
  };
  databasePoolSize: number;
  taxonomyPath: string;
  utcOffsetMinutes: number;
  timeouts: { incompleteAfterMs: number; idleCallTimeoutMs: number; sweepIntervalMs: number };
  webhook: {
    urls: string[];
    secret: string;
    timeoutMs: number;
    maxAttempts: number;
    backoff: { baseMs: number; maxMs: number };
    pollMs: number;
  };
  shutdownDeadlineMs: number;
}

export function loadConfig(source: Env = process.env): SummarizerConfig {
  const c = parseConfig("summarizer", shape, source);
  const issues: { variable: string; problem: string }[] = [];
  for (const url of c.SUMMARIZER_WEBHOOK_URLS) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok)
      issues.push({ variable: "SUMMARIZER_WEBHOOK_URLS", problem: "must be comma-separated http(s) URLs" });
  }
  if (c.SUMMARIZER_WEBHOOK_URLS.length > 0 && (c.SUMMARIZER_WEBHOOK_SECRET?.length ?? 0) < 16) {
    issues.push({
      variable: "SUMMARIZER_WEBHOOK_SECRET",
      problem:
        "webhooks need a signing secret of at least 16 characters; set it to the secret shared with the hotline",
    });
  }
  if (c.SUMMARIZER_WEBHOOK_BACKOFF_MAX_MS < c.SUMMARIZER_WEBHOOK_BACKOFF_BASE_MS) {
    issues.push({
      variable: "SUMMARIZER_WEBHOOK_BACKOFF_MAX_MS",
      problem: "must not be below SUMMARIZER_WEBHOOK_BACKOFF_BASE_MS",
    });
  }
  if (issues.length > 0) throw new ConfigError("summarizer", issues);
  return {
    natsServers: c.NATS_URL,
    logLevel: c.LOG_LEVEL,
    logPii: c.LOG_PII,
    databaseUrl: c.DATABASE_URL,
    migrate: c.SUMMARIZER_MIGRATE,
    ops: { host: c.SUMMARIZER_OPS_HOST, port: c.SUMMARIZER_OPS_PORT },
    consumer: {
      durableName: c.SUMMARIZER_CONSUMER,
      deliverPolicy: c.SUMMARIZER_DELIVER_POLICY as "new" | "all",
      unknownCallRetryMs: c.SUMMARIZER_UNKNOWN_CALL_RETRY_MS,
      maxUnknownCallDeliveries: c.SUMMARIZER_UNKNOWN_CALL_MAX_DELIVERIES,
      ackWaitMs: c.SUMMARIZER_ACK_WAIT_MS,
      maxInFlight: c.SUMMARIZER_MAX_IN_FLIGHT,
    },
    databasePoolSize: c.SUMMARIZER_DB_POOL_SIZE,
    taxonomyPath: c.SUMMARIZER_TAXONOMY,
    utcOffsetMinutes: c.SUMMARIZER_UTC_OFFSET_MINUTES,
    timeouts: {
      incompleteAfterMs: c.SUMMARIZER_INCOMPLETE_AFTER_MS,
      idleCallTimeoutMs: c.SUMMARIZER_IDLE_CALL_TIMEOUT_MS,
      sweepIntervalMs: c.SUMMARIZER_SWEEP_INTERVAL_MS,
    },
    webhook: {
      urls: c.SUMMARIZER_WEBHOOK_URLS,
      secret: c.SUMMARIZER_WEBHOOK_SECRET ?? "",
      timeoutMs: c.SUMMARIZER_WEBHOOK_TIMEOUT_MS,
      maxAttempts: c.SUMMARIZER_WEBHOOK_MAX_ATTEMPTS,
      backoff: { baseMs: c.SUMMARIZER_WEBHOOK_BACKOFF_BASE_MS, maxMs: c.SUMMARIZER_WEBHOOK_BACKOFF_MAX_MS },
      pollMs: c.SUMMARIZER_WEBHOOK_POLL_MS,
    },
    shutdownDeadlineMs: c.SUMMARIZER_SHUTDOWN_DEADLINE_MS,
  };
}
