// The run's log (role=log): lines as the terminal prints them
// (`[YYYY-MM-DD HH:MM:SS] LEVEL: message`), inserted as text. Only the last
// MAX_LINES stay in the page (all are kept for "Download the log"); the view
// follows new lines only while it is scrolled to the bottom, so reading
// older lines is never interrupted.

const MAX_LINES = 500;

export const logLine = (ev) =>
  `[${new Date(ev.time_ms).toISOString().slice(0, 19).replace('T', ' ')}] ${ev.level}: ${ev.message}`;

export class LogView {
  constructor(el) {
    this.el = el;
    this.lines = [];
  }

  clear() {
    this.lines = [];
    this.el.replaceChildren();
  }

  append(events) {
    if (!events.length) return;
    const atBottom = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - 4;
    const frag = document.createDocumentFragment();
    for (const ev of events.slice(-MAX_LINES)) {
      const line = logLine(ev);
      const div = document.createElement('div');
      div.className = ev.level;
      div.textContent = line;
      frag.append(div);
    }
    for (const ev of events) this.lines.push(logLine(ev));
    this.el.append(frag);
    let extra = this.el.childElementCount - MAX_LINES;
    while (extra-- > 0) this.el.firstElementChild.remove();
    if (atBottom) this.el.scrollTop = this.el.scrollHeight;
  }
}
