import { createSocket, type Socket } from "node:dgram";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getHeader, serializeSipMessage, type SipMessage } from "../../../services/ingest/src/sip/message.ts";
import { parseSipMessage } from "../../../services/ingest/src/sip/parser.ts";
import { responseTo } from "../../../services/ingest/src/sip/responses.ts";
import { uniqueCallId } from "../../support/infra.ts";
import { startTestIngest, waitFor, type TestIngest } from "./support/harness.ts";

/**
 * RFC 3261 behaviour seen from a hand-driven UDP peer: what sipp cannot easily show (withheld ACKs,
 * retransmitted requests, out-of-order CSeq) or need not (each refusal status).
 */
class RawPeer {
  readonly received: SipMessage[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async open(): Promise<RawPeer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const peer = new RawPeer(socket, socket.address().port);
    socket.on("message", (data) => peer.received.push(parseSipMessage(data, "udp")));
    return peer;
  }

  send(text: string, port: number): void {
    this.socket.send(Buffer.from(text), port, "127.0.0.1");
  }

  reply(message: SipMessage, status: number): void {
    const response = responseTo(message, status);
    this.socket.send(
      serializeSipMessage(response),
      Number(/:(\d+)/.exec(getHeader(message, "via") ?? "")?.[1] ?? 0),
      "127.0.0.1",
    );
  }

  responses(status: number, method = "INVITE"): SipMessage[] {
    return this.received.filter(
      (m) => m.kind === "response" && m.status === status && getHeader(m, "cseq")?.endsWith(method),
    );
  }

  close(): void {
    this.socket.close();
  }
}

const sdp =
  "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r\n";

