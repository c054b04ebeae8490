import { AudioFormatError } from "./errors.ts";

// 32768, not 32767: -32768 maps to exactly -1 and the round trip PCM16 -> float -> PCM16 is lossless.
const PCM16_SCALE = 32768;

export function pcm16ToFloat32(samples: Int16Array, output = new Float32Array(samples.length)): Float32Array {
  requireRoom(output, samples.length);
  for (let i = 0; i < samples.length; i++) output[i] = samples[i]! / PCM16_SCALE;
  return output;
}

/** Rounds to the nearest step and clips to the 16-bit range; NaN becomes silence. */
export function float32ToPcm16(samples: Float32Array, output = new Int16Array(samples.length)): Int16Array {
  requireRoom(output, samples.length);
  for (let i = 0; i < samples.length; i++) output[i] = floatToPcm16Sample(samples[i]!);
  return output;
}

export function floatToPcm16Sample(value: number): number {
  const scaled = Math.round(value * PCM16_SCALE);
  if (scaled >= 32767) return 32767;
  if (scaled <= -32768) return -32768;
  return scaled || 0;
}

/** Little-endian 16-bit samples, whatever the host's byte order. Copies, so the bytes may be reused. */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) {
    throw new AudioFormatError(
      "odd-byte-count",
      `16-bit PCM needs an even number of bytes, got ${bytes.length}; a frame was cut in half — send whole samples`,
    );
  }
  const samples = new Int16Array(bytes.length / 2);
  // Storing 0..65535 into an Int16Array wraps to the signed value.
  for (let i = 0; i < samples.length; i++) samples[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
  return samples;
}

export function pcm16ToBytes(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i]!;
    bytes[2 * i] = sample & 0xff;
    bytes[2 * i + 1] = (sample >> 8) & 0xff;
  }
  return bytes;
}

/** Average of the channels, rounded to the nearest step. */
export function mixToMono(channels: readonly Int16Array[]): Int16Array {
  const frames = requireEqualLengths(channels);
  if (channels.length === 1) return channels[0]!.slice();
  const mono = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (const channel of channels) sum += channel[i]!;
    mono[i] = Math.round(sum / channels.length);
  }
  return mono;
}

export function deinterleave(interleaved: Int16Array, channelCount: number): Int16Array[] {
  requireChannelCount(channelCount);
  if (interleaved.length % channelCount !== 0) {
    throw new AudioFormatError(
      "bad-block-align",
      `${interleaved.length} samples do not split into whole frames of ${channelCount} channels; the last frame is incomplete`,
    );
  }
  const frames = interleaved.length / channelCount;
  const channels = Array.from({ length: channelCount }, () => new Int16Array(frames));
  for (let c = 0; c < channelCount; c++) {
    const channel = channels[c]!;
    for (let i = 0, j = c; i < frames; i++, j += channelCount) channel[i] = interleaved[j]!;
  }
  return channels;
}

export function interleave(channels: readonly Int16Array[]): Int16Array {
  const frames = requireEqualLengths(channels);
  const interleaved = new Int16Array(frames * channels.length);
  channels.forEach((channel, c) => {
    for (let i = 0, j = c; i < frames; i++, j += channels.length) interleaved[j] = channel[i]!;
  });
  return interleaved;
}

/** Returns the common length of the channels. */
export function requireEqualLengths(channels: readonly Int16Array[]): number {
  requireChannelCount(channels.length);
  const frames = channels[0]!.length;
  channels.forEach((channel, c) => {
    if (channel.length !== frames) {
      throw new AudioFormatError(
        "channel-length-mismatch",
        `channel ${c} has ${channel.length} samples but channel 0 has ${frames}; pass channels of equal length`,
      );
    }
  });
  return frames;
}

export const MAX_CHANNELS = 8;

export function requireChannelCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CHANNELS) {
    throw new AudioFormatError(
      "bad-channel-count",
      `${count} channels is not supported; use 1 to ${MAX_CHANNELS} channels`,
    );
  }
}

export const MAX_SAMPLE_RATE = 384_000;

export function requireSampleRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_SAMPLE_RATE) {
    throw new AudioFormatError(
      "bad-sample-rate",
      `sample rate ${rate} Hz is not supported; use a whole number of Hz from 1 to ${MAX_SAMPLE_RATE}`,
    );
  }
}

export function requireRoom(output: ArrayLike<number>, needed: number): void {
  if (output.length < needed) {
    throw new RangeError(
      `output holds ${output.length} samples but ${needed} are needed; pass a larger buffer`,
    );
  }
}
