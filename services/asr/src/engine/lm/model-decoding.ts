import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { readArpa } from "./arpa.ts";
import { readLmBinary } from "./binary.ts";
import { LmFileError } from "./errors.ts";
import { readLexicon } from "./lexicon.ts";
import {
  MissingMarkerError,
  SENTENCE_END,
  SENTENCE_START,
  UNKNOWN_WORD,
  type NgramModel,
} from "./ngram-model.ts";
import { readSphinxTrie } from "./sphinx-trie.ts";
import type { LanguageModel, Lexicon } from "./types.ts";

export type LmFileFormat = "callscribe-ngram" | "arpa" | "sphinx-trie";

/** The manifest's `decoding` section, as the model loader validated its shape. */
export interface DecodingDeclaration {
  lm: { path: string; format: LmFileFormat; order: number; vocabularySize?: number; sha256?: string };
  lexicon: { path: string; words?: number; sha256?: string; outOfVocabulary: "refuse" | "unk" };
}

/** A model folder's word LM and lexicon: loaded once, shared read-only by every stream. */
export interface ModelDecoding {
  languageModel: LanguageModel;
  lexicon: Lexicon;
}

/** Why the folder's LM or lexicon cannot be used; the message names the manifest field or file. */
export class DecodingLoadError extends Error {
  override readonly name = "DecodingLoadError";
}

export function readLanguageModel(path: string, format: LmFileFormat): NgramModel {
  if (format === "arpa") return readArpa(path);
  if (format === "sphinx-trie") return readSphinxTrie(path);
  return readLmBinary(path);
}

/**
 * Loads and checks a folder's `decoding` section: both files exist and match their sha256, the LM has
 * the declared order and vocabulary size, every lexicon spelling uses only the model's tokens (never the
 * blank or the word separator), and every lexicon word is in the LM's vocabulary (or, with
 * `outOfVocabulary: "unk"`, the LM has <unk> for them).
 */
export function loadModelDecoding(
  dir: string,
  declaration: DecodingDeclaration,
  tokens: readonly string[],
  blankId: number,
  spaceToken: string,
): ModelDecoding {
  const { lm: lmSpec, lexicon: lexSpec } = declaration;
  const lmPath = checkedFile(dir, lmSpec.path, lmSpec.sha256, "decoding.lm");
  const lexPath = checkedFile(dir, lexSpec.path, lexSpec.sha256, "decoding.lexicon");
  let lm: NgramModel;
  try {
    lm = readLanguageModel(lmPath, lmSpec.format);
  } catch (err) {
    if (err instanceof MissingMarkerError)
      throw new DecodingLoadError(`${lmSpec.path}: ${err.message}`, { cause: err });
    throw err;
  }
  if (lm.order !== lmSpec.order)
    throw new DecodingLoadError(
      `decoding.lm.order is ${lmSpec.order}, ${lmSpec.path} is a ${lm.order}-gram model; set the order to ${lm.order}`,
    );
  if (lmSpec.vocabularySize !== undefined && lm.vocabularySize !== lmSpec.vocabularySize)
    throw new DecodingLoadError(
      `decoding.lm.vocabularySize is ${lmSpec.vocabularySize}, ${lmSpec.path} has ${lm.vocabularySize} words; rebuild the LM or correct the manifest`,
    );
  for (const marker of [SENTENCE_START, SENTENCE_END])
    if (lm.exactWordId(marker) < 0)
      throw new DecodingLoadError(`${lmSpec.path} has no ${marker}; rebuild the LM with sentence markers`);
  const forbidden = new Set([blankId, tokens.indexOf(spaceToken)].filter((id) => id >= 0));
  const lexicon = readLexicon(lexPath, tokens, forbidden);
  if (lexSpec.words !== undefined && lexicon.words.length !== lexSpec.words)
    throw new DecodingLoadError(
      `decoding.lexicon.words is ${lexSpec.words}, ${lexSpec.path} has ${lexicon.words.length}; rebuild the lexicon or correct the manifest`,
    );
  const unknown = lexicon.words.filter((word) => lm.exactWordId(word) < 0);
  if (unknown.length > 0) {
    const first = unknown[0]!;
    const line = lexicon.words.indexOf(first) + 1;
    if (lexSpec.outOfVocabulary === "refuse")
      throw new DecodingLoadError(
        `${lexSpec.path}: ${unknown.length} word(s) are not in the LM's vocabulary, the first ${JSON.stringify(first)} (entry ${line}); rebuild the lexicon from the LM, or set decoding.lexicon.outOfVocabulary to "unk"`,
      );
    if (lm.unkId < 0)
      throw new DecodingLoadError(
        `${lexSpec.path}: ${unknown.length} word(s) are not in the LM's vocabulary (the first ${JSON.stringify(first)}) and the LM has no ${UNKNOWN_WORD} to score them; rebuild the lexicon from the LM`,
      );
  }
  return { languageModel: lm, lexicon };
}

function checkedFile(dir: string, name: string, sha256: string | undefined, field: string): string {
  const path = join(dir, name);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new DecodingLoadError(
      `${field}.path: ${name} is missing in ${dir}; add the file or remove the decoding section`,
    );
  if (sha256 !== undefined) {
    const actual = sha256Of(path);
    if (actual !== sha256.toLowerCase())
      throw new DecodingLoadError(
        `${field}.sha256: ${name} has sha256 ${actual}, the manifest declares ${sha256}; the file was changed or damaged: copy it again, or rebuild it and its manifest entry with models/recipes/lm`,
      );
  }
  return path;
}

/** sha256 of a file read in 1 MiB chunks (an LM can be large; no copy of it is kept for hashing). */
function sha256Of(path: string): string {
  const hash = createHash("sha256");
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      hash.update(chunk.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

export { LmFileError };
