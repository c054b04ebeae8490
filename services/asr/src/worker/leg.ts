import { pcm16FromBytes } from "@callscribe/audio";
import {
  LegDone,
  PartialResult,
  UtteranceResult,
  decodeEvent,
  encodeEvent,
  parseFrameHeaders,
  subjects,
  type Leg,
  type Messaging,
} from "@callscribe/messaging";
import { ResourceExhaustedError } from "@callscribe/errors";
import { DeliverPolicy } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { RecognitionEvent, RecognitionStream, RecognizerEngine } from "../engine/index.ts";
import { LegLanguage, type LanguageIdModel } from "../language/index.ts";
import { LegAudioWindow } from "../emotion/audio-window.ts";
import type { UtteranceEmotion } from "../emotion/client.ts";
import { isWrongLastSequence } from "./claims.ts";
import type { WorkerMetrics } from "./metrics.ts";

export interface LegContext {
  messaging: Messaging;
  engine: RecognizerEngine;
  logger: Logger;
  metrics: WorkerMetrics;
  /** A leg with no frame for this long is closed as it stands (its producer is gone). */
  idleTimeoutMs: number;
  /** Language identification over each leg's first utterances; absent, utterances keep the engine's language. */
  language?: { model: LanguageIdModel; maxUtterances: number };
  /** The emotion service, asked about each final utterance; absent, utterances carry emotion null. */
  emotion?: { client: UtteranceEmotion; maxSegmentMs: number };
}

export interface LegJob {
  callId: string;
  leg: Leg;
  /**
   * Resolves when call.ended arrives, with the leg's last frame sequence if it says one (undefined:
   * the last frame AUDIO holds for the leg decides); never resolves while the call goes on.
   */
  lastSeq: Promise<number | undefined>;
  signal: AbortSignal;
}

export class LegAbortedError extends Error {
  override readonly name = "LegAbortedError";
}

