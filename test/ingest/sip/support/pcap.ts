/**
 * A minimal libpcap writer (Ethernet / IPv4 / UDP) for RTP packets, the format sipp's
 * play_pcap_audio reads. sipp replaces addresses and ports; only the payloads and the capture
 * times matter.
 */
export function writeRtpPcap(rtpPackets: Uint8Array[], intervalMs: number): Buffer {
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0); // magic, microsecond timestamps
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeInt32LE(0, 8);
  global.writeUInt32LE(0, 12);
  global.writeUInt32LE(65535, 16); // snaplen
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const records: Buffer[] = [global];
  const start = 1_700_000_000 * 1_000_000;
  rtpPackets.forEach((rtp, i) => {
    const frame = ethernetIpv4Udp(rtp);
    const header = Buffer.alloc(16);
    const micros = start + Math.round(i * intervalMs * 1000);
    header.writeUInt32LE(Math.floor(micros / 1_000_000), 0);
    header.writeUInt32LE(micros % 1_000_000, 4);
    header.writeUInt32LE(frame.length, 8);
    header.writeUInt32LE(frame.length, 12);
    records.push(header, frame);
  });
  return Buffer.concat(records);
}

function ethernetIpv4Udp(payload: Uint8Array): Buffer {
  const eth = Buffer.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00]);
  const udpLength = 8 + payload.length;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udpLength, 2);
  ip[8] = 64; // TTL
  ip[9] = 17; // UDP
  Buffer.from([127, 0, 0, 1]).copy(ip, 12);
  Buffer.from([127, 0, 0, 1]).copy(ip, 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(40002, 2);
  udp.writeUInt16BE(udpLength, 4);
  return Buffer.concat([eth, ip, udp, Buffer.from(payload)]);
}

function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
