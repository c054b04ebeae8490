import { GrpcHealth } from "@callscribe/proto";
import { startOpsServer, type ShutdownStep } from "@callscribe/runtime";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { SegmentBatcher } from "./batching/segment-batcher.ts";
import type { EmotionConfig } from "./config.ts";
import { createClassifier } from "./grpc/classifier.ts";
import { classifierServiceName, startClassifierServer } from "./grpc/server.ts";
import { createEmotionMetrics } from "./metrics.ts";
import type { EmotionModel } from "./model/types.ts";
import { SpeakerRegistry } from "./speakers.ts";

export interface EmotionService {
  grpcPort: number;
  opsPort: number;
  /** Not ready, stop taking calls, finish live ones (then cancel them), drain the batcher, close servers. */
  shutdownSteps: ShutdownStep[];
}

/** The servers around a loaded model: gRPC classifier with grpc.health.v1, and /healthz /readyz /metrics. */
export async function createEmotionService(
  config: EmotionConfig,
  deps: { model: EmotionModel; logger: Logger; registry: Registry },
): Promise<EmotionService> {
  const { model, logger, registry } = deps;
  const metrics = createEmotionMetrics(registry);
  const batcher = new SegmentBatcher(model, config.batching, {
    queued: (depth) => metrics.queueDepth.set(depth),
    batch: (size, seconds) => {
      metrics.batchSize.observe(size);
      metrics.batchSeconds.observe(seconds);
    },
  });
  const speakers = new SpeakerRegistry(model, config.speakers);
  const classifier = createClassifier({
    batcher,
    speakers,
    metrics,
    logger,
    maxSegmentMs: config.maxSegmentMs,
    maxStreams: config.maxStreams,
  });
  const health = new GrpcHealth([classifierServiceName]);
  const server = await startClassifierServer({
    host: config.grpc.host,
    port: config.grpc.port,
    handlers: classifier.handlers,
    health,
    maxMessageBytes: config.grpc.maxMessageBytes,
  });
  let ready = true;
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: { model: () => ready },
  });
  health.set("SERVING");
  logger.info(
    { grpcPort: server.port, opsPort: ops.port, model: model.info, maxSegmentMs: config.maxSegmentMs },
    "emotion service ready",
  );
  const graceMs = Math.floor(config.shutdownDeadlineMs * 0.7);
  return {
    grpcPort: server.port,
    opsPort: ops.port,
    shutdownSteps: [
      {
        name: "report not ready",
        run: () => {
          ready = false;
          health.set("NOT_SERVING");
          classifier.stopAccepting();
        },
      },
      {
        name: "finish live requests",
        run: async () => {
          const outcome = await server.shutdown(graceMs, () => classifier.cancelStreams());
          logger.info({ outcome }, "gRPC server stopped");
        },
      },
      { name: "drain the batcher", run: () => batcher.drain() },
      { name: "close ops server", run: () => ops.close() },
      { name: "close the model", run: () => model.close() },
    ],
  };
}
