/* QC trends: one scatter chart per assay across batches, with the specification limits drawn in. */
document.addEventListener("DOMContentLoaded", async () => {
  const params = new URLSearchParams(new FormData(document.getElementById("trend-filters")));
  const canvas = document.getElementById("trend");
  const data = await (await fetch(canvas.dataset.source + "?" + params)).json();
  const palette = ["#1f5fa8", "#6a3d9a", "#1b9e77", "#d95f02", "#66a61e", "#a6761d", "#e7298a", "#666666"];
  const groups = [...new Set(data.points.map(p => p.group))];
  const labels = data.points.map(p => p.batch);
  const FAIL = "#b3261e";
  const datasets = groups.map((group, i) => ({
    label: group, showLine: false,
    data: data.points.map((p, x) => p.group === group ? {x, y: p.value, outcome: p.outcome, batch: p.batch} : null).filter(Boolean),
    backgroundColor: palette[i % palette.length], borderColor: palette[i % palette.length],
    pointBackgroundColor: ctx => ctx.raw && ctx.raw.outcome === "fail" ? FAIL : palette[i % palette.length],
    pointBorderColor: ctx => ctx.raw && ctx.raw.outcome === "fail" ? FAIL : palette[i % palette.length],
    pointStyle: ctx => ctx.raw && ctx.raw.outcome === "fail" ? "triangle" : "circle",
    pointRadius: ctx => ctx.raw && ctx.raw.outcome === "fail" ? 8 : 5,
  }));
  const limitLine = (value, label, colour) => ({
    label, type: "line", data: labels.map((_, x) => ({x, y: value})), borderColor: colour, borderDash: [6, 4],
    pointRadius: 0, borderWidth: 1.5, fill: false,
  });
  const l = data.limits || {};
  if (l.max_value != null) datasets.push(limitLine(l.max_value, "Upper limit", FAIL));
  if (l.min_value != null) datasets.push(limitLine(l.min_value, "Lower limit", FAIL));
  if (l.warn_max != null) datasets.push(limitLine(l.warn_max, "Upper warning", "#e6ab02"));
  if (l.warn_min != null) datasets.push(limitLine(l.warn_min, "Lower warning", "#e6ab02"));
  window.trendChart = new Chart(document.getElementById("trend"), {
    type: "scatter", data: {datasets},
    options: {
      maintainAspectRatio: false, animation: false,
      scales: {x: {type: "linear", min: -0.5, max: Math.max(labels.length - 0.5, 0.5),
                   ticks: {stepSize: 1, callback: v => Number.isInteger(v) ? (labels[v] ?? "") : ""}, title: {display: true, text: "Batch"}},
               y: {grace: "10%", beginAtZero: true, title: {display: true, text: data.unit || "value"}}},
      plugins: {title: {display: true, text: `${data.assay}${data.analyte ? " " + data.analyte : ""} — coloured by ${data.colour_by}`},
                tooltip: {callbacks: {label: ctx => `${ctx.raw.batch ?? ctx.dataset.label}: ${ctx.raw.y} ${data.unit}${ctx.raw.outcome === "fail" ? " (out of specification)" : ""}`}}},
    },
  });
  document.getElementById("trend").dataset.ready = "1";
});
