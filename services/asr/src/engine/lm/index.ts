/** Word language models and lexicons for the decoder. */
export type { LmState, LmScore, LanguageModel, Lexicon } from "./types.ts";
export { LmFileError } from "./errors.ts";
export { NgramModel, type NgramTables } from "./ngram-model.ts";
export { readArpa, readArpaTables, writeArpa } from "./arpa.ts";
export {
  readLmBinary,
  readLmBinaryTables,
  writeLmBinary,
  encodeLmBinary,
  LM_BINARY_FORMAT,
} from "./binary.ts";
export { readSphinxTrie, readSphinxTrieTables, type SphinxTrieInfo } from "./sphinx-trie.ts";
export { readLexicon, parseLexicon, formatCharacterLexicon } from "./lexicon.ts";
export {
  loadModelDecoding,
  readLanguageModel,
  DecodingLoadError,
  type ModelDecoding,
  type DecodingDeclaration,
  type LmFileFormat,
} from "./model-decoding.ts";
