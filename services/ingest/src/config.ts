import { ConfigError, env, parseConfig, z, type Env } from "@callscribe/config";
import { AllowlistFormatError, parseCidr } from "./sip/allowlist.ts";
import type { CodecName } from "./media/index.ts";

const codecNames = ["PCMU", "PCMA", "G722"] as const;

const shape = {
  NATS_URL: env.list("nats://127.0.0.1:4222"),
  LOG_LEVEL: env.oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
  LOG_PII: env.bool(false),
  INGEST_OPS_HOST: z.string().default("0.0.0.0"),
  INGEST_OPS_PORT: env.port(9102),
  INGEST_SIP_HOST: z.string().default("0.0.0.0"),
  INGEST_SIP_PORT: env.port(5060),
  INGEST_SIP_UDP: env.bool(true),
  INGEST_SIP_TCP: env.bool(true),
  /** Address put in Via/Contact (and SDP c= unless INGEST_MEDIA_HOST is specific) when binding a wildcard. */
  INGEST_ADVERTISED_ADDRESS: z.string().ip("must be an IPv4 or IPv6 address peers can reach").optional(),
  INGEST_MEDIA_HOST: z.string().default("0.0.0.0"),
  INGEST_RTP_PORT_MIN: env.port(20000),
  INGEST_RTP_PORT_MAX: env.port(29999),
  INGEST_SIP_ALLOWLIST: env.list("127.0.0.0/8,::1"),
  INGEST_SIP_AUTH_REALM: env.optionalString(),
  INGEST_SIP_AUTH_USER: env.optionalString(),
  INGEST_SIP_AUTH_PASSWORD: env.optionalString(),
  INGEST_MAX_CALLS: env.int(500, 1, 100_000),
  INGEST_RETRY_AFTER_S: env.int(30, 1, 3600),
  INGEST_AGENT_ID_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, "must be a SIP header name such as X-Agent-Id")
    .default("X-Agent-Id"),
  INGEST_CODECS: env.list("PCMU,PCMA,G722"),
  /** Ringing before the answer; 0 answers as soon as media is ready. */
  INGEST_ANSWER_DELAY_MS: env.int(0, 0, 60_000),
  INGEST_SIP_T1_MS: env.int(500, 10, 5_000),
  INGEST_MAX_TRANSACTIONS: env.int(20_000, 100, 1_000_000),
  INGEST_MEDIA_TIMEOUT_MS: env.int(30_000, 100, 3_600_000),
  INGEST_FRAME_MS: env.int(20, 20, 100),
  INGEST_JITTER_DELAY_MS: env.int(60, 0, 2_000),
  INGEST_MAX_BUFFERED_FRAMES: env.int(3_000, 10, 1_000_000),
  INGEST_SHUTDOWN_DEADLINE_MS: env.int(10_000, 100, 600_000),
};

export interface SipConfig {
  host: string;
  port: number;
  udp: boolean;
  tcp: boolean;
  /** Unset: the first non-loopback IPv4 address of the host. */
  advertisedAddress?: string;
  allowlist: string[];
  auth?: { realm: string; username: string; password: string };
  maxCalls: number;
  retryAfterSeconds: number;
  agentIdHeader: string;
  codecs: CodecName[];
  answerDelayMs: number;
  /** RFC 3261 T1 (RTT estimate); T2 = 4 s, and the 64·T1 timers, follow from it. */
  t1Ms: number;
  maxTransactions: number;
}

export interface MediaConfig {
  host: string;
  portMin: number;
  portMax: number;
  frameMs: number;
  mediaTimeoutMs: number;
  jitterDelayMs: number;
  maxBufferedFramesPerCall: number;
}

export interface IngestConfig {
  natsServers: string[];
  logLevel: string;
  logPii: boolean;
  ops: { host: string; port: number };
  sip: SipConfig;
  media: MediaConfig;
  shutdownDeadlineMs: number;
}

