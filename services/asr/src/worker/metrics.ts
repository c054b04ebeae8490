import { Counter, Gauge, type Registry } from "prom-client";

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export function createWorkerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    activeCalls: new Gauge({ name: "asr_worker_active_calls", help: "Calls this replica holds", registers }),
    calls: new Counter({
      name: "asr_worker_calls_total",
      help: "Calls handled by outcome: done, handed-back, lost-claim, failed, busy (left for another replica)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    takeovers: new Counter({
      name: "asr_worker_takeovers_total",
      help: "Calls claimed after another replica had them (redelivered call.started)",
      registers,
    }),
    frameGaps: new Counter({
      name: "asr_worker_frame_gaps_total",
      help: "Missing audio frames: sequence numbers skipped within a leg",
      registers,
    }),
    duplicateFrames: new Counter({
      name: "asr_worker_duplicate_frames_total",
      help: "Audio frames whose sequence number was already processed",
      registers,
    }),
    badFrames: new Counter({
      name: "asr_worker_bad_frames_total",
      help: "Audio frames skipped because their headers or payload were unusable",
      registers,
    }),
    audioSeconds: new Counter({
      name: "asr_worker_audio_seconds_total",
      help: "Seconds of call audio recognised",
      registers,
    }),
    utterances: new Counter({
      name: "asr_worker_utterances_total",
      help: "Final utterances published to RESULTS, by whether JetStream had the message id already",
      labelNames: ["duplicate"] as const,
      registers,
    }),
  };
}
