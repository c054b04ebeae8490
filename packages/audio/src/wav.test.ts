import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { soxReference } from "./__fixtures__/sox.ts";
import { AudioFormatError } from "./errors.ts";
import { interleave, pcm16FromBytes, pcm16ToBytes } from "./pcm.ts";
import { encodeWav, parseWav, readWavFile, writeWavFile } from "./wav.ts";

// Builders for hand-made WAV files, so each test shows the bytes it feeds in.

function chunk(id: string, body: Uint8Array, declaredSize = body.length): Uint8Array {
  const bytes = new Uint8Array(8 + body.length + (body.length & 1));
  bytes.set(ascii(id), 0);
  new DataView(bytes.buffer).setUint32(4, declaredSize, true);
  bytes.set(body, 8);
  return bytes;
}

function riff(chunks: Uint8Array[], type = "WAVE"): Uint8Array {
  const body = concat([ascii(type), ...chunks]);
  return concat([ascii("RIFF"), uint32(body.length), body]);
}

interface FmtFields {
  format?: number;
  channels?: number;
  sampleRate?: number;
  bits?: number;
  blockAlign?: number;
  /** Wraps the format in WAVE_FORMAT_EXTENSIBLE with this subformat GUID. */
  subformatGuid?: Uint8Array;
}

function fmt({
  format = 1,
  channels = 1,
  sampleRate = 8000,
  bits = 16,
  ...rest
}: FmtFields = {}): Uint8Array {
  const blockAlign = rest.blockAlign ?? (channels * bits) / 8;
  const extensible = rest.subformatGuid !== undefined;
  const body = new Uint8Array(extensible ? 40 : 16);
  const view = new DataView(body.buffer);
  view.setUint16(0, extensible ? 0xfffe : format, true);
  view.setUint16(2, channels, true);
  view.setUint32(4, sampleRate, true);
  view.setUint32(8, sampleRate * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, bits, true);
  if (rest.subformatGuid) {
    view.setUint16(16, 22, true);
    view.setUint16(18, bits, true);
    body.set(rest.subformatGuid, 24);
  }
  return chunk("fmt ", body);
}

function subformatGuid(format: number): Uint8Array {
  const guid = Uint8Array.of(0, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71);
  new DataView(guid.buffer).setUint16(0, format, true);
  return guid;
}

const pcm16 = (...samples: number[]) => pcm16ToBytes(Int16Array.from(samples));

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

function rejection(bytes: Uint8Array): AudioFormatError {
  try {
    parseWav(bytes);
  } catch (err) {
    if (err instanceof AudioFormatError) return err;
    throw err;
  }
  throw new Error("expected parseWav to reject the file");
}

const channelsOf = (bytes: Uint8Array) => parseWav(bytes).samples.map((channel) => Array.from(channel));

