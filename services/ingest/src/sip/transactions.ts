import { getHeader, getHeaderValues, type SipRequest, type SipResponse } from "./message.ts";
import { BRANCH_COOKIE, parseCSeq, parseNameAddr, parseVia } from "./header-values.ts";
import type { SipPeer } from "./transport.ts";

/**
 * Server transactions (RFC 3261 §17.2, with RFC 6026's Accepted state). They absorb request
 * retransmissions by re-sending the last response, retransmit non-2xx finals to INVITEs over UDP
 * until the ACK, and forget themselves on timers so memory stays bounded.
 */

export interface TransactionTimers {
  /** RTT estimate, 500 ms by default. */
  t1Ms: number;
  /** Cap of the retransmit interval, 4 s. */
  t2Ms: number;
  /** How long a message may stay in the network, 5 s. */
  t4Ms: number;
}

export const timersFromT1 = (t1Ms: number): TransactionTimers => ({
  t1Ms,
  t2Ms: Math.max(t1Ms, 4000),
  t4Ms: 5000,
});

type State = "proceeding" | "accepted" | "completed" | "confirmed" | "terminated";

export class ServerTransaction {
  state: State = "proceeding";
  lastResponse?: SipResponse;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly peer: SipPeer,
    private readonly owner: ServerTransactions,
  ) {}

  get isInvite(): boolean {
    return this.request.method === "INVITE";
  }

  /** True once a final response has been sent. */
  get answered(): boolean {
    return this.state !== "proceeding";
  }

  respond(response: SipResponse): void {
    if (this.state === "terminated") return;
    if (this.answered && response.status >= 200) return; // one final response per transaction
    this.lastResponse = response;
    this.owner.transmit(this.peer, response);
    if (response.status < 200) return;
    const { t1Ms, t2Ms } = this.owner.timers;
    const reliable = this.peer.transport === "tcp";
    if (!this.isInvite) {
      this.state = "completed";
      this.after(reliable ? 0 : 64 * t1Ms, () => this.terminate()); // Timer J
    } else if (response.status < 300) {
      // The core retransmits the 2xx itself; the transaction only absorbs INVITE retransmissions.
      this.state = "accepted";
      this.after(64 * t1Ms, () => this.terminate()); // Timer L
    } else {
      this.state = "completed";
      if (!reliable) {
        const retransmit = (interval: number) =>
          this.after(interval, () => {
            if (this.state !== "completed") return;
            this.owner.transmit(this.peer, response);
            retransmit(Math.min(interval * 2, t2Ms));
          }); // Timer G
        retransmit(t1Ms);
      }
      this.after(64 * t1Ms, () => this.terminate()); // Timer H: no ACK came
    }
  }

  /** A retransmission of the request arrived. */
  absorbRetransmission(): void {
    if (this.lastResponse && this.state !== "confirmed") this.owner.transmit(this.peer, this.lastResponse);
  }

  /** The ACK of a non-2xx final arrived. */
  confirm(): void {
    if (this.state !== "completed") return;
    this.state = "confirmed";
    this.clearTimers();
    this.after(this.peer.transport === "tcp" ? 0 : this.owner.timers.t4Ms, () => this.terminate()); // Timer I
  }

  terminate(): void {
    if (this.state === "terminated") return;
    this.state = "terminated";
    this.clearTimers();
    this.owner.forget(this);
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}

export type Arrival =
  | { kind: "new"; transaction: ServerTransaction }
  | { kind: "retransmission" }
  /** The ACK of a non-2xx final response; nothing for the core to do. */
  | { kind: "ack-absorbed" }
  /** An ACK of a 2xx (its own transaction), for the dialog. */
  | { kind: "ack" }
  | { kind: "full" };

export class ServerTransactions {
  private readonly byKey = new Map<string, ServerTransaction>();

  constructor(
    readonly timers: TransactionTimers,
    readonly transmit: (peer: SipPeer, response: SipResponse) => void,
    private readonly maxTransactions: number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Matches a request to its transaction (§17.2.3). The request's Via and CSeq must already be valid. */
  receive(request: SipRequest, peer: SipPeer): Arrival {
    const key = transactionKey(request, peer);
    const existing = this.byKey.get(key);
    if (request.method === "ACK") {
      if (existing && existing.isInvite && existing.state !== "accepted") {
        existing.confirm();
        return { kind: "ack-absorbed" };
      }
      return { kind: "ack" };
    }
    if (existing) {
      existing.absorbRetransmission();
      return { kind: "retransmission" };
    }
    if (this.byKey.size >= this.maxTransactions) return { kind: "full" };
    const transaction = new ServerTransaction(key, request, peer, this);
    this.byKey.set(key, transaction);
    return { kind: "new", transaction };
  }

  /** The INVITE transaction a CANCEL targets: same branch, method INVITE (§9.2). */
  inviteFor(cancel: SipRequest, peer: SipPeer): ServerTransaction | undefined {
    const key = transactionKey({ ...cancel, method: "INVITE" }, peer);
    const tx = this.byKey.get(key);
    return tx?.isInvite ? tx : undefined;
  }

  forget(transaction: ServerTransaction): void {
    if (this.byKey.get(transaction.key) === transaction) this.byKey.delete(transaction.key);
  }

  /** Ends every transaction (shutdown). */
  clear(): void {
    for (const tx of [...this.byKey.values()]) tx.terminate();
  }
}

/**
 * branch + sent-by + method, with ACK folded into INVITE (§17.2.3). A branch without the RFC 3261
 * cookie comes from an RFC 2543 peer: then Call-ID, CSeq number, From tag and Via identify it.
 */
export function transactionKey(request: SipRequest, peer: SipPeer): string {
  const via = parseVia(getHeaderValues(request, "via")[0] ?? "");
  const method = request.method === "ACK" ? "INVITE" : request.method;
  const sentBy = `${via.host}:${via.port ?? ""}`;
  const branch = via.params.branch ?? "";
  if (branch.startsWith(BRANCH_COOKIE)) return `${branch}|${sentBy}|${method}`;
  const cseq = parseCSeq(getHeader(request, "cseq") ?? "");
  const fromTag = parseNameAddr(getHeader(request, "from") ?? "").params.tag ?? "";
  return `2543|${getHeader(request, "call-id")}|${cseq.seq}|${fromTag}|${sentBy}|${peer.address}|${method}`;
}
