import { parse } from "sdp-transform";
import { describe, expect, it } from "vitest";
import { SdpNegotiationError, buildAnswer, negotiateOffer } from "./sdp-negotiation.ts";

const offer = (media: string, session = "c=IN IP4 192.0.2.10\r\n") =>
  `v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\n${session}t=0 0\r\n${media}`;

const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SdpNegotiationError);
    return (err as SdpNegotiationError).reason;
  }
  return "no error";
};

describe("negotiateOffer", () => {
  it("picks the first codec in the offer's order that we support, with telephone-event", () => {
    const n = negotiateOffer(
      offer("m=audio 49170 RTP/AVP 3 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"),
    );
    expect(n.streams[0]).toMatchObject({
      codec: { name: "PCMA", payloadType: 8, clockRate: 8000, sampleRate: 8000 },
      telephoneEventPt: 101,
      remote: { address: "192.0.2.10", port: 49170 },
      offerDirection: "sendrecv",
      answerDirection: "recvonly",
    });
  });

  it("recognises G.722 at its 8000 RTP clock, and dynamic payload types by name", () => {
    const n = negotiateOffer(
      offer("m=audio 4000 RTP/AVP 9\r\nm=audio 4002 RTP/AVP 97\r\na=rtpmap:97 pcmu/8000\r\n"),
    );
    expect(n.streams[0]?.codec).toEqual({ name: "G722", payloadType: 9, clockRate: 8000, sampleRate: 16000 });
    expect(n.streams[1]?.codec).toEqual({ name: "PCMU", payloadType: 97, clockRate: 8000, sampleRate: 8000 });
  });

  it("honours the enabled codec list", () => {
    const n = negotiateOffer(offer("m=audio 4000 RTP/AVP 9 0\r\n"), ["PCMU"]);
    expect(n.streams[0]?.codec?.name).toBe("PCMU");
  });

  it.each([
    ["sendonly", "recvonly"],
    ["sendrecv", "recvonly"],
    ["inactive", "inactive"],
    ["recvonly", "inactive"],
  ])("answers an offer that is %s with %s", (offered, answered) => {
    const n = negotiateOffer(offer(`m=audio 4000 RTP/AVP 0\r\na=${offered}\r\n`));
    expect(n.streams[0]).toMatchObject({ offerDirection: offered, answerDirection: answered });
  });

  it("takes the session-level direction and connection when the media line has none", () => {
    const n = negotiateOffer(offer("m=audio 4000 RTP/AVP 0\r\n", "c=IN IP4 198.51.100.1\r\na=sendonly\r\n"));
    expect(n.streams[0]).toMatchObject({ offerDirection: "sendonly", remote: { address: "198.51.100.1" } });
  });

  it("rejects single streams it cannot take and fails with no-common-codec when none is left", () => {
    const n = negotiateOffer(
      offer(
        "m=audio 4000 RTP/AVP 0\r\nm=video 5000 RTP/AVP 96\r\nm=audio 0 RTP/AVP 0\r\nm=audio 4004 RTP/SAVP 0\r\nm=audio 4006 RTP/AVP 3\r\n",
      ),
    );
    expect(n.streams.map((s) => s.rejection)).toEqual([
      undefined,
      "not-audio",
      "port-zero",
      "unsupported-profile",
      "no-common-codec",
    ]);
    expect(reason(() => negotiateOffer(offer("m=audio 4000 RTP/AVP 3\r\na=rtpmap:3 GSM/8000\r\n")))).toBe(
      "no-common-codec",
    );
    expect(
      reason(() => negotiateOffer(offer("m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"))),
    ).toBe("no-common-codec");
  });

  it.each([
    ["empty", ""],
    ["not SDP", "hello world"],
    ["no m= line", offer("")],
    ["no connection anywhere", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"],
    ["bad port", offer("m=audio port RTP/AVP 0\r\n")],
    ["too many media lines", offer("m=audio 4000 RTP/AVP 0\r\n".repeat(17))],
    ["no origin", "v=0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"],
  ])("calls %s SDP malformed", (_name, text) => {
    expect(reason(() => negotiateOffer(text))).toBe("malformed");
  });
});

describe("buildAnswer", () => {
  it("mirrors every m= line, with our ports, the agreed codec, labels and port 0 for rejected lines", () => {
    const n = negotiateOffer(
      offer(
        "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=label:caller\r\na=sendonly\r\n" +
          "m=video 5000 RTP/AVP 96\r\nm=audio 4002 RTP/AVP 8\r\na=label:agent\r\na=sendonly\r\n",
      ),
    );
    const answer = parse(
      buildAnswer(n, { address: "127.0.0.1", ports: [30000, 0, 30002], sessionId: 7, sessionVersion: 2 }),
    );
    expect(answer.origin).toMatchObject({ sessionId: 7, sessionVersion: 2, address: "127.0.0.1" });
    expect(answer.connection?.ip).toBe("127.0.0.1");
    expect(answer.media.map((m) => [m.type, m.port, String(m.payloads), m.direction, m.label])).toEqual([
      ["audio", 30000, "0 101", "recvonly", "caller"],
      ["video", 0, "96", undefined, undefined],
      ["audio", 30002, "8", "recvonly", "agent"],
    ]);
  });

  it("answers port 0 for a stream we decided not to receive", () => {
    const n = negotiateOffer(offer("m=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n"));
    const answer = parse(
      buildAnswer(n, { address: "::1", ports: [30000, 0], sessionId: 1, sessionVersion: 1 }),
    );
    expect(answer.connection).toEqual({ version: 6, ip: "::1" });
    expect(answer.media.map((m) => m.port)).toEqual([30000, 0]);
  });
});
