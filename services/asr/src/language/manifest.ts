import { z } from "zod";
import { FeatureSpec, TensorSpec } from "../engine/model/manifest.ts";

/**
 * `manifest.json` of a language-identification model (models/language-id, built by
 * models/recipes/language): log-mel frames [N, T, dim] in, log-posteriors over `labels` [N, labels] out.
 */
export const LanguageLabel = z.object({
  /** BCP-47 tag the class stands for: a language (`it`) or a regional variant (`es-419`, `fr-CA`). */
  tag: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a BCP-47 tag"),
  /** Its primary language subtag. */
  language: z.string().regex(/^[a-z]{2,3}$/, "must be a primary language subtag"),
  realSpeakers: z.array(z.string()).default([]),
  synthetic: z.boolean().default(false),
});
export type LanguageLabel = z.infer<typeof LanguageLabel>;

export const LanguageManifest = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    task: z.literal("language-id"),
    sampleRate: z.number().int().positive(),
    features: FeatureSpec.extend({
      /**
       * The graph normalises the log-mels itself, by each utterance's mean or by constants (a front end taken from
       * an ASR model); either way callers pass raw features.
       */
      normalization: z.enum(["utterance-mean-in-graph", "global-in-graph"]),
    }),
    inputs: z.array(TensorSpec).length(1),
    outputs: z.array(TensorSpec).length(1),
    labels: z.array(LanguageLabel).min(2),
    /** Speech shorter than this is not classified. */
    minSpeechMs: z.number().int().positive(),
    /** A language whose probability is below this is reported as `und`. */
    undBelow: z.number().min(0).max(1),
    files: z.object({ fp32: z.string().min(1) }),
    executionProviders: z.array(z.string()).default(["cpu"]),
    provenance: z.unknown().optional(),
  })
  .passthrough()
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.labels.forEach((label, i) => {
      if (seen.has(label.tag))
        ctx.addIssue({
          code: "custom",
          path: ["labels", i, "tag"],
          message: `"${label.tag}" is listed twice`,
        });
      seen.add(label.tag);
      if (label.tag.split("-")[0] !== label.language)
        ctx.addIssue({
          code: "custom",
          path: ["labels", i, "language"],
          message: `"${label.language}" is not the language of "${label.tag}"`,
        });
    });
  });
export type LanguageManifest = z.infer<typeof LanguageManifest>;
