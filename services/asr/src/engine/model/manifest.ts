import { z } from "zod";

/**
 * The model contract: `manifest.json` beside the ONNX files. Field names follow the training recipe in
 * models/recipes/asr. Unknown fields are kept (provenance is free-form) so a newer manifest still loads.
 */

const dimension = z.union([z.number().int().nonnegative(), z.string().min(1)]);

export const TensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.enum(["float32", "int64", "int32", "float16"]),
  shape: z.array(dimension),
});
export type TensorSpec = z.infer<typeof TensorSpec>;

/**
 * Sample scale before framing: a number, or the recipe's description "int16 / 32768 …" (samples in
 * [-1, 1), scale 1). 32768 means the extractor sees raw PCM16 values (WeNet-style models).
 */
const SampleScale = z.union([z.number().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  if (/^\s*int16\s*\/\s*32768/.test(value)) return 1;
  if (/^\s*int16\s*$/.test(value)) return 32768;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: `sampleScale ${JSON.stringify(value)} is neither a number nor "int16 / 32768"`,
  });
  return z.NEVER;
});

export const FeatureSpec = z.object({
  type: z.enum(["log-mel-fbank", "fbank", "log-mel"]),
  dim: z.number().int().positive(),
  windowMs: z.number().positive(),
  hopMs: z.number().positive(),
  /** Optional cross-checks of windowMs / hopMs at the model's sample rate. */
  windowSamples: z.number().int().positive().optional(),
  hopSamples: z.number().int().positive().optional(),
  nFft: z.number().int().positive(),
  window: z.enum(["hann", "hamming", "povey", "rectangular"]),
  /** Hann only: periodic (2πi/N, torch and knf's "hann") or symmetric (2πi/(N-1)). */
  windowPeriodic: z.boolean().default(true),
  sampleScale: SampleScale.default(1),
  preemphasis: z.number().min(0).max(1),
  dither: z.number().min(0),
  removeDcOffset: z.boolean(),
  melLowHz: z.number().nonnegative().default(0),
  /** 0 (or negative, Kaldi style: Nyquist + value) means the Nyquist frequency. */
  melHighHz: z.number().default(0),
  melBins: z.number().int().positive().optional(),
  melScale: z.enum(["slaney", "htk"]).default("slaney"),
  melNorm: z.enum(["slaney", "none"]).default("slaney"),
  logFloor: z.number().positive(),
  log: z.literal("natural").default("natural"),
  /** Kaldi snip_edges: true drops partial frames; false centres frames and reflects at the edges. */
  snipEdges: z.boolean(),
  /** librosa-style centre padding is not what Kaldi/knf do; only false is implemented. */
  centerPadding: z.literal(false).default(false),
  /** Where normalisation happens: in the graph (nothing to do here) or per utterance in TypeScript. */
  normalization: z.enum(["global-in-graph", "none", "per_feature"]).default("global-in-graph"),
});
export type FeatureSpec = z.infer<typeof FeatureSpec>;
export type FeatureSpecInput = z.input<typeof FeatureSpec>;

/**
 * A cache-aware streaming graph (the sherpa-onnx online NeMo CTC layout): features and length in, plus
 * state tensors that carry each layer's cache from one window to the next; log-probs, their length and
 * the next states out. `states` pairs every state input with the output that replaces it.
 */
export const StreamingSpec = z.object({
  type: z.literal("cache-aware"),
  files: z.object({ fp32: z.string().min(1), int8: z.string().min(1).optional() }),
  inputs: z.array(TensorSpec).min(3),
  outputs: z.array(TensorSpec).min(3),
  states: z.array(z.object({ input: z.string().min(1), output: z.string().min(1) })).min(1),
  /** Frames each window reads beyond the frames it advances (right context); 0 for a causal model. */
  lookaheadFrames: z.number().int().nonnegative().default(0),
  /** Frames per window when the model needs exactly that many (sherpa-onnx's window_size); else any. */
  windowFrames: z.number().int().positive().optional(),
});
export type StreamingSpec = z.infer<typeof StreamingSpec>;

const Sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, "a sha256 is 64 hex digits");

/**
 * The word LM and lexicon the decoder uses with this model (files in the model folder). A manifest
 * whose `decoding` is only a description (a string) has none: greedy and beam decoding only.
 */
export const DecodingSpec = z
  .object({
    description: z.string().optional(),
    lm: z
      .object({
        path: z.string().min(1),
        /** callscribe-ngram (the recipe's binary), arpa (KenLM, SRILM), sphinx-trie (CMU Sphinx .lm.bin). */
        format: z.enum(["callscribe-ngram", "arpa", "sphinx-trie"]),
        order: z.number().int().min(1).max(9),
        vocabularySize: z.number().int().positive().optional(),
        sha256: Sha256.optional(),
      })
      .passthrough(),
    lexicon: z
      .object({
        path: z.string().min(1),
        words: z.number().int().positive().optional(),
        sha256: Sha256.optional(),
        /** Lexicon words the LM does not know: refused at load, or scored as the LM's <unk>. */
        outOfVocabulary: z.enum(["refuse", "unk"]).default("refuse"),
      })
      .passthrough(),
  })
  .passthrough();
export type DecodingSpec = z.infer<typeof DecodingSpec>;

export const Manifest = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    task: z.literal("asr-ctc"),
    language: z.string().min(1),
    sampleRate: z.number().int().positive(),
    features: FeatureSpec,
    inputs: z.array(TensorSpec).length(2),
    outputs: z.array(TensorSpec).min(1),
    vocabulary: z.object({
      file: z.string().min(1),
      size: z.number().int().positive(),
      blankId: z.number().int().nonnegative(),
      spaceToken: z.string().min(1),
      /** Optional copy of tokens.txt; checked against it when present. */
      tokens: z.array(z.string()).optional(),
    }),
    subsampling: z.number().int().positive(),
    receptiveField: z
      .object({
        left: z.number().int().nonnegative(),
        right: z.number().int().nonnegative(),
        unit: z.literal("input-frames"),
      })
      .nullable()
      .optional(),
    files: z.object({
      fp32: z.string().min(1),
      int8: z.string().min(1).optional(),
      tokens: z.string().optional(),
    }),
    /** Present when the model also ships a cache-aware streaming graph; the engine then streams with it. */
    streaming: StreamingSpec.optional(),
    /** The word LM and lexicon for LM decoding, or a description of the decoding (greedy only). */
    decoding: z.union([z.string(), DecodingSpec]).optional(),
    executionProviders: z.array(z.string()).default(["cpu"]),
    provenance: z.unknown().optional(),
  })
  .passthrough();
export type Manifest = z.infer<typeof Manifest>;

/** A zod failure as one line per issue, each naming the field. */
export function describeManifestIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
}
