import { getHeader, getHeaderValues, type SipRequest, type SipResponse } from "./message.ts";
import { parseCSeq, parseVia } from "./header-values.ts";
import type { TransactionTimers } from "./transactions.ts";
import type { SipPeer } from "./transport.ts";

/** The peer never sent a final response within 64·T1 (Timer B or F). */
export class SipTimeoutError extends Error {
  override readonly name = "SipTimeoutError";
}

interface Pending {
  request: SipRequest;
  peer: SipPeer;
  onProvisional?: (response: SipResponse) => void;
  resolve: (response: SipResponse) => void;
  reject: (err: Error) => void;
  timers: NodeJS.Timeout[];
  gotProvisional: boolean;
}

/**
 * Client transactions (RFC 3261 §17.1): retransmit over UDP (Timer A/E), give up after 64·T1
 * (Timer B/F), and ACK non-2xx finals to INVITEs within the transaction.
 */
export class ClientTransactions {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly timers: TransactionTimers,
    private readonly send: (peer: SipPeer, message: SipRequest) => Promise<void>,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Sends a request and resolves with its final response. */
  request(
    request: SipRequest,
    peer: SipPeer,
    onProvisional?: (response: SipResponse) => void,
  ): Promise<SipResponse> {
    const key = clientKey(request);
    return new Promise<SipResponse>((resolve, reject) => {
      const entry: Pending = {
        request,
        peer,
        onProvisional,
        resolve,
        reject,
        timers: [],
        gotProvisional: false,
      };
      this.pending.set(key, entry);
      const fail = (err: Error) => {
        this.finish(key);
        reject(err);
      };
      this.send(peer, request).catch(fail);
      const { t1Ms, t2Ms } = this.timers;
      if (peer.transport === "udp") {
        const invite = request.method === "INVITE";
        const retransmit = (interval: number) => {
          entry.timers.push(
            unref(
              setTimeout(() => {
                // An INVITE stops retransmitting once a provisional response shows the peer has it.
                if (!this.pending.has(key) || (invite && entry.gotProvisional)) return;
                this.send(peer, request).catch(fail);
                retransmit(invite ? interval * 2 : Math.min(interval * 2, t2Ms));
              }, interval),
            ),
          );
        };
        retransmit(t1Ms);
      }
      entry.timers.push(
        unref(
          setTimeout(
            () => fail(new SipTimeoutError(`no final response to ${request.method} within ${64 * t1Ms} ms`)),
            64 * t1Ms,
          ),
        ),
      );
    });
  }

  /** Feeds a response; false when it matches no pending transaction (e.g. a retransmitted 2xx). */
  receiveResponse(response: SipResponse): boolean {
    let key: string;
    try {
      key = clientKey(response);
    } catch {
      return false;
    }
    const entry = this.pending.get(key);
    if (!entry) return false;
    if (response.status < 200) {
      entry.gotProvisional = true;
      entry.onProvisional?.(response);
      return true;
    }
    this.finish(key);
    if (entry.request.method === "INVITE" && response.status >= 300) {
      // §17.1.1.3: the ACK of a non-2xx final is part of the INVITE transaction.
      this.send(entry.peer, ackForFailure(entry.request, response)).catch(() => undefined);
    }
    entry.resolve(response);
    return true;
  }

  /** Rejects every pending request (shutdown). */
  abortAll(reason: string): void {
    for (const [key, entry] of [...this.pending]) {
      this.finish(key);
      entry.reject(new SipTimeoutError(reason));
    }
  }

  private finish(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    for (const t of entry.timers) clearTimeout(t);
    this.pending.delete(key);
  }
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}

function clientKey(message: SipRequest | SipResponse): string {
  const via = parseVia(getHeaderValues(message, "via")[0] ?? "");
  const cseq = parseCSeq(getHeader(message, "cseq") ?? "");
  return `${via.params.branch ?? ""}|${cseq.method}`;
}

/** ACK for a non-2xx final: same Request-URI, top Via, From, Call-ID and CSeq number; To from the response. */
export function ackForFailure(invite: SipRequest, response: SipResponse): SipRequest {
  const cseq = parseCSeq(getHeader(invite, "cseq") ?? "");
  const keep = (name: string) => invite.headers.filter((h) => h.name === name);
  return {
    kind: "request",
    method: "ACK",
    uri: invite.uri,
    headers: [
      keep("via")[0]!,
      ...keep("route"),
      ...keep("max-forwards"),
      ...keep("from"),
      ...response.headers.filter((h) => h.name === "to").slice(0, 1),
      ...keep("call-id"),
      { name: "cseq", value: `${cseq.seq} ACK` },
    ],
    body: new Uint8Array(0),
  };
}
