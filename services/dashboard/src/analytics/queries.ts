import { tickets, ticketMatches, webhookDeliveries } from "@callscribe/db";
import { sql, type SQL } from "drizzle-orm";
import type { TicketFilters } from "./filters.ts";

export const buckets = ["hour", "day", "week", "month"] as const;
export type Bucket = (typeof buckets)[number];

export const volumeDimensions = ["category", "dialect"] as const;
export type VolumeDimension = (typeof volumeDimensions)[number];

/** The WHERE clause of the page's filters; every value a bound parameter. */
export function ticketWhere(f: TicketFilters): SQL {
  const c: SQL[] = [];
  if (f.from !== undefined) c.push(sql`${tickets.startedAt} >= ${f.from}`);
  if (f.to !== undefined) c.push(sql`${tickets.startedAt} < ${f.to}`);
  if (f.categories !== undefined) c.push(sql`${tickets.category} in ${f.categories}`);
  if (f.dialects !== undefined && f.dialectNotMeasured) {
    c.push(sql`(${tickets.dialect} in ${f.dialects} or ${tickets.dialect} is null)`);
  } else if (f.dialects !== undefined) {
    c.push(sql`${tickets.dialect} in ${f.dialects}`);
  } else if (f.dialectNotMeasured) {
    c.push(sql`${tickets.dialect} is null`);
  }
  if (f.agents !== undefined) c.push(sql`${tickets.agentId} in ${f.agents}`);
  // The enum column compares with text parameters through an explicit cast.
  if (f.statuses !== undefined) c.push(sql`${tickets.status}::text in ${f.statuses}`);
  if (f.sentimentMin !== undefined) c.push(sql`${tickets.sentimentOverall} >= ${f.sentimentMin}`);
  if (f.sentimentMax !== undefined) c.push(sql`${tickets.sentimentOverall} <= ${f.sentimentMax}`);
  if (f.search !== undefined) c.push(ticketMatches(f.search));
  return c.length === 0 ? sql`true` : sql.join(c, sql` and `);
}

export interface VolumeRow {
  t: Date;
  key: string | null;
  calls: number;
}

export function volumeQuery(f: TicketFilters, by: VolumeDimension, bucket: Bucket): SQL {
  const key = by === "category" ? tickets.category : tickets.dialect;
  return sql`
    select date_trunc(${bucket}, ${tickets.startedAt}) as t, ${key} as key, count(*)::int as calls
    from ${tickets} where ${ticketWhere(f)}
    group by 1, 2 order by 1, 2`;
}

export interface SentimentRow {
  t: Date;
  calls: number;
  overall: number;
  caller: number | null;
  agent: number | null;
}

export function sentimentQuery(f: TicketFilters, bucket: Bucket): SQL {
  return sql`
    select date_trunc(${bucket}, ${tickets.startedAt}) as t, count(*)::int as calls,
      avg(${tickets.sentimentOverall})::float8 as overall,
      avg(${tickets.sentimentCaller})::float8 as caller,
      avg(${tickets.sentimentAgent})::float8 as agent
    from ${tickets} where ${ticketWhere(f)}
    group by 1 order by 1`;
}

export interface EmotionTotals {
  calls: number;
  measured: number;
}

export function emotionTotalsQuery(f: TicketFilters): SQL {
  return sql`
    select count(*)::int as calls, count(${tickets.emotionMix})::int as measured
    from ${tickets} where ${ticketWhere(f)}`;
}

export interface EmotionShareRow {
  label: string;
  total: number;
}

/** Sum of each label's share over the calls whose emotion was measured. */
export function emotionSharesQuery(f: TicketFilters): SQL {
  return sql`
    select e.key as label, sum(e.value::float8)::float8 as total
    from ${tickets} cross join lateral jsonb_each_text(${tickets.emotionMix}) as e
    where ${tickets.emotionMix} is not null and ${ticketWhere(f)}
    group by e.key order by total desc, e.key`;
}

export interface KeywordRow {
  keyword: string;
  calls: number;
}

export function keywordsQuery(f: TicketFilters, limit: number): SQL {
  return sql`
    select k.keyword, count(*)::int as calls
    from ${tickets} cross join lateral jsonb_array_elements_text(${tickets.keywords}) as k(keyword)
    where ${ticketWhere(f)}
    group by k.keyword order by calls desc, k.keyword limit ${limit}`;
}

