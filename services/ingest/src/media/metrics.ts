import { Counter, Gauge, Histogram, type Registry } from "prom-client";

// Finer than the shared latencyBuckets below 20 ms: the ack of a frame normally takes a few ms, and the
// benchmark reads p50/p99 from these buckets.
const publishLatencyBuckets = [
  0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2,
  0.5, 1, 2.5, 5, 10,
];

/** The media side's metrics, registered once per gateway on the service's registry. */
export function createMediaMetrics(registry: Registry) {
  const registers = [registry];
  return {
    rtpPackets: new Counter({
      name: "ingest_rtp_packets_total",
      help: "RTP packets received, by what became of them",
      labelNames: ["result"] as const, // audio, telephone_event, malformed, unexpected_payload_type, not_started
      registers,
    }),
    rtpBytes: new Counter({
      name: "ingest_rtp_bytes_total",
      help: "Bytes of RTP packets received",
      registers,
    }),
    rtcpPackets: new Counter({
      name: "ingest_rtcp_packets_total",
      help: "RTCP packets received inside compound packets, by type (sr, rr, sdes, bye, app, feedback, other, malformed)",
      labelNames: ["type"] as const,
      registers,
    }),
    jitterEvents: new Counter({
      name: "ingest_jitter_buffer_events_total",
      help: "Jitter buffer counters: duplicate, late, reordered, lost, ssrc_change, stray, timestamp_jump, seq_restart",
      labelNames: ["event"] as const,
      registers,
    }),
    concealedSeconds: new Counter({
      name: "ingest_concealed_audio_seconds_total",
      help: "Audio filled in for lost packets",
      registers,
    }),
    silenceFilledSeconds: new Counter({
      name: "ingest_silence_filled_seconds_total",
      help: "Silence inserted for timestamp gaps without loss (silence suppression, DTMF)",
      registers,
    }),
    dtmfEvents: new Counter({ name: "ingest_dtmf_events_total", help: "DTMF digits published", registers }),
    framesPublished: new Counter({
      name: "ingest_frames_published_total",
      help: "PCM frames acknowledged by JetStream",
      registers,
    }),
    audioPublished: new Counter({
      name: "ingest_audio_published_seconds_total",
      help: "Audio acknowledged by JetStream (frames × their duration)",
      registers,
    }),
    publishLatency: new Histogram({
      name: "ingest_publish_latency_seconds",
      help: "From the arrival of the packet that completed a frame to the JetStream ack of the frame",
      buckets: publishLatencyBuckets,
      registers,
    }),
    publishRetries: new Counter({
      name: "ingest_publish_retries_total",
      help: "JetStream publishes that failed or timed out and were retried with the same message id",
      registers,
    }),
    framesOutOfOrder: new Counter({
      name: "ingest_frames_stored_out_of_order_total",
      help: "Frames stored after a later frame of the same leg (a retry after a lost publish); consumers reorder by Callscribe-Seq",
      registers,
    }),
    framesAbandoned: new Counter({
      name: "ingest_frames_abandoned_total",
      help: "Frames and events still unpublished when a call's end flush deadline passed (NATS down too long)",
      registers,
    }),
    bufferedFrames: new Gauge({
      name: "ingest_publish_buffered_frames",
      help: "Frames waiting for a JetStream ack, over all calls",
      registers,
    }),
    bufferOverflows: new Counter({
      name: "ingest_calls_ended_buffer_overflow_total",
      help: "Calls ended because their publish buffer was full (NATS unreachable or slow)",
      registers,
    }),
    activeCalls: new Gauge({ name: "ingest_active_calls", help: "Calls receiving media", registers }),
    callsEnded: new Counter({
      name: "ingest_calls_ended_total",
      help: "Calls ended, by reason",
      labelNames: ["reason"] as const,
      registers,
    }),
  };
}

export type MediaMetrics = ReturnType<typeof createMediaMetrics>;
