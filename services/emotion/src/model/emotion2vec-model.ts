import { join } from "node:path";
import { ModelLoadError } from "@callscribe/errors";
import { checkDeclaredAgainstSession, createSession, ort } from "@callscribe/onnx";
import { CIRCUMPLEX } from "../classes.ts";
import type { Emotion2vecManifest } from "./manifest.ts";
import type { EmotionModel, EmotionScore, LoadModelOptions, SegmentInput, SpeakerState } from "./types.ts";

const statelessSpeaker: SpeakerState = { kind: "none" };
const DRY_RUN_SAMPLES = 16000;

/**
 * An emotion2vec-style export: 16 kHz waveform in, logits over the 9 classes out, and an utterance
 * embedding where the graph has one. Arousal and valence are the class probabilities' expectation on
 * the circumplex. Segments of one batch are zero-padded to the longest; a model with a lengths input
 * learns each one's true length, one without it runs each segment alone so padding never changes a score.
 */
export async function loadEmotion2vecModel(
  manifest: Emotion2vecManifest,
  options: LoadModelOptions,
): Promise<EmotionModel> {
  const path = join(options.dir, manifest.file);
  const session = await createSession(path, path, {
    provider: options.provider,
    deviceId: options.deviceId,
    intraOpThreads: options.intraOpThreads ?? 1,
  });
  const label = `${options.dir}/manifest.json`;
  const problems: string[] = [];
  checkDeclaredAgainstSession(session, manifest.inputs, "input", problems);
  checkDeclaredAgainstSession(session, manifest.outputs, "output", problems);
  const waveform = manifest.inputs.find((i) => i.dtype === "float32");
  const lengths = manifest.inputs.find((i) => i.dtype === "int64" || i.dtype === "int32");
  if (!waveform) problems.push("inputs: no float32 waveform input [N, T] is declared");
  else if (waveform.shape.length !== 2)
    problems.push(`input "${waveform.name}" must have rank 2 [N, T], declared rank ${waveform.shape.length}`);
  const logitsSpec = manifest.outputs.find((o) => o.name === manifest.logitsOutput);
  if (!logitsSpec) problems.push(`logitsOutput "${manifest.logitsOutput}" is not among the declared outputs`);
  else if (logitsSpec.shape.length !== 2 || logitsSpec.shape[1] !== manifest.labels.length)
    problems.push(
      `output "${logitsSpec.name}" is declared [${logitsSpec.shape.join(", ")}], the ${manifest.labels.length} labels need [N, ${manifest.labels.length}]`,
    );
  if (manifest.embeddingOutput && !manifest.outputs.some((o) => o.name === manifest.embeddingOutput))
    problems.push(`embeddingOutput "${manifest.embeddingOutput}" is not among the declared outputs`);
  if (problems.length === 0) await dryRun(session, manifest, waveform!, lengths, problems);
  if (problems.length > 0) {
    await session.release();
    throw new ModelLoadError(`${label} does not match ${path}: ${problems.join("; ")}`);
  }

  const run = async (batch: readonly SegmentInput[]): Promise<EmotionScore[]> => {
    const longest = Math.max(...batch.map((s) => s.samples.length));
    const audio = new Float32Array(batch.length * longest);
    batch.forEach((s, i) => audio.set(s.samples, i * longest));
    const feeds: Record<string, ort.Tensor> = {
      [waveform!.name]: new ort.Tensor("float32", audio, [batch.length, longest]),
    };
    if (lengths)
      feeds[lengths.name] = lengthTensor(
        lengths.dtype,
        batch.map((s) => s.samples.length),
      );
    const out = await session.run(feeds);
    const logits = out[manifest.logitsOutput]!.data as Float32Array;
    const embedding = manifest.embeddingOutput
      ? (out[manifest.embeddingOutput]!.data as Float32Array)
      : undefined;
    const classes = manifest.labels.length;
    const dim = embedding ? embedding.length / batch.length : 0;
    return batch.map((_, i) =>
      scoreFromLogits(
        manifest.labels,
        logits.subarray(i * classes, (i + 1) * classes),
        embedding?.slice(i * dim, (i + 1) * dim),
      ),
    );
  };

  return {
    info: {
      name: manifest.name,
      version: manifest.version,
      task: "emotion2vec",
      labels: manifest.labels,
      provider: options.provider,
    },
    newSpeaker: () => statelessSpeaker,
    async classify(batch) {
      if (lengths) return run(batch);
      const results: EmotionScore[] = [];
      for (const segment of batch) results.push(...(await run([segment])));
      return results;
    },
    close: () => session.release(),
  };
}

function lengthTensor(dtype: string, values: number[]): ort.Tensor {
  return dtype === "int64"
    ? new ort.Tensor("int64", BigInt64Array.from(values.map((v) => BigInt(v))), [values.length])
    : new ort.Tensor("int32", Int32Array.from(values), [values.length]);
}

export function scoreFromLogits(
  labels: readonly string[],
  logits: Float32Array,
  embedding?: Float32Array,
): EmotionScore {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const scores = labels.map((label, i) => ({ label, score: exps[i]! / total }));
  let arousal = 0;
  let valence = 0;
  for (const { label, score } of scores) {
    arousal += score * (CIRCUMPLEX[label]?.arousal ?? 0);
    valence += score * (CIRCUMPLEX[label]?.valence ?? 0);
  }
  const best = scores.reduce((a, b) => (b.score > a.score ? b : a));
  return { label: best.label, scores, arousal, valence, ...(embedding ? { embedding } : {}) };
}

/** One second of silence through the graph: catches what symbolic dimensions hide. */
async function dryRun(
  session: ort.InferenceSession,
  manifest: Emotion2vecManifest,
  waveform: { name: string },
  lengths: { name: string; dtype: string } | undefined,
  problems: string[],
): Promise<void> {
  const feeds: Record<string, ort.Tensor> = {
    [waveform.name]: new ort.Tensor("float32", new Float32Array(2 * DRY_RUN_SAMPLES), [2, DRY_RUN_SAMPLES]),
  };
  if (lengths) feeds[lengths.name] = lengthTensor(lengths.dtype, [DRY_RUN_SAMPLES, DRY_RUN_SAMPLES / 2]);
  let out: ort.InferenceSession.OnnxValueMapType;
  try {
    out = await session.run(feeds);
  } catch (err) {
    problems.push(
      `a pass on 1 s of silence failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    );
    return;
  }
  const logits = out[manifest.logitsOutput]!;
  if (logits.dims.length !== 2 || logits.dims[0] !== 2 || logits.dims[1] !== manifest.labels.length)
    problems.push(
      `output "${manifest.logitsOutput}" is [${logits.dims.join(", ")}] for 2 segments, the ${manifest.labels.length} labels need [2, ${manifest.labels.length}]`,
    );
  if (manifest.embeddingOutput) {
    const embedding = out[manifest.embeddingOutput]!;
    const declared = manifest.outputs.find((o) => o.name === manifest.embeddingOutput)!;
    if (embedding.dims.length !== 2 || embedding.dims[0] !== 2)
      problems.push(
        `output "${manifest.embeddingOutput}" is [${embedding.dims.join(", ")}] for 2 segments, expected [2, dim]`,
      );
    else if (typeof declared.shape[1] === "number" && embedding.dims[1] !== declared.shape[1])
      problems.push(
        `output "${manifest.embeddingOutput}" has dim ${embedding.dims[1]}, declared ${declared.shape[1]}`,
      );
  }
}
