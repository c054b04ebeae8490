/** Shared by the engine benchmarks: real recorded speech, stream driving, machine description. */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { readWavFile } from "@callscribe/audio";
import * as ort from "onnxruntime-node";
import type { Recognizer } from "../../services/asr/src/engine/engine.ts";
import { loadAsrModel, loadVad } from "../../services/asr/src/engine/index.ts";
import type { SileroVad } from "../../services/asr/src/engine/vad/silero.ts";
import type { AcousticModel } from "../../services/asr/src/engine/model/acoustic-model.ts";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const modelDir = join(repoRoot, "models/asr-en-telephony");
export const logger = pino({ level: "warn" });

/**
 * The held-out real Asterisk prompts (never trained on), one stream each: stream i plays prompts i, i+1, …
 * with 0.4 s of silence between them until it has `seconds` of audio.
 */
export async function heldOutStreams(count: number, seconds: number): Promise<Int16Array[]> {
  const names = readFileSync(join(repoRoot, "models/recipes/asr/heldout_real.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const prompts: Int16Array[] = [];
  for (const name of names) {
    const wav = await readWavFile(`/usr/share/asterisk/sounds/en/${name}.wav`);
    if (wav.sampleRate === 8000) prompts.push(wav.samples[0]!);
  }
  const gap = new Int16Array(3200);
  return Array.from({ length: count }, (_, i) => {
    const parts: Int16Array[] = [];
    let total = 0;
    for (let k = 0; total < seconds * 8000; k++) {
      const prompt = prompts[(i * 7 + k) % prompts.length]!;
      parts.push(prompt, gap);
      total += prompt.length + gap.length;
    }
    const out = new Int16Array(seconds * 8000);
    let at = 0;
    for (const p of parts) {
      const n = Math.min(p.length, out.length - at);
      out.set(p.subarray(0, n), at);
      at += n;
      if (at >= out.length) break;
    }
    return out;
  });
}

/**
 * Streams every signal through the engine as a saturating streaming client would: each stream sends one
 * chunk (chunkMs) of audio, then waits until the model has answered for it: until less than a chunk plus one
 * VAD window (64 ms) of its audio is waiting. (A stream always holds up to a chunk less one frame that is
 * not sent yet, since a chunk goes to the model only when full, plus the part of a VAD window not yet run.)
 * Every request then carries about one chunk of new audio whatever the batch size, so batcher settings
 * are compared on the same work, and every stream always has a chunk pending or in flight.
 */
export async function driveStreams(
  engine: Recognizer,
  signals: Int16Array[],
  chunkMs: number,
): Promise<{ wallMs: number; partials: number; finals: number }> {
  let partials = 0;
  let finals = 0;
  const started = performance.now();
  await Promise.all(
    signals.map(async (pcm) => {
      const stream = engine.openStream({ sampleRate: 8000, interimResults: true });
      stream.onEvent((e) => {
        if (e.kind === "partial") partials++;
        else finals++;
      });
      const step = (8000 * chunkMs) / 1000;
      for (let offset = 0; offset < pcm.length; offset += step) {
        stream.pushAudio(pcm.subarray(offset, offset + step));
        await stream.whenBacklogBelow(chunkMs + 64);
      }
      await stream.finish();
    }),
  );
  return { wallMs: performance.now() - started, partials, finals };
}

/**
 * driveStreams, with how busy the event loop was (share of the wall time) and how many cores the whole
 * process kept busy (event loop, inference thread and onnxruntime's threads together).
 */
export async function driveStreamsMeasured(
  engine: Recognizer,
  signals: Int16Array[],
  chunkMs: number,
): Promise<{ wallMs: number; partials: number; finals: number; eventLoop: number; cores: number }> {
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const run = await driveStreams(engine, signals, chunkMs);
  const eventLoop = performance.eventLoopUtilization(loop).utilization;
  const { user, system } = process.cpuUsage(cpu);
  return { ...run, eventLoop, cores: (user + system) / 1000 / run.wallMs };
}

/** A ratio per round as a table cell: the median, then each round's. */
export function ratioCell(ratios: number[]): string {
  return `${median(ratios).toFixed(2)}x (${ratios.map((x) => x.toFixed(2)).join(" / ")})`;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const [one, five] = loadavg();
  return `${cpus().length} × ${cpu}; load average ${one!.toFixed(2)} (1 min) ${five!.toFixed(2)} (5 min); ${new Date().toISOString()}`;
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]): string => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(" | ")} |`;
  return [
    line(cells[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface PassShape {
  batch: number;
  frames: number;
  lengths: number[];
}

/**
 * session.run alone on the shapes the engine's passes had, in order: features in the model's usual range
 * and, for a cache-aware graph, zero states of the right batch size; nothing else. Returns wall ms.
 */
export async function replayPasses(model: AcousticModel, shapes: readonly PassShape[]): Promise<number> {
  const dim = model.spec.features.dim;
  const features = new Float32Array(Math.max(...shapes.map((x) => x.batch * x.frames)) * dim);
  for (let i = 0; i < features.length; i++)
    features[i] = -9.7 + 3.4 * Math.sin(i * 0.37) * Math.cos(i * 0.011);
  const largestBatch = Math.max(...shapes.map((x) => x.batch));
  const states = (model.spec.cacheAware?.states ?? []).map((st) => ({
    st,
    data:
      st.dtype === "int64"
        ? new BigInt64Array(largestBatch * st.itemSize)
        : new Float32Array(largestBatch * st.itemSize),
  }));
  const started = performance.now();
  for (const shape of shapes) {
    const feeds: Record<string, ort.Tensor> = {
      [model.spec.featureInput]: new ort.Tensor(
        "float32",
        features.subarray(0, shape.batch * dim * shape.frames),
        [shape.batch, dim, shape.frames],
      ),
      [model.spec.lengthInput]: new ort.Tensor("int64", BigInt64Array.from(shape.lengths.map(BigInt)), [
        shape.batch,
      ]),
    };
    for (const { st, data } of states) {
      const value = data.subarray(0, shape.batch * st.itemSize);
      feeds[st.input] =
        value instanceof BigInt64Array
          ? new ort.Tensor("int64", value, [shape.batch, ...st.itemShape])
          : new ort.Tensor("float32", value, [shape.batch, ...st.itemShape]);
    }
    await model.session.run(feeds);
  }
  return performance.now() - started;
}

/**
 * What the saturating-stream benchmarks share: `[streams=64] [secondsPerStream=10] [rounds=3]` from the
 * command line, the engine's chunk setting and the streams of held-out speech.
 */
export async function streamingBenchSetup(): Promise<{
  streams: number;
  seconds: number;
  rounds: number;
  chunkMs: number;
  signals: Int16Array[];
  audioSeconds: number;
}> {
  const streams = Number(process.argv[2] ?? 64);
  const seconds = Number(process.argv[3] ?? 10);
  const rounds = Number(process.argv[4] ?? 3);
  return {
    streams,
    seconds,
    rounds,
    chunkMs: 240,
    signals: await heldOutStreams(streams, seconds),
    audioSeconds: streams * seconds,
  };
}

/**
 * The committed model on the CPU at one precision (the engine's own class, for its batcher and session),
 * as the service runs it: on an inference thread of its own with one intra-op thread.
 */
export async function loadBenchModel(
  precision: "fp32" | "int8",
  placement: { inferenceThread?: false; intraOpThreads?: number; streamingChunkMs?: number[] } = {},
): Promise<AcousticModel> {
  return (await loadAsrModel({
    dir: modelDir,
    provider: "cpu",
    precision,
    logger,
    ...placement,
  })) as AcousticModel;
}

/** The Silero VAD as the service runs it: on the event loop's thread. */
export async function loadBenchVad(): Promise<SileroVad> {
  return (await loadVad({ provider: "cpu", logger })) as SileroVad;
}

/** Intra-op thread counts the bare replays try; the faster is the baseline. */
export const bareThreadCounts = [1, 2] as const;

/**
 * Bare onnxruntime: sessions on the calling thread (nothing crosses threads), one per intra-op thread
 * count in bareThreadCounts.
 */
export async function loadBareModels(precision: "fp32" | "int8"): Promise<AcousticModel[]> {
  const models: AcousticModel[] = [];
  for (const intraOpThreads of bareThreadCounts)
    models.push(await loadBenchModel(precision, { inferenceThread: false, intraOpThreads }));
  return models;
}

/** replayPasses on each bare model; the fastest wall time (ms) and the CPU ms of that replay. */
export async function replayBare(
  models: readonly AcousticModel[],
  shapes: readonly PassShape[],
): Promise<{ wall: number; cpu: number; threads: number }> {
  let best = { wall: Infinity, cpu: Infinity, threads: 0 };
  for (const [i, model] of models.entries()) {
    const cpu = process.cpuUsage();
    const wall = await replayPasses(model, shapes);
    const used = process.cpuUsage(cpu);
    if (wall < best.wall)
      best = { wall, cpu: (used.user + used.system) / 1000, threads: bareThreadCounts[i]! };
  }
  return best;
}