export interface TicketSummaryRow {
  callId: string;
  startedAt: Date;
  category: string;
  subcategory: string | null;
  urgency: string;
  status: string;
  assignee: string | null;
  agentId: string | null;
  dialect: string | null;
  sentiment: number;
  emotionPeak: string | null;
  incomplete: boolean;
  summary: string;
}

const summaryColumns = sql`
  ${tickets.callId} as "callId", ${tickets.startedAt} as "startedAt", ${tickets.category} as category,
  ${tickets.subcategory} as subcategory, ${tickets.urgency} as urgency, ${tickets.status} as status,
  ${tickets.assignee} as assignee, ${tickets.agentId} as "agentId", ${tickets.dialect} as dialect,
  ${tickets.sentimentOverall}::float8 as sentiment, ${tickets.emotionPeak} ->> 'label' as "emotionPeak",
  ${tickets.incomplete} as incomplete, ${tickets.summary} as summary`;

export function worstCallsQuery(f: TicketFilters, limit: number): SQL {
  return sql`
    select ${summaryColumns} from ${tickets} where ${ticketWhere(f)}
    order by ${tickets.sentimentOverall} asc, ${tickets.startedAt} desc nulls last limit ${limit}`;
}

/** Newest first; one row more than asked tells whether a next page exists. */
export function ticketPageQuery(f: TicketFilters, limit: number, offset: number): SQL {
  return sql`
    select ${summaryColumns} from ${tickets} where ${ticketWhere(f)}
    order by ${tickets.startedAt} desc nulls last, ${tickets.callId} desc nulls last limit ${limit + 1} offset ${offset}`;
}

/** Only redacted content: the ticket's columns, never the `utterances` table. */
export function ticketDetailQuery(callId: string): SQL {
  return sql`
    select ${summaryColumns},
      ${tickets.endedAt} as "endedAt", ${tickets.durationMs} as "durationMs",
      ${tickets.incompleteReason} as "incompleteReason", ${tickets.language} as language,
      ${tickets.languages} as languages, ${tickets.dialectConfidence}::float8 as "dialectConfidence",
      ${tickets.sentimentCaller}::float8 as "sentimentCaller", ${tickets.sentimentAgent}::float8 as "sentimentAgent",
      ${tickets.sentimentTrend} as "sentimentTrend", ${tickets.emotionMix} as "emotionMix",
      ${tickets.emotionPeak} as "emotionPeakDetail", ${tickets.talkTime} as "talkTime",
      ${tickets.interruptions} as interruptions, ${tickets.actionItems} as "actionItems",
      ${tickets.keywords} as keywords, ${tickets.redactedTranscript} as transcript,
      ${tickets.asrModel} as "asrModel", ${tickets.asrModelVersion} as "asrModelVersion",
      ${tickets.statusChangedAt} as "statusChangedAt", ${tickets.version} as version
    from ${tickets} where ${tickets.callId} = ${callId}`;
}

export interface DeadDeliveryRow {
  id: number;
  callId: string;
  endpoint: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
}

export function deadDeliveriesQuery(limit: number): SQL {
  return sql`
    select ${webhookDeliveries.id}::float8 as id, ${webhookDeliveries.callId} as "callId",
      ${webhookDeliveries.url} as endpoint, ${webhookDeliveries.attempts} as attempts,
      ${webhookDeliveries.lastStatusCode} as "lastStatusCode", ${webhookDeliveries.lastError} as "lastError",
      ${webhookDeliveries.deadAt} as "lastAttemptAt"
    from ${webhookDeliveries} where ${webhookDeliveries.status} = 'dead'
    order by ${webhookDeliveries.deadAt} desc nulls last, ${webhookDeliveries.id} desc limit ${limit}`;
}

/**
 * Distinct values of an indexed column by skipping through its index (one index probe per value),
 * so the filter menus cost the same with a thousand tickets or a million.
 */
export function distinctValuesQuery(column: "category" | "dialect" | "agent", limit: number): SQL {
  const col =
    column === "category" ? tickets.category : column === "dialect" ? tickets.dialect : tickets.agentId;
  const name = sql.raw(`"${col.name}"`);
  return sql`
    with recursive v(value) as (
      (select ${name} from ${tickets} where ${name} is not null order by ${name} limit 1)
      union all
      select (select ${name} from ${tickets} t where t.${name} > v.value order by t.${name} limit 1)
      from v where v.value is not null
    )
    select value from v where value is not null limit ${limit}`;
}

export function hasNullDialectQuery(): SQL {
  return sql`select exists (select 1 from ${tickets} where ${tickets.dialect} is null) as present`;
}
