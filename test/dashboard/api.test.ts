import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  analystToken,
  byName,
  daysAgo,
  deadDelivery,
  fixtures,
  isoDay,
  seededDatabase,
  startTestDashboard,
  workOrderToken,
  type SeededDatabase,
  type TestDashboard,
} from "./fixtures.ts";

let seeded: SeededDatabase;
let dashboard: TestDashboard;

beforeAll(async () => {
  seeded = await seededDatabase("callscribe_dash_api");
  dashboard = await startTestDashboard(seeded.url);
});

afterAll(async () => {
  await dashboard?.close();
  await seeded?.drop();
});

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: string };
}

async function call(
  path: string,
  opts: { token?: string | null; method?: string; body?: unknown } = {},
): Promise<Answer> {
  const token = opts.token === undefined ? analystToken : opts.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${dashboard.baseUrl}${path}`, {
    method: opts.method ?? "GET",
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

const last30 = `from=${isoDay(daysAgo(30))}&to=${isoDay(daysAgo(0))}`;
const ids = (body: Answer["body"]) => (body.tickets as { callId: string }[]).map((t) => t.callId);
const recent = fixtures.filter((f) => f !== byName("old-leak"));

describe("analyst API access", () => {
  it("answers 401 without a token, with a malformed header, and with the work-order token", async () => {
    expect(await call("/api/v1/tickets", { token: null })).toEqual({
      status: 401,
      body: { error: "missing Authorization header; send Authorization: Bearer <token>" },
    });
    const wrong = await call("/api/v1/tickets", { token: workOrderToken });
    expect(wrong).toEqual({ status: 401, body: { error: "the token is not valid for the analyst API" } });
    const res = await fetch(`${dashboard.baseUrl}/api/v1/tickets`, {
      headers: { authorization: analystToken },
    });
    expect(res.status).toBe(401);
  });

  it("serves the page without a token, and no data with it", async () => {
    const res = await fetch(`${dashboard.baseUrl}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Callscribe hotline analytics");
    expect(html).not.toContain(byName("leak").summary);
    const chart = await fetch(`${dashboard.baseUrl}/vendor/chart.umd.min.js`);
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain("Chart");
  });
});

describe("analyst API filters and search", () => {
  it("lists the tickets of a date range, newest first", async () => {
    const { status, body } = await call(`/api/v1/tickets?${last30}`);
    expect(status).toBe(200);
    expect(ids(body)).toEqual([...recent].sort((a, b) => +b.startedAt - +a.startedAt).map((f) => f.callId));
    expect(body.nextOffset).toBeNull();
  });

  it("pages with limit and offset", async () => {
    const first = await call(`/api/v1/tickets?${last30}&limit=2`);
    const second = await call(`/api/v1/tickets?${last30}&limit=2&offset=2`);
    expect(first.body.nextOffset).toBe(2);
    expect(ids(second.body)).toEqual([byName("pothole").callId, byName("bill").callId]);
  });

  it("filters by category, dialect (measured or not), agent, status and sentiment", async () => {
    expect(ids((await call(`/api/v1/tickets?category=water`)).body)).toEqual([
      byName("leak").callId,
      byName("old-leak").callId,
    ]);
    expect(ids((await call(`/api/v1/tickets?${last30}&dialect=en-US`)).body)).toEqual([
      byName("leak").callId,
      byName("bill").callId,
    ]);
    expect(ids((await call(`/api/v1/tickets?dialect=not-measured`)).body)).toEqual([byName("bins").callId]);
    expect(ids((await call(`/api/v1/tickets?dialect=en-GB&dialect=not-measured`)).body)).toEqual([
      byName("bins").callId,
      byName("pothole").callId,
    ]);
    expect(ids((await call(`/api/v1/tickets?${last30}&agent=agent-22`)).body)).toEqual([
      byName("bins").callId,
      byName("bill").callId,
    ]);
    expect(ids((await call(`/api/v1/tickets?status=assigned,resolved`)).body)).toEqual([
      byName("bins").callId,
      byName("pothole").callId,
    ]);
    expect(ids((await call(`/api/v1/tickets?sentimentMin=-0.2&sentimentMax=0.5`)).body)).toEqual([
      byName("bins").callId,
      byName("pothole").callId,
    ]);
  });

  it("searches the redacted transcripts by word stem, phrase and exclusion", async () => {
    expect(ids((await call(`/api/v1/tickets?q=leaks`)).body)).toEqual([
      byName("leak").callId,
      byName("old-leak").callId,
    ]);
    expect(ids((await call(`/api/v1/tickets?q=${encodeURIComponent('"water bill"')}`)).body)).toEqual([
      byName("bill").callId,
    ]);
    expect(ids((await call(`/api/v1/tickets?q=leak%20-basement`)).body)).toEqual([byName("old-leak").callId]);
  });

  it("never finds what redaction removed", async () => {
    expect(ids((await call(`/api/v1/tickets?q=${encodeURIComponent("four one five")}`)).body)).toEqual([]);
  });
});

