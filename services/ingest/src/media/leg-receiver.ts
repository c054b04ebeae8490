import { decodeAlaw, decodeMulaw } from "@callscribe/audio";
import type { Leg } from "@callscribe/messaging";
import type { Logger } from "pino";
import { DtmfDetector, parseTelephoneEvent, type DtmfDigit } from "./dtmf.ts";
import { G722Decoder } from "./g722.ts";
import { JitterBuffer, type JitterBufferStats } from "./jitter-buffer.ts";
import type { MediaMetrics } from "./metrics.ts";
import type { RtpSocketPair } from "./port-pool.ts";
import { ReceptionStatistics, parseRtcpCompound } from "./rtcp.ts";
import { RtpFormatError, parseRtp } from "./rtp.ts";
import type { LegMediaSpec, LegStats, MediaDirection, NegotiatedCodec } from "./types.ts";

export interface LegFrame {
  pcm: Int16Array;
  captureMs: number;
  sampleRate: 8000 | 16000;
  last: boolean;
  /** performance.now() of the packet (or timer tick) that completed the frame. */
  arrivedAt: number;
}

export interface LegReceiverOptions {
  callId: string;
  spec: LegMediaSpec;
  sockets: RtpSocketPair;
  frameMs: number;
  jitterDelayMs: number;
  concealment: "silence" | "repeat";
  metrics: MediaMetrics;
  logger: Logger;
  /** Returns false when the call's publish buffer is full. */
  onFrame: (leg: Leg, frame: LegFrame) => boolean;
  onDtmf: (leg: Leg, digit: DtmfDigit, atMs: number) => void;
  /** The publish buffer refused a frame: the call must end. */
  onOverflow: (leg: Leg) => void;
}

const JITTER_EVENTS: [keyof JitterBufferStats, string][] = [
  ["duplicates", "duplicate"],
  ["late", "late"],
  ["reordered", "reordered"],
  ["lost", "lost"],
  ["ssrcChanges", "ssrc_change"],
  ["strayPackets", "stray"],
  ["timestampJumps", "timestamp_jump"],
  ["seqRestarts", "seq_restart"],
];

/** Decodes a payload into `out`; returns the sample count. */
type Decode = (payload: Uint8Array, out: Int16Array<ArrayBuffer>) => number;

function decoderFor(codec: NegotiatedCodec): Decode {
  switch (codec.name) {
    case "PCMU":
      return (payload, out) => (decodeMulaw(payload, out), payload.length);
    case "PCMA":
      return (payload, out) => (decodeAlaw(payload, out), payload.length);
    case "G722": {
      const decoder = new G722Decoder();
      return (payload, out) => decoder.decodeInto(payload, out);
    }
  }
}

/** The offerer sends RTP in these directions; otherwise the leg is on hold and cannot time out. */
export const sendsMedia = (direction: MediaDirection) => direction === "sendrecv" || direction === "sendonly";

/**
 * One m= stream: socket → RTP parse → payload-type check → SSRC/sequence tracking → jitter buffer →
 * decoder → PCM frames of frameMs → the call's publisher. RFC 4733 events go to the DTMF detector and
 * hold their sequence numbers in the jitter buffer. RTCP on port+1 is read and counted.
 */
export class LegReceiver {
  readonly leg: Leg;
  private spec: LegMediaSpec;
  private jitter: JitterBuffer;
  private dtmf: DtmfDetector;
  private reception: ReceptionStatistics;
  private receptionSsrc: number | undefined;
  /** Date.now() of the last valid RTP packet, or of the start/resume of the leg. */
  lastMediaAt: number;
  private arrivedAt = 0;
  private overflowed = false;
  private finished = false;
  private readonly counters = {
    packets: 0,
    bytes: 0,
    malformed: 0,
    unexpectedPayloadType: 0,
    audioPackets: 0,
    dtmfPackets: 0,
    frames: 0,
    rtcpPackets: 0,
    rtcpMalformed: 0,
  };
  /** Packet counters already added to the Prometheus counters (per-packet label lookups cost too much). */
  private readonly exportedPackets = {
    packets: 0,
    bytes: 0,
    malformed: 0,
    unexpectedPayloadType: 0,
    audioPackets: 0,
    dtmfPackets: 0,
  };
  /** Jitter counters of replaced buffers (codec changes), and what was already exported as metrics. */
  private readonly retired: Partial<Record<keyof JitterBufferStats, number>> = {};
  private readonly exported: Partial<Record<keyof JitterBufferStats, number>> = {};
  private readonly onRtp = (msg: Buffer) => {
    try {
      this.receiveRtp(msg);
    } catch (err) {
      // A bug must not take down every call of the process; it is logged and the packet dropped.
      this.options.logger.error({ err, leg: this.leg }, "RTP packet handling failed");
    }
  };
  private readonly onRtcp = (msg: Buffer) => this.receiveRtcp(msg);
  private readonly onSocketError = (err: Error) =>
    this.options.logger.warn({ err, leg: this.leg }, "RTP socket error");

