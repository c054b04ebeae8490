import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLoadError } from "@callscribe/errors";
import { FbankExtractor, computeFbank } from "../engine/features/fbank.ts";
import { describeManifestIssues, type TensorSpec } from "../engine/model/manifest.ts";
import { checkDeclaredAgainstSession, resolveFeatures } from "../engine/model/load.ts";
import { createSession, ort } from "@callscribe/onnx";
import type { ExecutionProvider } from "../engine/types.ts";
import { LanguageManifest, type LanguageLabel } from "./manifest.ts";

export interface LoadLanguageModelOptions {
  dir: string;
  provider: ExecutionProvider;
  deviceId?: number;
  intraOpThreads?: number;
}

/** A loaded language-identification model: one utterance in, log-posteriors over its labels out. */
export interface LanguageIdModel {
  readonly manifest: LanguageManifest;
  readonly labels: readonly LanguageLabel[];
  readonly sampleRate: number;
  /** Log-posteriors over `labels` of one utterance (samples in [-1, 1) at `sampleRate`). */
  classify(samples: Float32Array): Promise<Float32Array>;
  close(): Promise<void>;
}

const DRY_RUN_FRAMES = 120;

/**
 * Loads a language-ID model folder. Every declared input and output is checked against the graph
 * (name, type, rank, each fixed dimension), the output width against the labels, and a forward pass on
 * silence against the declared shapes; any disagreement is a ModelLoadError naming it.
 */
export async function loadLanguageModel(options: LoadLanguageModelOptions): Promise<LanguageIdModel> {
  const { dir } = options;
  const manifestPath = join(dir, "manifest.json");
  if (!existsSync(manifestPath))
    throw new ModelLoadError(
      `${dir}: no manifest.json; point the language model setting at a language-id model folder`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (cause) {
    throw new ModelLoadError(`${manifestPath} is not valid JSON; fix or replace the model folder`, { cause });
  }
  const parsed = LanguageManifest.safeParse(json);
  if (!parsed.success) throw new ModelLoadError(`${manifestPath}: ${describeManifestIssues(parsed.error)}`);
  const manifest = parsed.data;
  const label = `language model ${manifest.name} (${dir})`;
  const problems: string[] = [];

  let fbank;
  try {
    // The normalisation happens in the graph; the extractor only needs the framing and filterbank.
    const features = { ...manifest.features, normalization: "none" as const };
    fbank = new FbankExtractor(resolveFeatures(features, manifest.sampleRate));
  } catch (err) {
    throw new ModelLoadError(`${label}: features: ${err instanceof Error ? err.message : String(err)}`);
  }
  const [input] = manifest.inputs as [TensorSpec];
  const [output] = manifest.outputs as [TensorSpec];
  if (input.shape.length !== 3 || input.shape[2] !== manifest.features.dim)
    problems.push(
      `input "${input.name}" is declared [${input.shape.join(", ")}]; features [N, T, ${manifest.features.dim}] need rank 3 with dim 2 = ${manifest.features.dim}`,
    );
  if (output.shape.length !== 2 || output.shape[1] !== manifest.labels.length)
    problems.push(
      `output "${output.name}" is declared [${output.shape.join(", ")}]; ${manifest.labels.length} labels need [N, ${manifest.labels.length}]`,
    );
  if (problems.length > 0) throw new ModelLoadError(`${label}: ${problems.join("; ")}`);

  const modelPath = join(dir, manifest.files.fp32);
  if (!existsSync(modelPath))
    throw new ModelLoadError(`${label}: ${manifest.files.fp32} is missing from the folder`);
  const session = await createSession(label, modelPath, {
    provider: options.provider,
    ...(options.deviceId !== undefined ? { deviceId: options.deviceId } : {}),
    intraOpThreads: options.intraOpThreads ?? 1,
  });
  checkDeclaredAgainstSession(session, [input], "input", problems);
  checkDeclaredAgainstSession(session, [output], "output", problems);
  if (problems.length === 0) await dryRun(session, manifest, input, output, problems);
  if (problems.length > 0) {
    await session.release();
    throw new ModelLoadError(
      `${label}: the manifest disagrees with ${manifest.files.fp32}: ${problems.join("; ")}`,
    );
  }

  const dim = manifest.features.dim;
  return {
    manifest,
    labels: manifest.labels,
    sampleRate: manifest.sampleRate,
    async classify(samples) {
      const { frames, data } = computeFbank(fbank, samples);
      if (frames === 0) throw new RangeError("no audio to classify");
      const result = await session.run({ [input.name]: new ort.Tensor("float32", data, [1, frames, dim]) });
      const out = result[output.name];
      if (!out) throw new Error(`the language model returned no "${output.name}"`);
      return Float32Array.from(out.data as Float32Array);
    },
    close: () => session.release(),
  };
}

/** Symbolic dimensions hide the real output width; one pass on silence shows it. */
async function dryRun(
  session: ort.InferenceSession,
  manifest: LanguageManifest,
  input: TensorSpec,
  output: TensorSpec,
  problems: string[],
): Promise<void> {
  const dim = manifest.features.dim;
  const silence = new Float32Array(DRY_RUN_FRAMES * dim).fill(Math.log(manifest.features.logFloor));
  let out;
  try {
    const result = await session.run({
      [input.name]: new ort.Tensor("float32", silence, [1, DRY_RUN_FRAMES, dim]),
    });
    out = result[output.name];
  } catch (err) {
    problems.push(
      `a forward pass on ${DRY_RUN_FRAMES} frames of silence failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    );
    return;
  }
  if (!out) {
    problems.push(`output "${output.name}" missing from a forward pass`);
    return;
  }
  const width = out.dims[out.dims.length - 1];
  if (out.dims.length !== 2 || width !== manifest.labels.length) {
    problems.push(
      `output "${output.name}" is [${out.dims.join(", ")}] for one utterance; the manifest lists ${manifest.labels.length} labels`,
    );
    return;
  }
  const values = out.data as Float32Array;
  const max = Math.max(...values);
  const logSum = max + Math.log(values.reduce((s, v) => s + Math.exp(v - max), 0));
  if (!(Math.abs(logSum) < 1e-3))
    problems.push(
      `output "${output.name}" is not log-probabilities (log-sum-exp ${logSum.toFixed(4)}); the graph must end with log_softmax`,
    );
}
