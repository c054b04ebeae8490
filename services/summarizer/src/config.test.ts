import { describe, expect, it } from "vitest";
import { ConfigError } from "@callscribe/config";
import { loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("has working defaults", () => {
    const config = loadConfig({});
    expect(config.consumer).toMatchObject({ durableName: "summarizer", deliverPolicy: "all" });
    expect(config.webhook.urls).toEqual([]);
    expect(config.taxonomyPath).toMatch(/services\/summarizer\/taxonomy\/public-service\.yaml$/);
  });

  it("names the variables to fix: webhooks without a secret, a bad URL, a bad number", () => {
    let message = "";
    try {
      loadConfig({
        SUMMARIZER_WEBHOOK_URLS: "https://hotline.example/tickets,ftp://x",
        SUMMARIZER_WEBHOOK_MAX_ATTEMPTS: "0",
      });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/SUMMARIZER_WEBHOOK_MAX_ATTEMPTS.*whole number from 1 to 1000/);
    expect(() => loadConfig({ SUMMARIZER_WEBHOOK_URLS: "https://hotline.example/tickets,ftp://x" })).toThrow(
      /SUMMARIZER_WEBHOOK_URLS: must be comma-separated http\(s\) URLs[\s\S]*SUMMARIZER_WEBHOOK_SECRET: webhooks need a signing secret/,
    );
  });
});
