// The pipeline's inputs as form controls, built from what validation says
// the pipeline declares ({ name, type, default?, description? }): numbers
// and integers as number fields, booleans as checkboxes, a list of allowed
// strings (enum) as a choice, other strings as text,
// maps and lists as JSON text. read() returns the values to run with, or
// the first problem (and marks the field).

function control(input, value) {
  const v = value !== undefined ? value : input.default;
  let el;
  if (Array.isArray(input.enum) && input.enum.length && input.enum.every((e) => typeof e === 'string')) {
    el = document.createElement('select');
    el.append(...input.enum.map((e) => new Option(e, e)));
    if (typeof v === 'string') el.value = v;
  } else if (input.type === 'number' || input.type === 'integer') {
    el = document.createElement('input');
    el.type = 'number';
    el.step = input.type === 'integer' ? '1' : 'any';
    if (typeof input.minimum === 'number') el.min = String(input.minimum);
    if (typeof input.maximum === 'number') el.max = String(input.maximum);
    if (v !== undefined) el.value = String(v);
  } else if (input.type === 'boolean') {
    el = document.createElement('input');
    el.type = 'checkbox';
    el.checked = v === true;
  } else if (input.type === 'string') {
    el = document.createElement('input');
    el.size = 24;
    if (v !== undefined) el.value = String(v);
  } else {
    el = document.createElement('textarea');
    el.spellcheck = false;
    if (v !== undefined) el.value = JSON.stringify(v);
  }
  el.dataset.input = input.name;
  el.dataset.type = input.type;
  el.id = `in-${input.name}`;
  return el;
}

export class InputsForm {
  constructor(fieldset) {
    this.fs = fieldset;
    this.inputs = [];
  }

  // Rebuilds the controls; values (name -> value) win over the defaults.
  show(inputs, values = {}) {
    this.inputs = inputs;
    const legend = this.fs.querySelector('legend');
    const rows = inputs.map((input) => {
      const label = document.createElement('label');
      label.htmlFor = `in-${input.name}`;
      const name = document.createElement('span');
      name.textContent = `${input.name} `;
      label.append(name, control(input, values[input.name]));
      if (input.description) {
        const d = document.createElement('span');
        d.className = 'desc';
        d.textContent = input.description;
        label.append(d);
      }
      const bad = document.createElement('span');
      bad.className = 'bad';
      bad.id = `in-${input.name}-bad`;
      bad.setAttribute('aria-live', 'polite');
      label.querySelector('[data-input]').setAttribute('aria-describedby', bad.id);
      label.append(bad);
      return label;
    });
    if (!inputs.length) {
      const p = document.createElement('p');
      p.className = 'muted';
      p.textContent = 'This pipeline declares no inputs.';
      rows.push(p);
    }
    this.fs.replaceChildren(legend, ...rows);
  }

  // { values } or { error, field }.
  read() {
    const values = {};
    for (const el of this.fs.querySelectorAll('[data-input]')) {
      const bad = this.fs.querySelector(`#${CSS.escape(el.id)}-bad`);
      bad.textContent = '';
      el.removeAttribute('aria-invalid');
      const name = el.dataset.input;
      const type = el.dataset.type;
      let v;
      if (type === 'boolean') v = el.checked;
      else if (el.value.trim() === '') continue;            // unset: the pipeline's default
      else if (type === 'number' || type === 'integer') v = Number(el.value);
      else if (type === 'string') v = el.value;
      else {
        try {
          v = JSON.parse(el.value);
        } catch (e) {
          bad.textContent = `not JSON: ${e.message}`;
          el.setAttribute('aria-invalid', 'true');
          return { error: `input ${name}: not JSON (${e.message})`, field: el };
        }
      }
      if ((type === 'number' || type === 'integer') && !Number.isFinite(v)) {
        bad.textContent = 'not a number';
        el.setAttribute('aria-invalid', 'true');
        return { error: `input ${name}: not a number`, field: el };
      }
      values[name] = v;
    }
    return { values };
  }
}
