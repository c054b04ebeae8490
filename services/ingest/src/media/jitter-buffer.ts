// Playout of one RTP source into contiguous PCM frames. Pure and time-injected: the caller passes the
// arrival time with each packet and calls poll(now) on a timer, so tests drive it deterministically.
//
// A recorder wants every sample and little delay, so playout is driven by the data, not by a clock: a
// packet is played as soon as every packet before it is in. Only a hole waits, for at most `delayMs`
// after the first packet behind it arrived (or until the audio buffered behind it is longer than that);
// then the hole is declared lost and concealed. The output timeline follows the RTP timestamps: holes in
// the timestamps without missing sequence numbers (silence suppression, RFC 4733 events in between) are
// filled with silence, so the PCM keeps the duration of the call.

export interface JitterPacket {
  seq: number;
  timestamp: number;
  ssrc: number;
  /** Encoded payload (decoded at playout, in order, because ADPCM decoders carry state). */
  payload: Uint8Array;
  /** False for packets that share the sequence space but carry no audio (RFC 4733 events). */
  audio: boolean;
}

export interface JitterBufferOptions {
  /** RTP clock rate of the payload (8000 for PCMU, PCMA and G.722). */
  clockRate: number;
  /** Rate of the decoded PCM (16000 for G.722). */
  sampleRate: number;
  frameMs: number;
  /** How long a hole waits for its packet. */
  delayMs: number;
  concealment: "silence" | "repeat";
  /** Decodes one payload into `out` (a scratch buffer shared by every buffer); returns the sample count. */
  decode: (payload: Uint8Array, out: Int16Array<ArrayBuffer>) => number;
  /** Receives each full frame; the array is handed over (not reused). */
  onFrame: (frame: Int16Array, captureMs: number) => void;
  /** A timestamp gap up to this long is filled with silence; a longer one (or a backwards jump) restarts the timeline. Default 10000. */
  maxGapFillMs?: number;
  /** Packets the reorder ring holds; a power of two. Default 1024. */
  capacity?: number;
  /** A sequence jump larger than this (either way) is taken as a restart only when the next packet follows it. Default 500. */
  maxSeqJump?: number;
}

export interface JitterBufferStats {
  /** Packets accepted into the buffer (audio and events). */
  received: number;
  duplicates: number;
  /** Arrived after their slot was played or concealed. */
  late: number;
  /** Arrived after a packet with a higher sequence number, still in time. */
  reordered: number;
  /** Sequence numbers declared lost. */
  lost: number;
  concealedSamples: number;
  /** Silence inserted for timestamp gaps without loss (silence suppression, DTMF). */
  silenceFilledSamples: number;
  ssrcChanges: number;
  /** Packets of another SSRC, or far off the sequence, that were not followed by their successor. */
  strayPackets: number;
  /** Sequence restarts and timestamp jumps that restarted the timeline. */
  timestampJumps: number;
  seqRestarts: number;
  /** Samples emitted, frames included and the partial frame not yet. */
  playedSamples: number;
}

const EMPTY = 0;
const BUFFERED = 1;
const PLAYED = 2;
const LOST = 3;
const MAX_REPEATS = 3;
const TWO_32 = 2 ** 32;
/** Decoded samples of the largest UDP payload (65,507 octets of G.722 → 2 samples each). */
const SCRATCH_SAMPLES = 131_072;
// Decoding and copying out happen in one synchronous step, so one scratch buffer serves every leg.
const scratch = new Int16Array(SCRATCH_SAMPLES);

/** Signed difference a - b of two 32-bit RTP timestamps. */
function tsDelta(a: number, b: number): number {
  let d = (a - b) % TWO_32;
  if (d >= TWO_32 / 2) d -= TWO_32;
  else if (d < -TWO_32 / 2) d += TWO_32;
  return d;
}

export class JitterBuffer {
  readonly stats: JitterBufferStats = {
    received: 0,
    duplicates: 0,
    late: 0,
    reordered: 0,
    lost: 0,
    concealedSamples: 0,
    silenceFilledSamples: 0,
    ssrcChanges: 0,
    strayPackets: 0,
    timestampJumps: 0,
    seqRestarts: 0,
    playedSamples: 0,
  };

