import { getHeader, getHeaderValues, type SipRequest } from "./message.ts";
import { SipParseError } from "./parser.ts";
import { parseCSeq, parseNameAddr, parseVia, type CSeq, type NameAddr, type Via } from "./header-values.ts";
import type { SipPeer } from "./transport.ts";

/** A request whose mandatory headers (§8.1.1) are present and parsed. */
export interface RequestContext {
  request: SipRequest;
  peer: SipPeer;
  via: Via;
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
}

const MAX_CALL_ID = 256;

/** Throws SipParseError naming the first missing or malformed mandatory header. */
export function requestContext(request: SipRequest, peer: SipPeer): RequestContext {
  const viaValue = getHeaderValues(request, "via")[0];
  const fromValue = getHeader(request, "from");
  const toValue = getHeader(request, "to");
  const callId = getHeader(request, "call-id");
  const cseqValue = getHeader(request, "cseq");
  if (!viaValue) throw new SipParseError("bad-header", "request has no Via header");
  if (!fromValue || !toValue) throw new SipParseError("bad-header", "request lacks From or To");
  if (!callId || callId.length > MAX_CALL_ID || /\s/.test(callId)) {
    throw new SipParseError("bad-header", "request has no valid Call-ID");
  }
  if (!cseqValue) throw new SipParseError("bad-header", "request has no CSeq header");
  const cseq = parseCSeq(cseqValue);
  if (cseq.method !== request.method) {
    throw new SipParseError("bad-header", "CSeq method differs from the request method");
  }
  return {
    request,
    peer,
    via: parseVia(viaValue),
    from: parseNameAddr(fromValue),
    to: parseNameAddr(toValue),
    callId,
    cseq,
  };
}
