import { type Messaging } from "@callscribe/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeRtp,
  encodeTelephoneEvent,
  G722Decoder,
  G722Encoder,
} from "../../../services/ingest/src/media/index.ts";
import { synthSignal } from "../../fixtures/ingest/media/g722-vectors.ts";
import { connectTestStreams } from "../../support/infra.ts";
import {
  g722,
  metricValue,
  mulawPackets,
  mulawRoundTrip,
  promptPcm,
  readCallEnded,
  readDtmf,
  readLegAudio,
  rtpSender,
  sendPaced,
  startGateway,
  startOneLegCall,
  untilReceived,
} from "./support.ts";

let m: Messaging;
let source: Int16Array;
let expected: Int16Array;

beforeAll(async () => {
  m = await connectTestStreams("test-ingest-media");
  source = await promptPcm();
  expected = mulawRoundTrip(source);
});
afterAll(async () => {
  await m.drain();
});

const block = (pcm: Int16Array, k: number) => pcm.subarray(160 * k, 160 * (k + 1));

describe("RTP over loopback into a gateway, frames read back from JetStream", () => {
  it("publishes the G.711 round trip of the source sample for sample when nothing is lost", async () => {
    const { gateway } = startGateway(m);
    try {
      const { call, port, info } = await startOneLegCall(gateway);
      const packets = mulawPackets(source);
      const sender = await rtpSender(port.port);
      await sendPaced(sender, packets);
      sender.close();
      await untilReceived(call, packets.length);
      await call.end("bye");

      const audio = await readLegAudio(m, info.callId, "caller");
      expect(audio.pcm.length).toBe(source.length);
      expect(Buffer.from(audio.pcm.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      // One 20 ms frame per packet, then the (empty) last frame; sequence from 0 without gaps.
      expect(audio.metas.map((f) => f.seq)).toEqual(packets.map((_, i) => i).concat(packets.length));
      expect(audio.metas.every((f) => f.sampleRate === 8000)).toBe(true);
      expect(audio.metas.at(-1)!.last).toBe(true);
      expect(audio.metas.slice(0, -1).every((f) => !f.last)).toBe(true);
      const steps = audio.metas.slice(1, -1).map((f, i) => f.captureMs - audio.metas[i]!.captureMs);
      expect(steps.every((s) => s === 20)).toBe(true);

      const [ended] = await readCallEnded(m, info.callId);
      expect(ended).toMatchObject({ reason: "bye", lastSeq: { caller: packets.length } });
      expect(ended!.stats).toMatchObject({
        "caller.lost": 0,
        "caller.duplicates": 0,
        "caller.received": packets.length,
      });
    } finally {
      await gateway.close();
    }
  });

  it("reorders, drops duplicates and conceals losses and a late packet with the right counts", async () => {
    const { gateway, registry } = startGateway(m, { jitterDelayMs: 200 });
    try {
      const { call, port, info } = await startOneLegCall(gateway);
      const packets = mulawPackets(source);
      const n = packets.length;
      // A fixed pattern: drop every 23rd packet and a burst of three; swap adjacent pairs; send some
      // twice (at once, or after they were played); hold one back until well after its slot.
      const dropped = new Set([
        ...Array.from({ length: n }, (_, k) => k).filter((k) => k % 23 === 11),
        60,
        61,
        62,
      ]);
      const swapped = new Set([5, 30, 77, 100]); // k+1 is sent before k
      const duplicatedAtOnce = new Set([8, 40, 90]);
      const duplicatedLater = new Set([20, 50]); // sent again 10 packets later
      const lateK = 120; // sent after packet 145
      const order: number[] = [];
      for (let k = 0; k < n; k++) {
        if (swapped.has(k - 1)) continue; // already sent with its partner
        if (swapped.has(k)) order.push(k + 1, k);
        else if (k !== lateK) order.push(k);
        if (duplicatedAtOnce.has(k)) order.push(k);
        if (duplicatedLater.has(k - 10)) order.push(k - 10);
        if (k === lateK + 25) order.push(lateK);
      }
      const sent = order.filter((k) => !dropped.has(k));
      const sender = await rtpSender(port.port);
      // The 200 ms playout delay leaves room for scheduling pauses between a swapped pair on a busy machine.
      await sendPaced(
        sender,
        sent.map((k) => packets[k]!),
      );
      sender.close();
      await untilReceived(call, sent.length);
      await call.end("bye");

      const audio = await readLegAudio(m, info.callId, "caller");
      // Every 20 ms of the call is there: concealment filled the lost ones.
      expect(audio.pcm.length).toBe(n * 160);
      for (let k = 0; k < n; k++) {
        const want = dropped.has(k) || k === lateK ? new Int16Array(160) : block(expected, k);
        expect([
          k,
          Buffer.from(block(audio.pcm, k).slice().buffer).equals(Buffer.from(want.slice().buffer)),
        ]).toEqual([k, true]);
      }
      const stats = call.stats().caller!;
      expect(stats).toMatchObject({
        lost: dropped.size + 1,
        late: 1,
        duplicates: duplicatedAtOnce.size + duplicatedLater.size,
        reordered: swapped.size,
        concealedSamples: (dropped.size + 1) * 160,
        received: n - dropped.size - 1,
        malformed: 0,
      });
      const [ended] = await readCallEnded(m, info.callId);
      expect(ended!.stats).toMatchObject({ "caller.lost": dropped.size + 1, "caller.late": 1 });
      expect(await metricValue(registry, "ingest_jitter_buffer_events_total", { event: "duplicate" })).toBe(
        5,
      );
      expect(await metricValue(registry, "ingest_jitter_buffer_events_total", { event: "lost" })).toBe(
        dropped.size + 1,
      );
    } finally {
      await gateway.close();
    }
  });

  it("publishes RFC 4733 digits once each as call events, without counting their packets as loss", async () => {
    const { gateway } = startGateway(m);
    try {
      const { call, port, info } = await startOneLegCall(gateway, { telephoneEventPt: 101 });
      const pcm = source.subarray(0, 160 * 40);
      const audio = mulawPackets(pcm, { seq0: 100, ts0: 8000 });
      // Packets 0-9 audio; then the digit 7 (seq 110-115, last three with E); packets 10-39 audio.
      const eventTs = 8000 + 160 * 10;
      const events = [160, 320, 480, 640, 640, 640].map((duration, i) =>
        encodeRtp({
          payloadType: 101,
          seq: 110 + i,
          timestamp: eventTs,
          ssrc: 0x1234abcd,
          marker: i === 0,
          payload: encodeTelephoneEvent({ event: 7, end: i >= 3, volume: 10, duration }),
        }),
      );
      // After the digit, audio resumes 80 ms (the event's duration) later in time, seq 116 on.
      const after = mulawPackets(pcm.subarray(160 * 10), { seq0: 116, ts0: eventTs + 640 });
      const sender = await rtpSender(port.port);
      await sendPaced(sender, [...audio.slice(0, 10), ...events, ...after]);
      sender.close();
      await untilReceived(call, 10 + events.length + after.length);
      await call.end("bye");

      const [digit, ...more] = await readDtmf(m, info.callId, 1);
      expect(more).toEqual([]);
      expect(digit).toMatchObject({
        callId: info.callId,
        leg: "caller",
        digit: "7",
        durationMs: 80,
        atMs: 200,
      });
      const leg = await readLegAudio(m, info.callId, "caller");
      expect(leg.pcm.length).toBe(160 * 44); // 40 packets of audio + 80 ms of silence for the tone
      expect(call.stats().caller).toMatchObject({ lost: 0, dtmfPackets: 6, silenceFilledSamples: 640 });
    } finally {
      await gateway.close();
    }
  });

  it("decodes a G.722 leg to 16 kHz frames equal to the decoder's output of the same bitstream", async () => {
    const { gateway } = startGateway(m);
    try {
      const { call, port, info } = await startOneLegCall(gateway, { codec: g722 });
      const wideband = synthSignal(16000);
      const bitstream = new G722Encoder().encode(wideband);
      const packets: Uint8Array[] = [];
      for (let k = 0; k * 160 < bitstream.length; k++) {
        const payload = bitstream.subarray(160 * k, 160 * (k + 1));
        packets.push(encodeRtp({ payloadType: 9, seq: k, timestamp: 160 * k, ssrc: 9, payload }));
      }
      const sender = await rtpSender(port.port);
      await sendPaced(sender, packets);
      sender.close();
      await untilReceived(call, packets.length);
      await call.end("bye");
      const audio = await readLegAudio(m, info.callId, "caller");
      const want = new G722Decoder().decode(bitstream);
      expect(audio.metas.every((f) => f.sampleRate === 16000)).toBe(true);
      expect(audio.metas.slice(0, -1).every((f, i) => f.seq === i)).toBe(true);
      expect(audio.pcm.length).toBe(16000);
      expect(Buffer.from(audio.pcm.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    } finally {
      await gateway.close();
    }
  });
});
