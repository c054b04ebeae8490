export { loadLanguageModel, type LanguageIdModel, type LoadLanguageModelOptions } from "./model.ts";
export { LanguageManifest, type LanguageLabel } from "./manifest.ts";
export {
  LanguageEvidence,
  UNDETERMINED,
  decideLanguage,
  speechSpan,
  undetermined,
  type LanguageTag,
} from "./decision.ts";
export { LegLanguage, type LegLanguageOptions } from "./leg-language.ts";
