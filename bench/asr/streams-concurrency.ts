/**
 * Concurrent real-time streams through the real ASR server:
 *   npx tsx bench/asr/streams-concurrency.ts [--seconds 20] [--levels 1,16,64,128,256,384,512,768,1024]
 *     [--precision int8|fp32] [--max-batch 32] [--chunk-ms 240] [--heap-setting on|off]
 *     [--decoder lm|greedy|beam] [--beam-width n]
 * --decoder sets the server's ASR_DECODER (unset: the server's default, lm when the model has an LM).
 * Starts services/asr/src/main.ts as a child process, then for each N runs streams-load.ts (a separate
 * process) with N streams of real recorded speech at real-time pace, and measures partial-result
 * latency (see BENCHMARKS.md for the definition), CPU seconds per audio second from /proc/<pid>/stat,
 * and the server's peak RSS. Stops after the first N that does not hold: p95 partial latency over 300 ms,
 * an error, or fewer than 95 % of the partials per stream of the first level of at least 16 streams (a
 * server that falls behind skips partials, which would otherwise flatter its latency; a single stream's
 * count depends on which prompts it plays, so a level of one stream is no reference).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { LoadReport } from "./streams-load.ts";
import { repoRoot } from "./streams-speech.ts";
import { ASR_NODE_FLAGS } from "../../services/asr/src/node-flags.ts";

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const pageBytes = 4096;

function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

function rssBytes(pid: number): number {
  const statm = readFileSync(`/proc/${pid}/statm`, "utf8").split(" ");
  return Number(statm[1]) * pageBytes;
}

async function startServer(
  env: Record<string, string>,
  nodeFlags: readonly string[],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, "--import", "tsx", join(repoRoot, "services/asr/src/main.ts")],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited with ${code} before it was ready`)));
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; grpcPort?: number; level?: number };
        if (entry.msg === "asr service ready") resolve(entry.grpcPort!);
        else if ((entry.level ?? 0) >= 40) process.stderr.write(`server: ${line}\n`);
      } catch {
        process.stderr.write(`server: ${line}\n`);
      }
    });
  });
  return { child, port };
}

function runLoad(port: number, streams: number, seconds: number): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(repoRoot, "bench/asr/streams-load.ts"),
        "--port",
        String(port),
        "--streams",
        String(streams),
        "--seconds",
        String(seconds),
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split("\n").at(-1)!) as LoadReport);
      else reject(new Error(`load generator exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "20" },
      levels: { type: "string", default: "1,16,64,128,256,384,512,768,1024" },
      precision: { type: "string" },
      "max-batch": { type: "string", default: "32" },
      "chunk-ms": { type: "string", default: "240" },
      "max-wait-ms": { type: "string", default: "10" },
      // "off" starts the server without its heap setting (services/asr/src/node-flags.ts), to compare.
      "heap-setting": { type: "string", default: "on" },
      decoder: { type: "string" },
      "beam-width": { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const levels = values.levels.split(",").map(Number);
  const env: Record<string, string> = {
    ASR_GRPC_PORT: "0",
    ASR_OPS_PORT: "0",
    ASR_WORKER: "false",
    ASR_MAX_STREAMS: String(Math.max(...levels) + 16),
    ASR_MAX_BATCH: values["max-batch"],
    ASR_MAX_WAIT_MS: values["max-wait-ms"],
    ASR_CHUNK_MS: values["chunk-ms"],
    LOG_LEVEL: "info",
  };
  if (values.precision) env.ASR_PRECISION = values.precision;
  if (values.decoder) env.ASR_DECODER = values.decoder;
  if (values["beam-width"]) env.ASR_BEAM_WIDTH = values["beam-width"];

  console.log(`# ASR streams concurrency, ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
  );
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `server env: ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  );
  const nodeFlags = values["heap-setting"] === "off" ? [] : ASR_NODE_FLAGS;
  console.log(`server node flags: ${nodeFlags.join(" ") || "none"}`);
  console.log(`${seconds} s of audio per stream, 20 ms chunks at real-time pace\n`);
  const { child, port } = await startServer(env, nodeFlags);
  const pid = child.pid!;
  const rows: string[] = [];
  const header =
    "| N | partials | p50 ms | p95 ms | p99 ms | max ms | finals | finish lag p95 ms | CPU s / audio s | server RSS MiB | send lag p99 ms | errors | load avg |";
  rows.push(header, "|" + "---|".repeat(13));
  console.log(rows.join("\n"));
  let best = 0;
  /** Partials per stream at the first level of 16 or more: what streams get when the server keeps up. */
  let partialsPerStream: number | null = null;
  try {
    // Warm-up: the first forward passes allocate onnxruntime's arenas.
    await runLoad(port, 4, 5);
    for (const n of levels) {
      const cpuBefore = cpuSeconds(pid);
      let peakRss = rssBytes(pid);
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid))), 250);
      const report = await runLoad(port, n, seconds);
      clearInterval(sampler);
      const cpu = cpuSeconds(pid) - cpuBefore;
      const errors =
        Object.entries(report.errors)
          .map(([k, v]) => `${k}:${v}`)
          .join(" ") || "-";
      const l = report.partialLatencyMs;
      const row = `| ${n} | ${report.partials} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.max} | ${report.finals} | ${report.finishLagMs.p95} | ${(cpu / report.audioSeconds).toFixed(4)} | ${(peakRss / 2 ** 20).toFixed(0)} | ${report.sendLagMs.p99} | ${errors} | ${loadavg()[0]!.toFixed(2)} |`;
      rows.push(row);
      console.log(row);
      if (n >= 16) partialsPerStream ??= report.partials / n;
      const delivered = partialsPerStream === null || report.partials >= 0.95 * partialsPerStream * n;
      const ok = report.partials > 0 && delivered && l.p95 < 300 && Object.keys(report.errors).length === 0;
      if (!delivered)
        console.log(
          `N ${n}: ${(report.partials / n).toFixed(1)} partials per stream, under 95 % of the ${partialsPerStream!.toFixed(1)} at the first level of 16 or more`,
        );
      if (ok) best = n;
      else break;
    }
  } finally {
    child.kill("SIGTERM");
  }
  console.log(
    `\nlargest N with p95 partial latency < 300 ms, every stream's partials and no errors: ${best}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
