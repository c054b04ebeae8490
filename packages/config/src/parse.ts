import { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.ts";

export type Env = Record<string, string | undefined>;

/**
 * Parses environment variables with a zod object schema whose keys are the variable names.
 * Every problem is collected, so one run names all the variables to fix.
 */
export function parseConfig<S extends z.ZodRawShape>(
  service: string,
  shape: S,
  env: Env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? "(environment)");
    const problem = env[variable] === undefined ? `is not set; ${issue.message}` : issue.message;
    return { variable, problem };
  });
  throw new ConfigError(service, issues);
}

/** Env helpers: each says in its message what a valid value looks like. */
export const env = {
  string: (hint: string) => z.string({ required_error: hint }).min(1, hint),
  optionalString: () => z.string().min(1).optional(),
  port: (fallback: number) =>
    z.coerce
      .number({ invalid_type_error: "must be a TCP port number" })
      .int("must be a whole number")
      .min(0, "must be a port number from 0 to 65535")
      .max(65535, "must be a port number from 0 to 65535")
      .default(fallback),
  int: (fallback: number, min: number, max: number) =>
    z.coerce
      .number({ invalid_type_error: `must be a whole number from ${min} to ${max}` })
      .int(`must be a whole number from ${min} to ${max}`)
      .min(min, `must be a whole number from ${min} to ${max}`)
      .max(max, `must be a whole number from ${min} to ${max}`)
      .default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0", "yes", "no"], {
        errorMap: () => ({ message: "must be true or false" }),
      })
      .default(fallback ? "true" : "false")
      .transform((v) => v === "true" || v === "1" || v === "yes"),
  oneOf: <T extends [string, ...string[]]>(values: T, fallback: T[number]) =>
    z
      .enum(values, { errorMap: () => ({ message: `must be one of: ${values.join(", ")}` }) })
      .default(fallback),
  url: (protocols: string[], hint: string) =>
    z.string({ required_error: hint }).refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ""));
        } catch {
          return false;
        }
      },
      `must be a ${protocols.join(" or ")} URL; ${hint}`,
    ),
  /** Comma-separated list, e.g. "nats://a:4222,nats://b:4222". */
  list: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      ),
};
