import { parseParams } from "./header-values.ts";
import { SipParseError, findHeaderEnd, parseHead } from "./parser.ts";
import { getHeader } from "./message.ts";

/** One part of a multipart/mixed body (RFC 2046 §5.1), as SIPREC INVITEs carry SDP and metadata. */
export interface BodyPart {
  contentType: string;
  body: Uint8Array;
}

export interface MediaType {
  /** Lower-case "type/subtype". */
  type: string;
  params: Record<string, string>;
}

export function parseMediaType(value: string): MediaType {
  const semi = value.indexOf(";");
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) {
    throw new SipParseError("bad-header", "Content-Type is not 'type/subtype'");
  }
  return { type, params: semi < 0 ? {} : parseParams(value.slice(semi)) };
}

const MAX_PARTS = 8;
const encoder = new TextEncoder();

/** Splits a multipart body at its boundary; throws SipParseError for a body that does not follow RFC 2046. */
export function parseMultipart(body: Uint8Array, boundary: string): BodyPart[] {
  if (!/^[0-9A-Za-z'()+_,./:=? -]{1,70}$/.test(boundary)) {
    throw new SipParseError("bad-header", "multipart boundary is missing or longer than 70 characters");
  }
  const delimiter = encoder.encode(`--${boundary}`);
  const positions: number[] = [];
  for (let from = 0; ;) {
    const at = indexOf(body, delimiter, from);
    if (at < 0) break;
    // A delimiter only counts at the start of the body or of a line.
    if (at === 0 || body[at - 1] === 0x0a) positions.push(at);
    from = at + delimiter.length;
  }
  if (positions.length < 2) throw new SipParseError("bad-header", "multipart body has no closing boundary");
  const parts: BodyPart[] = [];
  for (let i = 0; i + 1 < positions.length; i++) {
    let start = positions[i]! + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // "--boundary--" closes the body
    while (body[start] === 0x20 || body[start] === 0x09) start++;
    if (body[start] === 0x0d) start++;
    if (body[start] !== 0x0a)
      throw new SipParseError("bad-header", "multipart boundary line has junk after it");
    start++;
    // The CRLF before the next delimiter belongs to the delimiter.
    let end = positions[i + 1]!;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    if (end < start) end = start;
    parts.push(parsePart(body.subarray(start, end)));
    if (parts.length > MAX_PARTS)
      throw new SipParseError("too-many-headers", `more than ${MAX_PARTS} body parts`);
  }
  const last = positions[positions.length - 1]! + delimiter.length;
  if (!(body[last] === 0x2d && body[last + 1] === 0x2d)) {
    throw new SipParseError("bad-header", "multipart body does not end with its closing boundary");
  }
  return parts;
}

function parsePart(bytes: Uint8Array): BodyPart {
  // A part with no headers starts with its blank line.
  if (bytes[0] === 0x0a || (bytes[0] === 0x0d && bytes[1] === 0x0a)) {
    return { contentType: "text/plain", body: bytes.slice(bytes[0] === 0x0a ? 1 : 2) };
  }
  const headerEnd = findHeaderEnd(bytes);
  if (headerEnd < 0)
    throw new SipParseError("bad-header", "a multipart part has no blank line after its headers");
  // parseHead wants a start line; a part has none, so give it a dummy one.
  const head = parseHead(concat(encoder.encode("PART\r\n"), bytes.subarray(0, headerEnd)));
  const contentType = getHeader(head, "content-type") ?? "text/plain";
  return { contentType, body: bytes.slice(headerEnd) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
