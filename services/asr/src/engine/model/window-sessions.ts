/**
 * Sessions for one stream's window. A cache-aware graph's passes of a single stream are what a hotline at
 * low load runs, one window after another, and every one has the same shape: a batch of one, the window's
 * frames (or their samples), the states. With those shapes fixed in the graph (fixed-shapes.ts) onnxruntime
 * folds the operators that compute shapes at load, and a pass of a 240 ms window takes about 6 % less
 * (bench/asr/window-sessions.ts). The loader opens one for each window length the engine streams with, on
 * the calling thread like the small-pass sessions, and checks each against the graph's own session.
 */
import type { Logger } from "pino";
import { ModelLoadError } from "@callscribe/errors";
import type { InferenceRunner } from "../inference/inference-thread.ts";
import { FbankExtractor } from "../features/fbank.ts";
import {
  type AcousticModel,
  allocateState,
  cacheAwareWindow,
  framesIn,
  releaseAll,
  type AcousticModelSpec,
  type ForwardResult,
  type StateValue,
} from "./acoustic-model.ts";
import { FRAME_MASK_INPUT, SAMPLES_INPUT } from "./feature-front-end.ts";
import { firstDisagreement, testAudio } from "./front-end-sessions.ts";
import { FixedShapeError, withFixedInputShapes } from "./fixed-shapes.ts";
import { createSession, type SessionPlacement } from "@callscribe/onnx";

/** Window sessions' outputs may differ from the graph's own session's by this much (float rounding). */
const AGREEMENT_TOLERANCE = 1e-4;

/** The shape of every input of a pass of one stream's window of `frames` input frames. */
export function windowInputShapes(
  spec: AcousticModelSpec,
  frames: number,
  takesSamples: boolean,
): Record<string, number[]> {
  const { dim, frameShift, frameLength } = spec.features;
  const shapes: Record<string, number[]> = { [spec.lengthInput]: [1] };
  if (takesSamples) {
    shapes[SAMPLES_INPUT] = [1, 1, (frames - 1) * frameShift + frameLength];
    shapes[FRAME_MASK_INPUT] = [1, 1, frames];
  } else {
    shapes[spec.featureInput] = [1, dim, frames];
  }
  for (const state of spec.cacheAware?.states ?? []) shapes[state.input] = [1, ...state.itemShape];
  return shapes;
}

/**
 * Opens `graph` (the model's, or with the front end when `takesSamples`) once for each window length in
 * `windows` with its inputs fixed to that window's shapes. Throws FixedShapeError when the graph has inputs
 * other than a window pass's, ModelLoadError when onnxruntime cannot open it.
 */
export async function openWindowSessions(
  label: string,
  graph: Uint8Array,
  spec: AcousticModelSpec,
  windows: readonly number[],
  takesSamples: boolean,
  placement: SessionPlacement,
): Promise<Map<number, InferenceRunner>> {
  const sessions = new Map<number, InferenceRunner>();
  try {
    for (const frames of new Set(windows)) {
      const fixed = withFixedInputShapes(graph, windowInputShapes(spec, frames, takesSamples));
      const what = `${label} (for one stream's window of ${frames} frames)`;
      // Quiet: onnxruntime warns about every constant its folding leaves unused in a graph built here.
      sessions.set(frames, await createSession(what, fixed, { ...placement, logSeverityLevel: 3 }));
    }
  } catch (err) {
    await releaseAll(sessions);
    throw err;
  }
  return sessions;
}

/**
 * Checks each of `model`'s window sessions against the session the same pass runs on without it: two
 * chained windows of test audio from zero states, log-probs and next states within AGREEMENT_TOLERANCE.
 * Describes the first disagreement, or returns null.
 */
