// The pipeline as an SVG graph: one box per step in layers (a step sits
// below every step it needs; an event-triggered step, `on: STEP.event`,
// below its trigger, with a dashed edge), each box showing the step's latest
// state from the run's step events. Names and reasons are inserted as text.

const NS = 'http://www.w3.org/2000/svg';
const W = 150, H = 30, GX = 18, GY = 26;

const el = (name, attrs = {}) => {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};

export class DagView {
  constructor(container) {
    this.box = container;
    this.nodes = new Map();
  }

  // steps: [{ name, kind, needs: [], on? }] as validation describes them
  // (on: "STEP.event" for an event-triggered step).
  show(steps) {
    const names = new Set(steps.map((s) => s.name));
    const trigger = (s) => (typeof s.on === 'string' && names.has(s.on.split('.')[0]) ? s.on.split('.')[0] : null);
    const deps = new Map(steps.map((s) => [s.name, {
      needs: (s.needs ?? []).filter((n) => names.has(n)),
      on: trigger(s),
    }]));
    const layer = new Map();
    const depth = (n, seen = new Set()) => {
      if (layer.has(n)) return layer.get(n);
      if (seen.has(n)) return 0;
      seen.add(n);
      const d = deps.get(n);
      const parents = [...d.needs, ...(d.on ? [d.on] : [])];
      const l = parents.length ? 1 + Math.max(...parents.map((p) => depth(p, seen))) : 0;
      layer.set(n, l);
      return l;
    };
    steps.forEach((s) => depth(s.name));
    const rows = [];
    for (const s of steps) (rows[layer.get(s.name)] ??= []).push(s.name);
    const widest = Math.max(1, ...rows.map((r) => r?.length ?? 0));
    const width = widest * (W + GX) + GX;
    const pos = new Map();
    rows.forEach((r, y) => r?.forEach((n, x) => {
      const off = (width - r.length * (W + GX) + GX) / 2;
      pos.set(n, { x: off + x * (W + GX), y: GY / 2 + y * (H + GY) });
    }));
    const height = rows.length * (H + GY);
    const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': `pipeline with ${steps.length} steps: ${steps.map((s) => s.name).join(', ')}` });
    for (const [n, d] of deps) {
      const b = pos.get(n);
      for (const [p, cls] of [...d.needs.map((x) => [x, 'dag-edge']), ...(d.on ? [[d.on, 'dag-edge event']] : [])]) {
        const a = pos.get(p);
        const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y;
        svg.append(el('path', { class: cls, d: `M${x1},${y1} C${x1},${y1 + GY / 2} ${x2},${y2 - GY / 2} ${x2},${y2}` }));
      }
    }
    this.nodes = new Map();
    for (const s of steps) {
      const p = pos.get(s.name);
      const g = el('g', { class: 'dag-node', transform: `translate(${p.x},${p.y})`, 'data-step': s.name });
      const title = el('title');
      title.textContent = `${s.name} (${s.kind ?? 'step'})${s.description ? `: ${s.description}` : ''}`;
      const name = el('text', { x: 8, y: 13 });
      name.textContent = s.name.length > 22 ? `${s.name.slice(0, 21)}…` : s.name;
      const state = el('text', { x: 8, y: 25, class: 'state' });
      state.textContent = 'pending';
      g.append(title, el('rect', { width: W, height: H, rx: 4 }), name, state);
      svg.append(g);
      this.nodes.set(s.name, { g, state, title, step: s });
    }
    this.box.replaceChildren(svg);
  }

  // states: step name -> { status, reason }.
  update(states) {
    for (const [name, st] of states) {
      const n = this.nodes.get(name);
      if (!n) continue;
      n.g.setAttribute('class', `dag-node ${st.status}`);
      n.g.dataset.status = st.status;
      n.state.textContent = st.status;
      n.title.textContent = `${name} (${n.step.kind ?? 'step'}): ${st.status}${st.reason ? ` (${st.reason})` : ''}`;
    }
  }

  reset() {
    for (const n of this.nodes.values()) {
      n.g.setAttribute('class', 'dag-node');
      delete n.g.dataset.status;
      n.state.textContent = 'pending';
    }
  }
}
