import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { ResourceExhaustedError, UnavailableError } from "@callscribe/errors";
import type { SipConfig } from "../config.ts";
import type { MediaCall, MediaGateway } from "../media/index.ts";
import { SourceAllowlist } from "./allowlist.ts";
import { AnswerRetransmission } from "./answer-retransmission.ts";
import { callInfoFor } from "./call-info.ts";
import { legSpecsFor, renegotiatedLegs, type CallEndReason, type CallSession } from "./call-session.ts";
import { ClientTransactions } from "./client-transactions.ts";
import { DigestAuthenticator } from "./digest-auth.ts";
import { dialogKey, inDialogRequest, nextHop, uasDialog } from "./dialogs.ts";
import { SUPPORTED_EXTENSIONS, admitInvite } from "./invite-admission.ts";
import { ACCEPTED_BODY_TYPES, InviteOfferError, readInviteOffer } from "./invite-offer.ts";
import { textBody, type SipHeader, type SipMessage } from "./message.ts";
import { createSipMetrics, type SipMetrics } from "./metrics.ts";
import type { SipParseError } from "./parser.ts";
import { requestContext, type RequestContext } from "./request-context.ts";
import { SipResponder, retryAfter } from "./responder.ts";
import { newCallId, newTag, responseTo, warningHeader } from "./responses.ts";
import { SdpNegotiationError, buildAnswer, negotiateOffer, type NegotiatedOffer } from "./sdp-negotiation.ts";
import {
  ServerTransactions,
  timersFromT1,
  type ServerTransaction,
  type TransactionTimers,
} from "./transactions.ts";
import type { SipPeer } from "./transport.ts";

export type { CallEndReason } from "./call-session.ts";

const ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS";
const KNOWN_METHODS = new Set([
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "REGISTER",
  "INFO",
  "UPDATE",
  "PRACK",
]);

export interface UasOptions {
  config: SipConfig;
  media: MediaGateway;
  logger: Logger;
  registry: Registry;
  /** Sends a message to a peer over the named transport. */
  send: (peer: SipPeer, message: SipMessage) => Promise<void>;
  /** Whether a TCP connection to the peer is still open (always true for UDP). */
  isOpen: (peer: SipPeer) => boolean;
  /** Our address and SIP port as peers reach them (Via, Contact). */
  local: { address: string; port: number };
  /** Where our RTP sockets listen, for SDP c=. */
  mediaAddress: string;
}

/**
 * The user agent server: answers INVITEs (plain and SIPREC) with an SDP answer, keeps dialogs,
 * handles CANCEL, BYE, OPTIONS and re-INVITE, and sends BYE when media or shutdown ends a call.
 */
export class SipUserAgentServer {
  private readonly timers: TransactionTimers;
  private readonly transactions: ServerTransactions;
  private readonly clients: ClientTransactions;
  private readonly sessions = new Map<string, CallSession>();
  private readonly byInvite = new Map<ServerTransaction, CallSession>();
  private readonly allowlist: SourceAllowlist;
  private readonly auth?: DigestAuthenticator;
  private readonly metrics: SipMetrics;
  private readonly out: SipResponder;
  private readonly logger: Logger;
  private accepting = true;

  constructor(private readonly options: UasOptions) {
    const { config } = options;
    this.logger = options.logger;
    this.timers = timersFromT1(config.t1Ms);
    this.metrics = createSipMetrics(options.registry, {
      activeCalls: () => this.sessions.size,
      transactions: () => this.transactions.size + this.clients.size,
    });
    this.out = new SipResponder(options.send, this.metrics, options.logger, options.local.address);
    this.transactions = new ServerTransactions(
      this.timers,
      (peer, r) => this.out.transmit(peer, r),
      config.maxTransactions,
    );
    this.clients = new ClientTransactions(this.timers, (peer, r) => options.send(peer, r));
    this.allowlist = new SourceAllowlist(config.allowlist);
    if (config.auth) this.auth = new DigestAuthenticator(config.auth);
  }

  get activeCalls(): number {
    return this.sessions.size;
  }

  /** Open transactions and dialogs, to check that memory stays bounded. */
  stats(): { serverTransactions: number; clientTransactions: number; sessions: number } {
    return {
      serverTransactions: this.transactions.size,
      clientTransactions: this.clients.size,
      sessions: this.sessions.size,
    };
  }

