/**
 * Call end to ticket with concurrent calls: a summarizer process (services/summarizer/src/main.ts)
 * reads a private nats-server and writes to a fresh database on the local Postgres. N calls stream
 * their utterances at once; then every call's leg-done markers and call.ended are published in one
 * burst. Latency is from the publish of a call's last event (its end) to its ticket being readable
 * in Postgres (polled every 10 ms).
 *
 *   npx tsx bench/summarizer/end-to-ticket.ts [--calls 50] [--utterances 16]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import {
  CallEnded,
  CallStarted,
  LegDone,
  UtteranceResult,
  connectMessaging,
  encodeEvent,
  ensureStreams,
  subjects,
  type Leg,
} from "@callscribe/messaging";
import { createDatabase, migrateDatabase } from "@callscribe/db";
import { pino } from "pino";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const callsN = arg("calls", 50);
const perLeg = arg("utterances", 16) / 2;
const root = fileURLToPath(new URL("../..", import.meta.url));
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const dbName = `callscribe_bench_${process.pid}`;
const work = mkdtempSync(join(tmpdir(), "callscribe-bench-"));
const natsPort = 20_000 + (process.pid % 10_000);
const opsPort = natsPort + 1;

const lines = [
  "hi the water main on our street burst and the road is flooding",
  "what is the address please",
  "it's twelve oak tree lane near the school",
  "and a phone number where we can reach you",
  "four one five five five five zero one nine two",
  "a crew will be there within two hours",
  "thank you that is a relief we have been waiting all morning",
  "I'll call you back tomorrow morning to confirm the repair",
];

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

async function main() {
  await admin(`create database ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const database = await createDatabase({ url: dbUrl.toString() });
  await migrateDatabase(database);
  const nats = spawn(
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(natsPort), "-js", "-sd", join(work, "nats")],
    {
      stdio: "ignore",
    },
  );
  await new Promise((r) => setTimeout(r, 700));
  const messaging = await connectMessaging({
    servers: [`nats://127.0.0.1:${natsPort}`],
    name: "bench",
    logger: pino({ level: "silent" }),
  });
  await ensureStreams(messaging.jsm);
  const summarizer = spawn(join(root, "node_modules/.bin/tsx"), ["services/summarizer/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      DATABASE_URL: dbUrl.toString(),
      SUMMARIZER_OPS_HOST: "127.0.0.1",
      SUMMARIZER_OPS_PORT: String(opsPort),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${opsPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 240) throw new Error("summarizer not ready");
    await new Promise((r) => setTimeout(r, 250));
  }

  const js = messaging.js;
  const ids = Array.from({ length: callsN }, (_, i) => `bench-${process.pid}-${i}`);
  const startedAt = new Date();
  await Promise.all(
    ids.map((callId) =>
      js.publish(
        subjects.callStarted(callId),
        encodeEvent(CallStarted, {
          callId,
          startedAt: startedAt.toISOString(),
          source: "sip",
          participants: [],
          legs: [
            { leg: "caller", sampleRate: 8000, codec: "PCMU" },
            { leg: "agent", sampleRate: 8000, codec: "PCMU" },
          ],
          metadata: {},
        }),
      ),
    ),
  );
  // The calls talk at once: one utterance of every call, then the next.
  for (let k = 0; k < perLeg * 2; k++) {
    const leg: Leg = k % 2 === 0 ? "caller" : "agent";
    await Promise.all(
      ids.map((callId) =>
        js.publish(
          subjects.utterance(callId, leg),
          encodeEvent(UtteranceResult, {
            callId,
            leg,
            seq: Math.floor(k / 2),
            utteranceId: `${callId}-${leg}-${k}`,
            text: lines[k % lines.length]!,
            words: [],
            startMs: k * 4000,
            endMs: k * 4000 + 3500,
            confidence: 0.9,
            language: "en",
            dialect: "",
            emotion: null,
          }),
        ),
      ),
    );
  }
  // Calls' utterances arrive over minutes in life; here they come at once, so wait until the
  // summarizer has stored them all, and time only what the end of a call sets off.
  const streamed = performance.now();
  for (;;) {
    const info = await messaging.jsm.consumers.info("RESULTS", "summarizer-results");
    if (info.num_pending === 0 && info.num_ack_pending === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const utterancesPerSecond = (callsN * perLeg * 2) / ((performance.now() - streamed) / 1000);

  const endedAt = new Map<string, number>();
  await Promise.all(
    ids.map(async (callId) => {
      for (const leg of ["caller", "agent"] as const)
        await js.publish(
          subjects.legDone(callId, leg),
          encodeEvent(LegDone, { callId, leg, utterances: perLeg, audioMs: perLeg * 8000 }),
        );
      await js.publish(
        subjects.callEnded(callId),
        encodeEvent(CallEnded, {
          callId,
          endedAt: new Date().toISOString(),
          reason: "bye",
          lastSeq: {},
          stats: {},
        }),
      );
      endedAt.set(callId, performance.now());
    }),
  );
  const seenAt = new Map<string, number>();
  const client = new pg.Client({ connectionString: dbUrl.toString() });
  await client.connect();
  const deadline = performance.now() + 60_000;
  while (seenAt.size < ids.length && performance.now() < deadline) {
    const { rows } = await client.query<{ call_id: string }>("select call_id from tickets");
    const now = performance.now();
    for (const r of rows) if (!seenAt.has(r.call_id)) seenAt.set(r.call_id, now);
    await new Promise((r) => setTimeout(r, 10));
  }
  await client.end();
  const latencies = ids
    .filter((id) => seenAt.has(id))
    .map((id) => seenAt.get(id)! - endedAt.get(id)!)
    .sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? NaN;
  console.log(`| calls | utterances per call | tickets | p50 | p95 | max |`);
  console.log(`| ---: | ---: | ---: | ---: | ---: | ---: |`);
  console.log(
    `| ${callsN} | ${perLeg * 2} | ${latencies.length} | ${q(0.5).toFixed(0)} ms | ${q(0.95).toFixed(0)} ms | ${q(1).toFixed(0)} ms |`,
  );
  console.log(`\n${callsN * perLeg * 2} utterances stored at ${utterancesPerSecond.toFixed(0)} per second (all calls at once)`);

  summarizer.kill("SIGTERM");
  await new Promise((r) => summarizer.once("exit", r));
  await messaging.drain();
  nats.kill("SIGTERM");
  await database.close();
  await admin(`drop database ${dbName} with (force)`);
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
