import { readFileSync, writeFileSync } from "node:fs";
import { LmFileError } from "./errors.ts";
import { NgramModel, type NgramTables } from "./ngram-model.ts";

/**
 * Callscribe's compact n-gram binary: the NgramTables arrays back to back in one little-endian buffer,
 * read with one file read and used in place (typed-array views, no per-n-gram objects).
 *
 *   0  "CSNGRAM\0"   8  u32 version   12 u32 order   16 u32 vocabulary bytes   20 u32 checksum
 *   24 u32 total bytes (low)   28 u32 total bytes (high)   32 u32 count per order … (padded to 8)
 *   vocabulary: UTF-8 words joined by "\n" (padded to 4)
 *   level 0: f32 logProb[n], and below the top order f32 backoff[n], u32 firstChild[n + 1]
 *   level k ≥ 1: i32 lastWord[n], f32 logProb[n], and below the top order f32 backoff[n],
 *                u32 firstChild[n + 1], and from level 2 i32 suffixState[n]
 *
 * The checksum (FNV-1a over the 32-bit words after the header) and the declared size make a truncated
 * or damaged file a refusal at load, with the byte offset.
 */
const MAGIC = "CSNGRAM\0";
export const LM_BINARY_VERSION = 1;
const FIXED_HEADER = 32;
const FIX_BINARY = "rebuild it from the ARPA file (models/recipes/lm) or copy it again in full";

export const LM_BINARY_FORMAT = "callscribe-ngram";

