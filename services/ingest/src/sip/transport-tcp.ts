import { connect, createServer, type Server, type Socket } from "node:net";
import { defaultSipParseLimits, type SipParseError, type SipParseLimits } from "./parser.ts";
import { SipStreamFramer } from "./stream-framer.ts";
import {
  SipTransportError,
  peerKey,
  type SipPeer,
  type SipTransport,
  type SipTransportHandlers,
} from "./transport.ts";

export interface TcpTransportOptions {
  host: string;
  port: number;
  handlers: SipTransportHandlers;
  limits?: SipParseLimits;
  /** Connections beyond this are refused, so a flood of idle sockets cannot exhaust memory. */
  maxConnections?: number;
  /** A connection that carries nothing for this long is closed; calls keep theirs alive with in-dialog requests. */
  idleTimeoutMs?: number;
}

/** SIP over TCP, framed by Content-Length (RFC 3261 §18.3); responses go back on the request's connection. */
export async function startTcpTransport(options: TcpTransportOptions): Promise<SipTransport> {
  const limits = options.limits ?? defaultSipParseLimits;
  const connections = new Map<string, Socket>();
  const idleTimeoutMs = options.idleTimeoutMs ?? 15 * 60_000;

  const adopt = (socket: Socket): SipPeer | undefined => {
    if (!socket.remoteAddress || socket.remotePort === undefined) {
      socket.destroy();
      return undefined;
    }
    const peer: SipPeer = { transport: "tcp", address: socket.remoteAddress, port: socket.remotePort };
    const key = peerKey(peer);
    connections.set(key, socket);
    const framer = new SipStreamFramer(limits);
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      let items;
      try {
        items = framer.push(chunk);
      } catch (err) {
        // Framing is lost: the rest of the stream cannot be read, so the connection goes.
        options.handlers.onParseError(err as SipParseError, peer, true);
        socket.destroy();
        return;
      }
      for (const item of items) {
        if (item.kind === "keepalive") socket.write("\r\n");
        else if (item.kind === "invalid") options.handlers.onParseError(item.error, peer, false);
        else options.handlers.onMessage(item.message, peer);
      }
    });
    socket.on("error", () => undefined); // resets are normal; "close" follows
    socket.on("close", () => {
      if (connections.get(key) === socket) connections.delete(key);
    });
    return peer;
  };

  const server: Server = createServer((socket) => {
    if (connections.size >= (options.maxConnections ?? 4096)) {
      socket.destroy();
      return;
    }
    adopt(socket);
  });
  server.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  const open = (peer: SipPeer) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: peer.address, port: peer.port });
      socket.once("connect", () => {
        socket.off("error", reject);
        adopt(socket);
        // The peer reaches us back on this connection; remember it under the address we dialled too.
        connections.set(peerKey(peer), socket);
        resolve(socket);
      });
      socket.once("error", (err) =>
        reject(new SipTransportError(`TCP connect to ${peer.address}:${peer.port} failed`, { cause: err })),
      );
    });

  return {
    kind: "tcp",
    port,
    async send(peer, bytes) {
      let socket = connections.get(peerKey(peer));
      if (!socket || socket.destroyed) socket = await open(peer);
      await new Promise<void>((resolve, reject) =>
        socket.write(bytes, (err) =>
          err
            ? reject(new SipTransportError(`TCP send to ${peer.address}:${peer.port} failed`, { cause: err }))
            : resolve(),
        ),
      );
    },
    isOpen: (peer) => {
      const socket = connections.get(peerKey(peer));
      return socket !== undefined && !socket.destroyed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of connections.values()) socket.destroy();
        connections.clear();
        server.close(() => resolve());
      }),
  };
}
