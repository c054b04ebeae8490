import type { SipMessage } from "./message.ts";
import {
  SipParseError,
  contentLength,
  defaultSipParseLimits,
  findHeaderEnd,
  parseHead,
  parseSipMessage,
  type SipParseLimits,
} from "./parser.ts";

export type FramedItem =
  | { kind: "message"; message: SipMessage }
  /** A whole frame that is not a valid message; the stream itself is still in step. */
  | { kind: "invalid"; error: SipParseError }
  | { kind: "keepalive" };

/**
 * Cuts SIP messages out of a TCP byte stream by Content-Length (RFC 3261 §18.3). A framing error is
 * fatal for the connection: after it, the stream position is unknown, so the caller closes it.
 * Buffered bytes never exceed the message size limit.
 */
export class SipStreamFramer {
  private buffer = new Uint8Array(0);

  constructor(private readonly limits: SipParseLimits = defaultSipParseLimits) {}

  /** Appends bytes and returns every complete message; throws SipParseError on a framing error. */
  push(chunk: Uint8Array): FramedItem[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer, 0);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    const items: FramedItem[] = [];
    for (;;) {
      const item = this.next();
      if (!item) break;
      items.push(item);
    }
    if (this.buffer.length > this.limits.maxMessageBytes) {
      throw new SipParseError(
        "too-large",
        `more than ${this.limits.maxMessageBytes} bytes without a whole SIP message`,
      );
    }
    return items;
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.buffer.length;
  }

  private next(): FramedItem | undefined {
    // RFC 5626 keep-alive: a double CRLF between messages; the peer wants a single CRLF back.
    let start = 0;
    while (start < this.buffer.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a))
      start++;
    if (start > 0) {
      const crlfs = start;
      this.buffer = this.buffer.slice(start);
      if (crlfs >= 4) return { kind: "keepalive" };
    }
    const headerEnd = findHeaderEnd(this.buffer);
    if (headerEnd < 0) return undefined;
    const head = parseHead(this.buffer.subarray(0, headerEnd), this.limits);
    const length = contentLength(head);
    if (length === undefined) {
      throw new SipParseError("missing-content-length", "SIP over TCP needs a Content-Length header", head);
    }
    if (length > this.limits.maxBodyBytes) {
      throw new SipParseError(
        "too-large",
        `SIP body of ${length} bytes exceeds ${this.limits.maxBodyBytes}`,
        head,
      );
    }
    const end = headerEnd + length;
    if (this.buffer.length < end) return undefined;
    const frame = this.buffer.subarray(0, end);
    this.buffer = this.buffer.slice(end);
    try {
      return { kind: "message", message: parseSipMessage(frame, "tcp", this.limits) };
    } catch (err) {
      return { kind: "invalid", error: err as SipParseError }; // parseSipMessage throws nothing else
    }
  }
}
