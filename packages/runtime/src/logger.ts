import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Keep fields under `pii.` (transcripts, numbers, digits). Production sets this false. */
  logPii?: boolean;
  destination?: DestinationStream;
}

/**
 * JSON logs. Personal data never goes into a message string; it goes under `pii.` and is
 * removed unless the deployment opts in.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.service,
      level: options.level ?? "info",
      base: { service: options.service },
      redact: options.logPii ? [] : { paths: ["pii"], remove: true },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination,
  );
}