export async function windowSessionDisagreement(model: AcousticModel): Promise<string | null> {
  const general = model.withWindowSessionsOf(new Map());
  const { features, cacheAware } = model.spec;
  if (!cacheAware) return null;
  const extractor = new FbankExtractor(features);
  for (const frames of model.windowSessions.keys()) {
    const perItem = (frames - 1) * features.frameShift + features.frameLength;
    const states = new Map<AcousticModel, StateValue[]>(
      [model, general].map((m) => [m, cacheAware.states.map((s) => allocateState(s, 1))]),
    );
    const featuresOf = (samples: Float32Array) => {
      const out = new Float32Array(features.dim * frames);
      extractor.computeFrames(samples, 0, frames, out, 0, frames);
      return out;
    };
    for (let window = 0; window < 2; window++) {
      const samples = testAudio(perItem, features.sampleRate).map((x) => x * (1 + window));
      const lengths = BigInt64Array.of(BigInt(frames));
      const results = new Map<AcousticModel, ForwardResult>();
      for (const m of [model, general]) {
        const result = m.takesSamples
          ? await m.forwardSamples(
              { samples, samplesPerItem: perItem, validFrames: Int32Array.of(frames) },
              1,
              frames,
              lengths,
              states.get(m),
            )
          : await m.forward(featuresOf(samples), 1, frames, lengths, states.get(m));
        // Copies: the next pass may overwrite what a pass returns.
        results.set(m, {
          ...result,
          logProbs: result.logProbs.slice(),
          states: result.states?.map((s) => s.slice()),
        });
        states.set(m, results.get(m)!.states!);
      }
      const got = results.get(model)!;
      const want = results.get(general)!;
      const compared: Array<[string, ArrayLike<number | bigint>, ArrayLike<number | bigint>]> = [
        ["log-prob", got.logProbs, want.logProbs],
        ...cacheAware.states.map((s, i): [string, StateValue, StateValue] => [
          `state ${s.output}`,
          got.states![i]!,
          want.states![i]!,
        ]),
      ];
      for (const [what, a, b] of compared) {
        if (a.length !== b.length)
          return `window of ${frames} frames: ${a.length} ${what} values, ${b.length} without its window session`;
        const i = firstDisagreement(a, b, AGREEMENT_TOLERANCE);
        if (i >= 0)
          return `window ${window + 1} of ${frames} frames: ${what} value ${i} is ${Number(a[i])}, ${Number(b[i])} without its window session`;
      }
    }
  }
  return null;
}

/**
 * `model` with window sessions of `graph` for the windows the engine streams with, each `chunkMs` long:
 * `model` itself when it is not a cache-aware CPU model, or, with a warning in the log, when a window
 * session cannot be opened or does not agree with the graph's own session (its passes then run as any
 * other small pass).
 */
export async function withWindowSessions(
  model: AcousticModel,
  label: string,
  graph: () => Uint8Array,
  chunkMs: readonly number[],
  placement: SessionPlacement,
  logger: Logger,
): Promise<AcousticModel> {
  const { spec } = model;
  if (!spec.cacheAware || placement.provider !== "cpu" || chunkMs.length === 0) return model;
  const windows = chunkMs.map((ms) => cacheAwareWindow(spec, framesIn(spec, ms)).window);
  let sessions: Map<number, InferenceRunner>;
  try {
    sessions = await openWindowSessions(label, graph(), spec, windows, model.takesSamples, placement);
  } catch (err) {
    if (!(err instanceof FixedShapeError || err instanceof ModelLoadError)) throw err;
    logger.warn(
      { model: spec.name, err: err.message },
      "no window sessions: passes of one stream run as any other",
    );
    return model;
  }
  const specialised = model.withWindowSessionsOf(sessions);
  let disagreement: string | null;
  try {
    disagreement = await windowSessionDisagreement(specialised);
  } catch (err) {
    await releaseAll(sessions);
    throw err;
  }
  if (disagreement) {
    await releaseAll(sessions);
    logger.warn(
      { model: spec.name, disagreement },
      "a window session does not agree with the model's own session; passes of one stream run as any other",
    );
    return model;
  }
  return specialised;
}
