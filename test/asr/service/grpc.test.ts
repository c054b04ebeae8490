import * as grpc from "@grpc/grpc-js";
import { encodeMulaw, encodeWav, pcm16ToBytes } from "@callscribe/audio";
import type { RecognitionConfig, RecognizerClient, StreamingRecognizeRequest } from "@callscribe/proto";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAsrService,
  loadRecognizer,
  type AsrService,
  type LoadedRecognizer,
} from "../../../services/asr/src/asr.ts";
import { createRecognizerEngine, type RecognizerEngine } from "../../../services/asr/src/engine/index.ts";
import { recognize, streamRecognize } from "./grpc-client.ts";
import {
  chunkBytes,
  concatPcm,
  heldOutPrompts,
  recognizerClient,
  silence,
  silentLogger,
  testConfig,
  expectRecognised,
  healthStatuses,
  promptsWithSpeech,
  type Prompt,
} from "./support.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const linear16 = (fields: Partial<RecognitionConfig> = {}): StreamingRecognizeRequest => ({
  config: { encoding: "LINEAR16", sampleRateHz: 8000, ...fields },
});

let loaded: LoadedRecognizer;
let service: AsrService;
let client: RecognizerClient;
let prompt: Prompt;
let prompts: Prompt[];
const registry = new Registry();

/** Finished Recognize calls by status code, from the service's metrics. */
async function recognizeCallsByCode(): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "asr_grpc_calls_total");
  const codes: Record<string, number> = {};
  for (const v of metric?.values ?? []) {
    if (v.labels.method === "Recognize") codes[String(v.labels.code)] = v.value;
  }
  return codes;
}
const total = (codes: Record<string, number>) => Object.values(codes).reduce((n, v) => n + v, 0);

beforeAll(async () => {
  const config = testConfig();
  loaded = await loadRecognizer(config, { logger: silentLogger });
  service = await createAsrService(config, { engine: loaded.engine, logger: silentLogger, registry });
  client = recognizerClient(service.grpcPort);
  prompts = heldOutPrompts();
  prompt = promptsWithSpeech(prompts, loaded.engine.model.precision)[0]!;
});

afterAll(async () => {
  client?.close();
  await service?.stop();
  await loaded?.close();
});

