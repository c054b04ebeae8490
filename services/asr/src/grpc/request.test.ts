import { encodeMulaw, encodeWav, pcm16ToBytes } from "@callscribe/audio";
import { InvalidArgumentError } from "@callscribe/errors";
import type { RecognitionConfig__Output } from "@callscribe/proto";
import { describe, expect, it } from "vitest";
import type { ModelInfo } from "../engine/index.ts";
import { decodeAudioChunk, decodeRecognizeAudio, validateRecognitionConfig } from "./request.ts";

const model: ModelInfo = {
  name: "asr-en-telephony",
  version: "1",
  language: "en-US",
  sampleRate: 8000,
  provider: "cpu",
  precision: "int8",
  streamingExact: true,
};

// What proto-loader hands a handler for a message with only these fields set (defaults: true).
function config(fields: Partial<RecognitionConfig__Output>): RecognitionConfig__Output {
  return {
    encoding: "LINEAR16",
    sampleRateHz: 8000,
    languageHint: "",
    hotwords: [],
    interimResults: false,
    endpointing: null,
    model: "",
    wordTimeOffsets: false,
    labels: {},
    ...fields,
  };
}

const streaming = { model, method: "StreamingRecognize" as const };
const unary = { model, method: "Recognize" as const };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error("expected an InvalidArgumentError");
}

describe("validateRecognitionConfig", () => {
  it("accepts LINEAR16 at 8 and 16 kHz and G.711 at 8 kHz", () => {
    expect(validateRecognitionConfig(config({}), streaming)).toMatchObject({
      encoding: "LINEAR16",
      sampleRate: 8000,
    });
    expect(validateRecognitionConfig(config({ sampleRateHz: 16000 }), streaming).sampleRate).toBe(16000);
    expect(
      validateRecognitionConfig(config({ encoding: "MULAW", sampleRateHz: 0 }), streaming).sampleRate,
    ).toBe(8000);
    expect(
      validateRecognitionConfig(config({ encoding: "ALAW", sampleRateHz: 8000 }), streaming).sampleRate,
    ).toBe(8000);
  });

  it("refuses a missing config, naming the rule", () => {
    expect(refusal(() => validateRecognitionConfig(null, streaming))).toBe("first message must be config");
    expect(refusal(() => validateRecognitionConfig(undefined, unary))).toMatch(/config is required/);
  });

  it("refuses sample rates the engine does not take", () => {
    expect(refusal(() => validateRecognitionConfig(config({ sampleRateHz: 44100 }), streaming))).toMatch(
      /sample_rate_hz 44100 is not supported for LINEAR16/,
    );
    expect(refusal(() => validateRecognitionConfig(config({ sampleRateHz: 0 }), streaming))).toMatch(
      /sample_rate_hz is required/,
    );
    expect(
      refusal(() => validateRecognitionConfig(config({ encoding: "MULAW", sampleRateHz: 16000 }), streaming)),
    ).toMatch(/G.711 audio is 8000 Hz/);
  });

  it("refuses unsupported encodings, and WAV on a stream", () => {
    expect(
      refusal(() => validateRecognitionConfig(config({ encoding: "AUDIO_ENCODING_UNSPECIFIED" }), streaming)),
    ).toMatch(/unsupported encoding AUDIO_ENCODING_UNSPECIFIED/);
    expect(refusal(() => validateRecognitionConfig(config({ encoding: "WAV" }), streaming))).toMatch(
      /Recognize only/,
    );
    expect(validateRecognitionConfig(config({ encoding: "WAV", sampleRateHz: 0 }), unary).encoding).toBe(
      "WAV",
    );
  });

  it("refuses an unknown model and a language the model does not speak", () => {
    expect(refusal(() => validateRecognitionConfig(config({ model: "whisper" }), streaming))).toMatch(
      /unknown model "whisper"/,
    );
    expect(
      validateRecognitionConfig(config({ model: "asr-en-telephony", languageHint: "en-GB" }), streaming),
    ).toBeDefined();
    expect(refusal(() => validateRecognitionConfig(config({ languageHint: "fr-FR" }), streaming))).toMatch(
      /recognises en-US/,
    );
  });

  it("checks hotword boosts and phrases, and leaves the decoder to the server", () => {
    const ok = validateRecognitionConfig(
      config({ hotwords: [{ phrase: " conference ", boost: 2 }] }),
      streaming,
    );
    expect(ok.stream).toMatchObject({ hotwords: [{ phrase: "conference", boost: 2 }] });
    // The server's decoder applies (the request has no field for it).
    expect(validateRecognitionConfig(config({}), streaming).stream.decoder).toBeUndefined();
    expect(
      refusal(() => validateRecognitionConfig(config({ hotwords: [{ phrase: "x", boost: 0 }] }), streaming)),
    ).toMatch(/hotwords\[0\]\.boost 0 is out of range/);
    expect(
      refusal(() => validateRecognitionConfig(config({ hotwords: [{ phrase: "x", boost: 50 }] }), streaming)),
    ).toMatch(/boost 50 is out of range/);
    expect(
      refusal(() =>
        validateRecognitionConfig(config({ hotwords: [{ phrase: "x", boost: Number.NaN }] }), streaming),
      ),
    ).toMatch(/out of range/);
    expect(
      refusal(() => validateRecognitionConfig(config({ hotwords: [{ phrase: "  ", boost: 1 }] }), streaming)),
    ).toMatch(/hotwords\[0\]\.phrase is empty/);
  });

  it("checks endpointing ranges; 0 keeps the server default", () => {
    const endpointing = { trailingSilenceMs: 0, maxUtteranceMs: 0, minSpeechMs: 0 };
    expect(validateRecognitionConfig(config({ endpointing }), streaming).stream.endpointing).toBeUndefined();
    expect(
      validateRecognitionConfig(
        config({ endpointing: { ...endpointing, trailingSilenceMs: 400 } }),
        streaming,
      ).stream.endpointing,
    ).toEqual({ trailingSilenceMs: 400 });
    expect(
      refusal(() =>
        validateRecognitionConfig(
          config({ endpointing: { ...endpointing, trailingSilenceMs: 20 } }),
          streaming,
        ),
      ),
    ).toMatch(/endpointing.trailing_silence_ms 20 is out of range/);
    expect(
      refusal(() =>
        validateRecognitionConfig(
          config({ endpointing: { ...endpointing, maxUtteranceMs: 3_600_000 } }),
          streaming,
        ),
      ),
    ).toMatch(/max_utterance_ms 3600000 is out of range/);
    expect(
      refusal(() =>
        validateRecognitionConfig(
          config({ endpointing: { trailingSilenceMs: 0, maxUtteranceMs: 2000, minSpeechMs: 2000 } }),
          streaming,
        ),
      ),
    ).toMatch(/min_speech_ms 2000 must be below max_utterance_ms 2000/);
  });
});

