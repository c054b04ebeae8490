export { AudioFormatError, type AudioFormatReason } from "./errors.ts";
export { parseWav, encodeWav, readWavFile, writeWavFile, type WavAudio } from "./wav.ts";
export {
  pcm16ToFloat32,
  float32ToPcm16,
  pcm16FromBytes,
  pcm16ToBytes,
  mixToMono,
  deinterleave,
  interleave,
} from "./pcm.ts";
export { decodeMulaw, encodeMulaw, decodeAlaw, encodeAlaw } from "./g711.ts";
export { resample, StreamingResampler } from "./resample.ts";
