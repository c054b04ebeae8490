import { pcm16ToBytes } from "@callscribe/audio";
import {
  CallEnded,
  CallStarted,
  LegDone,
  PartialResult,
  UtteranceResult,
  connectMessaging,
  decodeEvent,
  encodeEvent,
  frameHeaders,
  frameMsgId,
  subjects,
  type Leg,
  type Messaging,
} from "@callscribe/messaging";
import { DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAsrService,
  loadRecognizer,
  type AsrService,
  type LoadedRecognizer,
} from "../../../services/asr/src/asr.ts";
import { connectTestStreams, testNatsUrl, uniqueCallId } from "../../support/infra.ts";
import { PrivateNatsServer } from "../../faults/support/nats-server.ts";
import {
  concatPcm,
  heldOutPrompts,
  silence,
  silentLogger,
  testConfig,
  expectRecognised,
  promptsWithSpeech,
  type Prompt,
} from "./support.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const frameSamples = 160; // 20 ms at 8 kHz

let loaded: LoadedRecognizer;
let publisher: Messaging;
/** The server replicas connect to; a describe block below points it at a private one. */
let natsUrl = testNatsUrl;
let prompts: Prompt[];
const bucket = `ASR_CLAIMS_${uniqueCallId("w").replace(/-/g, "_")}`;
const consumers: string[] = [];
const services: { service: AsrService; messaging: Messaging }[] = [];

beforeAll(async () => {
  loaded = await loadRecognizer(testConfig(), { logger: silentLogger });
  publisher = await connectTestStreams("asr-worker-test");
  prompts = heldOutPrompts();
});

afterAll(async () => {
  for (const { service } of services) await service.stop().catch(() => undefined);
  for (const name of consumers) await publisher.jsm.consumers.delete("CALLS", name).catch(() => undefined);
  await new Kvm(publisher.js)
    .open(bucket)
    .then((kv) => kv.destroy())
    .catch(() => undefined);
  await publisher?.drain();
  await loaded?.close();
});

/** A replica as main.ts wires it, taking only this test's call. */
async function startReplica(callId: string, replicaId: string) {
  const consumer = `asr-test-${callId}`;
  if (!consumers.includes(consumer)) consumers.push(consumer);
  const config = testConfig({
    ASR_WORKER: "true",
    NATS_URL: natsUrl,
    ASR_CLAIMS_BUCKET: bucket,
    ASR_CALLS_CONSUMER: consumer,
    ASR_CALLS_SUBJECT: subjects.callStarted(callId),
    ASR_CLAIM_TTL_MS: "2000",
    ASR_REPLICA_ID: replicaId,
  });
  const messaging = await connectMessaging({
    servers: config.nats.servers,
    name: `asr-${replicaId}`,
    logger: silentLogger,
  });
  const registry = new Registry();
  const service = await createAsrService(config, {
    engine: loaded.engine,
    logger: silentLogger,
    registry,
    messaging,
  });
  services.push({ service, messaging });
  return { service, messaging, registry };
}

async function publishCallStarted(callId: string, legs: Leg[]): Promise<void> {
  const started: CallStarted = {
    callId,
    startedAt: new Date().toISOString(),
    source: "file",
    participants: [],
    legs: legs.map((leg) => ({ leg, sampleRate: 8000, codec: "L16" })),
    metadata: {},
  };
  await publisher.js.publish(subjects.callStarted(callId), encodeEvent(CallStarted, started));
}

