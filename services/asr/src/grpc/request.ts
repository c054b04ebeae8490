import {
  AudioFormatError,
  decodeAlaw,
  decodeMulaw,
  mixToMono,
  parseWav,
  pcm16FromBytes,
  resample,
  float32ToPcm16,
} from "@callscribe/audio";
import { InvalidArgumentError } from "@callscribe/errors";
import type { RecognitionConfig__Output } from "@callscribe/proto";
import type { Hotword, ModelInfo, StreamOptions } from "../engine/index.ts";

/** Bounds on what one request may ask for; beyond them the request is refused, not clipped. */
export const requestLimits = {
  maxHotwords: 100,
  maxHotwordChars: 100,
  /** Boost added to a matched token's log-probability; larger values swamp the acoustic model. */
  hotwordBoost: { min: 0, max: 20 },
  trailingSilenceMs: { min: 100, max: 10_000 },
  maxUtteranceMs: { min: 1_000, max: 60_000 },
  minSpeechMs: { min: 1, max: 5_000 },
  maxLabels: 32,
  maxLabelChars: 256,
} as const;

export type StreamEncoding = "LINEAR16" | "MULAW" | "ALAW";

/** A validated RecognitionConfig: what the engine gets, plus how to decode the audio bytes. */
export interface ValidatedConfig {
  encoding: StreamEncoding | "WAV";
  /** 0 for WAV: the file's header decides. */
  sampleRate: 0 | 8000 | 16000;
  stream: Omit<StreamOptions, "sampleRate">;
  wordTimeOffsets: boolean;
  labels: Record<string, string>;
}

const invalid = (reason: string) => new InvalidArgumentError(reason);

/**
 * Checks a RecognitionConfig against what the served model and the server support. Each refusal is
 * an InvalidArgumentError whose message names the field and what to send instead.
 */
export function validateRecognitionConfig(
  config: RecognitionConfig__Output | null | undefined,
  context: { model: ModelInfo; method: "StreamingRecognize" | "Recognize" },
): ValidatedConfig {
  if (!config) {
    throw invalid(
      context.method === "StreamingRecognize"
        ? "first message must be config"
        : "config is required: set encoding and sample_rate_hz",
    );
  }
  const encoding = config.encoding;
  let sampleRate: ValidatedConfig["sampleRate"];
  switch (encoding) {
    case "LINEAR16":
      if (config.sampleRateHz !== 8000 && config.sampleRateHz !== 16000) {
        throw invalid(
          config.sampleRateHz === 0
            ? "sample_rate_hz is required for LINEAR16: send 8000 or 16000"
            : `sample_rate_hz ${config.sampleRateHz} is not supported for LINEAR16: send 8000 or 16000 Hz (resample on the client)`,
        );
      }
      sampleRate = config.sampleRateHz;
      break;
    case "MULAW":
    case "ALAW":
      // G.711 is 8 kHz by definition; 0 means the client left it to us.
      if (config.sampleRateHz !== 0 && config.sampleRateHz !== 8000) {
        throw invalid(
          `sample_rate_hz ${config.sampleRateHz} is not supported for ${encoding}: G.711 audio is 8000 Hz`,
        );
      }
      sampleRate = 8000;
      break;
    case "WAV":
      if (context.method === "StreamingRecognize") {
        throw invalid("encoding WAV is accepted by Recognize only; stream LINEAR16, MULAW or ALAW");
      }
      sampleRate = 0;
      break;
    default:
      throw invalid(
        `unsupported encoding ${String(encoding)}: use LINEAR16, MULAW or ALAW${context.method === "Recognize" ? " or WAV" : ""}`,
      );
  }

  const model = context.model;
  if (config.model !== "" && config.model !== model.name) {
    throw invalid(
      `unknown model "${config.model.slice(0, 80)}": this server has "${model.name}" (see ListModels)`,
    );
  }
  if (
    config.languageHint !== "" &&
    primaryLanguage(config.languageHint) !== primaryLanguage(model.language)
  ) {
    throw invalid(
      `language_hint "${config.languageHint.slice(0, 20)}" cannot be served: model "${model.name}" recognises ${model.language}`,
    );
  }

  // The server's decoder (ASR_DECODER: the LM search when the model has an LM); with hotwords a greedy
  // server decodes with the beam search, which can boost them.
  const stream: Omit<StreamOptions, "sampleRate"> = { interimResults: config.interimResults };
  const hotwords = validateHotwords(config.hotwords);
  if (hotwords.length > 0) stream.hotwords = hotwords;
  const endpointing = validateEndpointing(config.endpointing);
  if (endpointing) stream.endpointing = endpointing;
  const labels = validateLabels(config.labels);
  if (Object.keys(labels).length > 0) stream.labels = labels;

  return { encoding, sampleRate, stream, wordTimeOffsets: config.wordTimeOffsets, labels };
}

function primaryLanguage(tag: string): string {
  return tag.split(/[-_]/)[0]!.toLowerCase();
}

