import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeIssues } from "../http/params.ts";
import { filterShape, refineFilters, toTicketFilters } from "./filters.ts";

const schema = z
  .object(filterShape)
  .strict()
  .superRefine((v, ctx) => refineFilters(v, ctx));

function parse(input: Record<string, string | string[]>) {
  const result = schema.safeParse(input);
  if (!result.success) throw new Error(describeIssues(result.error));
  return toTicketFilters(result.data);
}

describe("analyst filters", () => {
  it("takes a date-only end as the whole of that day", () => {
    expect(parse({ from: "2026-03-01", to: "2026-03-02" })).toMatchObject({
      from: new Date("2026-03-01T00:00:00Z"),
      to: new Date("2026-03-03T00:00:00Z"),
    });
    expect(parse({ to: "2026-03-02T09:30:00+01:00" }).to).toEqual(new Date("2026-03-02T08:30:00Z"));
  });

  it("reads lists given repeated or comma-separated, and the not-measured dialect apart", () => {
    expect(parse({ category: ["water", "roads"], dialect: "en-US,not-measured" })).toMatchObject({
      categories: ["water", "roads"],
      dialects: ["en-US"],
      dialectNotMeasured: true,
    });
    expect(parse({ dialect: "not-measured" })).toMatchObject({
      dialects: undefined,
      dialectNotMeasured: true,
    });
  });

  it("names each bad parameter and what it must be", () => {
    expect(() => parse({ from: "yesterday" })).toThrow(
      /^from: must be a date such as 2026-03-02 or a date-time such as 2026-03-02T09:00:00Z$/,
    );
    expect(() => parse({ from: "2026-02-30" })).toThrow("from: is not a real calendar date");
    expect(() => parse({ from: "2026-03-05", to: "2026-03-01" })).toThrow("to: must be after from");
    expect(() => parse({ sentimentMin: "2" })).toThrow("sentimentMin: must be a number from -1 to 1");
    expect(() => parse({ sentimentMin: "0.5", sentimentMax: "0" })).toThrow(
      "sentimentMax: must not be below sentimentMin",
    );
    expect(() => parse({ status: "closed" })).toThrow("status.0: must be one of new, assigned, resolved");
    expect(() => parse({ catgory: "water" })).toThrow("unknown parameter catgory");
    expect(() => parse({ q: "   " })).toThrow(/^q: cannot be empty/);
  });
});
