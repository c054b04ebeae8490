// Receiver statistics of one RTP source as RFC 3550 appendix A.1, A.3 and A.8 compute them, and a
// tolerant reader of the RTCP compound packets a sender may send us. Pure: no I/O.

const SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export interface ReceiverReport {
  /** Highest sequence number received, extended by the count of wrap-arounds (A.1 cycles + max_seq). */
  extendedHighestSeq: number;
  /** Packets expected from the first to the highest sequence number (A.3). */
  expected: number;
  received: number;
  /** Cumulative packets lost, clamped to the 24-bit signed field of a report block (negative with duplicates). */
  cumulativeLost: number;
  /** Fraction lost since the previous report, as the 8-bit fixed-point value of a report block (0-255). */
  fractionLost: number;
  /** Interarrival jitter in RTP timestamp units (A.8). */
  jitter: number;
}

/** RFC 3550 A.1/A.3/A.8 for one SSRC. Feed every packet of the source, in arrival order. */
export class ReceptionStatistics {
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = SEQ_MOD + 1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit = 0;
  private jitter = 0;
  private started = false;
  private jitterStarted = false;

  constructor(private readonly clockRate: number) {}

  /**
   * @param arrivalMs arrival time of the packet on the receiver's clock
   * @param withTiming false for packets whose timestamp does not advance with their sampling instant
   *                   (RFC 4733 events keep the start timestamp), which would distort the jitter
   */
  update(seq: number, timestamp: number, arrivalMs: number, withTiming = true): void {
    if (!this.started) {
      this.initSeq(seq);
      this.started = true;
    } else if (!this.updateSeq(seq)) {
      return;
    }
    this.received++;
    if (!withTiming) return;
    // A.8, in floating point: arrival converted to timestamp units; the 32-bit RTP timestamp wraps, so
    // the transit difference is taken modulo 2^32 into a signed value.
    const arrival = (arrivalMs * this.clockRate) / 1000;
    const transit = arrival - timestamp;
    if (!this.jitterStarted) {
      this.transit = transit;
      this.jitterStarted = true;
      return;
    }
    let d = transit - this.transit;
    this.transit = transit;
    d = ((((d + 2 ** 31) % 2 ** 32) + 2 ** 32) % 2 ** 32) - 2 ** 31;
    if (d < 0) d = -d;
    this.jitter += (d - this.jitter) / 16;
  }

  /** A report block's numbers; each call starts a new interval for `fractionLost`. */
  report(): ReceiverReport {
    const extendedHighestSeq = this.cycles + this.maxSeq;
    const expected = this.started ? extendedHighestSeq - this.baseSeq + 1 : 0;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    return {
      extendedHighestSeq,
      expected,
      received: this.received,
      cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, lost)),
      fractionLost: Math.min(255, fractionLost),
      jitter: Math.floor(this.jitter),
    };
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** A.1 update_seq without probation (the jitter buffer decides what is played). */
  private updateSeq(seq: number): boolean {
    const udelta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
      // A very large jump: accept it as a restart only when the next packet follows it.
      if (seq === this.badSeq) {
        this.initSeq(seq);
      } else {
        this.badSeq = (seq + 1) % SEQ_MOD;
        return false;
      }
    }
    // Otherwise a duplicate or a reordered packet: counted as received, as A.1 does.
    return true;
  }
}

export type RtcpPacketKind = "sr" | "rr" | "sdes" | "bye" | "app" | "feedback" | "other";

export interface RtcpCompound {
  kinds: RtcpPacketKind[];
  /** From the first sender report: what the sender says it has sent. */
  senderReport?: { ssrc: number; packetCount: number; octetCount: number };
  /** True when the bytes stopped making sense; `kinds` holds what was read before that point. */
  malformed: boolean;
}

const KIND_BY_TYPE: Record<number, RtcpPacketKind> = {
  200: "sr",
  201: "rr",
  202: "sdes",
  203: "bye",
  204: "app",
  205: "feedback",
  206: "feedback",
};

/** Walks a compound RTCP packet; never throws. */
export function parseRtcpCompound(bytes: Uint8Array): RtcpCompound {
  const result: RtcpCompound = { kinds: [], malformed: false };
  let offset = 0;
  if (bytes.length < 4) result.malformed = true;
  while (offset + 4 <= bytes.length) {
    const version = bytes[offset]! >> 6;
    const type = bytes[offset + 1]!;
    const size = (((bytes[offset + 2]! << 8) | bytes[offset + 3]!) + 1) * 4;
    if (version !== 2 || offset + size > bytes.length) {
      result.malformed = true;
      break;
    }
    const kind = KIND_BY_TYPE[type] ?? "other";
    result.kinds.push(kind);
    if (kind === "sr" && size >= 28 && !result.senderReport) {
      result.senderReport = {
        ssrc: readUint32(bytes, offset + 4),
        packetCount: readUint32(bytes, offset + 20),
        octetCount: readUint32(bytes, offset + 24),
      };
    }
    offset += size;
  }
  if (offset !== bytes.length) result.malformed = true;
  return result;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
