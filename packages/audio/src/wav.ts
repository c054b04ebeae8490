import { readFile, writeFile } from "node:fs/promises";
import { AudioFormatError } from "./errors.ts";
import { alawToPcm16, mulawToPcm16 } from "./g711.ts";
import {
  MAX_CHANNELS,
  MAX_SAMPLE_RATE,
  floatToPcm16Sample,
  requireEqualLengths,
  requireSampleRate,
} from "./pcm.ts";

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** One array per channel, deinterleaved, as 16-bit PCM whatever the file's encoding. */
  samples: Int16Array[];
}

const FORMAT_PCM = 0x0001;
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;

const KNOWN_FORMAT_NAMES: Record<number, string> = {
  0x0002: "Microsoft ADPCM",
  0x0011: "IMA ADPCM",
  0x0031: "GSM 6.10",
  0x0050: "MPEG",
  0x0055: "MP3",
  0x0064: "G.726 ADPCM",
  0x0065: "G.722 ADPCM",
};

// Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID; bytes 0..1 hold the plain format code.
const SUBFORMAT_GUID_TAIL = [
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

// Writers that cannot seek back put a placeholder in the data size: sox 0x7ffff000 rounded down to
// whole frames, ffmpeg 0xffffffff. A declared size this large that overruns the file is such a
// placeholder, and the audio is whatever follows the chunk header. Any smaller overrun is a cut file.
const STREAMING_SIZE_PLACEHOLDER_MIN = 0x7fff0000;

const CONVERT_HINT = "convert it to 16-bit PCM WAV, e.g. `sox in.wav -e signed -b 16 out.wav`";

type SampleReader = (view: DataView, offset: number) => number;

interface WavFormat {
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bytesPerSample: number;
  readSample: SampleReader;
}

/**
 * Reads a RIFF/WAVE file: PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64 bit, G.711
 * mu-law and A-law, plain or WAVE_FORMAT_EXTENSIBLE. Throws AudioFormatError for anything else.
 * The RIFF size is ignored (streaming writers leave it wrong); the data chunk decides. A data size
 * beyond the end of the file means 'truncated', unless it is a streaming writer's placeholder
 * (0x7fff0000 and up) and the bytes present are whole frames: then those bytes are the audio.
 */
export function parseWav(bytes: Uint8Array): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkRiffHeader(bytes);
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = readTag(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      if (body + size > bytes.length) {
        throw new AudioFormatError(
          "truncated",
          `the file ends inside its fmt chunk (${bytes.length} bytes); it was cut short — copy or export it again`,
        );
      }
      format = parseFormat(view, body, size);
    } else if (id === "data") {
      if (!format) {
        throw new AudioFormatError(
          "bad-header",
          `the data chunk at byte ${offset} comes before any fmt chunk, so its encoding is unknown; ` +
            `re-save the file with a standard WAV writer, e.g. \`sox in.wav out.wav\``,
        );
      }
      const dataBytes = usableDataBytes(size, bytes.length - body, format.blockAlign);
      return decodeFrames(view, body, dataBytes / format.blockAlign, format);
    }
    // Chunks are padded to an even length; skipping also covers LIST, fact, cue and the like.
    offset = body + size + (size & 1);
  }
  if (!format) {
    throw new AudioFormatError("bad-header", `the WAV file has no fmt chunk; ${CONVERT_HINT}`);
  }
  throw new AudioFormatError(
    "truncated",
    `the WAV file ends (${bytes.length} bytes) before any data chunk; it was cut short — copy or export it again`,
  );
}

