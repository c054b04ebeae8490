import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, env, parseConfig, z, type Env } from "@callscribe/config";

/** The repository root: relative model folders resolve from here, not from the working directory. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export const defaultModelDir = "models/asr-en-telephony";
export const defaultLanguageModelDir = "models/language-id";

/** A decimal number within [min, max]; the message says the range. */
function decimal(fallback: number, min: number, max: number) {
  const hint = `must be a number from ${min} to ${max}`;
  return z.coerce
    .number({ invalid_type_error: hint })
    .refine((v) => Number.isFinite(v) && v >= min && v <= max, hint)
    .default(fallback);
}

const shape = {
  ASR_MODEL_DIR: z.string().min(1).default(defaultModelDir),
  ASR_PRECISION: z
    .enum(["fp32", "int8"], { errorMap: () => ({ message: "must be one of: fp32, int8" }) })
    .optional(),
  ASR_EXECUTION_PROVIDER: z
    .enum(["cpu", "cuda"], { errorMap: () => ({ message: "must be one of: cpu, cuda" }) })
    .default("cpu"),
  ASR_DEVICE_ID: env.int(0, 0, 64),
  /** Intra-op threads of the acoustic model's session; 0: 1 on its inference thread, 2 without one. */
  ASR_INTRA_OP_THREADS: env.int(0, 0, 256),
  /** Run the acoustic model on a thread of its own, beside the event loop. */
  ASR_INFERENCE_THREAD: env.bool(true),
  /** Sample rate of a published model folder without manifest.json (NeMo models are 16 kHz). */
  ASR_MODEL_SAMPLE_RATE: z
    .enum(["8000", "16000"], { errorMap: () => ({ message: "must be 8000 or 16000" }) })
    .default("16000")
    .transform((v) => (v === "8000" ? 8000 : 16000)),
  ASR_MAX_BATCH: env.int(32, 1, 1024),
  ASR_MAX_WAIT_MS: env.int(10, 0, 1000),
  ASR_MAX_STREAMS: env.int(256, 1, 100_000),
  /** Chunks waiting for the batcher, all streams together; 0 means 4 per stream. */
  ASR_MAX_QUEUED_CHUNKS: env.int(0, 0, 1_000_000),
  ASR_CHUNK_MS: env.int(240, 40, 2000),
  /** greedy, beam or lm; unset: lm when the model has a language model, greedy otherwise. */
  ASR_DECODER: z
    .enum(["greedy", "beam", "lm"], { errorMap: () => ({ message: "must be one of: greedy, beam, lm" }) })
    .optional(),
  ASR_BEAM_WIDTH: env.int(32, 1, 128),
  /** Weight of the LM's ln-probability at each word end. */
  ASR_LM_WEIGHT: decimal(0.6, 0, 5),
  /** Score added per recognised word by the LM search. */
  ASR_WORD_BONUS: decimal(0, -20, 20),
  ASR_OOV_POLICY: z
    .enum(["refuse", "allow"], { errorMap: () => ({ message: "must be one of: refuse, allow" }) })
    .default("refuse"),
  /** Score added per word outside the lexicon under ASR_OOV_POLICY=allow. */
  ASR_OOV_PENALTY: decimal(-10, -100, 0),
  /** Audio windows quieter than this (dBFS) are silence without a VAD pass; 0 runs the VAD on every window. */
  ASR_VAD_ENERGY_FLOOR_DBFS: env.int(-60, -120, 0),
  /** Streams' VAD windows batched into one Silero pass. */
  ASR_VAD_MAX_BATCH: env.int(256, 1, 4096),
  /** On the CPU, run Silero with its convolutions rewritten at load (false: the graph as shipped). */
  ASR_VAD_REWRITE_CONVOLUTIONS: env.bool(true),
  ASR_GRPC_HOST: z.string().min(1).default("127.0.0.1"),
  ASR_GRPC_PORT: env.port(50051),
  /** Largest gRPC message accepted; bounds one Recognize request and one audio chunk. */
  ASR_GRPC_MAX_MESSAGE_BYTES: env.int(16 * 1024 * 1024, 64 * 1024, 512 * 1024 * 1024),
  /** Longest audio one Recognize request may carry. */
  ASR_RECOGNIZE_MAX_AUDIO_S: env.int(600, 1, 86_400),
  ASR_OPS_HOST: z.string().min(1).default("127.0.0.1"),
  ASR_OPS_PORT: env.port(9091),
  /** host:port of the emotion service asked about each final utterance; empty: off (emotion null). */
  ASR_EMOTION_ADDRESS: z.string().default(""),
  /** Longest wait for one utterance's emotion; past it the utterance is published with emotion null. */
  ASR_EMOTION_DEADLINE_MS: env.int(2000, 10, 60_000),
  /** The emotion service's EMOTION_MAX_SEGMENT_S: a longer utterance sends its last this many seconds. */
  ASR_EMOTION_MAX_SEGMENT_S: env.int(30, 1, 300),
  NATS_URL: env.list("nats://127.0.0.1:4222"),
  ASR_WORKER: env.bool(true),
  ASR_CLAIM_TTL_MS: env.int(15_000, 500, 3_600_000),
  ASR_CLAIMS_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "must be a KV bucket name")
    .default("ASR_CLAIMS"),
  /** Durable consumer of call.*.started shared by every replica (each call goes to one). */
  ASR_CALLS_CONSUMER: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "must be a consumer name")
    .default("asr-calls"),
  ASR_CALLS_SUBJECT: z.string().min(1).default("call.*.started"),
  /** Calls one replica holds at once; 0 means ASR_MAX_STREAMS / 2 (two legs a call). */
  ASR_MAX_CALLS: env.int(0, 0, 100_000),
  ASR_REPLICA_ID: z.string().min(1).optional(),
  ASR_SHUTDOWN_DEADLINE_MS: env.int(25_000, 0, 3_600_000),
  /** Tag each leg's language with the language-ID model; off by default: it fails on unseen real speakers. */
  ASR_LANGUAGE_ID: env.bool(false),
  ASR_LANGUAGE_MODEL_DIR: z.string().min(1).default(defaultLanguageModelDir),
  /** Utterances of a leg classified before its tag settles. */
  ASR_LANGUAGE_UTTERANCES: env.int(6, 1, 1000),
  LOG_LEVEL: env.oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
  LOG_PII: env.bool(false),
};