export function loadConfig(source: Env = process.env): IngestConfig {
  const c = parseConfig("ingest", shape, source);
  const issues: { variable: string; problem: string }[] = [];
  for (const cidr of c.INGEST_SIP_ALLOWLIST) {
    try {
      parseCidr(cidr);
    } catch (err) {
      if (err instanceof AllowlistFormatError)
        issues.push({ variable: "INGEST_SIP_ALLOWLIST", problem: err.message });
      else throw err;
    }
  }
  const codecs = c.INGEST_CODECS.filter((n): n is CodecName => (codecNames as readonly string[]).includes(n));
  if (codecs.length !== c.INGEST_CODECS.length || codecs.length === 0) {
    issues.push({ variable: "INGEST_CODECS", problem: `must list one or more of ${codecNames.join(", ")}` });
  }
  const authParts = [c.INGEST_SIP_AUTH_REALM, c.INGEST_SIP_AUTH_USER, c.INGEST_SIP_AUTH_PASSWORD];
  const authSet = authParts.filter((p) => p !== undefined).length;
  if (authSet !== 0 && authSet !== 3) {
    issues.push({
      variable: "INGEST_SIP_AUTH_REALM",
      problem:
        "digest auth needs INGEST_SIP_AUTH_REALM, INGEST_SIP_AUTH_USER and INGEST_SIP_AUTH_PASSWORD together",
    });
  }
  if (c.INGEST_RTP_PORT_MIN + 1 > c.INGEST_RTP_PORT_MAX) {
    issues.push({
      variable: "INGEST_RTP_PORT_MAX",
      problem: "must be above INGEST_RTP_PORT_MIN (RTP and RTCP need two ports)",
    });
  }
  if (!c.INGEST_SIP_UDP && !c.INGEST_SIP_TCP) {
    issues.push({ variable: "INGEST_SIP_UDP", problem: "UDP and TCP are both off; turn one on" });
  }
  if (issues.length > 0) throw new ConfigError("ingest", issues);
  return {
    natsServers: c.NATS_URL,
    logLevel: c.LOG_LEVEL,
    logPii: c.LOG_PII,
    ops: { host: c.INGEST_OPS_HOST, port: c.INGEST_OPS_PORT },
    sip: {
      host: c.INGEST_SIP_HOST,
      port: c.INGEST_SIP_PORT,
      udp: c.INGEST_SIP_UDP,
      tcp: c.INGEST_SIP_TCP,
      advertisedAddress: c.INGEST_ADVERTISED_ADDRESS,
      allowlist: c.INGEST_SIP_ALLOWLIST,
      auth:
        authSet === 3
          ? {
              realm: c.INGEST_SIP_AUTH_REALM!,
              username: c.INGEST_SIP_AUTH_USER!,
              password: c.INGEST_SIP_AUTH_PASSWORD!,
            }
          : undefined,
      maxCalls: c.INGEST_MAX_CALLS,
      retryAfterSeconds: c.INGEST_RETRY_AFTER_S,
      agentIdHeader: c.INGEST_AGENT_ID_HEADER,
      codecs,
      answerDelayMs: c.INGEST_ANSWER_DELAY_MS,
      t1Ms: c.INGEST_SIP_T1_MS,
      maxTransactions: c.INGEST_MAX_TRANSACTIONS,
    },
    media: {
      host: c.INGEST_MEDIA_HOST,
      portMin: c.INGEST_RTP_PORT_MIN,
      portMax: c.INGEST_RTP_PORT_MAX,
      frameMs: c.INGEST_FRAME_MS,
      mediaTimeoutMs: c.INGEST_MEDIA_TIMEOUT_MS,
      jitterDelayMs: c.INGEST_JITTER_DELAY_MS,
      maxBufferedFramesPerCall: c.INGEST_MAX_BUFFERED_FRAMES,
    },
    shutdownDeadlineMs: c.INGEST_SHUTDOWN_DEADLINE_MS,
  };
}
