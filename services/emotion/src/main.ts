import { createLogger, createMetricsRegistry, onShutdown, type Logger } from "@callscribe/runtime";
import { loadConfig } from "./config.ts";
import { createEmotionService } from "./emotion.ts";
import { loadEmotionModel } from "./model/load.ts";

let logger: Logger = createLogger({ service: "emotion" });

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger({ service: "emotion", level: config.log.level, logPii: config.log.pii });
  const registry = createMetricsRegistry("emotion");
  const model = await loadEmotionModel({ ...config.model, logger });
  const service = await createEmotionService(config, { model, logger, registry });
  onShutdown({ logger, deadlineMs: config.shutdownDeadlineMs, steps: service.shutdownSteps });
}

main().catch((err) => {
  logger.fatal({ err });
  process.exit(1);
});
