// Charts drawn with Chart.js (served from node_modules as /vendor/chart.umd.min.js).

const palette = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];
export const colorAt = (i) => palette[i % palette.length];

const charts = new Map();

function draw(canvasId, config) {
  charts.get(canvasId)?.destroy();
  const canvas = document.getElementById(canvasId);
  const chart = new window.Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
  charts.set(canvasId, chart);
  return chart;
}

/** Stacked bars: calls per time bucket, one series per category or dialect. */
export function drawVolume(labels, series) {
  draw("volume-chart", {
    type: "bar",
    data: {
      labels,
      datasets: series.map((s, i) => ({ label: s.name, data: s.values, backgroundColor: colorAt(i) })),
    },
    options: {
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "calls" } },
      },
    },
  });
}

/** Mean sentiment per bucket, overall and per party, on the -1..1 scale. */
export function drawSentimentTrend(labels, overall, caller, agent) {
  draw("sentiment-chart", {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: "overall", data: overall, borderColor: colorAt(0), spanGaps: true },
        { label: "caller", data: caller, borderColor: colorAt(1), spanGaps: true },
        { label: "agent", data: agent, borderColor: colorAt(2), spanGaps: true },
      ],
    },
    options: { scales: { y: { min: -1, max: 1, title: { display: true, text: "sentiment" } } } },
  });
}

export function drawEmotionMix(labels, shares) {
  draw("emotion-chart", {
    type: "doughnut",
    data: { labels, datasets: [{ data: shares, backgroundColor: labels.map((_, i) => colorAt(i)) }] },
  });
}

export function drawKeywords(labels, counts) {
  draw("keyword-chart", {
    type: "bar",
    data: { labels, datasets: [{ label: "calls", data: counts, backgroundColor: colorAt(0) }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  });
}

/** Sentiment of each utterance against the time it started, one line per party. */
export function drawSentimentCurve(points) {
  const party = (leg) =>
    points
      .filter((p) => p.leg === leg && p.sentiment !== null)
      .map((p) => ({ x: p.startMs / 1000, y: p.sentiment }));
  draw("curve-chart", {
    type: "line",
    data: {
      datasets: [
        { label: "caller", data: party("caller"), borderColor: colorAt(1), backgroundColor: colorAt(1) },
        { label: "agent", data: party("agent"), borderColor: colorAt(2), backgroundColor: colorAt(2) },
      ],
    },
    options: {
      scales: {
        x: { type: "linear", title: { display: true, text: "seconds into the call" } },
        y: { min: -1, max: 1, title: { display: true, text: "sentiment" } },
      },
    },
  });
}

/** Each utterance's emotion as a point on a row per label, over time; unmeasured ones are left out. */
export function drawEmotionTimeline(points, labels) {
  const legs = ["caller", "agent"];
  draw("timeline-chart", {
    type: "scatter",
    data: {
      datasets: legs.map((leg, i) => ({
        label: leg,
        data: points
          .filter((p) => p.leg === leg && p.emotion !== null)
          .map((p) => ({ x: p.startMs / 1000, y: p.emotion })),
        backgroundColor: colorAt(i + 1),
        pointRadius: 5,
      })),
    },
    options: {
      scales: {
        x: { type: "linear", title: { display: true, text: "seconds into the call" } },
        y: { type: "category", labels, offset: true },
      },
    },
  });
}
