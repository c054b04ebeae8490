import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { latencyBuckets } from "@callscribe/runtime";

/** The engine's metrics; registered only when a registry is passed in (tests run without one). */
export interface EngineMetrics {
  batchSize: Histogram;
  forwardSeconds: Histogram;
  queuedChunks: Gauge;
  openStreams: Gauge;
  vadBatchSize: Histogram;
  vadQuietWindows: Counter;
  refusedStreams: Counter<"reason">;
}

/** `queuedChunks` is read when the registry is scraped (the batcher's queue plus what streams hold back). */
export function createEngineMetrics(registry?: Registry, queuedChunks?: () => number): EngineMetrics {
  const registers = registry ? [registry] : [];
  return {
    batchSize: new Histogram({
      name: "asr_engine_batch_size",
      help: "Chunks per acoustic-model forward pass",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    forwardSeconds: new Histogram({
      name: "asr_engine_forward_seconds",
      help: "Wall time of one acoustic-model forward pass",
      buckets: latencyBuckets,
      registers,
    }),
    queuedChunks: new Gauge({
      name: "asr_engine_queued_chunks",
      help: "Chunks of audio waiting for the acoustic model, all streams together",
      registers,
      collect() {
        if (queuedChunks) this.set(queuedChunks());
      },
    }),
    openStreams: new Gauge({ name: "asr_engine_open_streams", help: "Recognition streams open", registers }),
    vadBatchSize: new Histogram({
      name: "asr_engine_vad_batch_size",
      help: "VAD windows per Silero forward pass",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    }),
    vadQuietWindows: new Counter({
      name: "asr_engine_vad_quiet_windows_total",
      help: "VAD windows below the energy floor, answered without a Silero pass",
      registers,
    }),
    refusedStreams: new Counter({
      name: "asr_engine_refused_streams_total",
      help: "Streams refused with RESOURCE_EXHAUSTED",
      labelNames: ["reason"],
      registers,
    }),
  };
}
