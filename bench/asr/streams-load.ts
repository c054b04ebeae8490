/**
 * Load generator for streams-concurrency.ts (run as its own process so its CPU is not the server's):
 *   node --import tsx bench/asr/streams-load.ts --port P --streams N --seconds S
 * Opens N StreamingRecognize calls, each sending 20 ms LINEAR16 chunks of real recorded speech at
 * real-time pace (starts spread over one second), and prints one JSON line of measurements.
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { pcm16ToBytes } from "@callscribe/audio";
import { asrProto, type RecognizerClient, type StreamingRecognizeResponse__Output } from "@callscribe/proto";
import { heldOutRecordings, percentile, speechTrack } from "./streams-speech.ts";

const chunkMs = 20;
const samplesPerChunk = 160;
const streamsPerChannel = 64;

export interface LoadReport {
  streams: number;
  seconds: number;
  partials: number;
  partialLatencyMs: { p50: number; p95: number; p99: number; max: number };
  finals: number;
  /** Time from the last chunk sent to end_of_stream. */
  finishLagMs: { p50: number; p95: number };
  /** How late chunks left the generator against their real-time schedule (generator overload). */
  sendLagMs: { p50: number; p99: number };
  errors: Record<string, number>;
  audioSeconds: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      streams: { type: "string", default: "1" },
      seconds: { type: "string", default: "20" },
    },
  });
  const streams = Number(values.streams);
  const seconds = Number(values.seconds);
  const track = speechTrack(heldOutRecordings(), Math.max(60, seconds * 2));
  const chunksPerStream = Math.floor((seconds * 1000) / chunkMs);
  const trackChunks = Math.floor(track.length / samplesPerChunk);
  const chunks: Buffer[] = [];
  for (let k = 0; k < trackChunks; k++) {
    chunks.push(Buffer.from(pcm16ToBytes(track.subarray(k * samplesPerChunk, (k + 1) * samplesPerChunk))));
  }

  const Recognizer = asrProto().Recognizer;
  const clients: RecognizerClient[] = [];
  for (let i = 0; i < Math.ceil(streams / streamsPerChannel); i++) {
    // A channel each: separate HTTP/2 connections, as separate client machines would have.
    clients.push(
      new Recognizer(`127.0.0.1:${values.port}`, grpc.credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
      }),
    );
  }

  const latencies: number[] = [];
  const finishLags: number[] = [];
  const sendLags: number[] = [];
  const errors: Record<string, number> = {};
  let finals = 0;
  const t0 = performance.now() + 200;

  const runs = Array.from({ length: streams }, (_, i) => {
    const start = t0 + (i * 1000) / streams;
    const offset = (i * 397) % trackChunks;
    const sentAt = new Float64Array(chunksPerStream);
    const call = clients[Math.floor(i / streamsPerChannel)]!.StreamingRecognize();
    let lastSentAt = 0;
    const done = new Promise<void>((resolve) => {
      call.on("data", (response: StreamingRecognizeResponse__Output) => {
        const now = performance.now();
        if (response.endOfStream) finishLags.push(now - lastSentAt);
        for (const result of response.results) {
          if (result.isFinal) {
            finals++;
            continue;
          }
          // The chunk whose arrival completed the audio this partial covers.
          const k = Math.min(chunksPerStream - 1, Math.max(0, Math.ceil(result.endMs / chunkMs) - 1));
          if (sentAt[k]! > 0) latencies.push(now - sentAt[k]!);
        }
      });
      call.on("error", () => undefined);
      call.on("status", (status: grpc.StatusObject) => {
        if (status.code !== grpc.status.OK) {
          const name = grpc.status[status.code] ?? String(status.code);
          errors[name] = (errors[name] ?? 0) + 1;
        }
        resolve();
      });
    });
    return {
      start,
      offset,
      sentAt,
      call,
      next: 0,
      done,
      setLast: (t: number) => (lastSentAt = t),
      configured: false,
    };
  });

  // One pacing loop for all streams: each chunk leaves when its real-time moment has come.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      let pending = 0;
      for (const run of runs) {
        if (run.next >= chunksPerStream) continue;
        pending++;
        if (now < run.start) continue;
        if (!run.configured) {
          run.call.write({ config: { encoding: "LINEAR16", sampleRateHz: 8000, interimResults: true } });
          run.configured = true;
        }
        while (run.next < chunksPerStream && run.start + run.next * chunkMs <= now) {
          const scheduled = run.start + run.next * chunkMs;
          run.call.write({ audio: chunks[(run.offset + run.next) % trackChunks]! });
          const sent = performance.now();
          // Audio of chunk k ends at (k + 1) * 20 ms: it can be sent at that moment at the earliest.
          run.sentAt[run.next] = sent;
          sendLags.push(sent - scheduled);
          run.next++;
          if (run.next === chunksPerStream) {
            run.setLast(sent);
            run.call.end();
          }
        }
      }
      if (pending === 0) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  await Promise.all(runs.map((r) => r.done));
  for (const client of clients) client.close();

  latencies.sort((a, b) => a - b);
  finishLags.sort((a, b) => a - b);
  sendLags.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  const report: LoadReport = {
    streams,
    seconds,
    partials: latencies.length,
    partialLatencyMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? Number.NaN),
    },
    finals,
    finishLagMs: { p50: round(percentile(finishLags, 50)), p95: round(percentile(finishLags, 95)) },
    sendLagMs: { p50: round(percentile(sendLags, 50)), p99: round(percentile(sendLags, 99)) },
    errors,
    audioSeconds: streams * chunksPerStream * (chunkMs / 1000),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
