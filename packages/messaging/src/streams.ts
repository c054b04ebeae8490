import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";

const nanos = (ms: number) => ms * 1_000_000;
const hour = 3_600_000;

export interface StreamLimits {
  /** Bytes the AUDIO stream may hold; when full, publishes are refused (ingest sees it), nothing is evicted. */
  audioMaxBytes: number;
  audioMaxAgeMs: number;
  resultsMaxAgeMs: number;
  replicas: number;
}

export const defaultStreamLimits: StreamLimits = {
  audioMaxBytes: 4 * 1024 ** 3,
  audioMaxAgeMs: 24 * hour,
  resultsMaxAgeMs: 7 * 24 * hour,
  replicas: 1,
};

/** The three streams. Discard "new": a full stream refuses a publish instead of dropping accepted audio. */
export function streamConfigs(
  limits: StreamLimits = defaultStreamLimits,
): (Partial<StreamConfig> & { name: string })[] {
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    num_replicas: limits.replicas,
    // Ingest and ASR set Nats-Msg-Id, so retries and takeovers within this window are deduplicated.
    duplicate_window: nanos(2 * 60_000),
  };
  return [
    {
      ...common,
      name: "AUDIO",
      description: "PCM16LE frames per call leg: audio.<callId>.<leg>",
      subjects: ["audio.>"],
      max_bytes: limits.audioMaxBytes,
      max_age: nanos(limits.audioMaxAgeMs),
    },
    {
      ...common,
      name: "CALLS",
      description: "Call lifecycle events: call.<callId>.started|ended|dtmf",
      subjects: ["call.>"],
      max_age: nanos(limits.resultsMaxAgeMs),
    },
    {
      ...common,
      name: "RESULTS",
      description: "Final utterances and leg-done markers: utterance.<callId>.<leg>, leg.<callId>.<leg>.done",
      subjects: ["utterance.>", "leg.>"],
      max_age: nanos(limits.resultsMaxAgeMs),
    },
  ];
}

/**
 * Creates or updates the streams; safe to run from every replica at every start. An existing stream
 * keeps its duplicate window: an operator may have tuned it (`nats stream edit`), and no publisher's
 * correctness depends on its length (frames are resent within seconds; utterances are published
 * against what RESULTS holds).
 */
export async function ensureStreams(jsm: JetStreamManager, limits?: StreamLimits): Promise<void> {
  for (const config of streamConfigs(limits)) {
    const name = config.name;
    const existing = await jsm.streams.info(name).catch(() => undefined);
    if (existing)
      await jsm.streams.update(name, { ...config, duplicate_window: existing.config.duplicate_window });
    else await jsm.streams.add(config);
  }
}