/** Publishes frames [from, to) of `pcm` as 20 ms AUDIO messages; the leg's last frame is flagged unless told not to. */
async function publishFrames(
  callId: string,
  leg: Leg,
  pcm: Int16Array,
  from: number,
  to: number,
  flagLast = true,
  /** Publish as a live call would (100 ms of frames every 100 ms) instead of as fast as possible. */
  live = false,
): Promise<void> {
  const total = Math.ceil(pcm.length / frameSamples);
  const step = live ? 5 : 50;
  for (let start = from; start < Math.min(to, total); start += step) {
    if (live && start > from) await new Promise((resolve) => setTimeout(resolve, step * 20));
    const batch = [];
    for (let seq = start; seq < Math.min(start + step, to, total); seq++) {
      const frame = pcm.subarray(seq * frameSamples, (seq + 1) * frameSamples);
      batch.push(
        publisher.js.publish(subjects.audio(callId, leg), pcm16ToBytes(frame), {
          headers: frameHeaders({
            seq,
            captureMs: 1_700_000_000_000 + seq * 20,
            sampleRate: 8000,
            last: flagLast && seq === total - 1,
          }),
          msgID: frameMsgId(callId, leg, seq),
        }),
      );
    }
    await Promise.all(batch);
  }
}

async function publishCallEnded(callId: string, lastSeq: Record<string, number>): Promise<void> {
  const ended: CallEnded = {
    callId,
    endedAt: new Date().toISOString(),
    reason: "end-of-file",
    lastSeq,
    stats: {},
  };
  await publisher.js.publish(subjects.callEnded(callId), encodeEvent(CallEnded, ended));
}

/** Every message RESULTS holds on `subject`, in order. */
async function readAll(subject: string): Promise<JsMsg[]> {
  const consumer = await publisher.js.consumers.get("RESULTS", {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.All,
  });
  const messages: JsMsg[] = [];
  const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
  for await (const msg of batch) {
    messages.push(msg);
    if (msg.info.pending === 0) break;
  }
  return messages;
}

