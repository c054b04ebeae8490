// Concurrent G.711 calls into one ingest process, on loopback, with the real JetStream.
//
//   npx tsx bench/ingest/concurrent-calls.ts --calls 100,250,500,1000 --seconds 20 [--legs 2] [--frame-ms 20]
//
// Each run gets a private nats-server (-js, store in a temporary folder, removed afterwards): the
// benchmark writes gigabytes of frames, which would fill the shared test NATS's AUDIO stream.
// For each call count: starts the real service (`services/ingest/src/main.ts`) as a child process,
// places the calls over SIP with the `play` command's user agent client (one m= stream per leg), and
// streams 20 ms mu-law RTP packets from this process (the load generator), the calls spread evenly over
// each 20 ms period. After a warm-up it measures, from the service's /metrics: packets/s, process CPU,
// and the publish latency histogram (packet arrival → JetStream ack); then hangs up every call and
// compares the frames JetStream acknowledged with the packets sent.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeMulaw, readWavFile } from "@callscribe/audio";
import { placeCall, type AnsweredCall } from "../../services/ingest/src/sip/uac.ts";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "100,250,500,1000" },
    seconds: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    legs: { type: "string", default: "2" },
    /** An external NATS to use instead of a private nats-server (its AUDIO stream will fill up). */
    nats: { type: "string" },
    "nats-server": { type: "string", default: "/usr/sbin/nats-server" },
    wav: { type: "string", default: "/usr/share/asterisk/sounds/en/agent-pass.wav" },
    /** Writes a V8 CPU profile of the ingest process into this folder. */
    "cpu-prof": { type: "string" },
    /** INGEST_FRAME_MS for the service: 20 (default) to 100. */
    "frame-ms": { type: "string", default: "20" },
  },
});
const callCounts = args.calls.split(",").map(Number);
const measureSeconds = Number(args.seconds);
const warmupSeconds = Number(args.warmup);
const legsPerCall = Number(args.legs);
const PACKET_MS = 20;
const PHASE_GROUPS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Prometheus text → sum of the samples of `name` whose labels include `match`. */
type Samples = { name: string; labels: Record<string, string>; value: number }[];
function parseMetrics(text: string): Samples {
  const out: Samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}
const metric = (s: Samples, name: string, match: Record<string, string> = {}) =>
  s
    .filter((x) => x.name === name && Object.entries(match).every(([k, v]) => x.labels[k] === v))
    .reduce((n, x) => n + x.value, 0);

