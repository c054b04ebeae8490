import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "../../..");
const PYTHON = "/usr/bin/python3";
const TRANSCRIPTS = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz";
const ready = existsSync(PYTHON) && existsSync(TRANSCRIPTS);

/** The held-out prompts' transcripts, normalised by the ASR recipe's textnorm.py (as its evaluation does). */
function heldOutTranscripts(): string[] {
  const script = `
import gzip, json, sys
sys.path.insert(0, ${JSON.stringify(join(repo, "models/recipes/asr"))})
from textnorm import normalize
names = [l.strip() for l in open(${JSON.stringify(join(repo, "models/recipes/asr/heldout_real.txt"))}) if l.strip() and not l.startswith("#")]
text = {}
for line in gzip.open(${JSON.stringify(TRANSCRIPTS)}, "rt", encoding="utf-8", errors="replace"):
    if ": " in line and not line.startswith(";"):
        n, t = line.rstrip("\\n").split(": ", 1)
        text[n.strip()] = t
json.dump([normalize(text[n]) for n in names], sys.stdout)`;
  return JSON.parse(execFileSync(PYTHON, ["-c", script]).toString()) as string[];
}

describe.skipIf(!ready)("the LM recipe's text (models/recipes/lm/corpus.py)", () => {
  const out = mkdtempSync(join(tmpdir(), "lm-corpus-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("holds no held-out prompt: none as a line, none of two or more words inside a line", () => {
    execFileSync(
      PYTHON,
      [join(repo, "models/recipes/lm/corpus.py"), "--out", out, "--generated", "4000", "--dev", "300"],
      {
        stdio: "ignore",
      },
    );
    const held = heldOutTranscripts();
    expect(held).toHaveLength(112);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { trainingPrompts: number };
    expect(report.trainingPrompts).toBeGreaterThan(380);
    for (const file of ["train.txt", "tune-train.txt", "dev-generated.txt", "dev-prompts.txt"]) {
      const lines = readFileSync(join(out, file), "utf8").split("\n").filter(Boolean);
      expect(lines.length, file).toBeGreaterThan(50);
      for (const line of lines)
        for (const h of held) {
          const inside = h.includes(" ") && ` ${line} `.includes(` ${h} `);
          if (line === h || inside)
            throw new Error(`${file}: ${JSON.stringify(line)} holds the held-out ${JSON.stringify(h)}`);
        }
    }
    // The training prompts are there: a prompt that is not held out is LM text.
    const train = readFileSync(join(out, "train.txt"), "utf8");
    expect(train).toContain("\nthe person at extension\n");
  });
});
