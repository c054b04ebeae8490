import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnavailableError } from "@callscribe/errors";
import { type Messaging } from "@callscribe/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestStreams } from "../../support/infra.ts";
import {
  callInfo,
  eventually,
  metricValue,
  mulawPackets,
  mulawRoundTrip,
  pcmu,
  promptPcm,
  readCallEnded,
  readLegAudio,
  rtpSender,
  sendPaced,
  startGateway,
  startOneLegCall,
  untilReceived,
} from "./support.ts";

// A private nats-server that the test stops and starts again mid-call; its JetStream store survives.
const natsServerBinary = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
let storeDir: string;
let natsPort: number;
let server: ChildProcess | undefined;
let m: Messaging;
let source: Int16Array;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function startNats(): Promise<void> {
  server = spawn(natsServerBinary, ["-js", "-a", "127.0.0.1", "-p", String(natsPort), "-sd", storeDir], {
    stdio: "ignore",
  });
  const up = await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = tcpConnect(natsPort, "127.0.0.1", () => {
          socket.destroy();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
      }),
    15_000,
  );
  if (!up) throw new Error(`nats-server did not start on port ${natsPort}`);
}

async function stopNats(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

beforeAll(async () => {
  storeDir = mkdtempSync(join(tmpdir(), "ingest-nats-"));
  natsPort = await freePort();
  await startNats();
  m = await connectTestStreams("test-ingest-outage", [`nats://127.0.0.1:${natsPort}`]);
  source = await promptPcm();
});

afterAll(async () => {
  await m?.drain().catch(() => undefined);
  await stopNats();
  rmSync(storeDir, { recursive: true, force: true });
});

describe("NATS unreachable mid-call", () => {
  it("buffers frames while NATS is down and delivers them without gaps when it is back", async () => {
    const { gateway, registry } = startGateway(m, {
      maxBufferedFramesPerCall: 2000,
      publishTimeoutMs: 500,
      endFlushTimeoutMs: 60_000,
    });
    try {
      const { call, port, info } = await startOneLegCall(gateway);
      const packets = mulawPackets(source);
      const sender = await rtpSender(port.port);
      await sendPaced(sender, packets.slice(0, 50));
      await untilReceived(call, 50);
      expect(
        await eventually(async () => (await metricValue(registry, "ingest_frames_published_total")) >= 50),
      ).toBe(true);

      await stopNats();
      expect(await eventually(() => !gateway.canAcceptCalls())).toBe(true);
      // SIP answers 503 while NATS is away: starting a call fails with UnavailableError.
      const spare = await gateway.reservePort();
      await expect(
        gateway.startCall(callInfo(), [{ leg: "caller", codec: pcmu, direction: "sendrecv", port: spare }]),
      ).rejects.toBeInstanceOf(UnavailableError);
      spare.release();
      await sendPaced(sender, packets.slice(50, 120));
      await untilReceived(call, 120);
      const publishedWhileDown = await metricValue(registry, "ingest_frames_published_total");

      await startNats();
      expect(await eventually(() => gateway.canAcceptCalls(), 20_000)).toBe(true);
      await sendPaced(sender, packets.slice(120));
      sender.close();
      await untilReceived(call, packets.length);
      await call.end("bye");

      expect(publishedWhileDown).toBeLessThan(120);
      const audio = await readLegAudio(m, info.callId, "caller");
      expect(audio.metas.map((f) => f.seq)).toEqual(packets.map((_, i) => i).concat(packets.length));
      expect(Buffer.from(audio.pcm.buffer).equals(Buffer.from(mulawRoundTrip(source).buffer))).toBe(true);
      expect(await readCallEnded(m, info.callId)).toMatchObject([
        { reason: "bye", lastSeq: { caller: packets.length } },
      ]);
      expect(await metricValue(registry, "ingest_calls_ended_buffer_overflow_total")).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  it("ends the call when its buffer bound is passed, counts it, and publishes call.ended once NATS is back", async () => {
    const bound = 30;
    const { gateway, registry } = startGateway(m, {
      maxBufferedFramesPerCall: bound,
      publishTimeoutMs: 500,
      endFlushTimeoutMs: 60_000,
    });
    try {
      const { call, port, info } = await startOneLegCall(gateway);
      const reasons: string[] = [];
      call.onEndedByMedia((reason) => reasons.push(reason));
      const packets = mulawPackets(source.subarray(0, 160 * 80));
      const sender = await rtpSender(port.port);
      await sendPaced(sender, packets.slice(0, 10));
      await untilReceived(call, 10);
      await stopNats();
      expect(await eventually(() => !gateway.canAcceptCalls())).toBe(true);
      await sendPaced(sender, packets.slice(10));
      sender.close();
      expect(await eventually(() => reasons.length > 0)).toBe(true);
      expect(reasons).toEqual(["error"]);
      expect(await metricValue(registry, "ingest_calls_ended_buffer_overflow_total")).toBe(1);

      await startNats();
      expect(await eventually(() => m.isConnected(), 20_000)).toBe(true);
      const ended = await readCallEnded(m, info.callId, 30_000);
      expect(ended).toHaveLength(1);
      expect(ended[0]!.reason).toBe("error");
      const lastSeq = ended[0]!.lastSeq.caller!;
      // What was accepted before the bound is all there, in order, ending with the last-frame marker.
      const audio = await readLegAudio(m, info.callId, "caller");
      expect(audio.metas.map((f) => f.seq)).toEqual(Array.from({ length: lastSeq + 1 }, (_, i) => i));
      expect(audio.metas.at(-1)!.last).toBe(true);
      expect(lastSeq).toBeGreaterThanOrEqual(bound);
      expect(lastSeq).toBeLessThan(packets.length);
      const accepted = audio.pcm.subarray(0, audio.pcm.length);
      expect(
        Buffer.from(accepted.buffer).equals(
          Buffer.from(mulawRoundTrip(source.subarray(0, accepted.length)).buffer),
        ),
      ).toBe(true);
      await call.end("bye");
      expect(await readCallEnded(m, info.callId)).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });

  it("past the bound over all calls, sheds the most backlogged call and keeps the others", async () => {
    // Hard bound: twice maxBufferedFramesTotal = 40 frames over all calls; per call the bound is far away.
    const { gateway, registry } = startGateway(m, {
      maxBufferedFramesPerCall: 1000,
      maxBufferedFramesTotal: 20,
      publishTimeoutMs: 500,
      endFlushTimeoutMs: 20_000,
    });
    try {
      const big = await startOneLegCall(gateway);
      const small = await startOneLegCall(gateway);
      const reasons: Record<string, string[]> = { big: [], small: [] };
      big.call.onEndedByMedia((r) => reasons.big!.push(r));
      small.call.onEndedByMedia((r) => reasons.small!.push(r));
      const packets = mulawPackets(source.subarray(0, 160 * 60));
      const toBig = await rtpSender(big.port.port);
      const toSmall = await rtpSender(small.port.port);
      await stopNats();
      expect(await eventually(() => !gateway.canAcceptCalls())).toBe(true);
      await sendPaced(toSmall, packets.slice(0, 5));
      await untilReceived(small.call, 5);
      // The big call passes the bound over all calls (40 frames) with its own 35: it is ended there.
      await sendPaced(toBig, packets.slice(0, 50));
      expect(await eventually(() => reasons.big!.length > 0)).toBe(true);
      // The small one, below the average backlog, goes on although the total stays above the bound.
      await sendPaced(toSmall, packets.slice(5, 15));
      await untilReceived(small.call, 15);
      expect(reasons).toEqual({ big: ["error"], small: [] });
      expect(await metricValue(registry, "ingest_calls_ended_buffer_overflow_total")).toBe(1);
      toBig.close();
      toSmall.close();
      await startNats();
      expect(await eventually(() => m.isConnected(), 20_000)).toBe(true);
      await small.call.end("bye");
      expect(await readCallEnded(m, big.info.callId, 30_000)).toMatchObject([
        { reason: "error", lastSeq: { caller: 35 } },
      ]);
      expect(await readCallEnded(m, small.info.callId)).toMatchObject([
        { reason: "bye", lastSeq: { caller: 15 } },
      ]);
      const smallAudio = await readLegAudio(m, small.info.callId, "caller");
      expect(smallAudio.pcm.length).toBe(15 * 160);
    } finally {
      await gateway.close();
    }
  });
});
