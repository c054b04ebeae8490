import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll } from "vitest";
import {
  CallEnded,
  CallStarted,
  connectMessaging,
  decodeEvent,
  ensureStreams,
  parseFrameHeaders,
  subjects,
  type Leg,
  type Messaging,
} from "@callscribe/messaging";
import { loadConfig, type IngestConfig } from "../../../../services/ingest/src/config.ts";
import { createIngest, type Ingest } from "../../../../services/ingest/src/ingest.ts";
import { testNatsUrl } from "../../../support/infra.ts";

export const fixturesDir = fileURLToPath(new URL("../../../fixtures/ingest/sip/", import.meta.url));
export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** A running ingest built through the same factory main.ts uses, on free ports. */
export interface TestIngest {
  ingest: Ingest;
  config: IngestConfig;
  messaging: Messaging;
  close(): Promise<void>;
}

/** An RTP port range of its own, so parallel test files do not fight over sockets. */
function rtpRange(): { min: number; max: number } {
  const min = 30_000 + 2 * randomInt(0, 9_000);
  return { min, max: min + 199 };
}

export async function startTestIngest(env: Record<string, string> = {}): Promise<TestIngest> {
  const range = rtpRange();
  const config = loadConfig({
    NATS_URL: testNatsUrl,
    INGEST_SIP_HOST: "127.0.0.1",
    INGEST_SIP_PORT: "0",
    INGEST_MEDIA_HOST: "127.0.0.1",
    INGEST_OPS_PORT: "0",
    INGEST_RTP_PORT_MIN: String(range.min),
    INGEST_RTP_PORT_MAX: String(range.max),
    // Generous jitter delay: two busy cores must not turn scheduling hiccups into "late" packets.
    INGEST_JITTER_DELAY_MS: "400",
    INGEST_SIP_T1_MS: "100",
    ...env,
  });
  const messaging = await connectMessaging({ servers: config.natsServers, name: "ingest-test", logger });
  await ensureStreams(messaging.jsm);
  const ingest = await createIngest(config, { messaging, logger, registry: new Registry() });
  return {
    ingest,
    config,
    messaging,
    close: async () => {
      ingest.stopAcceptingCalls();
      await ingest.endAllCalls();
      await ingest.close();
      await messaging.drain();
    },
  };
}

/** Collects call.*.started / call.*.ended events from core NATS while a test runs. */
export class CallWatcher {
  readonly started: CallStarted[] = [];
  readonly ended: CallEnded[] = [];
  private readonly subs;

  constructor(messaging: Messaging) {
    const started = messaging.nc.subscribe("call.*.started", {
      callback: (_err, msg) => void this.started.push(decodeEvent(CallStarted, msg.data, "call.started")),
    });
    const ended = messaging.nc.subscribe("call.*.ended", {
      callback: (_err, msg) => void this.ended.push(decodeEvent(CallEnded, msg.data, "call.ended")),
    });
    this.subs = [started, ended];
  }

  async ready(messaging: Messaging): Promise<void> {
    await messaging.nc.flush();
  }

  startedFor(sipCallId: string): CallStarted | undefined {
    return this.started.find((e) => e.sipCallId === sipCallId);
  }

  async waitForStarted(sipCallId: string, timeoutMs = 20_000): Promise<CallStarted> {
    return waitFor(() => this.startedFor(sipCallId), timeoutMs, `call.started for ${sipCallId}`);
  }

  async waitForEnded(callId: string, timeoutMs = 20_000): Promise<CallEnded> {
    return waitFor(() => this.ended.find((e) => e.callId === callId), timeoutMs, `call.ended for ${callId}`);
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}

export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads one leg's PCM from JetStream AUDIO, in order, up to the frame marked last. */
export async function readLegAudio(
  messaging: Messaging,
  callId: string,
  leg: Leg,
): Promise<{ pcm: Int16Array; sampleRate: number; frames: number }> {
  const consumer = await messaging.js.consumers.get("AUDIO", {
    filter_subjects: subjects.audio(callId, leg),
  });
  const chunks: Uint8Array[] = [];
  let sampleRate = 0;
  let expectedSeq = 0;
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 3000 });
    let got = 0;
    let last = false;
    for await (const msg of batch) {
      got++;
      const meta = parseFrameHeaders(callId, msg.headers);
      if (meta.seq !== expectedSeq)
        throw new Error(`frame ${meta.seq} arrived where ${expectedSeq} was expected`);
      expectedSeq++;
      sampleRate = meta.sampleRate;
      chunks.push(msg.data);
      if (meta.last) {
        last = true;
        break;
      }
    }
    if (last) break;
    if (got === 0)
      throw new Error(`audio of ${callId}/${leg} ended without a last frame after ${expectedSeq} frames`);
  }
  const bytes = Buffer.concat(chunks);
  const pcm = new Int16Array(bytes.length / 2);
  for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(2 * i);
  return { pcm, sampleRate, frames: expectedSeq };
}

