import type { CodecName } from "../media/index.ts";
import type { DigestAuthenticator, DigestVerdict } from "./digest-auth.ts";
import {
  ACCEPTED_BODY_TYPES,
  InviteOfferError,
  planLegs,
  readInviteOffer,
  type InviteOffer,
  type LegPlan,
} from "./invite-offer.ts";
import { getHeader, getHeaderValues, type SipHeader } from "./message.ts";
import type { RequestContext } from "./request-context.ts";
import { warningHeader } from "./responses.ts";
import { SdpNegotiationError, negotiateOffer, type NegotiatedOffer } from "./sdp-negotiation.ts";

export const SUPPORTED_EXTENSIONS = ["siprec"];

export type Admission =
  | { kind: "accept"; offer: InviteOffer; negotiated: NegotiatedOffer; plan: LegPlan }
  | { kind: "refuse"; status: number; reason: string; headers: SipHeader[]; authVerdict?: DigestVerdict };

export interface AdmissionRules {
  auth?: DigestAuthenticator;
  /** Why no call can be taken now, or undefined when one can. */
  unavailable: () => "shutting-down" | "max-calls" | "media-unavailable" | undefined;
  retryAfterSeconds: number;
  codecs: readonly CodecName[];
  /** Host named in Warning headers. */
  warnHost: string;
}

/**
 * Whether a new INVITE can become a call, checked in the order a peer can act on: extensions (420),
 * credentials (401), capacity (503), body (415/400), codecs (488).
 */
export function admitInvite(ctx: RequestContext, rules: AdmissionRules): Admission {
  const { request } = ctx;
  const refuse = (status: number, reason: string, headers: SipHeader[] = []): Admission => ({
    kind: "refuse",
    status,
    reason,
    headers,
  });
  const unsupported = getHeaderValues(request, "require").filter(
    (t) => !SUPPORTED_EXTENSIONS.includes(t.toLowerCase()),
  );
  if (unsupported.length > 0)
    return refuse(420, "bad-extension", [{ name: "unsupported", value: unsupported.join(", ") }]);
  if (rules.auth) {
    const verdict = rules.auth.verify(getHeader(request, "authorization"), "INVITE");
    if (verdict !== "ok") {
      const challenge = { name: "www-authenticate", value: rules.auth.challenge(verdict === "stale") };
      return {
        kind: "refuse",
        status: 401,
        reason: `auth-${verdict}`,
        headers: [challenge],
        authVerdict: verdict,
      };
    }
  }
  const unavailable = rules.unavailable();
  if (unavailable)
    return refuse(503, unavailable, [{ name: "retry-after", value: String(rules.retryAfterSeconds) }]);
  let offer: InviteOffer;
  let negotiated: NegotiatedOffer;
  try {
    offer = readInviteOffer(request);
    negotiated = negotiateOffer(offer.sdp, rules.codecs);
  } catch (err) {
    if (err instanceof InviteOfferError) {
      const headers = [warningHeader(rules.warnHost, err.message)];
      if (err.status === 415) headers.push({ name: "accept", value: ACCEPTED_BODY_TYPES.join(", ") });
      return refuse(err.status, `body-${err.status}`, headers);
    }
    if (err instanceof SdpNegotiationError) {
      return refuse(err.reason === "malformed" ? 400 : 488, `sdp-${err.reason}`, [
        warningHeader(rules.warnHost, err.message),
      ]);
    }
    throw err;
  }
  const plan = planLegs(request, offer, negotiated);
  if (plan.legs.size === 0)
    return refuse(488, "no-leg", [warningHeader(rules.warnHost, "no stream could be mapped to a call leg")]);
  return { kind: "accept", offer, negotiated, plan };
}
