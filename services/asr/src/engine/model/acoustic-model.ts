import type { FbankConfig } from "../features/fbank.ts";
import type { AsrModel, ModelInfo } from "../types.ts";
import { ort } from "./session.ts";
import type { Vocabulary } from "./vocabulary.ts";

/** Everything the engine needs to know about a loaded CTC model, validated against its session. */
export interface AcousticModelSpec {
  name: string;
  version: string;
  language: string;
  sampleRate: number;
  features: FbankConfig;
  /** Per-utterance feature normalisation done in TypeScript ("" when the graph normalises). */
  normalize: "" | "per_feature";
  featureInput: string;
  lengthInput: string;
  logProbOutput: string;
  /** Output with the valid output length of each batch item, when the graph has one. */
  lengthOutput: string | null;
  vocabulary: Vocabulary;
  subsampling: number;
  /** One-sided receptive field in input frames; null when unknown (published models). */
  receptiveField: { left: number; right: number } | null;
}

export interface ForwardResult {
  /** [batch, frames, vocab] log-probabilities. */
  logProbs: Float32Array;
  frames: number;
  vocab: number;
  /** Valid output frames per batch item. */
  lengths: Int32Array;
}

/**
 * One ONNX CTC model on one execution provider. forward() is the only place a session runs; callers
 * (the batcher) keep at most one call in flight, since onnxruntime-node runs a session synchronously
 * on the calling thread with its own intra-op pool.
 */
export class AcousticModel implements AsrModel {
  readonly info: ModelInfo;
  readonly spec: AcousticModelSpec;
  readonly session: ort.InferenceSession;
  #closed = false;

  constructor(info: ModelInfo, spec: AcousticModelSpec, session: ort.InferenceSession) {
    this.info = info;
    this.spec = spec;
    this.session = session;
  }

  /** features: [batch, dim, frames] (the layout the graph takes), lengths in input frames. */
  async forward(
    features: Float32Array,
    batch: number,
    frames: number,
    lengths: BigInt64Array,
  ): Promise<ForwardResult> {
    if (this.#closed) throw new Error(`model ${this.spec.name} is closed`);
    const dim = this.spec.features.dim;
    const feeds: Record<string, ort.Tensor> = {
      [this.spec.featureInput]: new ort.Tensor("float32", features.subarray(0, batch * dim * frames), [
        batch,
        dim,
        frames,
      ]),
      [this.spec.lengthInput]: new ort.Tensor("int64", lengths.subarray(0, batch), [batch]),
    };
    const outputs = await this.session.run(feeds);
    const logProbs = outputs[this.spec.logProbOutput]!;
    const [, outFrames, vocab] = logProbs.dims as [number, number, number];
    const result = new Int32Array(batch);
    const lengthTensor = this.spec.lengthOutput ? outputs[this.spec.lengthOutput] : undefined;
    if (lengthTensor) {
      const data = lengthTensor.data as BigInt64Array;
      for (let b = 0; b < batch; b++) result[b] = Math.min(Number(data[b]), outFrames);
    } else {
      for (let b = 0; b < batch; b++)
        result[b] = Math.min(Math.floor(Number(lengths[b]) / this.spec.subsampling), outFrames);
    }
    return { logProbs: logProbs.data as Float32Array, frames: outFrames, vocab, lengths: result };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.session.release();
  }
}
