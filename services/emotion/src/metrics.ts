import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { latencyBuckets } from "@callscribe/runtime";

export function createEmotionMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: "emotion_requests_total",
      help: "Finished requests by method and gRPC status",
      labelNames: ["method", "code"] as const,
      registers: [registry],
    }),
    segments: new Counter({
      name: "emotion_segments_total",
      help: "Segments classified, by label",
      labelNames: ["label"] as const,
      registers: [registry],
    }),
    audioSeconds: new Counter({
      name: "emotion_audio_seconds_total",
      help: "Seconds of audio received",
      labelNames: ["method"] as const,
      registers: [registry],
    }),
    activeStreams: new Gauge({
      name: "emotion_active_streams",
      help: "Open StreamingClassify calls",
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "emotion_queue_depth",
      help: "Segments waiting for the model",
      registers: [registry],
    }),
    speakers: new Gauge({
      name: "emotion_speakers",
      help: "Speaker baselines held for Classify",
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "emotion_batch_size",
      help: "Segments per model pass",
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: "emotion_batch_seconds",
      help: "Time of one model pass",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    segmentSeconds: new Histogram({
      name: "emotion_segment_latency_seconds",
      help: "From a segment's end (or a Classify request's arrival) to its result",
      buckets: latencyBuckets,
      registers: [registry],
    }),
  };
}
export type EmotionMetrics = ReturnType<typeof createEmotionMetrics>;