  constructor(private readonly options: LegReceiverOptions) {
    this.leg = options.spec.leg;
    this.spec = options.spec;
    this.jitter = this.createJitterBuffer(options.spec.codec);
    this.dtmf = new DtmfDetector(options.spec.codec.clockRate);
    this.reception = new ReceptionStatistics(options.spec.codec.clockRate);
    this.lastMediaAt = Date.now();
    options.sockets.rtp.on("message", this.onRtp);
    options.sockets.rtcp.on("message", this.onRtcp);
    options.sockets.rtp.on("error", this.onSocketError);
    options.sockets.rtcp.on("error", this.onSocketError);
  }

  get expectsMedia(): boolean {
    return sendsMedia(this.spec.direction);
  }

  get codec(): NegotiatedCodec {
    return this.spec.codec;
  }

  /** re-INVITE: hold/resume and codec change. */
  update(spec: LegMediaSpec): void {
    const wasSending = sendsMedia(this.spec.direction);
    const codecChanged =
      spec.codec.name !== this.spec.codec.name ||
      spec.codec.payloadType !== this.spec.codec.payloadType ||
      spec.codec.sampleRate !== this.spec.codec.sampleRate;
    this.spec = spec;
    if (codecChanged) {
      // The old decoder's audio ends here (its partial frame is published); the frame sequence goes on.
      const rest = this.jitter.finish();
      const captureMs = this.jitter.nextCaptureMs();
      this.retire(this.jitter.stats);
      if (rest.length > 0) this.emit(rest, captureMs);
      this.jitter = this.createJitterBuffer(spec.codec);
      this.dtmf = new DtmfDetector(spec.codec.clockRate);
      this.reception = new ReceptionStatistics(spec.codec.clockRate);
      this.receptionSsrc = undefined;
    }
    if (!wasSending && sendsMedia(spec.direction)) {
      // Resumed: the pause is not audio, so the next packet starts a new timeline; the media timeout
      // counts from now.
      this.jitter.restart();
      this.lastMediaAt = Date.now();
    }
  }

  /** Timer tick: conceals holes whose wait is over. */
  poll(nowMs: number): void {
    if (this.jitter.pending === 0 || this.finished) return;
    this.arrivedAt = performance.now();
    this.jitter.poll(nowMs);
  }

  /** Stops receiving, plays out what is buffered and queues the leg's last frame. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.detach();
    for (const digit of this.flushDtmf())
      this.options.onDtmf(this.leg, digit, this.jitter.positionMs(digit.timestamp));
    this.arrivedAt = performance.now();
    const rest = this.jitter.finish();
    const captureMs = this.jitter.nextCaptureMs();
    // Always a last frame (possibly empty), so consumers see where the leg ends.
    this.counters.frames++;
    this.options.onFrame(this.leg, {
      pcm: rest,
      captureMs,
      sampleRate: this.spec.codec.sampleRate,
      last: true,
      arrivedAt: this.arrivedAt,
    });
    this.syncMetrics();
  }

  stats(): LegStats {
    const j = this.jitterTotals();
    return {
      ...this.counters,
      received: j.received,
      duplicates: j.duplicates,
      late: j.late,
      reordered: j.reordered,
      lost: j.lost,
      concealedSamples: j.concealedSamples,
      silenceFilledSamples: j.silenceFilledSamples,
      ssrcChanges: j.ssrcChanges,
      strayPackets: j.strayPackets,
      timestampJumps: j.timestampJumps + j.seqRestarts,
    };
  }

  /** RFC 3550 receiver-report numbers and the jitter buffer's counters, for the periodic log line. */
  logStats(message: string): void {
    const report = this.reception.report();
    const jitterMs = (report.jitter * 1000) / this.spec.codec.clockRate;
    this.options.logger.info(
      {
        leg: this.leg,
        codec: this.spec.codec.name,
        ssrc: this.receptionSsrc,
        rtcp: { ...report, jitterMs: Math.round(jitterMs * 10) / 10 },
        stats: this.stats(),
      },
      message,
    );
  }

  /** Adds the counters' growth since the last call to the Prometheus counters. */
  syncMetrics(): void {
    const m = this.options.metrics;
    const c = this.counters;
    const e = this.exportedPackets;
    if (c.bytes > e.bytes) m.rtpBytes.inc(c.bytes - e.bytes);
    for (const [key, result] of [
      ["malformed", "malformed"],
      ["unexpectedPayloadType", "unexpected_payload_type"],
      ["audioPackets", "audio"],
      ["dtmfPackets", "telephone_event"],
    ] as const) {
      if (c[key] > e[key]) m.rtpPackets.inc({ result }, c[key] - e[key]);
      e[key] = c[key];
    }
    e.bytes = c.bytes;
    const totals = this.jitterTotals();
    for (const [key, event] of JITTER_EVENTS) {
      const delta = totals[key] - (this.exported[key] ?? 0);
      if (delta > 0) this.options.metrics.jitterEvents.inc({ event }, delta);
      this.exported[key] = totals[key];
    }
    const rate = this.spec.codec.sampleRate;
    for (const [key, metric] of [
      ["concealedSamples", this.options.metrics.concealedSeconds],
      ["silenceFilledSamples", this.options.metrics.silenceFilledSeconds],
    ] as const) {
      const delta = totals[key] - (this.exported[key] ?? 0);
      if (delta > 0) metric.inc(delta / rate);
      this.exported[key] = totals[key];
    }
  }

