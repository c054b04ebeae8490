import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { parseWav, pcm16ToBytes, pcm16ToFloat32 } from "@callscribe/audio";
import { asrProto, type RecognizerClient } from "@callscribe/proto";
import { pino } from "pino";
import { expect } from "vitest";
import { loadConfig, type AsrConfig } from "../../../services/asr/src/config.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const fixturesDir = join(repoRoot, "test/fixtures/asr");
/** The committed model; TEST_ASR_MODEL_DIR points the tests at another model folder. */
export const modelDir = process.env.TEST_ASR_MODEL_DIR ?? join(repoRoot, "models/asr-en-telephony");
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export interface Prompt {
  name: string;
  path: string;
  /** Normalised reference: lowercase a-z, apostrophe and spaces. */
  text: string;
  sampleRate: number;
  pcm: Int16Array;
}

/** Lowercase words of a-z and apostrophes, as the recipe's text normaliser writes transcripts. */
export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** The held-out real recordings of test/fixtures/asr (Asterisk prompts never used in training). */
export function heldOutPrompts(): Prompt[] {
  const items = (
    JSON.parse(readFileSync(join(fixturesDir, "transcripts.json"), "utf8")) as {
      items: { file: string; text: string }[];
    }
  ).items;
  return items
    .filter((item) => item.file.startsWith("real_"))
    .map((item) => {
      const path = join(fixturesDir, item.file);
      const wav = parseWav(readFileSync(path));
      return {
        name: item.file.replace(/^real_|\.wav$/g, ""),
        path,
        text: normalise(item.text),
        sampleRate: wav.sampleRate,
        pcm: wav.samples[0]!,
      };
    });
}

function editDistance<T>(a: T[], b: T[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Word error rate of `hypothesis` against `reference`. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const ref = normalise(reference).split(" ").filter(Boolean);
  const hyp = normalise(hypothesis).split(" ").filter(Boolean);
  return ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : editDistance(ref, hyp) / ref.length;
}

/** Character error rate of `hypothesis` against `reference` (spaces count). */
export function characterErrorRate(reference: string, hypothesis: string): number {
  const ref = [...normalise(reference)];
  const hyp = [...normalise(hypothesis)];
  return ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : editDistance(ref, hyp) / ref.length;
}

/**
 * The character error rate the model's manifest (and README) reports on the held-out real prompts
 * for `precision`, plus 25 points of slack: a single short prompt scatters far more around the
 * corpus figure than the 112-prompt set does, and characters scatter less than words.
 */
export function cerBound(precision: "fp32" | "int8"): number {
  const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as {
    provenance?: { heldOut?: { real?: Record<string, { cer?: number }> } };
  };
  const reported = manifest.provenance?.heldOut?.real?.[precision]?.cer;
  if (reported === undefined)
    throw new Error(`${modelDir}/manifest.json reports no held-out real CER for ${precision}`);
  return reported / 100 + 0.25;
}

interface SherpaRecognizer {
  createStream(): { acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void };
  decode(stream: unknown): void;
  getResult(stream: unknown): { text: string };
}

const sherpaRecognizers = new Map<string, SherpaRecognizer>();

/**
 * What the model itself says for a whole recording: sherpa-onnx-node (an independent implementation of
 * the same features and greedy CTC decoding) on the model's whole-utterance graph, the same network the
 * service streams with. (sherpa-onnx's online recognizer does not set up NeMo features, so it cannot be
 * the reference for the streaming graph.)
 */
export function modelSays(pcm: Int16Array, precision: "fp32" | "int8"): string {
  let recognizer = sherpaRecognizers.get(precision);
  if (!recognizer) {
    const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8")) as {
      sampleRate: number;
      files: Record<string, string>;
    };
    const sherpa = createRequire(import.meta.url)("sherpa-onnx-node") as {
      OfflineRecognizer: new (config: unknown) => SherpaRecognizer;
    };
    recognizer = new sherpa.OfflineRecognizer({
      featConfig: { sampleRate: manifest.sampleRate, featureDim: 80 },
      modelConfig: {
        nemoCtc: { model: join(modelDir, manifest.files[precision]!) },
        tokens: join(modelDir, "tokens.txt"),
        numThreads: 1,
        provider: "cpu",
        debug: 0,
      },
      decodingMethod: "greedy_search",
    });
    sherpaRecognizers.set(precision, recognizer);
  }
  const stream = recognizer.createStream();
  stream.acceptWaveform({ samples: pcm16ToFloat32(pcm), sampleRate: 8000 });
  recognizer.decode(stream);
  return normalise(recognizer.getResult(stream).text);
}

