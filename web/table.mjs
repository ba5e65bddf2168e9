// The live results table: one row per job (a running job's live row shows
// its epoch and latest metrics until its final chunk replaces it), sortable
// by any column (aria-sort on the header), filtered by state, virtualised so
// 10k+ rows cost only the rows on screen (spacer rows above and below keep
// the scroll height; aria-rowcount / aria-rowindex keep the true positions).
// Columns: job, state, retry of, each hyperparameter (log-spaced ones with a
// bar on a log scale), each metric, cost, duration.
import { fmtNum, fmtUsd } from './format.mjs';

const OVERSCAN = 8;

export class ResultsTable {
  constructor(scroller, table) {
    this.scroller = scroller;
    this.table = table;
    this.thead = table.tHead;
    this.tbody = table.tBodies[0];
    this.sort = null;          // { key, dir: 'ascending' | 'descending' }
    this.filter = 'all';
    this.model = null;
    this.view = [];
    this.colKey = '';
    this.dirty = true;
    this.onSort = () => {};
    scroller.addEventListener('scroll', () => this.#renderRows(), { passive: true });
  }

  columns() {
    const m = this.model;
    const cols = [
      { key: 'id', label: 'job', get: (r) => r.id, fmt: (v) => v },
      { key: 'status', label: 'state', get: (r) => r.status, fmt: (v) => v, text: stateText },
      { key: 'retryOf', label: 'retry of', get: (r) => r.retryOf ?? '', fmt: (v) => v },
    ];
    for (const p of m.params) {
      const log = m.logParams.has(p);
      cols.push({ key: `hp.${p}`, label: p, scale: log ? 'log' : '', param: p, log, get: (r) => r.hp[p], fmt: fmtNum });
    }
    for (const k of [...m.metrics, ...m.liveMetrics]) cols.push({ key: `m.${k}`, label: k, get: (r) => r.metrics[k], fmt: fmtNum });
    cols.push({ key: 'cost', label: 'cost', get: (r) => r.cost, fmt: (v) => (v == null ? '' : fmtUsd(v)) });
    cols.push({ key: 'duration', label: 'hours', get: (r) => r.duration, fmt: (v) => (v == null ? '' : (v / 3600).toFixed(2)) });
    return cols;
  }

  setModel(model) {
    this.model = model;
    this.colKey = '';
    this.dirty = true;
    this.scroller.scrollTop = 0;
  }

  // Redraws after only live rows' epochs and metrics changed: their place in
  // the view is kept (their state and filter match do not change), so unless
  // the view is sorted by a metric or a new column came, only the rows on
  // screen are drawn again, as on a scroll.
  update() {
    if (!this.model || !this.cols) return;
    const key = this.columns().map((c) => c.key).join('|');
    if (key !== this.colKey || this.sort?.key.startsWith('m.')) this.render();
    else this.#renderRows();
  }

  // Redraws after the model changed (rows arrive: the sort and filter are
  // kept, and so is the scroll position).
  render() {
    if (!this.model) return;
    this.cols = this.columns();
    const key = this.cols.map((c) => c.key).join('|');
    if (key !== this.colKey) { this.colKey = key; this.#renderHead(); this.#ranges(); }
    else this.#ranges();
    let view = this.model.filtered(this.filter);
    if (this.sort) {
      const col = this.cols.find((c) => c.key === this.sort.key);
      if (col) {
        const sign = this.sort.dir === 'ascending' ? 1 : -1;
        view = view.slice().sort((a, b) => {
          const va = col.get(a), vb = col.get(b);
          const ma = va == null || va === '', mb = vb == null || vb === '';
          if (ma || mb) return ma === mb ? a.n - b.n : ma ? 1 : -1;   // missing values last either way
          return sign * cmp(va, vb) || a.n - b.n;
        });
      }
    }
    this.view = view;
    this.table.setAttribute('aria-rowcount', String(view.length + 1));
    this.#renderRows();
  }

  // Min and max of each log-scaled parameter, for the bars.
  #ranges() {
    this.range = new Map();
    for (const c of this.cols) {
      if (!c.log) continue;
      let lo = Infinity, hi = -Infinity;
      for (const r of this.model.rows) {
        const v = r.hp[c.param];
        if (typeof v === 'number' && v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
      this.range.set(c.key, [Math.log10(lo), Math.log10(hi)]);
    }
  }

  #renderHead() {
    const tr = document.createElement('tr');
    tr.setAttribute('aria-rowindex', '1');
    for (const c of this.cols) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.dataset.key = c.key;
      th.setAttribute('aria-sort', this.sort?.key === c.key ? this.sort.dir : 'none');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = c.label;
      if (c.scale) {
        const s = document.createElement('span');
        s.className = 'scale';
        s.textContent = ` (${c.scale})`;
        b.append(s);
      }
      b.addEventListener('click', () => this.#toggleSort(c.key));
      th.append(b);
      tr.append(th);
    }
    this.thead.replaceChildren(tr);
  }

  #toggleSort(key) {
    const dir = this.sort?.key === key && this.sort.dir === 'ascending' ? 'descending' : 'ascending';
    this.sort = { key, dir };
    for (const th of this.thead.querySelectorAll('th'))
      th.setAttribute('aria-sort', th.dataset.key === key ? dir : 'none');
    this.render();
    this.onSort(this.sort);
  }

  #renderRows() {
    if (!this.cols) return;
    // Measured once (reading layout in every frame would force it).
    this.rowH ??= parseFloat(getComputedStyle(this.table).getPropertyValue('--row-h')) || 26;
    const rowH = this.rowH;
    const headH = rowH;
    const top = Math.max(0, this.scroller.scrollTop - headH);
    const first = Math.max(0, Math.floor(top / rowH) - OVERSCAN);
    const count = Math.ceil(this.scroller.clientHeight / rowH) + 2 * OVERSCAN;
    const last = Math.min(this.view.length, first + count);
    const frag = document.createDocumentFragment();
    frag.append(spacer(first * rowH, this.cols.length));
    const best = this.model.best;
    for (let i = first; i < last; i++) frag.append(this.#row(this.view[i], i, best));
    frag.append(spacer((this.view.length - last) * rowH, this.cols.length));
    this.tbody.replaceChildren(frag);
  }

  #row(r, i, best) {
    const tr = document.createElement('tr');
    tr.setAttribute('aria-rowindex', String(i + 2));
    tr.dataset.job = r.id;
    if (r.live) tr.className = 'live';
    else if (r.status === 'stopped') tr.className = 'stopped';
    else if (r.status !== 'completed') tr.className = 'failed';
    if (r === best) tr.className = 'best';
    for (const c of this.cols) {
      const td = document.createElement('td');
      const v = c.get(r);
      if (c.log && typeof v === 'number' && v > 0) {
        const [lo, hi] = this.range.get(c.key);
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${hi > lo ? 0.3 + 2.2 * (Math.log10(v) - lo) / (hi - lo) : 1}em`;
        td.append(bar);
      }
      td.append((c.text ? c.text(r) : c.fmt(v)) ?? '');
      if (c.key === 'status' && r.error) td.title = `${r.errorType ?? 'error'}: ${r.error}`;
      else if (c.key === 'status' && r.status === 'stopped') td.title = stoppedTitle(r);
      else if (c.key === 'status' && r.live) td.title = 'still running: the metrics are its latest epoch\'s, not a result';
      tr.append(td);
    }
    return tr;
  }
}

// The state cell: where a live, stopped or unfinished job got to.
export function stateText(r) {
  const at = r.step == null ? '' : `epoch ${r.step}${r.epochs == null ? '' : `/${r.epochs}`}`;
  if (r.live) return at ? `running, ${at}` : 'running';
  if (r.status === 'stopped')
    return `stopped early${r.step == null ? '' : ` at epoch ${r.step}`}${r.bar == null ? '' : ` (bar ${fmtNum(r.bar)})`}`;
  if (r.status === 'unfinished' && at) return `unfinished, ${at}`;
  return r.status;
}

export function stoppedTitle(r) {
  const parts = [`stopped by ${r.reason ?? 'the early-stopping rule'}`];
  if (r.rung != null) parts.push(`rung ${r.rung}`);
  if (r.step != null) parts.push(`epoch ${r.step}${r.epochs == null ? '' : ` of ${r.epochs}`}`);
  if (r.bar != null) parts.push(`bar ${fmtNum(r.bar)}`);
  return parts.join(', ');
}

function spacer(h, cols) {
  const tr = document.createElement('tr');
  tr.className = 'spacer';
  tr.setAttribute('aria-hidden', 'true');
  const td = document.createElement('td');
  td.colSpan = cols;
  td.style.height = `${h}px`;
  tr.append(td);
  return tr;
}

// Numbers before text; text in natural order (job_2 before job_10).
function cmp(a, b) {
  const na = typeof a === 'number', nb = typeof b === 'number';
  if (na && nb) return a - b;
  if (na !== nb) return na ? -1 : 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}
