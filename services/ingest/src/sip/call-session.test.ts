import { describe, expect, it } from "vitest";
import { legSpecsFor, renegotiatedLegs } from "./call-session.ts";
import type { LegPlan } from "./invite-offer.ts";
import { negotiateOffer } from "./sdp-negotiation.ts";

const offer = (...media: string[]) =>
  negotiateOffer(
    `v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n${media.join("")}`,
  );

const plan: LegPlan = {
  legs: new Map([
    [0, "caller"],
    [1, "agent"],
  ]),
  participants: [],
};

describe("re-INVITE leg updates", () => {
  it("takes codec and direction from the new offer: hold (inactive), codec change, resume", () => {
    const first = offer("m=audio 4000 RTP/AVP 0\r\n", "m=audio 4002 RTP/AVP 0\r\n");
    expect(legSpecsFor(plan, first).map((l) => [l.spec.leg, l.spec.codec.name, l.spec.direction])).toEqual([
      ["caller", "PCMU", "sendrecv"],
      ["agent", "PCMU", "sendrecv"],
    ]);
    const hold = offer(
      "m=audio 4000 RTP/AVP 0\r\na=inactive\r\n",
      "m=audio 4002 RTP/AVP 8\r\na=sendonly\r\n",
    );
    expect(renegotiatedLegs(plan, first, hold).map((l) => [l.leg, l.codec.name, l.direction])).toEqual([
      ["caller", "PCMU", "inactive"],
      ["agent", "PCMA", "sendonly"],
    ]);
  });

  it("puts a leg whose stream the re-offer rejects on hold with its last codec", () => {
    const first = offer("m=audio 4000 RTP/AVP 9\r\n", "m=audio 4002 RTP/AVP 0\r\n");
    const next = offer("m=audio 4000 RTP/AVP 9\r\n", "m=audio 0 RTP/AVP 0\r\n");
    expect(renegotiatedLegs(plan, first, next).map((l) => [l.leg, l.codec.name, l.direction])).toEqual([
      ["caller", "G722", "sendrecv"],
      ["agent", "PCMU", "inactive"],
    ]);
  });
});
