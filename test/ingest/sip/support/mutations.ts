import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir } from "./harness.ts";

/** A small seeded PRNG (mulberry32), so a failing fuzz case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sdp = [
  "v=0",
  "o=fuzz 1 1 IN IP4 127.0.0.1",
  "s=-",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=audio 9 RTP/AVP 0 8 9 101",
  "a=rtpmap:101 telephone-event/8000",
  "a=sendonly",
  "",
].join("\r\n");

const metadata = readFileSync(join(fixturesDir, "metadata-two-streams.xml"), "utf8");

function message(startLine: string, headers: string[], body = ""): string {
  return [startLine, ...headers, `Content-Length: ${Buffer.byteLength(body)}`, "", body].join("\r\n");
}

const common = (method: string, cseq: number, toTag = "") => [
  "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfuzz1;rport",
  "Max-Forwards: 70",
  'From: "Fuzz" <sip:fuzz@127.0.0.1:9>;tag=fz1',
  `To: <sip:record@127.0.0.1>${toTag}`,
  "Call-ID: fuzz-call-1@127.0.0.1",
  `CSeq: ${cseq} ${method}`,
  "Contact: <sip:fuzz@127.0.0.1:9>",
];

const boundary = "fz-bnd";
const siprecBody =
  `--${boundary}\r\nContent-Type: application/sdp\r\n\r\n${sdp.replace("a=sendonly", "a=label:10\r\na=sendonly")}\r\n` +
  `--${boundary}\r\nContent-Type: application/rs-metadata+xml\r\n\r\n${metadata}\r\n--${boundary}--\r\n`;

/** Valid messages the mutations start from. */
export const seeds: string[] = [
  message(
    "INVITE sip:record@127.0.0.1 SIP/2.0",
    [...common("INVITE", 1), "Content-Type: application/sdp"],
    sdp,
  ),
  message(
    "INVITE sip:srs@127.0.0.1 SIP/2.0",
    [...common("INVITE", 1), "Require: siprec", `Content-Type: multipart/mixed;boundary=${boundary}`],
    siprecBody,
  ),
  message("BYE sip:fuzz@127.0.0.1 SIP/2.0", common("BYE", 2, ";tag=abc")),
  message("OPTIONS sip:record@127.0.0.1 SIP/2.0", [...common("OPTIONS", 1), "Accept: application/sdp"]),
  message("CANCEL sip:record@127.0.0.1 SIP/2.0", common("CANCEL", 1)),
  message("ACK sip:record@127.0.0.1 SIP/2.0", common("ACK", 1, ";tag=abc")),
  message("SIP/2.0 200 OK", common("BYE", 2, ";tag=abc")),
];

const enc = new TextEncoder();
const injections = [
  "\r",
  "\n",
  "\0",
  "\r\nVia: SIP/2.0/UDP evil",
  "\x1b[31m",
  "\u2028",
  "%00",
  '"',
  "<",
  ">",
  ";",
  ",",
];
const contentLengths = ["-1", "999999", "abc", "1e3", "0", "65536", "4294967296", " 12", "12 12", "0x10"];

/** One malformed variant of a seed: one to three mutations from a fixed menu. */
export function mutate(random: () => number): Uint8Array {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  let text = pick(seeds);
  let bytes: Buffer | undefined;
  const rounds = 1 + Math.floor(random() * 3);
  for (let r = 0; r < rounds; r++) {
    const lines = text.split("\r\n");
    const line = Math.floor(random() * lines.length);
    switch (Math.floor(random() * 12)) {
      case 0: // truncation
        text = text.slice(0, Math.floor(random() * text.length));
        break;
      case 1: // a huge header
        // Mostly just past the line limit; now and then past the whole-message limit.
        lines.splice(
          1 + Math.floor(random() * 5),
          0,
          `X-Huge: ${"a".repeat(random() < 0.1 ? 70_000 : 8_000 + Math.floor(random() * 2_000))}`,
        );
        text = lines.join("\r\n");
        break;
      case 2: // a bad Content-Length, or two that disagree
        text = text.replace(
          /Content-Length: \d+/,
          `Content-Length: ${pick(contentLengths)}${random() < 0.3 ? "\r\nl: 3" : ""}`,
        );
        break;
      case 3: // header injection inside a value
        lines[line] = `${lines[line]}${pick(injections)}${lines[line]?.slice(0, 20)}`;
        text = lines.join("\r\n");
        break;
      case 4: // a missing line
        lines.splice(line, 1);
        text = lines.join("\r\n");
        break;
      case 5: // a line repeated until there are too many headers
        lines.splice(
          line,
          0,
          ...Array.from({ length: 50 + Math.floor(random() * 200) }, () => lines[line] ?? ""),
        );
        text = lines.join("\r\n");
        break;
      case 6: // a broken multipart boundary or part
        text = text.replace(
          pick([`--${boundary}--`, `--${boundary}\r\n`, "boundary=fz-bnd", "Content-Type: application/sdp"]),
          pick(["", "--other", `--${boundary}junk`, "boundary=", "\r\n\r\n"]),
        );
        break;
      case 7: // a garbled start line
        lines[0] = pick([
          "INVITE",
          "INVITE  sip:a SIP/2.0",
          "INVITE sip:a SIP/2.1",
          "SIP/2.0 9999 Huh",
          "BYE nope SIP/2.0",
          "INV\u00e9TE sip:a SIP/2.0",
          `INVITE sip:${"x".repeat(9000)} SIP/2.0`,
          "",
        ]);
        text = lines.join("\r\n");
        break;
      case 8: // garbled header values
        lines[line] =
          (lines[line]?.split(":")[0] ?? "X") +
          ": " +
          pick([
            "",
            "SIP/2.0/UDP",
            "<sip:",
            "999999999999 INVITE",
            "x INVITE",
            "sip:@@",
            '"unterminated',
            "SIP/2.0/UDP [::1",
            ";;;;;tag=",
          ]);
        text = lines.join("\r\n");
        break;
      case 9: // folding in odd places
        lines.splice(line, 0, pick([" folded", "\tfolded", " ", "\t"]));
        text = lines.join("\r\n");
        break;
      case 10: // SDP damage
        text = text.replace(
          pick(["m=audio 9", "c=IN IP4 127.0.0.1", "v=0", "a=rtpmap:101", "RTP/AVP 0 8 9 101"]),
          pick(["m=audio x", "c=", "v=1", "a=rtpmap:", "RTP/AVP", "m=audio 70000 RTP/AVP 0"]),
        );
        break;
      default: {
        // random bytes overwritten or inserted
        const count = 1 + Math.floor(random() * 16);
        const out = Buffer.alloc(text.length + count);
        out.write(text, "latin1");
        let length = text.length;
        for (let i = 0; i < count; i++) {
          const at = Math.floor(random() * (length + 1));
          const value = Math.floor(random() * 256);
          if (random() >= 0.5) {
            out.copyWithin(at + 1, at, length); // insert
            length++;
          }
          out[at] = value;
        }
        bytes = out.subarray(0, length);
        text = bytes.toString("latin1");
        continue;
      }
    }
    bytes = undefined;
  }
  return bytes ?? enc.encode(text);
}
