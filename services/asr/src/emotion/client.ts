import * as grpc from "@grpc/grpc-js";
import { emotionProto, type EmotionClassifierClient } from "@callscribe/proto";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "pino";

/** What the utterance event carries (packages/messaging UtteranceResult.emotion). */
export interface UtteranceEmotionResult {
  label: string;
  scores: Record<string, number>;
  arousal: number;
  valence: number;
}

export interface EmotionRequest {
  callId: string;
  leg: string;
  pcm: Int16Array;
  sampleRate: number;
  startMs: number;
}

/** Asks the emotion service about finished utterances; never throws, null when it cannot say. */
export interface UtteranceEmotion {
  classify(request: EmotionRequest): Promise<UtteranceEmotionResult | null>;
  close(): void;
}

export interface EmotionClientOptions {
  address: string;
  deadlineMs: number;
  logger: Logger;
  registry: Registry;
}

/** gRPC metadata naming the speaker, so the service compares the utterance with the leg's earlier ones. */
const SPEAKER_METADATA_KEY = "x-callscribe-speaker";
const WARN_EVERY_MS = 60_000;

/**
 * A client of callscribe.emotion.v1 with a deadline per utterance. When the service is down, slow or
 * refuses, the utterance goes on without emotion: the outcome is counted and logged (at most once a
 * minute at warn), never thrown.
 */
export function createEmotionClient(options: EmotionClientOptions): UtteranceEmotion {
  const client: EmotionClassifierClient = new (emotionProto().EmotionClassifier)(
    options.address,
    grpc.credentials.createInsecure(),
  );
  const outcomes = new Counter({
    name: "asr_emotion_requests_total",
    help: "Utterance emotion requests by outcome (ok, or the gRPC status that left the utterance without emotion)",
    labelNames: ["outcome"] as const,
    registers: [options.registry],
  });
  let lastWarnMs = 0;

  return {
    classify(request) {
      return new Promise((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set(SPEAKER_METADATA_KEY, `${request.callId}/${request.leg}`);
        const pcm = request.pcm;
        client.Classify(
          {
            format: { encoding: "LINEAR16", sampleRateHz: request.sampleRate },
            audio: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength),
            offsetMs: Math.max(0, Math.round(request.startMs)),
          },
          metadata,
          { deadline: Date.now() + options.deadlineMs },
          (err, response) => {
            const result = response?.result;
            if (err || !result) {
              const outcome = err ? grpc.status[err.code] : "EMPTY";
              outcomes.inc({ outcome });
              const now = Date.now();
              const fields = { callId: request.callId, leg: request.leg, outcome, reason: err?.details };
              if (now - lastWarnMs >= WARN_EVERY_MS) {
                lastWarnMs = now;
                options.logger.warn(
                  fields,
                  "emotion service did not answer; utterances are published without emotion",
                );
              } else {
                options.logger.debug(fields, "utterance published without emotion");
              }
              resolve(null);
              return;
            }
            outcomes.inc({ outcome: "ok" });
            resolve({
              label: result.label,
              scores: Object.fromEntries(result.scores.map((s) => [s.label, s.score])),
              arousal: result.arousal,
              valence: result.valence,
            });
          },
        );
      });
    },
    close: () => client.close(),
  };
}
