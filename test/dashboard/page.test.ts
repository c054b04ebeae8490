import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  analystToken,
  byName,
  daysAgo,
  deadDelivery,
  isoDay,
  seededDatabase,
  startTestDashboard,
  type SeededDatabase,
  type TestDashboard,
} from "./fixtures.ts";

// Debian's chromium (scripts/setup.sh installs it), headless, with nothing reaching out of the machine.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let seeded: SeededDatabase;
let dashboard: TestDashboard;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  seeded = await seededDatabase("callscribe_dash_page");
  dashboard = await startTestDashboard(seeded.url);
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // playwright gives each launch a new, empty profile of its own.
    args: chromiumArgs,
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await seeded?.drop();
});

beforeEach(async () => {
  await context?.close();
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
});

/** The text of each body row of the table with this accessible name. */
async function tableRows(name: string): Promise<string[][]> {
  const table = page.getByRole("table", { name, exact: true });
  return table
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? "")));
}

/** Legend labels of a Chart.js chart, as the user reads them beside the chart. */
function chartLabels(canvasId: string): Promise<string[]> {
  return page.evaluate((id) => {
    const chart = (
      globalThis as unknown as {
        Chart: { getChart(id: string): { data: { datasets: { label?: string }[]; labels?: string[] } } };
      }
    ).Chart.getChart(id);
    return chart.data.datasets.length > 1
      ? chart.data.datasets.map((d) => d.label ?? "")
      : (chart.data.labels ?? []);
  }, canvasId);
}

async function openOverview(): Promise<void> {
  await page.goto(`${dashboard.baseUrl}/#token=${analystToken}`);
  await page.getByRole("table", { name: "Worst-sentiment calls" }).getByText(byName("bill").callId).waitFor();
}

