import type { FbankConfig } from "../features/fbank.ts";

/** The 8 kHz log-mel settings of models/asr-en-telephony, for unit tests that need no model file. */
export const telephoneFbank: FbankConfig = {
  sampleRate: 8000,
  dim: 80,
  frameLength: 200,
  frameShift: 80,
  nFft: 256,
  window: "hann-periodic",
  preemphasis: 0.97,
  removeDcOffset: false,
  melLowHz: 0,
  melHighHz: 0,
  melScale: "slaney",
  melNorm: "slaney",
  logFloor: 1.1920928955078125e-7,
  snipEdges: false,
  sampleScale: 1,
};