function validateHotwords(hotwords: RecognitionConfig__Output["hotwords"]): Hotword[] {
  const { maxHotwords, maxHotwordChars, hotwordBoost } = requestLimits;
  if (hotwords.length > maxHotwords) {
    throw invalid(`${hotwords.length} hotwords: at most ${maxHotwords} are accepted`);
  }
  return hotwords.map((hotword, i) => {
    const phrase = hotword.phrase.trim();
    if (phrase.length === 0) throw invalid(`hotwords[${i}].phrase is empty`);
    if (phrase.length > maxHotwordChars) {
      throw invalid(`hotwords[${i}].phrase has ${phrase.length} characters: at most ${maxHotwordChars}`);
    }
    const boost = hotword.boost;
    if (!Number.isFinite(boost) || boost <= hotwordBoost.min || boost > hotwordBoost.max) {
      throw invalid(
        `hotwords[${i}].boost ${boost} is out of range: use a value above ${hotwordBoost.min} and at most ${hotwordBoost.max} (typical 1 to 5)`,
      );
    }
    return { phrase, boost };
  });
}

function validateEndpointing(
  endpointing: RecognitionConfig__Output["endpointing"],
): StreamOptions["endpointing"] | undefined {
  if (!endpointing) return undefined;
  const result: NonNullable<StreamOptions["endpointing"]> = {};
  const check = (field: string, value: number, range: { min: number; max: number }) => {
    if (value === 0) return undefined; // the server default
    if (value < range.min || value > range.max) {
      throw invalid(
        `endpointing.${field} ${value} is out of range: use 0 (server default) or ${range.min} to ${range.max}`,
      );
    }
    return value;
  };
  const trailing = check(
    "trailing_silence_ms",
    endpointing.trailingSilenceMs,
    requestLimits.trailingSilenceMs,
  );
  const maxUtterance = check("max_utterance_ms", endpointing.maxUtteranceMs, requestLimits.maxUtteranceMs);
  const minSpeech = check("min_speech_ms", endpointing.minSpeechMs, requestLimits.minSpeechMs);
  if (trailing !== undefined) result.trailingSilenceMs = trailing;
  if (maxUtterance !== undefined) result.maxUtteranceMs = maxUtterance;
  if (minSpeech !== undefined) result.minSpeechMs = minSpeech;
  if (minSpeech !== undefined && maxUtterance !== undefined && minSpeech >= maxUtterance) {
    throw invalid(`endpointing.min_speech_ms ${minSpeech} must be below max_utterance_ms ${maxUtterance}`);
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function validateLabels(labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > requestLimits.maxLabels) {
    throw invalid(`${entries.length} labels: at most ${requestLimits.maxLabels} are accepted`);
  }
  for (const [key, value] of entries) {
    if (key.length > requestLimits.maxLabelChars || value.length > requestLimits.maxLabelChars) {
      throw invalid(`label "${key.slice(0, 40)}" is longer than ${requestLimits.maxLabelChars} characters`);
    }
  }
  return Object.fromEntries(entries);
}

/** Turns one streamed audio message into PCM16 samples at the configured rate. */
export function decodeAudioChunk(encoding: StreamEncoding, bytes: Uint8Array): Int16Array {
  switch (encoding) {
    case "LINEAR16":
      if (bytes.length % 2 !== 0) {
        throw invalid(
          `audio message has an odd byte count (${bytes.length}): LINEAR16 samples are 2 bytes each; send whole samples`,
        );
      }
      return pcm16FromBytes(bytes);
    case "MULAW":
      return decodeMulaw(bytes);
    case "ALAW":
      return decodeAlaw(bytes);
  }
}

/**
 * Decodes the audio of a Recognize request. A WAV file brings its own rate and channels: several
 * channels are mixed to one (Recognize returns one transcript; the transcribe CLI keeps channels
 * apart as legs), and a rate other than 8 or 16 kHz is resampled to the model's rate.
 */
export function decodeRecognizeAudio(
  config: ValidatedConfig,
  bytes: Uint8Array,
  limits: { maxAudioMs: number; modelSampleRate: number },
): { pcm: Int16Array; sampleRate: 8000 | 16000 } {
  let pcm: Int16Array;
  let sampleRate: 8000 | 16000;
  if (config.encoding === "WAV") {
    let wav;
    try {
      wav = parseWav(bytes);
    } catch (err) {
      if (err instanceof AudioFormatError)
        throw new InvalidArgumentError(`audio is not a usable WAV file (${err.reason}): ${err.message}`, {
          cause: err,
        });
      throw err;
    }
    const mono = wav.channels === 1 ? wav.samples[0]! : mixToMono(wav.samples);
    if (wav.sampleRate === 8000 || wav.sampleRate === 16000) {
      pcm = mono;
      sampleRate = wav.sampleRate;
    } else {
      checkLength(mono.length, wav.sampleRate, limits.maxAudioMs);
      sampleRate = limits.modelSampleRate === 16000 ? 16000 : 8000;
      pcm = float32ToPcm16(resample(mono, wav.sampleRate, sampleRate));
    }
  } else {
    pcm = decodeAudioChunk(config.encoding, bytes);
    sampleRate = config.sampleRate as 8000 | 16000;
  }
  checkLength(pcm.length, sampleRate, limits.maxAudioMs);
  return { pcm, sampleRate };
}

function checkLength(samples: number, sampleRate: number, maxAudioMs: number): void {
  const ms = (samples / sampleRate) * 1000;
  if (ms > maxAudioMs) {
    throw invalid(
      `audio is ${(ms / 1000).toFixed(1)} s long: Recognize accepts at most ${maxAudioMs / 1000} s; use StreamingRecognize for longer audio`,
    );
  }
}
