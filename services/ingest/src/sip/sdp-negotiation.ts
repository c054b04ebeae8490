import {
  parse as parseSdp,
  write as writeSdp,
  type MediaDescription,
  type SessionDescription,
} from "sdp-transform";
import type { CodecName, NegotiatedCodec } from "../media/index.ts";

/** Offer/answer (RFC 3264) for a recorder: audio in, nothing out. Pure: no I/O. */

export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

export type StreamRejection = "not-audio" | "port-zero" | "unsupported-profile" | "no-common-codec";

export interface OfferedStream {
  /** Position of the m= line in the offer; the answer keeps the same order and count. */
  index: number;
  label?: string;
  /** Set when a codec was agreed; undefined when the stream is rejected. */
  codec?: NegotiatedCodec;
  rejection?: StreamRejection;
  telephoneEventPt?: number;
  remote?: { address: string; port: number };
  /** From the offerer's point of view. */
  offerDirection: MediaDirection;
  /** What we put in the answer. */
  answerDirection: MediaDirection;
}

export interface NegotiatedOffer {
  streams: OfferedStream[];
  /** Parsed offer, kept to write an answer that mirrors its m= lines. */
  parsed: SessionDescription;
}

export type SdpNegotiationReason = "malformed" | "no-common-codec";

export class SdpNegotiationError extends Error {
  override readonly name = "SdpNegotiationError";
  constructor(
    readonly reason: SdpNegotiationReason,
    message: string,
  ) {
    super(message);
  }
}

interface CodecSpec {
  name: CodecName;
  staticPt: number;
  sampleRate: 8000 | 16000;
}

// G.722's RTP clock is 8000 although it carries 16 kHz audio (RFC 3551 §4.5.2, an old mistake kept).
const CODECS: CodecSpec[] = [
  { name: "PCMU", staticPt: 0, sampleRate: 8000 },
  { name: "PCMA", staticPt: 8, sampleRate: 8000 },
  { name: "G722", staticPt: 9, sampleRate: 16000 },
];

export const supportedCodecs: readonly CodecName[] = CODECS.map((c) => c.name);

const MAX_SDP_BYTES = 16_384;
const MAX_MEDIA_LINES = 16;

/**
 * Agrees a codec per m= line: the first payload type in the offer's order that we support. Throws
 * SdpNegotiationError "malformed" for SDP that cannot be an offer, "no-common-codec" when no audio
 * stream can be accepted (the caller answers 488).
 */
export function negotiateOffer(
  sdp: string,
  enabled: readonly CodecName[] = supportedCodecs,
): NegotiatedOffer {
  const parsed = parseOffer(sdp);
  const sessionAddress = parsed.connection?.ip;
  const sessionDirection = parsed.direction ?? "sendrecv";
  const streams = parsed.media.map((media, index) =>
    negotiateStream(media, index, sessionAddress, sessionDirection, enabled),
  );
  if (!streams.some((s) => s.codec)) {
    const why = streams.map((s) => s.rejection).join(", ");
    throw new SdpNegotiationError("no-common-codec", `no audio stream with a codec we support (${why})`);
  }
  return { streams, parsed };
}

function parseOffer(sdp: string): SessionDescription {
  if (sdp.length > MAX_SDP_BYTES)
    throw new SdpNegotiationError("malformed", `SDP longer than ${MAX_SDP_BYTES} bytes`);
  if (!/^v=0\r?\n/.test(sdp)) throw new SdpNegotiationError("malformed", "SDP does not start with v=0");
  let parsed: SessionDescription;
  try {
    parsed = parseSdp(sdp);
  } catch {
    throw new SdpNegotiationError("malformed", "SDP could not be parsed");
  }
  if (!parsed.origin || !Array.isArray(parsed.media) || parsed.media.length === 0) {
    throw new SdpNegotiationError("malformed", "SDP has no o= line or no m= line");
  }
  if (parsed.media.length > MAX_MEDIA_LINES) {
    throw new SdpNegotiationError("malformed", `SDP has more than ${MAX_MEDIA_LINES} m= lines`);
  }
  for (const media of parsed.media) {
    if (
      !Number.isInteger(media.port) ||
      media.port < 0 ||
      media.port > 65535 ||
      typeof media.protocol !== "string"
    ) {
      throw new SdpNegotiationError("malformed", "an m= line has no valid port or protocol");
    }
    if (media.port > 0 && !media.connection?.ip && !parsed.connection?.ip) {
      throw new SdpNegotiationError("malformed", "an m= line has no c= address, at media or session level");
    }
  }
  return parsed;
}

