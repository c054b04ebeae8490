import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueCallId } from "../../support/infra.ts";
import {
  CallWatcher,
  readLegAudio,
  runSipp,
  sippReport,
  startTestIngest,
  tempDirWith,
  type TestIngest,
} from "./support/harness.ts";
import { pcmuPcapOf, readPrompt } from "./support/recording.ts";

const MEDIA_TIMEOUT_MS = 1500;

describe("call flows against an ingest with a short media timeout", () => {
  let t: TestIngest;
  let watcher: CallWatcher;
  beforeAll(async () => {
    t = await startTestIngest({ INGEST_MEDIA_TIMEOUT_MS: String(MEDIA_TIMEOUT_MS) });
    watcher = new CallWatcher(t.messaging);
    await watcher.ready(t.messaging);
  });
  afterAll(async () => {
    watcher?.close();
    await t?.close();
  });

  it("sends BYE itself when RTP stops (media timeout), and the caller's 200 completes it", async () => {
    const sipCallId = uniqueCallId("sipp-timeout");
    const result = await runSipp({
      scenario: "uac-wait-for-bye.xml",
      port: t.ingest.sipPort,
      callId: sipCallId,
    });
    expect(result.code, sippReport(result)).toBe(0);
    const started = await watcher.waitForStarted(sipCallId);
    expect((await watcher.waitForEnded(started.callId)).reason).toBe("media-timeout");
    expect(t.ingest.uas.stats().sessions).toBe(0);
  });

  it("holds with re-INVITE (sendonly, then inactive past the media timeout) and resumes", async () => {
    const prompt = await readPrompt("agent-pass");
    const first = pcmuPcapOf(prompt);
    // After the hold the phone continues its RTP sequence; the timestamp jumps over the hold.
    const resumed = pcmuPcapOf(await readPrompt("hello-world"), {
      seq: 40_000 + first.packets,
      timestamp: 1_000_000,
    });
    const cwd = await tempDirWith({ "call.pcap": first.pcap, "resume.pcap": resumed.pcap });
    const sipCallId = uniqueCallId("sipp-hold");
    const result = await runSipp({
      scenario: "uac-hold.xml",
      port: t.ingest.sipPort,
      callId: sipCallId,
      cwd,
      pauseMs: Math.round((resumed.expected.length / 8000) * 1000 + 1000),
      timeoutS: 40,
    });
    expect(result.code, sippReport(result)).toBe(0);
    const started = await watcher.waitForStarted(sipCallId);
    // Had the hold not been honoured, the media timeout would have ended the call during it.
    expect((await watcher.waitForEnded(started.callId)).reason).toBe("bye");
    const audio = await readLegAudio(t.messaging, started.callId, "caller");
    expect(Array.from(audio.pcm.subarray(0, first.expected.length))).toEqual(Array.from(first.expected));
    expect(Array.from(audio.pcm.subarray(audio.pcm.length - resumed.expected.length))).toEqual(
      Array.from(resumed.expected),
    );
  });

  it("answers OPTIONS with 200, Allow and Accept", async () => {
    const result = await runSipp({
      scenario: "uac-options.xml",
      port: t.ingest.sipPort,
      callId: uniqueCallId("sipp-options"),
    });
    expect(result.code, sippReport(result)).toBe(0);
  });

  it("answers 488 with a Warning when the only codec offered is GSM, and publishes no call", async () => {
    const sipCallId = uniqueCallId("sipp-488");
    const result = await runSipp({ scenario: "uac-488.xml", port: t.ingest.sipPort, callId: sipCallId });
    expect(result.code, sippReport(result)).toBe(0);
    expect(watcher.startedFor(sipCallId)).toBeUndefined();
  });
});

describe("CANCEL before answer", () => {
  let t: TestIngest;
  let watcher: CallWatcher;
  beforeAll(async () => {
    // Ringing for 2 s gives the CANCEL a window before the 200.
    t = await startTestIngest({ INGEST_ANSWER_DELAY_MS: "2000" });
    watcher = new CallWatcher(t.messaging);
    await watcher.ready(t.messaging);
  });
  afterAll(async () => {
    watcher?.close();
    await t?.close();
  });

  it("answers 200 to the CANCEL and 487 to the INVITE, and publishes no call", async () => {
    const sipCallId = uniqueCallId("sipp-cancel");
    const result = await runSipp({ scenario: "uac-cancel.xml", port: t.ingest.sipPort, callId: sipCallId });
    expect(result.code, sippReport(result)).toBe(0);
    // A cancelled call never reached media: wait out the ring time and check nothing was started.
    await new Promise((r) => setTimeout(r, 2500));
    expect(watcher.startedFor(sipCallId)).toBeUndefined();
    expect(t.ingest.uas.stats().sessions).toBe(0);
    expect(t.ingest.media.activeCalls()).toBe(0);
  });
});
