// When the views redraw. Views draw from the model, never from events, and
// never all in one go: each animation frame runs the cheap updates (the
// `cheap` callback: log, steps, summary) and at most one costly view, the
// one whose redraw is most overdue, so no frame's task grows with the sweep
// beyond one view's cost. A costly view also waits between redraws in
// proportion to the rows it draws (`perRow` ms a row, at least `minMs`), so
// during a 10,000-trial stream each redraws about once a second; when the run
// is over (`idle()`) they redraw as soon as marked.

// Runs fn as a User Timing measure named "console:NAME" (seen in a browser's
// performance tools, and read by the large-sweep test to say what was slow).
export function timed(name, fn) {
  const start = performance.now();
  try {
    return fn();
  } finally {
    performance.measure(`console:${name}`, { start, end: performance.now() });
  }
}

export class Frames {
  #frame = 0;
  #timer = 0;
  #dirty = new Set();

  // views: { name: { minMs, perRow, draw() } }; cheap(now, idle) returns the
  // ms until its own pending work is due (Infinity: none); rows() the row
  // count; idle() true when no run streams; paused() true to hold the costly
  // views while a run streams.
  constructor(views, { cheap, rows, idle, paused }) {
    this.views = views;
    this.o = { cheap, rows, idle, paused };
    for (const v of Object.values(views)) v.last = 0;
  }

  reset() {
    this.#dirty.clear();
    for (const v of Object.values(this.views)) v.last = 0;
  }

  mark(...names) {
    for (const n of names) this.#dirty.add(n);
    this.schedule();
  }

  // Draws one view now (a user is looking at it: a filter, the end of a run).
  now(name) {
    timed(name, this.views[name].draw);
    this.views[name].last = performance.now();
    this.#dirty.delete(name);
  }

  schedule(delay = 0) {
    if (this.#frame || (this.#timer && delay)) return;
    if (delay) this.#timer = setTimeout(() => { this.#timer = 0; this.schedule(); }, delay);
    else this.#frame = requestAnimationFrame((t) => this.#draw(t));
  }

  #draw(now) {
    this.#frame = 0;
    const idle = this.o.idle();
    let wait = this.o.cheap(now, idle);
    if (!this.o.paused() || idle) {
      let pick = null, pickLate = -Infinity;
      for (const name of this.#dirty) {
        const v = this.views[name];
        const interval = idle ? 0 : Math.max(v.minMs, v.perRow * this.o.rows());
        const late = now - v.last - interval;
        if (late >= 0 && late > pickLate) { pick = name; pickLate = late; }
        else if (late < 0) wait = Math.min(wait, -late);
      }
      if (pick) {
        timed(pick, this.views[pick].draw);
        this.views[pick].last = now;
        this.#dirty.delete(pick);
        if (this.#dirty.size) wait = 0;
      }
    }
    if (wait <= 0) this.schedule();
    else if (wait !== Infinity) this.schedule(Math.ceil(wait));
  }
}