/** A free port in 20000-29799, away from the ranges test ingests take their RTP ports from. */
export async function freePort(kind: "udp" | "tcp" = "udp"): Promise<number> {
  return freePorts(kind, 1);
}

/** The first of `count` consecutive free ports from an even base. */
export async function freePorts(kind: "udp" | "tcp", count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + 2 * randomInt(0, 4_900 - count);
    const bound = await Promise.all(Array.from({ length: count }, (_, i) => bindOnce(kind, base + i)));
    const ok = bound.every((b) => b !== null);
    await Promise.all(bound.map((b) => b?.()));
    if (ok) return base;
  }
}

/** Binds a port on loopback; resolves to a function that frees it again, or null if it was taken. */
function bindOnce(kind: "udp" | "tcp", port: number): Promise<(() => Promise<void>) | null> {
  return new Promise((resolve) => {
    if (kind === "udp") {
      const s = createSocket("udp4");
      s.once("error", () => resolve(null));
      s.bind(port, "127.0.0.1", () => resolve(() => new Promise<void>((done) => s.close(() => done()))));
    } else {
      const s = createServer();
      s.once("error", () => resolve(null));
      s.listen(port, "127.0.0.1", () => resolve(() => new Promise<void>((done) => s.close(() => done()))));
    }
  });
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  errors: string;
}

/**
 * Runs one sipp call against ingest. `cwd` holds whatever the scenario plays (call.pcap); the
 * Call-ID is fixed so the test can find the call's events.
 */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await runSippOnce(options);
    // Ports are checked free before sipp starts, but a test file running beside this one may take one
    // in between. sipp then exits before it sends anything, so the call is simply placed again.
    if (attempt === SIPP_ATTEMPTS || !sippCouldNotBind(result)) return result;
  }
}

const SIPP_ATTEMPTS = 3;

function sippCouldNotBind(result: SippResult): boolean {
  return result.code !== 0 && /Unable to bind .*errno = 98/.test(result.stdout + result.stderr + result.errors);
}

interface SippOptions {
  scenario: string;
  port: number;
  callId: string;
  transport?: "udp" | "tcp";
  cwd?: string;
  pauseMs?: number;
  extra?: string[];
  timeoutS?: number;
}

async function runSippOnce(options: SippOptions): Promise<SippResult> {
  const cwd = options.cwd ?? (await tempDirWith({}));
  await rm(join(cwd, "errors.log"), { force: true });
  const sipPort = await freePort(options.transport === "tcp" ? "tcp" : "udp");
  // sipp binds audio RTP at the media port and video RTP at two above it.
  const mediaPort = await freePorts("udp", 4);
  const args = [
    "-sf",
    join(fixturesDir, options.scenario),
    "-i",
    "127.0.0.1",
    "-p",
    String(sipPort),
    "-mp",
    String(mediaPort),
    "-t",
    options.transport === "tcp" ? "t1" : "u1",
    "-m",
    "1",
    "-l",
    "1",
    "-cid_str",
    options.callId,
    "-d",
    String(options.pauseMs ?? 1000),
    "-timeout",
    `${options.timeoutS ?? 30}s`,
    "-timeout_error",
    "-nostdin",
    "-trace_err",
    "-error_file",
    join(cwd, "errors.log"),
    ...(options.extra ?? []),
    `127.0.0.1:${options.port}`,
  ];
  const child = spawn("sipp", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c));
  });
  const errors = await readFile(join(cwd, "errors.log"), "utf8").catch(() => "");
  return { code, stdout, stderr, errors };
}

const tempDirs: string[] = [];
// Each test file that uses the harness removes its scratch folders (pcaps, sipp logs, configs) at the end.
afterAll(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function tempDirWith(files: Record<string, Uint8Array | string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ingest-sip-"));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

/** A readable failure message for a sipp run. */
export const sippReport = (r: SippResult) =>
  `sipp exited ${r.code}\n${r.errors}\n${r.stderr}\n${r.stdout.slice(-3000)}`;
