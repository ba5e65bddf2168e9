// A small parallel-coordinates view on a canvas: one vertical axis per
// hyperparameter that varies (log scale where the space is log-spaced) and
// one for the target metric; one polyline per completed trial, coloured by
// the metric (the best ones drawn last, on top). The figure's text and the
// table carry the same data for assistive technology (the canvas is
// aria-hidden).
import { colors, scheme } from './theme.mjs';
import { fmtNum } from './format.mjs';

const BINS = 16;

export class ParCoords {
  constructor(canvas) {
    this.canvas = canvas;
    // The size is observed, not read while drawing: reading it would force a
    // layout of the page in the middle of a frame.
    this.size = { w: canvas.clientWidth, h: canvas.clientHeight };
    this.redraw = null;
    new ResizeObserver(([e]) => {
      this.size = { w: e.contentRect.width, h: e.contentRect.height };
      this.redraw?.();
    }).observe(canvas);
  }

  draw(model, rows) {
    this.redraw = () => this.draw(model, rows);
    const c = this.canvas;
    const dpr = globalThis.devicePixelRatio || 1;
    const { w, h } = this.size;
    if (!w || !h) return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const col = colors();
    c.dataset.scheme = scheme();
    const metric = model.metric;
    const all = rows.filter((r) => r.status === 'completed' && typeof r.metrics[metric] === 'number');
    const done = sample(all, model);
    this.shown = { lines: done.length, of: all.length };
    const axes = [];
    for (const p of model.params) {
      const vals = done.map((r) => r.hp[p]).filter((v) => typeof v === 'number');
      const log = model.logParams.has(p) && vals.every((v) => v > 0);
      const t = log ? Math.log10 : (v) => v;
      const lo = Math.min(...vals.map(t)), hi = Math.max(...vals.map(t));
      if (vals.length && hi > lo) axes.push({ name: p, log, t, lo, hi, get: (r) => r.hp[p] });
    }
    if (metric) {
      const vals = done.map((r) => r.metrics[metric]);
      const lo = Math.min(...vals), hi = Math.max(...vals);
      axes.push({ name: metric, log: false, t: (v) => v, lo, hi: hi > lo ? hi : lo + 1, get: (r) => r.metrics[metric] });
    }
    if (axes.length < 2 || !done.length) return;
    const pad = { l: 24, r: 24, t: 22, b: 20 };
    const gap = (w - pad.l - pad.r) / (axes.length - 1);
    const y = (a, v) => pad.t + (1 - (a.t(v) - a.lo) / (a.hi - a.lo)) * (h - pad.t - pad.b);
    const m = axes[axes.length - 1];
    // Lines are grouped into BINS colour bins by metric and each bin is
    // stroked once (one path per bin, the better bins last, on top): 10,000
    // trials cost BINS strokes, not 10,000.
    const bins = Array.from({ length: BINS }, () => new Path2D());
    for (const r of done) {
      const q = (m.t(r.metrics[metric]) - m.lo) / (m.hi - m.lo);
      const frac = model.direction === 'min' ? 1 - q : q;
      const path = bins[Math.min(BINS - 1, Math.max(0, Math.floor(frac * BINS)))];
      axes.forEach((a, i) => {
        const v = a.get(r);
        const yy = typeof v === 'number' && (!a.log || v > 0) ? y(a, v) : h - pad.b;
        if (i) path.lineTo(pad.l + i * gap, yy); else path.moveTo(pad.l, yy);
      });
    }
    ctx.lineWidth = 1;
    ctx.globalAlpha = Math.max(0.08, Math.min(0.7, 60 / done.length));
    bins.forEach((path, i) => {
      ctx.strokeStyle = mix(col.accent2, col.accent, (i + 0.5) / BINS);
      ctx.stroke(path);
    });
    ctx.globalAlpha = 1;
    ctx.strokeStyle = col.muted;
    ctx.fillStyle = col.fg;
    ctx.font = '11px system-ui, sans-serif';
    axes.forEach((a, i) => {
      const x = pad.l + i * gap;
      const lastAxis = i === axes.length - 1;
      ctx.textAlign = i === 0 ? 'left' : lastAxis ? 'right' : 'center';
      const tx = i === 0 ? 4 : lastAxis ? w - 4 : x;
      ctx.beginPath();
      ctx.moveTo(x, pad.t);
      ctx.lineTo(x, h - pad.b);
      ctx.stroke();
      ctx.fillText(`${a.name}${a.log ? ' (log)' : ''}`, tx, 12);
      const inv = (t) => (a.log ? 10 ** t : t);
      // Range labels beside the axis, not on it.
      ctx.textAlign = lastAxis ? 'right' : 'left';
      const lx = lastAxis ? x - 3 : x + 3;
      ctx.fillText(fmtNum(Number(inv(a.hi).toPrecision(3))), lx, pad.t + 9);
      ctx.fillText(fmtNum(Number(inv(a.lo).toPrecision(3))), lx, h - pad.b - 3);
    });
  }
}

// At most MAX_LINES trials: the best TOP of them, and an even spread of the
// rest (beyond a few thousand lines the picture no longer changes, only the
// time to draw it).
const MAX_LINES = 2500, TOP = 500;
function sample(rows, model) {
  if (rows.length <= MAX_LINES) return rows;
  const v = (r) => r.metrics[model.metric];
  const sorted = rows.slice().sort((a, b) => (model.direction === 'min' ? v(a) - v(b) : v(b) - v(a)));
  const rest = sorted.slice(TOP);
  const step = rest.length / (MAX_LINES - TOP);
  const out = sorted.slice(0, TOP);
  for (let i = 0; i < MAX_LINES - TOP; i++) out.push(rest[Math.floor(i * step)]);
  return out;
}

// Mixes two CSS hex colours (#rgb or #rrggbb); f = 1 gives b.
function mix(a, b, f) {
  const p = (s) => {
    const h = s.replace('#', '');
    const x = h.length === 3 ? [...h].map((ch) => ch + ch).join('') : h;
    return [0, 2, 4].map((i) => parseInt(x.slice(i, i + 2), 16));
  };
  const [ra, ga, ba] = p(a), [rb, gb, bb] = p(b);
  const t = Math.max(0, Math.min(1, f));
  return `rgb(${Math.round(ra + (rb - ra) * t)},${Math.round(ga + (gb - ga) * t)},${Math.round(ba + (bb - ba) * t)})`;
}
