// The headline sweep, design.md section 8's command, through sibyl.wasm:
//   sibyl pipeline run hyperparameter_sweep --workspace examples/.../workspace.yaml \
//     --config examples/.../pipelines.yaml --input budget_usd=500 \
//     --input 'param_space={"learning_rate": [...], "batch_size": [...], "dropout": [0.3, 0.5, 0.7]}' \
//     --input target_metric="val_acc" --stream
// The example searches adaptively: a balanced start of 9, then the Solver's
// suggestions as results come in, inside the $500. With the workspace's seed
// that is 8 suggestions, 17 trials in all: the budget guard holds each
// running job's cap (its estimate + 10%) and the Solver keeps the 8% retry
// reserve, so the 18th trial's $25.20 does not fit what is left.
// One part per acceptance point, so a failure names what broke:
//   node headline.mjs PART     PART = plan|polls|stream|retry|best|cost|format|files
import path from 'node:path';
import process from 'node:process';
import {
  check, checkMoney, checkSweep, fail, finish, headlineArgs, parseLog, planLine, polls, readJson, readStream,
  requireBuilt, run, STEPS, stepLines, tail, tempDir,
} from './lib.mjs';

const part = process.argv[2];
const parts = ['plan', 'polls', 'stream', 'retry', 'best', 'cost', 'format', 'files'];
if (!parts.includes(part)) {
  process.stderr.write(`usage: headline.mjs ${parts.join('|')}\n`);
  process.exit(2);
}
requireBuilt();

const START = '2026-03-01T08:00:00Z';
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const dir = tempDir(`headline-${part}`);
const extra = part === 'polls' ? ['--verbose'] : [];
const res = run({ args: [...headlineArgs(), '--start-time', START, ...extra], cwd: dir });
const log = parseLog(res.stdout);
const streamFile = path.join(dir, 'sweep_output_stream.jsonl');
const resultFile = path.join(dir, 'sweep_output.json');

check(res.code === 0, `exit ${res.code}, expected 0 (stderr: ${res.stderr.trim()})`);
check(res.stderr === '', `unexpected stderr: ${res.stderr.trim()}`);

const PARAMS = ['learning_rate', 'batch_size', 'dropout'];
const msgs = log.map((l) => l.msg);
const find = (re) => log.find((l) => re.test(l.msg));

