import { status as GrpcStatus, type Metadata, type ServerDuplexStream } from "@grpc/grpc-js";
import {
  InvalidArgumentError,
  UnavailableError,
  ResourceExhaustedError,
  toGrpcStatus,
  toServiceError,
} from "@callscribe/errors";
import type {
  EmotionClassifierHandlers,
  EmotionResult,
  StreamingClassifyRequest__Output,
} from "@callscribe/proto";
import type { Logger } from "pino";
import type { SegmentBatcher } from "../batching/segment-batcher.ts";
import type { EmotionMetrics } from "../metrics.ts";
import type { EmotionScore, SpeakerState } from "../model/types.ts";
import {
  AudioDecoder,
  MODEL_SAMPLE_RATE,
  checkFormat,
  decodeSegment,
  sampleCount,
} from "../segmenting/audio-input.ts";
import { EnergySegmenter, type Segment } from "../segmenting/segmenter.ts";
import type { SpeakerRegistry } from "../speakers.ts";

/**
 * gRPC metadata naming the speaker of a Classify request (e.g. "<callId>/<leg>"): the prosody model
 * then compares the segment with that speaker's earlier ones. Without it a segment stands alone.
 */
export const SPEAKER_METADATA_KEY = "x-callscribe-speaker";

/** Segments of one stream in the model at once; beyond it the stream stops reading (HTTP/2 flow control). */
const STREAM_SEGMENTS_IN_FLIGHT = 2;

export interface ClassifierDeps {
  batcher: SegmentBatcher;
  speakers: SpeakerRegistry;
  metrics: EmotionMetrics;
  logger: Logger;
  maxSegmentMs: number;
  maxStreams: number;
}

export interface Classifier {
  handlers: EmotionClassifierHandlers;
  /** New calls get UNAVAILABLE from now on. */
  stopAccepting(): void;
  /** Ends the open streams with UNAVAILABLE (after the drain's grace period). */
  cancelStreams(): void;
}

export function toEmotionResult(score: EmotionScore, startMs: number, endMs: number): EmotionResult {
  return {
    label: score.label,
    scores: score.scores.map((s) => ({ label: s.label, score: s.score })),
    arousal: score.arousal,
    valence: score.valence,
    segmentStartMs: Math.max(0, Math.round(startMs)),
    segmentEndMs: Math.max(0, Math.round(endMs)),
  };
}

