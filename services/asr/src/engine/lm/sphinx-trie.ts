import { readFileSync } from "node:fs";
import { LmFileError } from "./errors.ts";
import { NgramModel, type NgramTables } from "./ngram-model.ts";
import { TrieBuildError, buildTables, type NgramList } from "./trie-builder.ts";

/**
 * Reads CMU Sphinx's binary trie LM ("Trie Language Model", as pocketsphinx's lm_trie writes it) into
 * NgramTables. The layout, from cmusphinx's ngram_model_trie.c, lm_trie.c, lm_trie_quant.c, bitarr.c:
 *
 *   "Trie Language Model" (19 bytes), u8 order, u32 count per order
 *   i32 (unused), f32 quantisation tables: per middle order 2^16 probabilities then 2^16 back-offs,
 *     then 2^16 probabilities of the highest order
 *   unigrams: (count + 1) × { f32 prob, f32 back-off, u32 first child }
 *   per middle order: (count + 1) bit-packed entries { word, 16-bit back-off bin, 16-bit probability
 *     bin, first child } + 8 bytes; the highest order: { word, 16-bit probability bin } likewise
 *   u32 byte length, then the words, each NUL-terminated, in id order
 *
 * The trie is reversed: an n-gram w1 … wn sits under unigram wn, then wn−1, …, w1. Scores are logs in
 * base 1.0001 (Sphinx's logmath default; the file does not say), checked by the unigrams summing to 1.
 * Fields are little-endian and packed least significant bit first.
 */
const HEADER = "Trie Language Model";
const LOG_BASE = 1.0001;
const QUANT_BITS = 16;
const FIX =
  "copy the file again (Debian package pocketsphinx-en-us) or give an ARPA or callscribe-ngram model";

export interface SphinxTrieInfo {
  /** Counts in the file's header. */
  declaredCounts: number[];
  /** N-grams reachable in the trie (what the model holds). */
  counts: number[];
  /** Sum of the unigram probabilities (1 when the log base is right). */
  unigramMass: number;
}

export function readSphinxTrie(path: string): NgramModel {
  return new NgramModel(readSphinxTrieTables(path).tables);
}