describe("analyst API charts", () => {
  it("counts calls per day and category", async () => {
    const { body } = await call(`/api/v1/volume?${last30}&by=category&bucket=day`);
    const rows = body.rows as { t: string; key: string; calls: number }[];
    expect(rows).toEqual([
      { t: daysAgo(5, 0).toISOString(), key: "noise", calls: 1 },
      { t: daysAgo(3, 0).toISOString(), key: "billing", calls: 1 },
      { t: daysAgo(2, 0).toISOString(), key: "roads", calls: 1 },
      { t: daysAgo(2, 0).toISOString(), key: "waste", calls: 1 },
      { t: daysAgo(1, 0).toISOString(), key: "water", calls: 1 },
    ]);
  });

  it("counts calls per dialect with the unmeasured ones as null", async () => {
    const { body } = await call(`/api/v1/volume?${last30}&by=dialect&bucket=month`);
    const totals = new Map<string | null, number>();
    for (const r of body.rows as { key: string | null; calls: number }[]) {
      totals.set(r.key, (totals.get(r.key) ?? 0) + r.calls);
    }
    expect(Object.fromEntries(totals)).toEqual({ "en-US": 2, "en-GB": 1, "es-MX": 1, null: 1 });
  });

  it("gives the mean sentiment per day, overall and per party", async () => {
    const { body } = await call(`/api/v1/sentiment?${last30}&bucket=day`);
    const day2 = (body.rows as { t: string; calls: number; overall: number }[]).find(
      (r) => r.t === daysAgo(2, 0).toISOString(),
    );
    expect(day2).toMatchObject({ calls: 2, overall: expect.closeTo((-0.1 + 0.3) / 2, 5) });
  });

  it("gives the emotion mix of measured calls and counts the unmeasured", async () => {
    const { body } = await call(`/api/v1/emotions?${last30}`);
    expect(body.calls).toBe(5);
    expect(body.notMeasured).toBe(1);
    const mix = Object.fromEntries(
      (body.mix as { label: string; share: number }[]).map((m) => [m.label, m.share]),
    );
    // Four measured calls: angry .6 + .5, neutral .4 + 1 + .5, sad .5, happy .5.
    expect(mix).toEqual({
      neutral: expect.closeTo(1.9 / 4, 5),
      angry: expect.closeTo(1.1 / 4, 5),
      sad: expect.closeTo(0.5 / 4, 5),
      happy: expect.closeTo(0.5 / 4, 5),
    });
  });

  it("ranks keywords by the calls that have them", async () => {
    const { body } = await call(`/api/v1/keywords?${last30}&limit=3`);
    expect(body.keywords).toEqual([
      { keyword: "water", calls: 2 },
      { keyword: "basement", calls: 1 },
      { keyword: "bill", calls: 1 },
    ]);
  });

  it("lists the worst-sentiment calls first", async () => {
    const { body } = await call(`/api/v1/worst-calls?${last30}&limit=2`);
    expect(ids(body)).toEqual([byName("bill").callId, byName("leak").callId]);
    expect((body.tickets as { sentiment: number }[])[0]!.sentiment).toBeCloseTo(-0.8, 5);
  });

  it("lists dead webhook deliveries", async () => {
    const { body } = await call(`/api/v1/deliveries/dead`);
    expect(body.deliveries).toEqual([
      expect.objectContaining({
        callId: byName("bill").callId,
        endpoint: deadDelivery.url,
        attempts: deadDelivery.attempts,
        lastStatusCode: 503,
        lastError: deadDelivery.lastError,
      }),
    ]);
  });

  it("lists the filter menus' values, with the unmeasured dialect as null", async () => {
    const { body } = await call(`/api/v1/facets`);
    expect(body).toEqual({
      categories: ["billing", "noise", "roads", "waste", "water"],
      dialects: ["en-GB", "en-US", "es-MX", null],
      agents: ["agent-17", "agent-22", "agent-31"],
    });
  });
});

