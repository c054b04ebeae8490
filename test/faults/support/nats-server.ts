import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const natsServerBinary = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freeTcpPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/**
 * A nats-server of the test's own, with JetStream in a temporary folder that survives a restart, so a
 * test can kill it mid-call (never the shared server other tests use).
 */
export class PrivateNatsServer {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  static async start(): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(
      await freeTcpPort(),
      mkdtempSync(join(tmpdir(), "callscribe-faults-nats-")),
    );
    await server.up();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the process (again) and waits until it accepts connections. Without `jetstream` it answers
   * core NATS while JetStream requests find no responder, as a cluster does while its JetStream
   * leaders are still being elected after a restart.
   */
  async up(options: { jetstream?: boolean } = {}): Promise<void> {
    const js = options.jetstream ?? true;
    const child = spawn(
      natsServerBinary,
      [...(js ? ["-js", "-sd", this.storeDir] : []), "-a", "127.0.0.1", "-p", String(this.port)],
      { stdio: "ignore" },
    );
    this.child = child;
    const reap = () => child.kill("SIGKILL");
    process.once("exit", reap);
    child.once("exit", () => process.off("exit", reap));
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null)
        throw new Error(`nats-server exited with ${child.exitCode} on port ${this.port}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not start on port ${this.port}`);
      await sleep(20);
    }
  }

  /** Stops the process with `signal` (SIGKILL: a crash) and waits for it to exit. */
  async down(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  async close(): Promise<void> {
    await this.down("SIGTERM");
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
