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

let t: TestIngest;
let watcher: CallWatcher;

beforeAll(async () => {
  t = await startTestIngest();
  watcher = new CallWatcher(t.messaging);
  await watcher.ready(t.messaging);
});
afterAll(async () => {
  watcher?.close();
  await t?.close();
});

describe("SIPREC sessions from sipp as the recording client", () => {
  it("maps two labelled streams to caller and agent by the metadata, with participants in call.started", async () => {
    const { pcap, expected } = pcmuPcapOf(await readPrompt("vm-goodbye"));
    const cwd = await tempDirWith({ "call.pcap": pcap });
    const sipCallId = uniqueCallId("sipp-siprec2");
    const result = await runSipp({
      scenario: "uac-siprec-two-streams.xml",
      port: t.ingest.sipPort,
      callId: sipCallId,
      cwd,
      pauseMs: Math.round((expected.length / 8000) * 1000 + 1500),
    });
    expect(result.code, sippReport(result)).toBe(0);
    const started = await watcher.waitForStarted(sipCallId);
    expect(started.source).toBe("siprec");
    expect(started.legs.map((l) => [l.leg, l.codec]).sort()).toEqual([
      ["agent", "PCMU"],
      ["caller", "PCMU"],
    ]);
    expect(started.participants).toEqual([
      { leg: "caller", name: "Carla Customer", aor: "sip:+15551230001@carrier.example" },
      { leg: "agent", name: "Andy Agent", aor: "sip:agent042@contact-center.example" },
    ]);
    expect(started.metadata.siprecSessionId).toBe("S3k9vTq1RzuC8mYd2fW0hA==");
    expect((await watcher.waitForEnded(started.callId)).reason).toBe("bye");
    // sipp plays RTP on the first m= line (label 10), which the metadata gives to the caller.
    const audio = await readLegAudio(t.messaging, started.callId, "caller");
    expect(Array.from(audio.pcm)).toEqual(Array.from(expected));
  });

  it("accepts the three-stream variant, answering the mixed stream with port 0 and publishing two legs", async () => {
    const { pcap, expected } = pcmuPcapOf(await readPrompt("vm-goodbye"));
    const cwd = await tempDirWith({ "call.pcap": pcap });
    const sipCallId = uniqueCallId("sipp-siprec3");
    const result = await runSipp({
      scenario: "uac-siprec-three-streams.xml",
      port: t.ingest.sipPort,
      callId: sipCallId,
      cwd,
      pauseMs: Math.round((expected.length / 8000) * 1000 + 1500),
    });
    expect(result.code, sippReport(result)).toBe(0);
    const started = await watcher.waitForStarted(sipCallId);
    expect(started.legs.map((l) => l.leg).sort()).toEqual(["agent", "caller"]);
    expect(started.participants.map((p) => [p.leg, p.name])).toEqual([
      ["caller", "Pat Public"],
      ["agent", "Desk 2001"],
    ]);
    await watcher.waitForEnded(started.callId);
  });
});