describe("Recognizer over gRPC", () => {
  it("reports SERVING on grpc.health.v1", async () => {
    expect(await healthStatuses(service.grpcPort, ["", "callscribe.asr.v1.Recognizer"])).toEqual([
      "SERVING",
      "SERVING",
    ]);
  });

  it("lists the served model", async () => {
    const reply = await new Promise<{
      models: {
        name: string;
        isDefault: boolean;
        sampleRateHz: number;
        precision: string;
        executionProvider: string;
      }[];
    }>((resolve, reject) => client.ListModels({}, (err, res) => (err ? reject(err) : resolve(res!))));
    expect(reply.models).toHaveLength(1);
    expect(reply.models[0]).toMatchObject({
      name: loaded.engine.model.name,
      isDefault: true,
      sampleRateHz: loaded.engine.model.sampleRate,
      precision: loaded.engine.model.precision,
      executionProvider: "cpu",
    });
  });

  it("streams held-out real prompts in 20 ms chunks: partials, then finals with the words, then end_of_stream", async () => {
    // Three prompts with pauses longer than the endpointer's trailing silence: three utterances.
    const audio = concatPcm(
      prompts.flatMap((p, i) => [silence(i === 0 ? 300 : 1000), p.pcm]).concat(silence(800)),
    );
    const outcome = await streamRecognize(
      client,
      [
        linear16({ interimResults: true, wordTimeOffsets: true }),
        ...chunkBytes(audio, 8000, 20).map((a) => ({ audio: a })),
      ],
      { paceMs: 5 },
    );
    expect(outcome.code).toBe(grpc.status.OK);
    const results = outcome.responses.flatMap((r) => r.results);
    const finals = results.filter((r) => r.isFinal);
    expect(finals.length).toBeGreaterThan(0);
    // Each utterance: its partials (same id) come before its final, and none after.
    for (const final of finals) {
      const at = results.indexOf(final);
      expect(results.slice(at + 1).some((r) => r.utteranceId === final.utteranceId)).toBe(false);
    }
    const partials = results.filter((r) => !r.isFinal && r.transcript.length > 0);
    expect(partials.length).toBeGreaterThan(0);
    expect(partials.every((p) => finals.some((f) => f.utteranceId === p.utteranceId))).toBe(true);

    const transcript = finals.map((f) => f.transcript).join(" ");
    expectRecognised(transcript, prompts, loaded.engine.model.precision);
    const words = finals.flatMap((f) => f.words);
    expect(words.map((w) => w.word).join(" ")).toBe(transcript.trim().replace(/\s+/g, " "));
    const audioMs = (audio.length / 8000) * 1000;
    let previousEnd = 0;
    for (const w of words) {
      expect(w.startMs).toBeLessThanOrEqual(w.endMs);
      expect(w.startMs).toBeGreaterThanOrEqual(previousEnd - 1);
      expect(w.endMs).toBeLessThanOrEqual(audioMs);
      expect(w.confidence).toBeGreaterThan(0);
      expect(w.confidence).toBeLessThanOrEqual(1);
      previousEnd = w.endMs;
    }
    for (const final of finals) {
      expect(final).toMatchObject({
        language: loaded.engine.model.language,
        dialect: "",
        endOfUtterance: true,
      });
      expect(final.confidence).toBeGreaterThan(0);
      expect(final.startMs).toBeLessThan(final.endMs);
    }
    // Word times lie within their utterance's span.
    for (const final of finals) {
      for (const w of final.words) {
        expect(w.startMs).toBeGreaterThanOrEqual(final.startMs);
        expect(w.endMs).toBeLessThanOrEqual(final.endMs);
      }
    }

    const last = outcome.responses.at(-1)!;
    expect(last.endOfStream).toBe(true);
    expect(last.results).toHaveLength(0);
    expect(outcome.responses.filter((r) => r.endOfStream)).toHaveLength(1);
    expect(loaded.engine.stats().openStreams).toBe(0);
  });

  it("decodes G.711 mu-law streams", async () => {
    const audio = concatPcm([prompt.pcm, silence(800)]);
    const mulaw = Buffer.from(encodeMulaw(audio));
    const chunks = Array.from({ length: Math.ceil(mulaw.length / 160) }, (_, i) => ({
      audio: mulaw.subarray(i * 160, (i + 1) * 160),
    }));
    const outcome = await streamRecognize(client, [
      { config: { encoding: "MULAW", sampleRateHz: 8000 } },
      ...chunks,
    ]);
    expect(outcome.code).toBe(grpc.status.OK);
    const transcript = outcome.responses
      .flatMap((r) => r.results.filter((x) => x.isFinal).map((x) => x.transcript))
      .join(" ");
    expectRecognised(transcript, [prompt], loaded.engine.model.precision);
    // interim_results was off: only finals.
    expect(outcome.responses.flatMap((r) => r.results).every((r) => r.isFinal)).toBe(true);
  });

  it("recognizes a whole WAV file with Recognize", async () => {
    const wav = encodeWav([concatPcm([prompt.pcm, silence(500)])], 8000);
    const { response, code } = await recognize(client, {
      config: { encoding: "WAV", wordTimeOffsets: true },
      audio: Buffer.from(wav),
    });
    expect(code).toBe(grpc.status.OK);
    const transcript = response!.results.map((r) => r.transcript).join(" ");
    expectRecognised(transcript, [prompt], loaded.engine.model.precision);
    expect(response!.results.every((r) => r.isFinal)).toBe(true);
    expect(response!.results[0]!.words.length).toBeGreaterThan(0);
    expect(response!.audioMs).toBe(Math.round(((prompt.pcm.length + 4000) / 8000) * 1000));
  });

  describe("refuses bad requests with INVALID_ARGUMENT and the reason", () => {
    const audioChunk = { audio: Buffer.alloc(320) };
    it.each([
      ["audio before config", [audioChunk], /first message must be config/],
      ["an odd byte count", [linear16(), { audio: Buffer.alloc(321) }], /odd byte count \(321\)/],
      ["44100 Hz", [linear16({ sampleRateHz: 44100 }), audioChunk], /sample_rate_hz 44100 is not supported/],
      [
        "an unspecified encoding",
        [{ config: { sampleRateHz: 8000 } }, audioChunk],
        /unsupported encoding AUDIO_ENCODING_UNSPECIFIED/,
      ],
      [
        "WAV on a stream",
        [{ config: { encoding: "WAV" as const } }, audioChunk],
        /WAV is accepted by Recognize only/,
      ],
      [
        "a hotword boost out of range",
        [linear16({ hotwords: [{ phrase: "pin", boost: 99 }] })],
        /boost 99 is out of range/,
      ],
      [
        "an endpointing value out of range",
        [linear16({ endpointing: { trailingSilenceMs: 5 } })],
        /trailing_silence_ms 5 is out of range/,
      ],
      ["an unknown model", [linear16({ model: "no-such-model" })], /unknown model "no-such-model"/],
      ["a second config", [linear16(), linear16()], /config may be sent only once/],
      ["no message at all", [], /first message must be config/],
    ])("StreamingRecognize with %s", async (_name, requests, reason) => {
      const outcome = await streamRecognize(client, requests as StreamingRecognizeRequest[]);
      expect(outcome.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(outcome.details).toMatch(reason);
      await waitFor("the stream's slot to be free", () => loaded.engine.stats().openStreams === 0);
    });

    it.each([
      [
        "a bad WAV file",
        { config: { encoding: "WAV" as const }, audio: Buffer.from("RIFF\x10\x00\x00\x00WAVEjunk") },
        /not a usable WAV file/,
      ],
      ["no config", { audio: Buffer.alloc(320) }, /config is required/],
      [
        "an odd byte count",
        { config: { encoding: "LINEAR16" as const, sampleRateHz: 8000 }, audio: Buffer.alloc(99) },
        /odd byte count \(99\)/,
      ],
      [
        "44100 Hz LINEAR16",
        { config: { encoding: "LINEAR16" as const, sampleRateHz: 44100 }, audio: Buffer.alloc(100) },
        /44100/,
      ],
    ])("Recognize with %s", async (_name, request, reason) => {
      const { code, details } = await recognize(client, request);
      expect(code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(details).toMatch(reason);
    });
  });

  it("ends a stream that outlives its deadline with DEADLINE_EXCEEDED and frees its slot", async () => {
    const outcome = await streamRecognize(client, [linear16(), { audio: Buffer.alloc(320) }], {
      halfClose: false,
      deadline: new Date(Date.now() + 700),
    });
    expect(outcome.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await waitFor("the stream's slot to be free", () => loaded.engine.stats().openStreams === 0);
  });

  it("abandons a Recognize that outlives its deadline with DEADLINE_EXCEEDED and frees its slot", async () => {
    // Four minutes of speech take the engine far longer than 300 ms.
    const before = await recognizeCallsByCode();
    const long = concatPcm(
      Array.from({ length: Math.ceil(240 / (prompt.pcm.length / 8000)) }, () => prompt.pcm),
    );
    const started = new Promise<{ code: grpc.status }>((resolve) =>
      client.Recognize(
        { config: { encoding: "LINEAR16", sampleRateHz: 8000 }, audio: Buffer.from(pcm16ToBytes(long)) },
        { deadline: new Date(Date.now() + 300) },
        (err) => resolve({ code: err ? err.code : grpc.status.OK }),
      ),
    );
    expect((await started).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await waitFor("the recognition's slot to be free", () => loaded.engine.stats().openStreams === 0);
    // The server abandoned the work rather than finishing it for nobody.
    let after: Record<string, number> = {};
    await waitFor("the server to finish the call", () => {
      void recognizeCallsByCode().then((codes) => (after = codes));
      return total(after) === total(before) + 1;
    });
    const changed = Object.entries(after)
      .map(([code, n]) => [code, n - (before[code] ?? 0)] as const)
      .filter(([, delta]) => delta !== 0);
    expect(Object.fromEntries(changed)).toEqual({ DEADLINE_EXCEEDED: 1 });
  });
});

describe("a replica with ASR_MAX_STREAMS=1", () => {
  let engine: RecognizerEngine;
  let limited: AsrService;
  let limitedClient: RecognizerClient;

  beforeAll(async () => {
    const config = testConfig({ ASR_MAX_STREAMS: "1" });
    engine = createRecognizerEngine({
      model: loaded.model,
      vad: loaded.vad,
      options: config.engine,
      logger: silentLogger,
    });
    limited = await createAsrService(config, { engine, logger: silentLogger, registry: new Registry() });
    limitedClient = recognizerClient(limited.grpcPort);
  });

  afterAll(async () => {
    limitedClient?.close();
    await limited?.stop();
    await engine?.close();
  });

  it("refuses a second concurrent stream with RESOURCE_EXHAUSTED, and takes one again once the first is cancelled", async () => {
    let first: grpc.ClientDuplexStream<StreamingRecognizeRequest, unknown> | undefined;
    const firstOutcome = streamRecognize(limitedClient, [linear16(), { audio: Buffer.alloc(320) }], {
      halfClose: false,
      onCall: (call) => (first = call),
    });
    await waitFor("the first stream to open", () => engine.stats().openStreams === 1);

    const second = await streamRecognize(limitedClient, [linear16(), { audio: Buffer.alloc(320) }]);
    expect(second.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(second.details.length).toBeGreaterThan(0);

    first!.cancel();
    expect((await firstOutcome).code).toBe(grpc.status.CANCELLED);
    await waitFor("the cancelled stream's slot to be free", () => engine.stats().openStreams === 0);

    const third = await streamRecognize(limitedClient, [
      linear16(),
      ...chunkBytes(concatPcm([prompt.pcm, silence(800)]), 8000, 20).map((a) => ({ audio: a })),
    ]);
    expect(third.code).toBe(grpc.status.OK);
    const transcript = third.responses.flatMap((r) => r.results.map((x) => x.transcript)).join(" ");
    expectRecognised(transcript, [prompt], loaded.engine.model.precision);
  });
});
