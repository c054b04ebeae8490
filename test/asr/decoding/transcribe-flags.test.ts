import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readLexicon } from "../../../services/asr/src/engine/lm/index.ts";
import { parseTokens } from "../../../services/asr/src/engine/model/vocabulary.ts";
import { fixtureItems, fixturesDir, repoRoot, wordErrorRate } from "../engine/support.ts";

const cli = join(repoRoot, "services/asr/src/cli/transcribe.ts");
const tsx = join(repoRoot, "node_modules/.bin/tsx");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { ASR_MODEL_DIR: _dir, ASR_DECODER: _decoder, ...env } = process.env;
    const child = spawn(tsx, [cli, ...args], { cwd: repoRoot, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("transcribe decoder flags", () => {
  it("decodes with the LM by default and greedily with --decoder greedy", async () => {
    const fixture = "real_feature-not-avail-line.wav";
    const wav = join(fixturesDir, fixture);
    const lm = await run([wav, "--format", "text"]);
    const greedy = await run([wav, "--format", "text", "--decoder", "greedy"]);
    expect(lm.code).toBe(0);
    expect(greedy.code).toBe(0);
    // The greedy transcript spells words the lexicon lacks; the LM search keeps to the lexicon's words.
    // The folder transcribe loads by default (the run strips ASR_MODEL_DIR).
    const model = join(repoRoot, "models/asr-en-telephony");
    const tokens = parseTokens(readFileSync(join(model, "tokens.txt"), "utf8"));
    const lexicon = new Set(readLexicon(join(model, "lexicon.txt"), tokens).words);
    const words = (stdout: string) => stdout.split("mono: ")[1]!.trim().split(/\s+/);
    expect(words(greedy.stdout).some((w) => !lexicon.has(w))).toBe(true);
    expect(words(lm.stdout).every((w) => lexicon.has(w))).toBe(true);
    // ... and comes closer to what was said.
    const reference = fixtureItems().find((item) => item.file === fixture)!.text;
    const wer = (stdout: string) => wordErrorRate([{ reference, hypothesis: words(stdout).join(" ") }]);
    expect(wer(lm.stdout)).toBeLessThan(wer(greedy.stdout));
    expect(lm.stdout).toContain("is not");
  }, 60_000);

  it("refuses a bad knob value, naming the variable the flag sets", async () => {
    const { code, stderr } = await run([join(fixturesDir, "real_conf-getpin.wav"), "--lm-weight", "heavy"]);
    expect(code).toBe(2);
    expect(stderr).toContain("ASR_LM_WEIGHT: must be a number from 0 to 5");
  }, 60_000);
});
