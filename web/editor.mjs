// A YAML text area with a line-number gutter that marks the lines the
// module's diagnostics point at, and the list of those diagnostics (each a
// button that puts the caret on its line and column). Diagnostic text is the
// terminal's exact `FILE:LINE:COL: error: ...` line, inserted as text.

export class Editor {
  constructor(textarea, fileInput) {
    this.ta = textarea;
    this.file = fileInput;
    this.gutter = textarea.parentElement.querySelector('.gutter');
    this.errLines = new Map();   // line -> message
    this.ta.addEventListener('scroll', () => { this.gutter.scrollTop = this.ta.scrollTop; });
    this.ta.addEventListener('input', () => this.#renderGutter());
    this.#renderGutter();
  }

  get name() { return this.file.value.trim() || this.file.defaultValue; }
  get text() { return this.ta.value; }
  set text(t) { this.ta.value = t; this.ta.scrollTop = 0; this.#renderGutter(); }

  // diagnostics: those of this file ({ line, col, message, text }).
  mark(diagnostics) {
    this.errLines = new Map(diagnostics.filter((d) => d.line > 0).map((d) => [d.line, d.text]));
    this.ta.setAttribute('aria-invalid', diagnostics.length ? 'true' : 'false');
    this.#renderGutter();
  }

  // Caret at LINE:COL (1-based), scrolled into view.
  goTo(line, col = 1) {
    const lines = this.ta.value.split('\n');
    let at = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) at += lines[i].length + 1;
    const end = at + (lines[line - 1]?.length ?? 0);
    this.ta.focus();
    this.ta.setSelectionRange(Math.min(at + col - 1, end), end);
    const lh = parseFloat(getComputedStyle(this.ta).lineHeight) || 18;
    this.ta.scrollTop = Math.max(0, (line - 4) * lh);
  }

  #renderGutter() {
    const n = this.ta.value.split('\n').length;
    const frag = document.createDocumentFragment();
    for (let i = 1; i <= n; i++) {
      const s = document.createElement('span');
      s.textContent = String(i);
      if (this.errLines.has(i)) {
        s.className = 'err';
        s.dataset.line = String(i);
        s.title = this.errLines.get(i);
      }
      frag.append(s, '\n');
    }
    this.gutter.replaceChildren(frag);
    this.gutter.scrollTop = this.ta.scrollTop;
  }
}

// Fills the diagnostics list; `editorFor(file)` names the editor a
// diagnostic belongs to (or null when it names another file).
export function showDiagnostics(list, diagnostics, editorFor) {
  list.replaceChildren(...diagnostics.map((d) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = d.text ?? `${d.file}:${d.line}:${d.col}: error: ${d.message}`;
    b.dataset.file = d.file ?? '';
    b.dataset.line = String(d.line ?? 0);
    const ed = editorFor(d.file);
    if (ed && d.line > 0) b.addEventListener('click', () => ed.goTo(d.line, d.col));
    li.append(b);
    return li;
  }));
}