  private readonly capacity: number;
  private readonly mask: number;
  private readonly samplesPerTick: number;
  private readonly frameSamples: number;
  private readonly maxGapFillTicks: number;
  private readonly maxSeqJump: number;
  // The reorder ring, one slot per extended sequence number modulo the capacity.
  private readonly slotExt: Float64Array;
  private readonly slotState: Uint8Array;
  private readonly slotTs: Float64Array;
  private readonly slotArrival: Float64Array;
  private readonly slotAudio: Uint8Array;
  private readonly slotPayload: (Uint8Array | undefined)[];
  private buffered = 0;

  private ssrc: number | undefined;
  /** Highest extended sequence number accepted, and the next one to play. */
  private highestExt = 0;
  private nextExt = 0;
  /** RTP timestamp the next audio sample should carry. */
  private nextTs = 0;
  private lastPacketTicks: number;
  /** A packet that may start a new source or sequence, waiting for its successor. */
  private candidate: { packet: JitterPacket; arrivalMs: number } | undefined;

  // Output: the frame being filled and the wall-clock anchor of the sample position.
  private frame: Int16Array;
  private frameFill = 0;
  private anchorWallMs = 0;
  private anchorPosition = 0;
  // Repetition concealment keeps the last packet's samples.
  private readonly lastAudio: Int16Array | undefined;
  private lastAudioLength = 0;

  constructor(private readonly options: JitterBufferOptions) {
    this.capacity = options.capacity ?? 1024;
    if ((this.capacity & (this.capacity - 1)) !== 0)
      throw new RangeError("jitter buffer capacity must be a power of two");
    this.mask = this.capacity - 1;
    this.samplesPerTick = options.sampleRate / options.clockRate;
    this.frameSamples = Math.round((options.frameMs * options.sampleRate) / 1000);
    this.maxGapFillTicks = ((options.maxGapFillMs ?? 10_000) * options.clockRate) / 1000;
    this.maxSeqJump = Math.min(options.maxSeqJump ?? 500, this.capacity / 2);
    this.lastPacketTicks = (20 * options.clockRate) / 1000;
    this.slotExt = new Float64Array(this.capacity).fill(-1);
    this.slotState = new Uint8Array(this.capacity);
    this.slotTs = new Float64Array(this.capacity);
    this.slotArrival = new Float64Array(this.capacity);
    this.slotAudio = new Uint8Array(this.capacity);
    this.slotPayload = new Array<Uint8Array | undefined>(this.capacity).fill(undefined);
    this.frame = new Int16Array(this.frameSamples);
    if (options.concealment === "repeat") this.lastAudio = new Int16Array(options.sampleRate);
  }

  /** Packets waiting in the buffer; poll() has work only when this is above zero. */
  get pending(): number {
    return this.buffered;
  }

