import type { Leg } from "@callscribe/messaging";
import { bodyText, getHeader, getHeaderValues, type SipRequest } from "./message.ts";
import { parseMediaType, parseMultipart } from "./multipart.ts";
import { SipParseError } from "./parser.ts";
import { parseNameAddr } from "./header-values.ts";
import {
  RS_METADATA_TYPE,
  SiprecMetadataError,
  assignSiprecLegs,
  parseRecordingMetadata,
  type RecordingMetadata,
} from "./siprec.ts";
import type { NegotiatedOffer } from "./sdp-negotiation.ts";

/** What an INVITE offers: its SDP and, for SIPREC, the recording metadata. */
export interface InviteOffer {
  sdp: string;
  siprec: boolean;
  metadata?: RecordingMetadata;
}

/** Why an INVITE's body cannot be used, with the status to answer. */
export class InviteOfferError extends Error {
  override readonly name = "InviteOfferError";
  constructor(
    readonly status: 400 | 415 | 488,
    message: string,
  ) {
    super(message);
  }
}

export const ACCEPTED_BODY_TYPES = ["application/sdp", "multipart/mixed", RS_METADATA_TYPE];

/** RFC 7866 §6.1: an SRC marks its INVITE with Require: siprec and +sip.src in Contact. */
export function isSiprecRequest(request: SipRequest): boolean {
  const required = getHeaderValues(request, "require").map((t) => t.toLowerCase());
  const contact = getHeaderValues(request, "contact")[0] ?? "";
  return required.includes("siprec") || /;\s*\+sip\.src\b/i.test(contact);
}

export function readInviteOffer(request: SipRequest): InviteOffer {
  const typeValue = getHeader(request, "content-type");
  if (request.body.length === 0 || !typeValue) {
    // A delayed offer would need us to offer first; a recorder only answers.
    throw new InviteOfferError(488, "INVITE without an SDP offer is not supported");
  }
  const encoding = getHeader(request, "content-encoding");
  if (encoding && encoding.toLowerCase() !== "identity") {
    throw new InviteOfferError(415, `Content-Encoding ${encoding.slice(0, 20)} is not supported`);
  }
  let type;
  try {
    type = parseMediaType(typeValue);
  } catch {
    throw new InviteOfferError(400, "Content-Type is malformed");
  }
  const siprecMarked = isSiprecRequest(request);
  if (type.type === "application/sdp") return { sdp: bodyText(request.body), siprec: siprecMarked };
  if (type.type !== "multipart/mixed") {
    throw new InviteOfferError(415, `body type ${type.type} is not supported`);
  }
  let parts;
  try {
    parts = parseMultipart(request.body, type.params.boundary ?? "");
  } catch (err) {
    if (err instanceof SipParseError) throw new InviteOfferError(400, `multipart body: ${err.message}`);
    throw err;
  }
  const typed = parts.map((p) => ({ ...p, type: safeType(p.contentType) }));
  const sdpPart = typed.find((p) => p.type === "application/sdp");
  if (!sdpPart) throw new InviteOfferError(488, "multipart body has no application/sdp part");
  const metadataPart = typed.find((p) => p.type === RS_METADATA_TYPE);
  let metadata: RecordingMetadata | undefined;
  if (metadataPart) {
    try {
      metadata = parseRecordingMetadata(bodyText(metadataPart.body));
    } catch (err) {
      if (err instanceof SiprecMetadataError)
        throw new InviteOfferError(400, `recording metadata: ${err.message}`);
      throw err;
    }
  }
  return { sdp: bodyText(sdpPart.body), siprec: siprecMarked || metadata !== undefined, metadata };
}

function safeType(value: string): string {
  try {
    return parseMediaType(value).type;
  } catch {
    return "";
  }
}

export interface LegPlan {
  /** m= line index → leg; lines not listed are answered with port 0. */
  legs: Map<number, Leg>;
  participants: { leg: Leg; name?: string; aor?: string }[];
}

/**
 * Which m= lines become which leg. Plain SIP: the first accepted audio line is the caller, the second
 * the agent (the `play` command sends one per WAV channel). SIPREC: from the metadata's
 * participant-stream associations; a mixed third stream gets no leg.
 */
export function planLegs(request: SipRequest, offer: InviteOffer, negotiated: NegotiatedOffer): LegPlan {
  const accepted = negotiated.streams.filter((s) => s.codec).map((s) => s.index);
  const from = safeNameAddr(getHeader(request, "from"));
  const to = safeNameAddr(getHeader(request, "to"));
  if (!offer.siprec) {
    const legs = new Map<number, Leg>();
    const order: Leg[] = ["caller", "agent"];
    accepted.slice(0, 2).forEach((index, i) => legs.set(index, order[i]!));
    const participants: LegPlan["participants"] = [
      { leg: "caller", name: from?.displayName, aor: from?.uri },
    ];
    if (legs.size > 1) participants.push({ leg: "agent", name: to?.displayName, aor: to?.uri });
    return { legs, participants };
  }
  const labels = negotiated.streams.map((s) => (s.codec ? s.label : undefined));
  const metadata = offer.metadata ?? { sessionIds: [], sipSessionIds: [], participants: [], streams: [] };
  return assignSiprecLegs(metadata, labels, from?.uri);
}

function safeNameAddr(value: string | undefined) {
  if (!value) return undefined;
  try {
    return parseNameAddr(value);
  } catch {
    return undefined;
  }
}
