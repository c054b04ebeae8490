import { describe, expect, it } from "vitest";
import { AllowlistFormatError, SourceAllowlist } from "./allowlist.ts";
import { DigestAuthenticator, authorizationFor, digestResponse, parseDigestParams } from "./digest-auth.ts";

const credentials = { realm: "callscribe", username: "sbc", password: "s3cret" };

describe("digest authentication", () => {
  it("computes the RFC 2617 §3.5 example response", () => {
    // The worked example of RFC 2617 (HTTP, but the same arithmetic SIP uses).
    expect(
      digestResponse({
        username: "Mufasa",
        realm: "testrealm@host.com",
        password: "Circle Of Life",
        method: "GET",
        uri: "/dir/index.html",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        qop: "auth",
        nc: "00000001",
        cnonce: "0a4f113b",
      }),
    ).toBe("6629fae49393a05397450978507c4ef1");
  });

  it("accepts a client's answer to its challenge and refuses wrong passwords and forged nonces", () => {
    const auth = new DigestAuthenticator(credentials);
    const challenge = parseDigestParams(auth.challenge())!;
    expect(challenge).toMatchObject({ realm: "callscribe", qop: "auth", algorithm: "MD5" });
    const good = authorizationFor(challenge, credentials, "INVITE", "sip:record@127.0.0.1");
    expect(auth.verify(good, "INVITE")).toBe("ok");
    expect(auth.verify(good, "BYE")).toBe("wrong-response");
    expect(
      auth.verify(
        authorizationFor(challenge, { ...credentials, password: "nope" }, "INVITE", "sip:x"),
        "INVITE",
      ),
    ).toBe("wrong-response");
    expect(
      auth.verify(
        authorizationFor({ ...challenge, nonce: "18c0a1b2c3d.forged" }, credentials, "INVITE", "sip:x"),
        "INVITE",
      ),
    ).toBe("bad-nonce");
    expect(auth.verify(undefined, "INVITE")).toBe("missing");
    expect(auth.verify("Basic dXNlcjpwYXNz", "INVITE")).toBe("malformed");
  });

  it("calls an expired nonce stale", () => {
    let now = 1_000_000;
    const auth = new DigestAuthenticator(credentials, 60_000, () => now);
    const challenge = parseDigestParams(auth.challenge())!;
    now += 61_000;
    expect(auth.verify(authorizationFor(challenge, credentials, "INVITE", "sip:x"), "INVITE")).toBe("stale");
    expect(auth.challenge(true)).toContain("stale=true");
  });

  it("parses quoted, unquoted and escaped parameters", () => {
    expect(parseDigestParams('Digest username="a\\"b", realm=r, nc=00000001 , uri="sip:x;a=b,c"')).toEqual({
      username: 'a"b',
      realm: "r",
      nc: "00000001",
      uri: "sip:x;a=b,c",
    });
  });
});

describe("SourceAllowlist", () => {
  it("allows addresses inside the configured networks, IPv4-mapped IPv6 included", () => {
    const list = new SourceAllowlist(["127.0.0.0/8", "::1", "10.1.0.0/16"]);
    expect(list.allows("127.0.0.1")).toBe(true);
    expect(list.allows("::ffff:127.0.0.5")).toBe(true);
    expect(list.allows("::1")).toBe(true);
    expect(list.allows("10.1.200.3")).toBe(true);
    expect(list.allows("10.2.0.1")).toBe(false);
    expect(list.allows("192.0.2.1")).toBe(false);
    expect(list.allows("not-an-ip")).toBe(false);
  });

  it("refuses a malformed network", () => {
    expect(() => new SourceAllowlist(["10.0.0.0/33"])).toThrow(AllowlistFormatError);
    expect(() => new SourceAllowlist(["example.com"])).toThrow(AllowlistFormatError);
  });
});
