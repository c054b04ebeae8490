import { canonicalHeaderName, type SipHeader, type SipMessage } from "./message.ts";

/** Why bytes are not a SIP message; stable, so callers and metrics can branch on it. */
export type SipParseReason =
  | "empty"
  | "too-large"
  | "no-header-end"
  | "bad-encoding"
  | "bad-start-line"
  | "bad-header"
  | "too-many-headers"
  | "header-too-long"
  | "bad-content-length"
  | "missing-content-length"
  | "truncated-body"
  | "internal";

/** The start line and headers, when the failure came after them, so a 400 can still be answered. */
export interface SipHead {
  startLine: string;
  headers: SipHeader[];
}

export class SipParseError extends Error {
  override readonly name = "SipParseError";
  constructor(
    readonly reason: SipParseReason,
    message: string,
    readonly head?: SipHead,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SipParseLimits {
  maxMessageBytes: number;
  maxHeaders: number;
  maxHeaderLineBytes: number;
  maxBodyBytes: number;
}

// A SIP message over UDP must fit one datagram; 64 KiB bounds TCP messages the same way. SIPREC
// metadata for a two-party call is a few kilobytes.
export const defaultSipParseLimits: SipParseLimits = {
  maxMessageBytes: 65_535,
  maxHeaders: 128,
  maxHeaderLineBytes: 8_192,
  maxBodyBytes: 32_768,
};

export type SipTransportKind = "udp" | "tcp";

const LF = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder("utf-8", { fatal: true });

const METHOD = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const REQUEST_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
// Control characters other than HT have no place in a header; a bare CR here is header injection.
const FORBIDDEN_IN_HEADER = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Index just past the blank line that ends the headers (CRLFCRLF, or bare LFs as lenient peers send),
 * or -1 when the bytes hold no complete header section yet.
 */
export function findHeaderEnd(bytes: Uint8Array, from = 0): number {
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    const next = bytes[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** Parses one whole message, as a UDP datagram or a frame cut from a TCP stream. Throws only SipParseError. */
export function parseSipMessage(
  bytes: Uint8Array,
  transport: SipTransportKind,
  limits: SipParseLimits = defaultSipParseLimits,
): SipMessage {
  try {
    return parseUnchecked(bytes, transport, limits);
  } catch (err) {
    if (err instanceof SipParseError) throw err;
    throw new SipParseError("internal", "SIP message could not be parsed", undefined, { cause: err });
  }
}

function parseUnchecked(bytes: Uint8Array, transport: SipTransportKind, limits: SipParseLimits): SipMessage {
  if (bytes.length > limits.maxMessageBytes) {
    throw new SipParseError(
      "too-large",
      `SIP message of ${bytes.length} bytes exceeds ${limits.maxMessageBytes}`,
    );
  }
  let start = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives).
  while (start < bytes.length && (bytes[start] === CR || bytes[start] === LF)) start++;
  if (start === bytes.length) throw new SipParseError("empty", "no SIP message, only line breaks");
  const headerEnd = findHeaderEnd(bytes, start);
  if (headerEnd < 0)
    throw new SipParseError("no-header-end", "SIP message has no blank line after its headers");
  const head = parseHead(bytes.subarray(start, headerEnd), limits);
  const declared = contentLength(head);
  const available = bytes.length - headerEnd;
  let bodyLength: number;
  if (declared === undefined) {
    if (transport === "tcp") {
      throw new SipParseError("missing-content-length", "SIP over TCP needs a Content-Length header", head);
    }
    bodyLength = available;
  } else {
    if (declared > available) {
      throw new SipParseError(
        "truncated-body",
        `Content-Length ${declared} but only ${available} body bytes arrived`,
        head,
      );
    }
    bodyLength = declared; // §18.3: extra datagram bytes past Content-Length are discarded
  }
  if (bodyLength > limits.maxBodyBytes) {
    throw new SipParseError(
      "too-large",
      `SIP body of ${bodyLength} bytes exceeds ${limits.maxBodyBytes}`,
      head,
    );
  }
  const body = bytes.slice(headerEnd, headerEnd + bodyLength);
  return toMessage(head, body);
}

/**
 * Decodes one header line: UTF-8 when it is valid UTF-8, else ISO-8859-1. Real PBXs put Latin-1 display
 * names in From and To ("Jos\xe9"); robust stacks accept them, so a byte that is not UTF-8 is read as
 * the Latin-1 character of the same value instead of refusing the message.
 */
function decodeLine(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  }
}

function splitLines(section: Uint8Array): string[] {
  const lines: string[] = [];
  let from = 0;
  for (let i = 0; i <= section.length; i++) {
    if (i < section.length && section[i] !== LF) continue;
    const end = i > from && section[i - 1] === CR ? i - 1 : i;
    lines.push(decodeLine(section.subarray(from, end)));
    from = i + 1;
  }
  return lines;
}

/**
 * Start line and headers of a header section (including its blank line). A bad header line does not
 * stop the reading: the rest are still collected, so the 400 that answers the message can carry its
 * Via, From, To, Call-ID and CSeq, and the first problem is thrown once the section has been read.
 */
export function parseHead(section: Uint8Array, limits: SipParseLimits = defaultSipParseLimits): SipHead {
  const lines = splitLines(section);
  // The section ends with its blank line; drop the two empty strings that leaves.
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const startLine = lines[0] ?? "";
  if (
    startLine.length === 0 ||
    startLine.length > limits.maxHeaderLineBytes ||
    FORBIDDEN_IN_HEADER.test(startLine)
  ) {
    throw new SipParseError(
      "bad-start-line",
      "SIP start line is empty, too long or holds control characters",
    );
  }
  const headers: SipHeader[] = [];
  let problem: { reason: SipParseReason; message: string } | undefined;
  const fail = (reason: SipParseReason, message: string) => {
    problem ??= { reason, message };
  };
  let current: SipHeader | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > limits.maxHeaderLineBytes) {
      fail("header-too-long", `a SIP header line exceeds ${limits.maxHeaderLineBytes} bytes`);
      current = undefined;
      continue;
    }
    if (FORBIDDEN_IN_HEADER.test(line)) {
      fail("bad-header", "a SIP header holds control characters");
      current = undefined;
      continue;
    }
    if (line[0] === " " || line[0] === "\t") {
      // §7.3.1 folding: a line starting with white space continues the previous header.
      if (!current) {
        fail("bad-header", "folded line before any header");
        continue;
      }
      current.value = `${current.value} ${line.trim()}`.trim();
      if (current.value.length > limits.maxHeaderLineBytes) {
        fail("header-too-long", "a folded SIP header is too long");
        headers.pop();
        current = undefined;
      }
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trimEnd() : "";
    if (!TOKEN.test(name)) {
      fail("bad-header", "a SIP header line has no valid name before ':'");
      current = undefined;
      continue;
    }
    if (headers.length >= limits.maxHeaders) {
      fail("too-many-headers", `more than ${limits.maxHeaders} SIP headers`);
      break;
    }
    current = { name: canonicalHeaderName(name), value: line.slice(colon + 1).trim() };
    headers.push(current);
  }
  if (problem) throw new SipParseError(problem.reason, problem.message, { startLine, headers });
  return { startLine, headers };
}

/** Declared body length, or undefined when no Content-Length header is present. */
export function contentLength(head: SipHead): number | undefined {
  let found: number | undefined;
  for (const h of head.headers) {
    if (h.name !== "content-length") continue;
    if (!/^\d{1,9}$/.test(h.value)) {
      throw new SipParseError("bad-content-length", "Content-Length is not a whole number", head);
    }
    const value = Number(h.value);
    if (found !== undefined && found !== value) {
      throw new SipParseError("bad-content-length", "two Content-Length headers disagree", head);
    }
    found = value;
  }
  return found;
}

function toMessage(head: SipHead, body: Uint8Array): SipMessage {
  const parts = head.startLine.split(" ");
  if (parts[0] === "SIP/2.0") {
    const status = parts[1] ?? "";
    if (!/^[1-6]\d\d$/.test(status)) {
      throw new SipParseError("bad-start-line", "SIP status line has no status code from 100 to 699", head);
    }
    return {
      kind: "response",
      status: Number(status),
      reason: parts.slice(2).join(" "),
      headers: head.headers,
      body,
    };
  }
  const [method, uri, version] = parts;
  if (parts.length !== 3 || !method || !uri || version !== "SIP/2.0") {
    throw new SipParseError("bad-start-line", "SIP request line is not 'METHOD uri SIP/2.0'", head);
  }
  if (!METHOD.test(method) || !REQUEST_URI.test(uri)) {
    throw new SipParseError("bad-start-line", "SIP request line has a bad method or Request-URI", head);
  }
  return { kind: "request", method, uri, headers: head.headers, body };
}
