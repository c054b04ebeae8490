// RFC 4733 telephone-events: a 4-octet payload (event, E bit, R bit, volume, duration) repeated while the
// key is held, all packets of one event sharing one RTP timestamp, the final one sent three times with
// the E bit. Pure: no I/O.

/** Event codes 0-15 of RFC 4733 section 3.2 as the digit they stand for. */
export const DTMF_EVENT_CODES = "0123456789*#ABCD";

export interface TelephoneEvent {
  /** 0-255; 0-15 are DTMF digits. */
  event: number;
  end: boolean;
  /** Power level in -dBm0 (0-63). */
  volume: number;
  /** Duration so far in RTP timestamp units. */
  duration: number;
}

/** Reads the first event of a telephone-event payload; undefined when it is shorter than 4 octets. */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const flags = payload[1]!;
  return {
    event: payload[0]!,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}

export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  return Uint8Array.of(
    e.event & 0xff,
    (e.end ? 0x80 : 0) | (e.volume & 0x3f),
    (e.duration >> 8) & 0xff,
    e.duration & 0xff,
  );
}

export interface DtmfDigit {
  digit: string;
  /** RTP timestamp of the event's start (shared by all its packets). */
  timestamp: number;
  durationMs: number;
  /** True when the end packets were all lost and the digit was closed by the next event. */
  endMissing: boolean;
}

/**
 * Turns the packet stream of one SSRC into one digit per key press: the first end packet reports the
 * digit; its two retransmissions (and any late update of an ended event) are ignored. An event whose
 * end packets were all lost is reported when a different event starts.
 */
export class DtmfDetector {
  private current: { timestamp: number; event: number; duration: number } | undefined;
  private lastEnded: { timestamp: number; event: number } | undefined;
  /** Events outside 0-15 (flash, tones), counted and ignored. */
  nonDigitEvents = 0;

  constructor(private readonly clockRate: number) {}

  /** Returns the digits this packet completes: none, one, or two (a lost-end one and a new one). */
  push(timestamp: number, event: TelephoneEvent): DtmfDigit[] {
    if (event.event > 15) {
      this.nonDigitEvents++;
      return [];
    }
    if (this.lastEnded && this.lastEnded.timestamp === timestamp && this.lastEnded.event === event.event) {
      return [];
    }
    const done: DtmfDigit[] = [];
    if (this.current && (this.current.timestamp !== timestamp || this.current.event !== event.event)) {
      done.push(this.digit(this.current, true));
      this.current = undefined;
    }
    if (event.end) {
      this.lastEnded = { timestamp, event: event.event };
      this.current = undefined;
      done.push(this.digit({ timestamp, event: event.event, duration: event.duration }, false));
    } else if (!this.current) {
      this.current = { timestamp, event: event.event, duration: event.duration };
    } else {
      this.current.duration = Math.max(this.current.duration, event.duration);
    }
    return done;
  }

  /** At the end of the leg: an event still held (no end packet seen) is reported. */
  flush(): DtmfDigit | undefined {
    const c = this.current;
    this.current = undefined;
    return c ? this.digit(c, true) : undefined;
  }

  private digit(e: { timestamp: number; event: number; duration: number }, endMissing: boolean): DtmfDigit {
    return {
      digit: DTMF_EVENT_CODES[e.event]!,
      timestamp: e.timestamp,
      durationMs: Math.round((e.duration * 1000) / this.clockRate),
      endMissing,
    };
  }
}
