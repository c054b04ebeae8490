import { createSocket } from "node:dgram";
import { parseArgs } from "node:util";
import { float32ToPcm16, readWavFile, resample } from "@callscribe/audio";
import type { CodecName } from "../media/index.ts";
import { parseSipUri } from "../sip/header-values.ts";
import { CallRefusedError, placeCall } from "../sip/uac.ts";
import { CODEC_RATES, PAYLOAD_TYPES, openRtpChannel, streamRtp, type RtpChannel } from "./rtp-sender.ts";

const USAGE = `usage: play --to sip:record@127.0.0.1:5060 --wav file.wav [--codec PCMU|PCMA|G722]
            [--transport udp|tcp] [--siprec] [--agent-id ID] [--user U --password P] [--fast]

Places a call into ingest and streams the WAV as RTP in real time, one m= stream per channel
(a stereo file is caller on the left, agent on the right), then hangs up with BYE.`;

/** A usage or input problem: printed with the usage text, exit code 2. */
class PlayUsageError extends Error {
  override readonly name = "PlayUsageError";
}

interface PlayOptions {
  to: string;
  wav: string;
  codec: CodecName;
  transport: "udp" | "tcp";
  siprec: boolean;
  fast: boolean;
  agentId?: string;
  credentials?: { username: string; password: string };
}

function parsePlayArgs(argv: string[]): PlayOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      to: { type: "string" },
      wav: { type: "string" },
      codec: { type: "string", default: "PCMU" },
      transport: { type: "string", default: "udp" },
      siprec: { type: "boolean", default: false },
      fast: { type: "boolean", default: false },
      "agent-id": { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) throw new PlayUsageError("");
  if (!values.to || !values.wav) throw new PlayUsageError("--to and --wav are required");
  try {
    parseSipUri(values.to);
  } catch {
    throw new PlayUsageError(`--to ${values.to} is not a sip: URI such as sip:record@127.0.0.1:5060`);
  }
  const codec = values.codec.toUpperCase();
  if (codec !== "PCMU" && codec !== "PCMA" && codec !== "G722")
    throw new PlayUsageError("--codec must be PCMU, PCMA or G722");
  if (values.transport !== "udp" && values.transport !== "tcp")
    throw new PlayUsageError("--transport must be udp or tcp");
  if ((values.user === undefined) !== (values.password === undefined))
    throw new PlayUsageError("--user and --password go together");
  return {
    to: values.to,
    wav: values.wav,
    codec,
    transport: values.transport,
    siprec: values.siprec,
    fast: values.fast,
    agentId: values["agent-id"],
    credentials:
      values.user !== undefined ? { username: values.user, password: values.password! } : undefined,
  };
}

/** The WAV's channels at the codec's rate. */
async function loadChannels(path: string, rate: 8000 | 16000): Promise<Int16Array[]> {
  const wav = await readWavFile(path);
  if (wav.channels > 2)
    throw new PlayUsageError(
      `${path} has ${wav.channels} channels; play takes mono or stereo (caller, agent)`,
    );
  return wav.samples.map((s) =>
    wav.sampleRate === rate ? s : float32ToPcm16(resample(s, wav.sampleRate, rate)),
  );
}

/** The local address that routes to the target, for Via, Contact and the SDP. */
async function localAddressFor(host: string): Promise<string> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) =>
      socket.connect(9, host, (err?: Error) => (err ? reject(err) : resolve())),
    );
    return socket.address().address;
  } finally {
    socket.close();
  }
}

