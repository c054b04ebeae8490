import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connectMessaging } from "@callscribe/messaging";
import { pino } from "pino";
import { testNatsUrl, uniqueCallId } from "../../support/infra.ts";
import { ASR_NODE_FLAGS } from "../../../services/asr/src/node-flags.ts";
import { healthStatuses, modelDir, repoRoot } from "./support.ts";

const tsx = join(repoRoot, "node_modules/.bin/tsx");
const main = join(repoRoot, "services/asr/src/main.ts");

/** main.ts as the service starts, with its heap setting on node's command line (or, given [], without). */
function start(
  env: Record<string, string>,
  nodeFlags: readonly string[] = ASR_NODE_FLAGS,
): {
  child: ChildProcessWithoutNullStreams;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
} {
  const child = spawn(tsx, [...nodeFlags, main], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  const lines: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout.on("data", (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, lines, exited };
}

async function waitForLine(lines: Record<string, unknown>[], msg: string, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const line = lines.find((l) => l.msg === msg);
    if (line) return line;
    if (Date.now() > until)
      throw new Error(`no "${msg}" log line; got ${JSON.stringify(lines).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("asr main.ts", () => {
  it("starts, serves health, and drains to exit 0 on SIGTERM", async () => {
    const id = uniqueCallId("main");
    const { child, lines, exited } = start({
      ASR_MODEL_DIR: modelDir,
      ASR_GRPC_PORT: "0",
      ASR_OPS_PORT: "0",
      // The worker runs too, on a subject and bucket of its own so it takes no other test's calls.
      ASR_WORKER: "true",
      NATS_URL: testNatsUrl,
      ASR_CALLS_SUBJECT: `call.${id}.started`,
      ASR_CALLS_CONSUMER: `asr-main-${id}`,
      ASR_CLAIMS_BUCKET: `ASR_CLAIMS_${id.replace(/-/g, "_")}`,
      ASR_SHUTDOWN_DEADLINE_MS: "5000",
    });
    try {
      const ready = await waitForLine(lines, "asr service ready");
      expect(lines.some((l) => l.missing)).toBe(false);
      const port = ready.grpcPort as number;
      expect(await healthStatuses(port, [""])).toEqual(["SERVING"]);
      const ops = await fetch(`http://127.0.0.1:${ready.opsPort as number}/readyz`);
      expect(ops.status).toBe(200);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(lines.some((l) => l.msg === "shutdown complete" && l.failed === false)).toBe(true);
    } finally {
      child.kill("SIGKILL");
      const m = await connectMessaging({
        servers: [testNatsUrl],
        name: "asr-main-test",
        logger: pino({ level: "silent" }),
      });
      await m.jsm.consumers.delete("CALLS", `asr-main-${id}`).catch(() => undefined);
      await m.jsm.streams.delete(`KV_ASR_CLAIMS_${id.replace(/-/g, "_")}`).catch(() => undefined);
      await m.drain();
    }
  });

  it("refuses to start with a folder that holds no model, naming ASR_MODEL_DIR", async () => {
    // Started without the heap setting: it says so first.
    const { lines, exited } = start(
      {
        ASR_MODEL_DIR: join(repoRoot, "proto"),
        ASR_GRPC_PORT: "0",
        ASR_OPS_PORT: "0",
      },
      [],
    );
    expect(await exited).toBe(1);
    expect(lines.find((l) => l.level === 40)?.missing).toEqual(["--initial-old-space-size=128"]);
    const fatal = lines.find((l) => l.level === 60);
    expect(JSON.stringify(fatal)).toContain(
      `ASR_MODEL_DIR: no manifest.json or model.onnx+tokens.txt in ${join(repoRoot, "proto")}; set it to a model folder`,
    );
  });
});
