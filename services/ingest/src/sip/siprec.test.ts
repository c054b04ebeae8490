import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { headers, textBody, type SipRequest } from "./message.ts";
import { InviteOfferError, planLegs, readInviteOffer } from "./invite-offer.ts";
import { parseMultipart } from "./multipart.ts";
import { SipParseError } from "./parser.ts";
import { negotiateOffer } from "./sdp-negotiation.ts";
import { SiprecMetadataError, assignSiprecLegs, parseRecordingMetadata } from "./siprec.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/ingest/sip/${name}`, import.meta.url), "utf8");
const twoStreams = fixture("metadata-two-streams.xml");
const threeStreams = fixture("metadata-three-streams.xml");

const sdp = (labels: string[]) =>
  "v=0\r\no=src 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
  labels.map((l, i) => `m=audio ${6000 + 2 * i} RTP/AVP 0\r\na=label:${l}\r\na=sendonly\r\n`).join("");

const siprecInvite = (sdpText: string, xml: string, boundary = "rec-boundary-1"): SipRequest => ({
  kind: "request",
  method: "INVITE",
  uri: "sip:srs@127.0.0.1",
  headers: headers(
    ["From", "<sip:src@sbc.example>;tag=1"],
    ["To", "<sip:srs@127.0.0.1>"],
    ["Require", "siprec"],
    ["Contact", "<sip:src@192.0.2.1>;+sip.src"],
    ["Content-Type", `multipart/mixed;boundary=${boundary}`],
  ),
  body: textBody(
    `--${boundary}\r\nContent-Type: application/sdp\r\n\r\n${sdpText}\r\n` +
      `--${boundary}\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n${xml}\r\n` +
      `--${boundary}--\r\n`,
  ),
});

describe("parseRecordingMetadata", () => {
  it("reads participants with their AoR and name, streams with labels, and who sends on which stream", () => {
    const m = parseRecordingMetadata(twoStreams);
    expect(m.participants).toEqual([
      {
        id: "P-caller-8Hd2kQ==",
        aor: "sip:+15551230001@carrier.example",
        name: "Carla Customer",
        sends: ["ST-a-71Kd0e=="],
      },
      {
        id: "P-agent-3Jf9sW==",
        aor: "sip:agent042@contact-center.example",
        name: "Andy Agent",
        sends: ["ST-b-5Pq2Lm=="],
      },
    ]);
    expect(m.streams).toEqual([
      { id: "ST-a-71Kd0e==", label: "10" },
      { id: "ST-b-5Pq2Lm==", label: "11" },
    ]);
    expect(m.sessionIds).toEqual(["S3k9vTq1RzuC8mYd2fW0hA=="]);
  });

  it("accepts a namespace prefix", () => {
    expect(parseRecordingMetadata(threeStreams).participants.map((p) => p.name)).toEqual([
      "Pat Public",
      "Desk 2001",
    ]);
  });

  it.each([
    ["not XML", "<recording><participant></recording>"],
    ["wrong root", "<?xml version='1.0'?><something/>"],
    ["entity expansion", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><recording>&a;</recording>'],
    ["too long", `<recording>${" ".repeat(40_000)}</recording>`],
  ])("rejects %s with SiprecMetadataError", (_name, xml) => {
    expect(() => parseRecordingMetadata(xml)).toThrow(SiprecMetadataError);
  });
});

describe("assignSiprecLegs", () => {
  it("maps each labelled stream to the participant sending on it; the first participant is the caller", () => {
    const a = assignSiprecLegs(parseRecordingMetadata(twoStreams), ["11", "10"]);
    expect([...a.legs]).toEqual([
      [1, "caller"],
      [0, "agent"],
    ]);
    expect(a.participants).toEqual([
      { leg: "caller", name: "Carla Customer", aor: "sip:+15551230001@carrier.example" },
      { leg: "agent", name: "Andy Agent", aor: "sip:agent042@contact-center.example" },
    ]);
  });

  it("makes the participant whose AoR matches the recorded call's From the caller", () => {
    const a = assignSiprecLegs(
      parseRecordingMetadata(twoStreams),
      ["10", "11"],
      "<sip:AGENT042@contact-center.example>",
    );
    expect(a.legs.get(1)).toBe("caller");
  });

  it("leaves the mixed stream of the three-stream variant without a leg", () => {
    const a = assignSiprecLegs(parseRecordingMetadata(threeStreams), ["inbound", "outbound", "mixed"]);
    expect([...a.legs]).toEqual([
      [0, "caller"],
      [1, "agent"],
    ]);
  });

  it("falls back to the order of labelled streams when metadata ties none to one participant", () => {
    const a = assignSiprecLegs({ sessionIds: [], sipSessionIds: [], participants: [], streams: [] }, [
      "x",
      undefined,
      "y",
      "z",
    ]);
    expect([...a.legs]).toEqual([
      [0, "caller"],
      [2, "agent"],
    ]);
  });
});

describe("SIPREC INVITE bodies", () => {
  it("reads SDP and metadata from multipart/mixed and plans legs", () => {
    const request = siprecInvite(sdp(["inbound", "outbound", "mixed"]), threeStreams);
    const offer = readInviteOffer(request);
    expect(offer.siprec).toBe(true);
    const plan = planLegs(request, offer, negotiateOffer(offer.sdp));
    expect([...plan.legs.values()]).toEqual(["caller", "agent"]);
    expect(plan.participants.map((p) => p.aor)).toEqual([
      "sip:4085550188@pstn.example",
      "sip:2001@pbx.example",
    ]);
  });

  it.each([
    ["no closing boundary", (b: string) => `--${b}\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n`],
    ["junk after the boundary", (b: string) => `--${b}junk\r\n\r\n--${b}--`],
    ["a part without a blank line", (b: string) => `--${b}\r\nContent-Type: application/sdp\r\n--${b}--`],
  ])("rejects a multipart body with %s", (_name, body) => {
    expect(() => parseMultipart(textBody(body("bnd")), "bnd")).toThrow(SipParseError);
  });

  it("answers 415 for a body type it does not take and 400 for bad metadata", () => {
    const request = siprecInvite(sdp(["a"]), "<recording><oops></recording>");
    expect(() => readInviteOffer(request)).toThrow(expect.objectContaining({ status: 400 }));
    const html: SipRequest = {
      ...request,
      headers: headers(["Content-Type", "text/html"]),
      body: textBody("<p>"),
    };
    expect(() => readInviteOffer(html)).toThrow(InviteOfferError);
    expect(() => readInviteOffer(html)).toThrow(expect.objectContaining({ status: 415 }));
  });
});
