import { type Messaging } from "@callscribe/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestStreams } from "../../support/infra.ts";
import {
  eventually,
  metricValue,
  mulawPackets,
  pcmu,
  promptPcm,
  readCallEnded,
  readLegAudio,
  rtpSender,
  sendPaced,
  sleep,
  startGateway,
  startOneLegCall,
  untilReceived,
} from "./support.ts";

let m: Messaging;
let source: Int16Array;

beforeAll(async () => {
  m = await connectTestStreams("test-ingest-media-timeout");
  source = (await promptPcm()).subarray(0, 160 * 25);
});
afterAll(async () => {
  await m.drain();
});

describe("media timeout", () => {
  it("ends a call whose RTP stops, tells the SIP side once, and publishes call.ended", async () => {
    const { gateway, registry } = startGateway(m, { mediaTimeoutMs: 600 });
    try {
      const { call, port, info } = await startOneLegCall(gateway);
      const reasons: string[] = [];
      call.onEndedByMedia((reason) => reasons.push(reason));
      const sender = await rtpSender(port.port);
      const packets = mulawPackets(source);
      await sendPaced(sender, packets);
      sender.close();
      expect(await eventually(() => reasons.length > 0, 10_000)).toBe(true);
      expect(reasons).toEqual(["media-timeout"]);
      await call.end("bye"); // the SIP side's BYE afterwards changes nothing
      const ended = await readCallEnded(m, info.callId);
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ reason: "media-timeout", lastSeq: { caller: packets.length } });
      const audio = await readLegAudio(m, info.callId, "caller");
      expect(audio.pcm.length).toBe(source.length);
      expect(gateway.activeCalls()).toBe(0);
      expect(await metricValue(registry, "ingest_calls_ended_total", { reason: "media-timeout" })).toBe(1);
      expect(reasons).toEqual(["media-timeout"]);
    } finally {
      await gateway.close();
    }
  });

  it("does not time out a leg on hold, and plays it on after resume without filling the hold", async () => {
    const { gateway } = startGateway(m, { mediaTimeoutMs: 500 });
    try {
      const { call, port, info } = await startOneLegCall(gateway);
      const reasons: string[] = [];
      call.onEndedByMedia((reason) => reasons.push(reason));
      const sender = await rtpSender(port.port);
      const first = mulawPackets(source.subarray(0, 160 * 10));
      await sendPaced(sender, first);
      await untilReceived(call, first.length);
      // re-INVITE: the offerer holds with a=inactive; no RTP for three timeout periods.
      call.update([{ leg: "caller", codec: pcmu, direction: "inactive", telephoneEventPt: 101 }]);
      await sleep(1500);
      expect(reasons).toEqual([]);
      expect(gateway.activeCalls()).toBe(1);
      // Resume: RTP continues in sequence with the timestamp 1.5 s on.
      call.update([{ leg: "caller", codec: pcmu, direction: "sendrecv", telephoneEventPt: 101 }]);
      const rest = mulawPackets(source.subarray(160 * 10), {
        seq0: 4000 + 10,
        ts0: 123_456 + 160 * 10 + 8000 * 1.5,
      });
      await sendPaced(sender, rest);
      sender.close();
      expect(await eventually(() => reasons.length > 0, 10_000)).toBe(true);
      expect(reasons).toEqual(["media-timeout"]);
      const audio = await readLegAudio(m, info.callId, "caller");
      expect(audio.pcm.length).toBe(source.length); // no silence for the hold
      expect(call.stats().caller).toMatchObject({ lost: 0, silenceFilledSamples: 0 });
    } finally {
      await gateway.close();
    }
  });
});
