import { createSocket, type Socket } from "node:dgram";
import { DeliverPolicy } from "@nats-io/jetstream";
import { decodeMulaw, encodeMulaw, readWavFile } from "@callscribe/audio";
import {
  CallEnded,
  DtmfEvent,
  decodeEvent,
  parseFrameHeaders,
  subjects,
  type FrameMeta,
  type Leg,
  type Messaging,
} from "@callscribe/messaging";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  createMediaGateway,
  encodeRtp,
  type CallInfo,
  type LegMediaSpec,
  type MediaGateway,
  type MediaGatewayOptions,
  type ReservedPort,
} from "../../../services/ingest/src/media/index.ts";
import { uniqueCallId } from "../../support/infra.ts";

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
export const promptPath = "/usr/share/asterisk/sounds/en/agent-pass.wav";

/** A port range of its own for each test file, so files running side by side do not collide. */
export function portRange(size = 40): { portMin: number; portMax: number } {
  const base = 30_000 + 2 * Math.floor(Math.random() * 7_000);
  return { portMin: base, portMax: base + size - 1 };
}

export function startGateway(messaging: Messaging, overrides: Partial<MediaGatewayOptions> = {}) {
  const registry = new Registry();
  const gateway = createMediaGateway({
    host: "127.0.0.1",
    ...portRange(),
    messaging,
    logger: silentLogger,
    registry,
    frameMs: 20,
    mediaTimeoutMs: 30_000,
    jitterDelayMs: 60,
    maxBufferedFramesPerCall: 3000,
    ...overrides,
  });
  return { gateway, registry };
}

export const pcmu = { name: "PCMU", payloadType: 0, clockRate: 8000, sampleRate: 8000 } as const;
export const g722 = { name: "G722", payloadType: 9, clockRate: 8000, sampleRate: 16000 } as const;

export function callInfo(callId = uniqueCallId("m")): CallInfo {
  return {
    callId,
    source: "sip",
    sipCallId: `${callId}@test`,
    from: "sip:+15550001@test",
    to: "sip:hotline@test",
    participants: [{ leg: "caller" }],
    metadata: {},
  };
}

/** Starts a one-leg call and returns it with its port. */
export async function startOneLegCall(
  gateway: MediaGateway,
  spec: Partial<LegMediaSpec> = {},
): Promise<{ call: Awaited<ReturnType<MediaGateway["startCall"]>>; port: ReservedPort; info: CallInfo }> {
  const port = await gateway.reservePort();
  const info = callInfo();
  const call = await gateway.startCall(info, [
    { leg: "caller", codec: pcmu, direction: "sendrecv", telephoneEventPt: 101, ...spec, port },
  ]);
  return { call, port, info };
}

/** The Asterisk prompt as 8 kHz PCM, cut to whole 20 ms packets. */
export async function promptPcm(path = promptPath): Promise<Int16Array> {
  const wav = await readWavFile(path);
  if (wav.sampleRate !== 8000) throw new Error(`${path} is not 8 kHz`);
  const samples = wav.samples[0]!;
  return samples.slice(0, samples.length - (samples.length % 160));
}

/** What a G.711 mu-law leg can deliver at best: the source through encode and decode. */
export const mulawRoundTrip = (pcm: Int16Array) => decodeMulaw(encodeMulaw(pcm));

export interface RtpSender {
  socket: Socket;
  send(bytes: Uint8Array): Promise<void>;
  close(): void;
}

export async function rtpSender(port: number): Promise<RtpSender> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    socket,
    send: (bytes) =>
      new Promise<void>((resolve, reject) =>
        socket.send(bytes, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
      ),
    close: () => socket.close(),
  };
}