/** 16-bit PCM WAV with a canonical 44-byte header. */
export function encodeWav(channels: readonly Int16Array[], sampleRate: number): Uint8Array {
  const frames = requireEqualLengths(channels);
  requireSampleRate(sampleRate);
  const blockAlign = 2 * channels.length;
  const dataSize = frames * blockAlign;
  if (36 + dataSize > 0xffffffff) {
    throw new RangeError(
      `${dataSize} bytes of audio do not fit in one WAV file (4 GiB); split the recording`,
    );
  }
  const bytes = new Uint8Array(44 + dataSize);
  const view = new DataView(bytes.buffer);
  writeTag(bytes, 0, "RIFF");
  view.setUint32(4, 36 + dataSize, true);
  writeTag(bytes, 8, "WAVE");
  writeTag(bytes, 12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, channels.length, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, 16, true);
  writeTag(bytes, 36, "data");
  view.setUint32(40, dataSize, true);
  channels.forEach((channel, c) => {
    for (let f = 0, offset = 44 + 2 * c; f < frames; f++, offset += blockAlign) {
      view.setInt16(offset, channel[f]!, true);
    }
  });
  return bytes;
}

export async function readWavFile(path: string | URL): Promise<WavAudio> {
  return parseWav(await readFile(path));
}

export async function writeWavFile(
  path: string | URL,
  channels: readonly Int16Array[],
  sampleRate: number,
): Promise<void> {
  await writeFile(path, encodeWav(channels, sampleRate));
}

function checkRiffHeader(bytes: Uint8Array): void {
  const magic = bytes.length >= 4 ? readTag(bytes, 0) : "";
  if (magic === "RIFX" || magic === "RF64") {
    throw new AudioFormatError(
      "unsupported-encoding",
      `${magic} WAV files (${magic === "RIFX" ? "big-endian" : "over 4 GiB"}) are not supported; ${CONVERT_HINT}`,
    );
  }
  if (magic !== "RIFF" && bytes.length >= 4) {
    throw new AudioFormatError(
      "bad-header",
      `not a WAV file: expected "RIFF" at byte 0, found ${describeTag(bytes, 0)}; send a RIFF/WAVE file`,
    );
  }
  if (bytes.length < 12) {
    throw new AudioFormatError(
      "truncated",
      `${bytes.length} bytes is too short for a WAV file (the header alone is 44); send the whole file`,
    );
  }
  if (readTag(bytes, 8) !== "WAVE") {
    throw new AudioFormatError(
      "bad-header",
      `not a WAV file: a RIFF file of type ${describeTag(bytes, 8)}, expected "WAVE"; send a RIFF/WAVE file`,
    );
  }
}

function parseFormat(view: DataView, body: number, size: number): WavFormat {
  if (size < 16) {
    throw new AudioFormatError(
      "bad-header",
      `the fmt chunk is ${size} bytes, at least 16 are needed; ${CONVERT_HINT}`,
    );
  }
  let formatCode = view.getUint16(body, true);
  const channels = view.getUint16(body + 2, true);
  const sampleRate = view.getUint32(body + 4, true);
  const blockAlign = view.getUint16(body + 12, true);
  const bitsPerSample = view.getUint16(body + 14, true);
  if (formatCode === FORMAT_EXTENSIBLE) formatCode = extensibleSubformat(view, body, size);
  if (channels < 1 || channels > MAX_CHANNELS) {
    throw new AudioFormatError(
      "bad-channel-count",
      `the WAV file declares ${channels} channels, supported are 1 to ${MAX_CHANNELS}; ` +
        `split or downmix it first, e.g. \`sox in.wav -c 1 out.wav\``,
    );
  }
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) {
    throw new AudioFormatError(
      "bad-sample-rate",
      `the WAV file declares ${sampleRate} Hz, supported are 1 to ${MAX_SAMPLE_RATE} Hz; ` +
        `resample it first, e.g. \`sox in.wav -r 16000 out.wav\``,
    );
  }
  const readSample = sampleReader(formatCode, bitsPerSample);
  const bytesPerSample = bitsPerSample / 8;
  if (blockAlign !== channels * bytesPerSample) {
    throw new AudioFormatError(
      "bad-block-align",
      `the fmt chunk says ${blockAlign} bytes per frame, but ${channels} channels of ${bitsPerSample}-bit ` +
        `samples take ${channels * bytesPerSample}; the header is corrupt — re-export the file`,
    );
  }
  return { channels, sampleRate, blockAlign, bytesPerSample, readSample };
}

