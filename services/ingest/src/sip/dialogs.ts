import { getHeaderValues, type SipHeader, type SipRequest } from "./message.ts";
import { formatVia, parseNameAddr, parseSipUri } from "./header-values.ts";
import { newBranch } from "./responses.ts";
import type { RequestContext } from "./request-context.ts";
import type { SipPeer } from "./transport.ts";

/** A dialog as seen by the UAS (RFC 3261 §12.1.1), identified by Call-ID and both tags. */
export interface Dialog {
  sipCallId: string;
  localTag: string;
  remoteTag: string;
  /** Our To header value, with our tag: the From of requests we send. */
  localUri: string;
  /** The peer's From header value: the To of requests we send. */
  remoteUri: string;
  /** Contact URI of the peer: the Request-URI of requests we send. */
  remoteTarget: string;
  /** Record-Route of the INVITE, in order (§12.1.1). */
  routeSet: string[];
  remoteCSeq: number;
  localCSeq: number;
  /** Where the INVITE came from; TCP requests go back on that connection while it is open. */
  peer: SipPeer;
}

export const dialogKey = (sipCallId: string, localTag: string, remoteTag: string) =>
  `${sipCallId}|${localTag}|${remoteTag}`;

/** The dialog an INVITE creates when we answer with `localTag`. */
export function uasDialog(ctx: RequestContext, localTag: string): Dialog {
  const contact = getHeaderValues(ctx.request, "contact")[0];
  const remoteTarget = contact ? parseNameAddr(contact).uri : ctx.from.uri;
  return {
    sipCallId: ctx.callId,
    localTag,
    remoteTag: ctx.from.params.tag ?? "",
    localUri: `${ctx.request.headers.find((h) => h.name === "to")!.value};tag=${localTag}`,
    remoteUri: ctx.request.headers.find((h) => h.name === "from")!.value,
    remoteTarget,
    routeSet: getHeaderValues(ctx.request, "record-route"),
    remoteCSeq: ctx.cseq.seq,
    localCSeq: Math.floor(Math.random() * 10_000),
    peer: ctx.peer,
  };
}

/**
 * Where a request we send in the dialog goes: over TCP, the INVITE's own connection while it is
 * open (RFC 5923 reuse); otherwise the first Route if there is a route set, else the remote target.
 */
export function nextHop(dialog: Dialog, inviteConnectionOpen: boolean): SipPeer {
  if (dialog.peer.transport === "tcp" && inviteConnectionOpen) return dialog.peer;
  const target = dialog.routeSet[0] ? parseNameAddr(dialog.routeSet[0]).uri : dialog.remoteTarget;
  try {
    const uri = parseSipUri(target);
    return { transport: dialog.peer.transport, address: uri.host, port: uri.port ?? 5060 };
  } catch {
    return dialog.peer;
  }
}

/** A request within the dialog (§12.2.1.1), e.g. our BYE. */
export function inDialogRequest(
  dialog: Dialog,
  method: string,
  local: { address: string; port: number },
  extra: SipHeader[] = [],
): SipRequest {
  dialog.localCSeq += 1;
  const via = formatVia({
    transport: dialog.peer.transport.toUpperCase(),
    host: local.address.includes(":") ? `[${local.address}]` : local.address,
    port: local.port,
    params: { branch: newBranch(), rport: "" },
  });
  return {
    kind: "request",
    method,
    uri: dialog.remoteTarget,
    headers: [
      { name: "via", value: via },
      { name: "max-forwards", value: "70" },
      ...dialog.routeSet.map((value) => ({ name: "route", value })),
      { name: "from", value: dialog.localUri },
      { name: "to", value: dialog.remoteUri },
      { name: "call-id", value: dialog.sipCallId },
      { name: "cseq", value: `${dialog.localCSeq} ${method}` },
      ...extra,
    ],
    body: new Uint8Array(0),
  };
}
