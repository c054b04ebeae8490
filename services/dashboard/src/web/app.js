// The analyst page: filters drive every panel of the overview; #/tickets/<id> shows one ticket.
import { ApiError, forgetToken, get, storeToken, storedToken } from "./api.js";
import {
  drawEmotionMix,
  drawEmotionTimeline,
  drawKeywords,
  drawSentimentCurve,
  drawSentimentTrend,
  drawVolume,
} from "./charts.js";

const NOT_MEASURED = "not measured";
const PAGE_SIZE = 25;
const DEFAULT_DAYS = 30;

const $ = (id) => document.getElementById(id);
let ticketOffset = 0;

// --- small rendering helpers (text only: nothing from the API is parsed as HTML) -------------

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function renderTable(table, headers, rows, empty = "No calls match these filters.") {
  table.replaceChildren();
  const head = el("thead");
  const tr = el("tr");
  for (const h of headers) tr.append(el("th", h, { scope: "col" }));
  head.append(tr);
  const body = el("tbody");
  for (const row of rows) {
    const r = el("tr");
    for (const cell of row) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      r.append(td);
    }
    body.append(r);
  }
  if (rows.length === 0) {
    const r = el("tr");
    r.append(el("td", empty, { colspan: String(headers.length) }));
    body.append(r);
  }
  table.append(head, body);
}

const fmtSentiment = (v) => (v === null || v === undefined ? "" : Number(v).toFixed(2));
const fmtDialect = (d) => d ?? NOT_MEASURED;
const fmtWhen = (iso) => new Date(iso).toISOString().replace("T", " ").slice(0, 16);
const fmtSeconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const ticketLink = (t) => el("a", t.callId, { href: `#/tickets/${encodeURIComponent(t.callId)}` });

function bucketLabel(iso, bucket) {
  const s = new Date(iso).toISOString();
  return bucket === "hour"
    ? s.slice(0, 13).replace("T", " ") + ":00"
    : bucket === "month"
      ? s.slice(0, 7)
      : s.slice(0, 10);
}

function showError(err) {
  if (err instanceof ApiError && err.status === 401) {
    forgetToken();
    signIn(err.message);
    return;
  }
  $("error").textContent = err instanceof Error ? err.message : String(err);
}

// --- filters ------------------------------------------------------------------------------

function filterParams() {
  const form = new FormData($("filters"));
  const params = {};
  for (const name of ["from", "to", "category", "dialect", "agent", "sentimentMin", "sentimentMax", "q"]) {
    const v = String(form.get(name) ?? "").trim();
    if (v !== "") params[name] = v;
  }
  return params;
}

function setDefaultDates() {
  const form = $("filters");
  const today = new Date();
  const from = new Date(today.getTime() - DEFAULT_DAYS * 86_400_000);
  form.elements.from.value = from.toISOString().slice(0, 10);
  form.elements.to.value = today.toISOString().slice(0, 10);
}

async function loadFacets() {
  const facets = await get("facets");
  const category = $("filters").elements.category;
  for (const c of facets.categories) category.append(el("option", c, { value: c }));
  const dialect = $("filters").elements.dialect;
  for (const d of facets.dialects)
    dialect.append(el("option", fmtDialect(d), { value: d ?? "not-measured" }));
  const agents = $("agent-list");
  for (const a of facets.agents) agents.append(el("option", undefined, { value: a }));
}

// --- overview -----------------------------------------------------------------------------

async function loadOverview() {
  $("error").textContent = "";
  const filters = filterParams();
  const bucket = $("bucket").value;
  const by = $("volume-by").value;
  const [volume, sentiment, emotions, keywords, worst, tickets, dead] = await Promise.all([
    get("volume", { ...filters, by, bucket }),
    get("sentiment", { ...filters, bucket }),
    get("emotions", filters),
    get("keywords", { ...filters, limit: 15 }),
    get("worst-calls", { ...filters, limit: 10 }),
    get("tickets", { ...filters, limit: PAGE_SIZE, offset: ticketOffset }),
    get("deliveries/dead", { limit: 20 }),
  ]);
  renderVolume(volume, by);
  renderSentiment(sentiment);
  renderEmotions(emotions);
  renderKeywords(keywords);
  renderWorst(worst);
  renderTickets(tickets);
  renderDead(dead);
}

