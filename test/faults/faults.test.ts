/**
 * Faults a contact center sees every week, each against real processes: a private nats-server (killed
 * and restarted by the test), ingest's main.ts, and asr replicas' main.ts (two at a time), with real
 * SIP calls and RTP into ingest. For every call the suite counts what ingest acknowledged against what
 * AUDIO stored, and the utterances RESULTS holds, and asserts nothing acknowledged was lost and nothing
 * was stored twice. It prints the figures RELIABILITY.md quotes.
 */
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { subjects, type Leg, type Messaging } from "@callscribe/messaging";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { concatPcm, heldOutPrompts, silence } from "../asr/service/support.ts";
import { connectTestStreams } from "../support/infra.ts";
import {
  auditLegAudio,
  auditLegResults,
  callEnded,
  callStartedByTag,
  firstStoredAfter,
  waitForLegsDone,
  type LegAudioAudit,
  type LegResultsAudit,
} from "./support/audit.ts";
import { inviteStatus, placeStereoCall } from "./support/caller.ts";
import { PrivateNatsServer } from "./support/nats-server.ts";
import {
  scrapeCounter,
  startAsrReplica,
  startIngest,
  type IngestProcess,
  type ServiceProcess,
} from "./support/services.ts";

const legs: Leg[] = ["caller", "agent"];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// A short RESULTS duplicate window, so a call "longer than the window" fits in seconds (production: 2
// minutes), and a claim lease longer than the NATS outage below, as production's 15 s is: a replica
// must resume its own call after a restart, not lose it to a takeover.
const CLAIM_TTL_MS = 8000;
const DUPLICATE_WINDOW_MS = 5000;
const MAX_CALLS = 2;

let nats: PrivateNatsServer;
let m: Messaging;
let ingest: IngestProcess;
const replicas = new Map<string, ServiceProcess>();
const retired: ServiceProcess[] = [];
let replicaCount = 0;
const figures: string[] = [];

/** Two parties talking in turns for about `seconds`: the held-out recordings with pauses between. */
function conversation(seconds: number): { caller: Int16Array; agent: Int16Array } {
  const prompts = heldOutPrompts().map((p) => p.pcm);
  const caller: Int16Array[] = [silence(300)];
  const agent: Int16Array[] = [silence(300)];
  const length = (parts: Int16Array[]) => parts.reduce((n, p) => n + p.length, 0);
  for (let i = 0; length(caller) < seconds * 8000; i++) {
    const speech = prompts[i % prompts.length]!;
    // One speaks while the other is silent, then a pause.
    caller.push(speech, silence(300 + speech.length / 8), silence(900));
    agent.push(silence(speech.length / 8), prompts[(i + 1) % prompts.length]!);
    agent.push(silence(Math.max(0, length(caller) - length(agent)) / 8));
  }
  const total = seconds * 8000;
  return { caller: concatPcm(caller).subarray(0, total), agent: concatPcm(agent).subarray(0, total) };
}

async function startReplica(): Promise<ServiceProcess> {
  const id = `r${++replicaCount}`;
  const replica = await startAsrReplica(nats.url, id, { ASR_CLAIM_TTL_MS: String(CLAIM_TTL_MS) });
  replicas.set(id, replica);
  return replica;
}