export function readSphinxTrieTables(path: string): { tables: NgramTables; info: SphinxTrieInfo } {
  const bytes = readFileSync(path);
  const fail = (offset: number, problem: string, fix = FIX): never => {
    throw new LmFileError(path, { offset }, problem, fix);
  };
  const need = (offset: number, length: number, what: string): void => {
    if (offset + length > bytes.length)
      fail(
        bytes.length,
        `the file ends at byte ${bytes.length} inside ${what}, which needs bytes up to ${offset + length} (truncated)`,
      );
  };
  need(0, HEADER.length + 1, "the header");
  if (bytes.toString("latin1", 0, HEADER.length) !== HEADER)
    fail(
      0,
      `not a Sphinx trie LM (no "${HEADER}" header)`,
      "give a Sphinx .lm.bin in trie format, or an ARPA file",
    );
  let at = HEADER.length;
  const order = bytes[at++]!;
  if (order < 1 || order > 6) fail(at - 1, `n-gram order ${order} is out of range (1 to 6)`);
  need(at, 4 * order, "the n-gram counts");
  const declared: number[] = [];
  for (let k = 0; k < order; k++, at += 4) declared.push(bytes.readUInt32LE(at));
  const n1 = declared[0]!;
  const toLn = Math.log(LOG_BASE);

  let quant: Float32Array | null = null;
  if (order > 1) {
    const values = (order - 2) * 2 * (1 << QUANT_BITS) + (1 << QUANT_BITS);
    at += 4;
    need(at, 4 * values, "the quantisation tables");
    quant = floats(bytes, at, values);
    at += 4 * values;
  }
  need(at, 12 * (n1 + 1), "the unigrams");
  const uniProb = new Float32Array(n1);
  const uniBackoff = new Float32Array(n1);
  const uniNext = new Uint32Array(n1 + 1);
  let unigramMass = 0;
  for (let i = 0; i <= n1; i++, at += 12) {
    if (i < n1) {
      const p = bytes.readFloatLE(at);
      uniProb[i] = p * toLn;
      uniBackoff[i] = bytes.readFloatLE(at + 4) * toLn;
      unigramMass += Math.exp(p * toLn);
    }
    uniNext[i] = bytes.readUInt32LE(at + 8);
  }
  if (Math.abs(unigramMass - 1) > 0.01)
    fail(
      at - 12 * (n1 + 1),
      `the unigram probabilities sum to ${unigramMass.toFixed(4)}, not 1, under log base ${LOG_BASE}`,
    );

  // Bit-packed levels: middles (orders 2 .. order−1), then the highest order.
  const wordBits = requiredBits(n1);
  const levels: { start: number; totalBits: number; nextBits: number; count: number }[] = [];
  for (let k = 1; k < order; k++) {
    const count = declared[k]!;
    const nextBits = k < order - 1 ? requiredBits(declared[k + 1]!) : 0;
    const totalBits = wordBits + (k < order - 1 ? 2 * QUANT_BITS : QUANT_BITS) + nextBits;
    const size = Math.floor(((1 + count) * totalBits + 7) / 8) + 8;
    need(at, size, `the ${k + 1}-grams`);
    levels.push({ start: at, totalBits, nextBits, count });
    at += size;
  }
  need(at, 4, "the word list");
  const wordBytes = bytes.readUInt32LE(at);
  at += 4;
  need(at, wordBytes, "the word list");
  const words = bytes.toString("latin1", at, at + wordBytes).split("\0");
  if (words.at(-1) === "") words.pop();
  if (words.length !== n1)
    fail(at, `the word list has ${words.length} words, the header declares ${n1} unigrams`);
  // Sphinx words are bytes; most are ASCII. Decode as UTF-8 where that is what they are.
  for (let i = 0; i < words.length; i++)
    if (/[^\x00-\x7f]/.test(words[i]!)) words[i] = Buffer.from(words[i]!, "latin1").toString("utf8");
  at += wordBytes;
  if (at !== bytes.length) fail(at, `${bytes.length - at} bytes after the word list`);

  // Walk the reversed trie into forward n-gram lists.
  const counts = [n1];
  const lists: NgramList[] = [];
  const reversedRanges: Uint32Array[] = [];
  let parentRanges = uniNext;
  let parentWords: Int32Array = Int32Array.from({ length: n1 }, (_, i) => i);
  let parentOrder = 1;
  for (let k = 1; k < order; k++) {
    const level = levels[k - 1]!;
    const middle = k < order - 1;
    const reachable = parentRanges[parentRanges.length - 1]!;
    if (reachable > level.count)
      fail(level.start, `the ${k}-grams point past the ${level.count} ${k + 1}-grams`);
    const n = reachable;
    const flat = new Int32Array(n * (k + 1));
    const logProb = new Float32Array(n);
    const backoff = middle ? new Float32Array(n) : null;
    const next = middle ? new Uint32Array(n + 1) : new Uint32Array(0);
    const probTable = (k - 1) * 2 * (1 << QUANT_BITS);
    const boTable = probTable + (1 << QUANT_BITS);
    const wordMask = 2 ** wordBits - 1;
    for (let p = 0; p < parentRanges.length - 1; p++) {
      const from = parentRanges[p]!;
      const to = parentRanges[p + 1]!;
      if (to < from) fail(level.start, `the child ranges of the ${k}-grams are out of order`);
      for (let j = from; j < to; j++) {
        let bit = j * level.totalBits;
        const word = readBits(bytes, level.start, bit, wordBits, wordMask);
        if (word >= n1)
          fail(level.start + Math.floor(bit / 8), `word id ${word} is outside the ${n1} unigrams`);
        bit += wordBits;
        // Forward order: the new (older) word first, then the parent's words.
        flat[j * (k + 1)] = word;
        for (let i = 0; i < k; i++) flat[j * (k + 1) + 1 + i] = parentWords[p * parentOrder + i]!;
        if (middle) {
          backoff![j] = quant![boTable + readBits(bytes, level.start, bit, QUANT_BITS, 0xffff)]! * toLn;
          logProb[j] =
            quant![probTable + readBits(bytes, level.start, bit + QUANT_BITS, QUANT_BITS, 0xffff)]! * toLn;
        } else {
          logProb[j] = quant![probTable + readBits(bytes, level.start, bit, QUANT_BITS, 0xffff)]! * toLn;
        }
      }
    }
    if (middle) {
      const nextMask = 2 ** level.nextBits - 1;
      const nextAt = wordBits + 2 * QUANT_BITS;
      for (let j = 0; j <= n; j++)
        next[j] = readBits(bytes, level.start, j * level.totalBits + nextAt, level.nextBits, nextMask);
    }
    counts.push(n);
    lists.push({ words: flat, logProb, backoff });
    if (middle) reversedRanges.push(next);
    parentRanges = next;
    parentWords = flat;
    parentOrder = k + 1;
  }
  // A trigram z a w sits under the reversed bigram a w; its forward parent is the bigram z a, which the
  // reversed trie holds as z among unigram a's children. Searching there, one a at a time, keeps the
  // searches in one small region of memory (a search of the forward trie jumps across all of it).
  const trigramParents = (_level: number, bigramPlacement: Uint32Array): Int32Array => {
    const bigrams = lists[0]!;
    const trigrams = lists[1]!;
    const below = reversedRanges[0]!;
    const forward = new Int32Array(bigramPlacement.length);
    for (let j = 0; j < bigramPlacement.length; j++) forward[bigramPlacement[j]!] = j;
    const out = new Int32Array(trigrams.logProb.length).fill(-1);
    const count = bigrams.logProb.length;
    // Bigram entries by their first word a (a counting sort).
    const start = new Uint32Array(n1 + 1);
    for (let p = 0; p < count; p++) start[bigrams.words[2 * p]! + 1]!++;
    for (let a = 0; a < n1; a++) start[a + 1]! += start[a]!;
    const byWord = new Uint32Array(count);
    for (let p = 0; p < count; p++) byWord[start[bigrams.words[2 * p]!]!++] = p;
    for (const p of byWord) {
      const a = bigrams.words[2 * p]!;
      const from = uniNext[a]!;
      const to = uniNext[a + 1]!;
      for (let t = below[p]!; t < below[p + 1]!; t++) {
        const z = trigrams.words[3 * t]!;
        let lo = from;
        let hi = to - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >>> 1;
          const w = bigrams.words[2 * mid]!;
          if (w < z) lo = mid + 1;
          else if (w > z) hi = mid - 1;
          else {
            out[t] = forward[mid]!;
            break;
          }
        }
      }
    }
    return out;
  };
  try {
    const tables = buildTables(
      words,
      uniProb,
      uniBackoff,
      lists,
      undefined,
      order === 3 ? trigramParents : undefined,
    );
    return { tables, info: { declaredCounts: declared, counts, unigramMass } };
  } catch (err) {
    if (err instanceof TrieBuildError) {
      // List index = bit-packed entry index, so the entry's byte follows from the level's layout.
      const level = levels[err.level - 1]!;
      fail(
        level.start + Math.floor((err.index * level.totalBits) / 8),
        `this ${err.level + 1}-gram is inconsistent: ${err.message}`,
      );
    }
    throw err;
  }
}

function floats(bytes: Buffer, at: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(at + 4 * i);
  return out;
}

/** Bits needed for values 0 .. max (bitarr_required_bits). */
function requiredBits(max: number): number {
  return max === 0 ? 0 : Math.floor(Math.log2(max)) + 1;
}

/** `bits` (≤ 25) bits at bit offset `bit` from byte `start`, least significant first. */
function readBits(bytes: Buffer, start: number, bit: number, bits: number, mask: number): number {
  const i = start + Math.floor(bit / 8);
  const word = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
  return bits === 0 ? 0 : (word >>> (bit & 7)) & mask;
}
