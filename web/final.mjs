// The end of a run: the best configuration, the top 3 and the cost
// breakdown, from the result file's object (sweep_output.json). Values are
// shown as the file holds them (parameters exactly, money with 2 decimals);
// everything is inserted as text.
import { fmtNum, fmtUsd } from './format.mjs';

function kvRow(k, v) {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = k;
  const td = document.createElement('td');
  td.textContent = v;
  tr.append(th, td);
  return tr;
}

const COST_ROWS = [
  ['budget_usd', 'budget'], ['successful_usd', 'successful jobs'], ['failed_partial_usd', 'failed jobs (partial)'],
  ['retries_usd', 'retries'], ['committed_usd', 'committed, not spent'], ['remaining_usd', 'remaining'],
];

export function showFinal({ best, top3, cost }, out, metric) {
  const hp = out?.best_hyperparameters;
  const bestRows = hp && typeof hp === 'object'
    ? Object.entries(hp).map(([k, v]) => kvRow(k, typeof v === 'string' ? v : JSON.stringify(v))) : [];
  if (out && 'best_score' in out && out.best_score !== null) bestRows.push(kvRow(`best ${metric ?? 'score'}`, String(out.best_score)));
  if (!bestRows.length) bestRows.push(kvRow('best', 'none (no completed trial)'));
  best.replaceChildren(...bestRows);

  const top = Array.isArray(out?.top_3) ? out.top_3 : [];
  const params = [...new Set(top.flatMap((r) => Object.keys(r.hyperparameters ?? {})))];
  const head = document.createElement('tr');
  for (const h of ['job', ...params, metric ?? 'score', 'cost']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const rows = top.map((r) => {
    const tr = document.createElement('tr');
    for (const v of [r.job_id, ...params.map((p) => fmtNum(r.hyperparameters?.[p])), fmtNum(r.metrics?.[metric]),
      typeof r.cost_usd === 'number' ? fmtUsd(r.cost_usd) : '']) {
      const td = document.createElement('td');
      td.textContent = v ?? '';
      tr.append(td);
    }
    return tr;
  });
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  tbody.append(...rows);
  top3.replaceChildren(thead, tbody);

  const b = out?.cost_breakdown ?? {};
  const costRows = COST_ROWS.filter(([k]) => typeof b[k] === 'number').map(([k, label]) => kvRow(label, fmtUsd(b[k])));
  // Only when jobs were stopped early (the breakdown then has the entry);
  // their money is also in "failed jobs (partial)" or "retries".
  const se = b.stopped_early;
  if (se && typeof se.jobs === 'number' && typeof se.cost_usd === 'number') {
    const row = kvRow('stopped early', `${se.jobs} job${se.jobs === 1 ? '' : 's'}, ${fmtUsd(se.cost_usd)}`);
    row.id = 'stopped-early-cost';
    costRows.push(row);
  }
  if (typeof b.utilization === 'number') costRows.push(kvRow('utilization', `${(b.utilization * 100).toFixed(1)}%`));
  if (typeof out?.total_cost === 'number') {
    const total = kvRow('total', fmtUsd(out.total_cost));
    total.id = 'total-cost';
    costRows.push(total);
  }
  cost.replaceChildren(...costRows);
}
