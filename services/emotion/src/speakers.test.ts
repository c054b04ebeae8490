import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ProsodyManifest } from "./model/manifest.ts";
import { createProsodyModel } from "./model/prosody-model.ts";
import { SpeakerRegistry } from "./speakers.ts";

const model = createProsodyModel(
  ProsodyManifest.parse(
    JSON.parse(
      readFileSync(new URL("../../../models/emotion-prosody/manifest.json", import.meta.url), "utf8"),
    ),
  ),
);

describe("SpeakerRegistry", () => {
  it("keeps one state per named speaker, forgets the least recently heard past the bound", () => {
    const registry = new SpeakerRegistry(model, { maxSpeakers: 2, idleMs: 60_000 });
    const a = registry.get("call-1/caller", 0);
    expect(registry.get("call-1/caller", 10)).toBe(a);
    const b = registry.get("call-1/agent", 20);
    registry.get("call-1/caller", 30);
    registry.get("call-2/caller", 40); // the agent is now the least recent: forgotten
    expect(registry.size).toBe(2);
    expect(registry.get("call-1/caller", 50)).toBe(a);
    expect(registry.get("call-1/agent", 60)).not.toBe(b);
  });

  it("starts afresh after the idle time, and never keeps an unnamed speaker", () => {
    const registry = new SpeakerRegistry(model, { maxSpeakers: 10, idleMs: 1000 });
    const a = registry.get("x", 0);
    expect(registry.get("x", 2000)).not.toBe(a);
    registry.get(undefined, 2000);
    expect(registry.size).toBe(1);
  });
});
