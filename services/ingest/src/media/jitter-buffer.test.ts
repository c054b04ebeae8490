import { describe, expect, it } from "vitest";
import { JitterBuffer, type JitterBufferOptions, type JitterPacket } from "./jitter-buffer.ts";

// Each test packet k carries 160 octets of value id(k); the test decoder copies octets to samples (or
// duplicates them, for a G.722-like 16 kHz leg), so the output shows which packet filled which 20 ms.
const id = (k: number) => (k % 250) + 1;

function harness(
  overrides: Partial<JitterBufferOptions> & { seq0?: number; ts0?: number; ssrc?: number } = {},
) {
  const frames: { pcm: Int16Array; captureMs: number }[] = [];
  const samplesPerOctet = (overrides.sampleRate ?? 8000) / 8000;
  const jb = new JitterBuffer({
    clockRate: 8000,
    sampleRate: 8000,
    frameMs: 20,
    delayMs: 60,
    concealment: "silence",
    decode: (payload, out) => {
      for (let i = 0; i < payload.length * samplesPerOctet; i++)
        out[i] = payload[Math.floor(i / samplesPerOctet)]!;
      return payload.length * samplesPerOctet;
    },
    onFrame: (pcm, captureMs) => frames.push({ pcm, captureMs }),
    ...overrides,
  });
  const seq0 = overrides.seq0 ?? 1000;
  const ts0 = overrides.ts0 ?? 50_000;
  const packet = (k: number, more: Partial<JitterPacket> = {}): JitterPacket => ({
    seq: (seq0 + k) & 0xffff,
    timestamp: (ts0 + k * 160) % 2 ** 32,
    ssrc: overrides.ssrc ?? 7,
    payload: new Uint8Array(160).fill(id(k)),
    audio: true,
    ...more,
  });
  /** Pushes packet k at its nominal arrival time, 20 ms apart from t = 1000. */
  const push = (k: number, at = 1000 + 20 * k, more: Partial<JitterPacket> = {}) =>
    jb.push(packet(k, more), at);
  /** The output as one value per 20 ms block of 160 samples (0 = silence), each block checked uniform. */
  const blocks = (extra: Int16Array[] = []) => {
    const all = [...frames.map((f) => f.pcm), ...extra];
    const samples = Int16Array.from(all.flatMap((f) => [...f]));
    const size = 160 * samplesPerOctet;
    const out: number[] = [];
    for (let i = 0; i < samples.length; i += size) {
      const block = samples.subarray(i, i + size);
      expect(block.every((s) => s === block[0])).toBe(true);
      out.push(block[0]!);
    }
    return out;
  };
  return { jb, frames, packet, push, blocks };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("JitterBuffer", () => {
  it("plays packets in order as soon as they arrive, one frame per 20 ms, with capture times", () => {
    const h = harness();
    for (const k of range(0, 10)) h.push(k);
    expect(h.blocks()).toEqual(range(0, 10).map(id));
    expect(h.frames.map((f) => f.captureMs)).toEqual(range(0, 10).map((k) => 980 + 20 * k));
    expect(h.jb.stats).toMatchObject({
      received: 10,
      lost: 0,
      duplicates: 0,
      late: 0,
      reordered: 0,
      concealedSamples: 0,
    });
  });

  it("puts swapped packets back in order within the playout delay", () => {
    const h = harness();
    for (const k of [0, 1, 2, 4, 3, 5, 7, 6, 8]) h.push(k, 1000 + 20 * Math.max(k, 4));
    expect(h.blocks()).toEqual(range(0, 9).map(id));
    expect(h.jb.stats).toMatchObject({ reordered: 2, lost: 0, late: 0 });
  });

  it("drops duplicates, whether still buffered or already played", () => {
    const h = harness();
    for (const k of [0, 1, 3, 3, 2, 2, 1, 4]) h.push(k);
    expect(h.blocks()).toEqual(range(0, 5).map(id));
    expect(h.jb.stats).toMatchObject({ duplicates: 3, reordered: 1, received: 5 });
  });

  it("waits `delayMs` for a missing packet, then conceals it with silence; a later arrival is late", () => {
    const h = harness();
    for (const k of [0, 1, 2, 3, 5, 6]) h.push(k);
    expect(h.blocks()).toEqual(range(0, 4).map(id));
    h.jb.poll(1000 + 20 * 5 + 59);
    expect(h.frames).toHaveLength(4);
    h.jb.poll(1000 + 20 * 5 + 60);
    expect(h.blocks()).toEqual([1, 2, 3, 4, 0, 6, 7]);
    h.push(4, 1200);
    expect(h.jb.stats).toMatchObject({ lost: 1, late: 1, concealedSamples: 160, received: 6 });
  });

  it("conceals by repeating the last packet, at most three times, then silence", () => {
    const h = harness({ concealment: "repeat" });
    for (const k of [0, 1, 7]) h.push(k);
    h.jb.poll(2000);
    expect(h.blocks()).toEqual([1, 2, 2, 2, 2, 0, 0, 8]);
    expect(h.jb.stats).toMatchObject({ lost: 5, concealedSamples: 800 });
  });

  it("conceals without waiting when more than `delayMs` of audio is queued behind a hole", () => {
    const h = harness();
    h.push(0);
    for (const k of [2, 3, 4, 5]) h.push(k, 1000); // a burst after a stall
    expect(h.blocks()).toEqual([1, 0, 3, 4, 5, 6]);
  });

  it("follows the sequence number and the timestamp through their wrap-around", () => {
    const h = harness({ seq0: 65530, ts0: 2 ** 32 - 800 });
    for (const k of range(0, 12)) h.push(k);
    expect(h.blocks()).toEqual(range(0, 12).map(id));
    expect(h.jb.stats).toMatchObject({ lost: 0, late: 0, timestampJumps: 0, silenceFilledSamples: 0 });
  });

  it("fills a timestamp gap without loss (silence suppression) with silence", () => {
    const h = harness();
    for (const k of range(0, 3)) h.push(k);
    // Packet 3 follows in sequence but 200 ms later in timestamps.
    h.jb.push({ ...h.packet(3), timestamp: 50_000 + 3 * 160 + 1600 }, 1300);
    expect(h.blocks()).toEqual([1, 2, 3, ...new Array(10).fill(0), 4]);
    expect(h.jb.stats).toMatchObject({ lost: 0, silenceFilledSamples: 1600, timestampJumps: 0 });
  });

  it("restarts the timeline on a timestamp jump beyond maxGapFillMs, without filling it", () => {
    const h = harness({ maxGapFillMs: 1000 });
    for (const k of range(0, 3)) h.push(k);
    h.jb.push({ ...h.packet(3), timestamp: 50_000 + 3 * 160 + 8000 * 20 }, 21_000);
    expect(h.blocks()).toEqual([1, 2, 3, 4]);
    expect(h.jb.stats.timestampJumps).toBe(1);
    expect(h.frames[3]!.captureMs).toBe(21_000 - 20);
  });

  it("ignores a lone packet of another SSRC and switches when two in sequence arrive", () => {
    const h = harness();
    for (const k of range(0, 3)) h.push(k);
    h.jb.push({ ...h.packet(200), ssrc: 99 }, 1060); // stray
    h.push(3);
    h.jb.push({ ...h.packet(100), ssrc: 42, seq: 5 }, 1100);
    expect(h.jb.stats.strayPackets).toBe(2);
    h.jb.push({ ...h.packet(101), ssrc: 42, seq: 6, timestamp: 1 }, 1120); // a new timeline altogether
    expect(h.blocks()).toEqual([1, 2, 3, 4, id(100), id(101)]);
    expect(h.jb.stats).toMatchObject({ ssrcChanges: 1, strayPackets: 1, lost: 0 });
    expect(h.jb.currentSsrc).toBe(42);
  });

  it("takes a large sequence jump as a restart only when the next packet follows it", () => {
    const h = harness();
    for (const k of range(0, 3)) h.push(k);
    h.jb.push({ ...h.packet(3), seq: 30_000 }, 1060);
    h.push(3);
    expect(h.jb.stats).toMatchObject({ strayPackets: 1, seqRestarts: 0 });
    h.jb.push({ ...h.packet(4), seq: 40_000 }, 1080);
    h.jb.push({ ...h.packet(5), seq: 40_001 }, 1100);
    expect(h.blocks()).toEqual(range(0, 6).map(id));
    expect(h.jb.stats).toMatchObject({ strayPackets: 1, seqRestarts: 1, lost: 0 });
  });

  it("lets RFC 4733 events hold their sequence numbers: no loss, their time becomes silence", () => {
    const h = harness();
    for (const k of range(0, 3)) h.push(k);
    // Three event packets (seq 3-5) at the event's start timestamp, then audio resumes 100 ms later.
    for (const k of [3, 4, 5])
      h.jb.push({ ...h.packet(k), timestamp: 50_000 + 3 * 160, audio: false }, 1000 + 20 * k);
    h.jb.push({ ...h.packet(6), timestamp: 50_000 + 3 * 160 + 800 }, 1120);
    expect(h.blocks()).toEqual([1, 2, 3, 0, 0, 0, 0, 0, 7]);
    expect(h.jb.stats).toMatchObject({ lost: 0, silenceFilledSamples: 800, received: 7 });
  });

  it("emits 16 kHz frames for a G.722 leg (two samples per RTP clock tick)", () => {
    const h = harness({ sampleRate: 16000 });
    for (const k of [0, 1, 3]) h.push(k);
    h.jb.poll(2000);
    expect(h.frames.every((f) => f.pcm.length === 320)).toBe(true);
    expect(h.blocks()).toEqual([1, 2, 0, 4]);
    expect(h.jb.stats.concealedSamples).toBe(320);
  });

  it("packs 20 ms packets into 100 ms frames and returns the partial last frame at finish()", () => {
    const h = harness({ frameMs: 100 });
    for (const k of range(0, 12)) h.push(k);
    expect(h.frames.map((f) => f.pcm.length)).toEqual([800, 800]);
    expect(h.frames.map((f) => f.captureMs)).toEqual([980, 1080]);
    const rest = h.jb.finish();
    expect(rest.length).toBe(320);
    expect(h.blocks([rest])).toEqual(range(0, 12).map(id));
  });

  it("plays out everything buffered at finish(), concealing holes without waiting", () => {
    const h = harness();
    for (const k of [0, 1, 4]) h.push(k);
    const rest = h.jb.finish();
    expect(rest.length).toBe(0);
    expect(h.blocks()).toEqual([1, 2, 0, 0, 5]);
    expect(h.jb.stats.lost).toBe(2);
  });

  it("starts a new timeline after restart() (a resumed hold) without filling the pause", () => {
    const h = harness();
    for (const k of range(0, 3)) h.push(k);
    h.jb.restart();
    h.jb.push({ ...h.packet(3), timestamp: 50_000 + 8000 * 5 }, 6000);
    expect(h.blocks()).toEqual(range(0, 4).map(id));
    expect(h.jb.stats).toMatchObject({ silenceFilledSamples: 0, timestampJumps: 0, lost: 0 });
    expect(h.frames[3]!.captureMs).toBe(5980);
  });

  it("gives the output position of an RTP timestamp", () => {
    const h = harness();
    for (const k of range(0, 5)) h.push(k);
    expect(h.jb.positionMs(50_000 + 5 * 160)).toBe(100);
    expect(h.jb.positionMs(50_000 + 7 * 160)).toBe(140);
  });
});
