import { describe, expect, it } from "vitest";
import { ReceptionStatistics, parseRtcpCompound } from "./rtcp.ts";

describe("ReceptionStatistics (RFC 3550 A.1, A.3, A.8)", () => {
  it("counts expected and lost packets across a sequence wrap, with the fraction per interval", () => {
    const s = new ReceptionStatistics(8000);
    // 65530..65535, 0..13 with 3 and 4 missing: 20 expected, 18 received.
    for (let i = 0; i < 20; i++) {
      const seq = (65530 + i) & 0xffff;
      if (seq === 3 || seq === 4) continue;
      s.update(seq, i * 160, i * 20);
    }
    const r = s.report();
    expect(r).toMatchObject({
      extendedHighestSeq: 65536 + 13,
      expected: 20,
      received: 18,
      cumulativeLost: 2,
    });
    expect(r.fractionLost).toBe(Math.floor((2 * 256) / 20));
    expect(r.jitter).toBe(0); // perfectly paced
    s.update(14, 20 * 160, 20 * 20);
    expect(s.report()).toMatchObject({ expected: 21, cumulativeLost: 2, fractionLost: 0 });
  });

  it("estimates interarrival jitter in timestamp units", () => {
    const s = new ReceptionStatistics(8000);
    // Arrivals alternate 10 ms early and late: |D| = 160 units after the first pair.
    for (let i = 0; i < 400; i++) s.update(i, i * 160, i * 20 + (i % 2 === 0 ? 0 : 20));
    const { jitter } = s.report();
    expect(jitter).toBeGreaterThan(150);
    expect(jitter).toBeLessThanOrEqual(160);
  });

  it("does not take a single far-off sequence number as a restart", () => {
    const s = new ReceptionStatistics(8000);
    for (let i = 0; i < 10; i++) s.update(i, i * 160, i * 20);
    s.update(30000, 0, 200);
    s.update(10, 1600, 220);
    expect(s.report()).toMatchObject({ expected: 11, received: 11 });
  });
});

describe("parseRtcpCompound", () => {
  const rr = [0x80, 201, 0, 1, 0, 0, 0, 9];
  const sr = [0x80, 200, 0, 6, 0, 0, 0, 9, ...new Array(12).fill(0), 0, 0, 1, 0, 0, 0, 0x10, 0];
  it("walks an SR + SDES compound and reads the sender's counts", () => {
    const sdes = [0x81, 202, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0];
    const c = parseRtcpCompound(Uint8Array.from([...sr, ...sdes]));
    expect(c).toEqual({
      kinds: ["sr", "sdes"],
      senderReport: { ssrc: 9, packetCount: 256, octetCount: 4096 },
      malformed: false,
    });
  });
  it("keeps what it read before a malformed part and never throws", () => {
    expect(parseRtcpCompound(Uint8Array.from([...rr, 0x80, 203, 0, 9]))).toEqual({
      kinds: ["rr"],
      malformed: true,
    });
    expect(parseRtcpCompound(Uint8Array.from([0x40, 201, 0, 0]))).toEqual({ kinds: [], malformed: true });
    expect(parseRtcpCompound(new Uint8Array(0)).malformed).toBe(true);
    expect(parseRtcpCompound(Uint8Array.from([...rr, 1, 2])).malformed).toBe(true);
  });
});
