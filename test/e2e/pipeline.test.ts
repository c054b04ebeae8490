import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWav, readWavFile } from "@callscribe/audio";
import { tickets, utterances, type Database } from "@callscribe/db";
import { findPii } from "../../services/summarizer/src/analysis/index.ts";
import { ASR_NODE_FLAGS } from "../../services/asr/src/node-flags.ts";
import { createTestDatabase } from "../summarizer/support.ts";

const root = new URL("../../", import.meta.url).pathname;
const tsx = join(root, "node_modules/.bin/tsx");
const work = mkdtempSync(join(tmpdir(), "callscribe-e2e-"));
const children: ChildProcess[] = [];
const port = (offset: number) => 20_000 + ((process.pid * 7) % 9_000) + offset;
const natsUrl = `nats://127.0.0.1:${port(0)}`;
let database: Database;
let databaseUrl: string;
let drop: () => Promise<void>;

function start(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(tsx, args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", NATS_URL: natsUrl, ...env },
    stdio: "ignore",
  });
  children.push(child);
  return child;
}

async function ready(url: string): Promise<void> {
  for (let i = 0; i < 480; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} never ready`);
}

const spokenNumber = {
  digits: [4, 1, 5, 5, 5, 5, 0, 1, 2, 3],
  words: "four one five five five five zero one two three",
};

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const reference = {
  caller: "please enter the conference pin number",
  agent: "hello my name is judith and i'm calling about my medicaid",
};

beforeAll(async () => {
  ({ database, url: databaseUrl, drop } = await createTestDatabase("e2e"));
  children.push(
    spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port(0)), "-js", "-sd", join(work, "nats")], {
      stdio: "ignore",
    }),
  );
  await new Promise((r) => setTimeout(r, 700));
  start([...ASR_NODE_FLAGS, "services/asr/src/main.ts"], {
    ASR_GRPC_PORT: String(port(1)),
    ASR_OPS_PORT: String(port(2)),
  });
  start(["services/ingest/src/main.ts"], {
    INGEST_SIP_HOST: "127.0.0.1",
    INGEST_SIP_PORT: String(port(3)),
    INGEST_ADVERTISED_ADDRESS: "127.0.0.1",
    INGEST_MEDIA_HOST: "127.0.0.1",
    INGEST_RTP_PORT_MIN: String(port(10)),
    INGEST_RTP_PORT_MAX: String(port(10) + 99),
    INGEST_OPS_HOST: "127.0.0.1",
    INGEST_OPS_PORT: String(port(4)),
  });
  start(["services/summarizer/src/main.ts"], {
    DATABASE_URL: databaseUrl,
    SUMMARIZER_OPS_HOST: "127.0.0.1",
    SUMMARIZER_OPS_PORT: String(port(5)),
  });
  await Promise.all([2, 4, 5].map((p) => ready(`http://127.0.0.1:${port(p)}/readyz`)));
}, 180_000);

afterAll(async () => {
  for (const c of children.slice(1)) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 3000));
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await drop?.();
  rmSync(work, { recursive: true, force: true });
});

describe("a call through ingest, JetStream, asr and the summarizer", () => {
  it("ends as a ticket in Postgres with both parties, talk times, a redacted transcript and the words said", async () => {
    const load = async (f: string) => (await readWavFile(join(root, "test/fixtures/asr", f))).samples[0]!;
    const prompt = await load("real_conf-getpin.wav");
    // Then a callback number, said digit by digit in the same speaker's recorded digits: PII as it is spoken.
    const digitGap = new Int16Array(1200);
    const digits: Int16Array[] = [];
    for (const d of spokenNumber.digits) {
      digits.push((await readWavFile(`/usr/share/asterisk/sounds/en/digits/${d}.wav`)).samples[0]!, digitGap);
    }
    const gap = new Int16Array(4800);
    const caller = concat([prompt, gap, ...digits]);
    const agent = await load("synth_heldout.wav");
    const left = new Int16Array(caller.length + gap.length + agent.length + gap.length);
    const right = new Int16Array(left.length);
    left.set(caller, 0);
    right.set(agent, caller.length + gap.length);
    const wav = join(work, "call.wav");
    writeFileSync(wav, encodeWav([left, right], 8000));

    const play = start(
      ["services/ingest/src/cli/play.ts", "--to", `sip:e2e@127.0.0.1:${port(3)}`, "--wav", wav],
      {},
    );
    expect(await new Promise((r) => play.on("exit", r))).toBe(0);

    let ticket;
    for (let i = 0; i < 240 && !ticket; i++) {
      [ticket] = await database.db.select().from(tickets);
      if (!ticket) await new Promise((r) => setTimeout(r, 500));
    }
    expect(ticket).toBeDefined();
    const t = ticket!;
    expect(t.incomplete).toBe(false);
    expect(new Set(t.redactedTranscript.map((l) => l.leg))).toEqual(new Set(["caller", "agent"]));
    const seconds = (ms: number) => ms / 1000;
    // The caller's prompt is about 2.5 s, the agent's about 3.5 s of speech.
    expect(seconds(t.talkTime.callerMs)).toBeGreaterThan(1);
    expect(seconds(t.talkTime.agentMs)).toBeGreaterThan(1);
    expect(t.talkTime.overlapMs).toBe(0);
    // Whatever was recognised, the ticket holds no PII the redaction would find, and the raw text stays in utterances.
    for (const line of t.redactedTranscript) expect(findPii(line.text)).toEqual([]);
    const raw = await database.db.select().from(utterances).where(eq(utterances.callId, t.callId));
    expect(raw.length).toBe(t.redactedTranscript.length);
    // The spoken number was recognised, kept only in the utterances, and redacted in the ticket.
    const rawCaller = raw
      .filter((u) => u.leg === "caller")
      .map((u) => u.text)
      .join(" ");
    expect(rawCaller).toContain(spokenNumber.words);
    const redactedCaller = t.redactedTranscript
      .filter((l) => l.leg === "caller")
      .map((l) => l.text)
      .join(" ");
    expect(redactedCaller).not.toContain("five five five five");
    expect(redactedCaller).toMatch(/\[(PHONE|NUMBER|ACCOUNT)\]/);
    expect(t.redactedText).not.toContain(spokenNumber.words);
    const said = new Set(t.redactedText.toLowerCase().split(/[^a-z']+/));
    const overlap = [...reference.caller.split(" "), ...reference.agent.split(" ")].filter((w) =>
      said.has(w),
    );
    expect(overlap.length).toBeGreaterThanOrEqual(4);
  }, 240_000);
});
