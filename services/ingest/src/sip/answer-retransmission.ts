import type { SipResponse } from "./message.ts";
import type { TransactionTimers } from "./transactions.ts";
import type { SipPeer } from "./transport.ts";

/**
 * A 2xx to an INVITE is the UAS core's to deliver (RFC 3261 §13.3.1.4): over UDP it is re-sent at
 * T1, 2·T1, ... capped at T2 until the ACK comes; if none comes within 64·T1 the session is taken
 * down (`onNoAck`). Over TCP only the give-up timer runs.
 */
export class AnswerRetransmission {
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    /** CSeq number of the INVITE answered; its ACK carries the same. */
    readonly cseq: number,
    response: SipResponse,
    peer: SipPeer,
    timers: TransactionTimers,
    transmit: (peer: SipPeer, response: SipResponse) => void,
    onNoAck: () => void,
  ) {
    const schedule = (ms: number, fn: () => void) => {
      const timer = setTimeout(() => {
        if (!this.stopped) fn();
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    if (peer.transport === "udp") {
      const retransmit = (interval: number) =>
        schedule(interval, () => {
          transmit(peer, response);
          retransmit(Math.min(interval * 2, timers.t2Ms));
        });
      retransmit(timers.t1Ms);
    }
    schedule(64 * timers.t1Ms, () => {
      this.stop();
      onNoAck();
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}
