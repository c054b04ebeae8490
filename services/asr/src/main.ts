import { connectMessaging, type Messaging } from "@callscribe/messaging";
import { createLogger, createMetricsRegistry, onShutdown, type Logger } from "@callscribe/runtime";
import { createAsrService, loadRecognizer } from "./asr.ts";
import { loadConfig } from "./config.ts";
import { ASR_NODE_FLAGS, missingNodeFlags } from "./node-flags.ts";

let logger: Logger = createLogger({ service: "asr" });

async function main(): Promise<void> {
  const missing = missingNodeFlags();
  if (missing.length > 0)
    logger.warn(
      { missing },
      "node was started without the ASR service's heap setting: streaming will spend more CPU on garbage collection (start it as `node " +
        `${ASR_NODE_FLAGS.join(" ")} --import tsx services/asr/src/main.ts\`)`,
    );
  const config = loadConfig();
  logger = createLogger({ service: "asr", level: config.log.level, logPii: config.log.pii });
  const registry = createMetricsRegistry("asr");

  const recognizer = await loadRecognizer(config, { logger, registry });
  let messaging: Messaging | undefined;
  if (config.worker.enabled) {
    messaging = await connectMessaging({
      servers: config.nats.servers,
      name: `asr-${config.worker.replicaId}`,
      logger,
    });
  }
  const service = await createAsrService(config, { engine: recognizer.engine, logger, registry, messaging });

  const { shutdown } = onShutdown({
    logger,
    deadlineMs: config.shutdownDeadlineMs,
    steps: [...service.shutdownSteps, { name: "close engine and models", run: () => recognizer.close() }],
  });
  // Without its inference thread the replica cannot recognise anything: drain and exit with a failure, so
  // the orchestrator restarts it and other replicas take over its calls.
  void recognizer.model.failed?.then((err) => {
    logger.fatal({ err }, "the acoustic model's inference thread failed");
    void shutdown("inference thread failed", 1);
  });
}

main().catch((err) => {
  logger.fatal({ err });
  process.exit(1);
});