function speakerKey(metadata: Metadata): string | undefined {
  const value = metadata.get(SPEAKER_METADATA_KEY)[0];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

export function createClassifier(deps: ClassifierDeps): Classifier {
  const { batcher, speakers, metrics, logger } = deps;
  let accepting = true;
  const live = new Set<() => void>();
  const maxSegmentS = deps.maxSegmentMs / 1000;

  const finished = (method: string, err?: unknown) => {
    const code = err === undefined ? GrpcStatus.OK : toGrpcStatus(err).code;
    metrics.requests.inc({ method, code: GrpcStatus[code] });
    if (code === GrpcStatus.INTERNAL) logger.error({ err, method }, "request failed");
    else if (err !== undefined)
      logger.info({ method, code: GrpcStatus[code], reason: toGrpcStatus(err).details }, "request refused");
  };

  const classifySegment = async (samples: Float32Array, speaker: SpeakerState): Promise<EmotionScore> => {
    const started = performance.now();
    const score = await batcher.submit({ samples, speaker });
    metrics.queueDepth.set(batcher.depth);
    metrics.segments.inc({ label: score.label });
    metrics.segmentSeconds.observe((performance.now() - started) / 1000);
    return score;
  };

  const Classify: EmotionClassifierHandlers["Classify"] = (call, callback) => {
    void (async () => {
      if (!accepting) throw new UnavailableError("the server is shutting down; retry on another replica");
      const format = checkFormat(call.request.format);
      const audio = call.request.audio;
      const samples = sampleCount(format, audio.length);
      if (samples === 0) throw new InvalidArgumentError("audio is empty; send one segment of speech");
      const seconds = samples / format.sampleRate;
      if (seconds > maxSegmentS) {
        throw new InvalidArgumentError(
          `audio is ${seconds.toFixed(1)} s; Classify takes one segment of at most ${maxSegmentS} s (EMOTION_MAX_SEGMENT_S); ` +
            "send longer audio with StreamingClassify",
        );
      }
      metrics.audioSeconds.inc({ method: "Classify" }, seconds);
      const speaker = speakers.get(speakerKey(call.metadata));
      metrics.speakers.set(speakers.size);
      const score = await classifySegment(decodeSegment(format, audio), speaker);
      const offset = call.request.offsetMs;
      return { result: toEmotionResult(score, offset, offset + seconds * 1000) };
    })().then(
      (response) => {
        finished("Classify");
        callback(null, response);
      },
      (err: unknown) => {
        finished("Classify", err);
        callback(toServiceError(err));
      },
    );
  };

  const StreamingClassify: EmotionClassifierHandlers["StreamingClassify"] = (call) => {
    streamClassify(call);
  };

  function streamClassify(call: ServerDuplexStream<StreamingClassifyRequest__Output, EmotionResult>): void {
    let closed = false;
    let decoder: AudioDecoder | undefined;
    let segmenter: EnergySegmenter | undefined;
    let speaker: SpeakerState | undefined;
    let samples = 0;
    let inFlight = 0;
    let writing: Promise<void> = Promise.resolve();
    const cancel = () => fail(new UnavailableError("the server is shutting down; retry on another replica"));

    const cleanup = () => {
      closed = true;
      if (live.delete(cancel)) metrics.activeStreams.dec();
      if (decoder)
        metrics.audioSeconds.inc({ method: "StreamingClassify" }, samples / decoder.format.sampleRate);
    };
    const fail = (err: unknown) => {
      if (closed) return;
      cleanup();
      finished("StreamingClassify", err);
      call.emit("error", toServiceError(err));
    };

    if (!accepting)
      return fail(new UnavailableError("the server is shutting down; retry on another replica"));
    if (live.size >= deps.maxStreams)
      return fail(
        new ResourceExhaustedError(`${live.size} streams are open (EMOTION_MAX_STREAMS); retry later`),
      );
    live.add(cancel);
    metrics.activeStreams.inc();

    const classify = (segment: Segment) => {
      inFlight++;
      if (inFlight >= STREAM_SEGMENTS_IN_FLIGHT) call.pause();
      const scored = classifySegment(segment.samples, speaker!);
      // Results go out in the order the segments closed.
      writing = writing.then(async () => {
        let score: EmotionScore;
        try {
          score = await scored;
        } finally {
          inFlight--;
          if (!closed && inFlight < STREAM_SEGMENTS_IN_FLIGHT) call.resume();
        }
        if (!closed) call.write(toEmotionResult(score, segment.startMs, segment.endMs));
      });
      writing.catch(fail);
    };

    call.on("data", (request: StreamingClassifyRequest__Output) => {
      if (closed) return;
      try {
        if (!decoder) {
          if (request.request !== "format")
            throw new InvalidArgumentError("the first message must carry the audio format, not audio");
          const format = checkFormat(request.format);
          decoder = new AudioDecoder(format);
          segmenter = new EnergySegmenter({ sampleRate: MODEL_SAMPLE_RATE, maxSegmentMs: deps.maxSegmentMs });
          speaker = speakers.get(speakerKey(call.metadata));
          return;
        }
        if (request.request !== "audio")
          throw new InvalidArgumentError("only the first message may carry the format");
        const audio = request.audio ?? Buffer.alloc(0);
        samples += sampleCount(decoder.format, audio.length);
        for (const segment of segmenter!.push(decoder.push(audio))) classify(segment);
      } catch (err) {
        fail(err);
      }
    });
    call.on("end", () => {
      if (closed) return;
      try {
        if (!decoder) throw new InvalidArgumentError("the stream ended before its format message");
        for (const segment of segmenter!.push(decoder.flush())) classify(segment);
        for (const segment of segmenter!.flush()) classify(segment);
      } catch (err) {
        fail(err);
        return;
      }
      writing.then(
        () => {
          if (closed) return;
          cleanup();
          finished("StreamingClassify");
          call.end();
        },
        () => {
          // fail() has answered already.
        },
      );
    });
    call.on("cancelled", () => {
      if (!closed) {
        cleanup();
        finished(
          "StreamingClassify",
          Object.assign(new Error("cancelled by the client"), { code: GrpcStatus.CANCELLED }),
        );
      }
    });
    call.on("error", () => {
      // The status reaches the client through the call itself; this keeps the error from being thrown.
    });
  }

  return {
    handlers: { Classify, StreamingClassify },
    stopAccepting: () => {
      accepting = false;
    },
    cancelStreams: () => {
      for (const cancel of [...live]) cancel();
    },
  };
}
