/**
 * npm run demo: the whole pipeline on one machine. Starts a private nats-server with JetStream in a
 * temporary folder and every service as its own process on loopback (ingest, asr, summarizer, and
 * the dashboard and emotion services when they are in the tree), places a stereo call (caller and
 * agent legs of real recorded telephone prompts) into ingest over SIP/RTP with the `play` command,
 * prints each recognised line beside its reference text and the call's WER, waits for the ticket in
 * Postgres and prints it, and leaves the dashboard running until Ctrl-C.
 *
 * Postgres is the local server `scripts/setup.sh` starts (or DATABASE_URL), database callscribe_demo.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { encodeWav, readWavFile } from "@callscribe/audio";
import { createDatabase, migrateDatabase, tickets, type Ticket } from "@callscribe/db";
import { LegDone, PartialResult, UtteranceResult, decodeEvent } from "@callscribe/messaging";
import { eq } from "drizzle-orm";
import pg from "pg";
import { ASR_NODE_FLAGS } from "../services/asr/src/node-flags.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(root, "test/fixtures/asr");
const work = mkdtempSync(join(tmpdir(), "callscribe-demo-"));
const children: ChildProcess[] = [];

const say = (line: string) => process.stdout.write(`${line}\n`);

const taken = new Set<number>();
/**
 * A free TCP port below Linux's ephemeral range (32768+), so no outgoing connection of a service
 * (to NATS, to Postgres) can take it between this check and the service's listen.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || (port >= 41_000 && port < 42_000)) continue;
    taken.add(port);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function start(
  name: string,
  command: string,
  args: string[],
  options: { env?: Record<string, string>; service?: boolean } = {},
): ChildProcess {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...options.env },
    // Services log JSON to stdout; warnings and errors are shown, prefixed with the service name.
    stdio: ["ignore", "pipe", "pipe"],
  });
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n"))
      if (line.trim()) process.stderr.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on("data", relay);
  child.stderr?.on("data", relay);
  if (options.service !== false) {
    child.on("exit", (code, signal) => {
      if (!stopping) say(`${name} exited early (code ${code ?? "none"}, signal ${signal ?? "none"})`);
    });
  }
  children.push(child);
  return child;
}

async function waitReady(name: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} was not ready within ${timeoutMs / 1000} s (${url})`);
}

interface Turn {
  leg: "caller" | "agent";
  startMs: number;
  endMs: number;
  text: string;
}

/** Reference text of each fixture prompt. */
const references: Record<string, string> = {
  "real_conf-getpin.wav": "please enter the conference pin number",
  "real_all-circuits-busy-now.wav": "all circuits are busy now",
  "real_feature-not-avail-line.wav": "that feature is not available on this line",
  "synth_heldout.wav": "hello my name is judith and i'm calling about my medicaid",
};

/** Caller: the three held-out real prompts; agent: a held-out synthetic voice (flite slt). Silence between turns. */
async function buildCall(): Promise<{ path: string; turns: Turn[] }> {
  const rate = 8000;
  const gap = new Int16Array(rate * 0.6);
  const load = async (file: string) =>
    (await readWavFile(join(fixtures, file))).samples[0] ?? new Int16Array();
  const callerFiles = [
    "real_conf-getpin.wav",
    "real_all-circuits-busy-now.wav",
    "real_feature-not-avail-line.wav",
  ];
  const callerTurns = await Promise.all(callerFiles.map(load));
  const agentTurn = await load("synth_heldout.wav");
  const caller: Int16Array[] = [];
  const agent: Int16Array[] = [];
  const turns: Turn[] = [];
  let at = 0;
  const ms = (samples: number) => Math.round((samples / rate) * 1000);
  const pad = (leg: Int16Array[], n: number) => leg.push(new Int16Array(n));
  // Turns alternate: caller speaks, agent answers, caller again.
  for (const [i, turn] of callerTurns.entries()) {
    caller.push(turn, gap);
    pad(agent, turn.length + gap.length);
    turns.push({
      leg: "caller",
      startMs: ms(at),
      endMs: ms(at + turn.length),
      text: references[callerFiles[i]!]!,
    });
    at += turn.length + gap.length;
    if (i === 0) {
      agent.push(agentTurn, gap);
      pad(caller, agentTurn.length + gap.length);
      turns.push({
        leg: "agent",
        startMs: ms(at),
        endMs: ms(at + agentTurn.length),
        text: references["synth_heldout.wav"]!,
      });
      at += agentTurn.length + gap.length;
    }
  }
  const join16 = (parts: Int16Array[]) => {
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const path = join(work, "call.wav");
  const { writeFile } = await import("node:fs/promises");
  await writeFile(path, encodeWav([join16(caller), join16(agent)], rate));
  return { path, turns };
}

const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, " ")
    .split(/\s+/)
    .filter(Boolean);

