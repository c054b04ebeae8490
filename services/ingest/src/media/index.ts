/**
 * Media side of ingest: RTP/RTCP receivers, jitter buffers, G.711/G.722 decoding, DTMF, and publishing
 * of PCM frames and call events to JetStream. The SIP side drives it only through this module.
 *
 * Notes for the SIP side (additions to the agreed boundary, all optional):
 * - createMediaGateway options: maxBufferedFramesTotal, concealment, publishTimeoutMs, publishWindow, publishBatchMs,
 *   statsIntervalMs, endFlushTimeoutMs (see MediaGatewayOptions in types.ts for defaults).
 * - MediaCall.stats(): per-leg counters.
 * - reservePort() may be called before startCall(); RTP that arrives on a reserved port before
 *   startCall() is ignored. A ReservedPort passed to startCall() is released by the call's end();
 *   release() is idempotent, so calling it again (or for a port whose call never started) is safe.
 * - startCall() throws UnavailableError when call.<id>.started cannot be published (answer 503), and
 *   InvalidArgumentError for a port this gateway did not reserve or a leg listed twice.
 * - Legs are published as given; a SIPREC "mixed" stream should be answered by the SIP side and simply
 *   not passed to startCall() (its port can be released, or reserved and never started).
 * - update(): a leg whose direction is "recvonly" or "inactive" (the offerer sends nothing) is on hold and
 *   never times out; when it resumes, its timeline restarts without filling the hold with silence. A
 *   codec change flushes the leg's jitter buffer and continues the same frame sequence.
 * - Published: call.<id>.started (in startCall), audio.<id>.<leg> frames (every leg ends with a frame
 *   marked last, possibly empty), call.<id>.dtmf (DtmfEvent.atMs = the key press's offset in the leg's
 *   published audio), call.<id>.ended (after the leg's frames are acknowledged; lastSeq per leg, and the
 *   receiver counters as stats "<leg>.<counter>").
 */
export type {
  CodecName,
  NegotiatedCodec,
  MediaDirection,
  LegMediaSpec,
  CallInfo,
  ReservedPort,
  MediaCall,
  MediaGateway,
  MediaGatewayOptions,
  EndReason,
  MediaEndReason,
  LegStats,
} from "./types.ts";
export { createMediaGateway } from "./gateway.ts";
export { encodeRtp, parseRtp, RtpFormatError, type RtpPacket, type RtpFormatReason } from "./rtp.ts";
export { G722Encoder, G722Decoder } from "./g722.ts";
export { encodeTelephoneEvent, DTMF_EVENT_CODES } from "./dtmf.ts";