async function scrape(opsPort: number): Promise<Samples> {
  const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`);
  return parseMetrics(await res.text());
}

/** p-quantile of a histogram delta, interpolated linearly inside its bucket. */
function quantile(before: Samples, after: Samples, name: string, q: number): number {
  const buckets = after
    .filter((x) => x.name === `${name}_bucket`)
    .map((x) => ({
      le: x.labels.le === "+Inf" ? Infinity : Number(x.labels.le),
      count: x.value - metric(before, `${name}_bucket`, { le: x.labels.le! }),
    }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower;
      return lower + ((b.le - lower) * (rank - below)) / Math.max(1, b.count - below);
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

function udpErrors(): { rcvbuf: number; inErrors: number } {
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/).map(Number);
  return { rcvbuf: values[names.indexOf("RcvbufErrors")]!, inErrors: values[names.indexOf("InErrors")]! };
}

function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

/**
 * A private nats-server with JetStream in a fresh folder for each run, so the benchmark's gigabytes of
 * frames never fill the AUDIO stream of the NATS that tests share, and each run starts from an empty store.
 */
async function startPrivateNats(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), "ingest-bench-nats-"));
  const child = spawn(args["nats-server"], ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], {
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) break;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** The nats-server serving an external --nats URL, to report its CPU too (read-only look-up). */
function externalNatsPid(url: string): number | undefined {
  try {
    const port = new URL(url).port || "4222";
    const pids = execFileSync("pidof", ["nats-server"], { encoding: "utf8" }).trim().split(/\s+/).map(Number);
    return pids.find((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(port));
  } catch {
    return undefined;
  }
}

/** Bytes queued in the receive buffers of the process's UDP sockets (/proc/net/udp rx_queue). */
function socketBacklog(pid: number): number {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = (() => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return "";
        }
      })();
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(m[1]!);
    }
    let bytes = 0;
    for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      bytes += parseInt(cols[4]!.split(":")[1]!, 16);
    }
    return bytes;
  } catch {
    return NaN;
  }
}

async function startIngest(
  natsUrl: string,
  sipPort: number,
  opsPort: number,
  calls: number,
): Promise<ChildProcess> {
  const profile = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${args["cpu-prof"]}`] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", "services/ingest/src/main.ts"], {
    env: {
      ...process.env,
      NATS_URL: natsUrl,
      LOG_LEVEL: "warn",
      INGEST_SIP_HOST: "127.0.0.1",
      INGEST_SIP_PORT: String(sipPort),
      INGEST_SIP_TCP: "false",
      INGEST_OPS_HOST: "127.0.0.1",
      INGEST_OPS_PORT: String(opsPort),
      INGEST_MEDIA_HOST: "127.0.0.1",
      INGEST_RTP_PORT_MIN: "20000",
      INGEST_RTP_PORT_MAX: "29999",
      INGEST_MAX_CALLS: String(calls + 50),
      INGEST_MEDIA_TIMEOUT_MS: "60000",
      INGEST_FRAME_MS: args["frame-ms"],
    },
    stdio: ["ignore", openSync(`/tmp/ingest-bench-${calls}.log`, "w"), "inherit"],
  });
  for (let i = 0; i < 200; i++) {
    await sleep(100);
    if (child.exitCode !== null) throw new Error(`ingest exited with ${child.exitCode}`);
    const ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) {
      process.stderr.write(`ingest pid ${child.pid} ready for ${calls} calls\n`);
      return child;
    }
  }
  throw new Error("ingest did not become ready in 20 s");
}

interface Leg {
  to: number;
  ssrc: number;
  seq: number;
  timestamp: number;
}

function offer(legs: number, port: number): string {
  const lines = ["v=0", `o=bench ${Date.now()} 1 IN IP4 127.0.0.1`, "s=bench", "c=IN IP4 127.0.0.1", "t=0 0"];
  for (let i = 0; i < legs; i++)
    lines.push(`m=audio ${port} RTP/AVP 0`, "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendonly");
  return lines.join("\r\n") + "\r\n";
}

async function inBatches<T, R>(
  items: T[],
  size: number,
  work: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!, i);
      }
    }),
  );
  return out;
}

