import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { parseWav } from "@callscribe/audio";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface RecordedPrompt {
  name: string;
  text: string;
  pcm: Int16Array;
}

/**
 * The held-out real recordings (Asterisk prompts never used in training; listed in
 * models/recipes/asr/heldout_real.txt): 8 kHz telephone speech of one speaker, with transcripts.
 */
export function heldOutRecordings(): RecordedPrompt[] {
  const names = readFileSync(join(repoRoot, "models/recipes/asr/heldout_real.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const transcripts = new Map<string, string>();
  const doc = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz";
  for (const line of gunzipSync(readFileSync(doc)).toString("utf8").split("\n")) {
    const at = line.indexOf(": ");
    if (at > 0) transcripts.set(line.slice(0, at).trim(), line.slice(at + 2).trim());
  }
  const prompts: RecordedPrompt[] = [];
  for (const name of names) {
    const path = `/usr/share/asterisk/sounds/en/${name}.wav`;
    const text = transcripts.get(name);
    if (!existsSync(path) || text === undefined || text.startsWith("[")) continue;
    const wav = parseWav(readFileSync(path));
    if (wav.sampleRate !== 8000) continue;
    prompts.push({ name, text, pcm: wav.samples[0]! });
  }
  return prompts;
}

/**
 * A conversation-like track: the prompts one after another with pauses of 300 to 900 ms between
 * them (a fixed pseudo-random sequence, so every run streams the same audio).
 */
export function speechTrack(prompts: RecordedPrompt[], seconds: number): Int16Array {
  const target = seconds * 8000;
  const parts: Int16Array[] = [];
  let length = 0;
  let seed = 12345;
  for (let i = 0; length < target; i++) {
    const prompt = prompts[i % prompts.length]!;
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const pause = new Int16Array(Math.round((300 + (seed % 600)) * 8));
    parts.push(prompt.pcm, pause);
    length += prompt.pcm.length + pause.length;
  }
  const track = new Int16Array(length);
  let offset = 0;
  for (const part of parts) {
    track.set(part, offset);
    offset += part.length;
  }
  return track;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