describe("analyst API ticket page", () => {
  it("gives the redacted transcript by party with each utterance's sentiment and emotion", async () => {
    const leak = byName("leak");
    const { status, body } = await call(`/api/v1/tickets/${leak.callId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      callId: leak.callId,
      category: "water",
      subcategory: "leak",
      dialect: "en-US",
      status: "new",
      emotionPeak: "angry",
      summary: leak.summary,
    });
    expect(body.transcript).toEqual(
      leak.lines.map((l, seq) =>
        expect.objectContaining({
          seq,
          leg: l.leg,
          text: l.text,
          sentiment: l.sentiment,
          emotion: l.emotion,
        }),
      ),
    );
    expect(JSON.stringify(body)).not.toMatch(/four one five/);
  });

  it("answers 404 for an unknown call and 400 for a malformed id", async () => {
    expect(await call(`/api/v1/tickets/no-such-call`)).toEqual({
      status: 404,
      body: { error: "no ticket for call no-such-call" },
    });
    const bad = await call(`/api/v1/tickets/${encodeURIComponent("a b")}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^invalid ticket id: must be a call id without spaces/);
  });
});

describe("analyst API bad input", () => {
  const cases: [string, string][] = [
    ["/api/v1/tickets?from=last-week", "invalid query: from: must be a date such as 2026-03-02"],
    ["/api/v1/tickets?from=2026-03-05&to=2026-03-01", "invalid query: to: must be after from"],
    ["/api/v1/tickets?sentimentMin=-3", "invalid query: sentimentMin: must be a number from -1 to 1"],
    ["/api/v1/tickets?limit=0", "invalid query: limit: must be a whole number from 1 to 200"],
    ["/api/v1/tickets?offset=99999", "invalid query: offset: must be a whole number from 0 to 10000"],
    ["/api/v1/tickets?status=closed", "invalid query: status.0: must be one of new, assigned, resolved"],
    ["/api/v1/tickets?catgory=water", "invalid query: unknown parameter catgory"],
    ["/api/v1/volume?bucket=year", "invalid query: bucket: must be one of hour, day, week, month"],
    ["/api/v1/volume?by=agent", "invalid query: by: must be one of category, dialect"],
    ["/api/v1/keywords?limit=abc", "invalid query: limit: must be a whole number from 1 to 100"],
  ];
  it.each(cases)("%s answers 400: %s", async (path, reason) => {
    const { status, body } = await call(path);
    expect(status).toBe(400);
    expect(body.error).toContain(reason);
  });

  it("treats search syntax as words, never as SQL", async () => {
    const { status, body } = await call(
      `/api/v1/tickets?q=${encodeURIComponent("'); drop table tickets; --")}`,
    );
    expect(status).toBe(200);
    expect(ids(body)).toEqual([]);
    expect(ids((await call(`/api/v1/tickets?${last30}`)).body)).toHaveLength(recent.length);
  });
});

describe("the analyst role", () => {
  it("reads tickets but not the unredacted utterances", async () => {
    const rows = await dashboard.db.rows<{ n: number }>(sql`select count(*)::int as n from tickets`);
    expect(rows).toEqual([{ n: fixtures.length }]);
    await expect(dashboard.db.rows(sql`select text from utterances`)).rejects.toThrow(
      /permission denied for table utterances/,
    );
    await expect(dashboard.db.rows(sql`select from_uri from calls`)).rejects.toThrow(/permission denied/);
  });
});

