import { existsSync } from "node:fs";
import { decodeMulaw, encodeMulaw, readWavFile } from "@callscribe/audio";
import { encodeRtp } from "../../../../services/ingest/src/media/index.ts";
import { writeRtpPcap } from "./pcap.ts";

/** Real 8 kHz telephone prompts from Debian's asterisk-core-sounds-en-wav (scripts/setup.sh installs it). */
export const SOUNDS_DIR = "/usr/share/asterisk/sounds/en";

export async function readPrompt(name: string): Promise<Int16Array> {
  const path = `${SOUNDS_DIR}/${name}.wav`;
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: install the Debian package asterisk-core-sounds-en-wav`);
  }
  const wav = await readWavFile(path);
  if (wav.sampleRate !== 8000 || wav.channels !== 1) throw new Error(`${path} is not 8 kHz mono`);
  return wav.samples[0]!;
}

const SAMPLES_PER_PACKET = 160; // 20 ms at 8 kHz

/**
 * The prompt as 20 ms PCMU RTP packets in a pcap, and the PCM a receiver must get back: the prompt
 * cut to whole packets, through the G.711 mu-law round trip.
 */
export function pcmuPcapOf(
  samples: Int16Array,
  start: { seq: number; timestamp: number } = { seq: 40_000, timestamp: 1_000 },
): { pcap: Buffer; expected: Int16Array; packets: number } {
  const usable = samples.subarray(0, samples.length - (samples.length % SAMPLES_PER_PACKET));
  const codes = encodeMulaw(usable);
  const packets: Uint8Array[] = [];
  const ssrc = 0x1234abcd;
  for (let i = 0; i * SAMPLES_PER_PACKET < codes.length; i++) {
    packets.push(
      encodeRtp({
        payloadType: 0,
        seq: (start.seq + i) & 0xffff,
        timestamp: (start.timestamp + i * SAMPLES_PER_PACKET) >>> 0,
        ssrc,
        marker: i === 0,
        payload: codes.subarray(i * SAMPLES_PER_PACKET, (i + 1) * SAMPLES_PER_PACKET),
      }),
    );
  }
  return { pcap: writeRtpPcap(packets, 20), expected: decodeMulaw(codes), packets: packets.length };
}