export interface AsrConfig {
  model: {
    dir: string;
    precision: "fp32" | "int8";
    provider: "cpu" | "cuda";
    deviceId: number;
    intraOpThreads: number | undefined;
    inferenceThread: boolean;
    sampleRate: 8000 | 16000;
    vadRewriteConvolutions: boolean;
  };
  engine: {
    maxBatch: number;
    maxWaitMs: number;
    maxStreams: number;
    maxQueuedChunks: number;
    chunkMs: number;
    decoder: "greedy" | "beam" | "lm" | undefined;
    beamWidth: number;
    lmWeight: number;
    wordBonus: number;
    oovPolicy: "refuse" | "allow";
    oovPenalty: number;
    vadEnergyFloorDbfs: number | null;
    vadMaxBatch: number;
  };
  grpc: { host: string; port: number; maxMessageBytes: number; recognizeMaxAudioMs: number };
  ops: { host: string; port: number };
  emotion: { address: string; deadlineMs: number; maxSegmentMs: number };
  nats: { servers: string[] };
  worker: {
    enabled: boolean;
    claimTtlMs: number;
    claimsBucket: string;
    callsConsumer: string;
    callsSubject: string;
    maxCalls: number;
    replicaId: string;
  };
  shutdownDeadlineMs: number;
  log: { level: string; pii: boolean };
  /** Language identification of the worker's legs; null when off. */
  language: { dir: string; maxUtterances: number } | null;
}

/** What a model folder offers, read without loading the model. */
export interface ModelFolder {
  dir: string;
  layout: "manifest" | "sherpa-nemo-ctc";
  hasInt8: boolean;
}

/** The process environment with some variables replaced, e.g. by command-line flags. */
export function loadConfigWith(overrides: Env): AsrConfig {
  return loadConfig({ ...process.env, ...overrides });
}

/** Checks that `dir` is a model folder; the ConfigError names ASR_MODEL_DIR and what to set. */
export function inspectModelFolder(dir: string): ModelFolder {
  const manifestPath = join(dir, "manifest.json");
  if (existsSync(manifestPath)) {
    let files: { int8?: unknown } | undefined;
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
        files?: { int8?: unknown };
        streaming?: { files?: { int8?: unknown } };
      };
      // The engine streams with the cache-aware graph when the model has one.
      files = manifest.streaming ? manifest.streaming.files : manifest.files;
    } catch (cause) {
      throw new ConfigError("asr", [
        {
          variable: "ASR_MODEL_DIR",
          problem: `${manifestPath} is not valid JSON (${String(cause)}); fix or replace the model folder`,
        },
      ]);
    }
    const int8 = typeof files?.int8 === "string" && existsSync(join(dir, files.int8));
    return { dir, layout: "manifest", hasInt8: int8 };
  }
  if (existsSync(join(dir, "model.onnx")) && existsSync(join(dir, "tokens.txt"))) {
    return { dir, layout: "sherpa-nemo-ctc", hasInt8: existsSync(join(dir, "model.int8.onnx")) };
  }
  throw new ConfigError("asr", [
    {
      variable: "ASR_MODEL_DIR",
      problem: `no manifest.json or model.onnx+tokens.txt in ${dir}; set it to a model folder`,
    },
  ]);
}

