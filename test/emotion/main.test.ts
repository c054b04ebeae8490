import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { healthStatuses } from "../asr/service/support.ts";
import { prosodyModelDir, repoRoot } from "./support.ts";

describe("emotion main.ts", () => {
  it("starts, serves health, and drains to exit 0 on SIGTERM", async () => {
    const child = spawn(
      join(repoRoot, "node_modules/.bin/tsx"),
      [join(repoRoot, "services/emotion/src/main.ts")],
      {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? "",
          EMOTION_MODEL_DIR: prosodyModelDir,
          EMOTION_GRPC_PORT: "0",
          EMOTION_OPS_PORT: "0",
          EMOTION_SHUTDOWN_DEADLINE_MS: "5000",
        },
      },
    );
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
    try {
      const until = Date.now() + 30_000;
      let ready: Record<string, unknown> | undefined;
      while (!(ready = lines.find((l) => l.msg === "emotion service ready"))) {
        if (Date.now() > until) throw new Error(`not ready: ${JSON.stringify(lines).slice(0, 1000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await healthStatuses(ready.grpcPort as number, [""])).toEqual(["SERVING"]);
      const metrics = await (await fetch(`http://127.0.0.1:${ready.opsPort as number}/metrics`)).text();
      expect(metrics).toContain("emotion_queue_depth");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(lines.some((l) => l.msg === "shutdown complete" && l.failed === false)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("refuses to start without a model folder, naming the variable", async () => {
    const child = spawn(
      join(repoRoot, "node_modules/.bin/tsx"),
      [join(repoRoot, "services/emotion/src/main.ts")],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? "", EMOTION_MODEL_DIR: "/nonexistent/emotion" },
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    expect(out).toContain("EMOTION_MODEL_DIR");
  });
});