function request(
  method: string,
  peer: RawPeer,
  o: {
    callId: string;
    cseq?: number;
    branch?: string;
    toTag?: string;
    extra?: readonly string[];
    body?: string;
    type?: string;
  },
): string {
  const body = o.body ?? "";
  return [
    `${method} sip:record@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${o.branch ?? `z9hG4bK${Math.random().toString(36).slice(2)}`};rport`,
    "Max-Forwards: 70",
    "From: <sip:raw@127.0.0.1>;tag=raw1",
    `To: <sip:record@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ""}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    `Contact: <sip:raw@127.0.0.1:${peer.port}>`,
    ...(o.extra ?? []),
    ...(body ? [`Content-Type: ${o.type ?? "application/sdp"}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

let t: TestIngest;
let peer: RawPeer;
beforeAll(async () => {
  t = await startTestIngest({ INGEST_SIP_T1_MS: "50" });
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  peer = await RawPeer.open();
});
afterEach(() => peer.close());

describe("INVITE server transaction and 2xx retransmission", () => {
  it("re-sends the 200 on a retransmitted INVITE and until the ACK; without an ACK it hangs up with BYE", async () => {
    const callId = uniqueCallId("raw");
    const invite = request("INVITE", peer, { callId, branch: "z9hG4bKretrans1", body: sdp });
    peer.send(invite, t.ingest.sipPort);
    await waitFor(() => peer.responses(200)[0], 5000, "200 OK");
    peer.send(invite, t.ingest.sipPort); // the network duplicated our INVITE
    // Never ACK: ingest retransmits the 200 (T1, 2·T1, 4·T1 ...) and gives up after 64·T1 with a BYE.
    const bye = await waitFor(
      () => peer.received.find((m) => m.kind === "request" && m.method === "BYE"),
      10_000,
      "BYE",
    );
    const oks = peer.responses(200);
    expect(oks.length).toBeGreaterThanOrEqual(4);
    const toTags = new Set(oks.map((m) => getHeader(m, "to")));
    expect(toTags.size).toBe(1); // every copy is the same answer in the same dialog
    expect(getHeader(bye, "to")).toContain("tag=raw1");
    peer.reply(bye, 200);
    await waitFor(() => (t.ingest.uas.stats().sessions === 0 ? true : undefined), 5000, "session cleanup");
  });

  it("stops retransmitting once the ACK arrives, then takes BYE (200) and answers 481 to a BYE for that dialog again", async () => {
    const callId = uniqueCallId("raw");
    peer.send(request("INVITE", peer, { callId, body: sdp }), t.ingest.sipPort);
    const ok = await waitFor(() => peer.responses(200)[0], 5000, "200 OK");
    const toTag = /tag=([^;>\s]+)/.exec(getHeader(ok, "to") ?? "")?.[1];
    peer.send(request("ACK", peer, { callId, toTag }), t.ingest.sipPort);
    await new Promise((r) => setTimeout(r, 1000));
    const afterAck = peer.responses(200).length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(peer.responses(200).length).toBe(afterAck);

    peer.send(request("BYE", peer, { callId, toTag, cseq: 2 }), t.ingest.sipPort);
    await waitFor(() => peer.responses(200, "BYE")[0], 5000, "200 for BYE");
    peer.send(request("BYE", peer, { callId, toTag, cseq: 3 }), t.ingest.sipPort);
    await waitFor(() => peer.responses(481, "BYE")[0], 5000, "481 for a BYE after the dialog ended");
  });

  it("rejects an in-dialog request with an old CSeq with 500", async () => {
    const callId = uniqueCallId("raw");
    peer.send(request("INVITE", peer, { callId, cseq: 10, body: sdp }), t.ingest.sipPort);
    const ok = await waitFor(() => peer.responses(200)[0], 5000, "200 OK");
    const toTag = /tag=([^;>\s]+)/.exec(getHeader(ok, "to") ?? "")?.[1];
    peer.send(request("ACK", peer, { callId, toTag, cseq: 10 }), t.ingest.sipPort);
    peer.send(request("BYE", peer, { callId, toTag, cseq: 5 }), t.ingest.sipPort);
    await waitFor(() => peer.responses(500, "BYE")[0], 5000, "500 for an out-of-order CSeq");
    peer.send(request("BYE", peer, { callId, toTag, cseq: 11 }), t.ingest.sipPort);
    await waitFor(() => peer.responses(200, "BYE")[0], 5000, "200 for BYE");
  });
});

describe("refusals", () => {
  it.each([
    ["a BYE outside any dialog", "BYE", { toTag: "nope" }, 481, "BYE"],
    ["a CANCEL with no INVITE", "CANCEL", {}, 481, "CANCEL"],
    ["REGISTER (not a registrar)", "REGISTER", {}, 405, "REGISTER"],
    ["an unsupported extension", "INVITE", { extra: ["Require: 100rel, foo"], body: sdp }, 420, "INVITE"],
    ["an HTML body", "INVITE", { body: "<p>hi</p>", type: "text/html" }, 415, "INVITE"],
    ["broken SDP", "INVITE", { body: "v=0\r\nnonsense\r\n" }, 400, "INVITE"],
    [
      "a CSeq method that differs from the request",
      "OPTIONS",
      { extra: [] as string[], cseqMethod: "BYE" },
      400,
      "BYE",
    ],
  ] as const)("answers %s with %i", async (_name, method, options, status, cseqMethod) => {
    const callId = uniqueCallId("raw");
    let text = request(method, peer, { callId, ...options });
    if ("cseqMethod" in options) text = text.replace(`CSeq: 1 ${method}`, `CSeq: 1 ${options.cseqMethod}`);
    peer.send(text, t.ingest.sipPort);
    const response = await waitFor(() => peer.responses(status, cseqMethod)[0], 5000, `${status}`);
    if (status === 420) expect(getHeader(response, "unsupported")).toBe("100rel, foo");
    if (status === 415) expect(getHeader(response, "accept")).toContain("application/sdp");
    if (status === 400) expect(getHeader(response, "warning")).toMatch(/^399 /);
    expect(getHeader(response, "to")).toMatch(/tag=/);
  });

  it("answers a request with a bad Content-Length with 400 and a Warning", async () => {
    const text = request("OPTIONS", peer, { callId: uniqueCallId("raw") }).replace(
      "Content-Length: 0",
      "Content-Length: 99",
    );
    peer.send(text, t.ingest.sipPort);
    const response = await waitFor(() => peer.responses(400, "OPTIONS")[0], 5000, "400");
    expect(getHeader(response, "warning")).toMatch(/Content-Length/);
  });
});
