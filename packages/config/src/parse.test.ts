import { describe, expect, it } from "vitest";
import { ConfigError, env, parseConfig } from "./index.ts";

const shape = {
  NATS_URL: env.list("nats://127.0.0.1:4222"),
  GRPC_PORT: env.port(50051),
  DATABASE_URL: env.url(["postgres", "postgresql"], "set it to postgres://user@host:5432/db").optional(),
  LOG_LEVEL: env.oneOf(["debug", "info", "warn", "error"], "info"),
  MAX_BATCH: env.int(16, 1, 256),
  INT8: env.bool(false),
};

describe("parseConfig", () => {
  it("applies defaults", () => {
    const cfg = parseConfig("test", shape, {});
    expect(cfg).toEqual({
      NATS_URL: ["nats://127.0.0.1:4222"],
      GRPC_PORT: 50051,
      DATABASE_URL: undefined,
      LOG_LEVEL: "info",
      MAX_BATCH: 16,
      INT8: false,
    });
  });

  it("names every malformed variable and says what to set", () => {
    let error: unknown;
    try {
      parseConfig("asr", shape, {
        GRPC_PORT: "70000",
        DATABASE_URL: "mysql://x",
        MAX_BATCH: "abc",
        INT8: "maybe",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain("GRPC_PORT: must be a port number from 0 to 65535");
    expect(message).toContain("DATABASE_URL: must be a postgres or postgresql URL");
    expect(message).toContain("MAX_BATCH: must be a whole number from 1 to 256");
    expect(message).toContain("INT8: must be true or false");
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      "DATABASE_URL",
      "GRPC_PORT",
      "INT8",
      "MAX_BATCH",
    ]);
  });

  it("names a missing required variable", () => {
    expect(() =>
      parseConfig("asr", { ASR_MODEL_DIR: env.string("set it to a model folder") }, {}),
    ).toThrowError(/ASR_MODEL_DIR: is not set; set it to a model folder/);
  });
});