describe("the analyst page", () => {
  it("shows the last 30 days: charts, worst calls, tickets, and dead deliveries", async () => {
    await openOverview();
    // The token handed over in the address is not left there.
    expect(page.url()).not.toContain(analystToken);

    expect(await chartLabels("volume-chart")).toEqual(["noise", "billing", "roads", "waste", "water"]);
    // Day by day, the day without calls included.
    const days = await page.evaluate(
      () =>
        (
          globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }
        ).Chart.getChart("volume-chart").data.labels,
    );
    expect(days).toEqual([5, 4, 3, 2, 1].map((n) => isoDay(daysAgo(n))));
    expect(await chartLabels("emotion-chart")).toEqual(["neutral", "angry", "happy", "sad", "not measured"]);
    expect(await chartLabels("keyword-chart")).toContain("water");
    await expect(page.locator("#emotion-note").textContent()).resolves.toBe(
      "Emotion not measured on 1 of 5 calls.",
    );

    const worst = await tableRows("Worst-sentiment calls");
    expect(worst[0]).toEqual([
      byName("bill").callId,
      expect.any(String),
      "billing",
      "en-US",
      "agent-22",
      "-0.80",
      "new",
      byName("bill").summary,
    ]);
    const tickets = await tableRows("Tickets");
    expect(tickets.map((r) => r[0])).toEqual([
      byName("leak").callId,
      byName("bins").callId,
      byName("pothole").callId,
      byName("bill").callId,
      byName("noise").callId,
    ]);
    expect(tickets.find((r) => r[0] === byName("bins").callId)?.[3]).toBe("not measured");

    const dead = await tableRows("Dead webhook deliveries");
    expect(dead).toEqual([
      [
        byName("bill").callId,
        deadDelivery.url,
        String(deadDelivery.attempts),
        expect.any(String),
        deadDelivery.lastError,
      ],
    ]);

    await page.locator("summary").first().click();
    const volume = await tableRows("Call volume");
    expect(volume).toContainEqual([expect.any(String), "water", "1"]);
    expect(pageErrors).toEqual([]);
  });

  it("narrows every panel when a filter is picked, and searches transcripts", async () => {
    await openOverview();
    const filters = page.getByRole("form", { name: "Filters" });
    await filters.getByLabel("Category").selectOption("water");
    await page
      .getByRole("table", { name: "Tickets" })
      .getByText(byName("bins").callId)
      .waitFor({ state: "detached" });
    expect((await tableRows("Tickets")).map((r) => r[0])).toEqual([byName("leak").callId]);
    await expect(page.locator("#emotion-note").textContent()).resolves.toBe(
      "Emotion not measured on 0 of 1 calls.",
    );
    expect(await chartLabels("emotion-chart")).toEqual(["angry", "neutral"]);

    await filters.getByLabel("Category").selectOption("");
    await filters.getByLabel("Dialect").selectOption({ label: "not measured" });
    await page
      .getByRole("table", { name: "Tickets" })
      .getByText(byName("leak").callId)
      .waitFor({ state: "detached" });
    expect((await tableRows("Tickets")).map((r) => [r[0], r[3]])).toEqual([
      [byName("bins").callId, "not measured"],
    ]);

    await filters.getByLabel("Dialect").selectOption("");
    await filters.getByLabel("Search transcripts").fill("refund");
    await filters.getByRole("button", { name: "Apply" }).click();
    await page
      .getByRole("table", { name: "Tickets" })
      .getByText(byName("bins").callId)
      .waitFor({ state: "detached" });
    expect((await tableRows("Tickets")).map((r) => r[0])).toEqual([byName("bill").callId]);

    await filters.getByLabel("Search transcripts").fill("");
    await filters.getByLabel("Sentiment from").fill("0.9");
    await filters.getByLabel("Sentiment to").fill("-0.9");
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.getByText("sentimentMax: must not be below sentimentMin").waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("opens a ticket: the redacted transcript by party, the sentiment curve and the emotion timeline", async () => {
    await openOverview();
    const leak = byName("leak");
    await page.getByRole("table", { name: "Tickets" }).getByRole("link", { name: leak.callId }).click();
    await page.getByRole("heading", { name: `water / leak: ${leak.callId}` }).waitFor();

    const turns = await page
      .getByRole("list", { name: "Transcript" })
      .locator("li")
      .evaluateAll((items) =>
        items.map((li) => [...li.querySelectorAll("span")].map((s) => s.textContent ?? "")),
      );
    expect(turns).toEqual(
      leak.lines.map((l, i) => [
        l.leg === "caller" ? "Caller" : "Agent",
        `${(i * 4).toFixed(1)} s`,
        l.text,
        l.emotion,
      ]),
    );
    expect(await page.locator("body").innerText()).not.toContain("four one five");
    expect(await page.getByRole("form", { name: "Filters" }).isVisible()).toBe(false);
    expect(await page.locator("#ticket-facts").innerText()).toContain("en-US (80%)");

    const curve = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          Chart: {
            getChart(id: string): {
              data: { datasets: { label: string; data: { x: number; y: number }[] }[] };
            };
          };
        }
      ).Chart.getChart("curve-chart");
      return chart.data.datasets.map((d) => [d.label, d.data]);
    });
    expect(curve).toEqual([
      [
        "caller",
        [
          { x: 0, y: -0.7 },
          { x: 8, y: 0 },
        ],
      ],
      [
        "agent",
        [
          { x: 4, y: 0.1 },
          { x: 12, y: 0.3 },
        ],
      ],
    ]);
    expect(await chartLabels("timeline-chart")).toEqual(["caller", "agent"]);
    await expect(page.locator("#timeline-note").textContent()).resolves.toBe("");

    await page.getByRole("link", { name: "← All tickets" }).click();
    await page.getByRole("heading", { name: "Call volume" }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("says when emotion and dialect were not measured on a ticket", async () => {
    await openOverview();
    const pothole = byName("pothole");
    await page.goto(`${dashboard.baseUrl}/#/tickets/${pothole.callId}`);
    await page.getByRole("heading", { name: `roads / pothole: ${pothole.callId}` }).waitFor();
    await page.getByText("Emotion not measured on this call.").waitFor();
    const emotions = await page.locator("#transcript .emotion").allTextContents();
    expect(emotions).toEqual(["not measured", "not measured"]);

    await page.goto(`${dashboard.baseUrl}/#/tickets/${byName("bins").callId}`);
    await page
      .getByRole("heading", { name: `waste / missed collection: ${byName("bins").callId}` })
      .waitFor();
    expect(await page.locator("#ticket-facts").innerText()).toMatch(/Dialect\s+not measured/);
  });

  it("asks for a token, and says when it is wrong", async () => {
    await page.goto(dashboard.baseUrl);
    await page.getByRole("heading", { name: "Analyst token" }).waitFor();
    await page.getByLabel("Token").fill("not-the-right-token-at-all");
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page.getByText("the token is not valid for the analyst API").waitFor();
    await page.getByLabel("Token").fill(analystToken);
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page
      .getByRole("table", { name: "Worst-sentiment calls" })
      .getByText(byName("bill").callId)
      .waitFor();
  });
});
