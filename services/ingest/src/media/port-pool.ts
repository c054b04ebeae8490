import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { InvalidArgumentError, ResourceExhaustedError } from "@callscribe/errors";

/** One m= stream's sockets: RTP on an even port, RTCP on the next one (RFC 3550 11). */
export interface RtpSocketPair {
  port: number;
  rtp: Socket;
  rtcp: Socket;
}

/**
 * Even ports of [portMin, portMax] handed out round-robin, so a port just released is the last to be
 * reused and stray packets of an ended call rarely reach the next one. A port another process holds is
 * skipped.
 */
export class PortPool {
  private readonly first: number;
  private readonly count: number;
  private readonly inUse = new Set<number>();
  private cursor = 0;

  constructor(private readonly options: { host: string; portMin: number; portMax: number }) {
    const { portMin, portMax } = options;
    this.first = portMin % 2 === 0 ? portMin : portMin + 1;
    if (
      !Number.isInteger(portMin) ||
      !Number.isInteger(portMax) ||
      portMin < 1 ||
      portMax > 65535 ||
      this.first + 1 > portMax
    ) {
      throw new InvalidArgumentError(
        `RTP port range ${portMin}-${portMax} holds no even port with its odd successor; widen the range`,
      );
    }
    this.count = Math.floor((portMax - this.first + 1) / 2);
  }

  get size(): number {
    return this.count;
  }

  get used(): number {
    return this.inUse.size;
  }

  async reserve(): Promise<RtpSocketPair> {
    for (let tried = 0; tried < this.count; tried++) {
      const port = this.first + 2 * this.cursor;
      this.cursor = (this.cursor + 1) % this.count;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const pair = await this.bindPair(port);
      if (pair) return pair;
      this.inUse.delete(port);
    }
    throw new ResourceExhaustedError(
      `all ${this.count} RTP ports of ${this.options.portMin}-${this.options.portMax} are in use; ` +
        "widen the port range or lower the call limit",
    );
  }

  /** Closes the sockets and returns the port to the pool. Safe to call twice. */
  release(pair: RtpSocketPair): void {
    if (!this.inUse.delete(pair.port)) return;
    closeQuietly(pair.rtp);
    closeQuietly(pair.rtcp);
  }

  private async bindPair(port: number): Promise<RtpSocketPair | undefined> {
    const rtp = await this.bind(port);
    if (!rtp) return undefined;
    const rtcp = await this.bind(port + 1);
    if (!rtcp) {
      closeQuietly(rtp);
      return undefined;
    }
    return { port, rtp, rtcp };
  }

  private bind(port: number): Promise<Socket | undefined> {
    const socket = createSocket({ type: isIPv6(this.options.host) ? "udp6" : "udp4" });
    return new Promise((resolve) => {
      const onError = () => {
        closeQuietly(socket);
        resolve(undefined);
      };
      socket.once("error", onError);
      socket.bind(port, this.options.host, () => {
        socket.off("error", onError);
        resolve(socket);
      });
    });
  }
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
