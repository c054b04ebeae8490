import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeWav } from "@callscribe/audio";
import { beforeAll, describe, expect, it } from "vitest";
import type { FileTranscript } from "../../../services/asr/src/cli/format.ts";
import {
  concatPcm,
  heldOutPrompts,
  repoRoot,
  silence,
  expectRecognised,
  promptsWithSpeech,
  type Prompt,
} from "./support.ts";

const cli = join(repoRoot, "services/asr/src/cli/transcribe.ts");
const tsx = join(repoRoot, "node_modules/.bin/tsx");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // The CLI's defaults: the committed model, whatever the test's environment says.
    const { ASR_MODEL_DIR: _modelDir, ASR_PRECISION: _precision, ...env } = process.env;
    const child = spawn(tsx, [cli, ...args], { cwd: repoRoot, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let caller: Prompt;
let agent: Prompt;

beforeAll(() => {
  // The CLI's default precision: int8 (the committed model ships it).
  const speaking = promptsWithSpeech(heldOutPrompts(), "int8");
  caller = speaking[0]!;
  agent = speaking[1] ?? speaking[0]!;
  dir = mkdtempSync(join(tmpdir(), "asr-transcribe-"));
  // A call recording: the caller speaks first on the left, the agent answers on the right.
  const left = concatPcm([silence(200), caller.pcm, silence(600 + agent.pcm.length / 8 + 600)]);
  const right = concatPcm([silence(200 + caller.pcm.length / 8 + 600), agent.pcm, silence(600)]);
  const length = Math.max(left.length, right.length);
  const pad = (pcm: Int16Array) => concatPcm([pcm, new Int16Array(length - pcm.length)]);
  mkdirSync(join(dir, "calls/sub"), { recursive: true });
  writeFileSync(join(dir, "calls/stereo.wav"), encodeWav([pad(left), pad(right)], 8000));
  writeFileSync(join(dir, "calls/sub/broken.wav"), Buffer.from("RIFF\x24\x00\x00\x00WAVEfmt oops"));
});

describe("transcribe CLI", () => {
  it("transcribes a stereo recording as two legs and reports a bad file with a non-zero exit", async () => {
    const { code, stdout, stderr } = await run([
      join(dir, "calls/stereo.wav"),
      join(dir, "calls/sub/broken.wav"),
      join(dir, "missing.wav"),
      "--format",
      "json",
      // Greedy, as the reference the legs are checked against (modelSays: sherpa-onnx greedy search).
      "--decoder",
      "greedy",
    ]);
    expect(code).toBe(1);
    const documents = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as FileTranscript);
    expect(documents).toHaveLength(1);
    const transcript = documents[0]!;
    expect(transcript).toMatchObject({ file: "stereo.wav", channels: 2, sampleRate: 8000 });
    expect(transcript.legs.map((l) => [l.leg, l.channel])).toEqual([
      ["caller", 0],
      ["agent", 1],
    ]);
    const text = (leg: number) => transcript.legs[leg]!.utterances.map((u) => u.text).join(" ");
    expectRecognised(text(0), [caller], transcript.model.precision as "fp32" | "int8");
    expectRecognised(text(1), [agent], transcript.model.precision as "fp32" | "int8");
    expect(transcript.legs[0]!.utterances[0]!.words.length).toBeGreaterThan(0);
    // The agent answers after the caller has finished.
    expect(transcript.legs[1]!.utterances[0]!.startMs).toBeGreaterThan(
      transcript.legs[0]!.utterances[0]!.endMs,
    );

    expect(stderr).toMatch(/broken\.wav: not a usable WAV file/);
    expect(stderr).toMatch(/missing\.wav: no such file or folder/);
    expect(stderr).toMatch(/2 of 3 inputs failed/);
  });

  it("walks a folder and writes text transcripts under --out", async () => {
    const out = join(dir, "out");
    const { code, stderr } = await run([join(dir, "calls"), "--format", "text", "--out", out]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/1 of 2 inputs failed/);
    const text = readFileSync(join(out, "calls/stereo.txt"), "utf8");
    const lines = text.trim().split("\n");
    expect(lines[0]).toMatch(/^\[\d\d:\d\d\.\d\d-\d\d:\d\d\.\d\d\] caller: \S/);
    expect(lines.at(-1)).toMatch(/^\[\d\d:\d\d\.\d\d-\d\d:\d\d\.\d\d\] agent: \S/);
  });

  it("exits with a usage message for a bad flag", async () => {
    const { code, stderr } = await run(["--format", "xml", join(dir, "calls")]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--format must be json or text/);
  });
});