async function waitForMessage(stream: string, subject: string, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await publisher.jsm.streams.getMessage(stream, { last_by_subj: subject }))) {
    if (Date.now() > until) throw new Error(`nothing on ${subject} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("JetStream worker", () => {
  it("recognises a call's legs from AUDIO: partials on core NATS, utterances and leg.done in RESULTS", async () => {
    const callId = uniqueCallId("asr");
    const speaking = promptsWithSpeech(prompts, loaded.engine.model.precision);
    const prompt = speaking[0]!;
    const answer = speaking[1] ?? speaking[0]!;
    const replica = await startReplica(callId, "solo");
    const partials: PartialResult[] = [];
    const sub = publisher.nc.subscribe(subjects.partial(callId, "caller"), {
      callback: (_err, msg) => {
        partials.push(decodeEvent(PartialResult, msg.data, "partial"));
      },
    });
    await publisher.nc.flush();

    const pcm = concatPcm([silence(200), prompt.pcm, silence(900)]);
    const agentPcm = concatPcm([silence(400), answer.pcm, silence(900)]);
    const frames = Math.ceil(pcm.length / frameSamples);
    const agentFrames = Math.ceil(agentPcm.length / frameSamples);
    await publishCallStarted(callId, ["caller", "agent"]);
    // The caller's leg arrives live, so partial results come while its utterance is still open.
    await publishFrames(callId, "caller", pcm, 0, frames, true, true);
    // The agent leg's last frame carries no flag: only call.ended's lastSeq says where it ends.
    await publishFrames(callId, "agent", agentPcm, 0, agentFrames, false);
    await publishCallEnded(callId, { caller: frames - 1, agent: agentFrames - 1 });

    await waitForMessage("RESULTS", subjects.legDone(callId, "caller"));
    await waitForMessage("RESULTS", subjects.legDone(callId, "agent"));
    sub.unsubscribe();
    const utterances = (await readAll(subjects.utterance(callId, "caller"))).map((m) =>
      decodeEvent(UtteranceResult, m.data, "utterance"),
    );
    expect(utterances.length).toBeGreaterThan(0);
    expect(utterances.map((u) => u.seq)).toEqual(utterances.map((_, i) => i));
    const text = utterances.map((u) => u.text).join(" ");
    expectRecognised(text, [prompt], loaded.engine.model.precision);
    const first = utterances[0]!;
    expect(first).toMatchObject({
      callId,
      leg: "caller",
      utteranceId: `${callId}-caller-0`,
      language: loaded.engine.model.language,
    });
    expect(first.words.length).toBeGreaterThan(0);
    for (const w of first.words) {
      expect(w.startMs).toBeGreaterThanOrEqual(first.startMs);
      expect(w.endMs).toBeLessThanOrEqual(first.endMs);
    }
    expect(first.endMs).toBeLessThanOrEqual(pcm.length / 8 + 50);

    expect(partials.length).toBeGreaterThan(0);
    expect(partials[0]).toMatchObject({ callId, leg: "caller", utteranceId: `${callId}-caller-0` });

    const agentUtterances = (await readAll(subjects.utterance(callId, "agent"))).map((m) =>
      decodeEvent(UtteranceResult, m.data, "utterance"),
    );
    expectRecognised(agentUtterances.map((u) => u.text).join(" "), [answer], loaded.engine.model.precision);

    const done = [
      ...(await readAll(subjects.legDone(callId, "caller"))),
      ...(await readAll(subjects.legDone(callId, "agent"))),
    ].map((m) => decodeEvent(LegDone, m.data, "leg.done"));
    // The ticket records which acoustic model recognised each leg.
    const model = { name: loaded.engine.model.name, version: loaded.engine.model.version };
    expect(done).toEqual([
      { callId, leg: "caller", utterances: utterances.length, audioMs: Math.round(pcm.length / 8), model },
      {
        callId,
        leg: "agent",
        utterances: agentUtterances.length,
        audioMs: Math.round(agentPcm.length / 8),
        model,
      },
    ]);

    // The claim is released and call.started acknowledged once the call is done.
    const kv = await new Kvm(publisher.js).open(bucket);
    const claim = await kv.get(callId);
    expect(claim === null || claim.operation !== "PUT").toBe(true);
    const consumer = await publisher.jsm.consumers.info("CALLS", `asr-test-${callId}`);
    expect(consumer.num_ack_pending).toBe(0);
    expect(await metricValue(replica.registry, "asr_worker_calls_total", { outcome: "done" })).toBe(1);
  });

  it("lets replica B take over a call whose replica A died, with each utterance in RESULTS exactly once", async () => {
    const callId = uniqueCallId("asr");
    const speaking = promptsWithSpeech(prompts, loaded.engine.model.precision);
    const [p0, p1, p2] = [0, 1, 2].map((i) => speaking[i % speaking.length]!) as [Prompt, Prompt, Prompt];
    const firstPart = concatPcm([silence(200), p0.pcm, silence(1500)]);
    const pcm = concatPcm([firstPart, p1.pcm, silence(1500), p2.pcm, silence(1000)]);
    const frames = Math.ceil(pcm.length / frameSamples);
    const firstFrames = Math.floor(firstPart.length / frameSamples);

    const a = await startReplica(callId, "A");
    await publishCallStarted(callId, ["caller"]);
    await publishFrames(callId, "caller", pcm, 0, firstFrames);
    // A has recognised the first utterance: it holds the call.
    await waitForMessage("RESULTS", subjects.utterance(callId, "caller"));
    const kv = await new Kvm(publisher.js).open(bucket);
    expect((await kv.get(callId))?.json()).toMatchObject({ replica: "A" });

    // A dies: its connection goes without releasing the claim or acknowledging call.started.
    await a.messaging.nc.close();
    const b = await startReplica(callId, "B");
    await publishFrames(callId, "caller", pcm, firstFrames, frames);
    await publishCallEnded(callId, { caller: frames - 1 });

    await waitForMessage("RESULTS", subjects.legDone(callId, "caller"));
    const utterances = (await readAll(subjects.utterance(callId, "caller"))).map((m) =>
      decodeEvent(UtteranceResult, m.data, "utterance"),
    );
    const perSeq = new Map<number, number>();
    for (const u of utterances) perSeq.set(u.seq, (perSeq.get(u.seq) ?? 0) + 1);
    expect(utterances.length).toBeGreaterThanOrEqual(2);
    expect([...perSeq.values()].every((n) => n === 1)).toBe(true);
    expect([...perSeq.keys()]).toEqual(utterances.map((_, i) => i));
    const text = utterances.map((u) => u.text).join(" ");
    expectRecognised(text, [p0, p1, p2], loaded.engine.model.precision);

    const done = await readAll(subjects.legDone(callId, "caller"));
    expect(done).toHaveLength(1);
    expect(decodeEvent(LegDone, done[0]!.data, "leg.done").utterances).toBe(utterances.length);
    // B replayed the audio from the start: it republished A's utterance and JetStream dropped it.
    expect(await metricValue(b.registry, "asr_worker_takeovers_total")).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(b.registry, "asr_worker_utterances_total", { duplicate: "true" }),
    ).toBeGreaterThanOrEqual(1);
    expect(await metricValue(b.registry, "asr_worker_calls_total", { outcome: "done" })).toBe(1);
  });
});

describe("JetStream worker, takeover after the RESULTS duplicate window", () => {
  let nats: PrivateNatsServer;
  let shared: Messaging;
  beforeAll(async () => {
    nats = await PrivateNatsServer.start();
    shared = publisher;
    natsUrl = nats.url;
    publisher = await connectTestStreams("asr-worker-test-private", [nats.url]);
    // A window far shorter than the takeover (claim TTL 2 s), as 2 minutes is to a long call; the
    // replicas' start keeps it.
    const results = await publisher.jsm.streams.info("RESULTS");
    await publisher.jsm.streams.update("RESULTS", { ...results.config, duplicate_window: 1_000_000_000 });
  });
  afterAll(async () => {
    for (const { service, messaging } of services.splice(0)) {
      await service.stop().catch(() => undefined);
      await messaging.drain().catch(() => undefined);
    }
    await publisher?.drain().catch(() => undefined);
    publisher = shared;
    natsUrl = testNatsUrl;
    await nats?.close();
  });

  it("does not store again an utterance RESULTS already holds, however long ago it was stored", async () => {
    const callId = uniqueCallId("asr");
    const speaking = promptsWithSpeech(prompts, loaded.engine.model.precision);
    const [p0, p1] = [0, 1].map((i) => speaking[i % speaking.length]!) as [Prompt, Prompt];
    const firstPart = concatPcm([silence(200), p0.pcm, silence(1500)]);
    const pcm = concatPcm([firstPart, p1.pcm, silence(1000)]);
    const frames = Math.ceil(pcm.length / frameSamples);
    const firstFrames = Math.floor(firstPart.length / frameSamples);

    const a = await startReplica(callId, "A");
    await publishCallStarted(callId, ["caller"]);
    await publishFrames(callId, "caller", pcm, 0, firstFrames);
    await waitForMessage("RESULTS", subjects.utterance(callId, "caller"));
    await a.messaging.nc.close();
    // Past the duplicate window: JetStream no longer remembers A's message ids.
    await sleep(1500);
    const b = await startReplica(callId, "B");
    await publishFrames(callId, "caller", pcm, firstFrames, frames);
    await publishCallEnded(callId, { caller: frames - 1 });

    await waitForMessage("RESULTS", subjects.legDone(callId, "caller"));
    const utterances = (await readAll(subjects.utterance(callId, "caller"))).map((m) =>
      decodeEvent(UtteranceResult, m.data, "utterance"),
    );
    expect(utterances.length).toBeGreaterThanOrEqual(2);
    expect(utterances.map((u) => u.seq)).toEqual(utterances.map((_, i) => i));
    expect(await metricValue(b.registry, "asr_worker_takeovers_total")).toBeGreaterThanOrEqual(1);
    expect(await readAll(subjects.legDone(callId, "caller"))).toHaveLength(1);
  });
});
