import { z } from "zod";
import { EMOTION2VEC_CLASSES } from "../classes.ts";
import { PROSODY_MEASURES } from "../prosody/baseline.ts";

/** `manifest.json` of an emotion model folder. Unknown fields are kept (provenance is free-form). */

const dimension = z.union([z.number().int().nonnegative(), z.string().min(1)]);
export const TensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.enum(["float32", "int64", "int32"]),
  shape: z.array(dimension),
});
export type TensorSpec = z.infer<typeof TensorSpec>;

const measures = <T extends z.ZodTypeAny>(value: T) =>
  z.object(
    Object.fromEntries(PROSODY_MEASURES.map((m) => [m, value])) as Record<
      (typeof PROSODY_MEASURES)[number],
      T
    >,
  );

export const Emotion2vecManifest = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    task: z.literal("emotion2vec"),
    sampleRate: z.literal(16000),
    file: z.string().min(1),
    /** A float waveform [N, T], and optionally its valid lengths [N] so segments of a batch can differ. */
    inputs: z.array(TensorSpec).min(1).max(2),
    outputs: z.array(TensorSpec).min(1).max(2),
    logitsOutput: z.string().min(1),
    embeddingOutput: z.string().min(1).optional(),
    labels: z
      .array(z.string().min(1))
      .refine(
        (labels) =>
          labels.length === EMOTION2VEC_CLASSES.length &&
          EMOTION2VEC_CLASSES.every((c) => labels.includes(c)),
        { message: `must be the 9 classes ${EMOTION2VEC_CLASSES.join(", ")} (in the logits' order)` },
      ),
    executionProviders: z.array(z.string()).default(["cpu"]),
    provenance: z.unknown().optional(),
  })
  .passthrough();
export type Emotion2vecManifest = z.infer<typeof Emotion2vecManifest>;

export const ProsodyManifest = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    task: z.literal("prosody-arousal"),
    sampleRate: z.literal(16000),
    labels: z.tuple([z.literal("calm"), z.literal("neutral"), z.literal("agitated")]),
    scales: measures(z.number().positive()),
    weights: measures(z.number().nonnegative()),
    arousalScale: z.number().positive(),
    reference: measures(z.number()).partial(),
    minBaselineS: z.number().nonnegative(),
    bands: z
      .object({ calm: z.number().min(-1).max(0), agitated: z.number().min(0).max(1) })
      .refine((b) => b.calm < b.agitated, { message: "calm must be below agitated" }),
    pitch: z.object({
      minHz: z.number().positive(),
      maxHz: z.number().positive(),
      voicingThreshold: z.number().min(0).max(1),
    }),
    provenance: z.unknown().optional(),
  })
  .passthrough();
export type ProsodyManifest = z.infer<typeof ProsodyManifest>;

export const EmotionManifest = z.discriminatedUnion("task", [Emotion2vecManifest, ProsodyManifest]);
export type EmotionManifest = z.infer<typeof EmotionManifest>;

/** A zod failure as one line per issue, each naming the field. */
export function describeManifestIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
}
