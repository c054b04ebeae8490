import { spawn } from "node:child_process";
import { join } from "node:path";
import { decodeMulaw, encodeMulaw, writeWavFile } from "@callscribe/audio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CallWatcher,
  readLegAudio,
  repoRoot,
  startTestIngest,
  tempDirWith,
  waitFor,
  type TestIngest,
} from "./support/harness.ts";
import { readPrompt } from "./support/recording.ts";

async function runPlay(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    join(repoRoot, "node_modules/.bin/tsx"),
    [join(repoRoot, "services/ingest/src/cli/play.ts"), ...args],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  return { code, output };
}

/** What a receiver gets back from one channel: padded to whole 20 ms packets, through mu-law. */
function pcmuRoundTrip(samples: Int16Array, length: number): Int16Array {
  const padded = new Int16Array(Math.ceil(length / 160) * 160);
  padded.set(samples);
  return decodeMulaw(encodeMulaw(padded));
}

describe("play command", () => {
  let t: TestIngest;
  let watcher: CallWatcher;
  let stereoWav: string;
  let caller: Int16Array;
  let agent: Int16Array;
  beforeAll(async () => {
    t = await startTestIngest();
    watcher = new CallWatcher(t.messaging);
    await watcher.ready(t.messaging);
    caller = await readPrompt("hello-world");
    agent = await readPrompt("vm-goodbye");
    const length = Math.max(caller.length, agent.length);
    const left = new Int16Array(length);
    const right = new Int16Array(length);
    left.set(caller);
    right.set(agent);
    const dir = await tempDirWith({});
    stereoWav = join(dir, "stereo.wav");
    await writeWavFile(stereoWav, [left, right], 8000);
  });
  afterAll(async () => {
    watcher?.close();
    await t?.close();
  });

  it("plays a stereo WAV as two legs, caller left and agent right, sample for sample after G.711", async () => {
    const before = watcher.started.length;
    const result = await runPlay([
      "--to",
      `sip:record@127.0.0.1:${t.ingest.sipPort}`,
      "--wav",
      stereoWav,
      "--agent-id",
      "desk-9",
    ]);
    expect(result.code, result.output).toBe(0);
    const started = await waitFor(
      () => watcher.started.slice(before).find((e) => e.agentId === "desk-9"),
      10_000,
      "call.started",
    );
    expect(started.legs.map((l) => l.leg)).toEqual(["caller", "agent"]);
    expect((await watcher.waitForEnded(started.callId)).reason).toBe("bye");
    const length = Math.max(caller.length, agent.length);
    for (const [leg, source] of [
      ["caller", caller],
      ["agent", agent],
    ] as const) {
      const audio = await readLegAudio(t.messaging, started.callId, leg);
      expect(Array.from(audio.pcm)).toEqual(Array.from(pcmuRoundTrip(source, length)));
    }
  });

  it("plays over TCP as SIPREC with G.722: two 16 kHz legs", async () => {
    const before = watcher.started.length;
    const result = await runPlay([
      "--to",
      `sip:record@127.0.0.1:${t.ingest.sipPort}`,
      "--wav",
      stereoWav,
      "--codec",
      "G722",
      "--transport",
      "tcp",
      "--siprec",
      "--fast",
    ]);
    expect(result.code, result.output).toBe(0);
    const started = await waitFor(
      () => watcher.started.slice(before).find((e) => e.source === "siprec" && e.from?.includes("play")),
      10_000,
      "call.started",
    );
    expect(started.legs).toEqual([
      { leg: "caller", sampleRate: 16000, codec: "G722" },
      { leg: "agent", sampleRate: 16000, codec: "G722" },
    ]);
    expect(started.participants.map((p) => p.aor)).toEqual([
      "sip:caller@play.invalid",
      "sip:agent@play.invalid",
    ]);
  });

  it("exits non-zero with the status when ingest refuses the call", async () => {
    const pcmuOnly = await startTestIngest({ INGEST_CODECS: "PCMU" });
    try {
      const result = await runPlay([
        "--to",
        `sip:record@127.0.0.1:${pcmuOnly.ingest.sipPort}`,
        "--wav",
        stereoWav,
        "--codec",
        "PCMA",
      ]);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/488 Not Acceptable Here/);
    } finally {
      await pcmuOnly.close();
    }
  });

  it("exits with usage help for bad arguments", async () => {
    const result = await runPlay(["--to", "http://example.com", "--wav", stereoWav]);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/not a sip: URI/);
  });
});
