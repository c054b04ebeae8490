import type { CallInfo } from "../media/index.ts";
import type { InviteOffer, LegPlan } from "./invite-offer.ts";
import { getHeader } from "./message.ts";
import type { RequestContext } from "./request-context.ts";

/** What call.<id>.started says about a call, from its INVITE. */
export function callInfoFor(
  callId: string,
  ctx: RequestContext,
  offer: InviteOffer,
  plan: LegPlan,
  agentIdHeader: string,
): CallInfo {
  const agentId = getHeader(ctx.request, agentIdHeader)?.trim();
  const metadata: Record<string, string> = { transport: ctx.peer.transport };
  const userAgent = getHeader(ctx.request, "user-agent");
  if (userAgent) metadata.userAgent = userAgent.slice(0, 200);
  if (ctx.from.displayName) metadata.fromName = ctx.from.displayName.slice(0, 200);
  const recording = offer.metadata;
  if (recording?.sessionIds[0]) metadata.siprecSessionId = recording.sessionIds[0].slice(0, 200);
  if (recording?.sipSessionIds[0]) metadata.recordedSipSessionId = recording.sipSessionIds[0].slice(0, 200);
  return {
    callId,
    source: offer.siprec ? "siprec" : "sip",
    sipCallId: ctx.callId,
    from: ctx.from.uri,
    to: ctx.to.uri,
    agentId: agentId ? agentId.slice(0, 128) : undefined,
    participants: plan.participants,
    metadata,
  };
}
