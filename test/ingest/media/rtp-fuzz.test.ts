import { type Messaging } from "@callscribe/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RtpFormatError, encodeRtp, parseRtp } from "../../../services/ingest/src/media/index.ts";
import { connectTestStreams } from "../../support/infra.ts";
import {
  eventually,
  metricValue,
  mulawPackets,
  mulawRoundTrip,
  promptPcm,
  readLegAudio,
  rtpSender,
  sendPaced,
  startGateway,
  startOneLegCall,
  untilReceived,
} from "./support.ts";

// Deterministic generator, so a failure can be replayed.
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

type Kind = "random" | "truncated" | "bad-version" | "huge-csrc" | "extension-past-end" | "padding-past-end";
const kinds: Kind[] = [
  "random",
  "truncated",
  "bad-version",
  "huge-csrc",
  "extension-past-end",
  "padding-past-end",
];

/** A packet of the given kind; all but "random" are malformed by construction. */
function malformed(kind: Kind, r: ReturnType<typeof prng>): Uint8Array {
  const valid = () =>
    encodeRtp({
      payloadType: r.int(128),
      seq: r.int(65536),
      timestamp: r.int(2 ** 32),
      ssrc: r.int(2 ** 32),
      payload: Uint8Array.from({ length: r.int(200) }, () => r.int(256)),
    });
  switch (kind) {
    case "random":
      return Uint8Array.from({ length: r.int(300) }, () => r.int(256));
    case "truncated":
      return valid().subarray(0, r.int(12));
    case "bad-version": {
      const p = valid();
      p[0] = (p[0]! & 0x3f) | ([0, 1, 3][r.int(3)]! << 6);
      return p;
    }
    case "huge-csrc": {
      // CSRC count 1-15 with fewer than that many words after the fixed header.
      const cc = 1 + r.int(15);
      const p = new Uint8Array(12 + r.int(4 * cc));
      p.set(valid().subarray(0, 12));
      p[0] = 0x80 | cc;
      return p;
    }
    case "extension-past-end": {
      const body = r.int(40);
      const p = new Uint8Array(12 + 4 + body);
      p.set(valid().subarray(0, 12));
      p[0] = 0x90;
      const words = Math.ceil((body + 1) / 4) + r.int(65536 - Math.ceil((body + 1) / 4));
      p[14] = words >> 8;
      p[15] = words & 0xff;
      return p;
    }
    case "padding-past-end": {
      const payload = r.int(50);
      const p = new Uint8Array(12 + payload + 1);
      p.set(valid().subarray(0, 12));
      p[0] = 0xa0;
      p[p.length - 1] = payload + 2 + r.int(254 - payload > 0 ? 254 - payload : 1);
      return p;
    }
  }
}

function outcome(bytes: Uint8Array): "ok" | "malformed" {
  try {
    parseRtp(bytes);
    return "ok";
  } catch (err) {
    if (err instanceof RtpFormatError) return "malformed";
    throw err; // anything else fails the test
  }
}

let m: Messaging;
beforeAll(async () => {
  m = await connectTestStreams("test-ingest-fuzz");
});
afterAll(async () => {
  await m.drain();
});