function extensibleSubformat(view: DataView, body: number, size: number): number {
  if (size < 40) {
    throw new AudioFormatError(
      "bad-header",
      `a WAVE_FORMAT_EXTENSIBLE fmt chunk needs 40 bytes, this one has ${size}; ${CONVERT_HINT}`,
    );
  }
  const guid = body + 24;
  const knownTail = SUBFORMAT_GUID_TAIL.every((byte, i) => view.getUint8(guid + 2 + i) === byte);
  if (!knownTail) {
    throw new AudioFormatError(
      "unsupported-encoding",
      `the WAV file's extensible subformat is not a standard audio format GUID; ${CONVERT_HINT}`,
    );
  }
  return view.getUint16(guid, true);
}

function sampleReader(formatCode: number, bits: number): SampleReader {
  if (formatCode === FORMAT_PCM) {
    if (bits === 8) return (view, offset) => (view.getUint8(offset) - 128) << 8;
    if (bits === 16) return (view, offset) => view.getInt16(offset, true);
    if (bits === 24) return readPcm24;
    if (bits === 32)
      return (view, offset) => Math.min(Math.round(view.getInt32(offset, true) / 65536), 32767);
  }
  if (formatCode === FORMAT_IEEE_FLOAT) {
    if (bits === 32) return (view, offset) => floatToPcm16Sample(view.getFloat32(offset, true));
    if (bits === 64) return (view, offset) => floatToPcm16Sample(view.getFloat64(offset, true));
  }
  if (formatCode === FORMAT_MULAW && bits === 8) return (view, offset) => mulawToPcm16(view.getUint8(offset));
  if (formatCode === FORMAT_ALAW && bits === 8) return (view, offset) => alawToPcm16(view.getUint8(offset));
  const name = KNOWN_FORMAT_NAMES[formatCode] ?? `format 0x${formatCode.toString(16).padStart(4, "0")}`;
  throw new AudioFormatError(
    "unsupported-encoding",
    `${bits}-bit ${name} WAV is not supported; ${CONVERT_HINT}`,
  );
}

function readPcm24(view: DataView, offset: number): number {
  const sample = view.getUint8(offset) | (view.getUint8(offset + 1) << 8) | (view.getInt8(offset + 2) << 16);
  // Round half up to 16 bits, as sox does, saturating at the top.
  return Math.min((sample + 0x80) >> 8, 32767);
}

function usableDataBytes(declared: number, available: number, blockAlign: number): number {
  if (declared <= available) {
    if (declared % blockAlign !== 0) {
      throw new AudioFormatError(
        "bad-block-align",
        `the data chunk holds ${declared} bytes, not a whole number of ${blockAlign}-byte frames; ` +
          `the header is corrupt — re-export the file`,
      );
    }
    return declared;
  }
  if (declared >= STREAMING_SIZE_PLACEHOLDER_MIN && available % blockAlign === 0) return available;
  throw new AudioFormatError(
    "truncated",
    `the data chunk declares ${declared} bytes but only ${available} follow` +
      (available % blockAlign === 0 ? "" : `, ending inside a ${blockAlign}-byte frame`) +
      `; the file was cut short — copy or export it again`,
  );
}

function decodeFrames(view: DataView, start: number, frames: number, format: WavFormat): WavAudio {
  const { channels, blockAlign, bytesPerSample, readSample } = format;
  const samples = Array.from({ length: channels }, () => new Int16Array(frames));
  samples.forEach((channel, c) => {
    for (let f = 0, offset = start + c * bytesPerSample; f < frames; f++, offset += blockAlign) {
      channel[f] = readSample(view, offset);
    }
  });
  return { sampleRate: format.sampleRate, channels, samples };
}

function readTag(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

function describeTag(bytes: Uint8Array, offset: number): string {
  const tag = bytes.subarray(offset, offset + 4);
  const printable = tag.every((byte) => byte >= 0x20 && byte < 0x7f);
  return printable
    ? JSON.stringify(String.fromCharCode(...tag))
    : `bytes ${Array.from(tag, (byte) => byte.toString(16).padStart(2, "0")).join(" ")}`;
}

function writeTag(bytes: Uint8Array, offset: number, tag: string): void {
  for (let i = 0; i < 4; i++) bytes[offset + i] = tag.charCodeAt(i);
}
