import type { z } from "zod";
import { InvalidArgumentError } from "./errors.ts";

/**
 * Query-string parameters as an object: a name given once is a string, a name repeated is an
 * array (`?category=water&category=roads`), so list schemas accept either.
 */
export function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

/** Parses `input` with `schema`, or throws a 400 naming each bad field and what it must be. */
export function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data as z.output<S>;
  throw new InvalidArgumentError(`invalid ${what}: ${describeIssues(result.error)}`);
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") return `unknown ${plural(issue.keys)} ${issue.keys.join(", ")}`;
      const path = issue.path.join(".");
      return path === "" ? issue.message : `${path}: ${issue.message}`;
    })
    .join("; ");
}

function plural(keys: string[]): string {
  return keys.length === 1 ? "parameter" : "parameters";
}
