/* QC trends: one scatter chart per assay across batches, with the specification limits drawn in. */
const SUPERSCRIPT = {"-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹"};
/* 45000000000 → "4.5 × 10¹⁰", 0.25 → "0.25": the way a lab writes numbers (as the pages' |num filter). */
const readable = value => {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3) {
    const [mantissa, exponent] = value.toExponential(2).split("e");
    const power = "10" + String(Number(exponent)).replace(/[-0-9]/g, c => SUPERSCRIPT[c]);
    const m = String(Number(mantissa));
    return m === "1" ? power : `${m} × ${power}`;
  }
  return String(Number(value.toPrecision(4)));
};
document.addEventListener("DOMContentLoaded", async () => {
  const canvasElement = document.getElementById("trend");
  if (!canvasElement) return;  // nothing to plot: the page says why
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
                   // one tick per batch, at 0, 1, 2 … (the axis itself runs from -0.5 so the points sit inside)
                   afterBuildTicks: axis => { axis.ticks = labels.map((_, value) => ({value})); },
                   ticks: {autoSkip: false, maxRotation: 60, callback: v => labels[v] ?? ""},
                   title: {display: true, text: "Batch"}},
               y: {grace: "10%", beginAtZero: true, ticks: {callback: v => readable(v)},
                   title: {display: true, text: data.unit ? `${data.title} (${data.unit})` : data.title}}},
      plugins: {title: {display: true, text: `${data.title}, coloured by ${data.colour_by.toLowerCase()}`},
                tooltip: {callbacks: {label: ctx => `${ctx.raw.batch ?? ctx.dataset.label}: ${readable(ctx.raw.y)} ${data.unit}${ctx.raw.outcome === "fail" ? " (out of specification)" : ""}`}}},
    },
  });
  document.getElementById("trend").dataset.ready = "1";
});
