export { createLogger, type Logger, type LoggerOptions } from "./logger.ts";
export { createMetricsRegistry, latencyBuckets } from "./metrics.ts";
export { startOpsServer, type OpsServer, type ReadinessCheck } from "./ops-server.ts";
export { onShutdown, type ShutdownStep } from "./shutdown.ts";
