// RTP fixed header and its optional parts, RFC 3550 section 5.1. Every bound is checked before it is
// read: the bytes come from the network, and a malformed packet must end as an RtpFormatError only.

export const RTP_VERSION = 2;
const FIXED_HEADER = 12;

export interface RtpPacket {
  padding: boolean;
  marker: boolean;
  payloadType: number;
  /** 16-bit sequence number as sent. */
  seq: number;
  /** 32-bit RTP timestamp, unsigned. */
  timestamp: number;
  /** 32-bit synchronization source, unsigned. */
  ssrc: number;
  csrc: readonly number[];
  /** RFC 3550 5.3.1 header extension (RFC 8285 one/two-byte forms are carried in `data`). */
  extension?: { profile: number; data: Uint8Array };
  /** A view into the received bytes (no copy): use it before the buffer is reused. */
  payload: Uint8Array;
}

export type RtpFormatReason =
  "too-short" | "bad-version" | "csrc-past-end" | "extension-past-end" | "padding-past-end" | "zero-padding";

/** Bytes that are not a well-formed RTP packet. Counted and dropped by the receiver. */
export class RtpFormatError extends Error {
  override readonly name = "RtpFormatError";

  constructor(
    readonly reason: RtpFormatReason,
    message: string,
  ) {
    super(message);
  }
}

const NO_CSRC: readonly number[] = Object.freeze([]);

export function parseRtp(bytes: Uint8Array): RtpPacket {
  const length = bytes.length;
  if (length < FIXED_HEADER) {
    throw new RtpFormatError("too-short", `RTP packet of ${length} bytes is shorter than the 12-byte header`);
  }
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  const version = b0 >> 6;
  if (version !== RTP_VERSION) {
    throw new RtpFormatError("bad-version", `RTP version ${version}, expected 2`);
  }
  const padding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = FIXED_HEADER + 4 * csrcCount;
  if (offset > length) {
    throw new RtpFormatError("csrc-past-end", `${csrcCount} CSRCs do not fit in ${length} bytes`);
  }
  let csrc = NO_CSRC;
  if (csrcCount > 0) {
    const list: number[] = [];
    for (let i = 0; i < csrcCount; i++) list.push(readUint32(bytes, FIXED_HEADER + 4 * i));
    csrc = list;
  }
  let extension: RtpPacket["extension"];
  if (hasExtension) {
    if (offset + 4 > length) {
      throw new RtpFormatError("extension-past-end", "RTP header extension header is cut off");
    }
    const profile = (bytes[offset]! << 8) | bytes[offset + 1]!;
    const words = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    const end = offset + 4 + 4 * words;
    if (end > length) {
      throw new RtpFormatError(
        "extension-past-end",
        `RTP header extension of ${words} words runs past the end`,
      );
    }
    extension = { profile, data: bytes.subarray(offset + 4, end) };
    offset = end;
  }
  let payloadEnd = length;
  if (padding) {
    // The last octet counts the padding including itself (RFC 3550 5.1), so 0 is malformed.
    const count = bytes[length - 1]!;
    if (count === 0) throw new RtpFormatError("zero-padding", "RTP padding count of 0");
    if (count > length - offset) {
      throw new RtpFormatError(
        "padding-past-end",
        `RTP padding of ${count} bytes is longer than the payload`,
      );
    }
    payloadEnd = length - count;
  }
  const packet: RtpPacket = {
    padding,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    seq: (bytes[2]! << 8) | bytes[3]!,
    timestamp: readUint32(bytes, 4),
    ssrc: readUint32(bytes, 8),
    csrc,
    payload: bytes.subarray(offset, payloadEnd),
  };
  if (extension) packet.extension = extension;
  return packet;
}

export interface RtpPacketFields {
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  payload: Uint8Array;
}

/** A plain RTP packet (no CSRC, extension or padding), as a sender such as the `play` command needs. */
export function encodeRtp(p: RtpPacketFields): Uint8Array {
  const bytes = new Uint8Array(FIXED_HEADER + p.payload.length);
  bytes[0] = RTP_VERSION << 6;
  bytes[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  bytes[2] = (p.seq >> 8) & 0xff;
  bytes[3] = p.seq & 0xff;
  writeUint32(bytes, 4, p.timestamp);
  writeUint32(bytes, 8, p.ssrc);
  bytes.set(p.payload, FIXED_HEADER);
  return bytes;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 24) & 0xff;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}
