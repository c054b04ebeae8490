import { describe, expect, it } from "vitest";
import { DatabaseConfigError } from "../errors.ts";
import { loadMigrateConfig } from "./config.ts";

describe("loadMigrateConfig", () => {
  it("accepts a postgres:// or postgresql:// DATABASE_URL", () => {
    const url = "postgres://callscribe:pw@db.internal:5432/callscribe";
    expect(loadMigrateConfig({ DATABASE_URL: url })).toEqual({ databaseUrl: url });
    expect(loadMigrateConfig({ DATABASE_URL: " postgresql://db/callscribe " })).toEqual({
      databaseUrl: "postgresql://db/callscribe",
    });
  });

  it("names DATABASE_URL and what to set when it is missing", () => {
    expect(() => loadMigrateConfig({})).toThrow(
      new DatabaseConfigError("DATABASE_URL: not set; set it to postgres://user:password@host:5432/database"),
    );
  });

  it("names DATABASE_URL when it is malformed, without echoing its value", () => {
    for (const value of ["mysql://root:hunter2@db/callscribe", "hunter2", "postgres://", ""]) {
      let message = "";
      try {
        loadMigrateConfig({ DATABASE_URL: value });
      } catch (err) {
        expect(err).toBeInstanceOf(DatabaseConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(/^DATABASE_URL: not a postgres:\/\/ URL; set it to /);
      expect(message).not.toContain("hunter2");
    }
  });
});
