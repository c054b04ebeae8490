// p50/p95 of each request the dashboard page makes, over HTTP against the dashboard running as the
// analyst role, on a database seeded by bench/dashboard/seed.ts.
//
//   npx tsx bench/dashboard/seed.ts --tickets 1000000
//   npx tsx bench/dashboard/queries.ts [--iterations 60] [--database callscribe_bench_dashboard]
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { Registry } from "prom-client";
import { startDashboard } from "../../services/dashboard/src/dashboard.ts";
import { createSqlRunner } from "../../services/dashboard/src/sql-runner.ts";
import { testPostgresAdminUrl } from "../../test/support/infra.ts";

const { values } = parseArgs({
  options: {
    database: { type: "string", default: "callscribe_bench_dashboard" },
    iterations: { type: "string", default: "60" },
    warmup: { type: "string", default: "3" },
  },
});
const iterations = Number(values.iterations);
const warmup = Number(values.warmup);
const token = "bench-analyst-token-0123456789";

const day = (offsetDays: number) => new Date(Date.now() - offsetDays * 86_400_000).toISOString().slice(0, 10);
/** The page's default window: the last 30 days. */
const window30 = `from=${day(30)}&to=${day(0)}`;

interface Case {
  name: string;
  /** A path per iteration, so repeated requests need not be identical. */
  path: (i: number) => string;
}

async function main(): Promise<void> {
  const u = new URL(testPostgresAdminUrl);
  u.pathname = `/${values.database}`;
  const db = createSqlRunner({
    url: u.toString(),
    role: "callscribe_analyst",
    poolSize: 10,
    statementTimeoutMs: 60_000,
    workMemMb: 32,
    applicationName: "callscribe-dashboard-bench",
    onIdleError: () => undefined,
  });
  const [{ n }] = (await db.rows<{ n: number }>(sql`select count(*)::int as n from tickets`)) as [
    { n: number },
  ];
  const ids = (
    await db.rows<{ id: string }>(sql`select call_id as id from tickets tablesample system (0.1) limit 200`)
  ).map((r) => r.id);
  const server = await startDashboard(
    { host: "127.0.0.1", port: 0 },
    {
      db,
      tokens: { analyst: [token], workOrder: ["bench-workorder-token-0123456789"] },
      logger: pino({ level: "silent" }),
      registry: new Registry(),
    },
  );
  const base = `http://127.0.0.1:${server.port}/api/v1`;

  const agents = ["agent-17", "agent-42", "agent-150"];
  const categories = ["water", "roads", "billing", "noise"];
  const searches = ["leak basement", "refund", '"street light"', "pothole -road"];
  const cases: Case[] = [
    // What the page asks for when it opens (default filters: the last 30 days).
    { name: "facets (filter menus)", path: () => `/facets` },
    { name: "volume by category per day", path: () => `/volume?${window30}&by=category&bucket=day` },
    { name: "sentiment trend per day", path: () => `/sentiment?${window30}&bucket=day` },
    { name: "emotion mix", path: () => `/emotions?${window30}` },
    { name: "top keywords", path: () => `/keywords?${window30}&limit=15` },
    { name: "worst-sentiment calls", path: () => `/worst-calls?${window30}&limit=10` },
    { name: "tickets, first page", path: () => `/tickets?${window30}&limit=25` },
    { name: "dead deliveries", path: () => `/deliveries/dead?limit=20` },
    // What it asks for as the analyst filters, searches and opens tickets.
    { name: "volume by dialect per week", path: () => `/volume?${window30}&by=dialect&bucket=week` },
    {
      name: "tickets, category filter",
      path: (i) => `/tickets?${window30}&category=${categories[i % categories.length]}&limit=25`,
    },
    {
      name: "emotion mix, category filter",
      path: (i) => `/emotions?${window30}&category=${categories[i % categories.length]}`,
    },
    {
      name: "tickets, dialect not measured",
      path: () => `/tickets?${window30}&dialect=not-measured&limit=25`,
    },
    {
      name: "tickets, agent filter",
      path: (i) => `/tickets?${window30}&agent=${agents[i % agents.length]}&limit=25`,
    },
    {
      name: "tickets, sentiment -1 to -0.8",
      path: () => `/tickets?${window30}&sentimentMin=-1&sentimentMax=-0.8&limit=25`,
    },
    {
      name: "tickets, full-text search",
      path: (i) => `/tickets?${window30}&q=${encodeURIComponent(searches[i % searches.length]!)}&limit=25`,
    },
    { name: "tickets, page 5", path: () => `/tickets?${window30}&limit=25&offset=100` },
    { name: "ticket page", path: (i) => `/tickets/${encodeURIComponent(ids[i % ids.length]!)}` },
  ];

  const results: { name: string; p50: number; p95: number; max: number }[] = [];
  for (const c of cases) {
    const times: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const start = performance.now();
      const res = await fetch(`${base}${c.path(i)}`, { headers: { authorization: `Bearer ${token}` } });
      await res.json();
      const ms = performance.now() - start;
      if (!res.ok) throw new Error(`${c.name}: HTTP ${res.status}`);
      if (i >= warmup) times.push(ms);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
    results.push({ name: c.name, p50: at(0.5), p95: at(0.95), max: times[times.length - 1]! });
    console.error(`${c.name}: p95 ${at(0.95).toFixed(1)} ms`);
  }
  await server.close();
  await db.close();

  let cpu = "unknown CPU";
  try {
    cpu = /Model name:\s*(.+)/.exec(execFileSync("lscpu", { encoding: "utf8" }))?.[1] ?? cpu;
  } catch {
    // lscpu is optional
  }
  console.log(`${n} tickets, ${iterations} requests per row, sequential, over HTTP on loopback; ${cpu}`);
  console.log("");
  console.log("| request | p50 ms | p95 ms | max ms |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of results) {
    console.log(`| ${r.name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
