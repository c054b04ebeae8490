import { createSocket } from "node:dgram";
import { openRtpChannel, streamRtp } from "../../../services/ingest/src/cli/rtp-sender.ts";
import { placeCall } from "../../../services/ingest/src/sip/uac.ts";

export interface PlacedCall {
  /** Sent in X-Agent-Id, so the test finds the call's call.started. */
  tag: string;
  /** RTP packets sent per leg (20 ms each). */
  packets: number;
  /** Whether ingest hung up (BYE) before the audio was all sent. */
  endedByIngest: boolean;
}

/**
 * A real SIP call into ingest over UDP, as a PBX places it: INVITE with two sendonly PCMU streams
 * (caller, agent), RTP in real time, BYE at the end, or ingest's BYE first.
 */
export async function placeStereoCall(options: {
  sipPort: number;
  tag: string;
  caller: Int16Array;
  agent: Int16Array;
}): Promise<PlacedCall> {
  const channels = await Promise.all([openRtpChannel("127.0.0.1"), openRtpChannel("127.0.0.1")]);
  const sdp = [
    "v=0",
    `o=faults ${Date.now()} 1 IN IP4 127.0.0.1`,
    "s=faults",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    ...channels.flatMap((c) => [
      `m=audio ${c.port} RTP/AVP 0`,
      "a=rtpmap:0 PCMU/8000",
      "a=ptime:20",
      "a=sendonly",
    ]),
    "",
  ].join("\r\n");
  const call = await placeCall({
    target: `sip:record@127.0.0.1:${options.sipPort}`,
    transport: "udp",
    localAddress: "127.0.0.1",
    from: "sip:faults@127.0.0.1",
    body: { contentType: "application/sdp", content: sdp },
    extraHeaders: [{ name: "x-agent-id", value: options.tag }],
  });
  let hungUp = false;
  void call.remoteHangup.then(() => (hungUp = true));
  try {
    const sent = await streamRtp({
      codec: "PCMU",
      channels: [
        { samples: options.caller, channel: channels[0]!, to: call.streams[0] },
        { samples: options.agent, channel: channels[1]!, to: call.streams[1] },
      ],
      fast: false,
      stopped: () => hungUp,
    });
    // A PBX's BYE follows the caller's hang-up, not the last packet's millisecond: let it arrive.
    if (!hungUp) await new Promise((resolve) => setTimeout(resolve, 500));
    if (!hungUp) await call.hangUp();
    return { tag: options.tag, packets: sent / 2, endedByIngest: hungUp };
  } finally {
    await call.close();
    for (const c of channels) c.socket.close();
  }
}

/** Sends one INVITE as raw bytes and returns the final response's status and Retry-After. */
export async function inviteStatus(
  sipPort: number,
  tag: string,
): Promise<{ status: number; retryAfter?: string }> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const local = socket.address().port;
  const body =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
  const request = [
    "INVITE sip:record@127.0.0.1 SIP/2.0",
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${tag.replace(/-/g, "")}`,
    `From: <sip:load@127.0.0.1>;tag=${tag}`,
    "To: <sip:record@127.0.0.1>",
    `Call-ID: ${tag}`,
    "CSeq: 1 INVITE",
    "Contact: <sip:load@127.0.0.1>",
    "Max-Forwards: 70",
    "Content-Type: application/sdp",
    `Content-Length: ${body.length}`,
    "",
    body,
  ].join("\r\n");
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final response to INVITE ${tag}`)), 10_000);
      socket.on("message", (data) => {
        const text = data.toString("latin1");
        const status = Number(text.split(" ")[1]);
        if (status < 200) return;
        clearTimeout(timer);
        resolve({ status, retryAfter: /\r\nRetry-After:\s*([^\r]*)/i.exec(text)?.[1] });
      });
      socket.send(request, sipPort, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}
