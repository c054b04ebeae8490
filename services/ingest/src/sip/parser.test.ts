import { describe, expect, it } from "vitest";
import { bodyText, getHeader, getHeaderValues, serializeSipMessage, type SipRequest } from "./message.ts";
import { SipParseError, parseSipMessage } from "./parser.ts";
import { SipStreamFramer } from "./stream-framer.ts";
import { parseCSeq, parseNameAddr, parseSipUri, parseVia } from "./header-values.ts";

const enc = new TextEncoder();
const sdp =
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

const invite = (extra = "", body = sdp, length: number | null = enc.encode(body).length) =>
  enc.encode(
    [
      "INVITE sip:record@127.0.0.1:5060 SIP/2.0",
      "v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK776asdhds;rport, SIP/2.0/TCP proxy.example:5060;branch=z9hG4bKabc",
      "Max-Forwards: 70",
      'f: "Alice, A." <sip:alice@atlanta.example>;tag=1928301774',
      "t: <sip:record@127.0.0.1>",
      "i: a84b4c76e66710@pc33.atlanta.example",
      "CSeq: 314159 INVITE",
      "m: <sip:alice@10.0.0.1:5062>",
      "Subject: a folded",
      "\tsubject line",
      "c: application/sdp",
      ...(extra ? [extra] : []),
      ...(length === null ? [] : [`l: ${length}`]),
      "",
      body,
    ].join("\r\n"),
  );

describe("parseSipMessage", () => {
  it("reads a request with compact headers, folding and multi-value Via", () => {
    const msg = parseSipMessage(invite(), "udp") as SipRequest;
    expect(msg.kind).toBe("request");
    expect(msg.method).toBe("INVITE");
    expect(msg.uri).toBe("sip:record@127.0.0.1:5060");
    expect(getHeaderValues(msg, "via")).toHaveLength(2);
    expect(parseVia(getHeaderValues(msg, "via")[0]!)).toMatchObject({
      transport: "UDP",
      host: "10.0.0.1",
      port: 5062,
      params: { branch: "z9hG4bK776asdhds", rport: "" },
    });
    expect(getHeader(msg, "Call-ID")).toBe("a84b4c76e66710@pc33.atlanta.example");
    expect(getHeader(msg, "subject")).toBe("a folded subject line");
    expect(parseNameAddr(getHeader(msg, "from")!)).toEqual({
      displayName: "Alice, A.",
      uri: "sip:alice@atlanta.example",
      params: { tag: "1928301774" },
    });
    expect(bodyText(msg.body)).toBe(sdp);
  });

  it("reads a response and round-trips through the serializer", () => {
    const text =
      "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    const msg = parseSipMessage(enc.encode(text), "tcp");
    expect(msg).toMatchObject({ kind: "response", status: 180, reason: "Ringing" });
    const again = parseSipMessage(serializeSipMessage(msg), "tcp");
    expect(again).toEqual(msg);
  });

  it("discards datagram bytes past Content-Length and takes the rest as body without it (UDP)", () => {
    const extra = parseSipMessage(invite("", sdp + "garbage", enc.encode(sdp).length), "udp");
    expect(bodyText(extra.body)).toBe(sdp);
    const noLength = parseSipMessage(invite("", sdp, null), "udp");
    expect(bodyText(noLength.body)).toBe(sdp);
  });

  it.each([
    ["truncated body", invite("", sdp, 500), "truncated-body"],
    ["bad Content-Length", invite("", sdp, -1), "bad-content-length"],
    ["conflicting Content-Length", invite("Content-Length: 3"), "bad-content-length"],
    ["header injection with a bare CR", invite("X-Evil: a\rVia: SIP/2.0/UDP evil"), "bad-header"],
    ["header without a name", invite(": value"), "bad-header"],
    ["no blank line", enc.encode("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n"), "no-header-end"],
    ["bad version", enc.encode("OPTIONS sip:a@b SIP/3.0\r\n\r\n"), "bad-start-line"],
    ["status out of range", enc.encode("SIP/2.0 99 Odd\r\n\r\n"), "bad-start-line"],
    ["only line breaks", enc.encode("\r\n\r\n"), "empty"],
    ["huge header", invite(`X-Big: ${"a".repeat(9000)}`), "header-too-long"],
    [
      "too many headers",
      invite(Array.from({ length: 200 }, (_, i) => `X-${i}: v`).join("\r\n")),
      "too-many-headers",
    ],
  ])("rejects %s with a typed SipParseError", (_name, bytes, reason) => {
    let caught: unknown;
    try {
      parseSipMessage(bytes, "udp");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SipParseError);
    expect((caught as SipParseError).reason).toBe(reason);
  });

  it("keeps the headers of a request whose body is bad, so a 400 can be answered", () => {
    try {
      parseSipMessage(invite("", sdp, 999), "udp");
      expect.unreachable();
    } catch (err) {
      expect((err as SipParseError).head?.headers.some((h) => h.name === "call-id")).toBe(true);
    }
  });

  it("reads bytes that are not UTF-8 as Latin-1, line by line", () => {
    const bytes = new Uint8Array([
      ...enc.encode('OPTIONS sip:a@b SIP/2.0\r\nFrom: "Jos'),
      0xe9,
      ...enc.encode('" <sip:j@b>;tag=1\r\nTo: \"Zo\u00eb\" <sip:z@b>\r\nX: '),
      0xff,
      0xfe,
      ...enc.encode("\r\n\r\n"),
    ]);
    const message = parseSipMessage(bytes, "udp");
    expect(getHeader(message, "from")).toBe('"José" <sip:j@b>;tag=1');
    expect(getHeader(message, "to")).toBe('"Zoë" <sip:z@b>');
    expect(getHeader(message, "x")).toBe("ÿþ");
  });

  it("requires Content-Length over TCP", () => {
    expect(() => parseSipMessage(invite("", sdp, null), "tcp")).toThrow(SipParseError);
  });
});

