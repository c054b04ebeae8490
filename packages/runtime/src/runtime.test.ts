import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, createMetricsRegistry, onShutdown, startOpsServer } from "./index.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe("createLogger", () => {
  it("drops pii fields unless told to keep them", () => {
    const { lines, destination } = capture();
    createLogger({ service: "t", destination }).info(
      { callId: "c1", pii: { transcript: "my card is 4111" } },
      "utterance",
    );
    expect(lines[0]).toMatchObject({ callId: "c1", msg: "utterance", service: "t" });
    expect(lines[0]).not.toHaveProperty("pii");

    const kept = capture();
    createLogger({ service: "t", logPii: true, destination: kept.destination }).info(
      { pii: { from: "+1555" } },
      "x",
    );
    expect(kept.lines[0]).toHaveProperty("pii.from", "+1555");
  });
});

describe("startOpsServer", () => {
  it("reports readiness from its checks and serves metrics", async () => {
    let natsUp = false;
    const ops = await startOpsServer({
      host: "127.0.0.1",
      port: 0,
      registry: createMetricsRegistry("t"),
      checks: { nats: () => natsUp, model: () => true },
    });
    try {
      const base = `http://127.0.0.1:${ops.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toContain("nats");
      natsUp = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain("process_cpu_user_seconds_total");
    } finally {
      await ops.close();
    }
  });
});

describe("onShutdown", () => {
  /** onShutdown with a silent logger and no signals; `code` is what it exited with (-1 before). */
  function shutdownWith(steps: Parameters<typeof onShutdown>[0]["steps"]) {
    const { destination } = capture();
    const result = { code: -1 };
    const { shutdown } = onShutdown({
      logger: createLogger({ service: "t", destination }),
      deadlineMs: 100,
      signals: [],
      exit: (c) => {
        result.code = c;
      },
      steps,
    });
    return { shutdown, result };
  }

  it("exits with the failure code it is given when a fatal error starts it, even if every step finishes", async () => {
    const { shutdown, result } = shutdownWith([{ name: "close", run: async () => {} }]);
    await shutdown("inference thread failed", 1);
    expect(result.code).toBe(1);
  });

  it("runs steps in order and abandons one that overruns the deadline", async () => {
    const order: string[] = [];
    const { shutdown, result } = shutdownWith([
      { name: "stop intake", run: () => void order.push("stop") },
      { name: "stuck drain", run: () => new Promise<void>(() => order.push("stuck")) },
      { name: "close", run: () => void order.push("close") },
    ]);
    await shutdown("test");
    expect(order).toEqual(["stop", "stuck", "close"]);
    expect(result.code).toBe(1);
  });
});