describe("RTP fuzz", () => {
  it("parseRtp rejects 100,000+ malformed packets with RtpFormatError only, with bounded memory", () => {
    const r = prng(20261121);
    const heapBefore = process.memoryUsage().heapUsed;
    const counts: Record<string, { malformed: number; ok: number }> = {};
    for (let i = 0; i < 120_000; i++) {
      const kind = kinds[i % kinds.length]!;
      const result = outcome(malformed(kind, r));
      (counts[kind] ??= { malformed: 0, ok: 0 })[result === "ok" ? "ok" : "malformed"]++;
    }
    for (const kind of kinds.filter((k) => k !== "random"))
      expect([kind, counts[kind]!.ok]).toEqual([kind, 0]);
    const malformedTotal = Object.values(counts).reduce((n, c) => n + c.malformed, 0);
    expect(malformedTotal).toBeGreaterThan(100_000);
    // Nothing is kept per packet: the heap does not grow with the packet count.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("a live leg counts 5,000 malformed and foreign datagrams, keeps its call, and still plays valid audio", async () => {
    const { gateway, registry } = startGateway(m);
    try {
      const { call, port, info } = await startOneLegCall(gateway);
      const r = prng(7);
      const fuzz: Uint8Array[] = [];
      let expectMalformed = 0;
      let expectForeignPt = 0;
      let expectStray = 0;
      for (let i = 0; i < 5000; i++) {
        let bytes: Uint8Array;
        if (i % 20 === 4) {
          // The leg's payload type from a source it does not play (another SSRC): stray, not audio.
          const ssrc = 0x55000000 + r.int(0xffffff);
          fuzz.push(
            encodeRtp({
              payloadType: 0,
              seq: r.int(65536),
              timestamp: r.int(2 ** 32),
              ssrc,
              payload: new Uint8Array(160).fill(0x7f),
            }),
          );
          expectStray++;
          continue;
        }
        if (i % 10 === 9) {
          // Well-formed but of a payload type the leg did not negotiate.
          bytes = encodeRtp({
            payloadType: 96 + r.int(5),
            seq: r.int(65536),
            timestamp: 0,
            ssrc: 1,
            payload: new Uint8Array(160),
          });
        } else {
          bytes = malformed(kinds[i % kinds.length]!, r);
        }
        let result = outcome(bytes);
        if (result === "ok" && [0, 101].includes(parseRtp(bytes).payloadType)) {
          // Random bytes that happen to look like this leg's RTP would be played: keep the count exact.
          bytes = new Uint8Array(3);
          result = "malformed";
        }
        if (result === "malformed") expectMalformed++;
        else expectForeignPt++;
        fuzz.push(bytes);
      }
      const source = (await promptPcm()).subarray(0, 160 * 50);
      const valid = mulawPackets(source);
      const sender = await rtpSender(port.port);
      const heapBefore = process.memoryUsage().heapUsed;
      // Valid audio before, in the middle of, and after the fuzz.
      await sendPaced(sender, valid.slice(0, 20));
      await sendPaced(sender, fuzz.slice(0, 2500), 25, 3);
      await sendPaced(sender, valid.slice(20, 30));
      await sendPaced(sender, fuzz.slice(2500), 25, 3);
      await sendPaced(sender, valid.slice(30));
      sender.close();
      // RTCP on port+1: an SR+SDES compound, an RR, and 200 malformed datagrams.
      const rtcp = await rtpSender(port.port + 1);
      const sr = [
        0x80,
        200,
        0,
        6,
        0x12,
        0x34,
        0xab,
        0xcd,
        ...new Array(12).fill(0),
        0,
        0,
        0,
        50,
        0,
        0,
        0x1f,
        0x40,
      ];
      const sdes = [0x81, 202, 0, 2, 0x12, 0x34, 0xab, 0xcd, 0, 0, 0, 0];
      await rtcp.send(Uint8Array.from([...sr, ...sdes]));
      await rtcp.send(Uint8Array.from([0x80, 201, 0, 1, 0, 0, 0, 1]));
      await sendPaced(
        rtcp,
        Array.from({ length: 200 }, () => malformed("random", r).subarray(0, 3)),
      );
      rtcp.close();
      await untilReceived(call, fuzz.length + valid.length);
      const stats = call.stats().caller!;
      expect(stats).toMatchObject({
        packets: fuzz.length + valid.length,
        malformed: expectMalformed,
        unexpectedPayloadType: expectForeignPt,
        audioPackets: valid.length + expectStray,
        lost: 0,
        strayPackets: expectStray,
        ssrcChanges: 0,
      });
      expect(await eventually(() => call.stats().caller!.rtcpMalformed === 200)).toBe(true);
      expect(call.stats().caller).toMatchObject({ rtcpPackets: 3, rtcpMalformed: 200 });
      expect(expectMalformed + expectForeignPt + expectStray).toBe(5000);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
      await call.end("bye");
      const audio = await readLegAudio(m, info.callId, "caller");
      expect(Buffer.from(audio.pcm.buffer).equals(Buffer.from(mulawRoundTrip(source).buffer))).toBe(true);
      expect(await metricValue(registry, "ingest_rtp_packets_total", { result: "malformed" })).toBe(
        expectMalformed,
      );
      expect(
        await metricValue(registry, "ingest_rtp_packets_total", { result: "unexpected_payload_type" }),
      ).toBe(expectForeignPt);
    } finally {
      await gateway.close();
    }
  });
});
