import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { UnauthenticatedError } from "./errors.ts";

/** Which API a request is for; each has its own tokens. */
export type Audience = "analyst" | "workOrder";

/**
 * Checks `Authorization: Bearer <token>` against the tokens of one audience. Tokens are compared
 * as SHA-256 digests in constant time, so neither their content nor their length leaks by timing.
 */
export class BearerTokens {
  private readonly digests: Record<Audience, Buffer[]>;

  constructor(tokens: Record<Audience, string[]>) {
    this.digests = { analyst: tokens.analyst.map(digest), workOrder: tokens.workOrder.map(digest) };
  }

  /** Throws UnauthenticatedError (401) with what to send when the request does not carry a valid token. */
  check(headers: IncomingHttpHeaders, audience: Audience): void {
    const header = headers.authorization;
    if (header === undefined) {
      throw new UnauthenticatedError("missing Authorization header; send Authorization: Bearer <token>");
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) {
      throw new UnauthenticatedError("malformed Authorization header; send Authorization: Bearer <token>");
    }
    const offered = digest(match[1]!);
    let ok = false;
    for (const known of this.digests[audience]) ok = timingSafeEqual(known, offered) || ok;
    if (!ok) {
      const api = audience === "analyst" ? "the analyst API" : "the work-order API";
      throw new UnauthenticatedError(`the token is not valid for ${api}`);
    }
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
