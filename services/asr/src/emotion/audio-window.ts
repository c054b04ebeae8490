/**
 * The last `seconds` of one leg's audio, so an utterance's samples can be sent for its emotion when
 * the recogniser finalises it (a little after its audio went in). A fixed ring: memory does not
 * depend on the call's length.
 */
export class LegAudioWindow {
  readonly #ring: Int16Array;
  /** Samples pushed since the leg started. */
  #total = 0;

  constructor(
    readonly sampleRate: number,
    seconds: number,
  ) {
    this.#ring = new Int16Array(Math.ceil(sampleRate * seconds));
  }

  push(pcm: Int16Array): void {
    const ring = this.#ring;
    let offset = Math.max(0, pcm.length - ring.length);
    while (offset < pcm.length) {
      const at = (this.#total + offset) % ring.length;
      const n = Math.min(pcm.length - offset, ring.length - at);
      ring.set(pcm.subarray(offset, offset + n), at);
      offset += n;
    }
    this.#total += pcm.length;
  }

  /**
   * A copy of the audio from `startMs` to `endMs` (leg time), at most `maxMs` long (the start is moved
   * up), and only what the window still holds; null when none of it is left.
   */
  slice(startMs: number, endMs: number, maxMs: number): Int16Array | null {
    const ring = this.#ring;
    const oldest = Math.max(0, this.#total - ring.length);
    const end = Math.min(this.#total, Math.round((endMs * this.sampleRate) / 1000));
    let start = Math.max(oldest, Math.round((startMs * this.sampleRate) / 1000));
    start = Math.max(start, end - Math.floor((maxMs * this.sampleRate) / 1000));
    if (end <= start) return null;
    const out = new Int16Array(end - start);
    for (let i = 0; i < out.length;) {
      const at = (start + i) % ring.length;
      const n = Math.min(out.length - i, ring.length - at);
      out.set(ring.subarray(at, at + n), i);
      i += n;
    }
    return out;
  }
}
