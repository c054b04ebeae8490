/**
 * Cuts a stream of 16 kHz audio into speech segments by frame energy, each at most `maxSegmentMs`
 * long. It holds at most one segment's samples (a preallocated buffer), whatever the stream's length.
 *
 * A frame is speech when it is louder than both an absolute floor and the tracked noise floor plus a
 * margin; a segment opens on speech (with a short pre-roll), closes after `hangoverMs` of silence or
 * when it reaches the maximum length, and is dropped when it holds less than `minSpeechMs` of speech.
 */
export interface SegmenterOptions {
  sampleRate: number;
  maxSegmentMs: number;
  frameMs?: number;
  hangoverMs?: number;
  prerollMs?: number;
  minSpeechMs?: number;
  floorDbfs?: number;
  marginDb?: number;
}

export interface Segment {
  startMs: number;
  endMs: number;
  samples: Float32Array;
}

export class EnergySegmenter {
  readonly #frame: number;
  readonly #buffer: Float32Array;
  readonly #partial: Float32Array;
  #partialLength = 0;
  #length = 0;
  /** Stream sample index of #buffer[0] while a segment is open. */
  #start = 0;
  #open = false;
  #speechFrames = 0;
  #silentRun = 0;
  /** Stream sample index of the next frame to classify. */
  #position = 0;
  #noiseDb = -70;
  readonly #pre: Float32Array;
  #preLength = 0;
  readonly #hangFrames: number;
  readonly #minSpeechFrames: number;
  readonly #floorDb: number;
  readonly #marginDb: number;

  constructor(readonly options: SegmenterOptions) {
    const rate = options.sampleRate;
    this.#frame = Math.round(((options.frameMs ?? 20) * rate) / 1000);
    this.#buffer = new Float32Array(Math.floor((options.maxSegmentMs * rate) / 1000));
    this.#partial = new Float32Array(this.#frame);
    this.#pre = new Float32Array(Math.round(((options.prerollMs ?? 200) * rate) / 1000));
    this.#hangFrames = Math.max(1, Math.round((options.hangoverMs ?? 500) / (options.frameMs ?? 20)));
    this.#minSpeechFrames = Math.max(1, Math.round((options.minSpeechMs ?? 300) / (options.frameMs ?? 20)));
    this.#floorDb = options.floorDbfs ?? -50;
    this.#marginDb = options.marginDb ?? 12;
  }

  /** Feeds samples; returns the segments that closed. */
  push(samples: Float32Array): Segment[] {
    const closed: Segment[] = [];
    let offset = 0;
    if (this.#partialLength > 0) {
      const take = Math.min(this.#frame - this.#partialLength, samples.length);
      this.#partial.set(samples.subarray(0, take), this.#partialLength);
      this.#partialLength += take;
      offset = take;
      if (this.#partialLength < this.#frame) return closed;
      this.#frame_(this.#partial, closed);
      this.#partialLength = 0;
    }
    while (offset + this.#frame <= samples.length) {
      this.#frame_(samples.subarray(offset, offset + this.#frame), closed);
      offset += this.#frame;
    }
    if (offset < samples.length) {
      this.#partial.set(samples.subarray(offset));
      this.#partialLength = samples.length - offset;
    }
    return closed;
  }

  /** Ends the stream: the open segment (if it holds enough speech) closes. */
  flush(): Segment[] {
    const closed: Segment[] = [];
    if (this.#partialLength > 0 && this.#open) this.#append(this.#partial.subarray(0, this.#partialLength));
    this.#partialLength = 0;
    this.#close(closed);
    return closed;
  }

  #frame_(frame: Float32Array, closed: Segment[]): void {
    let energy = 0;
    for (let i = 0; i < frame.length; i++) energy += frame[i]! * frame[i]!;
    const db = 10 * Math.log10(energy / frame.length + 1e-12);
    const speech = db > this.#floorDb && db > this.#noiseDb + this.#marginDb;
    // The noise floor follows quiet frames quickly and loud ones slowly (a time constant of about 20 s),
    // so speech without pauses stays speech while a steady loud background is learnt as noise.
    this.#noiseDb += (db < this.#noiseDb ? 0.2 : 0.001) * (db - this.#noiseDb);
    if (!this.#open) {
      if (speech) {
        this.#open = true;
        this.#length = 0;
        this.#start = this.#position - this.#preLength;
        this.#append(this.#pre.subarray(this.#pre.length - this.#preLength));
        this.#speechFrames = 0;
        this.#silentRun = 0;
      } else {
        this.#remember(frame);
      }
    }
    if (this.#open) {
      if (this.#length + frame.length > this.#buffer.length) this.#close(closed, true);
    }
    if (this.#open) {
      this.#append(frame);
      if (speech) {
        this.#speechFrames++;
        this.#silentRun = 0;
      } else if (++this.#silentRun >= this.#hangFrames) {
        this.#close(closed);
      }
    }
    this.#position += frame.length;
  }

  #append(samples: Float32Array): void {
    const room = this.#buffer.length - this.#length;
    const n = Math.min(room, samples.length);
    this.#buffer.set(samples.subarray(0, n), this.#length);
    this.#length += n;
  }

  #remember(frame: Float32Array): void {
    const pre = this.#pre;
    if (frame.length >= pre.length) {
      pre.set(frame.subarray(frame.length - pre.length));
      this.#preLength = pre.length;
      return;
    }
    const keep = Math.min(this.#preLength, pre.length - frame.length);
    pre.copyWithin(pre.length - keep - frame.length, pre.length - keep);
    pre.set(frame, pre.length - frame.length);
    this.#preLength = keep + frame.length;
  }

  /** `continues`: the segment was cut at the maximum length and speech goes on into a new one. */
  #close(closed: Segment[], continues = false): void {
    if (!this.#open) return;
    const rate = this.options.sampleRate;
    // Trailing silence (the hangover) is not part of the speech.
    const trailing = continues ? 0 : Math.min(this.#length, this.#silentRun * this.#frame);
    const length = this.#length - trailing;
    if (this.#speechFrames >= this.#minSpeechFrames && length > 0) {
      closed.push({
        startMs: Math.round((this.#start / rate) * 1000),
        endMs: Math.round(((this.#start + length) / rate) * 1000),
        samples: this.#buffer.slice(0, length),
      });
    }
    this.#preLength = 0;
    if (continues) {
      this.#start += this.#length;
      this.#length = 0;
      this.#speechFrames = 0;
      this.#silentRun = 0;
      return;
    }
    this.#open = false;
    this.#length = 0;
  }
}
