// The placeholder console: shows the module's version and validates a
// workspace.yaml pasted into the page, as `sibyl workspace validate` does.
// All logic lives in the sibyl module (through dist/sibyl-api.mjs, copied
// there by the web_dist build target); this file only wires the page's
// elements to it.
const $ = (id) => document.getElementById(id);
const status = $('status');

// Imported dynamically so that a missing build says what to do instead of
// failing silently in the console.
let sibyl;
try {
  const { Sibyl } = await import('./dist/sibyl-api.mjs');
  sibyl = await Sibyl.load();
} catch (e) {
  status.textContent = `Could not load the sibyl module from web/dist/ (${e.message}). ` +
    'Build it with scripts/build-all.sh and serve this folder over HTTP.';
  status.className = 'failed';
}

function validate() {
  const result = $('result');
  const r = sibyl.validateWorkspace($('file').value || 'workspace.yaml', $('yaml').value);
  if (r.ok) {
    result.textContent = 'valid';
    result.className = 'valid';
  } else {
    result.textContent = r.diagnostics.map((d) => d.text).join('\n');
    result.className = 'invalid';
  }
}

if (sibyl) {
  $('version').textContent = sibyl.version();
  status.textContent = 'Ready: paste a workspace.yaml and validate it.';
  const button = $('validate');
  button.disabled = false;
  button.addEventListener('click', validate);
  $('yaml').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      validate();
    }
  });
}