describe("parseWav reads", () => {
  it("what encodeWav writes, mono and stereo", () => {
    const left = Int16Array.of(0, 1, -1, 32767, -32768);
    const right = Int16Array.of(5, 4, 3, 2, 1);
    expect(parseWav(encodeWav([left], 8000))).toEqual({ sampleRate: 8000, channels: 1, samples: [left] });
    expect(parseWav(encodeWav([left, right], 16000))).toEqual({
      sampleRate: 16000,
      channels: 2,
      samples: [left, right],
    });
  });

  it("interleaved stereo frames into one array per channel", () => {
    const wav = riff([fmt({ channels: 2 }), chunk("data", pcm16(10, -10, 20, -20, 30, -30))]);
    expect(channelsOf(wav)).toEqual([
      [10, 20, 30],
      [-10, -20, -30],
    ]);
  });

  it("past unknown chunks of odd length, honouring their pad byte", () => {
    const list = chunk("LIST", ascii("INFOICMT\x05\x00\x00\x00hello"));
    const odd = chunk("junk", Uint8Array.of(1, 2, 3));
    const wav = riff([odd, fmt(), list, chunk("data", pcm16(7, 8))]);
    expect(list.length % 2).toBe(0);
    expect(channelsOf(wav)).toEqual([[7, 8]]);
  });

  it("only the declared data, ignoring what follows it", () => {
    const wav = riff([fmt(), chunk("data", pcm16(1, 2)), chunk("LIST", ascii("INFO"))]);
    expect(channelsOf(wav)).toEqual([[1, 2]]);
  });

  it("8-bit unsigned, 24-bit, 32-bit and float PCM, converted to 16 bits", () => {
    const u8 = riff([fmt({ bits: 8 }), chunk("data", Uint8Array.of(128, 255, 0))]);
    expect(channelsOf(u8)).toEqual([[0, 32512, -32768]]);
    const s24 = riff([fmt({ bits: 24 }), chunk("data", Uint8Array.of(0x80, 0x34, 0x12, 0xff, 0xff, 0x7f))]);
    expect(channelsOf(s24)).toEqual([[0x1235, 32767]]);
    const floats = new Uint8Array(Float32Array.of(0.5, -1, 2, Number.NaN).buffer);
    const f32 = riff([fmt({ format: 3, bits: 32 }), chunk("data", floats)]);
    expect(channelsOf(f32)).toEqual([[16384, -32768, 32767, 0]]);
  });

  it("WAVE_FORMAT_EXTENSIBLE with a PCM subformat", () => {
    const wav = riff([fmt({ channels: 2, subformatGuid: subformatGuid(1) }), chunk("data", pcm16(3, 4))]);
    expect(channelsOf(wav)).toEqual([[3], [4]]);
  });

  it("a streaming writer's placeholder data size as the rest of the file, in whole frames", () => {
    for (const placeholder of [0xffffffff, 0x7ffff000]) {
      const wav = riff([fmt(), chunk("data", pcm16(1, 2, 3), placeholder)]);
      expect(channelsOf(wav)).toEqual([[1, 2, 3]]);
    }
  });

  it("files sox writes in every supported encoding as sox itself converts them to 16 bits", async () => {
    const cases = [
      { name: "pcm16-stereo", args: ["-c", "2", "-b", "16"], synth: ["sine", "1000", "sine", "300"] },
      { name: "mulaw", args: ["-e", "mu-law"], synth: ["sine", "1000"] },
      { name: "alaw", args: ["-e", "a-law"], synth: ["sine", "1000"] },
      { name: "u8", args: ["-e", "unsigned", "-b", "8"], synth: ["sine", "1000"] },
      { name: "float32", args: ["-e", "floating-point", "-b", "32"], synth: ["sine", "1000"] },
      {
        name: "pcm24-3ch-extensible",
        args: ["-c", "3", "-b", "24"],
        synth: ["sine", "1000", "sine", "300", "sine", "50"],
      },
    ];
    for (const { name, args, synth } of cases) {
      const wav = await soxReference(`${name}.wav`, [
        "-n",
        "-r",
        "8000",
        ...args,
        `${name}.wav`,
        "synth",
        "0.01",
        ...synth,
        "vol",
        "0.9",
      ]);
      const raw = await soxReference(
        `${name}.s16`,
        ["-D", `${name}.wav`, "-t", "raw", "-e", "signed", "-b", "16", `${name}.s16`],
        {
          [`${name}.wav`]: wav,
        },
      );
      const audio = parseWav(wav);
      expect({ name, sampleRate: audio.sampleRate, channels: audio.channels }).toEqual({
        name,
        sampleRate: 8000,
        channels: synth.length / 2,
      });
      expect(interleave(audio.samples)).toEqual(pcm16FromBytes(raw));
    }
  });
});