/**
 * Checks a transcript of `prompts` (spoken in order) two ways: against what the model itself says
 * for each whole recording, and, for three prompts or more, against the reference text within the
 * character error rate the model's manifest reports (see cerBound). One short prompt alone scatters
 * too far around a corpus figure to be held to it; the agreement with the model is checked always. The service hears each prompt as a VAD segment with its own edges and
 * neighbours, and a weak model's output shifts with that context, so the self-agreement bound is a
 * character error rate of 40%; a broken pipeline (features, rate, decoding) is far above it.
 */
export function expectRecognised(transcript: string, prompts: Prompt[], precision: "fp32" | "int8"): void {
  const says = prompts.map((p) => modelSays(p.pcm, precision)).join(" ");
  const reference = prompts.map((p) => p.text).join(" ");
  if (normalise(says) === "") expect(normalise(transcript)).toBe("");
  else
    expect(
      characterErrorRate(says, transcript),
      `the model says "${says}", the service "${transcript}"`,
    ).toBeLessThanOrEqual(0.4);
  if (prompts.length >= 3) {
    expect(
      characterErrorRate(reference, transcript),
      `reference "${reference}", service "${transcript}"`,
    ).toBeLessThanOrEqual(cerBound(precision));
  }
}

/**
 * Prompts the model says something for, in fixture order: a test that needs utterances uses these.
 * None means the committed model recognises nothing, and such tests fail saying so.
 */
export function promptsWithSpeech(prompts: Prompt[], precision: "fp32" | "int8"): Prompt[] {
  const speaking = prompts.filter((p) => modelSays(p.pcm, precision) !== "");
  if (speaking.length === 0) throw new Error(`the ${precision} model says nothing for any held-out prompt`);
  return speaking;
}

/** Silence of `ms` milliseconds at `sampleRate`. */
export const silence = (ms: number, sampleRate = 8000) =>
  new Int16Array(Math.round((ms * sampleRate) / 1000));

export function concatPcm(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Service config for a test: ephemeral ports, no worker unless asked, quiet logs. */
export function testConfig(overrides: Record<string, string> = {}): AsrConfig {
  return loadConfig({
    ASR_MODEL_DIR: modelDir,
    ASR_GRPC_PORT: "0",
    ASR_OPS_PORT: "0",
    ASR_WORKER: "false",
    ASR_SHUTDOWN_DEADLINE_MS: "5000",
    // Greedy, as the reference the service is checked against (modelSays: sherpa-onnx greedy search).
    ASR_DECODER: "greedy",
    LOG_LEVEL: "silent",
    ...overrides,
  });
}

export function recognizerClient(port: number): RecognizerClient {
  const Recognizer = asrProto().Recognizer;
  return new Recognizer(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/** Splits PCM into byte chunks of `ms` milliseconds (LINEAR16 little-endian). */
export function chunkBytes(pcm: Int16Array, sampleRate: number, ms: number): Buffer[] {
  const step = Math.round((sampleRate * ms) / 1000);
  const chunks: Buffer[] = [];
  for (let i = 0; i < pcm.length; i += step) {
    const part = pcm.subarray(i, Math.min(pcm.length, i + step));
    chunks.push(Buffer.from(pcm16ToBytes(part)));
  }
  return chunks;
}

/** grpc.health.v1 Check against a server on 127.0.0.1:`port`, for each named service; returns their statuses. */
export async function healthStatuses(port: number, services: readonly string[]): Promise<string[]> {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const health = new Health(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    check(
      req: { service: string },
      cb: (err: grpc.ServiceError | null, res: { status: string }) => void,
    ): void;
  };
  try {
    const statuses: string[] = [];
    for (const name of services) {
      const reply = await new Promise<{ status: string }>((resolve, reject) =>
        health.check({ service: name }, (err, res) => (err ? reject(err) : resolve(res))),
      );
      statuses.push(reply.status);
    }
    return statuses;
  } finally {
    health.close();
  }
}