  handleMessage(message: SipMessage, peer: SipPeer): void {
    if (message.kind === "response") {
      this.clients.receiveResponse(message);
      return;
    }
    this.metrics.requests.inc({ method: KNOWN_METHODS.has(message.method) ? message.method : "other" });
    if (!this.allowlist.allows(peer.address)) {
      this.metrics.callsRejected.inc({ reason: "forbidden-source" });
      this.logger.warn(
        { source: peer.address, method: message.method },
        "SIP request from a source outside the allowlist",
      );
      if (message.method !== "ACK" && canReply(message)) {
        this.out.transmit(peer, responseTo(message, 403, { peer, toTag: newTag() }));
      }
      return;
    }
    let ctx: RequestContext;
    let arrival;
    try {
      ctx = requestContext(message, peer);
      arrival = this.transactions.receive(message, peer);
    } catch (err) {
      this.out.rejectMalformed(message.headers, peer, (err as SipParseError).message, message.method);
      return;
    }
    if (arrival.kind === "retransmission" || arrival.kind === "ack-absorbed") return;
    if (arrival.kind === "ack") return this.onAck(ctx);
    if (arrival.kind === "full") {
      this.out.transmit(peer, responseTo(message, 503, { peer, toTag: newTag(), headers: [retryAfter(1)] }));
      return;
    }
    this.dispatch(ctx, arrival.transaction);
  }

  handleParseError(error: SipParseError, peer: SipPeer): void {
    this.metrics.parseErrors.inc({ reason: error.reason });
    const head = error.head;
    // Only a request whose headers we could read can be answered; responses and garbage are dropped.
    if (!head || head.startLine.startsWith("SIP/") || !this.allowlist.allows(peer.address)) return;
    // §21.4.13: a body larger than we take is 413; a header section too large, or any other fault, 400.
    // Both are 4xx: the peer must not send the same message again unchanged.
    const status = error.reason === "too-large" ? 413 : 400;
    this.out.rejectMalformed(head.headers, peer, error.message, head.startLine.split(" ")[0] ?? "", status);
  }

  /** Shutdown, first step: new INVITEs get 503 from now on. */
  stopAcceptingCalls(): void {
    this.accepting = false;
  }