async function runOnce(calls: number, payload: Uint8Array) {
  const sipPort = await freePort();
  const opsPort = await freePort();
  const nats = args.nats ? undefined : await startPrivateNats();
  const natsUrl = nats?.url ?? args.nats!;
  const ingest = await startIngest(natsUrl, sipPort, opsPort, calls);
  const sender = createSocket("udp4");
  await new Promise<void>((resolve) => sender.bind(0, "127.0.0.1", resolve));
  sender.setSendBufferSize(4 * 1024 * 1024);
  const rtpPort = sender.address().port;
  const natsPid = nats?.pid ?? externalNatsPid(natsUrl);
  try {
    const setupStart = Date.now();
    const answered = await inBatches(Array.from({ length: calls }), 20, () =>
      placeCall({
        target: `sip:bench@127.0.0.1:${sipPort}`,
        transport: "udp",
        localAddress: "127.0.0.1",
        from: "sip:loadgen@bench.invalid",
        body: { contentType: "application/sdp", content: offer(legsPerCall, rtpPort) },
      }),
    );
    const setupMs = Date.now() - setupStart;
    const legs: Leg[] = [];
    answered.forEach((call: AnsweredCall, c) => {
      for (const stream of call.streams) {
        legs.push({
          to: stream.port,
          ssrc: (0x10000000 + legs.length) >>> 0,
          seq: (c * 7919) & 0xffff,
          timestamp: c * 1000,
        });
      }
    });
    // Phase groups spread the calls over the 20 ms period, as independent calls are.
    const groups = Array.from({ length: PHASE_GROUPS }, (_, g) => ({
      legs: legs.filter((_, i) => i % PHASE_GROUPS === g),
      sent: 0,
    }));
    let packetsSent = 0;
    let skippedPackets = 0;
    let maxLagMs = 0;
    const start = performance.now();
    let offsetBytes = 0;
    const sendRound = (group: (typeof groups)[number]) => {
      for (const leg of group.legs) {
        // A fresh buffer per packet: dgram sends asynchronously and does not copy.
        const packet = Buffer.allocUnsafe(12 + 160);
        packet[0] = 0x80;
        packet[1] = 0;
        packet.writeUInt16BE(leg.seq, 2);
        packet.writeUInt32BE(leg.timestamp >>> 0, 4);
        packet.writeUInt32BE(leg.ssrc, 8);
        packet.set(payload.subarray(offsetBytes, offsetBytes + 160), 12);
        sender.send(packet, leg.to, "127.0.0.1");
        leg.seq = (leg.seq + 1) & 0xffff;
        leg.timestamp += 160;
        packetsSent++;
      }
      group.sent++;
    };
    let running = true;
    const progress = setInterval(() => {
      const heapMb = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
      process.stderr.write(
        `  ${calls} calls: sent ${packetsSent}, skipped ${skippedPackets}, generator lag ${maxLagMs} ms, heap ${heapMb} MB\n`,
      );
    }, 5000);
    const pump = setInterval(() => {
      if (!running) return;
      const elapsed = performance.now() - start;
      for (let g = 0; g < PHASE_GROUPS; g++) {
        const group = groups[g]!;
        const offset = (g * PACKET_MS) / PHASE_GROUPS;
        const due = elapsed < offset ? 0 : Math.floor((elapsed - offset) / PACKET_MS) + 1;
        if (due - group.sent > 1) maxLagMs = Math.max(maxLagMs, (due - group.sent - 1) * PACKET_MS);
        // A generator that falls more than 100 ms behind skips rounds instead of bursting them (the
        // streams then carry fewer packets, without gaps); the skipped packets are reported.
        if (due - group.sent > 100 / PACKET_MS) {
          skippedPackets += (due - 1 - group.sent) * group.legs.length;
          group.sent = due - 1;
        }
        while (group.sent < due) {
          offsetBytes = (group.sent * 160) % (payload.length - 160);
          sendRound(group);
        }
      }
    }, 1);

    await sleep(warmupSeconds * 1000);
    const udpBefore = udpErrors();
    const loadBefore = loadavg()[0]!;
    const a = await scrape(opsPort);
    const wallA = performance.now();
    const genCpuA = process.cpuUsage();
    const natsCpuA = natsPid ? procCpuSeconds(natsPid) : NaN;
    const sentA = packetsSent;
    await sleep(measureSeconds * 1000);
    const b = await scrape(opsPort);
    const wallB = performance.now();
    const genCpu = process.cpuUsage(genCpuA);
    const natsCpuB = natsPid ? procCpuSeconds(natsPid) : NaN;
    const sentB = packetsSent;
    const loadAfter = loadavg()[0]!;
    running = false;
    clearInterval(pump);
    clearInterval(progress);
    const backlogBytes = socketBacklog(ingest.pid!);
    // Let ingest work off what still waits in its sockets before hanging up (bounded).
    const drainStart = Date.now();
    for (let i = 0; i < 600; i++) {
      const s = await scrape(opsPort);
      if (metric(s, "ingest_rtp_packets_total", { result: "audio" }) >= packetsSent) break;
      await sleep(100);
    }
    const drainMs = Date.now() - drainStart;

    const wall = (wallB - wallA) / 1000;
    const cpu = metric(b, "process_cpu_seconds_total") - metric(a, "process_cpu_seconds_total");
    const received =
      metric(b, "ingest_rtp_packets_total", { result: "audio" }) -
      metric(a, "ingest_rtp_packets_total", { result: "audio" });

    await inBatches(answered, 20, (call) => call.hangUp().finally(() => call.close()));
    for (let i = 0; i < 300; i++) {
      const s = await scrape(opsPort);
      if (metric(s, "ingest_active_calls") === 0 && metric(s, "ingest_calls_ended_total") >= calls) break;
      await sleep(100);
    }
    await sleep(1500); // the last frames' acks and a housekeeping pass for the counters
    const c = await scrape(opsPort);
    const udpAfter = udpErrors();
    // Packets' worth of audio acknowledged by JetStream (each packet is 20 ms).
    const published = Math.round((metric(c, "ingest_audio_published_seconds_total") * 1000) / PACKET_MS);
    const lost = metric(c, "ingest_jitter_buffer_events_total", { event: "lost" });
    const late = metric(c, "ingest_jitter_buffer_events_total", { event: "late" });
    const audioPackets = metric(c, "ingest_rtp_packets_total", { result: "audio" });
    const rssMb = metric(c, "process_resident_memory_bytes") / 2 ** 20;
    const jitterEvents = Object.fromEntries(
      c.filter((x) => x.name === "ingest_jitter_buffer_events_total").map((x) => [x.labels.event, x.value]),
    );
    return {
      calls,
      legs: legs.length,
      setupMs,
      packetsPerSecond: received / wall,
      sentPerSecond: (sentB - sentA) / wall,
      cpuCores: cpu / wall,
      cpuMsPerCallSecond: (cpu / wall / calls) * 1000,
      callsPerCore: calls / (cpu / wall),
      p50Ms: quantile(a, b, "ingest_publish_latency_seconds", 0.5) * 1000,
      p99Ms: quantile(a, b, "ingest_publish_latency_seconds", 0.99) * 1000,
      packetsSent,
      audioPackets,
      published,
      lost,
      late,
      jitterEvents,
      udpRcvbufErrors: udpAfter.rcvbuf - udpBefore.rcvbuf,
      generatorCpuCores: (genCpu.user + genCpu.system) / 1e6 / wall,
      natsCpuCores: (natsCpuB - natsCpuA) / wall,
      maxGeneratorLagMs: maxLagMs,
      generatorSkipped: skippedPackets,
      backlogKb: Math.round(backlogBytes / 1024),
      drainMs,
      rssMb,
      load: `${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`,
    };
  } finally {
    sender.close();
    const exited = new Promise((resolve) => ingest.once("exit", resolve));
    ingest.kill("SIGTERM");
    await Promise.race([exited, sleep(15_000)]);
    if (ingest.exitCode === null) ingest.kill("SIGKILL");
    await nats?.stop();
  }
}

