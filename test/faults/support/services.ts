import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomInt } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ASR_NODE_FLAGS } from "../../../services/asr/src/node-flags.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
// node itself with tsx as its loader: one process, so a SIGKILL kills the service (the tsx command
// runs the service in a child that would outlive it).
const tsxLoader = "tsx";
const modelDir = process.env.TEST_ASR_MODEL_DIR ?? join(repoRoot, "models/asr-en-telephony");

export type LogLine = Record<string, unknown> & { msg?: string; time?: number };

/** A Callscribe service started from its main.ts as its own process, with its JSON log kept. */
export class ServiceProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private constructor(
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    let buffered = "";
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const line of parts) {
        if (!line.trim()) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    });
    child.stderr.on("data", (d: Buffer) => {
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[${name}] ${d.toString()}`);
    });
    this.exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
    // A test worker that dies must not leave services running.
    const reap = () => child.kill("SIGKILL");
    process.once("exit", reap);
    void this.exited.then(() => process.off("exit", reap));
  }

  static start(name: string, nodeFlags: readonly string[], main: string, env: Record<string, string>) {
    const child = spawn(process.execPath, ["--import", tsxLoader, ...nodeFlags, join(repoRoot, main)], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
    });
    return new ServiceProcess(name, child);
  }

  async waitForLine(msg: string, timeoutMs = 60_000, from = 0): Promise<LogLine> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.slice(from).find((l) => l.msg === msg);
      if (line) return line;
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited with ${this.child.exitCode} before logging "${msg}"`);
      if (Date.now() > until)
        throw new Error(`${this.name} logged no "${msg}" within ${timeoutMs} ms: ${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Its warnings and errors, one line each, for a failure report. */
  problems(max = 30, minLevel = 40): string[] {
    return this.lines
      .filter((l) => typeof l.level === "number" && l.level >= minLevel)
      .slice(-max)
      .map(
        (l) =>
          `${this.name} ${new Date(l.time ?? 0).toISOString().slice(11, 23)} ${l.msg ?? ""} ${JSON.stringify(l.err ?? l.status ?? "").slice(0, 160)}`,
      );
  }

  tail(n = 20): string {
    return JSON.stringify(this.lines.slice(-n)).slice(0, 4000);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

export interface IngestProcess {
  process: ServiceProcess;
  sipPort: number;
  opsPort: number;
}

/** ingest's main.ts on loopback, SIP on a free port, RTP in a range of its own. */
export async function startIngest(natsUrl: string, env: Record<string, string> = {}): Promise<IngestProcess> {
  const rtpMin = 30_000 + 2 * randomInt(0, 9_000);
  const service = ServiceProcess.start("ingest", [], "services/ingest/src/main.ts", {
    NATS_URL: natsUrl,
    INGEST_SIP_HOST: "127.0.0.1",
    INGEST_SIP_PORT: "0",
    INGEST_ADVERTISED_ADDRESS: "127.0.0.1",
    INGEST_MEDIA_HOST: "127.0.0.1",
    INGEST_OPS_HOST: "127.0.0.1",
    INGEST_OPS_PORT: "0",
    INGEST_RTP_PORT_MIN: String(rtpMin),
    INGEST_RTP_PORT_MAX: String(rtpMin + 199),
    // Two busy cores: scheduling hiccups must not turn into late packets.
    INGEST_JITTER_DELAY_MS: "400",
    ...env,
  });
  const ready = await service.waitForLine("ingest listening for SIP");
  return { process: service, sipPort: ready.sipPort as number, opsPort: ready.opsPort as number };
}

/** An asr replica's main.ts with its worker on, sharing the calls consumer and claims with the others. */
export async function startAsrReplica(
  natsUrl: string,
  replicaId: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const service = ServiceProcess.start(`asr-${replicaId}`, ASR_NODE_FLAGS, "services/asr/src/main.ts", {
    NATS_URL: natsUrl,
    ASR_MODEL_DIR: modelDir,
    ASR_GRPC_PORT: "0",
    ASR_OPS_PORT: "0",
    ASR_WORKER: "true",
    ASR_REPLICA_ID: replicaId,
    ASR_SHUTDOWN_DEADLINE_MS: "5000",
    ...env,
  });
  await service.waitForLine("call worker started", 120_000);
  return service;
}

/** A counter's value from a service's /metrics, summed over its labels. */
export async function scrapeCounter(opsPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(" ").at(-1));
  }
  return sum;
}
