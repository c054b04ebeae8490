/**
 * Transcribes WAV recordings with the same engine as the service:
 *   npx tsx services/asr/src/cli/transcribe.ts <file-or-folder>... [--format json|text] [--out dir]
 *     [--precision int8|fp32] [--model-dir dir] [--jobs n]
 *     [--decoder greedy|beam|lm] [--lm-weight w] [--word-bonus b] [--beam-width n]
 *     [--oov-policy refuse|allow] [--oov-penalty p]
 * The decoder flags stand for ASR_DECODER, ASR_LM_WEIGHT, ASR_WORD_BONUS, ASR_BEAM_WIDTH, ASR_OOV_POLICY and
 * ASR_OOV_PENALTY; without them the service's defaults apply (the LM search when the model has an LM).
 * Mono files give one leg ("mono"); stereo files give the caller (channel 0) and the agent (channel 1).
 * Output goes to stdout (JSON: one document per line) or to one file per recording under --out.
 * Exits 1 when any file could not be transcribed (after doing the others), 2 on a usage error.
 */
import { readdir, readFile, mkdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AudioFormatError, float32ToPcm16, parseWav, resample } from "@callscribe/audio";
import { ConfigError } from "@callscribe/config";
import { createLogger } from "@callscribe/runtime";
import { loadRecognizer } from "../asr.ts";
import { loadConfigWith } from "../config.ts";
import type { RecognizerEngine } from "../engine/index.ts";
import { formatText, legNamesByChannelCount, toUtterances, type FileTranscript } from "./format.ts";
import { ProgressReporter } from "./progress.ts";

const usage = `usage: transcribe <file-or-folder>... [--format json|text] [--out dir] [--precision int8|fp32] [--model-dir dir] [--jobs n]
    [--decoder greedy|beam|lm] [--lm-weight w] [--word-bonus b] [--beam-width n] [--oov-policy refuse|allow] [--oov-penalty p]
  (the decoder flags set ASR_DECODER, ASR_LM_WEIGHT, ASR_WORD_BONUS, ASR_BEAM_WIDTH, ASR_OOV_POLICY, ASR_OOV_PENALTY)`;

/** Decoder flags and the variables they set. */
const decoderFlags = {
  decoder: "ASR_DECODER",
  "lm-weight": "ASR_LM_WEIGHT",
  "word-bonus": "ASR_WORD_BONUS",
  "beam-width": "ASR_BEAM_WIDTH",
  "oov-policy": "ASR_OOV_POLICY",
  "oov-penalty": "ASR_OOV_PENALTY",
} as const;

class UsageError extends Error {
  override readonly name = "UsageError";
}

interface Job {
  path: string;
  /** Path shown and used under --out: relative to the folder it was found in. */
  name: string;
}

async function collectJobs(
  inputs: string[],
): Promise<{ jobs: Job[]; missing: { file: string; error: string }[] }> {
  const jobs: Job[] = [];
  const missing: { file: string; error: string }[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) {
      missing.push({ file: input, error: "no such file or folder" });
    } else if (info.isDirectory()) {
      const root = resolve(input);
      for (const path of await walkWavFiles(root))
        jobs.push({ path, name: join(basename(root), relative(root, path)) });
    } else {
      jobs.push({ path: resolve(input), name: basename(input) });
    }
  }
  return { jobs, missing };
}

async function walkWavFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walkWavFiles(path)));
    else if (entry.isFile() && /\.wav$/i.test(entry.name)) found.push(path);
  }
  return found;
}

async function transcribeFile(engine: RecognizerEngine, job: Job): Promise<FileTranscript> {
  const bytes = await readFile(job.path);
  let wav;
  try {
    wav = parseWav(bytes);
  } catch (err) {
    if (err instanceof AudioFormatError)
      throw new Error(`not a usable WAV file (${err.reason}): ${err.message}`);
    throw err;
  }
  const legNames = legNamesByChannelCount[wav.channels];
  if (!legNames)
    throw new Error(
      `has ${wav.channels} channels; transcribe takes mono or stereo (caller left, agent right)`,
    );
  // Engine rates are 8 and 16 kHz; anything else is resampled to the model's own rate first.
  const native = wav.sampleRate === 8000 || wav.sampleRate === 16000;
  const sampleRate: 8000 | 16000 = native
    ? (wav.sampleRate as 8000 | 16000)
    : engine.model.sampleRate === 16000
      ? 16000
      : 8000;
  const legs = await Promise.all(
    wav.samples.map(async (channel, index) => {
      const pcm = native ? channel : float32ToPcm16(resample(channel, wav.sampleRate, sampleRate));
      const events = await engine.recognize(pcm, { sampleRate });
      return { leg: legNames[index]!, channel: index, utterances: toUtterances(events) };
    }),
  );
  const m = engine.model;
  return {
    file: job.name,
    durationMs: Math.round(((wav.samples[0]?.length ?? 0) / wav.sampleRate) * 1000),
    sampleRate: wav.sampleRate,
    channels: wav.channels,
    model: { name: m.name, version: m.version, precision: m.precision },
    legs,
  };
}

