import { ConfigError } from "@callscribe/config";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

const analyst = "a".repeat(24);
const workOrder = "w".repeat(24);
const valid = {
  DATABASE_URL: "postgres://dashboard@db:5432/callscribe",
  DASHBOARD_ANALYST_TOKENS: analyst,
  DASHBOARD_WORKORDER_TOKENS: workOrder,
};

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.variable}: ${i.problem}`);
  }
  throw new Error("expected a ConfigError");
}

describe("dashboard config", () => {
  it("runs every query as callscribe_analyst on port 8080 by default", () => {
    expect(loadConfig(valid)).toMatchObject({
      http: { host: "0.0.0.0", port: 8080 },
      ops: { port: 9106 },
      database: { url: valid.DATABASE_URL, role: "callscribe_analyst" },
      tokens: { analyst: [analyst], workOrder: [workOrder] },
    });
    expect(loadConfig({ ...valid, DASHBOARD_DB_SET_ROLE: "false" }).database.role).toBeUndefined();
  });

  it("names each missing or bad variable and what to set", () => {
    expect(issues({})).toEqual([
      expect.stringMatching(/^DATABASE_URL: is not set; .*postgres:\/\//),
      "DASHBOARD_ANALYST_TOKENS: is not set; set it to one or more comma-separated secret tokens",
      "DASHBOARD_WORKORDER_TOKENS: is not set; set it to one or more comma-separated secret tokens",
    ]);
    expect(issues({ ...valid, DATABASE_URL: "mysql://db/x", DASHBOARD_DB_ROLE: "Robert'); drop" })).toEqual([
      expect.stringMatching(/^DATABASE_URL: must be a postgres or postgresql URL/),
      "DASHBOARD_DB_ROLE: must be a Postgres role name such as callscribe_analyst",
    ]);
    expect(issues({ ...valid, DASHBOARD_ANALYST_TOKENS: "short" })).toEqual([
      expect.stringMatching(/^DASHBOARD_ANALYST_TOKENS: each token must be at least 16 characters/),
    ]);
    expect(issues({ ...valid, DASHBOARD_WORKORDER_TOKENS: `${workOrder},${analyst}` })).toEqual([
      "DASHBOARD_WORKORDER_TOKENS: shares a token with DASHBOARD_ANALYST_TOKENS; give the work-order system its own token",
    ]);
  });
});