function negotiateStream(
  media: MediaDescription,
  index: number,
  sessionAddress: string | undefined,
  sessionDirection: MediaDirection,
  enabled: readonly CodecName[],
): OfferedStream {
  const offerDirection = (media.direction ?? sessionDirection) as MediaDirection;
  const label = media.label === undefined ? undefined : String(media.label);
  const base = { index, label, offerDirection, answerDirection: "inactive" as MediaDirection };
  if (media.type !== "audio") return { ...base, rejection: "not-audio" };
  if (media.port === 0) return { ...base, rejection: "port-zero" };
  // Plain RTP only: SRTP (RTP/SAVP) needs keys we do not handle; AVPF feedback is harmless to ignore.
  if (media.protocol !== "RTP/AVP" && media.protocol !== "RTP/AVPF")
    return { ...base, rejection: "unsupported-profile" };
  const payloads = String(media.payloads ?? "")
    .split(/\s+/)
    .filter((p) => /^\d{1,3}$/.test(p))
    .map(Number);
  let codec: NegotiatedCodec | undefined;
  for (const pt of payloads) {
    const spec = codecForPayload(media, pt);
    if (spec && enabled.includes(spec.name)) {
      codec = { name: spec.name, payloadType: pt, clockRate: 8000, sampleRate: spec.sampleRate };
      break;
    }
  }
  if (!codec) return { ...base, rejection: "no-common-codec" };
  const telephoneEventPt = payloads.find((pt) =>
    media.rtp.some((r) => r.payload === pt && r.codec.toLowerCase() === "telephone-event" && r.rate === 8000),
  );
  const address = media.connection?.ip ?? sessionAddress ?? "";
  return {
    ...base,
    codec,
    telephoneEventPt,
    remote: { address, port: media.port },
    answerDirection: answerDirectionFor(offerDirection),
  };
}

function codecForPayload(media: MediaDescription, pt: number): CodecSpec | undefined {
  const rtpmap = media.rtp.find((r) => r.payload === pt);
  if (!rtpmap) return pt < 96 ? CODECS.find((c) => c.staticPt === pt) : undefined;
  const name = rtpmap.codec.toUpperCase();
  return CODECS.find((c) => c.name === name && rtpmap.rate === 8000 && (rtpmap.encoding ?? 1) === 1);
}

/** A recorder never sends: it receives what the offerer sends, and nothing when the offerer sends nothing. */
export function answerDirectionFor(offer: MediaDirection): MediaDirection {
  return offer === "sendrecv" || offer === "sendonly" ? "recvonly" : "inactive";
}

export interface AnswerOptions {
  /** Our media address, IPv4 or IPv6. */
  address: string;
  /** RTP port per m= line of the offer; 0 rejects the stream. */
  ports: number[];
  sessionId: number;
  sessionVersion: number;
}

/** Writes the SDP answer: one m= line per offered line, same order (RFC 3264 §6). */
export function buildAnswer(offer: NegotiatedOffer, options: AnswerOptions): string {
  const ipVer = options.address.includes(":") ? 6 : 4;
  const media = offer.streams.map((stream): MediaDescription => {
    const offered = offer.parsed.media[stream.index]!;
    const port = stream.codec ? (options.ports[stream.index] ?? 0) : 0;
    if (port === 0 || !stream.codec) {
      const firstPayload = String(offered.payloads ?? "0").split(/\s+/)[0] || "0";
      return {
        type: offered.type,
        port: 0,
        protocol: offered.protocol,
        payloads: firstPayload,
        rtp: [],
        fmtp: [],
      };
    }
    const rtp: MediaDescription["rtp"] = [
      { payload: stream.codec.payloadType, codec: stream.codec.name, rate: 8000 },
    ];
    const fmtp: MediaDescription["fmtp"] = [];
    if (stream.telephoneEventPt !== undefined) {
      rtp.push({ payload: stream.telephoneEventPt, codec: "telephone-event", rate: 8000 });
      fmtp.push({ payload: stream.telephoneEventPt, config: "0-16" });
    }
    const answer: MediaDescription = {
      type: "audio",
      port,
      protocol: "RTP/AVP",
      payloads: rtp.map((r) => r.payload).join(" "),
      rtp,
      fmtp,
      direction: stream.answerDirection,
    };
    if (stream.label !== undefined) answer.label = stream.label;
    return answer;
  });
  return writeSdp({
    version: 0,
    origin: {
      username: "callscribe",
      sessionId: options.sessionId,
      sessionVersion: options.sessionVersion,
      netType: "IN",
      ipVer,
      address: options.address,
    },
    name: "Callscribe recorder",
    connection: { version: ipVer, ip: options.address },
    timing: { start: 0, stop: 0 },
    media,
  });
}