async function main() {
  const wav = await readWavFile(args.wav);
  const payload = encodeMulaw(wav.samples[0]!);
  console.log(
    `# ingest concurrent-calls: ${legsPerCall} leg(s) per call, ${args["frame-ms"]} ms frames, ${measureSeconds} s measured after ${warmupSeconds} s warm-up; ` +
      `${cpus().length} cores (${cpus()[0]?.model}); ${new Date().toISOString()}`,
  );
  const rows = [];
  for (const calls of callCounts) {
    const r = await runOnce(calls, payload);
    rows.push(r);
    console.log(JSON.stringify(r));
  }
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
  console.log(
    "\n| calls | RTP streams | packets/s sent | packets/s in | ingest CPU (cores) | CPU per call (ms/s) | calls per core | ack latency p50 | p99 | socket backlog at end | sent | not sent (generator behind) | published | lost+late | UDP rcvbuf drops | loadgen CPU | nats-server CPU | RSS MB | load avg |",
  );
  console.log(
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  );
  for (const r of rows) {
    console.log(
      `| ${r.calls} | ${r.legs} | ${f(r.sentPerSecond, 0)} | ${f(r.packetsPerSecond, 0)} | ${f(r.cpuCores, 2)} | ${f(r.cpuMsPerCallSecond, 2)} | ${f(r.callsPerCore, 0)} | ${f(r.p50Ms, 1)} ms | ${f(r.p99Ms, 1)} ms | ${r.backlogKb} KB | ${r.packetsSent} | ${r.generatorSkipped} | ${r.published} | ${r.lost + r.late} | ${r.udpRcvbufErrors} | ${f(r.generatorCpuCores, 2)} | ${f(r.natsCpuCores, 2)} | ${f(r.rssMb, 0)} | ${r.load} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
