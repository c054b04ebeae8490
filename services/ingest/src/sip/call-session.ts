import type { LegMediaSpec, MediaCall, ReservedPort } from "../media/index.ts";
import type { Dialog } from "./dialogs.ts";
import type { LegPlan } from "./invite-offer.ts";
import type { AnswerRetransmission } from "./answer-retransmission.ts";
import type { NegotiatedOffer } from "./sdp-negotiation.ts";
import type { ServerTransaction } from "./transactions.ts";

export type CallEndReason = "bye" | "cancel" | "media-timeout" | "error" | "shutdown";

/** One call from INVITE to its end: the dialog, the media legs and what was agreed. */
export interface CallSession {
  callId: string;
  dialog: Dialog;
  phase: "setup" | "answered" | "ended";
  inviteTx: ServerTransaction;
  siprec: boolean;
  offer: NegotiatedOffer;
  plan: LegPlan;
  /** Reserved RTP port per m= line index. */
  ports: Map<number, ReservedPort>;
  media?: MediaCall;
  cancelled: boolean;
  /** The 2xx being retransmitted until its ACK. */
  unacked?: AnswerRetransmission;
  reinviteInProgress: boolean;
  sdpSessionId: number;
  sdpVersion: number;
  ended?: Promise<void>;
}

/** The media spec of each planned leg under an offer, by m= line index; legs without a codec are left out. */
export function legSpecsFor(plan: LegPlan, offer: NegotiatedOffer): { index: number; spec: LegMediaSpec }[] {
  const out: { index: number; spec: LegMediaSpec }[] = [];
  for (const [index, leg] of plan.legs) {
    const stream = offer.streams[index];
    if (!stream?.codec) continue;
    out.push({
      index,
      spec: {
        leg,
        label: stream.label,
        codec: stream.codec,
        telephoneEventPt: stream.telephoneEventPt,
        remote: stream.remote,
        direction: stream.offerDirection,
      },
    });
  }
  return out;
}

/**
 * The legs after a re-offer: codec and direction from the new offer; a leg whose stream the new offer
 * rejects (port 0, no common codec) keeps its last codec and is put on hold (inactive).
 */
export function renegotiatedLegs(
  plan: LegPlan,
  previous: NegotiatedOffer,
  next: NegotiatedOffer,
): LegMediaSpec[] {
  const now = legSpecsFor(plan, next);
  const held = legSpecsFor(plan, previous)
    .filter((before) => !now.some((n) => n.index === before.index))
    .map(({ index, spec }) => ({ index, spec: { ...spec, direction: "inactive" as const } }));
  return [...now, ...held].sort((a, b) => a.index - b.index).map((l) => l.spec);
}