/** 20 ms mu-law RTP packets of a PCM signal (packet k: seq seq0+k, timestamp ts0+160k). */
export function mulawPackets(
  pcm: Int16Array,
  opts: { seq0?: number; ts0?: number; ssrc?: number } = {},
): Uint8Array[] {
  const codes = encodeMulaw(pcm);
  const packets: Uint8Array[] = [];
  for (let k = 0; k * 160 < codes.length; k++) {
    packets.push(
      encodeRtp({
        payloadType: 0,
        seq: ((opts.seq0 ?? 4000) + k) & 0xffff,
        timestamp: ((opts.ts0 ?? 123_456) + 160 * k) >>> 0,
        ssrc: opts.ssrc ?? 0x1234abcd,
        marker: k === 0,
        payload: codes.subarray(160 * k, 160 * (k + 1)),
      }),
    );
  }
  return packets;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends packets a few at a time, yielding between groups so loopback buffers never overflow. */
export async function sendPaced(
  sender: RtpSender,
  packets: Uint8Array[],
  perGroup = 10,
  pauseMs = 5,
): Promise<void> {
  for (let i = 0; i < packets.length; i++) {
    await sender.send(packets[i]!);
    if (i % perGroup === perGroup - 1) await sleep(pauseMs);
  }
}

export interface LegAudio {
  metas: FrameMeta[];
  pcm: Int16Array;
}

/** Reads a leg's frames from JetStream, in stream order, up to and including the one marked last. */
export async function readLegAudio(
  m: Messaging,
  callId: string,
  leg: Leg,
  timeoutMs = 20_000,
): Promise<LegAudio> {
  const consumer = await m.js.consumers.get("AUDIO", {
    filter_subjects: subjects.audio(callId, leg), // one subject: nats-server 2.9 has no multi-filter
    deliver_policy: DeliverPolicy.All,
  });
  const metas: FrameMeta[] = [];
  const chunks: Int16Array[] = [];
  const messages = await consumer.consume();
  const timer = setTimeout(() => messages.stop(), timeoutMs);
  try {
    for await (const msg of messages) {
      const meta = parseFrameHeaders(callId, msg.headers);
      metas.push(meta);
      chunks.push(
        new Int16Array(msg.data.buffer.slice(msg.data.byteOffset, msg.data.byteOffset + msg.data.length)),
      );
      if (meta.last) break;
    }
  } finally {
    clearTimeout(timer);
    messages.stop();
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const pcm = new Int16Array(total);
  let offset = 0;
  for (const c of chunks) {
    pcm.set(c, offset);
    offset += c.length;
  }
  return { metas, pcm };
}

/** The call's CALLS events so far (started, dtmf, ended), waiting until `until` holds or the timeout passes. */
export async function readCallEvents(
  m: Messaging,
  callId: string,
  until: (subjects: string[]) => boolean,
  timeoutMs = 20_000,
): Promise<{ subject: string; data: Uint8Array }[]> {
  const consumer = await m.js.consumers.get("CALLS", {
    filter_subjects: `call.${callId}.>`,
    deliver_policy: DeliverPolicy.All,
  });
  const got: { subject: string; data: Uint8Array }[] = [];
  const messages = await consumer.consume();
  const timer = setTimeout(() => messages.stop(), timeoutMs);
  try {
    for await (const msg of messages) {
      got.push({ subject: msg.subject, data: msg.data });
      if (until(got.map((g) => g.subject))) break;
    }
  } finally {
    clearTimeout(timer);
    messages.stop();
  }
  return got;
}

export async function readCallEnded(m: Messaging, callId: string, timeoutMs?: number): Promise<CallEnded[]> {
  const ended = subjects.callEnded(callId);
  const events = await readCallEvents(m, callId, (s) => s.includes(ended), timeoutMs);
  return events.filter((e) => e.subject === ended).map((e) => decodeEvent(CallEnded, e.data, "call.ended"));
}

export async function readDtmf(m: Messaging, callId: string, count: number): Promise<DtmfEvent[]> {
  const subject = subjects.callDtmf(callId);
  const events = await readCallEvents(m, callId, (s) => s.filter((x) => x === subject).length >= count);
  return events.filter((e) => e.subject === subject).map((e) => decodeEvent(DtmfEvent, e.data, "call.dtmf"));
}

/** Reads one counter or gauge value from a registry. */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
    )
    .reduce((sum, v) => sum + v.value, 0);
}

/** Waits until the gateway has taken in `count` datagrams on the leg (they may still sit in the socket). */
export async function untilReceived(
  call: { stats(): Partial<Record<Leg, { packets: number }>> },
  count: number,
  leg: Leg = "caller",
) {
  const ok = await eventually(() => (call.stats()[leg]?.packets ?? 0) >= count);
  if (!ok)
    throw new Error(`only ${call.stats()[leg]?.packets ?? 0} of ${count} packets reached the ${leg} leg`);
}

/** Polls until `check` returns true or the timeout passes; returns the last result. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}
