import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";

/** Headers on every AUDIO frame. */
export const FrameHeader = {
  /** Frame sequence within the leg, from 0, no gaps: the consumer checks order with it. */
  seq: "Callscribe-Seq",
  /** Capture time of the frame's first sample, ms since the Unix epoch. */
  captureMs: "Callscribe-Capture-Ms",
  /** Samples per second of the PCM16LE payload: 8000 or 16000. */
  sampleRate: "Callscribe-Sample-Rate",
  /** Set on the leg's last frame. */
  last: "Callscribe-Last",
} as const;

export interface FrameMeta {
  callId: string;
  seq: number;
  captureMs: number;
  sampleRate: 8000 | 16000;
  last: boolean;
}

export class MessageHeaderError extends Error {
  override readonly name = "MessageHeaderError";
}

export function frameHeaders(meta: Omit<FrameMeta, "callId">): MsgHdrs {
  const h = natsHeaders();
  h.set(FrameHeader.seq, String(meta.seq));
  h.set(FrameHeader.captureMs, String(meta.captureMs));
  h.set(FrameHeader.sampleRate, String(meta.sampleRate));
  if (meta.last) h.set(FrameHeader.last, "1");
  return h;
}

function wholeNumber(h: MsgHdrs, name: string): number {
  const raw = h.get(name);
  if (raw === "") throw new MessageHeaderError(`audio frame has no ${name} header`);
  if (!/^\d{1,15}$/.test(raw))
    throw new MessageHeaderError(`audio frame header ${name} is not a whole number: "${raw.slice(0, 20)}"`);
  return Number(raw);
}

/** Reads and checks a frame's headers; a typed error names the bad one. */
export function parseFrameHeaders(callId: string, h: MsgHdrs | undefined): FrameMeta {
  if (!h)
    throw new MessageHeaderError("audio frame has no headers; it was not published by Callscribe ingest");
  const sampleRate = wholeNumber(h, FrameHeader.sampleRate);
  if (sampleRate !== 8000 && sampleRate !== 16000) {
    throw new MessageHeaderError(`audio frame sample rate ${sampleRate} is not 8000 or 16000`);
  }
  return {
    callId,
    seq: wholeNumber(h, FrameHeader.seq),
    captureMs: wholeNumber(h, FrameHeader.captureMs),
    sampleRate,
    last: h.get(FrameHeader.last) === "1",
  };
}

/** Message id for JetStream deduplication of a frame. */
export const frameMsgId = (callId: string, leg: string, seq: number) => `a.${callId}.${leg}.${seq}`;
