/**
 * Samples of one stream indexed from the stream's start, of which only a recent window is kept.
 * Dropping old samples only moves a start index; storage is compacted (or doubled) when an append
 * runs out of room, so neither operation copies per call.
 */
export class AudioBuffer {
  #data: Float32Array;
  /** Absolute index of the first kept sample, and where it sits in #data. */
  #offset = 0;
  #base = 0;
  #length = 0;

  constructor(initial = 8192) {
    this.#data = new Float32Array(initial);
  }

  /** One past the last sample received. */
  get end(): number {
    return this.#offset + this.#length;
  }

  /** First sample still kept. */
  get start(): number {
    return this.#offset;
  }

  append(samples: Float32Array): void {
    if (this.#base + this.#length + samples.length > this.#data.length) {
      const needed = this.#length + samples.length;
      if (needed * 2 > this.#data.length) {
        const grown = new Float32Array(Math.max(needed * 2, this.#data.length * 2));
        grown.set(this.#data.subarray(this.#base, this.#base + this.#length));
        this.#data = grown;
      } else {
        this.#data.copyWithin(0, this.#base, this.#base + this.#length);
      }
      this.#base = 0;
    }
    this.#data.set(samples, this.#base + this.#length);
    this.#length += samples.length;
  }

  /** Samples [from, to) as a view, valid until the next append. */
  view(from: number, to: number): Float32Array {
    if (from < this.#offset || to > this.end || from > to) {
      throw new RangeError(`samples ${from}..${to} are outside the kept ${this.#offset}..${this.end}`);
    }
    return this.#data.subarray(this.#base + from - this.#offset, this.#base + to - this.#offset);
  }

  discardBefore(index: number): void {
    const drop = Math.min(Math.max(0, index - this.#offset), this.#length);
    this.#offset += drop;
    this.#base += drop;
    this.#length -= drop;
  }
}