function languageFolder(setting: string, maxUtterances: number): { dir: string; maxUtterances: number } {
  const dir = isAbsolute(setting) ? setting : resolve(repoRoot, setting);
  if (!existsSync(join(dir, "manifest.json")))
    throw new ConfigError("asr", [
      {
        variable: "ASR_LANGUAGE_MODEL_DIR",
        problem: `no manifest.json in ${dir}; set it to a language-id model folder, or ASR_LANGUAGE_ID=false`,
      },
    ]);
  return { dir, maxUtterances };
}

/** The service's configuration from the environment (or `environment`, for tests and the CLI's overrides). */
export function loadConfig(environment: Env = process.env): AsrConfig {
  const raw = parseConfig("asr", shape, environment);
  const dir = isAbsolute(raw.ASR_MODEL_DIR) ? raw.ASR_MODEL_DIR : resolve(repoRoot, raw.ASR_MODEL_DIR);
  const folder = inspectModelFolder(dir);
  if (raw.ASR_PRECISION === "int8" && !folder.hasInt8) {
    throw new ConfigError("asr", [
      { variable: "ASR_PRECISION", problem: `int8 was asked for but ${dir} has no int8 model; set fp32` },
    ]);
  }
  // INT8 is for the CPU's integer kernels (the committed INT8 streaming graph uses onnxruntime's
  // MatMulIntegerToFloat, a CPU kernel, and a model only loads where it can be placed whole): cuda defaults to FP32.
  const precision =
    raw.ASR_PRECISION ?? (folder.hasInt8 && raw.ASR_EXECUTION_PROVIDER === "cpu" ? "int8" : "fp32");
  const maxStreams = raw.ASR_MAX_STREAMS;
  return {
    model: {
      dir,
      precision,
      provider: raw.ASR_EXECUTION_PROVIDER,
      deviceId: raw.ASR_DEVICE_ID,
      intraOpThreads: raw.ASR_INTRA_OP_THREADS === 0 ? undefined : raw.ASR_INTRA_OP_THREADS,
      inferenceThread: raw.ASR_INFERENCE_THREAD,
      sampleRate: raw.ASR_MODEL_SAMPLE_RATE,
      vadRewriteConvolutions: raw.ASR_VAD_REWRITE_CONVOLUTIONS,
    },
    engine: {
      maxBatch: raw.ASR_MAX_BATCH,
      maxWaitMs: raw.ASR_MAX_WAIT_MS,
      maxStreams,
      maxQueuedChunks: raw.ASR_MAX_QUEUED_CHUNKS === 0 ? 4 * maxStreams : raw.ASR_MAX_QUEUED_CHUNKS,
      chunkMs: raw.ASR_CHUNK_MS,
      decoder: raw.ASR_DECODER,
      beamWidth: raw.ASR_BEAM_WIDTH,
      lmWeight: raw.ASR_LM_WEIGHT,
      wordBonus: raw.ASR_WORD_BONUS,
      oovPolicy: raw.ASR_OOV_POLICY,
      oovPenalty: raw.ASR_OOV_PENALTY,
      vadEnergyFloorDbfs: raw.ASR_VAD_ENERGY_FLOOR_DBFS === 0 ? null : raw.ASR_VAD_ENERGY_FLOOR_DBFS,
      vadMaxBatch: raw.ASR_VAD_MAX_BATCH,
    },
    grpc: {
      host: raw.ASR_GRPC_HOST,
      port: raw.ASR_GRPC_PORT,
      maxMessageBytes: raw.ASR_GRPC_MAX_MESSAGE_BYTES,
      recognizeMaxAudioMs: raw.ASR_RECOGNIZE_MAX_AUDIO_S * 1000,
    },
    ops: { host: raw.ASR_OPS_HOST, port: raw.ASR_OPS_PORT },
    emotion: {
      address: raw.ASR_EMOTION_ADDRESS.trim(),
      deadlineMs: raw.ASR_EMOTION_DEADLINE_MS,
      maxSegmentMs: raw.ASR_EMOTION_MAX_SEGMENT_S * 1000,
    },
    nats: { servers: raw.NATS_URL },
    worker: {
      enabled: raw.ASR_WORKER,
      claimTtlMs: raw.ASR_CLAIM_TTL_MS,
      claimsBucket: raw.ASR_CLAIMS_BUCKET,
      callsConsumer: raw.ASR_CALLS_CONSUMER,
      callsSubject: raw.ASR_CALLS_SUBJECT,
      maxCalls: raw.ASR_MAX_CALLS === 0 ? Math.max(1, Math.floor(maxStreams / 2)) : raw.ASR_MAX_CALLS,
      replicaId: raw.ASR_REPLICA_ID ?? `${hostname()}-${process.pid}`,
    },
    shutdownDeadlineMs: raw.ASR_SHUTDOWN_DEADLINE_MS,
    log: { level: raw.LOG_LEVEL, pii: raw.LOG_PII },
    language: raw.ASR_LANGUAGE_ID
      ? languageFolder(raw.ASR_LANGUAGE_MODEL_DIR, raw.ASR_LANGUAGE_UTTERANCES)
      : null,
  };
}
