import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { readWavFile } from "@callscribe/audio";

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
    };
    if (manifest.streaming && !Object.values(manifest.streaming.files).some((f) => files.includes(f))) {
      delete manifest.streaming;
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