function offerSdp(address: string, channels: RtpChannel[], codec: CodecName, siprec: boolean): string {
  const ip = address.includes(":") ? "IP6" : "IP4";
  const pt = PAYLOAD_TYPES[codec];
  const lines = [
    "v=0",
    `o=play ${Date.now()} 1 IN ${ip} ${address}`,
    "s=callscribe play",
    `c=IN ${ip} ${address}`,
    "t=0 0",
  ];
  channels.forEach((channel, i) => {
    lines.push(
      `m=audio ${channel.port} RTP/AVP ${pt} 101`,
      `a=rtpmap:${pt} ${codec}/8000`,
      "a=rtpmap:101 telephone-event/8000",
      "a=fmtp:101 0-16",
      "a=ptime:20",
      "a=sendonly",
    );
    if (siprec) lines.push(`a=label:${i + 1}`);
  });
  return lines.join("\r\n") + "\r\n";
}

/** RFC 7865 metadata naming one participant per stream: caller on label 1, agent on label 2. */
function recordingMetadata(streams: number): string {
  const parties = ["caller", "agent"].slice(0, streams);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<recording xmlns="urn:ietf:params:xml:ns:recording:1">',
    "<datamode>complete</datamode>",
    '<session session_id="play-session"/>',
    ...parties.map(
      (p) =>
        `<participant participant_id="p-${p}"><nameID aor="sip:${p}@play.invalid"><name>${p}</name></nameID></participant>`,
    ),
    ...parties.map(
      (p, i) => `<stream stream_id="s-${p}" session_id="play-session"><label>${i + 1}</label></stream>`,
    ),
    ...parties.map(
      (p) => `<participantstreamassoc participant_id="p-${p}"><send>s-${p}</send></participantstreamassoc>`,
    ),
    "</recording>",
  ].join("\r\n");
}

async function play(options: PlayOptions): Promise<void> {
  const rate = CODEC_RATES[options.codec];
  const samples = await loadChannels(options.wav, rate);
  const target = parseSipUri(options.to);
  const localAddress = await localAddressFor(target.host);
  const channels = await Promise.all(samples.map(() => openRtpChannel(localAddress)));
  const sdp = offerSdp(localAddress, channels, options.codec, options.siprec);
  const boundary = "callscribe-play-boundary";
  const body = options.siprec
    ? {
        contentType: `multipart/mixed;boundary=${boundary}`,
        content:
          `--${boundary}\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n` +
          `--${boundary}\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n${recordingMetadata(channels.length)}\r\n--${boundary}--\r\n`,
      }
    : { contentType: "application/sdp", content: sdp };
  const extraHeaders = [
    ...(options.siprec ? [{ name: "require", value: "siprec" }] : []),
    ...(options.agentId ? [{ name: "x-agent-id", value: options.agentId }] : []),
  ];
  const call = await placeCall({
    target: options.to,
    transport: options.transport,
    localAddress,
    from: "sip:play@callscribe.invalid",
    body,
    extraHeaders,
    credentials: options.credentials,
  });
  let remoteReason: string | undefined;
  void call.remoteHangup.then((reason) => (remoteReason = reason));
  try {
    const sent = await streamRtp({
      codec: options.codec,
      channels: samples.map((s, i) => ({ samples: s, channel: channels[i]!, to: call.streams[i] })),
      fast: options.fast,
      stopped: () => remoteReason !== undefined,
    });
    if (remoteReason !== undefined)
      throw new Error(`ingest hung up before the end of the file (${remoteReason})`);
    await call.hangUp();
    process.stdout.write(
      `played ${options.wav}: ${sent} RTP packets on ${channels.length} stream(s), call ended with BYE\n`,
    );
  } finally {
    await call.close();
    for (const c of channels) c.socket.close();
  }
}

parseAndPlay().catch((err: unknown) => {
  if (err instanceof PlayUsageError) {
    process.stderr.write(`${err.message ? `play: ${err.message}\n\n` : ""}${USAGE}\n`);
    process.exit(err.message ? 2 : 0);
  }
  const message =
    err instanceof CallRefusedError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`play: ${message}\n`);
  process.exit(1);
});

async function parseAndPlay(): Promise<void> {
  let options: PlayOptions;
  try {
    options = parsePlayArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof PlayUsageError) throw err;
    throw new PlayUsageError((err as Error).message);
  }
  await play(options);
}