/** Runs at most `n` of the given tasks at a time. */
function limitConcurrency(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      format: { type: "string", default: "text" },
      out: { type: "string" },
      precision: { type: "string" },
      "model-dir": { type: "string" },
      jobs: { type: "string", default: "4" },
      decoder: { type: "string" },
      "lm-weight": { type: "string" },
      "word-bonus": { type: "string" },
      "beam-width": { type: "string" },
      "oov-policy": { type: "string" },
      "oov-penalty": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const format = values.format;
  if (format !== "json" && format !== "text")
    throw new UsageError(`--format must be json or text, not "${format}"`);
  if (positionals.length === 0) throw new UsageError("name at least one WAV file or folder");
  const parallel = Number(values.jobs);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64)
    throw new UsageError("--jobs must be a whole number from 1 to 64");

  const overrides: Record<string, string> = { ASR_WORKER: "false" };
  if (values["model-dir"] !== undefined) overrides.ASR_MODEL_DIR = resolve(values["model-dir"]);
  if (values.precision !== undefined) overrides.ASR_PRECISION = values.precision;
  for (const [flag, variable] of Object.entries(decoderFlags)) {
    const value = values[flag as keyof typeof decoderFlags];
    if (value !== undefined) overrides[variable] = value;
  }
  const config = loadConfigWith(overrides);
  const logger = createLogger({ service: "transcribe", level: "warn", destination: process.stderr });

  const { jobs, missing } = await collectJobs(positionals);
  const failures = [...missing];
  for (const m of missing) process.stderr.write(`${m.file}: ${m.error}\n`);
  if (jobs.length === 0) {
    process.stderr.write("no WAV files found\n");
    return 1;
  }

  const recognizer = await loadRecognizer(config, { logger });
  const progress = new ProgressReporter(jobs.length);
  if (values.out !== undefined) await mkdir(values.out, { recursive: true });
  const emit = async (transcript: FileTranscript) => {
    const body = format === "json" ? JSON.stringify(transcript) : formatText(transcript);
    if (values.out !== undefined) {
      const target = join(
        values.out,
        transcript.file.replace(/\.wav$/i, "") + (format === "json" ? ".json" : ".txt"),
      );
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, format === "json" ? `${JSON.stringify(transcript, null, 2)}\n` : body);
    } else if (format === "json") {
      process.stdout.write(`${body}\n`);
    } else {
      process.stdout.write(`# ${transcript.file}\n${body}`);
    }
  };
  try {
    // A few files at once so their legs share the engine's batches; results are written in order.
    const inSlot = limitConcurrency(parallel);
    const results = jobs.map((job) =>
      inSlot(() => transcribeFile(recognizer.engine, job)).then(
        (transcript) => {
          progress.fileDone(job.name, transcript.durationMs);
          return transcript;
        },
        (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          progress.fileDone(job.name, 0, error.message);
          return error;
        },
      ),
    );
    for (const [i, result] of results.entries()) {
      const settled = await result;
      if (settled instanceof Error) failures.push({ file: jobs[i]!.name, error: settled.message });
      else await emit(settled);
    }
  } finally {
    progress.finish();
    await recognizer.close();
  }
  if (failures.length > 0) {
    process.stderr.write(`${failures.length} of ${jobs.length + missing.length} inputs failed:\n`);
    for (const f of failures) process.stderr.write(`  ${f.file}: ${f.error}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`transcribe: ${err.message}\n${usage}\n`);
      process.exitCode = 2;
    } else if (err instanceof ConfigError) {
      process.stderr.write(`transcribe: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`transcribe: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
