import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { readWavFile } from "@callscribe/audio";
import {
  LegLanguage,
  type LanguageIdModel,
  type LanguageTag,
} from "../../../services/asr/src/language/index.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const languageModelDir = resolve(repoRoot, "models/language-id");
export const fixturesDir = resolve(repoRoot, "test/fixtures/language");
export const silentLogger = pino({ level: "silent" });

export interface Fixture {
  file: string;
  speaker: string;
  package: string;
  tag: string;
  language: string;
}

export const fixtures = (
  JSON.parse(readFileSync(join(fixturesDir, "fixtures.json"), "utf8")) as { items: Fixture[] }
).items;

export const speakers = [...new Set(fixtures.map((f) => f.speaker))];

export async function fixturePcm(file: string): Promise<{ pcm: Int16Array; sampleRate: number }> {
  const wav = await readWavFile(join(fixturesDir, file));
  return { pcm: wav.samples[0]!, sampleRate: wav.sampleRate };
}

/**
 * Plays prompts through a leg's language tracker as the worker does: audio pushed in 20 ms frames, each
 * prompt then ended as a final utterance. Returns the tag published with each utterance.
 */
export async function tagAsLeg(
  model: LanguageIdModel,
  files: string[],
  maxUtterances = 8,
): Promise<{ tags: LanguageTag[]; leg: LegLanguage }> {
  const leg = new LegLanguage({ model, maxUtterances, logger: silentLogger });
  const tags: LanguageTag[] = [];
  let ms = 0;
  for (const file of files) {
    const { pcm, sampleRate } = await fixturePcm(file);
    const frame = sampleRate / 50;
    for (let i = 0; i < pcm.length; i += frame) leg.pushAudio(pcm.subarray(i, i + frame), sampleRate);
    const durationMs = (pcm.length * 1000) / sampleRate;
    tags.push(await leg.tagUtterance(ms, ms + durationMs));
    ms += durationMs;
  }
  return { tags, leg };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A copy of the committed model folder with its manifest edited. */
export function editedModelCopy(edit: (manifest: Json) => void): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "language-id-"));
  cpSync(languageModelDir, dir, { recursive: true });
  const path = join(dir, "manifest.json");
  const manifest = JSON.parse(readFileSync(path, "utf8")) as Json;
  edit(manifest);
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
