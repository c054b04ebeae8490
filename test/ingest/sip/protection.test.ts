import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueCallId } from "../../support/infra.ts";
import {
  CallWatcher,
  runSipp,
  sippReport,
  startTestIngest,
  tempDirWith,
  type TestIngest,
} from "./support/harness.ts";
import { pcmuPcapOf, readPrompt } from "./support/recording.ts";

describe("call limit", () => {
  let t: TestIngest;
  let watcher: CallWatcher;
  beforeAll(async () => {
    t = await startTestIngest({ INGEST_MAX_CALLS: "1", INGEST_RETRY_AFTER_S: "17" });
    watcher = new CallWatcher(t.messaging);
    await watcher.ready(t.messaging);
  });
  afterAll(async () => {
    watcher?.close();
    await t?.close();
  });

  it("answers 503 with Retry-After to a call over the maximum, while the first call goes on", async () => {
    const { pcap } = pcmuPcapOf(await readPrompt("beep"));
    const cwd = await tempDirWith({ "call.pcap": pcap });
    const firstId = uniqueCallId("sipp-first");
    const first = runSipp({
      scenario: "uac-plain-pcap.xml",
      port: t.ingest.sipPort,
      callId: firstId,
      cwd,
      pauseMs: 4000,
    });
    const started = await watcher.waitForStarted(firstId);
    const secondId = uniqueCallId("sipp-second");
    const second = await runSipp({ scenario: "uac-503.xml", port: t.ingest.sipPort, callId: secondId });
    expect(second.code, sippReport(second)).toBe(0);
    expect(watcher.startedFor(secondId)).toBeUndefined();
    const firstResult = await first;
    expect(firstResult.code, sippReport(firstResult)).toBe(0);
    expect((await watcher.waitForEnded(started.callId)).reason).toBe("bye");
  });
});

describe("source allowlist", () => {
  let t: TestIngest;
  beforeAll(async () => {
    // sipp sends from 127.0.0.1, which this list leaves out.
    t = await startTestIngest({ INGEST_SIP_ALLOWLIST: "10.0.0.0/8,::1" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers 403 to an INVITE from a source outside the allowlist", async () => {
    const result = await runSipp({
      scenario: "uac-403.xml",
      port: t.ingest.sipPort,
      callId: uniqueCallId("sipp-403"),
    });
    expect(result.code, sippReport(result)).toBe(0);
  });
});

describe("digest authentication", () => {
  let t: TestIngest;
  let watcher: CallWatcher;
  beforeAll(async () => {
    t = await startTestIngest({
      INGEST_SIP_AUTH_REALM: "callscribe",
      INGEST_SIP_AUTH_USER: "sbc",
      INGEST_SIP_AUTH_PASSWORD: "s3cret",
    });
    watcher = new CallWatcher(t.messaging);
    await watcher.ready(t.messaging);
  });
  afterAll(async () => {
    watcher?.close();
    await t?.close();
  });

  it("challenges with 401 and takes the call when the retry carries the right credentials", async () => {
    const sipCallId = uniqueCallId("sipp-auth");
    const result = await runSipp({
      scenario: "uac-auth.xml",
      port: t.ingest.sipPort,
      callId: sipCallId,
      extra: ["-au", "sbc", "-ap", "s3cret"],
    });
    expect(result.code, sippReport(result)).toBe(0);
    const started = await watcher.waitForStarted(sipCallId);
    expect((await watcher.waitForEnded(started.callId)).reason).toBe("bye");
  });

  it("keeps refusing a retry with the wrong password", async () => {
    const sipCallId = uniqueCallId("sipp-auth-bad");
    const result = await runSipp({
      scenario: "uac-auth.xml",
      port: t.ingest.sipPort,
      callId: sipCallId,
      extra: ["-au", "sbc", "-ap", "wrong"],
      timeoutS: 4,
    });
    // sipp expected a 200 after authenticating and got a second 401 instead.
    expect(result.code).not.toBe(0);
    expect(result.errors + result.stdout).toMatch(/401/);
    expect(watcher.startedFor(sipCallId)).toBeUndefined();
  });
});
