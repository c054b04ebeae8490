import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { parseWav } from "@callscribe/audio";
import { createMetricsRegistry } from "@callscribe/runtime";
import type { EmotionClassifierClient } from "@callscribe/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../services/emotion/src/config.ts";
import { createEmotionService, type EmotionService } from "../../services/emotion/src/emotion.ts";
import { loadEmotionModel } from "../../services/emotion/src/model/load.ts";
import { healthStatuses } from "../asr/service/support.ts";
import { classifierClient, classify, streamClassify } from "./grpc-client.ts";
import {
  e2vModelDir,
  floatToBytes,
  promptFiles,
  prosodyModelDir,
  render,
  silentLogger,
  speakers,
} from "./support.ts";

interface Running {
  service: EmotionService;
  client: EmotionClassifierClient;
  stop(): Promise<void>;
}

async function start(env: Record<string, string>): Promise<Running> {
  const config = loadConfig({ EMOTION_GRPC_PORT: "0", EMOTION_OPS_PORT: "0", LOG_LEVEL: "silent", ...env });
  const model = await loadEmotionModel({ ...config.model, logger: silentLogger });
  const service = await createEmotionService(config, {
    model,
    logger: silentLogger,
    registry: createMetricsRegistry("emotion-test"),
  });
  const client = classifierClient(service.grpcPort);
  return {
    service,
    client,
    stop: async () => {
      client.close();
      for (const step of service.shutdownSteps) await step.run();
    },
  };
}

const english = promptFiles(speakers.english, 8);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const linear16 = (sampleRateHz = 16000) => ({ encoding: "LINEAR16" as const, sampleRateHz });

