/**
 * npm run demo: the whole pipeline on one machine. Starts a private nats-server with JetStream in a
 * temporary folder, the asr and ingest services as their own processes on loopback, places a stereo
 * call (caller and agent legs of real recorded telephone prompts) into ingest over SIP/RTP with the
 * `play` command, and prints the partial and final results as asr publishes them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { encodeWav, readWavFile } from "@callscribe/audio";
import { LegDone, PartialResult, UtteranceResult, decodeEvent } from "@callscribe/messaging";
import { ASR_NODE_FLAGS } from "../services/asr/src/node-flags.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(root, "test/fixtures/asr");
const work = mkdtempSync(join(tmpdir(), "callscribe-demo-"));
const children: ChildProcess[] = [];

const say = (line: string) => process.stdout.write(`${line}\n`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
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

/** Caller: the three held-out real prompts; agent: the held-out synthetic voice. Silence between turns. */
async function buildCall(): Promise<string> {
  const rate = 8000;
  const gap = new Int16Array(rate * 0.6);
  const load = async (file: string) =>
    (await readWavFile(join(fixtures, file))).samples[0] ?? new Int16Array();
  const callerTurns = await Promise.all(
    ["real_conf-getpin.wav", "real_all-circuits-busy-now.wav", "real_feature-not-avail-line.wav"].map(load),
  );
  const agentTurn = await load("synth_heldout.wav");
  const caller: Int16Array[] = [];
  const agent: Int16Array[] = [];
  const pad = (leg: Int16Array[], n: number) => leg.push(new Int16Array(n));
  // Turns alternate: caller speaks, agent answers, caller again.
  for (const [i, turn] of callerTurns.entries()) {
    caller.push(turn, gap);
    pad(agent, turn.length + gap.length);
    if (i === 0) {
      agent.push(agentTurn, gap);
      pad(caller, agentTurn.length + gap.length);
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
  return path;
}

let stopping = false;
/** Services drain first (they need NATS for that), then the private nats-server goes. */
async function stop(): Promise<void> {
  stopping = true;
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const [nats, ...services] = children;
  for (const child of services) if (child.exitCode === null) child.kill("SIGTERM");
  await Promise.race([Promise.all(services.map(exited)), new Promise((r) => setTimeout(r, 15_000))]);
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  if (nats) await exited(nats);
  rmSync(work, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const [natsPort, grpcPort, asrOps, sipPort, ingestOps] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  say(`Starting a private nats-server with JetStream on ${natsUrl}`);
  const nats = spawn(
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(natsPort), "-js", "-sd", join(work, "nats")],
    {
      stdio: "ignore",
    },
  );
  children.push(nats);

  const tsx = join(root, "node_modules/.bin/tsx");
  say("Starting asr (streaming recognition, JetStream worker) and ingest (SIP/RTP)");
  await new Promise((r) => setTimeout(r, 500));
  start("asr", tsx, [...ASR_NODE_FLAGS, "services/asr/src/main.ts"], {
    env: { NATS_URL: natsUrl, ASR_GRPC_PORT: String(grpcPort), ASR_OPS_PORT: String(asrOps) },
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
  await Promise.all([
    waitReady("asr", `http://127.0.0.1:${asrOps}/readyz`, 120_000),
    waitReady("ingest", `http://127.0.0.1:${ingestOps}/readyz`, 60_000),
  ]);
  say(`asr gRPC on 127.0.0.1:${grpcPort}, ingest SIP on 127.0.0.1:${sipPort} (UDP and TCP)\n`);

  const nc = await connect({ servers: natsUrl });
  const done = new Set<string>();
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
          const at = (ms: number) => (ms / 1000).toFixed(2).padStart(6);
          say(
            `  ✔ ${u.leg.padEnd(6)} [${at(u.startMs)}-${at(u.endMs)} s] ${u.text}  (confidence ${u.confidence.toFixed(2)})`,
          );
        } else if (msg.subject.startsWith("leg.")) {
          const d = decodeEvent(LegDone, msg.data, msg.subject);
          say(
            `  ■ ${d.leg} leg done: ${d.utterances} utterances in ${(d.audioMs / 1000).toFixed(1)} s of audio`,
          );
          done.add(d.leg);
          if (done.size === 2) resolve();
        } else if (msg.subject.startsWith("call.")) {
          say(`  ● call ${msg.subject.split(".").slice(2).join(".")}`);
        }
      }
    })();
  });

  const wav = await buildCall();
  say(`Placing a stereo call (caller left, agent right) from ${wav} into ingest over SIP/RTP, in real time:`);
  const play = start(
    "play",
    tsx,
    ["services/ingest/src/cli/play.ts", "--to", `sip:demo@127.0.0.1:${sipPort}`, "--wav", wav],
    { service: false },
  );
  const playCode = await new Promise<number | null>((resolve) => play.on("exit", resolve));
  if (playCode !== 0) throw new Error(`play exited with code ${playCode}`);

  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error("asr did not finish both legs within 60 s")), 60_000),
  );
  await Promise.race([allDone, timeout]);
  await nc.drain();
  say(
    "\nThe call was recognised end to end. Tickets (summarizer, Postgres) and the dashboard come with their own services.",
  );
}

main()
  .then(stop)
  .catch(async (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop();
    process.exit(1);
  });
