import { networkInterfaces } from "node:os";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Messaging } from "@callscribe/messaging";
import type { IngestConfig } from "./config.ts";
import { createMediaGateway, type MediaGateway } from "./media/index.ts";
import { serializeSipMessage } from "./sip/message.ts";
import { SipUserAgentServer } from "./sip/uas.ts";
import { startTcpTransport } from "./sip/transport-tcp.ts";
import { startUdpTransport } from "./sip/transport-udp.ts";
import type { SipTransport, SipTransportHandlers } from "./sip/transport.ts";

export interface IngestDeps {
  messaging: Messaging;
  logger: Logger;
  registry: Registry;
}

export interface Ingest {
  /** The SIP port bound for UDP and TCP (the configured one, or the one picked for port 0). */
  sipPort: number;
  uas: SipUserAgentServer;
  media: MediaGateway;
  /** Readiness: NATS up, media can take calls, and we are not draining. */
  ready(): boolean;
  /** Drain step 1: new INVITEs get 503. */
  stopAcceptingCalls(): void;
  /** Drain step 2: BYE every live call, end its media. */
  endAllCalls(): Promise<void>;
  /** Closes SIP transports and the media gateway. */
  close(): Promise<void>;
}

/** Builds the whole service from config and clients; main.ts and the tests use this same wiring. */
export async function createIngest(config: IngestConfig, deps: IngestDeps): Promise<Ingest> {
  const media = createMediaGateway({
    host: config.media.host,
    portMin: config.media.portMin,
    portMax: config.media.portMax,
    messaging: deps.messaging,
    logger: deps.logger.child({ component: "media" }),
    registry: deps.registry,
    frameMs: config.media.frameMs,
    mediaTimeoutMs: config.media.mediaTimeoutMs,
    jitterDelayMs: config.media.jitterDelayMs,
    maxBufferedFramesPerCall: config.media.maxBufferedFramesPerCall,
  });
  const transports = new Map<string, SipTransport>();
  const advertised = isWildcard(config.sip.host)
    ? (config.sip.advertisedAddress ?? firstExternalIpv4() ?? "127.0.0.1")
    : config.sip.host;
  const local = { address: advertised, port: config.sip.port };
  // SDP c= names where RTP sockets listen: the media bind address when it is a specific one.
  const mediaAddress = isWildcard(config.media.host) ? advertised : config.media.host;
  const uas = new SipUserAgentServer({
    config: config.sip,
    media,
    logger: deps.logger.child({ component: "sip" }),
    registry: deps.registry,
    local,
    mediaAddress,
    send: async (peer, message) => {
      const transport = transports.get(peer.transport);
      if (!transport) throw new Error(`no ${peer.transport} transport is running`);
      await transport.send(peer, serializeSipMessage(message));
    },
    isOpen: (peer) => transports.get(peer.transport)?.isOpen(peer) ?? false,
  });
  const handlers: SipTransportHandlers = {
    onMessage: (message, peer) => uas.handleMessage(message, peer),
    onParseError: (error, peer) => uas.handleParseError(error, peer),
  };
  try {
    const bound = await bindSip(config, handlers);
    for (const t of bound) transports.set(t.kind, t);
  } catch (err) {
    await media.close();
    throw err;
  }
  local.port = [...transports.values()][0]!.port;
  let draining = false;
  return {
    sipPort: local.port,
    uas,
    media,
    ready: () => !draining && deps.messaging.isConnected() && media.canAcceptCalls(),
    stopAcceptingCalls: () => {
      draining = true;
      uas.stopAcceptingCalls();
    },
    endAllCalls: () => uas.endAllCalls("shutdown"),
    close: async () => {
      await Promise.all([...transports.values()].map((t) => t.close()));
      await media.close();
    },
  };
}

/** UDP and TCP on one port number; with port 0, the port UDP got is tried for TCP until both fit. */
async function bindSip(config: IngestConfig, handlers: SipTransportHandlers): Promise<SipTransport[]> {
  const { host, port, udp, tcp } = config.sip;
  for (let attempt = 0; ; attempt++) {
    const bound: SipTransport[] = [];
    try {
      if (udp) bound.push(await startUdpTransport({ host, port, handlers }));
      const chosen = bound[0]?.port ?? port;
      if (tcp) bound.push(await startTcpTransport({ host, port: chosen, handlers }));
      return bound;
    } catch (err) {
      await Promise.all(bound.map((t) => t.close()));
      const inUse = (err as NodeJS.ErrnoException).code === "EADDRINUSE";
      if (port !== 0 || !inUse || attempt >= 20) throw err;
    }
  }
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "";

function firstExternalIpv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === "IPv4" && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}
