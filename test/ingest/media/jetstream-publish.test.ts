import { frameHeaders, subjects, type Messaging } from "@callscribe/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AsyncJetStreamPublisher,
  type PubAckResult,
} from "../../../services/ingest/src/media/jetstream-publish.ts";
import { connectTestStreams, uniqueCallId } from "../../support/infra.ts";
import { readLegAudio } from "./support.ts";

let m: Messaging;
beforeAll(async () => {
  m = await connectTestStreams("test-ingest-async-publish");
});
afterAll(async () => {
  await m.drain();
});

const publishOnce = (p: AsyncJetStreamPublisher, subject: string, msgID: string, seq: number, last = false) =>
  new Promise<PubAckResult>((resolve, reject) =>
    p.publish(
      subject,
      new Uint8Array(320).fill(seq),
      msgID,
      frameHeaders({ seq, captureMs: 1_700_000_000_000 + 20 * seq, sampleRate: 8000, last }),
      (err, ack) => (err ? reject(err) : resolve(ack!)),
    ),
  );

describe("AsyncJetStreamPublisher", () => {
  it("stores frames with their headers, and reports a republished message id as a duplicate", async () => {
    const publisher = new AsyncJetStreamPublisher(m.nc, 5000);
    try {
      const callId = uniqueCallId("p");
      const subject = subjects.audio(callId, "caller");
      const acks = await Promise.all(
        [0, 1, 2].map((seq) => publishOnce(publisher, subject, `a.${callId}.${seq}`, seq, seq === 2)),
      );
      expect(acks.map((a) => a.duplicate)).toEqual([false, false, false]);
      expect((await publishOnce(publisher, subject, `a.${callId}.1`, 1)).duplicate).toBe(true);
      const audio = await readLegAudio(m, callId, "caller");
      expect(audio.metas.map((f) => f.seq)).toEqual([0, 1, 2]);
      expect(audio.pcm.length).toBe(480);
      expect(audio.metas.at(-1)!.last).toBe(true);
    } finally {
      publisher.close();
    }
  });

  it("fails a publish to a subject no stream takes with the server's 503, not a timeout", async () => {
    const publisher = new AsyncJetStreamPublisher(m.nc, 30_000);
    try {
      await expect(publishOnce(publisher, `nostream.${uniqueCallId()}`, "x", 0)).rejects.toThrow(/503/);
      expect(publisher.inFlight).toBe(0);
    } finally {
      publisher.close();
    }
  });
});
