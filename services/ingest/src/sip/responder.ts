import type { Logger } from "pino";
import type { SipHeader, SipMessage, SipResponse } from "./message.ts";
import type { SipMetrics } from "./metrics.ts";
import { newTag, responseTo, warningHeader } from "./responses.ts";
import type { ServerTransaction } from "./transactions.ts";
import type { SipPeer } from "./transport.ts";

export const retryAfter = (seconds: number): SipHeader => ({ name: "retry-after", value: String(seconds) });

/** Builds and sends responses, counting each; a send failure is logged, never thrown. */
export class SipResponder {
  constructor(
    private readonly send: (peer: SipPeer, message: SipMessage) => Promise<void>,
    private readonly metrics: SipMetrics,
    private readonly logger: Logger,
    /** Host named in Warning headers. */
    readonly warnHost: string,
  ) {}

  transmit(peer: SipPeer, response: SipResponse): void {
    this.metrics.responses.inc({ status: String(response.status) });
    this.send(peer, response).catch((err: unknown) => this.logger.debug({ err }, "SIP response not sent"));
  }

  /** Answers within a transaction; final responses other than 100 always carry a To tag (§8.2.6.2). */
  respond(
    tx: ServerTransaction,
    statusOrResponse: number | SipResponse,
    options: { toTag?: string; headers?: SipHeader[]; reason?: string } = {},
  ): void {
    if (typeof statusOrResponse !== "number") return tx.respond(statusOrResponse);
    const status = statusOrResponse;
    const toTag = status === 100 ? undefined : (options.toTag ?? (status >= 200 ? newTag() : undefined));
    tx.respond(
      responseTo(tx.request, status, {
        peer: tx.peer,
        toTag,
        headers: options.headers,
        reason: options.reason,
      }),
    );
  }

  /** Refuses a new INVITE, counted by reason. */
  refuse(
    tx: ServerTransaction,
    status: number,
    reason: string,
    options: { headers?: SipHeader[]; toTag?: string } = {},
  ): void {
    this.metrics.callsRejected.inc({ reason });
    this.logger.info({ status, reason, source: tx.peer.address }, "INVITE refused");
    this.respond(tx, status, { toTag: options.toTag ?? newTag(), headers: options.headers });
  }

  /**
   * 400 (or `status`) with a Warning, statelessly, for a request we could read only partly. It goes back
   * where the request came from (its TCP connection, or its UDP source address and port), so it can be
   * routed even when Via, Call-ID or CSeq are missing; it copies whichever of them the request had.
   */
  rejectMalformed(headers: SipHeader[], peer: SipPeer, why: string, method: string, status = 400): void {
    this.metrics.callsRejected.inc({ reason: "malformed" });
    if (method === "ACK") return;
    this.transmit(
      peer,
      responseTo({ headers }, status, {
        peer,
        toTag: newTag(),
        headers: [warningHeader(this.warnHost, why)],
      }),
    );
  }
}
