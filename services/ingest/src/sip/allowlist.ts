import { BlockList, isIP } from "node:net";

/** Source networks allowed to send SIP: anything else gets 403. */
export class SourceAllowlist {
  private readonly list = new BlockList();

  /** `cidrs` like "10.0.0.0/8", "::1", "2001:db8::/32"; a bare address is a single host. */
  constructor(readonly cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const { address, prefix, family } = parseCidr(cidr);
      this.list.addSubnet(address, prefix, family);
    }
  }

  allows(address: string): boolean {
    // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; match them against IPv4 networks.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const plain = mapped ?? address;
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 6 ? "ipv6" : "ipv4");
  }
}

export class AllowlistFormatError extends Error {
  override readonly name = "AllowlistFormatError";
}

export function parseCidr(cidr: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [address = "", prefixText] = cidr.trim().split("/");
  const version = isIP(address);
  if (version === 0)
    throw new AllowlistFormatError(`"${cidr}" is not an IP address or CIDR such as 10.0.0.0/8`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max) {
    throw new AllowlistFormatError(`"${cidr}" has a prefix length outside 0..${max}`);
  }
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}
