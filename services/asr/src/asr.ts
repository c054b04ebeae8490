import { ConfigError } from "@callscribe/config";
import type { Messaging } from "@callscribe/messaging";
import { GrpcHealth } from "@callscribe/proto";
import { startOpsServer, type ShutdownStep } from "@callscribe/runtime";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { AsrConfig } from "./config.ts";
import { WordSearchOptionError } from "./engine/decoding/word-lm.ts";
import {
  createRecognizerEngine,
  engineChunkMs,
  loadAsrModel,
  loadVad,
  type AsrModel,
  type RecognizerEngine,
  type VadModel,
} from "./engine/index.ts";
import { createRecognizerService } from "./grpc/recognizer.ts";
import { recognizerServiceName, startRecognizerServer } from "./grpc/server.ts";
import { createEmotionClient } from "./emotion/client.ts";
import { loadLanguageModel, type LanguageIdModel } from "./language/index.ts";
import { startCallWorker, type CallWorker } from "./worker/call-worker.ts";

export interface LoadedRecognizer {
  model: AsrModel;
  vad: VadModel;
  engine: RecognizerEngine;
  /** Closes the engine, then the VAD and model sessions. */
  close(): Promise<void>;
}

/** The variables of the engine's decoder options. */
const decoderVariables = {
  decoder: "ASR_DECODER",
  beamWidth: "ASR_BEAM_WIDTH",
  lmWeight: "ASR_LM_WEIGHT",
  wordBonus: "ASR_WORD_BONUS",
  oovPolicy: "ASR_OOV_POLICY",
  oovPenalty: "ASR_OOV_PENALTY",
} as const;

/** Model, VAD and engine as the config says; a ModelLoadError names what does not match. */
export async function loadRecognizer(
  config: AsrConfig,
  deps: { logger: Logger; registry?: Registry },
): Promise<LoadedRecognizer> {
  const model = await loadAsrModel({
    dir: config.model.dir,
    provider: config.model.provider,
    precision: config.model.precision,
    deviceId: config.model.deviceId,
    ...(config.model.intraOpThreads !== undefined ? { intraOpThreads: config.model.intraOpThreads } : {}),
    inferenceThread: config.model.inferenceThread,
    sampleRate: config.model.sampleRate,
    streamingChunkMs: engineChunkMs(config.engine),
    logger: deps.logger,
  });
  let vad: VadModel;
  try {
    vad = await loadVad({
      provider: config.model.provider,
      deviceId: config.model.deviceId,
      rewriteConvolutions: config.model.vadRewriteConvolutions,
      logger: deps.logger,
    });
  } catch (err) {
    await model.close();
    throw err;
  }
  let engine: RecognizerEngine;
  try {
    engine = createRecognizerEngine({
      model,
      vad,
      options: config.engine,
      logger: deps.logger,
      ...(deps.registry ? { registry: deps.registry } : {}),
    });
  } catch (err) {
    await vad.close();
    await model.close();
    if (err instanceof WordSearchOptionError && err.option in decoderVariables) {
      const variable = decoderVariables[err.option as keyof typeof decoderVariables];
      throw new ConfigError("asr", [{ variable, problem: err.message }]);
    }
    throw err;
  }
  return {
    model,
    vad,
    engine,
    close: async () => {
      await engine.close();
      await vad.close();
      await model.close();
    },
  };
}

export interface AsrServiceDeps {
  engine: RecognizerEngine;
  logger: Logger;
  registry: Registry;
  /** Needed when config.worker.enabled; the service drains it on shutdown. */
  messaging?: Messaging;
}

export interface AsrService {
  grpcPort: number;
  opsPort: number;
  health: GrpcHealth;
  worker: CallWorker | undefined;
  /** The drain, in order: for onShutdown in main, or stop() in a test. */
  shutdownSteps: ShutdownStep[];
  /** Runs the shutdown steps one after another (no process exit). */
  stop(): Promise<void>;
}

/**
 * The replica's servers around one engine: gRPC Recognizer with grpc.health.v1, the JetStream call
 * worker when enabled, and the ops server. Health turns SERVING once all of them run.
 */
