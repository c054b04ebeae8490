import { requireRoom } from "./pcm.ts";

// ITU-T G.711 in the form of the public-domain Sun reference code that sox also uses, so our bytes match
// what telephony tools produce. Decoding is a table lookup; encoding finds the segment by search.

const SIGN_BIT = 0x80;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const MULAW_BIAS = 0x21; // 33, the mu-law bias at 14-bit resolution
const MULAW_CLIP = 8159; // largest 14-bit magnitude that still fits after the bias
const MULAW_SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;

const MULAW_TO_PCM16 = buildTable(mulawCodeToPcm16);
const ALAW_TO_PCM16 = buildTable(alawCodeToPcm16);

export function decodeMulaw(codes: Uint8Array, output = new Int16Array(codes.length)): Int16Array {
  return decodeWith(MULAW_TO_PCM16, codes, output);
}

export function decodeAlaw(codes: Uint8Array, output = new Int16Array(codes.length)): Int16Array {
  return decodeWith(ALAW_TO_PCM16, codes, output);
}

export function encodeMulaw(samples: Int16Array, output = new Uint8Array(samples.length)): Uint8Array {
  requireRoom(output, samples.length);
  for (let i = 0; i < samples.length; i++) output[i] = pcm16ToMulawCode(samples[i]!);
  return output;
}

export function encodeAlaw(samples: Int16Array, output = new Uint8Array(samples.length)): Uint8Array {
  requireRoom(output, samples.length);
  for (let i = 0; i < samples.length; i++) output[i] = pcm16ToAlawCode(samples[i]!);
  return output;
}

/** The PCM16 value of one mu-law code. */
export function mulawToPcm16(code: number): number {
  return MULAW_TO_PCM16[code & 0xff]!;
}

/** The PCM16 value of one A-law code. */
export function alawToPcm16(code: number): number {
  return ALAW_TO_PCM16[code & 0xff]!;
}

export function pcm16ToMulawCode(sample: number): number {
  // G.711 mu-law works on 14 bits; rounding (not truncating) the two dropped bits is what sox does.
  let magnitude = roundToBits(sample, 2);
  let mask = 0xff;
  if (magnitude < 0) {
    magnitude = -magnitude;
    mask = 0x7f;
  }
  if (magnitude > MULAW_CLIP) magnitude = MULAW_CLIP;
  magnitude += MULAW_BIAS;
  const segment = findSegment(magnitude, MULAW_SEGMENT_ENDS);
  if (segment >= MULAW_SEGMENT_ENDS.length) return 0x7f ^ mask;
  const code = (segment << SEG_SHIFT) | ((magnitude >> (segment + 1)) & QUANT_MASK);
  return code ^ mask;
}

export function pcm16ToAlawCode(sample: number): number {
  // G.711 A-law works on 13 bits; the clip keeps the magnitude inside the last segment.
  let magnitude = Math.min(roundToBits(sample, 3), 0xfff);
  let mask = 0xd5;
  if (magnitude < 0) {
    // One's complement: -1 lands on the smallest negative step, keeping the code table symmetric.
    magnitude = -magnitude - 1;
    mask = 0x55;
  }
  const segment = findSegment(magnitude, ALAW_SEGMENT_ENDS);
  const shift = segment < 2 ? 1 : segment;
  const code = (segment << SEG_SHIFT) | ((magnitude >> shift) & QUANT_MASK);
  return code ^ mask;
}

function mulawCodeToPcm16(code: number): number {
  const inverted = ~code & 0xff;
  const segment = (inverted >> SEG_SHIFT) & 0x07;
  const magnitude = ((((inverted & QUANT_MASK) << 3) + (MULAW_BIAS << 2)) << segment) - (MULAW_BIAS << 2);
  return inverted & SIGN_BIT ? -magnitude : magnitude;
}

function alawCodeToPcm16(code: number): number {
  const toggled = code ^ 0x55;
  const segment = (toggled >> SEG_SHIFT) & 0x07;
  let magnitude = (toggled & QUANT_MASK) << 4;
  if (segment === 0) magnitude += 8;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return toggled & SIGN_BIT ? magnitude : -magnitude;
}

/** Drops `bits` low bits with rounding half up, saturating at the top of the range. */
function roundToBits(sample: number, bits: number): number {
  const max = (0x8000 >> bits) - 1;
  return Math.min((sample + (1 << (bits - 1))) >> bits, max);
}

function findSegment(magnitude: number, segmentEnds: readonly number[]): number {
  let segment = 0;
  while (segment < segmentEnds.length && magnitude > segmentEnds[segment]!) segment++;
  return segment;
}

function buildTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code);
  return table;
}

function decodeWith(table: Int16Array, codes: Uint8Array, output: Int16Array): Int16Array {
  requireRoom(output, codes.length);
  for (let i = 0; i < codes.length; i++) output[i] = table[codes[i]!]!;
  return output;
}
