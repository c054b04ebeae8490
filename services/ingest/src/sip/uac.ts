import { randomInt } from "node:crypto";
import { parse as parseSdp } from "sdp-transform";
import { ClientTransactions, SipTimeoutError } from "./client-transactions.ts";
import { authorizationFor, parseDigestParams } from "./digest-auth.ts";
import { formatVia, parseNameAddr, parseSipUri } from "./header-values.ts";
import {
  bodyText,
  getHeader,
  getHeaderValues,
  serializeSipMessage,
  textBody,
  type SipHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from "./message.ts";
import { newBranch, newTag, responseTo } from "./responses.ts";
import { timersFromT1 } from "./transactions.ts";
import { startTcpTransport } from "./transport-tcp.ts";
import { startUdpTransport } from "./transport-udp.ts";
import type { SipPeer, SipTransport } from "./transport.ts";

/**
 * A minimal user agent client for the `play` command: INVITE with an offer, ACK, BYE, and a BYE
 * from the far end. Not a general-purpose UAC: no forking, no re-INVITE of its own.
 */

export class CallRefusedError extends Error {
  override readonly name = "CallRefusedError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface UacOptions {
  /** sip:user@host:port of ingest. */
  target: string;
  transport: "udp" | "tcp";
  localAddress: string;
  from: string;
  body: { contentType: string; content: string };
  extraHeaders?: SipHeader[];
  credentials?: { username: string; password: string };
  t1Ms?: number;
}

export interface AnsweredCall {
  /** The answer's streams in offer order: where to send RTP, or port 0 for a refused stream. */
  streams: { address: string; port: number }[];
  /** Resolves with the BYE's Reason header if the far end hangs up first. */
  remoteHangup: Promise<string>;
  hangUp(): Promise<void>;
  close(): Promise<void>;
}

export async function placeCall(options: UacOptions): Promise<AnsweredCall> {
  const uri = parseSipUri(options.target);
  const peer: SipPeer = { transport: options.transport, address: uri.host, port: uri.port ?? 5060 };
  const holder: { transport?: SipTransport } = {};
  const timers = timersFromT1(options.t1Ms ?? 500);
  const send = async (to: SipPeer, message: SipMessage) =>
    holder.transport!.send(to, serializeSipMessage(message));
  const clients = new ClientTransactions(timers, send);
  let onRequest: (request: SipRequest, from: SipPeer) => void = () => undefined;
  let onStray: (response: SipResponse) => void = () => undefined;
  const handlers = {
    onMessage: (message: SipMessage, from: SipPeer) => {
      if (message.kind === "response") {
        if (!clients.receiveResponse(message)) onStray(message);
      } else onRequest(message, from);
    },
    onParseError: () => undefined,
  };
  const transport =
    options.transport === "udp"
      ? await startUdpTransport({ host: options.localAddress, port: 0, handlers })
      : await startTcpTransport({ host: options.localAddress, port: 0, handlers });
  holder.transport = transport;
  const local = { address: options.localAddress, port: transport.port };
  const hostPort = `${local.address.includes(":") ? `[${local.address}]` : local.address}:${local.port}`;
  const callId = `${newTag()}${newTag()}@play`;
  const fromValue = `<${options.from}>;tag=${newTag()}`;
  const contact = `<sip:play@${hostPort}${options.transport === "tcp" ? ";transport=tcp" : ""}>`;
  let cseq = randomInt(1, 10_000);

  const request = (
    method: string,
    requestUri: string,
    to: string,
    extra: SipHeader[] = [],
    body?: UacOptions["body"],
  ): SipRequest => ({
    kind: "request",
    method,
    uri: requestUri,
    headers: [
      {
        name: "via",
        value: formatVia({
          transport: options.transport.toUpperCase(),
          host: local.address,
          port: local.port,
          params: { branch: newBranch(), rport: "" },
        }),
      },
      { name: "max-forwards", value: "70" },
      { name: "from", value: fromValue },
      { name: "to", value: to },
      { name: "call-id", value: callId },
      { name: "cseq", value: `${method === "ACK" ? cseq : ++cseq} ${method}` },
      { name: "contact", value: contact },
      { name: "user-agent", value: "callscribe-play" },
      ...extra,
      ...(body ? [{ name: "content-type", value: body.contentType }] : []),
    ],
    body: body ? textBody(body.content) : new Uint8Array(0),
  });

  const close = async () => {
    clients.abortAll("closing");
    await transport.close();
  };

  try {
    let invite = request("INVITE", options.target, `<${options.target}>`, options.extraHeaders, options.body);
    let response = await clients.request(invite, peer);
    if ((response.status === 401 || response.status === 407) && options.credentials) {
      const challenge = parseDigestParams(
        getHeader(response, response.status === 401 ? "www-authenticate" : "proxy-authenticate") ?? "",
      );
      if (challenge) {
        const auth = authorizationFor(challenge, options.credentials, "INVITE", options.target);
        const header = response.status === 401 ? "authorization" : "proxy-authorization";
        invite = request(
          "INVITE",
          options.target,
          `<${options.target}>`,
          [...(options.extraHeaders ?? []), { name: header, value: auth }],
          options.body,
        );
        response = await clients.request(invite, peer);
      }
    }
    if (response.status >= 300) throw refused(response);

    const to = getHeader(response, "to")!;
    const remoteContact = getHeaderValues(response, "contact")[0];
    const remoteTarget = remoteContact ? parseNameAddr(remoteContact).uri : options.target;
    const ack = request("ACK", remoteTarget, to);
    await send(peer, ack);
    // A retransmitted 200 means our ACK was lost: send it again (§13.2.2.4).
    onStray = (r) => {
      if (r.status >= 200 && r.status < 300 && getHeader(r, "cseq")?.endsWith("INVITE"))
        void send(peer, ack).catch(() => undefined);
    };
    let hungUp = false;
    const remoteHangup = new Promise<string>((resolve) => {
      onRequest = (req, from) => {
        const reply = (status: number) =>
          void send(from, responseTo(req, status, { peer: from })).catch(() => undefined);
        if (req.method === "BYE") {
          reply(200);
          hungUp = true;
          resolve(getHeader(req, "reason") ?? "no reason given");
        } else if (req.method === "OPTIONS") reply(200);
        else if (req.method !== "ACK") reply(405);
      };
    });
    return {
      streams: answerStreams(bodyText(response.body)),
      remoteHangup,
      hangUp: async () => {
        if (hungUp) return;
        const bye = await clients.request(request("BYE", remoteTarget, to), peer);
        if (bye.status >= 300) throw refused(bye);
      },
      close,
    };
  } catch (err) {
    await close();
    if (err instanceof SipTimeoutError) {
      throw new CallRefusedError(
        408,
        `no answer from ${options.target} over ${options.transport}: ${err.message}`,
      );
    }
    throw err;
  }
}

function refused(response: SipResponse): CallRefusedError {
  const details = [
    getHeader(response, "warning"),
    getHeader(response, "retry-after") && `retry after ${getHeader(response, "retry-after")} s`,
  ]
    .filter(Boolean)
    .join("; ");
  return new CallRefusedError(
    response.status,
    `ingest answered ${response.status} ${response.reason}${details ? ` (${details})` : ""}`,
  );
}

function answerStreams(sdp: string): { address: string; port: number }[] {
  const parsed = parseSdp(sdp);
  return (parsed.media ?? []).map((m) => ({
    address: m.connection?.ip ?? parsed.connection?.ip ?? "",
    port: m.port,
  }));
}
