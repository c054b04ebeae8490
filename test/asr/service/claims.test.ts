import { connectMessaging, type Messaging } from "@callscribe/messaging";
import { Kvm } from "@nats-io/kv";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimStore } from "../../../services/asr/src/worker/claims.ts";
import { testNatsUrl, uniqueCallId } from "../../support/infra.ts";

let m: Messaging;
const bucket = `ASR_CLAIMS_${uniqueCallId("c").replace(/-/g, "_")}`;
const ttlMs = 1000;

beforeAll(async () => {
  m = await connectMessaging({
    servers: [testNatsUrl],
    name: "asr-claims-test",
    logger: pino({ level: "silent" }),
  });
});

afterAll(async () => {
  await new Kvm(m.js)
    .open(bucket)
    .then((kv) => kv.destroy())
    .catch(() => undefined);
  await m.drain();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("ClaimStore", () => {
  it("gives a call to one replica at a time and lets another claim it once released", async () => {
    const a = await ClaimStore.open({ js: m.js, bucket, ttlMs, replicaId: "a" });
    const b = await ClaimStore.open({ js: m.js, bucket, ttlMs, replicaId: "b" });
    const callId = uniqueCallId();
    const claim = await a.tryClaim(callId);
    expect(claim).toBeDefined();
    expect(await b.tryClaim(callId)).toBeUndefined();
    expect(await a.holder(callId)).toBe("a");
    expect(await a.renew(claim!)).toBe(true);
    expect(await b.tryClaim(callId)).toBeUndefined();
    await a.release(claim!);
    expect(await a.holder(callId)).toBeUndefined();
    const taken = await b.tryClaim(callId);
    expect(taken).toBeDefined();
    expect(await b.holder(callId)).toBe("b");
    // A's stale release must not remove B's claim.
    await a.release(claim!);
    expect(await b.holder(callId)).toBe("b");
  });

  it("lets a claim that is not renewed expire, and tells the old holder it lost it", async () => {
    const a = await ClaimStore.open({ js: m.js, bucket, ttlMs, replicaId: "a" });
    const b = await ClaimStore.open({ js: m.js, bucket, ttlMs, replicaId: "b" });
    const callId = uniqueCallId();
    const claim = await a.tryClaim(callId);
    expect(claim).toBeDefined();
    // Renewed within the TTL, it survives longer than the TTL.
    for (let i = 0; i < 4; i++) {
      await sleep(ttlMs / 3);
      expect(await a.renew(claim!)).toBe(true);
    }
    expect(await b.tryClaim(callId)).toBeUndefined();
    // Left alone, the lease ages out and B can take the call (the server expires on its own clock).
    let taken;
    for (let i = 0; i < 50 && !taken; i++) {
      await sleep(200);
      taken = await b.tryClaim(callId);
    }
    expect(taken).toBeDefined();
    expect(await a.renew(claim!)).toBe(false);
    expect(await b.holder(callId)).toBe("b");
  });
});
