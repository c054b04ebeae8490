import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { decodeMulaw, encodeMulaw } from "@callscribe/audio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CallWatcher,
  freePort,
  readLegAudio,
  startTestIngest,
  tempDirWith,
  waitFor,
  type TestIngest,
} from "./support/harness.ts";
import { SOUNDS_DIR, readPrompt } from "./support/recording.ts";

/**
 * baresip (Debian baresip-core) runs headless here: no audio device, the aufile module reads a WAV
 * as its microphone, aubridge is a null speaker, and `-e /dial` places the call. When the file ends,
 * baresip's menu module hangs up with BYE.
 */
async function baresipConfig(user: string, wav: string): Promise<string> {
  const sipPort = await freePort("udp");
  // Above the ranges test ingests take their RTP ports from (30000-48199).
  const rtpBase = 50_000 + 2 * randomInt(0, 4_000);
  return tempDirWith({
    config: [
      "poll_method epoll",
      `sip_listen 127.0.0.1:${sipPort}`,
      "audio_player aubridge,nil",
      `audio_source aufile,${wav}`,
      "audio_alert aubridge,nil",
      "ausrc_srate 8000",
      "auplay_srate 8000",
      "ausrc_channels 1",
      `rtp_ports ${rtpBase}-${rtpBase + 9}`,
      "module_path /usr/lib/baresip/modules",
      "module g711.so",
      "module aufile.so",
      "module aubridge.so",
      "module_app account.so",
      "module_app menu.so",
      "",
    ].join("\n"),
    accounts: `<sip:${user}@127.0.0.1>;regint=0;audio_codecs=PCMU\n`,
    contacts: "",
  });
}

/** Signal-to-noise ratio of `actual` against `expected` at the offset where they line up best. */
function bestAlignedSnrDb(actual: Int16Array, expected: Int16Array): number {
  let best = -Infinity;
  for (let offset = 0; offset + expected.length <= actual.length; offset += 1) {
    // Cheap check first: the loudest sample must line up.
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i]!;
      const d = actual[offset + i]! - e;
      signal += e * e;
      noise += d * d;
      if (noise > signal && i > 800) break;
    }
    best = Math.max(best, 10 * Math.log10(signal / Math.max(noise, 1)));
  }
  return best;
}

describe("baresip calling ingest", () => {
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

  it("records the WAV baresip plays as its microphone", async () => {
    const prompt = "agent-pass";
    const user = `baresip-${randomInt(0, 1e9)}`;
    const dir = await baresipConfig(user, `${SOUNDS_DIR}/${prompt}.wav`);
    // -t is only a safety net: the test stops baresip once the call has ended.
    const child = spawn(
      "baresip",
      ["-f", dir, "-e", `/dial sip:record@127.0.0.1:${t.ingest.sipPort}`, "-t", "60"],
      {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    let ended;
    try {
      const started = await waitFor(
        () => watcher.started.find((e) => e.from?.includes(user)),
        15_000,
        "call.started from baresip",
      );
      expect(started.legs).toEqual([{ leg: "caller", sampleRate: 8000, codec: "PCMU" }]);
      expect(started.metadata.userAgent).toMatch(/baresip/);
      // baresip hangs up with BYE when its file source reaches the end.
      ended = await watcher.waitForEnded(started.callId);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    expect(output).toMatch(/Call established/);
    expect(ended.reason).toBe("bye");

    // baresip has its own G.711 tables and may start with silence, so compare by alignment and SNR.
    const source = await readPrompt(prompt);
    const expected = decodeMulaw(encodeMulaw(source));
    const audio = await readLegAudio(t.messaging, ended.callId, "caller");
    expect(audio.pcm.length).toBeGreaterThanOrEqual(expected.length);
    const snr = bestAlignedSnrDb(audio.pcm, expected);
    expect(snr).toBeGreaterThan(30);
  });
});
