import { createServer } from "node:net";
import { pcm16ToBytes } from "@callscribe/audio";
import {
  CallEnded,
  CallStarted,
  UtteranceResult,
  connectMessaging,
  decodeEvent,
  encodeEvent,
  frameHeaders,
  frameMsgId,
  subjects,
  type Messaging,
} from "@callscribe/messaging";
import { createMetricsRegistry } from "@callscribe/runtime";
import { DeliverPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAsrService, loadRecognizer, type LoadedRecognizer } from "../../services/asr/src/asr.ts";
import { loadConfig } from "../../services/emotion/src/config.ts";
import { createEmotionService, type EmotionService } from "../../services/emotion/src/emotion.ts";
import { loadEmotionModel } from "../../services/emotion/src/model/load.ts";
import { connectTestStreams, testNatsUrl, uniqueCallId } from "../support/infra.ts";
import { concatPcm, heldOutPrompts, silence, testConfig } from "../asr/service/support.ts";
import { prosodyModelDir, silentLogger } from "./support.ts";

const frameSamples = 160; // 20 ms at 8 kHz
const bucket = `ASR_CLAIMS_${uniqueCallId("emo").replace(/-/g, "_")}`;
let loaded: LoadedRecognizer;
let publisher: Messaging;
let emotion: EmotionService;
const consumers: string[] = [];

beforeAll(async () => {
  loaded = await loadRecognizer(testConfig(), { logger: silentLogger });
  publisher = await connectTestStreams("asr-emotion-test");
  const config = loadConfig({
    EMOTION_MODEL_DIR: prosodyModelDir,
    EMOTION_GRPC_PORT: "0",
    EMOTION_OPS_PORT: "0",
  });
  emotion = await createEmotionService(config, {
    model: await loadEmotionModel({ ...config.model, logger: silentLogger }),
    logger: silentLogger,
    registry: createMetricsRegistry("emotion-test"),
  });
});

afterAll(async () => {
  for (const step of emotion?.shutdownSteps ?? []) await step.run();
  for (const name of consumers) await publisher.jsm.consumers.delete("CALLS", name).catch(() => undefined);
  await new Kvm(publisher.js)
    .open(bucket)
    .then((kv) => kv.destroy())
    .catch(() => undefined);
  await publisher?.drain();
  await loaded?.close();
});

/** Runs one call's caller leg through an ASR replica wired as main.ts wires it; returns its utterances. */
async function recogniseCall(
  emotionAddress: string,
): Promise<{ utterances: UtteranceResult[]; registry: Registry }> {
  const callId = uniqueCallId("emo");
  const consumer = `asr-emotion-${callId}`;
  consumers.push(consumer);
  const config = testConfig({
    ASR_WORKER: "true",
    NATS_URL: testNatsUrl,
    ASR_CLAIMS_BUCKET: bucket,
    ASR_CALLS_CONSUMER: consumer,
    ASR_CALLS_SUBJECT: subjects.callStarted(callId),
    ASR_EMOTION_ADDRESS: emotionAddress,
    ASR_EMOTION_DEADLINE_MS: "3000",
  });
  const messaging = await connectMessaging({
    servers: config.nats.servers,
    name: `asr-${callId}`,
    logger: silentLogger,
  });
  const registry = new Registry();
  const service = await createAsrService(config, {
    engine: loaded.engine,
    logger: silentLogger,
    registry,
    messaging,
  });
  try {
    const prompts = heldOutPrompts().slice(0, 3);
    const pcm = concatPcm([silence(500), ...prompts.flatMap((p) => [p.pcm, silence(1200)])]);
    const started: CallStarted = {
      callId,
      startedAt: new Date().toISOString(),
      source: "file",
      participants: [],
      legs: [{ leg: "caller", sampleRate: 8000, codec: "L16" }],
      metadata: {},
    };
    await publisher.js.publish(subjects.callStarted(callId), encodeEvent(CallStarted, started));
    const total = Math.ceil(pcm.length / frameSamples);
    for (let seq = 0; seq < total; seq++) {
      await publisher.js.publish(
        subjects.audio(callId, "caller"),
        pcm16ToBytes(pcm.subarray(seq * frameSamples, (seq + 1) * frameSamples)),
        {
          headers: frameHeaders({
            seq,
            captureMs: 1_700_000_000_000 + seq * 20,
            sampleRate: 8000,
            last: seq === total - 1,
          }),
          msgID: frameMsgId(callId, "caller", seq),
        },
      );
    }
    const ended: CallEnded = {
      callId,
      endedAt: new Date().toISOString(),
      reason: "end-of-file",
      lastSeq: { caller: total - 1 },
      stats: {},
    };
    await publisher.js.publish(subjects.callEnded(callId), encodeEvent(CallEnded, ended));
    const until = Date.now() + 90_000;
    while (
      !(await publisher.jsm.streams.getMessage("RESULTS", {
        last_by_subj: subjects.legDone(callId, "caller"),
      }))
    ) {
      if (Date.now() > until) throw new Error("the leg was not done in 90 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const reader = await publisher.js.consumers.get("RESULTS", {
      filter_subjects: subjects.utterance(callId, "caller"),
      deliver_policy: DeliverPolicy.All,
    });
    const utterances: UtteranceResult[] = [];
    for await (const msg of await reader.fetch({ max_messages: 100, expires: 1000 })) {
      utterances.push(decodeEvent(UtteranceResult, msg.data, "utterance"));
      if (msg.info.pending === 0) break;
    }
    return { utterances, registry };
  } finally {
    await service.stop();
  }
}

async function outcomes(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "asr_emotion_requests_total");
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}

describe("ASR worker and the emotion service", () => {
  it("publishes each utterance with the emotion service's answer", async () => {
    const { utterances, registry } = await recogniseCall(`127.0.0.1:${emotion.grpcPort}`);
    expect(utterances.length).toBeGreaterThanOrEqual(2);
    for (const u of utterances) {
      expect(u.emotion, JSON.stringify(u)).not.toBeNull();
      expect(["calm", "neutral", "agitated", "unknown"]).toContain(u.emotion!.label);
      expect(Object.values(u.emotion!.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(u.emotion!.valence).toBe(0);
    }
    expect((await outcomes(registry)).ok).toBe(utterances.length);
  });

  it("publishes every utterance with emotion null when the emotion service is down, and counts it", async () => {
    // A port with nothing listening: bound, then closed.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const { utterances, registry } = await recogniseCall(`127.0.0.1:${port}`);
    expect(utterances.length).toBeGreaterThanOrEqual(2);
    for (const u of utterances) expect(u.emotion).toBeNull();
    expect((await outcomes(registry)).UNAVAILABLE).toBe(utterances.length);
  });

  it("publishes with emotion null when ASR_EMOTION_ADDRESS is empty", async () => {
    const { utterances, registry } = await recogniseCall("");
    expect(utterances.length).toBeGreaterThanOrEqual(2);
    for (const u of utterances) expect(u.emotion).toBeNull();
    expect(await outcomes(registry)).toEqual({});
  });
});
