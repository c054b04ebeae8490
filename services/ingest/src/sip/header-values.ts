import { SipParseError } from "./parser.ts";

/** Parameters after ';' in a header value; a parameter without '=' has the value "". */
export type SipParams = Record<string, string>;

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: SipParams;
}

export interface NameAddr {
  displayName?: string;
  uri: string;
  params: SipParams;
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface SipUri {
  scheme: "sip" | "sips";
  user?: string;
  host: string;
  port?: number;
  params: SipParams;
}

/** RFC 3261 §8.1.1.7: branches that start with this cookie are globally unique. */
export const BRANCH_COOKIE = "z9hG4bK";

export function parseParams(text: string): SipParams {
  const params: SipParams = {};
  for (const part of text.split(";")) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf("=");
    const name = (eq < 0 ? trimmed : trimmed.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? "" : trimmed.slice(eq + 1).trim();
    params[name] =
      value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  }
  return params;
}

/** One Via value: "SIP/2.0/UDP host:port;branch=...". */
export function parseVia(value: string): Via {
  const match = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+([^;\s]+)\s*(;.*)?$/i.exec(value.trim());
  if (!match) throw new SipParseError("bad-header", "Via is not 'SIP/2.0/<transport> host[:port]'");
  const { host, port } = splitHostPort(match[2]!, "Via");
  return { transport: match[1]!.toUpperCase(), host, port, params: parseParams(match[3] ?? "") };
}

export function formatVia(via: Via): string {
  const hostPort = via.port === undefined ? via.host : `${via.host}:${via.port}`;
  const params = Object.entries(via.params)
    .map(([k, v]) => (v === "" ? `;${k}` : `;${k}=${v}`))
    .join("");
  return `SIP/2.0/${via.transport} ${hostPort}${params}`;
}

/** From, To, Contact, Route: `"Name" <uri>;params`, `<uri>;params` or a bare `uri;params`. */
export function parseNameAddr(value: string): NameAddr {
  const text = value.trim();
  const open = text.indexOf("<");
  if (open >= 0) {
    const close = text.indexOf(">", open);
    if (close < 0) throw new SipParseError("bad-header", "name-addr has '<' without '>'");
    const uri = text.slice(open + 1, close).trim();
    if (!uri) throw new SipParseError("bad-header", "name-addr has an empty URI");
    let display = text.slice(0, open).trim();
    if (display.startsWith('"') && display.endsWith('"') && display.length >= 2) {
      display = display.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    return { displayName: display || undefined, uri, params: parseParams(text.slice(close + 1)) };
  }
  // Without angle brackets, parameters after the URI belong to the header (§20.10).
  const semi = text.indexOf(";");
  const uri = (semi < 0 ? text : text.slice(0, semi)).trim();
  if (!uri || /\s/.test(uri)) throw new SipParseError("bad-header", "name-addr has no URI");
  return { uri, params: parseParams(semi < 0 ? "" : text.slice(semi)) };
}

export function formatNameAddr(addr: NameAddr): string {
  const display = addr.displayName ? `"${addr.displayName.replace(/(["\\])/g, "\\$1")}" ` : "";
  const params = Object.entries(addr.params)
    .map(([k, v]) => (v === "" ? `;${k}` : `;${k}=${v}`))
    .join("");
  return `${display}<${addr.uri}>${params}`;
}

export function parseCSeq(value: string): CSeq {
  const match = /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/.exec(value.trim());
  if (!match) throw new SipParseError("bad-header", "CSeq is not '<number> <METHOD>'");
  const seq = Number(match[1]);
  if (seq > 2 ** 31 - 1) throw new SipParseError("bad-header", "CSeq number is larger than 2^31 - 1");
  return { seq, method: match[2]! };
}

/** sip:user@host:port;params (headers after '?' are ignored). */
export function parseSipUri(value: string): SipUri {
  const match = /^(sips?):(?:([^@]*)@)?([^;?]+)(;[^?]*)?(\?.*)?$/i.exec(value.trim());
  if (!match) throw new SipParseError("bad-header", "not a sip: or sips: URI");
  const { host, port } = splitHostPort(match[3]!, "SIP URI");
  return {
    scheme: match[1]!.toLowerCase() as "sip" | "sips",
    user: match[2] ? decodeURIComponentSafe(match[2].split(":")[0]!) : undefined,
    host,
    port,
    params: parseParams(match[4] ?? ""),
  };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function splitHostPort(text: string, what: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new SipParseError("bad-header", `${what} has '[' without ']'`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest && !rest.startsWith(":"))
      throw new SipParseError("bad-header", `${what} has junk after the host`);
    portText = rest ? rest.slice(1) : undefined;
  } else {
    const colon = text.lastIndexOf(":");
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) throw new SipParseError("bad-header", `${what} has a bad host`);
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new SipParseError("bad-header", `${what} has a bad port`);
  }
  return { host, port: Number(portText) };
}
