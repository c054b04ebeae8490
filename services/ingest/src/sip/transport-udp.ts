import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { parseSipMessage, defaultSipParseLimits, type SipParseError, type SipParseLimits } from "./parser.ts";
import {
  SipTransportError,
  type SipPeer,
  type SipTransport,
  type SipTransportHandlers,
} from "./transport.ts";

/** SIP over UDP: one message per datagram (RFC 3261 §18.1.1, §18.2.1). */
export async function startUdpTransport(options: {
  host: string;
  port: number;
  handlers: SipTransportHandlers;
  limits?: SipParseLimits;
}): Promise<SipTransport> {
  const limits = options.limits ?? defaultSipParseLimits;
  const socket: Socket = createSocket({ type: isIPv6(options.host) ? "udp6" : "udp4", reuseAddr: false });
  socket.on("message", (bytes, rinfo) => {
    const peer: SipPeer = { transport: "udp", address: rinfo.address, port: rinfo.port };
    // A datagram of line breaks only is a keep-alive (RFC 5626 §4.4.1 uses STUN; many peers send CRLF).
    if (bytes.every((b) => b === 0x0d || b === 0x0a)) return;
    let message;
    try {
      message = parseSipMessage(bytes, "udp", limits);
    } catch (err) {
      options.handlers.onParseError(err as SipParseError, peer, false);
      return;
    }
    options.handlers.onMessage(message, peer);
  });
  // Errors on an unconnected UDP socket are per-datagram (ICMP unreachable); they must not kill the server.
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port, options.host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return {
    kind: "udp",
    port,
    send: (peer, bytes) =>
      new Promise<void>((resolve, reject) => {
        socket.send(bytes, peer.port, peer.address, (err) =>
          err
            ? reject(new SipTransportError(`UDP send to ${peer.address}:${peer.port} failed`, { cause: err }))
            : resolve(),
        );
      }),
    isOpen: () => true,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