export async function createAsrService(config: AsrConfig, deps: AsrServiceDeps): Promise<AsrService> {
  const { engine, logger, registry, messaging } = deps;
  const recognizer = createRecognizerService({
    engine,
    logger,
    registry,
    recognizeMaxAudioMs: config.grpc.recognizeMaxAudioMs,
  });
  const health = new GrpcHealth([recognizerServiceName]);
  const server = await startRecognizerServer({
    host: config.grpc.host,
    port: config.grpc.port,
    handlers: recognizer.handlers,
    health,
    maxMessageBytes: config.grpc.maxMessageBytes,
  });

  // Each final utterance's emotion, when ASR_EMOTION_ADDRESS names the service; off, emotion is null.
  const emotion = config.emotion.address
    ? createEmotionClient({
        address: config.emotion.address,
        deadlineMs: config.emotion.deadlineMs,
        logger,
        registry,
      })
    : undefined;
  if (!emotion && config.worker.enabled)
    logger.info("ASR_EMOTION_ADDRESS is empty: utterances are published with emotion null");

  let worker: CallWorker | undefined;
  let languageModel: LanguageIdModel | undefined;
  try {
    if (config.worker.enabled) {
      if (!messaging) throw new Error("ASR_WORKER is on but no NATS connection was given to the service");
      // A tiny model: on the CPU whatever the acoustic model's provider.
      if (config.language)
        languageModel = await loadLanguageModel({ dir: config.language.dir, provider: "cpu" });
      worker = await startCallWorker({
        messaging,
        engine,
        logger,
        registry,
        replicaId: config.worker.replicaId,
        claimsBucket: config.worker.claimsBucket,
        claimTtlMs: config.worker.claimTtlMs,
        callsConsumer: config.worker.callsConsumer,
        callsSubject: config.worker.callsSubject,
        maxCalls: config.worker.maxCalls,
        ...(emotion ? { emotion: { client: emotion, maxSegmentMs: config.emotion.maxSegmentMs } } : {}),
        ...(languageModel && config.language
          ? { language: { model: languageModel, maxUtterances: config.language.maxUtterances } }
          : {}),
      });
    }
  } catch (err) {
    await languageModel?.close();
    await server.shutdown(0);
    throw err;
  }

  let accepting = true;
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: {
      accepting: () => accepting,
      ...(messaging ? { nats: () => messaging.isConnected() } : {}),
    },
  }).catch(async (err: unknown) => {
    await worker?.handBack();
    await server.shutdown(0);
    throw err;
  });
  health.set("SERVING");
  logger.info(
    { grpcPort: server.port, opsPort: ops.port, model: engine.model, worker: config.worker.enabled },
    "asr service ready",
  );

  // Most of the deadline goes to live streams; the rest to handing calls back and draining NATS.
  const streamGraceMs = Math.floor(config.shutdownDeadlineMs * 0.7);
  const shutdownSteps: ShutdownStep[] = [
    {
      name: "stop accepting streams and calls",
      run: async () => {
        accepting = false;
        health.set("NOT_SERVING");
        recognizer.stopAccepting();
        await worker?.stopIntake();
      },
    },
    {
      name: "finish live gRPC streams",
      run: async () => {
        const outcome = await server.shutdown(streamGraceMs, () => recognizer.cancelAll());
        logger.info({ outcome }, "gRPC server stopped");
      },
    },
    { name: "hand back held calls", run: async () => worker?.handBack() },
    { name: "close the emotion client", run: () => emotion?.close() },
    { name: "drain NATS", run: async () => messaging?.drain() },
    { name: "close ops server", run: () => ops.close() },
    { name: "close the language model", run: async () => languageModel?.close() },
  ];
  let stopping: Promise<void> | undefined;
  return {
    grpcPort: server.port,
    opsPort: ops.port,
    health,
    worker,
    shutdownSteps,
    stop: () =>
      (stopping ??= (async () => {
        for (const step of shutdownSteps) await step.run();
      })()),
  };
}
