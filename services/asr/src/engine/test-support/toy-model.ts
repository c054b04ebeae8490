import type { ForwardModel } from "../batching/batcher.ts";
import type { ForwardResult } from "../model/acoustic-model.ts";

/**
 * A tiny deterministic CTC "model" for unit tests: output frame j is a log-softmax over `vocab` of sums
 * of input frames [2j − reach, 2j + reach] that lie inside the item's length, so it has the contract of
 * asr-en-telephony (subsampling 2, finite symmetric receptive field, padding masked) without ONNX.
 */
export class ToyCtcModel implements ForwardModel {
  /** Its frames are telephone frames (25 ms windows every 10 ms at 8 kHz), whatever their dim. */
  readonly spec: { features: { dim: number; frameShift: number; frameLength: number } };
  readonly calls: Array<{ batch: number; frames: number }> = [];
  readonly concurrentPasses: number;
  /** Most passes that were in flight at once. */
  peakInFlight = 0;
  #inFlight = 0;
  readonly #vocab: number;
  readonly #reach: number;

  constructor(dim: number, vocab: number, reach: number, concurrentPasses = 1) {
    this.spec = { features: { dim, frameShift: 80, frameLength: 200 } };
    this.#vocab = vocab;
    this.#reach = reach;
    this.concurrentPasses = concurrentPasses;
  }

  async forward(
    features: Float32Array,
    batch: number,
    frames: number,
    lengths: BigInt64Array,
  ): Promise<ForwardResult> {
    // Reads its inputs only after yielding, as onnxruntime-node does.
    this.peakInFlight = Math.max(this.peakInFlight, ++this.#inFlight);
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#inFlight--;
    this.calls.push({ batch, frames });
    const dim = this.spec.features.dim;
    const vocab = this.#vocab;
    const outFrames = Math.ceil(frames / 2);
    const logProbs = new Float32Array(batch * outFrames * vocab);
    const out = new Int32Array(batch);
    const scores = new Float64Array(vocab);
    for (let b = 0; b < batch; b++) {
      const length = Number(lengths[b]);
      out[b] = Math.floor(length / 2);
      for (let j = 0; j < outFrames; j++) {
        scores.fill(0);
        for (let t = Math.max(0, 2 * j - this.#reach); t <= Math.min(length - 1, 2 * j + this.#reach); t++) {
          for (let v = 0; v < vocab; v++)
            scores[v] = scores[v]! + features[(b * dim + ((v * 7) % dim)) * frames + t]! * 0.05;
        }
        let max = -Infinity;
        for (let v = 0; v < vocab; v++) max = Math.max(max, scores[v]!);
        let sum = 0;
        for (let v = 0; v < vocab; v++) sum += Math.exp(scores[v]! - max);
        for (let v = 0; v < vocab; v++)
          logProbs[(b * outFrames + j) * vocab + v] = scores[v]! - max - Math.log(sum);
      }
    }
    return { logProbs, frames: outFrames, vocab, lengths: out };
  }
}
