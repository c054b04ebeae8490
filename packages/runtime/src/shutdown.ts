import type { Logger } from "pino";

export type ShutdownStep = { name: string; run: () => Promise<void> | void };

/**
 * Runs drain steps in order when SIGTERM or SIGINT arrives (or `shutdown()` is called), each within
 * what is left of one deadline, then exits. Steps that overrun are abandoned with a log line so
 * a stuck dependency cannot keep a pod alive past its grace period.
 */
export function onShutdown(options: {
  logger: Logger;
  deadlineMs: number;
  steps: ShutdownStep[];
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}): { shutdown: (reason: string, exitCode?: number) => Promise<void> } {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;

  /** `exitCode` 1 makes the exit a failure even when every step finishes (a fatal error started it). */
  const shutdown = (reason: string, exitCode = 0): Promise<void> => {
    running ??= (async () => {
      const deadline = Date.now() + options.deadlineMs;
      options.logger.info({ reason, deadlineMs: options.deadlineMs }, "shutting down");
      let failed = false;
      for (const step of options.steps) {
        const left = Math.max(0, deadline - Date.now());
        const outcome = await runWithin(step, left);
        if (outcome !== "done") {
          failed = true;
          options.logger.error(
            { step: step.name, outcome: outcome.kind, err: outcome.err },
            "shutdown step did not finish",
          );
        }
      }
      options.logger.info({ failed }, "shutdown complete");
      exit(failed ? 1 : exitCode);
    })();
    return running;
  };

  for (const signal of options.signals ?? ["SIGTERM", "SIGINT"]) {
    process.once(signal, () => void shutdown(signal));
  }
  return { shutdown };
}

async function runWithin(
  step: ShutdownStep,
  ms: number,
): Promise<"done" | { kind: "timeout" | "error"; err?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ kind: "timeout" }>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout" }), ms);
  });
  try {
    const result = await Promise.race([Promise.resolve(step.run()).then(() => "done" as const), timeout]);
    return result;
  } catch (err) {
    return { kind: "error", err };
  } finally {
    clearTimeout(timer);
  }
}
