import { describe, expect, it } from "vitest";
import { ASR_NODE_FLAGS, missingNodeFlags } from "./node-flags.ts";

describe("missingNodeFlags", () => {
  it("names the heap setting when node was started without it", () => {
    expect(missingNodeFlags(["--import", "tsx"])).toEqual(ASR_NODE_FLAGS);
    expect(missingNodeFlags([])).toEqual(["--initial-old-space-size=128"]);
  });

  it("takes the flag with this value or another one", () => {
    expect(missingNodeFlags(["--initial-old-space-size=128", "--import", "tsx"])).toEqual([]);
    expect(missingNodeFlags(["--import", "tsx", "--initial-old-space-size=256"])).toEqual([]);
    // A flag that only begins the same way is another flag.
    expect(missingNodeFlags(["--initial-old-space-size-x=1"])).toEqual(ASR_NODE_FLAGS);
  });
});
