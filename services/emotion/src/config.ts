import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, env, parseConfig, z, type Env } from "@callscribe/config";

/** The repository root: relative model folders resolve from here, not from the working directory. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const defaultModelDir = "models/emotion-prosody";

const shape = {
  EMOTION_MODEL_DIR: z.string().min(1).default(defaultModelDir),
  EMOTION_EXECUTION_PROVIDER: z
    .enum(["cpu", "cuda"], { errorMap: () => ({ message: "must be one of: cpu, cuda" }) })
    .default("cpu"),
  EMOTION_DEVICE_ID: env.int(0, 0, 64),
  EMOTION_INTRA_OP_THREADS: env.int(1, 1, 256),
  /** Longest segment: Classify refuses longer audio, StreamingClassify cuts speech at it. */
  EMOTION_MAX_SEGMENT_S: env.int(30, 1, 300),
  EMOTION_MAX_BATCH: env.int(16, 1, 1024),
  EMOTION_MAX_WAIT_MS: env.int(10, 0, 1000),
  EMOTION_MAX_QUEUED_SEGMENTS: env.int(256, 1, 100_000),
  EMOTION_MAX_STREAMS: env.int(256, 1, 100_000),
  /** Speakers whose baselines Classify keeps (x-callscribe-speaker metadata), and how long one idles. */
  EMOTION_MAX_SPEAKERS: env.int(10_000, 1, 1_000_000),
  EMOTION_SPEAKER_IDLE_S: env.int(3600, 1, 86_400),
  EMOTION_GRPC_HOST: z.string().min(1).default("127.0.0.1"),
  EMOTION_GRPC_PORT: env.port(50061),
  EMOTION_GRPC_MAX_MESSAGE_BYTES: env.int(4 * 1024 * 1024, 64 * 1024, 512 * 1024 * 1024),
  EMOTION_OPS_HOST: z.string().min(1).default("127.0.0.1"),
  EMOTION_OPS_PORT: env.port(9093),
  EMOTION_SHUTDOWN_DEADLINE_MS: env.int(20_000, 0, 3_600_000),
  LOG_LEVEL: env.oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
  LOG_PII: env.bool(false),
};

export interface EmotionConfig {
  model: { dir: string; provider: "cpu" | "cuda"; deviceId: number; intraOpThreads: number };
  maxSegmentMs: number;
  batching: { maxBatch: number; maxWaitMs: number; maxQueued: number };
  maxStreams: number;
  speakers: { maxSpeakers: number; idleMs: number };
  grpc: { host: string; port: number; maxMessageBytes: number };
  ops: { host: string; port: number };
  shutdownDeadlineMs: number;
  log: { level: string; pii: boolean };
}

export function loadConfig(environment: Env = process.env): EmotionConfig {
  const raw = parseConfig("emotion", shape, environment);
  const dir = isAbsolute(raw.EMOTION_MODEL_DIR)
    ? raw.EMOTION_MODEL_DIR
    : resolve(repoRoot, raw.EMOTION_MODEL_DIR);
  if (!existsSync(join(dir, "manifest.json"))) {
    throw new ConfigError("emotion", [
      {
        variable: "EMOTION_MODEL_DIR",
        problem: `no manifest.json in ${dir}; set it to an emotion model folder (e.g. ${defaultModelDir})`,
      },
    ]);
  }
  return {
    model: {
      dir,
      provider: raw.EMOTION_EXECUTION_PROVIDER,
      deviceId: raw.EMOTION_DEVICE_ID,
      intraOpThreads: raw.EMOTION_INTRA_OP_THREADS,
    },
    maxSegmentMs: raw.EMOTION_MAX_SEGMENT_S * 1000,
    batching: {
      maxBatch: raw.EMOTION_MAX_BATCH,
      maxWaitMs: raw.EMOTION_MAX_WAIT_MS,
      maxQueued: raw.EMOTION_MAX_QUEUED_SEGMENTS,
    },
    maxStreams: raw.EMOTION_MAX_STREAMS,
    speakers: { maxSpeakers: raw.EMOTION_MAX_SPEAKERS, idleMs: raw.EMOTION_SPEAKER_IDLE_S * 1000 },
    grpc: {
      host: raw.EMOTION_GRPC_HOST,
      port: raw.EMOTION_GRPC_PORT,
      maxMessageBytes: raw.EMOTION_GRPC_MAX_MESSAGE_BYTES,
    },
    ops: { host: raw.EMOTION_OPS_HOST, port: raw.EMOTION_OPS_PORT },
    shutdownDeadlineMs: raw.EMOTION_SHUTDOWN_DEADLINE_MS,
    log: { level: raw.LOG_LEVEL, pii: raw.LOG_PII },
  };
}