  private jitterTotals(): JitterBufferStats {
    const live = this.jitter.stats;
    const sum = { ...live };
    for (const key of Object.keys(this.retired) as (keyof JitterBufferStats)[])
      sum[key] += this.retired[key] ?? 0;
    return sum;
  }

  private retire(stats: JitterBufferStats): void {
    for (const key of Object.keys(stats) as (keyof JitterBufferStats)[]) {
      this.retired[key] = (this.retired[key] ?? 0) + stats[key];
    }
  }

  private createJitterBuffer(codec: NegotiatedCodec): JitterBuffer {
    return new JitterBuffer({
      clockRate: codec.clockRate,
      sampleRate: codec.sampleRate,
      frameMs: this.options.frameMs,
      delayMs: this.options.jitterDelayMs,
      concealment: this.options.concealment,
      decode: decoderFor(codec),
      onFrame: (pcm, captureMs) => this.emit(pcm, captureMs),
    });
  }

  private emit(pcm: Int16Array, captureMs: number): void {
    if (this.overflowed) return;
    const accepted = this.options.onFrame(this.leg, {
      pcm,
      captureMs,
      sampleRate: this.spec.codec.sampleRate,
      last: false,
      arrivedAt: this.arrivedAt,
    });
    if (accepted) {
      this.counters.frames++;
    } else {
      this.overflowed = true;
      this.options.onOverflow(this.leg);
    }
  }

  private receiveRtp(msg: Buffer): void {
    if (this.finished) return;
    this.counters.packets++;
    this.counters.bytes += msg.length;
    let packet;
    try {
      packet = parseRtp(msg);
    } catch (err) {
      if (!(err instanceof RtpFormatError)) throw err;
      this.counters.malformed++;
      return;
    }
    const codec = this.spec.codec;
    const isAudio = packet.payloadType === codec.payloadType;
    const isEvent = !isAudio && packet.payloadType === this.spec.telephoneEventPt;
    if (!isAudio && !isEvent) {
      this.counters.unexpectedPayloadType++;
      return;
    }
    const nowMs = Date.now();
    if (isAudio) this.counters.audioPackets++;
    else this.counters.dtmfPackets++;
    this.lastMediaAt = nowMs;
    this.arrivedAt = performance.now();
    this.jitter.push(
      {
        seq: packet.seq,
        timestamp: packet.timestamp,
        ssrc: packet.ssrc,
        payload: packet.payload,
        audio: isAudio,
      },
      nowMs,
    );
    if (packet.ssrc !== this.jitter.currentSsrc) return; // stray: not (yet) the source we play
    if (packet.ssrc !== this.receptionSsrc) {
      if (this.receptionSsrc !== undefined)
        this.logStats("rtp source changed; statistics of the previous one");
      this.reception = new ReceptionStatistics(codec.clockRate);
      this.receptionSsrc = packet.ssrc;
    }
    this.reception.update(packet.seq, packet.timestamp, nowMs, isAudio);
    if (isEvent) {
      const event = parseTelephoneEvent(packet.payload);
      if (!event) return;
      for (const digit of this.dtmf.push(packet.timestamp, event)) {
        this.options.onDtmf(this.leg, digit, this.jitter.positionMs(digit.timestamp));
      }
    }
  }

  private flushDtmf(): DtmfDigit[] {
    const digit = this.dtmf.flush();
    return digit ? [digit] : [];
  }

  private receiveRtcp(msg: Buffer): void {
    if (this.finished) return;
    const compound = parseRtcpCompound(msg);
    for (const kind of compound.kinds) this.options.metrics.rtcpPackets.inc({ type: kind });
    this.counters.rtcpPackets += compound.kinds.length;
    if (compound.malformed) {
      this.counters.rtcpMalformed++;
      this.options.metrics.rtcpPackets.inc({ type: "malformed" });
    }
    if (compound.senderReport) {
      this.options.logger.debug({ leg: this.leg, senderReport: compound.senderReport }, "rtcp sender report");
    }
  }

  private detach(): void {
    const { rtp, rtcp } = this.options.sockets;
    rtp.off("message", this.onRtp);
    rtcp.off("message", this.onRtcp);
    // Keep the error listeners: a socket without one would crash the process on an error event.
  }
}
