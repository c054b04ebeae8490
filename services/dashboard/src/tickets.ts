import { z } from "zod";

/** A call id as ingest makes them: printable, no slashes or control characters. */
export const callIdSchema = z
  .string()
  .min(1, "must not be empty")
  .max(200, "is at most 200 characters")
  .regex(/^[^\p{Cc}\s/]+$/u, "must be a call id without spaces, slashes or control characters");
