import { createSocket, type Socket } from "node:dgram";
import { randomInt } from "node:crypto";
import { isIPv6 } from "node:net";
import { encodeAlaw, encodeMulaw } from "@callscribe/audio";
import { G722Encoder, encodeRtp, type CodecName } from "../media/index.ts";

export const PACKET_MS = 20;
export const PAYLOAD_TYPES: Record<CodecName, number> = { PCMU: 0, PCMA: 8, G722: 9 };
export const CODEC_RATES: Record<CodecName, 8000 | 16000> = { PCMU: 8000, PCMA: 8000, G722: 16000 };

/** One channel's RTP socket, bound before the offer so its port can go in the SDP. */
export interface RtpChannel {
  socket: Socket;
  port: number;
}

export async function openRtpChannel(address: string): Promise<RtpChannel> {
  const socket = createSocket(isIPv6(address) ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, address, () => resolve());
  });
  return { socket, port: socket.address().port };
}

/**
 * Sends each channel's PCM as 20 ms RTP packets to its destination, all channels in step: in real
 * time, or back to back with `fast` (tests only; a real receiver's jitter buffer expects real time).
 */
export async function streamRtp(options: {
  codec: CodecName;
  channels: { samples: Int16Array; channel: RtpChannel; to?: { address: string; port: number } }[];
  fast: boolean;
  stopped: () => boolean;
}): Promise<number> {
  const rate = CODEC_RATES[options.codec];
  const samplesPerPacket = (rate * PACKET_MS) / 1000;
  const longest = Math.max(...options.channels.map((c) => c.samples.length));
  const packets = Math.ceil(longest / samplesPerPacket);
  const state = options.channels.map((c) => ({
    ...c,
    seq: randomInt(0, 0x10000),
    timestamp: randomInt(0, 2 ** 31),
    ssrc: randomInt(1, 2 ** 31),
    g722: options.codec === "G722" ? new G722Encoder() : undefined,
  }));
  const start = performance.now();
  let sent = 0;
  for (let i = 0; i < packets && !options.stopped(); i++) {
    const due = start + i * (options.fast ? 1 : PACKET_MS);
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const s of state) {
      if (!s.to || s.to.port === 0) continue;
      const chunk = new Int16Array(samplesPerPacket); // the last packet is padded with silence
      chunk.set(s.samples.subarray(i * samplesPerPacket, (i + 1) * samplesPerPacket));
      const payload =
        options.codec === "PCMU"
          ? encodeMulaw(chunk)
          : options.codec === "PCMA"
            ? encodeAlaw(chunk)
            : s.g722!.encode(chunk);
      const packet = encodeRtp({
        payloadType: PAYLOAD_TYPES[options.codec],
        seq: (s.seq + i) & 0xffff,
        // The RTP clock is 8000 for all three codecs, G.722 included (RFC 3551 §4.5.2).
        timestamp: (s.timestamp + i * 160) >>> 0,
        ssrc: s.ssrc,
        marker: i === 0,
        payload,
      });
      s.channel.socket.send(packet, s.to.port, s.to.address);
      sent++;
    }
  }
  return sent;
}