describe("decodeAudioChunk", () => {
  it("reads LINEAR16 little-endian and refuses an odd byte count", () => {
    expect([...decodeAudioChunk("LINEAR16", pcm16ToBytes(Int16Array.of(1, -2, 300)))]).toEqual([1, -2, 300]);
    expect(refusal(() => decodeAudioChunk("LINEAR16", new Uint8Array(321)))).toMatch(
      /odd byte count \(321\)/,
    );
  });

  it("decodes G.711 mu-law to PCM", () => {
    const pcm = Int16Array.from({ length: 80 }, (_, i) => Math.round(8000 * Math.sin(i / 5)));
    const decoded = decodeAudioChunk("MULAW", encodeMulaw(pcm));
    expect(decoded.length).toBe(80);
    for (let i = 0; i < pcm.length; i++) expect(Math.abs(decoded[i]! - pcm[i]!)).toBeLessThan(400);
  });
});

describe("decodeRecognizeAudio", () => {
  const limits = { maxAudioMs: 2_000, modelSampleRate: 8000 };
  const wav = validateRecognitionConfig(config({ encoding: "WAV", sampleRateHz: 0 }), unary);

  it("mixes a stereo WAV to one channel and keeps its rate", () => {
    const left = new Int16Array(800).fill(1000);
    const right = new Int16Array(800).fill(3000);
    const { pcm, sampleRate } = decodeRecognizeAudio(wav, encodeWav([left, right], 16000), limits);
    expect(sampleRate).toBe(16000);
    expect(pcm.length).toBe(800);
    expect(pcm[10]).toBe(2000);
  });

  it("resamples a WAV at another rate to the model's rate", () => {
    const { pcm, sampleRate } = decodeRecognizeAudio(wav, encodeWav([new Int16Array(4410)], 44100), limits);
    expect(sampleRate).toBe(8000);
    expect(pcm.length).toBe(800);
  });

  it("refuses a bad WAV and audio longer than the limit, saying why", () => {
    expect(
      refusal(() => decodeRecognizeAudio(wav, new TextEncoder().encode("RIFF....not a wave file"), limits)),
    ).toMatch(/not a usable WAV file/);
    const linear = validateRecognitionConfig(config({}), unary);
    expect(refusal(() => decodeRecognizeAudio(linear, new Uint8Array(2 * 8000 * 3), limits))).toMatch(
      /audio is 3.0 s long: Recognize accepts at most 2 s/,
    );
  });
});
