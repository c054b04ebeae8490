import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * SIP digest authentication (RFC 3261 §22, RFC 2617 / RFC 7616 with MD5 and qop=auth). Nonces are
 * stateless: a timestamp signed with a per-process key, so a challenge needs no memory and expires.
 */

export interface DigestCredentials {
  realm: string;
  username: string;
  password: string;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm?: string;
  qop?: string;
  stale?: boolean;
}

export type DigestVerdict =
  "ok" | "missing" | "stale" | "bad-nonce" | "wrong-user" | "wrong-response" | "malformed";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

/** Parses `Digest k=v, k="v"` (Authorization, WWW-Authenticate). Returns undefined for other schemes. */
export function parseDigestParams(value: string): Record<string, string> | undefined {
  const match = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  const rest = match[1]!;
  let m: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (m = re.exec(rest)) !== null) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!;
    if (m[0].length === 0) break;
  }
  return params;
}

/** The digest `response` a client computes (RFC 2617 §3.2.2.1). */
export function digestResponse(p: {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}): string {
  const ha1 = md5(`${p.username}:${p.realm}:${p.password}`);
  const ha2 = md5(`${p.method}:${p.uri}`);
  if (p.qop === "auth") return md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
  return md5(`${ha1}:${p.nonce}:${ha2}`);
}

export class DigestAuthenticator {
  private readonly key = randomBytes(32);

  constructor(
    private readonly credentials: DigestCredentials,
    private readonly nonceLifetimeMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The WWW-Authenticate value of a 401. */
  challenge(stale = false): string {
    const nonce = this.makeNonce();
    return (
      `Digest realm="${this.credentials.realm}", nonce="${nonce}", algorithm=MD5, qop="auth"` +
      (stale ? ", stale=true" : "")
    );
  }

  /** Checks an Authorization header value against the request's method. */
  verify(authorization: string | undefined, method: string): DigestVerdict {
    if (!authorization) return "missing";
    const p = parseDigestParams(authorization);
    if (!p) return "malformed";
    const { username, realm, nonce, uri, response } = p;
    if (!username || !realm || !nonce || !uri || !response) return "malformed";
    if ((p.algorithm ?? "MD5").toUpperCase() !== "MD5") return "malformed";
    if (p.qop !== undefined && p.qop !== "auth") return "malformed";
    if (p.qop === "auth" && (!p.nc || !p.cnonce)) return "malformed";
    const nonceState = this.checkNonce(nonce);
    if (nonceState !== "ok") return nonceState;
    if (username !== this.credentials.username || realm !== this.credentials.realm) return "wrong-user";
    const expected = digestResponse({
      ...this.credentials,
      method,
      uri,
      nonce,
      qop: p.qop,
      nc: p.nc,
      cnonce: p.cnonce,
    });
    const a = Buffer.from(expected);
    const b = Buffer.from(response.toLowerCase());
    return a.length === b.length && timingSafeEqual(a, b) ? "ok" : "wrong-response";
  }

  private makeNonce(): string {
    const issued = this.now().toString(16);
    return `${issued}.${this.sign(issued)}`;
  }

  private checkNonce(nonce: string): "ok" | "stale" | "bad-nonce" {
    const [issued, signature] = nonce.split(".");
    if (!issued || !signature || !/^[0-9a-f]{1,13}$/.test(issued)) return "bad-nonce";
    const expected = Buffer.from(this.sign(issued));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "bad-nonce";
    return this.now() - parseInt(issued, 16) > this.nonceLifetimeMs ? "stale" : "ok";
  }

  private sign(text: string): string {
    return createHmac("sha256", this.key).update(text).digest("base64url").slice(0, 22);
  }
}

/** Client side, for `play`: the Authorization value answering a challenge. */
export function authorizationFor(
  challenge: Record<string, string>,
  credentials: { username: string; password: string },
  method: string,
  uri: string,
): string {
  const realm = challenge.realm ?? "";
  const nonce = challenge.nonce ?? "";
  const qop = challenge.qop
    ?.split(",")
    .map((q) => q.trim())
    .includes("auth")
    ? "auth"
    : undefined;
  const nc = "00000001";
  const cnonce = randomBytes(8).toString("hex");
  const response = digestResponse({ ...credentials, realm, method, uri, nonce, qop, nc, cnonce });
  let value = `Digest username="${credentials.username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
  if (qop) value += `, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  if (challenge.opaque !== undefined) value += `, opaque="${challenge.opaque}"`;
  return value;
}
