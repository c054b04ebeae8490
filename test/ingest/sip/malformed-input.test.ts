import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueCallId } from "../../support/infra.ts";
import { CallWatcher, startTestIngest, waitFor, type TestIngest } from "./support/harness.ts";

/** What a peer sees of a response: its status and headers, read from raw bytes. */
interface RawResponse {
  status: number;
  headers: Map<string, string>;
}

function readResponse(text: string): RawResponse {
  const [start = "", ...lines] = text.split("\r\n");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(start.split(" ")[1]), headers };
}

const latin1 = (text: string) => Buffer.from(text, "latin1");

/** A SIP request as raw bytes; `omit` drops headers by name, `extra` adds lines, Content-Length is computed. */
function request(
  method: string,
  options: {
    callId?: string;
    omit?: string[];
    extra?: string[];
    from?: string;
    body?: string;
    local: string;
  },
): Buffer {
  const callId = options.callId ?? uniqueCallId("raw");
  const lines = [
    `${method} sip:record@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${options.local};branch=z9hG4bK${callId.replace(/-/g, "")}${method}`,
    `From: ${options.from ?? "<sip:probe@127.0.0.1>"};tag=f${callId.slice(-6)}`,
    "To: <sip:record@127.0.0.1>",
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    "Max-Forwards: 70",
    ...(options.extra ?? []),
  ].filter((line) => !(options.omit ?? []).some((name) => line.toLowerCase().startsWith(`${name}:`)));
  const body = latin1(options.body ?? "");
  return Buffer.concat([latin1([...lines, `Content-Length: ${body.length}`, "", ""].join("\r\n")), body]);
}

/** One TCP connection to ingest, reading responses as they arrive on it. */
class TcpPeer {
  private buffer = Buffer.alloc(0);
  private readonly responses: RawResponse[] = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const end = this.buffer.indexOf("\r\n\r\n");
        if (end < 0) break;
        const head = this.buffer.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buffer.length < end + 4 + length) break;
        this.responses.push(readResponse(head));
        this.buffer = this.buffer.subarray(end + 4 + length);
      }
    });
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }

  static open(port: number): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new TcpPeer(socket)));
      socket.once("error", reject);
    });
  }

  get local(): string {
    return `TCP 127.0.0.1:${this.socket.localPort}`;
  }

  /** Sends bytes and waits for the next final response on the connection. */
  async exchange(bytes: Buffer): Promise<RawResponse> {
    const before = this.responses.length;
    this.socket.write(bytes);
    return waitFor(
      () => this.responses.slice(before).find((r) => r.status >= 200) ?? (this.closed ? null : undefined),
      5000,
      "a response on the TCP connection",
    ).then((r) => {
      if (r === null) throw new Error("ingest closed the TCP connection instead of answering");
      return r;
    });
  }
}

class UdpPeer {
  readonly responses: RawResponse[] = [];
  private constructor(readonly socket: UdpSocket) {
    socket.on("message", (data) => this.responses.push(readResponse(data.toString("latin1"))));
  }

  static async open(): Promise<UdpPeer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    return new UdpPeer(socket);
  }

  get local(): string {
    return `UDP 127.0.0.1:${this.socket.address().port}`;
  }

  async exchange(port: number, bytes: Buffer, status = (s: number) => s >= 200): Promise<RawResponse> {
    const before = this.responses.length;
    this.socket.send(bytes, port, "127.0.0.1");
    return waitFor(
      () => this.responses.slice(before).find((r) => status(r.status)),
      5000,
      "a response over UDP",
    );
  }

  close(): void {
    this.socket.close();
  }
}

