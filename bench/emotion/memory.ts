/**
 * Memory of the emotion service over audio length and request count: starts services/emotion as its
 * own process, streams a 1-minute and a 60-minute call (built on the fly from real Asterisk prompts,
 * sent in 100 ms chunks, never held whole) through StreamingClassify, then sends 1,000 consecutive
 * Classify requests, and prints the server's RSS curve.
 *
 *   npx tsx bench/emotion/memory.ts [--model models/emotion-prosody] [--long-minutes 60]
 */
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { parseWav } from "@callscribe/audio";
import { emotionProto, type EmotionClassifierClient, type EmotionResult__Output } from "@callscribe/proto";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/emotion-prosody" },
    "long-minutes": { type: "string", default: "60" },
    requests: { type: "string", default: "1000" },
  },
});

const RATE = 8000;
const CHUNK = RATE / 10; // 100 ms

/** Real prompts of one speaker at 8 kHz, with a pause after each; the call cycles through them. */
function loadPrompts(): Int16Array[] {
  const dir = "/usr/share/asterisk/sounds/en_US_f_Allison";
  return readdirSync(dir)
    .filter((f) => f.endsWith(".wav"))
    .sort()
    .slice(0, 40)
    .map((f) => parseWav(readFileSync(join(dir, f))))
    .filter((w) => w.sampleRate === RATE && w.samples[0]!.length > RATE)
    .map((w) => w.samples[0]!);
}

/** 100 ms chunks of a call of `seconds`: prompts with 0.4-1.2 s pauses, the louder every third turn. */
function* callChunks(prompts: Int16Array[], seconds: number): Generator<Buffer> {
  const total = seconds * RATE;
  const chunk = new Int16Array(CHUNK);
  let filled = 0;
  let sent = 0;
  let turn = 0;
  const put = function* (sample: number) {
    chunk[filled++] = sample;
    if (filled === CHUNK) {
      filled = 0;
      sent += CHUNK;
      yield Buffer.from(chunk.buffer.slice(0));
    }
  };
  while (sent < total) {
    const prompt = prompts[turn % prompts.length]!;
    const gain = turn % 3 === 2 ? 1.8 : 1;
    for (let i = 0; i < prompt.length && sent < total; i++)
      yield* put(Math.max(-32768, Math.min(32767, prompt[i]! * gain)));
    const pause = Math.round(RATE * (0.4 + ((turn * 7) % 9) / 10));
    for (let i = 0; i < pause && sent < total; i++) yield* put(0);
    turn++;
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function stream(
  client: EmotionClassifierClient,
  chunks: Iterable<Buffer>,
  onAudioS: (s: number) => void,
) {
  const call = client.StreamingClassify();
  const results: EmotionResult__Output[] = [];
  const done = new Promise<grpc.StatusObject>((resolve) => {
    call.on("data", (r: EmotionResult__Output) => results.push(r));
    call.on("error", () => {});
    call.on("status", resolve);
  });
  call.write({ format: { encoding: "LINEAR16", sampleRateHz: RATE } });
  let samples = 0;
  for (const audio of chunks) {
    samples += audio.length / 2;
    onAudioS(samples / RATE);
    if (!call.write({ audio })) await new Promise<void>((resolve) => call.once("drain", resolve));
  }
  call.end();
  const status = await done;
  if (status.code !== grpc.status.OK) throw new Error(`stream failed: ${status.details}`);
  return results;
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "services/emotion/src/main.ts")], {
    cwd: repoRoot,
    env: {
      ...process.env,
      EMOTION_MODEL_DIR: values.model,
      EMOTION_GRPC_PORT: "0",
      EMOTION_OPS_PORT: "0",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const match = /"grpcPort":(\d+)/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`service exited ${code}`)));
  });
  const pid = child.pid!;
  const client = new (emotionProto().EmotionClassifier)(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  const prompts = loadPrompts();
  console.log(`service pid ${pid}, model ${values.model}, RSS at start ${rssMb(pid).toFixed(1)} MB`);

  const phase = async (name: string, seconds: number, everyS: number) => {
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
    let nextMark = 0;
    const curve: string[] = [];
    const started = performance.now();
    const results = await stream(client, callChunks(prompts, seconds), (s) => {
      if (s >= nextMark) {
        curve.push(`${(s / 60).toFixed(1).padStart(5)} min ${rssMb(pid).toFixed(1).padStart(6)} MB`);
        nextMark += everyS;
      }
    });
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pid));
    const wall = (performance.now() - started) / 1000;
    console.log(
      `\n${name}: ${results.length} segments, ${wall.toFixed(1)} s wall; RSS curve (audio sent → server RSS):`,
    );
    for (const line of curve) console.log(`  ${line}`);
    console.log(`  peak RSS ${peak.toFixed(1)} MB`);
    return peak;
  };

  const shortPeak = await phase("1-minute call", 60, 10);
  const longPeak = await phase(
    `${values["long-minutes"]}-minute call`,
    Number(values["long-minutes"]) * 60,
    300,
  );

  const requests = Number(values.requests);
  console.log(`\n${requests} consecutive Classify requests (one prompt each); server RSS:`);
  const after: number[] = [];
  for (let i = 0; i < requests; i++) {
    const prompt = prompts[i % prompts.length]!;
    await new Promise<void>((resolve, reject) =>
      client.Classify(
        {
          format: { encoding: "LINEAR16", sampleRateHz: RATE },
          audio: Buffer.from(prompt.buffer, prompt.byteOffset, prompt.byteLength),
        },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    if ((i + 1) % 100 === 0) {
      after.push(rssMb(pid));
      console.log(`  after ${String(i + 1).padStart(5)}: ${after.at(-1)!.toFixed(1)} MB`);
    }
  }
  client.close();
  child.kill("SIGTERM");

  console.log("\n| goal | measured | met |");
  console.log("| --- | --- | --- |");
  const longMin = values["long-minutes"];
  console.log(
    `| peak RSS, ${longMin}-min call within 50 MB of 1-min call | ${shortPeak.toFixed(1)} MB → ${longPeak.toFixed(1)} MB (${(longPeak - shortPeak).toFixed(1)} MB) | ${longPeak - shortPeak <= 50 ? "yes" : "no"} |`,
  );
  const growth = after.at(-1)! - after[0]!;
  console.log(
    `| no RSS growth over ${requests} requests | ${after[0]!.toFixed(1)} MB after 100 → ${after.at(-1)!.toFixed(1)} MB after ${requests} (${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MB) | ${growth <= 5 ? "yes" : "no"} |`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
