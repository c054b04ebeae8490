import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SipParseError, parseSipMessage } from "../../../services/ingest/src/sip/parser.ts";
import { SipStreamFramer } from "../../../services/ingest/src/sip/stream-framer.ts";
import { InviteOfferError, readInviteOffer } from "../../../services/ingest/src/sip/invite-offer.ts";
import { SdpNegotiationError, negotiateOffer } from "../../../services/ingest/src/sip/sdp-negotiation.ts";
import { requestContext } from "../../../services/ingest/src/sip/request-context.ts";
import { startTestIngest, waitFor, type TestIngest } from "./support/harness.ts";
import { mutate, prng, seeds } from "./support/mutations.ts";

const PARSER_CASES = 100_000;
const NETWORK_CASES = 5_000;
const SEED = 20261121;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** What ingest does with a message the parser accepted: every failure must be one of its typed errors. */
function processLikeIngest(bytes: Uint8Array): void {
  const message = parseSipMessage(bytes, "udp");
  if (message.kind !== "request") return;
  requestContext(message, { transport: "udp", address: "127.0.0.1", port: 9 });
  if (message.method !== "INVITE") return;
  negotiateOffer(readInviteOffer(message).sdp);
}

const typed = (err: unknown) =>
  err instanceof SipParseError || err instanceof InviteOfferError || err instanceof SdpNegotiationError;

describe("SIP fuzzing", () => {
  it(`parses ${PARSER_CASES} malformed messages with typed errors only`, () => {
    const random = prng(SEED);
    const reasons = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < PARSER_CASES; i++) {
      const bytes = mutate(random);
      try {
        processLikeIngest(bytes);
        accepted++;
      } catch (err) {
        if (!typed(err))
          throw new Error(
            `case ${i} (seed ${SEED}) threw ${String(err)}: ${Buffer.from(bytes).toString("latin1").slice(0, 300)}`,
            { cause: err },
          );
        const key = err instanceof SipParseError ? err.reason : (err as Error).name;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
    }
    // The mutations must exercise the parser's refusals, not just produce valid messages.
    expect(accepted).toBeLessThan(PARSER_CASES / 2);
    for (const reason of [
      "truncated-body",
      "bad-content-length",
      "bad-header",
      "bad-start-line",
      "header-too-long",
      "too-many-headers",
    ]) {
      expect(reasons.get(reason) ?? 0, reason).toBeGreaterThan(0);
    }
    // Internal failures would show up as "internal": the parser must know every way it can fail.
    expect(reasons.get("internal") ?? 0).toBe(0);
  });

  it("frames a TCP stream of the same mutations without throwing anything but SipParseError", () => {
    const random = prng(SEED + 1);
    let framer = new SipStreamFramer();
    for (let i = 0; i < 20_000; i++) {
      const bytes = mutate(random);
      const cut = Math.floor(random() * bytes.length);
      try {
        framer.push(bytes.subarray(0, cut));
        framer.push(bytes.subarray(cut));
      } catch (err) {
        expect(err).toBeInstanceOf(SipParseError);
        framer = new SipStreamFramer(); // the connection would be closed
      }
      expect(framer.buffered).toBeLessThanOrEqual(65_535);
    }
  });
});

describe("SIP fuzzing against the running service", () => {
  let t: TestIngest;
  beforeAll(async () => {
    // Short timers so every transaction, unacknowledged answer and call left behind is cleaned up quickly.
    t = await startTestIngest({ INGEST_SIP_T1_MS: "20", INGEST_MEDIA_TIMEOUT_MS: "1000" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`survives ${NETWORK_CASES} malformed messages over UDP and TCP with memory and state bounded`, async () => {
    const port = t.ingest.sipPort;
    // Warm up (JIT, pools) before the baseline, so the comparison measures growth, not start-up.
    for (const seed of seeds.slice(2)) await sendUdp(port, [Buffer.from(seed)]);
    await new Promise((r) => setTimeout(r, 500));
    const baseline = heapUsed();

    const random = prng(SEED + 2);
    const udpCases = Array.from({ length: NETWORK_CASES / 2 }, () => mutate(random));
    const tcpCases = Array.from({ length: NETWORK_CASES / 2 }, () => mutate(random));
    await sendUdp(port, udpCases);
    await sendTcp(port, tcpCases);

    // Still alive and answering: a well-formed OPTIONS gets its 200.
    expect(await optionsStatus(port)).toBe(200);
    // Transactions, unacknowledged answers and any call a mutation happened to start all time out.
    await waitFor(
      () => {
        const s = t.ingest.uas.stats();
        return s.serverTransactions + s.clientTransactions + s.sessions === 0 &&
          t.ingest.media.activeCalls() === 0
          ? true
          : undefined;
      },
      20_000,
      "SIP state to drain",
    );
    const growth = heapUsed() - baseline;
    expect(growth).toBeLessThan(32 * 1024 * 1024);
  });
});

async function sendUdp(port: number, messages: Uint8Array[]): Promise<void> {
  const socket = createSocket("udp4");
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  for (let i = 0; i < messages.length; i++) {
    const bytes = messages[i]!.subarray(0, 65_000);
    await new Promise<void>((resolve) => socket.send(bytes, port, "127.0.0.1", () => resolve()));
    // Pace the flood so ingest reads the messages instead of the kernel dropping them.
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}

async function sendTcp(port: number, messages: Uint8Array[]): Promise<void> {
  let socket: Socket | undefined;
  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(s));
      s.on("error", () => undefined);
      s.once("error", reject);
      s.on("data", () => undefined);
    });
  for (let i = 0; i < messages.length; i++) {
    // ingest closes a connection whose framing is lost; open a new one as a peer would.
    if (!socket || socket.destroyed || socket.writableEnded) socket = await open();
    const s = socket;
    await new Promise<void>((resolve) => s.write(messages[i]!, () => resolve()));
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
    if (i % 100 === 99) {
      s.destroy(); // also exercise many short connections
      socket = undefined;
    }
  }
  socket?.destroy();
}

async function optionsStatus(port: number): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const local = socket.address().port;
  const request = [
    "OPTIONS sip:record@127.0.0.1 SIP/2.0",
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKalive${Date.now()}`,
    "From: <sip:probe@127.0.0.1>;tag=p1",
    "To: <sip:record@127.0.0.1>",
    `Call-ID: alive-${Date.now()}`,
    "CSeq: 1 OPTIONS",
    "Max-Forwards: 70",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const status = new Promise<number>((resolve) => {
    socket.on("message", (data) => resolve(Number(data.toString("latin1").split(" ")[1])));
  });
  socket.send(request, port, "127.0.0.1");
  const result = await Promise.race([status, new Promise<number>((r) => setTimeout(() => r(0), 5000))]);
  socket.close();
  return result;
}