const offer = (rtpPort: number) =>
  [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${rtpPort} RTP/AVP 0`,
    "a=rtpmap:0 PCMU/8000",
    "",
  ].join("\r\n");

describe("SIP input real peers send", () => {
  let t: TestIngest;
  let watcher: CallWatcher;
  beforeAll(async () => {
    t = await startTestIngest();
    watcher = new CallWatcher(t.messaging);
    await watcher.ready(t.messaging);
  });
  afterAll(async () => {
    watcher?.close();
    await t?.close();
  });

  it("answers an INVITE with an ISO-8859-1 display name over UDP and keeps the name", async () => {
    const peer = await UdpPeer.open();
    try {
      const callId = uniqueCallId("latin1");
      const from = '"Jos\xe9 M\xfcller" <sip:jose@127.0.0.1>';
      const invite = request("INVITE", {
        callId,
        from,
        local: peer.local,
        extra: ["Contact: <sip:jose@127.0.0.1>", "Content-Type: application/sdp"],
        body: offer(40_000),
      });
      const answer = await peer.exchange(t.ingest.sipPort, invite);
      expect(answer.status).toBe(200);
      const started = await watcher.waitForStarted(callId);
      expect(started.metadata.fromName).toBe("José Müller");
      const toTag = /;tag=([^;]+)/.exec(answer.headers.get("to") ?? "")?.[1];
      const inDialog = (method: string, cseq: number) =>
        Buffer.from(
          request(method, { callId, from, local: peer.local })
            .toString("latin1")
            .replace("To: <sip:record@127.0.0.1>", `To: <sip:record@127.0.0.1>;tag=${toTag}`)
            .replace(`CSeq: 1 ${method}`, `CSeq: ${cseq} ${method}`),
          "latin1",
        );
      peer.socket.send(inDialog("ACK", 1), t.ingest.sipPort, "127.0.0.1");
      expect((await peer.exchange(t.ingest.sipPort, inDialog("BYE", 2))).status).toBe(200);
      expect((await watcher.waitForEnded(started.callId)).reason).toBe("bye");
    } finally {
      peer.close();
    }
  });

  it("answers 400 over UDP to requests missing Call-ID, or Via and CSeq", async () => {
    const peer = await UdpPeer.open();
    try {
      const noCallId = await peer.exchange(
        t.ingest.sipPort,
        request("OPTIONS", { local: peer.local, omit: ["call-id"] }),
      );
      expect(noCallId.status).toBe(400);
      const noViaCSeq = await peer.exchange(
        t.ingest.sipPort,
        request("OPTIONS", { local: peer.local, omit: ["via", "cseq"] }),
      );
      expect(noViaCSeq.status).toBe(400);
      expect(noViaCSeq.headers.get("warning")).toMatch(/Via/);
    } finally {
      peer.close();
    }
  });

  it("answers each malformed message on a TCP connection and keeps the connection open", async () => {
    const peer = await TcpPeer.open(t.ingest.sipPort);
    try {
      const local = peer.local;
      const latin1Invite = request("INVITE", {
        from: '"Jos\xe9 M\xfcller" <sip:jose@127.0.0.1>',
        local,
        extra: ["Contact: <sip:jose@127.0.0.1>", "Content-Type: application/sdp"],
        body: offer(40_002),
      });
      const answered = await peer.exchange(latin1Invite);
      expect(answered.status).toBe(200);

      const nul = await peer.exchange(request("OPTIONS", { local, extra: ["X-Note: a\x00b"] }));
      expect(nul.status).toBe(400);
      expect(nul.headers.get("call-id")).toBeTruthy();

      const bigHeader = await peer.exchange(
        request("OPTIONS", { local, extra: [`X-Big: ${"a".repeat(64 * 1024)}`] }),
      );
      expect(bigHeader.status).toBe(400);
      expect(bigHeader.headers.get("cseq")).toBe("1 OPTIONS");

      const bigBody = await peer.exchange(request("MESSAGE", { local, body: "b".repeat(70_000) }));
      expect(bigBody.status).toBe(413);

      expect((await peer.exchange(request("OPTIONS", { local, omit: ["call-id"] }))).status).toBe(400);
      expect((await peer.exchange(request("OPTIONS", { local, omit: ["via", "cseq"] }))).status).toBe(400);

      // The connection still carries calls: a well-formed OPTIONS gets its 200 on it.
      expect((await peer.exchange(request("OPTIONS", { local }))).status).toBe(200);
      expect(peer.closed).toBe(false);
    } finally {
      peer.socket.destroy();
    }
  });
});
