// The console's settings as a URL fragment (so a link reproduces an
// embedded run) and as the equivalent `sibyl pipeline run` command line.
//
// Fragment keys: src (example | paste), ws / pl (the YAML texts, only for
// pasted YAML), wsfile / plfile, pipeline, seed, mode, clock, ts (time
// scale of the real clock), conductor,
// solver, in (the inputs as JSON), run=1 (start at once when opened).

export const EXAMPLE_DIR = 'examples/companies/vertex_foundry/config';

export function toFragment(s, { run = false } = {}) {
  const p = new URLSearchParams();
  p.set('src', s.source);
  if (s.source === 'paste') {
    p.set('wsfile', s.wsFile);
    p.set('plfile', s.plFile);
    p.set('ws', s.wsText);
    p.set('pl', s.plText);
  }
  if (s.pipeline) p.set('pipeline', s.pipeline);
  if (s.seed !== '') p.set('seed', s.seed);
  p.set('mode', s.mode);
  if (s.mode === 'embedded') {
    p.set('clock', s.clock);
    if (s.clock === 'real' && s.timeScale) p.set('ts', s.timeScale);
  }
  else {
    if (s.conductor) p.set('conductor', s.conductor);
    if (s.solver) p.set('solver', s.solver);
  }
  p.set('in', JSON.stringify(s.inputs));
  if (run) p.set('run', '1');
  return `#${p.toString()}`;
}

// The settings a fragment holds (missing keys are left out); inputs that are
// not JSON objects are dropped.
export function fromFragment(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const s = {};
  for (const [k, key] of [['src', 'source'], ['wsfile', 'wsFile'], ['plfile', 'plFile'], ['ws', 'wsText'],
    ['pl', 'plText'], ['pipeline', 'pipeline'], ['seed', 'seed'], ['mode', 'mode'], ['clock', 'clock'], ['ts', 'timeScale'],
    ['conductor', 'conductor'], ['solver', 'solver']]) if (p.has(k)) s[key] = p.get(k);
  if (p.has('in')) {
    try {
      const v = JSON.parse(p.get('in'));
      if (v && typeof v === 'object' && !Array.isArray(v)) s.inputs = v;
    } catch { /* a hand-edited link: keep the defaults */ }
  }
  s.run = p.get('run') === '1';
  return s;
}

// POSIX shell quoting: bare when safe, else single quotes.
export function shq(s) {
  return /^[A-Za-z0-9_./:,@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// --input NAME=VALUE reads VALUE as JSON when it parses, else as text: a
// string that would parse as JSON ("12", "true") is written as a JSON string.
function inputValue(v) {
  if (typeof v !== 'string') return JSON.stringify(v);
  try {
    JSON.parse(v);
    return JSON.stringify(v);
  } catch {
    return v;
  }
}

// The command line that runs the same sweep in a terminal, from the
// repository's root (bundled example) or beside the YAML files (pasted).
export function cliCommand(s) {
  const ws = s.source === 'example'
    ? `${EXAMPLE_DIR}/${s.mode === 'servers' ? 'workspace.http.yaml' : 'workspace.yaml'}` : s.wsFile;
  const pl = s.source === 'example' ? `${EXAMPLE_DIR}/pipelines.yaml` : s.plFile;
  const parts = ['sibyl', 'pipeline', 'run', shq(s.pipeline), '--workspace', shq(ws), '--config', shq(pl)];
  for (const [k, v] of Object.entries(s.inputs)) parts.push('--input', shq(`${k}=${inputValue(v)}`));
  if (s.seed !== '') parts.push('--seed', shq(s.seed));
  if (s.mode === 'embedded' && s.clock === 'real') {
    parts.push('--clock', 'real');
    if (s.timeScale) parts.push('--time-scale', shq(s.timeScale));
  }
  parts.push('--stream');
  return parts.join(' ');
}