describe("work-order API", () => {
  const base = "/api/work-orders/v1/tickets";
  const wo = (path: string, opts: { method?: string; body?: unknown; token?: string | null } = {}) =>
    call(`${base}${path}`, { token: workOrderToken, ...opts });

  it("answers 401 without its own token", async () => {
    expect((await wo("", { token: null })).status).toBe(401);
    expect(await wo("", { token: analystToken })).toEqual({
      status: 401,
      body: { error: "the token is not valid for the work-order API" },
    });
  });

  it("lists tickets by status and fetches one with its redacted transcript", async () => {
    const list = await wo("?status=new&category=water");
    expect(list.status).toBe(200);
    expect(ids(list.body)).toEqual([byName("leak").callId, byName("old-leak").callId]);
    const one = await wo(`/${byName("pothole").callId}`);
    expect(one.body).toMatchObject({ status: "assigned", assignee: "crew-3", category: "roads", version: 1 });
    expect((one.body.transcript as { text: string }[])[0]!.text).toBe(byName("pothole").lines[0]!.text);
    expect((await wo("/no-such-call")).status).toBe(404);
  });

  it("assigns, resolves and refuses to make a resolved ticket new", async () => {
    const id = byName("leak").callId;
    const assigned = await wo(`/${id}`, {
      method: "PATCH",
      body: { status: "assigned", assignee: "crew-7" },
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ status: "assigned", assignee: "crew-7", version: 2 });
    expect(assigned.body.statusChangedAt).toEqual(expect.any(String));

    const resolved = await wo(`/${id}`, { method: "PATCH", body: { status: "resolved", version: 2 } });
    expect(resolved.body).toMatchObject({ status: "resolved", assignee: "crew-7", version: 3 });

    const back = await wo(`/${id}`, { method: "PATCH", body: { status: "new" } });
    expect(back).toEqual({
      status: 409,
      body: { error: "the ticket is resolved; reopen it by assigning it (status assigned with an assignee)" },
    });

    // Analysts see the change too.
    const seen = await call(`/api/v1/tickets?status=resolved&category=water`);
    expect(ids(seen.body)).toEqual([id]);
  });

  it("queues a ticket.updated webhook message with each change", async () => {
    const id = byName("noise").callId;
    await wo(`/${id}`, { method: "PATCH", body: { assignee: "crew-1" } });
    const messages = await dashboard.db.rows<{ kind: string; ticket_version: number; payload: unknown }>(
      sql`select kind, ticket_version, payload from outbox where call_id = ${id}`,
    );
    expect(messages).toEqual([
      {
        kind: "ticket.updated",
        ticket_version: 2,
        payload: expect.objectContaining({
          event: "ticket.updated",
          callId: id,
          status: "assigned",
          assignee: "crew-1",
        }),
      },
    ]);
  });

  it("refuses an update based on an old version with 409", async () => {
    const id = byName("bins").callId;
    const stale = await wo(`/${id}`, {
      method: "PATCH",
      body: { status: "assigned", assignee: "x", version: 7 },
    });
    expect(stale).toEqual({
      status: 409,
      body: { error: "the ticket changed since version 7 (it is at version 1); fetch it again and retry" },
    });
    expect((await wo(`/${id}`)).body).toMatchObject({ status: "resolved", assignee: "crew-9" });
  });

  const bad: [string, unknown, string][] = [
    [
      "an unknown status",
      { status: "closed" },
      "invalid status change: status: must be one of new, assigned, resolved",
    ],
    ["nothing to change", {}, "invalid status change: send status, assignee or both"],
    [
      "an unknown field",
      { state: "new" },
      "invalid status change: unknown parameter state; send status, assignee or both",
    ],
    [
      "assigned without assignee",
      { status: "assigned" },
      "an assigned ticket needs an assignee; send assignee with it",
    ],
    ["a non-object", [1, 2], "invalid status change: must be a JSON object"],
  ];
  it.each(bad)("answers 400 for %s", async (_, body, reason) => {
    const res = await wo(`/${byName("bill").callId}`, { method: "PATCH", body });
    expect(res).toEqual({ status: 400, body: { error: reason } });
  });

  it("answers 400 for a body that is not JSON and 404 for an unknown ticket", async () => {
    const res = await fetch(`${dashboard.baseUrl}${base}/${byName("bill").callId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${workOrderToken}`, "content-type": "application/json" },
      body: "{status:",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "the body is not valid JSON" });
    expect(await wo("/no-such-call", { method: "PATCH", body: { status: "resolved" } })).toEqual({
      status: 404,
      body: { error: "no ticket for call no-such-call" },
    });
  });
});
