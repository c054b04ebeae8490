import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseWav, pcm16ToFloat32 } from "@callscribe/audio";
import { pino } from "pino";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const prosodyModelDir = join(repoRoot, "models/emotion-prosody");
export const e2vModelDir = join(repoRoot, "models/emotion-e2v-tiny");
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** Two real speakers of different sex and language. */
export const speakers = {
  english: "/usr/share/asterisk/sounds/en_US_f_Allison",
  russian: "/usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav",
} as const;

/** The first `count` prompts of a speaker at least `minS` long, sorted by name. */
export function promptFiles(dir: string, count: number, skip = 0, minS = 2): string[] {
  const out: string[] = [];
  let skipped = 0;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".wav"))
    .sort()) {
    const path = join(dir, file);
    const info = execFileSync("soxi", ["-D", path]).toString();
    if (Number(info) < minS) continue;
    if (skipped++ < skip) continue;
    out.push(path);
    if (out.length === count) break;
  }
  return out;
}

/**
 * A prompt as 16 kHz float samples after sox `effects` (e.g. ["gain", "3"], ["tempo", "1.2"],
 * ["pitch", "200"]). Every rendition starts 10 dB down so louder ones never clip.
 */
export function render(path: string, effects: string[] = []): Float32Array {
  const dir = mkdtempSync(join(tmpdir(), "emotion-"));
  try {
    const out = join(dir, "out.wav");
    execFileSync("sox", [path, "-r", "16000", "-b", "16", "-c", "1", out, "gain", "-10", ...effects]);
    return pcm16ToFloat32(parseWav(readFileSync(out)).samples[0]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 16-bit little-endian bytes of float samples. */
export function floatToBytes(samples: Float32Array): Uint8Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++)
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768)));
  return new Uint8Array(pcm.buffer);
}
