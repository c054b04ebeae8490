import { createSocket } from "node:dgram";
import { ResourceExhaustedError } from "@callscribe/errors";
import { describe, expect, it } from "vitest";
import { PortPool } from "./port-pool.ts";

// A range unlikely to be used by other tests running beside this one.
const base = 46_000 + 2 * Math.floor(Math.random() * 2000);

describe("PortPool", () => {
  it("hands out even RTP ports with RTCP on the next one, and refuses when all are taken", async () => {
    const pool = new PortPool({ host: "127.0.0.1", portMin: base + 1, portMax: base + 8 });
    expect(pool.size).toBe(3); // base+2, base+4, base+6 (base+8 has no odd successor in range)
    const pairs = [await pool.reserve(), await pool.reserve(), await pool.reserve()];
    expect(pairs.map((p) => p.port).sort()).toEqual([base + 2, base + 4, base + 6]);
    for (const p of pairs) {
      expect(p.rtp.address().port).toBe(p.port);
      expect(p.rtcp.address().port).toBe(p.port + 1);
    }
    await expect(pool.reserve()).rejects.toBeInstanceOf(ResourceExhaustedError);
    pool.release(pairs[1]!);
    pool.release(pairs[1]!); // twice is harmless
    expect((await pool.reserve()).port).toBe(pairs[1]!.port);
    for (const p of pairs) pool.release(p);
    expect(pool.used).toBe(0);
  });

  it("skips a port another socket holds", async () => {
    const squatter = createSocket("udp4");
    await new Promise<void>((resolve) => squatter.bind(base + 101, "127.0.0.1", resolve));
    try {
      const pool = new PortPool({ host: "127.0.0.1", portMin: base + 100, portMax: base + 103 });
      const pair = await pool.reserve();
      expect(pair.port).toBe(base + 102);
      await expect(pool.reserve()).rejects.toThrow(/in use/);
      pool.release(pair);
    } finally {
      squatter.close();
    }
  });

  it("rejects a range without an even/odd pair", () => {
    expect(() => new PortPool({ host: "127.0.0.1", portMin: 5001, portMax: 5002 })).toThrow(
      /widen the range/,
    );
  });
});
