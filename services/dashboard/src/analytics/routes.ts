import { z } from "zod";
import { NotFoundError } from "../http/errors.ts";
import { parseInput, queryObject } from "../http/params.ts";
import type { Route } from "../http/router.ts";
import type { SqlRunner } from "../sql-runner.ts";
import { filterShape, refineFilters, toTicketFilters } from "./filters.ts";
import {
  buckets,
  deadDeliveriesQuery,
  distinctValuesQuery,
  emotionSharesQuery,
  emotionTotalsQuery,
  hasNullDialectQuery,
  keywordsQuery,
  sentimentQuery,
  ticketDetailQuery,
  ticketPageQuery,
  volumeDimensions,
  volumeQuery,
  worstCallsQuery,
  type DeadDeliveryRow,
  type EmotionShareRow,
  type EmotionTotals,
  type KeywordRow,
  type SentimentRow,
  type TicketSummaryRow,
  type VolumeRow,
} from "./queries.ts";
import { callIdSchema } from "../tickets.ts";

const MAX_OFFSET = 10_000;

const limit = (fallback: number, max: number) =>
  z.coerce
    .number({ invalid_type_error: `must be a whole number from 1 to ${max}` })
    .int(`must be a whole number from 1 to ${max}`)
    .min(1, `must be a whole number from 1 to ${max}`)
    .max(max, `must be a whole number from 1 to ${max}`)
    .default(fallback);

const bucket = z
  .enum(buckets, { errorMap: () => ({ message: `must be one of ${buckets.join(", ")}` }) })
  .default("day");

/** Parses an endpoint's query string: the shared filters plus its own parameters, nothing else. */
function withFilters<S extends z.ZodRawShape>(own: S) {
  return z
    .object({ ...filterShape, ...own })
    .strict()
    .superRefine((v, ctx) => refineFilters(v, ctx));
}

const schemas = {
  volume: withFilters({
    by: z
      .enum(volumeDimensions, {
        errorMap: () => ({ message: `must be one of ${volumeDimensions.join(", ")}` }),
      })
      .default("category"),
    bucket,
  }),
  sentiment: withFilters({ bucket }),
  emotions: withFilters({}),
  keywords: withFilters({ limit: limit(20, 100) }),
  worst: withFilters({ limit: limit(10, 100) }),
  tickets: withFilters({
    limit: limit(25, 200),
    offset: z.coerce
      .number({ invalid_type_error: `must be a whole number from 0 to ${MAX_OFFSET}` })
      .int(`must be a whole number from 0 to ${MAX_OFFSET}`)
      .min(0, `must be a whole number from 0 to ${MAX_OFFSET}`)
      .max(MAX_OFFSET, `must be a whole number from 0 to ${MAX_OFFSET}; narrow the filters instead`)
      .default(0),
  }),
  dead: z.object({ limit: limit(20, 200) }).strict(),
  none: z.object({}).strict(),
};

/** The analyst API the page calls. `db` runs as the analyst role: redacted data only. */
export function analystRoutes(db: SqlRunner): Route[] {
  const get = (path: string, handle: Route["handle"]): Route => ({
    method: "GET",
    path: `/api/v1/${path}`,
    access: "analyst",
    handle,
  });
  const query = <S extends z.ZodTypeAny>(schema: S, search: URLSearchParams) =>
    parseInput(schema, queryObject(search), "query");

  return [
    get("facets", async ({ query: search }) => {
      query(schemas.none, search);
      const [categories, dialects, agents, nullDialect] = await Promise.all([
        db.rows<{ value: string }>(distinctValuesQuery("category", 500)),
        db.rows<{ value: string }>(distinctValuesQuery("dialect", 500)),
        db.rows<{ value: string }>(distinctValuesQuery("agent", 2000)),
        db.rows<{ present: boolean }>(hasNullDialectQuery()),
      ]);
      return {
        json: {
          categories: categories.map((r) => r.value),
          dialects: [
            ...dialects.map((r) => r.value as string | null),
            ...(nullDialect[0]?.present ? [null] : []),
          ],
          agents: agents.map((r) => r.value),
        },
      };
    }),

    get("volume", async ({ query: search }) => {
      const p = query(schemas.volume, search);
      const rows = await db.rows<VolumeRow>(volumeQuery(toTicketFilters(p), p.by, p.bucket));
      return { json: { by: p.by, bucket: p.bucket, rows } };
    }),

    get("sentiment", async ({ query: search }) => {
      const p = query(schemas.sentiment, search);
      const rows = await db.rows<SentimentRow>(sentimentQuery(toTicketFilters(p), p.bucket));
      return { json: { bucket: p.bucket, rows } };
    }),

    get("emotions", async ({ query: search }) => {
      const f = toTicketFilters(query(schemas.emotions, search));
      const [totals, shares] = await Promise.all([
        db.rows<EmotionTotals>(emotionTotalsQuery(f)),
        db.rows<EmotionShareRow>(emotionSharesQuery(f)),
      ]);
      const { calls, measured } = totals[0] ?? { calls: 0, measured: 0 };
      return {
        json: {
          calls,
          notMeasured: calls - measured,
          // Mean share of each emotion over the calls whose emotion was measured.
          mix: shares.map((s) => ({ label: s.label, share: measured === 0 ? 0 : s.total / measured })),
        },
      };
    }),

    get("keywords", async ({ query: search }) => {
      const p = query(schemas.keywords, search);
      const keywords = await db.rows<KeywordRow>(keywordsQuery(toTicketFilters(p), p.limit));
      return { json: { keywords } };
    }),

    get("worst-calls", async ({ query: search }) => {
      const p = query(schemas.worst, search);
      const rows = await db.rows<TicketSummaryRow>(worstCallsQuery(toTicketFilters(p), p.limit));
      return { json: { tickets: rows } };
    }),

    get("tickets", async ({ query: search }) => {
      const p = query(schemas.tickets, search);
      const rows = await db.rows<TicketSummaryRow>(ticketPageQuery(toTicketFilters(p), p.limit, p.offset));
      const more = rows.length > p.limit;
      return { json: { tickets: rows.slice(0, p.limit), nextOffset: more ? p.offset + p.limit : null } };
    }),

    get("tickets/:id", async ({ params, query: search }) => {
      query(schemas.none, search);
      const callId = parseInput(callIdSchema, params.id, "ticket id");
      const [row] = await db.rows<Record<string, unknown>>(ticketDetailQuery(callId));
      if (row === undefined) throw new NotFoundError(`no ticket for call ${callId}`);
      return { json: ticketDetail(row) };
    }),

    get("deliveries/dead", async ({ query: search }) => {
      const p = query(schemas.dead, search);
      const deliveries = await db.rows<DeadDeliveryRow>(deadDeliveriesQuery(p.limit));
      return { json: { deliveries } };
    }),
  ];
}

/** The ticket page's shape: talk figures in one place, the emotion peak's label beside its detail. */
function ticketDetail(row: Record<string, unknown>): Record<string, unknown> {
  const { talkTime, interruptions, emotionPeakDetail, ...rest } = row;
  return {
    ...rest,
    emotionPeakDetail: emotionPeakDetail ?? null,
    talk: { ...(talkTime as object), interruptions },
  };
}
