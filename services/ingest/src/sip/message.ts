/** A SIP message as RFC 3261 §7 defines it: start line, ordered headers, opaque body. */

/** One header field; `name` is the canonical lower-case long form ("v" becomes "via"). */
export interface SipHeader {
  name: string;
  value: string;
}

export interface SipRequest {
  kind: "request";
  method: string;
  uri: string;
  headers: SipHeader[];
  body: Uint8Array;
}

export interface SipResponse {
  kind: "response";
  status: number;
  reason: string;
  headers: SipHeader[];
  body: Uint8Array;
}

export type SipMessage = SipRequest | SipResponse;

export const SIP_VERSION = "SIP/2.0";

// RFC 3261 §7.3.3 and the extensions that define compact forms (RFC 3265 o, RFC 3515 r, RFC 3841 ...).
const COMPACT_FORMS: Record<string, string> = {
  v: "via",
  f: "from",
  t: "to",
  i: "call-id",
  m: "contact",
  l: "content-length",
  c: "content-type",
  k: "supported",
  s: "subject",
  e: "content-encoding",
  o: "event",
  r: "refer-to",
  u: "allow-events",
};

/** Lower-case long name of a header, whatever form it arrived in. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT_FORMS[lower] ?? lower;
}

// Headers whose grammar is `#element`, so one line may carry several comma-separated values. Auth
// headers and dates are excluded on purpose: their values contain commas of their own.
const LIST_HEADERS = new Set([
  "via",
  "contact",
  "route",
  "record-route",
  "allow",
  "supported",
  "require",
  "proxy-require",
  "unsupported",
  "accept",
  "accept-encoding",
  "accept-language",
  "allow-events",
  "content-encoding",
]);

/** First value of a header, or undefined. */
export function getHeader(message: { headers: SipHeader[] }, name: string): string | undefined {
  const wanted = canonicalHeaderName(name);
  for (const h of message.headers) if (h.name === wanted) return h.value;
  return undefined;
}

/** Every value of a header, in order, with comma lists split (outside quotes and angle brackets). */
export function getHeaderValues(message: { headers: SipHeader[] }, name: string): string[] {
  const wanted = canonicalHeaderName(name);
  const values: string[] = [];
  for (const h of message.headers) {
    if (h.name !== wanted) continue;
    if (LIST_HEADERS.has(wanted)) values.push(...splitHeaderList(h.value));
    else values.push(h.value);
  }
  return values;
}

/** Splits "a, <sip:b,c>;x, \"d,e\" <sip:f>" at top-level commas only. */
export function splitHeaderList(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuotes) {
      if (ch === "\\") i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
    else if (ch === "<") inAngle = true;
    else if (ch === ">") inAngle = false;
    else if (ch === "," && !inAngle) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

/** Display names of the canonical header names when writing, e.g. "call-id" → "Call-ID". */
const WIRE_NAMES: Record<string, string> = {
  "call-id": "Call-ID",
  cseq: "CSeq",
  "www-authenticate": "WWW-Authenticate",
  "record-route": "Record-Route",
  "retry-after": "Retry-After",
  "max-forwards": "Max-Forwards",
  "user-agent": "User-Agent",
};

export function wireHeaderName(name: string): string {
  return (
    WIRE_NAMES[name] ?? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
  );
}

const encoder = new TextEncoder();

/** Writes a message; Content-Length always equals the body's length, whatever the headers said. */
export function serializeSipMessage(message: SipMessage): Uint8Array {
  const startLine =
    message.kind === "request"
      ? `${message.method} ${message.uri} ${SIP_VERSION}`
      : `${SIP_VERSION} ${message.status} ${message.reason}`;
  const lines = [startLine];
  for (const h of message.headers) {
    if (h.name === "content-length") continue;
    lines.push(`${wireHeaderName(h.name)}: ${h.value}`);
  }
  lines.push(`Content-Length: ${message.body.length}`, "", "");
  const head = encoder.encode(lines.join("\r\n"));
  const out = new Uint8Array(head.length + message.body.length);
  out.set(head, 0);
  out.set(message.body, head.length);
  return out;
}

/** Builds a header list from pairs, canonicalising names. */
export function headers(...pairs: [string, string | number | undefined][]): SipHeader[] {
  const list: SipHeader[] = [];
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    list.push({ name: canonicalHeaderName(name), value: String(value) });
  }
  return list;
}

export const textBody = (text: string): Uint8Array => encoder.encode(text);
const decoder = new TextDecoder();
export const bodyText = (body: Uint8Array): string => decoder.decode(body);