  push(packet: JitterPacket, nowMs: number): void {
    if (this.ssrc === undefined) {
      this.start(packet, nowMs);
      return;
    }
    if (packet.ssrc !== this.ssrc) {
      this.offTrack(packet, nowMs, true);
      return;
    }
    const delta = ((packet.seq - (this.highestExt & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const ext = this.highestExt + delta;
    if (ext < this.nextExt) {
      // Its slot is gone: played (a duplicate) or concealed (late). Far-behind sequence numbers may be
      // a sender restart; the successor test decides.
      if (delta < -this.maxSeqJump) return this.offTrack(packet, nowMs, false);
      const i = ext & this.mask;
      if (this.slotExt[i] === ext && this.slotState[i] === PLAYED) this.stats.duplicates++;
      else this.stats.late++;
      return;
    }
    if (delta > this.maxSeqJump) return this.offTrack(packet, nowMs, false);
    this.candidate = undefined;
    const i = ext & this.mask;
    if (this.slotExt[i] === ext && this.slotState[i] === BUFFERED) {
      this.stats.duplicates++;
      return;
    }
    // Make room: a packet a whole ring ahead of the playout point forces the holes before it out.
    while (ext - this.nextExt >= this.capacity && this.buffered > 0) this.declareHoleLost();
    if (ext < this.highestExt) this.stats.reordered++;
    else this.highestExt = ext;
    this.store(ext, packet, nowMs);
    this.play(nowMs, false);
  }

  /** Plays what the passing of time allows: holes whose wait is over are concealed. */
  poll(nowMs: number): void {
    if (this.buffered > 0) this.play(nowMs, false);
  }

  /**
   * Ends the current timeline (a hold, a codec change): plays everything buffered, concealing the holes
   * between, and treats the next packet as the start of a new one, without filling the pause.
   */
  restart(): void {
    this.drainBuffered();
    this.ssrc = undefined;
    this.candidate = undefined;
  }

  /** The end of the leg: plays everything buffered and returns the last, partial frame (maybe empty). */
  finish(): Int16Array {
    this.drainBuffered();
    const rest = this.frame.slice(0, this.frameFill);
    this.frameFill = 0;
    return rest;
  }

  /** SSRC of the source being played, if any. */
  get currentSsrc(): number | undefined {
    return this.ssrc;
  }

  /** Where an RTP timestamp of the current source falls in the output, in ms from the leg's first sample. */
  positionMs(timestamp: number): number {
    const ahead = this.ssrc === undefined ? 0 : tsDelta(timestamp, this.nextTs) * this.samplesPerTick;
    return Math.max(0, Math.round(((this.stats.playedSamples + ahead) * 1000) / this.options.sampleRate));
  }

  /** Capture time of the partial frame `finish()` returns, or of the next frame. */
  nextCaptureMs(): number {
    return this.captureMsAt(this.stats.playedSamples - this.frameFill);
  }

  private start(packet: JitterPacket, nowMs: number): void {
    this.ssrc = packet.ssrc;
    this.candidate = undefined;
    // A new timeline may reuse sequence numbers of the old one: forget the old slots.
    this.slotExt.fill(-1);
    this.slotState.fill(EMPTY);
    this.slotPayload.fill(undefined);
    this.buffered = 0;
    const ext = packet.seq + 0x10000; // room below for reordered packets
    this.highestExt = ext;
    this.nextExt = ext;
    this.nextTs = packet.timestamp;
    // The packet's first sample was captured about one packet before it arrived.
    this.anchorWallMs = nowMs - (this.lastPacketTicks * 1000) / this.options.clockRate;
    this.anchorPosition = this.stats.playedSamples;
    this.store(ext, packet, nowMs);
    this.play(nowMs, false);
  }

  /** A packet of another SSRC or far off the sequence: a restart if its successor follows, else stray. */
  private offTrack(packet: JitterPacket, nowMs: number, newSource: boolean): void {
    const c = this.candidate;
    if (c && c.packet.ssrc === packet.ssrc && ((c.packet.seq + 1) & 0xffff) === packet.seq) {
      this.stats.strayPackets--; // the candidate was counted as stray; it was not
      if (newSource) this.stats.ssrcChanges++;
      else this.stats.seqRestarts++;
      this.drainBuffered();
      this.start(c.packet, c.arrivalMs);
      this.push(packet, nowMs);
      return;
    }
    this.stats.strayPackets++;
    this.candidate = { packet, arrivalMs: nowMs };
  }

  private store(ext: number, packet: JitterPacket, nowMs: number): void {
    const i = ext & this.mask;
    this.slotExt[i] = ext;
    this.slotState[i] = BUFFERED;
    this.slotTs[i] = packet.timestamp;
    this.slotArrival[i] = nowMs;
    this.slotAudio[i] = packet.audio ? 1 : 0;
    this.slotPayload[i] = packet.payload;
    this.buffered++;
    this.stats.received++;
  }

  private play(nowMs: number, force: boolean): void {
    for (;;) {
      const i = this.nextExt & this.mask;
      if (this.slotExt[i] === this.nextExt && this.slotState[i] === BUFFERED) {
        this.playSlot(i);
        continue;
      }
      if (this.buffered === 0) return;
      if (!force && !this.holeExpired(nowMs)) return;
      this.declareHoleLost();
    }
  }

  private drainBuffered(): void {
    if (this.buffered > 0) this.play(0, true);
  }

  /** The hole at nextExt has waited long enough, or enough audio is queued behind it. */
  private holeExpired(nowMs: number): boolean {
    let earliest = Infinity;
    let latestTs = this.nextTs;
    for (let ext = this.nextExt + 1; ext <= this.highestExt; ext++) {
      const i = ext & this.mask;
      if (this.slotExt[i] !== ext || this.slotState[i] !== BUFFERED) continue;
      earliest = Math.min(earliest, this.slotArrival[i]!);
      if (this.slotAudio[i] && tsDelta(this.slotTs[i]!, latestTs) > 0) latestTs = this.slotTs[i]!;
    }
    if (nowMs - earliest >= this.options.delayMs) return true;
    const queuedMs =
      ((tsDelta(latestTs, this.nextTs) + this.lastPacketTicks) * 1000) / this.options.clockRate;
    return queuedMs > this.options.delayMs;
  }

  /** Conceals the missing packets up to the next buffered one. */
  private declareHoleLost(): void {
    let next = this.nextExt;
    while (next <= this.highestExt) {
      const i = next & this.mask;
      if (this.slotExt[i] === next && this.slotState[i] === BUFFERED) break;
      next++;
    }
    const missing = next - this.nextExt;
    if (missing === 0) return;
    for (let ext = this.nextExt; ext < next; ext++) {
      const i = ext & this.mask;
      this.slotExt[i] = ext;
      this.slotState[i] = LOST;
      this.slotPayload[i] = undefined;
    }
    this.stats.lost += missing;
    // The hole lasts until the next packet's timestamp when that is plausible; otherwise one packet
    // duration per missing packet, and the next packet's timestamp check settles the rest.
    let ticks = missing * this.lastPacketTicks;
    const i = next & this.mask;
    if (next <= this.highestExt && this.slotAudio[i]) {
      const span = tsDelta(this.slotTs[i]!, this.nextTs);
      if (span > 0 && span <= this.maxGapFillTicks) ticks = span;
    }
    this.conceal(Math.round(ticks * this.samplesPerTick));
    this.nextTs = (this.nextTs + ticks) % TWO_32;
    this.nextExt = next;
  }

  private playSlot(i: number): void {
    const payload = this.slotPayload[i]!;
    const audio = this.slotAudio[i] === 1;
    const ts = this.slotTs[i]!;
    this.slotState[i] = PLAYED;
    this.slotPayload[i] = undefined;
    this.buffered--;
    this.nextExt++;
    if (!audio) return;

    const gap = tsDelta(ts, this.nextTs);
    if (gap > 0 && gap <= this.maxGapFillTicks) {
      const samples = Math.round(gap * this.samplesPerTick);
      this.appendSilence(samples);
      this.stats.silenceFilledSamples += samples;
    } else if (gap > this.maxGapFillTicks || gap < -this.maxGapFillTicks) {
      // A long pause or a jump backwards: a new timeline, anchored to this packet's arrival.
      this.stats.timestampJumps++;
      this.anchorWallMs = this.slotArrival[i]! - (this.lastPacketTicks * 1000) / this.options.clockRate;
      this.anchorPosition = this.stats.playedSamples;
    }
    // Small backwards steps (a sender that overlaps packets) are played as they are.
    const count = this.options.decode(payload, scratch);
    this.append(scratch, count);
    const ticks = count / this.samplesPerTick;
    if (ticks > 0) this.lastPacketTicks = ticks;
    this.nextTs = (ts + ticks) % TWO_32;
    if (this.lastAudio) {
      const n = Math.min(count, this.lastAudio.length);
      for (let k = 0; k < n; k++) this.lastAudio[k] = scratch[k]!;
      this.lastAudioLength = n;
    }
  }

  private conceal(samples: number): void {
    this.stats.concealedSamples += samples;
    let left = samples;
    if (this.lastAudio && this.lastAudioLength > 0) {
      const repeat = Math.min(left, this.lastAudioLength * MAX_REPEATS);
      for (let done = 0; done < repeat;) {
        const n = Math.min(this.lastAudioLength, repeat - done);
        this.append(this.lastAudio, n);
        done += n;
      }
      left -= repeat;
    }
    this.appendSilence(left);
  }

  private append(pcm: Int16Array, count: number): void {
    let offset = 0;
    while (offset < count) {
      const n = Math.min(count - offset, this.frameSamples - this.frameFill);
      this.frame.set(pcm.subarray(offset, offset + n), this.frameFill);
      this.advanceFill(n);
      offset += n;
    }
  }

  private appendSilence(count: number): void {
    let left = count;
    while (left > 0) {
      const n = Math.min(left, this.frameSamples - this.frameFill);
      this.frame.fill(0, this.frameFill, this.frameFill + n);
      this.advanceFill(n);
      left -= n;
    }
  }

  private advanceFill(n: number): void {
    this.frameFill += n;
    this.stats.playedSamples += n;
    if (this.frameFill === this.frameSamples) {
      const full = this.frame;
      const captureMs = this.captureMsAt(this.stats.playedSamples - this.frameSamples);
      this.frame = new Int16Array(this.frameSamples);
      this.frameFill = 0;
      this.options.onFrame(full, captureMs);
    }
  }

  private captureMsAt(position: number): number {
    return Math.round(
      this.anchorWallMs + ((position - this.anchorPosition) * 1000) / this.options.sampleRate,
    );
  }
}
