import type { SipMessage } from "./message.ts";
import {
  SipParseError,
  defaultSipParseLimits,
  findHeaderEnd,
  parseHead,
  parseSipMessage,
  type SipHead,
  type SipParseLimits,
} from "./parser.ts";

export type FramedItem =
  | { kind: "message"; message: SipMessage }
  /** A whole frame that is not a valid message; the stream itself is still in step. */
  | { kind: "invalid"; error: SipParseError }
  | { kind: "keepalive" };

const LF = 0x0a;
const CR = 0x0d;
// Headers a response needs (§8.2.6.2) and the one framing needs, in full and compact form.
const KEPT_HEADERS = new Set([
  "via",
  "v",
  "from",
  "f",
  "to",
  "t",
  "call-id",
  "i",
  "cseq",
  "content-length",
  "l",
]);
const MAX_KEPT_HEADERS = 32;

/** A message too large to hold: its bytes are dropped as they come, keeping what a response needs. */
interface Discard {
  /** Still in the header section (reading lines) or in the body (dropping `bodyLeft` bytes). */
  inHeaders: boolean;
  startLine: string | undefined;
  kept: { name: string; value: string }[];
  /** The current header line passed the line limit; its bytes are dropped up to its LF. */
  longLine: boolean;
  bodyLeft: number;
  error: SipParseError | undefined;
}

/**
 * Cuts SIP messages out of a TCP byte stream by Content-Length (RFC 3261 §18.3). Framing reads only the
 * Content-Length header, so a message with a bad header elsewhere (a control character, bytes that are
 * not UTF-8) is still cut out whole and reported as invalid while the stream stays in step. A message
 * larger than the limits is dropped as it streams past, with bounded memory, and reported too. Only a
 * missing or unreadable Content-Length loses framing: then the position in the stream is unknown and
 * `push` throws, so the caller closes the connection. Buffered bytes never exceed the message size limit.
 */
export class SipStreamFramer {
  private buffer = new Uint8Array(0);
  private discard: Discard | undefined;

  constructor(private readonly limits: SipParseLimits = defaultSipParseLimits) {}

