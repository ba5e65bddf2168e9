// The live progress line, with the native sibyl on a pseudo-terminal (under
// `script` from util-linux, else tmux; neither installed -> skipped, exit 77).
//   1. stderr on a terminal, stdout to a file: progress lines on stderr
//      ("D/T done (F failed), R running, Q queued, $S of $B[, best ...]",
//      consistent counts), cleared at the end; the log file is clean and the
//      same as without a terminal.
//   2. stdout and stderr both on the terminal: every log line starts on a
//      fresh line (the progress line is cleared before it is printed).
//   3. --no-progress, and NO_COLOR set: no progress line.
// SIBYL_E2E_TTY=script|tmux picks the tool.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { check, env, finish, headlineArgs, LOG_LINE, parseLog, requireBuilt, run, SKIP, tempDir } from './lib.mjs';

requireBuilt({ native: true, wasm: false });
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const tool = process.env.SIBYL_E2E_TTY || (has('script') ? 'script' : has('tmux') ? 'tmux' : null);
if (!tool || !has(tool)) {
  process.stdout.write('SKIP: neither script (util-linux) nor tmux is installed; the progress line needs a terminal\n');
  process.exit(SKIP);
}

const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const START = ['--start-time', '2026-02-02T02:02:02Z'];

// Runs `sh -c CMDLINE` on a pseudo-terminal; returns what the terminal showed.
function onTty(dir, cmdline, tag) {
  const ts = path.join(dir, `${tag}.tty`);
  const childEnv = { ...process.env, TERM: process.env.TERM || 'xterm' };
  if (tool === 'script') {
    const r = spawnSync('script', ['-qec', cmdline, ts], { cwd: dir, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120000 });
    check(r.status === 0, `script: exit ${r.status} ${r.stderr}`);
    // util-linux writes "Script started ..." / "Script done ..." lines around the session.
    return fs.readFileSync(ts, 'latin1').replace(/^Script started[^\n]*\n/, '').replace(/\n?Script done[^\n]*\n?$/, '');
  }
  const sock = ['-L', `sibyl-e2e-${process.pid}`, '-f', '/dev/null'];
  const go = path.join(dir, `${tag}.go`), done = path.join(dir, `${tag}.done`);
  const inner = `while [ ! -e ${q(go)} ]; do sleep 0.05; done; ${cmdline}; echo $? > ${q(done)}`;
  const tmux = (...a) => spawnSync('tmux', [...sock, ...a], { cwd: dir, env: childEnv, encoding: 'utf8' });
  let r = tmux('new-session', '-d', '-s', 'e2e', '-x', '200', '-y', '50', `sh -c ${q(inner)}`);
  check(r.status === 0, `tmux new-session: ${r.stderr}`);
  r = tmux('pipe-pane', '-t', 'e2e', '-o', `cat > ${q(ts)}`);
  check(r.status === 0, `tmux pipe-pane: ${r.stderr}`);
  fs.writeFileSync(go, '');
  const t0 = Date.now();
  while (!fs.existsSync(done) && Date.now() - t0 < 120000) spawnSync('sleep', ['0.1']);
  spawnSync('sleep', ['0.3']);
  tmux('kill-server');
  check(fs.existsSync(done) && fs.readFileSync(done, 'utf8').trim() === '0', 'the command under tmux failed');
  return fs.existsSync(ts) ? fs.readFileSync(ts, 'latin1') : '';
}

const dir = tempDir('tty');
const sibyl = [env.native, ...headlineArgs().filter((a) => a !== '--stream'), ...START].map(q).join(' ');
const PROGRESS = /^(\d+)\/(\d+) done \((\d+) failed\), (\d+) running, (\d+) queued, \$(\d+\.\d\d) of \$500\.00(, best val_acc [\d.]+)?$/;

// 1. progress on stderr (the terminal), the log to a file.
const tty = onTty(dir, `env -u NO_COLOR ${sibyl} > log1.txt`, 'progress').replace(/\r\n/g, '\n');
const segments = tty.split('\r\x1b[K').filter((s) => s !== '');
check(segments.length > 10, `${segments.length} progress updates on the terminal`);
let last = null;
const problems = new Map(); // distinct problem -> count, reported once each
const note = (cond, msg) => { if (!cond) problems.set(msg, (problems.get(msg) || 0) + 1); };
for (const s of segments) {
  const m = PROGRESS.exec(s);
  note(m, `not a progress line: ${JSON.stringify(s.slice(0, 200))}`);
  if (!m) continue;
  const [done, total, failedN, running, queued] = m.slice(1, 6).map(Number);
  note(done + running + queued === total,
    `progress "${s}": ${done} done + ${running} running + ${queued} queued != ${total} jobs`);
  note(failedN <= done, `progress "${s}": more failed than done`);
  note(running <= 5, `progress "${s}": more than 5 running`);
  if (last) note(+m[6] >= last.spent && total >= last.total, `progress went backwards: "${last.s}" then "${s}"`);
  last = { spent: +m[6], total, s };
}
[...problems].slice(0, 5).forEach(([msg, n]) => check(false, `${msg}${n > 1 ? ` (${n} times)` : ''}`));
if (problems.size > 5) check(false, `... and ${problems.size - 5} more distinct problems with the progress line`);
check(tty.endsWith('\r\x1b[K'), 'the progress line is not cleared at the end');
check(last && /, best val_acc/.test(last.s), `the last progress line has no best score: ${last?.s}`);
const log1 = fs.readFileSync(path.join(dir, 'log1.txt'), 'utf8');
check(!/[\r\x1b]/.test(log1), 'control characters in the log file (stdout is not a terminal)');
parseLog(log1, 'log with a terminal on stderr');
const plain = run({ args: [...headlineArgs().filter((a) => a !== '--stream'), ...START], cwd: tempDir('tty-plain'), native: true });
check(plain.stderr === '', `progress on stderr when it is not a terminal: ${JSON.stringify(plain.stderr.slice(0, 100))}`);
check(plain.stdout === log1, 'the log differs with and without a terminal on stderr');

// 2. both on the terminal: log lines start on a fresh line.
const both = onTty(dir, `env -u NO_COLOR ${sibyl}`, 'both').replace(/\r\n/g, '\n');
const logLines = both.split('\n').map((l) => l.split('\r\x1b[K').pop()).filter((l) => l.startsWith('['));
check(logLines.length === log1.split('\n').length - 1, `${logLines.length} log lines on the terminal, ${log1.split('\n').length - 1} in the file`);
for (const l of both.split('\n')) {
  // What the terminal shows of the line: the text after the last "clear line".
  const visible = l.split('\r\x1b[K').pop();
  if (l.includes('[2026-') && !LOG_LINE.test(visible)) {
    check(false, `a log line shares its line with a progress line: ${JSON.stringify(l.slice(0, 200))}`);
    break;
  }
}

// 3. no progress line with --no-progress or NO_COLOR.
const off1 = onTty(dir, `env -u NO_COLOR ${sibyl} --no-progress > log3.txt`, 'no-progress');
check(off1.trim() === '', `--no-progress: the terminal shows ${JSON.stringify(off1.slice(0, 200))}`);
const off2 = onTty(dir, `env NO_COLOR=1 ${sibyl} > log4.txt`, 'no-color');
check(off2.trim() === '', `NO_COLOR: the terminal shows ${JSON.stringify(off2.slice(0, 200))}`);
for (const f of ['log3.txt', 'log4.txt'])
  check(fs.readFileSync(path.join(dir, f), 'utf8') === log1, `${f} differs from the log with progress`);
finish(`tty progress (${tool})`);
