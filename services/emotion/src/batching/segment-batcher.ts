import { ResourceExhaustedError } from "@callscribe/errors";
import type { EmotionModel, EmotionScore, SegmentInput } from "../model/types.ts";

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Segments waiting, all requests together; beyond it submit() refuses with RESOURCE_EXHAUSTED. */
  maxQueued: number;
}

export interface BatcherObserver {
  queued?(depth: number): void;
  batch?(size: number, seconds: number): void;
}

interface Pending {
  input: SegmentInput;
  resolve: (score: EmotionScore) => void;
  reject: (err: unknown) => void;
}

/**
 * Dynamic batching of segments across requests: a batch runs when it is full or when its oldest
 * segment has waited `maxWaitMs`; one batch runs at a time. The queue is bounded, so load beyond the
 * model's pace is refused at once instead of piling up in memory.
 */
export class SegmentBatcher {
  readonly #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closed = false;

  constructor(
    readonly model: EmotionModel,
    readonly options: BatcherOptions,
    readonly observer: BatcherObserver = {},
  ) {}

  get depth(): number {
    return this.#queue.length;
  }

  submit(input: SegmentInput): Promise<EmotionScore> {
    if (this.#closed) return Promise.reject(new ResourceExhaustedError("the classifier is shutting down"));
    if (this.#queue.length >= this.options.maxQueued) {
      return Promise.reject(
        new ResourceExhaustedError(
          `${this.#queue.length} segments are waiting for the model (EMOTION_MAX_QUEUED_SEGMENTS); retry later or on another replica`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.observer.queued?.(this.#queue.length);
      this.#schedule();
    });
  }

  /** Refuses new segments and waits for the queued ones. */
  async drain(): Promise<void> {
    this.#closed = true;
    while (this.#queue.length > 0 || this.#running) await new Promise((r) => setTimeout(r, 5));
  }

  #schedule(): void {
    if (this.#running) return;
    if (this.#queue.length >= this.options.maxBatch || this.options.maxWaitMs === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#run();
    } else if (!this.#timer && this.#queue.length > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#run();
      }, this.options.maxWaitMs);
    }
  }

  async #run(): Promise<void> {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = true;
    const batch = this.#queue.splice(0, this.options.maxBatch);
    this.observer.queued?.(this.#queue.length);
    const started = performance.now();
    try {
      const scores = await this.model.classify(batch.map((p) => p.input));
      batch.forEach((p, i) => p.resolve(scores[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.observer.batch?.(batch.length, (performance.now() - started) / 1000);
      this.#running = false;
    }
    if (this.#queue.length > 0) {
      if (this.#queue.length >= this.options.maxBatch) void this.#run();
      else this.#schedule();
    }
  }
}
