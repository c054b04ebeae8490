import type { SipMessage } from "./message.ts";
import type { SipParseError, SipTransportKind } from "./parser.ts";

/** Where a message came from, or goes to; for TCP it also names the connection. */
export interface SipPeer {
  transport: SipTransportKind;
  address: string;
  port: number;
}

export interface SipTransportHandlers {
  onMessage(message: SipMessage, peer: SipPeer): void;
  /** Bytes that are not a SIP message; `fatal` when a TCP connection lost framing and was closed. */
  onParseError(error: SipParseError, peer: SipPeer, fatal: boolean): void;
}

export interface SipTransport {
  readonly kind: SipTransportKind;
  /** The port actually bound (useful when configured as 0). */
  readonly port: number;
  /** Sends bytes to a peer: UDP as one datagram; TCP on the peer's open connection, or a new one. */
  send(peer: SipPeer, bytes: Uint8Array): Promise<void>;
  /** TCP: whether a connection to this peer is open (UDP: always true). */
  isOpen(peer: SipPeer): boolean;
  close(): Promise<void>;
}

export const peerKey = (peer: SipPeer) => `${peer.transport}:${peer.address}:${peer.port}`;

export class SipTransportError extends Error {
  override readonly name = "SipTransportError";
}
