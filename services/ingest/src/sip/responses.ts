import { randomBytes } from "node:crypto";
import { BRANCH_COOKIE, formatVia, parseVia } from "./header-values.ts";
import type { SipHeader, SipResponse } from "./message.ts";
import type { SipPeer } from "./transport.ts";

export const REASON_PHRASES: Record<number, string> = {
  100: "Trying",
  180: "Ringing",
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  405: "Method Not Allowed",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  420: "Bad Extension",
  481: "Call/Transaction Does Not Exist",
  487: "Request Terminated",
  488: "Not Acceptable Here",
  491: "Request Pending",
  500: "Server Internal Error",
  503: "Service Unavailable",
};

export const SERVER_NAME = "Callscribe-ingest";

/**
 * A response built from a request as §8.2.6.2 says: Via (all, in order), From, Call-ID and CSeq
 * copied; To copied, with our tag added when given and the request had none. The top Via gets
 * `received` and `rport` (RFC 3581) so the response path is the one the request came by.
 */
export function responseTo(
  request: { headers: SipHeader[] },
  status: number,
  options: { peer?: SipPeer; toTag?: string; reason?: string; headers?: SipHeader[]; body?: Uint8Array } = {},
): SipResponse {
  const out: SipHeader[] = [];
  let topVia = true;
  for (const h of request.headers) {
    if (h.name === "via") {
      out.push({ name: "via", value: topVia && options.peer ? stampVia(h.value, options.peer) : h.value });
      topVia = false;
    }
  }
  for (const h of request.headers) {
    if (h.name === "from" || h.name === "call-id" || h.name === "cseq") out.push({ ...h });
    if (h.name === "to") {
      const hasTag = /;\s*tag=/i.test(h.value);
      out.push({ name: "to", value: !hasTag && options.toTag ? `${h.value};tag=${options.toTag}` : h.value });
    }
  }
  out.push({ name: "server", value: SERVER_NAME }, ...(options.headers ?? []));
  return {
    kind: "response",
    status,
    reason: options.reason ?? REASON_PHRASES[status] ?? "Unknown",
    headers: out,
    body: options.body ?? new Uint8Array(0),
  };
}

function stampVia(value: string, peer: SipPeer): string {
  // Only the first value of a comma-joined Via line is ours to stamp.
  const comma = value.indexOf(",");
  const first = comma < 0 ? value : value.slice(0, comma);
  const rest = comma < 0 ? "" : value.slice(comma);
  try {
    const via = parseVia(first);
    if (via.host !== peer.address) via.params.received = peer.address;
    if ("rport" in via.params) via.params.rport = String(peer.port);
    return formatVia(via) + rest;
  } catch {
    return value;
  }
}

/** `Warning: 399 host "text"` (§20.43) tells a peer why its request was refused. */
export function warningHeader(host: string, text: string): SipHeader {
  return { name: "warning", value: `399 ${host} "${text.replace(/["\\\r\n]/g, "'").slice(0, 200)}"` };
}

export const newTag = () => randomBytes(6).toString("hex");
export const newBranch = () => `${BRANCH_COOKIE}${randomBytes(8).toString("hex")}`;
export const newCallId = () => `c-${randomBytes(8).toString("hex")}`;