function headerBytes(order: number): number {
  return align(FIXED_HEADER + 4 * order, 8);
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

interface Section {
  array: Float32Array | Int32Array | Uint32Array;
}

function sections(tables: NgramTables): Section[] {
  const out: Section[] = [];
  const top = tables.order - 1;
  for (let k = 0; k <= top; k++) {
    if (k > 0) out.push({ array: tables.lastWord[k]! });
    out.push({ array: tables.logProb[k]! });
    if (k < top) {
      out.push({ array: tables.backoff[k]! });
      out.push({ array: tables.firstChild[k]! });
      if (k >= 2) out.push({ array: tables.suffixState[k]! });
    }
  }
  return out;
}

/** The binary form of tables, as one buffer. */
export function encodeLmBinary(tables: NgramTables): Buffer {
  const vocab = Buffer.from(tables.words.join("\n"), "utf8");
  const head = headerBytes(tables.order);
  const vocabEnd = head + align(vocab.length, 4);
  const parts = sections(tables);
  const total = vocabEnd + parts.reduce((sum, s) => sum + s.array.byteLength, 0);
  const buffer = Buffer.alloc(total);
  buffer.write(MAGIC, 0, "latin1");
  buffer.writeUInt32LE(LM_BINARY_VERSION, 8);
  buffer.writeUInt32LE(tables.order, 12);
  buffer.writeUInt32LE(vocab.length, 16);
  buffer.writeUInt32LE(total % 2 ** 32, 24);
  buffer.writeUInt32LE(Math.floor(total / 2 ** 32), 28);
  tables.logProb.forEach((p, k) => buffer.writeUInt32LE(p.length, FIXED_HEADER + 4 * k));
  vocab.copy(buffer, head);
  let at = vocabEnd;
  for (const { array } of parts) {
    Buffer.from(array.buffer, array.byteOffset, array.byteLength).copy(buffer, at);
    at += array.byteLength;
  }
  buffer.writeUInt32LE(checksum(buffer, head), 20);
  return buffer;
}

export function writeLmBinary(tables: NgramTables, path: string): void {
  writeFileSync(path, encodeLmBinary(tables));
}

export function readLmBinary(path: string): NgramModel {
  return new NgramModel(readLmBinaryTables(path));
}

export function readLmBinaryTables(path: string): NgramTables {
  const file = readFileSync(path);
  // Typed-array views need 4-byte alignment; a small file may sit unaligned in Node's buffer pool.
  if (file.byteOffset % 8 === 0) return decodeLmBinary(file, path);
  const bytes = Buffer.alloc(file.length);
  file.copy(bytes);
  return decodeLmBinary(bytes, path);
}

export function decodeLmBinary(bytes: Buffer, path: string): NgramTables {
  const fail = (offset: number, problem: string, fix = FIX_BINARY): never => {
    throw new LmFileError(path, { offset }, problem, fix);
  };
  if (bytes.length < FIXED_HEADER || bytes.toString("latin1", 0, 8) !== MAGIC)
    fail(
      0,
      `not a ${LM_BINARY_FORMAT} binary (no "CSNGRAM" magic)`,
      "give a file written by the recipe, or an ARPA file with format arpa",
    );
  const version = bytes.readUInt32LE(8);
  if (version !== LM_BINARY_VERSION)
    fail(8, `format version ${version}; this reader reads version ${LM_BINARY_VERSION}`);
  const order = bytes.readUInt32LE(12);
  if (order < 1 || order > 9) fail(12, `n-gram order ${order} is out of range (1 to 9)`);
  const head = headerBytes(order);
  const total = bytes.readUInt32LE(24) + bytes.readUInt32LE(28) * 2 ** 32;
  if (bytes.length < total)
    fail(
      bytes.length,
      `the file ends at byte ${bytes.length} of the ${total} its header declares (truncated)`,
    );
  if (bytes.length > total)
    fail(total, `${bytes.length - total} bytes after the ${total} its header declares`);
  const stored = bytes.readUInt32LE(20);
  const actual = checksum(bytes, head);
  if (stored !== actual)
    fail(20, `checksum ${hex(actual)} differs from the stored ${hex(stored)} (the file is damaged)`);
  const counts: number[] = [];
  for (let k = 0; k < order; k++) counts.push(bytes.readUInt32LE(FIXED_HEADER + 4 * k));
  const vocabBytes = bytes.readUInt32LE(16);
  const words = bytes.toString("utf8", head, head + vocabBytes).split("\n");
  if (words.length !== counts[0])
    fail(head, `the vocabulary has ${words.length} words, the header declares ${counts[0]} unigrams`);
  let at = head + align(vocabBytes, 4);
  const take = <T extends Float32Array | Int32Array | Uint32Array>(
    Kind: { new (buffer: ArrayBufferLike, offset: number, length: number): T },
    n: number,
  ): T => {
    if (at + 4 * n > total) fail(at, `a section runs past the end of the file`);
    const view = new Kind(bytes.buffer, bytes.byteOffset + at, n);
    at += 4 * n;
    return view;
  };
  const lastWord: (Int32Array | null)[] = [];
  const logProb: Float32Array[] = [];
  const backoff: Float32Array[] = [];
  const firstChild: Uint32Array[] = [];
  const suffixState: Int32Array[] = [];
  const top = order - 1;
  for (let k = 0; k <= top; k++) {
    const n = counts[k]!;
    const start = at;
    const ids = k > 0 ? take(Int32Array, n) : null;
    lastWord.push(ids);
    logProb.push(take(Float32Array, n));
    if (ids)
      for (let i = 0; i < n; i++)
        if (!(ids[i]! >= 0 && ids[i]! < counts[0]!))
          fail(start + 4 * i, `word id ${ids[i]} is outside the vocabulary`);
    if (k < top) {
      backoff.push(take(Float32Array, n));
      const fcStart = at;
      const fc = take(Uint32Array, n + 1);
      if (fc[0] !== 0 || fc[n] !== counts[k + 1])
        fail(
          fcStart,
          `the child ranges of the ${k + 1}-grams do not cover the ${counts[k + 1]} ${k + 2}-grams`,
        );
      for (let i = 0; i < n; i++)
        if (fc[i]! > fc[i + 1]!)
          fail(fcStart + 4 * i, `the child ranges of the ${k + 1}-grams are not in order`);
      firstChild.push(fc);
      suffixState.push(k >= 2 ? take(Int32Array, n) : new Int32Array(0));
    } else suffixState.push(new Int32Array(0));
  }
  if (at !== total) fail(at, `the sections end at byte ${at}, the header declares ${total}`);
  return { order, words, lastWord, logProb, backoff, firstChild, suffixState };
}

/** FNV-1a over little-endian 32-bit words from `from` (a multiple of 4) to the end. */
function checksum(bytes: Buffer, from: number): number {
  let h = 0x811c9dc5;
  const words = Math.floor((bytes.length - from) / 4);
  const aligned = (bytes.byteOffset + from) % 4 === 0;
  const view = aligned
    ? new Uint32Array(bytes.buffer, bytes.byteOffset + from, words)
    : new Uint32Array(Buffer.from(bytes.subarray(from, from + 4 * words)).buffer, 0, words);
  for (let i = 0; i < words; i++) h = Math.imul(h ^ view[i]!, 0x01000193);
  for (let i = from + 4 * words; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
