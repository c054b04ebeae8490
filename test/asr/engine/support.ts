import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { readWavFile } from "@callscribe/audio";
import { DynamicBatcher } from "../../../services/asr/src/engine/batching/batcher.ts";
import { GreedyCtcDecoder } from "../../../services/asr/src/engine/decoding/ctc.ts";
import { FbankExtractor } from "../../../services/asr/src/engine/features/fbank.ts";
import type { AcousticModel } from "../../../services/asr/src/engine/model/acoustic-model.ts";
import { CachedUtteranceRecognizer } from "../../../services/asr/src/engine/streaming/cached-utterance.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** The committed model; ASR_TEST_MODEL_DIR points the engine tests at another folder of the same layout. */
export const modelDir = resolve(repoRoot, process.env.ASR_TEST_MODEL_DIR ?? "models/asr-en-telephony");
export const fixturesDir = resolve(repoRoot, process.env.ASR_TEST_FIXTURES_DIR ?? "test/fixtures/asr");
export const silentLogger = pino({ level: "silent" });

export interface TranscriptItem {
  file: string;
  text: string;
  source: string;
  sampleRate: number;
}

export function fixtureItems(): TranscriptItem[] {
  return (
    JSON.parse(readFileSync(join(fixturesDir, "transcripts.json"), "utf8")) as { items: TranscriptItem[] }
  ).items;
}

export async function fixturePcm(file: string): Promise<Int16Array> {
  const wav = await readWavFile(join(fixturesDir, file));
  if (wav.sampleRate !== 8000 || wav.channels !== 1) throw new Error(`${file}: expected 8 kHz mono`);
  return wav.samples[0]!;
}

/** A copy of the model folder in a temp dir, to break on purpose; `files` limits what is copied. */
export function copyModel(files = ["manifest.json", "tokens.txt", "model.onnx"]): {
  dir: string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), "asr-model-"));
  for (const file of files) cpSync(join(modelDir, file), join(dir, file));
  // Without its files the streaming graph is not part of the copy: the copy is the whole-utterance model.
  const manifestPath = join(dir, "manifest.json");
  if (files.includes("manifest.json")) {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      streaming?: { files: Record<string, string> };
      decoding?: string | { lm: { path: string }; lexicon: { path: string } };
    };
    if (manifest.streaming && !Object.values(manifest.streaming.files).some((f) => files.includes(f))) {
      delete manifest.streaming;
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    }
    // Likewise the word LM and lexicon: without their files the copy decodes greedily.
    const decoding = manifest.decoding;
    if (
      typeof decoding === "object" &&
      !(files.includes(decoding.lm.path) && files.includes(decoding.lexicon.path))
    ) {
      delete manifest.decoding;
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    }
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Word error rate over a set of utterances (errors / reference words). */
export function wordErrorRate(pairs: ReadonlyArray<{ reference: string; hypothesis: string }>): number {
  let errors = 0;
  let words = 0;
  for (const { reference, hypothesis } of pairs) {
    const ref = reference.split(/\s+/).filter(Boolean);
    errors += editDistance(ref, hypothesis.split(/\s+/).filter(Boolean));
    words += ref.length;
  }
  return words === 0 ? 0 : errors / words;
}

/**
 * A whole prompt streamed alone through a cache-aware model in 240 ms windows, from its audio where the model
 * takes audio (or as `fromAudio` says): the committed log-probs and the greedy token ids.
 */
export async function streamAlone(
  model: AcousticModel,
  samples: Float32Array,
  fromAudio = model.takesSamples,
): Promise<{ logProbs: Float32Array; tokens: string }> {
  const { vocabulary } = model.spec;
  const utterance = new CachedUtteranceRecognizer({
    spec: model.spec,
    extractor: new FbankExtractor(model.spec.features),
    sink: new DynamicBatcher({ model, maxBatch: 1, maxWaitMs: 0, logger: silentLogger }),
    createDecoder: () => new GreedyCtcDecoder(vocabulary.tokens.length, vocabulary.blankId),
    chunkFrames: 24,
    captureLogProbs: true,
    modelTakesSamples: fromAudio,
  });
  utterance.acceptSamples(samples);
  await utterance.finish();
  return {
    logProbs: utterance.capturedLogProbs().data,
    tokens: utterance
      .result()
      .tokens.map((t) => t.id)
      .join(","),
  };
}
