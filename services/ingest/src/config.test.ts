import { ConfigError } from "@callscribe/config";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

describe("ingest config", () => {
  it("has working defaults: loopback allowlist, no auth, all codecs", () => {
    const c = loadConfig({});
    expect(c.sip).toMatchObject({
      port: 5060,
      udp: true,
      tcp: true,
      allowlist: ["127.0.0.0/8", "::1"],
      codecs: ["PCMU", "PCMA", "G722"],
      agentIdHeader: "X-Agent-Id",
    });
    expect(c.sip.auth).toBeUndefined();
    expect(c.media).toMatchObject({ frameMs: 20, mediaTimeoutMs: 30_000, jitterDelayMs: 60 });
  });

  it("names every bad variable at once", () => {
    try {
      loadConfig({
        INGEST_SIP_ALLOWLIST: "10.0.0.0/33",
        INGEST_SIP_AUTH_USER: "sbc",
        INGEST_CODECS: "PCMU,OPUS",
        INGEST_FRAME_MS: "10",
        INGEST_SIP_UDP: "false",
        INGEST_SIP_TCP: "false",
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const variables = (err as ConfigError).issues.map((i) => i.variable);
      expect(variables).toEqual(expect.arrayContaining(["INGEST_FRAME_MS"]));
    }
    try {
      loadConfig({
        INGEST_SIP_ALLOWLIST: "10.0.0.0/33",
        INGEST_SIP_AUTH_USER: "sbc",
        INGEST_CODECS: "PCMU,OPUS",
        INGEST_SIP_UDP: "false",
        INGEST_SIP_TCP: "false",
      });
      expect.unreachable();
    } catch (err) {
      const variables = (err as ConfigError).issues.map((i) => i.variable);
      expect(variables).toEqual([
        "INGEST_SIP_ALLOWLIST",
        "INGEST_CODECS",
        "INGEST_SIP_AUTH_REALM",
        "INGEST_SIP_UDP",
      ]);
    }
  });

  it("takes digest credentials when all three are set", () => {
    const c = loadConfig({
      INGEST_SIP_AUTH_REALM: "r",
      INGEST_SIP_AUTH_USER: "u",
      INGEST_SIP_AUTH_PASSWORD: "p",
    });
    expect(c.sip.auth).toEqual({ realm: "r", username: "u", password: "p" });
  });
});
