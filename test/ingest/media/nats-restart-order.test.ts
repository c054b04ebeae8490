import { parseFrameHeaders, subjects, type Leg, type Messaging } from "@callscribe/messaging";
import { DeliverPolicy } from "@nats-io/jetstream";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AsyncJetStreamPublisher } from "../../../services/ingest/src/media/jetstream-publish.ts";
import { createMediaMetrics } from "../../../services/ingest/src/media/metrics.ts";
import { CallPublisher, createPublishBatcher } from "../../../services/ingest/src/media/publisher.ts";
import { PrivateNatsServer } from "../../faults/support/nats-server.ts";
import { connectTestStreams, uniqueCallId } from "../../support/infra.ts";
import { eventually, metricValue, silentLogger, sleep } from "./support.ts";

let nats: PrivateNatsServer;
let m: Messaging;

beforeAll(async () => {
  nats = await PrivateNatsServer.start();
  m = await connectTestStreams("test-ingest-restart-order", [nats.url]);
});

afterAll(async () => {
  await m?.drain().catch(() => undefined);
  await nats?.close();
});

/** Every frame sequence AUDIO stored for a leg, in the order the stream stored them. */
async function storedSeqs(callId: string, leg: Leg): Promise<number[]> {
  const consumer = await m.js.consumers.get("AUDIO", {
    filter_subjects: subjects.audio(callId, leg),
    deliver_policy: DeliverPolicy.All,
  });
  const seqs: number[] = [];
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
    let got = 0;
    for await (const msg of batch) {
      got++;
      seqs.push(parseFrameHeaders(callId, msg.headers).seq);
    }
    if (got === 0) return seqs;
  }
}

describe("NATS server restarted while frames are in flight", () => {
  it("stores every acknowledged frame once, in order, on both legs", async () => {
    const registry = new Registry();
    const metrics = createMediaMetrics(registry);
    // The default ack timeout (2 s) outlasts the restart: the reconnect comes before in-flight frames time out.
    const jetstream = new AsyncJetStreamPublisher(m.nc, 2000);
    const callId = uniqueCallId("order");
    const publisher = new CallPublisher(
      callId,
      {
        jetstream,
        isConnected: () => m.isConnected(),
        window: 32,
        defer: createPublishBatcher(0),
        metrics,
        tally: { frames: 0, hardLimit: 1_000_000, calls: 1 },
        logger: silentLogger,
      },
      1_000_000,
    );
    const legs: Leg[] = ["caller", "agent"];
    const perLeg = 1500;
    const pcm = new Int16Array(160);
    let added = 0;
    const addFrames = (count: number) => {
      for (let i = 0; i < count && added < perLeg; i++, added++) {
        for (const leg of legs) {
          const ok = publisher.addFrame(leg, {
            pcm,
            captureMs: added * 20,
            sampleRate: 8000,
            last: added === perLeg - 1,
            arrivedAt: performance.now(),
          });
          expect(ok).toBe(true);
        }
      }
    };
    try {
      // Frames go out steadily, a few per millisecond, so some are always in flight.
      const producer = (async () => {
        while (added < perLeg) {
          addFrames(4);
          await sleep(1);
        }
      })();
      expect(
        await eventually(async () => (await metricValue(registry, "ingest_frames_published_total")) >= 300),
      ).toBe(true);
      await nats.down("SIGKILL");
      await nats.up();
      await producer;
      await Promise.race([
        publisher.framesDrained(),
        sleep(60_000).then(() => {
          throw new Error("frames were not all acknowledged within 60 s of the restart");
        }),
      ]);

      const acknowledged = await metricValue(registry, "ingest_frames_published_total");
      expect(acknowledged).toBe(2 * perLeg);
      const expected = Array.from({ length: perLeg }, (_, i) => i);
      for (const leg of legs) expect(await storedSeqs(callId, leg)).toEqual(expected);
      expect(await metricValue(registry, "ingest_frames_stored_out_of_order_total")).toBe(0);
      // The restart was felt: some publishes failed and were resent.
      expect(await metricValue(registry, "ingest_publish_retries_total")).toBeGreaterThan(0);
    } finally {
      publisher.abandon();
      jetstream.close();
    }
  });
});