describe("parseWav rejects", () => {
  const valid = riff([fmt(), chunk("data", pcm16(1, 2, 3, 4))]);

  it("a file cut short, with reason truncated", () => {
    expect(rejection(valid.subarray(0, valid.length - 2)).reason).toBe("truncated");
    expect(rejection(valid.subarray(0, valid.length - 1)).reason).toBe("truncated");
    expect(rejection(valid.subarray(0, 30)).reason).toBe("truncated");
    expect(rejection(valid.subarray(0, 36)).reason).toBe("truncated");
    expect(rejection(valid.subarray(0, 8)).reason).toBe("truncated");
    expect(rejection(new Uint8Array(0)).reason).toBe("truncated");
  });

  it("a placeholder data size over a file that ends inside a frame", () => {
    const wav = riff([fmt({ channels: 2 }), chunk("data", pcm16(1, 2, 3), 0xffffffff)]);
    expect(rejection(wav).reason).toBe("truncated");
  });

  it("something that is not RIFF, or RIFF but not WAVE, with reason bad-header", () => {
    expect(rejection(ascii("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00")).reason).toBe("bad-header");
    const avi = riff([chunk("data", pcm16(1))], "AVI ");
    const error = rejection(avi);
    expect(error.reason).toBe("bad-header");
    expect(error.message).toContain('"AVI "');
  });

  it("a file without a fmt chunk, or with data before fmt", () => {
    expect(rejection(riff([chunk("LIST", ascii("INFO"))])).reason).toBe("bad-header");
    const dataFirst = riff([chunk("data", pcm16(1, 2)), fmt()]);
    const error = rejection(dataFirst);
    expect(error.reason).toBe("bad-header");
    expect(error.message).toMatch(/before any fmt chunk/);
  });

  it("a fmt chunk shorter than 16 bytes", () => {
    expect(rejection(riff([chunk("fmt ", new Uint8Array(14)), chunk("data", pcm16(1))])).reason).toBe(
      "bad-header",
    );
  });

  it("encodings it cannot decode, with reason unsupported-encoding and a way out", () => {
    const unsupported = [
      fmt({ format: 2, bits: 4, blockAlign: 256 }), // Microsoft ADPCM
      fmt({ format: 0x11, bits: 4, blockAlign: 256 }), // IMA ADPCM
      fmt({ bits: 12, blockAlign: 2 }),
      fmt({ format: 3, bits: 16 }),
      fmt({ format: 7, bits: 16 }),
      fmt({ subformatGuid: Uint8Array.from({ length: 16 }, (_, i) => i) }),
    ];
    for (const format of unsupported) {
      const error = rejection(riff([format, chunk("data", new Uint8Array(256))]));
      expect(error.reason).toBe("unsupported-encoding");
      expect(error.message).toContain("sox in.wav -e signed -b 16 out.wav");
    }
    expect(rejection(riff([fmt({ format: 2, bits: 4, blockAlign: 256 })])).message).toContain(
      "Microsoft ADPCM",
    );
    expect(rejection(concat([ascii("RIFX"), valid.subarray(4)])).reason).toBe("unsupported-encoding");
  });

  it("channel counts outside 1..8 and sample rates outside 1..384000 Hz", () => {
    for (const channels of [0, 9]) {
      expect(rejection(riff([fmt({ channels, blockAlign: 2 }), chunk("data", pcm16(1))])).reason).toBe(
        "bad-channel-count",
      );
    }
    for (const sampleRate of [0, 384_001]) {
      expect(rejection(riff([fmt({ sampleRate }), chunk("data", pcm16(1))])).reason).toBe("bad-sample-rate");
    }
  });

  it("a block align that disagrees with channels and sample size, or data in partial frames", () => {
    expect(rejection(riff([fmt({ channels: 2, blockAlign: 2 }), chunk("data", pcm16(1, 2))])).reason).toBe(
      "bad-block-align",
    );
    expect(rejection(riff([fmt({ channels: 2 }), chunk("data", pcm16(1, 2, 3))])).reason).toBe(
      "bad-block-align",
    );
  });

  it("with an error that keeps its name and cause", () => {
    const cause = new Error("socket closed");
    const error = new AudioFormatError("truncated", "cut short", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("AudioFormatError");
    expect(error.cause).toBe(cause);
  });
});

describe("WAV files", () => {
  it("writes and reads back a file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "callscribe-wav-"));
    try {
      const path = join(dir, "call.wav");
      const channels = [Int16Array.of(1, 2, 3), Int16Array.of(-1, -2, -3)];
      await writeWavFile(path, channels, 8000);
      expect(await readWavFile(path)).toEqual({ sampleRate: 8000, channels: 2, samples: channels });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses to encode channels of different lengths or a bad sample rate", () => {
    expect(() => encodeWav([new Int16Array(2), new Int16Array(3)], 8000)).toThrow(AudioFormatError);
    expect(() => encodeWav([new Int16Array(2)], 0)).toThrow(AudioFormatError);
  });
});