describe("SipStreamFramer", () => {
  it("cuts messages from a stream at Content-Length, across chunk boundaries, and answers keep-alives", () => {
    const one = invite();
    const stream = new Uint8Array([...one, ...enc.encode("\r\n\r\n"), ...one]);
    const framer = new SipStreamFramer();
    const items = [];
    for (let i = 0; i < stream.length; i += 37) items.push(...framer.push(stream.subarray(i, i + 37)));
    expect(items.map((i) => i.kind)).toEqual(["message", "keepalive", "message"]);
    expect(framer.buffered).toBe(0);
  });

  it("loses framing on a bad Content-Length and bounds what it buffers", () => {
    expect(() => new SipStreamFramer().push(invite("", sdp, null))).toThrow(SipParseError);
    const framer = new SipStreamFramer();
    expect(() => {
      for (let i = 0; i < 100; i++) framer.push(enc.encode("X".repeat(1000)));
    }).toThrow(SipParseError);
  });

  it("keeps framing through a NUL in a header, Latin-1 bytes, an oversized header and an oversized body", () => {
    const latin1 = new Uint8Array([
      ...enc.encode('OPTIONS sip:a@b SIP/2.0\r\nFrom: "Jos'),
      0xe9,
      ...enc.encode(" M"),
      0xfc,
      ...enc.encode('ller" <sip:j@b>;tag=1\r\nContent-Length: 0\r\n\r\n'),
    ]);
    const nul = enc.encode(
      "OPTIONS sip:a@b SIP/2.0\r\nX-Bad: a\x00b\r\nCall-ID: n1\r\nContent-Length: 0\r\n\r\n",
    );
    const bigHeader = invite(`X-Big: ${"a".repeat(64 * 1024)}`);
    const bigBody = enc.encode(
      `MESSAGE sip:a@b SIP/2.0\r\nCall-ID: b1\r\nContent-Length: 70000\r\n\r\n${"b".repeat(70_000)}`,
    );
    const stream = new Uint8Array([...latin1, ...nul, ...invite(), ...bigHeader, ...bigBody, ...invite()]);
    const framer = new SipStreamFramer();
    const items = [];
    for (let i = 0; i < stream.length; i += 4096) {
      items.push(...framer.push(stream.subarray(i, i + 4096)));
      expect(framer.buffered).toBeLessThanOrEqual(65_535);
    }
    expect(items.map((i) => i.kind)).toEqual([
      "message",
      "invalid",
      "message",
      "invalid",
      "invalid",
      "message",
    ]);
    const from = items[0]!.kind === "message" ? getHeader(items[0]!.message, "from") : "";
    expect(from).toBe('"José Müller" <sip:j@b>;tag=1');
    const errors = items.flatMap((i) => (i.kind === "invalid" ? [i.error] : []));
    expect(errors.map((e) => e.reason)).toEqual(["bad-header", "header-too-long", "too-large"]);
    // What a response needs is kept from each refused message.
    expect(errors[0]!.head?.headers.find((h) => h.name === "call-id")?.value).toBe("n1");
    expect(errors[1]!.head?.headers.find((h) => h.name === "call-id")?.value).toBe(
      "a84b4c76e66710@pc33.atlanta.example",
    );
    expect(errors[2]!.head?.headers.find((h) => h.name === "call-id")?.value).toBe("b1");
  });

  it("reports a bad message inside intact framing without losing the next one", () => {
    const bad = enc.encode("NOT A START LINE\r\nContent-Length: 0\r\n\r\n");
    const items = new SipStreamFramer().push(new Uint8Array([...bad, ...invite()]));
    expect(items.map((i) => i.kind)).toEqual(["invalid", "message"]);
  });
});

describe("header values", () => {
  it("parses CSeq, URIs and bare name-addr", () => {
    expect(parseCSeq("42 BYE")).toEqual({ seq: 42, method: "BYE" });
    expect(() => parseCSeq("x BYE")).toThrow(SipParseError);
    expect(parseSipUri("sip:bob@[::1]:5070;transport=tcp")).toMatchObject({
      user: "bob",
      host: "::1",
      port: 5070,
      params: { transport: "tcp" },
    });
    expect(parseNameAddr("sip:bob@h;tag=9")).toEqual({ uri: "sip:bob@h", params: { tag: "9" } });
    expect(() => parseNameAddr("<sip:bob@h")).toThrow(SipParseError);
    expect(() => parseVia("SIP/2.0/UDP host:99999")).toThrow(SipParseError);
  });
});
