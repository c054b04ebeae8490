import { z } from "zod";
import { DatabaseConfigError } from "../errors.ts";

export interface MigrateConfig {
  databaseUrl: string;
}

const EXAMPLE_URL = "postgres://user:password@host:5432/database";

const environment = z.object({
  DATABASE_URL: z
    .string({ required_error: `not set; set it to ${EXAMPLE_URL}` })
    .trim()
    // The value is never echoed: it may hold a password.
    .refine(isPostgresUrl, `not a postgres:// URL; set it to ${EXAMPLE_URL}`),
});

export function loadMigrateConfig(env: NodeJS.ProcessEnv = process.env): MigrateConfig {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new DatabaseConfigError(problems.join("\n"));
  }
  return { databaseUrl: parsed.data.DATABASE_URL };
}

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== "";
  } catch {
    return false;
  }
}