/** Word edit distance between reference and hypothesis. */
function wordErrors(reference: string[], hypothesis: string[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const row = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const sub = previous[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      row.push(Math.min(sub, previous[j]! + 1, row[j - 1]! + 1));
    }
    previous = row;
  }
  return previous[hypothesis.length]!;
}

/** The demo's own database on the local Postgres (or DATABASE_URL), created when missing. */
async function demoDatabaseUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const admin = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect().catch((err: unknown) => {
    throw new Error(
      `cannot reach Postgres on 127.0.0.1:5432 (${err instanceof Error ? err.message : String(err)}); run scripts/setup.sh or set DATABASE_URL`,
    );
  });
  try {
    const exists = await admin.query("select 1 from pg_database where datname = 'callscribe_demo'");
    if (exists.rowCount === 0) await admin.query("create database callscribe_demo");
  } finally {
    await admin.end();
  }
  return "postgres://postgres@127.0.0.1:5432/callscribe_demo";
}

function printTicket(t: Ticket): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const num = (x: number | null) => (x === null ? "null" : x.toFixed(2));
  say(`\nTicket for call ${t.callId}${t.incomplete ? ` (INCOMPLETE: ${t.incompleteReason ?? ""})` : ""}`);
  say(
    `  category     ${t.category}${t.subcategory ? ` / ${t.subcategory}` : ""}, urgency ${t.urgency}, status ${t.status}`,
  );
  say(`  summary      ${t.summary || "(nothing to quote)"}`);
  say(
    `  sentiment    overall ${num(t.sentimentOverall)}, caller ${num(t.sentimentCaller)}, agent ${num(t.sentimentAgent)}, by quarter ${t.sentimentTrend.map(num).join(" ")}`,
  );
  const k = t.talkTime;
  say(
    `  talk         caller ${s(k.callerMs)}, agent ${s(k.agentMs)}, nobody ${s(k.nonTalkMs)}, both ${s(k.overlapMs)}, interruptions ${t.interruptions}, words/min caller ${k.callerWordsPerMinute} agent ${k.agentWordsPerMinute}`,
  );
  say(
    `  language     ${t.language ?? "null"}, dialect ${t.dialect ?? "null"}; emotion mix ${t.emotionMix ? JSON.stringify(t.emotionMix) : "null"}`,
  );
  say(`  keywords     ${t.keywords.join(", ") || "(none)"}`);
  for (const a of t.actionItems) say(`  action       ${a.text}${a.dueAt ? ` (due ${a.dueAt})` : ""}`);
  say(`  asr model    ${t.asrModel ?? "null"} ${t.asrModelVersion ?? ""}`);
  say("  transcript (redacted):");
  for (const line of t.redactedTranscript) say(`    ${line.leg.padEnd(6)} ${line.text}`);
}

let stopping = false;
let stopped: Promise<void> | undefined;
/** Services drain first (they need NATS for that), then the private nats-server goes. */
function stop(): Promise<void> {
  stopped ??= stopServices();
  return stopped;
}

