import type * as grpc from "@grpc/grpc-js";
import {
  DeadlineExceededError,
  GrpcStatus,
  InvalidArgumentError,
  ResourceExhaustedError,
  UnavailableError,
  toGrpcStatus,
  toServiceError,
} from "@callscribe/errors";
import type {
  ListModelsResponse,
  RecognizeRequest__Output,
  RecognizeResponse,
  RecognizerHandlers,
  StreamingRecognizeRequest__Output,
  StreamingRecognizeResponse,
} from "@callscribe/proto";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "pino";
import type { RecognitionStream, RecognizerEngine } from "../engine/index.ts";
import {
  decodeAudioChunk,
  decodeRecognizeAudio,
  validateRecognitionConfig,
  type StreamEncoding,
} from "./request.ts";
import { toRecognitionResult } from "./results.ts";
import { RecognitionAbortedError, recognizeWholeAudio } from "./whole-audio.ts";

export interface RecognizerServiceOptions {
  engine: RecognizerEngine;
  logger: Logger;
  registry: Registry;
  recognizeMaxAudioMs: number;
}

export interface RecognizerService {
  handlers: RecognizerHandlers;
  /** Refuse new calls with UNAVAILABLE from now on (shutdown); live ones go on. */
  stopAccepting(): void;
  liveStreams(): number;
  /** Cancels every live stream; for a shutdown whose deadline has passed. */
  cancelAll(): void;
}

const emptyAudio = new Uint8Array(0);
const backPressurePollMs = 10;

