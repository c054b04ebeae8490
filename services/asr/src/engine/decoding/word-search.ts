import type { AcousticModel } from "../model/acoustic-model.ts";
import type { EngineOptions, WordLanguageModel } from "../types.ts";
import {
  WordSearchOptionError,
  defaultWordSearchOptions,
  validateWordSearchOptions,
  wordLmFor,
  type WordLm,
  type WordSearchOptions,
} from "./word-lm.ts";

/** What the engine hands every stream for LM decoding: the shared WordLm and the engine's knobs. */
export interface WordSearch {
  lm: WordLm;
  options: WordSearchOptions;
}

/** The language model a loaded model folder brings, if any. */
function languageOfModel(model: AcousticModel): WordLanguageModel | null {
  const { languageModel, lexicon } = model;
  return languageModel && lexicon ? { lm: languageModel, lexicon } : null;
}

/**
 * The word search an engine decodes with: the deployment's LM (`language`) or else the model folder's,
 * with the engine's knobs validated. Null without an LM; a RangeError naming the option when a knob is
 * out of range or `decoder` is `lm` without an LM.
 */
export function wordSearchOf(
  model: AcousticModel,
  language: WordLanguageModel | null | undefined,
  options: EngineOptions,
): WordSearch | null {
  const knobs: WordSearchOptions = {
    beamWidth: options.beamWidth ?? defaultWordSearchOptions.beamWidth,
    lmWeight: options.lmWeight ?? defaultWordSearchOptions.lmWeight,
    wordBonus: options.wordBonus ?? defaultWordSearchOptions.wordBonus,
    oovPolicy: options.oovPolicy ?? defaultWordSearchOptions.oovPolicy,
    oovPenalty: options.oovPenalty ?? defaultWordSearchOptions.oovPenalty,
    tokenPrune: defaultWordSearchOptions.tokenPrune,
    beamThreshold: defaultWordSearchOptions.beamThreshold,
  };
  validateWordSearchOptions(knobs);
  if (options.decoder !== undefined && !["greedy", "beam", "lm"].includes(options.decoder))
    throw new WordSearchOptionError(
      "decoder",
      `engine option decoder ${JSON.stringify(options.decoder)} is not one of greedy, beam, lm`,
    );
  const source = language === undefined ? languageOfModel(model) : language;
  if (!source) {
    if (options.decoder === "lm")
      throw new WordSearchOptionError(
        "decoder",
        `engine option decoder lm needs a language model and model ${model.info.name} has none; use greedy or beam, or give the model an LM`,
      );
    return null;
  }
  return { lm: wordLmFor(source.lm, source.lexicon, model.spec.vocabulary), options: knobs };
}
