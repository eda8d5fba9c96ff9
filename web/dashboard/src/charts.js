// Charts on uPlot (fast enough to redraw live on every round) and a plain canvas for the
// partition's stacked bars.
import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const colour = (i) => palette[i % palette.length];

// `series`: [{label, points: [{x, y}]}]; the x values are merged onto one axis.
export function LineChart({ title, help, series, yLabel, percent, height = 220, testId }) {
  const box = useRef(null), plot = useRef(null);
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const data = [xs, ...series.map((s) => {
    const byX = new Map(s.points.map((p) => [p.x, p.y]));
    return xs.map((x) => (byX.has(x) ? (percent ? 100 * byX.get(x) : byX.get(x)) : null));
  })];
  const shape = series.map((s) => s.label).join("|");
  useEffect(() => {
    if (!box.current) return;
    const options = {
      width: box.current.clientWidth || 480, height,
      scales: { x: { time: false } },
      axes: [{ incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, { label: yLabel || "" }],  // whole rounds
      series: [{ label: "round" }, ...series.map((s, i) => ({ label: s.label, stroke: s.colour || colour(i), width: 2, spanGaps: true, dash: s.dash }))],
    };
    plot.current = new uPlot(options, data, box.current);
    return () => plot.current.destroy();
  }, [shape]);
  useEffect(() => { if (plot.current) plot.current.setData(data); });
  return html`<figure class="chart" data-testid=${testId}>
    <figcaption title=${help || ""}>${title}${help ? html` <span class="hint">?</span>` : ""}</figcaption>
    <div ref=${box}></div>
  </figure>`;
}

// One stacked bar per site: its training examples of each class.
export function PartitionBars({ histogram, title, help }) {
  const canvas = useRef(null);
  useEffect(() => {
    const c = canvas.current;
    if (!c || !histogram) return;
    const g = c.getContext("2d"), sites = histogram.sites, width = c.width, height = c.height;
    g.clearRect(0, 0, width, height);
    const most = Math.max(1, ...sites.map((counts) => counts.reduce((a, b) => a + b, 0)));
    const bar = width / sites.length;
    sites.forEach((counts, s) => {
      let y = height;
      counts.forEach((count, k) => {
        const h = (count / most) * (height - 4);
        g.fillStyle = colour(k);
        g.fillRect(s * bar + 1, y - h, Math.max(1, bar - 2), h);
        y -= h;
      });
    });
  }, [histogram]);
  return html`<figure class="chart" data-testid="partition">
    <figcaption title=${help}>${title} <span class="hint">?</span></figcaption>
    <canvas ref=${canvas} width="640" height="140"></canvas>
  </figure>`;
}

// The trade-off: each method's final P->L (x) against G->S (y); a click picks a run.
export function TradeOffChart({ title, help, points, onPick }) {
  const canvas = useRef(null);
  useEffect(() => {
    const c = canvas.current;
    if (!c || !points.length) return;
    const g = c.getContext("2d"), w = c.width, h = c.height, pad = 40;
    g.clearRect(0, 0, w, h);
    const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
    const x0 = Math.min(...xs) - 1, x1 = Math.max(...xs) + 1, y0 = Math.min(...ys) - 1, y1 = Math.max(...ys) + 1;
    const px = (x) => pad + ((x - x0) / (x1 - x0)) * (w - 2 * pad), py = (y) => h - pad - ((y - y0) / (y1 - y0)) * (h - 2 * pad);
    g.strokeStyle = "#999";
    g.strokeRect(pad, pad, w - 2 * pad, h - 2 * pad);
    g.fillStyle = "#333";
    g.font = "11px sans-serif";
    g.fillText(`P→L ${x0.toFixed(1)}–${x1.toFixed(1)} %`, w / 2 - 40, h - 10);
    g.fillText(`G→S ${y0.toFixed(1)}–${y1.toFixed(1)} %`, 4, 14);
    points.forEach((p, i) => {
      p.sx = px(p.x);
      p.sy = py(p.y);
      g.fillStyle = p.page ? "#d62728" : colour(i + 2);
      g.beginPath();
      g.arc(p.sx, p.sy, 6, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = "#222";
      g.fillText(p.label, p.sx + 8, p.sy - 6);
    });
  }, [points]);
  const click = (e) => {
    const r = canvas.current.getBoundingClientRect();
    const x = ((e.clientX - r.left) * canvas.current.width) / r.width, y = ((e.clientY - r.top) * canvas.current.height) / r.height;
    const hit = points.find((p) => Math.hypot(p.sx - x, p.sy - y) < 10);
    if (hit && onPick) onPick(hit);
  };
  return html`<figure class="chart" data-testid="tradeoff">
    <figcaption title=${help}>${title} <span class="hint">?</span></figcaption>
    <canvas ref=${canvas} width="640" height="320" onClick=${click}></canvas>
  </figure>`;
}
