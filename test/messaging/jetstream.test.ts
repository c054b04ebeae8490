import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectMessaging,
  decodeEvent,
  encodeEvent,
  ensureStreams,
  frameHeaders,
  frameMsgId,
  MessageFormatError,
  MessageHeaderError,
  parseFrameHeaders,
  subjects,
  CallStarted,
  SubjectTokenError,
  type Messaging,
} from "@callscribe/messaging";
import { testNatsUrl, uniqueCallId } from "../support/infra.ts";

let m: Messaging;
const logger = pino({ level: "silent" });

beforeAll(async () => {
  m = await connectMessaging({ servers: [testNatsUrl], name: "test", logger });
});
afterAll(async () => {
  await m.drain();
});

describe("JetStream streams", () => {
  it("are created idempotently", async () => {
    await ensureStreams(m.jsm);
    await ensureStreams(m.jsm);
    for (const name of ["AUDIO", "CALLS", "RESULTS"]) {
      const info = await m.jsm.streams.info(name);
      expect(info.config.name).toBe(name);
      expect(info.config.discard).toBe("new");
    }
  });

  it("deliver frames in order to a durable consumer and redeliver unacked ones after a restart", async () => {
    await ensureStreams(m.jsm);
    const callId = uniqueCallId();
    const subject = subjects.audio(callId, "caller");
    for (let seq = 0; seq < 5; seq++) {
      const pcm = new Uint8Array(320).fill(seq);
      const ack = await m.js.publish(subject, pcm, {
        headers: frameHeaders({
          seq,
          captureMs: 1_700_000_000_000 + seq * 20,
          sampleRate: 8000,
          last: seq === 4,
        }),
        msgID: frameMsgId(callId, "caller", seq),
      });
      expect(ack.duplicate).toBe(false);
    }
    // Republishing with the same message id is deduplicated by the stream.
    const dup = await m.js.publish(subject, new Uint8Array(320), { msgID: frameMsgId(callId, "caller", 0) });
    expect(dup.duplicate).toBe(true);

    const durable = `test-${callId}`;
    await m.jsm.consumers.add("AUDIO", {
      durable_name: durable,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 1_000_000_000, // 1 s, so the redelivery below comes quickly
    });

    const readSome = async (n: number, ack: boolean) => {
      const consumer = await m.js.consumers.get("AUDIO", durable);
      const got: number[] = [];
      const batch = await consumer.fetch({ max_messages: n, expires: 3000 });
      for await (const msg of batch) {
        const meta = parseFrameHeaders(callId, msg.headers);
        expect(msg.data[0]).toBe(meta.seq);
        got.push(meta.seq);
        if (ack) msg.ack();
      }
      return got;
    };

    expect(await readSome(2, true)).toEqual([0, 1]);
    // Read two more without acking, as a replica that dies mid-call would.
    expect(await readSome(2, false)).toEqual([2, 3]);
    await new Promise((r) => setTimeout(r, 1500));
    // A fresh consumer handle (the replacement replica) gets the unacked frames again, in order.
    expect(await readSome(3, true)).toEqual([2, 3, 4]);
    await m.jsm.consumers.delete("AUDIO", durable);
  });
});

describe("message parsing", () => {
  it("rejects bad frame headers with a typed error", () => {
    expect(() => parseFrameHeaders("c", undefined)).toThrow(MessageHeaderError);
    const h = headers();
    h.set("Callscribe-Seq", "12a");
    h.set("Callscribe-Capture-Ms", "1");
    h.set("Callscribe-Sample-Rate", "8000");
    expect(() => parseFrameHeaders("c", h)).toThrow(/Callscribe-Seq is not a whole number/);
    h.set("Callscribe-Seq", "1");
    h.set("Callscribe-Sample-Rate", "44100");
    expect(() => parseFrameHeaders("c", h)).toThrow(/sample rate 44100/);
  });

  it("rejects bad events and subject tokens with typed errors", () => {
    expect(() => decodeEvent(CallStarted, new Uint8Array([0xff, 0xfe]), "call.started")).toThrow(
      MessageFormatError,
    );
    expect(() => decodeEvent(CallStarted, new TextEncoder().encode('{"callId":1}'), "call.started")).toThrow(
      /call.started: callId/,
    );
    expect(() => subjects.audio("a.b", "caller")).toThrow(SubjectTokenError);
    const started = {
      callId: "c1",
      startedAt: new Date().toISOString(),
      source: "sip" as const,
      participants: [],
      legs: [{ leg: "caller" as const, sampleRate: 8000 as const, codec: "PCMU" }],
      metadata: {},
    };
    expect(decodeEvent(CallStarted, encodeEvent(CallStarted, started), "x")).toEqual(started);
  });
});
