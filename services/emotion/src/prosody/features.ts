import { PitchTracker } from "./pitch.ts";

/**
 * The prosody of one segment, in units that do not depend on the speaker or the channel's gain once
 * they are compared with the same speaker's baseline: decibels, semitones, and the log of a rate.
 */
export interface ProsodyFeatures {
  /** Mean power of the voiced frames, dBFS. */
  energyDb: number;
  /** Median pitch of the voiced frames, semitones above 100 Hz; NaN when too little is voiced. */
  pitchSt: number;
  /** 90th minus 10th percentile of the voiced frames' pitch, semitones; NaN when too little is voiced. */
  pitchRangeSt: number;
  /** Natural log of the envelope's modulation frequency (Hz), which follows the syllable rate; NaN when too short. */
  logRate: number;
  /** Seconds of voiced speech the measures rest on. */
  voicedS: number;
}

const HOP = 80; // 10 ms at 8 kHz
const MIN_VOICED_FRAMES = 20;
const MIN_SPEECH_FRAMES = 30;

/** A segment of 16 kHz audio measured; pure and allocation-bounded by the segment's length. */
export function measureProsody(samples16k: Float32Array, tracker = new PitchTracker()): ProsodyFeatures {
  const audio = decimateBy2(samples16k);
  const frames = Math.max(0, Math.floor((audio.length - tracker.span) / HOP));
  const intensity = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let e = 0;
    const start = f * HOP;
    for (let i = 0; i < 2 * HOP; i++) e += audio[start + i]! * audio[start + i]!;
    intensity[f] = 10 * Math.log10(e / (2 * HOP) + 1e-12);
  }
  let peakDb = -120;
  for (let f = 0; f < frames; f++) peakDb = Math.max(peakDb, intensity[f]!);
  // Speech is within 30 dB of the segment's loudest frame (relative, so gain does not move it).
  const speechFloor = peakDb - 30;
  const pitches: number[] = [];
  let voicedPower = 0;
  let voiced = 0;
  let speechFrames = 0;
  for (let f = 0; f < frames; f++) {
    if (intensity[f]! < speechFloor) continue;
    speechFrames++;
    const hz = tracker.pitchAt(audio, f * HOP);
    if (hz > 0) {
      pitches.push(12 * Math.log2(hz / 100));
      voicedPower += 10 ** (intensity[f]! / 10);
      voiced++;
    }
  }
  // Two estimates of the syllable rate with independent errors, averaged in the log domain.
  const nuclei = countNuclei(intensity, speechFloor);
  const rate =
    speechFrames >= MIN_SPEECH_FRAMES && nuclei > 0
      ? 0.5 * (Math.log(nuclei / (speechFrames * 0.01)) + modulationRate(intensity, speechFloor))
      : NaN;
  pitches.sort((a, b) => a - b);
  const enoughPitch = voiced >= MIN_VOICED_FRAMES;
  return {
    energyDb: voiced > 0 ? 10 * Math.log10(voicedPower / voiced) : NaN,
    pitchSt: enoughPitch ? quantile(pitches, 0.5) : NaN,
    pitchRangeSt: enoughPitch ? quantile(pitches, 0.9) - quantile(pitches, 0.1) : NaN,
    logRate: rate,
    voicedS: voiced * 0.01,
  };
}

/**
 * Speaking rate as the centre of the amplitude envelope's modulation spectrum (syllables make the
 * envelope swing at 3-8 Hz): the power-weighted mean of log frequency over 1-16 Hz. Speaking faster
 * moves the whole spectrum up by the same factor, so its log moves by the log of the factor.
 */
function modulationRate(intensity: Float32Array, floorDb: number): number {
  const n = intensity.length;
  const envelope = new Float32Array(n);
  let mean = 0;
  for (let f = 0; f < n; f++) {
    envelope[f] = Math.max(intensity[f]!, floorDb);
    mean += envelope[f]!;
  }
  mean /= n;
  for (let f = 0; f < n; f++)
    envelope[f] = (envelope[f]! - mean) * (0.5 - 0.5 * Math.cos((2 * Math.PI * f) / (n - 1)));
  let power = 0;
  let weighted = 0;
  for (let hz = 2; hz <= 12; hz += 0.25) {
    const w = (2 * Math.PI * hz) / 100; // envelope at 100 frames a second
    let re = 0;
    let im = 0;
    for (let f = 0; f < n; f++) {
      re += envelope[f]! * Math.cos(w * f);
      im -= envelope[f]! * Math.sin(w * f);
    }
    // Equal weight per octave: bins are linear in Hz, so each is weighted by 1/hz.
    const p = re * re + im * im;
    power += p;
    weighted += p * Math.log(hz);
  }
  return power > 0 ? weighted / power : NaN;
}

/**
 * Syllable nuclei as peaks of the smoothed intensity contour that rise at least 2 dB above the dip
 * before them and lie in speech (after de Jong and Wempe's speech-rate measure).
 */
function countNuclei(intensity: Float32Array, floorDb: number): number {
  const n = intensity.length;
  const smooth = new Float32Array(n);
  const half = 2; // 50 ms moving average
  for (let f = 0; f < n; f++) {
    let sum = 0;
    let count = 0;
    for (let k = Math.max(0, f - half); k <= Math.min(n - 1, f + half); k++) {
      sum += intensity[k]!;
      count++;
    }
    smooth[f] = sum / count;
  }
  let count = 0;
  let dip = Infinity;
  let lastPeak = -100;
  for (let f = 1; f < n - 1; f++) {
    const v = smooth[f]!;
    dip = Math.min(dip, v);
    const isPeak = v >= smooth[f - 1]! && v > smooth[f + 1]!;
    if (isPeak && v > floorDb + 6 && v - dip >= 2 && f - lastPeak >= 6) {
      count++;
      lastPeak = f;
      dip = v;
    }
  }
  return count;
}

function quantile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** 16 kHz to 8 kHz with a short half-band low-pass (telephone speech carries nothing above 4 kHz). */
function decimateBy2(input: Float32Array): Float32Array {
  const out = new Float32Array(Math.floor(input.length / 2));
  for (let i = 0; i < out.length; i++) {
    const c = 2 * i;
    const a = input[c - 1] ?? 0;
    const b = input[c + 1] ?? 0;
    out[i] = 0.25 * a + 0.5 * input[c]! + 0.25 * b;
  }
  return out;
}
