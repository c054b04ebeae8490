/** Word language models and lexicons for the decoder. */
export type { LmState, LmScore, LanguageModel, Lexicon } from "./types.ts";