switch (part) {
  case 'plan': {
    // The Solver planned 18 of the 27 trials under $500, for 5 at a time.
    const p = planLine(log);
    if (p) {
      check(p.trials === 18, `planned ${p.trials} trials, expected 18`);
      check(p.grid === 27, `grid of ${p.grid}, expected 27`);
      const est = /estimated \$([\d.]+)/.exec(p.line.msg);
      if (check(est, `plan line has no estimated cost: ${p.line.msg}`))
        check(+est[1] <= 500, `estimated $${est[1]} is over $500`);
      check(/\$500(\.00)?\b/.test(p.line.msg), `plan line does not name the $500 budget: ${p.line.msg}`);
      checkMoney(p.line.msg);
      check(/\b5 (at a time|at once|concurrent)|concurren\w*:? 5\b|max_concurrent[ =:]+5\b/.test(p.line.msg),
        `plan line does not say the plan is for 5 concurrent jobs: ${p.line.msg}`);
    }
    // The adaptive search starts with a balanced 9 and adds the rest one by one.
    const sub = find(/^Submitted (\d+) jobs to conductor/);
    if (check(sub, 'no "Submitted N jobs" line')) check(/^Submitted 9 jobs/.test(sub.msg), sub.msg);
    const suggested = log.filter((l) => /^Submitted 1 suggested trial to handle /.test(l.msg));
    check(suggested.length === 8, `${suggested.length} suggested trials submitted, expected 8 (17 in all)`);
    // The Conductor runs at most 5 at once, and does run 5.
    const ps = polls(log);
    check(ps.length > 0, 'no poll lines');
    const maxRunning = Math.max(...ps.map((x) => x.running));
    check(maxRunning === 5, `at most ${maxRunning} jobs ran at once, expected 5`);
    check(ps[0] && ps[0].running === 5 && ps[0].queued === 4, `first poll: ${JSON.stringify(ps[0])}, expected 5 running, 4 queued`);
    break;
  }
  case 'polls': {
    // --verbose prints every poll: delays 2000, 3000, 4500, 6750, then 10000 ms (x1.5, capped).
    const ps = polls(log);
    if (!check(ps.length >= 6, `${ps.length} poll lines with --verbose`)) break;
    const want = [2000, 3000, 4500, 6750, 10000];
    ps.slice(0, 5).forEach((x, i) => check(x.delay === want[i], `poll #${x.k}: delay ${x.delay}ms, expected ${want[i]}ms`));
    const later = ps.slice(5).filter((x) => x.delay !== 10000);
    check(later.length === 0, `polls after #5 with a delay other than 10000ms: ${later.slice(0, 3).map((x) => `#${x.k} ${x.delay}`)}`);
    ps.forEach((x, i) => check(x.k === i + 1, `poll lines out of order: line ${i + 1} is poll #${x.k}`));
    // The delays are real (virtual) time: poll k happens at start + sum of the delays so far.
    const monitor = find(/^Monitoring 9 jobs on handle/);
    check(monitor && monitor.t === T0, 'monitoring does not start at the start time');
    let at = T0;
    for (const x of ps.slice(0, 20)) {
      at += x.delay;
      check(x.t === Math.floor(at / 1000) * 1000, `poll #${x.k} logged at ${new Date(x.t).toISOString()}, expected ${new Date(Math.floor(at / 1000) * 1000).toISOString()}`);
    }
    for (let i = 1; i < ps.length; i++)
      check(ps[i].t - ps[i - 1].t <= 11000 && ps[i].t - ps[i - 1].t >= 9000 || i < 5,
        `polls #${ps[i - 1].k} and #${ps[i].k} are ${(ps[i].t - ps[i - 1].t) / 1000}s apart`);
    const last = ps[ps.length - 1];
    check(last.running === 0 && last.queued === 0, `last poll still has work: ${JSON.stringify(last)}`);
    const all = find(/^All (\d+) jobs on handle \S+ finished: (\d+) completed, (\d+) failed, (\d+) cancelled \((\d+) polls\)/);
    if (check(all, 'no "All N jobs ... finished" line')) {
      const m = /^All (\d+) jobs on handle \S+ finished: (\d+) completed, (\d+) failed, (\d+) cancelled \((\d+) polls\)/.exec(all.msg);
      check(+m[5] === ps.length, `"${all.msg}" but ${ps.length} poll lines`);
      check(+m[2] === last.completed && +m[3] === last.failed, `"${all.msg}" disagrees with the last poll`);
    }
    // Without --verbose only polls where a job changed state are printed.
    const quiet = run({ args: [...headlineArgs(), '--start-time', START], cwd: tempDir('headline-quiet') });
    const qp = polls(parseLog(quiet.stdout, 'non-verbose log'));
    check(qp.length > 0 && qp.length < ps.length / 10, `${qp.length} poll lines without --verbose, ${ps.length} with`);
    for (let i = 1; i < qp.length; i++)
      check(qp[i].completed + qp[i].failed > qp[i - 1].completed + qp[i - 1].failed || qp[i].running !== qp[i - 1].running ||
        qp[i].queued !== qp[i - 1].queued, `non-verbose poll #${qp[i].k} shows no change`);
    break;
  }
  case 'stream': {
    // One STREAM line per finished job, the same JSON as the .jsonl line, in the same order.
    const streamLines = log.filter((l) => l.level === 'STREAM');
    const chunks = readStream(streamFile);
    check(streamLines.length === chunks.length, `${streamLines.length} STREAM lines, ${chunks.length} lines in the .jsonl`);
    streamLines.forEach((l, i) => {
      let v = null;
      try { v = JSON.parse(l.msg); } catch { fail(`STREAM line is not JSON: ${l.text}`); }
      if (v && chunks[i]) check(JSON.stringify(v) === JSON.stringify(chunks[i]), `STREAM line ${i + 1} differs from .jsonl line ${i + 1}`);
    });
    const r = readJson(resultFile);
    const j = r.cost_breakdown?.jobs || {};
    check(chunks.length === j.completed + j.failed, `${chunks.length} chunks, completed ${j.completed} + failed ${j.failed}`);
    check(chunks.length >= 19, `${chunks.length} chunks: the seed run has 18 jobs and at least one retry`);
    // Chunks are written when the job finishes: each STREAM line comes before the poll line that reports it.
    const ps = polls(log);
    for (const p of ps) {
      const before = log.filter((l) => l.level === 'STREAM' && l.n < log.find((x) => x.msg.startsWith(`Poll #${p.k} `)).n).length;
      check(before === p.completed + p.failed, `poll #${p.k} reports ${p.completed + p.failed} finished, ${before} STREAM lines before it`);
    }
    break;
  }
  case 'retry': {
    // A NaN-loss failure of an lr=0.01 / batch-128 trial, retried as job_XXX_retry_1 with lr 0.005.
    const chunks = readStream(streamFile);
    const nan = chunks.filter((c) => c.type === 'job_failed' && /nan loss/i.test(c.error) &&
      c.hyperparameters.learning_rate === 0.01 && c.hyperparameters.batch_size === 128);
    if (!check(nan.length > 0, 'no NaN-loss failure of an lr=0.01, batch-128 trial in the stream')) break;
    for (const f of nan) {
      check(f.error_type === 'transient', `${f.job_id}: NaN loss classified ${f.error_type}`);
      check(f.cost_usd > 0 && f.duration_seconds > 0, `${f.job_id}: no partial cost/duration`);
      const id = `${f.job_id}_retry_1`;
      const r = chunks.find((c) => c.job_id === id);
      if (!check(r, `no chunk for ${id} in the .jsonl`)) continue;
      check(r.retry_of === f.job_id, `${id}.retry_of = ${r.retry_of}`);
      check(r.hyperparameters.learning_rate === 0.005, `${id}: learning_rate ${r.hyperparameters.learning_rate}, expected 0.005`);
      check(r.hyperparameters.batch_size === 128 && r.hyperparameters.dropout === f.hyperparameters.dropout,
        `${id}: other hyperparameters changed: ${JSON.stringify(r.hyperparameters)} vs ${JSON.stringify(f.hyperparameters)}`);
      check(chunks.indexOf(r) > chunks.indexOf(f), `${id} streamed before the job it retries`);
      const warn = log.find((l) => l.level === 'WARN' && l.msg.startsWith(`Job ${f.job_id} failed (transient): NaN loss`));
      check(warn, `no WARN line for the failure of ${f.job_id}`);
      const retry = log.find((l) => l.msg.startsWith(`Retrying job ${f.job_id} as ${id} `));
      if (check(retry, `no "Retrying job ${f.job_id} as ${id}" line`)) {
        check(/learning_rate 0\.01 -> 0\.005/.test(retry.msg), `retry line does not show the halved learning rate: ${retry.msg}`);
        checkMoney(retry.msg);
      }
      const sub = log.find((l) => l.msg.startsWith(`Submitted retry ${id} to handle`));
      // ... while polling goes on: the same handle is polled after the retry is submitted,
      // and other jobs of the sweep finish after it.
      if (check(sub, `no "Submitted retry ${id}" line`)) {
        const between = chunks.slice(chunks.indexOf(f) + 1, chunks.indexOf(r));
        check(between.length > 0, `no other job finished between ${f.job_id}'s failure and ${id}: the retry did not run alongside the sweep`);
        const afterSub = polls(log).filter((p) => log.find((x) => x.msg.startsWith(`Poll #${p.k} `)).n > sub.n);
        check(afterSub.length > 0, `no poll after ${id} was submitted`);
      }
    }
    const r = readJson(resultFile);
    check(r.cost_breakdown?.jobs?.retries >= nan.length, `cost_breakdown.jobs.retries ${r.cost_breakdown?.jobs?.retries}`);
    check(r.steps?.retry_failed_jobs?.status === 'succeeded', `retry_failed_jobs: ${JSON.stringify(r.steps?.retry_failed_jobs)}`);
    break;
  }
  case 'best': {
    // Best lr=0.001, batch 64, dropout 0.3, and the top 3, in the log and in sweep_output.json.
    const r = readJson(resultFile);
    check(JSON.stringify(r.best_hyperparameters) === JSON.stringify({ learning_rate: 0.001, batch_size: 64, dropout: 0.3 }),
      `best_hyperparameters ${JSON.stringify(r.best_hyperparameters)}`);
    check(typeof r.best_score === 'number' && r.best_score > 85 && r.best_score < 87, `best_score ${r.best_score}, expected near 86`);
    if (!check(Array.isArray(r.top_3) && r.top_3.length === 3, `top_3: ${JSON.stringify(r.top_3)?.slice(0, 200)}`)) break;
    // The top 3 are where the surface puts them: all at learning rate 0.001,
    // among its four best (86 at dropout 0.3 / batch 64, then 85.1 at dropout
    // 0.5, 84.7 at batch 32 or 128 with dropout 0.3).
    const best4 = ['64/0.3', '64/0.5', '32/0.3', '128/0.3'];
    for (const t of r.top_3) {
      const h = t.hyperparameters || {};
      check(h.learning_rate === 0.001 && best4.includes(`${h.batch_size}/${h.dropout}`), `top 3 has ${JSON.stringify(h)}`);
    }
    const best = find(/^Best #1: /);
    if (check(best && best.level === 'SUCCESS', 'no SUCCESS "Best #1:" line')) {
      const m = /^Best #1: (\S+) metrics\.val_acc=([\d.]+) (\{.*\})$/.exec(best.msg);
      if (check(m, `Best #1 line format: ${best.msg}`)) {
        check(m[1] === r.top_3[0].job_id, `log best ${m[1]}, result top_3[0] ${r.top_3[0].job_id}`);
        check(+m[2] === r.best_score, `log best score ${m[2]}, result ${r.best_score}`);
        check(JSON.stringify(JSON.parse(m[3])) === JSON.stringify(r.best_hyperparameters), `log best hyperparameters ${m[3]}`);
      }
    }
    for (const k of [2, 3]) {
      const l = find(new RegExp(`^Top #${k}: `));
      if (check(l, `no "Top #${k}:" line`)) {
        const m = /^Top #\d: (\S+) metrics\.val_acc=([\d.]+) /.exec(l.msg);
        check(m && m[1] === r.top_3[k - 1].job_id && +m[2] === r.top_3[k - 1].metrics.val_acc,
          `log "${l.msg}" vs result top_3[${k - 1}] ${r.top_3[k - 1].job_id} ${r.top_3[k - 1].metrics?.val_acc}`);
      }
    }
    const report = find(/^Best val_acc [\d.]+ from \S+; top 3: /);
    if (check(report, 'no generate_report line "Best val_acc ... top 3: ..."'))
      check(report.msg.endsWith(`top 3: ${r.top_3.map((x) => x.job_id).join(', ')}`), `report line: ${report.msg}`);
    break;
  }
  case 'cost': {
    // The cost breakdown, in the log and in the result, with the total within $500.
    const r = readJson(resultFile);
    const b = r.cost_breakdown || {};
    const i = msgs.indexOf('Cost breakdown:');
    if (!check(i >= 0, 'no "Cost breakdown:" line')) break;
    const rows = {};
    for (const l of msgs.slice(i + 1)) {
      const m = /^ {2}(.+?) {2,}(.*)$/.exec(l);
      if (!m) break;
      rows[m[1].trim()] = m[2];
    }
    const want = { 'successful jobs': b.successful_usd, 'failed jobs (partial)': b.failed_partial_usd, retries: b.retries_usd,
      total: b.total_usd, remaining: b.remaining_usd };
    for (const [k, v] of Object.entries(want))
      check(rows[k] === `$${Number(v).toFixed(2)}`, `cost line "${k}": ${rows[k]}, result says ${v}`);
    check(/^[\d.]+% of \$500\.00$/.test(rows['budget utilization'] || ''), `utilization line: ${rows['budget utilization']}`);
    check(b.total_usd <= 500 && r.total_cost <= 500, `total ${b.total_usd} / ${r.total_cost} over $500`);
    check(b.total_usd > 0, 'nothing was spent');
    const last = log[log.length - 1];
    check(last && last.level === 'SUCCESS' && /^Pipeline hyperparameter_sweep completed in \d+h \d\dm \d\ds; results in sweep_output.json$/.test(last.msg),
      `last line: ${last?.text}`);
    break;
  }
  case 'format': {
    // `[YYYY-MM-DD HH:MM:SS] LEVEL: message` (parseLog checks each line), levels INFO WARN ERROR SUCCESS STREAM.
    check(log.length > 30, `${log.length} log lines`);
    const levels = new Set(log.map((l) => l.level));
    for (const lv of ['INFO', 'WARN', 'SUCCESS', 'STREAM']) check(levels.has(lv), `no ${lv} line in the seed run`);
    check(!levels.has('ERROR'), 'an ERROR line in a successful run');
    check(log[0]?.t === T0 && log[0]?.msg.startsWith('Starting pipeline hyperparameter_sweep (11 steps'),
      `first line: ${log[0]?.text}`);
    for (let k = 1; k < log.length; k++)
      check(log[k].t >= log[k - 1].t, `time goes backwards at line ${log[k].n}: ${log[k].text}`);
    // Step i/11 lines, once each, for the 11 steps; the two event-triggered
    // steps (6 retry, 7 suggest) start when their first event fires.
    const st = stepLines(log);
    check(st.every((s) => s.n === 11), `a step line without /11: ${st.filter((s) => s.n !== 11).map((s) => s.name)}`);
    const started = st.filter((s) => !/^ (skipped|failed)/.test(s.rest));
    check(JSON.stringify(started.map((s) => s.i).sort((a, b) => a - b)) === JSON.stringify([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) &&
      JSON.stringify(started.map((s) => s.i).filter((i) => i !== 6 && i !== 7)) === JSON.stringify([1, 2, 3, 4, 5, 8, 9, 10, 11]),
      `step numbers ${started.map((s) => s.i)}`);
    started.forEach((s) => check(STEPS[s.i - 1] === s.name, `Step ${s.i}/11 is ${s.name}, expected ${STEPS[s.i - 1]}`));
    // No stray bytes: no colour codes or carriage returns in the log.
    check(!/[\x1b\r]/.test(res.stdout), 'control characters in stdout');
    break;
  }
  case 'files': {
    // sweep_output_stream.jsonl and sweep_output.json: shape, agreement, invariants.
    const { chunks, result } = checkSweep(dir, { budget: 500, trials: 17, params: PARAMS, balanced: false });
    if (result) {
      check(result.pipeline === 'hyperparameter_sweep', `pipeline ${result.pipeline}`);
      check(result.seed === 7, `seed ${result.seed}: the workspace's simulation.seed is 7`);
      for (const x of result.all_results || [])
        for (const k of ['job_id', 'hyperparameters', 'metrics', 'cost_usd']) check(k in x, `all_results ${x.job_id}: no ${k}`);
    }
    check(chunks && chunks.some((c) => c.type === 'job_failed'), 'no failure in the seed run');
    break;
  }
}

finish(`headline ${part}`, { label: 'stdout (tail)', text: `${tail(res.stdout)}\n--- stderr ---\n${res.stderr}` });