async function holderOf(callId: string): Promise<string | undefined> {
  const kv = await new Kvm(m.js).open("ASR_CLAIMS");
  const entry = await kv.get(callId).catch(() => null);
  if (!entry || entry.operation !== "PUT") return undefined;
  return (entry.json() as { replica?: string }).replica;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface CallAudit {
  audio: LegAudioAudit[];
  results: LegResultsAudit[];
}

/** Audits a finished call's audio and results and asserts the promises: nothing lost, nothing twice. */
async function auditCall(callId: string, fault: string): Promise<CallAudit> {
  const ended = await callEnded(m, callId);
  expect(ended).toHaveLength(1);
  const audio = await Promise.all(
    legs.map((leg) => auditLegAudio(m, callId, leg, ended[0]!.lastSeq[leg] ?? -1)),
  );
  await waitForLegsDone(m, callId, legs, 120_000);
  const results = await Promise.all(legs.map((leg) => auditLegResults(m, callId, leg)));
  for (const a of audio) {
    figures.push(
      `${fault} | ${a.leg} | frames acknowledged ${a.acknowledged} | stored ${a.stored} | lost ${a.lost} | duplicated ${a.duplicated} | out of order ${a.outOfOrder}`,
    );
    expect(a.acknowledged).toBeGreaterThan(0);
    expect({ leg: a.leg, lost: a.lost, duplicated: a.duplicated, outOfOrder: a.outOfOrder }).toEqual({
      leg: a.leg,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
    expect(a.stored).toBe(a.acknowledged);
  }
  for (const r of results) {
    figures.push(
      `${fault} | ${r.leg} | utterances ${r.utterances} | distinct ${r.unique} | duplicated ${r.duplicated} | missing ${r.gaps} | leg-done markers ${r.done}`,
    );
    expect({ leg: r.leg, duplicated: r.duplicated, gaps: r.gaps, done: r.done }).toEqual({
      leg: r.leg,
      duplicated: 0,
      gaps: 0,
      done: 1,
    });
    expect(r.doneSays).toBe(r.unique);
  }
  expect(results.reduce((n, r) => n + r.words, 0)).toBeGreaterThan(0);
  return { audio, results };
}

// Each case gets an environment of its own (server, ingest, two replicas), so a fault left behind by
// one case cannot be what the next one measures.
beforeEach(async () => {
  nats = await PrivateNatsServer.start();
  m = await connectTestStreams("faults", [nats.url]);
  const results = await m.jsm.streams.info("RESULTS");
  await m.jsm.streams.update("RESULTS", {
    ...results.config,
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
  });
  [ingest] = await Promise.all([
    startIngest(nats.url, { INGEST_MAX_CALLS: String(MAX_CALLS), INGEST_RETRY_AFTER_S: "7" }),
    startReplica().then(() => startReplica()),
  ]);
}, 240_000);

afterEach(async (context) => {
  if (process.env.FAULTS_SERVICE_LOG || context.task.result?.state === "fail") {
    const all = process.env.FAULTS_SERVICE_LOG === "all";
    const services = [ingest?.process, ...retired, ...replicas.values()].filter((s) => s !== undefined);
    console.log(services.flatMap((s) => s.problems(all ? 400 : 30, all ? 30 : 40)).join("\n"));
  }
  await Promise.all([...replicas.values(), ...retired].map((r) => r.stop("SIGKILL")));
  replicas.clear();
  retired.length = 0;
  await ingest?.process.stop("SIGKILL");
  await m?.drain().catch(() => undefined);
  await nats?.close();
}, 60_000);

afterAll(() => {
  console.log(`fault suite figures\n${figures.map((f) => `  ${f}`).join("\n")}`);
});

describe("fault suite", () => {
  it("NATS restarted mid-call: audio whole and in order, results resume within 5 s, nothing twice", async () => {
    const tag = "nats-restart";
    const talk = conversation(16);
    const outputs: number[] = [];
    // A listener of its own that retries every 100 ms, so its reconnect adds little to what it measures.
    const listener = await connect({ servers: [nats.url], reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    listener.subscribe("partial.>", { callback: () => void outputs.push(Date.now()) });
    const call = placeStereoCall({ sipPort: ingest.sipPort, tag, ...talk });
    const started = await callStartedByTag(m, tag);
    // Recognition is live before the fault.
    await waitFor(async () => (outputs.length > 0 ? true : undefined), 20_000, "a first partial");
    await sleep(2000);
    // The server is killed and comes back at once, but its JetStream answers only 3 s later (a cluster
    // electing its JetStream leaders): the services reconnect first and find JetStream unavailable.
    await nats.down("SIGKILL");
    await nats.up({ jetstream: false });
    await sleep(3000);
    await nats.down("SIGKILL");
    await nats.up();
    const backAt = Date.now();
    const placed = await call;
    await listener.close();
    const resumedMs = (outputs.find((t) => t > backAt) ?? Infinity) - backAt;
    figures.push(`NATS restart | first partial after JetStream was back: ${resumedMs} ms`);
    const audioAt = await firstStoredAfter(m, "AUDIO", subjects.audio(started.callId, "caller"), backAt);
    const utteranceAt = await firstStoredAfter(
      m,
      "RESULTS",
      subjects.utterance(started.callId, "caller"),
      backAt,
    );
    figures.push(
      `NATS restart | first frame stored after JetStream was back: ${Math.round((audioAt ?? Infinity) - backAt)} ms; first utterance stored: ${Math.round((utteranceAt ?? Infinity) - backAt)} ms`,
    );
    expect(placed.endedByIngest).toBe(false);
    expect(resumedMs).toBeLessThanOrEqual(5000);
    await auditCall(started.callId, "NATS restart");
    expect(await scrapeCounter(ingest.opsPort, "ingest_frames_stored_out_of_order_total")).toBe(0);
  }, 180_000);

  it("asr replica killed early and late in a call longer than the duplicate window: each utterance once", async () => {
    const tag = "replica-kill";
    const talk = conversation(32);
    const call = placeStereoCall({ sipPort: ingest.sipPort, tag, ...talk });
    const started = await callStartedByTag(m, tag);
    const callStart = Date.now();
    const callId = started.callId;
    const takeovers: number[] = [];
    const spares: Promise<ServiceProcess>[] = [];
    const killHolder = async () => {
      const holder = await waitFor(() => holderOf(callId), 20_000, "a replica to claim the call");
      const replica = replicas.get(holder)!;
      await replica.stop("SIGKILL");
      retired.push(replica);
      replicas.delete(holder);
      const killedAt = Date.now();
      // A replacement starts at once, so two replicas are up again while the call goes on.
      spares.push(startReplica());
      await waitFor(
        async () => {
          const h = await holderOf(callId);
          return h && h !== holder ? h : undefined;
        },
        30_000,
        "another replica to take the call over",
      );
      takeovers.push(Date.now() - killedAt);
    };
    // Early: once the first utterance is stored.
    await waitFor(
      async () =>
        (await m.jsm.streams.getMessage("RESULTS", { last_by_subj: subjects.utterance(callId, "caller") }))
          ? true
          : undefined,
      20_000,
      "a first utterance",
    );
    const early = Date.now() - callStart;
    await killHolder();
    // Late: 20 s into the call, far past the duplicate window since the first utterances were stored.
    await sleep(Math.max(0, callStart + 20_000 - Date.now()));
    const late = Date.now() - callStart;
    await killHolder();
    await call;
    await Promise.all(spares);
    figures.push(
      `replica killed at ${(early / 1000).toFixed(1)} s and ${(late / 1000).toFixed(1)} s of a 32 s call | takeover after the kill (claim TTL ${CLAIM_TTL_MS} ms): ${takeovers.join(" ms, ")} ms`,
    );
    await auditCall(callId, "replica killed early and late");
  }, 240_000);

  it(`${3 * MAX_CALLS} calls offered at ${MAX_CALLS} allowed: the rest get 503 with Retry-After, accepted calls keep their audio whole`, async () => {
    const talk = conversation(8);
    const tags = Array.from({ length: MAX_CALLS }, (_, i) => `load-${i}`);
    const calls = tags.map((tag) => placeStereoCall({ sipPort: ingest.sipPort, tag, ...talk }));
    const started = await Promise.all(tags.map((tag) => callStartedByTag(m, tag)));
    const refused = await Promise.all(
      Array.from({ length: 2 * MAX_CALLS }, (_, i) =>
        inviteStatus(ingest.sipPort, `load-extra-${i}-${Date.now()}`),
      ),
    );
    expect(refused).toEqual(Array.from({ length: 2 * MAX_CALLS }, () => ({ status: 503, retryAfter: "7" })));
    const placed = await Promise.all(calls);
    for (const [i, s] of started.entries()) {
      const { audio } = await auditCall(s.callId, `load ${3 * MAX_CALLS}x${MAX_CALLS}`);
      // Whole: every 20 ms packet the caller sent is a stored frame's worth of audio.
      for (const a of audio) expect(a.samples).toBe(placed[i]!.packets * 160);
    }
    figures.push(`load | ${refused.length} INVITEs over the limit answered 503 with Retry-After 7`);
  }, 180_000);

  it("ingest SIGTERM with live calls: calls end with BYE, their audio complete", async () => {
    const talk = conversation(30);
    const tags = ["sigterm-0", "sigterm-1"];
    const calls = tags.map((tag) => placeStereoCall({ sipPort: ingest.sipPort, tag, ...talk }));
    const started = await Promise.all(tags.map((tag) => callStartedByTag(m, tag)));
    await sleep(4000);
    const code = await ingest.process.stop("SIGTERM");
    const placed = await Promise.all(calls);
    expect(code).toBe(0);
    expect(placed.map((p) => p.endedByIngest)).toEqual([true, true]);
    for (const [i, s] of started.entries()) {
      const ended = await callEnded(m, s.callId);
      expect(ended.map((e) => e.reason)).toEqual(["shutdown"]);
      const { audio } = await auditCall(s.callId, "ingest SIGTERM");
      // Complete: what ingest received up to the BYE, every packet of it (the packets in flight as the
      // BYE went out may not have been received).
      for (const a of audio) {
        expect(a.samples).toBeLessThanOrEqual(placed[i]!.packets * 160);
        expect(a.samples).toBeGreaterThanOrEqual((placed[i]!.packets - 10) * 160);
      }
    }
  }, 180_000);
});