/** Every bucket start from the first to the last, so days without calls show as empty, not missing. */
function bucketStarts(bucket, times) {
  if (times.length === 0) return [];
  const sorted = [...times].sort();
  const last = new Date(sorted[sorted.length - 1]).getTime();
  const out = [];
  for (let d = new Date(sorted[0]); d.getTime() <= last && out.length < 5000;) {
    out.push(d.toISOString());
    if (bucket === "hour") d = new Date(d.getTime() + 3_600_000);
    else if (bucket === "day") d = new Date(d.getTime() + 86_400_000);
    else if (bucket === "week") d = new Date(d.getTime() + 7 * 86_400_000);
    else d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  }
  return out;
}

function renderVolume(volume, by) {
  const labels = bucketStarts(
    volume.bucket,
    volume.rows.map((r) => new Date(r.t).toISOString()),
  );
  const keys = [...new Set(volume.rows.map((r) => r.key ?? NOT_MEASURED))];
  const index = new Map(labels.map((t, i) => [t, i]));
  const series = keys.map((name) => ({ name, values: labels.map(() => 0) }));
  for (const r of volume.rows) {
    series[keys.indexOf(r.key ?? NOT_MEASURED)].values[index.get(new Date(r.t).toISOString())] = r.calls;
  }
  const shown = labels.map((t) => bucketLabel(t, volume.bucket));
  drawVolume(shown, series);
  renderTable(
    $("volume-table"),
    [volume.bucket, by, "calls"],
    volume.rows.map((r) => [bucketLabel(r.t, volume.bucket), r.key ?? NOT_MEASURED, r.calls]),
  );
}

function renderSentiment(sentiment) {
  const labels = sentiment.rows.map((r) => bucketLabel(r.t, sentiment.bucket));
  drawSentimentTrend(
    labels,
    sentiment.rows.map((r) => r.overall),
    sentiment.rows.map((r) => r.caller),
    sentiment.rows.map((r) => r.agent),
  );
  renderTable(
    $("sentiment-table"),
    [sentiment.bucket, "calls", "overall", "caller", "agent"],
    sentiment.rows.map((r, i) => [
      labels[i],
      r.calls,
      fmtSentiment(r.overall),
      fmtSentiment(r.caller),
      fmtSentiment(r.agent),
    ]),
  );
}

function renderEmotions(emotions) {
  const labels = emotions.mix.map((m) => m.label);
  const shares = emotions.mix.map((m) => m.share);
  if (emotions.notMeasured > 0) {
    labels.push(NOT_MEASURED);
    shares.push(emotions.notMeasured / Math.max(1, emotions.calls));
  }
  drawEmotionMix(labels, shares);
  $("emotion-note").textContent =
    `Emotion not measured on ${emotions.notMeasured} of ${emotions.calls} calls.`;
  renderTable(
    $("emotion-table"),
    ["emotion", "share of calls"],
    labels.map((l, i) => [l, `${(shares[i] * 100).toFixed(1)}%`]),
  );
}

function renderKeywords(keywords) {
  drawKeywords(
    keywords.keywords.map((k) => k.keyword),
    keywords.keywords.map((k) => k.calls),
  );
  renderTable(
    $("keyword-table"),
    ["keyword", "calls"],
    keywords.keywords.map((k) => [k.keyword, k.calls]),
  );
}

function ticketRow(t) {
  return [
    ticketLink(t),
    fmtWhen(t.startedAt),
    t.category,
    fmtDialect(t.dialect),
    t.agentId ?? "",
    fmtSentiment(t.sentiment),
    t.status,
    t.summary,
  ];
}
const ticketHeaders = [
  "call",
  "started (UTC)",
  "category",
  "dialect",
  "agent",
  "sentiment",
  "status",
  "summary",
];

function renderWorst(worst) {
  renderTable($("worst-table"), ticketHeaders, worst.tickets.map(ticketRow));
}

function renderTickets(page) {
  renderTable($("ticket-table"), ticketHeaders, page.tickets.map(ticketRow));
  $("prev-page").disabled = ticketOffset === 0;
  $("next-page").disabled = page.nextOffset === null;
  $("next-page").dataset.offset = page.nextOffset ?? "";
}

function renderDead(dead) {
  renderTable(
    $("dead-table"),
    ["call", "endpoint", "attempts", "last attempt (UTC)", "last error"],
    dead.deliveries.map((d) => [
      ticketLink(d),
      d.endpoint ?? "",
      d.attempts,
      d.lastAttemptAt ? fmtWhen(d.lastAttemptAt) : "",
      d.lastError ?? "",
    ]),
    "No dead deliveries.",
  );
}

// --- one ticket ---------------------------------------------------------------------------

