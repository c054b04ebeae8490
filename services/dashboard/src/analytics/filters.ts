import { z } from "zod";

/** The dialect filter value for calls whose dialect was not measured (null in the ticket). */
export const NOT_MEASURED = "not-measured";

export const ticketStatuses = ["new", "assigned", "resolved"] as const;
export type TicketStatusValue = (typeof ticketStatuses)[number];

/** What the page's filters select; every field optional, all of them combined with AND. */
export interface TicketFilters {
  from?: Date;
  /** Exclusive end. */
  to?: Date;
  categories?: string[];
  dialects?: string[];
  /** True when calls without a measured dialect are included. */
  dialectNotMeasured?: boolean;
  agents?: string[];
  statuses?: TicketStatusValue[];
  sentimentMin?: number;
  sentimentMax?: number;
  /** Full-text search over the redacted transcript, in web-search syntax. */
  search?: string;
}

const MAX_LIST = 50;
const DAY_MS = 86_400_000;

/** A value given once or repeated (`?category=a&category=b`) or comma-separated (`?category=a,b`). */
const list = <T extends z.ZodTypeAny>(item: T, what: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(",")).map((s) => s.trim()))
    .pipe(
      z
        .array(item)
        .min(1, `give at least one ${what}`)
        .max(MAX_LIST, `give at most ${MAX_LIST} values of ${what}`),
    );

const name = (what: string) =>
  z
    .string()
    .min(1, `a ${what} cannot be empty`)
    .max(200, `a ${what} is at most 200 characters`)
    .regex(/^[^\p{Cc}]*$/u, `a ${what} cannot contain control characters`);

const dateOnly = /^\d{4}-\d{2}-\d{2}$/;

/** An ISO date (2026-03-02) or date-time with offset (2026-03-02T09:00:00Z). */
const instant = (endOfDay: boolean) =>
  z
    .string()
    .refine(
      (v) => dateOnly.test(v) || z.string().datetime({ offset: true }).safeParse(v).success,
      "must be a date such as 2026-03-02 or a date-time such as 2026-03-02T09:00:00Z",
    )
    .refine((v) => {
      // Date parsing rolls 2026-02-30 over into March; a real date reads back as written.
      const day = v.slice(0, 10);
      if (!dateOnly.test(day)) return true; // already reported as malformed
      const parsed = new Date(`${day}T00:00:00Z`);
      return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day;
    }, "is not a real calendar date")
    .transform((v) => {
      const date = new Date(dateOnly.test(v) ? `${v}T00:00:00Z` : v);
      // A date alone as the end of a range means the whole of that day.
      return dateOnly.test(v) && endOfDay ? new Date(date.getTime() + DAY_MS) : date;
    });

const sentiment = z.coerce
  .number({ invalid_type_error: "must be a number from -1 to 1" })
  .min(-1, "must be a number from -1 to 1")
  .max(1, "must be a number from -1 to 1");

/** Query parameters every analyst endpoint accepts. */
export const filterShape = {
  from: instant(false).optional(),
  to: instant(true).optional(),
  category: list(name("category"), "category").optional(),
  dialect: list(name("dialect"), "dialect").optional(),
  agent: list(name("agent id"), "agent").optional(),
  status: list(
    z.enum(ticketStatuses, { errorMap: () => ({ message: `must be one of ${ticketStatuses.join(", ")}` }) }),
    "status",
  ).optional(),
  sentimentMin: sentiment.optional(),
  sentimentMax: sentiment.optional(),
  q: z
    .string()
    .trim()
    .min(1, "cannot be empty; leave it out to search nothing")
    .max(200, "is at most 200 characters")
    .optional(),
};

type FilterInput = z.output<z.ZodObject<typeof filterShape>>;

/** Checks what one field cannot: ranges the right way round. */
export function refineFilters(f: FilterInput, ctx: z.RefinementCtx): void {
  if (f.from !== undefined && f.to !== undefined && f.from >= f.to) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  }
  if (f.sentimentMin !== undefined && f.sentimentMax !== undefined && f.sentimentMin > f.sentimentMax) {
    ctx.addIssue({ code: "custom", path: ["sentimentMax"], message: "must not be below sentimentMin" });
  }
}

export function toTicketFilters(f: FilterInput): TicketFilters {
  const dialects = f.dialect?.filter((d) => d !== NOT_MEASURED);
  return {
    from: f.from,
    to: f.to,
    categories: f.category,
    dialects: dialects && dialects.length > 0 ? dialects : undefined,
    dialectNotMeasured: f.dialect?.includes(NOT_MEASURED) ?? false,
    agents: f.agent,
    statuses: f.status,
    sentimentMin: f.sentimentMin,
    sentimentMax: f.sentimentMax,
    search: f.q,
  };
}
