// The two line charts, drawn with uPlot (dist/uPlot.iife.min.js, loaded by
// index.html as the global `uPlot`): the target metric per finished trial
// with the best-so-far line, and the budget burn-down (remaining budget, and
// what remains once the money committed to running jobs is spent) over the
// run's clock in hours. Charts are rebuilt on a colour-scheme change (uPlot
// bakes colours in) and resized with their container.
import { colors, scheme } from './theme.mjs';

// Tick steps for a count (trials): whole numbers only.
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

function make(el, series, xLabel, yLabel, xSteps) {
  const col = colors();
  const axis = { stroke: col.muted, grid: { stroke: col.grid }, ticks: { stroke: col.grid } };
  return new globalThis.uPlot({
    width: Math.max(200, el.clientWidth), height: 220,
    scales: { x: { time: false } },
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    axes: [{ ...axis, label: xLabel, ...(xSteps ? { incrs: xSteps } : {}) }, { ...axis, label: yLabel }],
    series: [{ label: xLabel }, ...series(col)],
  }, null, el);
}

export class Charts {
  constructor(historyEl, burnEl) {
    this.historyEl = historyEl;
    this.burnEl = burnEl;
    this.metric = '';
    this.history = null;
    this.burn = null;
    this.available = typeof globalThis.uPlot === 'function';
    new ResizeObserver(() => this.#resize()).observe(historyEl);
  }

  #build() {
    if (!this.available) return;
    this.history?.destroy();
    this.burn?.destroy();
    this.history = make(this.historyEl, (c) => [
      { label: this.metric || 'metric', stroke: c.accent, width: 0, paths: () => null,
        points: { show: true, size: 4, stroke: c.accent, fill: c.accent } },
      { label: 'best so far', stroke: c.ok, width: 2 },
    ], 'trial', this.metric || 'metric', COUNT_STEPS);
    this.burn = make(this.burnEl, (c) => [
      { label: 'remaining', stroke: c.accent, width: 2, value: (u, v) => (v == null ? '' : `$${v.toFixed(2)}`) },
      { label: 'after committed', stroke: c.accent2, width: 1.5, dash: [6, 4],
        value: (u, v) => (v == null ? '' : `$${v.toFixed(2)}`) },
    ], 'hours', 'USD');
    this.historyEl.dataset.scheme = this.burnEl.dataset.scheme = scheme();
  }

  reset(metric) {
    this.metric = metric ?? '';
    this.#build();
  }

  rebuild(model) {
    this.#build();
    if (model) this.update(model);
  }

  update(model) {
    if (!this.available) return;
    if (!this.history || (model.metric && model.metric !== this.metric)) {
      this.metric = model.metric ?? '';
      this.#build();
    }
    const h = model.history, b = model.burn;
    this.history.setData([h.x, h.y, h.best]);
    this.burn.setData([b.t, b.remaining, b.afterCommitted]);
  }

  #resize() {
    for (const [u, el] of [[this.history, this.historyEl], [this.burn, this.burnEl]])
      if (u && el.clientWidth) u.setSize({ width: el.clientWidth, height: 220 });
  }
}
