// What the console hands out: the run's files (sweep_output.json and the
// stream .jsonl exactly as the core wrote them) and a CSV of the table.

// One CSV line per job, in its last state (a job still running, or whose run
// ended first, with its last epoch's metrics); text fields are quoted (RFC
// 4180), and a field a spreadsheet would read as a formula (= + - @ first)
// gets a leading '. When chunks said where jobs were (per-epoch progress,
// early stopping), step, epochs, rung and bar follow.
export function toCsv(model) {
  const metrics = [...model.metrics, ...model.liveMetrics];
  const steps = model.hasSteps ? ['step', 'epochs', 'rung', 'bar'] : [];
  const head = ['job_id', 'status', 'retry_of', ...model.params, ...metrics, 'cost_usd', 'duration_seconds',
    'error_type', 'error', ...steps];
  const q = (v) => {
    if (v == null) return '';
    if (typeof v === 'number') return String(v);
    let s = String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) || s !== String(v) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [head.map(q).join(',')];
  for (const r of model.rows)
    lines.push([r.id, r.status, r.retryOf, ...model.params.map((p) => r.hp[p]), ...metrics.map((m) => r.metrics[m]),
      r.cost, r.duration, r.errorType, r.error, ...steps.map((k) => r[k])].map(q).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

// The result file and the stream from a finished run (done result), falling
// back to what the events carried when the run ended before writing them.
export function runFiles(result, model, resultName = 'sweep_output.json') {
  const files = result?.files ?? {};
  const out = {};
  const name = Object.keys(files).find((f) => f.endsWith(resultName)) ?? null;
  out.json = name ? files[name]
    : result?.outputs?.[resultName] ? `${JSON.stringify(result.outputs[resultName], null, 2)}\n` : null;
  const jsonl = Object.keys(files).find((f) => f.endsWith('.jsonl'));
  out.jsonlName = jsonl ? jsonl.split('/').pop() : 'sweep_output_stream.jsonl';
  out.jsonl = jsonl ? files[jsonl]
    : (result?.stream ?? model.chunks).map((c) => `${JSON.stringify(c)}\n`).join('');
  return out;
}

export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
