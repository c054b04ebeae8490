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

describe("plain SIP call from sipp", () => {
  it.each(["udp", "tcp"] as const)(
    "over %s publishes the caller's audio equal to the recording after the G.711 round trip",
    async (transport) => {
      const { pcap, expected } = pcmuPcapOf(await readPrompt("agent-pass"));
      const cwd = await tempDirWith({ "call.pcap": pcap });
      const sipCallId = uniqueCallId("sipp-plain");
      const durationMs = (expected.length / 8000) * 1000;
      const result = await runSipp({
        scenario: "uac-plain-pcap.xml",
        port: t.ingest.sipPort,
        callId: sipCallId,
        transport,
        cwd,
        pauseMs: Math.round(durationMs + 1500),
      });
      expect(result.code, sippReport(result)).toBe(0);

      const started = await watcher.waitForStarted(sipCallId);
      expect(started).toMatchObject({
        source: "sip",
        agentId: "agent-7",
        legs: [{ leg: "caller", sampleRate: 8000, codec: "PCMU" }],
        participants: [{ leg: "caller", name: "Test Caller" }],
      });
      expect(started.from).toContain("+15550001111");
      const ended = await watcher.waitForEnded(started.callId);
      expect(ended.reason).toBe("bye");

      const audio = await readLegAudio(t.messaging, started.callId, "caller");
      expect(audio.sampleRate).toBe(8000);
      expect(audio.pcm.length).toBe(expected.length);
      // Sample for sample: no packet is lost on loopback, so nothing is concealed.
      const firstDifference = audio.pcm.findIndex((s, i) => s !== expected[i]);
      expect(firstDifference).toBe(-1);
    },
  );
});
