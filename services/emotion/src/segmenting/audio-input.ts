import {
  StreamingResampler,
  decodeAlaw,
  decodeMulaw,
  pcm16FromBytes,
  pcm16ToFloat32,
} from "@callscribe/audio";
import { InvalidArgumentError } from "@callscribe/errors";

export type Encoding = "LINEAR16" | "MULAW" | "ALAW";

/** Every model of this service runs at 16 kHz; telephone legs at 8 kHz are resampled on the way in. */
export const MODEL_SAMPLE_RATE = 16000;
const ACCEPTED_RATES = [8000, 16000];

export interface AudioFormatSpec {
  encoding: Encoding;
  sampleRate: number;
}

/** Checks a request's format; the error says what is accepted. */
export function checkFormat(
  format: { encoding?: string; sampleRateHz?: number } | null | undefined,
): AudioFormatSpec {
  if (!format) throw new InvalidArgumentError("format is missing: send encoding and sample_rate_hz first");
  const encoding = format.encoding;
  if (encoding !== "LINEAR16" && encoding !== "MULAW" && encoding !== "ALAW") {
    throw new InvalidArgumentError(
      `encoding ${encoding ?? "(none)"} is not supported; use LINEAR16, MULAW or ALAW`,
    );
  }
  const sampleRate = format.sampleRateHz ?? 0;
  if (!ACCEPTED_RATES.includes(sampleRate)) {
    throw new InvalidArgumentError(
      `sample_rate_hz ${sampleRate} is not supported; use ${ACCEPTED_RATES.join(" or ")}`,
    );
  }
  return { encoding, sampleRate };
}

/** How many samples `bytes` of audio in `format` hold; an odd LINEAR16 byte count is refused. */
export function sampleCount(format: AudioFormatSpec, byteLength: number): number {
  if (format.encoding !== "LINEAR16") return byteLength;
  if (byteLength % 2 !== 0) {
    throw new InvalidArgumentError(
      `LINEAR16 audio has an odd byte count (${byteLength}); each sample is 2 bytes, little-endian`,
    );
  }
  return byteLength / 2;
}

function toPcm16(format: AudioFormatSpec, bytes: Uint8Array): Int16Array {
  sampleCount(format, bytes.byteLength);
  if (format.encoding === "MULAW") return decodeMulaw(bytes);
  if (format.encoding === "ALAW") return decodeAlaw(bytes);
  return pcm16FromBytes(bytes);
}

/** Decodes one whole segment to 16 kHz float samples in [-1, 1). */
export function decodeSegment(format: AudioFormatSpec, bytes: Uint8Array): Float32Array {
  const decoder = new AudioDecoder(format);
  const head = decoder.push(bytes);
  const tail = decoder.flush();
  if (tail.length === 0) return head;
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** Decodes a stream of audio messages to 16 kHz float samples, chunk by chunk. */
export class AudioDecoder {
  readonly #resampler: StreamingResampler | null;

  constructor(readonly format: AudioFormatSpec) {
    this.#resampler =
      format.sampleRate === MODEL_SAMPLE_RATE
        ? null
        : new StreamingResampler(format.sampleRate, MODEL_SAMPLE_RATE);
  }

  push(bytes: Uint8Array): Float32Array {
    const pcm = toPcm16(this.format, bytes);
    return this.#resampler ? this.#resampler.push(pcm) : pcm16ToFloat32(pcm);
  }

  flush(): Float32Array {
    return this.#resampler ? this.#resampler.flush() : new Float32Array(0);
  }
}