  /** Shutdown, second step: BYE every answered call, refuse those in setup, end their media. */
  async endAllCalls(reason: CallEndReason = "shutdown"): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.endFromOurSide(s, reason)));
    this.clients.abortAll("shutting down");
    this.transactions.clear();
  }

  private dispatch(ctx: RequestContext, tx: ServerTransaction): void {
    const inDialog = ctx.to.params.tag !== undefined;
    switch (ctx.request.method) {
      case "INVITE":
        if (inDialog) return this.onReinvite(ctx, tx);
        void this.onInvite(ctx, tx).catch((err: unknown) => this.failSetup(ctx, tx, err));
        return;
      case "CANCEL":
        return this.onCancel(ctx, tx);
      case "BYE":
        return this.onBye(ctx, tx);
      case "OPTIONS":
        return this.onOptions(ctx, tx);
      default:
        if (inDialog && !this.sessionOf(ctx)) return this.out.respond(tx, 481);
        this.out.respond(tx, 405, { headers: [{ name: "allow", value: ALLOW }] });
    }
  }

  private unavailable(): "shutting-down" | "max-calls" | "media-unavailable" | undefined {
    if (!this.accepting) return "shutting-down";
    if (this.sessions.size >= this.options.config.maxCalls) return "max-calls";
    if (!this.options.media.canAcceptCalls()) return "media-unavailable";
    return undefined;
  }

  // --- INVITE: 100, 180, media start, 200 ---------------------------------------------------------

  private async onInvite(ctx: RequestContext, tx: ServerTransaction): Promise<void> {
    const { config, media } = this.options;
    const admission = admitInvite(ctx, {
      auth: this.auth,
      unavailable: () => this.unavailable(),
      retryAfterSeconds: config.retryAfterSeconds,
      codecs: config.codecs,
      warnHost: this.out.warnHost,
    });
    if (admission.kind === "refuse") {
      if (admission.authVerdict && admission.authVerdict !== "missing") {
        this.logger.warn(
          { source: ctx.peer.address, verdict: admission.authVerdict },
          "SIP digest authentication failed",
        );
      }
      return this.out.refuse(tx, admission.status, admission.reason, { headers: admission.headers });
    }
    const { offer, negotiated, plan } = admission;
    this.out.respond(tx, 100);
    const dialog = uasDialog(ctx, newTag());
    const session: CallSession = {
      callId: newCallId(),
      dialog,
      phase: "setup",
      inviteTx: tx,
      siprec: offer.siprec,
      offer: negotiated,
      plan,
      ports: new Map(),
      cancelled: false,
      reinviteInProgress: false,
      sdpSessionId: randomInt(1, 2 ** 31),
      sdpVersion: 1,
    };
    this.sessions.set(dialogKey(dialog.sipCallId, dialog.localTag, dialog.remoteTag), session);
    this.byInvite.set(tx, session);
    this.out.respond(tx, 180, { toTag: dialog.localTag, headers: [this.contactHeader(session)] });

    if (config.answerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.answerDelayMs));
    if (session.phase !== "setup") return; // cancelled while ringing: nothing was started
    const refuseBusy = (reason: string) =>
      this.out.refuse(tx, 503, reason, {
        toTag: dialog.localTag,
        headers: [retryAfter(config.retryAfterSeconds)],
      });
    try {
      for (const index of plan.legs.keys()) session.ports.set(index, await media.reservePort());
    } catch (err) {
      this.releasePorts(session);
      if (!(err instanceof ResourceExhaustedError)) throw err;
      this.forget(session);
      return refuseBusy("no-rtp-port");
    }
    if (session.phase !== "setup") return this.releasePorts(session);
    const legs = legSpecsFor(plan, negotiated);
    let call: MediaCall;
    try {
      call = await media.startCall(
        callInfoFor(session.callId, ctx, offer, plan, config.agentIdHeader),
        legs.map(({ index, spec }) => ({ ...spec, port: session.ports.get(index)! })),
      );
    } catch (err) {
      this.releasePorts(session);
      this.forget(session);
      if (session.phase !== "setup") return;
      if (!(err instanceof UnavailableError || err instanceof ResourceExhaustedError)) throw err;
      this.logger.warn({ callId: session.callId, err }, "media could not start the call");
      return refuseBusy("media-start-failed");
    }
    session.media = call;
    call.onEndedByMedia((reason) => void this.endFromOurSide(session, reason));
    if (session.phase !== "setup") {
      // CANCEL (or shutdown) came while media was starting: call.started is out, so end it now.
      await call.end(session.cancelled ? "cancel" : "shutdown");
      return;
    }
    session.phase = "answered";
    const source = offer.siprec ? "siprec" : "sip";
    this.metrics.callsStarted.inc({ source });
    this.logger.info(
      {
        callId: session.callId,
        source,
        legs: legs.map((l) => `${l.spec.leg}:${l.spec.codec.name}`),
        transport: ctx.peer.transport,
        pii: { from: ctx.from.uri, to: ctx.to.uri },
      },
      "call answered",
    );
    this.answer(session, tx, ctx.cseq.seq);
  }

  /** Sends the 2xx with our SDP answer to the session's current offer, re-sent until the ACK. */
  private answer(session: CallSession, tx: ServerTransaction, cseq: number): void {
    const sdp = buildAnswer(session.offer, {
      address: this.options.mediaAddress,
      ports: session.offer.streams.map((s) => session.ports.get(s.index)?.port ?? 0),
      sessionId: session.sdpSessionId,
      sessionVersion: session.sdpVersion,
    });
    const response = responseTo(tx.request, 200, {
      peer: tx.peer,
      toTag: session.dialog.localTag,
      headers: [
        this.contactHeader(session),
        { name: "content-type", value: "application/sdp" },
        { name: "allow", value: ALLOW },
      ],
      body: textBody(sdp),
    });
    this.out.respond(tx, response);
    session.unacked?.stop();
    session.unacked = new AnswerRetransmission(
      cseq,
      response,
      tx.peer,
      this.timers,
      (p, r) => this.out.transmit(p, r),
      () => {
        // The peer never confirmed the session, so take it down (§13.3.1.4).
        this.logger.warn({ callId: session.callId }, "no ACK for 200 OK; ending the call with BYE");
        void this.endFromOurSide(session, "error");
      },
    );
  }

  private onAck(ctx: RequestContext): void {
    const session = this.sessionOf(ctx);
    if (!session?.unacked || session.unacked.cseq !== ctx.cseq.seq) return;
    session.unacked.stop();
    session.unacked = undefined;
    session.reinviteInProgress = false;
  }

  // --- re-INVITE: hold, resume, codec change --------------------------------------------------------

  private onReinvite(ctx: RequestContext, tx: ServerTransaction): void {
    const session = this.sessionOf(ctx);
    if (!session || session.phase !== "answered" || !session.media) return this.out.respond(tx, 481);
    if (!this.checkCSeq(session, ctx, tx)) return;
    if (session.reinviteInProgress || session.unacked) {
      // §14.2: an INVITE is still being answered or awaits its ACK.
      return this.out.respond(tx, 500, { headers: [retryAfter(randomInt(0, 11))] });
    }
    session.reinviteInProgress = true;
    // Offerless re-INVITE: our 200 offers what we answered last, unchanged.
    if (ctx.request.body.length === 0) return this.answer(session, tx, ctx.cseq.seq);
    let negotiated: NegotiatedOffer;
    try {
      negotiated = negotiateOffer(readInviteOffer(ctx.request).sdp, this.options.config.codecs);
      if (negotiated.streams.length < session.offer.streams.length) {
        throw new SdpNegotiationError("no-common-codec", "a re-offer may not remove m= lines");
      }
    } catch (err) {
      session.reinviteInProgress = false;
      // §14.2: a refused re-INVITE leaves the session as it was.
      const status =
        err instanceof InviteOfferError
          ? err.status
          : err instanceof SdpNegotiationError
            ? err.reason === "malformed"
              ? 400
              : 488
            : 0;
      if (status === 0) throw err;
      return this.out.respond(tx, status, {
        headers: [warningHeader(this.out.warnHost, (err as Error).message)],
      });
    }
    const legs = renegotiatedLegs(session.plan, session.offer, negotiated);
    session.offer = negotiated;
    session.media.update(legs);
    session.sdpVersion += 1;
    this.logger.info(
      { callId: session.callId, legs: legs.map((s) => `${s.leg}:${s.codec.name}:${s.direction}`) },
      "call re-negotiated",
    );
    this.answer(session, tx, ctx.cseq.seq);
  }

  // --- CANCEL, BYE, OPTIONS -------------------------------------------------------------------------

  private onCancel(ctx: RequestContext, tx: ServerTransaction): void {
    const invite = this.transactions.inviteFor(ctx.request, ctx.peer);
    if (!invite) return this.out.respond(tx, 481);
    this.out.respond(tx, 200);
    const session = this.byInvite.get(invite);
    if (invite.answered || !session || session.phase !== "setup") return; // too late: the call goes on
    session.phase = "ended";
    session.cancelled = true;
    this.out.respond(invite, 487, { toTag: session.dialog.localTag });
    this.metrics.callsEnded.inc({ reason: "cancel" });
    this.logger.info({ callId: session.callId }, "call cancelled before answer");
    this.forget(session);
    // Media may already be starting (CANCEL during startCall); onInvite ends it when startCall returns.
  }

  private onBye(ctx: RequestContext, tx: ServerTransaction): void {
    const session = this.sessionOf(ctx);
    if (!session) return this.out.respond(tx, 481);
    if (!this.checkCSeq(session, ctx, tx)) return;
    this.out.respond(tx, 200);
    if (session.phase === "setup") {
      // §15.1.2: a BYE in the early dialog ends the pending INVITE too.
      session.phase = "ended";
      session.cancelled = true;
      this.out.respond(session.inviteTx, 487, { toTag: session.dialog.localTag });
      return this.forget(session);
    }
    if (session.phase === "ended") return;
    session.phase = "ended";
    session.unacked?.stop();
    this.forget(session);
    this.metrics.callsEnded.inc({ reason: "bye" });
    this.logger.info({ callId: session.callId }, "call ended by the peer's BYE");
    session.ended = (session.media?.end("bye") ?? Promise.resolve()).catch((err: unknown) =>
      this.logger.error({ callId: session.callId, err }, "media did not end cleanly"),
    );
  }

  private onOptions(ctx: RequestContext, tx: ServerTransaction): void {
    const inDialog = ctx.to.params.tag !== undefined;
    const session = inDialog ? this.sessionOf(ctx) : undefined;
    if (inDialog && !session) return this.out.respond(tx, 481);
    // An SBC probes recorders with OPTIONS; 503 steers it elsewhere while we cannot take calls.
    const ready = session !== undefined || this.unavailable() === undefined;
    const headers: SipHeader[] = [
      { name: "allow", value: ALLOW },
      { name: "accept", value: ACCEPTED_BODY_TYPES.join(", ") },
      { name: "accept-encoding", value: "identity" },
      { name: "supported", value: SUPPORTED_EXTENSIONS.join(", ") },
    ];
    if (!ready) headers.push(retryAfter(this.options.config.retryAfterSeconds));
    this.out.respond(tx, ready ? 200 : 503, { headers });
  }

  // --- ending a call from our side ------------------------------------------------------------------

  /** Media timeout, media error, missing ACK or shutdown: BYE the peer and end the media. */
  private endFromOurSide(session: CallSession, reason: CallEndReason): Promise<void> {
    if (session.ended) return session.ended;
    const wasAnswered = session.phase === "answered";
    if (session.phase === "setup" && !session.inviteTx.answered) {
      this.out.respond(session.inviteTx, 503, {
        toTag: session.dialog.localTag,
        headers: [retryAfter(this.options.config.retryAfterSeconds)],
      });
    }
    session.phase = "ended";
    session.unacked?.stop();
    this.forget(session);
    this.metrics.callsEnded.inc({ reason });
    this.logger.info({ callId: session.callId, reason }, "ending call from our side");
    const tasks: Promise<unknown>[] = [];
    if (wasAnswered) tasks.push(this.sendBye(session, reason));
    if (session.media) tasks.push(session.media.end(reason));
    session.ended = Promise.all(tasks).then(
      () => undefined,
      (err: unknown) => this.logger.warn({ callId: session.callId, err }, "call did not end cleanly"),
    );
    return session.ended;
  }

  private async sendBye(session: CallSession, reason: CallEndReason): Promise<void> {
    const text =
      reason === "media-timeout"
        ? "RTP timeout"
        : reason === "shutdown"
          ? "recorder shutting down"
          : "recorder error";
    const bye = inDialogRequest(session.dialog, "BYE", this.options.local, [
      { name: "reason", value: `SIP;cause=${reason === "shutdown" ? 503 : 408};text="${text}"` },
    ]);
    const hop = nextHop(session.dialog, this.options.isOpen(session.dialog.peer));
    try {
      const response = await this.clients.request(bye, hop);
      this.logger.info({ callId: session.callId, status: response.status }, "our BYE was answered");
    } catch (err) {
      this.logger.warn({ callId: session.callId, err }, "our BYE got no answer");
    }
  }

  // --- helpers --------------------------------------------------------------------------------------

  private sessionOf(ctx: RequestContext): CallSession | undefined {
    const localTag = ctx.to.params.tag;
    if (localTag === undefined) return undefined;
    return this.sessions.get(dialogKey(ctx.callId, localTag, ctx.from.params.tag ?? ""));
  }

  /** §12.2.2: an in-dialog request with a CSeq at or below the last one is out of order. */
  private checkCSeq(session: CallSession, ctx: RequestContext, tx: ServerTransaction): boolean {
    if (ctx.cseq.seq <= session.dialog.remoteCSeq) {
      this.out.respond(tx, 500, { reason: "Out of Order CSeq" });
      return false;
    }
    session.dialog.remoteCSeq = ctx.cseq.seq;
    return true;
  }

  private forget(session: CallSession): void {
    const d = session.dialog;
    const key = dialogKey(d.sipCallId, d.localTag, d.remoteTag);
    if (this.sessions.get(key) === session) this.sessions.delete(key);
    this.byInvite.delete(session.inviteTx);
  }

  private releasePorts(session: CallSession): void {
    for (const port of session.ports.values()) port.release();
    session.ports.clear();
  }

  private failSetup(ctx: RequestContext, tx: ServerTransaction, err: unknown): void {
    this.logger.error({ err, sipCallId: ctx.callId }, "INVITE handling failed");
    const session = this.byInvite.get(tx);
    if (session) {
      session.phase = "ended";
      this.releasePorts(session);
      this.forget(session);
    }
    this.out.respond(tx, 500);
  }

  private contactHeader(session: CallSession): SipHeader {
    const { address, port } = this.options.local;
    const host = address.includes(":") ? `[${address}]` : address;
    const transport = session.dialog.peer.transport === "tcp" ? ";transport=tcp" : "";
    // RFC 7866 §6.1.1: an SRS marks its Contact with +sip.srs.
    return {
      name: "contact",
      value: `<sip:ingest@${host}:${port}${transport}>${session.siprec ? ";+sip.srs" : ""}`,
    };
  }
}

/** A request from a forbidden source still gets its 403 when it carries what a response needs. */
function canReply(message: SipMessage): boolean {
  const names = new Set(message.headers.map((h) => h.name));
  return ["via", "from", "to", "call-id", "cseq"].every((n) => names.has(n));
}