describe("emotion service with the prosody model", () => {
  let running: Running;
  beforeAll(async () => {
    running = await start({ EMOTION_MODEL_DIR: prosodyModelDir });
  });
  afterAll(() => running.stop());

  it("serves grpc.health.v1 and /readyz", async () => {
    expect(
      await healthStatuses(running.service.grpcPort, ["", "callscribe.emotion.v1.EmotionClassifier"]),
    ).toEqual(["SERVING", "SERVING"]);
    expect((await fetch(`http://127.0.0.1:${running.service.opsPort}/readyz`)).status).toBe(200);
  });

  it("classifies a real 8 kHz prompt: a coarse arousal label, scores summing to 1, valence unknown", async () => {
    const wav = parseWav(readFileSync(english[0]!));
    const pcm = wav.samples[0]!;
    const out = await classify(running.client, {
      format: linear16(8000),
      audio: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength),
      offsetMs: 1500,
    });
    expect(out.code).toBe(grpc.status.OK);
    const result = out.value!.result!;
    expect(["calm", "neutral", "agitated"]).toContain(result.label);
    expect(sum(result.scores.map((s) => s.score))).toBeCloseTo(1, 5);
    expect(result.valence).toBe(0);
    expect(result.segmentStartMs).toBe(1500);
    expect(result.segmentEndMs).toBe(1500 + Math.round((pcm.length / 8000) * 1000));
  });

  it("compares Classify requests of one named speaker with that speaker's earlier segments", async () => {
    const speaker = `call-${Date.now()}/caller`;
    for (const path of english.slice(0, 6)) {
      const out = await classify(
        running.client,
        { format: linear16(), audio: floatToBytes(render(path)) },
        speaker,
      );
      expect(out.code).toBe(grpc.status.OK);
    }
    const loud = render(english[6]!, ["gain", "6", "tempo", "1.2", "pitch", "200"]);
    const out = await classify(running.client, { format: linear16(), audio: floatToBytes(loud) }, speaker);
    expect(out.value!.result!.label).toBe("agitated");
    const other = `call-${Date.now()}/agent`;
    for (const path of english.slice(0, 6))
      await classify(
        running.client,
        {
          format: linear16(),
          audio: floatToBytes(render(path, ["gain", "6", "tempo", "1.2", "pitch", "200"])),
        },
        other,
      );
    // The same rendition is this other speaker's ordinary voice.
    const same = await classify(running.client, { format: linear16(), audio: floatToBytes(loud) }, other);
    expect(same.value!.result!.label).toBe("neutral");
  });

  it("refuses bad input with INVALID_ARGUMENT and a reason", async () => {
    const pcm = floatToBytes(render(english[0]!));
    const cases: [Parameters<typeof classify>[1], RegExp][] = [
      [{ format: linear16(44100), audio: pcm }, /sample_rate_hz 44100 .*8000 or 16000/],
      [{ format: linear16(), audio: pcm.subarray(0, 1001) }, /odd byte count \(1001\)/],
      [{ audio: pcm }, /format is missing/],
      [
        { format: { encoding: "AUDIO_ENCODING_UNSPECIFIED", sampleRateHz: 16000 }, audio: pcm },
        /encoding .* not supported/,
      ],
      [
        { format: linear16(), audio: new Uint8Array(31 * 16000 * 2) },
        /31\.0 s; Classify takes one segment of at most 30 s/,
      ],
    ];
    for (const [request, reason] of cases) {
      const out = await classify(running.client, request);
      expect(out.code, out.details).toBe(grpc.status.INVALID_ARGUMENT);
      expect(out.details).toMatch(reason);
    }
  });

  it("StreamingClassify answers one result per spoken prompt, in order, and hears a speaker grow agitated", async () => {
    const silence = new Float32Array(16000);
    const prompts = [
      ...english.slice(0, 6).map((p) => render(p)),
      ...english.slice(6, 8).map((p) => render(p, ["gain", "6", "tempo", "1.2", "pitch", "250"])),
    ];
    function* chunks() {
      for (const prompt of [silence, ...prompts.flatMap((p) => [p, silence])]) {
        const bytes = floatToBytes(prompt);
        for (let i = 0; i < bytes.length; i += 3200) yield bytes.subarray(i, i + 3200);
      }
    }
    const out = await streamClassify(running.client, linear16(), chunks());
    expect(out.code, out.details).toBe(grpc.status.OK);
    expect(out.results.length).toBe(prompts.length);
    for (let i = 1; i < out.results.length; i++)
      expect(out.results[i]!.segmentStartMs).toBeGreaterThan(out.results[i - 1]!.segmentEndMs);
    expect(out.results.slice(6).map((r) => r.label)).toEqual(["agitated", "agitated"]);
    expect(Math.min(...out.results.slice(6).map((r) => r.arousal))).toBeGreaterThan(
      Math.max(...out.results.slice(1, 6).map((r) => r.arousal)),
    );
  });

  it("cuts speech that goes on past the maximum segment into segments of at most 30 s", async () => {
    const prompt = render(english[1]!);
    function* chunks() {
      // 75 s of speech without a pause of half a second.
      for (let s = 0; s < 75; s += prompt.length / 16000) {
        const bytes = floatToBytes(prompt);
        for (let i = 0; i < bytes.length; i += 6400) yield bytes.subarray(i, i + 6400);
      }
    }
    const out = await streamClassify(running.client, linear16(), chunks());
    expect(out.code, out.details).toBe(grpc.status.OK);
    expect(out.results.length).toBeGreaterThanOrEqual(3);
    for (const r of out.results) expect(r.segmentEndMs - r.segmentStartMs).toBeLessThanOrEqual(30_000);
  });

  it("StreamingClassify refuses audio before the format, and an odd byte count", async () => {
    const noFormat = await streamClassify(running.client, null, [new Uint8Array(320)]);
    expect(noFormat.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noFormat.details).toMatch(/first message must carry the audio format/);
    const odd = await streamClassify(running.client, linear16(8000), [
      new Uint8Array(320),
      new Uint8Array(161),
    ]);
    expect(odd.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(odd.details).toMatch(/odd byte count/);
    const rate = await streamClassify(running.client, linear16(22050), [new Uint8Array(320)]);
    expect(rate.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("emotion service under load", () => {
  it("answers RESOURCE_EXHAUSTED when the segment queue is full, and serves the rest", async () => {
    const running = await start({
      EMOTION_MODEL_DIR: prosodyModelDir,
      EMOTION_MAX_QUEUED_SEGMENTS: "2",
      EMOTION_MAX_BATCH: "64",
      EMOTION_MAX_WAIT_MS: "200",
    });
    try {
      const audio = floatToBytes(render(english[0]!));
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, () => classify(running.client, { format: linear16(), audio })),
      );
      const codes = outcomes.map((o) => o.code);
      // Two fit the queue while the batch waits to fill; the rest are refused at once, none lost.
      expect(codes.filter((c) => c === grpc.status.OK).length).toBeGreaterThanOrEqual(2);
      expect(codes.filter((c) => c === grpc.status.RESOURCE_EXHAUSTED).length).toBeGreaterThanOrEqual(1);
      expect(codes.every((c) => c === grpc.status.OK || c === grpc.status.RESOURCE_EXHAUSTED)).toBe(true);
      expect(outcomes.find((o) => o.code === grpc.status.RESOURCE_EXHAUSTED)!.details).toMatch(
        /EMOTION_MAX_QUEUED_SEGMENTS/,
      );
    } finally {
      await running.stop();
    }
  });
});

describe("emotion service stream limit", () => {
  it("refuses a stream beyond EMOTION_MAX_STREAMS with RESOURCE_EXHAUSTED while one is open", async () => {
    const running = await start({ EMOTION_MODEL_DIR: prosodyModelDir, EMOTION_MAX_STREAMS: "1" });
    try {
      const open = running.client.StreamingClassify();
      open.on("error", () => {});
      const openStatus = new Promise<grpc.StatusObject>((resolve) => open.on("status", resolve));
      open.on("data", () => {});
      open.write({ format: linear16() });
      // The first stream is open once its format has been taken: a second one then finds no room.
      let second: Awaited<ReturnType<typeof streamClassify>> | undefined;
      for (let i = 0; i < 50 && second?.code !== grpc.status.RESOURCE_EXHAUSTED; i++) {
        await new Promise((r) => setTimeout(r, 20));
        second = await streamClassify(running.client, linear16(), [new Uint8Array(320)]);
      }
      expect(second!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(second!.details).toMatch(/EMOTION_MAX_STREAMS/);
      open.end();
      expect((await openStatus).code).toBe(grpc.status.OK);
    } finally {
      await running.stop();
    }
  });
});

describe("emotion service with an emotion2vec-style model", () => {
  it("returns the 9 classes' probabilities, arousal and valence from them", async () => {
    const running = await start({ EMOTION_MODEL_DIR: e2vModelDir });
    try {
      const audio = floatToBytes(render(english[0]!));
      const out = await classify(running.client, { format: linear16(), audio });
      expect(out.code, out.details).toBe(grpc.status.OK);
      const result = out.value!.result!;
      expect(result.scores.map((s) => s.label)).toEqual([
        "angry",
        "disgusted",
        "fearful",
        "happy",
        "neutral",
        "other",
        "sad",
        "surprised",
        "unknown",
      ]);
      expect(sum(result.scores.map((s) => s.score))).toBeCloseTo(1, 5);
      const best = result.scores.reduce((a, b) => (b.score > a.score ? b : a));
      expect(result.label).toBe(best.label);
      expect(Math.abs(result.arousal)).toBeLessThanOrEqual(1);
      const streamed = await streamClassify(running.client, linear16(), [audio]);
      expect(streamed.code, streamed.details).toBe(grpc.status.OK);
      expect(streamed.results.length).toBe(1);
    } finally {
      await running.stop();
    }
  });
});