async function stopServices(): Promise<void> {
  stopping = true;
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const [nats, ...services] = children;
  for (const child of services) if (child.exitCode === null) child.kill("SIGTERM");
  const grace = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
  await Promise.race([Promise.all(services.map(exited)), grace(10_000)]);
  for (const child of services)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (nats && nats.exitCode === null) nats.kill("SIGTERM");
  if (nats) await Promise.race([exited(nats), grace(3_000)]);
  rmSync(work, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const [natsPort, grpcPort, asrOps, sipPort, ingestOps, summarizerOps, dashboardPort, dashboardOps] =
    await Promise.all(Array.from({ length: 8 }, freePort));
  const [emotionGrpc, emotionOps] = await Promise.all([freePort(), freePort()]);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const databaseUrl = await demoDatabaseUrl();
  const database = await createDatabase({ url: databaseUrl });
  await migrateDatabase(database);
  say(`Postgres: ${databaseUrl.replace(/\/\/[^@]*@/, "//")} (migrations applied)`);

  say(`Starting a private nats-server with JetStream on ${natsUrl}`);
  const nats = spawn(
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(natsPort), "-js", "-sd", join(work, "nats")],
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
    // nats-server must outlive the services until they have drained through it; stop() ends it.
    { stdio: "ignore", detached: true },
  );
  children.push(nats);
  // However the demo ends, the server it started does not outlive it.
  process.once("exit", () => {
    if (nats.exitCode === null && nats.signalCode === null) nats.kill("SIGKILL");
  });

  const tsx = join(root, "node_modules/.bin/tsx");
  const hasDashboard = existsSync(join(root, "services/dashboard/src/main.ts"));
  say(
    `Starting emotion, asr, ingest, summarizer${hasDashboard ? " and dashboard" : ""}, each as its own process`,
  );
  await new Promise((r) => setTimeout(r, 500));
  start("emotion", tsx, ["services/emotion/src/main.ts"], {
    env: { EMOTION_GRPC_PORT: String(emotionGrpc), EMOTION_OPS_PORT: String(emotionOps) },
  });
  start("asr", tsx, [...ASR_NODE_FLAGS, "services/asr/src/main.ts"], {
    env: {
      NATS_URL: natsUrl,
      ASR_GRPC_PORT: String(grpcPort),
      ASR_OPS_PORT: String(asrOps),
      ASR_EMOTION_ADDRESS: `127.0.0.1:${emotionGrpc}`,
    },
  });
  start("ingest", tsx, ["services/ingest/src/main.ts"], {
    env: {
      NATS_URL: natsUrl,
      INGEST_SIP_HOST: "127.0.0.1",
      INGEST_SIP_PORT: String(sipPort),
      INGEST_ADVERTISED_ADDRESS: "127.0.0.1",
      INGEST_MEDIA_HOST: "127.0.0.1",
      INGEST_RTP_PORT_MIN: "41000",
      INGEST_RTP_PORT_MAX: "41999",
      INGEST_OPS_HOST: "127.0.0.1",
      INGEST_OPS_PORT: String(ingestOps),
    },
  });
  start("summarizer", tsx, ["services/summarizer/src/main.ts"], {
    env: {
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      SUMMARIZER_OPS_HOST: "127.0.0.1",
      SUMMARIZER_OPS_PORT: String(summarizerOps),
      SUMMARIZER_INCOMPLETE_AFTER_MS: "30000",
    },
  });
  const token = randomBytes(18).toString("base64url");
  const ready = [
    waitReady("asr", `http://127.0.0.1:${asrOps}/readyz`, 120_000),
    waitReady("emotion", `http://127.0.0.1:${emotionOps}/readyz`, 60_000),
    waitReady("ingest", `http://127.0.0.1:${ingestOps}/readyz`, 60_000),
    waitReady("summarizer", `http://127.0.0.1:${summarizerOps}/readyz`, 60_000),
  ];
  if (hasDashboard) {
    start("dashboard", tsx, ["services/dashboard/src/main.ts"], {
      env: {
        DATABASE_URL: databaseUrl,
        DASHBOARD_HOST: "127.0.0.1",
        DASHBOARD_PORT: String(dashboardPort),
        DASHBOARD_OPS_HOST: "127.0.0.1",
        DASHBOARD_OPS_PORT: String(dashboardOps),
        DASHBOARD_ANALYST_TOKENS: token,
        DASHBOARD_WORKORDER_TOKENS: randomBytes(18).toString("base64url"),
      },
    });
    ready.push(waitReady("dashboard", `http://127.0.0.1:${dashboardOps}/readyz`, 60_000));
  }
  await Promise.all(ready);
  say(`asr gRPC on 127.0.0.1:${grpcPort}, ingest SIP on 127.0.0.1:${sipPort} (UDP and TCP)\n`);

  const nc = await connect({ servers: natsUrl });
  const done = new Set<string>();
  const finals: UtteranceResult[] = [];
  let callId: string | undefined;
  const allDone = new Promise<void>((resolve) => {
    void (async () => {
      for await (const msg of nc.subscribe(">")) {
        // Skip JetStream's deliveries to consumers: each event is shown once, as published.
        if (msg.reply?.startsWith("$JS.ACK")) continue;
        if (msg.subject.startsWith("partial.")) {
          const p = decodeEvent(PartialResult, msg.data, msg.subject);
          if (p.text) say(`  … ${p.leg.padEnd(6)} ${p.text}`);
        } else if (msg.subject.startsWith("utterance.")) {
          const u = decodeEvent(UtteranceResult, msg.data, msg.subject);
          finals.push(u);
          const at = (ms: number) => (ms / 1000).toFixed(2).padStart(6);
          say(
            `  ✔ ${u.leg.padEnd(6)} [${at(u.startMs)}-${at(u.endMs)} s] ${u.text}  (confidence ${u.confidence.toFixed(2)}` +
              `${u.emotion ? `, ${u.emotion.label}, arousal ${u.emotion.arousal.toFixed(2)}` : ""})`,
          );
        } else if (msg.subject.startsWith("leg.")) {
          const d = decodeEvent(LegDone, msg.data, msg.subject);
          say(
            `  ■ ${d.leg} leg done: ${d.utterances} utterances in ${(d.audioMs / 1000).toFixed(1)} s of audio`,
          );
          done.add(d.leg);
          if (done.size === 2) resolve();
        } else if (msg.subject.startsWith("call.")) {
          callId = msg.subject.split(".")[1];
          say(`  ● call ${msg.subject.split(".").slice(2).join(".")}`);
        }
      }
    })();
  });

  const call = await buildCall();
  say(
    `Placing a stereo call (caller left, agent right) from ${call.path} into ingest over SIP/RTP, in real time:`,
  );
  const play = start(
    "play",
    tsx,
    ["services/ingest/src/cli/play.ts", "--to", `sip:demo@127.0.0.1:${sipPort}`, "--wav", call.path],
    { service: false },
  );
  const playCode = await new Promise<number | null>((resolve) => play.on("exit", resolve));
  if (playCode !== 0) throw new Error(`play exited with code ${playCode}`);

  await within(60_000, "asr did not finish both legs within 60 s", allDone);
  await nc.drain();

  say("\nRecognised beside the reference, turn by turn:");
  const heard = new Map<Turn, string[]>();
  for (const u of finals) {
    const overlap = (t: Turn) =>
      t.leg === u.leg ? Math.min(t.endMs, u.endMs) - Math.max(t.startMs, u.startMs) : -Infinity;
    const turn = [...call.turns].sort((a, b) => overlap(b) - overlap(a))[0];
    if (turn && overlap(turn) > -500) heard.set(turn, [...(heard.get(turn) ?? []), u.text]);
  }
  let errors = 0;
  let words = 0;
  for (const turn of call.turns) {
    const hypothesis = (heard.get(turn) ?? []).join(" ");
    const ref = normalise(turn.text);
    const e = wordErrors(ref, normalise(hypothesis));
    errors += e;
    words += ref.length;
    say(`  ${turn.leg.padEnd(6)} reference:  ${turn.text}`);
    say(`  ${"".padEnd(6)} recognised: ${hypothesis || "(nothing)"}   [${e}/${ref.length} word errors]`);
  }
  say(
    `  Call WER: ${((100 * errors) / Math.max(1, words)).toFixed(1)}% (${errors} errors in ${words} reference words)`,
  );

  if (callId === undefined) throw new Error("no call.started was seen on NATS");
  const id = callId;
  say("\nWaiting for the summarizer's ticket in Postgres...");
  const ticket = await within(
    60_000,
    "no ticket within 60 s of the legs finishing",
    (async () => {
      for (;;) {
        const [row] = await database.db.select().from(tickets).where(eq(tickets.callId, id));
        if (row) return row;
        await new Promise((r) => setTimeout(r, 250));
      }
    })(),
  );
  printTicket(ticket);
  await database.close();

  if (!hasDashboard) {
    say("\nNo dashboard service in this tree; done.");
    return;
  }
  say(`\nDashboard: http://127.0.0.1:${dashboardPort}/#token=${token}  (analyst token: ${token})`);
  say("It keeps running; press Ctrl-C to stop every service.");
  // The SIGINT handler below stops the services and exits.
  await new Promise<never>(() => undefined);
}

/** Resolves with `work`, or rejects with `message` after `ms`, leaving no timer behind. */
async function within<T>(ms: number, message: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Ctrl-C at any point: stop every service and exit as soon as they have. The signal can arrive more
// than once (the terminal signals the whole group and tsx relays it again); a second one must not
// end the process by default before the services have drained, so the handler stays installed.
function onStopSignal(): void {
  if (!stopping) say("\nStopping...");
  void stop().then(() => {
    say("Every service has stopped.");
    process.exit(0);
  });
}
process.on("SIGINT", onStopSignal);
process.on("SIGTERM", onStopSignal);

main()
  .then(stop)
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop();
    process.exit(1);
  });
