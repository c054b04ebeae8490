/**
 * Opening a model's graph with the feature front end (feature-front-end.ts) beside its own sessions, and
 * the check at load that passes from audio give what passes from the extractor's features give.
 */
import { readFileSync } from "node:fs";
import { FbankExtractor, type FbankConfig } from "../features/fbank.ts";
import type { ThreadSession } from "../inference/inference-thread.ts";
import {
  SMALL_PASS_BATCH,
  allocateState,
  type AcousticModel,
  type FrontEndSessions,
} from "./acoustic-model.ts";
import {
  FRAME_MASK_INPUT,
  SAMPLES_INPUT,
  featureFrontEndModel,
  withFeatureFrontEnd,
} from "./feature-front-end.ts";
import { createSession, ort, type SessionPlacement } from "@callscribe/onnx";

/**
 * The front end's log-mel values may differ from the extractor's by this much, relative to the value (at
 * least 1): float32 products against the extractor's double-precision FFT (5.7e-5 on the recipe's reference
 * recording, features.test.ts).
 */
const AGREEMENT_TOLERANCE = 1e-4;

/**
 * The graph with the front end (returned with its sessions, for others opened later), opened on the
 * inference thread that holds the model's session and, for small passes, on the calling thread where
 * `smallPassPlacement` says so; null when the graph cannot take a front end (withFeatureFrontEnd).
 */
export async function openFrontEnd(
  label: string,
  modelPath: string,
  featureInput: string,
  features: FbankConfig,
  thread: ThreadSession,
  placement: SessionPlacement,
  smallPassPlacement: SessionPlacement | null,
): Promise<{ sessions: FrontEndSessions; graph: Uint8Array } | null> {
  const graph = withFeatureFrontEnd(readFileSync(modelPath), featureInput, features);
  if (!graph) return null;
  const what = `${label} (with its feature front end)`;
  // Quiet: onnxruntime warns about every constant its folding leaves unused in a graph built here.
  const session = await thread.thread.open(what, graph, { ...placement, logSeverityLevel: 3 });
  try {
    const smallPassSession = smallPassPlacement
      ? await createSession(what, graph, { ...smallPassPlacement, logSeverityLevel: 3 })
      : null;
    return { sessions: { session, smallPassSession }, graph };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/**
 * Checks the front end where the model runs: its features of test audio against the extractor's, on a
 * session of the front end alone with the model's placement, and a pass from audio against a pass from
 * features for the shapes of their outputs, at a batch size for each session that passes from audio use.
 * Describes the first disagreement, or returns null. (The outputs' values are not compared: an INT8 graph
 * quantises activations in fixed steps, and a difference far below the tolerance can cross one.)
 */
export async function frontEndDisagreement(
  model: AcousticModel,
  frames: number,
  placement: SessionPlacement,
): Promise<string | null> {
  const { features, cacheAware } = model.spec;
  const perItem = (frames - 1) * features.frameShift + features.frameLength;
  const extractor = new FbankExtractor(features);
  const alone = await createSession("the feature front end", featureFrontEndModel(features), {
    ...placement,
    intraOpThreads: 1,
  });
  try {
    for (const batch of [1, SMALL_PASS_BATCH + 1]) {
      const samples = testAudio(batch * perItem, features.sampleRate);
      const want = new Float32Array(batch * features.dim * frames);
      for (let b = 0; b < batch; b++)
        extractor.computeFrames(samples, b * perItem, frames, want, b * features.dim * frames, frames);
      const out = await alone.run({
        [SAMPLES_INPUT]: new ort.Tensor("float32", samples, [batch, 1, perItem]),
        [FRAME_MASK_INPUT]: new ort.Tensor("float32", new Float32Array(batch * frames).fill(1), [
          batch,
          1,
          frames,
        ]),
      });
      const got = out.features!.data as Float32Array;
      const i = firstDisagreement(got, want, AGREEMENT_TOLERANCE);
      if (i >= 0)
        return `log-mel value ${i} of a batch of ${batch}: ${got[i]} from the front end, ${want[i]} from the extractor`;
      const lengths = new BigInt64Array(batch).fill(BigInt(frames));
      // Fresh (zero) states for every stream of the batch.
      const states = () => cacheAware?.states.map((s) => allocateState(s, batch));
      const fromFeatures = await model.forward(want, batch, frames, lengths, states());
      const fromAudio = await model.forwardSamples(
        { samples, samplesPerItem: perItem, validFrames: new Int32Array(batch).fill(frames) },
        batch,
        frames,
        lengths,
        states(),
      );
      const shape = (r: typeof fromAudio) => `${r.frames} frames of ${r.vocab}, valid ${r.lengths.join(",")}`;
      if (
        shape(fromAudio) !== shape(fromFeatures) ||
        fromAudio.logProbs.length !== fromFeatures.logProbs.length
      )
        return `a pass of a batch of ${batch} from audio gave ${shape(fromAudio)}, from features ${shape(fromFeatures)}`;
    }
  } finally {
    await alone.release();
  }
  return null;
}

/**
 * The first index at which `got` differs from `want` by more than `tolerance` relative to the wanted value
 * (at least 1), or -1 when every value agrees. Both hold the same number of values.
 */
export function firstDisagreement(
  got: ArrayLike<number | bigint>,
  want: ArrayLike<number | bigint>,
  tolerance: number,
): number {
  for (let i = 0; i < want.length; i++) {
    const x = Number(got[i]);
    const y = Number(want[i]);
    if (!(Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(y)))) return i;
  }
  return -1;
}

/** Speech-band test audio: two gliding tones under a syllable-rate envelope, and low noise. */
export function testAudio(length: number, sampleRate: number): Float32Array {
  const x = new Float32Array(length);
  let seed = 12345;
  for (let i = 0; i < length; i++) {
    seed = (seed * 1664525 + 1013904223) % 2 ** 32;
    const t = i / sampleRate;
    const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    const tone =
      Math.sin(2 * Math.PI * (300 + 400 * t) * t) + 0.5 * Math.sin(2 * Math.PI * (1200 - 300 * t) * t);
    x[i] = 0.25 * envelope * tone + 0.005 * (seed / 2 ** 32 - 0.5);
  }
  return x;
}