// Same ids on every replay, so partials, finals and a takeover's republished finals agree.
export const utteranceId = (callId: string, leg: Leg, seq: number) => `${callId}-${leg}-${seq}`;
export const utteranceMsgId = (callId: string, leg: Leg, seq: number) => `u.${callId}.${leg}.${seq}`;
export const legDoneMsgId = (callId: string, leg: Leg) => `d.${callId}.${leg}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Pull requests of the audio reader expire this often, and the server sends a heartbeat every half of
 * it: after a NATS restart the reader notices a lost consumer within about this time and recreates it,
 * instead of after the client's default of 30 s per try.
 */
export const AUDIO_PULL_EXPIRES_MS = 2000;
const PUBLISH_RETRY_MAX_MS = 2000;
const REOPEN_ATTEMPT_MS = 1000;

/** Where a leg's utterances stand in RESULTS: the last one's utterance seq and its stream sequence. */
interface StoredPosition {
  seq: number;
  streamSeq: number;
}

/**
 * Recognises one leg of a call from the start of its audio in AUDIO: frames in order (gaps are
 * counted, repeats skipped), partials to core NATS, finals to RESULTS with deterministic message
 * ids, and the leg-done marker once the leg's last frame has been recognised.
 */
export async function transcribeLeg(ctx: LegContext, job: LegJob): Promise<LegDone> {
  const { messaging, engine, metrics } = ctx;
  const { callId, leg, signal } = job;
  const log = ctx.logger.child({ callId, leg });
  const language = ctx.language && new LegLanguage({ ...ctx.language, logger: log });
  // The leg's latest audio (the longest segment the emotion service takes and 5 s for the recogniser to
  // finalise), so a final utterance's samples can go to the emotion service.
  let emotionAudio: LegAudioWindow | undefined;
  // A takeover replays the leg from its start: what RESULTS already holds is not published again,
  // however long ago it was stored (the stream's duplicate window is only minutes).
  let stored = await lastStoredUtterance(messaging, callId, leg);
  /** Reads the leg's frames from AUDIO after stream sequence `after` (0: from the start). */
  const openReader = async (after: number) => {
    const consumer = await messaging.js.consumers.get("AUDIO", {
      filter_subjects: subjects.audio(callId, leg),
      ...(after === 0
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }),
    });
    const reader = await consumer.consume({ max_messages: 64, expires: AUDIO_PULL_EXPIRES_MS });
    void logReaderStatus(reader);
    return reader;
  };
  const logReaderStatus = async (reader: Awaited<ReturnType<typeof openReader>>) => {
    for await (const status of reader.status()) {
      if (
        status.type === "heartbeats_missed" ||
        status.type === "consumer_not_found" ||
        status.type === "stream_not_found" ||
        status.type === "consumer_deleted"
      ) {
        log.warn({ status: status.type }, "audio reader interrupted; it resumes when NATS answers");
      } else if (status.type === "ordered_consumer_recreated") {
        log.info("audio reader resumed");
      }
    }
  };
  /** Opens the reader again, retrying while JetStream is not answering yet (say, a cluster electing leaders). */
  const reopenReader = async (after: number) => {
    for (let attempt = 0; ; attempt++) {
      while (!messaging.isConnected() && !signal.aborted) await sleep(50);
      // A request sent as the connection drops is lost with it and would wait out its whole timeout:
      // an attempt that has not answered within a second is abandoned for a new one.
      const opening = openReader(after);
      try {
        const reader = await Promise.race([opening, sleep(REOPEN_ATTEMPT_MS).then(() => undefined)]);
        if (reader) return reader;
        void opening.then(
          (late) => late.stop(),
          () => undefined,
        );
      } catch (err) {
        if (signal.aborted) throw err;
        if (attempt === 0) log.warn({ err }, "audio reader cannot resume yet; retrying");
        await sleep(250);
      }
      if (signal.aborted) throw new LegAbortedError(`leg ${leg} of call ${callId} was abandoned`);
    }
  };
  let messages = await openReader(0);
  let lastStreamSeq = 0;
  // After a reconnect the server may have lost the reader's consumer (a restart) and the client would
  // find out only through missed heartbeats and backed-off retries: the reader is replaced at once,
  // from the frame after the last one read.
  let reopen = false;
  let reading = true;
  void (async () => {
    for await (const status of messaging.nc.status()) {
      if (!reading) break;
      if (status.type === "reconnect" && !signal.aborted) {
        log.info("NATS reconnected; reopening the audio reader");
        reopen = true;
        messages.stop();
      }
    }
  })().catch(() => undefined);

  let stream: RecognitionStream | undefined;
  let sampleRate = 0;
  let samples = 0;
  let processedSeq = -1;
  let targetSeq: number | undefined;
  let reachedEnd = false;
  let idle = false;
  let finals = 0;
  let publishing: Promise<void> = Promise.resolve();
  let publishError: unknown;

  const stop = () => messages.stop();
  signal.addEventListener("abort", stop, { once: true });
  let idleTimer = setTimeout(onIdle, ctx.idleTimeoutMs);
  function onIdle() {
    idle = true;
    log.warn(
      { idleMs: ctx.idleTimeoutMs, processedSeq },
      "no audio frame for too long; closing the leg as it stands",
    );
    stop();
  }

  job.lastSeq
    .then(async (lastSeq) => {
      if (signal.aborted) return;
      // call.ended without a lastSeq for this leg: the stream's last frame on the subject decides.
      const last = lastSeq ?? (await lastFrameSeq(messaging, callId, leg));
      targetSeq = last;
      if (processedSeq >= last) {
        reachedEnd = true;
        stop();
      }
    })
    .catch((err: unknown) => log.warn({ err }, "could not learn the leg's last frame from call.ended"));

  const onEvent = (event: RecognitionEvent) => {
    const id = utteranceId(callId, leg, event.seq);
    if (event.kind === "partial") {
      try {
        const partial: PartialResult = {
          callId,
          leg,
          utteranceId: id,
          text: event.text,
          startMs: event.startMs,
          endMs: event.endMs,
        };
        messaging.nc.publish(subjects.partial(callId, leg), encodeEvent(PartialResult, partial));
      } catch (err) {
        log.debug({ err }, "partial not published");
      }
      return;
    }
    finals++;
    const result: UtteranceResult = {
      callId,
      leg,
      seq: event.seq,
      utteranceId: id,
      text: event.text,
      words: event.words.map((w) => ({
        word: w.word,
        startMs: w.startMs,
        endMs: w.endMs,
        confidence: w.confidence,
      })),
      startMs: event.startMs,
      endMs: event.endMs,
      confidence: event.confidence,
      language: event.language,
      dialect: event.dialect,
      emotion: null,
    };
    // Published one after another so RESULTS holds a leg's utterances in order; a failure that outlasts
    // the retries (the leg was abandoned) is kept and fails the leg, which is then retried from its start.
    // Asked now, awaited in order below: an unanswered request ends in null at its deadline.
    const pcm = ctx.emotion && emotionAudio?.slice(result.startMs, result.endMs, ctx.emotion.maxSegmentMs);
    const emotion =
      ctx.emotion && pcm
        ? ctx.emotion.client.classify({
            callId,
            leg,
            pcm,
            sampleRate: emotionAudio!.sampleRate,
            startMs: result.startMs,
          })
        : Promise.resolve(null);
    publishing = publishing.then(async () => {
      if (publishError !== undefined) return;
      try {
        if (language) {
          const tag = await language.tagUtterance(result.startMs, result.endMs);
          result.language = tag.language;
          result.dialect = tag.dialect;
          result.languageConfidence = tag.confidence;
        }
        result.emotion = await emotion;
        await publishFinal(result);
      } catch (err) {
        publishError = err;
      }
    });
  };

  /**
   * Publishes one final utterance exactly once: skipped when RESULTS already holds it (or a later one),
   * and stored only if the leg's last stored utterance is still the one this replica knows of, so a
   * replay, a retry or a replica that lost its claim cannot store it twice. While NATS is away it
   * retries until NATS takes it or the leg is abandoned.
   */
  const publishFinal = async (result: UtteranceResult): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      if (result.seq <= stored.seq) {
        metrics.utterances.inc({ duplicate: "true" });
        return;
      }
      try {
        const ack = await messaging.js.publish(
          subjects.utterance(callId, leg),
          encodeEvent(UtteranceResult, result),
          {
            msgID: utteranceMsgId(callId, leg, result.seq),
            expect: { lastSubjectSequence: stored.streamSeq },
          },
        );
        stored = ack.duplicate
          ? await lastStoredUtterance(messaging, callId, leg)
          : { seq: result.seq, streamSeq: ack.seq };
        metrics.utterances.inc({ duplicate: String(ack.duplicate) });
        return;
      } catch (err) {
        if (isWrongLastSequence(err)) {
          // Another publisher stored something since: look again at what RESULTS holds.
          stored = await lastStoredUtterance(messaging, callId, leg);
          continue;
        }
        if (signal.aborted) throw err;
        if (attempt === 0) log.warn({ err, seq: result.seq }, "utterance not published; retrying");
        await sleep(Math.min(PUBLISH_RETRY_MAX_MS, 100 * 2 ** attempt));
      }
    }
  };

  try {
    for (;;) {
      for await (const msg of messages) {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(onIdle, ctx.idleTimeoutMs);
        lastStreamSeq = msg.seq;
        let meta;
        let pcm: Int16Array;
        try {
          meta = parseFrameHeaders(callId, msg.headers);
          pcm = pcm16FromBytes(msg.data);
        } catch (err) {
          metrics.badFrames.inc();
          log.warn({ err, streamSeq: msg.seq }, "skipping an unusable audio frame");
          continue;
        }
        if (meta.seq <= processedSeq) {
          metrics.duplicateFrames.inc();
          continue;
        }
        if (meta.seq !== processedSeq + 1) {
          metrics.frameGaps.inc(meta.seq - processedSeq - 1);
          log.warn({ expected: processedSeq + 1, got: meta.seq }, "audio frames missing; recognising on");
        }
        processedSeq = meta.seq;
        if (!stream) {
          sampleRate = meta.sampleRate;
          stream = engine.openStream({
            sampleRate: meta.sampleRate,
            interimResults: true,
            labels: { callId, leg },
          });
          stream.onEvent(onEvent);
        } else if (meta.sampleRate !== sampleRate) {
          metrics.badFrames.inc();
          log.warn(
            { expected: sampleRate, got: meta.sampleRate, seq: meta.seq },
            "frame sample rate changed mid-leg; skipped",
          );
          continue;
        }
        // A replay arrives far faster than real time: while this stream's backlog is full, pushAudio
        // refuses without taking the audio, and reading waits for the engine to catch up.
        while (!signal.aborted && !tryPush(stream, pcm)) await sleep(10);
        samples += pcm.length;
        language?.pushAudio(pcm, meta.sampleRate);
        if (ctx.emotion)
          (emotionAudio ??= new LegAudioWindow(meta.sampleRate, ctx.emotion.maxSegmentMs / 1000 + 5)).push(
            pcm,
          );
        if (meta.last || (targetSeq !== undefined && meta.seq >= targetSeq)) {
          reachedEnd = true;
          break;
        }
      }
      if (!reopen || reachedEnd || idle || signal.aborted) break;
      reopen = false;
      messages = await reopenReader(lastStreamSeq);
    }
  } finally {
    reading = false;
    clearTimeout(idleTimer);
    signal.removeEventListener("abort", stop);
    stop();
  }

  if (signal.aborted) {
    stream?.cancel();
    await publishing;
    throw new LegAbortedError(`leg ${leg} of call ${callId} was abandoned`);
  }
  if (!reachedEnd && !idle) {
    stream?.cancel();
    await publishing;
    throw new Error(
      `the audio of leg ${leg} stopped arriving before its last frame (the NATS connection closed?)`,
    );
  }
  if (stream) await stream.finish();
  await publishing;
  if (publishError !== undefined) throw publishError;
  const audioMs = sampleRate > 0 ? Math.round((samples / sampleRate) * 1000) : 0;
  metrics.audioSeconds.inc(audioMs / 1000);
  const done: LegDone = {
    callId,
    leg,
    utterances: finals,
    audioMs,
    model: { name: engine.model.name, version: engine.model.version },
  };
  await publishLegDone(messaging, done, signal, log);
  log.info({ utterances: finals, audioMs, lastSeq: processedSeq }, "leg done");
  return done;
}

/** The leg-done marker, once: a marker already stored (by an earlier run of the leg) is left alone. */
async function publishLegDone(
  messaging: Messaging,
  done: LegDone,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await messaging.js.publish(subjects.legDone(done.callId, done.leg), encodeEvent(LegDone, done), {
        msgID: legDoneMsgId(done.callId, done.leg),
        expect: { lastSubjectSequence: 0 },
      });
      return;
    } catch (err) {
      if (isWrongLastSequence(err)) return;
      if (signal.aborted) throw err;
      if (attempt === 0) log.warn({ err }, "leg-done marker not published; retrying");
      await sleep(Math.min(PUBLISH_RETRY_MAX_MS, 100 * 2 ** attempt));
    }
  }
}

/** The last utterance RESULTS holds for a leg; seq -1 and stream sequence 0 when it holds none. */
async function lastStoredUtterance(messaging: Messaging, callId: string, leg: Leg): Promise<StoredPosition> {
  const last = await messaging.jsm.streams.getMessage("RESULTS", {
    last_by_subj: subjects.utterance(callId, leg),
  });
  if (!last) return { seq: -1, streamSeq: 0 };
  return { seq: decodeEvent(UtteranceResult, last.data, "stored utterance").seq, streamSeq: last.seq };
}

function tryPush(stream: RecognitionStream, pcm: Int16Array): boolean {
  try {
    stream.pushAudio(pcm);
    return true;
  } catch (err) {
    if (err instanceof ResourceExhaustedError) return false;
    throw err;
  }
}

/** The sequence number of the last frame AUDIO holds for a leg; -1 when it holds none. */
async function lastFrameSeq(messaging: Messaging, callId: string, leg: Leg): Promise<number> {
  const last = await messaging.jsm.streams.getMessage("AUDIO", { last_by_subj: subjects.audio(callId, leg) });
  if (!last) return -1;
  return parseFrameHeaders(callId, last.header).seq;
}