async function loadTicket(callId) {
  $("error").textContent = "";
  const t = await get(`tickets/${encodeURIComponent(callId)}`);
  $("ticket-title").textContent = `${t.category}${t.subcategory ? ` / ${t.subcategory}` : ""}: ${t.callId}`;
  const facts = [
    ["Started (UTC)", fmtWhen(t.startedAt)],
    ["Status", t.assignee ? `${t.status} (${t.assignee})` : t.status],
    ["Urgency", t.urgency],
    ["Agent", t.agentId ?? ""],
    [
      "Dialect",
      t.dialect
        ? `${t.dialect}${t.dialectConfidence !== null ? ` (${Math.round(t.dialectConfidence * 100)}%)` : ""}`
        : NOT_MEASURED,
    ],
    [
      "Sentiment",
      `${fmtSentiment(t.sentiment)} (caller ${fmtSentiment(t.sentimentCaller)}, agent ${fmtSentiment(t.sentimentAgent)})`,
    ],
    ["Emotion", t.emotionPeak ?? NOT_MEASURED],
    [
      "Talk time",
      `caller ${fmtSeconds(t.talk.callerMs)}, agent ${fmtSeconds(t.talk.agentMs)}, no talk ${fmtSeconds(t.talk.nonTalkMs)}`,
    ],
    ["Interruptions", t.talk.interruptions],
    ["Summary", t.summary],
    [
      "Action items",
      t.actionItems.length
        ? t.actionItems.map((a) => (a.dueText ? `${a.text} (${a.dueText})` : a.text)).join("; ")
        : "none",
    ],
    ["Keywords", t.keywords.join(", ")],
    ["Recognised by", t.asrModel ? `${t.asrModel}${t.asrModelVersion ? ` ${t.asrModelVersion}` : ""}` : ""],
  ];
  const dl = $("ticket-facts");
  dl.replaceChildren();
  for (const [k, v] of facts) dl.append(el("dt", k), el("dd", v));

  const list = $("transcript");
  list.replaceChildren();
  for (const u of t.transcript) {
    const item = el("li", undefined, { class: `turn ${u.leg}` });
    item.append(
      el("span", u.leg === "caller" ? "Caller" : "Agent", { class: "party" }),
      el("span", fmtSeconds(u.startMs), { class: "time" }),
      el("span", u.text, { class: "text" }),
      el("span", u.emotion ?? NOT_MEASURED, { class: "emotion" }),
    );
    list.append(item);
  }
  drawSentimentCurve(t.transcript);
  const labels = [...new Set(t.transcript.map((u) => u.emotion).filter((e) => e !== null))].sort();
  drawEmotionTimeline(t.transcript, labels);
  $("timeline-note").textContent = labels.length === 0 ? `Emotion ${NOT_MEASURED} on this call.` : "";
}

// --- navigation ---------------------------------------------------------------------------

async function route() {
  const m = /^#\/tickets\/(.+)$/.exec(location.hash);
  $("overview").hidden = m !== null;
  $("ticket").hidden = m === null;
  $("filters").hidden = m !== null;
  try {
    if (m) await loadTicket(decodeURIComponent(m[1]));
    else await loadOverview();
  } catch (err) {
    showError(err);
  }
}

function signIn(message = "") {
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
}

async function start() {
  // A token handed over in the address (#token=...) is kept for this tab and removed from the address.
  const handed = /^#token=(.+)$/.exec(location.hash);
  if (handed) {
    storeToken(decodeURIComponent(handed[1]));
    history.replaceState(null, "", `${location.pathname}#/`);
  }
  if (!storedToken()) return signIn();
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  try {
    await loadFacets();
  } catch (err) {
    return showError(err);
  }
  await route();
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  storeToken(String(new FormData(event.target).get("token")));
  void start();
});
$("sign-out").addEventListener("click", () => {
  forgetToken();
  signIn();
});
$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  ticketOffset = 0;
  void route();
});
$("filters").addEventListener("reset", () => {
  setTimeout(() => {
    setDefaultDates();
    ticketOffset = 0;
    void route();
  });
});
for (const name of ["category", "dialect"]) {
  $("filters").elements[name].addEventListener("change", () => {
    ticketOffset = 0;
    void route();
  });
}
for (const id of ["bucket", "volume-by"]) $(id).addEventListener("change", () => void route());
$("prev-page").addEventListener("click", () => {
  ticketOffset = Math.max(0, ticketOffset - PAGE_SIZE);
  void route();
});
$("next-page").addEventListener("click", () => {
  ticketOffset = Number($("next-page").dataset.offset || 0);
  void route();
});
window.addEventListener("hashchange", () => void route());

setDefaultDates();
void start();