  /** Appends bytes and returns every complete message; throws SipParseError on a framing error. */
  push(chunk: Uint8Array): FramedItem[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer, 0);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    const items: FramedItem[] = [];
    for (;;) {
      const item = this.discard ? this.dropping() : this.next();
      if (!item) break;
      items.push(item);
    }
    if (this.buffer.length > this.limits.maxMessageBytes) {
      // Only reached when no header end is in sight within the limit: drop the message as it streams.
      this.startDiscard(undefined);
      const item = this.dropping();
      if (item) items.push(item);
      for (;;) {
        const more = this.discard ? this.dropping() : this.next();
        if (!more) break;
        items.push(more);
      }
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
    while (start < this.buffer.length && (this.buffer[start] === CR || this.buffer[start] === LF)) start++;
    if (start > 0) {
      const crlfs = start;
      this.buffer = this.buffer.slice(start);
      if (crlfs >= 4) return { kind: "keepalive" };
    }
    const headerEnd = findHeaderEnd(this.buffer);
    if (headerEnd < 0) return undefined;
    const section = this.buffer.subarray(0, headerEnd);
    const length = framingLength(section);
    if (length === undefined) {
      throw new SipParseError(
        "missing-content-length",
        "SIP over TCP needs a Content-Length header",
        headOf(section, this.limits),
      );
    }
    if (length > this.limits.maxBodyBytes || headerEnd + length > this.limits.maxMessageBytes) {
      const head = headOf(section, this.limits);
      this.buffer = this.buffer.slice(headerEnd);
      this.discard = {
        inHeaders: false,
        startLine: head?.startLine,
        kept: head?.headers ?? [],
        longLine: false,
        bodyLeft: length,
        error:
          length > this.limits.maxBodyBytes
            ? new SipParseError(
                "too-large",
                `SIP body of ${length} bytes exceeds ${this.limits.maxBodyBytes}`,
                head,
              )
            : new SipParseError(
                "header-too-long",
                `SIP message of ${headerEnd + length} bytes exceeds ${this.limits.maxMessageBytes}`,
                head,
              ),
      };
      return this.dropping();
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

  private startDiscard(error: SipParseError | undefined): void {
    this.discard = { inHeaders: true, startLine: undefined, kept: [], longLine: false, bodyLeft: 0, error };
  }

  /** Drops the bytes of an oversized message; returns its invalid item once it has streamed past. */
  private dropping(): FramedItem | undefined {
    const d = this.discard!;
    while (d.inHeaders) {
      const lf = this.buffer.indexOf(LF);
      if (lf < 0) {
        if (this.buffer.length > this.limits.maxHeaderLineBytes) {
          if (d.startLine === undefined) throw notSip(this.limits);
          d.longLine = true;
          this.buffer = new Uint8Array(0);
        }
        return undefined;
      }
      const end = lf > 0 && this.buffer[lf - 1] === CR ? lf - 1 : lf;
      const line = this.buffer.subarray(0, end);
      const wasLong = d.longLine;
      d.longLine = false;
      this.buffer = this.buffer.slice(lf + 1);
      if (wasLong) continue;
      if (line.length === 0) {
        d.inHeaders = false;
        const length = lengthOf(d.kept);
        if (length === undefined) {
          this.discard = undefined;
          throw new SipParseError(
            "missing-content-length",
            "an oversized SIP message has no Content-Length",
            {
              startLine: d.startLine ?? "",
              headers: d.kept,
            },
          );
        }
        d.bodyLeft = length;
        break;
      }
      if (line.length > this.limits.maxHeaderLineBytes) {
        if (d.startLine === undefined) throw notSip(this.limits);
        continue;
      }
      const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString("latin1");
      if (d.startLine === undefined) {
        d.startLine = text;
        continue;
      }
      const colon = text.indexOf(":");
      const name = colon > 0 ? text.slice(0, colon).trim().toLowerCase() : "";
      if (
        KEPT_HEADERS.has(name) &&
        d.kept.length < MAX_KEPT_HEADERS &&
        !/[\x00-\x08\x0a-\x1f\x7f]/.test(text)
      ) {
        d.kept.push({ name: canonicalName(name), value: text.slice(colon + 1).trim() });
      }
    }
    const drop = Math.min(d.bodyLeft, this.buffer.length);
    d.bodyLeft -= drop;
    this.buffer = this.buffer.slice(drop);
    if (d.bodyLeft > 0) return undefined;
    this.discard = undefined;
    const head: SipHead | undefined =
      d.startLine === undefined ? undefined : { startLine: d.startLine, headers: d.kept };
    const error =
      d.error ??
      new SipParseError(
        "header-too-long",
        `SIP header section exceeds ${this.limits.maxMessageBytes} bytes`,
        head,
      );
    return { kind: "invalid", error };
  }
}

/** Bytes without a start line within the line limit are not SIP: framing is lost. */
const notSip = (limits: SipParseLimits) =>
  new SipParseError("too-large", `more than ${limits.maxHeaderLineBytes} bytes without a SIP start line`);

const COMPACT: Record<string, string> = { v: "via", f: "from", t: "to", i: "call-id", l: "content-length" };
const canonicalName = (name: string) => COMPACT[name] ?? name;

/** The head as far as it can be read, for a response; undefined when even the start line is unreadable. */
function headOf(section: Uint8Array, limits: SipParseLimits): SipHead | undefined {
  try {
    return parseHead(section, limits);
  } catch (err) {
    return (err as SipParseError).head;
  }
}

function lengthOf(headers: { name: string; value: string }[]): number | undefined {
  let found: number | undefined;
  for (const h of headers) {
    if (h.name !== "content-length") continue;
    if (!/^\d{1,9}$/.test(h.value)) {
      throw new SipParseError("bad-content-length", "Content-Length is not a whole number");
    }
    const value = Number(h.value);
    if (found !== undefined && found !== value) {
      throw new SipParseError("bad-content-length", "two Content-Length headers disagree");
    }
    found = value;
  }
  return found;
}

/**
 * Content-Length of a header section read leniently (any bytes elsewhere in the section are fine), or
 * undefined when it has none; throws when it is unreadable, as framing is then lost.
 */
function framingLength(section: Uint8Array): number | undefined {
  const text = Buffer.from(section.buffer, section.byteOffset, section.byteLength).toString("latin1");
  const headers: { name: string; value: string }[] = [];
  for (const raw of text.split("\n").slice(1)) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const colon = line.indexOf(":");
    if (colon <= 0 || line[0] === " " || line[0] === "\t") continue;
    const name = canonicalName(line.slice(0, colon).trim().toLowerCase());
    if (name === "content-length") headers.push({ name, value: line.slice(colon + 1).trim() });
  }
  return lengthOf(headers);
}
