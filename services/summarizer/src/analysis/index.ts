export { analyzeCall, type AnalysisOptions, type TicketAnalysis } from "./ticket-analysis.ts";
export { parseTaxonomy, TaxonomyError, type Taxonomy } from "./taxonomy.ts";
export {
  redactText,
  findPii,
  piiPlaceholder,
  type PiiKind,
  type PiiSpan,
  type Redaction,
} from "./redaction.ts";
export { textSentiment } from "./sentiment.ts";
export { talkFigures } from "./talk.ts";
export type { CallTranscript, TranscriptUtterance, EmotionLabel } from "./transcript.ts";
