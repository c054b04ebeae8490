import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";

// `npm run demo` as a newcomer runs it: the whole pipeline, a ticket, the dashboard, then Ctrl-C.
const root = new URL("../../", import.meta.url).pathname;
let demo: ChildProcess | undefined;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

afterAll(() => {
  if (!demo?.pid || demo.exitCode !== null || demo.signalCode !== null) return;
  try {
    process.kill(-demo.pid, "SIGKILL");
  } catch {
    // the group has already gone
  }
});

describe("npm run demo", () => {
  it("recognises the call, writes and prints its ticket, serves the dashboard, and stops everything on Ctrl-C", async () => {
    // The README's command, in its own process group as in a terminal, so that Ctrl-C reaches the whole group
    // (npm, tsx and the demo each see the signal, as they do when a user presses it).
    const child = spawn("npm", ["run", "demo"], {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    demo = child;
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<string>((resolve) =>
      child.once("exit", (code, signal) => resolve(`${code ?? signal}`)),
    );

    for (let waited = 0; !output.includes("press Ctrl-C") && child.exitCode === null; waited += 250) {
      if (waited > 240_000) throw new Error(`the demo did not come up in 240 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(output).toContain("press Ctrl-C");
    expect(output).toMatch(/Call WER: \d+(\.\d)?%/);
    expect(output).toMatch(/Ticket for call c-[0-9a-f]+/);
    expect(output).toMatch(/transcript \(redacted\)/);
    const natsPort = Number(
      /private nats-server with JetStream on nats:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1],
    );
    const dashboard = /Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/#token=(\S+)/.exec(output);
    expect(dashboard).not.toBeNull();
    const page = await fetch(`${dashboard![1]}/`);
    expect(page.status).toBe(200);
    expect(await portOpen(natsPort)).toBe(true);

    // Ctrl-C: the terminal signals every process of the foreground group.
    process.kill(-child.pid!, "SIGINT");
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r("still running"), 30_000)),
    ]);
    // npm ends itself with the signal it got once its script has exited; the demo has said it is done first.
    expect(["0", "SIGINT"]).toContain(code);
    expect(output).toContain("Every service has stopped.");
    expect(output).not.toMatch(/shutdown step did not finish/);
    expect(await portOpen(natsPort)).toBe(false);
  }, 300_000);
});
