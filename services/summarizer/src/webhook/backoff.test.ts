import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./backoff.ts";

describe("retryDelayMs", () => {
  const policy = { baseMs: 1_000, maxMs: 60_000 };

  it("doubles per attempt between half and all of the exponential step", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, 0))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, 0.999999))).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it("stops growing at the cap", () => {
    expect(retryDelayMs(30, policy, 0)).toBe(30_000);
    expect(retryDelayMs(30, policy, 0.999999)).toBe(60_000);
  });
});