export function createRecognizerService(options: RecognizerServiceOptions): RecognizerService {
  const { engine, logger } = options;
  const metrics = createMetrics(options.registry);
  const live = new Set<{ cancel(): void }>();
  let accepting = true;

  const finishCall = (method: string, err?: unknown) => {
    const code = err === undefined ? GrpcStatus.OK : toGrpcStatus(err).code;
    metrics.calls.inc({ method, code: GrpcStatus[code] ?? String(code) });
  };

  const StreamingRecognize: RecognizerHandlers["StreamingRecognize"] = (call) => {
    const log = logger.child({ rpc: "StreamingRecognize" });
    let stream: RecognitionStream | undefined;
    let encoding: StreamEncoding = "LINEAR16";
    let sampleRate = 8000;
    let wordTimeOffsets = false;
    let closed = false;
    let audioSamples = 0;
    let deadlineTimer: NodeJS.Timeout | undefined;
    let backPressureTimer: NodeJS.Timeout | undefined;
    const entry = {
      cancel: () => fail(new UnavailableError("server is shutting down; retry on another replica")),
    };

    const cleanup = () => {
      closed = true;
      clearTimeout(deadlineTimer);
      clearTimeout(backPressureTimer);
      if (live.delete(entry)) metrics.activeStreams.dec();
      metrics.audioSeconds.inc({ method: "StreamingRecognize" }, audioSamples / sampleRate);
    };
    const fail = (err: unknown) => {
      if (closed) return;
      cleanup();
      stream?.cancel();
      finishCall("StreamingRecognize", err);
      const status = toGrpcStatus(err);
      if (status.code === GrpcStatus.INTERNAL) log.error({ err }, "stream failed");
      else log.info({ code: GrpcStatus[status.code], reason: status.details }, "stream refused");
      // The server stream's own 'error' listener turns this into the call's status and ends it.
      call.emit("error", toServiceError(err));
    };

    // Back-pressure: when this stream's backlog is full, pushAudio refuses (taking nothing); the
    // audio is kept, reading pauses, and the push is retried until the engine has caught up. HTTP/2
    // flow control then slows the client instead of memory growing. (Pausing on the engine-wide
    // queue instead could wait forever: part of it is audio waiting for more audio.)
    let refused: Int16Array | undefined;
    const tryPush = (pcm: Int16Array): boolean => {
      try {
        stream!.pushAudio(pcm);
        return true;
      } catch (err) {
        if (err instanceof ResourceExhaustedError) return false;
        throw err;
      }
    };
    const retryRefused = () => {
      if (closed) return;
      try {
        if (!tryPush(refused!)) {
          backPressureTimer = setTimeout(retryRefused, backPressurePollMs);
          return;
        }
      } catch (err) {
        fail(err);
        return;
      }
      refused = undefined;
      call.resume();
    };
    const acceptAudio = (pcm: Int16Array) => {
      if (tryPush(pcm)) return;
      refused = pcm;
      call.pause();
      metrics.backPressurePauses.inc();
      backPressureTimer = setTimeout(retryRefused, backPressurePollMs);
    };

    if (!accepting) {
      fail(new UnavailableError("server is shutting down; retry on another replica"));
      return;
    }
    live.add(entry);
    metrics.activeStreams.inc();

    const deadline = deadlineMs(call.getDeadline());
    if (deadline !== undefined) {
      // grpc-js answers DEADLINE_EXCEEDED itself; this frees the engine slot at the same moment.
      deadlineTimer = setTimeout(
        () => fail(new DeadlineExceededError("deadline exceeded before the stream finished")),
        Math.max(0, deadline - Date.now()),
      );
    }

    call.on("data", (request: StreamingRecognizeRequest__Output) => {
      if (closed) return;
      try {
        if (!stream) {
          if (request.request !== "config") throw new InvalidArgumentError("first message must be config");
          const validated = validateRecognitionConfig(request.config, {
            model: engine.model,
            method: "StreamingRecognize",
          });
          encoding = validated.encoding as StreamEncoding;
          sampleRate = validated.sampleRate;
          wordTimeOffsets = validated.wordTimeOffsets;
          const opened = engine.openStream({
            ...validated.stream,
            sampleRate: validated.sampleRate as 8000 | 16000,
          });
          stream = opened;
          opened.onEvent((event) => {
            if (closed) return;
            metrics.results.inc({ kind: event.kind });
            const response: StreamingRecognizeResponse = {
              results: [toRecognitionResult(event, wordTimeOffsets)],
            };
            call.write(response);
          });
          // Labels are the client's free text (call ids, numbers): personal data, kept under pii.
          log.debug(
            { stream: opened.id, encoding, sampleRate, pii: { labels: validated.labels } },
            "stream opened",
          );
          return;
        }
        if (request.request === "config") {
          throw new InvalidArgumentError("config may be sent only once, as the first message");
        }
        const bytes = request.audio ?? emptyAudio;
        if (bytes.length === 0) return;
        const pcm = decodeAudioChunk(encoding, bytes);
        audioSamples += pcm.length;
        acceptAudio(pcm);
      } catch (err) {
        fail(err);
      }
    });

    call.on("end", () => {
      if (closed) return;
      const open = stream;
      if (!open) {
        fail(new InvalidArgumentError("first message must be config"));
        return;
      }
      open.finish().then(
        () => {
          if (closed) return;
          cleanup();
          finishCall("StreamingRecognize");
          const last: StreamingRecognizeResponse = { results: [], endOfStream: true };
          call.write(last);
          call.end();
        },
        (err: unknown) => fail(err),
      );
    });

    call.on("cancelled", () => {
      if (closed) return;
      cleanup();
      stream?.cancel();
      // grpc-js cancels the call itself when the deadline passes.
      const code = deadlinePassed(call.getDeadline()) ? GrpcStatus.DEADLINE_EXCEEDED : GrpcStatus.CANCELLED;
      finishCall("StreamingRecognize", Object.assign(new Error("cancelled"), { code }));
      log.debug({ stream: stream?.id }, "stream cancelled by the client");
    });
  };

  const Recognize: RecognizerHandlers["Recognize"] = (call, callback) => {
    // Client cancellation and the deadline abandon the engine stream at once.
    const abort = new AbortController();
    let deadlineTimer: NodeJS.Timeout | undefined;
    // grpc-js cancels the call itself when the deadline passes; count that as the deadline.
    const onCancelled = () =>
      abort.abort(
        deadlinePassed(call.getDeadline())
          ? new DeadlineExceededError("deadline exceeded during recognition")
          : new Error("cancelled by the client"),
      );
    call.on("cancelled", onCancelled);
    void (async () => {
      if (!accepting) throw new UnavailableError("server is shutting down; retry on another replica");
      const request: RecognizeRequest__Output = call.request;
      const validated = validateRecognitionConfig(request.config, {
        model: engine.model,
        method: "Recognize",
      });
      const { pcm, sampleRate } = decodeRecognizeAudio(validated, request.audio ?? emptyAudio, {
        maxAudioMs: options.recognizeMaxAudioMs,
        modelSampleRate: engine.model.sampleRate,
      });
      const deadline = deadlineMs(call.getDeadline());
      if (deadline !== undefined) {
        const left = deadline - Date.now();
        if (left <= 0) throw new DeadlineExceededError("deadline exceeded before recognition started");
        deadlineTimer = setTimeout(
          () => abort.abort(new DeadlineExceededError("deadline exceeded during recognition")),
          left,
        );
      }
      const { interimResults: _interim, ...streamOptions } = validated.stream;
      let events;
      try {
        events = await recognizeWholeAudio(engine, pcm, { ...streamOptions, sampleRate }, abort.signal);
      } catch (err) {
        if (err instanceof RecognitionAbortedError && abort.signal.reason instanceof DeadlineExceededError)
          throw abort.signal.reason;
        throw err;
      }
      metrics.audioSeconds.inc({ method: "Recognize" }, pcm.length / sampleRate);
      const response: RecognizeResponse = {
        results: events.map((e) => toRecognitionResult(e, validated.wordTimeOffsets)),
        audioMs: Math.round((pcm.length / sampleRate) * 1000),
      };
      return response;
    })()
      .then(
        (response) => {
          finishCall("Recognize");
          callback(null, response);
        },
        (err: unknown) => {
          const cancelled =
            err instanceof RecognitionAbortedError && !(abort.signal.reason instanceof DeadlineExceededError);
          const failure = cancelled
            ? Object.assign(new Error("cancelled by the client"), { code: GrpcStatus.CANCELLED })
            : err;
          finishCall("Recognize", failure);
          if (toGrpcStatus(failure).code === GrpcStatus.INTERNAL)
            logger.error({ err, rpc: "Recognize" }, "request failed");
          // A client that cancelled has gone; grpc-js drops the answer.
          callback(toServiceError(failure));
        },
      )
      .finally(() => {
        clearTimeout(deadlineTimer);
        call.off("cancelled", onCancelled);
      });
  };

  const ListModels: RecognizerHandlers["ListModels"] = (_call, callback) => {
    const m = engine.model;
    const response: ListModelsResponse = {
      models: [
        {
          name: m.name,
          version: m.version,
          language: m.language,
          sampleRateHz: m.sampleRate,
          executionProvider: m.provider,
          precision: m.precision,
          isDefault: true,
        },
      ],
    };
    finishCall("ListModels");
    callback(null, response);
  };

  return {
    handlers: { StreamingRecognize, Recognize, ListModels },
    stopAccepting: () => {
      accepting = false;
    },
    liveStreams: () => live.size,
    cancelAll: () => {
      for (const entry of [...live]) entry.cancel();
    },
  };
}

/** True at (or within a timer's slack of) the deadline: grpc-js's own timer may fire a little early. */
function deadlinePassed(deadline: grpc.Deadline): boolean {
  const ms = deadlineMs(deadline);
  return ms !== undefined && ms <= Date.now() + 50;
}

function deadlineMs(deadline: grpc.Deadline): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

function createMetrics(registry: Registry) {
  return {
    calls: new Counter({
      name: "asr_grpc_calls_total",
      help: "Finished gRPC calls by method and status code",
      labelNames: ["method", "code"] as const,
      registers: [registry],
    }),
    activeStreams: new Gauge({
      name: "asr_grpc_active_streams",
      help: "StreamingRecognize calls in progress",
      registers: [registry],
    }),
    audioSeconds: new Counter({
      name: "asr_grpc_audio_seconds_total",
      help: "Seconds of audio received over gRPC",
      labelNames: ["method"] as const,
      registers: [registry],
    }),
    results: new Counter({
      name: "asr_grpc_results_total",
      help: "Recognition results sent over gRPC, partial and final",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    backPressurePauses: new Counter({
      name: "asr_grpc_backpressure_pauses_total",
      help: "Times a stream's reading paused because its backlog in the engine was full",
      registers: [registry],
    }),
  };
}
